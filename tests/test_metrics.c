/* GLUE metrics against scikit-learn's and SciPy's documented examples and
 * hand-computed cases (the arithmetic is in the comments). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "eval/metrics.h"

#define N(a) (sizeof(a) / sizeof *(a))

static void assert_close(double got, double want, double tol, const char *what) {
    if (!(fabs(got - want) <= tol)) fail_msg("%s: got %.17g, expected %.17g", what, got, want);
}

static double accuracy(const int *p, const int *l, size_t n) {
    double v;
    elang_error err = {0};
    if (metric_accuracy(p, l, n, &v, &err) != ELANG_OK) fail_msg("%s", err.message);
    return v;
}

static double f1(const int *p, const int *l, size_t n) {
    double v;
    elang_error err = {0};
    if (metric_f1(p, l, n, &v, &err) != ELANG_OK) fail_msg("%s", err.message);
    return v;
}

static double mcc(const int *p, const int *l, size_t n, int k) {
    double v;
    elang_error err = {0};
    if (metric_mcc(p, l, n, k, &v, &err) != ELANG_OK) fail_msg("%s", err.message);
    return v;
}

static double pearson(const double *x, const double *y, size_t n) {
    double v;
    elang_error err = {0};
    if (metric_pearson(x, y, n, &v, &err) != ELANG_OK) fail_msg("%s", err.message);
    return v;
}

static double spearman(const double *x, const double *y, size_t n) {
    double v;
    elang_error err = {0};
    if (metric_spearman(x, y, n, &v, &err) != ELANG_OK) fail_msg("%s", err.message);
    return v;
}

static void test_accuracy(void **state) {
    (void)state;
    /* 2 of 4 agree. */
    int pred[] = {1, 0, 1, 1}, label[] = {1, 1, 1, 0};
    assert_close(accuracy(pred, label, 4), 0.5, 0, "2/4");
    /* Any class ids: 3 classes, 5 of 7 agree. */
    int p3[] = {0, 1, 2, 2, 1, 0, 2}, l3[] = {0, 1, 2, 1, 1, 0, 0};
    assert_close(accuracy(p3, l3, N(p3)), 5.0 / 7.0, 1e-15, "5/7");
}

static void test_f1(void **state) {
    (void)state;
    /* tp = 2 (items 0, 4), fp = 1 (item 1), fn = 1 (item 2): P = R = 2/3,
     * F1 = 2PR / (P + R) = 2/3 = 2tp / (2tp + fp + fn) = 4/6. */
    int pred[] = {1, 1, 0, 0, 1}, label[] = {1, 0, 1, 0, 1};
    assert_close(f1(pred, label, N(pred)), 2.0 / 3.0, 1e-15, "P = R");
    /* tp = 1, fp = 3, fn = 0: P = 1/4, R = 1, F1 = 2 * 1/4 / (5/4) = 2/5. */
    int p2[] = {1, 1, 1, 1, 0}, l2[] = {1, 0, 0, 0, 0};
    assert_close(f1(p2, l2, N(p2)), 0.4, 1e-15, "P != R");
    /* No true positive: 0. */
    int p3[] = {1, 0}, l3[] = {0, 1};
    assert_close(f1(p3, l3, 2), 0.0, 0, "tp = 0");
    /* Neither a positive prediction nor a positive label: precision and
     * recall are 0/0, which sklearn's default zero_division ("warn")
     * scores 0. */
    int zeros[] = {0, 0, 0};
    assert_close(f1(zeros, zeros, 3), 0.0, 0, "0/0");
}

static void test_mcc(void **state) {
    (void)state;
    /* sklearn's matthews_corrcoef docstring: y_true [+1, +1, +1, -1],
     * y_pred [+1, -1, +1, +1] gives -0.33... (here -1 is class 0). By hand:
     * t = (1, 3), p = (1, 3), 2 correct of 4: (2*4 - 10) / sqrt((16 - 10)
     * (16 - 10)) = -1/3. */
    int label[] = {1, 1, 1, 0}, pred[] = {1, 0, 1, 1};
    assert_close(mcc(pred, label, 4, 2), -1.0 / 3.0, 1e-15, "sklearn docstring");
    /* Two classes: the usual (tp tn - fp fn) / sqrt((tp+fp)(tp+fn)(tn+fp)(tn+fn)).
     * tp = 3, tn = 2, fp = 1, fn = 2: (6 - 2) / sqrt(4 * 5 * 3 * 4). */
    int l2[] = {1, 1, 1, 1, 1, 0, 0, 0}, p2[] = {1, 1, 1, 0, 0, 0, 0, 1};
    assert_close(mcc(p2, l2, N(l2), 2), 4.0 / sqrt(240.0), 1e-15, "binary formula");
    /* A class that never occurs changes nothing (sklearn encodes only the
     * labels present). */
    assert_close(mcc(p2, l2, N(l2), 5), 4.0 / sqrt(240.0), 1e-15, "unused classes");
    /* Three classes. labels (0,0,0,1,2), predictions (0,0,1,1,1): true
     * counts t = (3,1,1), predicted p = (2,3,0), 3 correct of s = 5.
     * t.p = 6 + 3 + 0 = 9, p.p = 4 + 9 = 13, t.t = 9 + 1 + 1 = 11:
     * (3*5 - 9) / sqrt((25 - 13)(25 - 11)) = 6 / sqrt(168). */
    int l3[] = {0, 0, 0, 1, 2}, p3[] = {0, 0, 1, 1, 1};
    assert_close(mcc(p3, l3, N(l3), 3), 6.0 / sqrt(168.0), 1e-15, "three classes");
    /* Undefined (every prediction the same class): 0, as sklearn. */
    int same[] = {1, 1, 1, 1};
    assert_close(mcc(same, label, 4, 2), 0.0, 0, "constant predictions");
    assert_close(mcc(label, same, 4, 2), 0.0, 0, "constant labels");
    /* Perfect and inverted. */
    assert_close(mcc(label, label, 4, 2), 1.0, 1e-15, "perfect");
    int inverted[] = {0, 0, 0, 1};
    assert_close(mcc(inverted, label, 4, 2), -1.0, 1e-15, "inverted");
}

