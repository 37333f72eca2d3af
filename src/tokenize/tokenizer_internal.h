/* What the files behind tokenizer.h share. Each does one job:
 *
 *   tokenizer.c  loading: the layout of each model type,
 *                tokenizer_config.json, the vocabulary files, the order of
 *                the steps;
 *   specials.c   the special tokens: their configuration
 *                (tokenizer_config.json, special_tokens_map.json, T5's
 *                sentinels) and their registration as added tokens;
 *   added.c      the added tokens: added_tokens.json, lookups, finding
 *                them in a text, lowercasing around them;
 *   encode.c     tokenizing, the special tokens around one text or a pair,
 *                truncation;
 *   decode.c     ids back to text;
 *   tokenizer_json.c  the byte-level BPE of a tokenizer.json.
 *
 * The subword algorithm sits behind model (subword.h): none of these files
 * asks which one it is.
 */
#ifndef ELANG_TOKENIZE_TOKENIZER_INTERNAL_H
#define ELANG_TOKENIZE_TOKENIZER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "tokenize/subword.h"
#include "tokenize/tokenizer.h"
#include "util/files.h"
#include "util/i32vec.h"
#include "util/strmap.h"

/* How build_inputs_with_special_tokens frames one or two sequences, and
 * which tokenizer class's defaults apply. The decoder-only models' (GPT-2,
 * Llama, Qwen2) frame a text as [bos] text [eos], each as the tokenizer
 * config's add_bos_token / add_eos_token say, and follow transformers
 * 4.48's tokenizers (added_tokens_decoder in tokenizer_config.json). */
typedef enum { LAYOUT_BERT, LAYOUT_ROBERTA, LAYOUT_T5, LAYOUT_MARIAN, LAYOUT_GPT2, LAYOUT_LLAMA, LAYOUT_QWEN2 } tok_layout;

/* The decoder-only models' layouts. */
static inline bool layout_is_causal(tok_layout l) { return l == LAYOUT_GPT2 || l == LAYOUT_LLAMA || l == LAYOUT_QWEN2; }

/* SpecialTokensMixin's attributes. */
enum { SPECIAL_BOS, SPECIAL_EOS, SPECIAL_UNK, SPECIAL_SEP, SPECIAL_PAD, SPECIAL_CLS, SPECIAL_MASK,
       N_SPECIAL };

/* A token as the configuration names it. lstrip: the token eats the
 * whitespace at the end of the text before it; rstrip: at the start of the
 * text after it. PreTrainedTokenizer.tokenize strips both sides of a token
 * given as a plain string and follows the flags of an AddedToken. */
typedef struct {
    char *text; /* UTF-8; NULL when the tokenizer has no such token */
    bool lstrip, rstrip;
} token_spec;

typedef struct {
    token_spec named[N_SPECIAL];
    token_spec *extra; /* additional_special_tokens */
    size_t n_extra;
} special_specs;

/* A token that is cut out of the text before tokenizing the rest: every
 * special token, and the entries of added_tokens.json. */
typedef struct {
    char *text;
    int32_t *cps; /* text as code points */
    size_t n;
    int32_t id;
    bool special;
    bool lstrip, rstrip;
} added_token;

/* The added tokens in the order they were added; no two share a text.
 * Looked up by text while loading, then by id and in texts (added_index). */
typedef struct {
    added_token *v;
    size_t n, cap;
    strmap by_text;            /* text -> index in v */
    strmap by_id;              /* id (4 bytes) -> index of the first token with it */
    strmap special_ids;        /* ids (4 bytes) of the special tokens */
    const added_token **order; /* the non-empty tokens by their code points, for matching */
    size_t n_order;
} added_tokens;

struct tokenizer {
    subword_model model;
    tok_layout layout;
    bool xlmr;                     /* XLMRobertaTokenizer: SentencePiece under the RoBERTa layout */
    added_tokens added;
    strmap specials;               /* the special tokens' texts (-> 0) */
    int32_t special_id[N_SPECIAL]; /* -1 where there is no such token */
    const char *unk_text;          /* the unk token (an added token's text) */
    int n_ids;                     /* len(tokenizer): vocabulary plus added tokens */
    int model_max_length;
    bool lowercase;                /* BertTokenizer's do_lower_case */
    bool add_prefix_space;         /* RobertaTokenizer's and GPT2Tokenizer's add_prefix_space */
    bool add_bos, add_eos;         /* decoder-only layouts: add_bos_token, add_eos_token */
    /* decode()'s clean_up_tokenization_spaces and spaces_between_special_tokens:
     * on in transformers 4.25; in 4.48 as tokenizer_config.json says, the
     * clean-up off by default, and Qwen2Tokenizer's spaces off too. */
    bool clean_up, spaces_between_special;
};

