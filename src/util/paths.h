/* Paths a file records to other files (a calibration's data and models):
 * relative to the recording file's folder, so the files can move
 * together, and turned back into paths from the working directory. */
#ifndef ELANG_UTIL_PATHS_H
#define ELANG_UTIL_PATHS_H

/* The path from directory `dir` to `target` ("../../shared/x.tsv"), both
 * resolved first (symbolic links, "..") so the answer holds on the file
 * system; "." when they are the same. NULL when either cannot be resolved
 * or memory runs out. */
char *path_relative(const char *dir, const char *target);

/* `recorded`, a path relative to the folder of `file` (`file` itself from
 * the working directory), as a path from the working directory: resolved
 * and made relative to it when it exists, else the two joined. Absolute
 * and empty paths come back as they are. NULL when memory runs out. */
char *path_from_file(const char *file, const char *recorded);

/* What a file at `file` records for `path` (from the working directory):
 * path_relative from the file's folder, or, when that cannot be resolved,
 * the path made absolute, which means the same from anywhere. Empty and
 * absolute paths as they are. NULL when memory runs out. */
char *path_for_file(const char *file, const char *path);

#endif
