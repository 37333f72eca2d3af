#include "tokenize/bpe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenize/bpe_merge.h"
#include "util/error.h"
#include "util/files.h"
#include "util/strmap.h"
#include "util/unicode.h"
#include "tokenize/vocab.h"

/* bytes_to_unicode's characters are below U+0100 + the 68 bytes it moves. */
#define N_BYTE_CHARS (256 + 68)

/* BPE works on symbols (the byte characters and what merges make of them),
 * numbered so that merging compares numbers instead of strings: a symbol in
 * vocab.json is numbered by its id (ids are checked to be distinct), any
 * other from max_id + 1 on. Symbols are not kept as strings. */
typedef struct {
    tok_vocab vocab; /* vocab.json */
    strmap extra;    /* symbols vocab.json lacks -> their number */
    int32_t byte_symbol[256];
    int16_t char_byte[N_BYTE_CHARS]; /* bytes_to_unicode reversed: character -> byte, or -1 */
    bpe_merges merges;
    /* The length of the pre-tokenization pattern's match at s[0..n), n > 0. */
    size_t (*pretoken)(const int32_t *s, size_t n);
    bool nfc;                        /* the text NFC-normalised first (Qwen2) */
} bpe;

/* bytes_to_unicode(): the printable Latin-1 bytes ("!".."~", "¡".."¬",
 * "®".."ÿ") stand for themselves and the other 68 (controls, space,
 * DEL..NBSP, soft hyphen) map in byte order to U+0100 onwards, so that no
 * symbol is whitespace or a control character. */
static void bytes_to_unicode(int32_t table[256]) {
    int32_t next = 256;
    for (int b = 0; b < 256; b++) {
        bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        table[b] = printable ? b : next++;
    }
}

/* The number of symbol s[0..len), numbering it if new; -1 when out of memory. */
static int32_t symbol(bpe *b, const char *s, size_t len) {
    int32_t sym = tok_vocab_id(&b->vocab, s, len);
    if (sym < 0) sym = strmap_get(&b->extra, s, len);
    if (sym >= 0) return sym;
    sym = b->vocab.max_id + 1 + (int32_t)b->extra.count;
    return strmap_put(&b->extra, s, len, sym, NULL) ? sym : -1;
}

static void bpe_free(void *impl) {
    bpe *b = impl;
    if (!b) return;
    tok_vocab_free(&b->vocab);
    strmap_free(&b->extra);
    bpe_merges_free(&b->merges);
    free(b);
}

static int32_t bpe_token_id(const void *impl, const char *token, size_t len) {
    const bpe *b = impl;
    return tok_vocab_id(&b->vocab, token, len);
}

static const char *bpe_id_token(const void *impl, int32_t id) {
    const bpe *b = impl;
    return tok_vocab_token(&b->vocab, id);
}

static int bpe_vocab_size(const void *impl) {
    const bpe *b = impl;
    return b->vocab.size;
}

static int32_t bpe_max_id(const void *impl) {
    const bpe *b = impl;
    return b->vocab.max_id;
}

/* The byte symbols, numbered before any merge: bytes_to_unicode's
 * characters, and the reverse table for decoding. False when out of
 * memory. */
static bool init_bytes(bpe *b) {
    int32_t table[256];
    bytes_to_unicode(table);
    char ch[4];
    for (int i = 0; i < 256; i++)
        if ((b->byte_symbol[i] = symbol(b, ch, utf8_encode(&table[i], 1, ch, NULL))) < 0) return false;
    memset(b->char_byte, -1, sizeof b->char_byte);
    for (int i = 0; i < 256; i++) b->char_byte[table[i]] = (int16_t)i;
    return true;
}

/* One merge, cps[0..n) ("a b"), taking the next rank; buf holds 4·n
 * bytes. A blank one takes a rank but merges nothing. `where` names it in
 * messages. */
