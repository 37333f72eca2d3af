/* The encoder classifiers against what transformers 4.25 computed on the
 * same files (../shared/fixtures/hf/<model>/cases.jsonl): ids exact, logits
 * and hidden states within 1e-4, energies at T=1 and T=2 within 1e-3, and
 * a padded batch equal to one input at a time. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/model_internal.h"
#include "io/weights.h"
#include "support.h"

#define LOGIT_TOL 1e-4
#define ENERGY_TOL 1e-3

static void assert_close(double got, double want, double tol, const char *what, size_t line) {
    if (!(fabs(got - want) <= tol))
        fail_msg("%s (case %zu): got %.7f, want %.7f (tolerance %g)", what, line, got, want, tol);
}

static void assert_ids(const int32_t *got, int n, json_t *want, const char *what, size_t line) {
    if ((size_t)n != json_array_size(want))
        fail_msg("%s (case %zu): %d ids, want %zu", what, line, n, json_array_size(want));
    for (int i = 0; i < n; i++)
        if (got[i] != json_integer_value(json_array_get(want, (size_t)i)))
            fail_msg("%s (case %zu): id %d is %d, want %lld", what, line, i, got[i],
                     (long long)json_integer_value(json_array_get(want, (size_t)i)));
}

static elang_model *load_fixture(const char *name) {
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/hf/%s", name);
    elang_model *m = NULL;
    elang_error err;
    elang_load_opts opts = {.threads = 2, .max_length = 64};
    if (elang_model_load(shared_path(rel), &opts, &m, &err) != ELANG_OK)
        fail_msg("loading %s: %s", name, err.message);
    return m;
}

/* The encoder straight on a padded batch [B, S], with its run state in
 * `a` (freed by the caller); r->hidden and r->logits hold the result. */
static void encode_batch(const elang_model *m, const int32_t *ids, const int32_t *types, const int32_t *mask, int B,
                         int S, arena *a, encoder_run *r) {
    arena_measure(a);
    encoder_run_carve(a, &m->encoder, B, S, r);
    assert_true(arena_commit(a));
    encoder_run_carve(a, &m->encoder, B, S, r);
    elang_error err;
    if (encoder_classifier_forward(&m->encoder, ids, types, mask, B, S, r, &err) != ELANG_OK)
        fail_msg("encoder: %s", err.message);
}

/* The last layer's states of one case, straight from the encoder, to compare
 * with last_hidden_first_token and last_hidden_sum. */
static void check_hidden(elang_model *m, const elang_class_out *o, json_t *c, size_t line) {
    const int S = o->num_tokens, H = m->encoder.dims.d_model;
    int32_t *mask = malloc(sizeof(int32_t) * S);
    for (int s = 0; s < S; s++) mask[s] = 1;
    arena a = {0};
    encoder_run r;
    encode_batch(m, o->input_ids, o->token_type_ids, mask, 1, S, &a, &r);
    const float *hidden = r.hidden;
    json_t *first = json_object_get(c, "last_hidden_first_token");
    assert_int_equal(json_array_size(first), (size_t)H);
    for (int h = 0; h < H; h++)
        assert_close(hidden[h], json_real_value(json_array_get(first, (size_t)h)), LOGIT_TOL,
                     "last_hidden_first_token", line);
    double sum = 0.0;
    for (long i = 0; i < (long)S * H; i++) sum += hidden[i];
    const double want = json_real_value(json_object_get(c, "last_hidden_sum"));
    assert_close(sum, want, 1e-3 * fmax(1.0, fabs(want)), "last_hidden_sum", line);
    arena_free(&a);
    free(mask);
}

