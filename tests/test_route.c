/* The router: every score against hand-computed values, aggregation,
 * objectives, the threshold sweep and report numbers on a hand-built run,
 * calibration files, and routing decisions on the fixture models matching
 * the scores computed from the fixtures' own logits. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/model_internal.h"
#include "models/generate.h"
#include "eval/pair_run.h"
#include "route/aggregate.h"
#include "support.h"

static void close_to(double got, double want, double tol, const char *what) {
    if (!(fabs(got - want) <= tol)) fail_msg("%s: got %.12g, want %.12g", what, got, want);
}

/* Logits [1, 2, 3]; the expected values were computed with Python's math
 * module from the definitions: T log sum exp(f/T); T log sum exp(p/T) with
 * p = softmax(f); max p; -(-sum p log p); p1 - p2. */
static void scores_match_definitions(void **s) {
    (void)s;
    const float logits[3] = {1, 2, 3};
    float out[ELANG_DIST_SCORES];
    elang_scores(logits, 3, 1.0, out);
    close_to(out[ELANG_SCORE_ENERGY], 3.40760596444438, 1e-5, "energy T=1");
    close_to(out[ELANG_SCORE_SOFTMAX_ENERGY], 1.4624312895588099, 1e-5, "softmax-energy T=1");
    close_to(out[ELANG_SCORE_MAXPROB], 0.6652409557748219, 1e-6, "maxprob");
    close_to(out[ELANG_SCORE_ENTROPY], -0.8323955818399389, 1e-6, "negated entropy");
    close_to(out[ELANG_SCORE_MARGIN], 0.4205124847200242, 1e-6, "margin");
    elang_scores(logits, 3, 2.0, out);
    close_to(out[ELANG_SCORE_ENERGY], 4.360539341283469, 1e-5, "energy T=2");
    close_to(out[ELANG_SCORE_SOFTMAX_ENERGY], 2.545594685894455, 1e-5, "softmax-energy T=2");
    /* Excluded tokens (-inf) take no probability. */
    const float masked[4] = {1, 2, 3, -INFINITY};
    elang_scores(masked, 4, 1.0, out);
    close_to(out[ELANG_SCORE_ENERGY], 3.40760596444438, 1e-5, "energy with a banned token");
    close_to(out[ELANG_SCORE_MAXPROB], 0.6652409557748219, 1e-6, "maxprob with a banned token");
    /* Every kind: higher means surer. A peaked distribution beats a flat one. */
    const float flat[3] = {0, 0, 0}, peaked[3] = {0, 0, 5};
    float f[ELANG_DIST_SCORES], p[ELANG_DIST_SCORES];
    elang_scores(flat, 3, 1.0, f);
    elang_scores(peaked, 3, 1.0, p);
    for (int k = 0; k < ELANG_DIST_SCORES; k++) assert_true(p[k] > f[k]);
}

static void names_round_trip(void **s) {
    (void)s;
    for (int k = 0; k < ELANG_SCORE_KINDS; k++) {
        elang_score_kind back;
        assert_true(elang_score_from_name(elang_score_name((elang_score_kind)k), &back));
        assert_int_equal(back, k);
    }
    elang_score_kind k;
    assert_false(elang_score_from_name("confidence", &k));
    assert_null(elang_score_name(ELANG_SCORE_KINDS));
    elang_aggregation a;
    assert_true(elang_aggregation_from_name("min", &a));
    assert_int_equal(a, ELANG_AGG_MIN);
    assert_false(elang_aggregation_from_name("max", &a));
}

static void aggregation_by_hand(void **s) {
    (void)s;
    /* Two scores a step (stride 2); kind 1 holds 3, 1, 2. */
    const float steps[6] = {0, 3, 0, 1, 0, 2};
    close_to(aggregate_steps(steps, 3, 2, 1, ELANG_AGG_MEAN), 2.0, 1e-12, "mean");
    close_to(aggregate_steps(steps, 3, 2, 1, ELANG_AGG_MIN), 1.0, 1e-12, "min");
    close_to(aggregate_steps(steps, 3, 2, 1, ELANG_AGG_SUM), 6.0, 1e-12, "sum");
    close_to(aggregate_steps(steps, 3, 2, 1, ELANG_AGG_FIRST), 3.0, 1e-12, "first");
    close_to(aggregate_steps(steps, 3, 2, 1, ELANG_AGG_PROMPT), 3.0, 1e-12, "prompt");
    close_to(aggregate_steps(steps, 0, 2, 1, ELANG_AGG_MEAN), 0.0, 1e-12, "empty");
}

static void random_score_is_fixed_and_uniform(void **s) {
    (void)s;
    double sum = 0.0;
    int below_tenth = 0;
    for (uint64_t i = 0; i < 20000; i++) {
        const double r = random_score(7, i);
        assert_true(r >= 0.0 && r < 1.0);
        assert_true(r == random_score(7, i));
        sum += r;
        below_tenth += r < 0.1;
    }
    close_to(sum / 20000, 0.5, 0.01, "mean of uniform scores");
    assert_true(below_tenth > 1800 && below_tenth < 2200);
    assert_true(random_score(7, 1) != random_score(8, 1));
}

static void objectives_parse(void **s) {
    (void)s;
    elang_objective o;
    elang_error err;
    assert_int_equal(elang_objective_parse("match-super", &o, &err), ELANG_OK);
    assert_int_equal(o.kind, ELANG_OBJ_MATCH_SUPER);
    close_to(o.value, 0.0, 0, "default eps");
    assert_int_equal(elang_objective_parse("match-super:0.005", &o, &err), ELANG_OK);
    close_to(o.value, 0.005, 1e-15, "eps");
    assert_int_equal(elang_objective_parse("super-rate:0.3", &o, &err), ELANG_OK);
    assert_int_equal(o.kind, ELANG_OBJ_SUPER_RATE);
    assert_int_equal(elang_objective_parse("budget:1.5", &o, &err), ELANG_OK);
    assert_int_equal(o.kind, ELANG_OBJ_BUDGET);
    assert_int_equal(elang_objective_parse("max-metric", &o, &err), ELANG_OK);
    assert_int_equal(elang_objective_parse("match-super-bootstrap:0.9", &o, &err), ELANG_OK);
    assert_int_equal(o.kind, ELANG_OBJ_MATCH_SUPER_BOOTSTRAP);
    close_to(o.value, 0.9, 1e-15, "share");
    const char *bad[] = {"super-rate", "super-rate:1.5", "budget:0", "budget:-1", "budget:abc", "max-metric:1",
                         "fastest", "match-super:", "match-super:-0.1", "match-super-bootstrap",
                         "match-super-bootstrap:0", "match-super-bootstrap:1.01", "match-super-bootstrap:x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(elang_objective_parse(bad[i], &o, &err), ELANG_ERR_INVALID_ARG);
        assert_true(strlen(err.message) > 10);
    }
}

/* Six inputs of a 2-class task, built by hand:
 *   i  score  label  swift  super  swift GF  super GF
 *   0   0.9     1      1      1       1        10
 *   1   0.8     0      0      0       1        10
 *   2   0.7     1      0      1       1        10     Swift wrong, Super right
 *   3   0.6     0      0      1       1        10     Swift right, Super wrong
 *   4   0.2     1      0      1       1        10     Swift wrong, Super right
 *   5   0.1     0      1      0       1        10     Swift wrong, Super right
 * Swift accuracy 3/6, Super 5/6. */
static elang_pair_run *hand_run(void) {
    static const struct { float score; int label, swift, super; } rows[6] = {
        {0.9f, 1, 1, 1}, {0.8f, 0, 0, 0}, {0.7f, 1, 0, 1}, {0.6f, 0, 0, 1}, {0.2f, 1, 0, 1}, {0.1f, 0, 1, 0},
    };
    const task_def *t;
    assert_int_equal(task_find("sst2", &t, NULL), ELANG_OK);
    elang_pair_run *r = calloc(1, sizeof *r);
    r->kind = RUN_CLASSES;
    r->task = t;
    r->metric = TASK_METRIC_ACCURACY;
    r->n = 6;
    r->items = calloc(6, sizeof *r->items);
    r->opts = elang_route_opts_default();
    r->swift_dir = strdup("swift-model"), r->super_dir = strdup("super-model");
    r->swift_seconds = 0.6, r->super_seconds = 6.0;
    for (int i = 0; i < 6; i++) {
        run_item *it = &r->items[i];
        for (int k = 0; k < ELANG_SCORE_KINDS; k++) it->scores[k] = rows[i].score;
        it->label = rows[i].label, it->swift_pred = rows[i].swift, it->super_pred = rows[i].super;
        it->swift_gflops = 1.0, it->super_gflops = 10.0;
        it->item = (size_t)i;
    }
    return r;
}

/* A score that is not a number (a model whose outputs overflowed) goes to
 * Super at every threshold, and the sweep still ends: once looping forever
 * past the end of its points. */
