/* Rotary position embeddings (RoPE), as Llama, Mistral and Qwen2 apply them
 * to queries and keys: transformers' LlamaRotaryEmbedding (the "default"
 * rope type) and apply_rotary_pos_emb. Feature i of a head turns with
 * feature i + d/2 ("rotate_half"), not with its neighbour as in the
 * RoFormer paper, by the angle pos · theta^(-2i/d). */
#ifndef ELANG_CORE_ROPE_H
#define ELANG_CORE_ROPE_H

#include "elang.h"

typedef struct {
    int head_dim;       /* d: every feature of a head turns */
    int max_positions;  /* P: positions the table holds */
    float *cos, *sin;   /* [P, d/2] of the angles, computed in float32 as torch does */
} rope_table;

/* Fills t for positions 0..max_positions-1. d must be even; theta > 0. */
elang_status rope_table_init(rope_table *t, int head_dim, int max_positions, double theta, elang_error *err);
void rope_table_free(rope_table *t);

/* x[heads, d], the heads of one token side by side, rotated in place to
 * position pos (0 <= pos < max_positions). */
void rope_apply(const rope_table *t, float *x, int heads, int pos);

#endif
