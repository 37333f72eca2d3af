/* Times elang_generate's greedy decoding on a generator's model directory
 * (T5, Marian or a decoder-only LM) and a JSONL file of sources or prompts
 * ({"text": ...} per line):
 *
 *   bench_generate MODEL SOURCES.jsonl THREADS BATCH REPS DTYPE MAX_NEW PREFIX [OUT.jsonl]
 *
 * Loads the model once (DTYPE f32, bf16 or int8; PREFIX before every
 * source, e.g. T5's "translate English to German: ", "" for none), runs one
 * untimed pass, then REPS timed passes of greedy decoding (max_new_tokens
 * MAX_NEW, BATCH inputs decoded together), and prints one JSON object: the
 * median pass, the tokens actually generated (min and max per input, so a
 * caller can check that none stopped early), tokens/s, the GFLOP/s achieved
 * (elang_model_gflops of each input's source length and decoder steps) and
 * the peak resident memory. OUT.jsonl, if given, gets each input's source
 * ids and generated ids (the peers decode the same sources and are checked
 * against them).
 *
 * For a decoder-only model it also times REPS passes that generate one
 * token (the prompt into the key/value cache and the first token: "prompt
 * processing"), so that decoding's own rate is (tokens − inputs) / (median
 * pass − median one-token pass): the split llama.cpp's llama-bench reports
 * as pp and tg, derived the same way for every engine in bench/. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "elang.h"
#include "bench_util.h"

static void write_ids(FILE *f, const char *name, const int32_t *ids, int n) {
    fprintf(f, "\"%s\": [", name);
    for (int t = 0; t < n; t++) fprintf(f, "%s%d", t ? ", " : "", ids[t]);
    fprintf(f, "]");
}

/* One untimed pass, then `reps` timed ones; returns the median seconds and
 * leaves the last pass's results in out. runs (if not NULL) gets the
 * passes' times, sorted. A failure ends the program: the inputs are the
 * benchmark's own. */
static double timed_passes(elang_model *m, const elang_text *in, size_t n, const elang_gen_opts *go, int reps,
                           elang_gen_out *out, double *runs) {
    double *pass = runs ? runs : calloc(reps, sizeof *pass);
    elang_error err;
    for (int r = -1; r < reps; r++) {
        const double t0 = now();
        if (elang_generate(m, in, n, go, out, &err) != ELANG_OK) {
            fprintf(stderr, "bench_generate: %s\n", err.message);
            exit(1);
        }
        if (r >= 0) pass[r] = now() - t0;
        if (r < reps - 1) elang_gen_out_free(out, n);
    }
    const double s = median(pass, reps);
    if (!runs) free(pass);
    return s;
}

int main(int argc, char **argv) {
    if (argc < 9 || argc > 10) {
        fprintf(stderr, "usage: bench_generate MODEL SOURCES.jsonl THREADS BATCH REPS f32|bf16|int8 MAX_NEW PREFIX [OUT.jsonl]\n");
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
    const elang_load_opts lo = {.threads = threads, .dtype = dtype, .input_prefix = argv[8][0] ? argv[8] : NULL};
    if (elang_model_load(argv[1], &lo, &m, &err) != ELANG_OK) {
        fprintf(stderr, "bench_generate: %s\n", err.message);
        return 1;
    }
    elang_gen_out *out = calloc(n, sizeof *out);
    elang_gen_opts go = elang_gen_opts_default();
    go.num_beams = 1, go.batch_size = batch;
    const bool causal = elang_model_is_causal(m);
    double prefill = 0;
    if (causal) {
        go.max_new_tokens = 1;
        prefill = timed_passes(m, in, n, &go, reps, out, NULL);
        elang_gen_out_free(out, n);
    }
    go.max_new_tokens = max_new;
    double *pass = calloc(reps, sizeof *pass);
    const double s = timed_passes(m, in, n, &go, reps, out, pass);

    /* An encoder-decoder's num_ids counts the decoder start token:
     * generated = num_ids - 1, which is also the number of decoder steps run.
     * A decoder-only model's ids are the generated tokens alone. */
    const int start = causal ? 0 : 1;
    long tokens = 0, source_tokens = 0;
    int fewest = out[0].num_ids - start, most = fewest;
    double gflop = 0;
    for (size_t i = 0; i < n; i++) {
        const int g = out[i].num_ids - start;
        tokens += g, source_tokens += out[i].num_input_ids;
        if (g < fewest) fewest = g;
        if (g > most) most = g;
        gflop += elang_model_gflops(m, out[i].num_input_ids, g);
    }
    if (argc == 10) {
        FILE *f = fopen(argv[9], "w");
        if (!f) {
            fprintf(stderr, "bench_generate: cannot write %s\n", argv[9]);
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

    printf("{\"engine\": \"elang\", \"dtype\": \"%s\", \"threads\": %d, \"batch\": %d, \"inputs\": %zu, "
           "\"source_tokens\": %ld, \"tokens\": %ld, \"min_new_tokens\": %d, \"max_new_tokens\": %d, \"runs\": [",
           elang_dtype_name(dtype), elang_model_threads(m), batch, n, source_tokens, tokens, fewest, most);
    for (int r = 0; r < reps; r++) printf("%s%.4f", r ? ", " : "", pass[r]);
    printf("], \"seconds\": %.4f, \"tokens_per_s\": %.2f, \"gflop\": %.2f, \"gflops\": %.1f, ", s, tokens / s, gflop,
           gflop / s);
    if (causal)
        printf("\"prefill_seconds\": %.4f, \"prompt_tokens_per_s\": %.2f, \"decode_tokens_per_s\": %.2f, ", prefill,
               source_tokens / prefill, (tokens - (double)n) / (s - prefill));
    printf("\"peak_rss_mb\": %.1f}\n", ru.ru_maxrss / 1024.0);

    elang_gen_out_free(out, n);
    for (size_t i = 0; i < n; i++) free((char *)in[i].text);
    free(in), free(out), free(pass);
    elang_model_free(m);
    return 0;
}
