/* The vector kernels (src/core/kernels.h), every implementation this CPU
 * can run (AVX-512, AVX2, SSE2), against plain double-precision references
 * on random rows of awkward lengths (not multiples of any vector width),
 * with masks, biases, causal limits and excluded (-inf) entries. The
 * fixtures exercise only the best implementation; this covers the others. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/kernels.h"
#include "core/ops.h"

static const int LENGTHS[] = {1, 3, 7, 16, 17, 31, 64, 100, 1000, 8101};

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double uniform(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}
static float value(double spread) { return (float)((uniform() * 2.0 - 1.0) * spread); }

static void close_rel(double got, double want, double rel, double abs_tol, const char *what, const char *impl, int n,
                      int at) {
    if (!(fabs(got - want) <= abs_tol + rel * fabs(want)))
        fail_msg("%s (%s, n = %d, at %d): got %.9g, want %.9g", what, impl, n, at, got, want);
}

static void softmax_matches(void **s) {
    (void)s;
    int count;
    const kernel_table *const *impls = kernels_available(&count);
    assert_true(count >= 1);
    size_t checked = 0;
    for (int k = 0; k < count; k++)
        for (size_t li = 0; li < sizeof LENGTHS / sizeof LENGTHS[0]; li++) {
            const int n = LENGTHS[li];
            float *x = malloc(sizeof(float) * n), *bias = malloc(sizeof(float) * n);
            int32_t *mask = malloc(sizeof(int32_t) * n);
            double *want = malloc(sizeof(double) * n);
            for (int variant = 0; variant < 4; variant++) {
                const bool with_bias = variant & 1, with_mask = variant & 2;
                const int last = variant == 3 ? n / 2 : n - 1;
                for (int j = 0; j < n; j++) x[j] = value(8.0), bias[j] = value(2.0), mask[j] = uniform() > 0.3 || j == 0;
                double max = -INFINITY, sum = 0.0;
                for (int j = 0; j < n; j++) {
                    const bool live = j <= last && (!with_mask || mask[j]);
                    want[j] = live ? x[j] * 0.125 + (with_bias ? bias[j] : 0.0) : -INFINITY;
                    max = fmax(max, want[j]);
                }
                for (int j = 0; j < n; j++) sum += want[j] == -INFINITY ? 0.0 : exp(want[j] - max);
                impls[k]->softmax(x, n, 0.125f, with_bias ? bias : NULL, with_mask ? mask : NULL, last);
                for (int j = 0; j < n; j++, checked++)
                    close_rel(x[j], want[j] == -INFINITY ? 0.0 : exp(want[j] - max) / sum, 1e-5, 1e-9, "softmax",
                              impls[k]->name, n, j);
            }
            /* Nothing admitted: all zeros. */
            for (int j = 0; j < n; j++) x[j] = 1.0f, mask[j] = 0;
            impls[k]->softmax(x, n, 1.0f, NULL, mask, n - 1);
            for (int j = 0; j < n; j++) assert_true(x[j] == 0.0f);
            free(x), free(bias), free(mask), free(want);
        }
    assert_true(checked > 1000);
}

static void norms_match(void **s) {
    (void)s;
    int count;
    const kernel_table *const *impls = kernels_available(&count);
    const int widths[] = {1, 5, 32, 37, 768};
    for (int k = 0; k < count; k++)
        for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
            const int H = widths[wi];
            float *x = malloc(sizeof(float) * H), *g = malloc(sizeof(float) * H), *b = malloc(sizeof(float) * H);
            double *orig = malloc(sizeof(double) * H);
            for (int rms = 0; rms < 2; rms++) {
                for (int j = 0; j < H; j++) orig[j] = x[j] = value(3.0) + 1.5f, g[j] = value(1.0), b[j] = value(1.0);
                double mean = 0.0, var = 0.0;
                if (!rms) {
                    for (int j = 0; j < H; j++) mean += orig[j];
                    mean /= H;
                }
                for (int j = 0; j < H; j++) var += (orig[j] - mean) * (orig[j] - mean);
                const double inv = 1.0 / sqrt(var / H + 1e-6);
                impls[k]->norm_row(x, g, rms ? NULL : b, H, 1e-6f);
                for (int j = 0; j < H; j++)
                    close_rel(x[j], (orig[j] - mean) * inv * g[j] + (rms ? 0.0 : b[j]), 1e-5, 1e-5,
                              rms ? "rms norm" : "layer norm", impls[k]->name, H, j);
            }
            free(x), free(g), free(b), free(orig);
        }
}

