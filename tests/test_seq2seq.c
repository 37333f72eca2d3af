/* The encoder-decoders (T5 v1.0, T5 v1.1, Marian) against what transformers
 * 4.25 computed on the same files (../shared/fixtures/hf/<model>/cases.jsonl):
 * the encoder's states, and the decoder's raw logits when the greedy
 * sequence is fed back one token at a time through the cache. Then what the
 * generation loop relies on: a padded batch with one or several decoder rows
 * per input equals one input at a time, and the cache follows reordered
 * rows. Last, configs and checkpoints that must be refused, by name. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "elang.h"
#include "io/config.h"
#include "io/weights.h"
#include "models/marian.h"
#include "models/seq2seq.h"
#include "models/t5.h"
#include "model_fixture.h"
#include "support.h"

#define HIDDEN_TOL 1e-4 /* encoder states: the fixture's 6 decimals */
#define LOGIT_TOL 1e-3  /* README: T5/Marian logits reach about 30 */
#define ENERGY_TOL 1e-3
#define SAME_TOL 1e-4   /* batched against one at a time: the same sums, blocked differently */

static void assert_close(double got, double want, double tol, const char *what, size_t line, int at) {
    if (!(fabs(got - want) <= tol))
        fail_msg("%s (case %zu, at %d): got %.7f, want %.7f (tolerance %g)", what, line, at, got, want, tol);
}

/* ------------------------------------------------------------ helpers */

/* A run state of the fixture's model in an arena of its own. */
typedef struct {
    arena a;
    seq2seq_run r;
} test_run;

static void run_open(const model_fixture *f, test_run *t, int B, int per_input, int S, int steps, const int32_t *mask) {
    memset(t, 0, sizeof *t);
    elang_error err;
    if (seq2seq_run_alloc(&f->m, &t->a, B, per_input, S, steps, mask, &t->r, &err) != ELANG_OK)
        fail_msg("run state: %s", err.message);
}

static int32_t *all_ones(int n) {
    int32_t *mask = malloc(sizeof(int32_t) * (size_t)n);
    for (int s = 0; s < n; s++) mask[s] = 1;
    return mask;
}

/* enc[S, D] of one unpadded input. */
static float *encode_one(const model_fixture *f, const int32_t *ids, int S) {
    const size_t size = sizeof(float) * (size_t)S * f->m.info.d_model;
    int32_t *mask = all_ones(S);
    test_run t;
    run_open(f, &t, 1, 1, S, 1, mask);
    elang_error err;
    if (f->m.ops->encode(f->m.net, &t.r, ids, mask, &err) != ELANG_OK) fail_msg("encode: %s", err.message);
    float *enc = malloc(size);
    memcpy(enc, t.r.enc_out, size);
    arena_free(&t.a);
    free(mask);
    return enc;
}

/* Starts a run of `rows` decoder rows for one input whose states are
 * enc[S, D]. */
static void start_one(const model_fixture *f, test_run *t, const float *enc, int S, int rows, int steps) {
    int32_t *mask = all_ones(S);
    run_open(f, t, 1, rows, S, steps, mask);
    memcpy(t->r.enc_out, enc, sizeof(float) * (size_t)S * f->m.info.d_model);
    elang_error err;
    if (f->m.ops->start(f->m.net, &t->r, &err) != ELANG_OK) fail_msg("start: %s", err.message);
    free(mask);
}

/* logits[n, V] of feeding dec[0..n) one step at a time to the decoder of
 * one input whose states are enc[S, D]. */
static float *decode_one(const model_fixture *f, const float *enc, int S, const int32_t *dec, int n) {
    const int V = f->m.info.vocab_size;
    float *logits = malloc(sizeof(float) * (size_t)n * V);
    test_run t;
    start_one(f, &t, enc, S, 1, n);
    elang_error err;
    for (int i = 0; i < n; i++) {
        if (f->m.ops->step(f->m.net, &t.r, &dec[i], logits + (size_t)i * V, &err) != ELANG_OK)
            fail_msg("step %d: %s", i, err.message);
        assert_int_equal(t.r.cache.steps, i + 1);
    }
    arena_free(&t.a);
    return logits;
}

static double log_sum_exp(const float *x, int n) {
    double max = -INFINITY, sum = 0.0;
    for (int i = 0; i < n; i++) max = fmax(max, x[i]);
    for (int i = 0; i < n; i++) sum += exp(x[i] - max);
    return max + log(sum);
}

static int argmax_except(const float *x, int n, int banned) {
    int best = -1;
    for (int i = 0; i < n; i++)
        if (i != banned && (best < 0 || x[i] > x[best])) best = i;
    return best;
}

/* A decoder input that is not the fixture's: the start token, then tokens
 * spread over the vocabulary, different for every `seed`. */
