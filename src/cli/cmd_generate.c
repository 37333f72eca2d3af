/* elang generate: JSONL (or plain text) in, one JSON line per input out:
 * the decoded text, the ids, and per generated token its log-probability and
 * the energy of its step. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/fail.h"
#include "cli/io.h"
#include "cli/model_flags.h"
#include "cli/stream.h"
#include "elang.h"
#include "route/answer_json.h"

typedef struct {
    const char *model, *input, *output, *format, *prefix, *dtype, *stop;
    int threads, max_length;
    bool emit_ids, profile;
    elang_gen_opts gen;
} generate_flags;

typedef struct {
    elang_model *model;
    const generate_flags *flags;
} generate_ctx;

static bool generate_chunk(void *ctx, const cli_record *recs, size_t n, const char *input_name,
                           output_file *out) {
    const generate_ctx *c = ctx;
    elang_text *texts = calloc(n, sizeof *texts);
    elang_gen_out *res = calloc(n, sizeof *res);
    bool ok = texts && res;
    if (!ok) fprintf(stderr, "elang generate: out of memory\n");
    for (size_t i = 0; ok && i < n; i++) texts[i] = (elang_text){recs[i].text, NULL};
    elang_error err;
    if (ok && elang_generate(c->model, texts, n, &c->flags->gen, res, &err) != ELANG_OK) {
        report_error("generate", input_name, recs, &err);
        ok = false;
    } else if (ok) {
        for (size_t i = 0; ok && i < n; i++) {
            json_t *obj = gen_out_json(recs[i].id, &res[i], c->flags->emit_ids);
            ok = output_write(out, obj);
            json_decref(obj);
        }
        elang_gen_out_free(res, n);
    }
    free(texts);
    free(res);
    return ok;
}

int cmd_generate(int argc, char **argv) {
    generate_flags fl = {.input = "-", .output = "-", .format = "json", .gen = elang_gen_opts_default()};
    /* 0 until given: the default may shrink to what the model can generate. */
    fl.gen.max_new_tokens = 0;
    const flag_spec flags[] = {
        {"model", FLAG_STRING, &fl.model, 0, 0, NULL, "Hugging Face T5, Marian, GPT-2, Llama or Qwen2 directory (required)", "DIR"},
        {"input", FLAG_STRING, &fl.input, 0, 0, NULL, "inputs, one per line; - for stdin (default)", "FILE"},
        {"output", FLAG_STRING, &fl.output, 0, 0, NULL, "results, one JSON line per input; - for stdout", "FILE"},
        {"format", FLAG_CHOICE, &fl.format, 0, 0, "json|text", "input lines are JSON objects (default) or raw text", "json|text"},
        {"num-beams", FLAG_INT, &fl.gen.num_beams, 1, 64, NULL, "beam width; 1 = greedy (default)", "N"},
        {"max-new-tokens", FLAG_INT, &fl.gen.max_new_tokens, 1, 4096, NULL, "tokens to generate at most (default 64)", "N"},
        {"length-penalty", FLAG_DOUBLE, &fl.gen.length_penalty, -100, 100, NULL, "beam score = logprob sum / length^X (default 1)", "X"},
        {"no-early-stopping", FLAG_BOOL, &fl.gen.no_early_stopping, 0, 0, NULL, "keep searching after num_beams hypotheses end", NULL},
        {"batch-size", FLAG_INT, &fl.gen.batch_size, 1, 4096, NULL, "inputs decoded together (default 16)", "N"},
        {"threads", FLAG_INT, &fl.threads, 0, 1024, NULL, "worker threads; 0 = all CPUs, fewer while others hold some (default)", "N"},
        DTYPE_FLAG_SPEC(fl.dtype),
        PROFILE_FLAG_SPEC(fl.profile),
        {"max-length", FLAG_INT, &fl.max_length, 1, 1 << 20, NULL, "truncate sources to N tokens (default: the model's limit)", "N"},
        {"temperature", FLAG_DOUBLE, &fl.gen.temperature, 1e-6, 1e6, NULL, "T of the per-token energies (default 1)", "T"},
        {"prefix", FLAG_TEXT, &fl.prefix, 0, 0, NULL, "text put before every input (T5's task prefix)", "TEXT"},
        {"emit-ids", FLAG_BOOL, &fl.emit_ids, 0, 0, NULL, "also output input_ids", NULL},
        {"stop", FLAG_TEXT, &fl.stop, 0, 0, NULL, "end an input's generation once its text holds TEXT (greedy)", "TEXT"},
        {0},
    };
    const char *synopsis = "--model DIR [--input FILE|-] [--output FILE|-] [flags]";
    int rc = parse_flags("generate", synopsis, argc, argv, flags);
    if (rc) return rc == 1 ? 0 : 2;
    if (!fl.model) {
        fprintf(stderr, "elang generate: --model DIR is required\n");
        return 2;
    }
    /* In the options 0 means the default; on the command line it means 0. */
    if (fl.gen.length_penalty == 0.0) fl.gen.length_penalty = ELANG_LENGTH_PENALTY_NONE;
    const char *stops[1] = {fl.stop};
    if (fl.stop && !fl.stop[0]) {
        fprintf(stderr, "elang generate: --stop needs a non-empty text\n");
        return 2;
    }
    if (fl.stop && fl.gen.num_beams > 1) {
        fprintf(stderr, "elang generate: --stop works with greedy search, not with --num-beams %d\n", fl.gen.num_beams);
        return 2;
    }
    if (fl.stop) fl.gen.stop = stops, fl.gen.num_stop = 1;

    elang_model *m = NULL;
    elang_error err;
    elang_load_opts lo = {.threads = fl.threads, .max_length = fl.max_length, .input_prefix = fl.prefix,
                          .dtype = dtype_of_flag(fl.dtype)};
    if (elang_model_load(fl.model, &lo, &m, &err) != ELANG_OK) return cli_fail("generate", "", &err);
    if (!elang_model_is_generator(m)) {
        fprintf(stderr, "elang generate: %s is a %s classifier; use elang classify\n", fl.model,
                elang_model_type(m));
        elang_model_free(m);
        return 2;
    }
    const char *source = fl.gen.max_new_tokens ? "--max-new-tokens" : NULL;
    if (!source) fl.gen.max_new_tokens = elang_gen_opts_default().max_new_tokens;
    if (fit_max_new_tokens("generate", &m, 1, &fl.gen.max_new_tokens, source) != 0) {
        elang_model_free(m);
        return 2;
    }
    generate_ctx ctx = {m, &fl};
    const stream_job job = {
        .command = "generate", .input = fl.input, .output = fl.output,
        .plain_text = strcmp(fl.format, "text") == 0, .allow_pair = false,
        .chunk = (size_t)fl.gen.batch_size * 8 > 128 ? (size_t)fl.gen.batch_size * 8 : 128,
        .handle = generate_chunk, .ctx = &ctx,
    };
    rc = run_stream(&job);
    if (fl.profile) print_profile("generate", m);
    elang_model_free(m);
    return rc;
}
