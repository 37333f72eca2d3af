/* Corpus BLEU exactly as sacreBLEU 2.x computes it with its defaults: the
 * 13a tokenizer (mteval-v13a), mixed case, n-grams up to 4, 'exp'
 * smoothing, no effective order, one reference per hypothesis.
 *
 * BLEU is a corpus metric: the score comes from statistics summed over the
 * sentences, never from averaging sentence scores. The statistics of each
 * sentence are exposed so that a caller choosing, per sentence, between two
 * systems' outputs can add and remove sentences without re-tokenizing:
 *
 *     bleu_stats total = {0}, s;
 *     for each i: bleu_sentence_stats(hyp[i], ref[i], &s, err); bleu_stats_add(&total, &s);
 *     bleu_result r = bleu_from_stats(&total);
 */
#ifndef ELANG_EVAL_BLEU_H
#define ELANG_EVAL_BLEU_H

#include <stddef.h>
#include <stdint.h>

#include "elang.h"

#define BLEU_MAX_ORDER 4

/* sacreBLEU's sufficient statistics [sys_len, ref_len, correct..., total...]. */
typedef struct {
    int64_t hyp_len, ref_len;         /* tokens after 13a tokenization */
    int64_t correct[BLEU_MAX_ORDER];  /* n-gram matches, clipped by the reference's counts */
    int64_t total[BLEU_MAX_ORDER];    /* n-grams of the hypothesis */
} bleu_stats;

typedef struct {
    double score;                         /* 0..100 */
    double precisions[BLEU_MAX_ORDER];    /* percent, after smoothing */
    double bp;                            /* brevity penalty */
    double ratio;                         /* hyp_len / ref_len; 0 when ref_len is 0 */
} bleu_result;

/* The 13a tokenization of one segment as BLEU sees it (trailing whitespace
 * stripped first, tokens joined by single spaces), malloc'ed. Invalid UTF-8:
 * ELANG_ERR_INPUT. */
elang_status bleu_tokenize_13a(const char *text, char **out, elang_error *err);

/* The statistics of one hypothesis against its reference (UTF-8). Invalid
 * UTF-8: ELANG_ERR_INPUT naming the hypothesis or reference and the byte. */
elang_status bleu_sentence_stats(const char *hyp, const char *ref, bleu_stats *out,
                                 elang_error *err);

void bleu_stats_add(bleu_stats *acc, const bleu_stats *s);
void bleu_stats_sub(bleu_stats *acc, const bleu_stats *s);

/* BLEU from (summed) statistics: sacreBLEU's BLEU.compute_bleu with 'exp'
 * smoothing. */
bleu_result bleu_from_stats(const bleu_stats *s);

/* The summed statistics of n segments; errors name the segment (1-based)
 * and set err->item to its index. */
elang_status bleu_corpus(const char *const *hyps, const char *const *refs, size_t n,
                         bleu_stats *total, elang_error *err);

#endif