static void made_up_sequence(const model_fixture *f, int seed, int32_t *out, int n) {
    out[0] = f->m.info.decoder_start_id;
    for (int t = 1; t < n; t++) out[t] = (int32_t)((7919L * (seed + 1) + 104729L * t) % f->m.info.vocab_size);
}

/* ------------------------------------------------- against transformers */

static void check_cases(const char *name) {
    model_fixture f;
    model_fixture_load(name, &f);
    size_t n;
    json_t **cases = fixture_cases(name, &n);
    const int D = f.m.info.d_model, V = f.m.info.vocab_size;
    for (size_t i = 0; i < n; i++) {
        json_t *c = cases[i];
        int S, T;
        int32_t *ids = json_ids(json_object_get(c, "input_ids"), &S);
        int32_t *greedy = json_ids(json_object_get(c, "greedy_ids"), &T);
        float *enc = encode_one(&f, ids, S);

        json_t *first = json_object_get(c, "encoder_first_token");
        assert_int_equal(json_array_size(first), (size_t)D);
        for (int d = 0; d < D; d++)
            assert_close(enc[d], json_real_value(json_array_get(first, (size_t)d)), HIDDEN_TOL,
                         "encoder_first_token", i + 1, d);
        double sum = 0.0;
        for (long k = 0; k < (long)S * D; k++) sum += enc[k];
        const double want_sum = json_real_value(json_object_get(c, "encoder_sum"));
        assert_close(sum, want_sum, 1e-3 * fmax(1.0, fabs(want_sum)), "encoder_sum", i + 1, 0);

        float *logits = decode_one(&f, enc, S, greedy, T);
        json_t *energies = json_object_get(c, "teacher_forced_neg_energy_T1");
        json_t *first_logits = json_object_get(c, "teacher_forced_first_logits");
        assert_int_equal(json_array_size(energies), (size_t)T);
        assert_int_equal(json_array_size(first_logits), (size_t)V);
        for (int v = 0; v < V; v++)
            assert_close(logits[v], json_real_value(json_array_get(first_logits, (size_t)v)), LOGIT_TOL,
                         "teacher_forced_first_logits", i + 1, v);
        for (int t = 0; t < T; t++)
            assert_close(log_sum_exp(logits + (size_t)t * V, V),
                         json_real_value(json_array_get(energies, (size_t)t)), ENERGY_TOL,
                         "teacher_forced_neg_energy_T1", i + 1, t);

        /* The raw logits also pick the greedy tokens, once generate's own
         * rules are applied: the banned <pad>, and the forced </s> at the
         * last step. */
        const seq2seq_info *info = &f.m.info;
        for (int t = 0; t + 1 < T; t++) {
            if (t > 0 && seq2seq_is_eos(info, greedy[t])) break;
            if (t + 2 == T && info->forced_eos_id >= 0) {
                assert_int_equal(greedy[t + 1], info->forced_eos_id);
                break;
            }
            assert_int_equal(argmax_except(logits + (size_t)t * V, V, info->banned_id), greedy[t + 1]);
        }
        free(ids), free(greedy), free(enc), free(logits);
    }
    assert_int_equal(n, 8);
    free_jsonl(cases, n);
    model_fixture_free(&f);
}

static void t5_cases(void **state) { (void)state; check_cases("t5"); }
static void t5_v1_1_cases(void **state) { (void)state; check_cases("t5-v1_1"); }
static void marian_cases(void **state) { (void)state; check_cases("marian"); }

/* ------------------------------------------------------------ batching */

/* Three inputs of different lengths padded into one batch, with
 * `per_input` decoder rows each (the first fed the fixture's greedy ids,
 * the others made-up sequences): every real encoder state and every row's
 * logits equal the same input run alone. */
