/* The evaluation report of a routed run: report.json for machines,
 * report.md with the paper's table for people, curve.svg to look at.
 *
 * Routing quality beside the paper's single operating point follows
 * RouteLLM (Ong et al., 2024): PGR(p) = (metric(p) - Swift) / (Super - Swift)
 * at Super-call rate p; APGR is its area over p in [0, 1]; CPT(x) is the
 * least Super-call rate whose PGR reaches x. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "eval/svg.h"
#include "eval/pair_run.h"

typedef struct {
    elang_point *pts; /* the sweep, Super rate falling from 1 to 0 */
    size_t n;
    double apgr, cpt50, cpt80; /* NaN when Swift and Super score the same */
} kind_curve;

static double pgr(double metric, double swift, double super) {
    return super != swift ? (metric - swift) / (super - swift) : NAN;
}

static void routing_quality(kind_curve *c, double swift, double super) {
    c->apgr = 0.0;
    c->cpt50 = c->cpt80 = NAN;
    if (super == swift) {
        c->apgr = NAN;
        return;
    }
    /* Points come with falling Super rate; walk them rising. */
    for (size_t j = c->n; j-- > 0;) {
        const elang_point *p = &c->pts[j];
        const double g = pgr(p->metric, swift, super);
        if (j + 1 < c->n) {
            const elang_point *q = &c->pts[j + 1];
            c->apgr += (p->super_rate - q->super_rate) * 0.5 * (g + pgr(q->metric, swift, super));
        }
        /* A tolerance, so that exactly half the gap counts as half. */
        if (isnan(c->cpt50) && g >= 0.5 - 1e-9) c->cpt50 = p->super_rate;
        if (isnan(c->cpt80) && g >= 0.8 - 1e-9) c->cpt80 = p->super_rate;
    }
}

/* The oracle sends to Super exactly the inputs where that helps: Swift
 * wrong and Super right, or, for translation and regression, Super's own
 * sentence closer to the reference. */
static elang_status oracle_point(const elang_pair_run *r, elang_score_kind kind, elang_point *out, elang_error *err) {
    bool *on = malloc(sizeof(bool) * r->n);
    if (!on) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
    size_t routed = 0;
    for (size_t i = 0; i < r->n; i++) {
        const run_item *it = &r->items[i];
        bool super_helps;
        if (r->kind == RUN_CLASSES) super_helps = it->swift_pred != it->label && it->super_pred == it->label;
        else if (r->kind == RUN_REGRESSION) super_helps = fabs(it->super_value - it->target) < fabs(it->swift_value - it->target);
        else super_helps = chrf_from_stats(&it->super_chrf) > chrf_from_stats(&it->swift_chrf);
        on[i] = !super_helps;
        routed += super_helps;
    }
    /* Its cost as routing by `kind` would pay it. */
    *out = (elang_point){.threshold = NAN, .super_rate = (double)routed / r->n, .gflops = run_gflops(r, kind, on)};
    elang_status st = run_metric(r, on, &out->metric, err);
    free(on);
    return st;
}

/* The score kinds the run has: every kind, the encoder head's only when
 * Swift has one. */
static bool run_has_kind(const elang_pair_run *r, int k) { return k != ELANG_SCORE_ENCODER_HEAD || r->has_head; }

