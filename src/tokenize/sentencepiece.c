#include "tokenize/sentencepiece.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/files.h"
#include "tokenize/spm_shim.h"
#include "util/unicode.h"
#include "tokenize/vocab.h"

/* "<extra_id_" + a 32-bit number + ">" + NUL */
#define EXTRA_NAME_MAX 24
/* T5Tokenizer takes any extra_ids; this bounds the names kept for them. */
#define EXTRA_IDS_MAX (1 << 20)

/* XLMRobertaTokenizer's fairseq_tokens_to_ids: fairseq's dictionary starts
 * <s> <pad> </s> <unk> where SentencePiece has <unk> <s> </s>, so these
 * four take ids 0-3, every piece moves up by fairseq_offset (the first real
 * piece, SentencePiece's 3, becomes 4) and <mask> comes after the last. */
static const char *const FAIRSEQ_TOKENS[] = {"<s>", "<pad>", "</s>", "<unk>"};
#define N_FAIRSEQ_TOKENS 4
#define FAIRSEQ_OFFSET 1
#define XLMR_MASK "<mask>"

/* Whose rules sit on top of SentencePiece. */
typedef enum { SP_T5, SP_MARIAN, SP_XLMR, SP_LLAMA } sp_variant;

/* SPIECE_UNDERLINE, U+2581 ▁, SentencePiece's mark of a space. */
#define UNDERLINE 0x2581
#define UNDERLINE_UTF8 "\xE2\x96\x81"

typedef struct {
    sp_variant variant;
    spm_model *source;        /* T5's and XLM-R's model; Marian's source.spm */
    spm_model *target;        /* Marian's target.spm */
    tok_vocab vocab;          /* Marian's vocab.json (the encoder) */
    tok_vocab target_vocab;   /* Marian's target_vocab.json, with separate_vocabs */
    const tok_vocab *decoder; /* Marian: the vocabulary whose ids are decoded */
    int n_pieces, extra_ids;
    char (*extra_name)[EXTRA_NAME_MAX]; /* T5: extra_name[k] = "<extra_id_k>" */
    bool legacy, add_prefix_space;      /* Llama's tokenizer_config.json */
} sentencepiece;

static void sentencepiece_free(void *impl) {
    sentencepiece *sp = impl;
    if (!sp) return;
    spm_free(sp->source);
    spm_free(sp->target);
    tok_vocab_free(&sp->vocab);
    tok_vocab_free(&sp->target_vocab);
    free(sp->extra_name);
    free(sp);
}

static int sentencepiece_vocab_size(const void *impl) {
    const sentencepiece *sp = impl;
    switch (sp->variant) {
    case SP_T5: return sp->n_pieces + sp->extra_ids;
    case SP_MARIAN: return sp->vocab.size;
    case SP_XLMR: return sp->n_pieces + FAIRSEQ_OFFSET + 1; /* + <mask> */
    case SP_LLAMA: return sp->n_pieces;
    }
    return 0;
}

/* Marian's encoder ids come from vocab.json, whose ids may skip some; the
 * others number their pieces densely. */
static int32_t sentencepiece_max_id(const void *impl) {
    const sentencepiece *sp = impl;
    return sp->variant == SP_MARIAN ? sp->vocab.max_id : sentencepiece_vocab_size(sp) - 1;
}

/* T5Tokenizer._convert_token_to_id of token[0..len): a token starting
 * <extra_id_N> is vocab_size - 1 - N (re.match: whatever follows the ">"
 * is ignored), any other goes to piece_to_id, which answers the unknown
 * piece's id for a string that is no piece. */
static int32_t t5_token_id(const sentencepiece *sp, const char *token, size_t len) {
    static const char prefix[] = "<extra_id_";
    size_t np = sizeof prefix - 1, k = np;
    if (len > np && memcmp(token, prefix, np) == 0) {
        long num = 0;
        while (k < len && token[k] >= '0' && token[k] <= '9' && num <= EXTRA_IDS_MAX)
            num = 10 * num + (token[k++] - '0');
        long id = (long)sentencepiece_vocab_size(sp) - 1 - num;
        if (k > np && k < len && token[k] == '>' && id >= 0) return (int32_t)id;
    }
    return spm_piece_id(sp->source, token, len);
}

static bool same_token(const char *name, const char *token, size_t len) {
    return strlen(name) == len && memcmp(name, token, len) == 0;
}

/* XLMRobertaTokenizer._convert_token_to_id of token[0..len), but -1 where
 * that answers unk_token_id: for SentencePiece's id 0 (its <unk>, which
 * PieceToId gives every string that is no piece), whatever unk_token is. */
