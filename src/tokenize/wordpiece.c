#include "tokenize/wordpiece.h"

#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "util/error.h"
#include "util/files.h"
#include "util/unicode.h"
#include "tokenize/vocab.h"

/* WordpieceTokenizer.max_input_chars_per_word: longer words become [UNK]. */
#define MAX_CHARS_PER_WORD 100

typedef struct {
    tok_vocab vocab;
    wordpiece_opts opts;
} wordpiece;

static void wordpiece_free(void *impl) {
    wordpiece *wp = impl;
    if (!wp) return;
    tok_vocab_free(&wp->vocab);
    free(wp);
}

static int32_t wordpiece_token_id(const void *impl, const char *token, size_t len) {
    const wordpiece *wp = impl;
    return tok_vocab_id(&wp->vocab, token, len);
}

static const char *wordpiece_id_token(const void *impl, int32_t id) {
    const wordpiece *wp = impl;
    return tok_vocab_token(&wp->vocab, id);
}

static int wordpiece_vocab_size(const void *impl) {
    const wordpiece *wp = impl;
    return wp->vocab.size;
}

static int32_t wordpiece_max_id(const void *impl) {
    const wordpiece *wp = impl;
    return wp->vocab.max_id;
}

/* _is_control: "\t", "\n" and "\r" count as whitespace; every other code
 * point of a C* category (Cc, Cf, Cs, Co and unassigned Cn) is dropped. */
static bool is_control(int32_t c) {
    if (c == '\t' || c == '\n' || c == '\r') return false;
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_CN || k >= UTF8PROC_CATEGORY_CC;
}

/* _is_whitespace: narrower than str.isspace(), it becomes a plain space. */
static bool is_whitespace(int32_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
           utf8proc_category(c) == UTF8PROC_CATEGORY_ZS;
}

/* _is_punctuation: every non-alphanumeric printable ASCII character (so "$",
 * "^", "`" too, which Unicode files under symbols) and all of P*. */
static bool is_punctuation(int32_t c) {
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
        (c >= 123 && c <= 126))
        return true;
    utf8proc_category_t k = utf8proc_category(c);
    return k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO;
}

/* _is_chinese_char: the CJK Unified Ideographs blocks BERT splits into
 * single characters (not Hangul, Hiragana or Katakana). */