static void test_pearson(void **state) {
    (void)state;
    /* scipy.stats.pearsonr docstring: statistic=-0.828503883588428. */
    double x[] = {1, 2, 3, 4, 5, 6, 7}, y[] = {10, 9, 2.5, 6, 4, 3, 2};
    assert_close(pearson(x, y, N(x)), -0.828503883588428, 1e-14, "scipy docstring");
    /* By hand: x = (1, 2, 3), y = (1, 3, 2): deviations (-1, 0, 1) and
     * (-1, 1, 0), r = 1 / sqrt(2 * 2) = 0.5. */
    double a[] = {1, 2, 3}, b[] = {1, 3, 2};
    assert_close(pearson(a, b, 3), 0.5, 1e-15, "hand");
    /* Exactly linear: 1 (clipped against rounding). */
    double c[] = {0.1, 0.2, 0.3, 0.4}, d[] = {1.3, 2.3, 3.3, 4.3};
    assert_close(pearson(c, d, 4), 1.0, 1e-15, "linear");
    assert_true(pearson(c, d, 4) <= 1.0);
    /* Constant input: NaN, as SciPy returns (with a ConstantInputWarning). */
    double k[] = {2, 2, 2, 2};
    assert_true(isnan(pearson(c, k, 4)));
}

static void test_spearman(void **state) {
    (void)state;
    /* scipy.stats.spearmanr docstring: 0.8207826816681233. By hand: ranks of
     * y = (5, 6, 7, 8, 7) are (1, 2, 3.5, 5, 3.5) (the two 7s share ranks 3
     * and 4); against (1, ..., 5): deviations (-2, -1, 0, 1, 2) and (-2, -1,
     * 0.5, 2, 0.5), r = 8 / sqrt(10 * 9.5) = 8 / sqrt(95). */
    double x[] = {1, 2, 3, 4, 5}, y[] = {5, 6, 7, 8, 7};
    assert_close(spearman(x, y, 5), 0.8207826816681233, 1e-15, "scipy docstring");
    assert_close(spearman(x, y, 5), 8.0 / sqrt(95.0), 1e-15, "hand");
    /* Monotonic but not linear: 1. */
    double e[] = {1, 10, 100, 1000};
    assert_close(spearman(x, e, 4), 1.0, 1e-15, "monotonic");
    /* Ties on both sides: x ranks (1.5, 1.5, 3, 4), y ranks (1, 3, 3, 3):
     * deviations (-1, -1, 0.5, 1.5) and (-1.5, 0.5, 0.5, 0.5),
     * r = (1.5 - 0.5 + 0.25 + 0.75) / sqrt(4.5 * 3) = 2 / sqrt(13.5). */
    double tx[] = {3, 3, 4, 9}, ty[] = {0, 1, 1, 1};
    assert_close(spearman(tx, ty, 4), 2.0 / sqrt(13.5), 1e-15, "ties");
    double k[] = {2, 2, 2, 2};
    assert_true(isnan(spearman(x, k, 4)));
}

static void test_bad_input(void **state) {
    (void)state;
    elang_error err = {0};
    double v;
    int p[] = {0, 1, 3}, l[] = {0, 1, 1};
    assert_int_equal(metric_accuracy(p, l, 0, &v, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "0 examples"));
    assert_int_equal(metric_f1(p, l, 3, &v, &err), ELANG_ERR_INVALID_ARG);
    assert_string_equal(err.message, "prediction 2 is 3; the classes are 0..1");
    assert_int_equal(err.item, 2);
    assert_int_equal(metric_mcc(l, p, 3, 3, &v, &err), ELANG_ERR_INVALID_ARG);
    assert_string_equal(err.message, "label 2 is 3; the classes are 0..2");
    int neg[] = {0, -1};
    assert_int_equal(metric_mcc(neg, l, 2, 2, &v, &err), ELANG_ERR_INVALID_ARG);
    assert_string_equal(err.message, "prediction 1 is -1; the classes are 0..1");
    assert_int_equal(metric_mcc(l, l, 3, 0, &v, &err), ELANG_ERR_INVALID_ARG);

    double x[] = {1, 2, NAN}, y[] = {1, 2, 3};
    assert_int_equal(metric_pearson(x, y, 1, &v, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "at least 2"));
    assert_int_equal(metric_spearman(x, y, 3, &v, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "value 2 is not a finite number"));
    assert_int_equal(err.item, 2);
    y[1] = INFINITY;
    assert_int_equal(metric_pearson(y, y, 2, &v, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "value 1 is not a finite number"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accuracy), cmocka_unit_test(test_f1),
        cmocka_unit_test(test_mcc),      cmocka_unit_test(test_pearson),
        cmocka_unit_test(test_spearman), cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
