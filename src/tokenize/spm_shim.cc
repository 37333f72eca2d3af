#include "tokenize/spm_shim.h"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include <sentencepiece_processor.h>
#include <utf8proc.h>

struct spm_model {
    sentencepiece::SentencePieceProcessor sp;
};

using sentencepiece::util::StatusCode;

// A malloc'ed copy of bytes[0..len), so that C can free() it.
static char *copy_out(const char *bytes, size_t len) {
    char *s = static_cast<char *>(std::malloc(len + 1));
    if (s) {
        std::memcpy(s, bytes, len);
        s[len] = '\0';
    }
    return s;
}

spm_status spm_load(const char *path, spm_model **out, char *msg, size_t msg_size) {
    *out = nullptr;
    if (msg_size) msg[0] = '\0';
    try {
        spm_model *m = new spm_model;
        const auto status = m->sp.Load(path);
        if (status.ok()) {
            *out = m;
            return SPM_OK;
        }
        if (msg_size) std::snprintf(msg, msg_size, "%s", status.error_message());
        const StatusCode code = status.code();
        delete m;
        return code == StatusCode::kNotFound || code == StatusCode::kPermissionDenied
                   ? SPM_ERR_IO
                   : SPM_ERR_FORMAT;
    } catch (const std::bad_alloc &) {
        return SPM_ERR_NOMEM;
    } catch (const std::exception &e) {
        if (msg_size) std::snprintf(msg, msg_size, "%s", e.what());
        return SPM_ERR_FORMAT;
    }
}

// Protocol buffers' wire format, as much of it as setting one field takes:
// a key is a varint (field << 3 | wire type); wire type 0 is a varint, 1
// eight bytes, 2 a varint length and that many bytes, 5 four bytes.
static bool read_varint(const std::string &b, size_t &i, uint64_t &v) {
    v = 0;
    for (int shift = 0; i < b.size() && shift < 64; shift += 7) {
        const unsigned char c = static_cast<unsigned char>(b[i++]);
        v |= static_cast<uint64_t>(c & 0x7f) << shift;
        if (!(c & 0x80)) return true;
    }
    return false;
}

static void write_varint(std::string &out, uint64_t v) {
    do {
        const unsigned char c = static_cast<unsigned char>(v & 0x7f);
        v >>= 7;
        out.push_back(static_cast<char>(v ? c | 0x80 : c));
    } while (v);
}

// The next field of b from i: its number, and the bytes [from, to) it spans
// (key included); for a length-delimited one, its payload [payload, to).
static bool next_field(const std::string &b, size_t &i, uint64_t &field, size_t &from, size_t &payload) {
    from = i;
    uint64_t key, v;
    if (!read_varint(b, i, key)) return false;
    field = key >> 3;
    switch (key & 7) {
    case 0: return read_varint(b, i, v);
    case 1: i += 8; return i <= b.size();
    case 5: i += 4; return i <= b.size();
    case 2:
        if (!read_varint(b, i, v) || v > b.size() - i) return false;
        payload = i;
        i += v;
        return true;
    }
    return false;
}

// ModelProto with normalizer_spec (field 3) holding add_dummy_prefix
// (its field 3) = false, every other field as it was; false when the bytes
// are not a protocol buffer. What ModelProto.MergeFrom(a NormalizerSpec
// with add_dummy_prefix = False) gives in LlamaTokenizer.get_spm_processor.
static bool without_dummy_prefix(const std::string &model, std::string &out) {
    std::string spec;
    size_t i = 0, from = 0, payload = 0;
    uint64_t field;
    out.clear();
    while (i < model.size()) {
        if (!next_field(model, i, field, from, payload)) return false;
        if (field != 3) {
            out.append(model, from, i - from);
            continue;
        }
        // A message repeated on the wire is merged: keep all its fields.
        const std::string part = model.substr(payload, i - payload);
        size_t j = 0, f = 0, p = 0;
        uint64_t inner;
        while (j < part.size()) {
            if (!next_field(part, j, inner, f, p)) return false;
            if (inner != 3) spec.append(part, f, j - f);
        }
    }
    spec.push_back(static_cast<char>(3 << 3 | 0));
    spec.push_back(0);
    out.push_back(static_cast<char>(3 << 3 | 2));
    write_varint(out, spec.size());
    out += spec;
    return true;
}

