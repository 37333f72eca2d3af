/* Run state carved from one block, the way llama2.c's malloc_run_state
 * sizes everything once: a forward pass or a generation takes its buffers
 * from the model's arena and allocates nothing. The block grows only when a
 * larger batch than any before comes, and is freed with the model.
 *
 * The layout is written once, as a carving function that takes every buffer
 * in turn; it runs twice:
 *
 *     arena_measure(a);                 // count the bytes the layout needs
 *     carve(a, &state, dims);
 *     if (!arena_commit(a)) ... out of memory
 *     carve(a, &state, dims);           // now the pointers are real
 *
 * While measuring, arena_take returns NULL: a carving function only assigns
 * pointers, it never writes through them. */
#ifndef ELANG_UTIL_ARENA_H
#define ELANG_UTIL_ARENA_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *base;
    size_t cap;       /* bytes of the block */
    size_t used;      /* taken so far in this pass */
    bool measuring;
} arena;

/* Starts a counting pass. */
void arena_measure(arena *a);
/* Makes the block at least as large as the pass counted and starts a
 * carving pass; false when out of memory (the old block is kept). */
bool arena_commit(arena *a);
/* `bytes` from the block, 64-byte aligned (AVX-512 loads); NULL while
 * measuring. Taking past the committed size is a bug in the caller: the
 * carving passes must take the same buffers. */
void *arena_take(arena *a, size_t bytes);
void arena_free(arena *a);

#endif
