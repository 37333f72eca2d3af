/* Corpus BLEU and chrF against sacreBLEU 2.x (default settings).
 *
 * sacreBLEU cannot be installed here, so the expected numbers come from:
 * - numbers sacreBLEU itself publishes for single-reference inputs (its
 *   test/test_bleu.py, test/test_sentence_bleu.py, test/test_chrf.py) and
 *   the Hugging Face `datasets` chrF metric card, which runs sacreBLEU's
 *   CHRF with its defaults; each is cited where used;
 * - small cases computed by hand, the arithmetic in the comments;
 * - tests/data/bleu_chrf_expected.jsonl, written by
 *   tools/reference/bleu_ref.py: a stdlib-only Python reference that first
 *   reproduces every published sacreBLEU number (including the multi-
 *   reference README example, BLEU 48.530827 and chrF2 59.73), then scores
 *   a deterministic corruption of Multi30k's test_2016_flickr.de and WMT21's
 *   newstest2021.en-de.de against the files themselves. It holds the 13a
 *   tokenization of edge-case strings, every sentence's statistics and the
 *   corpus scores; the sentences are re-read from shared/data here.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eval/bleu.h"
#include "eval/chrf.h"
#include "support.h"

#define EXPECTED "tests/data/bleu_chrf_expected.jsonl"

static bleu_stats stats_of(const char *hyp, const char *ref) {
    bleu_stats s;
    elang_error err = {0};
    if (bleu_sentence_stats(hyp, ref, &s, &err) != ELANG_OK) fail_msg("%s", err.message);
    return s;
}

static double corpus_bleu(const char *const *hyps, const char *const *refs, size_t n) {
    bleu_stats total;
    elang_error err = {0};
    if (bleu_corpus(hyps, refs, n, &total, &err) != ELANG_OK) fail_msg("%s", err.message);
    return bleu_from_stats(&total).score;
}

static double corpus_chrf(const char *const *hyps, const char *const *refs, size_t n) {
    chrf_stats total;
    elang_error err = {0};
    if (chrf_corpus(hyps, refs, n, &total, &err) != ELANG_OK) fail_msg("%s", err.message);
    return chrf_from_stats(&total);
}

static void assert_close(double got, double want, double tol, const char *what) {
    if (!(fabs(got - want) <= tol)) fail_msg("%s: got %.12f, expected %.12f", what, got, want);
}

/* ------------------------------------------------------------------ BLEU */

static void test_bleu_published_statistics(void **state) {
    (void)state;
    /* sacreBLEU test/test_bleu.py test_case_statistics: counts [4, 2, 1, 0],
     * totals [6, 5, 4, 3]. By hand: the hypothesis has 6 tokens, the
     * reference 8; matches: unigrams am, I, a, sequence (am twice but once
     * in the reference, a once in the hypothesis) = 4; bigrams "I am",
     * "am a" = 2; trigram "I am a" = 1. */
    bleu_stats s = stats_of("am I am a character sequence", "I am a symbol string sequence a a");
    assert_int_equal(s.hyp_len, 6);
    assert_int_equal(s.ref_len, 8);
    const int64_t correct[] = {4, 2, 1, 0}, total[] = {6, 5, 4, 3};
    for (int n = 0; n < BLEU_MAX_ORDER; n++) {
        assert_int_equal(s.correct[n], correct[n]);
        assert_int_equal(s.total[n], total[n]);
    }
    /* Precisions 4/6, 2/5, 1/4 and, 'exp' smoothing the first order
     * without a match, 1/(2*3); product 2/3 * 2/5 * 1/4 * 1/6 = 1/90.
     * BP = exp(1 - 8/6). */
    bleu_result r = bleu_from_stats(&s);
    assert_close(r.bp, exp(-1.0 / 3.0), 1e-15, "bp");
    assert_close(r.precisions[3], 100.0 / 6.0, 1e-12, "smoothed precision");
    assert_close(r.score, 100.0 * exp(-1.0 / 3.0) * pow(1.0 / 90.0, 0.25), 1e-12, "score");
    assert_close(r.ratio, 6.0 / 8.0, 1e-15, "ratio");

    /* test_bleu.py test_case_scoring: compute_bleu(correct [9, 7, 5, 3],
     * total [10, 8, 6, 4], sys_len 11, ref_len 11) = 0.8375922397 (x100). */
    bleu_stats scoring = {11, 11, {9, 7, 5, 3}, {10, 8, 6, 4}};
    assert_close(bleu_from_stats(&scoring).score, 83.75922397, 1e-6, "test_case_scoring");
}

