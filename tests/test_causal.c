/* The decoder-only models (GPT-2, Llama, Qwen2 in F32 and stored as BF16)
 * against what transformers computed on the same files
 * (../shared/fixtures/hf/<model>/cases.jsonl, README section "Decoder-only
 * models"), from the fixture's input ids: the last prompt position's
 * logits, their sum and energies, the prompt's own log-probability, greedy
 * and beam sequences with each greedy step's log-probability and energy;
 * the left-padded batch's logits; a batch of prompts of different lengths
 * generating what each generates alone. Then configs and checkpoints that
 * must be refused, by name. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "elang.h"
#include "io/config.h"
#include "io/weights.h"
#include "models/causal.h"
#include "models/generate.h"
#include "model_fixture.h"
#include "support.h"

/* The fixtures README's tolerances for a correct F32 implementation. */
#define LOGIT_TOL 1e-3
#define SUM_TOL 2e-2
#define ENERGY_TOL 1e-3
#define PROMPT_TOL 2e-3
#define SAME_TOL 1e-4 /* a batch against one at a time: README measured 4e-5 */

static void assert_close(double got, double want, double tol, const char *what, const char *name, size_t c, int at) {
    if (!(fabs(got - want) <= tol))
        fail_msg("%s %s (case %zu, at %d): got %.7f, want %.7f (tolerance %g)", name, what, c, at, got, want, tol);
}

static double log_sum_exp(const float *x, int n, double t) {
    double max = -INFINITY, sum = 0.0;
    for (int i = 0; i < n; i++) max = fmax(max, x[i] / t);
    for (int i = 0; i < n; i++) sum += exp(x[i] / t - max);
    return max + log(sum);
}

/* One row of logits against a case's last_logits (abridged: the logits of
 * last_logits_ids), last_logits_sum and the energies at T = 1 and 2. */
static void check_last_logits(const float *row, int V, json_t *c, const char *name, size_t i) {
    json_t *want = json_object_get(c, "last_logits"), *ids = json_object_get(c, "last_logits_ids");
    for (size_t j = 0; j < json_array_size(want); j++) {
        const int id = ids ? (int)json_integer_value(json_array_get(ids, j)) : (int)j;
        assert_close(row[id], json_number_value(json_array_get(want, j)), LOGIT_TOL, "last_logits", name, i, id);
    }
    if (!ids) assert_int_equal(json_array_size(want), (size_t)V);
    double sum = 0.0;
    for (int v = 0; v < V; v++) sum += row[v];
    assert_close(sum, json_number_value(json_object_get(c, "last_logits_sum")), SUM_TOL, "last_logits_sum", name, i, 0);
    json_t *e1 = json_object_get(c, "neg_energy_T1"), *e2 = json_object_get(c, "neg_energy_T2");
    if (e1) assert_close(log_sum_exp(row, V, 1.0), json_number_value(e1), ENERGY_TOL, "neg_energy_T1", name, i, 0);
    if (e2) assert_close(2.0 * log_sum_exp(row, V, 2.0), json_number_value(e2), ENERGY_TOL, "neg_energy_T2", name, i, 0);
}

static int32_t *ones(int n) {
    int32_t *m = malloc(sizeof(int32_t) * (size_t)n);
    for (int i = 0; i < n; i++) m[i] = 1;
    return m;
}

static generate_opts greedy_opts(void) {
    return (generate_opts){.num_beams = 1, .max_new_tokens = 16, .length_penalty = 1.0, .early_stopping = true,
                           .temperature = 1.0};
}

static generate_opts beam_opts(void) {
    generate_opts o = greedy_opts();
    o.num_beams = 4;
    return o;
}

static void assert_ids(const int32_t *got, int n, json_t *want, const char *what, const char *name, size_t c) {
    if ((size_t)n != json_array_size(want)) fail_msg("%s %s (case %zu): %d ids, want %zu", name, what, c, n,
                                                     json_array_size(want));
    for (int i = 0; i < n; i++)
        if (got[i] != json_integer_value(json_array_get(want, (size_t)i)))
            fail_msg("%s %s (case %zu): id %d at %d, want %lld", name, what, c, got[i], i,
                     (long long)json_integer_value(json_array_get(want, (size_t)i)));
}

/* Every case one at a time: the prompt's logits at each position (the last
 * against last_logits, all of them for prompt_logprob), greedy and beam
 * search. */
