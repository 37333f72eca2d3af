/* elang_generate: tokenize, batch by length, run the shared generation loop,
 * detokenize. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/model_internal.h"
#include "core/scores.h"
#include "core/threads.h"
#include "models/generate.h"
#include "util/clock.h"
#include "util/error.h"

elang_gen_opts elang_gen_opts_default(void) {
    return (elang_gen_opts){.num_beams = 1, .max_new_tokens = 64, .length_penalty = 1.0,
                            .batch_size = 16, .temperature = 1.0};
}

/* The options with every zero replaced by its default. */
static elang_gen_opts with_defaults(const elang_gen_opts *opts) {
    const elang_gen_opts d = elang_gen_opts_default();
    if (!opts) return d;
    elang_gen_opts o = *opts;
    if (o.num_beams == 0) o.num_beams = d.num_beams;
    if (o.max_new_tokens == 0) o.max_new_tokens = d.max_new_tokens;
    if (o.length_penalty == 0.0) o.length_penalty = d.length_penalty;
    if (o.batch_size == 0) o.batch_size = d.batch_size;
    if (o.temperature == 0.0) o.temperature = d.temperature;
    return o;
}

void elang_gen_out_free(elang_gen_out *out, size_t n) {
    if (!out) return;
    for (size_t i = 0; i < n; i++) {
        free(out[i].text);
        free(out[i].ids);
        free(out[i].token_logprobs);
        free(out[i].token_energies);
        free(out[i].input_ids);
        free(out[i].step_scores);
        memset(&out[i], 0, sizeof out[i]);
    }
}

/* Checked against the model before anything runs, so that a request the
 * model cannot serve fails at once and says which option is at fault. */
static elang_status check_opts(const elang_model *m, const elang_gen_opts *o, elang_error *err) {
    if (o->num_beams < 1 || o->num_beams > 64)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "num_beams must be from 1 to 64, got %d", o->num_beams);
    if (o->max_new_tokens < 1 || o->max_new_tokens > 4096)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "max_new_tokens must be from 1 to 4096, got %d",
                          o->max_new_tokens);
    const int limit = elang_model_max_new_tokens(m);
    if (m->is_causal && o->max_new_tokens > limit)
        return elang_fail(err, ELANG_ERR_INVALID_ARG,
                          "max_new_tokens %d leaves no room for a prompt (its special tokens and a token of text) "
                          "in the %d positions of %s: at most %d", o->max_new_tokens, m->s2s.info.max_total_len,
                          m->dir, limit);
    if (limit > 0 && o->max_new_tokens > limit)
        return elang_fail(err, ELANG_ERR_INVALID_ARG,
                          "max_new_tokens %d exceeds what %s can generate: %d tokens after the start token "
                          "(its %d decoder positions)", o->max_new_tokens, m->dir, limit, limit + 1);
    if (!isfinite(o->length_penalty))
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "length_penalty must be a finite number");
    if (o->batch_size < 1)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "batch size must be positive, got %d", o->batch_size);
    if (!(o->temperature > 0.0) || !isfinite(o->temperature))
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "temperature must be a positive number, got %g",
                          o->temperature);
    if (o->num_stop < 0 || (o->num_stop > 0 && !o->stop))
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "stop strings: %d given%s", o->num_stop,
                          o->stop ? "" : " but no list");
    for (int i = 0; i < o->num_stop; i++)
        if (!o->stop[i] || !o->stop[i][0])
            return elang_fail(err, ELANG_ERR_INVALID_ARG, "stop string %d is %s", i + 1, o->stop[i] ? "empty" : "NULL");
    if (o->num_stop > 0 && o->num_beams > 1)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "stop strings work with greedy search, not with %d beams",
                          o->num_beams);
    return ELANG_OK;
}

/* The text of generated ids, special tokens dropped. A model's embedding
 * may have rows no token has (Qwen2's vocab_size is padded past its
 * tokenizer); such ids decode to nothing rather than fail the run. */
static elang_status decode_text(const elang_model *m, const int32_t *ids, int n, char **text, elang_error *err) {
    const int known = tokenizer_vocab_size(m->tok);
    int32_t *kept = malloc(sizeof *kept * (size_t)(n > 0 ? n : 1));
    if (!kept) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory decoding");
    int k = 0;
    for (int i = 0; i < n; i++)
        if (ids[i] < known) kept[k++] = ids[i];
    elang_status st = tokenizer_decode(m->tok, kept, k, true, text, err);
    free(kept);
    return st;
}

