/* elang demo: the method at work on the project's own demo pairs
 * (models/, trained by tools/train on real data). Without data it routes
 * the example inputs in examples/ with the committed calibrations and
 * prints every decision; with --data it evaluates on the GLUE dev sets
 * (the BERT pairs, the text-to-text pair, the decoder-only SST-2 pair) and
 * Multi30k test 2016, with thresholds calibrated on held-out data (never on
 * what is reported), prints each pair's table and the paper's GLUE table
 * (every task of a backbone, their average and the mean speed-up). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/model_flags.h"
#include "cli/io.h"
#include "elang_eval.h"

typedef struct {
    const char *name, *title; /* name: what --only says */
    /* The GLUE table the pair is a row of, which is also the folder of its
     * report under --report (OUT/glue-bert/TASK/); NULL: a pair of its own
     * (OUT/NAME/). */
    const char *group;
    const char *swift, *super, *calibration; /* under the models directory */
    /* The calibration for routing by Swift's encoder head, used when Swift
     * has a head; NULL: none. */
    const char *head_calibration;
    const char *examples;                    /* under the examples directory; NULL: none */
    const char *task;                        /* for --data */
    const char *data, *ref;                  /* under --data */
} demo_pair;

static const demo_pair pairs[] = {
    {"sst2", "SST-2 sentiment (BERT-style pair)", "glue-bert", "sst2-swift", "sst2-super", "sst2.calib.json",
     NULL, "reviews.txt", "sst2", "glue/SST-2/dev.tsv", NULL},
    {"cola", "CoLA acceptability (BERT-style pair)", "glue-bert", "cola-swift", "cola-super", "cola.calib.json",
     NULL, NULL, "cola", "glue/CoLA/dev.tsv", NULL},
    {"mrpc", "MRPC paraphrase (BERT-style pair)", "glue-bert", "mrpc-swift", "mrpc-super", "mrpc.calib.json",
     NULL, NULL, "mrpc", "glue/MRPC/dev.tsv", NULL},
    {"rte", "RTE entailment (BERT-style pair)", "glue-bert", "rte-swift", "rte-super", "rte.calib.json",
     NULL, NULL, "rte", "glue/RTE/dev.tsv", NULL},
    /* One text-to-text pair for all four tasks, a calibration (prefix, pair
     * infix, label words, threshold) per task. */
    {"t5-sst2", "SST-2 sentiment (T5-style pair, text-to-text)", "glue-t5", "glue-t5-swift", "glue-t5-super",
     "glue-t5-sst2.calib.json", "glue-t5-sst2-head.calib.json", NULL, "sst2", "glue/SST-2/dev.tsv", NULL},
    {"t5-cola", "CoLA acceptability (T5-style pair, text-to-text)", "glue-t5", "glue-t5-swift", "glue-t5-super",
     "glue-t5-cola.calib.json", "glue-t5-cola-head.calib.json", NULL, "cola", "glue/CoLA/dev.tsv", NULL},
    {"t5-mrpc", "MRPC paraphrase (T5-style pair, text-to-text)", "glue-t5", "glue-t5-swift", "glue-t5-super",
     "glue-t5-mrpc.calib.json", "glue-t5-mrpc-head.calib.json", NULL, "mrpc", "glue/MRPC/dev.tsv", NULL},
    {"t5-rte", "RTE entailment (T5-style pair, text-to-text)", "glue-t5", "glue-t5-swift", "glue-t5-super",
     "glue-t5-rte.calib.json", "glue-t5-rte-head.calib.json", NULL, "rte", "glue/RTE/dev.tsv", NULL},
    {"multi30k", "Multi30k English -> German (T5-style pair)", NULL, "multi30k-swift", "multi30k-super",
     "multi30k.calib.json", "multi30k-head.calib.json", "captions.en", "translation", "multi30k/test_2016_flickr.en",
     "multi30k/test_2016_flickr.de"},
    {"sst2-lm", "SST-2 sentiment (decoder-only pair, prompts and label words)", NULL, "sst2-lm-swift",
     "sst2-lm-super", "sst2-lm.calib.json", NULL, "reviews.txt", "sst2", "glue/SST-2/dev.tsv", NULL},
};
#define NUM_PAIRS (sizeof pairs / sizeof pairs[0])

