#include "route/aggregate.h"

#include <string.h>

static const char *const aggregation_names[] = {"mean", "min", "sum", "first", "prompt"};

const char *elang_aggregation_name(elang_aggregation a) {
    return a >= ELANG_AGG_MEAN && a <= ELANG_AGG_PROMPT ? aggregation_names[a] : NULL;
}

bool elang_aggregation_from_name(const char *name, elang_aggregation *out) {
    for (int a = ELANG_AGG_MEAN; a <= ELANG_AGG_PROMPT; a++)
        if (strcmp(name, aggregation_names[a]) == 0) {
            *out = (elang_aggregation)a;
            return true;
        }
    return false;
}

double aggregate_steps(const float *steps, int count, int stride, int k, elang_aggregation a) {
    if (count <= 0) return 0.0;
    double acc = steps[k];
    for (int t = 1; t < count; t++) {
        const double v = steps[(long)t * stride + k];
        if (a == ELANG_AGG_MIN) acc = v < acc ? v : acc;
        else if (a != ELANG_AGG_FIRST && a != ELANG_AGG_PROMPT) acc += v;
    }
    return a == ELANG_AGG_MEAN ? acc / count : acc;
}

double random_score(uint64_t seed, uint64_t item) {
    /* splitmix64 finaliser over the pair: fast, well mixed, no state. */
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + item + 1;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    x ^= x >> 31;
    return (double)(x >> 11) / 9007199254740992.0; /* 53 bits / 2^53 */
}
