#include "cli/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void report_error(const char *command, const char *input_name, const cli_record *recs,
                  const elang_error *err) {
    if (err->item >= 0)
        fprintf(stderr, "elang %s: %s line %ld: %s\n", command, input_name, recs[err->item].line_no,
                err->message);
    else
        fprintf(stderr, "elang %s: %s\n", command, err->message);
}

static bool stream_records(const stream_job *job, line_reader *in, output_file *out) {
    cli_record *recs = calloc(job->chunk, sizeof *recs);
    if (!recs) {
        fprintf(stderr, "elang %s: out of memory\n", job->command);
        return false;
    }
    size_t n = 0, total = 0;
    bool ok = true, read_failed = false;
    char *line;
    size_t len;
    while (ok && line_reader_next(in, &line, &len, &read_failed)) {
        if (!job->plain_text && len == 0) continue; /* blank JSONL lines carry nothing */
        char why[512];
        if (!parse_record(line, len, in->line_no, job->plain_text, job->allow_pair, &recs[n], why, sizeof why)) {
            fprintf(stderr, "elang %s: %s %s\n", job->command, in->name, why);
            ok = false;
            break;
        }
        total++;
        if (++n == job->chunk) {
            ok = job->handle(job->ctx, recs, n, in->name, out);
            while (n) free_record(&recs[--n]);
        }
    }
    if (ok && !read_failed && n > 0) ok = job->handle(job->ctx, recs, n, in->name, out);
    while (n) free_record(&recs[--n]);
    free(recs);
    if (ok && !read_failed && total == 0) {
        fprintf(stderr, "elang %s: %s holds no inputs\n", job->command, in->name);
        ok = false;
    }
    return ok && !read_failed;
}

int run_stream(const stream_job *job) {
    line_reader in;
    output_file out;
    const named_path inputs[] = {{"--input", job->input}, {"--calibration", job->calibration}};
    if (strcmp(job->output, "-") != 0 && output_is_an_input(job->command, "--output", job->output, inputs, 2)) return 2;
    if (!line_reader_open(&in, job->command, job->input)) return 1;
    bool ok = output_open(&out, job->command, job->output);
    if (ok) {
        ok = stream_records(job, &in, &out);
        if (ok) ok = output_commit(&out);
        else output_abort(&out);
    }
    line_reader_close(&in);
    return ok ? 0 : 1;
}
