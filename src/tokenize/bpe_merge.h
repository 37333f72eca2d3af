/* The merge step of byte-level BPE (RobertaTokenizer.bpe()) on the symbols
 * of one word, in O(n log n) for n symbols: the adjacent pairs wait in a
 * heap ordered by rank, the symbols form a linked list.
 *
 * bpe() repeatedly takes the pair with the lowest rank among the current
 * symbols and merges all its occurrences, left to right and without
 * overlap ("a a a" gives "aa a"), before it looks for the next pair; a
 * pair that a merge creates waits until then, even when its rank is
 * lower. A symbol is a number (bpe.c numbers the strings).
 */
#ifndef ELANG_TOKENIZE_BPE_MERGE_H
#define ELANG_TOKENIZE_BPE_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/i32vec.h"
#include "util/strmap.h"

typedef struct {
    strmap ranks;  /* (left, right) symbol numbers as 8 bytes -> merge rank */
    i32vec merged; /* rank -> symbol number of left + right, -1 for a blank line */
} bpe_merges;

/* Merges syms[0..*n) in place; *n becomes the number of symbols left.
 * False when out of memory. */
bool bpe_merge_word(const bpe_merges *m, int32_t *syms, size_t *n);

void bpe_merges_free(bpe_merges *m);

#endif
