/* The one generation loop for every text generator, encoder-decoder or
 * decoder-only: batched greedy search and beam search with transformers'
 * semantics, over the seq2seq interface (a prefill, then one step per
 * token). Besides the tokens it keeps, per generated token, the
 * log-probability and the energy of the step's scores: the router needs them. */
#ifndef ELANG_MODELS_GENERATE_H
#define ELANG_MODELS_GENERATE_H

#include <stdbool.h>
#include <stdint.h>

#include "models/seq2seq.h"
#include "util/arena.h"

typedef struct {
    int num_beams;         /* 1 = greedy */
    int max_new_tokens;    /* tokens generated after the decoder start token */
    double length_penalty; /* beam score = sum logprobs / length^length_penalty */
    bool early_stopping;   /* stop an input once num_beams hypotheses are done */
    double temperature;    /* T of the per-step energies (not of decoding) */
    /* Also every routing score (ELANG_DIST_SCORES numbers, core/scores.h) of
     * each generated token's processed scores, carried along each beam like
     * the energies. */
    bool step_scores;
    /* Greedy search: asked after every step whether input b's generated
     * tokens[0..n) end its generation (their text holds a stop string, as
     * transformers' StopStringCriteria asks); the row then stops with them.
     * NULL: only the end-of-sequence tokens stop. */
    bool (*stop)(void *ctx, int b, const int32_t *tokens, int n);
    void *stop_ctx;
} generate_opts;

typedef struct {
    int32_t *ids;      /* [len]: the decoder start token (encoder-decoders only), the generated
                          tokens, the end-of-sequence token if reached */
    int len;
    int steps;         /* generated tokens (len - 1 for an encoder-decoder, len for a decoder-only) */
    float *logprobs;   /* [steps]: log-probability of each generated token */
    float *energies;   /* [steps]: -T log sum exp(scores / T) of its step */
    double score;      /* greedy: sum of logprobs; beam: the length-penalised beam score */
    float *step_scores; /* [steps][ELANG_DIST_SCORES], when asked for */
} generated_seq;

/* Generates for B inputs src_ids[B, S] (mask 1 = real token). The scores
 * a step picks from are the raw logits after the model's processors
 * (banned token to -inf, forced </s> at the last step), as transformers'
 * greedy search returns them; beam search ranks log-softmax of those plus
 * the beam's score. The run state is carved from `a` (the model's arena);
 * only the outputs are allocated. Fills out[B]; free each with
 * generated_seq_free. */
elang_status generate(const seq2seq_model *m, arena *a, const int32_t *src_ids, const int32_t *src_mask, int B,
                      int S, const generate_opts *opts, generated_seq *out, elang_error *err);
void generated_seq_free(generated_seq *s);

/* Raw logits[B, V] of the first decoding step (the decoder start token fed,
 * or a decoder-only model's prompt read), for deciding among label words
 * before decoding, or routing on the prompt alone. */
elang_status first_step_logits(const seq2seq_model *m, arena *a, const int32_t *src_ids, const int32_t *src_mask,
                               int B, int S, float *logits, elang_error *err);

/* Every routing score (ELANG_DIST_SCORES numbers, core/scores.h) of the
 * first step's processed scores, at temperature T, for B inputs:
 * scores[B, ELANG_DIST_SCORES]. These are the first generated token's
 * step scores of a generation of two tokens or more (whose first step no
 * forced </s> ends), taken without decoding. */
elang_status first_step_scores(const seq2seq_model *m, arena *a, const int32_t *src_ids, const int32_t *src_mask,
                               int B, int S, double temperature, float *scores, elang_error *err);

/* Energies of a given target (teacher forcing) for one input src_ids[S]:
 * feeds ids[0..len) and reports for every position -T log sum exp(raw
 * logits / T), before any processor. energies: [len]. The prefill stands
 * for ids[0], which must be an encoder-decoder's start token (a
 * decoder-only model's is not read: energies[0] is that of the prompt's
 * last position). */
elang_status teacher_forced_energies(const seq2seq_model *m, arena *a, const int32_t *src_ids,
                                     const int32_t *src_mask, int S, const int32_t *ids, int len,
                                     double temperature, float *energies, elang_error *err);

#endif