static int32_t xlmr_token_id(const sentencepiece *sp, const char *token, size_t len) {
    for (int32_t k = 0; k < N_FAIRSEQ_TOKENS; k++)
        if (same_token(FAIRSEQ_TOKENS[k], token, len)) return k;
    if (same_token(XLMR_MASK, token, len)) return sp->n_pieces + FAIRSEQ_OFFSET;
    int32_t id = spm_piece_id(sp->source, token, len);
    return id != 0 ? id + FAIRSEQ_OFFSET : -1;
}

static int32_t sentencepiece_token_id(const void *impl, const char *token, size_t len) {
    const sentencepiece *sp = impl;
    if (sp->variant == SP_MARIAN) return tok_vocab_id(&sp->vocab, token, len);
    if (sp->variant == SP_XLMR) return xlmr_token_id(sp, token, len);
    int32_t id = sp->variant == SP_T5 ? t5_token_id(sp, token, len) : spm_piece_id(sp->source, token, len);
    /* The unknown piece's id for anything but the unknown piece means the
     * vocabulary lacks the token (what _add_tokens tests). */
    const char *unk = spm_id_piece(sp->source, spm_unk_id(sp->source));
    if (id == spm_unk_id(sp->source) && (strlen(unk) != len || memcmp(unk, token, len) != 0))
        return -1;
    return id;
}

static const char *sentencepiece_id_token(const void *impl, int32_t id) {
    const sentencepiece *sp = impl;
    if (sp->variant == SP_MARIAN) return tok_vocab_token(sp->decoder, id);
    if (id < 0 || id >= sentencepiece_vocab_size(sp)) return NULL;
    if (sp->variant == SP_XLMR) {
        /* _convert_id_to_token: the fairseq names first, so SentencePiece's
         * <unk> <s> </s> (ids 1-3 once shifted) are never answered. */
        if (id < N_FAIRSEQ_TOKENS) return FAIRSEQ_TOKENS[id];
        if (id == sp->n_pieces + FAIRSEQ_OFFSET) return XLMR_MASK;
        return spm_id_piece(sp->source, id - FAIRSEQ_OFFSET);
    }
    if (id < sp->n_pieces) return spm_id_piece(sp->source, id);
    return sp->extra_name[sentencepiece_vocab_size(sp) - 1 - id];
}

/* Where the last "<<" of s[from..to) ends, or 0. */
static size_t last_close_end(const int32_t *s, size_t from, size_t to) {
    for (size_t j = to; j >= from + 2; j--)
        if (s[j - 2] == '<' && s[j - 1] == '<') return j;
    return 0;
}

/* MarianTokenizer.remove_language_code of cps[0..n): a code like >>fr<<
 * at the start becomes a token of its own (appended to ids), and re.sub
 * drops every code, anywhere; the rest goes to text as UTF-8, *len bytes.
 * A code matches language_code_re, ">>.+<<", where `.` takes anything but
 * "\n", greedily: from ">>" to the last "<<" of the line, with at least one
 * character between. That end is found once a line. False when out of
 * memory. */
static bool remove_language_codes(const sentencepiece *sp, const int32_t *cps, size_t n,
                                  int32_t unk_id, char *text, size_t *len, i32vec *ids) {
    *len = 0;
    for (size_t line = 0; line < n;) {
        size_t end = line;
        while (end < n && cps[end] != '\n') end++;
        size_t close = last_close_end(cps, line, end);
        for (size_t i = line; i < end;) {
            if (cps[i] != '>' || i + 5 > close || cps[i + 1] != '>') {
                *len += utf8_encode(cps + i++, 1, text + *len, NULL);
                continue;
            }
            if (i == 0) {
                size_t code_len = utf8_encode(cps, close, text, NULL);
                int32_t id = tok_vocab_id(&sp->vocab, text, code_len);
                if (!i32vec_push(ids, id >= 0 ? id : unk_id)) return false;
            }
            i = close;
        }
        if (end < n) *len += utf8_encode(cps + end, 1, text + *len, NULL); /* the "\n" */
        line = end + 1;
    }
    return true;
}

/* LlamaTokenizer.tokenize (legacy false, add_prefix_space): "▁" for every
 * space and before the whole text, unless it is empty. */
