#include "route/score.h"

#include <math.h>
#include <string.h>

#include "elang.h"

static const char *const score_names[ELANG_SCORE_KINDS] = {
    "energy", "softmax-energy", "maxprob", "entropy", "margin", "random",
};
static const char *const aggregation_names[] = {"mean", "min", "sum", "first"};

const char *elang_score_name(elang_score_kind k) { return k >= 0 && k < ELANG_SCORE_KINDS ? score_names[k] : NULL; }

int elang_score_from_name(const char *name, elang_score_kind *out) {
    for (int k = 0; k < ELANG_SCORE_KINDS; k++)
        if (strcmp(name, score_names[k]) == 0) {
            *out = (elang_score_kind)k;
            return 1;
        }
    return 0;
}

const char *elang_aggregation_name(elang_aggregation a) { return a >= ELANG_AGG_MEAN && a <= ELANG_AGG_FIRST ? aggregation_names[a] : NULL; }

int elang_aggregation_from_name(const char *name, elang_aggregation *out) {
    for (int a = ELANG_AGG_MEAN; a <= ELANG_AGG_FIRST; a++)
        if (strcmp(name, aggregation_names[a]) == 0) {
            *out = (elang_aggregation)a;
            return 1;
        }
    return 0;
}

double elang_energy(const float *logits, int n, double temperature) {
    /* log-sum-exp shifted by the maximum: exp() of raw logits overflows for
     * the large vocabularies of seq2seq models. */
    double max = -INFINITY;
    for (int i = 0; i < n; i++)
        if (logits[i] > max) max = logits[i];
    if (max == -INFINITY) return INFINITY;
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += exp((logits[i] - max) / temperature);
    return -(max + temperature * log(sum));
}

void elang_scores(const float *logits, int n, double temperature, float *out) {
    double max = -INFINITY;
    for (int i = 0; i < n; i++)
        if (logits[i] > max) max = logits[i];
    double z = 0.0;
    for (int i = 0; i < n; i++) z += exp(logits[i] - max);
    /* One pass over the probabilities p_i = exp(f_i - max) / z for the
     * top two, the entropy and the softmax-energy sum. The softmax-energy
     * exponentiates probabilities (at most 1), so it needs no shift. */
    double p1 = 0.0, p2 = 0.0, entropy = 0.0, soft = 0.0;
    for (int i = 0; i < n; i++) {
        const double p = exp(logits[i] - max) / z;
        if (p > p1) p2 = p1, p1 = p;
        else if (p > p2) p2 = p;
        if (p > 0.0) entropy -= p * log(p);
        soft += exp(p / temperature);
    }
    out[ELANG_SCORE_ENERGY] = (float)-elang_energy(logits, n, temperature);
    out[ELANG_SCORE_SOFTMAX_ENERGY] = (float)(temperature * log(soft));
    out[ELANG_SCORE_MAXPROB] = (float)p1;
    out[ELANG_SCORE_ENTROPY] = (float)-entropy;
    out[ELANG_SCORE_MARGIN] = (float)(p1 - p2);
}

double aggregate_steps(const float *steps, int count, int stride, int k, elang_aggregation a) {
    if (count <= 0) return 0.0;
    double acc = steps[k];
    for (int t = 1; t < count; t++) {
        const double v = steps[(long)t * stride + k];
        if (a == ELANG_AGG_MIN) acc = v < acc ? v : acc;
        else if (a != ELANG_AGG_FIRST) acc += v;
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
