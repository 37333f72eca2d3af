/* Helpers shared by the cmocka tests: where the shared fixtures are, reading
 * a fixture's cases.jsonl, and running the CLI. */
#ifndef ELANG_TESTS_SUPPORT_H
#define ELANG_TESTS_SUPPORT_H

#include <jansson.h>
#include <stddef.h>

#include "tokenize/tokenizer.h"

/* ../shared (or $ELANG_SHARED) joined with `rel`; static buffer per call. */
const char *shared_path(const char *rel);
/* The CLI under test ($ELANG_BIN, default build/elang). */
const char *elang_bin(void);
/* A fresh temporary directory (removed by test_tmpdir_cleanup). */
const char *test_tmpdir(void);
void test_tmpdir_cleanup(void);

/* Every line of a JSONL file, parsed; *n gets the count. Fails the test on
 * error, and when the file holds no row. */
json_t **read_jsonl(const char *path, size_t *n);
void free_jsonl(json_t **rows, size_t n);

/* Runs `cmd` through the shell, capturing stdout and stderr (malloc'ed,
 * NUL-terminated; either may be NULL). Returns the exit status. */
int run_command(const char *cmd, char **out, char **err);

/* Writes `len` bytes to path; fails the test on error. */
void write_file(const char *path, const void *data, size_t len);
/* Reads a whole file (malloc'ed, NUL-terminated); fails the test on error. */
char *read_file_all(const char *path, size_t *len);

/* An empty directory test_tmpdir()/name, emptied if it was there (static
 * buffer). */
const char *test_dir(const char *name);
/* Writes content to dir/name; returns the path (static buffer). */
const char *test_dir_file(const char *dir, const char *name, const char *content);
/* A fresh directory `name` holding copies of these files of src_dir. */
const char *test_dir_copy(const char *src_dir, const char *name, const char *const *names,
                          size_t n);

/* The tokenizer of dir; fails the test on error. */
tokenizer *tokenizer_from_dir(const char *dir, const char *model_type);

/* For tests whose failure would be a hang rather than a wrong answer:
 * unless watchdog_stop() comes within `seconds`, the test binary stops
 * with a message naming `what` and exit status 1, which tests/run.sh
 * counts as a failure. */
void watchdog_start(const char *what, unsigned seconds);
void watchdog_stop(void);

#include <stdint.h>

/* A safetensors file whose header is given verbatim. */
void write_raw_safetensors(const char *path, const char *header, const void *data, size_t data_len);

typedef struct {
    const char *name;
    const char *dtype; /* "F32", "F16", ... */
    int ndim;
    const int64_t *shape;
    const void *data;
    size_t nbytes;
} tensor_spec;

/* A well-formed safetensors file: tensors stored back to back, header padded
 * with spaces to a multiple of 8 as the reference writer does. */
void write_safetensors(const char *path, const tensor_spec *t, size_t n);

#endif
