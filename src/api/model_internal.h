/* What an elang_model holds; shared by the files of src/api. */
#ifndef ELANG_API_MODEL_INTERNAL_H
#define ELANG_API_MODEL_INTERNAL_H

#include "elang.h"
#include "io/config.h"
#include "io/weights.h"
#include "models/encoder.h"
#include "models/seq2seq.h"
#include "tokenize/tokenizer.h"

struct elang_model {
    model_config cfg;
    weight_store *weights;    /* owns the tensors the network borrows */
    tokenizer *tok;
    bool is_seq2seq;          /* which of the two networks below is loaded */
    encoder_classifier encoder;
    seq2seq_model s2s;
    int max_length;           /* tokens per input, special tokens included */
};

#endif