spm_status spm_load_without_dummy_prefix(const char *path, spm_model **out, char *msg, size_t msg_size) {
    *out = nullptr;
    if (msg_size) msg[0] = '\0';
    try {
        std::FILE *f = std::fopen(path, "rb");
        if (!f) {
            if (msg_size) std::snprintf(msg, msg_size, "%s", std::strerror(errno));
            return SPM_ERR_IO;
        }
        std::string model, edited;
        char buf[65536];
        size_t got;
        while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) model.append(buf, got);
        const bool read_ok = !std::ferror(f);
        std::fclose(f);
        if (!read_ok) {
            if (msg_size) std::snprintf(msg, msg_size, "read error");
            return SPM_ERR_IO;
        }
        if (!without_dummy_prefix(model, edited)) {
            if (msg_size) std::snprintf(msg, msg_size, "not a protocol buffer");
            return SPM_ERR_FORMAT;
        }
        spm_model *m = new spm_model;
        const auto status = m->sp.LoadFromSerializedProto(edited);
        if (status.ok()) {
            *out = m;
            return SPM_OK;
        }
        if (msg_size) std::snprintf(msg, msg_size, "%s", status.error_message());
        delete m;
        return SPM_ERR_FORMAT;
    } catch (const std::bad_alloc &) {
        return SPM_ERR_NOMEM;
    } catch (const std::exception &e) {
        if (msg_size) std::snprintf(msg, msg_size, "%s", e.what());
        return SPM_ERR_FORMAT;
    }
}

void spm_free(spm_model *m) {
    delete m;
}

int spm_piece_count(const spm_model *m) {
    return m->sp.GetPieceSize();
}

int32_t spm_piece_id(const spm_model *m, const char *piece, size_t len) {
    return m->sp.PieceToId(absl::string_view(piece, len));
}

const char *spm_id_piece(const spm_model *m, int32_t id) {
    return m->sp.IdToPiece(id).c_str();
}

int32_t spm_unk_id(const spm_model *m) {
    return m->sp.unk_id();
}

// NormalizerSpec.precompiled_charsmap (its field 2) of a serialized
// ModelProto (whose field 3 it is; the last on the wire wins, as in a parse),
// empty when there is none; false when the bytes are not a protocol buffer.
static bool precompiled_charsmap(const std::string &model, std::string &charsmap) {
    size_t i = 0, from = 0, payload = 0;
    uint64_t field;
    charsmap.clear();
    while (i < model.size()) {
        if (!next_field(model, i, field, from, payload)) return false;
        if (field != 3) continue;
        size_t j = payload, f = 0, p = 0;
        uint64_t inner;
        while (j < i) {
            if (!next_field(model, j, inner, f, p) || j > i) return false;
            if (inner == 2) charsmap.assign(model, p, j - p);
        }
    }
    return true;
}

// Passes every code point of every UTF-8 string in text[0..len) to mark;
// false when the bytes are not UTF-8.
static bool mark_utf8(const char *text, size_t len, void (*mark)(void *, int32_t), void *ctx) {
    const auto *p = reinterpret_cast<const utf8proc_uint8_t *>(text);
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t c;
        const utf8proc_ssize_t got = utf8proc_iterate(p + i, static_cast<utf8proc_ssize_t>(len - i), &c);
        if (got <= 0) return false;
        mark(ctx, c);
        i += static_cast<size_t>(got);
    }
    return true;
}

// The normalizer's rules: a uint32 (little-endian) byte size, then that
// many bytes of darts-clone double array, a trie of the rules' sources,
// then their replacements. A unit of the array (a uint32) holds its label
// in bits 0-7 (bit 31 set on a leaf, which no byte label equals), whether a
// key ends there in bit 8, and the offset to its children in bits 10-30,
// shifted left by 8 when bit 9 is set; the child labelled b of the node at
// pos is at pos ^ offset ^ b. Its keys are what NormalizePrefix matches.
class RuleKeys {
  public:
    RuleKeys(const unsigned char *units, size_t n, void (*mark)(void *, int32_t), void *ctx)
        : units_(units), n_(n), mark_(mark), ctx_(ctx) {}