/* A pair's outcome on its reported data, as its report.json has it: the
 * GLUE table is made of the very numbers the reports hold. Metrics are
 * fractions (BLEU 0-100); `second` is the metric reported beside the main
 * one (MRPC's accuracy, translation's chrF2), NaN when none. */
typedef struct {
    bool done;
    double metric[3], second[3]; /* Swift, Super, E-LANG */
    double swift_ratio, speedup;
    /* Swift's and E-LANG's GLUE score minus Super's on ELANG_GAP_RESAMPLES
     * paired resamples of the data, drawn under the pair's own seed so that
     * the tasks of a table are resampled independently (owned; NULL before). */
    double *resampled_gap[2];
} demo_result;

typedef struct {
    const char *models, *examples, *data, *report, *only;
    int threads;
    const char *dtype;
} demo_flags;

static void path_join(char *out, size_t size, const char *dir, const char *name) {
    snprintf(out, size, "%s/%s", dir, name);
}

/* Loads a pair as its calibration describes it (prefixes, score). */
static bool load_demo_pair(const demo_flags *fl, const demo_pair *p, elang_calibration *calib, elang_model **swift,
                           elang_model **super, elang_route_opts *opts) {
    char path[2048], sw[2048], su[2048];
    elang_error err;
    path_join(path, sizeof path, fl->models, p->calibration);
    path_join(sw, sizeof sw, fl->models, p->swift);
    path_join(su, sizeof su, fl->models, p->super);
    if (elang_calibration_load(path, calib, &err) != ELANG_OK ||
        elang_calibration_check(calib, sw, su, &err) != ELANG_OK) {
        fprintf(stderr, "elang demo: %s\n", err.message);
        return false;
    }
    elang_load_opts lo = {.threads = fl->threads, .input_prefix = calib->swift_prefix[0] ? calib->swift_prefix : NULL,
                          .pair_infix = calib->pair_infix[0] ? calib->pair_infix : NULL,
                          .dtype = dtype_of_flag(fl->dtype)};
    /* Every demo calibration was made in F32: one warning says it for all. */
    static bool warned;
    if (!warned && calib->dtype != lo.dtype) warn_dtype("demo", calib, lo.dtype), warned = true;
    if (elang_model_load(sw, &lo, swift, &err) != ELANG_OK) {
        fprintf(stderr, "elang demo: %s\n", err.message);
        return false;
    }
    lo.input_prefix = calib->super_prefix[0] ? calib->super_prefix : NULL;
    if (elang_model_load(su, &lo, super, &err) != ELANG_OK) {
        fprintf(stderr, "elang demo: %s\n", err.message);
        elang_model_free(*swift);
        *swift = NULL;
        return false;
    }
    *opts = elang_route_opts_default();
    opts->score = calib->score;
    opts->temperature = calib->temperature;
    opts->aggregate = calib->aggregate;
    opts->gen.num_beams = calib->num_beams;
    opts->gen.max_new_tokens = calib->max_new_tokens;
    opts->label_words = (const char *const *)calib->label_words;
    opts->num_label_words = calib->num_label_words;
    return true;
}

/* The non-empty lines of path; NULL (said why) when it cannot be read whole. */
static char **read_lines(const char *path, size_t *n) {
    line_reader r;
    *n = 0;
    if (!line_reader_open(&r, "demo", path)) return NULL;
    size_t cap = 64;
    char **lines = malloc(sizeof *lines * cap), *line;
    size_t len;
    bool failed = false, ok = lines != NULL;
    while (ok && line_reader_next(&r, &line, &len, &failed)) {
        if (len == 0) continue;
        if (*n == cap) {
            char **more = realloc(lines, sizeof *lines * (cap *= 2));
            if (!(ok = more != NULL)) break;
            lines = more;
        }
        if (!(ok = (lines[*n] = strndup(line, len)) != NULL)) break;
        ++*n;
    }
    line_reader_close(&r);
    if (ok && !failed) return lines;
    if (!ok) fprintf(stderr, "elang demo: out of memory reading %s\n", path);
    while (lines && *n) free(lines[--*n]);
    free(lines);
    return NULL;
}

