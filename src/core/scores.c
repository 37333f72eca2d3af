#include "core/scores.h"

#include <math.h>

double log_sum_exp(const float *x, int n, double temperature) {
    double max = -INFINITY;
    for (int i = 0; i < n; i++)
        if (x[i] > max) max = x[i];
    if (max == -INFINITY) return -INFINITY;
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += exp((x[i] - max) / temperature);
    return max + temperature * log(sum);
}

void logits_scores(const float *logits, int n, double temperature, float *out) {
    double max = -INFINITY;
    for (int i = 0; i < n; i++)
        if (logits[i] > max) max = logits[i];
    double z = 0.0;
    for (int i = 0; i < n; i++) z += exp(logits[i] - max);
    /* One pass over the probabilities p_i = exp(f_i - max) / z for the top
     * two, the entropy and the softmax-energy sum. The softmax-energy
     * exponentiates probabilities (at most 1), so it needs no shift. */
    double p1 = 0.0, p2 = 0.0, entropy = 0.0, soft = 0.0;
    for (int i = 0; i < n; i++) {
        const double p = exp(logits[i] - max) / z;
        if (p > p1) p2 = p1, p1 = p;
        else if (p > p2) p2 = p;
        if (p > 0.0) entropy -= p * log(p);
        soft += exp(p / temperature);
    }
    out[ELANG_SCORE_ENERGY] = (float)log_sum_exp(logits, n, temperature);
    out[ELANG_SCORE_SOFTMAX_ENERGY] = (float)(temperature * log(soft));
    out[ELANG_SCORE_MAXPROB] = (float)p1;
    out[ELANG_SCORE_ENTROPY] = (float)-entropy;
    out[ELANG_SCORE_MARGIN] = (float)(p1 - p2);
}
