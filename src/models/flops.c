#include "models/flops.h"

static double attention_width(const flops_dims *d) {
    return d->head_dim > 0 ? (double)d->heads * d->head_dim : d->hidden;
}

/* The FF's matrix products per token: (m+1) of H×I. */
static double ff_per_token(const flops_dims *d) {
    return 2.0 * (d->gated_ff ? 3 : 2) * d->hidden * d->intermediate;
}

/* One self-attention layer over s tokens attending to each other. */
static double layer(const flops_dims *d, double s) {
    double h = d->hidden, a = attention_width(d);
    return s * (2.0 * 4 * h * a + ff_per_token(d)) + 4.0 * s * s * a;
}

double flops_encoder_classifier(const flops_dims *d, long seq_len) {
    double h = d->hidden;
    return d->layers * layer(d, (double)seq_len) + 2.0 * h * h + 2.0 * h * d->num_labels;
}

double flops_seq2seq(const flops_dims *d, long src_len, long steps) {
    double h = d->hidden, a = attention_width(d), s = (double)src_len, t = (double)steps;
    double encoder = flops_seq2seq_encoder(d, src_len);
    double cross_kv = 2.0 * s * 2 * h * a;
    double per_step = 2.0 * (4 * h * a + 2 * h * a) + ff_per_token(d) + 4.0 * s * a;
    /* Self-attention over t tokens at step t: 4·A·(1 + 2 + ... + T). */
    double self_attention = 4.0 * a * t * (t + 1) / 2;
    double decoder = d->decoder_layers * (cross_kv + t * per_step + self_attention);
    return encoder + decoder + t * 2.0 * h * d->vocab;
}

double flops_seq2seq_encoder(const flops_dims *d, long src_len) { return d->layers * layer(d, (double)src_len); }

double flops_causal(const flops_dims *d, long prompt_len, long steps) {
    const double h = d->hidden, a = attention_width(d), s = (double)prompt_len;
    const double k = d->kv_heads > 0 ? a / d->heads * d->kv_heads : a;
    const double per_token = 2.0 * (2 * h * a + 2 * h * k) + ff_per_token(d);
    const double head = 2.0 * h * d->vocab;
    const double prefill = d->layers * (s * per_token + 4.0 * s * s * a) + head;
    /* Step t attends to S + t keys: 4·A·Σ(S + t) over t = 1 .. n. */
    const double n = steps > 1 ? (double)(steps - 1) : 0.0;
    const double attention = 4.0 * a * (n * s + n * (n + 1) / 2);
    return prefill + d->layers * (n * per_token + attention) + n * head;
}
