#include "tokenize/bpe.h"

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
    if (!buf || !strmap_reserve(&b->merges.ranks, lines)) goto nomem;

    int32_t table[256];
    bytes_to_unicode(table);
    char ch[4];
    for (int i = 0; i < 256; i++)
        if ((b->byte_symbol[i] = symbol(b, ch, utf8_encode(&table[i], 1, ch, NULL))) < 0)
            goto nomem;
    memset(b->char_byte, -1, sizeof b->char_byte);
    for (int i = 0; i < 256; i++) b->char_byte[table[i]] = (int16_t)i;

    /* transformers reads merges.txt as read().split("\n")[1:-1]: the first
     * line (the "#version" header) is skipped whatever it says, and so is
     * whatever follows the last newline, so an unterminated last line does not
     * count. A merge's rank is its line's index after the header. */
    const char *p = data, *end = data + len, *line;
    size_t line_len;
    bool terminated;
    for (int lineno = 1; text_next_line(&p, end, &line, &line_len, &terminated); lineno++) {
        if (lineno == 1 || !terminated) continue;
        size_t bad;
        cps.len = 0;
        if (!utf8_decode(line, line_len, &cps, &bad)) {
            if (bad == SIZE_MAX) goto nomem;
            rc = elang_fail(err, ELANG_ERR_FORMAT, "%s line %d: invalid UTF-8 at byte %zu", path,
                            lineno, bad);
            goto done;
        }
        /* tuple(merge.split()): parts separated by any whitespace. */
        size_t part[2][2], nparts = 0;
        for (size_t i = 0; i < cps.len;) {
            if (uni_py_isspace(cps.v[i])) {
                i++;
                continue;
            }
            size_t s = i;
            while (i < cps.len && !uni_py_isspace(cps.v[i])) i++;
            if (nparts < 2) {
                part[nparts][0] = s;
                part[nparts][1] = i;
            }
            nparts++;
        }
        if (nparts == 0) { /* a blank line takes a rank but merges nothing */
            if (!i32vec_push(&b->merges.merged, -1)) goto nomem;
            continue;
        }
        if (nparts != 2) {
            rc = elang_fail(err, ELANG_ERR_FORMAT,
                            "%s line %d: expected two symbols separated by a space", path, lineno);
            goto done;
        }
        size_t left = utf8_encode(cps.v + part[0][0], part[0][1] - part[0][0], buf, NULL);
        size_t right = utf8_encode(cps.v + part[1][0], part[1][1] - part[1][0], buf + left, NULL);
        int32_t pair[2] = {symbol(b, buf, left), symbol(b, buf + left, right)};
        int32_t sym = symbol(b, buf, left + right);
        int32_t rank = (int32_t)b->merges.merged.len;
        /* dict(zip(merges, range(...))): a repeated pair keeps its last rank. */
        if (pair[0] < 0 || pair[1] < 0 || sym < 0 ||
            !strmap_put(&b->merges.ranks, pair, sizeof pair, rank, NULL) ||
            !i32vec_push(&b->merges.merged, sym))
            goto nomem;
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

/* RobertaTokenizer._tokenize + convert_tokens_to_ids. */
static bool bpe_tokenize(const void *impl, const int32_t *cps, size_t n,
                         const subword_context *ctx, i32vec *ids) {
    const bpe *b = impl;
    char *bytes = malloc(4 * n + 1);
    int32_t *syms = malloc((4 * n + 1) * sizeof *syms);
    bool ok = bytes && syms;
    for (size_t i = 0; ok && i < n;) {
        size_t len = pretoken_length(cps + i, n - i);
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
    .token_id = bpe_token_id,
    .id_token = bpe_id_token,
    .size = bpe_vocab_size,
    .tokenize = bpe_tokenize,
    .detokenize = bpe_detokenize,
    .free = bpe_free,
};

elang_status bpe_load(const char *vocab_path, const char *merges_path, subword_model *out,
                      elang_error *err) {
    bpe *b = calloc(1, sizeof *b);
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
