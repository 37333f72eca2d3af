#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *elang_status_name(elang_status s) {
    switch (s) {
    case ELANG_OK: return "ok";
    case ELANG_ERR_IO: return "I/O error";
    case ELANG_ERR_FORMAT: return "format error";
    case ELANG_ERR_UNSUPPORTED: return "unsupported";
    case ELANG_ERR_INVALID_ARG: return "invalid argument";
    case ELANG_ERR_INPUT: return "invalid input";
    case ELANG_ERR_NOMEM: return "out of memory";
    }
    return "unknown error";
}

elang_status elang_fail(elang_error *err, elang_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

elang_status elang_error_prefix(elang_error *err, const char *fmt, ...) {
    if (!err) return ELANG_OK;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Shift the message right to make room; if too long, its tail is cut. */
    size_t cap = sizeof err->message - 1;
    size_t n = strnlen(prefix, cap);
    size_t old_len = strnlen(err->message, cap);
    if (old_len > cap - n) old_len = cap - n;
    memmove(err->message + n, err->message, old_len);
    memcpy(err->message, prefix, n);
    err->message[n + old_len] = '\0';
    return err->code;
}

void elang_error_clear(elang_error *err) {
    if (err) {
        err->code = ELANG_OK;
        err->message[0] = '\0';
    }
}