static void check_batch(const char *name, int per_input) {
    model_fixture f;
    model_fixture_load(name, &f);
    size_t n;
    json_t **cases = fixture_cases(name, &n);
    enum { B = 3, T = 12 };
    const size_t pick[B] = {0, 1, 5}; /* different source lengths */
    const int D = f.m.info.d_model, V = f.m.info.vocab_size, R = B * per_input;
    int32_t *ids[B];
    int len[B], S = 0;
    for (int b = 0; b < B; b++) {
        ids[b] = json_ids(json_object_get(cases[pick[b]], "input_ids"), &len[b]);
        if (len[b] > S) S = len[b];
    }
    assert_true(len[0] != len[1] && len[1] != len[2]);
    int32_t *flat = malloc(sizeof(int32_t) * B * S), *mask = malloc(sizeof(int32_t) * B * S);
    for (int b = 0; b < B; b++)
        for (int s = 0; s < S; s++) {
            flat[b * S + s] = s < len[b] ? ids[b][s] : f.m.info.pad_id;
            mask[b * S + s] = s < len[b];
        }
    test_run run;
    run_open(&f, &run, B, per_input, S, T, mask);
    elang_error err;
    assert_int_equal(f.m.ops->encode(f.m.net, &run.r, flat, mask, &err), ELANG_OK);
    const float *enc = run.r.enc_out;

    float *alone_enc[B];
    for (int b = 0; b < B; b++) {
        alone_enc[b] = encode_one(&f, ids[b], len[b]);
        for (long k = 0; k < (long)len[b] * D; k++)
            assert_close(enc[(long)b * S * D + k], alone_enc[b][k], SAME_TOL, "padded encoder state", pick[b] + 1,
                         (int)k);
    }

    int32_t (*seq)[T] = malloc(sizeof *seq * R);
    float **want = malloc(sizeof *want * R);
    for (int r = 0; r < R; r++) {
        const int b = r / per_input;
        if (r % per_input == 0) {
            int got;
            int32_t *g = json_ids(json_object_get(cases[pick[b]], "greedy_ids"), &got);
            assert_true(got >= T);
            memcpy(seq[r], g, sizeof seq[r]);
            free(g);
        } else {
            made_up_sequence(&f, r, seq[r], T);
        }
        want[r] = decode_one(&f, alone_enc[b], len[b], seq[r], T);
    }

    assert_int_equal(f.m.ops->start(f.m.net, &run.r, &err), ELANG_OK);
    float *logits = malloc(sizeof(float) * R * V);
    int32_t tokens[4 * B];
    for (int t = 0; t < T; t++) {
        for (int r = 0; r < R; r++) tokens[r] = seq[r][t];
        assert_int_equal(f.m.ops->step(f.m.net, &run.r, tokens, logits, &err), ELANG_OK);
        for (int r = 0; r < R; r++)
            for (int v = 0; v < V; v++)
                assert_close(logits[(size_t)r * V + v], want[r][(size_t)t * V + v], SAME_TOL, "batched logits",
                             (size_t)r, t);
    }

    arena_free(&run.a);
    for (int r = 0; r < R; r++) free(want[r]);
    for (int b = 0; b < B; b++) free(ids[b]), free(alone_enc[b]);
    free(want), free(seq), free(logits), free(flat), free(mask);
    free_jsonl(cases, n);
    model_fixture_free(&f);
}

static void t5_batch(void **state) { (void)state; check_batch("t5", 1); check_batch("t5", 2); }
static void t5_v1_1_batch(void **state) { (void)state; check_batch("t5-v1_1", 1); check_batch("t5-v1_1", 2); }
static void marian_batch(void **state) { (void)state; check_batch("marian", 1); check_batch("marian", 2); }

/* Beam search keeps some rows and drops others. Three rows of one input
 * decode sequences a, b, c; after K steps row 0 takes c's history, rows 1
 * and 2 both take a's, and row 2 continues with b's tokens. Each row must
 * then give the logits of the history it now holds. */
static void check_reorder(const char *name) {
    model_fixture f;
    model_fixture_load(name, &f);
    size_t n;
    json_t **cases = fixture_cases(name, &n);
    enum { R = 3, T = 10, K = 4 };
    const int V = f.m.info.vocab_size;
    int S;
    int32_t *ids = json_ids(json_object_get(cases[2], "input_ids"), &S);
    float *enc = encode_one(&f, ids, S);

    int32_t seq[R][T], spliced[T];
    for (int r = 0; r < R; r++) made_up_sequence(&f, r, seq[r], T);
    for (int t = 0; t < T; t++) spliced[t] = t < K ? seq[0][t] : seq[1][t];
    float *want_a = decode_one(&f, enc, S, seq[0], T), *want_c = decode_one(&f, enc, S, seq[2], T);
    float *want_ab = decode_one(&f, enc, S, spliced, T);

    test_run run;
    start_one(&f, &run, enc, S, R, T);
    elang_error err;
    float *logits = malloc(sizeof(float) * R * V);
    const int from[R] = {2, 0, 0};
    for (int t = 0; t < T; t++) {
        if (t == K) kv_cache_reorder(&run.r.cache, from);
        int32_t tokens[R];
        for (int r = 0; r < R; r++) tokens[r] = t < K ? seq[r][t] : r == 0 ? seq[2][t] : r == 1 ? seq[0][t] : seq[1][t];
        assert_int_equal(f.m.ops->step(f.m.net, &run.r, tokens, logits, &err), ELANG_OK);
        if (t < K) continue;
        const float *want[R] = {want_c, want_a, want_ab};
        for (int r = 0; r < R; r++)
            for (int v = 0; v < V; v++)
                assert_close(logits[(size_t)r * V + v], want[r][(size_t)t * V + v], SAME_TOL,
                             "logits after reorder", (size_t)r, t);
    }
    arena_free(&run.a);
    free(ids), free(enc), free(logits), free(want_a), free(want_c), free(want_ab);
    free_jsonl(cases, n);
    model_fixture_free(&f);
}

static void t5_reorder(void **state) { (void)state; check_reorder("t5"); }
static void marian_reorder(void **state) { (void)state; check_reorder("marian"); }


