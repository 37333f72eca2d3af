/* Every matrix product elang computes, through oneDNN (Debian's libdnnl):
 * its kernels are chosen at run time for the CPU at hand (AVX2, AVX-512,
 * AVX512-BF16 and VNNI, AMX), in F32, BF16 and INT8.
 *
 * A linear layer's weights are prepared once, at load, for the dtype the
 * model computes in: packed into oneDNN's preferred layout in F32, rounded
 * to BF16, or quantized to INT8 with a scale per output channel. At run
 * time the activations follow: F32 as they are, BF16 rounded, INT8
 * quantized with a scale per row (token), as dynamic quantization does in
 * PyTorch and ONNX Runtime. Whatever the dtype, results are F32.
 *
 * What follows a product (its bias, activation, the residual add, T5's
 * gate) is fused into it as oneDNN post-ops, so the output is written once.
 *
 * A matmul_ctx holds one model's primitives (one per shape, created on
 * first use and kept), the oneDNN stream, and the scratch the conversions
 * and oneDNN use, grown to the largest call so far: after the first batch
 * of a size, a product allocates nothing. A context is used by one thread
 * at a time, like the model it belongs to. */
#ifndef ELANG_CORE_MATMUL_H
#define ELANG_CORE_MATMUL_H

#include <stdbool.h>

#include "core/ops.h"
#include "elang.h"

typedef struct matmul_ctx matmul_ctx;

elang_status matmul_ctx_new(matmul_ctx **out, elang_error *err);
void matmul_ctx_free(matmul_ctx *c);

/* Products report failures here (a primitive oneDNN cannot create, memory
 * running out) rather than through every caller: the first failure is kept
 * and later products are skipped. Returns it, with its message, and clears
 * it. */
elang_status matmul_status(matmul_ctx *c, elang_error *err);

/* Where a context's time went: products by kind, counted since it was made. */
typedef struct {
    double linear_seconds, linear_flops;   /* linear layers (and their fused epilogues) */
    double batched_seconds, batched_flops; /* attention's Q·Kᵀ and P·V */
    long products;
} matmul_profile;

void matmul_get_profile(const matmul_ctx *c, matmul_profile *out);

/* Prepares l (whose w and b hold the F32 weights) to compute in dtype; the
 * F32 weights are not read again. */
elang_status linear_prepare(matmul_ctx *c, linear *l, elang_dtype dtype, elang_error *err);
void linear_release(linear *l);

/* What happens to x · Wᵀ + b before it lands in y, in this order. */
typedef struct {
    bool activate;          /* y = act(...) */
    activation act;
    const float *multiply;  /* [M, out]: y = ... · multiply (T5's gated feed-forward), or NULL */
    bool accumulate;        /* y += ... (the residual add) instead of y = ... */
} epilogue;

/* y[M, out] = epilogue(x[M, in] · Wᵀ + b). e may be NULL (y = x · Wᵀ + b). */
void linear_forward(matmul_ctx *c, float *y, const float *x, const linear *l, int M, const epilogue *e);

/* A strided view of `batch` matrices of rows × cols floats: element (n, r, c)
 * of batch item n = b·heads + h is at p[b·stride_b + h·stride_h + r·stride_r + c·stride_c]. */
typedef struct {
    const float *p;
    int rows, cols;
    long stride_b, stride_h, stride_r, stride_c;
} matrix_view;

/* out[n] = a[n] · b[n] for the batch·heads matrices of the views, in F32
 * (attention's Q·Kᵀ and P·V). out is written through its view. */
void batched_matmul(matmul_ctx *c, int batch, int heads, const matrix_view *a, const matrix_view *b,
                    const matrix_view *out);

#endif