static bool sentencepiece_prepare(const void *impl, i32vec *text) {
    const sentencepiece *sp = impl;
    if (sp->variant != SP_LLAMA || sp->legacy || !sp->add_prefix_space || text->len == 0) return true;
    for (size_t i = 0; i < text->len; i++)
        if (text->v[i] == UNDERLINE) text->v[i] = ' ';
    if (!i32vec_reserve(text, 1)) return false;
    memmove(text->v + 1, text->v, text->len * sizeof *text->v);
    text->v[0] = UNDERLINE;
    text->len++;
    return true;
}

/* The pieces of text[0..len) as SentencePiece gives them, except that a
 * Llama chunk starting with a space ("▁" or " ") is encoded behind the unk
 * token's text and those pieces are dropped (LlamaTokenizer._tokenize,
 * legacy false), so that the space survives. *n pieces in *pieces. */
static bool llama_pieces(const sentencepiece *sp, const subword_context *ctx, char *text, size_t len, char **pieces,
                         size_t *n) {
    const bool space = len > 0 && (text[0] == ' ' || (len >= 3 && memcmp(text, UNDERLINE_UTF8, 3) == 0));
    if (sp->legacy || !space || !ctx->unk_text) return spm_encode(sp->source, text, len, pieces, n) == SPM_OK;
    const size_t ulen = strlen(ctx->unk_text);
    char *joined = malloc(ulen + len + 1), *unk = NULL;
    size_t unk_n = 0;
    bool ok = joined && spm_encode(sp->source, ctx->unk_text, ulen, &unk, &unk_n) == SPM_OK;
    if (ok) {
        memcpy(joined, ctx->unk_text, ulen);
        memcpy(joined + ulen, text, len);
        ok = spm_encode(sp->source, joined, ulen + len, pieces, n) == SPM_OK;
    }
    if (ok && *n >= unk_n) {
        /* tokens[unk_token_length:] */
        const char *from = *pieces, *end = *pieces;
        for (size_t k = 0; k < *n; k++) {
            if (k == unk_n) from = end;
            end += strlen(end) + 1;
        }
        if (unk_n == *n) from = end;
        memmove(*pieces, from, (size_t)(end - from));
        *n -= unk_n;
    }
    free(joined);
    free(unk);
    return ok;
}

/* _tokenize + _convert_token_to_id. */
static bool sentencepiece_tokenize(const void *impl, const int32_t *cps, size_t n,
                                   const subword_context *ctx, i32vec *ids) {
    const sentencepiece *sp = impl;
    int32_t unk_id = ctx->unk_id;
    char *text = malloc(4 * n + 1), *pieces = NULL;
    if (!text) return false;
    size_t len, n_pieces;
    bool ok = false;
    if (sp->variant != SP_MARIAN) len = utf8_encode(cps, n, text, NULL);
    else if (!remove_language_codes(sp, cps, n, unk_id, text, &len, ids)) goto done;
    if (sp->variant == SP_LLAMA ? !llama_pieces(sp, ctx, text, len, &pieces, &n_pieces)
                                : spm_encode(sp->source, text, len, &pieces, &n_pieces) != SPM_OK)
        goto done;
    /* LlamaTokenizer.tokenize drops the "▁" it put before a text that
     * starts with a special token. */
    if (sp->variant == SP_LLAMA && !sp->legacy && ctx->first && ctx->before_special && n_pieces == 1 &&
        strcmp(pieces, UNDERLINE_UTF8) == 0)
        n_pieces = 0;
    if (!i32vec_reserve(ids, n_pieces)) goto done;
    const char *p = pieces;
    for (size_t k = 0; k < n_pieces; k++) {
        size_t np = strlen(p);
        /* T5 answers piece_to_id's unknown piece; Marian and XLM-R have
         * no id for a piece they lack and answer unk_token_id. */
        int32_t id = sp->variant == SP_T5 ? t5_token_id(sp, p, np)
                                          : sentencepiece_token_id(sp, p, np);
        ids->v[ids->len++] = id >= 0 ? id : unk_id;
        p += np + 1;
    }
    ok = true;
done:
    free(text);
    free(pieces);
    return ok;
}

/* sp_model.decode_pieces(tokens[0..n)) appended to out. */
static elang_status decode_pieces(const spm_model *m, const char *const *tokens, size_t n,
                                  strbuf *out, elang_error *err) {
    if (n == 0) return ELANG_OK;
    char *text = NULL;
    spm_status st = spm_decode(m, tokens, n, &text);
    bool ok = st == SPM_OK && strbuf_puts(out, text);
    free(text);
    if (ok) return ELANG_OK;
    if (st == SPM_ERR_FORMAT)
        return elang_fail(err, ELANG_ERR_FORMAT, "SentencePiece failed to decode %zu pieces", n);
    return elang_fail(err, ELANG_ERR_NOMEM, "out of memory decoding");
}

