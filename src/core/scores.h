/* What a row of logits says about the model's confidence: the E-LANG energy
 * and the other routing scores, computed once here for every caller (the
 * classifier head, each generated token, the router). Everything runs in
 * double: vocabularies of 50k logits lose digits in float sums. */
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

#endif