static void test_bleu_hand_computed(void **state) {
    (void)state;
    /* "a b c d" against "a b c e": matches 3/4, 2/3, 1/2 and no 4-gram,
     * smoothed to 1/(2*1). Score 100 * (3/4 * 2/3 * 1/2 * 1/2)^(1/4)
     * = 100 * 0.125^0.25 = 59.4603557501..., equal lengths so BP = 1. */
    const char *h1[] = {"a b c d"}, *r1[] = {"a b c e"};
    assert_close(corpus_bleu(h1, r1, 1), 100.0 * pow(0.125, 0.25), 1e-12, "exp smoothing");

    /* A second order without matches halves again: "a x b y c" against
     * "a b c" has 3 unigram matches of 5 and no longer match; precisions
     * 3/5, 1/(2*4), 1/(4*3), 1/(8*2); BP = 1 (5 >= 3). */
    const char *h2[] = {"a x b y c"}, *r2[] = {"a b c"};
    double want = 100.0 * pow(0.6 * (1.0 / 8) * (1.0 / 12) * (1.0 / 16), 0.25);
    assert_close(corpus_bleu(h2, r2, 1), want, 1e-12, "two halvings");

    /* A corpus whose segments all have fewer than 4 tokens has no 4-grams:
     * sacreBLEU stops at the empty order and scores 0, even for a perfect
     * match (its precisions up to that order are kept). */
    const char *h3[] = {"a b c"};
    bleu_result r = bleu_from_stats(&(bleu_stats){3, 3, {3, 2, 1, 0}, {3, 2, 1, 0}});
    assert_close(corpus_bleu(h3, h3, 1), 0.0, 0, "no 4-grams");
    assert_close(r.precisions[2], 100.0, 0, "precision before the empty order");

    /* Statistics add up across segments: the two segments above, scored
     * together, have correct [3+3, 2+0, 1+0, 0], total [4+5, 3+4, 2+3, 1+2],
     * precisions 6/9, 2/7, 1/5 and, smoothed, 1/(2*3). */
    const char *h4[] = {"a b c d", "a x b y c"}, *r4[] = {"a b c e", "a b c"};
    want = 100.0 * pow((6.0 / 9) * (2.0 / 7) * (1.0 / 5) * (1.0 / 6), 0.25);
    assert_close(corpus_bleu(h4, r4, 2), want, 1e-12, "two segments");
}

static void test_bleu_published_scores(void **state) {
    (void)state;
    /* sacreBLEU test/test_sentence_bleu.py (issue #98): 8.493 with 'exp'
     * smoothing and 13a (the test enables effective order, which changes
     * nothing here: the hypothesis has 4-grams). ";" is split off and the
     * Romanian letters are kept whole. */
    const char *h[] = {"Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;"};
    const char *r[] = {"producţia de zahăr brut se exprimă în zahăr alb;"};
    assert_close(corpus_bleu(h, r, 1), 8.493, 1e-3, "issue 98");

    /* test_bleu.py test_raw_bleu_cases[0] and test_sentence_bleu.py
     * (issue #141): no matching n-gram at all scores 0. */
    const char *h0[] = {"this is a test", "another test"}, *r0[] = {"ref1", "ref2"};
    assert_close(corpus_bleu(h0, r0, 2), 0.0, 0, "no match");
    const char *h1[] = {"this is a cat"}, *r1[] = {"okay thanks"};
    assert_close(corpus_bleu(h1, r1, 1), 0.0, 0, "issue 141");

    /* test_bleu.py: empty hypotheses are kept and score 0; BP is 0. */
    bleu_stats s = stats_of("", "The dog bit the man.");
    assert_int_equal(s.hyp_len, 0);
    assert_int_equal(s.ref_len, 6);
    bleu_result res = bleu_from_stats(&s);
    assert_close(res.score, 0.0, 0, "empty hypothesis");
    assert_close(res.bp, 0.0, 0, "empty hypothesis bp");
}

static void test_bleu_add_sub(void **state) {
    (void)state;
    bleu_stats a = stats_of("the cat sat on the mat", "the cat is on the mat");
    bleu_stats b = stats_of("a dog , barking .", "the dog barks .");
    bleu_stats sum = {0};
    bleu_stats_add(&sum, &a);
    bleu_stats_add(&sum, &b);
    bleu_stats_sub(&sum, &a);
    assert_memory_equal(&sum, &b, sizeof b);
}

/* Lines of a shared/data file as sacreBLEU reads them (split on "\n"),
 * pointing into *data. */
