#include "core/attention.h"

#include "core/kernels.h"

void attention_forward(matmul_ctx *c, float *out, const float *q, const float *k, const float *v,
                       const attention_args *a) {
    const int B = a->batch, H = a->num_heads, Q = a->q_len, T = a->kv_len, dh = a->head_dim;
    /* scores[b, h] = Q[b, h] · K[b, h]ᵀ: K read transposed through its strides. */
    const matrix_view qv = {q, Q, dh, Q * a->q_row_stride, dh, a->q_row_stride, 1};
    const matrix_view kt = {k, dh, T, a->kv_batch_stride, dh, 1, a->kv_row_stride};
    const matrix_view sv = {a->scores, Q, T, (long)H * Q * T, (long)Q * T, T, 1};
    batched_matmul(c, B, H, &qv, &kt, &sv);

    const kernel_table *kt_ = kernels();
    const long rows = (long)B * H * Q;
#pragma omp parallel for if (rows * T > 32768)
    for (long r = 0; r < rows; r++) {
        const int b = (int)(r / ((long)H * Q)), h = (int)(r / Q % H), i = (int)(r % Q);
        const float *bias = a->position_bias ? a->position_bias + ((long)h * Q + i) * T : NULL;
        const int32_t *mask = a->key_mask ? a->key_mask + (long)b * T : NULL;
        kt_->softmax(a->scores + r * T, T, a->scale, bias, mask, a->causal ? i + T - Q : T - 1);
    }

    /* out[b, h] = P[b, h] · V[b, h], written into the heads' columns. */
    const matrix_view vv = {v, T, dh, a->kv_batch_stride, dh, a->kv_row_stride, 1};
    const matrix_view ov = {out, Q, dh, Q * a->out_row_stride, dh, a->out_row_stride, 1};
    batched_matmul(c, B, H, &sv, &vv, &ov);
}
