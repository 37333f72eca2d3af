/* elang route: E-LANG joint inference over JSONL inputs. Every input runs
 * on Swift; those scoring below the threshold also run on Super, whose
 * answer replaces Swift's; Super may be a server elsewhere (--super URL).
 * With --models A,B,C and --thresholds t1,t2 the same holds hop by hop (a
 * cascade). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/fail.h"
#include "cli/io.h"
#include "cli/model_flags.h"
#include "cli/route_flags.h"
#include "cli/stream.h"
#include "elang_eval.h"
#include "route/answer_json.h"
#include "util/decimal.h"

#define MAX_TIERS 8

typedef struct {
    route_flags route;
    remote_flags remote;
    const char *input, *output, *format, *calibration, *models, *thresholds;
    const char *stop; /* NULL: not given */
    double threshold;
    bool emit_ids, profile;
} cmd_flags;

typedef struct {
    elang_router *router;
    elang_model **tiers;
    int num_tiers;
    const cmd_flags *flags;
    size_t done, total; /* for the progress bar; total 0 when unknown (stdin) */
    size_t degraded;    /* inputs a remote Super failed to answer */
    elang_remote *super_elsewhere;
    elang_error first_failure; /* why the remote Super first failed, for the closing warning */
} route_ctx;

/* elang_remote_answer, keeping the first failure's reason: the router only
 * marks the inputs degraded, and a user told so wants to know why. */
static elang_status ask_remote(void *ctx, const elang_text *in, const size_t *items, size_t n, elang_answer *out,
                               elang_error *err) {
    route_ctx *c = ctx;
    const elang_status st = elang_remote_answer(c->super_elsewhere, in, items, n, out, err);
    if (st != ELANG_OK && c->first_failure.code == ELANG_OK) c->first_failure = *err;
    return st;
}

static bool route_chunk(void *ctx, const cli_record *recs, size_t n, const char *input_name, output_file *out) {
    route_ctx *c = ctx;
    elang_text *texts = calloc(n, sizeof *texts);
    elang_route_out *res = calloc(n, sizeof *res);
    bool ok = texts && res;
    if (!ok) fprintf(stderr, "elang route: out of memory\n");
    for (size_t i = 0; ok && i < n; i++) texts[i] = (elang_text){recs[i].text, recs[i].text_pair};
    elang_error err;
    if (ok && elang_route(c->router, texts, n, res, &err) != ELANG_OK) {
        report_error("route", input_name, recs, &err);
        ok = false;
    } else if (ok) {
        for (size_t i = 0; ok && i < n; i++) {
            json_t *obj = route_out_json(recs[i].id, &res[i], c->num_tiers, elang_model_num_labels(c->tiers[0]),
                                         c->flags->emit_ids);
            c->degraded += res[i].degraded;
            ok = output_write(out, obj);
            json_decref(obj);
        }
        elang_route_out_free(res, n);
        c->done += n;
        progress_bar("route", "", c->done, c->total);
    }
    free(texts);
    free(res);
    return ok;
}

/* Lines in a regular file (the progress bar's total); 0, unknown, for
 * stdin, pipes and devices, which can be read only once: the routing
 * itself must get their lines. */