static json_t *number(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *point_json(const elang_point *p) {
    return json_pack("{s:o, s:o, s:o, s:o}", "threshold", number(p->threshold), "super_rate", number(p->super_rate),
                     "metric", number(p->metric), "gflops", number(p->gflops));
}

static json_t *model_json(const char *dir, const char *metric_name, const elang_point *p, double ms) {
    return json_pack("{s:s, s:o, s:s, s:o, s:o}", "model", dir, "metric", number(p->metric), "metric_name",
                     metric_name, "gflops", number(p->gflops), "ms", number(ms));
}

typedef struct {
    const elang_pair_run *r;
    elang_score_kind kind;
    /* The metric reported beside the main one, if any (translation: corpus
     * chrF2; MRPC, QQP: accuracy beside F1): its name ("chrf",
     * "accuracy") or NULL, and its value for Swift, Super, E-LANG. */
    const char *second_name;
    double second[3];
    elang_point swift, super, chosen, oracle;
    elang_gap swift_gap, gap; /* Swift's and E-LANG's score minus Super's, with their bootstrap spread */
    double swift_ms, super_ms, elang_ms;
    kind_curve curves[ELANG_SCORE_KINDS];
} report;

/* What elang_gap_to_super scores: the metric, or "f1+accuracy" where GLUE
 * averages two. */
static void gap_score_name(const elang_pair_run *r, char *out, size_t size) {
    if (run_has_two_metrics(r))
        snprintf(out, size, "%s+%s", task_metric_name(r->task->metrics[0]), task_metric_name(r->task->metrics[1]));
    else snprintf(out, size, "%s", elang_pair_run_metric_name(r));
}

static json_t *gap_json(const elang_pair_run *r, const elang_gap *g) {
    char score[64];
    gap_score_name(r, score, sizeof score);
    return json_pack("{s:s, s:o, s:o, s:[o, o], s:o, s:I}", "score", score, "difference", number(g->difference), "se",
                     number(g->se), "ci95", number(g->lo), number(g->hi), "share_at_least_super",
                     number(g->share_at_least), "resamples", (json_int_t)g->resamples);
}

static elang_status write_json(const report *rp, const char *path, elang_error *err) {
    const elang_pair_run *r = rp->r;
    const char *metric = elang_pair_run_metric_name(r);
    json_t *root = json_object();
    json_object_set_new(root, "task", json_string(r->task ? r->task->name : "translation"));
    json_object_set_new(root, "inputs", json_integer((json_int_t)r->n));
    json_object_set_new(root, "score", json_string(elang_score_name(rp->kind)));
    json_object_set_new(root, "temperature", json_real(r->opts.temperature));
    json_object_set_new(root, "aggregation", json_string(elang_aggregation_name(r->opts.aggregate)));
    json_object_set_new(root, "swift", model_json(r->swift_dir, metric, &rp->swift, rp->swift_ms));
    json_object_set_new(root, "super", model_json(r->super_dir, metric, &rp->super, rp->super_ms));
    json_t *e = model_json("elang", metric, &rp->chosen, rp->elang_ms);
    json_object_del(e, "model");
    json_object_set_new(e, "threshold", number(rp->chosen.threshold));
    json_object_set_new(e, "swift_ratio", number(1.0 - rp->chosen.super_rate));
    json_object_set_new(e, "super_rate", number(rp->chosen.super_rate));
    json_object_set_new(e, "speedup_flops", number(rp->super.gflops / rp->chosen.gflops));
    json_object_set_new(e, "speedup_time", number(rp->super_ms / rp->elang_ms));
    json_object_set_new(json_object_get(root, "swift"), "vs_super", gap_json(r, &rp->swift_gap));
    json_object_set_new(e, "vs_super", gap_json(r, &rp->gap));
    json_object_set_new(root, "elang", e);
    if (rp->second_name) {
        const char *who[3] = {"swift", "super", "elang"};
        for (int i = 0; i < 3; i++)
            json_object_set_new(json_object_get(root, who[i]), rp->second_name, number(rp->second[i]));
    }
    json_object_set_new(root, "oracle", point_json(&rp->oracle));

    json_t *curve = json_array(), *curves = json_object(), *quality = json_object();
    for (int k = 0; k < ELANG_SCORE_KINDS; k++) {
        if (!run_has_kind(r, k)) continue;
        const kind_curve *c = &rp->curves[k];
        json_t *pts = json_array();
        for (size_t j = 0; j < c->n; j++) json_array_append_new(pts, point_json(&c->pts[j]));
        if (k == (int)rp->kind) json_array_extend(curve, pts);
        json_object_set_new(curves, elang_score_name((elang_score_kind)k), pts);
        json_object_set_new(quality, elang_score_name((elang_score_kind)k),
                            json_pack("{s:o, s:o, s:o}", "apgr", number(c->apgr), "cpt50", number(c->cpt50),
                                      "cpt80", number(c->cpt80)));
    }
    json_object_set_new(root, "curve", curve);
    json_object_set_new(root, "apgr", number(rp->curves[rp->kind].apgr));
    json_object_set_new(root, "cpt50", number(rp->curves[rp->kind].cpt50));
    json_object_set_new(root, "cpt80", number(rp->curves[rp->kind].cpt80));
    json_object_set_new(root, "curves", curves);
    json_object_set_new(root, "by_score", quality);
    const int rc = json_dump_file(root, path, JSON_INDENT(1) | JSON_REAL_PRECISION(9));
    json_decref(root);
    return rc == 0 ? ELANG_OK : elang_fail(err, ELANG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
}

static elang_status write_markdown(const report *rp, const char *path, elang_error *err) {
    FILE *f = fopen(path, "w");
    if (!f) return elang_fail(err, ELANG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    const elang_pair_run *r = rp->r;
    const char *metric = elang_pair_run_metric_name(r);
    /* Accuracy-like metrics print as percentages, as the paper does. */
    const double scale = r->kind == RUN_TRANSLATION ? 1.0 : 100.0;
    fprintf(f, "# E-LANG on %s (%zu inputs)\n\n", r->task ? r->task->name : "translation", r->n);
    char how[96] = "";
    if (r->kind == RUN_TRANSLATION)
        snprintf(how, sizeof how, ", per-token scores aggregated by %s", elang_aggregation_name(r->opts.aggregate));
    fprintf(f, "Routing score `%s` (T = %g%s), threshold %.6g: Swift keeps an input when its score is at least "
               "the threshold.\n\n", elang_score_name(rp->kind), r->opts.temperature, how, rp->chosen.threshold);
    fprintf(f, "| model | %s | GFLOPs / input | ms / input | Swift ratio | speed-up (FLOPs) | speed-up (time) |\n",
            metric);
    fprintf(f, "|---|---:|---:|---:|---:|---:|---:|\n");
    fprintf(f, "| Swift (`%s`) | %.2f | %.4g | %.3g | 100%% | %.2fx | %.2fx |\n", r->swift_dir,
            rp->swift.metric * scale, rp->swift.gflops, rp->swift_ms, rp->super.gflops / rp->swift.gflops,
            rp->super_ms / rp->swift_ms);
    fprintf(f, "| Super (`%s`) | %.2f | %.4g | %.3g | 0%% | 1.00x | 1.00x |\n", r->super_dir,
            rp->super.metric * scale, rp->super.gflops, rp->super_ms);
    fprintf(f, "| **E-LANG** | **%.2f** | **%.4g** | **%.3g** | **%.1f%%** | **%.2fx** | **%.2fx** |\n\n",
            rp->chosen.metric * scale, rp->chosen.gflops, rp->elang_ms, 100.0 * (1.0 - rp->chosen.super_rate),
            rp->super.gflops / rp->chosen.gflops, rp->super_ms / rp->elang_ms);
    if (r->kind == RUN_TRANSLATION)
        fprintf(f, "chrF2: Swift %.2f, Super %.2f, E-LANG %.2f.\n\n", rp->second[0], rp->second[1], rp->second[2]);
    else if (rp->second_name)
        fprintf(f, "%s: Swift %.2f, Super %.2f, E-LANG %.2f.\n\n", rp->second_name, rp->second[0] * scale,
                rp->second[1] * scale, rp->second[2] * scale);
    char name[96];
    if (run_has_two_metrics(r))
        snprintf(name, sizeof name, "GLUE score (the mean of %s and %s)", task_metric_name(r->task->metrics[0]),
                 task_metric_name(r->task->metrics[1]));
    else snprintf(name, sizeof name, "%s", metric);
    fprintf(f, "Against Super, %s, over %d paired bootstrap resamples of the inputs:\n\n", name, ELANG_GAP_RESAMPLES);
    const struct { const char *who; const elang_gap *g; } gaps[2] = {{"Swift alone", &rp->swift_gap},
                                                                      {"E-LANG", &rp->gap}};
    for (int k = 0; k < 2; k++) {
        const elang_gap *g = gaps[k].g;
        fprintf(f, "- %s minus Super: ", gaps[k].who);
        if (isfinite(g->difference)) fprintf(f, "%+.2f", g->difference * scale);
        else fprintf(f, "undefined (the metric is, on all the inputs)");
        if (isfinite(g->lo)) fprintf(f, " (95%% interval %+.2f to %+.2f)", g->lo * scale, g->hi * scale);
        if (isfinite(g->share_at_least))
            fprintf(f, "; at least Super on %.1f%% of the resamples", 100.0 * g->share_at_least);
        if (g->resamples < ELANG_GAP_RESAMPLES)
            fprintf(f, " (%zu of them: the metric is undefined on the others)", g->resamples);
        fprintf(f, "\n");
    }
    fprintf(f, "\n");
    fprintf(f, "Oracle routing (Super exactly where it helps): %s %.2f with %.1f%% of inputs on Super.\n\n",
            metric, rp->oracle.metric * scale, 100.0 * rp->oracle.super_rate);
    fprintf(f, "## Every routing score, side by side\n\n");
    fprintf(f, "APGR: share of the Swift→Super gap recovered, averaged over Super-call rates (1 = perfect, "
               "0.5 ≈ random). CPT(x): Super-call rate needed to recover x of the gap.\n\n");
    if (rp->super.metric == rp->swift.metric)
        fprintf(f, "Swift and Super score the same here, so there is no gap to recover: n/a.\n\n");
    fprintf(f, "| score | APGR | CPT(50%%) | CPT(80%%) |\n|---|---:|---:|---:|\n");
    for (int k = 0; k < ELANG_SCORE_KINDS; k++) {
        if (!run_has_kind(r, k)) continue;
        const kind_curve *c = &rp->curves[k];
        char apgr[16] = "n/a", cpt50[16] = "n/a", cpt80[16] = "n/a";
        if (isfinite(c->apgr)) snprintf(apgr, sizeof apgr, "%.3f", c->apgr);
        if (isfinite(c->cpt50)) snprintf(cpt50, sizeof cpt50, "%.1f%%", 100.0 * c->cpt50);
        if (isfinite(c->cpt80)) snprintf(cpt80, sizeof cpt80, "%.1f%%", 100.0 * c->cpt80);
        fprintf(f, "| %s%s | %s | %s | %s |\n", elang_score_name((elang_score_kind)k),
                k == (int)rp->kind ? " (used)" : "", apgr, cpt50, cpt80);
    }
    fprintf(f, "\nThe curve of %s against GFLOPs for each score: `curve.svg`.\n", metric);
    const bool ok = fclose(f) == 0;
    return ok ? ELANG_OK : elang_fail(err, ELANG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
}

static elang_status write_svg(const report *rp, const char *path, elang_error *err) {
    const elang_pair_run *r = rp->r;
    svg_series series[ELANG_SCORE_KINDS + 1];
    double *xy[ELANG_SCORE_KINDS];
    size_t s = 0;
    elang_status st = ELANG_OK;
    for (int k = 0; k < ELANG_SCORE_KINDS; k++) xy[k] = NULL;
    for (int k = 0; k < ELANG_SCORE_KINDS && st == ELANG_OK; k++) {
        if (!run_has_kind(r, k)) continue;
        const kind_curve *c = &rp->curves[k];
        xy[k] = malloc(sizeof(double) * 2 * c->n);
        if (!xy[k]) {
            st = elang_fail(err, ELANG_ERR_NOMEM, "out of memory for the chart");
            break;
        }
        for (size_t j = 0; j < c->n; j++) xy[k][j] = c->pts[j].gflops, xy[k][c->n + j] = c->pts[j].metric;
        series[s++] = (svg_series){elang_score_name((elang_score_kind)k), xy[k], xy[k] + c->n, c->n};
    }
    /* Random routing's expectation: the straight line from Swift alone to
     * both models on every input. */
    const double rx[2] = {rp->swift.gflops, rp->swift.gflops + rp->super.gflops};
    const double ry[2] = {rp->swift.metric, rp->super.metric};
    if (st == ELANG_OK) series[s++] = (svg_series){"random routing (expected)", rx, ry, 2};
    char title[160], chosen[96];
    snprintf(title, sizeof title, "E-LANG on %s: %s against cost", r->task ? r->task->name : "translation",
             elang_pair_run_metric_name(r));
    snprintf(chosen, sizeof chosen, "E-LANG (%s, t=%.3g)", elang_score_name(rp->kind), rp->chosen.threshold);
    const svg_point points[4] = {{"Swift", rp->swift.gflops, rp->swift.metric},
                                 {"Super", rp->super.gflops, rp->super.metric},
                                 {"oracle", rp->oracle.gflops, rp->oracle.metric},
                                 {chosen, rp->chosen.gflops, rp->chosen.metric}};
    const svg_rule rules[1] = {{"Super's metric", rp->super.metric, false}};
    const svg_chart chart = {.title = title, .x_label = "GFLOPs per input", .y_label = elang_pair_run_metric_name(r),
                             .series = series, .num_series = s, .points = points, .num_points = 4,
                             .rules = rules, .num_rules = 1};
    if (st == ELANG_OK) st = svg_save(&chart, path, err);
    for (int k = 0; k < ELANG_SCORE_KINDS; k++) free(xy[k]);
    return st;
}

elang_status elang_report_write(const elang_pair_run *r, elang_score_kind kind, double threshold,
                                double elang_seconds, const char *dir, elang_error *err) {
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return elang_fail(err, ELANG_ERR_IO, "cannot create report directory %s: %s", dir, strerror(errno));
    report rp = {.r = r, .kind = kind};
    rp.swift_ms = 1000.0 * r->swift_seconds / r->n;
    rp.super_ms = 1000.0 * r->super_seconds / r->n;
    elang_status st = elang_pair_run_ends(r, &rp.swift, &rp.super, err);
    if (st == ELANG_OK) st = elang_at_threshold(r, kind, threshold, &rp.chosen, err);
    if (st == ELANG_OK && elang_seconds >= 0.0) rp.elang_ms = 1000.0 * elang_seconds / r->n;
    else if (st == ELANG_OK) {
        /* Estimated as elang_measure_routed measures: Swift on every input
         * and Super on the routed, or, deciding before decoding, Swift's
         * pass on every input, its answers on the kept, Super on the rest. */
        const elang_decision d = r->decision[kind];
        const double kept = 1.0 - rp.chosen.super_rate;
        const double swift_ms = d == ELANG_DECIDE_AFTER_DECODING
                                    ? rp.swift_ms : 1000.0 * r->decision_seconds[d] / r->n + kept * rp.swift_ms;
        rp.elang_ms = swift_ms + rp.chosen.super_rate * rp.super_ms;
    }
    if (st == ELANG_OK) st = oracle_point(r, kind, &rp.oracle, err);
    /* Seed 1: not the resamples match-super-bootstrap chose on. */
    if (st == ELANG_OK) st = elang_swift_gap_to_super(r, 1, NULL, &rp.swift_gap, err);
    if (st == ELANG_OK) st = elang_gap_to_super(r, kind, threshold, 1, NULL, &rp.gap, err);
    if (r->kind == RUN_TRANSLATION) rp.second_name = "chrf";
    else if (run_has_two_metrics(r)) rp.second_name = task_metric_name(r->task->metrics[1]);
    if (st == ELANG_OK && rp.second_name) {
        bool *on = malloc(sizeof(bool) * r->n);
        if (!on) st = elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
        for (int side = 0; st == ELANG_OK && side < 3; side++) {
            if (side == 2) run_keep_mask(r, kind, threshold, on);
            else
                for (size_t i = 0; i < r->n; i++) on[i] = side == 0;
            if (r->kind == RUN_TRANSLATION) rp.second[side] = run_chrf(r, on);
            else st = run_metric_as(r, r->task->metrics[1], on, &rp.second[side], err);
        }
        free(on);
    }
    for (int k = 0; k < ELANG_SCORE_KINDS && st == ELANG_OK; k++) {
        if (!run_has_kind(r, k)) continue;
        st = elang_sweep(r, (elang_score_kind)k, &rp.curves[k].pts, &rp.curves[k].n, err);
        if (st == ELANG_OK) routing_quality(&rp.curves[k], rp.swift.metric, rp.super.metric);
    }
    /* The three files describe one run: each is written beside its place
     * and all are moved in only when all are complete, so that a failure
     * never leaves a new report.json beside an old run's curve.svg. */
    static const char *const names[3] = {"report.json", "report.md", "curve.svg"};
    elang_status (*const writers[3])(const report *, const char *, elang_error *) = {write_json, write_markdown,
                                                                                      write_svg};
    char partial[3][4096], final[3][4096];
    int written = 0;
    for (int f = 0; f < 3 && st == ELANG_OK; f++, written++) {
        snprintf(final[f], sizeof final[f], "%s/%s", dir, names[f]);
        snprintf(partial[f], sizeof partial[f], "%s/%s.partial", dir, names[f]);
        st = writers[f](&rp, partial[f], err);
        if (st != ELANG_OK) unlink(partial[f]);
    }
    /* A rename cannot replace a directory: that is found before any file
     * moves, or the first files would be in place and the last not. */
    for (int f = 0; f < written && st == ELANG_OK; f++) {
        struct stat sb;
        if (stat(final[f], &sb) == 0 && S_ISDIR(sb.st_mode))
            st = elang_fail(err, ELANG_ERR_IO, "%s is a directory, not a file", final[f]);
    }
    for (int f = 0; f < written && st == ELANG_OK; f++)
        if (rename(partial[f], final[f]) != 0)
            st = elang_fail(err, ELANG_ERR_IO, "cannot move %s into place: %s", final[f], strerror(errno));
    if (st != ELANG_OK)
        for (int f = 0; f < written; f++) unlink(partial[f]);
    for (int k = 0; k < ELANG_SCORE_KINDS; k++) free(rp.curves[k].pts);
    return st;
}
