/* elang eval: the paper's table and more, on labelled data: Swift, Super
 * and E-LANG at the calibrated (or given) threshold, every routing score's
 * curve with RouteLLM's APGR and CPT, written as report.json, report.md and
 * curve.svg. */
#include <limits.h>
#include <math.h>
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

typedef struct {
    route_flags route;
    const char *task, *data, *src, *ref, *calibration, *report, *lines;
    double threshold;
} eval_flags;

/* How many of the examples idx[0..n) the calibration's data_lines list, or
 * -1 (said why) when that list cannot be read as lines of this file. */
static long calibrated_among(const elang_calibration *c, const elang_dataset *d, const size_t *idx, size_t n) {
    size_t count = 0, common = 0;
    size_t *calibrated = examples_on_lines("eval", d, c->data_lines, &count);
    if (!calibrated) {
        fprintf(stderr, "elang eval: warning: %s is the calibration's data_lines, which cannot be read as lines of "
                        "this data (said above), so the lines evaluated here that it lists cannot be counted\n",
                c->data_lines);
        return -1;
    }
    /* Both lists are in file order. */
    for (size_t i = 0, j = 0; i < n && j < count;) {
        if (idx[i] == calibrated[j]) common++, i++, j++;
        else if (idx[i] < calibrated[j]) i++;
        else j++;
    }
    free(calibrated);
    return (long)common;
}

/* Calibrating and reporting on the same inputs flatters E-LANG (the
 * authors' code does it); say so when they may overlap: the same file,
 * and with --lines and a calibration made on listed lines, lines in common
 * (a held-out part of those was not calibrated on, hence "up to"). */
static void warn_same_data(const elang_calibration *c, const char *data, const elang_dataset *d, const size_t *idx,
                           size_t n) {
    char a[PATH_MAX], b[PATH_MAX];
    if (!realpath(c->data, a) || !realpath(data, b) || strcmp(a, b) != 0) return;
    const char *overstates = "the report overstates what unseen data would give";
    const long common = idx && c->data_lines[0] ? calibrated_among(c, d, idx, n) : -1;
    if (common == 0) return;
    if (common > 0)
        fprintf(stderr, "elang eval: warning: %s%ld of the %zu examples evaluated are among those the threshold was "
                        "calibrated on (%s); %s\n", c->holdout > 0 ? "up to " : "", common, n, c->data_lines,
                overstates);
    else if (idx)
        fprintf(stderr, "elang eval: warning: the %zu lines evaluated are of %s, %s %s\n", n, data,
                c->data_lines[0]   ? "on whose lines in the calibration's data_lines the threshold was calibrated: "
                                     "where they are among those,"
                : c->holdout > 0 ? "on which the threshold was calibrated but for a held-out part: unless they are "
                                     "all in that part,"
                                   : "on all of which the threshold was calibrated, so",
                overstates);
    else
        fprintf(stderr, "elang eval: warning: %s is the file the threshold was calibrated on%s; %s\n", data,
                c->data_lines[0] ? " (the lines listed in the calibration's data_lines), and this evaluates all of it"
                : c->holdout > 0 ? " (its held-out part was not, but this evaluates all of it)" : "", overstates);
}

