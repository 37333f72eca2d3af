/* elang classify: JSONL (or plain text) in, one JSON line per input out, in
 * input order. Inputs are read in chunks so a large file streams through
 * in bounded memory while each chunk is still batched by length. A text
 * generator classifies by label words (--label-words): its first decoding
 * step's logits of the words' first tokens. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/model_flags.h"
#include "cli/fail.h"
#include "cli/io.h"
#include "cli/label_words.h"
#include "cli/stream.h"
#include "elang.h"
#include "route/answer_json.h"

typedef struct {
    const char *model, *input, *output, *format, *dtype, *prefix, *pair_infix, *label_words;
    int batch_size, threads, max_length;
    double temperature;
    bool emit_ids, profile;
} classify_flags;

typedef struct {
    elang_model *model;
    const classify_flags *flags;
    const label_words *words; /* n = 0: the model's own labels */
} classify_ctx;

/* Classifies one chunk and writes its results in input order. */
static bool classify_chunk(void *ctx, const cli_record *recs, size_t n, const char *input_name,
                           output_file *out) {
    const classify_ctx *c = ctx;
    elang_text *texts = calloc(n, sizeof *texts);
    elang_class_out *res = calloc(n, sizeof *res);
    bool ok = texts && res;
    if (!ok) fprintf(stderr, "elang classify: out of memory\n");
    for (size_t i = 0; ok && i < n; i++) texts[i] = (elang_text){recs[i].text, recs[i].text_pair};
    elang_classify_opts opts = {.batch_size = c->flags->batch_size, .temperature = c->flags->temperature,
                                .label_words = c->words->n ? c->words->words : NULL,
                                .num_label_words = c->words->n};
    elang_error err;
    if (ok && elang_classify(c->model, texts, n, &opts, res, &err) != ELANG_OK) {
        report_error("classify", input_name, recs, &err);
        ok = false;
    } else if (ok) {
        for (size_t i = 0; ok && i < n; i++) {
            json_t *obj = class_out_json(c->model, opts.label_words, opts.num_label_words, recs[i].id, &res[i],
                                         c->flags->emit_ids);
            ok = output_write(out, obj);
            json_decref(obj);
        }
        elang_class_out_free(res, n);
    }
    free(texts);
    free(res);
    return ok;
}

int cmd_classify(int argc, char **argv) {
    classify_flags fl = {.input = "-", .output = "-", .format = "json", .batch_size = 32,
                         .temperature = 1.0};
    const flag_spec flags[] = {
        {"model", FLAG_STRING, &fl.model, 0, 0, NULL, "Hugging Face model directory (required)", "DIR"},
        {"input", FLAG_STRING, &fl.input, 0, 0, NULL, "inputs, one per line; - for stdin (default)", "FILE"},
        {"output", FLAG_STRING, &fl.output, 0, 0, NULL, "results, one JSON line per input; - for stdout", "FILE"},
        {"format", FLAG_CHOICE, &fl.format, 0, 0, "json|text", "input lines are JSON objects (default) or raw text", "json|text"},
        {"batch-size", FLAG_INT, &fl.batch_size, 1, 4096, NULL, "inputs per forward pass (default 32)", "N"},
        {"threads", FLAG_INT, &fl.threads, 0, 1024, NULL, "worker threads; 0 = all CPUs, fewer while others hold some (default)", "N"},
        DTYPE_FLAG_SPEC(fl.dtype),
        PROFILE_FLAG_SPEC(fl.profile),
        {"max-length", FLAG_INT, &fl.max_length, 3, 1 << 20, NULL, "truncate inputs to N tokens (default: the model's limit)", "N"},
        {"temperature", FLAG_DOUBLE, &fl.temperature, 1e-6, 1e6, NULL, "T of the energy -T*log(sum(exp(logits/T))) (default 1)", "T"},
        {"emit-ids", FLAG_BOOL, &fl.emit_ids, 0, 0, NULL, "also output input_ids (and token_type_ids)", NULL},
        {"label-words", FLAG_TEXT, &fl.label_words, 0, 0, NULL,
         "text generators: the classes as words, in order, comma-separated (required for them)", "W,W"},
        {"prefix", FLAG_TEXT, &fl.prefix, 0, 0, NULL,
         "text put before every input (T5's task prefix), or a template holding {text}", "TEXT"},
        {"pair-infix", FLAG_TEXT, &fl.pair_infix, 0, 0, NULL,
         "text generators: text put between a pair's two texts (T5 on GLUE: \" sentence2: \")", "TEXT"},
        {0},
    };
    const char *synopsis = "--model DIR [--input FILE|-] [--output FILE|-] [flags]";
    int rc = parse_flags("classify", synopsis, argc, argv, flags);
    if (rc) return rc == 1 ? 0 : 2;
    if (!fl.model) {
        fprintf(stderr, "elang classify: --model DIR is required\n");
        return 2;
    }

    label_words words = {0};
    if (fl.label_words && !label_words_parse("classify", fl.label_words, &words)) {
        label_words_free(&words);
        return 2;
    }

    elang_model *m = NULL;
    elang_error err;
    elang_load_opts lo = {.threads = fl.threads, .max_length = fl.max_length, .dtype = dtype_of_flag(fl.dtype),
                          .input_prefix = fl.prefix, .pair_infix = fl.pair_infix};
    if (elang_model_load(fl.model, &lo, &m, &err) != ELANG_OK) {
        label_words_free(&words);
        return cli_fail("classify", "", &err);
    }
    /* The model is fine; the flags do not fit it. */
    const bool generator = elang_model_is_generator(m), misfit = generator ? !words.n : words.n || fl.pair_infix;
    if (generator && misfit)
        fprintf(stderr, "elang classify: %s is a %s text generator: give its classes as --label-words (e.g. "
                "negative,positive), or use elang generate\n", fl.model, elang_model_type(m));
    else if (misfit)
        fprintf(stderr, "elang classify: %s is for text generators; %s is a %s classifier, %s\n",
                words.n ? "--label-words" : "--pair-infix", fl.model, elang_model_type(m),
                words.n ? "with labels of its own" : "whose tokenizer joins a pair itself");
    if (misfit) {
        elang_model_free(m);
        label_words_free(&words);
        return 2;
    }
    if (words.n && (rc = label_words_fit("classify", m, words.words, words.n)) != 0) {
        elang_model_free(m);
        label_words_free(&words);
        return rc;
    }
    classify_ctx ctx = {m, &fl, &words};
    const stream_job job = {
        .command = "classify", .input = fl.input, .output = fl.output,
        .plain_text = strcmp(fl.format, "text") == 0, .allow_pair = true,
        .chunk = (size_t)fl.batch_size * 8 > 256 ? (size_t)fl.batch_size * 8 : 256,
        .handle = classify_chunk, .ctx = &ctx,
    };
    rc = run_stream(&job);
    if (fl.profile) print_profile("classify", m);
    elang_model_free(m);
    label_words_free(&words);
    return rc;
}