/* ------------------------------------------------- configs and checkpoints */

static void config_values(void **state) {
    (void)state;
    model_config cfg;
    elang_error err;
    assert_int_equal(config_load(shared_path("fixtures/hf/t5"), &cfg, &err), ELANG_OK);
    assert_true(config_is_seq2seq(&cfg));
    assert_int_equal(cfg.hidden_size, 32);
    assert_int_equal(cfg.s2s.head_dim, 8);
    assert_int_equal(cfg.num_layers, 2);
    assert_int_equal(cfg.s2s.decoder_layers, 3);
    assert_int_equal(cfg.hidden_act, ACT_RELU);
    assert_false(cfg.s2s.gated_ff);
    assert_true(cfg.s2s.tie_word_embeddings);
    assert_int_equal(cfg.s2s.relative_buckets, 32);
    assert_int_equal(cfg.s2s.relative_max_distance, 128);
    assert_int_equal(cfg.s2s.decoder_start_token_id, 0);
    assert_int_equal(cfg.s2s.eos_token_id, 1);
    assert_int_equal(cfg.s2s.forced_eos_token_id, -1);
    assert_int_equal(cfg.s2s.bad_word_id, -1);
    config_free(&cfg);

    assert_int_equal(config_load(shared_path("fixtures/hf/t5-v1_1"), &cfg, &err), ELANG_OK);
    assert_int_equal(cfg.hidden_act, ACT_GELU_TANH); /* "gated-gelu" is gelu_new */
    assert_true(cfg.s2s.gated_ff);
    assert_false(cfg.s2s.tie_word_embeddings);
    assert_int_equal(cfg.s2s.decoder_layers, 2);
    config_free(&cfg);

    assert_int_equal(config_load(shared_path("fixtures/hf/marian"), &cfg, &err), ELANG_OK);
    assert_true(config_is_seq2seq(&cfg));
    assert_int_equal(cfg.hidden_act, ACT_SILU);
    assert_int_equal(cfg.s2s.target_vocab_size, 1448);
    assert_int_equal(cfg.max_position_embeddings, 128);
    assert_true(cfg.s2s.scale_embedding && cfg.s2s.share_embeddings && cfg.s2s.tie_word_embeddings);
    assert_int_equal(cfg.s2s.decoder_start_token_id, 1447);
    assert_int_equal(cfg.pad_token_id, 1447);
    assert_int_equal(cfg.s2s.bad_word_id, 1447);
    assert_int_equal(cfg.s2s.forced_eos_token_id, 0);
    assert_true(cfg.layer_norm_eps == 1e-5);
    config_free(&cfg);

    model_fixture f;
    model_fixture_load("marian", &f);
    const seq2seq_info *i = &f.m.info;
    assert_int_equal(i->vocab_size, 1448);
    assert_int_equal(i->banned_id, 1447);
    assert_int_equal(i->forced_eos_id, 0);
    assert_int_equal(i->max_source_len, 128);
    int32_t mask[4] = {1, 1, 1, 1};
    test_run run;
    run_open(&f, &run, 1, 1, 4, 2, mask);
    assert_int_equal(run.r.cache.layers, 2);
    assert_int_equal(run.r.cache.width, 32);
    arena_free(&run.a);
    model_fixture_free(&f);
}

/* fixture `name`'s config.json with each edits[2i] replaced by edits[2i+1]
 * (NULL-terminated). */
static char *config_edit(const char *name, const char *const *edits) {
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/hf/%s/config.json", name);
    char *cfg = read_file_all(shared_path(rel), NULL);
    for (; edits[0]; edits += 2) {
        char *at = strstr(cfg, edits[0]);
        if (!at) fail_msg("%s not in %s", edits[0], rel);
        char *out = malloc(strlen(cfg) - strlen(edits[0]) + strlen(edits[1]) + 1);
        sprintf(out, "%.*s%s%s", (int)(at - cfg), cfg, edits[1], at + strlen(edits[0]));
        free(cfg);
        cfg = out;
    }
    return cfg;
}

/* A model directory in the temp dir holding fixture `name`'s tensors minus
 * `drop`, plus `extra`, with `config` (NULL: the fixture's) as config.json. */