/* The vocabulary's id of text, or -1. */
static inline int32_t vocab_id(const tokenizer *t, const char *text) {
    return t->model.ops->token_id(t->model.impl, text, strlen(text));
}

/* ----------------------------------------------------------- tokenizer.c */

/* Reads dir/name, which must hold a JSON object, into *out when the file
 * exists (*out stays NULL when not); path (FILE_PATH_MAX bytes) gets its
 * path. */
elang_status load_optional_json(const char *dir, const char *name, size_t flags, json_t **out,
                                char *path, elang_error *err);

/* ------------------------------------------------------------ specials.c */

/* The special tokens of t's layout as its tokenizer class sets them by
 * default, then as tokenizer_config.json (config, read from config_path;
 * may be NULL) and dir/special_tokens_map.json set them; T5's extra_ids
 * sentinels. Fills t->specials with their texts. Release s with
 * specials_free, also on failure. */
elang_status specials_read(tokenizer *t, const char *dir, const json_t *config,
                           const char *config_path, int extra_ids, special_specs *s,
                           elang_error *err);

/* Registers the special tokens of s as added tokens (sanitize_special_tokens)
 * after those of added_tokens.json, and sets t->special_id and t->unk_text.
 * A special token the layout cannot do without set to null:
 * ELANG_ERR_FORMAT naming dir and model_type. */
elang_status specials_register(tokenizer *t, const special_specs *s, const char *dir,
                               const char *model_type, elang_error *err);

void specials_free(special_specs *s);

/* --------------------------------------------------------------- added.c */

/* Reads added_tokens.json at path into t->added (t->specials must be set). */
elang_status added_read_file(tokenizer *t, const char *path, elang_error *err);

/* The added tokens a tokenizer_config.json (transformers >= 4.34) or a
 * tokenizer.json lists with their ids and flags: `list` is
 * added_tokens_decoder (an object of id -> AddedToken) or tokenizer.json's
 * added_tokens (an array of AddedToken with "id"). They are added as given,
 * ids included, and t->n_ids covers them. Malformed entries:
 * ELANG_ERR_FORMAT naming path and the entry. */
elang_status added_read_declared(tokenizer *t, const json_t *list, const char *path, elang_error *err);

/* Adds a token whose text no added token has yet. False when out of
 * memory. */
bool added_append(added_tokens *a, const char *text, int32_t id, bool special, bool lstrip,
                  bool rstrip);

/* The index of the added token with this text, or -1. */
int added_find(const added_tokens *a, const char *text);

/* Indexes the tokens once they are all added, for the functions below.
 * False when out of memory. */
bool added_index(added_tokens *a);

/* The index of the added token starting at s[i] (the longest when several
 * do), or -1. Costs O(L log N) for N added tokens, where L is the longest
 * run of s from i that some token starts with. */
int added_match(const added_tokens *a, const int32_t *s, size_t n, size_t i);

/* tokenize()'s do_lower_case: text lowercased but for the added tokens in
 * it, appended to out. False when out of memory. */
bool added_lowercase_around(const added_tokens *a, const i32vec *text, i32vec *out);

/* The index of the first added token with this id, or -1. */
int added_with_id(const added_tokens *a, int32_t id);

/* id in all_special_ids / text in all_special_tokens. */
bool added_is_special_id(const added_tokens *a, int32_t id);
bool added_is_special_text(const added_tokens *a, const char *text);

void added_free(added_tokens *a);

/* ------------------------------------------------------ tokenizer_json.c */

/* Loads the byte-level BPE of tokenizer.json at path into *model; *root
 * keeps the parsed file (its added_tokens are read once the vocabulary's
 * size is known), released by the caller. */
elang_status tokenizer_json_load(const char *path, subword_model *model, json_t **root, elang_error *err);

/* -------------------------------------------------------------- encode.c */

#endif