/* Routes the example inputs and prints each decision. */
static bool route_examples(const demo_flags *fl, const demo_pair *p, elang_model *swift, elang_model *super,
                           const elang_calibration *calib, const elang_route_opts *opts) {
    char path[2048];
    path_join(path, sizeof path, fl->examples, p->examples);
    size_t n;
    char **lines = read_lines(path, &n);
    if (!lines) return false;
    if (n == 0) {
        fprintf(stderr, "elang demo: no example inputs in %s\n", path);
        free(lines);
        return false;
    }
    elang_text *in = calloc(n, sizeof *in);
    elang_route_out *out = calloc(n, sizeof *out);
    elang_model *tiers[2] = {swift, super};
    elang_router *router = NULL;
    elang_error err;
    bool ok = in && out && elang_router_new(tiers, 2, &calib->threshold, opts, &router, &err) == ELANG_OK;
    for (size_t i = 0; ok && i < n; i++) in[i].text = lines[i];
    if (ok && elang_route(router, in, n, out, &err) != ELANG_OK) ok = false;
    if (!ok) fprintf(stderr, "elang demo: %s\n", err.message);
    size_t on_super = 0;
    double gflops = 0.0;
    /* Counted as run_gflops counts a pair run: a decision taken before
     * decoding costs its pass on every input and Swift's whole answer on
     * the inputs kept. */
    const elang_decision decision = elang_decision_of(swift, opts);
    for (size_t i = 0; ok && i < n; i++) {
        const elang_route_out *o = &out[i];
        const elang_answer *a = &o->answers[o->tier], *s = &o->answers[0];
        on_super += o->tier;
        const double swift_answer = elang_model_gflops(swift, s->input_tokens, s->decoder_steps);
        gflops += decision == ELANG_DECIDE_AFTER_DECODING
                      ? swift_answer
                      : elang_decision_gflops(swift, decision, s->input_tokens) + (o->tier ? 0.0 : swift_answer);
        if (o->tier) gflops += elang_model_gflops(super, a->input_tokens, a->decoder_steps);
        printf("  %-5s %s %7.3f  %s\n", o->tier ? "SUPER" : "swift",
               elang_keeps_swift(s->score, calib->threshold) ? ">=" : "< ",
               s->score, lines[i]);
        const char *answer = a->label_id >= 0 ? a->label : a->gen.text;
        const char *first = s->label_id >= 0 ? s->label : s->gen.text;
        if (o->tier) printf("        -> %s   (Swift: %s)\n", answer, first);
        else printf("        -> %s\n", answer);
    }
    if (ok) {
        /* Super alone's cost on these inputs is unknown for a generator
         * (its output lengths on the inputs it never saw), so the
         * comparison point is its average on the calibration split. */
        printf("  %zu inputs: %zu on Swift, %zu sent to Super (threshold %.4g on %s); %.3g GFLOPs per input "
               "(Super alone: %.3g per input on the calibration split)\n\n", n, n - on_super, on_super,
               calib->threshold, elang_score_name(calib->score), gflops / n, calib->super_gflops);
    }
    elang_route_out_free(out, n);
    elang_router_free(router);
    for (size_t i = 0; i < n; i++) free(lines[i]);
    free(lines), free(in), free(out);
    return ok;
}

static void print_calibration_table(const elang_calibration *c) {
    const double scale = strcmp(c->metric_name, "bleu") == 0 ? 1.0 : 100.0;
    printf("  On the calibration split (%s%s%s, objective %s):\n", c->data, c->data_lines[0] ? ", lines in " : "",
           c->data_lines, c->objective);
    printf("  | model  | %-8s | GFLOPs/input | Swift ratio | speed-up |\n", c->metric_name);
    printf("  |--------|----------|--------------|-------------|----------|\n");
    printf("  | Swift  | %8.2f | %12.4g |        100%% | %7.2fx |\n", c->swift_metric * scale, c->swift_gflops,
           c->super_gflops / c->swift_gflops);
    printf("  | Super  | %8.2f | %12.4g |          0%% |    1.00x |\n", c->super_metric * scale, c->super_gflops);
    printf("  | E-LANG | %8.2f | %12.4g | %10.1f%% | %7.2fx |\n", c->metric * scale, c->gflops,
           100.0 * (1.0 - c->super_rate), c->super_gflops / c->gflops);
    if (isfinite(c->heldout_metric))
        printf("  Held out from calibration: E-LANG %s %.2f with %.1f%% on Super.\n", c->metric_name,
               c->heldout_metric * scale, 100.0 * c->heldout_super_rate);
    printf("\n");
}

