#include "core/rope.h"

#include <math.h>
#include <stdlib.h>

#include "util/error.h"

elang_status rope_table_init(rope_table *t, int head_dim, int max_positions, double theta, elang_error *err) {
    *t = (rope_table){.head_dim = head_dim, .max_positions = max_positions};
    if (head_dim <= 0 || head_dim % 2 || max_positions <= 0 || !(theta > 0.0))
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "rotary embedding of head size %d, %d positions, theta %g",
                          head_dim, max_positions, theta);
    const int half = head_dim / 2;
    t->cos = malloc(sizeof(float) * (size_t)max_positions * half);
    t->sin = malloc(sizeof(float) * (size_t)max_positions * half);
    if (!t->cos || !t->sin) {
        rope_table_free(t);
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for %d rotary positions", max_positions);
    }
    /* inv_freq = 1 / theta^(arange(0, d, 2) / d) and the angles pos ·
     * inv_freq are float32 tensors in transformers; their cosines and sines
     * are rounded to float32 too. */
    for (int i = 0; i < half; i++) {
        const float inv = 1.0f / powf((float)theta, (float)(2 * i) / (float)head_dim);
        for (int p = 0; p < max_positions; p++) {
            const float angle = (float)p * inv;
            t->cos[(size_t)p * half + i] = (float)cos((double)angle);
            t->sin[(size_t)p * half + i] = (float)sin((double)angle);
        }
    }
    return ELANG_OK;
}

void rope_table_free(rope_table *t) {
    free(t->cos);
    free(t->sin);
    t->cos = t->sin = NULL;
}

/* x·cos + rotate_half(x)·sin, where rotate_half(x) = (-x2, x1) for the
 * halves x1 = x[0, d/2) and x2 = x[d/2, d). */
void rope_apply(const rope_table *t, float *x, int heads, int pos) {
    const int d = t->head_dim, half = d / 2;
    const float *c = t->cos + (size_t)pos * half, *s = t->sin + (size_t)pos * half;
    for (int h = 0; h < heads; h++) {
        float *x1 = x + (size_t)h * d, *x2 = x1 + half;
        for (int i = 0; i < half; i++) {
            const float a = x1[i], b = x2[i];
            x1[i] = a * c[i] - b * s[i];
            x2[i] = b * c[i] + a * s[i];
        }
    }
}
