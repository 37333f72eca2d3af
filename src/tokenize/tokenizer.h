/* Text to token ids, the way the Hugging Face Python tokenizers do it.
 *
 * A tokenizer is loaded from the model directory: WordPiece from vocab.txt
 * (+ tokenizer_config.json), byte-level BPE from vocab.json + merges.txt.
 * tokenizer_encode() adds the model's special tokens around one text or a
 * pair and truncates with the `longest_first` strategy.
 */
#ifndef ELANG_TOKENIZE_TOKENIZER_H
#define ELANG_TOKENIZE_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "elang.h"

typedef struct tokenizer tokenizer;

typedef struct {
    int32_t *ids;      /* [len], special tokens included */
    int32_t *type_ids; /* [len], 0 for the first segment, 1 for the second (BERT) */
    int len;
} token_seq;

/* model_type selects the special-token layout: "bert"/"distilbert" give
 * [CLS] a [SEP] b [SEP]; "roberta"/"xlm-roberta" give <s> a </s></s> b </s>.
 * Missing or malformed tokenizer files: ELANG_ERR_IO / ELANG_ERR_FORMAT
 * naming the file (and line); another model_type: ELANG_ERR_UNSUPPORTED.
 * tokenizer_config.json, special_tokens_map.json and added_tokens.json are
 * read when present. */
elang_status tokenizer_load(const char *dir, const char *model_type, tokenizer **out,
                            elang_error *err);
void tokenizer_free(tokenizer *t);

/* Tokenizes one text into ids without special tokens (appended to *ids,
 * a malloc'ed array grown as needed). Invalid UTF-8: ELANG_ERR_INPUT. */
elang_status tokenizer_tokenize(const tokenizer *t, const char *text, int32_t **ids,
                                int *len, elang_error *err);

/* Full encoding with special tokens; pair may be NULL. max_length counts the
 * special tokens; tokens beyond it are removed `longest_first` (one at a time
 * from the longer segment, from the second segment on ties) as transformers
 * 4.25's truncate_sequences does. type_ids are 0/1 for the BERT layout and
 * all 0 for RoBERTa's. A max_length below the number of special tokens (2,
 * or 3 for a BERT pair and 4 for a RoBERTa pair), or one that leaves a
 * non-empty single text no room at all: ELANG_ERR_INVALID_ARG. Invalid UTF-8
 * in either text: ELANG_ERR_INPUT with the byte offset. Release with
 * token_seq_free. */
elang_status tokenizer_encode(const tokenizer *t, const char *text, const char *pair,
                              int max_length, token_seq *out, elang_error *err);
void token_seq_free(token_seq *s);

/* len(tokenizer): the vocabulary plus added tokens, i.e. every id the
 * tokenizer can produce is below it when the vocabulary's ids are dense. */
int tokenizer_vocab_size(const tokenizer *t);
int tokenizer_pad_id(const tokenizer *t);
/* model_max_length from tokenizer_config.json, or 0 when not given. */
int tokenizer_model_max_length(const tokenizer *t);

#endif
