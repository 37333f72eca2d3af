/* The demo models in models/ (trained from scratch by tools/train) against
 * what the training framework computed with the same files
 * (tests/data/{glue,glue_t5,multi30k,sst2_lm}_demo_expected.jsonl, written by
 * tools/train/expectations.py): GLUE dev examples (SST-2, CoLA, MRPC, RTE;
 * sentence pairs too), read again from shared/data, give the same input
 * ids, token types, labels and logits within 1e-3; Multi30k test sentences
 * give the same source ids and greedy ids, and Swift's encoder head the same
 * scores; the text-to-text GLUE pair gives the same input ids, label words
 * and first-step label-word logits on every task, and its Swift's encoder
 * head the same scores; the decoder-only SST-2 pair gives the same prompt ids, label words
 * and label-word logits (through the energy, which is their log-sum-exp)
 * and the same greedy ids. Also: batched results equal one at a time, the
 * CLI agrees, and the committed weights stay under 100 MB. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "elang_eval.h"
#include "eval/dataset.h"
#include "support.h"

#define LOGIT_TOL 1e-3
/* Rows per GLUE model: the first 100 dev examples, less the few whose two
 * logits are too close to compare (tools/train/expectations.py). */
#define GLUE_MIN_ROWS 90
#define MULTI30K_ROWS 20
/* Rows per text-to-text model and task: the first 50 dev examples, less the
 * few whose two label-word logits are too close to compare. */
#define GLUE_T5_MIN_ROWS 45
#define PREFIX "translate English to German: "
#define LM_PROMPT "Review: {text} Sentiment:"
#define LM_ROWS 200
#define LM_GREEDY_ROWS 20
#define LM_NEW_TOKENS 4

/* The lines of a data file: line[k], k >= 1, NUL-terminated in place. */
typedef struct {
    char *data;
    char **line;
    size_t n;
} lines;

static lines read_lines(const char *rel) {
    lines l = {0};
    size_t len;
    l.data = read_file_all(shared_path(rel), &len);
    l.line = calloc(len + 2, sizeof *l.line);
    for (char *p = l.data; *p;) {
        l.line[++l.n] = p;
        char *e = strchr(p, '\n');
        if (!e) break;
        *e = '\0';
        p = e + 1;
    }
    return l;
}

static void free_lines(lines *l) {
    free(l->data);
    free(l->line);
}

static elang_model *load_with_prefix(const char *name, const char *prefix) {
    char dir[256];
    snprintf(dir, sizeof dir, "models/%s", name);
    elang_model *m = NULL;
    elang_error err;
    elang_load_opts lo = {.threads = 2, .input_prefix = prefix};
    if (elang_model_load(dir, &lo, &m, &err) != ELANG_OK) fail_msg("loading %s: %s", dir, err.message);
    return m;
}

static elang_model *load(const char *name) {
    return load_with_prefix(name, NULL);
}

/* The rows of an expectations file that belong to `model` and hold `key`. */
static json_t **rows_of(const char *path, const char *model, const char *key, size_t *n) {
    size_t all;
    json_t **rows = read_jsonl(path, &all), **mine = calloc(all, sizeof *mine);
    *n = 0;
    for (size_t i = 0; i < all; i++) {
        if (strcmp(json_string_value(json_object_get(rows[i], "model")), model) == 0 && json_object_get(rows[i], key))
            mine[(*n)++] = json_incref(rows[i]);
    }
    free_jsonl(rows, all);
    if (*n == 0) fail_msg("%s has no rows for %s", path, model);
    return mine;
}

static void assert_ids(const int32_t *got, int n, const json_t *want, const char *what, int line) {
    if ((size_t)n != json_array_size(want))
        fail_msg("%s line %d: %d ids, want %zu", what, line, n, json_array_size(want));
    for (int i = 0; i < n; i++)
        if (got[i] != json_integer_value(json_array_get(want, (size_t)i)))
            fail_msg("%s line %d: id %d is %d, want %lld", what, line, i, got[i],
                     (long long)json_integer_value(json_array_get(want, (size_t)i)));
}

/* SST-2 dev line k, column 1 (the sentence), malloc'ed. */
static char *sentence(const lines *dev, int k) {
    if (k < 2 || (size_t)k > dev->n) fail_msg("dev.tsv has no line %d", k);
    const char *tab = strchr(dev->line[k], '\t');
    return strndup(dev->line[k], tab ? (size_t)(tab - dev->line[k]) : strlen(dev->line[k]));
}

