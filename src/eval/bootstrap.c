/* Paired bootstrap over a run's inputs: choosing a threshold that matches
 * Super with some confidence, and how sure the data is of E-LANG's gap to
 * Super at a chosen one.
 *
 * On a
 * calibration set of n inputs, the metric of any routing is off from its
 * value on the whole task by sampling error of the order of 1/sqrt(n); the
 * plain match-super objective takes the cheapest point whose metric is at
 * least Super's on this one sample, which holds on new data about half the
 * time. Resampling the calibration inputs with replacement shows how often
 * a point would have matched Super on other samples like it; asking for a
 * share such as 0.9 buys that confidence with more inputs sent to Super.
 * Both metrics are taken on the same resample (paired), since Swift's and
 * Super's errors fall on the same hard inputs. */
#include "eval/bootstrap.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

static uint64_t next_random(uint64_t *x) {
    *x ^= *x >> 12, *x ^= *x << 25, *x ^= *x >> 27;
    return *x * 0x2545F4914F6CDD1Dull;
}

/* Resample b of n inputs under `seed`: n indices drawn uniformly from
 * 0..n-1, the same every time it is drawn again (each resample has a seed
 * of its own, so they are drawn when needed rather than kept: n x 1000 of
 * them would be gigabytes for a large set). Seed 0 gives the resamples the
 * committed calibrations were chosen on. */
static void draw_resample(uint64_t seed, size_t b, size_t n, size_t *pick) {
    uint64_t x = 0x9E3779B97F4A7C15ull * (b + 1) + 0x2545F4914F6CDD1Dull + 0xD1B54A32D192ED03ull * seed;
    if (x == 0) x = 1; /* xorshift's one fixed point */
    for (size_t k = 0; k < n; k++) pick[k] = (size_t)(((next_random(&x) >> 32) * (uint64_t)n) >> 32);
}

static bool matches(double elang, double super) {
    return elang >= super - 1e-12 || (isnan(elang) && isnan(super));
}

typedef struct {
    double gflops;
    size_t index;
} by_cost;

static int cheaper_first(const void *a, const void *b) {
    const by_cost *x = a, *y = b;
    if (x->gflops != y->gflops) return (x->gflops > y->gflops) - (x->gflops < y->gflops);
    return (x->index > y->index) - (x->index < y->index);
}

elang_status bootstrap_choose(const elang_pair_run *r, elang_score_kind kind, const elang_point *pts, size_t count,
                              double share, elang_point *out, elang_error *err) {
    if (!(share > 0.0 && share <= 1.0))
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "match-super-bootstrap: the share of resamples must be above 0 "
                          "and at most 1, not %g", share);
    const size_t n = r->n, need = (size_t)ceil(share * BOOTSTRAP_RESAMPLES - 1e-9);
    size_t *pick = malloc(sizeof *pick * n);
    double *super_metric = malloc(sizeof(double) * BOOTSTRAP_RESAMPLES);
    bool *on = calloc(n, sizeof *on);
    by_cost *order = malloc(sizeof *order * count);
    elang_status st = pick && super_metric && on && order
                          ? ELANG_OK
                          : elang_fail(err, ELANG_ERR_NOMEM, "out of memory for %d resamples of %zu inputs",
                                       BOOTSTRAP_RESAMPLES, n);
    for (size_t b = 0; st == ELANG_OK && b < BOOTSTRAP_RESAMPLES; b++) {
        draw_resample(0, b, n, pick);
        st = run_metric_of(r, r->metric, on, pick, n, &super_metric[b], err);
    }
    for (size_t p = 0; p < count && order; p++) order[p] = (by_cost){pts[p].gflops, p};
    if (order) qsort(order, count, sizeof *order, cheaper_first);
    const elang_point *chosen = NULL;
    for (size_t k = 0; st == ELANG_OK && !chosen && k < count; k++) {
        const elang_point *pt = &pts[order[k].index];
        run_keep_mask(r, kind, pt->threshold, on);
        size_t matched = 0;
        for (size_t b = 0; st == ELANG_OK && b < BOOTSTRAP_RESAMPLES && matched + (BOOTSTRAP_RESAMPLES - b) >= need;
             b++) {
            double metric;
            draw_resample(0, b, n, pick);
            st = run_metric_of(r, r->metric, on, pick, n, &metric, err);
            matched += st == ELANG_OK && matches(metric, super_metric[b]);
        }
        if (st == ELANG_OK && matched >= need) chosen = pt;
    }
    /* Not with a sweep from elang_sweep (its first point routes everything
     * to Super), but the caller may pass any points. */
    if (st == ELANG_OK && !chosen)
        st = elang_fail(err, ELANG_ERR_INVALID_ARG, "no threshold matches Super on %.3g of the resamples", share);
    if (chosen) *out = *chosen;
    free(pick), free(super_metric), free(on), free(order);
    return st;
}

/* The task's score as GLUE averages it: its main metric, or the mean of its
 * two where GLUE reports two (MRPC's and QQP's F1 and accuracy, STS-B's two
 * correlations); translation: BLEU. */