/* The numbers of the GLUE table from a report.json just written. */
static bool read_result(const char *dir, demo_result *out) {
    char path[2100];
    snprintf(path, sizeof path, "%s/report.json", dir);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        fprintf(stderr, "elang demo: %s: %s\n", path, je.text);
        return false;
    }
    static const char *const who[3] = {"swift", "super", "elang"};
    const char *task = json_string_value(json_object_get(root, "task"));
    const char *second = strcmp(task, "mrpc") == 0 ? "accuracy" : strcmp(task, "translation") == 0 ? "chrf" : NULL;
    for (int i = 0; i < 3; i++) {
        const json_t *o = json_object_get(root, who[i]);
        out->metric[i] = json_number_value(json_object_get(o, "metric"));
        out->second[i] = second ? json_number_value(json_object_get(o, second)) : NAN;
    }
    const json_t *e = json_object_get(root, "elang");
    out->swift_ratio = json_number_value(json_object_get(e, "swift_ratio"));
    out->speedup = json_number_value(json_object_get(e, "speedup_flops"));
    out->done = true;
    json_decref(root);
    return true;
}

/* Writes the report of routing `run` by `kind` at `threshold` into dir,
 * prints its table and reads back its numbers, with the resampled gaps to
 * Super drawn under `seed`. */
static bool report_one(const demo_flags *fl, const elang_pair_run *run, elang_model *swift, elang_model *super,
                       const elang_dataset *d, elang_score_kind kind, double threshold, const char *dir,
                       uint64_t seed, demo_result *result) {
    elang_error err;
    double seconds;
    elang_gap gap;
    for (int k = 0; k < 2; k++) result->resampled_gap[k] = malloc(sizeof(double) * ELANG_GAP_RESAMPLES);
    bool ok = result->resampled_gap[0] && result->resampled_gap[1];
    if (!ok) snprintf(err.message, sizeof err.message, "out of memory");
    ok = ok && elang_measure_routed(run, swift, super, d, kind, threshold, &seconds, &err) == ELANG_OK &&
         elang_report_write(run, kind, threshold, seconds, dir, &err) == ELANG_OK &&
         elang_swift_gap_to_super(run, seed, result->resampled_gap[0], &gap, &err) == ELANG_OK &&
         elang_gap_to_super(run, kind, threshold, seed, result->resampled_gap[1], &gap, &err) == ELANG_OK;
    if (!ok) fprintf(stderr, "elang demo: %s\n", err.message);
    if (ok) ok = read_result(dir, result);
    if (ok) {
        char path[2100];
        snprintf(path, sizeof path, "%s/report.md", dir);
        FILE *f = fopen(path, "r");
        char line[1024];
        while (f && fgets(line, sizeof line, f)) printf("  %s", line);
        if (f) fclose(f);
        if (fl->report) printf("\n  wrote %s/report.json, report.md, curve.svg\n", dir);
        printf("\n");
    }
    return ok;
}

/* The pair's calibration for routing by Swift's encoder head, when Swift
 * has a head and the calibration file is there: *found tells. */
static bool load_head_calibration(const demo_flags *fl, const demo_pair *p, elang_model *swift,
                                  elang_calibration *calib, bool *found) {
    char path[2048], sw[2048], su[2048];
    *found = false;
    if (!p->head_calibration || !elang_model_has_head(swift)) return true;
    path_join(path, sizeof path, fl->models, p->head_calibration);
    struct stat st;
    if (stat(path, &st) != 0) {
        printf("  (Swift has an encoder head but %s is missing: tools/calibrate_demo.sh writes it)\n\n", path);
        return true;
    }
    path_join(sw, sizeof sw, fl->models, p->swift);
    path_join(su, sizeof su, fl->models, p->super);
    elang_error err;
    if (elang_calibration_load(path, calib, &err) != ELANG_OK ||
        elang_calibration_check(calib, sw, su, &err) != ELANG_OK) {
        fprintf(stderr, "elang demo: %s\n", err.message);
        return false;
    }
    if (calib->score != ELANG_SCORE_ENCODER_HEAD) {
        fprintf(stderr, "elang demo: %s routes by %s, not by the encoder head\n", path, elang_score_name(calib->score));
        return false;
    }
    *found = true;
    return true;
}