static void check_cases(const char *name) {
    model_fixture f;
    model_fixture_load(name, &f);
    size_t n;
    json_t **cases = fixture_cases(name, &n);
    const int V = f.m.info.vocab_size;
    size_t checked = 0;
    elang_error err;
    for (size_t i = 0; i < n; i++) {
        json_t *c = cases[i];
        if (json_object_get(c, "batch") || !json_object_get(c, "greedy_ids")) continue;
        int S;
        int32_t *ids = json_ids(json_object_get(c, "input_ids"), &S), *mask = ones(S);
        float *logits = malloc(sizeof(float) * (size_t)S * V);
        if (causal_prompt_logits(&f.m, &f.run, ids, mask, 1, S, logits, &err) != ELANG_OK)
            fail_msg("%s case %zu: %s", name, i, err.message);
        check_last_logits(logits + (size_t)(S - 1) * V, V, c, name, i);
        double lp = 0.0;
        for (int t = 1; t < S; t++) lp += logits[(size_t)(t - 1) * V + ids[t]] - log_sum_exp(logits + (size_t)(t - 1) * V, V, 1.0);
        assert_close(lp, json_number_value(json_object_get(c, "prompt_logprob")), PROMPT_TOL, "prompt_logprob", name, i, 0);

        generated_seq g = {0}, b = {0};
        const generate_opts go = greedy_opts(), bo = beam_opts();
        if (generate(&f.m, &f.run, ids, mask, 1, S, &go, &g, &err) != ELANG_OK) fail_msg("%s greedy: %s", name, err.message);
        assert_ids(g.ids, g.len, json_object_get(c, "greedy_ids"), "greedy_ids", name, i);
        assert_int_equal(g.steps, g.len);
        json_t *steps = json_object_get(c, "greedy_steps");
        double mean = 0.0;
        for (int t = 0; t < g.steps; t++) {
            json_t *st = json_array_get(steps, (size_t)t);
            assert_close(g.logprobs[t], json_number_value(json_object_get(st, "logprob")), ENERGY_TOL, "step logprob",
                         name, i, t);
            assert_close(-g.energies[t], json_number_value(json_object_get(st, "neg_energy_T1")), ENERGY_TOL,
                         "step energy", name, i, t);
            mean += g.energies[t] / g.steps;
        }
        assert_close(mean, json_number_value(json_object_get(c, "mean_token_energy")), ENERGY_TOL, "mean_token_energy",
                     name, i, 0);
        if (generate(&f.m, &f.run, ids, mask, 1, S, &bo, &b, &err) != ELANG_OK) fail_msg("%s beam: %s", name, err.message);
        assert_ids(b.ids, b.len, json_object_get(c, "beam_ids"), "beam_ids", name, i);
        generated_seq_free(&g), generated_seq_free(&b);
        free(ids), free(mask), free(logits);
        checked++;
    }
    assert_true(checked >= 12); /* every case with a prompt */
    free_jsonl(cases, n);
    model_fixture_free(&f);
}

static void gpt2_cases(void **s) { (void)s; check_cases("gpt2"); }
static void llama_cases(void **s) { (void)s; check_cases("llama"); }
static void qwen2_cases(void **s) { (void)s; check_cases("qwen2"); }
static void qwen2_bf16_cases(void **s) { (void)s; check_cases("qwen2-bf16"); }

/* The fixture's left-padded batch: each row's last logits as transformers
 * gave them. */
