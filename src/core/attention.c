#include "core/attention.h"

#include "core/kernels.h"

static int kv_heads(const attention_args *a) { return a->kv_heads > 0 ? a->kv_heads : a->num_heads; }
static long mask_stride(const attention_args *a) { return a->mask_row_stride > 0 ? a->mask_row_stride : a->kv_len; }

/* A decoder step: one query a row, a few keys. Each (row, head) by the
 * vector kernel: batched products would spend more in their calls than in
 * arithmetic, and a new primitive for every cache length. */
static void attend_step(float *out, const float *q, const float *k, const float *v, const attention_args *a) {
    const kernel_table *kt = kernels();
    const int H = a->num_heads, T = a->kv_len, dh = a->head_dim, group = H / kv_heads(a);
    const long pairs = (long)a->batch * H;
#pragma omp parallel for if (pairs * T * dh > 16384)
    for (long bh = 0; bh < pairs; bh++) {
        const int b = (int)(bh / H), h = (int)(bh % H);
        const float *bias = a->position_bias ? a->position_bias + (long)h * T : NULL;
        const int32_t *mask = a->key_mask ? a->key_mask + b * mask_stride(a) : NULL;
        const long kv = b * a->kv_batch_stride + (long)(h / group) * dh;
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
    const int KH = kv_heads(a), G = H / KH;
    /* scores[b, h] = Q[b, h] · K[b, h / G]ᵀ: K read transposed through its
     * strides. A batched product maps head n of each operand to n times a
     * stride, so the query heads sharing a key head (g = h % G) go in one
     * product per g: heads g, G + g, 2G + g, ... against key heads 0, 1, 2. */
    for (int g = 0; g < G; g++) {
        const matrix_view qv = {q + (long)g * dh, Q, dh, Q * a->q_row_stride, (long)G * dh, a->q_row_stride, 1};
        const matrix_view kt = {k, dh, T, a->kv_batch_stride, dh, 1, a->kv_row_stride};
        const matrix_view sv = {a->scores + (long)g * Q * T, Q, T, (long)H * Q * T, (long)G * Q * T, T, 1};
        batched_matmul(c, B, KH, &qv, &kt, &sv);
    }

    const kernel_table *kt_ = kernels();
    const long rows = (long)B * H * Q;
#pragma omp parallel for if (rows * T > 32768)
    for (long r = 0; r < rows; r++) {
        const int b = (int)(r / ((long)H * Q)), h = (int)(r / Q % H), i = (int)(r % Q);
        const float *bias = a->position_bias ? a->position_bias + ((long)h * Q + i) * T : NULL;
        const int32_t *mask = a->key_mask ? a->key_mask + b * mask_stride(a) : NULL;
        kt_->softmax(a->scores + r * T, T, a->scale, bias, mask, a->causal ? i + T - Q : T - 1);
    }

    /* out[b, h] = P[b, h] · V[b, h / G], written into the heads' columns. */
    for (int g = 0; g < G; g++) {
        const matrix_view sv = {a->scores + (long)g * Q * T, Q, T, (long)H * Q * T, (long)G * Q * T, T, 1};
        const matrix_view vv = {v, T, dh, a->kv_batch_stride, dh, a->kv_row_stride, 1};
        const matrix_view ov = {out + (long)g * dh, Q, dh, Q * a->out_row_stride, (long)G * dh, a->out_row_stride, 1};
        batched_matmul(c, B, KH, &sv, &vv, &ov);
    }
}
