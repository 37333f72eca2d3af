/* The one generation loop for every encoder-decoder: batched greedy search
 * and beam search with transformers 4.25's semantics, over the seq2seq
 * interface. Besides the tokens it keeps, per generated token, the
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
} generate_opts;

typedef struct {
    int32_t *ids;      /* [len]: the decoder start token, the generated tokens, </s> if reached */
    int len;
    float *logprobs;   /* [len - 1]: log-probability of each generated token */
    float *energies;   /* [len - 1]: -T log sum exp(scores / T) of its step */
    double score;      /* greedy: sum of logprobs; beam: the length-penalised beam score */
    float *step_scores; /* [len - 1][ELANG_DIST_SCORES], when asked for */
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

/* Raw logits[B, V] of the first decoding step (the decoder start token fed),
 * for deciding among label words before decoding. */
elang_status first_step_logits(const seq2seq_model *m, arena *a, const int32_t *src_ids, const int32_t *src_mask,
                               int B, int S, float *logits, elang_error *err);

/* Energies of a given target (teacher forcing) for one input src_ids[S]:
 * feeds ids[0..len) and reports for every position -T log sum exp(raw
 * logits / T), before any processor. energies: [len]. */
elang_status teacher_forced_energies(const seq2seq_model *m, arena *a, const int32_t *src_ids,
                                     const int32_t *src_mask, int S, const int32_t *ids, int len,
                                     double temperature, float *energies, elang_error *err);

#endif