/* generate_opts.stop for the stop strings: whether the text of an input's
 * generated tokens holds one. */
typedef struct {
    const elang_model *m;
    const elang_gen_opts *o;
} stop_check;

static bool holds_stop_string(void *ctx, int b, const int32_t *tokens, int n) {
    (void)b;
    const stop_check *c = ctx;
    char *text = NULL;
    bool stop = false;
    if (decode_text(c->m, tokens, n, &text, NULL) == ELANG_OK)
        for (int i = 0; i < c->o->num_stop && !stop; i++) stop = strstr(text, c->o->stop[i]) != NULL;
    free(text);
    return stop;
}

static int by_length_desc(const void *a, const void *b, void *outputs) {
    const elang_gen_out *o = outputs;
    const size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (o[i].num_input_ids != o[j].num_input_ids) return o[j].num_input_ids - o[i].num_input_ids;
    return i < j ? -1 : i > j;
}

/* Moves one generated sequence into the public output and decodes it. */
static elang_status take_result(elang_model *m, generated_seq *g, elang_gen_out *o, elang_error *err) {
    o->ids = g->ids;
    o->num_ids = g->len;
    o->num_steps = g->steps;
    o->token_logprobs = g->logprobs;
    o->token_energies = g->energies;
    o->score = g->score;
    o->step_scores = g->step_scores;
    *g = (generated_seq){0};
    double sum = 0.0;
    for (int t = 0; t < o->num_steps; t++) sum += o->token_energies[t];
    o->energy = o->num_steps > 0 ? sum / o->num_steps : 0.0;
    return decode_text(m, o->ids, o->num_ids, &o->text, err);
}

/* What is taken of the inputs instead of decoding them: label words of
 * text-to-text classification (each input's first-step logits of the
 * words' first tokens go to picked[input][k]), or the scores of a decision
 * before decoding (ids NULL: scores[input][ELANG_SCORE_KINDS] at
 * temperature T, as model_decision_scores gives them). */
typedef struct {
    const int32_t *ids;  /* [k] */
    int k;
    float *picked;       /* [n, k] */
    elang_decision pass; /* a decision's */
    float *scores;       /* [n, ELANG_SCORE_KINDS] */
    double temperature;
    const int *head_outputs; /* [num_head_outputs]: a label-word head's outputs scored; NULL: all */
    int num_head_outputs;
} before_decoding;

/* One padded batch: its inputs [B, S], and what comes back before it is
 * moved into the outputs. */
typedef struct {
    int32_t *ids, *mask;  /* [B, S] */
    generated_seq *gen;   /* [B] */
    float *logits;        /* [B, V]: the first step's, when not decoding */
} generate_batch;

static void batch_carve(arena *a, const elang_model *m, int B, int S, bool pick, generate_batch *c) {
    c->ids = arena_take(a, sizeof(int32_t) * (size_t)B * S);
    c->mask = arena_take(a, sizeof(int32_t) * (size_t)B * S);
    c->gen = arena_take(a, sizeof(generated_seq) * (size_t)B);
    c->logits = pick ? arena_take(a, sizeof(float) * (size_t)B * m->s2s.info.vocab_size) : NULL;
}

/* A decision's scores of one batch ids[B, S] into its inputs' rows of
 * pick->scores; `scratch` holds B rows of ELANG_DIST_SCORES floats. */
static elang_status decision_batch(elang_model *m, const before_decoding *pick, const size_t *order, int B, int S,
                                   const int32_t *ids, const int32_t *mask, float *scratch, elang_error *err) {
    const bool head = pick->pass == ELANG_DECIDE_BY_HEAD;
    const elang_status st =
        head ? encoder_head_scores(m->head, &m->s2s, &m->run, ids, mask, B, S, pick->head_outputs,
                                   pick->num_head_outputs, pick->temperature, scratch, err)
             : first_step_scores(&m->s2s, &m->run, ids, mask, B, S, pick->temperature, scratch, err);
    const int first = head ? ELANG_SCORE_ENCODER_HEAD : 0, given = head ? 1 : ELANG_DIST_SCORES;
    for (int b = 0; b < B && st == ELANG_OK; b++) {
        float *row = pick->scores + order[b] * ELANG_SCORE_KINDS;
        for (int k = 0; k < ELANG_SCORE_KINDS; k++) row[k] = NAN;
        memcpy(row + first, scratch + (size_t)b * given, sizeof(float) * (size_t)given);
    }
    return st;
}

