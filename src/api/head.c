/* A generator's encoder head (models/encoder_head.h) behind the model:
 * whether it has one, and what its score costs. The score itself is a pass
 * before decoding, run by model_decision_scores (generate.c). */
#include <math.h>

#include "api/model_internal.h"
#include "models/flops.h"

bool elang_model_has_head(const elang_model *m) { return m->head != NULL; }

double elang_model_head_gflops(const elang_model *m, int input_tokens) {
    if (!m->head) return 0.0;
    if (input_tokens < 0) return NAN;
    const model_config *c = &m->cfg;
    const flops_dims d = {.layers = c->num_layers, .hidden = c->hidden_size, .intermediate = c->intermediate_size,
                          .heads = c->num_heads, .head_dim = c->s2s.head_dim, .gated_ff = c->s2s.gated_ff};
    return (flops_seq2seq_encoder(&d, input_tokens) + encoder_head_flops(m->head)) / 1e9;
}
