/* Thresholds: the outcome of every threshold over a run (the sweep), and
 * the one that meets an objective. A run already holds both models'
 * answers, so nothing here runs a model. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "eval/bootstrap.h"
#include "eval/pair_run.h"
#include "util/decimal.h"

elang_status elang_pair_run_ends(const elang_pair_run *r, elang_point *swift, elang_point *super,
                                 elang_error *err) {
    bool *on = malloc(sizeof(bool) * r->n);
    double sg = 0.0, pg = 0.0;
    for (size_t i = 0; i < r->n; i++) sg += r->items[i].swift_gflops, pg += r->items[i].super_gflops;
    *swift = (elang_point){.threshold = -INFINITY, .super_rate = 0.0, .gflops = sg / r->n, .metric = NAN};
    *super = (elang_point){.threshold = INFINITY, .super_rate = 1.0, .gflops = pg / r->n, .metric = NAN};
    if (!on) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
    elang_status st = ELANG_OK;
    for (int side = 0; side < 2 && st == ELANG_OK; side++) {
        for (size_t i = 0; i < r->n; i++) on[i] = side == 0;
        st = run_metric(r, on, side == 0 ? &swift->metric : &super->metric, err);
    }
    free(on);
    return st;
}

void elang_points_free(elang_point *points) { free(points); }

elang_status elang_at_threshold(const elang_pair_run *r, elang_score_kind kind, double threshold,
                                elang_point *out, elang_error *err) {
    if (check_score_kind(r, kind, err) != ELANG_OK) return ELANG_ERR_INVALID_ARG;
    bool *on = malloc(sizeof(bool) * r->n);
    if (!on) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
    const size_t routed = run_keep_mask(r, kind, threshold, on);
    out->threshold = threshold;
    out->super_rate = (double)routed / r->n;
    out->gflops = run_gflops(r, kind, on);
    elang_status st = run_metric(r, on, &out->metric, err);
    free(on);
    return st;
}

typedef struct {
    float score;
    size_t index;
} scored;

/* Highest first; NaN (a score that could not be computed, which the routing
 * rule never keeps on Swift) after every number, so that the order is total. */
static int by_score_desc(const void *a, const void *b) {
    const float x = ((const scored *)a)->score, y = ((const scored *)b)->score;
    if (isnan(x) || isnan(y)) return isnan(x) - isnan(y);
    return (x < y) - (x > y);
}

elang_status elang_sweep(const elang_pair_run *r, elang_score_kind kind, elang_point **points, size_t *count,
                         elang_error *err) {
    *points = NULL;
    *count = 0;
    if (check_score_kind(r, kind, err) != ELANG_OK) return ELANG_ERR_INVALID_ARG;
    const size_t n = r->n;
    scored *order = malloc(sizeof *order * n);
    bool *on = calloc(n, sizeof *on);
    elang_point *pts = malloc(sizeof *pts * (n + 1));
    if (!order || !on || !pts) {
        free(order), free(on), free(pts);
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for a sweep of %zu inputs", n);
    }
    for (size_t i = 0; i < n; i++) order[i] = (scored){r->items[i].scores[kind], i};
    qsort(order, n, sizeof *order, by_score_desc);
    size_t numbered = n; /* the scores that are numbers, the NaNs following them */
    while (numbered > 0 && isnan(order[numbered - 1].score)) numbered--;

    /* The first threshold lies just above the highest score; each later one
     * is the next distinct score. Swift keeps what the routing rule says at
     * each, which, the scores being sorted, is a growing prefix. */
    size_t m = 0, kept = 0;
    elang_status st = ELANG_OK;
    double threshold = numbered ? nextafter(order[0].score, INFINITY) : INFINITY;
    for (size_t next = 0;;) {
        while (kept < n && elang_keeps_swift(order[kept].score, threshold)) on[order[kept++].index] = true;
        pts[m] = (elang_point){.threshold = threshold, .super_rate = (double)(n - kept) / n,
                               .gflops = run_gflops(r, kind, on)};
        if ((st = run_metric(r, on, &pts[m].metric, err)) != ELANG_OK) break;
        m++;
        if (next == numbered) break;
        threshold = order[next].score;
        while (next < numbered && order[next].score == threshold) next++;
    }
    free(order), free(on);
    if (st != ELANG_OK) {
        free(pts);
        return st;
    }
    *points = pts;
    *count = m;
    return ELANG_OK;
}

/* What is wrong with an objective's value, or NULL (NaN fails every test). */
static const char *objective_problem(elang_objective_kind kind, double v) {
    switch (kind) {
    case ELANG_OBJ_MATCH_SUPER: return v >= 0.0 && v <= 1e9 ? NULL : "the tolerance must be a number >= 0";
    case ELANG_OBJ_SUPER_RATE: return v >= 0.0 && v <= 1.0 ? NULL : "the rate must be a number from 0 to 1";
    case ELANG_OBJ_BUDGET: return v > 0.0 && v <= 1e12 ? NULL : "the budget must be a positive number of GFLOPs";
    case ELANG_OBJ_MAX_METRIC: return v == 0.0 ? NULL : "max-metric takes no value";
    case ELANG_OBJ_MATCH_SUPER_BOOTSTRAP:
        return v > 0.0 && v <= 1.0 ? NULL : "the share of resamples must be a number above 0 and at most 1";
    }
    return "unknown kind of objective";
}