static void check_single_cases(const char *name, bool has_types) {
    elang_model *m = load_fixture(name);
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/hf/%s/cases.jsonl", name);
    size_t n;
    json_t **cases = read_jsonl(shared_path(rel), &n);
    size_t checked = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *c = cases[i];
        if (json_object_get(c, "batch")) continue;
        json_t *pair = json_object_get(c, "text_pair");
        elang_text in = {json_string_value(json_object_get(c, "text")), pair ? json_string_value(pair) : NULL};
        elang_class_out out[2];
        elang_error err;
        for (int t = 0; t < 2; t++) {
            elang_classify_opts opts = {.batch_size = 1, .temperature = t == 0 ? 1.0 : 2.0};
            if (elang_classify(m, &in, 1, &opts, &out[t], &err) != ELANG_OK)
                fail_msg("%s case %zu: %s", name, i + 1, err.message);
        }
        assert_ids(out[0].input_ids, out[0].num_tokens, json_object_get(c, "input_ids"), "input_ids", i + 1);
        if (has_types)
            assert_ids(out[0].token_type_ids, out[0].num_tokens, json_object_get(c, "token_type_ids"),
                       "token_type_ids", i + 1);
        else
            assert_null(out[0].token_type_ids);
        json_t *logits = json_object_get(c, "logits");
        assert_int_equal(json_array_size(logits), (size_t)elang_model_num_labels(m));
        for (size_t j = 0; j < json_array_size(logits); j++)
            assert_close(out[0].logits[j], json_real_value(json_array_get(logits, j)), LOGIT_TOL, "logits", i + 1);
        assert_close(-out[0].energy, json_real_value(json_object_get(c, "neg_energy_T1")), ENERGY_TOL,
                     "neg_energy_T1", i + 1);
        assert_close(-out[1].energy, json_real_value(json_object_get(c, "neg_energy_T2")), ENERGY_TOL,
                     "neg_energy_T2", i + 1);
        float psum = 0.0f;
        for (int j = 0; j < elang_model_num_labels(m); j++) psum += out[0].probs[j];
        assert_close(psum, 1.0, 1e-5, "sum of probs", i + 1);
        check_hidden(m, &out[0], c, i + 1);
        elang_class_out_free(out, 2);
        checked++;
    }
    assert_true(checked >= 15);
    free_jsonl(cases, n);
    elang_model_free(m);
}

/* The batch line: the same texts classified together (padded to the longest)
 * must give transformers' batched logits and our own one-by-one logits; and
 * the fixture's padded ids + attention mask fed to the encoder directly give
 * the same rows. */
static void check_batch_case(const char *name) {
    elang_model *m = load_fixture(name);
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/hf/%s/cases.jsonl", name);
    size_t n;
    json_t **cases = read_jsonl(shared_path(rel), &n);
    json_t *c = cases[n - 1];
    json_t *texts = json_object_get(c, "batch"), *want = json_object_get(c, "logits");
    assert_non_null(texts);
    const size_t B = json_array_size(texts);
    const int L = elang_model_num_labels(m);
    elang_text *in = calloc(B, sizeof *in);
    for (size_t b = 0; b < B; b++) in[b].text = json_string_value(json_array_get(texts, b));
    elang_class_out *together = calloc(B, sizeof *together), *alone = calloc(B, sizeof *alone);
    elang_error err;
    elang_classify_opts batched = {.batch_size = (int)B}, single = {.batch_size = 1};
    assert_int_equal(elang_classify(m, in, B, &batched, together, &err), ELANG_OK);
    assert_int_equal(elang_classify(m, in, B, &single, alone, &err), ELANG_OK);
    for (size_t b = 0; b < B; b++)
        for (int j = 0; j < L; j++) {
            double w = json_real_value(json_array_get(json_array_get(want, b), (size_t)j));
            assert_close(together[b].logits[j], w, LOGIT_TOL, "batched logits", b);
            assert_close(together[b].logits[j], alone[b].logits[j], 1e-5, "batched vs one-by-one", b);
        }

    json_t *ids = json_object_get(c, "input_ids"), *mask = json_object_get(c, "attention_mask");
    const int S = (int)json_array_size(json_array_get(ids, 0));
    int32_t *flat_ids = malloc(sizeof(int32_t) * B * S), *flat_mask = malloc(sizeof(int32_t) * B * S);
    int32_t *types = calloc(B * S, sizeof(int32_t));
    for (size_t b = 0; b < B; b++)
        for (int s = 0; s < S; s++) {
            flat_ids[b * S + s] = (int32_t)json_integer_value(json_array_get(json_array_get(ids, b), (size_t)s));
            flat_mask[b * S + s] = (int32_t)json_integer_value(json_array_get(json_array_get(mask, b), (size_t)s));
        }
    arena a = {0};
    encoder_run r;
    encode_batch(m, flat_ids, m->encoder.type_emb ? types : NULL, flat_mask, (int)B, S, &a, &r);
    const float *logits = r.logits;
    for (size_t b = 0; b < B; b++)
        for (int j = 0; j < L; j++)
            assert_close(logits[b * L + j], json_real_value(json_array_get(json_array_get(want, b), (size_t)j)),
                         LOGIT_TOL, "padded-batch logits", b);

    arena_free(&a);
    free(flat_ids), free(flat_mask), free(types);
    elang_class_out_free(together, B);
    elang_class_out_free(alone, B);
    free(together), free(alone), free(in);
    free_jsonl(cases, n);
    elang_model_free(m);
}

