/* Scaled dot-product attention over many heads: the one attention used by
 * every model (bidirectional encoder, causal decoder self-attention over a
 * key/value cache, cross-attention, T5's relative position bias). The two
 * products, Q·Kᵀ and P·V, run as batched matrix products (core/matmul.h)
 * straight on the strided projections and caches; the softmax between them
 * is one vector kernel per row (core/kernels.h). */
#ifndef ELANG_CORE_ATTENTION_H
#define ELANG_CORE_ATTENTION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/matmul.h"

typedef struct {
    int batch, q_len, kv_len, num_heads, head_dim;
    /* Heads of k and v (grouped-query attention: query head h reads key and
     * value head h / (num_heads / kv_heads)); 0 = num_heads. */
    int kv_heads;
    float scale;               /* 1/sqrt(head_dim) for BERT, 1 for T5 */
    /* Row strides (in floats) of q, k, v and out: a fused QKV projection or
     * a cache longer than kv_len is read in place. */
    long q_row_stride, kv_row_stride, out_row_stride;
    /* Distance between batch items in k and v (in floats); a cache holding
     * max_len rows per item uses max_len * kv_row_stride. */
    long kv_batch_stride;
    const float *position_bias; /* [num_heads, q_len, kv_len] added to scores, or NULL */
    const int32_t *key_mask;    /* [batch, kv_len]: 1 = attend, 0 = padding; or NULL */
    long mask_row_stride;       /* between batch items of key_mask (a cache's mask); 0 = kv_len */
    bool causal;                /* query i sees keys j <= i + kv_len - q_len */
    float *scores;              /* scratch of [batch, num_heads, q_len, kv_len] */
} attention_args;

/* out[b, i, h*dh:(h+1)*dh] = Σ_j softmax_j(q_i·k_j·scale + bias + mask) v_j
 *   q:   [batch, q_len, num_heads*head_dim]   (row stride q_row_stride)
 *   k,v: [batch, kv_len, kv_heads*head_dim]   (strides kv_row_stride, kv_batch_stride)
 *   out: [batch, q_len, num_heads*head_dim]   (row stride out_row_stride)
 * A key that is masked, or beyond a causal query, gets probability exactly
 * 0, as transformers' large negative additive mask does after exp()
 * underflows. Failures are reported through c (matmul_status). */
void attention_forward(matmul_ctx *c, float *out, const float *q, const float *k, const float *v,
                       const attention_args *a);

#endif