/* The dev sentences of an expectations file's rows, malloc'ed. */
static elang_text *dev_inputs(json_t **rows, size_t n) {
    lines dev = read_lines("data/glue/SST-2/dev.tsv");
    elang_text *in = calloc(n, sizeof *in);
    for (size_t i = 0; i < n; i++)
        in[i].text = sentence(&dev, (int)json_integer_value(json_object_get(rows[i], "line")));
    free_lines(&dev);
    return in;
}

static void free_inputs(elang_text *in, size_t n) {
    for (size_t i = 0; i < n; i++) free((char *)in[i].text);
    free(in);
}

/* The Multi30k test sentences of an expectations file's rows, behind the
 * task prefix, malloc'ed. */
static elang_text *multi30k_inputs(json_t **rows, size_t n) {
    lines test = read_lines("data/multi30k/test_2016_flickr.en");
    elang_text *in = calloc(n, sizeof *in);
    for (size_t i = 0; i < n; i++) {
        const size_t k = (size_t)json_integer_value(json_object_get(rows[i], "line"));
        if (k < 1 || k > test.n) fail_msg("test_2016_flickr.en has no line %zu", k);
        char *text = malloc(strlen(PREFIX) + strlen(test.line[k]) + 1);
        strcpy(text, PREFIX);
        strcat(text, test.line[k]);
        in[i].text = text;
    }
    free_lines(&test);
    return in;
}

/* The examples of data set d (read from path) on the rows' lines; their
 * texts belong to d. */
static elang_text *dataset_inputs(const elang_dataset *d, const char *path, json_t **rows, size_t n) {
    elang_text *in = calloc(n, sizeof *in);
    for (size_t i = 0; i < n; i++) {
        const long line = (long)json_integer_value(json_object_get(rows[i], "line"));
        size_t k = 0;
        while (k < elang_dataset_size(d) && elang_dataset_line(d, k) != line) k++;
        if (k == elang_dataset_size(d)) fail_msg("%s has no example on line %ld", path, line);
        in[i] = dataset_text(d, k);
    }
    return in;
}

/* A GLUE demo model against its rows: each row's dev example, read again
 * with the library's own GLUE reader, gives the same ids and token types,
 * the same label and the logits within LOGIT_TOL, batched and one at a
 * time (sentence pairs included). */
static void check_glue(const char *task, const char *dev_file, const char *size) {
    char name[64], path[256];
    snprintf(name, sizeof name, "%s-%s", task, size);
    snprintf(path, sizeof path, "data/glue/%s", dev_file);
    elang_model *m = load(name);
    assert_int_equal(elang_model_num_labels(m), 2);
    size_t n;
    json_t **rows = rows_of("tests/data/glue_demo_expected.jsonl", name, "logits", &n);
    if (n < GLUE_MIN_ROWS) fail_msg("%s: only %zu rows", name, n);
    elang_dataset *d;
    elang_error err;
    if (elang_dataset_load(task, shared_path(path), NULL, &d, &err) != ELANG_OK) fail_msg("%s", err.message);
    elang_text *in = dataset_inputs(d, path, rows, n);
    elang_class_out *batched = calloc(n, sizeof *batched), *alone = calloc(n, sizeof *alone);
    elang_classify_opts b32 = {.batch_size = 32}, b1 = {.batch_size = 1};
    if (elang_classify(m, in, n, &b32, batched, &err) != ELANG_OK) fail_msg("%s: %s", name, err.message);
    if (elang_classify(m, in, n, &b1, alone, &err) != ELANG_OK) fail_msg("%s: %s", name, err.message);
    for (size_t i = 0; i < n; i++) {
        const int line = (int)json_integer_value(json_object_get(rows[i], "line"));
        assert_ids(batched[i].input_ids, batched[i].num_tokens, json_object_get(rows[i], "input_ids"), name, line);
        assert_ids(batched[i].token_type_ids, batched[i].num_tokens, json_object_get(rows[i], "token_type_ids"), name,
                   line);
        if (batched[i].label_id != json_integer_value(json_object_get(rows[i], "label_id")))
            fail_msg("%s dev line %d: label %d, want %lld", name, line, batched[i].label_id,
                     (long long)json_integer_value(json_object_get(rows[i], "label_id")));
        const json_t *want = json_object_get(rows[i], "logits");
        for (int j = 0; j < 2; j++) {
            const double w = json_real_value(json_array_get(want, (size_t)j));
            if (!(fabs(batched[i].logits[j] - w) <= LOGIT_TOL))
                fail_msg("%s dev line %d: logit %d is %.6f, want %.6f", name, line, j, batched[i].logits[j], w);
            if (!(fabs(batched[i].logits[j] - alone[i].logits[j]) <= 1e-5))
                fail_msg("%s dev line %d: batched logit %.7f, one at a time %.7f", name, line,
                         batched[i].logits[j], alone[i].logits[j]);
        }
    }
    elang_class_out_free(batched, n);
    elang_class_out_free(alone, n);
    free(batched), free(alone), free(in);
    elang_dataset_free(d);
    free_jsonl(rows, n);
    elang_model_free(m);
}

