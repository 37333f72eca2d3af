/* The transformer layer, written once for every model elang runs: BERT,
 * DistilBERT and RoBERTa encoders, T5's and Marian's encoder and decoder
 * stacks, and the decoder-only stacks of GPT-2, Llama and Qwen2. An encoder
 * layer runs over a padded batch; a decoder layer appends new tokens to a
 * key/value cache, one per row at each generation step, or a whole prompt
 * per row at once (a decoder-only model's prefill).
 *
 * The families differ in where the norm sits (BERT and Marian normalise
 * after the residual add with a LayerNorm; T5, GPT-2 and Llama before each
 * block, T5 and Llama with an RMS norm), in biases (T5 and Llama have none,
 * Qwen2 only on q, k and v), in the attention scale (T5 folds 1/sqrt(d)
 * into its initialisation), in the activation, in gated feed-forwards (T5
 * v1.1, Llama's SwiGLU), in positions (T5's relative bias, rotary
 * embeddings of q and k for Llama and Qwen2) and in grouped-query attention
 * (fewer key/value heads than query heads). All of that is data here, so
 * all run the same code.
 *
 * Shapes: D = d_model, A = heads × head_dim (T5 and Llama let it differ
 * from D), K = kv_heads × head_dim (= A without grouped-query attention),
 * F = feed-forward width, N = B×S encoder tokens, R = decoder rows, n = new
 * tokens per row. Weight pointers borrow from the weight store. */
#ifndef ELANG_MODELS_TRANSFORMER_H
#define ELANG_MODELS_TRANSFORMER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/matmul.h"
#include "core/ops.h"
#include "core/rope.h"
#include "models/loader.h"
#include "util/arena.h"

typedef struct {
    linear q;         /* [A, D] as loaded */
    linear k, v;      /* [K, D] each */
    linear o;         /* [D, A] */
    /* What runs: q, k and v as one product [A + 2K, D] (self-attention), and
     * k and v as one [2K, D] (cross-attention, over the encoder's states). */
    linear qkv, kv;
    norm_params norm; /* before (pre-norm) or after (post-norm) the block */
} attention_block;

typedef struct {
    linear in;        /* [F, D]: BERT intermediate.dense, T5 wi (gated: wi_0), Marian fc1, GPT-2 c_fc,
                         Llama gate_proj */
    linear gate;      /* [F, D]: gated T5's wi_1, Llama's up_proj, multiplying act(in x); gate.w NULL
                         when not gated */
    linear out;       /* [D, F]: BERT output.dense, T5 wo, Marian fc2, GPT-2 c_proj, Llama down_proj */
    norm_params norm;
} ff_block;

typedef struct {
    attention_block self_attn;
    attention_block cross_attn; /* decoder layers of encoder-decoders only (unprepared elsewhere) */
    ff_block ff;
} transformer_layer;

/* One stack's sizes and conventions. */
typedef struct {
    int d_model, heads, head_dim, d_ff; /* D, heads, A / heads, F */
    int kv_heads;   /* K / head_dim: key/value heads, each serving heads / kv_heads query heads; 0 = heads */
    float scale;    /* on q·k: 1 for T5, head_dim^-0.5 for the others */
    bool pre_norm;  /* T5, GPT-2, Llama: x += f(norm(x)); BERT, Marian: x = norm(x + f(x)) */
    double eps;     /* of every norm in the stack */
    activation act; /* of the feed-forward */
    const rope_table *rope; /* rotary positions of q and k (Llama, Qwen2), or NULL */
} transformer_dims;

/* K, the width of a layer's keys and of its values. */
int transformer_kv_width(const transformer_dims *d);

/* Buffers for one pass over up to `rows` rows, carved from an arena
 * (util/arena.h), never allocated per call; and the matrix products'
 * context of the model. */
typedef struct {
    matmul_ctx *mm;
    float *h;         /* [rows, D] a pre-norm block's normalised input */
    float *qkv;       /* [rows, A + 2K] the fused projections (cross-attention: q, or k and v) */
    float *ctx;       /* [rows, A] attention output before its projection */
    float *ff, *gate; /* [rows, F] */
    float *scores;    /* [batch, heads, q_len, kv_len] of the largest attention */
} transformer_scratch;

/* score_floats: the most batch · heads · q_len · kv_len any attention of
 * the pass takes. */
void transformer_scratch_carve(arena *a, matmul_ctx *mm, const transformer_dims *d, long rows, long score_floats,
                               transformer_scratch *s);

