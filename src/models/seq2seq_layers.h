/* The transformer layers T5 and Marian share, written once: an encoder layer
 * over a padded batch, and a decoder layer stepping one token per row over
 * the key/value cache of seq2seq.h.
 *
 * The two families differ in where the norm sits (T5 normalises before each
 * block with an RMS norm; Marian, like BART, after the residual add with a
 * LayerNorm), in biases (T5 has none), in the attention scale (T5 folds
 * 1/sqrt(d) into its initialisation) and in T5's gated feed-forward. All of
 * that is data here, so both run the same code.
 *
 * Shapes: D = d_model, A = heads × head_dim, F = feed-forward width, N = B×S
 * encoder tokens, R = decoder rows. Weight pointers borrow from the store. */
#ifndef ELANG_MODELS_SEQ2SEQ_LAYERS_H
#define ELANG_MODELS_SEQ2SEQ_LAYERS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/ops.h"
#include "models/loader.h"
#include "models/seq2seq.h"

typedef struct {
    const float *gamma; /* [D] */
    const float *beta;  /* [D]; NULL selects T5's RMS norm (no mean, no bias) */
} seq2seq_norm;

typedef struct {
    const float *q_w, *k_w, *v_w; /* [A, D] */
    const float *q_b, *k_b, *v_b; /* [A], or NULL (T5) */
    const float *o_w;             /* [D, A] */
    const float *o_b;             /* [D], or NULL (T5) */
    seq2seq_norm norm;            /* before (T5) or after (Marian) the block */
} seq2seq_attention;

typedef struct {
    const float *in_w;   /* [F, D]: T5 wi (gated: wi_0), Marian fc1 */
    const float *in_b;   /* [F], or NULL (T5) */
    const float *gate_w; /* [F, D]: gated T5's wi_1, multiplying act(wi_0 x); else NULL */
    const float *out_w;  /* [D, F]: T5 wo, Marian fc2 */
    const float *out_b;  /* [D], or NULL (T5) */
    seq2seq_norm norm;
} seq2seq_ff;

typedef struct {
    seq2seq_attention self_attn;
    seq2seq_attention cross_attn; /* decoder layers only */
    seq2seq_ff ff;
} seq2seq_layer;

/* One stack's sizes and conventions. */
typedef struct {
    int d_model, heads, head_dim, d_ff; /* D, heads, A / heads, F */
    float scale;    /* on q·k: 1 for T5, head_dim^-0.5 for Marian */
    bool pre_norm;  /* T5: x += f(norm(x)); Marian: x = norm(x + f(x)) */
    double eps;     /* of every norm in the stack */
    activation act; /* of the feed-forward */
} seq2seq_dims;

/* ------------------------------------------------------------- loading */

/* `name`.weight, and `name`.bias when `bias`. */
void seq2seq_take_norm(tensor_loader *L, int D, bool bias, const char *name, seq2seq_norm *n);
/* prefix + proj[i] + ".weight" (and ".bias") for proj = {q, k, v, o}. */
void seq2seq_take_attention(tensor_loader *L, const seq2seq_dims *d, bool bias, const char *prefix,
                            const char *const proj[4], seq2seq_attention *a);
/* in / gate / out are full names without ".weight"; gate NULL when not gated. */
void seq2seq_take_ff(tensor_loader *L, const seq2seq_dims *d, bool bias, const char *in,
                     const char *gate, const char *out, seq2seq_ff *f);

/* ------------------------------------------------------------- forward */

/* x[n, D] = scale · table[ids[i]]; an id outside [0, V) is
 * ELANG_ERR_INVALID_ARG naming it. */
elang_status seq2seq_embed(float *x, const float *table, int V, int D, const int32_t *ids, long n,
                           float scale, elang_error *err);

/* x[B·S, D] := the encoder layers applied to x. mask[B, S]: 1 = token;
 * bias: [heads, S, S] added to every layer's scores (T5), or NULL. */
elang_status seq2seq_encoder_forward(const seq2seq_dims *d, const seq2seq_layer *layers, int count,
                                     float *x, const int32_t *mask, const float *bias, int B, int S,
                                     elang_error *err);

/* Fills the cache's cross-attention keys and values of every layer from
 * enc_out[B, S = c->src_len, D]; row r reads input r / (R / B). Sets
 * c->steps = 0. A cache sized for another model is ELANG_ERR_INVALID_ARG. */
elang_status seq2seq_decoder_start(const seq2seq_dims *d, const seq2seq_layer *layers, int count,
                                   const float *enc_out, int B, seq2seq_cache *c, elang_error *err);

/* x[R, D] := the decoder layers applied to one new token per row at
 * position c->steps, whose keys and values join the cache; then advances
 * c->steps. bias: [heads, 1, steps + 1] for the self-attention (T5), or
 * NULL. A full cache, or one sized for another model, is
 * ELANG_ERR_INVALID_ARG. */
elang_status seq2seq_decoder_step(const seq2seq_dims *d, const seq2seq_layer *layers, int count,
                                  float *x, seq2seq_cache *c, const float *bias, elang_error *err);

#endif