static void check_multi30k(const char *name) {
    elang_model *m = load(name);
    assert_true(elang_model_is_generator(m));
    size_t n;
    json_t **rows = rows_of("tests/data/multi30k_demo_expected.jsonl", name, "greedy_ids", &n);
    assert_int_equal(n, MULTI30K_ROWS);
    elang_text *in = multi30k_inputs(rows, n);
    elang_gen_out *batched = calloc(n, sizeof *batched), *alone = calloc(n, sizeof *alone);
    elang_error err;
    elang_gen_opts g = elang_gen_opts_default();
    g.max_new_tokens = 64;
    g.batch_size = 8;
    if (elang_generate(m, in, n, &g, batched, &err) != ELANG_OK) fail_msg("%s: %s", name, err.message);
    g.batch_size = 1;
    if (elang_generate(m, in, n, &g, alone, &err) != ELANG_OK) fail_msg("%s: %s", name, err.message);
    for (size_t i = 0; i < n; i++) {
        const int line = (int)json_integer_value(json_object_get(rows[i], "line"));
        assert_ids(batched[i].input_ids, batched[i].num_input_ids, json_object_get(rows[i], "input_ids"), name, line);
        assert_ids(batched[i].ids, batched[i].num_ids, json_object_get(rows[i], "greedy_ids"), name, line);
        assert_ids(alone[i].ids, alone[i].num_ids, json_object_get(rows[i], "greedy_ids"), name, line);
    }
    elang_gen_out_free(batched, n);
    elang_gen_out_free(alone, n);
    free(batched), free(alone);
    free_inputs(in, n);
    free_jsonl(rows, n);
    elang_model_free(m);
}

/* elang_classify by label words against the training framework's first
 * step logits of the words (rows' "logits"), label and input ids: the
 * classify command's path, batched (32) and one at a time. */
static void check_classify_by_words(elang_model *m, const char *name, const char *task, const char *const *words,
                                    const elang_text *in, json_t **rows, size_t n) {
    elang_class_out *batched = calloc(n, sizeof *batched), *alone = calloc(n, sizeof *alone);
    elang_classify_opts o = {.label_words = words, .num_label_words = 2};
    elang_error err;
    if (elang_classify(m, in, n, &o, batched, &err) != ELANG_OK) fail_msg("%s: %s", name, err.message);
    o.batch_size = 1;
    if (elang_classify(m, in, n, &o, alone, &err) != ELANG_OK) fail_msg("%s: %s", name, err.message);
    for (size_t i = 0; i < n; i++) {
        const int line = (int)json_integer_value(json_object_get(rows[i], "line"));
        const json_t *logits = json_object_get(rows[i], "logits");
        for (int j = 0; j < 2; j++) {
            const double want = json_real_value(json_array_get(logits, (size_t)j));
            if (!(fabs(batched[i].logits[j] - want) <= LOGIT_TOL) || !(fabs(alone[i].logits[j] - want) <= LOGIT_TOL))
                fail_msg("%s %s line %d: classify's logit of \"%s\" %.6f (alone %.6f), want %.6f", name, task, line,
                         words[j], batched[i].logits[j], alone[i].logits[j], want);
        }
        assert_int_equal(batched[i].label_id, (int)json_integer_value(json_object_get(rows[i], "label_id")));
        assert_true(fabs(batched[i].probs[0] + batched[i].probs[1] - 1.0) < 1e-6);
        const double a = batched[i].logits[0], b = batched[i].logits[1];
        assert_true(fabs(batched[i].energy + fmax(a, b) + log1p(exp(-fabs(a - b)))) < 1e-5);
        assert_null(batched[i].token_type_ids);
        assert_ids(batched[i].input_ids, batched[i].num_tokens, json_object_get(rows[i], "input_ids"), name, line);
    }
    elang_class_out_free(batched, n), elang_class_out_free(alone, n);
    free(batched), free(alone);
}

