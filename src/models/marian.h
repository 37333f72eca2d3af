/* MarianMTModel (opus-mt) behind seq2seq.h.
 *
 * As transformers' modeling_marian.py: BART's post-LayerNorm layers with
 * biases and no layernorm_embedding, token embeddings scaled by
 * sqrt(d_model) (scale_embedding), fixed sinusoidal positions counted from
 * 0, one embedding shared by both stacks and the lm_head, and
 * final_logits_bias added to the logits. */
#ifndef ELANG_MODELS_MARIAN_H
#define ELANG_MODELS_MARIAN_H

#include "io/config.h"
#include "io/weights.h"
#include "models/seq2seq.h"

/* Shapes: E = vocab_size, rows of both token embeddings (MarianModel
 * copies `shared` for each stack when they are not shared); V = logits,
 * decoder_vocab_size when the embeddings are not shared, else E;
 * D = d_model, P = max_position_embeddings. Pointers borrow from the weight
 * store unless marked owned. */
typedef struct {
    matmul_ctx *mm;             /* the model's matrix products (borrowed) */
    transformer_dims enc, dec;
    int embed_rows;             /* E */
    int vocab_size;             /* V */
    int max_positions;          /* P */
    float embed_scale;          /* sqrt(D) with scale_embedding, else 1 */

    const float *enc_embed;     /* [E, D] model.shared (or model.encoder.embed_tokens) */
    const float *dec_embed;     /* [E, D] model.shared (or model.decoder.embed_tokens) */
    const float *enc_pos;       /* [P, D] model.encoder.embed_positions, or the sinusoids */
    const float *dec_pos;       /* [P, D] model.decoder.embed_positions, or the sinusoids */
    float *sinusoids;           /* [P, D] owned: what transformers computes when positions are not stored */
    transformer_layer *enc_layers; /* [encoder_layers], owned */
    transformer_layer *dec_layers; /* [decoder_layers], owned */
    int enc_count, dec_count;
    int decoder_start_id;       /* fed by the prefill */
    linear lm_head;             /* [V, D]: dec_embed when tied (then V = E), else lm_head.weight;
                                   its bias final_logits_bias [V] (stored [1, V]), or NULL */
} marian_model;

/* Takes every tensor from `ws`, checking names and shapes against `cfg`
 * (model_type "marian"), and fills `out`; a tensor missing, misshapen or
 * left over is ELANG_ERR_FORMAT naming it. The model borrows from `ws`,
 * which must outlive it; out->ops->free(out->net) releases it. */
elang_status marian_load(weight_store *ws, model_config *cfg, matmul_ctx *mm, elang_dtype dtype,
                         seq2seq_model *out, elang_error *err);

#endif