/* The decoder's key/value cache, one per generation, carved with it. An
 * encoder-decoder's has the source (S > 0); a decoder-only model's has
 * none, and instead masks its own padding: its prompts are padded to one
 * length, and a pad's slot must never be attended to. */
typedef struct {
    int layers, rows, width;  /* decoder layers, R, K */
    int max_steps;            /* capacity of the self-attention cache (decoder-only: prompt + new tokens) */
    int steps;                /* tokens already fed */
    int src_len;              /* S; 0 for a decoder-only model */
    float *self_k, *self_v;   /* [layers, R, max_steps, K] */
    float *cross_k, *cross_v; /* [layers, R, S, K]: each row has its input's copy, so
                                 beams never need to share or move it */
    int32_t *src_mask;        /* [R, S]: 1 for real source tokens */
    int32_t *self_mask;       /* [R, max_steps] decoder-only: 1 where a real token sits; else NULL */
    int32_t *seen;            /* [R] decoder-only: real tokens fed so far (the next one's position) */
    float *reorder;           /* [R, max_steps, K]: scratch of kv_cache_reorder */
} kv_cache;

/* src_len 0: a decoder-only model's cache, with self_mask and seen. */
void kv_cache_carve(arena *a, int layers, int rows, int width, int src_len, int max_steps, kv_cache *c);
/* Row r of the cache becomes old row from[r] (beam search, within an
 * input); the cross caches need no move, as every row of an input holds
 * the same copy, and neither do self_mask and seen, the same for every row
 * of an input. */
void kv_cache_reorder(kv_cache *c, const int *from);
/* A cache filled for `inputs` rows (c->rows == inputs, its blocks laid out
 * for that many) becomes one of inputs × per_input rows, each input's row
 * copied to its per_input consecutive rows, as beam search starts from a
 * decoder-only model's prompts. The carved capacity must hold them. */
void kv_cache_expand(kv_cache *c, int per_input);
/* pos[R, n]: the positions of the next n tokens of each row, mask[R, n]
 * saying which are real (NULL: all): the number of real tokens before each
 * in its row, as transformers' generate() numbers them
 * (attention_mask.cumsum(-1) - 1); a pad's position is 0 (never seen). */
void kv_cache_positions(const kv_cache *c, const int32_t *mask, int n, int32_t *pos);

/* ------------------------------------------------------------- loading */

/* `name`.weight, and `name`.bias when `bias` (name printf-formatted). */
void transformer_take_norm(tensor_loader *L, int D, bool bias, norm_params *n, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* prefix + proj[i] + ".weight" (and ".bias": q, k and v when qkv_bias, o
 * when o_bias) for proj = {q, k, v, o}; k and v [K, D]. */
void transformer_take_attention(tensor_loader *L, const transformer_dims *d, bool qkv_bias, bool o_bias,
                                const char *prefix, const char *const proj[4], attention_block *a);
/* in / gate / out are full names without ".weight"; gate NULL when not gated. */
void transformer_take_ff(tensor_loader *L, const transformer_dims *d, bool bias, const char *in,
                         const char *gate, const char *out, ff_block *f);

/* Fuses and prepares every product of `count` layers for dtype: q, k and v
 * into qkv, the cross-attention's k and v into kv (decoder layers of
 * encoder-decoders, `decoder`), the
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

/* x[R·n, D] (row r's tokens at r·n..) := the decoder layers applied to n
 * new tokens per row at slots c->steps.. of the cache, whose keys and
 * values join it; each attends to the cache and to itself and the new
 * tokens before it. Then advances c->steps by n. mask[R, n] says which new
 * tokens are real in a decoder-only cache (NULL: all); pos[R, n] are their
 * positions (kv_cache_positions) for the rotary embeddings, NULL when the
 * stack has none. bias: [heads, 1, steps + 1] for a one-token
 * self-attention (T5), or NULL. Layers with a cross-attention attend to
 * the source too. A full cache, or one sized for another model, is
 * ELANG_ERR_INVALID_ARG. The scratch holds R·n rows and
 * R·heads·n·max(S, steps + n) scores; failures of the products come from
 * matmul_status. */
elang_status transformer_decoder_step(const transformer_dims *d, const transformer_layer *layers, int count,
                                      float *x, int n, const int32_t *mask, const int32_t *pos, kv_cache *c,
                                      const float *bias, transformer_scratch *s, elang_error *err);

#endif