/* The decoder-only pair as `elang demo` runs it: the prompt template, the
 * label words, answers batched (32) and one at a time. */
static void check_sst2_lm(const char *name) {
    elang_model *m = load_with_prefix(name, LM_PROMPT);
    assert_true(elang_model_is_causal(m));
    size_t n;
    json_t **rows = rows_of("tests/data/sst2_lm_demo_expected.jsonl", name, "label_id", &n);
    assert_int_equal(n, LM_ROWS);
    elang_text *in = dev_inputs(rows, n);

    const char *words[2] = {"negative", "positive"};
    check_classify_by_words(m, name, "sst2", words, in, rows, n);
    elang_route_opts o = elang_route_opts_default();
    o.label_words = words, o.num_label_words = 2;
    elang_answer *batched = calloc(n, sizeof *batched), *alone = calloc(n, sizeof *alone);
    elang_error err;
    if (elang_answer_all(m, in, NULL, n, &o, batched, NULL, &err) != ELANG_OK) fail_msg("%s: %s", name, err.message);
    o.batch_size = 1;
    if (elang_answer_all(m, in, NULL, n, &o, alone, NULL, &err) != ELANG_OK) fail_msg("%s: %s", name, err.message);
    size_t positive = 0, greedy_checked = 0;
    for (size_t i = 0; i < n; i++) {
        const int line = (int)json_integer_value(json_object_get(rows[i], "line"));
        const json_int_t want = json_integer_value(json_object_get(rows[i], "label_id"));
        if (batched[i].label_id != want || alone[i].label_id != want)
            fail_msg("%s dev line %d: label %d (alone %d), want %lld", name, line, batched[i].label_id,
                     alone[i].label_id, (long long)want);
        positive += want == 1;
        /* The answer's energy score is the log-sum-exp of the two label
         * words' logits (T = 1): it pins both logits' scale, the label id
         * their order. */
        const json_t *logits = json_object_get(rows[i], "logits");
        const double a = json_real_value(json_array_get(logits, 0)), b = json_real_value(json_array_get(logits, 1));
        const double lse = fmax(a, b) + log1p(exp(-fabs(a - b)));
        if (!(fabs(batched[i].scores[ELANG_SCORE_ENERGY] - lse) <= LOGIT_TOL))
            fail_msg("%s dev line %d: energy score %.6f, want %.6f", name, line,
                     batched[i].scores[ELANG_SCORE_ENERGY], lse);
        if (!(fabs(batched[i].scores[ELANG_SCORE_ENERGY] - alone[i].scores[ELANG_SCORE_ENERGY]) <= 1e-5))
            fail_msg("%s dev line %d: batched energy %.7f, one at a time %.7f", name, line,
                     batched[i].scores[ELANG_SCORE_ENERGY], alone[i].scores[ELANG_SCORE_ENERGY]);
        assert_int_equal(batched[i].input_tokens, (int)json_array_size(json_object_get(rows[i], "input_ids")));

        const json_t *greedy = json_object_get(rows[i], "greedy_ids");
        if (!greedy) continue;
        elang_gen_out g;
        elang_gen_opts go = elang_gen_opts_default();
        go.max_new_tokens = LM_NEW_TOKENS;
        if (elang_generate(m, &in[i], 1, &go, &g, &err) != ELANG_OK) fail_msg("%s: %s", name, err.message);
        assert_ids(g.input_ids, g.num_input_ids, json_object_get(rows[i], "input_ids"), name, line);
        assert_ids(g.ids, g.num_ids, greedy, name, line);
        elang_gen_out_free(&g, 1);
        greedy_checked++;
    }
    /* Both labels occur among the expected answers, and every greedy row was compared. */
    assert_true(positive > 0 && positive < n);
    assert_int_equal(greedy_checked, LM_GREEDY_ROWS);
    elang_answers_free(batched, n);
    elang_answers_free(alone, n);
    free(batched), free(alone);
    free_inputs(in, n);
    free_jsonl(rows, n);
    elang_model_free(m);
}

static void sst2_lm_swift(void **state) {
    (void)state;
    check_sst2_lm("sst2-lm-swift");
}

static void sst2_lm_super(void **state) {
    (void)state;
    check_sst2_lm("sst2-lm-super");
}

