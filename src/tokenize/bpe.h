/* GPT-2 byte-level BPE as RobertaTokenizer (transformers 4.25, Python) runs
 * it: the GPT-2 pre-tokenization regex, each piece's UTF-8 bytes mapped to
 * printable characters (bytes_to_unicode), then merges by rank from
 * merges.txt and ids from vocab.json.
 *
 * This layer sees one chunk of text between added tokens; the prefix space,
 * added tokens and special tokens are the tokenizer's job (subword.h).
 */
#ifndef ELANG_TOKENIZE_BPE_H
#define ELANG_TOKENIZE_BPE_H

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
elang_status bpe_load(const char *vocab_path, const char *merges_path, subword_model *out,
                      elang_error *err);

#endif
