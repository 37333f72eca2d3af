/* The routing scores' public names and their computation from logits
 * (core/scores.c does the arithmetic). */
#include <string.h>

#include "core/scores.h"
#include "elang.h"

static const char *const score_names[ELANG_SCORE_KINDS] = {
    "energy", "softmax-energy", "maxprob", "entropy", "margin", "random", "encoder-head",
};

const char *elang_score_name(elang_score_kind k) { return k >= 0 && k < ELANG_SCORE_KINDS ? score_names[k] : NULL; }

bool elang_score_from_name(const char *name, elang_score_kind *out) {
    for (int k = 0; k < ELANG_SCORE_KINDS; k++)
        if (strcmp(name, score_names[k]) == 0) {
            *out = (elang_score_kind)k;
            return true;
        }
    return false;
}

double elang_energy(const float *logits, int n, double temperature) {
    return -log_sum_exp(logits, n, temperature);
}

void elang_scores(const float *logits, int n, double temperature, float *out) {
    logits_scores(logits, n, temperature, out);
}
