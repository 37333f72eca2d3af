/* The transformer layer, written once for every model elang runs: BERT,
 * DistilBERT and RoBERTa encoders, and T5's and Marian's encoder and decoder
 * stacks. An encoder layer runs over a padded batch; a decoder layer steps
 * one token per row over a key/value cache.
 *
 * The families differ in where the norm sits (BERT and Marian normalise
 * after the residual add with a LayerNorm; T5 before each block with an RMS
 * norm), in biases (T5 has none), in the attention scale (T5 folds
 * 1/sqrt(d) into its initialisation), in the activation and in T5 v1.1's
 * gated feed-forward. All of that is data here, so all run the same code.
 *
 * Shapes: D = d_model, A = heads × head_dim (T5 lets it differ from D),
 * F = feed-forward width, N = B×S encoder tokens, R = decoder rows. Weight
 * pointers borrow from the weight store. */
#ifndef ELANG_MODELS_TRANSFORMER_H
#define ELANG_MODELS_TRANSFORMER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/matmul.h"
#include "core/ops.h"
#include "models/loader.h"
#include "util/arena.h"

typedef struct {
    linear q, k, v;   /* [A, D] each, as loaded */
    linear o;         /* [D, A] */
    /* What runs: q, k and v as one product [3A, D] (self-attention), and k
     * and v as one [2A, D] (cross-attention, over the encoder's states). */
    linear qkv, kv;
    norm_params norm; /* before (pre-norm) or after (post-norm) the block */
} attention_block;

typedef struct {
    linear in;        /* [F, D]: BERT intermediate.dense, T5 wi (gated: wi_0), Marian fc1 */
    linear gate;      /* [F, D]: gated T5's wi_1, multiplying act(in x); gate.w NULL when not gated */
    linear out;       /* [D, F]: BERT output.dense, T5 wo, Marian fc2 */
    norm_params norm;
} ff_block;

typedef struct {
    attention_block self_attn;
    attention_block cross_attn; /* decoder layers of encoder-decoders only */
    ff_block ff;
} transformer_layer;

/* One stack's sizes and conventions. */
typedef struct {
    int d_model, heads, head_dim, d_ff; /* D, heads, A / heads, F */
    float scale;    /* on q·k: 1 for T5, head_dim^-0.5 for the others */
    bool pre_norm;  /* T5: x += f(norm(x)); BERT, Marian: x = norm(x + f(x)) */
    double eps;     /* of every norm in the stack */
    activation act; /* of the feed-forward */
} transformer_dims;

/* Buffers for one pass over up to `rows` rows, carved from an arena
 * (util/arena.h), never allocated per call; and the matrix products'
 * context of the model. */
typedef struct {
    matmul_ctx *mm;
    float *h;         /* [rows, D] a pre-norm block's normalised input */
    float *qkv;       /* [rows, 3A] the fused projections (cross-attention: q, or k and v) */
    float *ctx;       /* [rows, A] attention output before its projection */
    float *ff, *gate; /* [rows, F] */
    float *scores;    /* [batch, heads, q_len, kv_len] of the largest attention */
} transformer_scratch;

/* score_floats: the most batch · heads · q_len · kv_len any attention of
 * the pass takes. */
void transformer_scratch_carve(arena *a, matmul_ctx *mm, const transformer_dims *d, long rows, long score_floats,
                               transformer_scratch *s);

/* The decoder's key/value cache, one per generation, carved with it. */
typedef struct {
    int layers, rows, width;  /* decoder layers, R, A */
    int max_steps;            /* capacity of the self-attention cache */
    int steps;                /* tokens already fed */
    int src_len;              /* S */
    float *self_k, *self_v;   /* [layers, R, max_steps, A] */
    float *cross_k, *cross_v; /* [layers, R, S, A]: each row has its input's copy, so
                                 beams never need to share or move it */
    int32_t *src_mask;        /* [R, S]: 1 for real source tokens */
    float *reorder;           /* [R, max_steps, A]: scratch of kv_cache_reorder */
} kv_cache;

void kv_cache_carve(arena *a, int layers, int rows, int width, int src_len, int max_steps, kv_cache *c);
/* Row r of the cache becomes old row from[r] (beam search); the cross
 * caches need no move, as every row of an input holds the same copy. */
void kv_cache_reorder(kv_cache *c, const int *from);

/* ------------------------------------------------------------- loading */

/* `name`.weight, and `name`.bias when `bias` (name printf-formatted). */
void transformer_take_norm(tensor_loader *L, int D, bool bias, norm_params *n, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* prefix + proj[i] + ".weight" (and ".bias") for proj = {q, k, v, o}. */
void transformer_take_attention(tensor_loader *L, const transformer_dims *d, bool bias, const char *prefix,
                                const char *const proj[4], attention_block *a);
/* in / gate / out are full names without ".weight"; gate NULL when not gated. */
void transformer_take_ff(tensor_loader *L, const transformer_dims *d, bool bias, const char *in,
                         const char *gate, const char *out, ff_block *f);

/* Fuses and prepares every product of `count` layers for dtype: q, k and v
 * into qkv, the cross-attention's k and v into kv (decoder layers), the
 * output projections and the feed-forward. Each layer's loaded F32 weights
 * are then copies no longer read: they go back to ws (weight_store_drop)
 * layer by layer, so that a model holds its weights once, even while it
 * loads. */
elang_status transformer_prepare(matmul_ctx *mm, weight_store *ws, transformer_layer *layers, int count,
                                 bool decoder, elang_dtype dtype, elang_error *err);
void transformer_release(transformer_layer *layers, int count);

/* ------------------------------------------------------------- forward */

/* x[n, D] = scale · table[ids[i]] (table [V, D]); an id outside [0, V) is
 * ELANG_ERR_INVALID_ARG naming it. */
elang_status embedding_lookup(float *x, const float *table, int V, int D, const int32_t *ids, long n, float scale,
                              elang_error *err);

/* x[B·S, D] := the encoder layers applied to x. mask[B, S]: 1 = token;
 * bias: [heads, S, S] added to every layer's scores (T5), or NULL. The
 * scratch holds B·S rows and S keys. */
void transformer_encoder_forward(const transformer_dims *d, const transformer_layer *layers, int count,
                                 float *x, const int32_t *mask, const float *bias, int B, int S,
                                 transformer_scratch *s);

/* Fills the cache's cross-attention keys and values of every layer from
 * enc_out[B, S = c->src_len, D]; row r reads input r / (R / B). Sets
 * c->steps = 0. The scratch holds B·S rows. A cache sized for another
 * model is ELANG_ERR_INVALID_ARG. */
elang_status transformer_decoder_start(const transformer_dims *d, const transformer_layer *layers, int count,
                                       const float *enc_out, int B, kv_cache *c, transformer_scratch *s,
                                       elang_error *err);

/* x[R, D] := the decoder layers applied to one new token per row at
 * position c->steps, whose keys and values join the cache; then advances
 * c->steps. bias: [heads, 1, steps + 1] for the self-attention (T5), or
 * NULL. A full cache, or one sized for another model, is
 * ELANG_ERR_INVALID_ARG. The scratch holds R rows and max(S, max_steps) keys;
 * failures of the products come from matmul_status. */
elang_status transformer_decoder_step(const transformer_dims *d, const transformer_layer *layers, int count,
                                      float *x, kv_cache *c, const float *bias, transformer_scratch *s,
                                      elang_error *err);

#endif
