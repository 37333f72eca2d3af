/* A vocabulary both ways: token -> id for encoding, id -> token for
 * decoding. vocab.txt (WordPiece) fills one line by line; vocab.json
 * (byte-level BPE, Marian) is read by tok_vocab_load_json. Ids need not be
 * dense, but no two tokens may share one: the reverse direction would be
 * ambiguous (Python's {v: k for k, v in ...} silently keeps the last). */
#ifndef ELANG_TOKENIZE_VOCAB_H
#define ELANG_TOKENIZE_VOCAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "elang.h"
#include "util/strmap.h"

typedef struct {
    int32_t id;
    uint32_t off; /* the token is at ids.arena + off */
} tok_vocab_entry;

typedef struct {
    strmap ids;               /* token -> id */
    tok_vocab_entry *by_id;   /* every token, sorted by id (after tok_vocab_index) */
    int size;                 /* number of tokens */
    int32_t max_id;           /* -1 when empty (set by tok_vocab_index) */
} tok_vocab;

/* Adds token[0..len) with id >= 0; *had tells whether the token was
 * already there (it then keeps its first id). False when out of memory. */
bool tok_vocab_add(tok_vocab *v, const char *token, size_t len, int32_t id, bool *had);

/* Builds the id -> token direction once every token is added: an id held
 * by two tokens is ELANG_ERR_FORMAT naming path. */
elang_status tok_vocab_index(tok_vocab *v, const char *path, elang_error *err);

/* A vocab.json: an object of token -> integer id in [0, 2^31), no token
 * twice and no id twice; ELANG_ERR_IO / ELANG_ERR_FORMAT naming path. */
elang_status tok_vocab_load_json(const char *path, tok_vocab *v, elang_error *err);

/* The same from a parsed object (tokenizer.json's model.vocab); path names
 * it in messages. */
elang_status tok_vocab_from_json(const json_t *obj, const char *path, tok_vocab *v, elang_error *err);

void tok_vocab_free(tok_vocab *v);

/* The id of token[0..len), or -1. */
int32_t tok_vocab_id(const tok_vocab *v, const char *token, size_t len);

/* The token (NUL-terminated, owned by v) with this id, or NULL. */
const char *tok_vocab_token(const tok_vocab *v, int32_t id);

#endif