static void sweep_with_nan_scores(void **s) {
    (void)s;
    elang_pair_run *r = hand_run();
    r->items[1].scores[ELANG_SCORE_ENERGY] = NAN;
    r->items[4].scores[ELANG_SCORE_ENERGY] = NAN;
    elang_point *p;
    size_t n;
    elang_error err;
    assert_int_equal(elang_sweep(r, ELANG_SCORE_ENERGY, &p, &n, &err), ELANG_OK);
    assert_int_equal(n, 5); /* all on Super, then the four numbered scores one by one */
    for (size_t i = 0; i < n; i++) close_to(p[i].super_rate, (6.0 - i) / 6.0, 1e-12, "super rate");
    close_to(p[4].threshold, 0.1f, 1e-7, "the lowest numbered score");
    elang_points_free(p);
    for (int i = 0; i < 6; i++) r->items[i].scores[ELANG_SCORE_ENERGY] = NAN;
    assert_int_equal(elang_sweep(r, ELANG_SCORE_ENERGY, &p, &n, &err), ELANG_OK);
    assert_int_equal(n, 1);
    close_to(p[0].super_rate, 1.0, 1e-12, "no score: everything on Super");
    elang_points_free(p);
    elang_pair_run_free(r);
}

static void sweep_by_hand(void **s) {
    (void)s;
    elang_pair_run *r = hand_run();
    elang_point *p;
    size_t n;
    elang_error err;
    assert_int_equal(elang_sweep(r, ELANG_SCORE_ENERGY, &p, &n, &err), ELANG_OK);
    /* All on Super, then one more input kept on Swift per distinct score. */
    assert_int_equal(n, 7);
    const double want_metric[7] = {5 / 6.0, 5 / 6.0, 5 / 6.0, 4 / 6.0, 5 / 6.0, 4 / 6.0, 3 / 6.0};
    for (size_t i = 0; i < n; i++) {
        close_to(p[i].super_rate, (6.0 - i) / 6.0, 1e-12, "super rate");
        close_to(p[i].metric, want_metric[i], 1e-12, "metric");
        close_to(p[i].gflops, 1.0 + 10.0 * (6.0 - i) / 6.0, 1e-12, "gflops");
    }
    assert_true(p[0].threshold > 0.9f);
    close_to(p[3].threshold, 0.7f, 1e-7, "threshold keeping three");

    elang_point c;
    elang_objective o = {ELANG_OBJ_MATCH_SUPER, 0.0};
    assert_int_equal(elang_choose(r, ELANG_SCORE_ENERGY, &o, &c, &err), ELANG_OK);
    /* Keeping inputs 0..3 on Swift still gives 5/6: the cheapest match. */
    close_to(c.super_rate, 2 / 6.0, 1e-12, "match-super rate");
    close_to(c.threshold, 0.6f, 1e-7, "match-super threshold");
    o = (elang_objective){ELANG_OBJ_MATCH_SUPER, 0.2};
    assert_int_equal(elang_choose(r, ELANG_SCORE_ENERGY, &o, &c, &err), ELANG_OK);
    close_to(c.super_rate, 1 / 6.0, 1e-12, "match-super:0.2 rate"); /* 4/6 >= 5/6 - 0.2 */
    o = (elang_objective){ELANG_OBJ_SUPER_RATE, 0.5};
    assert_int_equal(elang_choose(r, ELANG_SCORE_ENERGY, &o, &c, &err), ELANG_OK);
    close_to(c.super_rate, 0.5, 1e-12, "super-rate");
    o = (elang_objective){ELANG_OBJ_BUDGET, 3.0};
    assert_int_equal(elang_choose(r, ELANG_SCORE_ENERGY, &o, &c, &err), ELANG_OK);
    close_to(c.gflops, 1.0 + 10.0 / 6.0, 1e-12, "budget: best under 3 GFLOPs");
    o = (elang_objective){ELANG_OBJ_BUDGET, 0.5};
    assert_int_equal(elang_choose(r, ELANG_SCORE_ENERGY, &o, &c, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "below the cheapest threshold's cost"));
    o = (elang_objective){ELANG_OBJ_MAX_METRIC, 0.0};
    assert_int_equal(elang_choose(r, ELANG_SCORE_ENERGY, &o, &c, &err), ELANG_OK);
    close_to(c.metric, 5 / 6.0, 1e-12, "max metric");
    close_to(c.super_rate, 2 / 6.0, 1e-12, "max metric at least compute");

    elang_point sw, su, at;
    assert_int_equal(elang_pair_run_ends(r, &sw, &su, &err), ELANG_OK);
    close_to(sw.metric, 0.5, 1e-12, "Swift alone");
    close_to(su.metric, 5 / 6.0, 1e-12, "Super alone");
    assert_int_equal(elang_at_threshold(r, ELANG_SCORE_ENERGY, 0.65, &at, &err), ELANG_OK);
    close_to(at.super_rate, 3 / 6.0, 1e-12, "at 0.65: inputs 3, 4, 5 go to Super");
    close_to(at.gflops, 1.0 + 10.0 * 3 / 6.0, 1e-12, "at 0.65: Swift on all, Super on half");
    /* Deciding on the first step (the prompt), a routed input costs Swift
     * its prompt alone, a kept one its prompt and then its whole answer,
     * decoded from the start again. */
    for (size_t i = 0; i < r->n; i++) r->items[i].decision_gflops[ELANG_DECIDE_ON_FIRST_STEP] = 0.25;
    r->decision[ELANG_SCORE_ENERGY] = ELANG_DECIDE_ON_FIRST_STEP;
    assert_int_equal(elang_at_threshold(r, ELANG_SCORE_ENERGY, 0.65, &at, &err), ELANG_OK);
    close_to(at.gflops, (3 * (0.25 + 1.0) + 3 * (0.25 + 10.0)) / 6.0, 1e-12, "at 0.65, prompt decisions");
    r->decision[ELANG_SCORE_ENERGY] = ELANG_DECIDE_AFTER_DECODING;
    elang_points_free(p);
    elang_pair_run_free(r);
}

/* A metric of a resample counts each picked input as often as it is
 * picked. On the hand-built run (see its table): inputs {2, 2, 5} are all
 * right on Super and all wrong on Swift; {0, 3, 3} all right on Swift and
 * 1/3 on Super. As a regression (Pearson), two distinct points correlate
 * perfectly, and one point repeated has no correlation at all (NaN). */
static void metric_of_resample(void **s) {
    (void)s;
    elang_pair_run *r = hand_run();
    elang_error err;
    bool swift[6] = {true, true, true, true, true, true}, super[6] = {false};
    const size_t a[3] = {2, 2, 5}, b[3] = {0, 3, 3}, c[3] = {4, 4, 4};
    double m;
    assert_int_equal(run_metric_of(r, r->metric, super, a, 3, &m, &err), ELANG_OK);
    close_to(m, 1.0, 1e-12, "{2,2,5} on Super");
    assert_int_equal(run_metric_of(r, r->metric, swift, a, 3, &m, &err), ELANG_OK);
    close_to(m, 0.0, 1e-12, "{2,2,5} on Swift");
    assert_int_equal(run_metric_of(r, r->metric, swift, b, 3, &m, &err), ELANG_OK);
    close_to(m, 1.0, 1e-12, "{0,3,3} on Swift");
    assert_int_equal(run_metric_of(r, r->metric, super, b, 3, &m, &err), ELANG_OK);
    close_to(m, 1 / 3.0, 1e-12, "{0,3,3} on Super");
    r->kind = RUN_REGRESSION;
    r->metric = TASK_METRIC_PEARSON;
    for (int i = 0; i < 6; i++) r->items[i].target = i, r->items[i].super_value = 10.0 - i;
    assert_int_equal(run_metric_of(r, r->metric, super, b, 3, &m, &err), ELANG_OK);
    close_to(m, -1.0, 1e-12, "{0,3,3}: Super's values fall as the targets rise");
    assert_int_equal(run_metric_of(r, r->metric, super, c, 3, &m, &err), ELANG_OK);
    assert_true(isnan(m));
    elang_pair_run_free(r);
}

/* match-super-bootstrap on the hand-built run. Keeping the i most
 * confident inputs on Swift matches Super on a resample of the six (counts
 * c0..c5) when: i = 6, c3 >= c2 + c4 + c5 (probability 0.204, by
 * enumerating all 6^6 resamples); i = 5, c3 >= c2 + c4 (0.378); i = 4,
 * c3 >= c2 (0.642); i = 3, c2 = 0 (0.335); i = 2, always (inputs 0 and 1
 * get the same answer from both). The cheapest point at or above each share
 * follows; the shares stay far from those probabilities, which 1000
 * resamples estimate to about 0.015. */