static char **read_lines(const char *rel, char **data, size_t *n) {
    size_t len;
    *data = read_file_all(shared_path(rel), &len);
    char **lines = malloc((len + 1) * sizeof *lines);
    size_t count = 0;
    for (char *p = *data; *p;) {
        char *e = strchr(p, '\n');
        lines[count++] = p;
        if (!e) break;
        *e = '\0';
        p = e + 1;
    }
    *n = count;
    return lines;
}

/* bleu_ref.py's corrupt(): every 10th line empty; otherwise the words
 * (split on single spaces) without every 5th, the first two swapped on
 * every 3rd line. */
static char *corrupt(const char *ref, size_t i) {
    char *out = calloc(strlen(ref) + 1, 1);
    if (i % 10 == 9) return out;
    const char *word[1024];
    size_t wlen[1024], n = 0, k = 0;
    for (const char *p = ref;; k++) {
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (k % 5 != 4) {
            if (n == 1024) fail_msg("line %zu has too many words", i + 1);
            word[n] = p;
            wlen[n++] = len;
        }
        if (!e) break;
        p = e + 1;
    }
    if (i % 3 == 0 && n >= 2) {
        const char *w = word[0];
        size_t l = wlen[0];
        word[0] = word[1], wlen[0] = wlen[1];
        word[1] = w, wlen[1] = l;
    }
    for (size_t j = 0; j < n; j++) {
        if (j) strcat(out, " ");
        strncat(out, word[j], wlen[j]);
    }
    return out;
}

static void assert_ints(const json_t *want, const int64_t *got, size_t n, const char *what) {
    if (json_array_size(want) != n) fail_msg("%s: expected %zu numbers", what, n);
    for (size_t i = 0; i < n; i++) {
        json_int_t w = json_integer_value(json_array_get(want, i));
        if (got[i] != w) fail_msg("%s: number %zu is %lld, expected %lld", what, i, (long long)got[i], (long long)w);
    }
}

static void test_tokenize_13a(void **state) {
    (void)state;
    size_t n, checked = 0;
    json_t **rows = read_jsonl(EXPECTED, &n);
    for (size_t r = 0; r < n; r++) {
        const char *text = json_string_value(json_object_get(rows[r], "tokenize"));
        if (!text) continue;
        char *got;
        elang_error err = {0};
        if (bleu_tokenize_13a(text, &got, &err) != ELANG_OK) fail_msg("%s", err.message);
        const char *want = json_string_value(json_object_get(rows[r], "tokens"));
        if (strcmp(got, want) != 0) fail_msg("13a of \"%s\":\n got \"%s\"\nwant \"%s\"", text, got, want);
        free(got);
        checked++;
    }
    assert_true(checked >= 10);
    free_jsonl(rows, n);
}

/* Every sentence's BLEU and chrF statistics, and the corpus scores, for
 * both corrupted corpora. */
