#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

elang_status elang_fail(elang_error *err, elang_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->code = code;
        err->item = -1;
    }
    return code;
}

elang_status elang_error_prefix(elang_error *err, elang_status code, const char *fmt, ...) {
    if (!err) return code;
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
    err->code = code;
    return code;
}

elang_status elang_error_item(elang_error *err, elang_status code, long item) {
    if (err) err->item = item;
    return code;
}

elang_status outputs_clear(void *out, size_t n, size_t size, const void *in, elang_error *err) {
    if (n == 0) return ELANG_OK;
    if (!in || !out) return elang_fail(err, ELANG_ERR_INVALID_ARG, "%zu inputs but no %s", n, in ? "outputs" : "inputs");
    if (n > SIZE_MAX / size) return elang_fail(err, ELANG_ERR_INVALID_ARG, "%zu inputs are more than memory holds", n);
    memset(out, 0, n * size);
    return ELANG_OK;
}
