/* elang demo: the method at work on the project's own demo pairs
 * (models/, trained by tools/train on real data). Without data it routes
 * the example inputs in examples/ with the committed calibrations and
 * prints every decision; with --data it evaluates on SST-2 dev (the BERT
 * pair and the decoder-only pair) and Multi30k test 2016, with thresholds calibrated on held-out data (never on what is
 * reported), and prints the paper's table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/model_flags.h"
#include "cli/io.h"
#include "elang_eval.h"

typedef struct {
    const char *name, *title;
    const char *swift, *super, *calibration; /* under the models directory */
    const char *examples;                    /* under the examples directory */
    const char *task;                        /* for --data */
    const char *data, *ref;                  /* under --data */
} demo_pair;

static const demo_pair pairs[] = {
    {"sst2", "SST-2 sentiment (BERT-style pair)", "sst2-swift", "sst2-super", "sst2.calib.json",
     "reviews.txt", "sst2", "glue/SST-2/dev.tsv", NULL},
    {"multi30k", "Multi30k English -> German (T5-style pair)", "multi30k-swift", "multi30k-super",
     "multi30k.calib.json", "captions.en", "translation", "multi30k/test_2016_flickr.en",
     "multi30k/test_2016_flickr.de"},
    {"sst2-lm", "SST-2 sentiment (decoder-only pair, prompts and label words)", "sst2-lm-swift", "sst2-lm-super",
     "sst2-lm.calib.json", "reviews.txt", "sst2", "glue/SST-2/dev.tsv", NULL},
};

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
                          .dtype = dtype_of_flag(fl->dtype)};
    warn_dtype("demo", calib, lo.dtype);
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

static char **read_lines(const char *path, size_t *n) {
    line_reader r;
    *n = 0;
    if (!line_reader_open(&r, "demo", path)) return NULL;
    size_t cap = 64;
    char **lines = malloc(sizeof *lines * cap), *line;
    size_t len;
    bool failed;
    while (lines && line_reader_next(&r, &line, &len, &failed)) {
        if (len == 0) continue;
        if (*n == cap) lines = realloc(lines, sizeof *lines * (cap *= 2));
        if (lines) lines[(*n)++] = strndup(line, len);
    }
    line_reader_close(&r);
    return lines;
}

/* Routes the example inputs and prints each decision. */
static bool route_examples(const demo_flags *fl, const demo_pair *p, elang_model *swift, elang_model *super,
                           const elang_calibration *calib, const elang_route_opts *opts) {
    char path[2048];
    path_join(path, sizeof path, fl->examples, p->examples);
    size_t n;
    char **lines = read_lines(path, &n);
    if (!lines || n == 0) {
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
    for (size_t i = 0; ok && i < n; i++) {
        const elang_route_out *o = &out[i];
        const elang_answer *a = &o->answers[o->tier], *s = &o->answers[0];
        on_super += o->tier;
        gflops += elang_model_gflops(swift, s->input_tokens, s->decoder_steps) +
                  (o->tier ? elang_model_gflops(super, a->input_tokens, a->decoder_steps) : 0.0);
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

/* Evaluates a pair on its reported data set and prints the paper's table. */
static bool evaluate(const demo_flags *fl, const demo_pair *p, elang_model *swift, elang_model *super,
                     const elang_calibration *calib, const elang_route_opts *opts) {
    char data[2048], ref[2048], dir[2048];
    path_join(data, sizeof data, fl->data, p->data);
    if (p->ref) path_join(ref, sizeof ref, fl->data, p->ref);
    /* Without --report the report goes to a scratch folder: only its table
     * is printed. */
    const char *root = fl->report ? fl->report : "/tmp/elang-demo-report";
    mkdir(root, 0777); /* an existing folder is fine; elang_report_write reports real failures */
    snprintf(dir, sizeof dir, "%s/%s", root, p->name);
    elang_dataset *d = NULL;
    elang_pair_run *run = NULL;
    elang_error err;
    double seconds;
    bool ok = elang_dataset_load(p->task, data, p->ref ? ref : NULL, &d, &err) == ELANG_OK &&
              elang_pair_run_new(swift, super, d, NULL, 0, opts, NULL, NULL, &run, &err) == ELANG_OK &&
              elang_measure_routed(run, super, d, opts->score, calib->threshold, &seconds, &err) == ELANG_OK &&
              elang_report_write(run, opts->score, calib->threshold, seconds, dir, &err) == ELANG_OK;
    if (!ok) fprintf(stderr, "elang demo: %s\n", err.message);
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
    elang_pair_run_free(run);
    elang_dataset_free(d);
    return ok;
}

int cmd_demo(int argc, char **argv) {
    demo_flags fl = {.models = "models", .examples = "examples"};
    const flag_spec flags[] = {
        {"models", FLAG_STRING, &fl.models, 0, 0, NULL, "the demo models and calibrations (default models)", "DIR"},
        {"examples", FLAG_STRING, &fl.examples, 0, 0, NULL, "the example inputs (default examples)", "DIR"},
        {"data", FLAG_STRING, &fl.data, 0, 0, NULL, "evaluate on SST-2 dev and Multi30k test 2016 from DIR (e.g. ../shared/data)", "DIR"},
        {"report", FLAG_STRING, &fl.report, 0, 0, NULL, "with --data: write a report per pair, OUT/PAIR/", "OUT"},
        {"only", FLAG_CHOICE, &fl.only, 0, 0, "sst2|multi30k|sst2-lm", "run one of the pairs", "PAIR"},
        {"threads", FLAG_INT, &fl.threads, 0, 1024, NULL, "worker threads; 0 = all cores (default)", "N"},
        DTYPE_FLAG_SPEC(fl.dtype),
        {0},
    };
    int rc = parse_flags("demo", "[--data DIR] [--report OUT] [flags]", argc, argv, flags);
    if (rc) return rc == 1 ? 0 : 2;
    if (fl.report && !fl.data) {
        fprintf(stderr, "elang demo: --report needs --data DIR (the reports are evaluations on labelled data)\n");
        return 2;
    }
    bool ok = true;
    int ran = 0;
    for (size_t i = 0; ok && i < sizeof pairs / sizeof pairs[0]; i++) {
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
        if (ok) ok = route_examples(&fl, p, swift, super, &calib, &opts);
        if (ok) print_calibration_table(&calib);
        if (ok && fl.data) ok = evaluate(&fl, p, swift, super, &calib, &opts);
        elang_model_free(swift), elang_model_free(super);
        elang_calibration_free(&calib);
    }
    if (ok && ran == 0) {
        fprintf(stderr, "elang demo: no demo models in %s\n", fl.models);
        ok = false;
    }
    return ok ? 0 : 1;
}
