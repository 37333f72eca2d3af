#include "core/kernels.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern const kernel_table kernels_avx512, kernels_avx2, kernels_sse2;

static const kernel_table *available[3];
static int n_available;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* ELANG_MAX_CPU_ISA=avx2 or sse2 keeps the kernels at or below that set,
 * as oneDNN's ONEDNN_MAX_CPU_ISA does for its own: to run, on a newer CPU,
 * what an older one would. */
static bool allowed(const char *isa) {
    const char *cap = getenv("ELANG_MAX_CPU_ISA");
    if (!cap || !*cap) return true;
    static const char *const order[] = {"sse2", "avx2", "avx512"};
    int want = -1, have = -1;
    for (int i = 0; i < 3; i++) {
        if (strcasecmp(cap, order[i]) == 0) want = i;
        if (strcmp(isa, order[i]) == 0) have = i;
    }
    return want < 0 || have <= want;
}

static void choose(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && allowed("avx512"))
        available[n_available++] = &kernels_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && allowed("avx2"))
        available[n_available++] = &kernels_avx2;
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
