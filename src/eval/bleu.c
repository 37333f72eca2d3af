#include "eval/bleu.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "eval/ngram.h"
#include "util/unicode.h"

/* ------------------------------------------------------------------ 13a */

static bool ascii_at(const i32vec *v, size_t at, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (v->v[at + i] != (unsigned char)s[i]) return false;
    return true;
}

/* Python's str.replace(from, to), in place: left to right, matches not
 * overlapping. `from` is ASCII and `to` one character (or none when 0),
 * never longer, so the result fits where the text was. */
static void replace_all(i32vec *v, const char *from, int32_t to) {
    size_t m = strlen(from), w = 0;
    for (size_t r = 0; r < v->len;) {
        if (r + m <= v->len && ascii_at(v, r, from, m)) {
            if (to) v->v[w++] = to;
            r += m;
        } else {
            v->v[w++] = v->v[r++];
        }
    }
    v->len = w;
}

static bool contains(const i32vec *v, int32_t c) {
    for (size_t i = 0; i < v->len; i++)
        if (v->v[i] == c) return true;
    return false;
}

/* The class [{-~[-` -&(-+:-@/] of the first 13a rule: space and the ASCII
 * symbols other than ' , - . */
static bool is_13a_symbol(int32_t c) {
    return (c >= '{' && c <= '~') || (c >= '[' && c <= '`') || (c >= ' ' && c <= '&') ||
           (c >= '(' && c <= '+') || (c >= ':' && c <= '@') || c == '/';
}

static bool is_digit(int32_t c) { return c >= '0' && c <= '9'; } /* [0-9]: ASCII only */
static bool is_period_or_comma(int32_t c) { return c == '.' || c == ','; }

/* The other three rules, each a two-character pattern `(x)(y)`. */
typedef enum {
    PERIOD_AFTER_NONDIGIT,  /* ([^0-9])([\.,]) -> "\1 \2 " */
    PERIOD_BEFORE_NONDIGIT, /* ([\.,])([^0-9]) -> " \1 \2" */
    DASH_AFTER_DIGIT        /* ([0-9])(-)      -> "\1 \2 " */
} pair_rule;

static bool pair_matches(pair_rule r, int32_t x, int32_t y) {
    switch (r) {
    case PERIOD_AFTER_NONDIGIT: return !is_digit(x) && is_period_or_comma(y);
    case PERIOD_BEFORE_NONDIGIT: return is_period_or_comma(x) && !is_digit(y);
    case DASH_AFTER_DIGIT: return is_digit(x) && y == '-';
    }
    return false;
}

/* re.sub of one pair rule from in to out: the leftmost match wins and
 * consumes both characters, so the scan resumes after y. */
static bool apply_pair_rule(pair_rule r, const i32vec *in, i32vec *out) {
    out->len = 0;
    bool ok = i32vec_reserve(out, 2 * in->len);
    const int32_t *s = in->v;
    for (size_t i = 0; ok && i < in->len;) {
        if (i + 1 < in->len && pair_matches(r, s[i], s[i + 1])) {
            if (r == PERIOD_BEFORE_NONDIGIT) out->v[out->len++] = ' ';
            out->v[out->len++] = s[i];
            out->v[out->len++] = ' ';
            out->v[out->len++] = s[i + 1];
            if (r != PERIOD_BEFORE_NONDIGIT) out->v[out->len++] = ' ';
            i += 2;
        } else {
            out->v[out->len++] = s[i++];
        }
    }
    return ok;
}

/* sacreBLEU's BLEU._preprocess_segment + Tokenizer13a + TokenizerRegexp on
 * code points: out gets the tokens joined by single spaces. False when out
 * of memory. */
