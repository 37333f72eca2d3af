/* Encoder-decoder models (T5, Marian) behind one small interface, so that
 * one generation loop (src/models/generate.c) drives every family:
 *
 *   carve:   the run state of a batch (below) from an arena, once;
 *   encode:  source ids → encoder states, once per input;
 *   start:   fill the cross-attention cache from those states, once;
 *   step:    one new token per decoder row → logits over the vocabulary,
 *            appending that token's keys and values to the self-attention
 *            cache.
 * Beam search reorders rows between steps with kv_cache_reorder.
 *
 * Shapes: B = inputs, R = decoder rows (B × beams; rows of one input are
 * consecutive), S = source length, D = d_model, V = vocab. */
#ifndef ELANG_MODELS_SEQ2SEQ_H
#define ELANG_MODELS_SEQ2SEQ_H

#include <stdbool.h>
#include <stdint.h>

#include "elang.h"
#include "models/transformer.h"
#include "util/arena.h"

/* What the generation loop must know of a model. */
typedef struct {
    int vocab_size;        /* V: logits per step */
    int d_model;           /* D */
    int decoder_start_id;  /* the first decoder input (T5: pad 0; Marian: pad) */
    int eos_id;
    int pad_id;
    /* Marian's config bans <pad> from generation (bad_words_ids) and forces
     * </s> at the last allowed step (forced_eos_token_id); -1 when absent. */
    int banned_id;
    int forced_eos_id;
    int max_source_len;    /* longest source the model takes; 0 = unbounded (T5) */
    int max_target_len;    /* most decoder inputs, the start token included; 0 = unbounded */
} seq2seq_info;

/* Everything a batch needs from encoding to its last step, carved at once.
 * The first four fields are the batch's dimensions, set before carving. */
typedef struct {
    int B, R, S, max_steps;
    float *enc_out;             /* [B, S, D] */
    float *x;                   /* [R, D]: the decoder rows' states during a step */
    kv_cache cache;
    transformer_scratch enc;    /* B·S rows, S keys */
    transformer_scratch dec;    /* max(R, B·S) rows, max(S, max_steps) keys */
    float *enc_bias, *dec_bias; /* T5's position biases [H, S, S] and [H, max_steps]; else NULL */
} seq2seq_run;

typedef struct seq2seq_ops seq2seq_ops;

typedef struct {
    const seq2seq_ops *ops;
    void *net;             /* the family's weights (t5_model, marian_model) */
    seq2seq_info info;
} seq2seq_model;

struct seq2seq_ops {
    /* Carves run's buffers for its B, R, S and max_steps. */
    void (*carve)(const void *net, arena *a, seq2seq_run *run);
    /* run->enc_out[B, S, D] from ids[B, S] with mask[B, S] (1 = real token). */
    elang_status (*encode)(const void *net, seq2seq_run *run, const int32_t *ids, const int32_t *mask,
                           elang_error *err);
    /* Cross-attention keys/values of every row from run->enc_out, where row r
     * belongs to input r / (R / B). Sets the cache's steps to 0. */
    elang_status (*start)(const void *net, seq2seq_run *run, elang_error *err);
    /* logits[R, V] for tokens[R], the decoder input at position
     * run->cache.steps; increments it. */
    elang_status (*step)(const void *net, seq2seq_run *run, const int32_t *tokens, float *logits,
                         elang_error *err);
    void (*free)(void *net);
};

/* Sets run's dimensions and carves it: the shared part (encoder output,
 * cache, scratch) for decoder stacks of `layers` layers of width `width`;
 * families add their own buffers after. */
void seq2seq_run_carve_common(arena *a, matmul_ctx *mm, const transformer_dims *enc, const transformer_dims *dec,
                              int layers, seq2seq_run *run);

/* The dtype a model's output layer computes in: INT8 models keep it in
 * BF16, since the whole vocabulary's logits feed the energy and the search
 * and BF16 keeps their ranking where INT8 blurs it. */
elang_dtype seq2seq_head_dtype(elang_dtype dtype);

/* Carves and commits a run for B inputs with per_input rows each, S source
 * tokens and up to max_steps decoder inputs, and copies src_mask[B, S]
 * into the cache's rows. The run lives in `a` until its next commit. */
elang_status seq2seq_run_alloc(const seq2seq_model *m, arena *a, int B, int per_input, int S, int max_steps,
                               const int32_t *src_mask, seq2seq_run *run, elang_error *err);
/* The second half of seq2seq_run_alloc, for callers that carve more: once
 * committed, copies src_mask[B, S] into the cache's rows. */
void seq2seq_run_set_mask(seq2seq_run *run, const int32_t *src_mask);

/* Retires the rows whose decoding is over: keeps rows keep[0..n) (in
 * increasing order) as rows 0..n-1, cache and source mask with them, so
 * that every later step computes only those. */
void seq2seq_run_keep(seq2seq_run *run, const int *keep, int n);

#endif