static void bootstrap_objective_by_hand(void **s) {
    (void)s;
    elang_pair_run *r = hand_run();
    elang_error err;
    elang_point c;
    const struct { double share, super_rate; } want[] = {
        {0.1, 0 / 6.0}, {0.3, 1 / 6.0}, {0.5, 2 / 6.0}, {0.8, 4 / 6.0}, {1.0, 4 / 6.0},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        elang_objective o = {ELANG_OBJ_MATCH_SUPER_BOOTSTRAP, want[i].share};
        assert_int_equal(elang_choose(r, ELANG_SCORE_ENERGY, &o, &c, &err), ELANG_OK);
        close_to(c.super_rate, want[i].super_rate, 1e-12, "match-super-bootstrap rate");
    }
    /* A Swift right wherever Super is, and on input 5 besides: every
     * resample is matched with everything kept on Swift. */
    r->items[2].swift_pred = r->items[4].swift_pred = 1;
    r->items[3].super_pred = 0;
    r->items[5].swift_pred = 0, r->items[5].super_pred = 1;
    elang_objective o = {ELANG_OBJ_MATCH_SUPER_BOOTSTRAP, 1.0};
    assert_int_equal(elang_choose(r, ELANG_SCORE_ENERGY, &o, &c, &err), ELANG_OK);
    close_to(c.super_rate, 0.0, 1e-12, "a better Swift keeps all");
    /* A share the parser would refuse, passed straight to the library. */
    const double bad_shares[] = {0.0, 1.5, NAN};
    for (size_t i = 0; i < 3; i++) {
        o.value = bad_shares[i];
        assert_int_equal(elang_choose(r, ELANG_SCORE_ENERGY, &o, &c, &err), ELANG_ERR_INVALID_ARG);
        assert_non_null(strstr(err.message, "share of resamples"));
    }
    elang_pair_run_free(r);
}

/* E-LANG's gap to Super by paired bootstrap on the hand-built run. All
 * on Swift (threshold 0), the gap on a resample with counts c0..c5 is
 * (c3 - c2 - c4 - c5) / 6: exactly -1/3 on the six, standard deviation
 * sqrt(6 (4/6 - 1/9)) / 6 = 0.3043, at least 0 with probability 0.2040,
 * and (enumerating all 6^6 resamples) below -5/6 with probability 0.016
 * and above 1/6 with 0.033, above 2/6 with 0.009: the 95% interval runs
 * from -5/6 to 1/6 or 2/6. All on Super (threshold 1), E-LANG is Super. */
static void gap_to_super_by_hand(void **s) {
    (void)s;
    elang_pair_run *r = hand_run();
    elang_error err;
    elang_gap g;
    double *a = malloc(sizeof(double) * ELANG_GAP_RESAMPLES), *b = malloc(sizeof(double) * ELANG_GAP_RESAMPLES);
    assert_int_equal(elang_gap_to_super(r, ELANG_SCORE_ENERGY, 0.0, 7, a, &g, &err), ELANG_OK);
    close_to(g.difference, -1 / 3.0, 1e-12, "all on Swift: gap");
    close_to(g.se, 0.3043, 0.025, "all on Swift: spread");
    close_to(g.share_at_least, 0.2040, 0.04, "all on Swift: share at least Super");
    close_to(g.lo, -5 / 6.0, 1e-12, "all on Swift: 2.5th percentile");
    if (!(fabs(g.hi - 1 / 6.0) < 1e-12 || fabs(g.hi - 2 / 6.0) < 1e-12)) fail_msg("97.5th percentile %g", g.hi);
    /* The interval's ends are the 26th smallest and the 26th largest of the
     * 1000 resampled gaps: at most 25 beyond each, at least 26 at or beyond. */
    size_t below = 0, to_lo = 0, above = 0, to_hi = 0;
    double mean = 0.0;
    for (size_t k = 0; k < ELANG_GAP_RESAMPLES; k++) {
        below += a[k] < g.lo - 1e-12, to_lo += a[k] <= g.lo + 1e-12;
        above += a[k] > g.hi + 1e-12, to_hi += a[k] >= g.hi - 1e-12;
        mean += a[k] / ELANG_GAP_RESAMPLES;
    }
    if (below > 25 || to_lo < 26 || above > 25 || to_hi < 26)
        fail_msg("interval [%g, %g]: %zu below, %zu at or below, %zu above, %zu at or above", g.lo, g.hi, below, to_lo,
                 above, to_hi);
    close_to(mean, -1 / 3.0, 0.03, "mean of the resampled gaps");
    /* The same seed draws the same resamples; another draws others. */
    assert_int_equal(elang_gap_to_super(r, ELANG_SCORE_ENERGY, 0.0, 7, b, &g, &err), ELANG_OK);
    assert_memory_equal(a, b, sizeof(double) * ELANG_GAP_RESAMPLES);
    assert_int_equal(elang_gap_to_super(r, ELANG_SCORE_ENERGY, 0.0, 8, b, &g, &err), ELANG_OK);
    assert_memory_not_equal(a, b, sizeof(double) * ELANG_GAP_RESAMPLES);
    assert_int_equal(elang_gap_to_super(r, ELANG_SCORE_ENERGY, 1.0, 7, NULL, &g, &err), ELANG_OK);
    close_to(g.difference, 0.0, 0.0, "all on Super: gap");
    close_to(g.se, 0.0, 0.0, "all on Super: spread");
    close_to(g.lo, 0.0, 0.0, "all on Super: lo");
    close_to(g.hi, 0.0, 0.0, "all on Super: hi");
    close_to(g.share_at_least, 1.0, 0.0, "all on Super: share");
    /* MRPC is scored as GLUE averages it, the mean of F1 and accuracy: all
     * on Swift F1 2/5 and accuracy 3/6, Super 6/7 and 5/6. */
    assert_int_equal(task_find("mrpc", &r->task, NULL), ELANG_OK);
    r->metric = TASK_METRIC_F1;
    assert_int_equal(elang_gap_to_super(r, ELANG_SCORE_ENERGY, 0.0, 7, NULL, &g, &err), ELANG_OK);
    close_to(g.difference, 0.5 * (2 / 5.0 - 6 / 7.0) + 0.5 * (3 / 6.0 - 5 / 6.0), 1e-12, "MRPC's GLUE score gap");
    /* 200 inputs, Super right on all, Swift wrong on 40 of them, all kept
     * on Swift: the gap on a resample is -K/200, K ~ Binomial(200, 0.2),
     * whose 2.5th and 97.5th percentiles are 29 (28 to 30 on 1000 draws)
     * and 51 (or 52); a 90% interval would end near 31 and 49. */
    r->n = 200;
    r->items = realloc(r->items, sizeof *r->items * r->n);
    for (size_t i = 0; i < r->n; i++) {
        run_item *it = &r->items[i];
        *it = r->items[0];
        it->label = 1, it->super_pred = 1, it->swift_pred = i % 5 != 0, it->item = i;
    }
    assert_int_equal(task_find("sst2", &r->task, NULL), ELANG_OK);
    r->metric = TASK_METRIC_ACCURACY;
    assert_int_equal(elang_gap_to_super(r, ELANG_SCORE_ENERGY, 0.0, 7, NULL, &g, &err), ELANG_OK);
    close_to(g.difference, -0.2, 1e-12, "200 inputs: gap");
    close_to(g.se, sqrt(200 * 0.2 * 0.8) / 200, 0.003, "200 inputs: spread");
    if (!(g.lo >= -52.5 / 200 && g.lo <= -50.5 / 200 && g.hi >= -30.5 / 200 && g.hi <= -27.5 / 200))
        fail_msg("200 inputs: interval [%g, %g] x 200", g.lo * 200, g.hi * 200);
    assert_int_equal(g.resamples, ELANG_GAP_RESAMPLES);
    /* STS-B, scored by the mean of Pearson's and Spearman's correlations:
     * Swift's answers constant but for input 0, so all on Swift both are
     * undefined on the resamples without input 0, a share (5/6)^6 = 0.335
     * of them: left out. */
    elang_pair_run *reg = hand_run();
    reg->kind = RUN_REGRESSION;
    reg->metric = TASK_METRIC_PEARSON;
    for (int i = 0; i < 6; i++) {
        run_item *it = &reg->items[i];
        it->target = i, it->super_value = i + (i % 2 ? 0.5 : -0.5), it->swift_value = i == 0 ? 1.0 : 2.0;
    }
    assert_int_equal(task_find("stsb", &reg->task, NULL), ELANG_OK);
    double *c = malloc(sizeof(double) * ELANG_GAP_RESAMPLES);
    assert_int_equal(elang_gap_to_super(reg, ELANG_SCORE_ENERGY, 0.0, 7, c, &g, &err), ELANG_OK);
    assert_true(isfinite(g.difference));
    size_t undefined = 0;
    for (size_t k = 0; k < ELANG_GAP_RESAMPLES; k++) undefined += isnan(c[k]);
    assert_int_equal(g.resamples, ELANG_GAP_RESAMPLES - undefined);
    close_to(undefined / (double)ELANG_GAP_RESAMPLES, pow(5 / 6.0, 6), 0.05, "share of undefined resamples");
    assert_true(isfinite(g.lo) && isfinite(g.hi) && isfinite(g.se) && g.lo <= g.hi);
    /* Constant everywhere: undefined on every resample and on the six. */
    for (int i = 0; i < 6; i++) reg->items[i].swift_value = 2.0;
    assert_int_equal(elang_gap_to_super(reg, ELANG_SCORE_ENERGY, 0.0, 7, NULL, &g, &err), ELANG_OK);
    assert_int_equal(g.resamples, 0);
    assert_true(isnan(g.difference) && isnan(g.se) && isnan(g.lo) && isnan(g.hi) && isnan(g.share_at_least));
    free(c);
    elang_pair_run_free(reg);
    assert_int_equal(elang_gap_to_super(r, ELANG_SCORE_ENERGY, NAN, 7, NULL, &g, &err), ELANG_ERR_INVALID_ARG);
    assert_int_equal(elang_gap_to_super(r, ELANG_SCORE_ENCODER_HEAD, 0.0, 7, NULL, &g, &err), ELANG_ERR_INVALID_ARG);
    free(a), free(b);
    elang_pair_run_free(r);
}