static bool tokenize_13a(const int32_t *text, size_t n, i32vec *out) {
    i32vec a = {0}, b = {0};
    bool ok = i32vec_reserve(&a, n + 2);
    if (ok) {
        /* line.rstrip(), then the language-independent part. */
        while (n > 0 && uni_py_isspace(text[n - 1])) n--;
        a.v[a.len++] = ' ';
        for (size_t i = 0; i < n; i++) a.v[a.len++] = text[i];
        replace_all(&a, "<skipped>", 0);
        replace_all(&a, "-\n", 0);
        replace_all(&a, "\n", ' ');
        /* One pass per entity in this order, so "&amp;lt;" becomes "<"
         * while "&amp;quot;" stays "&quot;". */
        if (contains(&a, '&')) {
            replace_all(&a, "&quot;", '"');
            replace_all(&a, "&amp;", '&');
            replace_all(&a, "&lt;", '<');
            replace_all(&a, "&gt;", '>');
        }
        a.v[a.len++] = ' '; /* the line is tokenized as f' {line} ' */
    }
    ok = ok && i32vec_reserve(&b, 3 * a.len);
    for (size_t i = 0; ok && i < a.len; i++) {
        if (is_13a_symbol(a.v[i])) {
            b.v[b.len++] = ' ';
            b.v[b.len++] = a.v[i];
            b.v[b.len++] = ' ';
        } else {
            b.v[b.len++] = a.v[i];
        }
    }
    ok = ok && apply_pair_rule(PERIOD_AFTER_NONDIGIT, &b, &a) &&
         apply_pair_rule(PERIOD_BEFORE_NONDIGIT, &a, &b) && apply_pair_rule(DASH_AFTER_DIGIT, &b, &a);
    /* ' '.join(line.split()): any Unicode whitespace separates tokens. */
    out->len = 0;
    ok = ok && i32vec_reserve(out, a.len);
    for (size_t i = 0; ok && i < a.len; i++) {
        if (!uni_py_isspace(a.v[i]))
            out->v[out->len++] = a.v[i];
        else if (out->len > 0 && out->v[out->len - 1] != ' ')
            out->v[out->len++] = ' ';
    }
    if (ok && out->len > 0 && out->v[out->len - 1] == ' ') out->len--;
    i32vec_free(&a);
    i32vec_free(&b);
    return ok;
}

static elang_status decode(const char *text, const char *what, i32vec *out, elang_error *err) {
    size_t bad;
    if (utf8_decode(text, strlen(text), out, &bad)) return ELANG_OK;
    if (bad == SIZE_MAX) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory reading the %s", what);
    return elang_fail(err, ELANG_ERR_INPUT, "%s: invalid UTF-8 at byte offset %zu", what, bad);
}

elang_status bleu_tokenize_13a(const char *text, char **out, elang_error *err) {
    i32vec cps = {0}, tokens = {0};
    elang_status rc = decode(text, "text", &cps, err);
    if (rc == ELANG_OK && !tokenize_13a(cps.v, cps.len, &tokens))
        rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory tokenizing");
    if (rc == ELANG_OK) {
        *out = malloc(4 * tokens.len + 1);
        if (!*out) {
            rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory tokenizing");
        } else {
            (*out)[utf8_encode(tokens.v, tokens.len, *out, NULL)] = '\0';
        }
    }
    i32vec_free(&cps);
    i32vec_free(&tokens);
    return rc;
}

/* ------------------------------------------------------------- n-grams */

typedef struct {
    const int32_t *s;
    size_t len;
    size_t slot; /* where its id goes */
} token;

static int token_cmp(const void *x, const void *y) {
    const token *a = x, *b = y;
    size_t n = a->len < b->len ? a->len : b->len;
    for (size_t i = 0; i < n; i++)
        if (a->s[i] != b->s[i]) return a->s[i] < b->s[i] ? -1 : 1;
    return (a->len > b->len) - (a->len < b->len);
}

/* Appends the space-separated tokens of t to v[*count..]; a token's slot is
 * its position in v, which is where its id will go. */
static void collect_tokens(const i32vec *t, token *v, size_t *count) {
    for (size_t i = 0; i < t->len;) {
        size_t j = i;
        while (j < t->len && t->v[j] != ' ') j++;
        v[*count] = (token){t->v + i, j - i, *count};
        (*count)++;
        i = j + 1;
    }
}

static size_t count_tokens(const i32vec *t) {
    size_t n = t->len > 0;
    for (size_t i = 0; i < t->len; i++) n += t->v[i] == ' ';
    return n;
}

/* Numbers the tokens of both texts so that equal tokens get equal ids:
 * ids[0..nh) for the hypothesis, ids[nh..nh+nr) for the reference. */
static bool intern_tokens(const i32vec *hyp, const i32vec *ref, int32_t **ids, size_t *nh,
                          size_t *nr) {
    *nh = count_tokens(hyp);
    *nr = count_tokens(ref);
    size_t n = *nh + *nr;
    token *v = malloc((n ? n : 1) * sizeof *v);
    *ids = malloc((n ? n : 1) * sizeof **ids);
    if (!v || !*ids) {
        free(v);
        free(*ids);
        *ids = NULL;
        return false;
    }
    size_t count = 0;
    collect_tokens(hyp, v, &count);
    collect_tokens(ref, v, &count);
    qsort(v, n, sizeof *v, token_cmp);
    int32_t id = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && token_cmp(&v[i - 1], &v[i]) != 0) id++;
        (*ids)[v[i].slot] = id;
    }
    free(v);
    return true;
}

