/* The C API's contract as elang.h states it: every entry point reports a
 * failure by its status whether or not `err` is given; zeroed option
 * structs mean the defaults; the version; each model computes with its own
 * thread count without touching the caller's; and two models may run at
 * once on two threads. */
#include <math.h>
#include <omp.h>
#include <pthread.h>
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

#include "core/cpu_load.h"
#include "elang_eval.h"
#include "support.h"

static elang_model *load(const char *dir, int threads) {
    elang_model *m;
    elang_error err;
    const elang_load_opts o = {.threads = threads};
    if (elang_model_load(dir, &o, &m, &err) != ELANG_OK) fail_msg("%s: %s", dir, err.message);
    return m;
}

/* A few lines of SST-2 in the GLUE layout, for runs on the demo pair. */
static const char *sst2_file(void) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/sst2.tsv", test_tmpdir());
    const char text[] = "sentence\tlabel\na gripping , beautifully acted film\t1\ndull and lifeless\t0\n"
                        "it 's a charming journey\t1\nthe plot is thin and the jokes fall flat\t0\n";
    write_file(path, text, sizeof text - 1);
    return path;
}

static void version_matches_header(void **s) {
    (void)s;
    assert_string_equal(elang_version(), ELANG_VERSION);
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", ELANG_VERSION_MAJOR, ELANG_VERSION_MINOR, ELANG_VERSION_PATCH);
    assert_string_equal(ELANG_VERSION, want);
}

/* Every public entry point that can fail, on bad input, with err = NULL:
 * the status must still say so. (Before, elang_error_prefix returned OK
 * without an err, and a calibration with a bad field loaded "fine".) */