/* The gap of a mean over two tasks: task A's resampled gaps are all 0.1,
 * task B's alternate -0.2 and 0.2 but for one that is not a number, so the
 * mean alternates -0.05 and 0.15 over 999 resamples (the NaN one left out):
 * 500 of -0.05 (NaN in B at resample 1, a 0.2 one), 499 of 0.15. */
static void gap_of_mean_by_hand(void **s) {
    (void)s;
    double a[ELANG_GAP_RESAMPLES], b[ELANG_GAP_RESAMPLES];
    for (size_t k = 0; k < ELANG_GAP_RESAMPLES; k++) a[k] = 0.1, b[k] = k % 2 ? 0.2 : -0.2;
    b[1] = NAN;
    const double *tasks[2] = {a, b};
    elang_gap g;
    elang_error err;
    assert_int_equal(elang_gap_of_mean(tasks, 2, 0.05, &g, &err), ELANG_OK);
    close_to(g.difference, 0.05, 0.0, "the mean's gap as given");
    close_to(g.lo, -0.05, 1e-12, "lo");
    close_to(g.hi, 0.15, 1e-12, "hi");
    close_to(g.share_at_least, 499 / 999.0, 1e-12, "share at least Super");
    const double var = (500 * 0.05 * 0.05 + 499 * 0.15 * 0.15 - 999 * pow((500 * -0.05 + 499 * 0.15) / 999, 2)) / 998;
    close_to(g.se, sqrt(var), 1e-12, "spread");
    assert_int_equal(elang_gap_of_mean(tasks, 0, 0.0, &g, &err), ELANG_ERR_INVALID_ARG);
}

/* Routing by an encoder head costs the head on every input, Swift (which
 * decodes) only on the inputs kept, Super on the others: with the head at
 * 0.25 GFLOPs, keeping i of the 6 inputs costs 0.25 + (i·1 + (6-i)·10)/6.
 * The other scores still cost Swift on every input. */
static void head_costs_by_hand(void **s) {
    (void)s;
    elang_pair_run *r = hand_run();
    r->has_head = true;
    r->decision[ELANG_SCORE_ENCODER_HEAD] = ELANG_DECIDE_BY_HEAD;
    for (int i = 0; i < 6; i++) r->items[i].decision_gflops[ELANG_DECIDE_BY_HEAD] = 0.25;
    elang_point *p;
    size_t n;
    elang_error err;
    assert_int_equal(elang_sweep(r, ELANG_SCORE_ENCODER_HEAD, &p, &n, &err), ELANG_OK);
    assert_int_equal(n, 7);
    for (size_t i = 0; i < n; i++)
        close_to(p[i].gflops, 0.25 + (i * 1.0 + (6.0 - i) * 10.0) / 6.0, 1e-12, "head gflops");
    elang_points_free(p);
    elang_point at;
    assert_int_equal(elang_at_threshold(r, ELANG_SCORE_ENERGY, 0.65, &at, &err), ELANG_OK);
    close_to(at.gflops, 1.0 + 10.0 * 3 / 6.0, 1e-12, "energy: Swift on all");
    assert_int_equal(elang_at_threshold(r, ELANG_SCORE_ENCODER_HEAD, 0.65, &at, &err), ELANG_OK);
    close_to(at.gflops, 0.25 + (3 * 1.0 + 3 * 10.0) / 6.0, 1e-12, "head: Swift on the kept");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/head-report", test_tmpdir());
    assert_int_equal(elang_report_write(r, ELANG_SCORE_ENCODER_HEAD, 0.65, -1.0, dir, &err), ELANG_OK);
    char path[1100];
    snprintf(path, sizeof path, "%s/report.json", dir);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    assert_non_null(j);
    assert_int_equal(json_object_size(json_object_get(j, "curves")), ELANG_SCORE_KINDS);
    assert_string_equal(json_string_value(json_object_get(j, "score")), "encoder-head");
    close_to(json_real_value(json_object_get(json_object_get(j, "elang"), "gflops")), 0.25 + 33.0 / 6.0, 1e-6,
             "report: head gflops");
    json_decref(j);
    elang_pair_run_free(r);
}

/* PGR along the sweep of hand_run, by Super rate 0, 1/6 ... 1:
 * metrics 3/6, 4/6, 5/6, 4/6, 5/6, 5/6, 5/6 → PGR 0, .5, 1, .5, 1, 1, 1.
 * APGR (trapezoids of width 1/6) = (0.25 + 0.75 + 0.75 + 0.75 + 1 + 1) / 6
 * = 4.5 / 6 = 0.75; CPT(50%) = 1/6; CPT(80%) = 2/6. */
static void report_by_hand(void **s) {
    (void)s;
    elang_pair_run *r = hand_run();
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/report", test_tmpdir());
    elang_error err;
    assert_int_equal(elang_report_write(r, ELANG_SCORE_ENERGY, 0.6f, -1.0, dir, &err), ELANG_OK);
    char path[1100];
    snprintf(path, sizeof path, "%s/report.json", dir);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    assert_non_null(j);
    close_to(json_real_value(json_object_get(j, "apgr")), 0.75, 1e-6, "APGR");
    close_to(json_real_value(json_object_get(j, "cpt50")), 1 / 6.0, 1e-6, "CPT50");
    close_to(json_real_value(json_object_get(j, "cpt80")), 2 / 6.0, 1e-6, "CPT80");
    json_t *e = json_object_get(j, "elang");
    close_to(json_real_value(json_object_get(e, "metric")), 5 / 6.0, 1e-6, "E-LANG metric");
    close_to(json_real_value(json_object_get(e, "swift_ratio")), 4 / 6.0, 1e-6, "Swift ratio");
    close_to(json_real_value(json_object_get(e, "gflops")), 1.0 + 20.0 / 6.0, 1e-5, "E-LANG GFLOPs");
    close_to(json_real_value(json_object_get(e, "speedup_flops")), 10.0 / (1.0 + 20.0 / 6.0), 1e-5, "FLOPs speed-up");
    /* Estimated time: 0.1 ms Swift + 2/6 of 1 ms Super, per input. */
    close_to(json_real_value(json_object_get(e, "ms")), 100.0 + 1000.0 * 2 / 6.0, 1e-3, "E-LANG ms");
    json_t *oracle = json_object_get(j, "oracle");
    close_to(json_real_value(json_object_get(oracle, "super_rate")), 3 / 6.0, 1e-6, "oracle rate");
    close_to(json_real_value(json_object_get(oracle, "metric")), 1.0, 1e-6, "oracle metric");
    /* Inputs 2 and 3 stay on Swift, which errs on 2 where Super errs on 3:
     * the gap on a resample is (c3 - c2) / 6, at least 0 with probability
     * 0.642. */
    json_t *gap = json_object_get(e, "vs_super");
    close_to(json_real_value(json_object_get(gap, "difference")), 0.0, 1e-12, "gap to Super");
    close_to(json_real_value(json_object_get(gap, "share_at_least_super")), 0.642, 0.04, "share at least Super");
    assert_string_equal(json_string_value(json_object_get(gap, "score")), "accuracy");
    assert_int_equal(json_array_size(json_object_get(gap, "ci95")), 2);
    gap = json_object_get(json_object_get(j, "swift"), "vs_super");
    close_to(json_real_value(json_object_get(gap, "difference")), -1 / 3.0, 1e-6, "Swift's gap to Super");
    assert_int_equal(json_array_size(json_object_get(j, "curve")), 7);
    /* Every score but the encoder head's: Swift has none here. */
    assert_int_equal(json_object_size(json_object_get(j, "curves")), ELANG_SCORE_KINDS - 1);
    assert_null(json_object_get(json_object_get(j, "curves"), "encoder-head"));
    json_decref(j);
    size_t len;
    snprintf(path, sizeof path, "%s/report.md", dir);
    char *md = read_file_all(path, &len);
    assert_non_null(strstr(md, "| **E-LANG** | **83.33**"));
    assert_non_null(strstr(md, "- E-LANG minus Super: +0.00 (95% interval"));
    /* Swift alone: (c3 - c2 - c4 - c5) / 6 on a resample, -1/3 on the six. */
    assert_non_null(strstr(md, "- Swift alone minus Super: -33.33 (95% interval -83.33 to "));
    free(md);
    snprintf(path, sizeof path, "%s/curve.svg", dir);
    char *svg = read_file_all(path, &len);
    assert_non_null(strstr(svg, "<svg"));
    assert_non_null(strstr(svg, "softmax-energy"));
    free(svg);
    elang_pair_run_free(r);
}