static void bert_cases(void **state) { (void)state; check_single_cases("bert", true); }
static void bert_f16_cases(void **state) { (void)state; check_single_cases("bert-f16", true); }
static void distilbert_cases(void **state) { (void)state; check_single_cases("distilbert", false); }
static void roberta_cases(void **state) { (void)state; check_single_cases("roberta", false); }
static void bert_batch(void **state) { (void)state; check_batch_case("bert"); }
static void bert_f16_batch(void **state) { (void)state; check_batch_case("bert-f16"); }
static void distilbert_batch(void **state) { (void)state; check_batch_case("distilbert"); }
static void roberta_batch(void **state) { (void)state; check_batch_case("roberta"); }

/* Many inputs of mixed lengths, batched by length internally, must come back
 * in input order with the same results as one at a time. */
static void mixed_batch_keeps_order(void **state) {
    (void)state;
    elang_model *m = load_fixture("bert");
    const char *texts[] = {"a", "a much longer sentence than the first one, with commas", "",
                           "two words", "x y z", "the end", "a much longer sentence again",
                           "b"};
    const size_t n = sizeof texts / sizeof texts[0];
    elang_text in[8];
    for (size_t i = 0; i < n; i++) in[i] = (elang_text){texts[i], i == 3 ? "with a pair" : NULL};
    elang_class_out together[8], alone[8];
    elang_error err;
    elang_classify_opts b3 = {.batch_size = 3}, b1 = {.batch_size = 1};
    assert_int_equal(elang_classify(m, in, n, &b3, together, &err), ELANG_OK);
    assert_int_equal(elang_classify(m, in, n, &b1, alone, &err), ELANG_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(together[i].num_tokens, alone[i].num_tokens);
        assert_int_equal(together[i].label_id, alone[i].label_id);
        for (int j = 0; j < 3; j++) assert_close(together[i].logits[j], alone[i].logits[j], 1e-5, "logits", i);
        assert_close(together[i].energy, alone[i].energy, 1e-5, "energy", i);
    }
    elang_class_out_free(together, n);
    elang_class_out_free(alone, n);
    elang_model_free(m);
}

static void energy_matches_definition(void **state) {
    (void)state;
    const float logits[3] = {1.0f, 2.0f, 3.0f};
    const double lse = log(exp(1.0) + exp(2.0) + exp(3.0));
    assert_close(elang_energy(logits, 3, 1.0), -lse, 1e-12, "energy T=1", 0);
    const double lse2 = log(exp(0.5) + exp(1.0) + exp(1.5));
    assert_close(elang_energy(logits, 3, 2.0), -2.0 * lse2, 1e-12, "energy T=2", 0);
    const float huge[2] = {1000.0f, 1000.0f}; /* exp overflows without the shift */
    assert_close(elang_energy(huge, 2, 1.0), -(1000.0 + log(2.0)), 1e-9, "energy of large logits", 0);
}

static void rejects_bad_options(void **state) {
    (void)state;
    elang_model *m = load_fixture("bert");
    elang_text in = {"hello", NULL};
    elang_class_out out;
    elang_error err;
    elang_classify_opts bad_t = {.temperature = -1.0};
    assert_int_equal(elang_classify(m, &in, 1, &bad_t, &out, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "temperature"));
    elang_text invalid = {"bad \xff\xfe utf-8", NULL};
    assert_int_equal(elang_classify(m, &invalid, 1, NULL, &out, &err), ELANG_ERR_INPUT);
    assert_int_equal(err.item, 0);
    assert_non_null(strstr(err.message, "UTF-8"));
    elang_model_free(m);

    elang_load_opts too_long = {.max_length = 100000};
    assert_int_equal(elang_model_load(shared_path("fixtures/hf/bert"), &too_long, &m, &err), ELANG_ERR_INVALID_ARG);
    assert_null(m);
    assert_non_null(strstr(err.message, "max length"));
}