/* LlamaTokenizer.convert_tokens_to_string: the "▁" it put before the text
 * comes off the first token; runs of pieces go through SentencePiece, the
 * special tokens as they are (legacy: with a space before them). */
static elang_status llama_detokenize(const sentencepiece *sp, const char *const *tokens, const bool *special,
                                     size_t n, strbuf *out, elang_error *err) {
    size_t run = 0;
    bool prev_special = false;
    elang_status rc;
    const char **pieces = malloc((n + 1) * sizeof *pieces);
    if (!pieces) goto nomem;
    for (size_t i = 0; i < n; i++) pieces[i] = tokens[i];
    if (n > 0 && sp->add_prefix_space && strncmp(pieces[0], UNDERLINE_UTF8, 3) == 0) pieces[0] += 3;
    for (size_t i = 0; i < n; i++) {
        if (!special[i]) {
            if (prev_special && i == 1 && sp->add_prefix_space && strncmp(pieces[i], UNDERLINE_UTF8, 3) != 0 &&
                !strbuf_puts(out, " "))
                goto nomem;
            prev_special = false;
            continue;
        }
        if (!prev_special && i != 0 && sp->legacy && !strbuf_puts(out, " ")) goto nomem;
        if ((rc = decode_pieces(sp->source, pieces + run, i - run, out, err)) != ELANG_OK) goto fail;
        if (!strbuf_puts(out, pieces[i])) goto nomem;
        prev_special = true;
        run = i + 1;
    }
    rc = decode_pieces(sp->source, pieces + run, n - run, out, err);
    goto fail;
nomem:
    rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory decoding");
fail:
    free(pieces);
    return rc;
}

/* convert_tokens_to_string. */
static elang_status sentencepiece_detokenize(const void *impl, const char *const *tokens,
                                             const bool *special, size_t n, strbuf *out,
                                             elang_error *err) {
    const sentencepiece *sp = impl;
    if (sp->variant == SP_LLAMA) return llama_detokenize(sp, tokens, special, n, out, err);
    size_t start = out->len, run = 0;
    if (sp->variant == SP_XLMR) {
        /* XLMRobertaTokenizer's convert_tokens_to_string does without
         * SentencePiece: the tokens, special or not, joined, every ▁ made a
         * space, stripped. */
        for (size_t i = 0; i < n; i++)
            if (!strbuf_puts(out, tokens[i])) goto nomem;
        strbuf_replace(out, start, "\xE2\x96\x81", " ");
        strbuf_py_strip(out, start);
        return ELANG_OK;
    }
    /* T5's and Marian's pass the pieces between special tokens to
     * SentencePiece and the special tokens through as they are, then strip.
     * T5 puts a space before a special token unless another one precedes
     * it; Marian a space after each, and decodes with target.spm (the
     * pieces of vocab.json it lacks come out as they are, ▁ and all). */
    bool marian = sp->variant == SP_MARIAN;
    const spm_model *m = marian ? sp->target : sp->source;
    bool prev_special = false;
    elang_status rc;
    for (size_t i = 0; i < n; i++) {
        if (!special[i]) {
            prev_special = false;
            continue;
        }
        if (!marian && !prev_special && !strbuf_puts(out, " ")) goto nomem;
        if ((rc = decode_pieces(m, tokens + run, i - run, out, err)) != ELANG_OK) return rc;
        if (!strbuf_puts(out, tokens[i]) || (marian && !strbuf_puts(out, " "))) goto nomem;
        prev_special = true;
        run = i + 1;
    }
    if ((rc = decode_pieces(m, tokens + run, n - run, out, err)) != ELANG_OK) return rc;
    strbuf_py_strip(out, start);
    return ELANG_OK;
nomem:
    return elang_fail(err, ELANG_ERR_NOMEM, "out of memory decoding");
}

static const subword_ops SENTENCEPIECE_OPS = {
    .prepare = sentencepiece_prepare,
    .token_id = sentencepiece_token_id,
    .id_token = sentencepiece_id_token,
    .size = sentencepiece_vocab_size,
    .max_id = sentencepiece_max_id,
    .tokenize = sentencepiece_tokenize,
    .detokenize = sentencepiece_detokenize,
    .free = sentencepiece_free,
};

