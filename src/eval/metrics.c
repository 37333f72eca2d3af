#include "eval/metrics.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "util/error.h"

/* Records which element an error (already set) is about. */
static elang_status at_index(elang_error *err, size_t i, elang_status rc) {
    if (err) err->item = (long)i;
    return rc;
}

static elang_status check_n(size_t n, size_t min, elang_error *err) {
    if (n < min)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "%zu examples; the metric needs at least %zu", n,
                          min);
    return ELANG_OK;
}

static elang_status bad_class(elang_error *err, const char *what, size_t i, int v,
                              int num_classes) {
    return at_index(err, i, elang_fail(err, ELANG_ERR_INVALID_ARG, "%s %zu is %d; the classes are 0..%d",
                                       what, i, v, num_classes - 1));
}

static elang_status check_classes(const int *pred, const int *label, size_t n, int num_classes,
                                  elang_error *err) {
    for (size_t i = 0; i < n; i++) {
        if (pred[i] < 0 || pred[i] >= num_classes)
            return bad_class(err, "prediction", i, pred[i], num_classes);
        if (label[i] < 0 || label[i] >= num_classes)
            return bad_class(err, "label", i, label[i], num_classes);
    }
    return ELANG_OK;
}

static elang_status check_finite(const double *x, const double *y, size_t n, elang_error *err) {
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            return at_index(err, i, elang_fail(err, ELANG_ERR_INVALID_ARG,
                                               "value %zu is not a finite number (%g, %g)", i, x[i],
                                               y[i]));
    }
    return ELANG_OK;
}

elang_status metric_accuracy(const int *pred, const int *label, size_t n, double *out,
                             elang_error *err) {
    elang_status rc = check_n(n, 1, err);
    if (rc != ELANG_OK) return rc;
    size_t correct = 0;
    for (size_t i = 0; i < n; i++) correct += pred[i] == label[i];
    *out = (double)correct / (double)n;
    return ELANG_OK;
}

elang_status metric_f1(const int *pred, const int *label, size_t n, double *out,
                       elang_error *err) {
    elang_status rc = check_n(n, 1, err);
    if (rc == ELANG_OK) rc = check_classes(pred, label, n, 2, err);
    if (rc != ELANG_OK) return rc;
    size_t tp = 0, fp = 0, fn = 0;
    for (size_t i = 0; i < n; i++) {
        tp += pred[i] == 1 && label[i] == 1;
        fp += pred[i] == 1 && label[i] == 0;
        fn += pred[i] == 0 && label[i] == 1;
    }
    /* Equal to 2PR / (P + R) whenever that is defined. */
    size_t denom = 2 * tp + fp + fn;
    *out = denom ? 2.0 * (double)tp / (double)denom : 0.0;
    return ELANG_OK;
}

elang_status metric_mcc(const int *pred, const int *label, size_t n, int num_classes,
                        double *out, elang_error *err) {
    if (num_classes < 1)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "%d classes; need at least 1", num_classes);
    elang_status rc = check_n(n, 1, err);
    if (rc == ELANG_OK) rc = check_classes(pred, label, n, num_classes, err);
    if (rc != ELANG_OK) return rc;
    double *t_sum = calloc(2 * (size_t)num_classes, sizeof *t_sum);
    if (!t_sum) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for %d classes", num_classes);
    double *p_sum = t_sum + num_classes, correct = 0.0;
    for (size_t i = 0; i < n; i++) {
        t_sum[label[i]] += 1.0;
        p_sum[pred[i]] += 1.0;
        correct += pred[i] == label[i];
    }
    /* sklearn's form over the confusion matrix C: with t and p its row and
     * column sums (true and predicted counts per class) and s = n,
     * MCC = (c s - t.p) / sqrt((s^2 - p.p)(s^2 - t.t)). */
    double s = (double)n, tp = 0.0, pp = 0.0, tt = 0.0;
    for (int k = 0; k < num_classes; k++) {
        tp += t_sum[k] * p_sum[k];
        pp += p_sum[k] * p_sum[k];
        tt += t_sum[k] * t_sum[k];
    }
    free(t_sum);
    double cov_ytyp = correct * s - tp, cov_ypyp = s * s - pp, cov_ytyt = s * s - tt;
    *out = cov_ypyp * cov_ytyt == 0.0 ? 0.0 : cov_ytyp / sqrt(cov_ytyt * cov_ypyp);
    return ELANG_OK;
}

static bool is_constant(const double *x, size_t n) {
    for (size_t i = 1; i < n; i++)
        if (x[i] != x[0]) return false;
    return true;
}

/* Pearson's r of checked input, as scipy.stats.pearsonr: deviations from the
 * means, their normalised dot product, clipped to [-1, 1] against rounding. */
static double pearson(const double *x, const double *y, size_t n) {
    if (is_constant(x, n) || is_constant(y, n)) return NAN;
    double mx = 0.0, my = 0.0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0.0, sxx = 0.0, syy = 0.0;
    for (size_t i = 0; i < n; i++) {
        double dx = x[i] - mx, dy = y[i] - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    double r = sxy / (sqrt(sxx) * sqrt(syy));
    return r > 1.0 ? 1.0 : r < -1.0 ? -1.0 : r;
}

elang_status metric_pearson(const double *x, const double *y, size_t n, double *out,
                            elang_error *err) {
    elang_status rc = check_n(n, 2, err);
    if (rc == ELANG_OK) rc = check_finite(x, y, n, err);
    if (rc == ELANG_OK) *out = pearson(x, y, n);
    return rc;
}

typedef struct {
    double value;
    size_t index;
} ranked;

static int ranked_cmp(const void *a, const void *b) {
    double x = ((const ranked *)a)->value, y = ((const ranked *)b)->value;
    return (x > y) - (x < y);
}

/* scipy.stats.rankdata(method='average'): 1-based ranks, each group of
 * equal values getting the mean of the ranks it spans. */
static void average_ranks(const double *x, size_t n, ranked *scratch, double *rank) {
    for (size_t i = 0; i < n; i++) scratch[i] = (ranked){x[i], i};
    qsort(scratch, n, sizeof *scratch, ranked_cmp);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && scratch[j].value == scratch[i].value) j++;
        double r = (double)(i + 1 + j) / 2.0; /* mean of i+1 .. j */
        for (size_t k = i; k < j; k++) rank[scratch[k].index] = r;
        i = j;
    }
}

elang_status metric_spearman(const double *x, const double *y, size_t n, double *out,
                             elang_error *err) {
    elang_status rc = check_n(n, 2, err);
    if (rc == ELANG_OK) rc = check_finite(x, y, n, err);
    if (rc != ELANG_OK) return rc;
    double *ranks = malloc(2 * n * sizeof *ranks);
    ranked *scratch = malloc(n * sizeof *scratch);
    if (!ranks || !scratch) {
        rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory ranking %zu values", n);
    } else {
        average_ranks(x, n, scratch, ranks);
        average_ranks(y, n, scratch, ranks + n);
        *out = pearson(ranks, ranks + n, n);
    }
    free(ranks);
    free(scratch);
    return rc;
}
