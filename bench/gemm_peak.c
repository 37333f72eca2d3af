/* The machine's measured SGEMM peak through OpenBLAS, the ceiling that
 * elang's achieved GFLOP/s is quoted against. Reports the median of several
 * runs for a large square product and for the shapes a BERT-Base layer uses
 * (tokens x 768 x 3072). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double gflops(int M, int N, int K, int reps) {
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * N * K), *C = malloc(sizeof(float) * M * N);
    for (long i = 0; i < (long)M * K; i++) A[i] = (float)(i % 7) * 0.01f;
    for (long i = 0; i < (long)N * K; i++) B[i] = (float)(i % 5) * 0.01f;
    double t[16];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, A, K, B, K, 0, C, N);
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, A, K, B, K, 0, C, N);
        t[r] = now() - t0;
    }
    qsort(t, reps, sizeof t[0], cmp);
    free(A), free(B), free(C);
    return 2.0 * M * N * K / t[reps / 2] / 1e9;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 0;
    if (threads > 0) openblas_set_num_threads(threads);
    printf("{\"threads\": %d, \"sgemm_2048\": %.1f, \"sgemm_tokens1024_768x3072\": %.1f, "
           "\"sgemm_tokens1024_768x768\": %.1f}\n",
           openblas_get_num_threads(), gflops(2048, 2048, 2048, 7), gflops(1024, 3072, 768, 9),
           gflops(1024, 768, 768, 9));
    return 0;
}