elang_status bleu_sentence_stats(const char *hyp, const char *ref, bleu_stats *out,
                                 elang_error *err) {
    i32vec text = {0}, tokens[2] = {{0}};
    int32_t *ids = NULL;
    const char *in[2] = {hyp, ref}, *what[2] = {"hypothesis", "reference"};
    elang_status rc = ELANG_OK;
    for (int k = 0; k < 2 && rc == ELANG_OK; k++) {
        text.len = 0;
        rc = decode(in[k], what[k], &text, err);
        if (rc == ELANG_OK && !tokenize_13a(text.v, text.len, &tokens[k]))
            rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory tokenizing the %s", what[k]);
    }
    size_t nh, nr;
    if (rc == ELANG_OK && !intern_tokens(&tokens[0], &tokens[1], &ids, &nh, &nr))
        rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory counting n-grams");
    bleu_stats s = {0};
    if (rc == ELANG_OK && !ngram_matches(ids, nh, ids + nh, nr, BLEU_MAX_ORDER, s.correct))
        rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory counting n-grams");
    if (rc == ELANG_OK) {
        s.hyp_len = (int64_t)nh;
        s.ref_len = (int64_t)nr;
        for (int n = 1; n <= BLEU_MAX_ORDER; n++) s.total[n - 1] = ngram_count(nh, n);
        *out = s;
    }
    free(ids);
    i32vec_free(&text);
    i32vec_free(&tokens[0]);
    i32vec_free(&tokens[1]);
    return rc;
}

/* --------------------------------------------------------------- score */

void bleu_stats_add(bleu_stats *acc, const bleu_stats *s) {
    acc->hyp_len += s->hyp_len;
    acc->ref_len += s->ref_len;
    for (int n = 0; n < BLEU_MAX_ORDER; n++) {
        acc->correct[n] += s->correct[n];
        acc->total[n] += s->total[n];
    }
}

void bleu_stats_sub(bleu_stats *acc, const bleu_stats *s) {
    acc->hyp_len -= s->hyp_len;
    acc->ref_len -= s->ref_len;
    for (int n = 0; n < BLEU_MAX_ORDER; n++) {
        acc->correct[n] -= s->correct[n];
        acc->total[n] -= s->total[n];
    }
}

bleu_result bleu_from_stats(const bleu_stats *s) {
    bleu_result r = {.bp = 1.0};
    double hyp_len = (double)s->hyp_len, ref_len = (double)s->ref_len;
    r.ratio = s->ref_len ? hyp_len / ref_len : 0.0;
    if (s->hyp_len < s->ref_len) r.bp = s->hyp_len > 0 ? exp(1.0 - ref_len / hyp_len) : 0.0;
    /* No match of any order scores 0 (sacreBLEU issue #141). */
    bool any = false;
    for (int n = 0; n < BLEU_MAX_ORDER; n++) any |= s->correct[n] != 0;
    if (!any) return r;
    double halvings = 1.0, log_sum = 0.0;
    for (int n = 0; n < BLEU_MAX_ORDER; n++) {
        /* An order without n-grams (all segments shorter than n) stops
         * sacreBLEU's loop; its zero precision, whose log is floored at
         * -9999999999, makes the score 0. */
        if (s->total[n] == 0) return r;
        double total = (double)s->total[n];
        if (s->correct[n] == 0) {
            /* 'exp' smoothing (mteval-v13a): 1 / 2^k for the k-th order
             * without a match. */
            halvings *= 2.0;
            r.precisions[n] = 100.0 / (halvings * total);
        } else {
            r.precisions[n] = 100.0 * (double)s->correct[n] / total;
        }
        log_sum += log(r.precisions[n]);
    }
    r.score = r.bp * exp(log_sum / BLEU_MAX_ORDER);
    return r;
}

elang_status bleu_corpus(const char *const *hyps, const char *const *refs, size_t n,
                         bleu_stats *total, elang_error *err) {
    bleu_stats sum = {0}, s;
    for (size_t i = 0; i < n; i++) {
        elang_status rc = bleu_sentence_stats(hyps[i], refs[i], &s, err);
        if (rc != ELANG_OK) {
            elang_error_prefix(err, rc, "segment %zu: ", i + 1);
            return elang_error_item(err, rc, (long)i);
        }
        bleu_stats_add(&sum, &s);
    }
    *total = sum;
    return ELANG_OK;
}