/* A model directory in the temp dir holding the bert fixture's tensors (all
 * F32) plus `extra`, with `config` as config.json and the fixture's vocab. */
static const char *bert_variant(const char *name, const char *config, const tensor_spec *extra,
                                size_t n_extra, const char *drop) {
    static char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", test_tmpdir(), name);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && ln -s %s/vocab.txt %s/tokenizer_config.json '%s/'",
             dir, dir, shared_path("fixtures/hf/bert"), shared_path("fixtures/hf/bert"), dir);
    assert_int_equal(system(cmd), 0);
    char path[2048];
    snprintf(path, sizeof path, "%s/config.json", dir);
    write_file(path, config, strlen(config));

    weight_store *ws;
    elang_error err;
    assert_int_equal(weight_store_open(shared_path("fixtures/hf/bert"), &ws, &err), ELANG_OK);
    size_t n = weight_store_count(ws), k = 0;
    tensor_spec *t = calloc(n + n_extra, sizeof *t);
    for (size_t i = 0; i < n; i++) {
        const weight_entry *e = weight_store_at(ws, i);
        if (e->dtype != DTYPE_F32 || (drop && strcmp(e->name, drop) == 0)) continue;
        t[k++] = (tensor_spec){e->name, "F32", e->ndim, e->shape, e->data, e->nbytes};
    }
    for (size_t i = 0; i < n_extra; i++) t[k++] = extra[i];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    write_safetensors(path, t, k);
    free(t);
    weight_store_free(ws);
    return dir;
}

/* TinyBERT's classifier is classifier(relu(tanh(pooler(h0)))). The expected
 * logits are computed here by hand from the encoder's first-token state and
 * the fixture's pooler and classifier weights. Its configs predate
 * model_type; the class name is enough. */
static void tinybert_head(void **state) {
    (void)state;
    size_t len;
    char *cfg = read_file_all(shared_path("fixtures/hf/bert/config.json"), &len);
    char *mt = strstr(cfg, "\"model_type\": \"bert\",");
    assert_non_null(mt);
    memset(mt, ' ', strlen("\"model_type\": \"bert\","));
    char *arch = strstr(cfg, "\"BertForSequenceClassification\"");
    assert_non_null(arch);
    char *tiny = malloc(len + 16);
    snprintf(tiny, len + 16, "%.*s\"TinyBertForSequenceClassification\"%s", (int)(arch - cfg), cfg,
             arch + strlen("\"BertForSequenceClassification\""));
    static const float fit_w[32 * 4], fit_b[4];
    const tensor_spec fit[2] = {{"fit_dense.weight", "F32", 2, (const int64_t[]){4, 32}, fit_w, sizeof fit_w},
                                {"fit_dense.bias", "F32", 1, (const int64_t[]){4}, fit_b, sizeof fit_b}};
    const char *dir = bert_variant("tinybert", tiny, fit, 2, NULL);
    free(cfg), free(tiny);

    elang_model *m = NULL;
    elang_error err;
    if (elang_model_load(dir, NULL, &m, &err) != ELANG_OK) fail_msg("%s", err.message);
    assert_string_equal(elang_model_type(m), "bert");
    assert_true(m->encoder.head.relu_after_act);
    const char *texts[] = {"it 's a charming and often affecting journey .", "x", "The plot is thin."};
    for (int c = 0; c < 3; c++) {
        elang_text in = {texts[c], NULL};
        elang_class_out o;
        assert_int_equal(elang_classify(m, &in, 1, NULL, &o, &err), ELANG_OK);
        const int S = o.num_tokens, H = 32;
        int32_t mask[64];
        for (int s = 0; s < S; s++) mask[s] = 1;
        arena a = {0};
        encoder_run r;
        encode_batch(m, o.input_ids, o.token_type_ids, mask, 1, S, &a, &r);
        const float *hidden = r.hidden;
        const classifier_head *h = &m->encoder.head;
        double pooled[32];
        for (int i = 0; i < H; i++) {
            double z = h->dense.b[i];
            for (int j = 0; j < H; j++) z += (double)h->dense.w[i * H + j] * hidden[j];
            pooled[i] = fmax(0.0, tanh(z));
        }
        for (int l = 0; l < 3; l++) {
            double z = h->out.b[l];
            for (int j = 0; j < H; j++) z += (double)h->out.w[l * H + j] * pooled[j];
            assert_close(o.logits[l], z, 1e-5, "TinyBERT logits", (size_t)c);
        }
        arena_free(&a);
        elang_class_out_free(&o, 1);
    }
    elang_model_free(m);
}