static void calibration_file_round_trip(void **s) {
    (void)s;
    char *words[2] = {"negative", "positive"};
    char swift_dir[1024], super_dir[1024];
    snprintf(swift_dir, sizeof swift_dir, "%s", shared_path("fixtures/hf/bert"));
    snprintf(super_dir, sizeof super_dir, "%s", shared_path("fixtures/hf/bert-f16"));
    elang_calibration c = {.threshold = 2.5, .score = ELANG_SCORE_MARGIN, .temperature = 2.0,
                           .aggregate = ELANG_AGG_MIN, .label_words = words, .num_label_words = 2, .holdout = 0.25,
                           .metric = 0.9, .super_rate = 0.3, .gflops = 1.25, .heldout_metric = NAN,
                           .heldout_super_rate = NAN, .num_beams = 1, .max_new_tokens = 64,
                           .objective = "match-super:0.01", .task = "sst2", .data = "dev.tsv",
                           .data_lines = "lines.txt", .metric_name = "accuracy", .swift_dir = swift_dir,
                           .super_dir = super_dir, .pair_infix = " sentence2: "};
    elang_error err;
    assert_int_equal(elang_model_hash(c.swift_dir, c.swift_hash, &err), ELANG_OK);
    assert_int_equal(elang_model_hash(c.super_dir, c.super_hash, &err), ELANG_OK);
    assert_string_not_equal(c.swift_hash, c.super_hash);
    char path[1024];
    snprintf(path, sizeof path, "%s/calib.json", test_tmpdir());
    assert_int_equal(elang_calibration_save(&c, path, &err), ELANG_OK);
    elang_calibration back;
    assert_int_equal(elang_calibration_load(path, &back, &err), ELANG_OK);
    close_to(back.threshold, 2.5, 0, "threshold");
    assert_int_equal(back.score, ELANG_SCORE_MARGIN);
    assert_int_equal(back.aggregate, ELANG_AGG_MIN);
    assert_int_equal(back.num_label_words, 2);
    assert_string_equal(back.label_words[1], "positive");
    assert_true(isnan(back.heldout_metric));
    /* "lines.txt" (from the working directory) is recorded from the
     * calibration's folder and read back from the working directory. */
    assert_string_equal(back.data_lines, "lines.txt");
    assert_string_equal(back.pair_infix, " sentence2: ");
    assert_string_equal(back.swift_hash, c.swift_hash);
    assert_int_equal(elang_calibration_check(&back, c.swift_dir, c.super_dir, &err), ELANG_OK);
    elang_calibration_free(&back);
    /* Thresholds come back as the very doubles: a score's own value (which
     * ten digits would round up, sending that input to Super) and the
     * lowest double (which ten digits would turn into an overflow). */
    const double thresholds[] = {(double)14.588335f, -DBL_MAX};
    for (size_t i = 0; i < 2; i++) {
        c.threshold = thresholds[i];
        assert_int_equal(elang_calibration_save(&c, path, &err), ELANG_OK);
        assert_int_equal(elang_calibration_load(path, &back, &err), ELANG_OK);
        assert_true(back.threshold == thresholds[i]);
        elang_calibration_free(&back);
    }
    c.threshold = 2.5;
    assert_int_equal(elang_calibration_save(&c, path, &err), ELANG_OK);
    assert_int_equal(elang_calibration_load(path, &back, &err), ELANG_OK);
    /* Swapped models: refused, naming the model. */
    assert_int_equal(elang_calibration_check(&back, c.super_dir, c.swift_dir, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "calibrate again"));
    elang_calibration_free(&back);

    const char *bad[][2] = {
        {"{\"elang_calibration\": 1", "malformed JSON"},
        {"[1, 2]", "not a JSON object"},
        {"{\"threshold\": 1}", "not an elang calibration file"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(path, bad[i][0], strlen(bad[i][0]));
        assert_int_equal(elang_calibration_load(path, &back, &err), ELANG_ERR_FORMAT);
        assert_non_null(strstr(err.message, bad[i][1]));
    }
    /* A valid file with one field broken names the field. */
    assert_int_equal(elang_calibration_save(&c, path, &err), ELANG_OK);
    size_t len;
    char *text = read_file_all(path, &len);
    char *score = strstr(text, "\"margin\"");
    assert_non_null(score);
    memcpy(score, "\"margix\"", 8);
    write_file(path, text, len);
    assert_int_equal(elang_calibration_load(path, &back, &err), ELANG_ERR_FORMAT);
    assert_non_null(strstr(err.message, "unknown score \"margix\""));
    free(text);
    assert_int_equal(elang_calibration_save(&c, path, &err), ELANG_OK);
    text = read_file_all(path, &len);
    char *task = strstr(text, "\"task\": \"");
    assert_non_null(task);
    memcpy(task + 9, "x", 1); /* "sst2" -> "xst2" */
    write_file(path, text, len);
    assert_int_equal(elang_calibration_load(path, &back, &err), ELANG_ERR_FORMAT);
    assert_non_null(strstr(err.message, "unknown task \"x"));
    free(text);
    elang_calibration_free(&back); /* a failed load leaves nothing, and freeing nothing is fine */
}

/* A model directory's hash reads regular files only: a FIFO inside (which
 * an open would wait on forever) is skipped, and the hash is the one of the
 * directory without it. The alarm turns a hang into a failure. */
static void model_hash_skips_fifos(void **s) {
    (void)s;
    char dir[1024], cmd[4096], fifo[1100], with[17], without[17];
    snprintf(dir, sizeof dir, "%s/hashed", test_tmpdir());
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp %s/* '%s'/", dir, shared_path("fixtures/hf/bert"), dir);
    assert_int_equal(system(cmd), 0);
    elang_error err;
    assert_int_equal(elang_model_hash(dir, without, &err), ELANG_OK);
    snprintf(fifo, sizeof fifo, "%s/pipe", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    alarm(20);
    assert_int_equal(elang_model_hash(dir, with, &err), ELANG_OK);
    alarm(0);
    assert_string_equal(with, without);
}

/* Routing on the fixture classifiers: bert as Swift, bert-f16 as Super,
 * with a threshold between the fixtures' own -E values. Each decision and
 * each final label must follow from the recorded logits. */
static void routes_classifiers_by_fixture_energy(void **s) {
    (void)s;
    size_t n;
    json_t **sw = read_jsonl(shared_path("fixtures/hf/bert/cases.jsonl"), &n);
    size_t n2;
    json_t **su = read_jsonl(shared_path("fixtures/hf/bert-f16/cases.jsonl"), &n2);
    n--; /* the last line is the batch */
    assert_int_equal(n, 17);
    const double threshold = 2.3; /* between the fixture cases' -E values, which span about 0.7 to 3.0 */
    elang_model *tiers[2];
    elang_error err;
    elang_load_opts lo = {.max_length = 64};
    assert_int_equal(elang_model_load(shared_path("fixtures/hf/bert"), &lo, &tiers[0], &err), ELANG_OK);
    assert_int_equal(elang_model_load(shared_path("fixtures/hf/bert-f16"), &lo, &tiers[1], &err), ELANG_OK);
    elang_router *router;
    elang_route_opts o = elang_route_opts_default();
    o.batch_size = 4;
    assert_int_equal(elang_router_new(tiers, 2, &threshold, &o, &router, &err), ELANG_OK);
    elang_text *in = calloc(n, sizeof *in);
    for (size_t i = 0; i < n; i++) {
        json_t *pair = json_object_get(sw[i], "text_pair");
        in[i] = (elang_text){json_string_value(json_object_get(sw[i], "text")), pair ? json_string_value(pair) : NULL};
    }
    elang_route_out *out = calloc(n, sizeof *out);
    assert_int_equal(elang_route(router, in, n, out, &err), ELANG_OK);
    int routed = 0;
    for (size_t i = 0; i < n; i++) {
        const double neg_energy = json_real_value(json_object_get(sw[i], "neg_energy_T1"));
        close_to(out[i].answers[0].score, neg_energy, 1e-3, "Swift's score is -E of its logits");
        const int want_tier = neg_energy >= threshold ? 0 : 1;
        assert_int_equal(out[i].tier, want_tier);
        routed += want_tier;
        json_t *logits = json_object_get(want_tier ? su[i] : sw[i], "logits");
        int best = 0;
        for (int j = 1; j < 3; j++)
            if (json_real_value(json_array_get(logits, j)) > json_real_value(json_array_get(logits, best))) best = j;
        assert_int_equal(out[i].answers[out[i].tier].label_id, best);
    }
    assert_true(routed > 0 && routed < (int)n); /* the threshold splits the cases */
    elang_route_out_free(out, n);
    free(out), free(in);
    elang_router_free(router);
    elang_model_free(tiers[0]), elang_model_free(tiers[1]);
    free_jsonl(sw, n + 1), free_jsonl(su, n2);
}

/* Routing on the fixture generators: T5 v1.0 as Swift, T5 v1.1 as Super;
 * Swift's score is the mean of its greedy steps' -E (mean aggregation). */
static void routes_generators_by_fixture_energy(void **s) {
    (void)s;
    size_t n, n2;
    json_t **sw = read_jsonl(shared_path("fixtures/hf/t5/cases.jsonl"), &n);
    json_t **su = read_jsonl(shared_path("fixtures/hf/t5-v1_1/cases.jsonl"), &n2);
    assert_int_equal(n, 8);
    double *mean = calloc(n, sizeof *mean), lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        json_t *steps = json_object_get(sw[i], "greedy_steps");
        for (size_t t = 0; t < json_array_size(steps); t++)
            mean[i] += json_number_value(json_object_get(json_array_get(steps, t), "neg_energy_T1")) / json_array_size(steps);
        lo = fmin(lo, mean[i]), hi = fmax(hi, mean[i]);
    }
    const double threshold = (lo + hi) / 2;
    elang_model *tiers[2];
    elang_error err;
    assert_int_equal(elang_model_load(shared_path("fixtures/hf/t5"), NULL, &tiers[0], &err), ELANG_OK);
    assert_int_equal(elang_model_load(shared_path("fixtures/hf/t5-v1_1"), NULL, &tiers[1], &err), ELANG_OK);
    elang_route_opts o = elang_route_opts_default();
    o.gen.max_new_tokens = 16;
    elang_router *router;
    assert_int_equal(elang_router_new(tiers, 2, &threshold, &o, &router, &err), ELANG_OK);
    elang_text *in = calloc(n, sizeof *in);
    for (size_t i = 0; i < n; i++) in[i].text = json_string_value(json_object_get(sw[i], "src"));
    elang_route_out *out = calloc(n, sizeof *out);
    assert_int_equal(elang_route(router, in, n, out, &err), ELANG_OK);
    for (size_t i = 0; i < n; i++) {
        close_to(out[i].answers[0].score, mean[i], 1e-3, "Swift's mean -E");
        assert_int_equal(out[i].tier, mean[i] >= threshold ? 0 : 1);
        const elang_answer *a = &out[i].answers[out[i].tier];
        json_t *want = json_object_get(out[i].tier ? su[i] : sw[i], "greedy_ids");
        assert_int_equal((size_t)a->gen.num_ids, json_array_size(want));
        for (int t = 0; t < a->gen.num_ids; t++)
            assert_int_equal(a->gen.ids[t], json_integer_value(json_array_get(want, (size_t)t)));
    }
    elang_route_out_free(out, n);
    free(out), free(in), free(mean);
    elang_router_free(router);
    elang_model_free(tiers[0]), elang_model_free(tiers[1]);
    free_jsonl(sw, n), free_jsonl(su, n2);
}

/* Three tiers: the middle one answers what the first passes on and keeps. */
static void cascade_of_three(void **s) {
    (void)s;
    elang_model *tiers[3];
    elang_error err;
    const char *dirs[3] = {"fixtures/hf/bert", "fixtures/hf/bert-f16", "fixtures/hf/bert"};
    for (int i = 0; i < 3; i++) assert_int_equal(elang_model_load(shared_path(dirs[i]), NULL, &tiers[i], &err), ELANG_OK);
    const double never[2] = {-1e9, -1e9}, always[2] = {1e9, 1e9}, middle[2] = {1e9, -1e9};
    const double *plans[3] = {never, always, middle};
    const int want[3] = {0, 2, 1};
    elang_text in[2] = {{"a fine film", NULL}, {"x", NULL}};
    for (int p = 0; p < 3; p++) {
        elang_router *r;
        assert_int_equal(elang_router_new(tiers, 3, plans[p], NULL, &r, &err), ELANG_OK);
        elang_route_out out[2];
        assert_int_equal(elang_route(r, in, 2, out, &err), ELANG_OK);
        for (int i = 0; i < 2; i++) assert_int_equal(out[i].tier, want[p]);
        elang_route_out_free(out, 2);
        elang_router_free(r);
    }
    elang_router *r;
    assert_int_equal(elang_router_new(tiers, 1, never, NULL, &r, &err), ELANG_ERR_INVALID_ARG);
    elang_model *t5;
    assert_int_equal(elang_model_load(shared_path("fixtures/hf/t5"), NULL, &t5, &err), ELANG_OK);
    elang_model *mixed[2] = {tiers[0], t5};
    assert_int_equal(elang_router_new(mixed, 2, never, NULL, &r, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "all classify or all generate"));
    elang_model_free(t5);
    for (int i = 0; i < 3; i++) elang_model_free(tiers[i]);
}

/* A remote last tier: the answer function given to elang_router_new_remote
 * stands in for Super. Answering through the Super model itself, it must
 * route exactly as the router over both models; failing, the inputs sent to
 * it keep Swift's answer, marked degraded, and routing still succeeds. */
typedef struct {
    elang_model *model;
    const elang_route_opts *opts;
    bool fail;
    size_t calls, inputs, last_items[8];
} stand_in;

static elang_status stand_in_answer(void *ctx, const elang_text *in, const size_t *items, size_t n,
                                    elang_answer *out, elang_error *err) {
    stand_in *si = ctx;
    si->calls++;
    si->inputs += n;
    for (size_t i = 0; i < n && i < 8; i++) si->last_items[i] = items[i];
    if (si->fail) {
        if (err) snprintf(err->message, sizeof err->message, "unreachable");
        return ELANG_ERR_IO;
    }
    return elang_answer_all(si->model, in, items, n, si->opts, out, NULL, err);
}

static void remote_tier_routes_and_degrades(void **s) {
    (void)s;
    elang_model *tiers[2];
    elang_error err;
    assert_int_equal(elang_model_load(shared_path("fixtures/hf/bert"), NULL, &tiers[0], &err), ELANG_OK);
    assert_int_equal(elang_model_load(shared_path("fixtures/hf/bert-f16"), NULL, &tiers[1], &err), ELANG_OK);
    elang_text in[4] = {{"a fine film", NULL}, {"x", NULL}, {"the plot drags on and on", "yes"}, {"ok", NULL}};
    elang_route_out local[4], remote[4];
    elang_route_opts o = elang_route_opts_default();
    /* A threshold between the inputs' scores, so that some go on. */
    elang_answer a[4];
    assert_int_equal(elang_answer_all(tiers[0], in, NULL, 4, &o, a, NULL, &err), ELANG_OK);
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < 4; i++) lo = fmin(lo, a[i].score), hi = fmax(hi, a[i].score);
    elang_answers_free(a, 4);
    const double threshold = (lo + hi) / 2;
    elang_router *r;
    assert_int_equal(elang_router_new(tiers, 2, &threshold, &o, &r, &err), ELANG_OK);
    assert_int_equal(elang_route(r, in, 4, local, &err), ELANG_OK);
    elang_router_free(r);

    stand_in si = {.model = tiers[1], .opts = &o};
    assert_int_equal(elang_router_new_remote(tiers, 1, &threshold, stand_in_answer, &si, &o, &r, &err), ELANG_OK);
    const size_t items[4] = {10, 11, 12, 13};
    assert_int_equal(elang_route_items(r, in, items, 4, remote, &err), ELANG_OK);
    int routed = 0;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(remote[i].tier, local[i].tier);
        assert_false(remote[i].degraded);
        const elang_answer *x = &remote[i].answers[remote[i].tier], *y = &local[i].answers[local[i].tier];
        assert_int_equal(x->label_id, y->label_id);
        assert_memory_equal(x->cls.logits, y->cls.logits, 3 * sizeof(float));
        routed += local[i].tier;
    }
    assert_true(routed > 0 && routed < 4);
    assert_int_equal(si.calls, 1);
    assert_int_equal(si.inputs, (size_t)routed);
    for (int i = 0, k = 0; i < 4; i++) /* the items of the routed inputs reach the answer function */
        if (local[i].tier) assert_int_equal(si.last_items[k++], items[i]);
    elang_route_out_free(remote, 4);

    si.fail = true;
    assert_int_equal(elang_route(r, in, 4, remote, &err), ELANG_OK);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(remote[i].tier, 0);
        assert_int_equal(remote[i].degraded, local[i].tier == 1);
        assert_int_equal(remote[i].answers[0].label_id, local[i].answers[0].label_id);
    }
    elang_route_out_free(remote, 4);
    elang_route_out_free(local, 4);
    elang_router_free(r);

    const char *words[2] = {"no", "yes"};
    o.label_words = words, o.num_label_words = 2;
    assert_int_equal(elang_router_new_remote(tiers, 1, &threshold, stand_in_answer, &si, &o, &r, &err),
                     ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "label words"));
    elang_model_free(tiers[0]), elang_model_free(tiers[1]);
}

