/* The encoder head h of an encoder-decoder Swift (E-LANG's encoder-decoder
 * framework): a small MLP on Swift's pooled encoder states, trained after
 * the fact on Swift's own outputs with Swift's weights untouched, whose
 * routing score is known before Swift decodes anything. Inputs it sends to
 * Super never run Swift's decoder.
 *
 * It lives beside Swift's weights, in two files of the model directory:
 *
 *   elang_head.json         {"elang_head": 1, "pooling": "mean",
 *                            "hidden_size": H, "activation": "relu",
 *                            "predicts": "label-word-logits" | "score",
 *                            "label_words": ["negative", "positive"],
 *                            "description": "..."}
 *   elang_head.safetensors  dense.weight [H, D], dense.bias [H],
 *                            out.weight [K, H], out.bias [K]
 *
 * with D the encoder's width. pooled = the mean of the encoder's output
 * states over the input's tokens (padding excluded); y = out(relu(dense(
 * pooled))). "label-word-logits" heads predict the first decoding step's
 * logits of the K label words (K >= 2), and score T·log Σ exp(y/T) over the
 * words a routing names (--label-words: all K, or those of one task when a
 * multi-task Swift's head predicts the label words of every task), the
 * energy score of those logits; "score" heads (K = 1)
 * predict a routing score of Swift's output directly (e.g. its mean token
 * energy score), higher meaning "keep Swift's answer". "description" is
 * free text saying what it was trained on. Every field and tensor is
 * checked: a missing or malformed field, a tensor of another name, shape or
 * byte size, or a tensor left over is an error naming the file. */
#ifndef ELANG_MODELS_ENCODER_HEAD_H
#define ELANG_MODELS_ENCODER_HEAD_H

#include <stdbool.h>
#include <stdint.h>

#include "elang.h"
#include "models/seq2seq.h"
#include "util/arena.h"

#define ENCODER_HEAD_JSON "elang_head.json"
#define ENCODER_HEAD_WEIGHTS "elang_head.safetensors"
#define ENCODER_HEAD_MAX_OUTPUTS 64 /* label words of a label-word head */

typedef enum { HEAD_PREDICTS_LABEL_WORD_LOGITS, HEAD_PREDICTS_SCORE } head_target;

typedef struct {
    int d_model, hidden, outputs;
    head_target predicts;
    char **label_words;      /* [outputs] for label-word heads, else NULL */
    float *w1, *b1, *w2, *b2; /* [hidden, d_model], [hidden], [outputs, hidden], [outputs] */
    /* One input's scratch, sized at load so that scoring allocates nothing;
     * a model runs one batch at a time, as its arena assumes. */
    float *pooled;            /* [d_model] */
    double *hidden_out, *y;   /* [hidden], [outputs] */
} encoder_head;

/* True when dir holds either of the head's files. */
bool encoder_head_present(const char *dir);

/* Loads dir's head for an encoder of width d_model; both files must be
 * there. Release with encoder_head_free. */
elang_status encoder_head_load(const char *dir, int d_model, encoder_head **out, elang_error *err);
void encoder_head_free(encoder_head *h);

/* The outputs of a label-word head that a routing's label words words[k]
 * name, in their order, into outputs[k]; an error naming the first word
 * the head does not predict and its model directory dir. */
elang_status encoder_head_pick(const encoder_head *h, const char *dir, const char *const *words, int k, int *outputs,
                               elang_error *err);

/* The routing score of each of B inputs ids[B, S] (mask 1 on tokens): the
 * encoder alone, pooled, through the head; a label-word head's energy over
 * its outputs[0..k) (encoder_head_pick; NULL: all of them). */
elang_status encoder_head_scores(encoder_head *h, const seq2seq_model *m, arena *a, const int32_t *ids,
                                 const int32_t *mask, int B, int S, const int *outputs, int k,
                                 double temperature, float *scores,
                                 elang_error *err);

/* Multiply-adds x 2 of the head itself (not the encoder). */
double encoder_head_flops(const encoder_head *h);

#endif
