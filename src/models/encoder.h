/* BERT-family sequence classifiers: BertForSequenceClassification (and
 * TinyBERT's variant), DistilBertForSequenceClassification and
 * RobertaForSequenceClassification (XLM-R checkpoints too).
 *
 * The three share one post-LayerNorm transformer encoder (models/transformer.h);
 * they differ in tensor names, in whether token types and RoBERTa-style
 * positions exist, and in the classification head, all of which is settled
 * at load time. */
#ifndef ELANG_MODELS_ENCODER_H
#define ELANG_MODELS_ENCODER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/ops.h"
#include "io/config.h"
#include "io/weights.h"
#include "models/transformer.h"
#include "util/arena.h"

/* Every head here is dense → activation(s) → projection on the first
 * token's hidden state:
 *   BERT:       pooler.dense, tanh, classifier          (TinyBERT: tanh then ReLU)
 *   DistilBERT: pre_classifier, ReLU, classifier
 *   RoBERTa:    classifier.dense, tanh, classifier.out_proj
 * Shapes: H = hidden_size, L = num_labels. */
typedef struct {
    linear dense;           /* [H, H] */
    activation act;
    bool relu_after_act;    /* TinyBERT's ReLU on top of the tanh pooler */
    linear out;             /* [L, H] */
} classifier_head;

/* Pointers borrow from the weight store. */
typedef struct {
    matmul_ctx *mm;            /* the model's matrix products (borrowed) */
    transformer_dims dims;     /* post-norm LayerNorm layers, H = dims.d_model */
    int num_layers, num_labels;
    int vocab_size, max_positions, type_vocab_size; /* type_vocab_size 0: no token types */
    /* RoBERTa numbers positions from padding_idx + 1, skipping pads. */
    bool roberta_positions;
    int pad_id;

    const float *word_emb;     /* [vocab_size, H] */
    const float *pos_emb;      /* [max_positions, H] */
    const float *type_emb;     /* [type_vocab_size, H], or NULL */
    norm_params emb_norm;      /* [H] LayerNorm of the summed embeddings */
    transformer_layer *layers; /* [num_layers], owned */
    classifier_head head;
} encoder_classifier;

/* A forward pass's buffers for a batch of B inputs of S tokens (N = B·S),
 * carved from the model's arena. */
typedef struct {
    float *hidden;             /* [N, H]: the last layer's states */
    float *first, *pooled;     /* [B, H]: the first token's state, after the dense layer */
    float *logits;             /* [B, L] */
    transformer_scratch layer;
} encoder_run;

/* Takes every tensor of the classifier from `ws`, checking names and shapes
 * against `cfg`; fills cfg->num_labels from the head when config.json did
 * not state it. Unknown leftover tensors are an error. The layers' products
 * are prepared in dtype on mm (which must outlive the model); the small head
 * stays F32. */
elang_status encoder_classifier_load(encoder_classifier *m, model_config *cfg, weight_store *ws, matmul_ctx *mm,
                                     elang_dtype dtype, elang_error *err);
void encoder_classifier_free(encoder_classifier *m);

/* The longest input (special tokens included) the position table allows. */
int encoder_classifier_max_tokens(const encoder_classifier *m);

void encoder_run_carve(arena *a, const encoder_classifier *m, int B, int S, encoder_run *r);

/* ids, type_ids (may be NULL), mask: [B, S] with mask 1 for real tokens.
 * Fills r->hidden and r->logits. Ids out of vocabulary: ELANG_ERR_INVALID_ARG. */
elang_status encoder_classifier_forward(const encoder_classifier *m, const int32_t *ids,
                                        const int32_t *type_ids, const int32_t *mask, int B,
                                        int S, encoder_run *r, elang_error *err);

#endif
