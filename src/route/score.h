/* Routing scores (the kinds are elang_score_kind in elang.h): names,
 * aggregation of per-step scores into a sequence score, and the random
 * baseline. */
#ifndef ELANG_ROUTE_SCORE_H
#define ELANG_ROUTE_SCORE_H

#include <stdbool.h>
#include <stdint.h>

#include "elang.h"

typedef enum { AGG_MEAN, AGG_MIN, AGG_SUM, AGG_FIRST } aggregation;

/* "energy", "softmax-energy", ...; NULL past the end. */
const char *score_name(elang_score_kind k);
bool score_from_name(const char *name, elang_score_kind *out);
const char *aggregation_name(aggregation a);
bool aggregation_from_name(const char *name, aggregation *out);

/* Aggregates per-step scores steps[t * stride + k], t < count, of kind k
 * into one sequence score. An empty sequence scores 0. */
double aggregate_steps(const float *steps, int count, int stride, int k, aggregation a);

/* A uniform number in [0, 1) fixed by (seed, item): the random baseline's
 * score, reproducible across runs and batch orders. */
double random_score(uint64_t seed, uint64_t item);

#endif
