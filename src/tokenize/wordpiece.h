/* BertTokenizer (transformers 4.25, Python): BasicTokenizer then
 * WordpieceTokenizer over vocab.txt.
 *
 * This layer sees one chunk of text between added tokens; finding those
 * tokens, the lowercasing PreTrainedTokenizer.tokenize does before, and the
 * special tokens around a sequence are tokenizer.c's job.
 */
#ifndef ELANG_TOKENIZE_WORDPIECE_H
#define ELANG_TOKENIZE_WORDPIECE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elang.h"
#include "util/i32vec.h"
#include "util/strbuf.h"
#include "util/strmap.h"

typedef struct wordpiece wordpiece;

/* BasicTokenizer's options, as in tokenizer_config.json. */
typedef struct {
    bool do_lower_case;          /* default true */
    int strip_accents;           /* -1: None (follow do_lower_case), 0: false, 1: true */
    bool tokenize_chinese_chars; /* default true */
} wordpiece_opts;

/* Reads path (a vocab.txt: one token per line, the id is the line index).
 * A line that is not UTF-8 or repeats a token: ELANG_ERR_FORMAT with its
 * line number. */
elang_status wordpiece_load(const char *path, const wordpiece_opts *opts, wordpiece **out,
                            elang_error *err);
void wordpiece_free(wordpiece *wp);

/* The id of token (UTF-8), or -1. */
int32_t wordpiece_token_id(const wordpiece *wp, const char *token, size_t len);
/* The token with this id, or NULL. */
const char *wordpiece_id_token(const wordpiece *wp, int32_t id);
int wordpiece_vocab_size(const wordpiece *wp);

/* BertTokenizer._tokenize of cps[0..n): appends the ids to ids. never_split
 * holds the special tokens, which BasicTokenizer keeps whole; unk_id stands
 * for words WordPiece cannot cover. False only when out of memory. */
bool wordpiece_tokenize(const wordpiece *wp, const int32_t *cps, size_t n,
                        const strmap *never_split, int32_t unk_id, i32vec *ids);

/* BertTokenizer.convert_tokens_to_string: appends to out the tokens joined
 * by spaces, each "##" continuation glued to the token before, stripped.
 * False only when out of memory. */
bool wordpiece_detokenize(const char *const *tokens, size_t n, strbuf *out);

#endif