    // Marks the characters of every key below the node at pos; false when
    // a key is not UTF-8 or the trie is deeper or larger than rules are.
    bool walk(uint32_t pos) {
        if (key_.size() > kMaxKeyBytes || ++visited_ > kMaxVisits) return false;
        const uint32_t base = pos ^ offset(unit(pos));
        for (uint32_t b = 1; b < 256; b++) {
            const uint32_t child = base ^ b;
            if (child >= n_ || (unit(child) & (1u << 31 | 0xFF)) != b) continue;
            key_.push_back(static_cast<char>(b));
            if (unit(child) >> 8 & 1 && !mark_utf8(key_.data(), key_.size(), mark_, ctx_)) return false;
            if (!walk(child)) return false;
            key_.pop_back();
        }
        return true;
    }

  private:
    static constexpr size_t kMaxKeyBytes = 256;
    static constexpr size_t kMaxVisits = size_t{1} << 22;

    uint32_t unit(uint32_t pos) const {
        const unsigned char *u = units_ + 4 * static_cast<size_t>(pos);
        return u[0] | u[1] << 8 | u[2] << 16 | static_cast<uint32_t>(u[3]) << 24;
    }
    static uint32_t offset(uint32_t unit) { return (unit >> 10) << ((unit & (1u << 9)) >> 6); }

    const unsigned char *units_;
    size_t n_;
    void (*mark_)(void *, int32_t);
    void *ctx_;
    std::string key_;
    size_t visited_ = 0;
};

bool spm_known_chars(const spm_model *m, void (*mark)(void *ctx, int32_t c), void *ctx) {
    try {
        for (int id = 0; id < m->sp.GetPieceSize(); id++) {
            if (m->sp.IsByte(id)) return false;
            const std::string &piece = m->sp.IdToPiece(id);
            if (!mark_utf8(piece.data(), piece.size(), mark, ctx)) return false;
        }
        mark(ctx, ' ');
        std::string charsmap;
        if (!precompiled_charsmap(m->sp.serialized_model_proto(), charsmap)) return false;
        if (charsmap.empty()) return true; // the identity: no rules
        const auto *blob = reinterpret_cast<const unsigned char *>(charsmap.data());
        if (charsmap.size() < 4) return false;
        const uint32_t trie_bytes = blob[0] | blob[1] << 8 | blob[2] << 16 | static_cast<uint32_t>(blob[3]) << 24;
        if (trie_bytes < 4 || trie_bytes >= charsmap.size() - 4) return false;
        return RuleKeys(blob + 4, trie_bytes / 4, mark, ctx).walk(0);
    } catch (const std::exception &) {
        return false;
    }
}

spm_status spm_encode(const spm_model *m, const char *text, size_t len, char **pieces, size_t *n) {
    try {
        std::vector<std::string> got;
        if (!m->sp.Encode(absl::string_view(text, len), &got).ok()) return SPM_ERR_FORMAT;
        std::string joined;
        for (const auto &p : got) joined.append(p.c_str(), p.size() + 1);
        if (!(*pieces = copy_out(joined.data(), joined.size()))) return SPM_ERR_NOMEM;
        *n = got.size();
        return SPM_OK;
    } catch (const std::bad_alloc &) {
        return SPM_ERR_NOMEM;
    }
}

spm_status spm_decode(const spm_model *m, const char *const *pieces, size_t n, char **text) {
    try {
        std::vector<absl::string_view> in(pieces, pieces + n);
        std::string got;
        if (!m->sp.Decode(in, &got).ok()) return SPM_ERR_FORMAT;
        return (*text = copy_out(got.data(), got.size())) ? SPM_OK : SPM_ERR_NOMEM;
    } catch (const std::bad_alloc &) {
        return SPM_ERR_NOMEM;
    }
}
