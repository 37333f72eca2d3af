/* elang calibrate: run Swift and Super once over labelled data, sweep every
 * distinct score as a threshold, keep the one that meets the objective, and
 * write it with what it was made for to CALIB.json. With --holdout F the
 * threshold is chosen on one part of the data and its outcome reported on
 * the rest, so the number printed is not the one the threshold was fitted to. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/fail.h"
#include "cli/io.h"
#include "cli/model_flags.h"
#include "cli/route_flags.h"
#include "elang_eval.h"
#include "util/decimal.h"

typedef struct {
    route_flags route;
    const char *task, *data, *src, *ref, *objective, *out, *lines;
    double holdout;
} calibrate_flags;

/* A seeded shuffle of 0..n-1 (xorshift64*, Fisher-Yates). */
static size_t *shuffled(size_t n, uint64_t seed) {
    size_t *idx = malloc(sizeof *idx * n);
    if (!idx) return NULL;
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
    for (size_t i = 0; i < n; i++) idx[i] = i;
    for (size_t i = n; i > 1; i--) {
        x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
        const size_t j = (size_t)((x * 0x2545F4914F6CDD1Dull) % i);
        const size_t t = idx[i - 1];
        idx[i - 1] = idx[j], idx[j] = t;
    }
    return idx;
}

