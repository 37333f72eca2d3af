#include "core/scores.h"

#include <math.h>

#include "core/kernels.h"

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

/* The same scores from a row's statistics, with p = softmax(x): -E =
 * T log Σ exp(x/T); T log Σ exp(p/T); max p = 1/z (the maximum's own term
 * is exp(0)); -H = Σ p log p = Σ e·(x - max) / z - log z; p1 - p2. */
static void scores_of(const logit_stats *st, double temperature, float *out) {
    const double p1 = 1.0 / st->z, p2 = st->second == -INFINITY ? 0.0 : exp((double)st->second - st->max) / st->z;
    out[ELANG_SCORE_ENERGY] = (float)(st->max + temperature * log(st->z_t));
    out[ELANG_SCORE_SOFTMAX_ENERGY] = (float)(temperature * log(st->soft));
    out[ELANG_SCORE_MAXPROB] = (float)p1;
    out[ELANG_SCORE_ENTROPY] = (float)(st->wx / st->z - log(st->z));
    out[ELANG_SCORE_MARGIN] = (float)(p1 - p2);
}

void step_statistics(const float *logits, int n, double temperature, double *lse, double *energy, float *scores) {
    logit_stats st;
    kernels()->logit_stats(logits, n, (float)temperature, scores != NULL, &st);
    *lse = st.max == -INFINITY ? -INFINITY : st.max + log(st.z);
    *energy = st.max == -INFINITY ? INFINITY : -(st.max + temperature * log(st.z_t));
    if (scores) scores_of(&st, temperature, scores);
}
