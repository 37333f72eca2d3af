/* Times elang_classify on a model directory and a JSONL file of inputs:
 * loads once, warms up once, then reports the median of several full passes
 * and the GFLOP/s achieved, from the BERT FLOP count of the actual lengths. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "elang.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: bench_classify MODEL INPUTS.jsonl THREADS BATCH REPS HIDDEN:LAYERS:INTERMEDIATE\n");
        return 2;
    }
    const int threads = atoi(argv[3]), batch = atoi(argv[4]), reps = atoi(argv[5]);
    int H, layers, I;
    if (sscanf(argv[6], "%d:%d:%d", &H, &layers, &I) != 3 || reps < 1 || reps > 64) return 2;

    json_error_t je;
    size_t n = 0, cap = 1024;
    elang_text *in = malloc(sizeof *in * cap);
    FILE *f = fopen(argv[2], "r");
    char line[65536];
    while (f && fgets(line, sizeof line, f)) {
        json_t *o = json_loads(line, 0, &je);
        if (!o) continue;
        if (n == cap) in = realloc(in, sizeof *in * (cap *= 2));
        in[n++] = (elang_text){strdup(json_string_value(json_object_get(o, "text"))), NULL};
        json_decref(o);
    }
    if (f) fclose(f);

    elang_model *m;
    elang_error err;
    elang_load_opts lo = {.threads = threads};
    if (elang_model_load(argv[1], &lo, &m, &err) != ELANG_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    elang_class_out *out = calloc(n, sizeof *out);
    elang_classify_opts co = {.batch_size = batch};
    double t[64], flops = 0;
    long tokens = 0;
    for (int r = -1; r < reps; r++) {
        double t0 = now();
        if (elang_classify(m, in, n, &co, out, &err) != ELANG_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        if (r >= 0) t[r] = now() - t0;
        if (r == reps - 1)
            for (size_t i = 0; i < n; i++) {
                const double S = out[i].num_tokens;
                tokens += out[i].num_tokens;
                flops += layers * (2.0 * S * H * (4.0 * H + 2.0 * I) + 4.0 * S * S * H);
            }
        elang_class_out_free(out, n);
    }
    qsort(t, reps, sizeof t[0], cmp);
    printf("{\"inputs\": %zu, \"tokens\": %ld, \"seconds\": %.4f, \"inputs_per_s\": %.1f, \"gflops\": %.1f}\n",
           n, tokens, t[reps / 2], n / t[reps / 2], flops / t[reps / 2] / 1e9);
    for (size_t i = 0; i < n; i++) free((char *)in[i].text);
    free(in), free(out);
    elang_model_free(m);
    return 0;
}
