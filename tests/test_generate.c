/* Generation (T5 v1.0, T5 v1.1, Marian) against what transformers 4.25's
 * generate() produced on the same files: source ids exact, greedy and beam
 * ids exact, per-step log-probabilities and energies within 1e-3,
 * teacher-forced energies within 1e-3; batched decoding equal to one input
 * at a time. The decoder-only models (GPT-2, Llama, Qwen2; 4.48's
 * generate()) from their texts through the API: prompt ids, greedy and
 * beam ids exact and the per-step values, with every prompt in one
 * left-padded batch; stop strings, empty prompts, prompts truncated to
 * leave room for the new tokens. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/model_internal.h"
#include "models/generate.h"
#include "support.h"

#define TOL 1e-3

static void assert_close(double got, double want, double tol, const char *what, size_t c, int i) {
    if (!(fabs(got - want) <= tol))
        fail_msg("%s (case %zu, position %d): got %.6f, want %.6f", what, c, i, got, want);
}

static void assert_ids(const int32_t *got, int n, json_t *want, const char *what, size_t c) {
    char buf[2048] = "";
    size_t used = 0;
    for (int i = 0; i < n && used < sizeof buf - 16; i++) used += (size_t)snprintf(buf + used, sizeof buf - used, "%d ", got[i]);
    if ((size_t)n != json_array_size(want)) fail_msg("%s (case %zu): %d ids (%s), want %zu", what, c, n, buf, json_array_size(want));
    for (int i = 0; i < n; i++)
        if (got[i] != json_integer_value(json_array_get(want, (size_t)i)))
            fail_msg("%s (case %zu): ids %s differ at %d from the expected", what, c, buf, i);
}

static elang_model *load(const char *name) {
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/hf/%s", name);
    elang_model *m = NULL;
    elang_error err;
    elang_load_opts lo = {.threads = 2};
    if (elang_model_load(shared_path(rel), &lo, &m, &err) != ELANG_OK) fail_msg("loading %s: %s", name, err.message);
    assert_true(elang_model_is_generator(m));
    return m;
}

static json_t **cases_of(const char *name, size_t *n) {
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/hf/%s/cases.jsonl", name);
    return read_jsonl(shared_path(rel), n);
}

static elang_gen_opts greedy_opts(void) {
    elang_gen_opts o = elang_gen_opts_default();
    o.max_new_tokens = 16;
    return o;
}

static elang_gen_opts beam_opts(void) {
    elang_gen_opts o = greedy_opts();
    o.num_beams = 4;
    o.length_penalty = 1.0;
    return o;
}

static void check_fixture(const char *name) {
    elang_model *m = load(name);
    size_t n;
    json_t **cases = cases_of(name, &n);
    assert_int_equal(n, 8); /* every case of the fixture is compared below */
    elang_text *in = calloc(n, sizeof *in);
    for (size_t i = 0; i < n; i++) in[i].text = json_string_value(json_object_get(cases[i], "src"));
    elang_gen_out *greedy = calloc(n, sizeof *greedy), *beam = calloc(n, sizeof *beam);
    elang_error err;
    elang_gen_opts g = greedy_opts(), b = beam_opts();
    g.batch_size = b.batch_size = 1;
    if (elang_generate(m, in, n, &g, greedy, &err) != ELANG_OK) fail_msg("%s greedy: %s", name, err.message);
    if (elang_generate(m, in, n, &b, beam, &err) != ELANG_OK) fail_msg("%s beam: %s", name, err.message);

    for (size_t c = 0; c < n; c++) {
        json_t *cs = cases[c];
        assert_ids(greedy[c].input_ids, greedy[c].num_input_ids, json_object_get(cs, "input_ids"), "input_ids", c);
        assert_ids(greedy[c].ids, greedy[c].num_ids, json_object_get(cs, "greedy_ids"), "greedy_ids", c);
        json_t *steps = json_object_get(cs, "greedy_steps");
        assert_int_equal(json_array_size(steps), (size_t)greedy[c].num_ids - 1);
        double sum = 0.0;
        for (int t = 0; t + 1 < greedy[c].num_ids; t++) {
            json_t *st = json_array_get(steps, (size_t)t);
            assert_int_equal(json_integer_value(json_object_get(st, "token")), greedy[c].ids[t + 1]);
            assert_close(greedy[c].token_logprobs[t], json_real_value(json_object_get(st, "logprob")), TOL, "logprob", c, t);
            assert_close(-greedy[c].token_energies[t], json_number_value(json_object_get(st, "neg_energy_T1")), TOL,
                         "step energy", c, t);
            sum += greedy[c].token_energies[t];
        }
        assert_close(greedy[c].energy, sum / (greedy[c].num_ids - 1), 1e-9, "mean energy", c, 0);
        assert_ids(beam[c].ids, beam[c].num_ids, json_object_get(cs, "beam_ids"), "beam_ids", c);
        assert_non_null(greedy[c].text);

        /* Teacher forcing the greedy output: energies of the raw logits. */
        json_t *tf = json_object_get(cs, "teacher_forced_neg_energy_T1");
        float *energies = malloc(sizeof(float) * greedy[c].num_ids);
        int32_t *mask = malloc(sizeof(int32_t) * greedy[c].num_input_ids);
        for (int s = 0; s < greedy[c].num_input_ids; s++) mask[s] = 1;
        assert_int_equal(teacher_forced_energies(&m->s2s, &m->run, greedy[c].input_ids, mask, greedy[c].num_input_ids,
                                                 greedy[c].ids, greedy[c].num_ids, 1.0, energies, &err), ELANG_OK);
        free(mask);
        assert_int_equal(json_array_size(tf), (size_t)greedy[c].num_ids);
        for (int t = 0; t < greedy[c].num_ids; t++)
            assert_close(-energies[t], json_number_value(json_array_get(tf, (size_t)t)), TOL, "teacher-forced energy", c, t);
        free(energies);
    }

    /* All inputs at once, padded: the same as one at a time. */
    elang_gen_out *gb = calloc(n, sizeof *gb), *bb = calloc(n, sizeof *bb);
    g.batch_size = b.batch_size = (int)n;
    assert_int_equal(elang_generate(m, in, n, &g, gb, &err), ELANG_OK);
    assert_int_equal(elang_generate(m, in, n, &b, bb, &err), ELANG_OK);
    for (size_t c = 0; c < n; c++) {
        assert_int_equal(gb[c].num_ids, greedy[c].num_ids);
        assert_memory_equal(gb[c].ids, greedy[c].ids, sizeof(int32_t) * greedy[c].num_ids);
        for (int t = 0; t + 1 < gb[c].num_ids; t++)
            assert_close(gb[c].token_energies[t], greedy[c].token_energies[t], 1e-4, "batched energy", c, t);
        assert_string_equal(gb[c].text, greedy[c].text);
        assert_int_equal(bb[c].num_ids, beam[c].num_ids);
        assert_memory_equal(bb[c].ids, beam[c].ids, sizeof(int32_t) * beam[c].num_ids);
        assert_close(bb[c].score, beam[c].score, 1e-4, "batched beam score", c, 0);
    }
    elang_gen_out_free(gb, n), elang_gen_out_free(bb, n);
    elang_gen_out_free(greedy, n), elang_gen_out_free(beam, n);
    free(gb), free(bb), free(greedy), free(beam), free(in);
    free_jsonl(cases, n);
    elang_model_free(m);
}

