/* What an elang_model holds; shared by the files of src/api. */
#ifndef ELANG_API_MODEL_INTERNAL_H
#define ELANG_API_MODEL_INTERNAL_H

#include "elang.h"
#include "core/matmul.h"
#include "io/config.h"
#include "io/weights.h"
#include "models/encoder.h"
#include "models/causal.h"
#include "models/encoder_head.h"
#include "models/seq2seq.h"
#include "tokenize/tokenizer.h"
#include "util/arena.h"

struct elang_model {
    char *dir;
    model_config cfg;
    weight_store *weights;    /* owns the tensors the network borrows */
    tokenizer *tok;
    bool is_seq2seq;          /* which of the two networks below is loaded: a text generator
                                 (encoder-decoder or decoder-only), or a classifier */
    bool is_causal;           /* the generator is decoder-only (GPT-2, Llama, Qwen2) */
    encoder_classifier encoder;
    seq2seq_model s2s;
    encoder_head *head;       /* a generator's encoder head, when its directory has one; else NULL */
    int max_length;           /* tokens per input, special tokens included */
    int threads;              /* this model's computations' thread count */
    bool threads_auto;        /* resolved from 0: fewer while other processes load the CPUs */
    elang_dtype dtype;        /* of its matrix products */
    matmul_ctx *mm;           /* its primitives and their scratch */
    double seconds;           /* spent in calls that ran it (elang_model_profile) */
    long batches, batches_fewer_threads; /* run, and run on fewer than `threads` (elang_model_profile) */
    int fewest_threads;       /* the fewest a batch ran on; 0 before any */
    /* Run state, sized by the largest batch so far and reused: `batch` holds
     * the padded inputs a call builds, `run` what the network computes with
     * (models/ carves it). */
    arena batch, run;
    char *input_prefix;       /* put before every input's text, or NULL */
    char *pair_infix;         /* generators: put between a pair's texts, or NULL (pairs refused) */
};

/* Encodes one input as the model sees it: its prefix, then the text (a
 * generator's pair joined by its pair infix into one text; a prefix
 * holding {text} is a template the text goes into), truncated to
 * m->max_length (model_encode_max: to max_length). */
elang_status model_encode(const elang_model *m, const char *text, const char *pair, token_seq *out,
                          elang_error *err);
elang_status model_encode_max(const elang_model *m, const char *text, const char *pair, int max_length,
                              token_seq *out, elang_error *err);

/* Classification by label words (elang_classify with label words): for
 * each input, the first decoding step's logits of the tokens word_ids[0..k)
 * go to cls[input].logits (allocated for k logits and k probabilities; the
 * caller fills probs), and the ids the model read to its input_ids. On
 * failure cls may hold some allocations: release with elang_class_out_free. */
elang_status model_label_word_logits(elang_model *m, const elang_text *in, size_t n, const int32_t *word_ids,
                                     int k, int batch_size, elang_class_out *cls, elang_error *err);

/* A pass before decoding (elang_decision_of chooses it) over n inputs,
 * batched as generation batches them: scores[input * ELANG_SCORE_KINDS + k]
 * at temperature T for the kinds the pass gives (the first step: every
 * distribution score of its processed logits, the first generated token's
 * step scores of a longer generation; the head: ELANG_SCORE_ENCODER_HEAD
 * from the encoder alone; a label-word head's energy over its outputs
 * head_outputs[0..num_head_outputs), NULL: all), NaN for the others; each
 * input's length in tokens to input_tokens[input]. ELANG_ERR_INVALID_ARG
 * for the head when the model has none; `pass` is not
 * ELANG_DECIDE_AFTER_DECODING. */
elang_status model_decision_scores(elang_model *m, elang_decision pass, const elang_text *in, size_t n,
                                   int batch_size, double temperature, const int *head_outputs,
                                   int num_head_outputs, float *scores, int *input_tokens, elang_error *err);

/* Makes the calling thread compute a batch of m with its own count, or,
 * resolved from 0, what threads_available leaves it (set again before
 * every batch, so that a long call follows the load too), and counts the
 * batch in m's profile. The caller restores its count with threads_leave
 * once the call is done. */
void model_batch_threads(elang_model *m);

/* The id of the first token of `word` as the model's tokenizer splits it;
 * for a decoder-only model, of the word as it continues a prompt after a
 * space (unless it starts with whitespace itself): GPT-2's " positive",
 * Llama's "▁positive". */
elang_status model_first_token_id(elang_model *m, const char *word, int32_t *id, elang_error *err);

/* Label words' checks that need no model: at least two (k = 0 is none),
 * none NULL or empty. */
elang_status label_words_check(const char *const *words, int k, elang_error *err);

/* The first token ids of words[0..k) in m (model_first_token_id), after
 * label_words_check; two words starting with the same token are refused,
 * since they could never be told apart. */
elang_status model_label_word_ids(elang_model *m, const char *const *words, int k, int32_t *ids, elang_error *err);

#endif
