/* The CLI's inputs and outputs: numbered lines in (JSONL or plain text),
 * JSON lines out. An output file is written beside its destination and
 * renamed into place only when the command succeeds, so a failed run never
 * leaves a half-written file where a good one was; a device or a FIFO is
 * written in place, since renaming over it would replace the node itself. */
#ifndef ELANG_CLI_IO_H
#define ELANG_CLI_IO_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "util/out_file.h"

typedef struct {
    FILE *f;
    const char *command; /* for messages: "classify" */
    const char *name;    /* for messages: the path, or "stdin" */
    long line_no;        /* of the line last returned */
    char *buf;
    size_t cap;
} line_reader;

/* "-" is standard input; a directory is refused. Prints the reason and
 * returns false on failure. */
bool line_reader_open(line_reader *r, const char *command, const char *path);
/* Next line without its end-of-line ("\n" or "\r\n"), and without the
 * UTF-8 byte order mark that may start the input (an encoding signature,
 * not text); false at end of input, or on a read error or a line longer
 * than 16 MiB (then *failed is set and a message printed). */
bool line_reader_next(line_reader *r, char **line, size_t *len, bool *failed);
void line_reader_close(line_reader *r);

/* `s[0..len)` for a message, control characters and every byte beyond ASCII
 * escaped ("\r", "\x01", "\xff": the bytes may be no UTF-8 at all) and cut
 * with "..." to fit `size` bytes; returns buf. */
const char *escape_for_message(const char *s, size_t len, char *buf, size_t size);

/* One input of classify/generate. */
typedef struct {
    char *text;
    char *text_pair; /* or NULL */
    json_t *id;      /* or NULL */
    long line_no;
} cli_record;

/* Parses one input line as JSONL ({"text", "text_pair", "id"}) or, when
 * `plain_text`, as the text itself. On failure writes a message naming the
 * line into `why` and returns false. */
bool parse_record(const char *line, size_t len, long line_no, bool plain_text, bool allow_pair,
                  cli_record *rec, char *why, size_t why_size);
void free_record(cli_record *rec);

typedef struct {
    FILE *f;          /* stdout, or file.f */
    const char *command;
    const char *name; /* for messages: the path given */
    out_file file;
} output_file;

/* Whether the file at out_path (an existing regular file) is one of
 * inputs[0..n) by any path or link: writing it would replace what it is
 * made from, so a command refuses before anything runs. Prints which input
 * and returns true. A device, written in place, replaces nothing. */
typedef struct {
    const char *flag, *path; /* "--data", its value or NULL */
} named_path;
bool output_is_an_input(const char *command, const char *out_flag, const char *out_path, const named_path *inputs,
                        size_t n);

/* Whether a file can be written at path by the time a command is done:
 * not a directory, in a directory that is there. Said on stderr when not, so
 * that a long run does not end in a write that fails. */
bool out_file_usable(const char *command, const char *flag, const char *path);

/* A report directory (report.json, report.md, curve.svg), checked before
 * the models run rather than found wanting after: "-", an existing file
 * that is not a directory, a missing parent, and report files that are one
 * of inputs[0..n) are refused. Prints why and returns false. */
bool report_dir_usable(const char *command, const char *flag, const char *dir, const named_path *inputs, size_t n);

/* "-" is standard output. A regular file (or a link to one, which stays a
 * link) is written as PATH.partial beside the file and renamed over it by
 * output_commit; a device or FIFO is written in place; a directory is
 * refused. Prints the reason and returns false on failure. */
bool output_open(output_file *o, const char *command, const char *path);
/* Writes `obj` as one compact JSON line (reals with 8 significant digits). */
bool output_write(output_file *o, json_t *obj);
/* Flushes and moves the file into place; false (with a message) on failure. */
bool output_commit(output_file *o);
/* Drops a partial output file. */
void output_abort(output_file *o);

#endif