static elang_status add_merge(bpe *b, const int32_t *cps, size_t n, char *buf, const char *path, const char *where,
                              elang_error *err) {
    /* tuple(merge.split()): parts separated by any whitespace. */
    size_t part[2][2], nparts = 0;
    for (size_t i = 0; i < n;) {
        if (uni_py_isspace(cps[i])) {
            i++;
            continue;
        }
        size_t s = i;
        while (i < n && !uni_py_isspace(cps[i])) i++;
        if (nparts < 2) {
            part[nparts][0] = s;
            part[nparts][1] = i;
        }
        nparts++;
    }
    if (nparts == 0) return i32vec_push(&b->merges.merged, -1) ? ELANG_OK : elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading %s", path);
    if (nparts != 2)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s %s: expected two symbols separated by a space", path, where);
    size_t left = utf8_encode(cps + part[0][0], part[0][1] - part[0][0], buf, NULL);
    size_t right = utf8_encode(cps + part[1][0], part[1][1] - part[1][0], buf + left, NULL);
    int32_t pair[2] = {symbol(b, buf, left), symbol(b, buf + left, right)};
    int32_t sym = symbol(b, buf, left + right);
    int32_t rank = (int32_t)b->merges.merged.len;
    /* dict(zip(merges, range(...))): a repeated pair keeps its last rank. */
    if (pair[0] < 0 || pair[1] < 0 || sym < 0 || !strmap_put(&b->merges.ranks, pair, sizeof pair, rank, NULL) ||
        !i32vec_push(&b->merges.merged, sym))
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading %s", path);
    return ELANG_OK;
}

static elang_status load_merges(bpe *b, const char *path, elang_error *err) {
    char *data;
    size_t len;
    elang_status rc = file_read_all(path, &data, &len, err);
    if (rc != ELANG_OK) return rc;
    i32vec cps = {0};
    /* A merge's UTF-8 is at most 4 bytes a code point of its line; each line
     * brings one rank. */
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += data[i] == '\n';
    char *buf = malloc(4 * len + 1);
    if (!buf || !strmap_reserve(&b->merges.ranks, lines) || !init_bytes(b)) goto nomem;

    /* transformers reads merges.txt as read().split("\n")[1:-1]: the first
     * line (the "#version" header) is skipped whatever it says, and so is
     * whatever follows the last newline, so an unterminated last line does not
     * count. A merge's rank is its line's index after the header. */
    const char *p = data, *end = data + len, *line;
    size_t line_len;
    bool terminated;
    for (int lineno = 1; rc == ELANG_OK && text_next_line(&p, end, &line, &line_len, &terminated); lineno++) {
        if (lineno == 1 || !terminated) continue;
        size_t bad;
        cps.len = 0;
        if (!utf8_decode(line, line_len, &cps, &bad)) {
            if (bad == SIZE_MAX) goto nomem;
            rc = elang_fail(err, ELANG_ERR_FORMAT, "%s line %d: invalid UTF-8 at byte %zu", path,
                            lineno, bad);
            goto done;
        }
        char where[32];
        snprintf(where, sizeof where, "line %d", lineno);
        rc = add_merge(b, cps.v, cps.len, buf, path, where, err);
    }
    goto done;
nomem:
    rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading %s", path);
done:
    free(buf);
    i32vec_free(&cps);
    free(data);
    return rc;
}

/* tokenizer.json's model.merges: "a b" strings (tokenizers before 0.20) or
 * [a, b] pairs, ranked in order. */
static elang_status load_json_merges(bpe *b, const json_t *merges, const char *path, elang_error *err) {
    if (!json_is_array(merges))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: model.merges is not a list", path);
    if (!strmap_reserve(&b->merges.ranks, json_array_size(merges) + 1) || !init_bytes(b))
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading %s", path);
    elang_status rc = ELANG_OK;
    i32vec cps = {0};
    strbuf text = {0};
    char *buf = NULL;
    for (size_t i = 0; rc == ELANG_OK && i < json_array_size(merges); i++) {
        const json_t *m = json_array_get(merges, i);
        char where[40];
        snprintf(where, sizeof where, "model.merges[%zu]", i);
        text.len = 0;
        bool ok = true;
        if (json_is_string(m)) {
            ok = strbuf_puts(&text, json_string_value(m));
        } else if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
                   json_is_string(json_array_get(m, 1))) {
            ok = strbuf_puts(&text, json_string_value(json_array_get(m, 0))) && strbuf_puts(&text, " ") &&
                 strbuf_puts(&text, json_string_value(json_array_get(m, 1)));
        } else {
            rc = elang_fail(err, ELANG_ERR_FORMAT, "%s %s: neither \"a b\" nor [a, b]", path, where);
            break;
        }
        size_t bad;
        cps.len = 0;
        char *grown = ok ? realloc(buf, 4 * text.len + 1) : NULL;
        if (!grown || !utf8_decode(text.s, text.len, &cps, &bad)) {
            rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading %s", path);
            break;
        }
        buf = grown;
        rc = add_merge(b, cps.v, cps.len, buf, path, where, err);
    }
    free(buf);
    strbuf_free(&text);
    i32vec_free(&cps);
    return rc;
}