static void check_padded_batch(const char *name) {
    model_fixture f;
    model_fixture_load(name, &f);
    size_t n;
    json_t **cases = fixture_cases(name, &n);
    json_t *c = cases[n - 1];
    assert_non_null(json_object_get(c, "batch"));
    json_t *rows = json_object_get(c, "input_ids"), *masks = json_object_get(c, "attention_mask");
    const int B = (int)json_array_size(rows), S = (int)json_array_size(json_array_get(rows, 0)), V = f.m.info.vocab_size;
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)B * S), *mask = malloc(sizeof(int32_t) * (size_t)B * S);
    bool padded = false;
    for (int b = 0; b < B; b++)
        for (int s = 0; s < S; s++) {
            ids[b * S + s] = (int32_t)json_integer_value(json_array_get(json_array_get(rows, (size_t)b), (size_t)s));
            mask[b * S + s] = (int32_t)json_integer_value(json_array_get(json_array_get(masks, (size_t)b), (size_t)s));
            padded |= !mask[b * S + s];
        }
    assert_true(padded);
    float *logits = malloc(sizeof(float) * (size_t)B * V);
    elang_error err;
    if (first_step_logits(&f.m, &f.run, ids, mask, B, S, logits, &err) != ELANG_OK) fail_msg("%s: %s", name, err.message);
    for (int b = 0; b < B; b++) {
        json_t *row = json_object();
        json_object_set(row, "last_logits", json_array_get(json_object_get(c, "last_logits"), (size_t)b));
        json_object_set(row, "last_logits_sum", json_array_get(json_object_get(c, "last_logits_sum"), (size_t)b));
        json_t *lids = json_object_get(c, "last_logits_ids");
        if (lids) json_object_set(row, "last_logits_ids", json_is_array(json_array_get(lids, 0)) ? json_array_get(lids, (size_t)b) : lids);
        check_last_logits(logits + (size_t)b * V, V, row, name, (size_t)b);
        json_decref(row);
    }
    free(ids), free(mask), free(logits);
    free_jsonl(cases, n);
    model_fixture_free(&f);
}

static void gpt2_padded_batch(void **s) { (void)s; check_padded_batch("gpt2"); }
static void llama_padded_batch(void **s) { (void)s; check_padded_batch("llama"); }
static void qwen2_padded_batch(void **s) { (void)s; check_padded_batch("qwen2"); }

/* Every prompt of the fixture at once, left-padded to the longest, greedy
 * and with 4 beams: the same tokens as each alone, log-probabilities and
 * energies within SAME_TOL. */
static void check_batch_equals_single(const char *name, int beams) {
    model_fixture f;
    model_fixture_load(name, &f);
    size_t n;
    json_t **cases = fixture_cases(name, &n);
    int32_t *ids[16];
    int len[16], B = 0, S = 0;
    for (size_t i = 0; i < n && B < 16; i++) {
        if (json_object_get(cases[i], "batch") || !json_object_get(cases[i], "greedy_ids")) continue;
        ids[B] = json_ids(json_object_get(cases[i], "input_ids"), &len[B]);
        if (len[B] > S) S = len[B];
        B++;
    }
    int32_t *flat = malloc(sizeof(int32_t) * (size_t)B * S), *mask = malloc(sizeof(int32_t) * (size_t)B * S);
    for (int b = 0; b < B; b++)
        for (int s = 0; s < S; s++) {
            const int pad = S - len[b];
            flat[b * S + s] = s < pad ? f.m.info.pad_id : ids[b][s - pad];
            mask[b * S + s] = s >= pad;
        }
    generate_opts o = beams > 1 ? beam_opts() : greedy_opts();
    o.step_scores = true;
    generated_seq *all = calloc((size_t)B, sizeof *all);
    elang_error err;
    if (generate(&f.m, &f.run, flat, mask, B, S, &o, all, &err) != ELANG_OK) fail_msg("%s batch: %s", name, err.message);
    for (int b = 0; b < B; b++) {
        generated_seq one = {0};
        if (generate(&f.m, &f.run, ids[b], mask + (size_t)b * S + (S - len[b]), 1, len[b], &o, &one, &err) != ELANG_OK)
            fail_msg("%s single: %s", name, err.message);
        assert_int_equal(all[b].len, one.len);
        assert_memory_equal(all[b].ids, one.ids, sizeof(int32_t) * (size_t)one.len);
        for (int t = 0; t < one.steps; t++) {
            assert_close(all[b].logprobs[t], one.logprobs[t], SAME_TOL, "batched logprob", name, (size_t)b, t);
            assert_close(all[b].energies[t], one.energies[t], SAME_TOL, "batched energy", name, (size_t)b, t);
        }
        generated_seq_free(&one);
        generated_seq_free(&all[b]);
        free(ids[b]);
    }
    free(all), free(flat), free(mask);
    free_jsonl(cases, n);
    model_fixture_free(&f);
}

static void gpt2_batch(void **s) { (void)s; check_batch_equals_single("gpt2", 1); check_batch_equals_single("gpt2", 4); }
static void llama_batch(void **s) { (void)s; check_batch_equals_single("llama", 1); check_batch_equals_single("llama", 4); }
static void qwen2_batch(void **s) { (void)s; check_batch_equals_single("qwen2", 1); check_batch_equals_single("qwen2", 4); }

/* ------------------------------------------------- configs and checkpoints */