/* T5 as a classifier: the answer is the label word whose first token has
 * the highest logit at the first decoding step, and the scores come from
 * those logits alone. Checked against transformers' own first-step logits
 * (the fixtures' teacher_forced_first_logits, the raw logits after the
 * decoder start token) for every case and several word sets, through
 * routing's answers and through elang_classify (which also gives the
 * logits themselves). */
static void check_label_words(const char *name) {
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/hf/%s", name);
    elang_model *m;
    elang_error err;
    assert_int_equal(elang_model_load(shared_path(rel), NULL, &m, &err), ELANG_OK);
    snprintf(rel, sizeof rel, "fixtures/hf/%s/cases.jsonl", name);
    size_t n;
    json_t **cases = read_jsonl(shared_path(rel), &n);
    const char *sets[3][3] = {{"negative", "positive"}, {"no", "yes", "maybe"}, {"entailment", "not_entailment"}};
    const int counts[3] = {2, 3, 2};
    size_t checked = 0, non_first = 0;
    for (int w = 0; w < 3; w++) {
        const int k = counts[w];
        int32_t ids[3];
        for (int j = 0; j < k; j++) assert_int_equal(model_first_token_id(m, sets[w][j], &ids[j], &err), ELANG_OK);
        elang_route_opts o = {.label_words = sets[w], .num_label_words = k};
        for (size_t c = 0; c < n; c++) {
            json_t *first = json_object_get(cases[c], "teacher_forced_first_logits");
            if (!first) continue;
            const elang_text in = {json_string_value(json_object_get(cases[c], "src")), NULL};
            elang_answer a;
            assert_int_equal(elang_answer_all(m, &in, NULL, 1, &o, &a, NULL, &err), ELANG_OK);
            float picked[3];
            int best = 0;
            for (int j = 0; j < k; j++) {
                picked[j] = (float)json_number_value(json_array_get(first, (size_t)ids[j]));
                if (picked[j] > picked[best]) best = j;
            }
            assert_int_equal(a.label_id, best);
            assert_string_equal(a.label, sets[w][best]);
            double lse = -INFINITY;
            for (int j = 0; j < k; j++) lse = fmax(lse, picked[j]);
            double sum = 0.0;
            for (int j = 0; j < k; j++) sum += exp(picked[j] - lse);
            lse += log(sum);
            close_to(a.scores[ELANG_SCORE_ENERGY], lse, 1e-3, "label-word energy");
            close_to(a.scores[ELANG_SCORE_MAXPROB], exp(picked[best] - lse), 1e-4, "label-word maxprob");
            elang_class_out cls;
            const elang_classify_opts co = {.label_words = sets[w], .num_label_words = k};
            assert_int_equal(elang_classify(m, &in, 1, &co, &cls, &err), ELANG_OK);
            assert_int_equal(cls.label_id, best);
            for (int j = 0; j < k; j++) close_to(cls.logits[j], picked[j], 1e-3, "classify's label-word logit");
            close_to(cls.probs[best], exp(picked[best] - lse), 1e-4, "classify's probability");
            close_to(-cls.energy, lse, 1e-3, "classify's energy");
            assert_int_equal(cls.num_tokens, (int)json_array_size(json_object_get(cases[c], "input_ids")));
            elang_class_out_free(&cls, 1);
            /* At T = 2 the energy is -2 log sum exp(logits / 2); the probabilities stay the softmax. */
            const elang_classify_opts hot = {.label_words = sets[w], .num_label_words = k, .temperature = 2.0};
            assert_int_equal(elang_classify(m, &in, 1, &hot, &cls, &err), ELANG_OK);
            double lse_t = -INFINITY, sum_t = 0.0;
            for (int j = 0; j < k; j++) lse_t = fmax(lse_t, picked[j] / 2.0);
            for (int j = 0; j < k; j++) sum_t += exp(picked[j] / 2.0 - lse_t);
            close_to(-cls.energy, 2.0 * (lse_t + log(sum_t)), 1e-3, "classify's energy at T = 2");
            close_to(cls.probs[best], exp(picked[best] - lse), 1e-4, "classify's probability at T = 2");
            elang_class_out_free(&cls, 1);
            assert_int_equal(a.decoder_steps, 1);
            assert_int_equal(a.input_tokens, (int)json_array_size(json_object_get(cases[c], "input_ids")));
            checked++;
            non_first += best != 0;
            elang_answers_free(&a, 1);
        }
    }
    /* Every case was compared, and the answers are not all the first word. */
    assert_true(checked >= 3 * 5);
    assert_true(non_first > 0);
    const char *same[2] = {"positive", "positively"};
    elang_route_opts o = {.label_words = same, .num_label_words = 2};
    const elang_text in = {"sst2 sentence: dull", NULL};
    elang_answer a;
    assert_int_equal(elang_answer_all(m, &in, NULL, 1, &o, &a, NULL, &err), ELANG_ERR_INVALID_ARG);
    /* elang_classify says so even for no input, as the CLI asks it before reading any. */
    elang_class_out cls;
    elang_classify_opts co = {.label_words = same, .num_label_words = 2};
    assert_int_equal(elang_classify(m, NULL, 0, &co, &cls, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "start with the same token"));
    const char *one[1] = {"positive"}, *empty[2] = {"positive", ""};
    co = (elang_classify_opts){.label_words = one, .num_label_words = 1};
    assert_int_equal(elang_classify(m, &in, 1, &co, &cls, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "at least two"));
    co = (elang_classify_opts){.label_words = empty, .num_label_words = 2};
    assert_int_equal(elang_classify(m, &in, 1, &co, &cls, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "label word 2 is empty"));
    free_jsonl(cases, n);
    elang_model_free(m);
}

