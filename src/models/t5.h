/* T5ForConditionalGeneration (T5 v1.0, v1.1 and FLAN-T5) behind seq2seq.h.
 *
 * As transformers' modeling_t5.py: pre-norm layers with T5's RMS LayerNorm,
 * no biases, attention without the 1/sqrt(d) scale, a learned relative
 * position bias that each stack's first layer computes and every layer of
 * the stack adds, one token embedding ("shared") for both stacks, and, when
 * the lm_head is that embedding (v1.0), the decoder output scaled by
 * d_model^-0.5 before it. */
#ifndef ELANG_MODELS_T5_H
#define ELANG_MODELS_T5_H

#include <stdbool.h>

#include "io/config.h"
#include "io/weights.h"
#include "models/seq2seq.h"

/* Shapes: V = vocab_size, D = d_model, P = relative_attention_num_buckets,
 * H = num_heads. Pointers borrow from the weight store. */
typedef struct {
    matmul_ctx *mm;             /* the model's matrix products (borrowed) */
    transformer_dims enc, dec;
    int vocab_size;             /* V */
    int buckets, max_distance;  /* relative position buckets, as in the config */
    bool scale_logits;          /* tied lm_head: decoder output × d_model^-0.5 */

    const float *embed;         /* [V, D] shared.weight, the token embedding of both stacks */
    const float *enc_rel_bias;  /* [P, H] encoder block 0's relative_attention_bias */
    const float *dec_rel_bias;  /* [P, H] decoder block 0's */
    transformer_layer *enc_layers; /* [num_layers], owned */
    transformer_layer *dec_layers; /* [num_decoder_layers], owned */
    int enc_count, dec_count;
    int decoder_start_id;       /* fed by the prefill */
    norm_params enc_final;      /* gamma [D]: encoder.final_layer_norm */
    norm_params dec_final;      /* gamma [D]: decoder.final_layer_norm */
    linear lm_head;             /* [V, D]: lm_head.weight, or shared.weight when tied */
} t5_model;

/* Takes every tensor from `ws`, checking names and shapes against `cfg`
 * (model_type "t5"), and fills `out`; a tensor missing, misshapen or left
 * over is ELANG_ERR_FORMAT naming it. The model borrows from `ws` and mm,
 * which must outlive it, and computes in dtype; out->ops->free(out->net)
 * releases it. */
elang_status t5_load(weight_store *ws, model_config *cfg, matmul_ctx *mm, elang_dtype dtype, seq2seq_model *out,
                     elang_error *err);

#endif