static void failures_keep_their_status_without_err(void **s) {
    (void)s;
    const char *bert = shared_path("fixtures/hf/bert"), *t5 = shared_path("fixtures/hf/t5");
    elang_model *m = NULL;
    char hash[17];
    assert_int_equal(elang_model_load("/nonexistent", NULL, &m, NULL), ELANG_ERR_IO);
    assert_null(m);
    assert_int_equal(elang_model_hash("/nonexistent", hash, NULL), ELANG_ERR_IO);

    elang_model *cls = load(bert, 1), *gen = load(t5, 1);
    const elang_text bad_utf8 = {"caf\xc3", NULL}, pair = {"a", "b"};
    elang_class_out co;
    elang_gen_out go;
    assert_int_equal(elang_classify(cls, &bad_utf8, 1, NULL, &co, NULL), ELANG_ERR_INPUT);
    assert_int_equal(elang_classify(gen, &pair, 1, NULL, &co, NULL), ELANG_ERR_INVALID_ARG);
    assert_int_equal(elang_generate(gen, &pair, 1, NULL, &go, NULL), ELANG_ERR_INVALID_ARG);
    assert_int_equal(elang_generate(cls, &pair, 1, NULL, &go, NULL), ELANG_ERR_INVALID_ARG);

    elang_route_opts ro = {.score = (elang_score_kind)99};
    elang_answer a;
    assert_int_equal(elang_answer_all(cls, &pair, NULL, 1, &ro, &a, NULL, NULL), ELANG_ERR_INVALID_ARG);
    const char *words[2] = {"negative", "positive"};
    ro = (elang_route_opts){.label_words = words, .num_label_words = 2};
    assert_int_equal(elang_answer_all(cls, &pair, NULL, 1, &ro, &a, NULL, NULL), ELANG_ERR_INVALID_ARG);

    elang_router *r = NULL;
    const double t = 0.0;
    elang_model *one[1] = {cls}, *mixed[2] = {cls, gen}, *same[2] = {cls, cls};
    assert_int_equal(elang_router_new(one, 1, &t, NULL, &r, NULL), ELANG_ERR_INVALID_ARG);
    assert_int_equal(elang_router_new(mixed, 2, &t, NULL, &r, NULL), ELANG_ERR_INVALID_ARG);
    assert_null(r);
    assert_int_equal(elang_router_new(same, 2, &t, NULL, &r, NULL), ELANG_OK);
    elang_route_out out;
    assert_int_equal(elang_route(r, &bad_utf8, 1, &out, NULL), ELANG_ERR_INPUT);
    elang_router_free(r);

    elang_dataset *d = NULL;
    assert_int_equal(elang_dataset_load("sst2", "/nonexistent.tsv", NULL, &d, NULL), ELANG_ERR_IO);
    assert_int_equal(elang_dataset_load("no-such-task", sst2_file(), NULL, &d, NULL), ELANG_ERR_INVALID_ARG);
    assert_int_equal(elang_dataset_load("sst2", sst2_file(), NULL, &d, NULL), ELANG_OK);
    elang_pair_run *run = NULL;
    /* The bert fixture has 3 generic labels, SST-2 two. */
    assert_int_equal(elang_pair_run_new(cls, cls, d, NULL, 0, NULL, NULL, NULL, &run, NULL), ELANG_ERR_INVALID_ARG);
    assert_null(run);
    elang_model *swift = load("models/sst2-swift", 1), *super = load("models/sst2-super", 1);
    assert_int_equal(elang_pair_run_new(swift, super, d, NULL, 0, NULL, NULL, NULL, &run, NULL), ELANG_OK);
    const elang_score_kind bogus = (elang_score_kind)99;
    elang_point *pts = NULL, p;
    size_t n;
    double seconds;
    assert_int_equal(elang_sweep(run, bogus, &pts, &n, NULL), ELANG_ERR_INVALID_ARG);
    assert_null(pts);
    assert_int_equal(elang_at_threshold(run, bogus, 0.0, &p, NULL), ELANG_ERR_INVALID_ARG);
    assert_int_equal(elang_measure_routed(run, swift, super, d, bogus, 0.0, &seconds, NULL), ELANG_ERR_INVALID_ARG);
    /* BERT classifiers have no encoder head, so the run has no such score. */
    assert_int_equal(elang_sweep(run, ELANG_SCORE_ENCODER_HEAD, &pts, &n, NULL), ELANG_ERR_INVALID_ARG);
    assert_int_equal(elang_measure_routed(run, swift, super, d, ELANG_SCORE_ENCODER_HEAD, 0.0, &seconds, NULL),
                     ELANG_ERR_INVALID_ARG);
    elang_objective obj;
    assert_int_equal(elang_objective_parse("fastest", &obj, NULL), ELANG_ERR_INVALID_ARG);
    obj = (elang_objective){ELANG_OBJ_BUDGET, 1e-9};
    assert_int_equal(elang_choose(run, ELANG_SCORE_ENERGY, &obj, &p, NULL), ELANG_ERR_INVALID_ARG);
    assert_int_equal(elang_report_write(run, ELANG_SCORE_ENERGY, 0.0, -1.0, "/nonexistent/report", NULL),
                     ELANG_ERR_IO);

    elang_calibration c = {0};
    assert_int_equal(elang_calibration_load("/nonexistent.json", &c, NULL), ELANG_ERR_IO);
    char path[1024];
    snprintf(path, sizeof path, "%s/calib.json", test_tmpdir());
    const char broken_hash[] =
        "{\"elang_calibration\": 1, \"threshold\": 1, \"score\": \"energy\", \"temperature\": 1,"
        " \"aggregation\": \"mean\", \"label_words\": [], \"objective\": \"o\", \"task\": \"sst2\", \"data\": \"d\","
        " \"data_lines\": \"\", \"holdout\": 0, \"metric_name\": \"accuracy\", \"metric\": null, \"super_rate\": null,"
        " \"gflops\": null, \"heldout_metric\": null, \"heldout_super_rate\": null, \"swift_metric\": null,"
        " \"super_metric\": null, \"swift_gflops\": null, \"super_gflops\": null, \"num_beams\": 1,"
        " \"max_new_tokens\": 64, \"swift\": {\"path\": \"a\", \"hash\": 17, \"prefix\": \"\"},"
        " \"super\": {\"path\": \"b\", \"hash\": \"0123456789abcdef\", \"prefix\": \"\"}}";
    write_file(path, broken_hash, sizeof broken_hash - 1);
    assert_int_equal(elang_calibration_load(path, &c, NULL), ELANG_ERR_FORMAT);
    elang_calibration good = {.threshold = 1.0, .temperature = 1.0, .num_beams = 1, .max_new_tokens = 64,
                              .task = "sst2", .swift_hash = "0123456789abcdef", .super_hash = "0123456789abcdef"};
    assert_int_equal(elang_calibration_save(&good, "/nonexistent/calib.json", NULL), ELANG_ERR_IO);
    /* A device is written in place, never replaced by a file, and its write
     * errors are reported (once renamed over: /dev/full became a file). */
    elang_error err;
    if (access("/dev/full", W_OK) == 0) {
        assert_int_equal(elang_calibration_save(&good, "/dev/full", &err), ELANG_ERR_IO);
        assert_non_null(strstr(err.message, "/dev/full"));
        struct stat st;
        assert_int_equal(stat("/dev/full", &st), 0);
        assert_true(S_ISCHR(st.st_mode));
    }
    /* Through a link, the file it names is replaced and the link stays. */
    char target[1100], link_path[1100];
    snprintf(target, sizeof target, "%s/calib-target.json", test_tmpdir());
    snprintf(link_path, sizeof link_path, "%s/calib-link.json", test_tmpdir());
    write_file(target, "old", 3);
    unlink(link_path);
    assert_int_equal(symlink(target, link_path), 0);
    assert_int_equal(elang_calibration_save(&good, link_path, &err), ELANG_OK);
    struct stat lst;
    assert_int_equal(lstat(link_path, &lst), 0);
    assert_true(S_ISLNK(lst.st_mode));
    size_t len;
    char *written = read_file_all(target, &len);
    assert_non_null(strstr(written, "\"elang_calibration\": 2"));
    free(written);
    assert_int_equal(elang_calibration_check(&good, "/nonexistent", "/nonexistent", NULL), ELANG_ERR_IO);

    elang_pair_run_free(run);
    elang_dataset_free(d);
    elang_model_free(swift), elang_model_free(super), elang_model_free(cls), elang_model_free(gen);
}

