/* The machine's read bandwidth, the ceiling of one-token-at-a-time decoding
 * (every step reads all of the decoder's weights):
 *
 *   membw THREADS [MIB]    -> {"threads": N, "mib": MIB, "loads": "avx512", "gb_s": X, ...}
 *
 * OpenMP threads each sum their share of a MIB-mebibyte buffer (default
 * 1024, well beyond the last-level cache, so the figure is DRAM's) as 64-bit
 * integers with the widest loads the CPU has (sum_words below): integer sums
 * need no reassociation flags, and independent accumulators keep the adds
 * off the critical path, so the loop is limited by memory alone. The
 * figure is the median of 9 passes after one untimed pass, in GB/s (1e9
 * bytes). A smaller MIB measures the caches instead (e.g. the size of a
 * model's weights, to see whether they stay in the last level). */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench_util.h"

#define PASSES 9

/* The sum of n 64-bit words at p (n a multiple of 32, p 64-byte aligned),
 * in four independent vector accumulators. Written once for any vector
 * width: 512-bit where the CPU has AVX-512 (one core's read bandwidth was
 * 1.7x that of SSE2's 128-bit loads here: with narrow loads the core, not
 * the memory, is the limit), 128-bit SSE2 elsewhere. */
#define SUM_WORDS(name, lanes, attr)                                                               \
    attr static uint64_t name(const uint64_t *p, size_t n) {                                      \
        typedef uint64_t vec __attribute__((vector_size(8 * lanes)));                             \
        const vec *v = (const vec *)p;                                                             \
        vec a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};                                                \
        for (size_t i = 0; i < n / lanes; i += 4)                                                  \
            a0 += v[i], a1 += v[i + 1], a2 += v[i + 2], a3 += v[i + 3];                            \
        const vec s = a0 + a1 + a2 + a3;                                                           \
        uint64_t total = 0;                                                                        \
        for (int l = 0; l < lanes; l++) total += s[l];                                             \
        return total;                                                                              \
    }
SUM_WORDS(sum_avx512, 8, __attribute__((target("avx512f"))))
SUM_WORDS(sum_sse2, 2, )

int main(int argc, char **argv) {
    const int threads = argc > 1 ? atoi(argv[1]) : 0;
    const long mib = argc > 2 ? atol(argv[2]) : 1024;
    if (argc > 3 || threads < 0 || mib < 1) {
        fprintf(stderr, "usage: membw [THREADS] [MIB]   (0 threads: all cores)\n");
        return 2;
    }
    if (threads > 0) omp_set_num_threads(threads);
    const size_t n = (size_t)mib * (1 << 20) / sizeof(uint64_t);
    uint64_t *buf = aligned_alloc(64, n * sizeof *buf);
    if (!buf) {
        fprintf(stderr, "membw: out of memory for %ld MiB\n", mib);
        return 1;
    }
    /* Written by the threads that will read it (first touch places pages on
     * their node, where there is more than one). */
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) buf[i] = i;

    double t[PASSES];
    uint64_t sink = 0;
    uint64_t (*sum_words)(const uint64_t *, size_t) = __builtin_cpu_supports("avx512f") ? sum_avx512 : sum_sse2;
    for (int pass = -1; pass < PASSES; pass++) {
        uint64_t sum = 0;
        const double t0 = now();
        /* Blocks of 32 words (256 bytes), split evenly between the threads. */
#pragma omp parallel for schedule(static) reduction(+ : sum)
        for (size_t b = 0; b < n / 32; b += 2048) {
            const size_t words = (n / 32 - b < 2048 ? n / 32 - b : 2048) * 32;
            sum += sum_words(buf + b * 32, words);
        }
        const double dt = now() - t0;
        sink += sum;
        if (pass >= 0) t[pass] = dt;
    }
    qsort(t, PASSES, sizeof t[0], compare_doubles);
    /* The sums are printed so that the loop cannot be optimised away. */
    printf("{\"threads\": %d, \"mib\": %ld, \"loads\": \"%s\", \"gb_s\": %.1f, \"checksum\": %llu}\n", omp_get_max_threads(), mib,
           sum_words == sum_avx512 ? "avx512" : "sse2",
           n * sizeof *buf / t[PASSES / 2] / 1e9, (unsigned long long)(sink & 0xffff));
    free(buf);
    return 0;
}
