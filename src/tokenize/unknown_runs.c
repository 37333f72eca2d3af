#include "tokenize/unknown_runs.h"

#include <stdlib.h>

#include <utf8proc.h>

#define N_CODE_POINTS 0x110000

bool unknown_runs_init(unknown_runs *u) {
    return (u->known = calloc(N_CODE_POINTS / 8, 1)) != NULL;
}

void unknown_runs_mark(void *u, int32_t c) {
    uint8_t *known = ((unknown_runs *)u)->known;
    known[c >> 3] |= (uint8_t)(1u << (c & 7));
}

void unknown_runs_mark_token(unknown_runs *u, const char *token, size_t len) {
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)token;
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t c;
        utf8proc_ssize_t got = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &c);
        if (got <= 0) {
            i++;
            continue;
        }
        unknown_runs_mark(u, c);
        i += (size_t)got;
    }
}

size_t unknown_runs_cut(const unknown_runs *u, char *text, size_t len) {
    if (!u->known || len <= UNKNOWN_RUN_KEEP) return len;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)text;
    size_t out = 0, run = 0;
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t c;
        utf8proc_ssize_t got = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &c);
        /* A byte that is not UTF-8 (never in text decoded by utf8_decode)
         * is kept and ends a run. */
        bool unknown = got > 0 && !(u->known[c >> 3] >> (c & 7) & 1);
        if (got <= 0) got = 1;
        run = unknown ? run + 1 : 0;
        if (run <= UNKNOWN_RUN_KEEP)
            for (utf8proc_ssize_t k = 0; k < got; k++) text[out++] = text[i + (size_t)k];
        i += (size_t)got;
    }
    return out;
}

void unknown_runs_free(unknown_runs *u) {
    free(u->known);
    u->known = NULL;
}