/* A decoder-only fixture's texts all in one batch (left-padded, so every
 * row differs in length) and one at a time. */
static void check_causal_fixture(const char *name, int batch_size) {
    elang_model *m = load(name);
    assert_true(elang_model_is_causal(m));
    size_t n, k = 0;
    json_t **cases = cases_of(name, &n);
    elang_text *in = calloc(n, sizeof *in);
    json_t **want = calloc(n, sizeof *want);
    for (size_t i = 0; i < n; i++)
        if (json_object_get(cases[i], "greedy_ids")) want[k] = cases[i], in[k++].text = json_string_value(json_object_get(cases[i], "text"));
    assert_true(k >= 12); /* every case with a prompt (Llama's empty text has <s>) */
    elang_gen_out *greedy = calloc(k, sizeof *greedy), *beam = calloc(k, sizeof *beam);
    elang_error err;
    elang_gen_opts g = greedy_opts(), b = beam_opts();
    g.batch_size = b.batch_size = batch_size;
    if (elang_generate(m, in, k, &g, greedy, &err) != ELANG_OK) fail_msg("%s greedy: %s", name, err.message);
    if (elang_generate(m, in, k, &b, beam, &err) != ELANG_OK) fail_msg("%s beam: %s", name, err.message);
    for (size_t c = 0; c < k; c++) {
        assert_ids(greedy[c].input_ids, greedy[c].num_input_ids, json_object_get(want[c], "input_ids"), "input_ids", c);
        assert_ids(greedy[c].ids, greedy[c].num_ids, json_object_get(want[c], "greedy_ids"), "greedy_ids", c);
        assert_int_equal(greedy[c].num_steps, greedy[c].num_ids);
        json_t *steps = json_object_get(want[c], "greedy_steps");
        for (int t = 0; t < greedy[c].num_steps; t++) {
            json_t *st = json_array_get(steps, (size_t)t);
            assert_close(greedy[c].token_logprobs[t], json_number_value(json_object_get(st, "logprob")), TOL, "logprob", c, t);
            assert_close(-greedy[c].token_energies[t], json_number_value(json_object_get(st, "neg_energy_T1")), TOL,
                         "step energy", c, t);
        }
        assert_close(greedy[c].energy, json_number_value(json_object_get(want[c], "mean_token_energy")), TOL,
                     "mean energy", c, 0);
        assert_ids(beam[c].ids, beam[c].num_ids, json_object_get(want[c], "beam_ids"), "beam_ids", c);
        assert_non_null(greedy[c].text);
    }
    elang_gen_out_free(greedy, k), elang_gen_out_free(beam, k);
    free(greedy), free(beam), free(in), free(want);
    free_jsonl(cases, n);
    elang_model_free(m);
}

