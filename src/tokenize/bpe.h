/* GPT-2 byte-level BPE as RobertaTokenizer (transformers 4.25, Python) and
 * GPT2Tokenizer and Qwen2Tokenizer (4.48) run it: a pre-tokenization regex
 * (GPT-2's, or Qwen2's, after NFC), each piece's UTF-8 bytes mapped to
 * printable characters (bytes_to_unicode), then merges by rank from
 * merges.txt and ids from vocab.json; or the same read from a
 * tokenizer.json.
 *
 * This layer sees one chunk of text between added tokens; the prefix space,
 * added tokens and special tokens are the tokenizer's job (subword.h).
 */
#ifndef ELANG_TOKENIZE_BPE_H
#define ELANG_TOKENIZE_BPE_H

#include <jansson.h>

#include "elang.h"
#include "tokenize/subword.h"

/* vocab.json must be an object of token -> integer id without repeated
 * tokens; each merges.txt line after the first (a "#version" header) holds
 * two symbols separated by whitespace. Violations: ELANG_ERR_FORMAT naming
 * the file and line.
 *
 * The model tokenizes as RobertaTokenizer._tokenize (the unk token for a
 * symbol missing from the vocabulary) and detokenizes as its
 * convert_tokens_to_string: the text the tokens spell, invalid UTF-8
 * replaced by U+FFFD; a token character that stands for no byte (Python's
 * KeyError) is ELANG_ERR_FORMAT. */
/* Which pre-tokenization: GPT-2's pattern (GPT-2, RoBERTa) or Qwen2's
 * (single digits, a letter run may take one leading non-letter, newlines
 * kept with what precedes them; the text NFC-normalised first). */
typedef enum { BPE_GPT2, BPE_QWEN2 } bpe_pretokenizer;

elang_status bpe_load(const char *vocab_path, const char *merges_path, bpe_pretokenizer pre,
                      subword_model *out, elang_error *err);

/* The same from a tokenizer.json's "model" object (type "BPE": "vocab" an
 * object of token -> id, "merges" a list of "a b" strings or of [a, b]
 * pairs, ranked by their order). path names the file in messages. */
elang_status bpe_load_json(const json_t *model, const char *path, bpe_pretokenizer pre, subword_model *out,
                           elang_error *err);

#endif
