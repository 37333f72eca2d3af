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