/* Evaluates a pair on its reported data set and prints the paper's table:
 * routed as its calibration says, and, when Swift has an encoder head with
 * a calibration of its own, routed by the head too (report in
 * DIR/encoder-head/), from the same run of both models. */
static bool evaluate(const demo_flags *fl, const demo_pair *p, uint64_t seed, elang_model *swift, elang_model *super,
                     const elang_calibration *calib, const elang_route_opts *opts, demo_result *result,
                     demo_result *head_result) {
    char data[2048], ref[2048], dir[2048], head_dir[2100];
    path_join(data, sizeof data, fl->data, p->data);
    if (p->ref) path_join(ref, sizeof ref, fl->data, p->ref);
    /* Without --report the report goes to a scratch folder: only its table
     * is printed. */
    const char *root = fl->report ? fl->report : "/tmp/elang-demo-report";
    /* Existing folders are fine; elang_report_write reports real failures. */
    mkdir(root, 0777);
    if (p->group) {
        snprintf(dir, sizeof dir, "%s/%s", root, p->group);
        mkdir(dir, 0777);
        snprintf(dir, sizeof dir, "%s/%s/%s", root, p->group, p->task);
    } else {
        snprintf(dir, sizeof dir, "%s/%s", root, p->name);
    }
    elang_calibration head_calib = {0};
    bool has_head_calib = false;
    if (!load_head_calibration(fl, p, swift, &head_calib, &has_head_calib)) return false;
    elang_dataset *d = NULL;
    elang_pair_run *run = NULL;
    elang_error err;
    bool ok = elang_dataset_load(p->task, data, p->ref ? ref : NULL, &d, &err) == ELANG_OK &&
              elang_pair_run_new(swift, super, d, NULL, 0, opts, NULL, NULL, &run, &err) == ELANG_OK;
    if (!ok) fprintf(stderr, "elang demo: %s\n", err.message);
    if (ok) ok = report_one(fl, run, swift, super, d, opts->score, calib->threshold, dir, seed, result);
    if (ok && has_head_calib) {
        mkdir(dir, 0777);
        snprintf(head_dir, sizeof head_dir, "%s/encoder-head", dir);
        printf("  Routed by Swift's encoder head instead (threshold from %s):\n\n", head_calib.data);
        ok = report_one(fl, run, swift, super, d, ELANG_SCORE_ENCODER_HEAD, head_calib.threshold, head_dir, seed,
                        head_result);
    }
    elang_calibration_free(&head_calib);
    elang_pair_run_free(run);
    elang_dataset_free(d);
    return ok;
}

/* One pair's routing scores side by side at their calibrated thresholds:
 * the decoder's (the calibration's) and the encoder head's. Metrics as
 * the GLUE table prints them (BLEU and chrF2 as they are); the second
 * column only where the task has a second metric. */
static void print_score_comparison(const demo_pair *p, const demo_result *r, const demo_result *h,
                                   const char *score) {
    if (!r->done || !h->done) return;
    const bool bleu = strcmp(p->task, "translation") == 0, two = !isnan(r->second[0]);
    const double scale = bleu ? 1.0 : 100.0;
    const char *name = bleu ? "BLEU" : strcmp(p->task, "cola") == 0 ? "MCC" : strcmp(p->task, "mrpc") == 0 ? "F1"
                                                                                                           : "accuracy";
    printf("== %s: routing scores side by side, each at its calibrated threshold\n\n", p->title);
    printf("| routing | %s |%s Swift ratio | speed-up (FLOPs) |\n|---|---:|%s---:|---:|\n", name,
           two ? (bleu ? " chrF2 |" : " accuracy |") : "", two ? "---:|" : "");
    const struct { const char *name; const demo_result *x; int who; } rows[4] = {
        {score, r, 2}, {"encoder head", h, 2}, {NULL, r, 0}, {NULL, r, 1}};
    for (int i = 0; i < 4; i++) {
        const demo_result *x = rows[i].x;
        const int k = rows[i].who;
        if (rows[i].name) printf("| E-LANG, %s | %.2f |", rows[i].name, scale * x->metric[k]);
        else printf("| %s | %.2f |", k ? "Super" : "Swift", scale * x->metric[k]);
        if (two) printf(" %.2f |", scale * x->second[k]);
        if (k == 2) printf(" %.1f%% | %.2fx |\n", 100.0 * x->swift_ratio, x->speedup);
        else printf(" %s |\n", k ? "0% | 1.00x" : "100% | ");
    }
    printf("\n");
}