static void gpt2_fixture(void **s) { (void)s; check_causal_fixture("gpt2", 16); }
static void llama_fixture(void **s) { (void)s; check_causal_fixture("llama", 16); check_causal_fixture("llama", 1); }
static void qwen2_fixture(void **s) { (void)s; check_causal_fixture("qwen2", 16); }
static void qwen2_bf16_fixture(void **s) { (void)s; check_causal_fixture("qwen2-bf16", 5); }

/* A stop string ends a greedy row once the text of its tokens holds it,
 * those tokens included; the other rows of the batch go on. An empty
 * prompt starts from the bos token; one that leaves no room for the new
 * tokens in the positions is refused, naming the input; stop strings with
 * beams are refused. */
static void causal_stop_and_limits(void **s) {
    (void)s;
    elang_model *m = load("gpt2");
    elang_text in[2] = {{"The cat sat on the mat.", NULL}, {"x", NULL}};
    elang_gen_out full[2], stopped[2];
    elang_error err;
    elang_gen_opts g = greedy_opts();
    assert_int_equal(elang_generate(m, in, 2, &g, full, &err), ELANG_OK);
    /* Four characters from within the first row's text as the stop string. */
    char *piece = NULL;
    elang_gen_out *f = &full[0];
    assert_true(f->num_ids == 16);
    const char *at = strstr(f->text, " holy");
    assert_non_null(at);
    piece = strndup(at, 4);
    const char *stops[1] = {piece};
    g.stop = stops, g.num_stop = 1;
    assert_int_equal(elang_generate(m, in, 2, &g, stopped, &err), ELANG_OK);
    assert_true(stopped[0].num_ids < f->num_ids);
    assert_memory_equal(stopped[0].ids, f->ids, sizeof(int32_t) * (size_t)stopped[0].num_ids);
    assert_non_null(strstr(stopped[0].text, piece));
    assert_int_equal(stopped[1].num_ids, full[1].num_ids); /* no stop string in the other row's text */
    elang_gen_out_free(stopped, 2);
    g.num_beams = 2;
    assert_int_equal(elang_generate(m, in, 2, &g, stopped, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "greedy"));
    elang_gen_out_free(full, 2);
    free(piece);

    elang_text empty = {"", NULL};
    elang_gen_out out;
    g = greedy_opts();
    g.max_new_tokens = 2;
    assert_int_equal(elang_generate(m, &empty, 1, &g, &out, &err), ELANG_OK);
    assert_int_equal(out.num_input_ids, 1);
    assert_int_equal(out.input_ids[0], 50256);
    elang_gen_out_free(&out, 1);
    /* A prompt of 200 words: truncated to model_max_length, 64, or to what
     * 65 new tokens leave of the 128 positions. */
    char *longer = malloc(4000);
    strcpy(longer, "");
    for (int i = 0; i < 200; i++) strcat(longer, "word ");
    elang_text two[2] = {{"x", NULL}, {longer, NULL}};
    g.max_new_tokens = 64;
    assert_int_equal(elang_generate(m, two, 2, &g, full, &err), ELANG_OK);
    assert_int_equal(full[1].num_input_ids, 64);
    elang_gen_out_free(full, 2);
    g.max_new_tokens = 65;
    assert_int_equal(elang_generate(m, two, 2, &g, full, &err), ELANG_OK);
    assert_int_equal(full[1].num_input_ids, 63);
    assert_int_equal(full[1].num_steps, 65);
    elang_gen_out_free(full, 2);
    g.max_new_tokens = 128; /* no room for a prompt */
    assert_int_equal(elang_generate(m, two, 2, &g, full, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "max_new_tokens 128"));
    free(longer);
    elang_model_free(m);
}