static bool is_chinese_char(int32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* WordpieceTokenizer.tokenize of one word: greedy longest match first, a
 * piece after the first carrying the "##" prefix; a word with an uncovered
 * remainder becomes [UNK] as a whole. */
static bool tokenize_word(const wordpiece *wp, const int32_t *w, size_t n, int32_t unk_id,
                          i32vec *ids) {
    if (n > MAX_CHARS_PER_WORD) return i32vec_push(ids, unk_id);
    size_t off[MAX_CHARS_PER_WORD + 1];
    char word[4 * MAX_CHARS_PER_WORD], key[2 + 4 * MAX_CHARS_PER_WORD];
    utf8_encode(w, n, word, off);
    size_t mark = ids->len;
    for (size_t start = 0; start < n;) {
        size_t prefix = start > 0 ? 2 : 0;
        memcpy(key, "##", prefix);
        memcpy(key + prefix, word + off[start], off[n] - off[start]);
        size_t end = n;
        int32_t id = -1;
        for (; end > start; end--)
            if ((id = tok_vocab_id(&wp->vocab, key, prefix + off[end] - off[start])) >= 0) break;
        if (id < 0) {
            ids->len = mark;
            return i32vec_push(ids, unk_id);
        }
        if (!i32vec_push(ids, id)) return false;
        start = end;
    }
    return true;
}

/* BertTokenizer._tokenize. */
static bool wordpiece_tokenize(const void *impl, const int32_t *cps, size_t n,
                               const subword_context *ctx, i32vec *ids) {
    const wordpiece *wp = impl;
    const wordpiece_opts *o = &wp->opts;
    int32_t unk_id = ctx->unk_id;
    bool ok = false;
    i32vec text = {0}, lowered = {0}, stripped = {0};
    char *utf8 = NULL;

    /* _clean_text, then _tokenize_chinese_chars (one pass does both). */
    if (!i32vec_reserve(&text, 3 * n)) goto done;
    for (size_t i = 0; i < n; i++) {
        int32_t c = cps[i];
        if (c == 0 || c == 0xFFFD || is_control(c)) continue;
        if (is_whitespace(c)) {
            text.v[text.len++] = ' ';
        } else if (o->tokenize_chinese_chars && is_chinese_char(c)) {
            text.v[text.len++] = ' ';
            text.v[text.len++] = c;
            text.v[text.len++] = ' ';
        } else {
            text.v[text.len++] = c;
        }
    }
    if (!(utf8 = malloc(4 * text.len + 1))) goto done;

    /* whitespace_tokenize() is str.split(): it also splits on what
     * _clean_text left alone, such as U+2028 LINE SEPARATOR. */
    bool strip = o->strip_accents == 1 || (o->do_lower_case && o->strip_accents != 0);
    for (size_t i = 0; i < text.len;) {
        if (uni_py_isspace(text.v[i])) {
            i++;
            continue;
        }
        size_t start = i;
        while (i < text.len && !uni_py_isspace(text.v[i])) i++;
        const int32_t *w = text.v + start;
        size_t wn = i - start;

        /* A special token is neither lowercased nor split on punctuation. */
        if (strmap_get(ctx->specials, utf8, utf8_encode(w, wn, utf8, NULL)) >= 0) {
            if (!tokenize_word(wp, w, wn, unk_id, ids)) goto done;
            continue;
        }
        if (o->do_lower_case) {
            lowered.len = 0;
            if (!i32vec_reserve(&lowered, 2 * wn)) goto done;
            for (size_t k = 0; k < wn; k++)
                lowered.len += (size_t)uni_py_lower(w[k], lowered.v + lowered.len);
            w = lowered.v;
            wn = lowered.len;
        }
        if (strip) {
            stripped.len = 0;
            if (!uni_strip_accents(w, wn, &stripped)) goto done;
            w = stripped.v;
            wn = stripped.len;
        }
        /* _run_split_on_punc: every punctuation character stands alone. */
        for (size_t k = 0; k < wn;) {
            size_t e = k + 1;
            if (!is_punctuation(w[k]))
                while (e < wn && !is_punctuation(w[e])) e++;
            if (!tokenize_word(wp, w + k, e - k, unk_id, ids)) goto done;
            k = e;
        }
    }
    ok = true;
done:
    free(utf8);
    i32vec_free(&text);
    i32vec_free(&lowered);
    i32vec_free(&stripped);
    return ok;
}

static elang_status wordpiece_detokenize(const void *impl, const char *const *tokens,
                                         const bool *special, size_t n, strbuf *out,
                                         elang_error *err) {
    (void)impl, (void)special;
    /* BertTokenizer.convert_tokens_to_string:
     * " ".join(tokens).replace(" ##", "").strip() */
    size_t start = out->len;
    for (size_t i = 0; i < n; i++)
        if ((i > 0 && !strbuf_puts(out, " ")) || !strbuf_puts(out, tokens[i]))
            return elang_fail(err, ELANG_ERR_NOMEM, "out of memory decoding");
    strbuf_replace(out, start, " ##", "");
    strbuf_py_strip(out, start);
    return ELANG_OK;
}

static const subword_ops WORDPIECE_OPS = {
    .token_id = wordpiece_token_id,
    .id_token = wordpiece_id_token,
    .size = wordpiece_vocab_size,
    .max_id = wordpiece_max_id,
    .tokenize = wordpiece_tokenize,
    .detokenize = wordpiece_detokenize,
    .free = wordpiece_free,
};

elang_status wordpiece_load(const char *path, const wordpiece_opts *opts, subword_model *out,
                            elang_error *err) {
    char *data = NULL;
    size_t len;
    elang_status rc = file_read_all(path, &data, &len, err);
    if (rc != ELANG_OK) return rc;
    i32vec scratch = {0};
    wordpiece *wp = calloc(1, sizeof *wp);
    if (!wp) {
        rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading %s", path);
        goto done;
    }
    wp->opts = *opts;
    /* load_vocab(): a token's id is its line index. */
    const char *p = data, *end = data + len, *line;
    size_t line_len;
    bool terminated, had;
    while (text_next_line(&p, end, &line, &line_len, &terminated)) {
        int lineno = wp->vocab.size + 1;
        size_t bad;
        scratch.len = 0;
        if (!utf8_decode(line, line_len, &scratch, &bad)) {
            rc = bad == SIZE_MAX
                     ? elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading %s", path)
                     : elang_fail(err, ELANG_ERR_FORMAT, "%s line %d: invalid UTF-8 at byte %zu",
                                  path, lineno, bad);
            goto done;
        }
        if (!tok_vocab_add(&wp->vocab, line, line_len, wp->vocab.size, &had)) {
            rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading %s", path);
            goto done;
        }
        if (had) {
            rc = elang_fail(err, ELANG_ERR_FORMAT, "%s line %d: duplicate token \"%.*s\"", path,
                            lineno, (int)(line_len < 100 ? line_len : 100), line);
            goto done;
        }
    }
    /* BertTokenizer would take it and make every word [UNK]. */
    if (wp->vocab.size == 0) {
        rc = elang_fail(err, ELANG_ERR_FORMAT, "%s: empty, a vocabulary without tokens", path);
        goto done;
    }
    if ((rc = tok_vocab_index(&wp->vocab, path, err)) != ELANG_OK) goto done;
    *out = (subword_model){&WORDPIECE_OPS, wp};
    wp = NULL;
done:
    wordpiece_free(wp);
    i32vec_free(&scratch);
    free(data);
    return rc;
}

