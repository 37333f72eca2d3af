#include "core/attention.h"

#include "core/kernels.h"

/* A decoder step: one query a row, a few keys. Each (row, head) by the
 * vector kernel: batched products would spend more in their calls than in
 * arithmetic, and a new primitive for every cache length. */
static void attend_step(float *out, const float *q, const float *k, const float *v, const attention_args *a) {
    const kernel_table *kt = kernels();
    const int H = a->num_heads, T = a->kv_len, dh = a->head_dim;
    const long pairs = (long)a->batch * H;
#pragma omp parallel for if (pairs * T * dh > 16384)
    for (long bh = 0; bh < pairs; bh++) {
        const int b = (int)(bh / H), h = (int)(bh % H);
        const float *bias = a->position_bias ? a->position_bias + (long)h * T : NULL;
        const int32_t *mask = a->key_mask ? a->key_mask + (long)b * T : NULL;
        const long kv = b * a->kv_batch_stride + (long)h * dh;
        kt->attend_one(out + b * a->out_row_stride + (long)h * dh, q + b * a->q_row_stride + (long)h * dh, k + kv,
                       v + kv, T, dh, a->kv_row_stride, a->scale, bias, mask, T - 1, a->scores + bh * T);
    }
}

void attention_forward(matmul_ctx *c, float *out, const float *q, const float *k, const float *v,
                       const attention_args *a) {
    if (a->q_len == 1) {
        attend_step(out, q, k, v, a);
        return;
    }
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