/* The encoder head of multi30k-swift against the training framework: the
 * same score for each test sentence, batched and one at a time. */
static void multi30k_head(void **state) {
    (void)state;
    elang_model *m = load("multi30k-swift");
    assert_true(elang_model_has_head(m));
    size_t n;
    json_t **rows = rows_of("tests/data/multi30k_demo_expected.jsonl", "multi30k-swift", "head_score", &n);
    assert_int_equal(n, MULTI30K_ROWS);
    elang_text *in = multi30k_inputs(rows, n);
    elang_answer *batched = calloc(n, sizeof *batched), *alone = calloc(n, sizeof *alone);
    elang_route_opts o = elang_route_opts_default();
    o.score = ELANG_SCORE_ENCODER_HEAD;
    elang_error err;
    if (elang_answer_decisions(m, in, NULL, n, &o, batched, NULL, &err) != ELANG_OK) fail_msg("%s", err.message);
    o.batch_size = 1;
    if (elang_answer_decisions(m, in, NULL, n, &o, alone, NULL, &err) != ELANG_OK) fail_msg("%s", err.message);
    for (size_t i = 0; i < n; i++) {
        const double want = json_real_value(json_object_get(rows[i], "head_score"));
        if (!(fabs(batched[i].score - want) <= LOGIT_TOL) || !(fabs(alone[i].score - want) <= LOGIT_TOL))
            fail_msg("head score of test line %lld: %.6f batched, %.6f alone, want %.6f",
                     (long long)json_integer_value(json_object_get(rows[i], "line")), batched[i].score, alone[i].score,
                     want);
    }
    elang_answers_free(batched, n), elang_answers_free(alone, n);
    free(batched), free(alone);
    free_inputs(in, n);
    free_jsonl(rows, n);
    elang_model_free(m);
}

/* The text-to-text GLUE pair as `elang demo` runs it, one task at a time
 * (its prefix, the pair infix, its label words): the same input ids, label
 * and first-step label-word logits (through the energy, their log-sum-exp,
 * and the margin of their probabilities, which pins their difference),
 * batched and one at a time; with `head`, the encoder head's score of the
 * task's words instead. */