static int by_index(const void *a, const void *b) {
    const size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* Routing that costs more than Super alone (a Swift dearer than the
 * Super's share it saves) is said as "more", not as 0.9x "fewer". */
static double cost_ratio(double super_gflops, double gflops) {
    return super_gflops >= gflops ? super_gflops / gflops : gflops / super_gflops;
}
static const char *cost_word(double super_gflops, double gflops) { return super_gflops >= gflops ? "fewer" : "more"; }

/* How sure the calibration inputs are of Swift's and E-LANG's gaps to
 * Super: a threshold set where they cannot tell Super ahead of Swift
 * rests on sampling noise, and the user should know before relying on it. */
static void print_gaps(const elang_pair_run *fit, elang_score_kind kind, double threshold) {
    elang_gap swift, elang;
    elang_error err;
    if (elang_swift_gap_to_super(fit, 1, NULL, &swift, &err) != ELANG_OK ||
        elang_gap_to_super(fit, kind, threshold, 1, NULL, &elang, &err) != ELANG_OK || !isfinite(swift.hi) ||
        !isfinite(elang.hi))
        return;
    printf("  minus Super, over %zu paired bootstrap resamples: Swift alone %+.4f (95%% interval %+.4f to %+.4f), "
           "E-LANG %+.4f (%+.4f to %+.4f)\n", swift.resamples, swift.difference, swift.lo, swift.hi,
           elang.difference, elang.lo, elang.hi);
    if (swift.hi >= 0.0)
        printf("  note: these inputs do not tell Super's lead over Swift apart from none (Swift at least Super on "
               "%.1f%% of the resamples), so where the threshold falls rests largely on sampling noise\n",
               100.0 * swift.share_at_least);
}

int cmd_calibrate(int argc, char **argv) {
    calibrate_flags fl = {.route = {ROUTE_FLAG_DEFAULTS}, .objective = "match-super"};
    const flag_spec flags[] = {
        ROUTE_FLAG_SPECS(fl.route),
        DATA_FLAG_SPECS(fl.task, fl.data, fl.src, fl.ref),
        {"objective", FLAG_STRING, &fl.objective, 0, 0, NULL,
         "match-super[:EPS] (default), match-super-bootstrap:SHARE, super-rate:P, budget:GFLOPS or max-metric",
         "OBJ"},
        {"holdout", FLAG_DOUBLE, &fl.holdout, 0.0, 0.9, NULL, "share of the data held out to report on (default 0)", "F"},
        {"lines", FLAG_STRING, &fl.lines, 0, 0, NULL, "calibrate on these 1-based lines of the data file only (a TSV header is line 1)", "FILE"},
        {"out", FLAG_STRING, &fl.out, 0, 0, NULL, "where to write the calibration (required)", "CALIB.json"},
        {0},
    };
    const char *synopsis = "--swift DIR --super DIR --task TASK --data FILE --objective OBJ --out CALIB.json [flags]";
    int rc = parse_flags("calibrate", synopsis, argc, argv, flags);
    if (rc) return rc == 1 ? 0 : 2;
    if (!fl.out) {
        fprintf(stderr, "elang calibrate: --out CALIB.json is required\n");
        return 2;
    }
    if (strcmp(fl.out, "-") == 0) {
        fprintf(stderr, "elang calibrate: --out - : a calibration is written to a file, not to standard output\n");
        return 2;
    }
    const named_path inputs[] = {{"--data", fl.data}, {"--src", fl.src}, {"--ref", fl.ref}, {"--lines", fl.lines}};
    if (output_is_an_input("calibrate", "--out", fl.out, inputs, sizeof inputs / sizeof inputs[0]) ||
        !out_file_usable("calibrate", "--out", fl.out))
        return 2;
    elang_error err;
    elang_objective obj;
    elang_route_opts opts;
    if (elang_objective_parse(fl.objective, &obj, &err) != ELANG_OK) {
        fprintf(stderr, "elang calibrate: %s\n", err.message);
        return 2;
    }
    elang_dataset *data = NULL;
    elang_model *swift = NULL, *super = NULL;
    elang_pair_run *fit = NULL, *held = NULL;
    size_t *idx = NULL, *chosen_lines = NULL, n = 0;
    rc = route_opts_from_flags("calibrate", &fl.route, NULL, &opts) ? 0 : 2;
    if (!rc) rc = load_dataset("calibrate", fl.task, fl.data, fl.src, fl.ref, &data);
    if (!rc) rc = load_pair("calibrate", &fl.route, NULL, &swift, &super);
    elang_model *pair[2] = {swift, super};
    if (!rc) rc = fit_max_new_tokens("calibrate", pair, 2, &opts.gen.max_new_tokens, max_new_tokens_source(&fl.route, NULL));
    if (!rc) n = elang_dataset_size(data);
    if (!rc && fl.lines && !(chosen_lines = examples_on_lines("calibrate", data, fl.lines, &n))) rc = 1;
    const size_t n_held = (size_t)floor(fl.holdout * (double)n + 0.5);
    if (!rc && fl.holdout > 0.0 && (n_held < 1 || n_held >= n)) {
        fprintf(stderr, "elang calibrate: --holdout %g of %zu inputs leaves one side empty\n", fl.holdout, n);
        rc = 2;
    }
    if (!rc && !(idx = shuffled(n, (uint64_t)fl.route.seed))) {
        fprintf(stderr, "elang calibrate: out of memory\n");
        rc = 1;
    }
    /* With --lines the shuffle picks among the listed examples. */
    for (size_t i = 0; !rc && chosen_lines && i < n; i++) idx[i] = chosen_lines[idx[i]];
    /* Each part in file order: the split is random, the batches are not. */
    if (!rc) {
        qsort(idx, n - n_held, sizeof *idx, by_index);
        qsort(idx + n - n_held, n_held, sizeof *idx, by_index);
    }
    elang_point chosen, heldout = {.metric = NAN, .super_rate = NAN}, sw = {0}, su = {0};
    if (!rc && (elang_pair_run_new(swift, super, data, idx, n - n_held, &opts, progress_bar, "calibrate", &fit, &err) != ELANG_OK ||
                elang_choose(fit, opts.score, &obj, &chosen, &err) != ELANG_OK))
        rc = cli_fail("calibrate", "", &err);
    if (!rc && n_held > 0 &&
        (elang_pair_run_new(swift, super, data, idx + n - n_held, n_held, &opts, progress_bar, "holdout", &held, &err) != ELANG_OK ||
         elang_at_threshold(held, opts.score, chosen.threshold, &heldout, &err) != ELANG_OK))
        rc = cli_fail("calibrate", "", &err);
    if (!rc && elang_pair_run_ends(fit, &sw, &su, &err) != ELANG_OK) rc = cli_fail("calibrate", "", &err);
    if (!rc) {
        elang_calibration c = {.threshold = chosen.threshold, .score = opts.score, .temperature = opts.temperature,
                               .aggregate = opts.aggregate,
                               .holdout = fl.holdout, .metric = chosen.metric, .super_rate = chosen.super_rate,
                               .gflops = chosen.gflops, .heldout_metric = heldout.metric,
                               .heldout_super_rate = heldout.super_rate, .swift_metric = sw.metric,
                               .super_metric = su.metric, .swift_gflops = sw.gflops, .super_gflops = su.gflops,
                               .num_beams = opts.gen.num_beams, .max_new_tokens = opts.gen.max_new_tokens,
                               .dtype = elang_model_dtype(swift)};
        bool ok = opts.num_label_words == 0 ||
                  (c.label_words = calloc((size_t)opts.num_label_words, sizeof *c.label_words)) != NULL;
        if (!ok) err = (elang_error){.code = ELANG_ERR_NOMEM, .message = "out of memory", .item = -1};
        for (int i = 0; ok && i < opts.num_label_words; i++, c.num_label_words++)
            ok = elang_calibration_set(&c.label_words[i], opts.label_words[i], &err) == ELANG_OK;
        ok = ok && elang_calibration_set(&c.objective, fl.objective, &err) == ELANG_OK &&
             elang_calibration_set(&c.task, fl.task, &err) == ELANG_OK &&
             elang_calibration_set(&c.data, fl.data ? fl.data : fl.src, &err) == ELANG_OK &&
             elang_calibration_set(&c.data_lines, fl.lines, &err) == ELANG_OK &&
             elang_calibration_set(&c.metric_name, elang_pair_run_metric_name(fit), &err) == ELANG_OK &&
             elang_calibration_set(&c.swift_dir, fl.route.swift, &err) == ELANG_OK &&
             elang_calibration_set(&c.super_dir, fl.route.super, &err) == ELANG_OK &&
             elang_calibration_set(&c.swift_prefix, fl.route.swift_prefix, &err) == ELANG_OK &&
             elang_calibration_set(&c.super_prefix, fl.route.super_prefix, &err) == ELANG_OK &&
             elang_calibration_set(&c.pair_infix, fl.route.pair_infix, &err) == ELANG_OK &&
             elang_model_hash(fl.route.swift, c.swift_hash, &err) == ELANG_OK &&
             elang_model_hash(fl.route.super, c.super_hash, &err) == ELANG_OK &&
             elang_calibration_save(&c, fl.out, &err) == ELANG_OK;
        if (!ok) rc = cli_fail("calibrate", "", &err);
        elang_calibration_free(&c);
    }
    if (!rc) {
        printf("calibrated on %zu inputs (%s): threshold %.6g on %s\n", n - n_held, fl.objective, chosen.threshold,
               elang_score_name(opts.score));
        printf("  %s: Swift %.4f, Super %.4f, E-LANG %.4f with %.1f%% on Super, %.3g GFLOPs/input (Super %.3g: %.2fx %s)\n",
               elang_pair_run_metric_name(fit), sw.metric, su.metric, chosen.metric, 100.0 * chosen.super_rate,
               chosen.gflops, su.gflops, cost_ratio(su.gflops, chosen.gflops), cost_word(su.gflops, chosen.gflops));
        print_gaps(fit, opts.score, chosen.threshold);
        if (held && elang_pair_run_ends(held, &sw, &su, &err) == ELANG_OK) {
            printf("  held out (%zu inputs): Swift %.4f, Super %.4f, E-LANG %.4f with %.1f%% on Super, %.3g GFLOPs/input "
                   "(%.2fx %s)\n", n_held, sw.metric, su.metric, heldout.metric, 100.0 * heldout.super_rate,
                   heldout.gflops, cost_ratio(su.gflops, heldout.gflops), cost_word(su.gflops, heldout.gflops));
        }
        printf("wrote %s\n", fl.out);
    }
    elang_pair_run_free(fit), elang_pair_run_free(held);
    elang_model_free(swift), elang_model_free(super);
    elang_dataset_free(data);
    free(idx), free(chosen_lines);
    route_flags_free(&fl.route);
    return rc;
}
