/* A growable UTF-8 string, NUL-terminated once anything (even "") has been
 * appended: decoded text is built in one. Growth reports allocation
 * failure to the caller, as i32vec does. */
#ifndef ELANG_UTIL_STRBUF_H
#define ELANG_UTIL_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *s;
    size_t len, cap; /* cap counts the NUL */
} strbuf;

/* Makes room for `extra` more bytes and the NUL; false when out of memory. */
static inline bool strbuf_reserve(strbuf *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) return false;
    b->s = s;
    b->cap = cap;
    return true;
}

static inline bool strbuf_append(strbuf *b, const char *s, size_t len) {
    if (!strbuf_reserve(b, len)) return false;
    if (len) memcpy(b->s + b->len, s, len);
    b->len += len;
    b->s[b->len] = '\0';
    return true;
}

static inline bool strbuf_puts(strbuf *b, const char *s) {
    return strbuf_append(b, s, strlen(s));
}

static inline void strbuf_free(strbuf *b) {
    free(b->s);
    *b = (strbuf){0};
}

/* str.replace(from, to) for a `to` no longer than `from`, in place from
 * byte `start` on: non-overlapping occurrences, left to right. */
void strbuf_replace(strbuf *b, size_t start, const char *from, const char *to);

/* str.strip() of the bytes from `start` on: removes the leading and
 * trailing characters that str.isspace() accepts. */
void strbuf_py_strip(strbuf *b, size_t start);

#endif
