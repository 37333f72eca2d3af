/* Error reporting shared by every layer: one status code plus a message that
 * names the file, tensor or field at fault. */
#ifndef ELANG_CORE_ERROR_H
#define ELANG_CORE_ERROR_H

#include "elang.h"

/* Sets err (when not NULL) to code and a printf-style message; returns code so
 * that callers can write `return elang_fail(err, ELANG_ERR_IO, "...", ...);`. */
elang_status elang_fail(elang_error *err, elang_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends context ("loading model.safetensors: ") to an error already set. */
elang_status elang_error_prefix(elang_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void elang_error_clear(elang_error *err);

#endif
