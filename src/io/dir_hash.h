/* A content hash of a model directory, so that a calibration can refuse to
 * be applied to other models than it was made for. */
#ifndef ELANG_IO_DIR_HASH_H
#define ELANG_IO_DIR_HASH_H

#include "elang.h"

/* 16 hex digits and a NUL into out. Every regular file counts, in name
 * order, with its name and content; other entries (directories, FIFOs,
 * sockets, devices) are skipped without being opened, and a symbolic link
 * counts as the file it points to. */
elang_status dir_hash(const char *dir, char out[17], elang_error *err);

#endif
