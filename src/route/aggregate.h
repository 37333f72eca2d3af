/* From per-token scores to one score per input, and the random baseline. */
#ifndef ELANG_ROUTE_AGGREGATE_H
#define ELANG_ROUTE_AGGREGATE_H

#include <stdint.h>

#include "elang.h"

/* Aggregates per-step scores steps[t * stride + k], t < count, of kind k
 * into one sequence score. An empty sequence scores 0. */
double aggregate_steps(const float *steps, int count, int stride, int k, elang_aggregation a);

/* A uniform number in [0, 1) fixed by (seed, item): the random baseline's
 * score, reproducible across runs and batch orders. */
double random_score(uint64_t seed, uint64_t item);

#endif
