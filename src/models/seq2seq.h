/* Text generators behind one small interface, so that one generation loop
 * (src/models/generate.c) drives every family: the encoder-decoders (T5,
 * Marian), whose source is encoded and attended to, and the decoder-only
 * language models (GPT-2, Llama, Qwen2: src/models/causal.c), whose
 * "source" is the prompt, run through the decoder itself.
 *
 *   carve:   the run state of a batch (below) from an arena, once;
 *   prefill: the sources → logits of the first token to generate: an
 *            encoder-decoder encodes them (encode), fills the
 *            cross-attention cache (start) and feeds the decoder start
 *            token; a decoder-only model runs the prompts through its
 *            layers into the self-attention cache;
 *   step:    one new token per decoder row → logits over the vocabulary,
 *            appending that token's keys and values to the self-attention
 *            cache.
 * Beam search reorders rows between steps with kv_cache_reorder.
 *
 * Shapes: B = inputs, R = decoder rows (B × beams; rows of one input are
 * consecutive), S = source (prompt) length, D = d_model, V = vocab. */
#ifndef ELANG_MODELS_SEQ2SEQ_H
#define ELANG_MODELS_SEQ2SEQ_H

#include <stdbool.h>
#include <stdint.h>

#include "elang.h"
#include "models/transformer.h"
#include "util/arena.h"

/* The most end-of-sequence tokens a model stops at. */
#define SEQ2SEQ_MAX_EOS 8

/* What the generation loop must know of a model. */
typedef struct {
    int vocab_size;        /* V: logits per step */
    int d_model;           /* D */
    /* The first decoder input (T5: pad 0; Marian: pad); -1 for a
     * decoder-only model, which continues its prompt: its outputs are the
     * generated tokens alone. */
    int decoder_start_id;
    int eos_ids[SEQ2SEQ_MAX_EOS]; /* generation ends at any of these */
    int n_eos;
    int pad_id;            /* what pads a batch's sources (decoder-only: on the left; masked out) */
    /* Marian's config bans <pad> from generation (bad_words_ids) and forces
     * </s> at the last allowed step (forced_eos_token_id); -1 when absent. */
    int banned_id;
    int forced_eos_id;
    int max_source_len;    /* longest source the model takes; 0 = unbounded (T5) */
    int max_target_len;    /* most decoder inputs, the start token included; 0 = unbounded */
    int max_total_len;     /* decoder-only: prompt plus generated tokens (its positions); else 0 */
} seq2seq_info;

static inline bool seq2seq_is_eos(const seq2seq_info *info, int token) {
    for (int i = 0; i < info->n_eos; i++)
        if (info->eos_ids[i] == token) return true;
    return false;
}

/* Everything a batch needs from encoding to its last step, carved at once.
 * The first four fields are the batch's dimensions, set before carving:
 * max_steps counts the tokens to generate (an encoder-decoder's decoder
 * inputs; a decoder-only model's cache holds S more, its prompt). */
typedef struct {
    int B, R, S, max_steps;
    float *enc_out;             /* [B, S, D] (encoder-decoders) */
    float *x;                   /* [R, D]: the decoder rows' states during a step (decoder-only:
                                   [max(R, B·S), D], the prompts' during the prefill) */
    kv_cache cache;
    transformer_scratch enc;    /* B·S rows, S keys */
    transformer_scratch dec;    /* max(R, B·S) rows, max(S, max_steps) keys */
    float *enc_bias, *dec_bias; /* T5's position biases [H, S, S] and [H, max_steps]; else NULL */
    int32_t *pos;               /* decoder-only: [max(R, B·S)] positions of the tokens fed */
    int32_t *start_tokens;      /* encoder-decoders: [R] the decoder start token, fed by the prefill */
    float *last;                /* decoder-only: [B, D] each prompt's last state, for its logits */
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
    /* Encoder-decoders only (NULL for decoder-only models):
     * run->enc_out[B, S, D] from ids[B, S] with mask[B, S] (1 = real token). */
    elang_status (*encode)(const void *net, seq2seq_run *run, const int32_t *ids, const int32_t *mask,
                           elang_error *err);
    /* Encoder-decoders only: cross-attention keys/values of every row from
     * run->enc_out, where row r belongs to input r / (R / B). Sets the
     * cache's steps to 0. */
    elang_status (*start)(const void *net, seq2seq_run *run, elang_error *err);
    /* logits[R, V] of the first token to generate for ids[B, S] (mask[B, S],
     * 1 = real token; a decoder-only model's prompts are left-padded), each
     * input's row(s) R / B alike; the cache then holds what the later steps
     * attend to. Encoder-decoders: seq2seq_prefill_encoded. */
    elang_status (*prefill)(const void *net, seq2seq_run *run, const int32_t *ids, const int32_t *mask,
                            float *logits, elang_error *err);
    /* logits[R, V] for tokens[R], the decoder input at position
     * run->cache.steps; increments it. */
    elang_status (*step)(const void *net, seq2seq_run *run, const int32_t *tokens, float *logits,
                         elang_error *err);
    void (*free)(void *net);
};

/* An encoder-decoder's prefill: ops->encode, ops->start, and ops->step
 * feeding every row the decoder start token start_id. */
elang_status seq2seq_prefill_encoded(const seq2seq_ops *ops, const void *net, int start_id, seq2seq_run *run,
                                     const int32_t *ids, const int32_t *mask, float *logits, elang_error *err);

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
 * increasing order) as rows 0..n-1, cache and source mask (decoder-only:
 * its own mask and counts) with them, so that every later step computes
 * only those. */
void seq2seq_run_keep(seq2seq_run *run, const int *keep, int n);

#endif