/* A copy of fixture `name` (config.json, generation_config.json and the
 * weights) whose config.json has edits[2i] replaced by edits[2i+1]
 * (NULL-terminated); returns its directory. */
static const char *edited_copy(const char *name, const char *const *edits, const char *weights, size_t weights_len) {
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/hf/%s", name);
    const char *files[] = {"config.json", "generation_config.json", "model.safetensors"};
    char dirname[64];
    snprintf(dirname, sizeof dirname, "%s-edited", name);
    const char *dir = test_dir_copy(shared_path(rel), dirname, files, weights ? 2 : 3);
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    char *cfg = read_file_all(path, NULL);
    for (; edits && edits[0]; edits += 2) {
        char *at = strstr(cfg, edits[0]);
        if (!at) fail_msg("%s not in %s/config.json", edits[0], name);
        char *out = malloc(strlen(cfg) - strlen(edits[0]) + strlen(edits[1]) + 1);
        sprintf(out, "%.*s%s%s", (int)(at - cfg), cfg, edits[1], at + strlen(edits[0]));
        free(cfg);
        cfg = out;
    }
    write_file(path, cfg, strlen(cfg));
    free(cfg);
    if (weights) {
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        write_file(path, weights, weights_len);
    }
    return dir;
}

static void expect_refused(const char *dir, elang_status want, const char *needle) {
    model_fixture f;
    elang_error err = {0};
    const elang_status got = model_fixture_open(dir, &f, &err);
    if (got == ELANG_OK) model_fixture_free(&f);
    if (got != want || !strstr(err.message, needle))
        fail_msg("%s: status %d (%s), want %d with \"%s\"", dir, got, err.message, want, needle);
}

/* Configs that elang cannot compute, or that contradict themselves, are
 * refused naming the field; so are weights that do not fit the config: a
 * tensor missing, one of another shape, one nobody uses, a truncated file,
 * each named with its file. */
static void refusals(void **s) {
    (void)s;
    const struct {
        const char *name, *from, *to;
        elang_status want;
        const char *needle;
    } configs[] = {
        {"llama", "\"rope_scaling\": null", "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0}",
         ELANG_ERR_UNSUPPORTED, "rope_scaling \"llama3\""},
        {"llama", "\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3", ELANG_ERR_FORMAT,
         "not a multiple of num_key_value_heads 3"},
        {"llama", "\"head_dim\": 8", "\"head_dim\": 7", ELANG_ERR_FORMAT, "head size 7 is odd"},
        {"llama", "\"rope_theta\": 50000.0", "\"rope_theta\": -1", ELANG_ERR_FORMAT, "rope_theta"},
        {"llama", "\"hidden_act\": \"silu\"", "\"hidden_act\": \"xielu\"", ELANG_ERR_UNSUPPORTED, "xielu"},
        {"gpt2", "\"scale_attn_by_inverse_layer_idx\": false", "\"scale_attn_by_inverse_layer_idx\": true",
         ELANG_ERR_UNSUPPORTED, "scale_attn_by_inverse_layer_idx"},
        /* The config says 4 key/value heads: k_proj's shape says 2. */
        {"qwen2", "\"num_key_value_heads\": 2", "\"num_key_value_heads\": 4", ELANG_ERR_FORMAT,
         "'model.layers.0.self_attn.k_proj.weight'"},
        /* Untied: the lm_head it then needs is not stored. */
        {"qwen2", "\"tie_word_embeddings\": true", "\"tie_word_embeddings\": false", ELANG_ERR_FORMAT,
         "lm_head.weight"},
        {"gpt2", "\"n_positions\": 128", "\"n_positions\": 64", ELANG_ERR_FORMAT, "'transformer.wpe.weight'"},
    };
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        const char *edits[] = {configs[i].from, configs[i].to, NULL};
        expect_refused(edited_copy(configs[i].name, edits, NULL, 0), configs[i].want, configs[i].needle);
    }
    /* A tensor renamed in the header (same length, so the file stays
     * well-formed): the one expected is missing; and a truncated file. */
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/hf/llama/model.safetensors");
    size_t len;
    char *w = read_file_all(shared_path(rel), &len);
    char *at = strstr(w + 8, "layers.1.mlp.up_proj");
    assert_non_null(at);
    memcpy(at, "layers.1.mlp.up_prxj", 20);
    const char *dir = edited_copy("llama", NULL, w, len);
    expect_refused(dir, ELANG_ERR_FORMAT, "model.layers.1.mlp.up_proj.weight");
    expect_refused(dir, ELANG_ERR_FORMAT, "model.safetensors");
    memcpy(at, "layers.1.mlp.up_proj", 20);
    dir = edited_copy("llama", NULL, w, len - 1000);
    expect_refused(dir, ELANG_ERR_FORMAT, "truncated");
    free(w);
}

