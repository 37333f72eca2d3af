/* elang classify: JSONL (or plain text) in, one JSON line per input out, in
 * input order. Inputs are read in chunks so a large file streams through
 * in bounded memory while each chunk is still batched by length. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/io.h"
#include "elang.h"

typedef struct {
    const char *model, *input, *output, *format;
    int batch_size, threads, max_length;
    double temperature;
    bool emit_ids;
} classify_flags;

static json_t *int_array(const int32_t *v, int n) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_integer(v[i]));
    return a;
}

static json_t *float_array(const float *v, int n) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_real(v[i]));
    return a;
}

static json_t *result_json(const elang_model *m, const cli_record *rec, const elang_class_out *o,
                           bool emit_ids) {
    const int L = elang_model_num_labels(m);
    json_t *obj = json_object();
    if (rec->id) json_object_set(obj, "id", rec->id);
    json_object_set_new(obj, "label", json_string(elang_model_label(m, o->label_id)));
    json_object_set_new(obj, "label_id", json_integer(o->label_id));
    json_object_set_new(obj, "logits", float_array(o->logits, L));
    json_object_set_new(obj, "probs", float_array(o->probs, L));
    json_object_set_new(obj, "energy", json_real(o->energy));
    if (emit_ids) {
        json_object_set_new(obj, "input_ids", int_array(o->input_ids, o->num_tokens));
        if (o->token_type_ids)
            json_object_set_new(obj, "token_type_ids", int_array(o->token_type_ids, o->num_tokens));
    }
    return obj;
}

/* Classifies recs[0..n) and writes their results; false after printing why. */
static bool flush_chunk(elang_model *m, const classify_flags *fl, cli_record *recs, size_t n,
                        const char *input_name, output_file *out) {
    if (n == 0) return true;
    elang_text *texts = calloc(n, sizeof *texts);
    elang_class_out *res = calloc(n, sizeof *res);
    bool ok = texts && res;
    if (!ok) fprintf(stderr, "elang classify: out of memory\n");
    for (size_t i = 0; ok && i < n; i++) texts[i] = (elang_text){recs[i].text, recs[i].text_pair};
    if (ok) {
        elang_classify_opts opts = {.batch_size = fl->batch_size, .temperature = fl->temperature};
        elang_error err;
        if (elang_classify(m, texts, n, &opts, res, &err) != ELANG_OK) {
            if (err.item >= 0)
                fprintf(stderr, "elang classify: %s line %ld: %s\n", input_name, recs[err.item].line_no,
                        err.message);
            else
                fprintf(stderr, "elang classify: %s\n", err.message);
            ok = false;
        } else {
            for (size_t i = 0; ok && i < n; i++) {
                json_t *obj = result_json(m, &recs[i], &res[i], fl->emit_ids);
                ok = output_write(out, obj);
                json_decref(obj);
            }
            elang_class_out_free(res, n);
        }
    }
    free(texts);
    free(res);
    return ok;
}

static bool classify_stream(elang_model *m, const classify_flags *fl, line_reader *in,
                            output_file *out) {
    const size_t chunk = (size_t)fl->batch_size * 8 > 256 ? (size_t)fl->batch_size * 8 : 256;
    cli_record *recs = calloc(chunk, sizeof *recs);
    if (!recs) {
        fprintf(stderr, "elang classify: out of memory\n");
        return false;
    }
    const bool plain = strcmp(fl->format, "text") == 0;
    size_t n = 0, total = 0;
    bool ok = true, read_failed = false;
    char *line;
    size_t len;
    while (ok && line_reader_next(in, &line, &len, &read_failed)) {
        if (!plain && len == 0) continue; /* blank JSONL lines carry nothing */
        char why[512];
        if (!parse_record(line, len, in->line_no, plain, true, &recs[n], why, sizeof why)) {
            fprintf(stderr, "elang classify: %s %s\n", in->name, why);
            ok = false;
            break;
        }
        total++;
        if (++n == chunk) {
            ok = flush_chunk(m, fl, recs, n, in->name, out);
            while (n) free_record(&recs[--n]);
        }
    }
    if (ok && !read_failed) ok = flush_chunk(m, fl, recs, n, in->name, out);
    while (n) free_record(&recs[--n]);
    free(recs);
    if (ok && !read_failed && total == 0) {
        fprintf(stderr, "elang classify: %s holds no inputs\n", in->name);
        ok = false;
    }
    return ok && !read_failed;
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
        {"threads", FLAG_INT, &fl.threads, 0, 1024, NULL, "worker threads; 0 = all cores (default)", "N"},
        {"max-length", FLAG_INT, &fl.max_length, 3, 1 << 20, NULL, "truncate inputs to N tokens (default: the model's limit)", "N"},
        {"temperature", FLAG_DOUBLE, &fl.temperature, 1e-6, 1e6, NULL, "T of the energy -T*log(sum(exp(logits/T))) (default 1)", "T"},
        {"emit-ids", FLAG_BOOL, &fl.emit_ids, 0, 0, NULL, "also output input_ids (and token_type_ids)", NULL},
        {0},
    };
    const char *synopsis = "--model DIR [--input FILE|-] [--output FILE|-] [flags]";
    int rc = parse_flags("classify", synopsis, argc, argv, flags);
    if (rc) return rc == 1 ? 0 : 2;
    if (!fl.model) {
        fprintf(stderr, "elang classify: --model DIR is required\n");
        return 2;
    }

    elang_model *m = NULL;
    elang_error err;
    elang_load_opts lo = {.threads = fl.threads, .max_length = fl.max_length};
    if (elang_model_load(fl.model, &lo, &m, &err) != ELANG_OK) {
        fprintf(stderr, "elang classify: %s\n", err.message);
        return 1;
    }
    line_reader in;
    output_file out;
    bool ok = line_reader_open(&in, fl.input);
    if (ok) {
        ok = output_open(&out, fl.output);
        if (ok) {
            ok = classify_stream(m, &fl, &in, &out);
            if (ok) ok = output_commit(&out);
            else output_abort(&out);
        }
        line_reader_close(&in);
    }
    elang_model_free(m);
    return ok ? 0 : 1;
}
