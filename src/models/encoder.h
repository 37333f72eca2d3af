/* BERT-family sequence classifiers: BertForSequenceClassification (and
 * TinyBERT's variant), DistilBertForSequenceClassification and
 * RobertaForSequenceClassification (XLM-R checkpoints too).
 *
 * The three share one post-LayerNorm transformer encoder; they differ in
 * tensor names, in whether token types and RoBERTa-style positions exist, and
 * in the classification head, all of which is settled at load time. */
#ifndef ELANG_MODELS_ENCODER_H
#define ELANG_MODELS_ENCODER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/ops.h"
#include "io/config.h"
#include "io/weights.h"

/* Shapes: H = hidden_size, I = intermediate_size. All pointers borrow from
 * the weight store. */
typedef struct {
    const float *q_w, *k_w, *v_w;  /* [H, H] each */
    const float *q_b, *k_b, *v_b;  /* [H] */
    const float *attn_out_w;       /* [H, H] */
    const float *attn_out_b;       /* [H] */
    const float *attn_ln_g, *attn_ln_b; /* [H] LayerNorm after attention + residual */
    const float *ff_in_w;          /* [I, H] */
    const float *ff_in_b;          /* [I] */
    const float *ff_out_w;         /* [H, I] */
    const float *ff_out_b;         /* [H] */
    const float *ff_ln_g, *ff_ln_b; /* [H] LayerNorm after feed-forward + residual */
} encoder_layer;

/* Every head here is dense → activation(s) → projection on the first
 * token's hidden state:
 *   BERT:       pooler.dense, tanh, classifier          (TinyBERT: tanh then ReLU)
 *   DistilBERT: pre_classifier, ReLU, classifier
 *   RoBERTa:    classifier.dense, tanh, classifier.out_proj */
typedef struct {
    const float *dense_w;   /* [H, H] */
    const float *dense_b;   /* [H] */
    activation act;
    bool relu_after_act;    /* TinyBERT's ReLU on top of the tanh pooler */
    const float *out_w;     /* [L, H], L = num_labels */
    const float *out_b;     /* [L] */
} classifier_head;

typedef struct {
    int hidden, intermediate, heads, num_layers, num_labels;
    int vocab_size, max_positions, type_vocab_size; /* type_vocab_size 0: no token types */
    double ln_eps;
    activation act;
    /* RoBERTa numbers positions from padding_idx + 1, skipping pads. */
    bool roberta_positions;
    int pad_id;

    const float *word_emb;     /* [vocab_size, H] */
    const float *pos_emb;      /* [max_positions, H] */
    const float *type_emb;     /* [type_vocab_size, H], or NULL */
    const float *emb_ln_g, *emb_ln_b; /* [H] */
    encoder_layer *layers;     /* [num_layers], owned */
    classifier_head head;
} encoder_classifier;

/* Takes every tensor of the classifier from `ws`, checking names and shapes
 * against `cfg`; fills cfg->num_labels from the head when config.json did
 * not state it. Unknown leftover tensors are an error. */
elang_status encoder_classifier_load(encoder_classifier *m, model_config *cfg,
                                     weight_store *ws, elang_error *err);
void encoder_classifier_free(encoder_classifier *m);

/* The longest input (special tokens included) the position table allows. */
int encoder_classifier_max_tokens(const encoder_classifier *m);

/* ids, type_ids (may be NULL), mask: [B, S] with mask 1 for real tokens.
 * hidden: [B, S, H] output, the last layer's states.
 * logits: [B, L] output. Ids out of vocabulary: ELANG_ERR_INVALID_ARG. */
elang_status encoder_classifier_forward(const encoder_classifier *m, const int32_t *ids,
                                        const int32_t *type_ids, const int32_t *mask, int B,
                                        int S, float *hidden, float *logits, elang_error *err);

#endif