/* Generates for the inputs order[0..B) (or, with `pick`, takes what is
 * taken of them instead). */
static elang_status run_batch(elang_model *m, const elang_gen_opts *opts, elang_gen_out *out,
                              const size_t *order, int B, const before_decoding *pick,
                              elang_error *err) {
    const int S = out[order[0]].num_input_ids; /* the batch is sorted longest first */
    generate_batch c;
    arena_measure(&m->batch);
    batch_carve(&m->batch, m, B, S, pick != NULL, &c);
    if (!arena_commit(&m->batch))
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for a batch of %d x %d tokens", B, S);
    batch_carve(&m->batch, m, B, S, pick != NULL, &c);
    int32_t *ids = c.ids, *mask = c.mask;
    generated_seq *gen = c.gen;
    memset(gen, 0, sizeof *gen * (size_t)B);
    /* Sources are padded on the right; a decoder-only model's prompts on
     * the left, so that every one ends where generation starts. */
    for (int b = 0; b < B; b++) {
        const elang_gen_out *o = &out[order[b]];
        const int left = m->is_causal ? S - o->num_input_ids : 0;
        for (int s = 0; s < S; s++) {
            const bool real = s >= left && s - left < o->num_input_ids;
            ids[(size_t)b * S + s] = real ? o->input_ids[s - left] : m->s2s.info.pad_id;
            mask[(size_t)b * S + s] = real;
        }
    }
    stop_check stop = {m, opts};
    const generate_opts g = {.num_beams = opts->num_beams, .max_new_tokens = opts->max_new_tokens,
                             .length_penalty = opts->length_penalty,
                             .early_stopping = !opts->no_early_stopping, .temperature = opts->temperature,
                             .step_scores = opts->step_scores, .stop = opts->num_stop ? holds_stop_string : NULL,
                             .stop_ctx = &stop};
    elang_status st;
    if (pick && !pick->ids) {
        st = decision_batch(m, pick, order, B, S, ids, mask, c.logits, err); /* B · V floats have room */
    } else if (pick) {
        const int V = m->s2s.info.vocab_size;
        st = first_step_logits(&m->s2s, &m->run, ids, mask, B, S, c.logits, err);
        for (int b = 0; b < B && st == ELANG_OK; b++)
            for (int j = 0; j < pick->k; j++)
                pick->picked[order[b] * pick->k + j] = c.logits[(size_t)b * V + pick->ids[j]];
    } else {
        st = generate(&m->s2s, &m->run, ids, mask, B, S, &g, gen, err);
        for (int b = 0; b < B && st == ELANG_OK; b++) st = take_result(m, &gen[b], &out[order[b]], err);
    }
    for (int b = 0; b < B; b++) generated_seq_free(&gen[b]);
    return st;
}

/* A decoder-only model's prompt of no token (an empty text, without a bos
 * token added) becomes its bos token, as generate() starts from it when
 * given no input; a model without one cannot generate from nothing. Prompt
 * and new tokens must fit the positions (tokenize_all truncates prompts
 * so that they do). */
static elang_status causal_prompt(const elang_model *m, token_seq *seq, int max_new_tokens, elang_error *err) {
    const int bos = m->cfg.lm.bos_token_id;
    if (seq->len == 0 && bos < 0)
        return elang_fail(err, ELANG_ERR_INPUT, "the prompt is empty and %s has no bos_token_id to start from",
                          m->dir);
    if (seq->len == 0) {
        int32_t *ids = realloc(seq->ids, sizeof *ids);
        if (!ids) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
        ids[0] = bos;
        seq->ids = ids;
        seq->len = 1;
    }
    const int limit = m->s2s.info.max_total_len;
    if (seq->len + max_new_tokens > limit)
        return elang_fail(err, ELANG_ERR_INPUT, "a prompt of %d tokens and %d new ones exceed the %d positions of %s "
                          "(a smaller max length or max_new_tokens fits)", seq->len, max_new_tokens, limit, m->dir);
    return ELANG_OK;
}