/* A careless caller's arguments (a probe of the API found each of these
 * crashing, or taken silently) get a status and a message. */
static void misuse_is_refused(void **s) {
    (void)s;
    elang_error err;
    elang_model *m = NULL;
    const char *bert = shared_path("fixtures/hf/bert"), *t5 = shared_path("fixtures/hf/t5");
    const struct {
        elang_load_opts o;
        const char *needle;
    } loads[] = {
        {{.threads = 100000}, "threads must be from 0 to 1024"},
        {{.max_length = -1}, "max_length must be 0"},
        {{.input_prefix = "caf\xc3"}, "input_prefix: invalid UTF-8 at byte offset 3"},
        {{.pair_infix = "\xff"}, "pair_infix: invalid UTF-8"},
    };
    for (size_t i = 0; i < sizeof loads / sizeof loads[0]; i++) {
        assert_int_equal(elang_model_load(bert, &loads[i].o, &m, &err), ELANG_ERR_INVALID_ARG);
        if (!strstr(err.message, loads[i].needle)) fail_msg("%s: want \"%s\"", err.message, loads[i].needle);
        assert_null(m);
    }
    assert_int_equal(elang_model_load(NULL, NULL, &m, &err), ELANG_ERR_INVALID_ARG);

    elang_model *cls = load(bert, 1), *gen = load(t5, 1);
    const elang_text one = {"a fine film", NULL};
    elang_class_out co;
    assert_int_equal(elang_classify(NULL, &one, 1, NULL, &co, &err), ELANG_ERR_INVALID_ARG);
    assert_int_equal(elang_classify(cls, &one, 1, NULL, NULL, &err), ELANG_ERR_INVALID_ARG);
    assert_int_equal(elang_classify(cls, &one, SIZE_MAX, NULL, &co, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "more than memory holds"));
    assert_int_equal(elang_classify(cls, NULL, 0, NULL, NULL, &err), ELANG_OK);

    /* The router keeps its own copy of the label words: the caller's may go. */
    char *heap[2] = {strdup("negative"), strdup("positive")};
    elang_route_opts ro = {.label_words = (const char *const *)heap, .num_label_words = 2};
    elang_model *pair[2] = {gen, gen};
    const double t = -1e30, nan_t = NAN;
    elang_router *r = NULL;
    assert_int_equal(elang_router_new(pair, 2, &nan_t, &ro, &r, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "threshold 0 is not a number"));
    assert_int_equal(elang_router_new(pair, 2, &t, &ro, &r, &err), ELANG_OK);
    for (int i = 0; i < 2; i++) memset(heap[i], 'x', strlen(heap[i])), free(heap[i]);
    const elang_text in = {"sst2 sentence: a fine film", NULL};
    elang_route_out out;
    assert_int_equal(elang_route(r, &in, 1, &out, &err), ELANG_OK);
    assert_true(strcmp(out.answers[0].label, "negative") == 0 || strcmp(out.answers[0].label, "positive") == 0);
    elang_route_out_free(&out, 1);
    elang_router_free(r);
    const char *missing[2] = {"negative", NULL};
    ro = (elang_route_opts){.label_words = missing, .num_label_words = 2};
    assert_int_equal(elang_router_new(pair, 2, &t, &ro, &r, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "label word 2 is NULL"));
    ro = (elang_route_opts){.label_words = NULL, .num_label_words = 2};
    assert_int_equal(elang_router_new(pair, 2, &t, &ro, &r, &err), ELANG_ERR_INVALID_ARG);
    ro = (elang_route_opts){.temperature = NAN};
    assert_int_equal(elang_router_new(pair, 2, &t, &ro, &r, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "routing temperature must be a positive number"));
    assert_null(r);

    /* Items and data sets that are not the run's. */
    elang_dataset *d = NULL, *other = NULL;
    assert_int_equal(elang_dataset_load("sst2", sst2_file(), NULL, &d, &err), ELANG_OK);
    assert_int_equal(elang_dataset_line(d, 0), 2);
    assert_int_equal(elang_dataset_line(d, 4), -1);
    elang_model *swift = load("models/sst2-swift", 1), *super = load("models/sst2-super", 1);
    elang_pair_run *run = NULL;
    const size_t items[2] = {0, 100000};
    assert_int_equal(elang_pair_run_new(swift, super, d, items, 2, NULL, NULL, NULL, &run, &err),
                     ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "item 1 is example 100000, beyond the data set's 4"));
    assert_int_equal(elang_pair_run_new(swift, super, d, items, 1, NULL, NULL, NULL, &run, &err), ELANG_OK);
    char path[1024];
    snprintf(path, sizeof path, "%s/one.tsv", test_tmpdir());
    write_file(path, "sentence\tlabel\nfine\t1\n", 22);
    assert_int_equal(elang_dataset_load("sst2", path, NULL, &other, &err), ELANG_OK);
    double seconds;
    assert_int_equal(elang_measure_routed(run, swift, super, other, ELANG_SCORE_ENERGY, 0.0, &seconds, &err),
                     ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "is not the one the run was made on"));
    assert_int_equal(elang_measure_routed(run, super, super, d, ELANG_SCORE_ENERGY, 0.0, &seconds, &err),
                     ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "Swift is models/sst2-super, but the run was made with models/sst2-swift"));
    /* An objective struct made by hand is checked as a parsed one is. */
    elang_point p;
    const elang_objective bad[] = {{ELANG_OBJ_SUPER_RATE, 2.0}, {ELANG_OBJ_MATCH_SUPER, NAN},
                                   {(elang_objective_kind)9, 0.0}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(elang_choose(run, ELANG_SCORE_ENERGY, &bad[i], &p, &err), ELANG_ERR_INVALID_ARG);
    /* A calibration that could not be read back is not written. */
    elang_calibration c = {.threshold = NAN, .temperature = 1.0, .num_beams = 1, .max_new_tokens = 64, .task = "sst2",
                           .swift_hash = "0123456789abcdef", .super_hash = "0123456789abcdef"};
    snprintf(path, sizeof path, "%s/never.calib.json", test_tmpdir());
    assert_int_equal(elang_calibration_save(&c, path, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "not written: the threshold is not a number"));
    c.threshold = 1.0, c.task = "sst3";
    assert_int_equal(elang_calibration_save(&c, path, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "unknown task \"sst3\""));
    assert_int_equal(access(path, F_OK), -1);
    assert_true(isnan(elang_model_gflops(swift, -5, 0)));

    /* A pair run keeps its own label words too (timing runs the models
     * again after the caller's words are gone; ASan sees a use after free). */
    const elang_load_opts t5o = {.threads = 1, .input_prefix = "sst2 sentence: "};
    elang_model *t5s, *t5b;
    assert_int_equal(elang_model_load("models/glue-t5-swift", &t5o, &t5s, &err), ELANG_OK);
    assert_int_equal(elang_model_load("models/glue-t5-super", &t5o, &t5b, &err), ELANG_OK);
    char *words[2] = {strdup("negative"), strdup("positive")};
    const elang_route_opts wo = {.label_words = (const char *const *)words, .num_label_words = 2};
    elang_pair_run *t5run = NULL;
    assert_int_equal(elang_pair_run_new(t5s, t5b, d, NULL, 0, &wo, NULL, NULL, &t5run, &err), ELANG_OK);
    for (int i = 0; i < 2; i++) memset(words[i], 'x', strlen(words[i])), free(words[i]);
    assert_int_equal(elang_measure_routed(t5run, t5s, t5b, d, ELANG_SCORE_ENERGY, 0.0, &seconds, &err), ELANG_OK);
    elang_pair_run_free(t5run);
    elang_model_free(t5s), elang_model_free(t5b);

    elang_pair_run_free(run);
    elang_dataset_free(d), elang_dataset_free(other);
    elang_model_free(swift), elang_model_free(super), elang_model_free(cls), elang_model_free(gen);
}