enum { CLASS_LETTER, CLASS_NUMBER, CLASS_SPACE, CLASS_OTHER };

static int char_class(int32_t c) {
    if (uni_is_letter(c)) return CLASS_LETTER;
    if (uni_is_number(c)) return CLASS_NUMBER;
    if (uni_white_space(c)) return CLASS_SPACE;
    return CLASS_OTHER;
}

/* The length of the match at s[0..n), n > 0, of GPT-2's pre-tokenization
 * pattern, whose alternatives the regex module tries in this order:
 *   's|'t|'re|'ve|'m|'ll|'d | ?\p{L}+ | ?\p{N}+ | ?[^\s\p{L}\p{N}]+
 *   | \s+(?!\S) | \s+
 * Every character is a letter, a number, whitespace or other, so one of them
 * always matches. */
static size_t pretoken_length(const int32_t *s, size_t n) {
    if (s[0] == '\'' && n >= 2) {
        if (s[1] == 's' || s[1] == 't' || s[1] == 'm' || s[1] == 'd') return 2;
        if (n >= 3 && ((s[1] == 'r' && s[2] == 'e') || (s[1] == 'v' && s[2] == 'e') ||
                       (s[1] == 'l' && s[2] == 'l')))
            return 3;
    }
    /* " ?X+": one optional space (U+0020 only), then a run of one class. */
    size_t start = s[0] == ' ' && n > 1 && char_class(s[1]) != CLASS_SPACE ? 1 : 0;
    int cls = char_class(s[start]);
    size_t i = start + 1;
    while (i < n && char_class(s[i]) == cls) i++;
    if (cls != CLASS_SPACE) return i;
    /* Whitespace: the whole run at the end of the text; before anything else
     * \s+(?!\S) backs off one character so that the last space can prefix the
     * next word, and a single space left alone is matched by \s+. */
    if (i == n) return i;
    return i >= 2 ? i - 1 : i;
}

static bool is_newline(int32_t c) { return c == '\r' || c == '\n'; }

/* The case-insensitive letters of Qwen2's contractions: the regex module
 * folds case simply, which also makes U+017F (long s) an s. */
static int32_t fold(int32_t c) {
    if (c >= 'A' && c <= 'Z') return c - 'A' + 'a';
    return c == 0x17F ? 's' : c;
}

/* The same for Qwen2's pattern, alternatives in this order:
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d) | [^\r\n\p{L}\p{N}]?\p{L}+ | \p{N}
 *   | ?[^\s\p{L}\p{N}]+[\r\n]* | \s*[\r\n]+ | \s+(?!\S) | \s+
 * A letter run may take one character before it that is no letter,
 * number or newline (a space, a tab, punctuation); numbers go one digit at
 * a time; newlines stay with what they follow. */
static size_t qwen2_pretoken_length(const int32_t *s, size_t n) {
    if (s[0] == '\'' && n >= 2) {
        const int32_t a = fold(s[1]), b = n >= 3 ? fold(s[2]) : 0;
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    }
    const int c0 = char_class(s[0]);
    size_t start = c0 != CLASS_LETTER && c0 != CLASS_NUMBER && !is_newline(s[0]) && n > 1 &&
                   char_class(s[1]) == CLASS_LETTER;
    size_t i = start + 1;
    if (char_class(s[start]) == CLASS_LETTER) {
        while (i < n && char_class(s[i]) == CLASS_LETTER) i++;
        return i;
    }
    if (c0 == CLASS_NUMBER) return 1;
    start = s[0] == ' ' && n > 1 && char_class(s[1]) == CLASS_OTHER;
    if (char_class(s[start]) == CLASS_OTHER) {
        for (i = start + 1; i < n && char_class(s[i]) == CLASS_OTHER; i++) {}
        while (i < n && is_newline(s[i])) i++;
        return i;
    }
    /* Whitespace: up to its last newline, if it has one (\s*[\r\n]+
     * backs off to it); else as GPT-2's pattern. */
    size_t end = 1, last_newline = 0;
    bool newline = is_newline(s[0]);
    while (end < n && char_class(s[end]) == CLASS_SPACE) {
        if (is_newline(s[end])) newline = true, last_newline = end;
        end++;
    }
    if (newline) return last_newline + 1;
    if (end == n) return end;
    return end >= 2 ? end - 1 : end;
}

/* Qwen2Tokenizer.prepare_for_tokenization. */
static bool bpe_prepare(const void *impl, i32vec *text) {
    const bpe *b = impl;
    return !b->nfc || uni_nfc(text);
}