static void check_glue_t5(const char *name, bool head) {
    static const struct { const char *task, *dev, *prefix, *words[2]; } tasks[] = {
        {"sst2", "data/glue/SST-2/dev.tsv", "sst2 sentence: ", {"negative", "positive"}},
        {"cola", "data/glue/CoLA/dev.tsv", "cola sentence: ", {"unacceptable", "acceptable"}},
        {"mrpc", "data/glue/MRPC/dev.tsv", "mrpc sentence1: ", {"not_equivalent", "equivalent"}},
        {"rte", "data/glue/RTE/dev.tsv", "rte sentence1: ", {"entailment", "not_entailment"}},
    };
    size_t all_n;
    json_t **all = rows_of("tests/data/glue_t5_demo_expected.jsonl", name, head ? "head_score" : "logits", &all_n);
    for (size_t t = 0; t < sizeof tasks / sizeof tasks[0]; t++) {
        char dir[256];
        snprintf(dir, sizeof dir, "models/%s", name);
        elang_model *m = NULL;
        elang_error err;
        elang_load_opts lo = {.threads = 2, .input_prefix = tasks[t].prefix, .pair_infix = " sentence2: "};
        if (elang_model_load(dir, &lo, &m, &err) != ELANG_OK) fail_msg("loading %s: %s", dir, err.message);
        assert_true(elang_model_has_head(m) == (strcmp(name, "glue-t5-swift") == 0));
        json_t **rows = calloc(all_n, sizeof *rows);
        size_t n = 0;
        for (size_t i = 0; i < all_n; i++)
            if (strcmp(json_string_value(json_object_get(all[i], "task")), tasks[t].task) == 0) rows[n++] = all[i];
        if (n < GLUE_T5_MIN_ROWS) fail_msg("%s %s: only %zu rows", name, tasks[t].task, n);
        elang_dataset *d;
        if (elang_dataset_load(tasks[t].task, shared_path(tasks[t].dev), NULL, &d, &err) != ELANG_OK)
            fail_msg("%s", err.message);
        elang_text *in = dataset_inputs(d, tasks[t].dev, rows, n);
        if (!head) check_classify_by_words(m, name, tasks[t].task, tasks[t].words, in, rows, n);
        elang_route_opts o = elang_route_opts_default();
        o.label_words = tasks[t].words, o.num_label_words = 2;
        if (head) o.score = ELANG_SCORE_ENCODER_HEAD;
        elang_answer *batched = calloc(n, sizeof *batched), *alone = calloc(n, sizeof *alone);
        elang_status (*answer)(elang_model *, const elang_text *, const size_t *, size_t, const elang_route_opts *,
                               elang_answer *, double *, elang_error *) =
            head ? elang_answer_decisions : elang_answer_all;
        if (answer(m, in, NULL, n, &o, batched, NULL, &err) != ELANG_OK) fail_msg("%s: %s", name, err.message);
        o.batch_size = 1;
        if (answer(m, in, NULL, n, &o, alone, NULL, &err) != ELANG_OK) fail_msg("%s: %s", name, err.message);
        for (size_t i = 0; i < n; i++) {
            const int line = (int)json_integer_value(json_object_get(rows[i], "line"));
            double want[2];
            const char *what[2] = {"energy score", "margin"};
            elang_score_kind kind[2] = {ELANG_SCORE_ENERGY, ELANG_SCORE_MARGIN};
            if (head) {
                want[0] = json_real_value(json_object_get(rows[i], "head_score"));
                what[0] = "head score", kind[0] = ELANG_SCORE_ENCODER_HEAD;
            } else {
                const json_t *logits = json_object_get(rows[i], "logits");
                const double a = json_real_value(json_array_get(logits, 0)),
                             b = json_real_value(json_array_get(logits, 1));
                want[0] = fmax(a, b) + log1p(exp(-fabs(a - b)));
                want[1] = tanh(fabs(a - b) / 2.0); /* p1 - p2 of two classes */
                const json_int_t label = json_integer_value(json_object_get(rows[i], "label_id"));
                if (batched[i].label_id != label || alone[i].label_id != label)
                    fail_msg("%s %s dev line %d: label %d (alone %d), want %lld", name, tasks[t].task, line,
                             batched[i].label_id, alone[i].label_id, (long long)label);
                assert_int_equal(batched[i].input_tokens, (int)json_array_size(json_object_get(rows[i], "input_ids")));
            }
            for (int k = 0; k < (head ? 1 : 2); k++) {
                const double got = batched[i].scores[kind[k]], got_alone = alone[i].scores[kind[k]];
                if (!(fabs(got - want[k]) <= LOGIT_TOL) || !(fabs(got - got_alone) <= 1e-5))
                    fail_msg("%s %s dev line %d: %s %.6f (alone %.6f), want %.6f", name, tasks[t].task, line, what[k],
                             got, got_alone, want[k]);
            }
        }
        /* The ids themselves, for the first rows: what the model reads. */
        for (size_t i = 0; !head && i < 5; i++) {
            elang_gen_out g;
            elang_gen_opts go = elang_gen_opts_default();
            go.max_new_tokens = 1;
            if (elang_generate(m, &in[i], 1, &go, &g, &err) != ELANG_OK) fail_msg("%s: %s", name, err.message);
            assert_ids(g.input_ids, g.num_input_ids, json_object_get(rows[i], "input_ids"), name,
                       (int)json_integer_value(json_object_get(rows[i], "line")));
            elang_gen_out_free(&g, 1);
        }
        elang_answers_free(batched, n), elang_answers_free(alone, n);
        free(batched), free(alone), free(in), free(rows);
        elang_dataset_free(d);
        elang_model_free(m);
    }
    free_jsonl(all, all_n);
}

static void glue_t5_swift(void **state) {
    (void)state;
    check_glue_t5("glue-t5-swift", false);
}

static void glue_t5_super(void **state) {
    (void)state;
    check_glue_t5("glue-t5-super", false);
}

static void glue_t5_head(void **state) {
    (void)state;
    check_glue_t5("glue-t5-swift", true);
}

#define GLUE_TEST(task, dev, size)                                                                           \
    static void task##_##size(void **state) {                                                                     \
        (void)state;                                                                                              \
        check_glue(#task, dev, #size);                                                                            \
    }
GLUE_TEST(sst2, "SST-2/dev.tsv", swift)
GLUE_TEST(sst2, "SST-2/dev.tsv", super)
GLUE_TEST(cola, "CoLA/dev.tsv", swift)
GLUE_TEST(cola, "CoLA/dev.tsv", super)
GLUE_TEST(mrpc, "MRPC/dev.tsv", swift)
GLUE_TEST(mrpc, "MRPC/dev.tsv", super)
GLUE_TEST(rte, "RTE/dev.tsv", swift)
GLUE_TEST(rte, "RTE/dev.tsv", super)

