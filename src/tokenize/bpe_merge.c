#include "tokenize/bpe_merge.h"

#include <stdlib.h>

/* A pair of adjacent symbols that may merge: its rank and the position of
 * its left symbol. The heap orders by rank, then position, so that the
 * occurrences of one pair come out left to right. */
typedef struct {
    int32_t rank;
    uint32_t at;
} candidate;

/* The word being merged. Positions are indices into sym; a merge keeps the
 * left symbol's position and unlinks the right one's. */
typedef struct {
    int32_t *sym;   /* the symbol at each position, -1 once merged away */
    uint32_t *next; /* the next live position, or n at the end */
    uint32_t *prev; /* the previous live position, or n at the start */
    uint32_t n;
    candidate *heap; /* room for every pair ever pushed: n - 1, + 2 a merge */
    size_t heap_len;
} word;

static bool before(candidate a, candidate b) {
    return a.rank != b.rank ? a.rank < b.rank : a.at < b.at;
}

static void heap_push(word *w, candidate c) {
    size_t i = w->heap_len++;
    while (i > 0 && before(c, w->heap[(i - 1) / 2])) {
        w->heap[i] = w->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    w->heap[i] = c;
}

static candidate heap_pop(word *w) {
    candidate top = w->heap[0], last = w->heap[--w->heap_len];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= w->heap_len) break;
        if (child + 1 < w->heap_len && before(w->heap[child + 1], w->heap[child])) child++;
        if (!before(w->heap[child], last)) break;
        w->heap[i] = w->heap[child];
        i = child;
    }
    w->heap[i] = last;
    return top;
}

/* The rank of the pair (left, right), or -1 when no merge joins them. */
static int32_t pair_rank(const bpe_merges *m, int32_t left, int32_t right) {
    int32_t key[2] = {left, right};
    return strmap_get(&m->ranks, key, sizeof key);
}

/* Makes the pair starting at position `at` a candidate, if it has a rank. */
static void push_pair(const bpe_merges *m, word *w, uint32_t at) {
    uint32_t right = w->next[at];
    if (right == w->n) return;
    int32_t rank = pair_rank(m, w->sym[at], w->sym[right]);
    if (rank >= 0) heap_push(w, (candidate){rank, at});
}

/* Merges the pair starting at `at` if it is still there: an earlier merge
 * may have taken either symbol or changed the left one. (A rank stands for
 * one pair.) */
static bool merge_at(const bpe_merges *m, word *w, candidate c) {
    uint32_t right = w->next[c.at];
    if (w->sym[c.at] < 0 || right == w->n ||
        pair_rank(m, w->sym[c.at], w->sym[right]) != c.rank)
        return false;
    w->sym[c.at] = m->merged.v[c.rank];
    w->sym[right] = -1;
    w->next[c.at] = w->next[right];
    if (w->next[c.at] < w->n) w->prev[w->next[c.at]] = c.at;
    return true;
}

bool bpe_merge_word(const bpe_merges *m, int32_t *syms, size_t *n) {
    if (*n < 2) return true;
    if (*n >= UINT32_MAX) return false; /* its working memory alone would be 160 GiB */
    word w = {.sym = syms, .n = (uint32_t)*n};
    w.next = malloc(w.n * sizeof *w.next);
    w.prev = malloc(w.n * sizeof *w.prev);
    w.heap = malloc(3 * (size_t)w.n * sizeof *w.heap);
    uint32_t *merged = malloc(w.n * sizeof *merged); /* the positions one rank merged */
    bool ok = w.next && w.prev && w.heap && merged;
    for (uint32_t i = 0; ok && i < w.n; i++) {
        w.next[i] = i + 1;
        w.prev[i] = i > 0 ? i - 1 : w.n;
    }
    for (uint32_t i = 0; ok && i + 1 < w.n; i++) push_pair(m, &w, i);
    while (ok && w.heap_len > 0) {
        /* Every occurrence of the best pair, left to right; the pairs these
         * merges make join the heap only after. */
        int32_t rank = w.heap[0].rank;
        size_t n_merged = 0;
        while (w.heap_len > 0 && w.heap[0].rank == rank) {
            candidate c = heap_pop(&w);
            if (merge_at(m, &w, c)) merged[n_merged++] = c.at;
        }
        for (size_t k = 0; k < n_merged; k++) {
            uint32_t at = merged[k];
            if (w.prev[at] < w.n) push_pair(m, &w, w.prev[at]);
            push_pair(m, &w, at);
        }
    }
    if (ok) {
        size_t out = 0;
        for (uint32_t i = 0; i < w.n; i = w.next[i]) syms[out++] = syms[i];
        *n = out;
    }
    free(w.next);
    free(w.prev);
    free(w.heap);
    free(merged);
    return ok;
}

void bpe_merges_free(bpe_merges *m) {
    strmap_free(&m->ranks);
    i32vec_free(&m->merged);
}
