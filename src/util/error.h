/* Error reporting shared by every layer: one status code plus a message that
 * names the file, tensor or field at fault.
 *
 * Inside the library `err` may be NULL (the public API allows it): these
 * functions then only return the status, so a failure is never lost with
 * its message. */
#ifndef ELANG_UTIL_ERROR_H
#define ELANG_UTIL_ERROR_H

#include "elang.h"

/* Sets err (when not NULL) to code and a printf-style message; returns code so
 * that callers can write `return elang_fail(err, ELANG_ERR_IO, "...", ...);`. */
elang_status elang_fail(elang_error *err, elang_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends context ("loading model.safetensors: ") to the message of a
 * failure with status `code` already reported in err; returns code. */
elang_status elang_error_prefix(elang_error *err, elang_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Marks err as being about input number `item` of a call over many inputs;
 * returns code. */
elang_status elang_error_item(elang_error *err, elang_status code, long item);

/* Zeroes out[0..n), `size` bytes each, before a call over n inputs fills
 * them, so that a failure leaves nothing to free. Refuses missing inputs
 * or outputs (NULL with n > 0) and an n whose bytes would overflow. */
elang_status outputs_clear(void *out, size_t n, size_t size, const void *in, elang_error *err);

#endif