static elang_status tokenize_all(elang_model *m, const elang_text *in, size_t n, const elang_gen_opts *o,
                                 elang_gen_out *out, elang_error *err) {
    for (size_t i = 0; i < n; i++) {
        elang_status st = ELANG_OK;
        if (!in[i].text)
            st = elang_fail(err, ELANG_ERR_INVALID_ARG, "input %zu has no text", i);
        token_seq seq = {0};
        /* A decoder-only model's prompt is truncated to leave room for the
         * tokens to generate within its positions. */
        const int room = m->s2s.info.max_total_len - o->max_new_tokens;
        const int max_length = m->is_causal && room < m->max_length ? room : m->max_length;
        if (st == ELANG_OK) st = model_encode_max(m, in[i].text, in[i].text_pair, max_length, &seq, err);
        if (st == ELANG_OK && m->is_causal) st = causal_prompt(m, &seq, o->max_new_tokens, err);
        if (st != ELANG_OK) {
            token_seq_free(&seq);
            return elang_error_item(err, st, (long)i);
        }
        free(seq.type_ids);
        out[i].input_ids = seq.ids;
        out[i].num_input_ids = seq.len;
    }
    return ELANG_OK;
}

static elang_status generate_or_pick(elang_model *m, const elang_text *in, size_t n, const elang_gen_opts *opts,
                                     elang_gen_out *out, const before_decoding *pick, elang_error *err) {
    const elang_gen_opts o = with_defaults(opts);
    if (!m) return elang_fail(err, ELANG_ERR_INVALID_ARG, "elang_generate needs a model");
    if (!m->is_seq2seq)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "a %s model classifies; it does not generate",
                          m->cfg.model_type);
    elang_status st = check_opts(m, &o, err);
    if (st != ELANG_OK) return st;
    if ((st = outputs_clear(out, n, sizeof *out, in, err)) != ELANG_OK || n == 0) return st;
    size_t *order = malloc(sizeof *order * n);
    if (!order) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for %zu inputs", n);
    const int threads = threads_enter(m->threads);
    const double t0 = clock_seconds();
    st = tokenize_all(m, in, n, &o, out, err);
    if (st == ELANG_OK) {
        for (size_t i = 0; i < n; i++) order[i] = i;
        qsort_r(order, n, sizeof *order, by_length_desc, out);
        for (size_t start = 0; start < n && st == ELANG_OK; start += (size_t)o.batch_size) {
            const int B = (int)(n - start < (size_t)o.batch_size ? n - start : (size_t)o.batch_size);
            model_batch_threads(m);
            st = run_batch(m, &o, out, order + start, B, pick, err);
        }
    }
    m->seconds += clock_seconds() - t0;
    threads_leave(threads);
    free(order);
    if (st != ELANG_OK) elang_gen_out_free(out, n);
    return st;
}

elang_status elang_generate(elang_model *m, const elang_text *in, size_t n, const elang_gen_opts *opts,
                            elang_gen_out *out, elang_error *err) {
    return generate_or_pick(m, in, n, opts, out, NULL, err);
}

elang_status model_label_word_logits(elang_model *m, const elang_text *in, size_t n, const int32_t *word_ids,
                                     int k, int batch_size, elang_class_out *cls, elang_error *err) {
    elang_gen_out *out = calloc(n ? n : 1, sizeof *out);
    float *picked = malloc(sizeof(float) * (n ? n : 1) * (size_t)k);
    if (!out || !picked) {
        free(out), free(picked);
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for %zu inputs", n);
    }
    elang_gen_opts o = elang_gen_opts_default();
    o.batch_size = batch_size;
    o.max_new_tokens = 1; /* the first step alone */
    const before_decoding words = {.ids = word_ids, .k = k, .picked = picked};
    elang_status st = generate_or_pick(m, in, n, &o, out, &words, err);
    const bool generated = st == ELANG_OK; /* a failed generate_or_pick has freed its outputs */
    for (size_t i = 0; st == ELANG_OK && i < n; i++) {
        if (!(cls[i].logits = malloc(sizeof(float) * (size_t)k * 2))) {
            st = elang_fail(err, ELANG_ERR_NOMEM, "out of memory for outputs");
            break;
        }
        cls[i].probs = cls[i].logits + k;
        memcpy(cls[i].logits, picked + i * (size_t)k, sizeof(float) * (size_t)k);
        /* The ids the model read become the answer's. */
        cls[i].input_ids = out[i].input_ids, out[i].input_ids = NULL;
        cls[i].num_tokens = out[i].num_input_ids;
    }
    if (generated) elang_gen_out_free(out, n);
    free(out), free(picked);
    return st;
}

