/* Text to token ids and back, the way the Hugging Face Python ("slow")
 * tokenizers of transformers 4.25 do it.
 *
 * A tokenizer is loaded from the model directory: WordPiece from vocab.txt
 * (+ tokenizer_config.json), byte-level BPE from vocab.json + merges.txt,
 * SentencePiece from spiece.model (T5), source.spm + target.spm +
 * vocab.json (Marian) or sentencepiece.bpe.model (XLM-R). tokenizer_encode()
 * adds the model's special tokens around one text or a pair and truncates
 * with the `longest_first` strategy; tokenizer_decode() turns generated ids
 * back into text.
 */
#ifndef ELANG_TOKENIZE_TOKENIZER_H
#define ELANG_TOKENIZE_TOKENIZER_H

#include <stdbool.h>
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
 * [CLS] a [SEP] b [SEP]; "roberta"/"xlm-roberta" give <s> a </s></s> b </s>,
 * and "xlm-roberta" reads sentencepiece.bpe.model when there is one
 * (XLMRobertaTokenizer, with fairseq's ids), else the files "roberta"
 * reads; "t5" gives a </s> b </s> (T5Tokenizer: no second </s> after a
 * segment that already ends with one) and reads spiece.model; "marian"
 * gives a b </s> and reads source.spm, target.spm and vocab.json (and
 * target_vocab.json when tokenizer_config.json says separate_vocabs).
 * Missing or malformed tokenizer files: ELANG_ERR_IO / ELANG_ERR_FORMAT
 * naming the file (and line or field), or the files looked for when there
 * is none; a model_max_length that leaves a single text no room beside its
 * special tokens is malformed. Another model_type (camembert included):
 * ELANG_ERR_UNSUPPORTED.
 * tokenizer_config.json, special_tokens_map.json and added_tokens.json are
 * read when present (T5's extra_ids, Marian's separate_vocabs included). */
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
 * all 0 for the others. A max_length below the number of special tokens (2,
 * or 3 for a BERT pair and 4 for a RoBERTa pair; 1, or 2 for a T5 pair; 1
 * for Marian), or one that leaves a non-empty single text no room at all:
 * ELANG_ERR_INVALID_ARG. Invalid UTF-8 in either text: ELANG_ERR_INPUT with
 * the byte offset. Release with token_seq_free. */
elang_status tokenizer_encode(const tokenizer *t, const char *text, const char *pair,
                              int max_length, token_seq *out, elang_error *err);
void token_seq_free(token_seq *s);

/* decode(ids, skip_special_tokens=skip_special) with transformers 4.25's
 * defaults otherwise (clean_up_tokenization_spaces and
 * spaces_between_special_tokens on): the ids' tokens, without the special
 * ones (unk included) when skip_special, joined by the tokenizer's
 * convert_tokens_to_string (WordPiece glues "##" pieces; byte-level BPE
 * turns its characters back into bytes, invalid UTF-8 becoming U+FFFD;
 * T5 and Marian detokenize with SentencePiece, Marian with target.spm;
 * XLM-R joins the tokens, special ones included, and turns ▁ into spaces);
 * added tokens beyond the vocabulary stand apart, separated by spaces.
 * *text is malloc'ed UTF-8. An id below 0 or past the vocabulary and added
 * tokens: ELANG_ERR_INVALID_ARG naming it. */
elang_status tokenizer_decode(const tokenizer *t, const int32_t *ids, int n, bool skip_special,
                              char **text, elang_error *err);

/* len(tokenizer): the vocabulary plus added tokens, i.e. every id the
 * tokenizer can produce is below it when the vocabulary's ids are dense. */
/* num_special_tokens_to_add: what build_inputs_with_special_tokens puts
 * around one sequence or a pair. */
int n_special_tokens(const tokenizer *t, bool pair);
int tokenizer_vocab_size(const tokenizer *t);
/* The largest id the tokenizer can give a token, vocabulary and added
 * tokens alike, and that token's text in *text (owned by t): what a
 * model's embedding must have rows for. */
int32_t tokenizer_max_id(const tokenizer *t, const char **text);
int tokenizer_pad_id(const tokenizer *t);
/* model_max_length from tokenizer_config.json (512 when not given there for
 * Marian and XLM-R), or 0 when there is none. */
int tokenizer_model_max_length(const tokenizer *t);

#endif
