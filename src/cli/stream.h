/* The loop every model command shares: read numbered inputs in chunks,
 * hand each chunk to the command, write its JSON lines, and commit the
 * output only if everything succeeded. */
#ifndef ELANG_CLI_STREAM_H
#define ELANG_CLI_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/io.h"
#include "elang.h"

/* Runs the model on recs[0..n) and writes one JSON line per record, in
 * order. Returns false after printing why. */
typedef bool (*chunk_handler)(void *ctx, const cli_record *recs, size_t n, const char *input_name,
                              output_file *out);

typedef struct {
    const char *command;  /* for messages: "classify" */
    const char *input, *output;
    const char *calibration; /* read by the command too (or NULL): the output may not replace it */
    bool plain_text;      /* --format text */
    bool allow_pair;      /* whether "text_pair" is meaningful */
    size_t chunk;         /* inputs handed over at once */
    chunk_handler handle;
    void *ctx;
} stream_job;

/* Returns the exit code: 0, or 1 after printing the reason. */
int run_stream(const stream_job *job);

/* Prints a library error, naming the input line when the error names an input. */
void report_error(const char *command, const char *input_name, const cli_record *recs,
                  const elang_error *err);

#endif
