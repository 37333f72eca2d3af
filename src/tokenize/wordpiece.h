/* BertTokenizer (transformers 4.25, Python): BasicTokenizer then
 * WordpieceTokenizer over vocab.txt.
 *
 * This layer sees one chunk of text between added tokens; finding those
 * tokens, the lowercasing PreTrainedTokenizer.tokenize does before, and the
 * special tokens around a sequence are the tokenizer's job (subword.h).
 */
#ifndef ELANG_TOKENIZE_WORDPIECE_H
#define ELANG_TOKENIZE_WORDPIECE_H

#include <stdbool.h>

#include "elang.h"
#include "tokenize/subword.h"

/* BasicTokenizer's options, as in tokenizer_config.json. */
typedef struct {
    bool do_lower_case;          /* default true */
    int strip_accents;           /* -1: None (follow do_lower_case), 0: false, 1: true */
    bool tokenize_chinese_chars; /* default true */
} wordpiece_opts;

/* Reads path (a vocab.txt: one token per line, the id is the line index).
 * A line that is not UTF-8 or repeats a token: ELANG_ERR_FORMAT with its
 * line number; an empty file: ELANG_ERR_FORMAT.
 *
 * The model tokenizes as BertTokenizer._tokenize: the special tokens of the
 * context are kept whole, the unk token stands for words WordPiece cannot
 * cover. It detokenizes as convert_tokens_to_string: the tokens joined by
 * spaces, each "##" continuation glued to the token before, stripped. */
elang_status wordpiece_load(const char *path, const wordpiece_opts *opts, subword_model *out,
                            elang_error *err);

#endif
