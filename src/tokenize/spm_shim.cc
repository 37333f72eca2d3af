#include "tokenize/spm_shim.h"

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