static elang_status load_model(const char *dir, const char *name, bool dummy_prefix, spm_model **out,
                               elang_error *err) {
    char path[FILE_PATH_MAX], msg[512];
    elang_status rc = file_path_join(path, dir, name, err);
    if (rc == ELANG_OK) rc = file_require(path, err);
    if (rc != ELANG_OK) return rc;
    switch (dummy_prefix ? spm_load(path, out, msg, sizeof msg)
                         : spm_load_without_dummy_prefix(path, out, msg, sizeof msg)) {
    case SPM_OK: return ELANG_OK;
    case SPM_ERR_IO: return elang_fail(err, ELANG_ERR_IO, "cannot read %s: %s", path, msg);
    case SPM_ERR_FORMAT:
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: not a SentencePiece model (%s)", path, msg);
    case SPM_ERR_NOMEM: break;
    }
    return elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading %s", path);
}

/* A new sentencepiece of this variant, with dir/name as its (source) model. */
static elang_status open_source(sp_variant variant, const char *dir, const char *name, bool dummy_prefix,
                                sentencepiece **out, elang_error *err) {
    sentencepiece *sp = calloc(1, sizeof *sp);
    if (!sp) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading the tokenizer");
    sp->variant = variant;
    elang_status rc = load_model(dir, name, dummy_prefix, &sp->source, err);
    if (rc != ELANG_OK) {
        free(sp);
        return rc;
    }
    sp->n_pieces = spm_piece_count(sp->source);
    *out = sp;
    return ELANG_OK;
}

elang_status sentencepiece_load_t5(const char *dir, int extra_ids, subword_model *out,
                                   elang_error *err) {
    if (extra_ids < 0 || extra_ids > EXTRA_IDS_MAX)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: extra_ids %d is outside [0, %d]", dir,
                          extra_ids, EXTRA_IDS_MAX);
    sentencepiece *sp;
    elang_status rc = open_source(SP_T5, dir, "spiece.model", true, &sp, err);
    if (rc != ELANG_OK) return rc;
    sp->extra_ids = extra_ids;
    if (!(sp->extra_name = malloc(((size_t)extra_ids + 1) * sizeof *sp->extra_name))) {
        rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading the tokenizer");
        goto fail;
    }
    for (int k = 0; k < extra_ids; k++)
        snprintf(sp->extra_name[k], EXTRA_NAME_MAX, "<extra_id_%d>", k);
    *out = (subword_model){&SENTENCEPIECE_OPS, sp};
    return ELANG_OK;
fail:
    sentencepiece_free(sp);
    return rc;
}

elang_status sentencepiece_load_marian(const char *dir, bool separate_vocabs, subword_model *out,
                                       elang_error *err) {
    char path[FILE_PATH_MAX];
    sentencepiece *sp;
    elang_status rc = open_source(SP_MARIAN, dir, "source.spm", true, &sp, err);
    if (rc != ELANG_OK) return rc;
    sp->decoder = &sp->vocab;
    if ((rc = load_model(dir, "target.spm", true, &sp->target, err)) ||
        (rc = file_path_join(path, dir, "vocab.json", err)) ||
        (rc = tok_vocab_load_json(path, &sp->vocab, err)))
        goto fail;
    /* MarianTokenizer reads target_vocab.json only when told to. */
    if (separate_vocabs) {
        sp->decoder = &sp->target_vocab;
        if ((rc = file_path_join(path, dir, "target_vocab.json", err)) ||
            (rc = tok_vocab_load_json(path, &sp->target_vocab, err)))
            goto fail;
    }
    *out = (subword_model){&SENTENCEPIECE_OPS, sp};
    return ELANG_OK;
fail:
    sentencepiece_free(sp);
    return rc;
}

elang_status sentencepiece_load_xlmr(const char *dir, subword_model *out, elang_error *err) {
    sentencepiece *sp;
    elang_status rc = open_source(SP_XLMR, dir, SENTENCEPIECE_XLMR_FILE, true, &sp, err);
    if (rc == ELANG_OK) *out = (subword_model){&SENTENCEPIECE_OPS, sp};
    return rc;
}

elang_status sentencepiece_load_llama(const char *dir, bool legacy, bool add_prefix_space, subword_model *out,
                                      elang_error *err) {
    sentencepiece *sp;
    elang_status rc = open_source(SP_LLAMA, dir, SENTENCEPIECE_LLAMA_FILE, legacy, &sp, err);
    if (rc != ELANG_OK) return rc;
    sp->legacy = legacy;
    sp->add_prefix_space = add_prefix_space;
    *out = (subword_model){&SENTENCEPIECE_OPS, sp};
    return ELANG_OK;
}