/* RobertaTokenizer._tokenize + convert_tokens_to_ids. */
static bool bpe_tokenize(const void *impl, const int32_t *cps, size_t n,
                         const subword_context *ctx, i32vec *ids) {
    const bpe *b = impl;
    char *bytes = malloc(4 * n + 1);
    int32_t *syms = malloc((4 * n + 1) * sizeof *syms);
    bool ok = bytes && syms;
    for (size_t i = 0; ok && i < n;) {
        size_t len = b->pretoken(cps + i, n - i);
        size_t m = utf8_encode(cps + i, len, bytes, NULL);
        for (size_t k = 0; k < m; k++) syms[k] = b->byte_symbol[(unsigned char)bytes[k]];
        ok = bpe_merge_word(&b->merges, syms, &m) && i32vec_reserve(ids, m);
        for (size_t k = 0; ok && k < m; k++)
            ids->v[ids->len++] = syms[k] <= b->vocab.max_id ? syms[k] : ctx->unk_id;
        i += len;
    }
    free(bytes);
    free(syms);
    return ok;
}

static elang_status bpe_detokenize(const void *impl, const char *const *tokens,
                                   const bool *special, size_t n, strbuf *out, elang_error *err) {
    (void)special;
    const bpe *b = impl;
    /* RobertaTokenizer.convert_tokens_to_string: each character back to
     * the byte it stands for, the bytes decoded with errors="replace". */
    strbuf bytes = {0};
    i32vec cps = {0};
    elang_status rc = ELANG_OK;
    for (size_t t = 0; t < n && rc == ELANG_OK; t++) {
        size_t bad;
        cps.len = 0;
        /* Vocabulary tokens are valid UTF-8, so only memory can fail here. */
        if (!utf8_decode(tokens[t], strlen(tokens[t]), &cps, &bad) ||
            !strbuf_reserve(&bytes, cps.len))
            goto nomem;
        for (size_t i = 0; i < cps.len && rc == ELANG_OK; i++) {
            int32_t c = cps.v[i];
            if (c < N_BYTE_CHARS && b->char_byte[c] >= 0)
                bytes.s[bytes.len++] = (char)b->char_byte[c];
            else
                rc = elang_fail(err, ELANG_ERR_FORMAT,
                                "token \"%s\" holds U+%04X, which stands for no byte in "
                                "byte-level BPE",
                                tokens[t], (unsigned)c);
        }
    }
    if (rc == ELANG_OK && !utf8_decode_replace((const unsigned char *)bytes.s, bytes.len, out))
        goto nomem;
    goto done;
nomem:
    rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory decoding");
done:
    strbuf_free(&bytes);
    i32vec_free(&cps);
    return rc;
}

static const subword_ops BPE_OPS = {
    .prepare = bpe_prepare,
    .token_id = bpe_token_id,
    .id_token = bpe_id_token,
    .size = bpe_vocab_size,
    .max_id = bpe_max_id,
    .tokenize = bpe_tokenize,
    .detokenize = bpe_detokenize,
    .free = bpe_free,
};

static bpe *bpe_new(bpe_pretokenizer pre) {
    bpe *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->pretoken = pre == BPE_QWEN2 ? qwen2_pretoken_length : pretoken_length;
    b->nfc = pre == BPE_QWEN2;
    return b;
}

elang_status bpe_load(const char *vocab_path, const char *merges_path, bpe_pretokenizer pre,
                      subword_model *out, elang_error *err) {
    bpe *b = bpe_new(pre);
    if (!b) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading %s", vocab_path);
    elang_status rc = tok_vocab_load_json(vocab_path, &b->vocab, err);
    if (rc == ELANG_OK) rc = load_merges(b, merges_path, err);
    if (rc != ELANG_OK) {
        bpe_free(b);
        return rc;
    }
    *out = (subword_model){&BPE_OPS, b};
    return ELANG_OK;
}

elang_status bpe_load_json(const json_t *model, const char *path, bpe_pretokenizer pre, subword_model *out,
                           elang_error *err) {
    bpe *b = bpe_new(pre);
    if (!b) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading %s", path);
    char where[FILE_PATH_MAX + 16];
    snprintf(where, sizeof where, "%s: model.vocab", path);
    elang_status rc = tok_vocab_from_json(json_object_get(model, "vocab"), where, &b->vocab, err);
    if (rc == ELANG_OK) rc = load_json_merges(b, json_object_get(model, "merges"), path, err);
    if (rc != ELANG_OK) {
        bpe_free(b);
        return rc;
    }
    *out = (subword_model){&BPE_OPS, b};
    return ELANG_OK;
}