elang_status model_decision_scores(elang_model *m, elang_decision pass, const elang_text *in, size_t n,
                                   int batch_size, double temperature, const int *head_outputs,
                                   int num_head_outputs, float *scores, int *input_tokens, elang_error *err) {
    if (pass == ELANG_DECIDE_BY_HEAD && !m->head)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "%s has no encoder head (%s and %s)", m->dir,
                          ENCODER_HEAD_JSON, ENCODER_HEAD_WEIGHTS);
    elang_gen_out *out = calloc(n ? n : 1, sizeof *out);
    if (!out) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for %zu inputs", n);
    elang_gen_opts o = elang_gen_opts_default();
    o.batch_size = batch_size;
    o.max_new_tokens = 2; /* the first step of a longer generation */
    const before_decoding decision = {.pass = pass, .scores = scores, .temperature = temperature,
                                      .head_outputs = head_outputs, .num_head_outputs = num_head_outputs};
    elang_status st = generate_or_pick(m, in, n, &o, out, &decision, err);
    for (size_t i = 0; st == ELANG_OK && i < n; i++) input_tokens[i] = out[i].num_input_ids;
    if (st == ELANG_OK) elang_gen_out_free(out, n);
    free(out);
    return st;
}

/* A decoder-only model's label word continues a prompt: its first token
 * is the one after those of "x" in "x" + " " + word (no space added when
 * the word starts with whitespace). */
static elang_status continuation_token(elang_model *m, const char *word, int32_t *id, elang_error *err) {
    const bool spaced = word[0] == ' ' || word[0] == '\t' || word[0] == '\n';
    char *text = malloc(strlen(word) + 3);
    if (!text) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
    sprintf(text, "x%s%s", spaced ? "" : " ", word);
    int32_t *stem = NULL, *ids = NULL;
    int ns = 0, n = 0;
    elang_status st = tokenizer_tokenize(m->tok, "x", &stem, &ns, err);
    if (st == ELANG_OK) st = tokenizer_tokenize(m->tok, text, &ids, &n, err);
    if (st == ELANG_OK && (n <= ns || memcmp(stem, ids, sizeof *ids * (size_t)ns) != 0))
        st = elang_fail(err, ELANG_ERR_INVALID_ARG, "label word \"%s\" does not start a token of its own after "
                        "other text", word);
    if (st == ELANG_OK) *id = ids[ns];
    free(text), free(stem), free(ids);
    return st;
}

elang_status model_first_token_id(elang_model *m, const char *word, int32_t *id, elang_error *err) {
    if (m->is_causal) return continuation_token(m, word, id, err);
    int32_t *ids = NULL;
    int len = 0;
    elang_status st = tokenizer_tokenize(m->tok, word, &ids, &len, err);
    if (st == ELANG_OK && len == 0)
        st = elang_fail(err, ELANG_ERR_INVALID_ARG, "label word \"%s\" has no tokens", word);
    if (st == ELANG_OK) *id = ids[0];
    free(ids);
    return st;
}

elang_status label_words_check(const char *const *words, int k, elang_error *err) {
    if (k == 1 || k < 0 || (k > 0 && !words))
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "label words: give at least two, got %d", k);
    for (int j = 0; j < k; j++)
        if (!words[j] || !words[j][0])
            return elang_fail(err, ELANG_ERR_INVALID_ARG, "label word %d is %s", j + 1, words[j] ? "empty" : "NULL");
    return ELANG_OK;
}

elang_status model_label_word_ids(elang_model *m, const char *const *words, int k, int32_t *ids, elang_error *err) {
    elang_status st = label_words_check(words, k, err);
    for (int j = 0; st == ELANG_OK && j < k; j++)
        if ((st = model_first_token_id(m, words[j], &ids[j], err)) != ELANG_OK)
            elang_error_prefix(err, st, "label word %d: ", j + 1);
    for (int j = 0; st == ELANG_OK && j < k; j++)
        for (int i = 0; st == ELANG_OK && i < j; i++)
            if (ids[i] == ids[j])
                st = elang_fail(err, ELANG_ERR_INVALID_ARG, "label words \"%s\" and \"%s\" start with the same token "
                                "in %s, so they cannot compete", words[i], words[j], m->dir);
    return st;
}