static void t5_fixture(void **s) { (void)s; check_fixture("t5"); }
static void t5_v1_1_fixture(void **s) { (void)s; check_fixture("t5-v1_1"); }
static void marian_fixture(void **s) { (void)s; check_fixture("marian"); }

/* A stand-in decoder whose row r says token 2 + r until step end[r]
 * (1-based), where it says </s>; its source's first id is end[r]. Its
 * cache keeps each row's end and original index (which rows retire and
 * move). It counts what it should never be fed: a row that has finished,
 * or a token other than its row's own; and the rows of each step. */
#define STUB_V 8
#define STUB_EOS 1
#define STUB_PAD 0

static int stub_fed_wrong, stub_rows[16];

static void stub_carve(const void *net, arena *a, seq2seq_run *run) {
    (void)net;
    run->enc_out = arena_take(a, sizeof(float) * (size_t)run->B * run->S);
    kv_cache_carve(a, 1, run->R, 1, run->S, run->max_steps, &run->cache);
    run->start_tokens = arena_take(a, sizeof(int32_t) * (size_t)run->R);
}

static elang_status stub_encode(const void *net, seq2seq_run *run, const int32_t *ids, const int32_t *mask,
                                elang_error *err) {
    (void)net, (void)mask, (void)err;
    for (int b = 0; b < run->B; b++) run->enc_out[b * run->S] = (float)ids[b * run->S];
    return ELANG_OK;
}

static elang_status stub_start(const void *net, seq2seq_run *run, elang_error *err) {
    (void)net, (void)err;
    kv_cache *c = &run->cache;
    for (int r = 0; r < c->rows; r++) {
        c->cross_k[(size_t)r * c->src_len] = run->enc_out[(size_t)(r / (c->rows / run->B)) * c->src_len];
        c->cross_v[(size_t)r * c->src_len] = (float)r;
    }
    c->steps = 0;
    return ELANG_OK;
}

static elang_status stub_step(const void *net, seq2seq_run *run, const int32_t *tokens, float *logits,
                              elang_error *err) {
    (void)net, (void)err;
    kv_cache *c = &run->cache;
    const int pos = c->steps; /* 0: the decoder start token */
    stub_rows[pos] = c->rows;
    for (int i = 0; i < c->rows; i++) {
        const int end = (int)c->cross_k[(size_t)i * c->src_len], r = (int)c->cross_v[(size_t)i * c->src_len];
        if (pos >= end || tokens[i] != (pos == 0 ? STUB_PAD : 2 + r)) stub_fed_wrong++;
        for (int v = 0; v < STUB_V; v++) logits[i * STUB_V + v] = 0.0f;
        logits[i * STUB_V + (pos + 1 >= end ? STUB_EOS : 2 + r)] = 1.0f;
    }
    c->steps++;
    return ELANG_OK;
}

static elang_status stub_prefill(const void *net, seq2seq_run *run, const int32_t *ids, const int32_t *mask,
                                 float *logits, elang_error *err);

static const seq2seq_ops stub_ops = {.carve = stub_carve, .encode = stub_encode, .start = stub_start,
                                     .prefill = stub_prefill, .step = stub_step};

static elang_status stub_prefill(const void *net, seq2seq_run *run, const int32_t *ids, const int32_t *mask,
                                 float *logits, elang_error *err) {
    return seq2seq_prefill_encoded(&stub_ops, net, STUB_PAD, run, ids, mask, logits, err);
}

