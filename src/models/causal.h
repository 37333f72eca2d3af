/* Decoder-only language models behind seq2seq.h: GPT2LMHeadModel,
 * LlamaForCausalLM (MistralForCausalLM is the same network), and
 * Qwen2ForCausalLM, as transformers' modeling_gpt2.py, modeling_llama.py
 * and modeling_qwen2.py compute them.
 *
 * All are a token embedding, a stack of pre-norm transformer layers
 * (models/transformer.h) and a final norm before the lm_head. They differ
 * in data only:
 *   GPT-2: learned positions added to the embedding, LayerNorms with
 *          biases, biases on every product, gelu_new, the Conv1D weights
 *          stored (in, out) (transposed here once, at load), the lm_head
 *          tied to the embedding;
 *   Llama: RMS norms, no biases (attention_bias / mlp_bias may add them),
 *          rotary positions with rope_theta, SwiGLU (down(silu(gate x) ·
 *          up x)), grouped-query attention, tied or untied lm_head;
 *   Qwen2: Llama with biases on q, k and v.
 *
 * The prompts of a batch are left-padded to one length S and their padding
 * masked out; positions count each row's real tokens, as generate()
 * numbers them, so a batch gives what each prompt gives alone. The prefill
 * runs all S tokens of a row through the stack at once, filling the
 * key/value cache, and computes the logits of the last position only. */
#ifndef ELANG_MODELS_CAUSAL_H
#define ELANG_MODELS_CAUSAL_H

#include "core/rope.h"
#include "io/config.h"
#include "io/weights.h"
#include "models/seq2seq.h"

/* Shapes: V = vocab_size, D = hidden size, P = max_position_embeddings
 * (n_positions), F = intermediate size. Pointers borrow from the weight
 * store unless marked owned. */
typedef struct {
    matmul_ctx *mm;             /* the model's matrix products (borrowed) */
    transformer_dims dims;      /* its rope points to `rope` below */
    int vocab_size;             /* V */
    int max_positions;          /* P */
    const float *embed;         /* [V, D] GPT-2 wte, Llama embed_tokens */
    const float *positions;     /* [P, D] GPT-2 wpe; NULL for rotary positions */
    rope_table rope;            /* owned: [P, head_dim / 2] cosines and sines (Llama, Qwen2) */
    transformer_layer *layers;  /* [count], owned */
    int count;
    norm_params final;          /* [D]: GPT-2 ln_f (with bias), Llama norm */
    linear lm_head;             /* [V, D]: lm_head.weight, or the embedding when tied */
    float *transposed;          /* owned, GPT-2 only: its Conv1D weights as [out, in], freed once prepared */
} causal_model;

/* Takes every tensor from `ws`, checking names and shapes against `cfg`
 * (model_type gpt2, llama, mistral or qwen2), and fills `out`; a tensor
 * missing, misshapen or left over is ELANG_ERR_FORMAT naming it and its
 * file. The model borrows from `ws` and mm, which must outlive it, and
 * computes in dtype; out->ops->free(out->net) releases it. */
elang_status causal_load(weight_store *ws, model_config *cfg, matmul_ctx *mm, elang_dtype dtype, seq2seq_model *out,
                         elang_error *err);

/* logits[B·S, V] of every position of the left-padded prompts ids[B, S]
 * (mask[B, S]): the prediction of each next token, from which a prompt's
 * own log-probability is read. The run state is carved from `a`. */
elang_status causal_prompt_logits(const seq2seq_model *m, arena *a, const int32_t *ids, const int32_t *mask, int B,
                                  int S, float *logits, elang_error *err);

#endif