elang_status elang_objective_parse(const char *spec, elang_objective *out, elang_error *err) {
    static const struct {
        const char *name;
        elang_objective_kind kind;
        bool needs_value;
    } known[] = {
        {"match-super", ELANG_OBJ_MATCH_SUPER, false},
        {"match-super-bootstrap", ELANG_OBJ_MATCH_SUPER_BOOTSTRAP, true},
        {"super-rate", ELANG_OBJ_SUPER_RATE, true},
        {"budget", ELANG_OBJ_BUDGET, true},
        {"max-metric", ELANG_OBJ_MAX_METRIC, false},
    };
    const char *colon = strchr(spec, ':');
    const size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strlen(known[i].name) != len || strncmp(spec, known[i].name, len) != 0) continue;
        out->kind = known[i].kind;
        out->value = 0.0;
        if (!colon) {
            if (known[i].needs_value)
                return elang_fail(err, ELANG_ERR_INVALID_ARG, "objective %s needs a value, e.g. %s:%s", known[i].name,
                                  known[i].name, known[i].kind == ELANG_OBJ_BUDGET ? "1.5"
                                               : known[i].kind == ELANG_OBJ_SUPER_RATE ? "0.3" : "0.9");
            return ELANG_OK;
        }
        double v;
        if (!decimal_parse(colon + 1, -INFINITY, INFINITY, &v)) v = NAN;
        const char *problem = objective_problem(known[i].kind, known[i].kind == ELANG_OBJ_MAX_METRIC ? NAN : v);
        if (problem) return elang_fail(err, ELANG_ERR_INVALID_ARG, "objective \"%s\": %s", spec, problem);
        out->value = v;
        return ELANG_OK;
    }
    return elang_fail(err, ELANG_ERR_INVALID_ARG,
                      "unknown objective \"%s\" (use match-super[:EPS], match-super-bootstrap:SHARE, super-rate:P, "
                      "budget:GFLOPS or max-metric)",
                      spec);
}

/* Is a better than b for the objective? Among equals, less compute wins. */
static bool better(const elang_point *a, const elang_point *b, const elang_objective *obj, double super_metric) {
    switch (obj->kind) {
    case ELANG_OBJ_MATCH_SUPER: {
        const bool fa = a->metric >= super_metric - obj->value - 1e-12, fb = b->metric >= super_metric - obj->value - 1e-12;
        if (fa != fb) return fa;
        return a->gflops < b->gflops;
    }
    case ELANG_OBJ_SUPER_RATE: {
        const double da = fabs(a->super_rate - obj->value), db = fabs(b->super_rate - obj->value);
        if (da != db) return da < db;
        return a->gflops < b->gflops;
    }
    case ELANG_OBJ_MATCH_SUPER_BOOTSTRAP: /* chosen by bootstrap_choose, never compared here */
        return false;
    case ELANG_OBJ_BUDGET:
    case ELANG_OBJ_MAX_METRIC:
        if (a->metric != b->metric) return a->metric > b->metric;
        return a->gflops < b->gflops;
    }
    return false;
}

elang_status elang_choose(const elang_pair_run *r, elang_score_kind kind, const elang_objective *obj,
                          elang_point *out, elang_error *err) {
    const char *problem = objective_problem(obj->kind, obj->value);
    if (problem) return elang_fail(err, ELANG_ERR_INVALID_ARG, "objective (kind %d, value %g): %s", (int)obj->kind,
                                   obj->value, problem);
    elang_point *pts;
    size_t n;
    elang_status st = elang_sweep(r, kind, &pts, &n, err);
    if (st != ELANG_OK) return st;
    if (obj->kind == ELANG_OBJ_MATCH_SUPER_BOOTSTRAP) {
        st = bootstrap_choose(r, kind, pts, n, obj->value, out, err);
        free(pts);
        return st;
    }
    const double super_metric = pts[0].metric; /* the first point routes everything to Super */
    const elang_point *best = NULL;
    for (size_t i = 0; i < n; i++) {
        if (obj->kind == ELANG_OBJ_BUDGET && pts[i].gflops > obj->value + 1e-12) continue;
        if (!best || better(&pts[i], best, obj, super_metric)) best = &pts[i];
    }
    if (best) *out = *best;
    else
        st = elang_fail(err, ELANG_ERR_INVALID_ARG,
                        "budget %g GFLOPs is below the cheapest threshold's cost of %.4g GFLOPs per input (Swift's "
                        "own, unless some scores are NaN)", obj->value, pts[n - 1].gflops);
    free(pts);
    return st;
}