/* The qwen2-bf16 fixture's tensors split over two shards with a
 * model.safetensors.index.json, as save_pretrained shards large models:
 * the same logits. */
static void sharded(void **s) {
    (void)s;
    size_t len;
    char *w = read_file_all(shared_path("fixtures/hf/qwen2-bf16/model.safetensors"), &len);
    uint64_t hlen;
    memcpy(&hlen, w, 8);
    json_error_t je;
    json_t *header = json_loadb(w + 8, hlen, 0, &je);
    assert_non_null(header);
    const char *data = w + 8 + hlen;
    tensor_spec specs[2][64];
    int64_t shapes[64][2];
    size_t counts[2] = {0, 0}, k = 0;
    json_t *index = json_object(), *map = json_object();
    const char *name;
    json_t *v;
    json_object_foreach(header, name, v) {
        if (strcmp(name, "__metadata__") == 0) continue;
        const int part = strstr(name, "layers.1.") != NULL;
        json_t *shape = json_object_get(v, "shape"), *off = json_object_get(v, "data_offsets");
        for (size_t d = 0; d < json_array_size(shape); d++) shapes[k][d] = json_integer_value(json_array_get(shape, d));
        const size_t from = (size_t)json_integer_value(json_array_get(off, 0)), to = (size_t)json_integer_value(json_array_get(off, 1));
        specs[part][counts[part]++] = (tensor_spec){name, json_string_value(json_object_get(v, "dtype")),
                                                    (int)json_array_size(shape), shapes[k], data + from, to - from};
        json_object_set_new(map, name, json_string(part ? "model-00002-of-00002.safetensors" : "model-00001-of-00002.safetensors"));
        k++;
    }
    json_object_set_new(index, "metadata", json_pack("{s:i}", "total_size", (int)(len - 8 - hlen)));
    json_object_set_new(index, "weight_map", map);
    const char *dir = edited_copy("qwen2-bf16", NULL, "", 0);
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/model-00001-of-00002.safetensors", dir);
    write_safetensors(path, specs[0], counts[0]);
    snprintf(path, sizeof path, "%s/model-00002-of-00002.safetensors", dir);
    write_safetensors(path, specs[1], counts[1]);
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    assert_int_equal(json_dump_file(index, path, 0), 0);
    assert_true(counts[0] > 0 && counts[1] > 0);

    model_fixture whole, split;
    model_fixture_load("qwen2-bf16", &whole);
    elang_error err;
    if (model_fixture_open(dir, &split, &err) != ELANG_OK) fail_msg("sharded: %s", err.message);
    const int32_t ids[4] = {464, 3797, 3332, 319}, mask[4] = {1, 1, 1, 1};
    const int V = whole.m.info.vocab_size;
    float *a = malloc(sizeof(float) * 4 * V), *b = malloc(sizeof(float) * 4 * V);
    assert_int_equal(causal_prompt_logits(&whole.m, &whole.run, ids, mask, 1, 4, a, &err), ELANG_OK);
    assert_int_equal(causal_prompt_logits(&split.m, &split.run, ids, mask, 1, 4, b, &err), ELANG_OK);
    assert_memory_equal(a, b, sizeof(float) * 4 * V);
    free(a), free(b);
    model_fixture_free(&whole), model_fixture_free(&split);
    json_decref(index), json_decref(header);
    free(w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gpt2_cases),         cmocka_unit_test(llama_cases),        cmocka_unit_test(qwen2_cases),
        cmocka_unit_test(qwen2_bf16_cases),   cmocka_unit_test(gpt2_padded_batch),  cmocka_unit_test(llama_padded_batch),
        cmocka_unit_test(qwen2_padded_batch), cmocka_unit_test(gpt2_batch),         cmocka_unit_test(llama_batch),
        cmocka_unit_test(qwen2_batch),        cmocka_unit_test(refusals),           cmocka_unit_test(sharded),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    test_tmpdir_cleanup();
    return failed;
}
