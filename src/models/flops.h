/* Analytic FLOPs per input of the models elang runs, from their dimensions
 * and the input's actual lengths (no padding), to compare the cost of
 * Swift, Super and a routed mix.
 *
 * Counted: every matrix product, one multiply-add as 2 FLOPs. Left out, as
 * negligible next to those: embedding lookups, biases, layer norms,
 * softmax, activations, T5's relative position bias.
 *
 * With S input tokens, H the hidden size, A the attention width (heads ×
 * head size; H except in T5 models where heads × d_kv differs), I the
 * feed-forward size and m its input projections (1, or 2 for a gated FF
 * such as T5 v1.1's gated-GELU), one transformer layer over S tokens costs
 *
 *     2·S·(4·H·A + (m+1)·H·I)       Q, K, V, O projections and the FF
 *   + 4·S²·A                        attention scores Q·Kᵀ and their weighted sum of V
 *
 * which for BERT (A = H, m = 1) is 2·S·(4·H² + 2·H·I) + 4·S²·H.
 */
#ifndef ELANG_MODELS_FLOPS_H
#define ELANG_MODELS_FLOPS_H

#include <stdbool.h>

/* Sizes from config.json; independent of the model code. */
typedef struct {
    int layers;         /* encoder layers: num_hidden_layers, num_layers, encoder_layers */
    int decoder_layers; /* num_decoder_layers, decoder_layers; unused by classifiers */
    int hidden;         /* H: hidden_size, dim, d_model */
    int intermediate;   /* I: intermediate_size, hidden_dim, d_ff, *_ffn_dim (decoder alike) */
    int heads;          /* attention heads */
    int head_dim;       /* per head (T5's d_kv); 0 = hidden / heads */
    int kv_heads;       /* key/value heads (grouped-query attention); 0 = heads */
    int vocab;          /* V: the LM head's outputs (seq2seq) */
    int num_labels;     /* C: the classifier's outputs (encoder classifiers) */
    bool gated_ff;      /* two FF input projections (T5 v1.1 gated-GELU) */
} flops_dims;

/* A BERT-family classifier (BERT, DistilBERT, RoBERTa, TinyBERT) over
 * seq_len tokens, special tokens included: the encoder layers, then the
 * head, a dense H×H layer on one token (BERT's pooler, DistilBERT's
 * pre_classifier, RoBERTa's dense) and the H×C classifier:
 *     layers · layer(S) + 2·H² + 2·H·C. */
double flops_encoder_classifier(const flops_dims *d, long seq_len);

/* An encoder-decoder (T5, Marian) over src_len source tokens, decoding
 * `steps` tokens one at a time with a key-value cache (greedy: one step per
 * output token, the end-of-sentence token included; for beam search
 * multiply the decoder's share by the beams). Step t (1-based) feeds one
 * token that attends to the t tokens so far and to the S source tokens:
 *
 *   encoder      layers · layer(S)
 *   per decoder layer, once:  2·S·2·H·A       cross-attention K and V of the source
 *   per decoder layer, step t: 2·(4·H·A + 2·H·A + (m+1)·H·I)
 *                                              self Q, K, V, O; cross Q, O; the FF
 *                            + 4·t·A + 4·S·A    self- and cross-attention
 *   per step:                  2·H·V           the LM head: for small models with large
 *                                              vocabularies (Marian, 58k) more than all
 *                                              decoder layers of the step together
 */
double flops_seq2seq(const flops_dims *d, long src_len, long steps);

/* An encoder-decoder's encoder alone over src_len tokens, layers · layer(S):
 * what an encoder head's score costs before the head itself. */
double flops_seq2seq_encoder(const flops_dims *d, long src_len);

/* A decoder-only language model (GPT-2, Llama, Qwen2) continuing a prompt
 * of S tokens by `steps` tokens (times the beams for beam search). K is
 * the key/value width (kv_heads × head size; A without grouped-query
 * attention), so a layer's projections cost 2·(2·H·A + 2·H·K) per token.
 * The prefill runs the prompt through every layer at once, its attention
 * over all S² pairs as computed (the causal half masked, not skipped), and
 * the LM head on the last position, which gives the first new token; each
 * later token is one step attending to the S + t tokens before it, and its
 * own LM head:
 *
 *   prefill     layers · (S·proj_ff + 4·S²·A) + 2·H·V
 *   step t      layers · (proj_ff + 4·(S + t)·A) + 2·H·V,   t = 1 .. steps - 1
 *
 * with proj_ff = 2·(2·H·A + 2·H·K) + (m+1)·2·H·I per token. steps = 1 is
 * the prompt alone: what a routing decision on the first step costs. */
double flops_causal(const flops_dims *d, long prompt_len, long steps);

#endif
