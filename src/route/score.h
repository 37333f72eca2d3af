/* Routing scores: how sure a model is of its output, higher = keep the
 * answer. Every kind is oriented so that one rule serves all: keep Swift's
 * answer when score >= t. */
#ifndef ELANG_ROUTE_SCORE_H
#define ELANG_ROUTE_SCORE_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    SCORE_ENERGY,          /* -E(x) = T log sum exp(f / T): the paper's energy */
    SCORE_SOFTMAX_ENERGY,  /* T log sum exp(softmax(f) / T): the authors' code */
    SCORE_MAXPROB,         /* max softmax(f) */
    SCORE_ENTROPY,         /* -H(softmax(f)), negated so that higher = surer */
    SCORE_MARGIN,          /* top-1 minus top-2 probability */
    SCORE_RANDOM,          /* a fixed pseudo-random number per input: the baseline */
    SCORE_KINDS
} score_kind;

/* The kinds computed from a distribution (all but random). */
#define DIST_SCORES SCORE_RANDOM

typedef enum { AGG_MEAN, AGG_MIN, AGG_SUM, AGG_FIRST } aggregation;

/* "energy", "softmax-energy", ...; NULL past the end. */
const char *score_name(score_kind k);
bool score_from_name(const char *name, score_kind *out);
const char *aggregation_name(aggregation a);
bool aggregation_from_name(const char *name, aggregation *out);

/* out[k] for k < DIST_SCORES, from one row of scores (logits; -inf
 * entries are excluded tokens). Computed in double. */
void distribution_scores(const float *logits, int n, double temperature, float *out);

/* Aggregates per-step scores steps[t * stride + k], t < count, of kind k
 * into one sequence score. An empty sequence scores 0. */
double aggregate_steps(const float *steps, int count, int stride, int k, aggregation a);

/* A uniform number in [0, 1) fixed by (seed, item): the random baseline's
 * score, reproducible across runs and batch orders. */
double random_score(uint64_t seed, uint64_t item);

#endif