static const char *variant(const char *name, const char *tag, const char *config, const char *drop,
                           const tensor_spec *extra, size_t n_extra) {
    static char dir[1024];
    char rel[256], path[2200];
    snprintf(rel, sizeof rel, "fixtures/hf/%s", name);
    snprintf(dir, sizeof dir, "%s/%s-%s", test_tmpdir(), name, tag);
    snprintf(path, sizeof path, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    assert_int_equal(system(path), 0);
    snprintf(path, sizeof path, "%s/config.json", dir);
    char own_rel[300];
    snprintf(own_rel, sizeof own_rel, "%s/config.json", rel);
    char *own = config ? NULL : read_file_all(shared_path(own_rel), NULL);
    write_file(path, config ? config : own, strlen(config ? config : own));
    free(own);

    weight_store *ws;
    elang_error err;
    assert_int_equal(weight_store_open(shared_path(rel), &ws, &err), ELANG_OK);
    size_t n = weight_store_count(ws), k = 0;
    tensor_spec *t = calloc(n + n_extra, sizeof *t);
    for (size_t i = 0; i < n; i++) {
        const weight_entry *e = weight_store_at(ws, i);
        if (drop && strcmp(e->name, drop) == 0) continue;
        assert_int_equal(e->dtype, DTYPE_F32);
        t[k++] = (tensor_spec){e->name, "F32", e->ndim, e->shape, e->data, e->nbytes};
    }
    assert_int_equal(k, drop ? n - 1 : n);
    for (size_t i = 0; i < n_extra; i++) t[k++] = extra[i];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    write_safetensors(path, t, k);
    free(t);
    weight_store_free(ws);
    return dir;
}

static void expect_load_error(const char *dir, elang_status code, const char *needle) {
    model_fixture f;
    elang_error err;
    const elang_status st = model_fixture_open(dir, &f, &err);
    if (st != code) fail_msg("%s: status %d, want %d (%s)", dir, st, code, st ? err.message : "loaded");
    if (!strstr(err.message, needle)) fail_msg("%s: message \"%s\" lacks \"%s\"", dir, err.message, needle);
}

#define EDITS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void expect_config_error(const char *name, const char *const *edits, elang_status code,
                                const char *needle) {
    char *cfg = config_edit(name, edits);
    expect_load_error(variant(name, "config", cfg, NULL, NULL, 0), code, needle);
    free(cfg);
}