static elang_status glue_score_of(const elang_pair_run *r, const bool *on_swift, const size_t *pick, size_t m,
                                  double *out, elang_error *err) {
    if (!run_has_two_metrics(r)) return run_metric_of(r, r->metric, on_swift, pick, m, out, err);
    double a, b;
    elang_status st = run_metric_of(r, r->task->metrics[0], on_swift, pick, m, &a, err);
    if (st == ELANG_OK) st = run_metric_of(r, r->task->metrics[1], on_swift, pick, m, &b, err);
    if (st == ELANG_OK) *out = 0.5 * (a + b);
    return st;
}

static int ascending(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The spread of ELANG_GAP_RESAMPLES resampled differences d (reordered):
 * those that are not numbers (a metric undefined on that resample, such as
 * a correlation of constant answers) are left out. */
static void summarize(double *d, elang_gap *out) {
    size_t m = 0, at_least = 0;
    double sum = 0.0, sum_sq = 0.0;
    for (size_t b = 0; b < ELANG_GAP_RESAMPLES; b++)
        if (isfinite(d[b])) d[m++] = d[b], sum += d[b], sum_sq += d[b] * d[b], at_least += d[b] >= -1e-12;
    out->se = out->lo = out->hi = out->share_at_least = NAN;
    out->resamples = m;
    if (m == 0) return;
    out->share_at_least = (double)at_least / m;
    if (m < 2) return;
    const double mean = sum / m;
    out->se = sqrt(fmax(0.0, (sum_sq - m * mean * mean) / (m - 1)));
    /* The percentile interval: as many differences below lo as above hi,
     * 2.5% of them each. */
    qsort(d, m, sizeof *d, ascending);
    const size_t tail = (size_t)floor(0.025 * m);
    out->lo = d[tail], out->hi = d[m - 1 - tail];
}

/* The gap to Super of the routing that keeps input i on Swift when on[i]. */
static elang_status gap_of(const elang_pair_run *r, const bool *on, uint64_t seed, double *resampled,
                           elang_gap *out, elang_error *err) {
    const size_t n = r->n;
    size_t *pick = malloc(sizeof *pick * n);
    bool *none = calloc(n, sizeof *none);
    double *d = malloc(sizeof *d * ELANG_GAP_RESAMPLES);
    elang_status st = pick && none && d ? ELANG_OK
                                        : elang_fail(err, ELANG_ERR_NOMEM, "out of memory for %d resamples of %zu "
                                                     "inputs", ELANG_GAP_RESAMPLES, n);
    double elang, super;
    if (st == ELANG_OK) st = glue_score_of(r, on, NULL, n, &elang, err);
    if (st == ELANG_OK) st = glue_score_of(r, none, NULL, n, &super, err);
    for (size_t b = 0; st == ELANG_OK && b < ELANG_GAP_RESAMPLES; b++) {
        double e, s;
        draw_resample(seed, b, n, pick);
        st = glue_score_of(r, on, pick, n, &e, err);
        if (st == ELANG_OK) st = glue_score_of(r, none, pick, n, &s, err);
        if (st == ELANG_OK) d[b] = e - s;
    }
    if (st == ELANG_OK) {
        if (resampled) memcpy(resampled, d, sizeof *d * ELANG_GAP_RESAMPLES);
        out->difference = elang - super;
        summarize(d, out);
    }
    free(pick), free(none), free(d);
    return st;
}

elang_status elang_gap_to_super(const elang_pair_run *r, elang_score_kind kind, double threshold, uint64_t seed,
                                double *resampled, elang_gap *out, elang_error *err) {
    if (check_score_kind(r, kind, err) != ELANG_OK) return ELANG_ERR_INVALID_ARG;
    if (isnan(threshold)) return elang_fail(err, ELANG_ERR_INVALID_ARG, "the threshold is not a number");
    bool *on = malloc(sizeof *on * r->n);
    if (!on) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for %zu inputs", r->n);
    run_keep_mask(r, kind, threshold, on);
    const elang_status st = gap_of(r, on, seed, resampled, out, err);
    free(on);
    return st;
}

elang_status elang_swift_gap_to_super(const elang_pair_run *r, uint64_t seed, double *resampled, elang_gap *out,
                                      elang_error *err) {
    bool *on = malloc(sizeof *on * r->n);
    if (!on) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for %zu inputs", r->n);
    for (size_t i = 0; i < r->n; i++) on[i] = true;
    const elang_status st = gap_of(r, on, seed, resampled, out, err);
    free(on);
    return st;
}

elang_status elang_gap_of_mean(const double *const *resampled, size_t tasks, double difference, elang_gap *out,
                               elang_error *err) {
    if (tasks == 0) return elang_fail(err, ELANG_ERR_INVALID_ARG, "a mean over no tasks");
    double *d = malloc(sizeof *d * ELANG_GAP_RESAMPLES);
    if (!d) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for %d resamples", ELANG_GAP_RESAMPLES);
    for (size_t b = 0; b < ELANG_GAP_RESAMPLES; b++) {
        double sum = 0.0;
        for (size_t t = 0; t < tasks; t++) sum += resampled[t][b];
        d[b] = sum / tasks;
    }
    out->difference = difference;
    summarize(d, out);
    free(d);
    return ELANG_OK;
}
