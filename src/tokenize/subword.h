/* The subword algorithms (WordPiece, byte-level BPE, SentencePiece) behind
 * one table of operations, so that the tokenizer around them (special and
 * added tokens, framing, truncation, decoding: tokenizer.c and the files
 * beside it) never asks which one it holds.
 *
 * Each algorithm's constructor (wordpiece_load, bpe_load,
 * sentencepiece_load_*) fills a subword_model; the tokenizer calls
 * model.ops->op(model.impl, ...) and finally model.ops->free(model.impl).
 */
#ifndef ELANG_TOKENIZE_SUBWORD_H
#define ELANG_TOKENIZE_SUBWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elang.h"
#include "util/i32vec.h"
#include "util/strbuf.h"
#include "util/strmap.h"

/* What an algorithm may need of the tokenizer around it when tokenizing. */
typedef struct {
    int32_t unk_id;         /* the tokenizer's unk_token_id (-1 when it has none) */
    const strmap *specials; /* the special tokens' texts (BasicTokenizer's never_split) */
    const char *unk_text;   /* the unk token's text, or NULL */
    bool first;             /* the chunk starts the (prepared) text */
    bool before_special;    /* a special token follows the chunk */
} subword_context;

typedef struct {
    /* prepare_for_tokenization, and what the tokenizer class's tokenize()
     * does to the whole text before the added tokens are cut out of it
     * (Qwen2: NFC; Llama: "▁" for spaces and before the text), in place;
     * NULL when nothing. False only when out of memory. */
    bool (*prepare)(const void *impl, i32vec *text);
    /* _convert_token_to_id of token[0..len) (UTF-8) when the vocabulary has
     * the token, else -1 (rather than the unk token's id). */
    int32_t (*token_id)(const void *impl, const char *token, size_t len);
    /* _convert_id_to_token: the token with this id, or NULL. */
    const char *(*id_token)(const void *impl, int32_t id);
    /* The tokenizer's vocab_size, added tokens excluded. */
    int (*size)(const void *impl);
    /* The largest id the vocabulary gives a token (size - 1 where ids are
     * dense; a vocab.json may skip some). */
    int32_t (*max_id)(const void *impl);
    /* _tokenize + convert_tokens_to_ids of one chunk of text between added
     * tokens, cps[0..n): appends the ids to ids. False only when out of
     * memory. */
    bool (*tokenize)(const void *impl, const int32_t *cps, size_t n, const subword_context *ctx,
                     i32vec *ids);
    /* convert_tokens_to_string of tokens[0..n), appended to out; special[i]
     * says whether tokens[i] is one of the special tokens. */
    elang_status (*detokenize)(const void *impl, const char *const *tokens, const bool *special,
                               size_t n, strbuf *out, elang_error *err);
    void (*free)(void *impl);
} subword_ops;

typedef struct {
    const subword_ops *ops; /* NULL until a constructor succeeds */
    void *impl;
} subword_model;

#endif