/* Zeroed option structs and their *_default() give the same outputs. */
static void zeroed_options_are_the_defaults(void **s) {
    (void)s;
    elang_model *m = load(shared_path("fixtures/hf/marian"), 1);
    const elang_text in = {"The cat sat on the mat.", NULL};
    elang_gen_out a, b;
    const elang_gen_opts zero = {0}, dflt = elang_gen_opts_default();
    assert_int_equal(elang_generate(m, &in, 1, &zero, &a, NULL), ELANG_OK);
    assert_int_equal(elang_generate(m, &in, 1, &dflt, &b, NULL), ELANG_OK);
    assert_int_equal(a.num_ids, b.num_ids);
    assert_memory_equal(a.ids, b.ids, sizeof(int32_t) * (size_t)a.num_ids);
    assert_true(a.energy == b.energy);
    elang_gen_out_free(&a, 1), elang_gen_out_free(&b, 1);

    elang_answer x, y;
    const elang_route_opts rz = {0}, rd = elang_route_opts_default();
    assert_int_equal(elang_answer_all(m, &in, NULL, 1, &rz, &x, NULL, NULL), ELANG_OK);
    assert_int_equal(elang_answer_all(m, &in, NULL, 1, &rd, &y, NULL, NULL), ELANG_OK);
    /* The same scores, and the same NaN for the encoder head's (a pass of its own). */
    for (int k = 0; k < ELANG_SCORE_KINDS; k++)
        assert_true(x.scores[k] == y.scores[k] || (isnan(x.scores[k]) && isnan(y.scores[k])));
    assert_int_equal(x.decoder_steps, y.decoder_steps);
    elang_answers_free(&x, 1), elang_answers_free(&y, 1);
    elang_model_free(m);
}