static size_t count_lines(const char *path) {
    struct stat st;
    if (strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t lines = 0;
    int ch, last = '\n';
    while ((ch = getc(f)) != EOF) {
        if (ch == '\n') lines++;
        last = ch;
    }
    fclose(f);
    return lines + (last != '\n');
}

/* Splits "a,b,c" into at most `max` parts; false on an empty part. */
static int split_list(char *list, char **parts, int max) {
    int n = 0;
    for (char *p = list, *comma; p; p = comma ? comma + 1 : NULL) {
        comma = strchr(p, ',');
        if (comma) *comma = '\0';
        if (!*p || n == max) return -1;
        parts[n++] = p;
    }
    return n;
}

/* The tiers and thresholds the flags ask for; prints why on failure. */
static bool plan_tiers(cmd_flags *fl, const elang_calibration *calib, char **dirs, double *thresholds, int *n,
                       char *models_copy, char *thresholds_copy) {
    if (fl->models) {
        if (fl->route.swift || fl->route.super || calib) {
            fprintf(stderr, "elang route: --models replaces --swift/--super and takes --thresholds, not a calibration\n");
            return false;
        }
        if (fl->route.swift_prefix || fl->route.super_prefix) {
            fprintf(stderr, "elang route: --%s-prefix is for --swift/--super; --models runs every tier on the text "
                            "as given\n", fl->route.swift_prefix ? "swift" : "super");
            return false;
        }
        *n = split_list(models_copy, dirs, MAX_TIERS);
        char *parts[MAX_TIERS];
        const int k = fl->thresholds ? split_list(thresholds_copy, parts, MAX_TIERS) : -1;
        if (*n < 2 || k != *n - 1) {
            fprintf(stderr, "elang route: --models needs 2 to %d directories and --thresholds one number fewer\n",
                    MAX_TIERS);
            return false;
        }
        for (int i = 0; i < k; i++) {
            /* The range of --threshold. */
            if (!decimal_parse(parts[i], -1e30, 1e30, &thresholds[i])) {
                fprintf(stderr, "elang route: threshold '%s' is not a number from -1e30 to 1e30\n", parts[i]);
                return false;
            }
        }
        return true;
    }
    if (!fl->route.swift || !fl->route.super) {
        fprintf(stderr, "elang route: give --swift DIR --super DIR (or --models A,B,C)\n");
        return false;
    }
    if (!calib == isnan(fl->threshold)) {
        fprintf(stderr, "elang route: give exactly one of --calibration FILE and --threshold t\n");
        return false;
    }
    dirs[0] = (char *)fl->route.swift, dirs[1] = (char *)fl->route.super;
    thresholds[0] = calib ? calib->threshold : fl->threshold;
    *n = 2;
    return true;
}

int cmd_route(int argc, char **argv) {
    cmd_flags fl = {.route = {ROUTE_FLAG_DEFAULTS}, .remote = REMOTE_FLAG_DEFAULTS, .input = "-", .output = "-", .format = "json", .threshold = NAN};
    const flag_spec flags[] = {
        ROUTE_FLAG_SPECS(fl.route),
        REMOTE_FLAG_SPECS(fl.remote),
        {"calibration", FLAG_STRING, &fl.calibration, 0, 0, NULL, "CALIB.json from elang calibrate", "FILE"},
        {"threshold", FLAG_DOUBLE, &fl.threshold, -1e30, 1e30, NULL, "keep Swift's answer when score >= t", "t"},
        {"models", FLAG_STRING, &fl.models, 0, 0, NULL, "a cascade: model directories, smallest first", "A,B,C"},
        {"thresholds", FLAG_STRING, &fl.thresholds, 0, 0, NULL, "a cascade: one threshold per hop", "t1,t2"},
        {"input", FLAG_STRING, &fl.input, 0, 0, NULL, "inputs, one per line; - for stdin (default)", "FILE"},
        {"output", FLAG_STRING, &fl.output, 0, 0, NULL, "results, one JSON line per input; - for stdout", "FILE"},
        {"format", FLAG_CHOICE, &fl.format, 0, 0, "json|text", "input lines are JSON objects (default) or raw text", "json|text"},
        {"emit-ids", FLAG_BOOL, &fl.emit_ids, 0, 0, NULL, "also output input_ids", NULL},
        {"stop", FLAG_TEXT, &fl.stop, 0, 0, NULL,
         "generators: end a generation once its text holds TEXT (greedy; not with --calibration)", "TEXT"},
        PROFILE_FLAG_SPEC(fl.profile),
        {0},
    };
    const char *synopsis = "--swift DIR --super DIR|URL (--calibration CALIB.json | --threshold t) [flags]";
    int rc = parse_flags("route", synopsis, argc, argv, flags);
    if (rc) return rc == 1 ? 0 : 2;

    elang_calibration calib = {0};
    elang_error err;
    if (fl.calibration && elang_calibration_load(fl.calibration, &calib, &err) != ELANG_OK)
        return cli_fail("route", "", &err);
    const elang_calibration *cal = fl.calibration ? &calib : NULL;
    char *dirs[MAX_TIERS], *models_copy = fl.models ? strdup(fl.models) : NULL;
    char *thresholds_copy = fl.thresholds ? strdup(fl.thresholds) : NULL;
    double thresholds[MAX_TIERS];
    int n = 0;
    elang_route_opts opts;
    const bool flags_ok = plan_tiers(&fl, cal, dirs, thresholds, &n, models_copy, thresholds_copy) &&
                          check_remote_flags("route", &fl.route, &fl.remote) &&
                          route_opts_from_flags("route", &fl.route, cal, &opts) &&
                          stop_from_flag("route", &fl.stop, cal, &opts);
    rc = flags_ok ? 0 : 2;
    /* Super elsewhere: only Swift is here (and only its hash checked). */
    const bool remote = !fl.models && fl.route.super && is_url(fl.route.super);
    if (!rc && cal && elang_calibration_check(cal, dirs[0], remote ? NULL : dirs[1], &err) != ELANG_OK)
        rc = cli_fail("route", "", &err);
    elang_model *tiers[MAX_TIERS] = {0};
    elang_load_opts lo = {.threads = fl.route.threads, .dtype = dtype_of_flag(fl.route.dtype),
                          .pair_infix = fl.route.pair_infix};
    if (!rc && !fl.models) rc = load_pair("route", &fl.route, cal, &tiers[0], remote ? NULL : &tiers[1]);
    for (int i = 0; !rc && fl.models && i < n; i++)
        if (elang_model_load(dirs[i], &lo, &tiers[i], &err) != ELANG_OK) rc = cli_fail("route", "", &err);
    if (!rc && fl.models && !decoding_flags_fit("route", &fl.route, tiers[0])) rc = 2;
    route_ctx ctx = {.tiers = tiers, .num_tiers = n, .flags = &fl, .total = count_lines(fl.input)};
    /* The decoding is settled before the router (and a remote Super) take
     * a copy of it. */
    if (!rc)
        rc = fit_max_new_tokens("route", tiers, remote ? 1 : n, &opts.gen.max_new_tokens,
                                max_new_tokens_source(&fl.route, cal));
    /* Models that cannot stand in for each other, label words given to
     * classifiers or to a remote Super, are a mistake in the command. */
    const elang_remote_opts where = remote_opts_of(fl.route.super, &fl.remote);
    if (!rc && remote &&
        (elang_remote_new(&where, tiers[0], &opts, &ctx.super_elsewhere, &err) != ELANG_OK ||
         elang_router_new_remote(tiers, 1, thresholds, ask_remote, &ctx, &opts, &ctx.router, &err) != ELANG_OK))
        rc = cli_fail("route", "", &err);
    if (!rc && !remote && elang_router_new(tiers, n, thresholds, &opts, &ctx.router, &err) != ELANG_OK)
        rc = cli_fail("route", "", &err);
    if (!rc) {
        const stream_job job = {
            .command = "route", .input = fl.input, .output = fl.output, .calibration = fl.calibration,
            .plain_text = strcmp(fl.format, "text") == 0, .allow_pair = true,
            .chunk = (size_t)fl.route.batch_size * 8 > 256 ? (size_t)fl.route.batch_size * 8 : 256,
            .handle = route_chunk, .ctx = &ctx,
        };
        rc = run_stream(&job);
    }
    if (ctx.degraded)
        fprintf(stderr, "elang route: warning: the remote Super at %s did not answer for %zu routed inputs (first "
                        "failure: %s); they carry Swift's answer, marked \"degraded\": true\n", fl.route.super,
                ctx.degraded, ctx.first_failure.message);
    elang_router_free(ctx.router);
    elang_remote_free(ctx.super_elsewhere);
    for (int i = 0; i < n; i++) {
        if (fl.profile && tiers[i]) print_profile("route", tiers[i]);
        elang_model_free(tiers[i]);
    }
    free(models_copy), free(thresholds_copy);
    elang_calibration_free(&calib);
    route_flags_free(&fl.route);
    return rc;
}
