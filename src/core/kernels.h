/* The element-wise and row-wise kernels around the matrix products, chosen
 * once at run time for the CPU at hand: AVX-512, AVX2 with FMA, or the
 * x86-64 baseline (SSE2). The build targets any x86-64; kernels_avx512.c
 * and kernels_avx2.c are compiled for their instruction sets and called
 * only on CPUs that have them.
 *
 * Each implementation is the same source (kernels_impl.h) compiled for a
 * different vector width, so the three cannot drift apart. */
#ifndef ELANG_CORE_KERNELS_H
#define ELANG_CORE_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

/* What a row of logits says, for the energy and the routing scores: every
 * sum in one place so that a vocabulary of 32k is read three times, not ten. */
typedef struct {
    float max, second;  /* the largest and second largest logit */
    int argmax;         /* the first index of the largest, -1 when every entry is -inf */
    double z;           /* Σ exp(x - max) */
    double z_t;         /* Σ exp((x - max) / T) */
    double wx;          /* Σ exp(x - max) · (x - max), for the entropy */
    double soft;        /* Σ exp(softmax(x) / T), the authors' softmax-energy */
} logit_stats;

typedef struct {
    const char *name; /* "avx512", "avx2" or "sse2" */
    /* x[n] := softmax(x · scale + bias) over the entries j <= last with
     * mask[j] != 0 (mask and bias may be NULL); the others become 0, and so
     * does every entry of a row with none left. */
    void (*softmax)(float *x, int n, float scale, const float *bias, const int32_t *mask, int last);
    /* One query of one head over kv_len keys, as a decoder step asks it:
     * out[dh] = Σ_j softmax_j(q·k_j · scale + bias_j) v_j over the keys the
     * softmax above admits (mask, last); k_j at k + j·kv_stride, v_j
     * likewise; scores: kv_len floats of scratch. */
    void (*attend_one)(float *out, const float *q, const float *k, const float *v, int kv_len, int dh,
                       long kv_stride, float scale, const float *bias, const int32_t *mask, int last, float *scores);
    /* x[H] := LayerNorm (beta given) or RMS norm (beta NULL) of one row. */
    void (*norm_row)(float *x, const float *gamma, const float *beta, int H, float eps);
    /* x[n] := act(x), act as core/ops.h numbers it. */
    void (*activate)(float *x, long n, int act);
    /* The statistics of a row of logits at temperature T; -inf entries are
     * excluded tokens. A row of only -inf has max -inf and sums 0. `soft`
     * (a third pass over the row) only when with_soft. */
    void (*logit_stats)(const float *x, int n, float temperature, bool with_soft, logit_stats *out);
    /* dst[n] = src rounded to bfloat16 (nearest, ties to even). */
    void (*to_bf16)(uint16_t *dst, const float *src, long n);
    /* dst[K] = round(src / scale) with scale = max|src| / 127 (1 when the
     * row is zero); returns the scale. */
    float (*quantize_row)(int8_t *dst, const float *src, int K);
    /* One row of an INT8 product's output: v = acc · row_scale · col_scales
     * + bias (NULL: none), then act(v) when act >= 0, then v · multiply
     * (NULL: none), then y = v, or y += v when accumulate. */
    void (*dequantize_row)(float *y, const int32_t *acc, int N, float row_scale, const float *col_scales,
                           const float *bias, int act, const float *multiply, bool accumulate);
} kernel_table;

/* The best kernels this CPU runs (decided once, thread-safely). */
const kernel_table *kernels(void);

/* Every implementation this CPU can run, best first, for tests that check
 * them against each other; *n gets the count. */
const kernel_table *const *kernels_available(int *n);

#endif