static void multi30k_swift(void **state) {
    (void)state;
    check_multi30k("multi30k-swift");
}

static void multi30k_super(void **state) {
    (void)state;
    check_multi30k("multi30k-super");
}

/* `elang classify --format text` on the first dev sentences: the expected
 * labels, named by id2label. */
static void cli_classifies(void **state) {
    (void)state;
    size_t n;
    json_t **rows = rows_of("tests/data/glue_demo_expected.jsonl", "sst2-super", "logits", &n);
    lines dev = read_lines("data/glue/SST-2/dev.tsv");
    char in[1024];
    snprintf(in, sizeof in, "%s/sentences.txt", test_tmpdir());
    FILE *f = fopen(in, "w");
    for (size_t i = 0; i < 10; i++) {
        char *s = sentence(&dev, (int)json_integer_value(json_object_get(rows[i], "line")));
        fprintf(f, "%s\n", s);
        free(s);
    }
    fclose(f);
    char cmd[2048], *out, *err;
    snprintf(cmd, sizeof cmd, "%s classify --model models/sst2-super --format text --input %s --threads 2",
             elang_bin(), in);
    int rc = run_command(cmd, &out, &err);
    if (rc != 0) fail_msg("%s exited %d: %s", cmd, rc, err);
    char *line = out;
    for (size_t i = 0; i < 10; i++) {
        char *end = strchr(line, '\n');
        assert_non_null(end);
        *end = '\0';
        json_error_t je;
        json_t *got = json_loads(line, 0, &je);
        assert_non_null(got);
        const json_int_t want = json_integer_value(json_object_get(rows[i], "label_id"));
        assert_int_equal(json_integer_value(json_object_get(got, "label_id")), want);
        assert_string_equal(json_string_value(json_object_get(got, "label")), want ? "positive" : "negative");
        json_decref(got);
        line = end + 1;
    }
    free(out), free(err);
    free_lines(&dev);
    free_jsonl(rows, n);
}

/* `elang demo --data` on the text-to-text pair for MRPC: a report routed by
 * the calibration's score and one routed by Swift's encoder head, and the
 * side-by-side table made of their numbers (F1 and accuracy in percent). */
static void demo_compares_head_and_calibrated_score(void **state) {
    (void)state;
    char report[1024], cmd[2048], *out, *err;
    snprintf(report, sizeof report, "%s/demo-t5", test_tmpdir());
    snprintf(cmd, sizeof cmd, "%s demo --data %s --report %s --only t5-mrpc --threads 2", elang_bin(),
             shared_path("data"), report);
    if (run_command(cmd, &out, &err) != 0) fail_msg("%s: %s", cmd, err);
    /* The E-LANG row is named by the score models/glue-t5-mrpc.calib.json routes by. */
    json_error_t calib_error;
    json_t *calib = json_load_file("models/glue-t5-mrpc.calib.json", 0, &calib_error);
    if (!calib) fail_msg("models/glue-t5-mrpc.calib.json: %s", calib_error.text);
    const char *score = json_string_value(json_object_get(calib, "score"));
    assert_non_null(score);
    const char *dirs[2] = {"glue-t5/mrpc", "glue-t5/mrpc/encoder-head"}, *rows[2] = {score, "encoder head"};
    for (int i = 0; i < 2; i++) {
        char path[2048], want[256];
        snprintf(path, sizeof path, "%s/%s/report.json", report, dirs[i]);
        json_error_t je;
        json_t *r = json_load_file(path, 0, &je);
        if (!r) fail_msg("%s: %s", path, je.text);
        const json_t *e = json_object_get(r, "elang");
        assert_string_equal(json_string_value(json_object_get(r, "score")), i ? "encoder-head" : score);
        snprintf(want, sizeof want, "| E-LANG, %s | %.2f | %.2f | %.1f%% | %.2fx |", rows[i],
                 100.0 * json_number_value(json_object_get(e, "metric")),
                 100.0 * json_number_value(json_object_get(e, "accuracy")),
                 100.0 * json_number_value(json_object_get(e, "swift_ratio")),
                 json_number_value(json_object_get(e, "speedup_flops")));
        if (!strstr(out, want)) fail_msg("demo output lacks \"%s\":\n%s", want, out);
        json_decref(r);
    }
    assert_non_null(strstr(out, "| routing | F1 | accuracy | Swift ratio | speed-up (FLOPs) |"));
    assert_non_null(strstr(out, "== GLUE, glue-t5 pairs, routed by Swift's encoder head"));
    json_decref(calib);
    free(out), free(err);
}

