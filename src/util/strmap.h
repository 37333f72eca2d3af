/* A hash map from byte strings to non-negative int32: vocabularies (token ->
 * id) and BPE merge ranks. Open addressing with linear probing; keys are
 * copied into one arena so that loading a 50k-entry vocabulary costs a
 * handful of allocations, each followed by a NUL so that a vocabulary can
 * hand its tokens out as C strings (arena + off). */
#ifndef ELANG_UTIL_STRMAP_H
#define ELANG_UTIL_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t off;  /* key bytes at arena + off */
    uint32_t len;
    uint32_t hash; /* low bits of the key's hash: most mismatches end here */
    int32_t value; /* -1: empty slot */
} strmap_slot;

typedef struct {
    strmap_slot *slots;
    size_t cap, count; /* cap is 0 or a power of two */
    char *arena;
    size_t arena_len, arena_cap;
} strmap;

/* The value stored under key[0..len), or -1. */
int32_t strmap_get(const strmap *m, const void *key, size_t len);

/* Stores value (>= 0) under key, replacing any previous value; *had (when
 * not NULL) tells whether the key was already there. False when out of
 * memory or past 4 GiB of keys. */
bool strmap_put(strmap *m, const void *key, size_t len, int32_t value, bool *had);

/* Sizes the table for n keys up front, sparing the rehashes of growing one
 * key at a time. False when out of memory. */
bool strmap_reserve(strmap *m, size_t n);

void strmap_free(strmap *m);

#endif