static double reference_act(double x, int act) {
    switch (act) {
    case ACT_GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case ACT_GELU_TANH: return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    case ACT_RELU: return x > 0 ? x : 0;
    case ACT_SILU: return x / (1.0 + exp(-x));
    case ACT_TANH: return tanh(x);
    }
    return NAN;
}

static void activations_match(void **s) {
    (void)s;
    int count;
    const kernel_table *const *impls = kernels_available(&count);
    const int n = 1003;
    float *x = malloc(sizeof(float) * n);
    double *orig = malloc(sizeof(double) * n);
    const char *names[] = {"gelu", "gelu_tanh", "relu", "silu", "tanh"};
    for (int k = 0; k < count; k++)
        for (int act = ACT_GELU; act <= ACT_TANH; act++) {
            for (int j = 0; j < n; j++) orig[j] = x[j] = j < 8 ? (float)(j * 20 - 70) : value(9.0);
            impls[k]->activate(x, n, act);
            for (int j = 0; j < n; j++) close_rel(x[j], reference_act(orig[j], act), 2e-6, 2e-6, names[act], impls[k]->name, n, j);
        }
    free(x), free(orig);
}

static void logit_stats_match(void **s) {
    (void)s;
    int count;
    const kernel_table *const *impls = kernels_available(&count);
    for (int k = 0; k < count; k++)
        for (size_t li = 0; li < sizeof LENGTHS / sizeof LENGTHS[0]; li++) {
            const int n = LENGTHS[li];
            float *x = malloc(sizeof(float) * n);
            for (int ti = 0; ti < 2; ti++) {
                for (int j = 0; j < n; j++) x[j] = uniform() < 0.05 && j > 0 ? -INFINITY : value(20.0);
                if (n > 2) x[n - 1] = x[0]; /* a tie for the maximum is possible */
                const double T = ti == 0 ? 1.0 : 1.7; /* T = 1 takes a shortcut for z_t */
                double max = -INFINITY, second = -INFINITY, z = 0, zt = 0, wx = 0, soft = 0;
                int argmax = -1;
                for (int j = 0; j < n; j++) {
                    if (x[j] > max) second = max, max = x[j], argmax = j;
                    else if (x[j] > second) second = x[j];
                }
                for (int j = 0; j < n; j++)
                    if (x[j] != -INFINITY) z += exp(x[j] - max), zt += exp((x[j] - max) / T), wx += exp(x[j] - max) * (x[j] - max);
                for (int j = 0; j < n; j++) soft += exp((x[j] == -INFINITY ? 0.0 : exp(x[j] - max) / z) / T);
                logit_stats st;
                impls[k]->logit_stats(x, n, (float)T, true, &st);
                assert_true(st.max == (float)max);
                assert_true(st.second == (float)second);
                assert_int_equal(st.argmax, argmax); /* the first of equal maxima */
                close_rel(st.z, z, 1e-6, 0, "z", impls[k]->name, n, 0);
                close_rel(st.z_t, zt, 1e-6, 0, "z_t", impls[k]->name, n, 0);
                close_rel(st.wx, wx, 1e-5, 1e-6, "wx", impls[k]->name, n, 0);
                close_rel(st.soft, soft, 1e-6, 0, "soft", impls[k]->name, n, 0);
                for (int j = 0; j < n; j++) x[j] = -INFINITY;
                impls[k]->logit_stats(x, n, (float)T, true, &st);
                assert_true(st.max == -INFINITY && st.z == 0.0 && st.argmax == -1);
            }
            free(x);
        }
}

/* One decoder query over a strided cache, as attention.c's step path
 * calls it: heads of widths around the vector lengths, keys masked, biased
 * and cut at `last`. */