static void test_corpora_against_reference(void **state) {
    (void)state;
    size_t n;
    json_t **rows = read_jsonl(EXPECTED, &n);
    char *data = NULL, **refs = NULL, **hyps = NULL, loaded[128] = "";
    size_t nlines = 0, sentences = 0, corpora = 0;
    bleu_stats bleu_total = {0};
    chrf_stats chrf_total = {0};
    for (size_t r = 0; r < n; r++) {
        const char *file = json_string_value(json_object_get(rows[r], "file"));
        if (!file) continue;
        if (strcmp(file, loaded) != 0) {
            snprintf(loaded, sizeof loaded, "%s", file);
            char rel[160];
            snprintf(rel, sizeof rel, "data/%s", file);
            refs = read_lines(rel, &data, &nlines);
            hyps = malloc(nlines * sizeof *hyps);
            for (size_t i = 0; i < nlines; i++) hyps[i] = corrupt(refs[i], i);
        }
        const json_t *corpus_bleu_value = json_object_get(rows[r], "corpus_bleu");
        if (corpus_bleu_value) {
            double want_bleu = json_real_value(corpus_bleu_value);
            double want_chrf = json_real_value(json_object_get(rows[r], "corpus_chrf"));
            assert_close(bleu_from_stats(&bleu_total).score, want_bleu, 1e-9, file);
            assert_close(chrf_from_stats(&chrf_total), want_chrf, 1e-9, file);
            /* The one-call corpus functions agree with the summed sentences. */
            const char *const *h = (const char *const *)hyps, *const *rf = (const char *const *)refs;
            assert_close(corpus_bleu(h, rf, nlines), want_bleu, 1e-9, file);
            assert_close(corpus_chrf(h, rf, nlines), want_chrf, 1e-9, file);
            print_message("%s: %zu lines, BLEU %.4f chrF %.4f as the reference\n", file, nlines,
                          want_bleu, want_chrf);
            for (size_t i = 0; i < nlines; i++) free(hyps[i]);
            free(hyps);
            free(refs);
            free(data);
            bleu_total = (bleu_stats){0};
            chrf_total = (chrf_stats){0};
            corpora++;
            continue;
        }
        size_t line = (size_t)json_integer_value(json_object_get(rows[r], "line"));
        if (line < 1 || line > nlines) fail_msg("%s has no line %zu", file, line);
        char what[200];
        snprintf(what, sizeof what, "%s line %zu", file, line);
        elang_error err = {0};
        bleu_stats b;
        chrf_stats c;
        if (bleu_sentence_stats(hyps[line - 1], refs[line - 1], &b, &err) != ELANG_OK ||
            chrf_sentence_stats(hyps[line - 1], refs[line - 1], &c, &err) != ELANG_OK)
            fail_msg("%s: %s", what, err.message);
        int64_t flat_bleu[2 + 2 * BLEU_MAX_ORDER] = {b.hyp_len, b.ref_len};
        int64_t flat_chrf[3 * CHRF_CHAR_ORDER];
        for (int k = 0; k < BLEU_MAX_ORDER; k++) {
            flat_bleu[2 + k] = b.correct[k];
            flat_bleu[2 + BLEU_MAX_ORDER + k] = b.total[k];
        }
        for (int k = 0; k < CHRF_CHAR_ORDER; k++) {
            flat_chrf[3 * k] = c.hyp[k];
            flat_chrf[3 * k + 1] = c.ref[k];
            flat_chrf[3 * k + 2] = c.match[k];
        }
        assert_ints(json_object_get(rows[r], "bleu"), flat_bleu, 2 + 2 * BLEU_MAX_ORDER, what);
        assert_ints(json_object_get(rows[r], "chrf"), flat_chrf, 3 * CHRF_CHAR_ORDER, what);
        bleu_stats_add(&bleu_total, &b);
        chrf_stats_add(&chrf_total, &c);
        sentences++;
    }
    assert_int_equal(corpora, 2);
    assert_int_equal(sentences, 1000 + 1002);
    free_jsonl(rows, n);
}

/* ------------------------------------------------------------------ chrF */

static chrf_stats chrf_of(const char *hyp, const char *ref) {
    chrf_stats s;
    elang_error err = {0};
    if (chrf_sentence_stats(hyp, ref, &s, &err) != ELANG_OK) fail_msg("%s", err.message);
    return s;
}

