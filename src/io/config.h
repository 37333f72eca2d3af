/* config.json of a Hugging Face checkpoint, reduced to what elang computes
 * with. Families spell the same quantity differently (BERT's hidden_size is
 * DistilBERT's dim); config_load() maps every spelling onto one struct so
 * that the models never look at JSON. */
#ifndef ELANG_IO_CONFIG_H
#define ELANG_IO_CONFIG_H

#include <stdbool.h>

#include "core/ops.h"
#include "elang.h"


/* What only the encoder-decoders (t5, marian) have. Their encoder side is in
 * the common fields: hidden_size = d_model, num_layers, num_heads,
 * intermediate_size = d_ff / encoder_ffn_dim, hidden_act, layer_norm_eps. */
typedef struct {
    int head_dim;             /* T5 d_kv; Marian d_model / heads */
    int decoder_layers;       /* T5 num_decoder_layers (default num_layers); Marian decoder_layers */
    int decoder_heads;        /* T5 num_heads; Marian decoder_attention_heads */
    int decoder_ffn;          /* T5 d_ff; Marian decoder_ffn_dim */
    int target_vocab_size;    /* rows of lm_head: Marian's decoder_vocab_size when its
                                 embeddings are not shared, else vocab_size */
    int relative_buckets;     /* T5 relative_attention_num_buckets */
    int relative_max_distance;/* T5 relative_attention_max_distance */
    bool gated_ff;            /* T5 "gated-<act>" feed_forward_proj (FLAN-T5, v1.1) */
    bool tie_word_embeddings; /* lm_head is the (decoder) input embedding */
    bool scale_embedding;     /* Marian: embeddings times sqrt(d_model) */
    bool share_embeddings;    /* Marian share_encoder_decoder_embeddings */
    int decoder_start_token_id;
    int eos_token_id;
    int forced_eos_token_id;  /* -1 when absent */
    int bad_word_id;          /* the one token of bad_words_ids (Marian's <pad>), or -1 */
} seq2seq_config;

/* The most end-of-sequence tokens a causal LM's config may list. */
#define CONFIG_MAX_EOS 8

/* What only the decoder-only language models (gpt2, llama, mistral, qwen2)
 * have. Their sizes are in the common fields: hidden_size (GPT-2 n_embd),
 * num_layers (n_layer), num_heads (n_head), intermediate_size (GPT-2
 * n_inner, 4 × n_embd when null), max_position_embeddings (n_positions),
 * layer_norm_eps (layer_norm_epsilon, rms_norm_eps), hidden_act
 * (activation_function). */
typedef struct {
    int head_dim;             /* per attention head: Llama's head_dim, else hidden_size / heads */
    int kv_heads;             /* num_key_value_heads (grouped-query attention); = heads when absent */
    double rope_theta;        /* rotary base (Llama 10000 by default); 0 for GPT-2's learned positions */
    bool rms_norm;            /* Llama, Mistral, Qwen2; GPT-2 has LayerNorms with biases */
    bool qkv_bias, o_bias;    /* GPT-2: both; Llama: attention_bias for both; Qwen2: q, k, v only */
    bool mlp_bias;            /* GPT-2: yes; Llama: mlp_bias */
    bool gated_ff;            /* SwiGLU (Llama, Mistral, Qwen2) */
    bool tie_word_embeddings; /* lm_head is the input embedding */
    int bos_token_id;         /* -1 when none */
    int eos_ids[CONFIG_MAX_EOS]; /* generation stops at any of these: generation_config.json's
                                    eos_token_id, else config.json's */
    int n_eos;
} causal_config;

typedef struct {
    char model_type[32];    /* "bert", "distilbert", "roberta", "xlm-roberta", "t5", "marian", "gpt2",
                               "llama", "mistral", "qwen2" */
    char architecture[96];  /* architectures[0], or "" */
    int vocab_size;
    int hidden_size;        /* BERT hidden_size, DistilBERT dim */
    int num_layers;         /* num_hidden_layers / n_layers */
    int num_heads;          /* num_attention_heads / n_heads */
    int intermediate_size;  /* intermediate_size / hidden_dim */
    int max_position_embeddings;
    int type_vocab_size;    /* 0 when the family has no token types */
    double layer_norm_eps;
    activation hidden_act;
    char hidden_act_name[32];
    int pad_token_id;
    bool sinusoidal_positions; /* DistilBERT sinusoidal_pos_embds */
    int num_labels;         /* from id2label / num_labels; 0 = not stated */
    char **id2label;        /* [num_labels] names, "LABEL_i" when not given */
    seq2seq_config s2s;     /* t5 and marian only */
    causal_config lm;       /* gpt2, llama, mistral and qwen2 only */
} model_config;

/* Reads DIR/config.json (and, for causal LMs, DIR/generation_config.json
 * when present). Missing file: ELANG_ERR_IO; malformed JSON, wrong types or
 * absurd sizes: ELANG_ERR_FORMAT naming the field; a model_type elang does
 * not run, or an option of it elang does not implement (rope_scaling,
 * GPT-2's scale_attn_by_inverse_layer_idx): ELANG_ERR_UNSUPPORTED. */
elang_status config_load(const char *dir, model_config *cfg, elang_error *err);
void config_free(model_config *cfg);

/* True for the encoder-decoders (t5, marian), which generate text rather
 * than classify it. */
bool config_is_seq2seq(const model_config *cfg);

/* True for the decoder-only language models (gpt2, llama, mistral, qwen2). */
bool config_is_causal(const model_config *cfg);

/* Gives the config num_labels default names when config.json named none
 * (the count is then known only from the classifier's weight shape). */
elang_status config_set_num_labels(model_config *cfg, int num_labels, elang_error *err);

#endif
