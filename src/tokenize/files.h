/* Reading the tokenizer files of a model directory, with errors that name
 * the file (and the line, for malformed content). */
#ifndef ELANG_TOKENIZE_FILES_H
#define ELANG_TOKENIZE_FILES_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "elang.h"

/* dir + "/" + name into buf, which holds TOK_PATH_MAX bytes. */
#define TOK_PATH_MAX 4096
elang_status tok_path(char *buf, const char *dir, const char *name, elang_error *err);

bool tok_file_exists(const char *path);

/* ELANG_ERR_IO "cannot open PATH: reason" unless path is a regular file,
 * for files read by code that does not report errors this way. */
elang_status tok_require_file(const char *path, elang_error *err);

/* The whole file, NUL-terminated (malloc'ed); ELANG_ERR_IO when unreadable. */
elang_status tok_read_file(const char *path, char **data, size_t *len, elang_error *err);

/* Parses a JSON file with jansson `flags`: ELANG_ERR_IO when unreadable,
 * ELANG_ERR_FORMAT naming the line when malformed. */
elang_status tok_load_json(const char *path, size_t flags, json_t **out, elang_error *err);

/* Splits text into lines the way Python's text mode reads them: "\n",
 * "\r\n" and "\r" all end a line (universal newlines). Returns false at the
 * end; *terminated tells whether the line had an end-of-line. */
bool tok_next_line(const char **p, const char *end, const char **line, size_t *len,
                   bool *terminated);

#endif
