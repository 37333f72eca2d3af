/* Times elang_generate's greedy decoding on a T5 model directory and a JSONL
 * file of source sentences ({"text": ...} per line):
 *
 *   bench_generate MODEL SOURCES.jsonl THREADS BATCH REPS DTYPE MAX_NEW [OUT.jsonl]
 *
 * Loads the model once (DTYPE f32, bf16 or int8; T5's task prefix
 * "translate English to German: " before every source), runs one untimed
 * pass, then REPS timed passes of greedy decoding (max_new_tokens MAX_NEW,
 * BATCH inputs decoded together), and prints one JSON object: the median
 * pass, the tokens actually generated (min and max per input, so a caller
 * can check that none stopped early), tokens/s, the GFLOP/s achieved
 * (elang_model_gflops of each input's source length and decoder steps) and
 * the peak resident memory. OUT.jsonl, if given, gets each input's source
 * ids and generated ids (the PyTorch peer decodes the same sources and is
 * checked against them). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "elang.h"
#include "bench_util.h"

#define PREFIX "translate English to German: "

static void write_ids(FILE *f, const char *name, const int32_t *ids, int n) {
    fprintf(f, "\"%s\": [", name);
    for (int t = 0; t < n; t++) fprintf(f, "%s%d", t ? ", " : "", ids[t]);
    fprintf(f, "]");
}

int main(int argc, char **argv) {
    if (argc < 8 || argc > 9) {
        fprintf(stderr, "usage: bench_generate MODEL SOURCES.jsonl THREADS BATCH REPS f32|bf16|int8 MAX_NEW [OUT.jsonl]\n");
        return 2;
    }
    const int threads = atoi(argv[3]), batch = atoi(argv[4]), reps = atoi(argv[5]), max_new = atoi(argv[7]);
    elang_dtype dtype;
    if (threads < 0 || batch < 1 || reps < 1 || max_new < 1 || !elang_dtype_from_name(argv[6], &dtype)) {
        fprintf(stderr, "bench_generate: bad THREADS, BATCH, REPS, DTYPE or MAX_NEW\n");
        return 2;
    }
    size_t n;
    elang_text *in = read_text_lines("bench_generate", argv[2], &n);
    if (n == 0) {
        fprintf(stderr, "bench_generate: no inputs in %s\n", argv[2]);
        return 1;
    }

    elang_model *m;
    elang_error err;
    const elang_load_opts lo = {.threads = threads, .dtype = dtype, .input_prefix = PREFIX};
    if (elang_model_load(argv[1], &lo, &m, &err) != ELANG_OK) {
        fprintf(stderr, "bench_generate: %s\n", err.message);
        return 1;
    }
    elang_gen_out *out = calloc(n, sizeof *out);
    elang_gen_opts go = elang_gen_opts_default();
    go.num_beams = 1, go.max_new_tokens = max_new, go.batch_size = batch;
    double *pass = calloc(reps, sizeof *pass);
    for (int r = -1; r < reps; r++) {
        const double t0 = now();
        if (elang_generate(m, in, n, &go, out, &err) != ELANG_OK) {
            fprintf(stderr, "bench_generate: %s\n", err.message);
            return 1;
        }
        if (r >= 0) pass[r] = now() - t0;
        if (r < reps - 1) elang_gen_out_free(out, n);
    }

    /* num_ids counts the decoder start token: generated = num_ids - 1, which
     * is also the number of decoder steps run. */
    long tokens = 0, source_tokens = 0;
    int fewest = out[0].num_ids - 1, most = fewest;
    double gflop = 0;
    for (size_t i = 0; i < n; i++) {
        const int g = out[i].num_ids - 1;
        tokens += g, source_tokens += out[i].num_input_ids;
        if (g < fewest) fewest = g;
        if (g > most) most = g;
        gflop += elang_model_gflops(m, out[i].num_input_ids, g);
    }
    if (argc == 9) {
        FILE *f = fopen(argv[8], "w");
        if (!f) {
            fprintf(stderr, "bench_generate: cannot write %s\n", argv[8]);
            return 1;
        }
        for (size_t i = 0; i < n; i++) {
            fprintf(f, "{");
            write_ids(f, "input_ids", out[i].input_ids, out[i].num_input_ids);
            fprintf(f, ", ");
            write_ids(f, "ids", out[i].ids, out[i].num_ids);
            fprintf(f, "}\n");
        }
        fclose(f);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);

    qsort(pass, reps, sizeof pass[0], compare_doubles);
    const double s = reps % 2 ? pass[reps / 2] : 0.5 * (pass[reps / 2 - 1] + pass[reps / 2]);
    printf("{\"engine\": \"elang\", \"dtype\": \"%s\", \"threads\": %d, \"batch\": %d, \"inputs\": %zu, "
           "\"source_tokens\": %ld, \"tokens\": %ld, \"min_new_tokens\": %d, \"max_new_tokens\": %d, \"runs\": [",
           elang_dtype_name(dtype), elang_model_threads(m), batch, n, source_tokens, tokens, fewest, most);
    for (int r = 0; r < reps; r++) printf("%s%.4f", r ? ", " : "", pass[r]);
    printf("], \"seconds\": %.4f, \"tokens_per_s\": %.2f, \"gflop\": %.2f, \"gflops\": %.1f, \"peak_rss_mb\": %.1f}\n",
           s, tokens / s, gflop, gflop / s, ru.ru_maxrss / 1024.0);

    elang_gen_out_free(out, n);
    for (size_t i = 0; i < n; i++) free((char *)in[i].text);
    free(in), free(out), free(pass);
    elang_model_free(m);
    return 0;
}