int cmd_eval(int argc, char **argv) {
    eval_flags fl = {.route = {ROUTE_FLAG_DEFAULTS}, .threshold = NAN};
    const flag_spec flags[] = {
        ROUTE_FLAG_SPECS(fl.route),
        DATA_FLAG_SPECS(fl.task, fl.data, fl.src, fl.ref),
        {"calibration", FLAG_STRING, &fl.calibration, 0, 0, NULL, "CALIB.json from elang calibrate", "FILE"},
        {"threshold", FLAG_DOUBLE, &fl.threshold, -1e30, 1e30, NULL, "keep Swift's answer when score >= t", "t"},
        {"report", FLAG_STRING, &fl.report, 0, 0, NULL, "directory for report.json, report.md, curve.svg (required)", "DIR"},
        {"lines", FLAG_STRING, &fl.lines, 0, 0, NULL, "evaluate on these 1-based lines of the data file (a TSV header is line 1; translation: of --src) only", "FILE"},
        {0},
    };
    const char *synopsis =
        "--swift DIR --super DIR --task TASK --data FILE [--lines FILE] (--calibration CALIB.json | --threshold t) "
        "--report DIR";
    int rc = parse_flags("eval", synopsis, argc, argv, flags);
    if (rc) return rc == 1 ? 0 : 2;
    if (!fl.report) {
        fprintf(stderr, "elang eval: --report DIR is required\n");
        return 2;
    }
    const named_path inputs[] = {{"--data", fl.data}, {"--src", fl.src}, {"--ref", fl.ref},
                                 {"--calibration", fl.calibration}, {"--lines", fl.lines}};
    if (!report_dir_usable("eval", "--report", fl.report, inputs, sizeof inputs / sizeof inputs[0])) return 2;
    if (!fl.calibration == isnan(fl.threshold)) {
        fprintf(stderr, "elang eval: give exactly one of --calibration FILE and --threshold t\n");
        return 2;
    }
    elang_error err;
    elang_calibration calib = {0};
    if (fl.calibration && elang_calibration_load(fl.calibration, &calib, &err) != ELANG_OK)
        return cli_fail("eval", "", &err);
    const elang_calibration *cal = fl.calibration ? &calib : NULL;
    elang_route_opts opts;
    elang_dataset *data = NULL;
    elang_model *swift = NULL, *super = NULL;
    elang_pair_run *run = NULL;
    double seconds = -1.0;
    size_t *idx = NULL, n = 0;
    rc = route_opts_from_flags("eval", &fl.route, cal, &opts) ? 0 : 2;
    if (!rc && cal && strcmp(cal->task, fl.task ? fl.task : "") != 0) {
        fprintf(stderr, "elang eval: the calibration is for task %s, not %s\n", cal->task, fl.task ? fl.task : "(none)");
        rc = 2;
    }
    if (!rc && cal && fl.route.swift && fl.route.super &&
        elang_calibration_check(cal, fl.route.swift, fl.route.super, &err) != ELANG_OK)
        rc = cli_fail("eval", "", &err);
    if (!rc) rc = load_dataset("eval", fl.task, fl.data, fl.src, fl.ref, &data);
    if (!rc) rc = load_pair("eval", &fl.route, cal, &swift, &super);
    elang_model *pair[2] = {swift, super};
    if (!rc) rc = fit_max_new_tokens("eval", pair, 2, &opts.gen.max_new_tokens, max_new_tokens_source(&fl.route, cal));
    const double threshold = cal ? cal->threshold : fl.threshold;
    if (!rc && fl.lines && !(idx = examples_on_lines("eval", data, fl.lines, &n))) rc = 1;
    if (!rc && cal) warn_same_data(cal, fl.data ? fl.data : fl.src, data, idx, n);
    if (!rc && (elang_pair_run_new(swift, super, data, idx, n, &opts, progress_bar, "eval", &run, &err) != ELANG_OK ||
                elang_measure_routed(run, swift, super, data, opts.score, threshold, &seconds, &err) != ELANG_OK ||
                elang_report_write(run, opts.score, threshold, seconds, fl.report, &err) != ELANG_OK))
        rc = cli_fail("eval", "", &err);
    if (!rc) {
        char path[4096];
        snprintf(path, sizeof path, "%s/report.md", fl.report);
        FILE *f = fopen(path, "r");
        char line[1024];
        while (f && fgets(line, sizeof line, f)) fputs(line, stdout);
        if (f) fclose(f);
        printf("\nwrote %s/report.json, report.md and curve.svg\n", fl.report);
    }
    elang_pair_run_free(run);
    elang_model_free(swift), elang_model_free(super);
    elang_dataset_free(data);
    free(idx);
    elang_calibration_free(&calib);
    route_flags_free(&fl.route);
    return rc;
}
