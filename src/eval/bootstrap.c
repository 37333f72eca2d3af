/* Choosing a threshold that matches Super with some confidence. On a
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

#include "util/error.h"

static uint64_t next_random(uint64_t *x) {
    *x ^= *x >> 12, *x ^= *x << 25, *x ^= *x >> 27;
    return *x * 0x2545F4914F6CDD1Dull;
}

/* Resample b of n inputs: n indices drawn uniformly from 0..n-1, the same
 * every time it is drawn again (each resample has a seed of its own, so
 * they are drawn when needed rather than kept: n x 1000 of them would be
 * gigabytes for a large set). */
static void draw_resample(size_t b, size_t n, size_t *pick) {
    uint64_t x = 0x9E3779B97F4A7C15ull * (b + 1) + 0x2545F4914F6CDD1Dull;
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
        draw_resample(b, n, pick);
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
            draw_resample(b, n, pick);
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
