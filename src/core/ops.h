/* The numeric kernels every model shares. Row-major throughout; weights in
 * the layout PyTorch's nn.Linear stores them, [out_features, in_features]. */
#ifndef ELANG_CORE_OPS_H
#define ELANG_CORE_OPS_H

#include "elang.h"

typedef enum {
    ACT_GELU,      /* exact, erf-based: transformers' "gelu" */
    ACT_GELU_TANH, /* "gelu_new", "gelu_pytorch_tanh", "gelu_fast" */
    ACT_RELU,
    ACT_SILU,      /* "silu", "swish" */
    ACT_TANH
} activation;

/* transformers' ACT2FN name ("gelu", "gelu_new", "relu", "silu", ...);
 * ELANG_ERR_UNSUPPORTED for a name elang does not implement. */
elang_status activation_from_name(const char *name, activation *out);

/* out[M, N] = in[M, K] · W[N, K]^T + b[N]   (b may be NULL). One GEMM. */
void linear_forward(float *out, const float *in, const float *W, const float *b,
                    int M, int K, int N);

/* x[M, H] := (x - mean) / sqrt(var + eps) * gamma + beta, row by row; the
 * statistics in double so long rows do not lose precision. */
void layer_norm_forward(float *x, const float *gamma, const float *beta, int M, int H, double eps);

/* x[M, H] := x / sqrt(mean(x²) + eps) * gamma, row by row: T5's LayerNorm
 * (RMS norm: no mean subtracted, no bias). */
void rms_norm_forward(float *x, const float *gamma, int M, int H, double eps);

/* x[n] := act(x) in place. */
void activation_forward(float *x, long n, activation act);

/* x[n] := softmax(x) in place; fully -inf rows become all zeros. */
void softmax_forward(float *x, int n);

/* dst[n] += src[n] */
void add_inplace(float *dst, const float *src, long n);

/* dst[n] *= src[n] */
void mul_inplace(float *dst, const float *src, long n);

#endif
