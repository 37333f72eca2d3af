/* Clipped n-gram matching between two sequences of integers: the counting
 * step BLEU (over token ids) and chrF (over code points) share. */
#ifndef ELANG_EVAL_NGRAM_H
#define ELANG_EVAL_NGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NGRAM_MAX_ORDER 6

/* For n = 1..max_order (at most NGRAM_MAX_ORDER), match[n-1] gets the sum
 * over the distinct n-grams g of min(count of g in a, count of g in b): the
 * clipped matches of BLEU and chrF against one reference. False when out of
 * memory. */
bool ngram_matches(const int32_t *a, size_t na, const int32_t *b, size_t nb, int max_order,
                   int64_t *match);

/* The number of n-grams in a sequence of len items. */
static inline int64_t ngram_count(size_t len, int n) {
    return len >= (size_t)n ? (int64_t)(len - (size_t)n + 1) : 0;
}

#endif
