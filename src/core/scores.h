/* What a row of logits says about the model's confidence: the E-LANG energy
 * and the other routing scores, computed here for every caller. A
 * classifier's few logits and the public functions get them exactly, in
 * double; a generated token's step, a whole vocabulary of logits each time,
 * gets them from one set of vector passes (core/kernels.h), float sums with
 * a relative error near 1e-7. */
#ifndef ELANG_CORE_SCORES_H
#define ELANG_CORE_SCORES_H

#include "elang.h"

/* T·log Σᵢ exp(xᵢ/T) over x[0..n), shifted by the maximum so that large
 * logits do not overflow; -inf entries (excluded tokens) count as nothing;
 * -inf when every entry is -inf. E(x) is its negation. */
double log_sum_exp(const float *x, int n, double temperature);

/* out[k], k < ELANG_DIST_SCORES: every distribution score of one row of
 * logits at temperature T, each oriented so that higher means surer (see
 * elang_score_kind). */
void logits_scores(const float *logits, int n, double temperature, float *out);

/* What generation records of each token's step, from the vector passes: the
 * log-partition at T = 1 (log-probabilities are x - *lse), the energy at T,
 * and every routing score when scores is not NULL. Returns the first index
 * of the largest logit (greedy search's pick), -1 for a row of -inf. */
int step_statistics(const float *logits, int n, double temperature, double *lse, double *energy, float *scores);

#endif
