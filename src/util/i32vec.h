/* A growable array of int32: code points while a text is being processed,
 * token ids once it is tokenized. Growth reports allocation failure to the
 * caller instead of aborting, like every other allocation in the library. */
#ifndef ELANG_UTIL_I32VEC_H
#define ELANG_UTIL_I32VEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct {
    int32_t *v;
    size_t len, cap;
} i32vec;

/* Makes room for `extra` more elements; false when out of memory. */
static inline bool i32vec_reserve(i32vec *a, size_t extra) {
    if (a->len + extra <= a->cap) return true;
    size_t cap = a->cap ? a->cap : 16;
    while (cap < a->len + extra) cap *= 2;
    int32_t *v = realloc(a->v, cap * sizeof *v);
    if (!v) return false;
    a->v = v;
    a->cap = cap;
    return true;
}

static inline bool i32vec_push(i32vec *a, int32_t x) {
    if (!i32vec_reserve(a, 1)) return false;
    a->v[a->len++] = x;
    return true;
}

static inline void i32vec_free(i32vec *a) {
    free(a->v);
    *a = (i32vec){0};
}

#endif