/* Loading and running a model leaves the caller's OpenMP thread count as it
 * was, and each model keeps its own. (Loading used to set the process's
 * BLAS and OpenMP threads, so loading Super changed Swift's.) */
static void models_keep_their_own_threads(void **s) {
    (void)s;
    omp_set_num_threads(3);
    elang_model *one = load(shared_path("fixtures/hf/bert"), 1);
    assert_int_equal(omp_get_max_threads(), 3);
    elang_model *two = load(shared_path("fixtures/hf/bert"), 2);
    elang_model *all = load(shared_path("fixtures/hf/bert"), 0);
    assert_int_equal(omp_get_max_threads(), 3);
    assert_int_equal(elang_model_threads(one), 1);
    assert_int_equal(elang_model_threads(two), 2);
    const int quota = cpu_quota_cpus(); /* a container's CPU quota bounds "all" */
    assert_int_equal(elang_model_threads(all), quota > 0 && quota < omp_get_num_procs() ? quota : omp_get_num_procs());
    const elang_text in = {"a charming and often affecting journey", NULL};
    elang_class_out o;
    assert_int_equal(elang_classify(one, &in, 1, NULL, &o, NULL), ELANG_OK);
    elang_class_out_free(&o, 1);
    assert_int_equal(omp_get_max_threads(), 3);
    /* The profile counts batches and the fewest threads one ran on: a count
     * given is kept; 0 may give fewer under load, never none or more. */
    const elang_text three[3] = {in, in, in};
    elang_class_out outs[3];
    elang_classify_opts two_a_batch = {.batch_size = 2};
    elang_profile p;
    elang_model_profile(all, &p);
    assert_int_equal(p.batches, 0);
    assert_int_equal(p.fewest_threads, elang_model_threads(all));
    assert_int_equal(elang_classify(two, three, 3, &two_a_batch, outs, NULL), ELANG_OK);
    elang_class_out_free(outs, 3);
    elang_model_profile(two, &p);
    assert_int_equal(p.batches, 2);
    assert_int_equal(p.batches_fewer_threads, 0);
    assert_int_equal(p.fewest_threads, 2);
    assert_int_equal(elang_classify(all, three, 3, &two_a_batch, outs, NULL), ELANG_OK);
    elang_class_out_free(outs, 3);
    elang_model_profile(all, &p);
    assert_int_equal(p.batches, 2);
    assert_true(p.fewest_threads >= 1 && p.fewest_threads <= elang_model_threads(all));
    assert_true(p.batches_fewer_threads == 0 ? p.fewest_threads == elang_model_threads(all)
                                             : p.fewest_threads < elang_model_threads(all));
    assert_int_equal(omp_get_max_threads(), 3);
    elang_model_free(one), elang_model_free(two), elang_model_free(all);
    omp_set_num_threads(omp_get_num_procs());
}