static void attend_one_matches(void **s) {
    (void)s;
    int count;
    const kernel_table *const *impls = kernels_available(&count);
    const int widths[] = {1, 7, 32, 33, 64}, keys[] = {1, 5, 17, 100};
    const long stride = 3 * 64 + 5; /* a row of the cache holds other heads too */
    int checked = 0;
    for (int k = 0; k < count; k++)
        for (size_t wi = 0; wi < 5; wi++)
            for (size_t ki = 0; ki < 4; ki++) {
                const int dh = widths[wi], T = keys[ki];
                float *q = malloc(sizeof(float) * dh), *out = malloc(sizeof(float) * dh);
                float *kv = malloc(sizeof(float) * stride * T * 2), *bias = malloc(sizeof(float) * T);
                float *scores = malloc(sizeof(float) * T);
                int32_t *mask = malloc(sizeof(int32_t) * T);
                double *p = malloc(sizeof(double) * T);
                const float *K = kv, *V = kv + stride * T;
                for (int j = 0; j < dh; j++) q[j] = value(2.0);
                for (long j = 0; j < stride * T * 2; j++) kv[j] = value(2.0);
                for (int j = 0; j < T; j++) bias[j] = value(1.0), mask[j] = j == 0 || uniform() > 0.25;
                for (int variant = 0; variant < 2; variant++) {
                    const int last = variant ? T / 2 : T - 1;
                    double max = -INFINITY, sum = 0.0;
                    for (int j = 0; j < T; j++) {
                        double d = 0.0;
                        for (int c = 0; c < dh; c++) d += (double)q[c] * K[j * stride + c];
                        p[j] = j <= last && mask[j] ? d * 0.3 + bias[j] : -INFINITY;
                        max = fmax(max, p[j]);
                    }
                    for (int j = 0; j < T; j++) sum += p[j] == -INFINITY ? 0.0 : exp(p[j] - max);
                    impls[k]->attend_one(out, q, K, V, T, dh, stride, 0.3f, bias, mask, last, scores);
                    for (int c = 0; c < dh; c++, checked++) {
                        double want = 0.0;
                        for (int j = 0; j < T; j++)
                            if (p[j] != -INFINITY) want += exp(p[j] - max) / sum * V[j * stride + c];
                        close_rel(out[c], want, 1e-5, 1e-5, "attend_one", impls[k]->name, T, c);
                    }
                }
                free(q), free(out), free(kv), free(bias), free(scores), free(mask), free(p);
            }
    assert_true(checked > 1000);
}

static uint16_t reference_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    const uint32_t lsb = (u >> 16) & 1u;
    return (uint16_t)((u + 0x7fffu + lsb) >> 16);
}

static void bf16_and_int8_match(void **s) {
    (void)s;
    int count;
    const kernel_table *const *impls = kernels_available(&count);
    const int n = 1001;
    float *x = malloc(sizeof(float) * n);
    uint16_t *h = malloc(sizeof(uint16_t) * n);
    int8_t *q = malloc((size_t)n);
    for (int k = 0; k < count; k++) {
        for (int j = 0; j < n; j++) x[j] = value(1000.0);
        x[0] = 1.0f + 1.0f / 256; /* exactly halfway between two bf16 values: ties to even */
        x[1] = NAN;
        impls[k]->to_bf16(h, x, n);
        assert_true(h[0] == 0x3f80);
        assert_true((h[1] & 0x7f80) == 0x7f80 && (h[1] & 0x7f) != 0); /* still a NaN */
        for (int j = 2; j < n; j++) assert_int_equal(h[j], reference_bf16(x[j]));
        for (int j = 0; j < n; j++) x[j] = value(3.0);
        x[17] = -4.0f;
        const float scale = impls[k]->quantize_row(q, x, n);
        assert_true(fabsf(scale - 4.0f / 127) < 1e-7f);
        assert_int_equal(q[17], -127);
        for (int j = 0; j < n; j++) assert_true(fabsf(q[j] * scale - x[j]) <= scale / 2 + 1e-6f);
        for (int j = 0; j < n; j++) x[j] = 0.0f;
        assert_true(impls[k]->quantize_row(q, x, n) == 1.0f);
    }
    free(x), free(h), free(q);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(softmax_matches),
        cmocka_unit_test(norms_match),
        cmocka_unit_test(activations_match),
        cmocka_unit_test(logit_stats_match),
        cmocka_unit_test(attend_one_matches),
        cmocka_unit_test(bf16_and_int8_match),
    };
    return cmocka_run_group_tests_name("kernels", tests, NULL, NULL);
}