static void test_chrf_published(void **state) {
    (void)state;
    /* The Hugging Face `datasets` chrF metric card (sacreBLEU's CHRF with
     * its defaults, one reference per hypothesis). */
    const char *h[] = {"The relationship between cats and dogs is not exactly friendly.",
                       "a good bookshop is just a genteel black hole that knows how to read."};
    const char *r[] = {"The relationship between dogs and cats is not exactly friendly.",
                       "A good bookshop is just a genteel Black Hole that knows how to read."};
    assert_close(corpus_chrf(h, r, 2), 84.64214891738334, 1e-9, "metric card, 2 segments");
    const char *h1[] = {"The relationship between Obama and Netanyahu is not exactly friendly."};
    const char *r1[] = {"The ties between Obama and Netanyahu are not particularly friendly."};
    assert_close(corpus_chrf(h1, r1, 1), 61.576379378113785, 1e-9, "metric card, 1 segment");

    /* sacreBLEU test/test_chrf.py test_cases_effective_order (run there with
     * beta 3; each of these is independent of beta, since precision equals
     * recall or the score is 0 or 100). */
    struct {
        const char *h[2], *r[2];
        size_t n;
        double want;
    } cases[] = {
        {{"a"}, {"a"}, 1, 100.0},         {{""}, {"reference"}, 1, 0.0},
        {{"a b c"}, {"a b c"}, 1, 100.0}, {{"a b c"}, {"abc"}, 1, 100.0},
        {{""}, {"c"}, 1, 0.0},            {{"a", "b"}, {"a", "c"}, 2, 50.0},
        {{"aa"}, {"ab"}, 1, 25.0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char what[64];
        snprintf(what, sizeof what, "test_chrf.py case %zu", i + 1);
        assert_close(corpus_chrf(cases[i].h, cases[i].r, cases[i].n), cases[i].want, 1e-4, what);
    }
}

static void test_chrf_hand_computed(void **state) {
    (void)state;
    /* "aa" against "ab": order 1 has hyp {a:2}, ref {a:1, b:1}, 1 match;
     * order 2 has "aa" against "ab", no match; the reference has no longer
     * n-grams, so neither side counts any. Averages over the 2 orders:
     * P = R = (1/2 + 0) / 2 = 1/4, and F = 25 for any beta. */
    chrf_stats s = chrf_of("aa", "ab");
    const int64_t hyp[] = {2, 1, 0, 0, 0, 0}, ref[] = {2, 1, 0, 0, 0, 0}, match[] = {1, 0, 0, 0, 0, 0};
    assert_memory_equal(s.hyp, hyp, sizeof hyp);
    assert_memory_equal(s.ref, ref, sizeof ref);
    assert_memory_equal(s.match, match, sizeof match);
    assert_close(chrf_from_stats(&s), 25.0, 1e-12, "aa/ab");

    /* Characters are code points: "ä ö ü" is 3 characters once whitespace
     * is removed (6 bytes). The hypothesis "äöüx" has 4, 3, 2, 1 n-grams
     * of orders 1..4 but the reference "äöü" has none of order 4, so the
     * hypothesis counts 0 there. Matches 3, 2, 1: P = (3/4 + 2/3 + 1/2)/3
     * = 23/36, R = 1; F2 = 5PR / (4P + R) = 5 * 23/36 / (92/36 + 1)
     * = 115/128 = 89.84375 %. */
    s = chrf_of("äöüx", "ä ö ü");
    const int64_t hyp2[] = {4, 3, 2, 0, 0, 0}, ref2[] = {3, 2, 1, 0, 0, 0}, match2[] = {3, 2, 1, 0, 0, 0};
    assert_memory_equal(s.hyp, hyp2, sizeof hyp2);
    assert_memory_equal(s.ref, ref2, sizeof ref2);
    assert_memory_equal(s.match, match2, sizeof match2);
    assert_close(chrf_from_stats(&s), 100.0 * 115.0 / 128.0, 1e-12, "code points");

    /* Unicode whitespace (NBSP, U+3000) is removed as Python's split() does. */
    assert_close(corpus_chrf((const char *[]){"a\u00a0b\u3000c"}, (const char *[]){"abc"}, 1), 100.0,
                 1e-12, "Unicode whitespace");

    chrf_stats sum = {0}, other = chrf_of("abc", "abd");
    chrf_stats_add(&sum, &s);
    chrf_stats_add(&sum, &other);
    chrf_stats_sub(&sum, &s);
    assert_memory_equal(&sum, &other, sizeof other);
}

/* ------------------------------------------------------------ bad input */

static void test_invalid_utf8(void **state) {
    (void)state;
    elang_error err = {0};
    bleu_stats b;
    chrf_stats c;
    assert_int_equal(bleu_sentence_stats("caf\xe9", "cafe", &b, &err), ELANG_ERR_INPUT);
    assert_non_null(strstr(err.message, "hypothesis: invalid UTF-8 at byte offset 3"));
    assert_int_equal(chrf_sentence_stats("cafe", "ab\xc0\xafx", &c, &err), ELANG_ERR_INPUT);
    assert_non_null(strstr(err.message, "reference: invalid UTF-8 at byte offset 2"));

    const char *hyps[] = {"fine", "fine too"}, *refs[] = {"ok", "bad \xed\xa0\x80 surrogate"};
    bleu_stats bt;
    assert_int_equal(bleu_corpus(hyps, refs, 2, &bt, &err), ELANG_ERR_INPUT);
    assert_string_equal(err.message, "segment 2: reference: invalid UTF-8 at byte offset 4");
    assert_int_equal(err.item, 1);
    chrf_stats ct;
    assert_int_equal(chrf_corpus(refs, hyps, 2, &ct, &err), ELANG_ERR_INPUT);
    assert_string_equal(err.message, "segment 2: hypothesis: invalid UTF-8 at byte offset 4");

    char *tok;
    assert_int_equal(bleu_tokenize_13a("\xff", &tok, &err), ELANG_ERR_INPUT);
    assert_non_null(strstr(err.message, "invalid UTF-8 at byte offset 0"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bleu_published_statistics),
        cmocka_unit_test(test_bleu_hand_computed),
        cmocka_unit_test(test_bleu_published_scores),
        cmocka_unit_test(test_bleu_add_sub),
        cmocka_unit_test(test_tokenize_13a),
        cmocka_unit_test(test_corpora_against_reference),
        cmocka_unit_test(test_chrf_published),
        cmocka_unit_test(test_chrf_hand_computed),
        cmocka_unit_test(test_invalid_utf8),
    };
    return cmocka_run_group_tests_name("bleu", tests, NULL, NULL);
}