/* How sure the dev sets are of the averages' gaps to Super (the tasks'
 * resamples drawn independently, as their dev sets are), in points; gap[k]
 * is the average's gap on the data themselves, Swift's (k = 0) or E-LANG's. */
static void print_average_gaps(const char *group, const demo_result *results, const double gap[2]) {
    printf("Against Super's average, over %d paired bootstrap resamples of every task's inputs:\n\n",
           ELANG_GAP_RESAMPLES);
    for (int who = 0; who < 2; who++) {
        const double *resampled[NUM_PAIRS];
        size_t tasks = 0;
        for (size_t i = 0; i < NUM_PAIRS; i++)
            if (pairs[i].group && strcmp(pairs[i].group, group) == 0 && results[i].done)
                resampled[tasks++] = results[i].resampled_gap[who];
        elang_gap g;
        elang_error err;
        printf("- %s's average minus Super's: %+.2f points", who ? "E-LANG" : "Swift", gap[who]);
        if (elang_gap_of_mean(resampled, tasks, gap[who] / 100.0, &g, &err) == ELANG_OK && isfinite(g.lo))
            printf(" (95%% interval %+.2f to %+.2f); at least Super's on %.1f%% of the resamples", 100.0 * g.lo,
                   100.0 * g.hi, 100.0 * g.share_at_least);
        printf("\n");
    }
    printf("\n");
}

/* The paper's GLUE table for one group: per task the three models' metric,
 * the Swift ratio and the FLOPs speed-up; then the average over the tasks
 * (GLUE's score of a task: its metric, MRPC's the mean of F1 and accuracy)
 * and the mean of the per-task speed-ups, as the paper averages them.
 * `routing` names the score the E-LANG column routed by. */
static void print_glue_table(const char *group, const char *routing, const demo_result *results) {
    int n = 0;
    double avg[3] = {0}, ratio = 0.0, speedup = 0.0;
    for (size_t i = 0; i < NUM_PAIRS; i++) n += pairs[i].group && strcmp(pairs[i].group, group) == 0 && results[i].done;
    if (n == 0) return;
    printf("== GLUE, %s pairs, routed by %s: dev sets, thresholds calibrated on held-out training data\n\n", group,
           routing);
    printf("| task | metric | Swift | Super | E-LANG | Swift ratio | speed-up (FLOPs) |\n");
    printf("|---|---|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < NUM_PAIRS; i++) {
        const demo_result *r = &results[i];
        if (!pairs[i].group || strcmp(pairs[i].group, group) != 0 || !r->done) continue;
        const bool two = !isnan(r->second[0]);
        char cell[3][48];
        for (int k = 0; k < 3; k++) {
            if (two) snprintf(cell[k], sizeof cell[k], "%.2f / %.2f", 100.0 * r->metric[k], 100.0 * r->second[k]);
            else snprintf(cell[k], sizeof cell[k], "%.2f", 100.0 * r->metric[k]);
            avg[k] += two ? 50.0 * (r->metric[k] + r->second[k]) : 100.0 * r->metric[k];
        }
        printf("| %s | %s | %s | %s | %s | %.1f%% | %.2fx |\n", pairs[i].task,
               strcmp(pairs[i].task, "cola") == 0 ? "MCC" : two ? "F1 / accuracy" : "accuracy", cell[0], cell[1],
               cell[2], 100.0 * r->swift_ratio, r->speedup);
        ratio += r->swift_ratio, speedup += r->speedup;
    }
    printf("| **average** (%d tasks) | | %.2f | %.2f | **%.2f** | %.1f%% | **%.2fx** |\n\n", n, avg[0] / n, avg[1] / n,
           avg[2] / n, 100.0 * ratio / n, speedup / n);
    const double gap[2] = {(avg[0] - avg[1]) / n, (avg[2] - avg[1]) / n};
    print_average_gaps(group, results, gap);
}