/* Greedy search over a batch whose rows end at different steps: each row
 * stops at its own </s> (its ids, log-probabilities and energies end
 * there) and leaves the batch, so no later step computes it, and the batch
 * runs until its last row ends or the limit is reached. */
static void batch_rows_end_at_their_own_eos(void **s) {
    (void)s;
    const seq2seq_model m = {.ops = &stub_ops,
                             .info = {.vocab_size = STUB_V, .d_model = 1, .decoder_start_id = STUB_PAD,
                                      .eos_ids = {STUB_EOS}, .n_eos = 1, .pad_id = STUB_PAD, .banned_id = -1,
                                      .forced_eos_id = -1}};
    const int32_t ends[4] = {2, 6, 4, 99}, mask[4] = {1, 1, 1, 1};
    const generate_opts o = {.num_beams = 1, .max_new_tokens = 10, .temperature = 1.0};
    generated_seq out[4];
    elang_error err;
    stub_fed_wrong = 0;
    arena a = {0};
    assert_int_equal(generate(&m, &a, ends, mask, 4, 1, &o, out, &err), ELANG_OK);
    arena_free(&a);
    assert_int_equal(stub_fed_wrong, 0);
    /* Rows end after steps 2, 4 and 6 (ends 2, 4, 6; 99 runs to the limit). */
    const int rows[10] = {4, 4, 3, 3, 2, 2, 1, 1, 1, 1};
    for (int t = 0; t < 10; t++) assert_int_equal(stub_rows[t], rows[t]);
    for (int r = 0; r < 4; r++) {
        const int want_len = ends[r] <= 10 ? ends[r] + 1 : 11;
        if (out[r].len != want_len) fail_msg("row %d: %d ids, want %d", r, out[r].len, want_len);
        assert_int_equal(out[r].ids[0], STUB_PAD);
        for (int t = 1; t < out[r].len; t++)
            assert_int_equal(out[r].ids[t], t == ends[r] ? STUB_EOS : 2 + r);
        /* Every step's scores are one 1 among zeros. */
        const double lp = 1.0 - log(STUB_V - 1 + exp(1.0));
        assert_close(out[r].score, lp * (want_len - 1), 1e-5, "score", (size_t)r, 0);
        generated_seq_free(&out[r]);
    }
}

/* Marian's config forces </s> at the last allowed step: that step's scores
 * are 0 for </s> and -inf elsewhere, so its log-probability and energy are 0. */
static void forced_eos_at_the_limit(void **s) {
    (void)s;
    elang_model *m = load("marian");
    size_t n;
    json_t **cases = cases_of("marian", &n);
    elang_text in = {json_string_value(json_object_get(cases[0], "src")), NULL};
    elang_gen_out b;
    elang_error err;
    elang_gen_opts g = greedy_opts();
    g.max_new_tokens = 5;
    assert_int_equal(elang_generate(m, &in, 1, &g, &b, &err), ELANG_OK);
    assert_int_equal(b.num_ids, 6);
    assert_int_equal(b.ids[5], 0);
    assert_close(b.token_energies[4], 0.0, 1e-9, "forced step energy", 0, 4);
    assert_close(b.token_logprobs[4], 0.0, 1e-9, "forced step logprob", 0, 4);
    elang_gen_out_free(&b, 1);
    free_jsonl(cases, n);
    elang_model_free(m);
}

static void temperature_scales_energies(void **s) {
    (void)s;
    elang_model *m = load("t5");
    elang_text in = {"translate English to German: A dog runs.", NULL};
    elang_gen_out t1, t2;
    elang_error err;
    elang_gen_opts g = greedy_opts();
    assert_int_equal(elang_generate(m, &in, 1, &g, &t1, &err), ELANG_OK);
    g.temperature = 2.0;
    assert_int_equal(elang_generate(m, &in, 1, &g, &t2, &err), ELANG_OK);
    /* T changes the energies, never the tokens. -T log sum exp(s/T) is
     * decreasing in T: the T=2 energy is the lower one. */
    assert_int_equal(t1.num_ids, t2.num_ids);
    assert_memory_equal(t1.ids, t2.ids, sizeof(int32_t) * t1.num_ids);
    for (int t = 0; t + 1 < t1.num_ids; t++) assert_true(t2.token_energies[t] < t1.token_energies[t] - 1e-3);
    /* And they are -2 log sum exp(s/2) of each step's logits, as the exact
     * double computation over the teacher-forced logits gives them (T5 has
     * no logits processor, so a step's scores are its raw logits). */
    float *exact = malloc(sizeof(float) * (size_t)t2.num_ids);
    int32_t *mask = malloc(sizeof(int32_t) * (size_t)t2.num_input_ids);
    for (int i = 0; i < t2.num_input_ids; i++) mask[i] = 1;
    assert_int_equal(teacher_forced_energies(&m->s2s, &m->run, t2.input_ids, mask, t2.num_input_ids, t2.ids,
                                             t2.num_ids - 1, 2.0, exact, &err), ELANG_OK);
    for (int t = 0; t + 1 < t2.num_ids; t++) assert_close(t2.token_energies[t], exact[t], 1e-4, "T=2 energy", 0, t);
    free(exact), free(mask);
    elang_gen_out_free(&t1, 1), elang_gen_out_free(&t2, 1);
    elang_model_free(m);
}