static void label_words_classify_with_t5(void **s) {
    (void)s;
    check_label_words("t5");
    check_label_words("t5-v1_1");
}

/* GLUE's sentence pairs as T5 reads them: one text, prefix + text + pair
 * infix + pair, the same answer as that text given whole; without an
 * infix a generator refuses a pair, naming the flag. */
static void t5_reads_pairs_through_its_infix(void **s) {
    (void)s;
    elang_model *joined, *plain;
    elang_error err;
    elang_load_opts lo = {.input_prefix = "mrpc sentence1: ", .pair_infix = " sentence2: "};
    assert_int_equal(elang_model_load(shared_path("fixtures/hf/t5"), &lo, &joined, &err), ELANG_OK);
    assert_int_equal(elang_model_load(shared_path("fixtures/hf/t5"), NULL, &plain, &err), ELANG_OK);
    const char *words[2] = {"no", "yes"};
    elang_route_opts o = {.label_words = words, .num_label_words = 2};
    const elang_text pair = {"The cat sat.", "A cat was sitting."},
                     whole = {"mrpc sentence1: The cat sat. sentence2: A cat was sitting.", NULL};
    elang_answer a, b;
    assert_int_equal(elang_answer_all(joined, &pair, NULL, 1, &o, &a, NULL, &err), ELANG_OK);
    assert_int_equal(elang_answer_all(plain, &whole, NULL, 1, &o, &b, NULL, &err), ELANG_OK);
    assert_int_equal(a.input_tokens, b.input_tokens);
    assert_int_equal(a.label_id, b.label_id);
    close_to(a.scores[ELANG_SCORE_ENERGY], b.scores[ELANG_SCORE_ENERGY], 1e-6, "pair joined by its infix");
    elang_answers_free(&a, 1), elang_answers_free(&b, 1);
    assert_int_equal(elang_answer_all(plain, &pair, NULL, 1, &o, &a, NULL, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "reads one text per input, not a pair"));
    assert_non_null(strstr(err.message, "--pair-infix"));
    elang_model_free(joined), elang_model_free(plain);
}

/* A template prefix and a pair infix compose: the pair, joined by its
 * infix, is the text the template holds; a text alone goes there without
 * the infix. T5 and a language model alike read exactly that text. */
static void templates_hold_joined_pairs(void **s) {
    (void)s;
    const char *dirs[2] = {"fixtures/hf/t5", "fixtures/hf/gpt2"};
    for (int k = 0; k < 2; k++) {
        elang_model *joined, *plain;
        elang_error err;
        elang_load_opts lo = {.input_prefix = "Premise: {text} Answer:", .pair_infix = " Hypothesis: "};
        assert_int_equal(elang_model_load(shared_path(dirs[k]), &lo, &joined, &err), ELANG_OK);
        assert_int_equal(elang_model_load(shared_path(dirs[k]), NULL, &plain, &err), ELANG_OK);
        const elang_text in[2] = {{"The cat sat.", "A cat was sitting."}, {"The cat sat.", NULL}},
                         whole[2] = {{"Premise: The cat sat. Hypothesis: A cat was sitting. Answer:", NULL},
                                     {"Premise: The cat sat. Answer:", NULL}};
        const elang_gen_opts g = {.max_new_tokens = 3};
        elang_gen_out a[2], b[2];
        assert_int_equal(elang_generate(joined, in, 2, &g, a, &err), ELANG_OK);
        assert_int_equal(elang_generate(plain, whole, 2, &g, b, &err), ELANG_OK);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(a[i].num_input_ids, b[i].num_input_ids);
            assert_memory_equal(a[i].input_ids, b[i].input_ids, sizeof(int32_t) * (size_t)a[i].num_input_ids);
            assert_int_equal(a[i].num_ids, b[i].num_ids);
            assert_memory_equal(a[i].ids, b[i].ids, sizeof(int32_t) * (size_t)a[i].num_ids);
        }
        elang_gen_out_free(a, 2), elang_gen_out_free(b, 2);
        elang_model_free(joined), elang_model_free(plain);
    }
}

