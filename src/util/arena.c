#include "util/arena.h"

#include <assert.h>
#include <stdlib.h>

#define ARENA_ALIGN 64

static size_t round_up(size_t n) { return (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN; }

void arena_measure(arena *a) {
    a->used = 0;
    a->measuring = true;
}

bool arena_commit(arena *a) {
    const size_t need = a->used;
    a->used = 0;
    if (need > a->cap) {
        /* Grow by half again, so that batches creeping up in size do not
         * reallocate every time. The old contents need not survive. */
        const size_t cap = round_up(need + need / 2);
        char *base = aligned_alloc(ARENA_ALIGN, cap);
        if (!base) return false;
        free(a->base);
        a->base = base;
        a->cap = cap;
    }
    a->measuring = false;
    return true;
}

void *arena_take(arena *a, size_t bytes) {
    const size_t at = a->used;
    a->used += round_up(bytes);
    if (a->measuring) return NULL;
    assert(a->used <= a->cap);
    return a->base + at;
}

void arena_free(arena *a) {
    free(a->base);
    *a = (arena){0};
}
