#include "core/ops.h"

#include <string.h>

#include "core/kernels.h"

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

void norm_forward(float *x, const norm_params *n, int M, int H, double eps) {
    const kernel_table *k = kernels();
#pragma omp parallel for if ((long)M * H > 32768)
    for (int i = 0; i < M; i++) k->norm_row(x + (long)i * H, n->gamma, n->beta, H, (float)eps);
}

void activation_forward(float *x, long n, activation act) {
    const kernel_table *k = kernels();
    const long chunk = 16384;
#pragma omp parallel for if (n > 4 * chunk)
    for (long i = 0; i < n; i += chunk) k->activate(x + i, n - i < chunk ? n - i : chunk, (int)act);
}

void add_inplace(float *dst, const float *src, long n) {
#pragma omp parallel for if (n > 65536)
    for (long i = 0; i < n; i++) dst[i] += src[i];
}
