/* The demo models in models/ (trained from scratch by tools/train) against
 * what the training framework computed with the same files
 * (tests/data/{sst2,multi30k}_demo_expected.jsonl, written by
 * tools/train/expectations.py): SST-2 dev sentences, read again from
 * shared/data, give the same input ids, labels and logits within 1e-3;
 * Multi30k test sentences give the same source ids and greedy ids; the
 * decoder-only SST-2 pair (tests/data/sst2_lm_demo_expected.jsonl) gives
 * the same prompt ids, label words and label-word logits (through the
 * energy, which is their log-sum-exp) and the same greedy ids. Also:
 * batched results equal one at a time, the CLI agrees, and the committed
 * weights stay under 40 MB. */
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

#include "elang.h"
#include "support.h"

#define LOGIT_TOL 1e-3
#define SST2_ROWS 200
#define MULTI30K_ROWS 20
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

/* The rows of an expectations file that belong to `model`. */
static json_t **rows_of(const char *path, const char *model, size_t *n) {
    size_t all;
    json_t **rows = read_jsonl(path, &all), **mine = calloc(all, sizeof *mine);
    *n = 0;
    for (size_t i = 0; i < all; i++) {
        if (strcmp(json_string_value(json_object_get(rows[i], "model")), model) == 0)
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

static void check_sst2(const char *name) {
    elang_model *m = load(name);
    assert_int_equal(elang_model_num_labels(m), 2);
    assert_string_equal(elang_model_label(m, 0), "negative");
    assert_string_equal(elang_model_label(m, 1), "positive");
    size_t n;
    json_t **rows = rows_of("tests/data/sst2_demo_expected.jsonl", name, &n);
    assert_int_equal(n, SST2_ROWS);
    elang_text *in = dev_inputs(rows, n);

    elang_class_out *batched = calloc(n, sizeof *batched), *alone = calloc(n, sizeof *alone);
    elang_error err;
    elang_classify_opts b32 = {.batch_size = 32}, b1 = {.batch_size = 1};
    if (elang_classify(m, in, n, &b32, batched, &err) != ELANG_OK) fail_msg("%s: %s", name, err.message);
    if (elang_classify(m, in, n, &b1, alone, &err) != ELANG_OK) fail_msg("%s: %s", name, err.message);
    for (size_t i = 0; i < n; i++) {
        const int line = (int)json_integer_value(json_object_get(rows[i], "line"));
        assert_ids(batched[i].input_ids, batched[i].num_tokens, json_object_get(rows[i], "input_ids"), name, line);
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
    free(batched), free(alone);
    free_inputs(in, n);
    free_jsonl(rows, n);
    elang_model_free(m);
}

static void check_multi30k(const char *name) {
    elang_model *m = load(name);
    assert_true(elang_model_is_generator(m));
    size_t n;
    json_t **rows = rows_of("tests/data/multi30k_demo_expected.jsonl", name, &n);
    assert_int_equal(n, MULTI30K_ROWS);
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
    free_lines(&test);
    free_jsonl(rows, n);
    elang_model_free(m);
}

/* The decoder-only pair as `elang demo` runs it: the prompt template, the
 * label words, answers batched (32) and one at a time. */
static void check_sst2_lm(const char *name) {
    elang_model *m = load_with_prefix(name, LM_PROMPT);
    assert_true(elang_model_is_causal(m));
    size_t n;
    json_t **rows = rows_of("tests/data/sst2_lm_demo_expected.jsonl", name, &n);
    assert_int_equal(n, LM_ROWS);
    elang_text *in = dev_inputs(rows, n);

    const char *words[2] = {"negative", "positive"};
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

static void sst2_swift(void **state) {
    (void)state;
    check_sst2("sst2-swift");
}

static void sst2_super(void **state) {
    (void)state;
    check_sst2("sst2-super");
}

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
    json_t **rows = rows_of("tests/data/sst2_demo_expected.jsonl", "sst2-super", &n);
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

/* The weights are committed to git: all of models/ together stay under 40 MB. */
static void weights_stay_small(void **state) {
    (void)state;
    DIR *dir = opendir("models");
    assert_non_null(dir);
    long long total = 0;
    int models = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        char path[512];
        struct stat st;
        snprintf(path, sizeof path, "models/%s/model.safetensors", e->d_name);
        if (e->d_name[0] == '.' || stat(path, &st) != 0) continue;
        total += (long long)st.st_size;
        models++;
    }
    closedir(dir);
    assert_true(models >= 4);
    if (total >= 40LL * 1000 * 1000) fail_msg("the demo weights take %lld bytes", total);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sst2_swift),
        cmocka_unit_test(sst2_super),
        cmocka_unit_test(multi30k_swift),
        cmocka_unit_test(multi30k_super),
        cmocka_unit_test(sst2_lm_swift),
        cmocka_unit_test(sst2_lm_super),
        cmocka_unit_test(cli_classifies),
        cmocka_unit_test(weights_stay_small),
    };
    int failed = cmocka_run_group_tests_name("demo_models", tests, NULL, NULL);
    test_tmpdir_cleanup();
    return failed;
}
