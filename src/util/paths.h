/* Paths a file records to other files (a calibration's data and models):
 * relative to the recording file's folder, so the files can move
 * together, and turned back into paths from the working directory. Paths
 * are compared as text once made absolute ("a/../b" is "b"), as Python's
 * os.path.relpath does, so a link in them is kept, not replaced by what
 * it points to; the recording file's own folder is its real one (a file
 * written through a link lives where the link points). */
#ifndef ELANG_UTIL_PATHS_H
#define ELANG_UTIL_PATHS_H

/* The path from directory `dir` to `target` ("../../shared/x.tsv"), both
 * made absolute from the working directory; "." when they are the same.
 * NULL when memory runs out or the working directory cannot be had. */
char *path_relative(const char *dir, const char *target);

/* What a file at `file` records for `path` (from the working directory):
 * the path from the file's folder. Absolute paths, URLs and "" are
 * recorded as they are; for a file that is no regular file (a device such
 * as /dev/stdout, a pipe), whose folder says nothing, the path made
 * absolute. NULL when memory runs out. */
char *path_for_file(const char *file, const char *path);

/* `recorded`, as path_for_file recorded it in `file`, as a path from the
 * working directory; absolute ones, URLs and "" as they are, and for a file
 * read from a device or pipe, the recorded text itself. NULL when memory
 * runs out. */
char *path_from_file(const char *file, const char *recorded);

#endif
