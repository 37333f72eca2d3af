/* Reading the tokenizer files of a model directory, with errors that name
 * the file (and the line, for malformed content). */
#ifndef ELANG_UTIL_FILES_H
#define ELANG_UTIL_FILES_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "elang.h"

/* dir + "/" + name into buf, which holds FILE_PATH_MAX bytes. */
#define FILE_PATH_MAX 4096
elang_status file_path_join(char *buf, const char *dir, const char *name, elang_error *err);

bool file_exists(const char *path);

/* For a file a model directory may leave out: *present false when there
 * is nothing at path, true when a regular file is there; anything else at
 * path (a link to nothing, a directory, a FIFO, a device: a partial
 * download or a mistake) is ELANG_ERR_IO naming it, rather than taken for
 * absent, which would silently change what the model computes. */
elang_status file_optional(const char *path, bool *present, elang_error *err);

/* ELANG_ERR_IO "cannot open PATH: reason" unless path is a regular file,
 * for files read by code that does not report errors this way. */
elang_status file_require(const char *path, elang_error *err);

/* The whole file, NUL-terminated (malloc'ed); ELANG_ERR_IO when unreadable
 * or not a regular file. */
elang_status file_read_all(const char *path, char **data, size_t *len, elang_error *err);

/* What went wrong parsing JSON, for a message: the place (with_line: line
 * and column, else column only) and jansson's reason, or that a whole number
 * is beyond 64 bits (jansson's only limit on valid JSON). */
void json_error_describe(const json_error_t *je, bool with_line, char *buf, size_t size);

/* Parses a JSON file with jansson `flags`: ELANG_ERR_IO when unreadable or
 * not a regular file (a directory, a FIFO), ELANG_ERR_FORMAT naming the line
 * and column when malformed, or a leading byte order mark. */
elang_status file_load_json(const char *path, size_t flags, json_t **out, elang_error *err);

/* Splits text into lines the way Python's text mode reads them: "\n",
 * "\r\n" and "\r" all end a line (universal newlines). Returns false at the
 * end; *terminated tells whether the line had an end-of-line. */
bool text_next_line(const char **p, const char *end, const char **line, size_t *len,
                   bool *terminated);

#endif