/* A language model's label words are the tokens that continue the prompt
 * after a space (GPT-2's " positive" 3967, " negative" 4633); the answer
 * is the one with the higher logit at the prompt's last position, the
 * scores those two logits'. */
static void label_words_with_language_models(void **s) {
    (void)s;
    elang_model *m;
    elang_error err;
    assert_int_equal(elang_model_load(shared_path("fixtures/hf/gpt2"), NULL, &m, &err), ELANG_OK);
    int32_t id;
    assert_int_equal(model_first_token_id(m, "positive", &id, &err), ELANG_OK);
    assert_int_equal(id, 3967);
    assert_int_equal(model_first_token_id(m, " negative", &id, &err), ELANG_OK);
    assert_int_equal(id, 4633);
    const char *words[2] = {"negative", "positive"};
    const elang_route_opts o = {.label_words = words, .num_label_words = 2};
    const elang_text in[3] = {{"Review: a charming film. Sentiment:", NULL}, {"Review: dull. Sentiment:", NULL},
                              {"x", NULL}};
    elang_answer a[3];
    assert_int_equal(elang_answer_all(m, in, NULL, 3, &o, a, NULL, &err), ELANG_OK);
    for (int i = 0; i < 3; i++) {
        elang_gen_out g;
        assert_int_equal(elang_generate(m, &in[i], 1, &(elang_gen_opts){.max_new_tokens = 1}, &g, &err), ELANG_OK);
        float logits[2];
        int32_t *ids = g.input_ids, mask[64];
        for (int k = 0; k < g.num_input_ids; k++) mask[k] = 1;
        float *row = malloc(sizeof(float) * 50257);
        assert_int_equal(first_step_logits(&m->s2s, &m->run, ids, mask, 1, g.num_input_ids, row, &err), ELANG_OK);
        logits[0] = row[4633], logits[1] = row[3967];
        assert_int_equal(a[i].label_id, logits[1] > logits[0]);
        const double lse = fmax(logits[0], logits[1]) + log1p(exp(-fabs(logits[0] - logits[1])));
        close_to(a[i].scores[ELANG_SCORE_ENERGY], lse, 1e-4, "label-word energy");
        assert_int_equal(a[i].input_tokens, g.num_input_ids);
        free(row);
        elang_gen_out_free(&g, 1);
    }
    elang_answers_free(a, 3);
    elang_model_free(m);
}

/* Routing language models on the prompt (ELANG_AGG_PROMPT): Swift scores
 * each input's first step without decoding; it then decodes exactly the
 * inputs it keeps (what it generates alone), the others going to Super
 * with no Swift text; the scores are those of the first generated token's
 * step (ELANG_AGG_FIRST of a full run). */
static void prompt_decisions(void **s) {
    (void)s;
    size_t n;
    json_t **cases = read_jsonl(shared_path("fixtures/hf/gpt2/cases.jsonl"), &n);
    elang_text in[12] = {{0}};
    size_t k = 0;
    for (size_t i = 0; i < n && k < 12; i++)
        if (json_object_get(cases[i], "greedy_ids")) in[k++].text = json_string_value(json_object_get(cases[i], "text"));
    elang_model *tiers[2];
    elang_error err;
    assert_int_equal(elang_model_load(shared_path("fixtures/hf/gpt2"), NULL, &tiers[0], &err), ELANG_OK);
    assert_int_equal(elang_model_load(shared_path("fixtures/hf/qwen2"), NULL, &tiers[1], &err), ELANG_OK);
    elang_route_opts o = elang_route_opts_default();
    o.gen.max_new_tokens = 8;
    o.aggregate = ELANG_AGG_FIRST;
    elang_answer full[12], alone[12];
    assert_int_equal(k, 12);
    if (elang_answer_all(tiers[0], in, NULL, k, &o, full, NULL, &err) != ELANG_OK) fail_msg("%s", err.message);
    assert_int_equal(elang_answer_all(tiers[1], in, NULL, k, &o, alone, NULL, &err), ELANG_OK);
    /* The median score: half the inputs each way. */
    float sorted[12] = {0};
    for (size_t i = 0; i < k; i++) sorted[i] = full[i].score;
    for (size_t i = 0; i < k; i++)
        for (size_t j = i + 1; j < k; j++)
            if (sorted[j] < sorted[i]) { float t = sorted[i]; sorted[i] = sorted[j]; sorted[j] = t; }
    const double threshold = (sorted[k / 2 - 1] + sorted[k / 2]) / 2;
    o.aggregate = ELANG_AGG_PROMPT;
    /* The one predicate: a first-step decision, whose pass costs the prompt;
     * label words read that step too, but it is their whole answer. */
    assert_int_equal(elang_decision_of(tiers[0], &o), ELANG_DECIDE_ON_FIRST_STEP);
    assert_true(elang_decision_gflops(tiers[0], ELANG_DECIDE_ON_FIRST_STEP, 7) == elang_model_gflops(tiers[0], 7, 1));
    const char *words[2] = {"negative", "positive"};
    elang_route_opts lw = o;
    lw.label_words = words, lw.num_label_words = 2;
    assert_int_equal(elang_decision_of(tiers[0], &lw), ELANG_DECIDE_AFTER_DECODING);
    elang_router *r;
    assert_int_equal(elang_router_new(tiers, 2, &threshold, &o, &r, &err), ELANG_OK);
    elang_route_out out[12];
    assert_int_equal(elang_route(r, in, k, out, &err), ELANG_OK);
    size_t routed = 0;
    for (size_t i = 0; i < k; i++) {
        const elang_answer *sw = &out[i].answers[0];
        for (int q = 0; q < ELANG_DIST_SCORES; q++) close_to(sw->scores[q], full[i].scores[q], 1e-4, "first-step score");
        assert_int_equal(out[i].tier, full[i].score >= threshold ? 0 : 1);
        if (out[i].tier == 0) {
            assert_int_equal(sw->gen.num_ids, full[i].gen.num_ids);
            assert_memory_equal(sw->gen.ids, full[i].gen.ids, sizeof(int32_t) * (size_t)sw->gen.num_ids);
        } else {
            routed++;
            assert_null(sw->gen.ids);
            assert_null(sw->gen.text);
            assert_int_equal(sw->decoder_steps, 1);
            const elang_answer *su = &out[i].answers[1];
            assert_memory_equal(su->gen.ids, alone[i].gen.ids, sizeof(int32_t) * (size_t)su->gen.num_ids);
        }
    }
    assert_int_equal(routed, k / 2);
    elang_route_out_free(out, k);
    elang_router_free(r);
    elang_answers_free(full, k), elang_answers_free(alone, k);
    elang_model_free(tiers[0]), elang_model_free(tiers[1]);
    free_jsonl(cases, n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scores_match_definitions),
        cmocka_unit_test(names_round_trip),
        cmocka_unit_test(aggregation_by_hand),
        cmocka_unit_test(random_score_is_fixed_and_uniform),
        cmocka_unit_test(objectives_parse),
        cmocka_unit_test(sweep_by_hand),
        cmocka_unit_test(sweep_with_nan_scores),
        cmocka_unit_test(metric_of_resample),
        cmocka_unit_test(bootstrap_objective_by_hand),
        cmocka_unit_test(gap_to_super_by_hand),
        cmocka_unit_test(gap_of_mean_by_hand),
        cmocka_unit_test(report_by_hand),
        cmocka_unit_test(head_costs_by_hand),
        cmocka_unit_test(calibration_file_round_trip),
        cmocka_unit_test(model_hash_skips_fifos),
        cmocka_unit_test(routes_classifiers_by_fixture_energy),
        cmocka_unit_test(routes_generators_by_fixture_energy),
        cmocka_unit_test(cascade_of_three),
        cmocka_unit_test(remote_tier_routes_and_degrades),
        cmocka_unit_test(label_words_classify_with_t5),
        cmocka_unit_test(t5_reads_pairs_through_its_infix),
        cmocka_unit_test(templates_hold_joined_pairs),
        cmocka_unit_test(label_words_with_language_models),
        cmocka_unit_test(prompt_decisions),
    };
    int failed = cmocka_run_group_tests_name("route", tests, NULL, NULL);
    test_tmpdir_cleanup();
    return failed;
}
