/* config.json of a Hugging Face checkpoint, reduced to what elang computes
 * with. Families spell the same quantity differently (BERT's hidden_size is
 * DistilBERT's dim); config_load() maps every spelling onto one struct so
 * that the models never look at JSON. */
#ifndef ELANG_IO_CONFIG_H
#define ELANG_IO_CONFIG_H

#include <stdbool.h>

#include "core/ops.h"
#include "elang.h"


typedef struct {
    char model_type[32];    /* "bert", "distilbert", "roberta", "xlm-roberta", ... */
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
} model_config;

/* Reads DIR/config.json. Missing file: ELANG_ERR_IO; malformed JSON, wrong
 * types or absurd sizes: ELANG_ERR_FORMAT naming the field; a model_type
 * elang does not run: ELANG_ERR_UNSUPPORTED. */
elang_status config_load(const char *dir, model_config *cfg, elang_error *err);
void config_free(model_config *cfg);

/* Gives the config num_labels default names when config.json named none
 * (the count is then known only from the classifier's weight shape). */
elang_status config_set_num_labels(model_config *cfg, int num_labels, elang_error *err);

#endif
