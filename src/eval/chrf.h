/* Corpus chrF exactly as sacreBLEU 2.x computes it with its defaults
 * (chrF2): character n-grams of orders 1..6, no word n-grams, beta 2,
 * whitespace removed, mixed case, no eps smoothing (precision and recall
 * averaged over the orders that have n-grams on both sides), one reference.
 *
 * Like BLEU, the corpus score comes from statistics summed over the
 * sentences; the per-sentence statistics can be added and removed. */
#ifndef ELANG_EVAL_CHRF_H
#define ELANG_EVAL_CHRF_H

#include <stddef.h>
#include <stdint.h>

#include "elang.h"

#define CHRF_CHAR_ORDER 6
#define CHRF_BETA 2

/* sacreBLEU's [hyp, ref, match] triple for each order n = 1..6 (index n-1).
 * Characters are Unicode code points. hyp[n-1] is 0 when the reference has
 * no n-gram of that order, as sacreBLEU counts it. */
typedef struct {
    int64_t hyp[CHRF_CHAR_ORDER];
    int64_t ref[CHRF_CHAR_ORDER];
    int64_t match[CHRF_CHAR_ORDER];
} chrf_stats;

/* The statistics of one hypothesis against its reference (UTF-8). Invalid
 * UTF-8: ELANG_ERR_INPUT naming the hypothesis or reference and the byte. */
elang_status chrf_sentence_stats(const char *hyp, const char *ref, chrf_stats *out,
                                 elang_error *err);

void chrf_stats_add(chrf_stats *acc, const chrf_stats *s);
void chrf_stats_sub(chrf_stats *acc, const chrf_stats *s);

/* chrF2 (0..100) from (summed) statistics: sacreBLEU's
 * CHRF._compute_f_score without eps smoothing. */
double chrf_from_stats(const chrf_stats *s);

/* The summed statistics of n segments; errors name the segment (1-based)
 * and set err->item to its index. */
elang_status chrf_corpus(const char *const *hyps, const char *const *refs, size_t n,
                         chrf_stats *total, elang_error *err);

#endif
