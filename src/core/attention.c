#include "core/attention.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/ops.h"

void attention_forward(float *out, const float *q, const float *k, const float *v, const attention_args *a) {
    const int dh = a->head_dim, H = a->num_heads;
    const long pairs = (long)a->batch * H;
    const int max_threads = omp_get_max_threads();
    const int threads = max_threads < a->score_rows ? max_threads : a->score_rows;

    /* Heads are independent; each thread keeps one row of scores. A masked
     * key gets probability exactly 0, as transformers' large negative
     * additive mask does after exp() underflows. A decoder step is too small
     * to share: waking the team costs more than it saves, and its threads
     * then spin against the BLAS threads of the next projection. */
    const long work = pairs * a->q_len * a->kv_len * dh;
#pragma omp parallel num_threads(threads) if (work > 262144)
    {
        float *scores = a->scores + (size_t)a->score_stride * (size_t)omp_get_thread_num();
#pragma omp for schedule(static)
        for (long bh = 0; bh < pairs; bh++) {
            const int b = (int)(bh / H), h = (int)(bh % H);
            const float *kb = k + b * a->kv_batch_stride + (long)h * dh;
            const float *vb = v + b * a->kv_batch_stride + (long)h * dh;
            const int32_t *mask = a->key_mask ? a->key_mask + (long)b * a->kv_len : NULL;
            for (int i = 0; i < a->q_len; i++) {
                const float *qi = q + ((long)b * a->q_len + i) * a->q_row_stride + (long)h * dh;
                const float *bias = a->position_bias
                                        ? a->position_bias + ((long)h * a->q_len + i) * a->kv_len
                                        : NULL;
                const int last = a->causal ? i + a->kv_len - a->q_len : a->kv_len - 1;
                for (int j = 0; j < a->kv_len; j++) {
                    if (j > last || (mask && !mask[j])) {
                        scores[j] = -INFINITY;
                        continue;
                    }
                    const float *kj = kb + (long)j * a->kv_row_stride;
                    float dot = 0.0f;
                    for (int d = 0; d < dh; d++) dot += qi[d] * kj[d];
                    scores[j] = dot * a->scale + (bias ? bias[j] : 0.0f);
                }
                softmax_forward(scores, a->kv_len);
                float *oi = out + ((long)b * a->q_len + i) * a->out_row_stride + (long)h * dh;
                memset(oi, 0, sizeof(float) * (size_t)dh);
                for (int j = 0; j < a->kv_len; j++) {
                    if (scores[j] == 0.0f) continue;
                    const float *vj = vb + (long)j * a->kv_row_stride;
                    const float p = scores[j];
                    for (int d = 0; d < dh; d++) oi[d] += p * vj[d];
                }
            }
        }
    }
}
