#include "core/kernels.h"

#include <pthread.h>

extern const kernel_table kernels_avx512, kernels_avx2, kernels_sse2;

static const kernel_table *available[3];
static int n_available;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void choose(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        available[n_available++] = &kernels_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) available[n_available++] = &kernels_avx2;
    available[n_available++] = &kernels_sse2;
}

const kernel_table *kernels(void) {
    pthread_once(&once, choose);
    return available[0];
}

const kernel_table *const *kernels_available(int *n) {
    pthread_once(&once, choose);
    *n = n_available;
    return available;
}