static void t5_bad_checkpoints(void **state) {
    (void)state;
    const char *cross_k = "decoder.block.1.layer.1.EncDecAttention.k.weight";
    expect_load_error(variant("t5", "no-cross-k", NULL, cross_k, NULL, 0), ELANG_ERR_FORMAT, cross_k);
    expect_load_error(variant("t5", "no-shared", NULL, "shared.weight", NULL, 0), ELANG_ERR_FORMAT, "shared.weight");
    expect_load_error(variant("t5-v1_1", "no-lm-head", NULL, "lm_head.weight", NULL, 0), ELANG_ERR_FORMAT,
                      "lm_head.weight");
    expect_load_error(variant("t5", "no-rel-bias", NULL, "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                              NULL, 0), ELANG_ERR_FORMAT, "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight");
    expect_config_error("t5", EDITS("\"d_ff\": 37", "\"d_ff\": 38"), ELANG_ERR_FORMAT,
                        "encoder.block.0.layer.1.DenseReluDense.wi.weight");
    expect_config_error("t5", EDITS("\"num_decoder_layers\": 3", "\"num_decoder_layers\": 4"), ELANG_ERR_FORMAT,
                        "decoder.block.3.layer.0.SelfAttention.q.weight");

    static const float stray[4];
    const tensor_spec extra = {"encoder.block.9.mystery.weight", "F32", 1, (const int64_t[]){4}, stray, sizeof stray};
    expect_load_error(variant("t5", "stray", NULL, NULL, &extra, 1), ELANG_ERR_FORMAT, "encoder.block.9.mystery.weight");
}

/* The feed-forward comes from feed_forward_proj unless dense_act_fn and
 * is_gated_act say otherwise, as in T5Config. */
static void t5_feed_forward_proj(void **state) {
    (void)state;
    expect_config_error("t5", EDITS("\"dense_act_fn\": \"relu\"", "\"dense_act_fn\": \"mish\""),
                        ELANG_ERR_UNSUPPORTED, "dense_act_fn \"mish\" is not supported");
    expect_config_error("t5", EDITS("\"feed_forward_proj\": \"relu\"", "\"feed_forward_proj\": \"gated-gelu-new\""),
                        ELANG_ERR_FORMAT, "feed_forward_proj \"gated-gelu-new\"");
    expect_config_error("t5", EDITS("\"feed_forward_proj\": \"relu\"", "\"feed_forward_proj\": \"fast-relu\""),
                        ELANG_ERR_FORMAT, "feed_forward_proj \"fast-relu\"");
    char *cfg = config_edit("t5", EDITS("\"dense_act_fn\": \"relu\",", "", "\"is_gated_act\": false,", ""));
    char *overridden = config_edit("t5", EDITS("\"feed_forward_proj\": \"relu\"", "\"feed_forward_proj\": \"gated-gelu\""));
    char *gated = config_edit("t5", EDITS("\"dense_act_fn\": \"relu\",", "", "\"is_gated_act\": false,", "",
                                          "\"feed_forward_proj\": \"relu\"", "\"feed_forward_proj\": \"gated-silu\""));
    char *unknown = config_edit("t5", EDITS("\"dense_act_fn\": \"relu\",", "", "\"is_gated_act\": false,", "",
                                            "\"feed_forward_proj\": \"relu\"", "\"feed_forward_proj\": \"gated-foo\""));
    /* Gated: wi_0 and wi_1, which the v1.0 checkpoint lacks. */
    expect_load_error(variant("t5", "gated", gated, NULL, NULL, 0), ELANG_ERR_FORMAT,
                      "encoder.block.0.layer.1.DenseReluDense.wi_0.weight");
    expect_load_error(variant("t5", "unknown-act", unknown, NULL, NULL, 0), ELANG_ERR_UNSUPPORTED,
                      "activation \"foo\" of feed_forward_proj \"gated-foo\"");
    model_fixture f;
    elang_error err;
    assert_int_equal(model_fixture_open(variant("t5", "plain", cfg, NULL, NULL, 0), &f, &err), ELANG_OK);
    assert_int_equal(f.cfg.hidden_act, ACT_RELU);
    model_fixture_free(&f);
    assert_int_equal(model_fixture_open(variant("t5", "overridden", overridden, NULL, NULL, 0), &f, &err), ELANG_OK);
    assert_int_equal(f.cfg.hidden_act, ACT_RELU);
    assert_false(f.cfg.s2s.gated_ff);
    model_fixture_free(&f);

    char *derived = config_edit("t5-v1_1", EDITS("\"dense_act_fn\": \"gelu_new\",", "", "\"is_gated_act\": true,", ""));
    model_config c;
    assert_int_equal(config_load(variant("t5-v1_1", "derived", derived, NULL, NULL, 0), &c, &err), ELANG_OK);
    assert_int_equal(c.hidden_act, ACT_GELU_TANH); /* "gated-gelu" means gelu_new */
    assert_true(c.s2s.gated_ff);
    config_free(&c);
    free(cfg), free(overridden), free(gated), free(unknown), free(derived);
}

/* first logits of the fixture's case 1 from the model in `dir`. */
static float *first_logits(const char *dir, const char *name) {
    model_fixture f;
    elang_error err;
    if (model_fixture_open(dir, &f, &err) != ELANG_OK) fail_msg("%s: %s", dir, err.message);
    size_t n;
    json_t **cases = fixture_cases(name, &n);
    int S;
    int32_t *ids = json_ids(json_object_get(cases[0], "input_ids"), &S);
    const int32_t start = f.m.info.decoder_start_id;
    float *enc = encode_one(&f, ids, S), *logits = decode_one(&f, enc, S, &start, 1);
    free(ids), free(enc);
    free_jsonl(cases, n);
    model_fixture_free(&f);
    return logits;
}

static void assert_same_logits(const float *got, const float *want, int V, double tol, const char *what) {
    for (int v = 0; v < V; v++) assert_close(got[v], want[v], tol, what, 1, v);
}

/* Tied tensors may be stored several times (older T5 checkpoints carry
 * encoder/decoder.embed_tokens and lm_head beside shared); they are one
 * tensor, as for transformers, and so is the cross-attention relative bias
 * transformers skips. */
static void t5_tied_copies(void **state) {
    (void)state;
    weight_store *ws;
    elang_error err;
    assert_int_equal(weight_store_open(shared_path("fixtures/hf/t5"), &ws, &err), ELANG_OK);
    const weight_entry *shared = weight_store_find(ws, "shared.weight");
    static const float bias[32 * 4];
    const tensor_spec copies[] = {
        {"encoder.embed_tokens.weight", "F32", 2, shared->shape, shared->data, shared->nbytes},
        {"decoder.embed_tokens.weight", "F32", 2, shared->shape, shared->data, shared->nbytes},
        {"lm_head.weight", "F32", 2, shared->shape, shared->data, shared->nbytes},
        {"decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight", "F32", 2,
         (const int64_t[]){32, 4}, bias, sizeof bias},
    };
    float *want = first_logits(shared_path("fixtures/hf/t5"), "t5");
    float *got = first_logits(variant("t5", "copies", NULL, NULL, copies, 4), "t5");
    assert_same_logits(got, want, 2100, 0.0, "logits with stored copies");
    free(got);
    /* Only the copies: shared.weight is found under another of its names. */
    got = first_logits(variant("t5", "renamed", NULL, "shared.weight", copies, 1), "t5");
    assert_same_logits(got, want, 2100, 0.0, "logits with embed_tokens only");
    free(got), free(want);
    weight_store_free(ws);
}

static void marian_bad_checkpoints(void **state) {
    (void)state;
    expect_load_error(variant("marian", "no-shared", NULL, "model.shared.weight", NULL, 0), ELANG_ERR_FORMAT,
                      "model.shared.weight");
    expect_load_error(variant("marian", "no-fc2", NULL, "model.decoder.layers.1.fc2.bias", NULL, 0), ELANG_ERR_FORMAT,
                      "model.decoder.layers.1.fc2.bias");
    expect_config_error("marian", EDITS("\"decoder_ffn_dim\": 37", "\"decoder_ffn_dim\": 36"), ELANG_ERR_FORMAT,
                        "model.decoder.layers.0.fc1.weight");
    expect_config_error("marian", EDITS("\"activation_function\": \"swish\"", "\"activation_function\": \"mish\""),
                        ELANG_ERR_UNSUPPORTED, "activation_function \"mish\"");
    expect_config_error("marian", EDITS("\"decoder_attention_heads\": 4", "\"decoder_attention_heads\": 5"),
                        ELANG_ERR_FORMAT, "decoder_attention_heads 5");
    expect_config_error("marian", EDITS("[\n    [\n      1447\n    ]\n  ]", "[[1447], [3, 4]]"),
                        ELANG_ERR_UNSUPPORTED, "bad_words_ids");
    expect_config_error("marian", EDITS("[\n    [\n      1447\n    ]\n  ]", "[[\"x\"]]"), ELANG_ERR_FORMAT,
                        "bad_words_ids");
    expect_config_error("marian", EDITS("\"vocab_size\": 1448\n",
                                        "\"vocab_size\": 1448, \"tie_word_embeddings\": false\n"),
                        ELANG_ERR_FORMAT, "lm_head.weight");
    static const float short_bias[1000];
    const tensor_spec pos = {"final_logits_bias", "F32", 2, (const int64_t[]){1, 1000}, short_bias, sizeof short_bias};
    expect_load_error(variant("marian", "short-bias", NULL, "final_logits_bias", &pos, 1), ELANG_ERR_FORMAT,
                      "final_logits_bias");
}

/* Positions are computed as MarianSinusoidalPositionalEmbedding does;
 * checkpoints that store them get the stored ones, which are the same. A
 * checkpoint without final_logits_bias has transformers' zero buffer. */
static void marian_positions_and_bias(void **state) {
    (void)state;
    model_fixture f;
    model_fixture_load("marian", &f);
    const marian_model *m = f.m.net;
    const int D = 32, P = 128;
    assert_non_null(m->sinusoids);
    for (int pos = 0; pos < P; pos += 17)
        for (int i = 0; i < D / 2; i++) {
            const double angle = pos / pow(10000.0, 2.0 * i / D);
            assert_close(m->sinusoids[pos * D + i], sin(angle), 1e-7, "sine column", (size_t)pos, i);
            assert_close(m->sinusoids[pos * D + D / 2 + i], cos(angle), 1e-7, "cosine column", (size_t)pos, i);
        }
    const int64_t shape[2] = {P, D};
    const tensor_spec stored[] = {
        {"model.encoder.embed_positions.weight", "F32", 2, shape, m->sinusoids, sizeof(float) * P * D},
        {"model.decoder.embed_positions.weight", "F32", 2, shape, m->sinusoids, sizeof(float) * P * D},
    };
    float *want = first_logits(shared_path("fixtures/hf/marian"), "marian");
    float *got = first_logits(variant("marian", "positions", NULL, NULL, stored, 2), "marian");
    assert_same_logits(got, want, 1448, 0.0, "logits with stored positions");
    free(got);
    const int64_t wrong[2] = {P - 1, D};
    const tensor_spec short_table = {"model.decoder.embed_positions.weight", "F32", 2, wrong, m->sinusoids,
                                     sizeof(float) * (P - 1) * D};
    expect_load_error(variant("marian", "short-positions", NULL, NULL, &short_table, 1), ELANG_ERR_FORMAT,
                      "model.decoder.embed_positions.weight");

    got = first_logits(variant("marian", "no-bias", NULL, "final_logits_bias", NULL, 0), "marian");
    const weight_entry *bias = weight_store_find(f.ws, "final_logits_bias");
    for (int v = 0; v < 1448; v++) got[v] += ((const float *)bias->data)[v];
    assert_same_logits(got, want, 1448, 1e-5, "logits without final_logits_bias, plus it");
    free(got), free(want);
    model_fixture_free(&f);
}

/* share_encoder_decoder_embeddings false: each stack has its own copy of
 * the embedding (here both equal to the fixture's shared one, so the
 * logits must not change), tied to the lm_head or not. */
static void marian_separate_embeddings(void **state) {
    (void)state;
    weight_store *ws;
    elang_error err;
    assert_int_equal(weight_store_open(shared_path("fixtures/hf/marian"), &ws, &err), ELANG_OK);
    const weight_entry *e = weight_store_find(ws, "model.shared.weight");
    const tensor_spec copies[] = {
        {"model.encoder.embed_tokens.weight", "F32", 2, e->shape, e->data, e->nbytes},
        {"model.decoder.embed_tokens.weight", "F32", 2, e->shape, e->data, e->nbytes},
        {"lm_head.weight", "F32", 2, e->shape, e->data, e->nbytes},
    };
    const char *unshared = "\"share_encoder_decoder_embeddings\": false";
    char *tied = config_edit("marian", EDITS("\"share_encoder_decoder_embeddings\": true", unshared));
    char *untied = config_edit("marian", EDITS("\"share_encoder_decoder_embeddings\": true", unshared,
                                               "\"vocab_size\": 1448\n", "\"vocab_size\": 1448, \"tie_word_embeddings\": false\n"));
    char *wide = config_edit("marian", EDITS("\"share_encoder_decoder_embeddings\": true", unshared,
                                               "\"decoder_vocab_size\": 1448", "\"decoder_vocab_size\": 1500"));
    float *want = first_logits(shared_path("fixtures/hf/marian"), "marian");
    float *got = first_logits(variant("marian", "separate-tied", tied, "model.shared.weight", copies, 2), "marian");
    assert_same_logits(got, want, 1448, 0.0, "logits with separate tied embeddings");
    free(got);
    got = first_logits(variant("marian", "separate-untied", untied, "model.shared.weight", copies, 3), "marian");
    assert_same_logits(got, want, 1448, 0.0, "logits with separate untied embeddings");
    free(got), free(want);
    expect_load_error(variant("marian", "separate-missing", untied, "model.shared.weight", copies, 2),
                      ELANG_ERR_FORMAT, "lm_head.weight");
    expect_load_error(variant("marian", "wide", wide, "model.shared.weight", copies, 2), ELANG_ERR_FORMAT,
                      "decoder_vocab_size is 1500");
    free(tied), free(untied), free(wide);
    weight_store_free(ws);
}

/* What the caller can get wrong is refused, not read out of bounds. */
static void bad_calls(void **state) {
    (void)state;
    model_fixture f, other;
    model_fixture_load("marian", &f);
    model_fixture_load("t5", &other);
    elang_error err;
    int32_t ids[130], mask[130];
    for (int i = 0; i < 130; i++) ids[i] = 5, mask[i] = 1;
    float logits[2 * 1448];
    test_run run;
    run_open(&f, &run, 1, 1, 129, 1, mask);
    assert_int_equal(f.m.ops->encode(f.m.net, &run.r, ids, mask, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "128 positions"));
    arena_free(&run.a);
    run_open(&f, &run, 1, 2, 8, 2, mask);
    ids[3] = 1448;
    assert_int_equal(f.m.ops->encode(f.m.net, &run.r, ids, mask, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "token id 1448"));
    ids[3] = 5;
    assert_int_equal(f.m.ops->encode(f.m.net, &run.r, ids, mask, &err), ELANG_OK);

    /* A run for the t5 fixture's 3 decoder layers; Marian's has 2. */
    test_run t5run;
    run_open(&other, &t5run, 1, 1, 8, 2, mask);
    assert_int_equal(f.m.ops->start(f.m.net, &t5run.r, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "another model"));
    assert_int_equal(f.m.ops->step(f.m.net, &t5run.r, ids, logits, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "another model"));
    arena_free(&t5run.a);

    assert_int_equal(f.m.ops->start(f.m.net, &run.r, &err), ELANG_OK);
    int32_t tokens[2] = {1447, 1448};
    assert_int_equal(f.m.ops->step(f.m.net, &run.r, tokens, logits, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "token id 1448"));
    assert_int_equal(run.r.cache.steps, 0);
    tokens[1] = 1447;
    assert_int_equal(f.m.ops->step(f.m.net, &run.r, tokens, logits, &err), ELANG_OK);
    assert_int_equal(f.m.ops->step(f.m.net, &run.r, tokens, logits, &err), ELANG_OK);
    assert_int_equal(f.m.ops->step(f.m.net, &run.r, tokens, logits, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "full"));
    assert_int_equal(run.r.cache.steps, 2);
    arena_free(&run.a);
    model_fixture_free(&f);
    model_fixture_free(&other);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t5_cases),
        cmocka_unit_test(t5_v1_1_cases),
        cmocka_unit_test(marian_cases),
        cmocka_unit_test(t5_batch),
        cmocka_unit_test(t5_v1_1_batch),
        cmocka_unit_test(marian_batch),
        cmocka_unit_test(t5_reorder),
        cmocka_unit_test(marian_reorder),
        cmocka_unit_test(config_values),
        cmocka_unit_test(t5_bad_checkpoints),
        cmocka_unit_test(t5_feed_forward_proj),
        cmocka_unit_test(t5_tied_copies),
        cmocka_unit_test(marian_bad_checkpoints),
        cmocka_unit_test(marian_positions_and_bias),
        cmocka_unit_test(marian_separate_embeddings),
        cmocka_unit_test(bad_calls),
    };
    int failed = cmocka_run_group_tests_name("seq2seq", tests, NULL, NULL);
    test_tmpdir_cleanup();
    return failed;
}