int cmd_demo(int argc, char **argv) {
    demo_flags fl = {.models = "models", .examples = "examples"};
    const flag_spec flags[] = {
        {"models", FLAG_STRING, &fl.models, 0, 0, NULL, "the demo models and calibrations (default models)", "DIR"},
        {"examples", FLAG_STRING, &fl.examples, 0, 0, NULL, "the example inputs (default examples)", "DIR"},
        {"data", FLAG_STRING, &fl.data, 0, 0, NULL,
         "evaluate on the GLUE dev sets and Multi30k test 2016 from DIR (e.g. ../shared/data)", "DIR"},
        {"report", FLAG_STRING, &fl.report, 0, 0, NULL,
         "with --data: write OUT/glue-bert/TASK/, OUT/glue-t5/TASK/, OUT/multi30k/ and OUT/sst2-lm/ reports", "OUT"},
        {"only", FLAG_CHOICE, &fl.only, 0, 0, "sst2|cola|mrpc|rte|t5-sst2|t5-cola|t5-mrpc|t5-rte|multi30k|sst2-lm",
         "run one of the pairs (t5-TASK: the text-to-text pair on TASK)", "PAIR"},
        {"threads", FLAG_INT, &fl.threads, 0, 1024, NULL, "worker threads; 0 = all CPUs, fewer while others hold some (default)", "N"},
        DTYPE_FLAG_SPEC(fl.dtype),
        {0},
    };
    int rc = parse_flags("demo", "[--data DIR] [--report OUT] [flags]", argc, argv, flags);
    if (rc) return rc == 1 ? 0 : 2;
    if (fl.report && !fl.data) {
        fprintf(stderr, "elang demo: --report needs --data DIR (the reports are evaluations on labelled data)\n");
        return 2;
    }
    struct stat data_st;
    if (fl.data && (stat(fl.data, &data_st) != 0 || !S_ISDIR(data_st.st_mode))) {
        fprintf(stderr, "elang demo: --data %s is not a directory (the shared data, with glue/ and multi30k/)\n",
                fl.data);
        return 2;
    }
    if (fl.report && !report_dir_usable("demo", "--report", fl.report, NULL, 0)) return 2;
    bool ok = true;
    int ran = 0;
    demo_result results[NUM_PAIRS] = {0}, head_results[NUM_PAIRS] = {0};
    for (size_t i = 0; ok && i < NUM_PAIRS; i++) {
        const demo_pair *p = &pairs[i];
        if (fl.only && strcmp(fl.only, p->name) != 0) continue;
        /* A pair whose models are not there yet (not trained, or a partial
         * checkout) is skipped with a note; a broken one is an error. */
        char probe[2048];
        struct stat st;
        path_join(probe, sizeof probe, fl.models, p->swift);
        if (stat(probe, &st) != 0 && !fl.only) {
            printf("== %s: skipped, %s does not exist (tools/train/README.md trains it)\n\n", p->title, probe);
            continue;
        }
        ran++;
        elang_calibration calib = {0};
        elang_model *swift = NULL, *super = NULL;
        elang_route_opts opts;
        printf("== %s: Swift %s/%s, Super %s/%s\n\n", p->title, fl.models, p->swift, fl.models, p->super);
        ok = load_demo_pair(&fl, p, &calib, &swift, &super, &opts);
        if (ok && p->examples) ok = route_examples(&fl, p, swift, super, &calib, &opts);
        if (ok) print_calibration_table(&calib);
        /* Seeds from 1, as the reports' (the first pair's resamples are its report's). */
        if (ok && fl.data) ok = evaluate(&fl, p, i + 1, swift, super, &calib, &opts, &results[i], &head_results[i]);
        if (ok) print_score_comparison(p, &results[i], &head_results[i], elang_score_name(calib.score));
        elang_model_free(swift), elang_model_free(super);
        elang_calibration_free(&calib);
    }
    if (ok) print_glue_table("glue-bert", "their calibrations' score", results);
    if (ok) print_glue_table("glue-t5", "their calibrations' score", results);
    if (ok) print_glue_table("glue-t5", "Swift's encoder head", head_results);
    for (size_t i = 0; i < NUM_PAIRS; i++)
        for (int k = 0; k < 2; k++) free(results[i].resampled_gap[k]), free(head_results[i].resampled_gap[k]);
    if (ok && ran == 0) {
        fprintf(stderr, "elang demo: no demo models in %s (run it from the repository, or give --models DIR)\n",
                fl.models);
        ok = false;
    }
    return ok ? 0 : 1;
}
