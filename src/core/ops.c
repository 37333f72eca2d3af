#include "core/ops.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>

elang_status activation_from_name(const char *name, activation *out) {
    static const struct { const char *name; activation act; } known[] = {
        {"gelu", ACT_GELU},           {"gelu_new", ACT_GELU_TANH},
        {"gelu_pytorch_tanh", ACT_GELU_TANH}, {"gelu_fast", ACT_GELU_TANH},
        {"relu", ACT_RELU},           {"silu", ACT_SILU},
        {"swish", ACT_SILU},          {"tanh", ACT_TANH},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(name, known[i].name) == 0) {
            *out = known[i].act;
            return ELANG_OK;
        }
    }
    return ELANG_ERR_UNSUPPORTED;
}

void linear_forward(float *y, const float *x, const linear *l, int M) {
    /* Seeding y with the bias lets the GEMM add it for free (beta = 1).
     * The fill is a memory copy: only a large one is worth waking the
     * OpenMP team, whose idle threads then spin against BLAS's (a decoder
     * step's row of logits over the vocabulary is not). */
    const int N = l->out, K = l->in;
    float beta = 0.0f;
    if (l->b) {
#pragma omp parallel for if ((long)M * N > (1L << 22))
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) y[(long)i * N + j] = l->b[j];
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, x, K, l->w, K, beta, y, N);
}

static void layer_norm_row(float *row, const float *gamma, const float *beta, int H, double eps) {
    double mean = 0.0, var = 0.0;
    for (int j = 0; j < H; j++) mean += row[j];
    mean /= H;
    for (int j = 0; j < H; j++) {
        double d = row[j] - mean;
        var += d * d;
    }
    var /= H;
    float inv = (float)(1.0 / sqrt(var + eps));
    float m = (float)mean;
    for (int j = 0; j < H; j++) row[j] = (row[j] - m) * inv * gamma[j] + beta[j];
}

static void rms_norm_row(float *row, const float *gamma, int H, double eps) {
    double ms = 0.0;
    for (int j = 0; j < H; j++) ms += (double)row[j] * row[j];
    const float inv = (float)(1.0 / sqrt(ms / H + eps));
    for (int j = 0; j < H; j++) row[j] = row[j] * inv * gamma[j];
}

void norm_forward(float *x, const norm_params *n, int M, int H, double eps) {
#pragma omp parallel for if ((long)M * H > 32768)
    for (int i = 0; i < M; i++) {
        float *row = x + (long)i * H;
        if (n->beta) layer_norm_row(row, n->gamma, n->beta, H, eps);
        else rms_norm_row(row, n->gamma, H, eps);
    }
}

static float gelu_erf(float x) { return 0.5f * x * (1.0f + erff(x * (float)M_SQRT1_2)); }

static float gelu_tanh(float x) {
    const float c = 0.7978845608028654f; /* sqrt(2 / pi) */
    return 0.5f * x * (1.0f + tanhf(c * (x + 0.044715f * x * x * x)));
}

void activation_forward(float *x, long n, activation act) {
#pragma omp parallel for if (n > 65536)
    for (long i = 0; i < n; i++) {
        float v = x[i];
        switch (act) {
        case ACT_GELU: v = gelu_erf(v); break;
        case ACT_GELU_TANH: v = gelu_tanh(v); break;
        case ACT_RELU: v = v > 0.0f ? v : 0.0f; break;
        case ACT_SILU: v = v / (1.0f + expf(-v)); break;
        case ACT_TANH: v = tanhf(v); break;
        }
        x[i] = v;
    }
}

void softmax_forward(float *x, int n) {
    float max = -INFINITY;
    for (int i = 0; i < n; i++)
        if (x[i] > max) max = x[i];
    if (max == -INFINITY) {
        for (int i = 0; i < n; i++) x[i] = 0.0f;
        return;
    }
    float sum = 0.0f;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    float inv = 1.0f / sum;
    for (int i = 0; i < n; i++) x[i] *= inv;
}

void add_inplace(float *dst, const float *src, long n) {
#pragma omp parallel for if (n > 65536)
    for (long i = 0; i < n; i++) dst[i] += src[i];
}

void mul_inplace(float *dst, const float *src, long n) {
#pragma omp parallel for if (n > 65536)
    for (long i = 0; i < n; i++) dst[i] *= src[i];
}