typedef struct {
    elang_model *m;
    const elang_text *in;
    size_t n;
    elang_class_out *out;
    elang_status st;
} job;

static void *classify_job(void *arg) {
    job *j = arg;
    for (int round = 0; round < 5 && j->st == ELANG_OK; round++) {
        elang_class_out_free(j->out, j->n);
        j->st = elang_classify(j->m, j->in, j->n, NULL, j->out, NULL);
    }
    return NULL;
}

/* Two models on two threads at once, as a server would run Swift and
 * Super: each gets the answers it gives alone. */
static void two_models_on_two_threads(void **s) {
    (void)s;
    size_t n;
    json_t **cases = read_jsonl(shared_path("fixtures/hf/bert/cases.jsonl"), &n);
    n--; /* the last line is the batch */
    elang_text *in = calloc(n, sizeof *in);
    for (size_t i = 0; i < n; i++)
        in[i] = (elang_text){json_string_value(json_object_get(cases[i], "text")),
                             json_string_value(json_object_get(cases[i], "text_pair"))};
    elang_model *a = load(shared_path("fixtures/hf/bert"), 1), *b = load(shared_path("fixtures/hf/bert-f16"), 1);
    elang_class_out *alone_a = calloc(n, sizeof *alone_a), *alone_b = calloc(n, sizeof *alone_b);
    assert_int_equal(elang_classify(a, in, n, NULL, alone_a, NULL), ELANG_OK);
    assert_int_equal(elang_classify(b, in, n, NULL, alone_b, NULL), ELANG_OK);
    job ja = {a, in, n, calloc(n, sizeof(elang_class_out)), ELANG_OK};
    job jb = {b, in, n, calloc(n, sizeof(elang_class_out)), ELANG_OK};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, classify_job, &ja), 0);
    assert_int_equal(pthread_create(&tb, NULL, classify_job, &jb), 0);
    pthread_join(ta, NULL), pthread_join(tb, NULL);
    assert_int_equal(ja.st, ELANG_OK);
    assert_int_equal(jb.st, ELANG_OK);
    size_t checked = 0;
    for (size_t i = 0; i < n; i++)
        for (int l = 0; l < elang_model_num_labels(a); l++, checked++) {
            assert_true(ja.out[i].logits[l] == alone_a[i].logits[l]);
            assert_true(jb.out[i].logits[l] == alone_b[i].logits[l]);
        }
    assert_true(checked >= 3 * 10);
    elang_class_out_free(ja.out, n), elang_class_out_free(jb.out, n);
    elang_class_out_free(alone_a, n), elang_class_out_free(alone_b, n);
    free(ja.out), free(jb.out), free(alone_a), free(alone_b), free(in);
    elang_model_free(a), elang_model_free(b);
    free_jsonl(cases, n + 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_matches_header),
        cmocka_unit_test(failures_keep_their_status_without_err),
        cmocka_unit_test(misuse_is_refused),
        cmocka_unit_test(zeroed_options_are_the_defaults),
        cmocka_unit_test(models_keep_their_own_threads),
        cmocka_unit_test(two_models_on_two_threads),
    };
    int failed = cmocka_run_group_tests_name("api", tests, NULL, NULL);
    test_tmpdir_cleanup();
    return failed;
}
