#include "eval/chrf.h"

#include <stdbool.h>
#include <string.h>

#include "util/error.h"
#include "eval/ngram.h"
#include "util/unicode.h"

/* The code points of text without its whitespace: sacreBLEU's
 * ''.join(line.split()), so "a b" and "ab" have the same n-grams. */
static elang_status characters(const char *text, const char *what, i32vec *out,
                               elang_error *err) {
    size_t bad;
    if (!utf8_decode(text, strlen(text), out, &bad)) {
        if (bad == SIZE_MAX)
            return elang_fail(err, ELANG_ERR_NOMEM, "out of memory reading the %s", what);
        return elang_fail(err, ELANG_ERR_INPUT, "%s: invalid UTF-8 at byte offset %zu", what, bad);
    }
    size_t w = 0;
    for (size_t i = 0; i < out->len; i++)
        if (!uni_py_isspace(out->v[i])) out->v[w++] = out->v[i];
    out->len = w;
    return ELANG_OK;
}

elang_status chrf_sentence_stats(const char *hyp, const char *ref, chrf_stats *out,
                                 elang_error *err) {
    i32vec h = {0}, r = {0};
    chrf_stats s = {0};
    elang_status rc = characters(hyp, "hypothesis", &h, err);
    if (rc == ELANG_OK) rc = characters(ref, "reference", &r, err);
    if (rc == ELANG_OK && !ngram_matches(h.v, h.len, r.v, r.len, CHRF_CHAR_ORDER, s.match))
        rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory counting n-grams");
    if (rc == ELANG_OK) {
        for (int n = 1; n <= CHRF_CHAR_ORDER; n++) {
            s.ref[n - 1] = ngram_count(r.len, n);
            /* CHRF._get_match_statistics: "hyp_count if ref_ngrams else 0". */
            s.hyp[n - 1] = s.ref[n - 1] > 0 ? ngram_count(h.len, n) : 0;
        }
        *out = s;
    }
    i32vec_free(&h);
    i32vec_free(&r);
    return rc;
}

void chrf_stats_add(chrf_stats *acc, const chrf_stats *s) {
    for (int n = 0; n < CHRF_CHAR_ORDER; n++) {
        acc->hyp[n] += s->hyp[n];
        acc->ref[n] += s->ref[n];
        acc->match[n] += s->match[n];
    }
}

void chrf_stats_sub(chrf_stats *acc, const chrf_stats *s) {
    for (int n = 0; n < CHRF_CHAR_ORDER; n++) {
        acc->hyp[n] -= s->hyp[n];
        acc->ref[n] -= s->ref[n];
        acc->match[n] -= s->match[n];
    }
}

double chrf_from_stats(const chrf_stats *s) {
    /* Precision and recall are averaged over the orders where both sides
     * have n-grams (sacreBLEU's "effective order"), then combined. */
    double avg_p = 0.0, avg_r = 0.0;
    int orders = 0;
    for (int n = 0; n < CHRF_CHAR_ORDER; n++) {
        if (s->hyp[n] > 0 && s->ref[n] > 0) {
            avg_p += (double)s->match[n] / (double)s->hyp[n];
            avg_r += (double)s->match[n] / (double)s->ref[n];
            orders++;
        }
    }
    if (orders == 0) return 0.0;
    avg_p /= orders;
    avg_r /= orders;
    if (avg_p + avg_r == 0.0) return 0.0;
    double factor = CHRF_BETA * CHRF_BETA;
    return 100.0 * ((1 + factor) * avg_p * avg_r / (factor * avg_p + avg_r));
}

elang_status chrf_corpus(const char *const *hyps, const char *const *refs, size_t n,
                         chrf_stats *total, elang_error *err) {
    chrf_stats sum = {0}, s;
    for (size_t i = 0; i < n; i++) {
        elang_status rc = chrf_sentence_stats(hyps[i], refs[i], &s, err);
        if (rc != ELANG_OK) {
            elang_error_prefix(err, rc, "segment %zu: ", i + 1);
            return elang_error_item(err, rc, (long)i);
        }
        chrf_stats_add(&sum, &s);
    }
    *total = sum;
    return ELANG_OK;
}