/* Without early stopping the search runs on past the point where K
 * hypotheses have ended, and may only find better ones: the best score is
 * never lower. With a length penalty of 0 the score is the plain sum of the
 * token log-probabilities (for T5: Marian's banned <pad> makes beam search
 * add unnormalised log-softmax terms, while token_logprobs renormalise the
 * processed scores as greedy search's do). */
static void no_early_stopping_searches_further(void **s) {
    (void)s;
    const char *models[] = {"t5", "marian"};
    for (int k = 0; k < 2; k++) {
        elang_model *m = load(models[k]);
        size_t n;
        json_t **cases = cases_of(models[k], &n);
        for (size_t c = 0; c < n; c++) {
            elang_text in = {json_string_value(json_object_get(cases[c], "src")), NULL};
            elang_gen_out early, late;
            elang_error err;
            elang_gen_opts o = beam_opts();
            o.length_penalty = ELANG_LENGTH_PENALTY_NONE;
            assert_int_equal(elang_generate(m, &in, 1, &o, &early, &err), ELANG_OK);
            o.no_early_stopping = true;
            assert_int_equal(elang_generate(m, &in, 1, &o, &late, &err), ELANG_OK);
            assert_true(late.score >= early.score - 1e-6);
            double sum = 0.0;
            for (int t = 0; t + 1 < late.num_ids; t++) sum += late.token_logprobs[t];
            if (k == 0) assert_close(late.score, sum, 1e-3, "beam score = sum of logprobs", c, 0);
            elang_gen_out_free(&early, 1), elang_gen_out_free(&late, 1);
        }
        free_jsonl(cases, n);
        elang_model_free(m);
    }
}

/* A load-time prefix reads as if every input began with it. */
static void input_prefix_is_prepended(void **s) {
    (void)s;
    const char *prefix = "translate English to German: ";
    elang_model *m;
    elang_error err;
    elang_load_opts lo = {.input_prefix = prefix};
    assert_int_equal(elang_model_load(shared_path("fixtures/hf/t5"), &lo, &m, &err), ELANG_OK);
    size_t n;
    json_t **cases = cases_of("t5", &n);
    const char *src = json_string_value(json_object_get(cases[0], "src"));
    assert_int_equal(strncmp(src, prefix, strlen(prefix)), 0);
    elang_text in = {src + strlen(prefix), NULL};
    elang_gen_out out;
    elang_gen_opts g = greedy_opts();
    assert_int_equal(elang_generate(m, &in, 1, &g, &out, &err), ELANG_OK);
    assert_ids(out.input_ids, out.num_input_ids, json_object_get(cases[0], "input_ids"), "prefixed input_ids", 0);
    assert_ids(out.ids, out.num_ids, json_object_get(cases[0], "greedy_ids"), "greedy_ids", 0);
    elang_gen_out_free(&out, 1);
    free_jsonl(cases, n);
    elang_model_free(m);
}

/* A prefix holding {text} is a template: "Review: {text} Sentiment:" gives
 * the ids of the whole prompt written out. */
