#include "util/strbuf.h"

#include <utf8proc.h>

#include "util/unicode.h"

void strbuf_replace(strbuf *b, size_t start, const char *from, const char *to) {
    size_t nf = strlen(from), nt = strlen(to), out = start;
    for (size_t i = start; i < b->len;) {
        if (b->len - i >= nf && memcmp(b->s + i, from, nf) == 0) {
            memmove(b->s + out, to, nt);
            out += nt;
            i += nf;
        } else {
            b->s[out++] = b->s[i++];
        }
    }
    b->len = out;
    if (b->s) b->s[out] = '\0';
}

void strbuf_py_strip(strbuf *b, size_t start) {
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)b->s;
    size_t lo = start, hi = b->len;
    while (lo < hi) {
        utf8proc_int32_t c;
        utf8proc_ssize_t n = utf8proc_iterate(s + lo, (utf8proc_ssize_t)(hi - lo), &c);
        if (n <= 0 || !uni_py_isspace(c)) break;
        lo += (size_t)n;
    }
    while (hi > lo) {
        size_t k = hi - 1; /* back to the first byte of the last character */
        while (k > lo && (s[k] & 0xC0) == 0x80) k--;
        utf8proc_int32_t c;
        if (utf8proc_iterate(s + k, (utf8proc_ssize_t)(hi - k), &c) <= 0 || !uni_py_isspace(c))
            break;
        hi = k;
    }
    if (lo > start) memmove(b->s + start, b->s + lo, hi - lo);
    b->len = start + (hi - lo);
    if (b->s) b->s[b->len] = '\0';
}
