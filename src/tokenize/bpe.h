/* GPT-2 byte-level BPE as RobertaTokenizer (transformers 4.25, Python) runs
 * it: the GPT-2 pre-tokenization regex, each piece's UTF-8 bytes mapped to
 * printable characters (bytes_to_unicode), then merges by rank from
 * merges.txt and ids from vocab.json.
 *
 * This layer sees one chunk of text between added tokens; the prefix space,
 * added tokens and special tokens are tokenizer.c's job.
 */
#ifndef ELANG_TOKENIZE_BPE_H
#define ELANG_TOKENIZE_BPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elang.h"
#include "util/i32vec.h"
#include "util/strbuf.h"

typedef struct bpe bpe;

/* vocab.json must be an object of token -> integer id without repeated
 * tokens; each merges.txt line after the first (a "#version" header) holds
 * two symbols separated by whitespace. Violations: ELANG_ERR_FORMAT naming
 * the file and line. */
elang_status bpe_load(const char *vocab_path, const char *merges_path, bpe **out,
                      elang_error *err);
void bpe_free(bpe *b);

/* The id of token (UTF-8), or -1. */
int32_t bpe_token_id(const bpe *b, const char *token, size_t len);
/* The token with this id, or NULL. */
const char *bpe_id_token(const bpe *b, int32_t id);
int bpe_vocab_size(const bpe *b);

/* RobertaTokenizer._tokenize of cps[0..n): appends the ids to ids, unk_id
 * for a symbol missing from the vocabulary. False only when out of memory. */
bool bpe_tokenize(const bpe *b, const int32_t *cps, size_t n, int32_t unk_id, i32vec *ids);

/* RobertaTokenizer.convert_tokens_to_string: appends to out the text the
 * tokens spell, invalid UTF-8 replaced by U+FFFD. A token character that
 * stands for no byte (Python's KeyError): ELANG_ERR_FORMAT. */
elang_status bpe_detokenize(const bpe *b, const char *const *tokens, size_t n, strbuf *out,
                            elang_error *err);

#endif