static void prefix_template(void **s) {
    (void)s;
    elang_load_opts lo = {.input_prefix = "Review: {text} Sentiment:"};
    elang_model *m, *plain;
    elang_error err;
    assert_int_equal(elang_model_load(shared_path("fixtures/hf/llama"), &lo, &m, &err), ELANG_OK);
    assert_int_equal(elang_model_load(shared_path("fixtures/hf/llama"), NULL, &plain, &err), ELANG_OK);
    elang_text in = {"a charming film", NULL}, whole = {"Review: a charming film Sentiment:", NULL};
    elang_gen_out a, b;
    const elang_gen_opts g = {.max_new_tokens = 2};
    assert_int_equal(elang_generate(m, &in, 1, &g, &a, &err), ELANG_OK);
    assert_int_equal(elang_generate(plain, &whole, 1, &g, &b, &err), ELANG_OK);
    assert_int_equal(a.num_input_ids, b.num_input_ids);
    assert_memory_equal(a.input_ids, b.input_ids, sizeof(int32_t) * (size_t)a.num_input_ids);
    assert_memory_equal(a.ids, b.ids, sizeof(int32_t) * (size_t)a.num_ids);
    elang_gen_out_free(&a, 1), elang_gen_out_free(&b, 1);
    elang_model_free(m), elang_model_free(plain);
}

/* Llama's prompt holds at least its <s> and a token of text: of 256
 * positions, 254 can be new tokens, not 255 (which once failed in the
 * tokenizer, naming a max_length nobody had set). */
static void llama_room_for_a_prompt(void **s) {
    (void)s;
    elang_model *m;
    elang_error err;
    assert_int_equal(elang_model_load(shared_path("fixtures/hf/llama"), NULL, &m, &err), ELANG_OK);
    assert_int_equal(elang_model_max_new_tokens(m), 254);
    elang_text in = {"a charming film", NULL};
    elang_gen_out out;
    elang_gen_opts g = {.max_new_tokens = 255};
    assert_int_equal(elang_generate(m, &in, 1, &g, &out, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "max_new_tokens 255 leaves no room for a prompt"));
    assert_non_null(strstr(err.message, "at most 254"));
    g.max_new_tokens = 254;
    assert_int_equal(elang_generate(m, &in, 1, &g, &out, &err), ELANG_OK);
    assert_int_equal(out.num_input_ids, 2); /* <s> and the first token of the text */
    elang_gen_out_free(&out, 1);
    elang_model_free(m);
}

static void rejects_bad_requests(void **s) {
    (void)s;
    elang_model *m = load("t5");
    elang_gen_out out;
    elang_error err;
    elang_text pair = {"a", "b"};
    assert_int_equal(elang_generate(m, &pair, 1, NULL, &out, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "pair"));
    elang_gen_opts bad = elang_gen_opts_default();
    bad.num_beams = -1;
    elang_text one = {"a", NULL};
    assert_int_equal(elang_generate(m, &one, 1, &bad, &out, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "num_beams"));
    elang_class_out cls;
    assert_int_equal(elang_classify(m, &one, 1, NULL, &cls, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "generate"));
    elang_text invalid = {"caf\xe9", NULL};
    assert_int_equal(elang_generate(m, &invalid, 1, NULL, &out, &err), ELANG_ERR_INPUT);
    assert_int_equal(err.item, 0);
    elang_model_free(m);

    elang_model *bert;
    elang_load_opts lo = {0};
    assert_int_equal(elang_model_load(shared_path("fixtures/hf/bert"), &lo, &bert, &err), ELANG_OK);
    assert_int_equal(elang_generate(bert, &one, 1, NULL, &out, &err), ELANG_ERR_INVALID_ARG);
    elang_model_free(bert);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t5_fixture),
        cmocka_unit_test(t5_v1_1_fixture),
        cmocka_unit_test(marian_fixture),
        cmocka_unit_test(batch_rows_end_at_their_own_eos),
        cmocka_unit_test(forced_eos_at_the_limit),
        cmocka_unit_test(temperature_scales_energies),
        cmocka_unit_test(no_early_stopping_searches_further),
        cmocka_unit_test(input_prefix_is_prepended),
        cmocka_unit_test(rejects_bad_requests),
        cmocka_unit_test(gpt2_fixture),
        cmocka_unit_test(llama_fixture),
        cmocka_unit_test(qwen2_fixture),
        cmocka_unit_test(qwen2_bf16_fixture),
        cmocka_unit_test(causal_stop_and_limits),
        cmocka_unit_test(prefix_template),
        cmocka_unit_test(llama_room_for_a_prompt),
    };
    int failed = cmocka_run_group_tests_name("generate", tests, NULL, NULL);
    test_tmpdir_cleanup();
    return failed;
}
