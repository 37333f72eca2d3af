#include "core/scores.h"

#include <math.h>

#include "core/kernels.h"

/* logit_stats (core/kernels.h) in double, one term at a time: exact for
 * the few logits of a classifier. */
static void exact_stats(const float *x, int n, double temperature, logit_stats *st) {
    *st = (logit_stats){.max = -INFINITY, .second = -INFINITY};
    for (int i = 0; i < n; i++) {
        if (x[i] > st->max) st->second = st->max, st->max = x[i];
        else if (x[i] > st->second) st->second = x[i];
    }
    if (st->max == -INFINITY) return;
    for (int i = 0; i < n; i++) {
        if (x[i] == -INFINITY) continue;
        const double d = (double)x[i] - st->max, e = exp(d);
        st->z += e, st->wx += e * d, st->z_t += exp(d / temperature);
    }
    for (int i = 0; i < n; i++) st->soft += exp((x[i] == -INFINITY ? 0.0 : exp((double)x[i] - st->max) / st->z) / temperature);
}

/* The scores from a row's statistics, with p = softmax(x): -E =
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

double log_sum_exp(const float *x, int n, double temperature) {
    logit_stats st;
    exact_stats(x, n, temperature, &st);
    return st.max == -INFINITY ? -INFINITY : st.max + temperature * log(st.z_t);
}

void logits_scores(const float *logits, int n, double temperature, float *out) {
    logit_stats st;
    exact_stats(logits, n, temperature, &st);
    scores_of(&st, temperature, out);
}

int step_statistics(const float *logits, int n, double temperature, double *lse, double *energy, float *scores) {
    logit_stats st;
    kernels()->logit_stats(logits, n, (float)temperature, scores != NULL, &st);
    *lse = st.max == -INFINITY ? -INFINITY : st.max + log(st.z);
    *energy = st.max == -INFINITY ? INFINITY : -(st.max + temperature * log(st.z_t));
    if (scores) scores_of(&st, temperature, scores);
    return st.argmax;
}
