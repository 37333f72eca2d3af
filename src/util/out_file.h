/* Writing a file so that a failure loses nothing. A regular file, or a link
 * to one (which stays a link), is written as PATH.partial beside the file and
 * renamed over it once complete: a full disk or a killed process never
 * leaves a truncated file where a good one was. A device or a FIFO
 * (/dev/stdout, /dev/null) is written in place, never replaced by a file; a
 * directory is refused. */
#ifndef ELANG_UTIL_OUT_FILE_H
#define ELANG_UTIL_OUT_FILE_H

#include <stdio.h>

#include "elang.h"

typedef struct {
    FILE *f;
    const char *name; /* for messages: the path given */
    char *path;       /* the file renamed into place; NULL when written in place */
    char *tmp_path;
} out_file;

/* ELANG_ERR_IO naming the path when it cannot be written. */
elang_status out_file_open(out_file *o, const char *path, elang_error *err);
/* Flushes, closes and moves the file into place; ELANG_ERR_IO on failure
 * (a write error the buffering had hidden included), the partial file gone. */
elang_status out_file_commit(out_file *o, elang_error *err);
/* Closes and drops the partial file. */
void out_file_abort(out_file *o);

#endif
