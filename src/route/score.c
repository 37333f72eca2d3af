/* Routing scores computed from a model's output logits. */
#include <math.h>

#include "elang.h"

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
