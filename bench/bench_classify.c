/* Times elang_classify on a model directory and a JSONL file of inputs
 * ({"text": ...} per line):
 *
 *   bench_classify MODEL INPUTS.jsonl THREADS BATCH REPS DTYPE [OUT.jsonl]
 *
 * Loads the model once (DTYPE f32, bf16 or int8), runs one untimed pass, then
 * REPS timed passes over all inputs, and prints one JSON object: the median
 * pass, inputs/s, the GFLOP/s achieved (elang_model_gflops of each input's
 * actual length: matrix products only, padding not counted) and the peak
 * resident memory of the process. With BATCH 1 every input is its own
 * elang_classify call, timed alone: latency_ms is the median of those
 * REPS x inputs calls. OUT.jsonl, if given, gets each input's ids and logits
 * from the last pass (what the peers run on and are checked against). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "elang.h"
#include "bench_util.h"

static void write_outputs(const char *path, const elang_class_out *out, size_t n, int labels) {
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "bench_classify: cannot write %s\n", path);
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "{\"input_ids\": [");
        for (int t = 0; t < out[i].num_tokens; t++) fprintf(f, "%s%d", t ? ", " : "", out[i].input_ids[t]);
        fprintf(f, "], \"logits\": [");
        for (int l = 0; l < labels; l++) fprintf(f, "%s%.9g", l ? ", " : "", out[i].logits[l]);
        fprintf(f, "]}\n");
    }
    fclose(f);
}

int main(int argc, char **argv) {
    if (argc < 7 || argc > 8) {
        fprintf(stderr, "usage: bench_classify MODEL INPUTS.jsonl THREADS BATCH REPS f32|bf16|int8 [OUT.jsonl]\n");
        return 2;
    }
    const int threads = atoi(argv[3]), batch = atoi(argv[4]), reps = atoi(argv[5]);
    elang_dtype dtype;
    if (threads < 0 || batch < 1 || reps < 1 || !elang_dtype_from_name(argv[6], &dtype)) {
        fprintf(stderr, "bench_classify: bad THREADS, BATCH, REPS or DTYPE\n");
        return 2;
    }
    size_t n;
    elang_text *in = read_text_lines("bench_classify", argv[2], &n);
    if (n == 0) {
        fprintf(stderr, "bench_classify: no inputs in %s\n", argv[2]);
        return 1;
    }

    elang_model *m;
    elang_error err;
    const elang_load_opts lo = {.threads = threads, .dtype = dtype};
    if (elang_model_load(argv[1], &lo, &m, &err) != ELANG_OK) {
        fprintf(stderr, "bench_classify: %s\n", err.message);
        return 1;
    }
    elang_class_out *out = calloc(n, sizeof *out);
    const elang_classify_opts co = {.batch_size = batch};
    double *pass = calloc(reps, sizeof *pass);
    /* Batch 1: one latency per call. */
    double *calls = batch == 1 ? calloc((size_t)reps * n, sizeof *calls) : NULL;
    for (int r = -1; r < reps; r++) {
        const double t0 = now();
        if (batch == 1) {
            for (size_t i = 0; i < n; i++) {
                const double c0 = now();
                if (elang_classify(m, &in[i], 1, &co, &out[i], &err) != ELANG_OK) goto fail;
                if (r >= 0) calls[(size_t)r * n + i] = now() - c0;
            }
        } else if (elang_classify(m, in, n, &co, out, &err) != ELANG_OK) {
            goto fail;
        }
        if (r >= 0) pass[r] = now() - t0;
        if (r < reps - 1) elang_class_out_free(out, n);
    }

    long tokens = 0;
    int shortest = out[0].num_tokens, longest = out[0].num_tokens;
    double gflop = 0;
    for (size_t i = 0; i < n; i++) {
        tokens += out[i].num_tokens;
        if (out[i].num_tokens < shortest) shortest = out[i].num_tokens;
        if (out[i].num_tokens > longest) longest = out[i].num_tokens;
        gflop += elang_model_gflops(m, out[i].num_tokens, 0);
    }
    if (argc == 8) write_outputs(argv[7], out, n, elang_model_num_labels(m));
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);

    printf("{\"engine\": \"elang\", \"dtype\": \"%s\", \"threads\": %d, \"batch\": %d, \"inputs\": %zu, "
           "\"tokens\": %ld, \"min_tokens\": %d, \"max_tokens\": %d, \"runs\": [",
           elang_dtype_name(dtype), elang_model_threads(m), batch, n, tokens, shortest, longest);
    for (int r = 0; r < reps; r++) printf("%s%.4f", r ? ", " : "", pass[r]);
    const double s = median(pass, reps);
    printf("], \"seconds\": %.4f, \"inputs_per_s\": %.2f, \"gflop\": %.2f, \"gflops\": %.1f", s, n / s, gflop,
           gflop / s);
    if (calls) printf(", \"latency_ms\": %.3f", median(calls, (size_t)reps * n) * 1e3);
    printf(", \"peak_rss_mb\": %.1f}\n", ru.ru_maxrss / 1024.0);

    elang_class_out_free(out, n);
    for (size_t i = 0; i < n; i++) free((char *)in[i].text);
    free(in), free(out), free(pass), free(calls);
    elang_model_free(m);
    return 0;
fail:
    fprintf(stderr, "bench_classify: %s\n", err.message);
    return 1;
}
