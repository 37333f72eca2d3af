/* Encoder-decoder models (T5, Marian) behind one small interface, so that
 * one generation loop (src/models/generate.c) drives every family:
 *
 *   encode:  source ids → encoder states, once per input;
 *   start:   fill the cross-attention cache from those states, once;
 *   step:    one new token per decoder row → logits over the vocabulary,
 *            appending that token's keys and values to the self-attention
 *            cache;
 *   reorder: beam search keeps some rows and drops others; the cache follows.
 *
 * Shapes: B = inputs, R = decoder rows (B × beams; rows of one input are
 * consecutive), S = source length, T = decoder steps so far, D = d_model,
 * A = attention width (heads × head_dim; T5 lets it differ from D), V = vocab. */
#ifndef ELANG_MODELS_SEQ2SEQ_H
#define ELANG_MODELS_SEQ2SEQ_H

#include <stdbool.h>
#include <stdint.h>

#include "elang.h"

/* Keys and values a decoder has computed so far. Owned by the caller of
 * the interface, sized by seq2seq_cache_init from the model's dimensions. */
typedef struct {
    int layers;       /* decoder layers */
    int rows;         /* R */
    int width;        /* A */
    int max_steps;    /* capacity of the self-attention cache */
    int steps;        /* T: tokens already fed */
    int src_len;      /* S */
    float *self_k, *self_v;   /* [layers, R, max_steps, A] */
    float *cross_k, *cross_v; /* [layers, R, S, A]: each row has its input's copy, so
                                 beams never need to share or move it */
    int32_t *src_mask;        /* [R, S]: 1 for real source tokens */
} seq2seq_cache;

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

typedef struct seq2seq_ops seq2seq_ops;

typedef struct {
    const seq2seq_ops *ops;
    void *net;             /* the family's weights (t5_model, marian_model) */
    seq2seq_info info;
    int cache_layers, cache_width;
} seq2seq_model;

struct seq2seq_ops {
    /* enc_out[B, S, D] from ids[B, S] with mask[B, S] (1 = real token). */
    elang_status (*encode)(const void *net, const int32_t *ids, const int32_t *mask, int B, int S,
                           float *enc_out, elang_error *err);
    /* Cross-attention keys/values of every row from enc_out[B, S, D], where
     * row r belongs to input r / (R / B). Sets cache->steps = 0. */
    elang_status (*start)(const void *net, const float *enc_out, int B, seq2seq_cache *cache,
                          elang_error *err);
    /* logits[R, V] for tokens[R], the decoder input at position cache->steps;
     * increments cache->steps. */
    elang_status (*step)(const void *net, seq2seq_cache *cache, const int32_t *tokens, float *logits,
                         elang_error *err);
    void (*free)(void *net);
};

/* Allocates a cache for R rows and up to max_steps decoder inputs. */
elang_status seq2seq_cache_init(seq2seq_cache *c, const seq2seq_model *m, int rows, int src_len,
                                const int32_t *src_mask_per_input, int inputs, int max_steps,
                                elang_error *err);
void seq2seq_cache_free(seq2seq_cache *c);
/* Row r of the cache becomes old row from[r] (beam search); cross caches
 * need no move as every row of an input holds the same copy. */
elang_status seq2seq_cache_reorder(seq2seq_cache *c, const int *from, elang_error *err);

#endif