/* Calibrating the SST-2 pair on its calibration split says how sure those
 * 1,000 sentences are of Super's lead over Swift (2.3 points, resolved:
 * README's table) and adds no note; the same on its first 100 sentences,
 * too few to tell a lead of that size from none, adds the note. */
static void calibrate_says_how_sure_the_split_is(void **state) {
    (void)state;
    char cmd[4096], *out, *err, lines[1024], calib[1024];
    snprintf(calib, sizeof calib, "%s/sst2-check.calib.json", test_tmpdir());
    snprintf(cmd, sizeof cmd, "%s calibrate --swift models/sst2-swift --super models/sst2-super --task sst2 --data %s "
             "--lines models/sst2-calibration-lines.txt --score softmax-energy --objective max-metric --out %s "
             "--threads 2", elang_bin(), shared_path("data/glue/SST-2/train.tsv"), calib);
    if (run_command(cmd, &out, &err) != 0) fail_msg("%s: %s", cmd, err);
    if (!strstr(out, "Swift alone -0.0230 (95% interval -0.")) fail_msg("no resolved lead in:\n%s", out);
    assert_null(strstr(out, "note: these inputs do not tell"));
    free(out), free(err);
    snprintf(lines, sizeof lines, "%s/sst2-first-100.txt", test_tmpdir());
    snprintf(cmd, sizeof cmd, "head -n 100 models/sst2-calibration-lines.txt > %s", lines);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s calibrate --swift models/sst2-swift --super models/sst2-super --task sst2 --data %s "
             "--lines %s --score softmax-energy --objective max-metric --out %s --threads 2", elang_bin(),
             shared_path("data/glue/SST-2/train.tsv"), lines, calib);
    if (run_command(cmd, &out, &err) != 0) fail_msg("%s: %s", cmd, err);
    if (!strstr(out, "note: these inputs do not tell Super's lead over Swift apart from none"))
        fail_msg("no note in:\n%s", out);
    free(out), free(err);
}

/* The demo models are committed to git: every file of every model directory
 * in models/ (weights, heads, tokenizers, cards) together stays under 100 MB. */
static void weights_stay_small(void **state) {
    (void)state;
    DIR *dir = opendir("models");
    assert_non_null(dir);
    long long total = 0;
    int models = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        char path[512];
        struct stat st;
        snprintf(path, sizeof path, "models/%s/config.json", e->d_name);
        if (e->d_name[0] == '.' || stat(path, &st) != 0) continue;
        snprintf(path, sizeof path, "models/%s", e->d_name);
        DIR *model = opendir(path);
        assert_non_null(model);
        for (struct dirent *f; (f = readdir(model));) {
            char file[1024];
            snprintf(file, sizeof file, "%s/%s", path, f->d_name);
            if (stat(file, &st) == 0 && S_ISREG(st.st_mode)) total += (long long)st.st_size;
        }
        closedir(model);
        models++;
    }
    closedir(dir);
    assert_true(models >= 14);
    if (total >= 100LL * 1000 * 1000) fail_msg("the demo models take %lld bytes", total);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sst2_swift), cmocka_unit_test(sst2_super), cmocka_unit_test(cola_swift),
        cmocka_unit_test(cola_super), cmocka_unit_test(mrpc_swift), cmocka_unit_test(mrpc_super),
        cmocka_unit_test(rte_swift),  cmocka_unit_test(rte_super),
        cmocka_unit_test(multi30k_swift),
        cmocka_unit_test(multi30k_super),
        cmocka_unit_test(multi30k_head),
        cmocka_unit_test(glue_t5_swift),
        cmocka_unit_test(glue_t5_super),
        cmocka_unit_test(glue_t5_head),
        cmocka_unit_test(sst2_lm_swift),
        cmocka_unit_test(sst2_lm_super),
        cmocka_unit_test(cli_classifies),
        cmocka_unit_test(demo_compares_head_and_calibrated_score),
        cmocka_unit_test(calibrate_says_how_sure_the_split_is),
        cmocka_unit_test(weights_stay_small),
    };
    int failed = cmocka_run_group_tests_name("demo_models", tests, NULL, NULL);
    test_tmpdir_cleanup();
    return failed;
}