/* Leftover tensors that are not known checkpoint baggage are refused, and a
 * checkpoint without its head says so. */
static void unexpected_and_missing_tensors(void **state) {
    (void)state;
    char *cfg = read_file_all(shared_path("fixtures/hf/bert/config.json"), NULL);
    static const float stray[4];
    const tensor_spec extra = {"bert.encoder.layer.7.mystery.weight", "F32", 1, (const int64_t[]){4}, stray, sizeof stray};
    const char *dir = bert_variant("stray", cfg, &extra, 1, NULL);
    elang_model *m = NULL;
    elang_error err;
    assert_int_equal(elang_model_load(dir, NULL, &m, &err), ELANG_ERR_FORMAT);
    assert_non_null(strstr(err.message, "bert.encoder.layer.7.mystery.weight"));

    /* Pre-training heads are skipped as transformers skips them. */
    const tensor_spec mlm = {"cls.predictions.bias", "F32", 1, (const int64_t[]){4}, stray, sizeof stray};
    dir = bert_variant("with-mlm-head", cfg, &mlm, 1, NULL);
    assert_int_equal(elang_model_load(dir, NULL, &m, &err), ELANG_OK);
    elang_model_free(m);

    dir = bert_variant("no-head", cfg, NULL, 0, "classifier.weight");
    assert_int_equal(elang_model_load(dir, NULL, &m, &err), ELANG_ERR_FORMAT);
    assert_non_null(strstr(err.message, "classifier.weight"));

    /* A config with more layers than the weights hold and no labels (read
     * then off the head's shape): the missing layer is the error, not a
     * model without it (it once was, and crashed on its first input). */
    char *more = strdup(cfg);
    char *layers = strstr(more, "\"num_hidden_layers\": 2");
    assert_non_null(layers);
    layers[strlen("\"num_hidden_layers\": ")] = '3';
    const char *const blank[2][2] = {{"\"id2label\"", "\"initializer_range\""}, {"\"label2id\"", "\"layer_norm_eps\""}};
    for (int k = 0; k < 2; k++) {
        char *from = strstr(more, blank[k][0]), *to = strstr(more, blank[k][1]);
        assert_non_null(from), assert_non_null(to);
        memset(from, ' ', (size_t)(to - from));
    }
    dir = bert_variant("more-layers", more, NULL, 0, NULL);
    assert_int_equal(elang_model_load(dir, NULL, &m, &err), ELANG_ERR_FORMAT);
    if (!strstr(err.message, "bert.encoder.layer.2.")) fail_msg("%s", err.message);
    free(more);
    free(cfg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(energy_matches_definition),
        cmocka_unit_test(bert_cases),
        cmocka_unit_test(bert_f16_cases),
        cmocka_unit_test(distilbert_cases),
        cmocka_unit_test(roberta_cases),
        cmocka_unit_test(bert_batch),
        cmocka_unit_test(bert_f16_batch),
        cmocka_unit_test(distilbert_batch),
        cmocka_unit_test(roberta_batch),
        cmocka_unit_test(mixed_batch_keeps_order),
        cmocka_unit_test(rejects_bad_options),
        cmocka_unit_test(tinybert_head),
        cmocka_unit_test(unexpected_and_missing_tensors),
    };
    int failed = cmocka_run_group_tests_name("classify", tests, NULL, NULL);
    test_tmpdir_cleanup();
    return failed;
}
