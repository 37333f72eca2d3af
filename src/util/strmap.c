#include "util/strmap.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_bytes(const void *key, size_t len) {
    const unsigned char *p = key;
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 1099511628211ULL;
    /* FNV's low bits, which pick the slot, only see the low bits of later
     * bytes; fold the high half in so that 8-byte BPE pair keys spread. */
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ULL;
    return h ^ (h >> 32);
}

/* The slot holding key, or the empty slot where it would go. */
static strmap_slot *find(const strmap *m, const void *key, size_t len, uint64_t hash) {
    size_t i = (size_t)hash & (m->cap - 1);
    for (;;) {
        strmap_slot *s = &m->slots[i];
        if (s->value < 0) return s;
        if (s->hash == (uint32_t)hash && s->len == len &&
            memcmp(m->arena + s->off, key, len) == 0)
            return s;
        i = (i + 1) & (m->cap - 1);
    }
}

int32_t strmap_get(const strmap *m, const void *key, size_t len) {
    return m->cap ? find(m, key, len, hash_bytes(key, len))->value : -1;
}

/* Rehashes into cap slots (a power of two, at least twice the count). */
static bool resize(strmap *m, size_t cap) {
    strmap_slot *old = m->slots;
    size_t old_cap = m->cap;
    m->slots = malloc(cap * sizeof *m->slots);
    if (!m->slots) {
        m->slots = old;
        return false;
    }
    for (size_t i = 0; i < cap; i++) m->slots[i].value = -1;
    m->cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].value >= 0)
            *find(m, m->arena + old[i].off, old[i].len, hash_bytes(m->arena + old[i].off, old[i].len)) = old[i];
    free(old);
    return true;
}

bool strmap_reserve(strmap *m, size_t n) {
    size_t cap = m->cap ? m->cap : 64;
    while (cap < 2 * n) cap *= 2;
    return cap == m->cap || resize(m, cap);
}

bool strmap_put(strmap *m, const void *key, size_t len, int32_t value, bool *had) {
    if (len >= UINT32_MAX || m->arena_len + len >= UINT32_MAX) return false;
    /* Keep the load factor under 1/2 so that probe runs stay short. */
    if (2 * (m->count + 1) > m->cap && !resize(m, m->cap ? 2 * m->cap : 64)) return false;
    uint64_t hash = hash_bytes(key, len);
    strmap_slot *s = find(m, key, len, hash);
    if (had) *had = s->value >= 0;
    if (s->value >= 0) {
        s->value = value;
        return true;
    }
    if (m->arena_len + len + 1 > m->arena_cap) {
        size_t cap = m->arena_cap ? m->arena_cap : 4096;
        while (cap < m->arena_len + len + 1) cap *= 2;
        char *a = realloc(m->arena, cap);
        if (!a) return false;
        m->arena = a;
        m->arena_cap = cap;
    }
    if (len) memcpy(m->arena + m->arena_len, key, len);
    m->arena[m->arena_len + len] = '\0';
    *s = (strmap_slot){(uint32_t)m->arena_len, (uint32_t)len, (uint32_t)hash, value};
    m->arena_len += len + 1;
    m->count++;
    return true;
}

void strmap_free(strmap *m) {
    free(m->slots);
    free(m->arena);
    *m = (strmap){0};
}
