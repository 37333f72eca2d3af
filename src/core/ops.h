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

/* One nn.Linear: y = x · Wᵀ + b, computed by core/matmul.h once prepared. */
typedef struct {
    const float *w; /* [out, in], F32 as loaded */
    const float *b; /* [out], or NULL */
    int out, in;
    void *prepared; /* the weights in the model's dtype (core/matmul.c), or NULL before */
} linear;

/* A normalisation's parameters: LayerNorm (gamma and beta) or, with beta
 * NULL, T5's RMS norm (no mean subtracted, no bias). */
typedef struct {
    const float *gamma; /* [H] */
    const float *beta;  /* [H], or NULL for the RMS norm */
} norm_params;

/* x[M, H] := LayerNorm: (x - mean) / sqrt(var + eps) * gamma + beta, or
 * RMS norm: x / sqrt(mean(x²) + eps) * gamma, row by row. */
void norm_forward(float *x, const norm_params *n, int M, int H, double eps);

/* x[n] := act(x) in place. */
void activation_forward(float *x, long n, activation act);

/* dst[n] += src[n] */
void add_inplace(float *dst, const float *src, long n);

#endif
