#include "tokenize/tokenizer.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/error.h"
#include "tokenize/bpe.h"
#include "util/files.h"
#include "util/i32vec.h"
#include "tokenize/sentencepiece.h"
#include "util/strbuf.h"
#include "util/strmap.h"
#include "util/unicode.h"
#include "tokenize/wordpiece.h"

/* The algorithm that turns a chunk of text into ids: chosen by the files in
 * the model directory for the encoder classifiers, by the model type for
 * the encoder-decoders (T5 and Marian both use SentencePiece). */
typedef enum { KIND_WORDPIECE, KIND_BPE, KIND_SENTENCEPIECE } tok_kind;

/* How build_inputs_with_special_tokens frames one or two sequences. */
typedef enum { LAYOUT_BERT, LAYOUT_ROBERTA, LAYOUT_T5, LAYOUT_MARIAN } tok_layout;

/* xlmr: XLMRobertaTokenizer's sentencepiece.bpe.model is looked for before
 * the other files. CamemBERT is left out on purpose: CamembertTokenizer
 * shifts its pieces by 4 around extra <s>NOTUSED tokens and decodes through
 * SentencePiece, and there is nothing to test that against. */
static const struct {
    const char *model_type;
    tok_layout layout;
    bool xlmr;
} LAYOUTS[] = {
    {"bert", LAYOUT_BERT, false},       {"distilbert", LAYOUT_BERT, false},
    {"roberta", LAYOUT_ROBERTA, false}, {"xlm-roberta", LAYOUT_ROBERTA, true},
    {"t5", LAYOUT_T5, false},           {"marian", LAYOUT_MARIAN, false},
};

/* SpecialTokensMixin's attributes, with the constructor defaults of the
 * tokenizer class behind each layout (BertTokenizer has no bos/eos, T5 and
 * Marian have eos, unk and pad only). */
enum { SPECIAL_BOS, SPECIAL_EOS, SPECIAL_UNK, SPECIAL_SEP, SPECIAL_PAD, SPECIAL_CLS, SPECIAL_MASK,
       N_SPECIAL };
static const char *const SPECIAL_KEYS[N_SPECIAL] = {"bos_token", "eos_token", "unk_token",
                                                    "sep_token", "pad_token", "cls_token",
                                                    "mask_token"};
static const char *const SPECIAL_DEFAULTS[][N_SPECIAL] = {
    [LAYOUT_BERT] = {NULL, NULL, "[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"},
    [LAYOUT_ROBERTA] = {"<s>", "</s>", "<unk>", "</s>", "<pad>", "<s>", "<mask>"},
    [LAYOUT_T5] = {NULL, "</s>", "<unk>", NULL, "<pad>", NULL, NULL},
    [LAYOUT_MARIAN] = {NULL, "</s>", "<unk>", NULL, "<pad>", NULL, NULL},
};

/* The special tokens each layout cannot do without: for its framing, for
 * unknown pieces and for padding. */
#define BIT(k) (1u << (k))
static const unsigned REQUIRED_SPECIALS[] = {
    [LAYOUT_BERT] = BIT(SPECIAL_UNK) | BIT(SPECIAL_CLS) | BIT(SPECIAL_SEP) | BIT(SPECIAL_PAD),
    [LAYOUT_ROBERTA] = BIT(SPECIAL_UNK) | BIT(SPECIAL_CLS) | BIT(SPECIAL_SEP) | BIT(SPECIAL_PAD),
    [LAYOUT_T5] = BIT(SPECIAL_UNK) | BIT(SPECIAL_EOS) | BIT(SPECIAL_PAD),
    [LAYOUT_MARIAN] = BIT(SPECIAL_UNK) | BIT(SPECIAL_EOS) | BIT(SPECIAL_PAD),
};
#undef BIT

/* T5Tokenizer's default extra_ids: the sentinels <extra_id_0..99>. */
#define T5_EXTRA_IDS 100
/* MarianTokenizer's default model_max_length, and XLM-R's (see
 * default_max_length). */
#define DEFAULT_MAX_LENGTH 512

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
    int32_t *cps;
    size_t n;
    int32_t id;
    bool special;
    bool lstrip, rstrip;
} added_token;

struct tokenizer {
    tok_kind kind;
    wordpiece *wp;
    bpe *bpe;
    sentencepiece *sp;
    tok_layout layout;
    added_token *added;
    size_t n_added;
    strmap never_split;            /* the special tokens, kept whole by BasicTokenizer */
    int32_t special_id[N_SPECIAL]; /* -1 where there is no such token */
    const char *unk_text;          /* the unk token (an added[] text) */
    int n_ids;                     /* len(tokenizer): vocabulary plus added tokens */
    int model_max_length;
    bool lowercase;        /* BertTokenizer's do_lower_case */
    bool add_prefix_space; /* RobertaTokenizer's add_prefix_space */
};

/* ------------------------------------------------------------ loading */

/* XLMRobertaTokenizer: SentencePiece under the RoBERTa framing. */
static bool is_xlmr(const tokenizer *t) {
    return t->kind == KIND_SENTENCEPIECE && t->layout == LAYOUT_ROBERTA;
}

/* How the constructor takes special token k given as a plain string.
 * RobertaTokenizer wraps every one in an AddedToken that strips nothing
 * but <mask>'s left side; XLMRobertaTokenizer wraps <mask> alone, the same
 * way; the other tokenizers keep plain strings, which tokenize() strips on
 * both sides. */
static void constructor_strip(const tokenizer *t, int k, bool *lstrip, bool *rstrip) {
    bool wrapped = t->layout == LAYOUT_ROBERTA && (k == SPECIAL_MASK || !is_xlmr(t));
    *lstrip = !wrapped || k == SPECIAL_MASK;
    *rstrip = !wrapped;
}

static int32_t vocab_id(const tokenizer *t, const char *text) {
    switch (t->kind) {
    case KIND_WORDPIECE: return wordpiece_token_id(t->wp, text, strlen(text));
    case KIND_BPE: return bpe_token_id(t->bpe, text, strlen(text));
    case KIND_SENTENCEPIECE: return sentencepiece_token_id(t->sp, text, strlen(text));
    }
    return -1;
}

static int vocab_size(const tokenizer *t) {
    switch (t->kind) {
    case KIND_WORDPIECE: return wordpiece_vocab_size(t->wp);
    case KIND_BPE: return bpe_vocab_size(t->bpe);
    case KIND_SENTENCEPIECE: return sentencepiece_vocab_size(t->sp);
    }
    return 0;
}

static int find_added(const tokenizer *t, const char *text) {
    for (size_t k = 0; k < t->n_added; k++)
        if (strcmp(t->added[k].text, text) == 0) return (int)k;
    return -1;
}

static bool append_added(tokenizer *t, const char *text, int32_t id, bool special, bool lstrip,
                         bool rstrip) {
    added_token *a = realloc(t->added, (t->n_added + 1) * sizeof *a);
    if (!a) return false;
    t->added = a;
    i32vec cps = {0};
    size_t bad;
    char *copy = strdup(text);
    if (!copy || !utf8_decode(text, strlen(text), &cps, &bad)) { /* jansson strings are UTF-8 */
        free(copy);
        i32vec_free(&cps);
        return false;
    }
    a[t->n_added++] = (added_token){copy, cps.v, cps.len, id, special, lstrip, rstrip};
    return true;
}

static elang_status config_bool(const json_t *cfg, const char *key, bool *out, const char *path,
                                elang_error *err) {
    const json_t *v = json_object_get(cfg, key);
    if (!v || json_is_null(v)) return ELANG_OK;
    if (!json_is_boolean(v))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: %s is not true or false", path, key);
    *out = json_is_true(v);
    return ELANG_OK;
}

/* A token given as a string or as a serialized AddedToken
 * {"content": ..., "lstrip": ..., "rstrip": ...}; a string gets the flags
 * passed in. Replaces *out. */
static elang_status parse_token(const json_t *v, bool lstrip, bool rstrip, const char *path,
                                const char *key, token_spec *out, elang_error *err) {
    const char *text = NULL;
    if (json_is_string(v)) {
        text = json_string_value(v);
    } else if (json_is_object(v) && json_is_string(json_object_get(v, "content"))) {
        text = json_string_value(json_object_get(v, "content"));
        lstrip = json_is_true(json_object_get(v, "lstrip"));
        rstrip = json_is_true(json_object_get(v, "rstrip"));
    } else if (!json_is_null(v)) {
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: %s is neither a string nor an AddedToken",
                          path, key);
    }
    char *copy = NULL;
    if (text && !(copy = strdup(text)))
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory reading %s", path);
    free(out->text);
    *out = (token_spec){copy, lstrip, rstrip};
    return ELANG_OK;
}

/* The special tokens set by tokenizer_config.json (constructor arguments,
 * which constructor_strip says how to take) or special_tokens_map.json
 * (assigned after construction, which overrides; a string stays a plain
 * string). */
static elang_status read_specials(const json_t *obj, const char *path, const tokenizer *t,
                                  bool constructor, special_specs *s, elang_error *err) {
    for (int k = 0; k < N_SPECIAL; k++) {
        const json_t *v = json_object_get(obj, SPECIAL_KEYS[k]);
        if (!v) continue;
        bool lstrip = true, rstrip = true;
        if (constructor) constructor_strip(t, k, &lstrip, &rstrip);
        elang_status rc = parse_token(v, lstrip, rstrip, path, SPECIAL_KEYS[k], &s->named[k], err);
        if (rc != ELANG_OK) return rc;
    }
    const json_t *list = json_object_get(obj, "additional_special_tokens");
    if (!list || json_is_null(list)) return ELANG_OK;
    if (!json_is_array(list))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: additional_special_tokens is not a list",
                          path);
    for (size_t i = 0; i < s->n_extra; i++) free(s->extra[i].text);
    free(s->extra);
    s->n_extra = json_array_size(list);
    if (!(s->extra = calloc(s->n_extra + 1, sizeof *s->extra)))
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory reading %s", path);
    for (size_t i = 0; i < s->n_extra; i++) {
        elang_status rc = parse_token(json_array_get(list, i), true, true, path,
                                      "additional_special_tokens", &s->extra[i], err);
        if (rc != ELANG_OK) return rc;
        if (!s->extra[i].text)
            return elang_fail(err, ELANG_ERR_FORMAT, "%s: additional_special_tokens holds null",
                              path);
    }
    return ELANG_OK;
}

static void free_specials(special_specs *s) {
    for (int k = 0; k < N_SPECIAL; k++) free(s->named[k].text);
    for (size_t i = 0; i < s->n_extra; i++) free(s->extra[i].text);
    free(s->extra);
}

static bool is_special(const special_specs *s, const char *text) {
    for (int k = 0; k < N_SPECIAL; k++)
        if (s->named[k].text && strcmp(s->named[k].text, text) == 0) return true;
    for (size_t i = 0; i < s->n_extra; i++)
        if (strcmp(s->extra[i].text, text) == 0) return true;
    return false;
}

typedef struct {
    const char *text;
    json_int_t id;
} added_entry;

static int by_id(const void *a, const void *b) {
    json_int_t x = ((const added_entry *)a)->id, y = ((const added_entry *)b)->id;
    return (x > y) - (x < y);
}

/* added_tokens.json, token -> id: from_pretrained adds them in id order and
 * insists that the ids continue the vocabulary without gaps. Tokens the
 * vocabulary already has are not added; with do_lower_case the non-special
 * ones are lowercased first (_add_tokens). */
static elang_status read_added_tokens(tokenizer *t, const char *path, const special_specs *s,
                                      elang_error *err) {
    json_t *root;
    elang_status rc = file_load_json(path, JSON_REJECT_DUPLICATES, &root, err);
    if (rc != ELANG_OK) return rc;
    added_entry *entries = NULL;
    char *lowered = NULL;
    if (!json_is_object(root)) {
        rc = elang_fail(err, ELANG_ERR_FORMAT, "%s: not a JSON object of token -> id", path);
        goto done;
    }
    size_t n = 0;
    if (!(entries = malloc((json_object_size(root) + 1) * sizeof *entries))) goto nomem;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (!json_is_integer(v)) {
            rc = elang_fail(err, ELANG_ERR_FORMAT, "%s: the id of \"%s\" is not an integer", path,
                            key);
            goto done;
        }
        entries[n++] = (added_entry){key, json_integer_value(v)};
    }
    qsort(entries, n, sizeof *entries, by_id);
    for (size_t i = 0; i < n; i++) {
        const char *text = entries[i].text;
        bool special = is_special(s, text);
        if (!special && t->lowercase) {
            i32vec cps = {0};
            size_t bad, len = strlen(text);
            free(lowered);
            lowered = malloc(8 * len + 1);
            bool ok = lowered && utf8_decode(text, len, &cps, &bad) &&
                      i32vec_reserve(&cps, cps.len); /* room for the lowercase pass below */
            if (ok) {
                i32vec low = {0};
                ok = i32vec_reserve(&low, 2 * cps.len);
                for (size_t k = 0; ok && k < cps.len; k++)
                    low.len += (size_t)uni_py_lower(cps.v[k], low.v + low.len);
                if (ok) lowered[utf8_encode(low.v, low.len, lowered, NULL)] = '\0';
                i32vec_free(&low);
            }
            i32vec_free(&cps);
            if (!ok) goto nomem;
            text = lowered;
        }
        if (vocab_id(t, text) >= 0 || find_added(t, text) >= 0) continue;
        if (entries[i].id != t->n_ids) {
            rc = elang_fail(err, ELANG_ERR_FORMAT,
                            "%s: \"%s\" has id %lld but the next free id is %d (added tokens "
                            "must continue the vocabulary without gaps)",
                            path, entries[i].text, (long long)entries[i].id, t->n_ids);
            goto done;
        }
        if (!append_added(t, text, t->n_ids++, special, true, true)) goto nomem;
    }
    goto done;
nomem:
    rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory reading %s", path);
done:
    free(lowered);
    free(entries);
    json_decref(root);
    return rc;
}

/* sanitize_special_tokens(): every special token is cut out of the text, and
 * one missing from the vocabulary gets the next free id. */
static bool register_special(tokenizer *t, const token_spec *spec) {
    if (!spec->text) return true;
    bool had;
    if (!strmap_put(&t->never_split, spec->text, strlen(spec->text), 0, &had)) return false;
    int k = find_added(t, spec->text);
    if (k >= 0) {
        t->added[k].special = true;
        t->added[k].lstrip = spec->lstrip;
        t->added[k].rstrip = spec->rstrip;
        return true;
    }
    int32_t id = vocab_id(t, spec->text);
    return append_added(t, spec->text, id >= 0 ? id : t->n_ids++, true, spec->lstrip,
                        spec->rstrip);
}

/* Reads dir/name into *out when the file exists (*out stays NULL when not). */
static elang_status optional_json(const char *dir, const char *name, size_t flags, json_t **out,
                                  char *path, elang_error *err) {
    elang_status rc = file_path_join(path, dir, name, err);
    if (rc != ELANG_OK || !file_exists(path)) return rc;
    rc = file_load_json(path, flags, out, err);
    if (rc == ELANG_OK && !json_is_object(*out))
        rc = elang_fail(err, ELANG_ERR_FORMAT, "%s: not a JSON object", path);
    return rc;
}

/* An integer constructor argument; tokenizer_config.json is read with
 * integers as reals (see tokenizer_load). */
static elang_status config_int(const json_t *cfg, const char *key, int *out, const char *path,
                               elang_error *err) {
    const json_t *v = json_object_get(cfg, key);
    if (!v || json_is_null(v)) return ELANG_OK;
    double d = json_number_value(v);
    if (!json_is_number(v) || !(d >= INT_MIN && d <= INT_MAX) || d != (int)d)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: %s is not a whole number", path, key);
    *out = (int)d;
    return ELANG_OK;
}

/* T5Tokenizer.__init__: unless the constructor was given
 * additional_special_tokens, the extra_ids sentinels <extra_id_0>, ... are
 * the additional special tokens; if it was, they must hold extra_ids
 * distinct tokens that contain "extra_id" (or it raises ValueError). */
static elang_status t5_sentinels(special_specs *s, int extra_ids, bool given, const char *path,
                                 elang_error *err) {
    if (extra_ids <= 0) return ELANG_OK;
    if (given) {
        int distinct = 0;
        for (size_t i = 0; i < s->n_extra; i++) {
            size_t j = 0;
            while (j < i && strcmp(s->extra[j].text, s->extra[i].text) != 0) j++;
            distinct += j == i && strstr(s->extra[i].text, "extra_id") != NULL;
        }
        if (distinct != extra_ids)
            return elang_fail(err, ELANG_ERR_FORMAT,
                              "%s: additional_special_tokens holds %d extra_id tokens but "
                              "extra_ids is %d",
                              path, distinct, extra_ids);
        return ELANG_OK;
    }
    if (!(s->extra = calloc((size_t)extra_ids, sizeof *s->extra))) goto nomem;
    for (s->n_extra = 0; s->n_extra < (size_t)extra_ids; s->n_extra++) {
        char name[32];
        snprintf(name, sizeof name, "<extra_id_%zu>", s->n_extra);
        if (!(s->extra[s->n_extra].text = strdup(name))) goto nomem;
        s->extra[s->n_extra].lstrip = s->extra[s->n_extra].rstrip = true;
    }
    return ELANG_OK;
nomem:
    return elang_fail(err, ELANG_ERR_NOMEM, "out of memory reading %s", path);
}

/* The vocabulary and the algorithm that goes with it: SentencePiece for T5
 * and Marian, and for XLM-R when there is a sentencepiece.bpe.model; for
 * the others WordPiece when there is a vocab.txt, else byte-level BPE. */
static elang_status load_vocabulary(tokenizer *t, const char *dir, bool xlmr,
                                    const json_t *config, const char *config_path,
                                    const wordpiece_opts *wopts, int extra_ids,
                                    elang_error *err) {
    char path[FILE_PATH_MAX], merges[FILE_PATH_MAX];
    bool separate_vocabs = false;
    elang_status rc;
    switch (t->layout) {
    case LAYOUT_T5:
        t->kind = KIND_SENTENCEPIECE;
        return sentencepiece_load_t5(dir, extra_ids, &t->sp, err);
    case LAYOUT_MARIAN:
        t->kind = KIND_SENTENCEPIECE;
        if ((rc = config_bool(config, "separate_vocabs", &separate_vocabs, config_path, err)))
            return rc;
        return sentencepiece_load_marian(dir, separate_vocabs, &t->sp, err);
    case LAYOUT_BERT:
    case LAYOUT_ROBERTA: break;
    }
    if (xlmr) {
        if ((rc = file_path_join(path, dir, SENTENCEPIECE_XLMR_FILE, err))) return rc;
        if (file_exists(path)) {
            t->kind = KIND_SENTENCEPIECE;
            return sentencepiece_load_xlmr(dir, &t->sp, err);
        }
    }
    if ((rc = file_path_join(path, dir, "vocab.txt", err))) return rc;
    if (file_exists(path)) {
        t->kind = KIND_WORDPIECE;
        return wordpiece_load(path, wopts, &t->wp, err);
    }
    if ((rc = file_path_join(path, dir, "vocab.json", err)) ||
        (rc = file_path_join(merges, dir, "merges.txt", err)))
        return rc;
    if (!file_exists(path) || !file_exists(merges))
        return elang_fail(err, ELANG_ERR_IO,
                          "%s: no tokenizer files: looked for %svocab.txt (WordPiece) and for "
                          "vocab.json + merges.txt (byte-level BPE)",
                          dir, xlmr ? SENTENCEPIECE_XLMR_FILE " (XLM-R SentencePiece), " : "");
    t->kind = KIND_BPE;
    return bpe_load(path, merges, &t->bpe, err);
}

/* model_max_length when tokenizer_config.json does not give one.
 * MarianTokenizer's constructor defaults to 512. XLMRobertaTokenizer has no
 * default of its own: from_pretrained gives 512 (max_model_input_sizes) to
 * the XLM-R checkpoints it loads by hub name, and no limit to a local
 * directory without model_max_length. We take 512 for both, the positions
 * every XLM-R checkpoint has room for, rather than truncate nothing. */
static int default_max_length(const tokenizer *t) {
    return t->layout == LAYOUT_MARIAN || is_xlmr(t) ? DEFAULT_MAX_LENGTH : 0;
}

elang_status tokenizer_load(const char *dir, const char *model_type, tokenizer **out,
                            elang_error *err) {
    char path[FILE_PATH_MAX];
    json_t *config = NULL, *map = NULL;
    special_specs specs = {0};
    elang_status rc;
    tokenizer *t = calloc(1, sizeof *t);
    if (!t) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading the tokenizer");

    size_t li = 0, n_layouts = sizeof LAYOUTS / sizeof LAYOUTS[0];
    while (li < n_layouts && strcmp(LAYOUTS[li].model_type, model_type) != 0) li++;
    if (li == n_layouts) {
        rc = elang_fail(err, ELANG_ERR_UNSUPPORTED,
                        "model type \"%s\": no tokenizer layout for it (known: bert, distilbert, "
                        "roberta, xlm-roberta, t5, marian)",
                        model_type);
        goto done;
    }
    t->layout = LAYOUTS[li].layout;
    t->model_max_length = -1; /* until tokenizer_config.json gives one */

    /* tokenizer_config.json holds the constructor arguments. Its
     * model_max_length is sometimes int(1e30) ("no limit"), too big for a
     * JSON integer in jansson, hence integers read as reals. */
    char config_path[FILE_PATH_MAX];
    rc = optional_json(dir, "tokenizer_config.json", JSON_DECODE_INT_AS_REAL, &config,
                       config_path, err);
    if (rc != ELANG_OK) goto done;
    wordpiece_opts wopts = {.do_lower_case = true, .strip_accents = -1,
                            .tokenize_chinese_chars = true};
    int extra_ids = t->layout == LAYOUT_T5 ? T5_EXTRA_IDS : 0;
    if (config) {
        bool strip = false;
        const json_t *sa = json_object_get(config, "strip_accents");
        const json_t *max = json_object_get(config, "model_max_length");
        if ((rc = config_bool(config, "do_lower_case", &wopts.do_lower_case, config_path, err)) ||
            (rc = config_bool(config, "strip_accents", &strip, config_path, err)) ||
            (rc = config_bool(config, "tokenize_chinese_chars", &wopts.tokenize_chinese_chars,
                              config_path, err)) ||
            (rc = config_bool(config, "add_prefix_space", &t->add_prefix_space, config_path,
                              err)) ||
            (t->layout == LAYOUT_T5 &&
             (rc = config_int(config, "extra_ids", &extra_ids, config_path, err))))
            goto done;
        if (sa && !json_is_null(sa)) wopts.strip_accents = strip;
        if (max && !json_is_null(max) && !json_is_number(max)) {
            rc = elang_fail(err, ELANG_ERR_FORMAT, "%s: model_max_length is not a number",
                            config_path);
            goto done;
        }
        if (max && !json_is_null(max)) {
            double m = json_number_value(max);
            t->model_max_length = m >= 1 && m <= INT_MAX ? (int)m : 0;
        }
    }

    if ((rc = load_vocabulary(t, dir, LAYOUTS[li].xlmr, config, config_path, &wopts, extra_ids,
                              err)))
        goto done;
    if (t->model_max_length < 0) t->model_max_length = default_max_length(t);
    /* Only BertTokenizer has do_lower_case, which makes the generic
     * PreTrainedTokenizer.tokenize lowercase the text; only RobertaTokenizer
     * has add_prefix_space. */
    t->lowercase = t->kind == KIND_WORDPIECE && wopts.do_lower_case;
    if (t->kind != KIND_BPE) t->add_prefix_space = false;
    t->n_ids = vocab_size(t);

    for (int k = 0; k < N_SPECIAL; k++) {
        const char *d = SPECIAL_DEFAULTS[t->layout][k];
        if (d && !(specs.named[k].text = strdup(d))) goto nomem;
        constructor_strip(t, k, &specs.named[k].lstrip, &specs.named[k].rstrip);
    }
    if (config && (rc = read_specials(config, config_path, t, true, &specs, err))) goto done;
    const json_t *given = json_object_get(config, "additional_special_tokens");
    if (t->layout == LAYOUT_T5 &&
        (rc = t5_sentinels(&specs, extra_ids, given && !json_is_null(given), config_path, err)))
        goto done;
    if ((rc = optional_json(dir, "special_tokens_map.json", 0, &map, path, err)) ||
        (map && (rc = read_specials(map, path, t, false, &specs, err))))
        goto done;
    /* MarianTokenizer.__init__ insists that vocab.json has both. */
    static const int in_marian_vocab[] = {SPECIAL_UNK, SPECIAL_PAD};
    for (size_t i = 0; t->layout == LAYOUT_MARIAN && i < 2; i++) {
        int k = in_marian_vocab[i];
        if (specs.named[k].text && vocab_id(t, specs.named[k].text) < 0) {
            rc = elang_fail(err, ELANG_ERR_FORMAT, "%s/vocab.json: %s \"%s\" is missing", dir,
                            SPECIAL_KEYS[k], specs.named[k].text);
            goto done;
        }
    }
    if ((rc = file_path_join(path, dir, "added_tokens.json", err))) goto done;
    if (file_exists(path) && (rc = read_added_tokens(t, path, &specs, err))) goto done;
    for (int k = 0; k < N_SPECIAL; k++)
        if (!register_special(t, &specs.named[k])) goto nomem;
    for (size_t i = 0; i < specs.n_extra; i++)
        if (!register_special(t, &specs.extra[i])) goto nomem;
    for (int k = 0; k < N_SPECIAL; k++) {
        const char *text = specs.named[k].text;
        t->special_id[k] = text ? t->added[find_added(t, text)].id : -1;
    }
    for (int k = 0; k < N_SPECIAL; k++)
        if ((REQUIRED_SPECIALS[t->layout] >> k & 1) && t->special_id[k] < 0) {
            rc = elang_fail(err, ELANG_ERR_FORMAT, "%s: %s is null, but %s models need it", dir,
                            SPECIAL_KEYS[k], model_type);
            goto done;
        }
    t->unk_text = t->added[find_added(t, specs.named[SPECIAL_UNK].text)].text;
    *out = t;
    t = NULL;
    goto done;
nomem:
    rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading the tokenizer in %s", dir);
done:
    free_specials(&specs);
    json_decref(config);
    json_decref(map);
    tokenizer_free(t);
    return rc;
}

void tokenizer_free(tokenizer *t) {
    if (!t) return;
    wordpiece_free(t->wp);
    bpe_free(t->bpe);
    sentencepiece_free(t->sp);
    for (size_t k = 0; k < t->n_added; k++) {
        free(t->added[k].text);
        free(t->added[k].cps);
    }
    free(t->added);
    strmap_free(&t->never_split);
    free(t);
}

/* --------------------------------------------------------- tokenizing */

/* The added token starting at s[i], the longest when several do, or -1.
 * PreTrainedTokenizer's trie takes the leftmost match and extends it to the
 * longest; scanning positions in order and taking the longest here is the
 * same. (An empty token never matches: Trie.add ignores it.) */
static int match_added(const tokenizer *t, const int32_t *s, size_t n, size_t i) {
    int best = -1;
    for (size_t k = 0; k < t->n_added; k++) {
        const added_token *a = &t->added[k];
        if (a->n > 0 && a->n <= n - i && (best < 0 || a->n > t->added[best].n) &&
            memcmp(a->cps, s + i, a->n * sizeof *s) == 0)
            best = (int)k;
    }
    return best;
}

static bool tokenize_chunk(const tokenizer *t, const int32_t *s, size_t n, i32vec *ids) {
    int32_t unk = t->special_id[SPECIAL_UNK];
    switch (t->kind) {
    case KIND_WORDPIECE: return wordpiece_tokenize(t->wp, s, n, &t->never_split, unk, ids);
    case KIND_BPE: return bpe_tokenize(t->bpe, s, n, unk, ids);
    case KIND_SENTENCEPIECE: return sentencepiece_tokenize(t->sp, s, n, unk, ids);
    }
    return false;
}

/* PreTrainedTokenizer.tokenize + convert_tokens_to_ids. */
static elang_status tokenize(const tokenizer *t, const char *text, i32vec *ids, elang_error *err) {
    i32vec raw = {0}, low = {0};
    size_t bad;
    if (!utf8_decode(text, strlen(text), &raw, &bad)) {
        i32vec_free(&raw);
        if (bad == SIZE_MAX) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory tokenizing");
        return elang_fail(err, ELANG_ERR_INPUT, "invalid UTF-8 at byte offset %zu", bad);
    }
    bool ok = true;
    /* RobertaTokenizer.prepare_for_tokenization: add_prefix_space puts a
     * space before a text that does not start with whitespace. */
    if (t->add_prefix_space && raw.len > 0 && !uni_py_isspace(raw.v[0])) {
        ok = i32vec_reserve(&raw, 1);
        if (ok) {
            memmove(raw.v + 1, raw.v, raw.len * sizeof *raw.v);
            raw.v[0] = ' ';
            raw.len++;
        }
    }
    /* With do_lower_case, tokenize() lowercases the text one character at a
     * time (a regex substitution of `.+?`), skipping the added tokens. */
    const i32vec *s = &raw;
    if (ok && t->lowercase) {
        ok = i32vec_reserve(&low, 2 * raw.len);
        for (size_t i = 0; ok && i < raw.len;) {
            int k = match_added(t, raw.v, raw.len, i);
            if (k >= 0) {
                memcpy(low.v + low.len, t->added[k].cps, t->added[k].n * sizeof *low.v);
                low.len += t->added[k].n;
                i += t->added[k].n;
            } else {
                low.len += (size_t)uni_py_lower(raw.v[i++], low.v + low.len);
            }
        }
        s = &low;
    }
    /* Cut out the added tokens, let each one eat the whitespace its flags
     * say, and tokenize the non-empty chunks between them. */
    int prev = -1;
    for (size_t i = 0; ok;) {
        size_t start = i, j = i;
        int k = -1;
        while (j < s->len && (k = match_added(t, s->v, s->len, j)) < 0) j++;
        size_t end = j;
        if (prev >= 0 && t->added[prev].rstrip)
            while (start < end && uni_py_isspace(s->v[start])) start++;
        if (k >= 0 && t->added[k].lstrip)
            while (end > start && uni_py_isspace(s->v[end - 1])) end--;
        if (end > start) ok = tokenize_chunk(t, s->v + start, end - start, ids);
        if (k < 0) break;
        ok = ok && i32vec_push(ids, t->added[k].id);
        prev = k;
        i = j + t->added[k].n;
    }
    i32vec_free(&raw);
    i32vec_free(&low);
    return ok ? ELANG_OK : elang_fail(err, ELANG_ERR_NOMEM, "out of memory tokenizing");
}

elang_status tokenizer_tokenize(const tokenizer *t, const char *text, int32_t **ids, int *len,
                                elang_error *err) {
    i32vec v = {0};
    elang_status rc = tokenize(t, text, &v, err);
    if (rc == ELANG_OK && v.len > 0) {
        int32_t *grown = realloc(*ids, ((size_t)*len + v.len) * sizeof *grown);
        if (!grown) {
            rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory tokenizing");
        } else {
            memcpy(grown + *len, v.v, v.len * sizeof *grown);
            *ids = grown;
            *len += (int)v.len;
        }
    }
    i32vec_free(&v);
    return rc;
}

/* num_special_tokens_to_add: what build_inputs_with_special_tokens puts
 * around one sequence or a pair. */
static int n_special_tokens(tok_layout layout, bool pair) {
    switch (layout) {
    case LAYOUT_BERT: return pair ? 3 : 2;
    case LAYOUT_ROBERTA: return pair ? 4 : 2;
    case LAYOUT_T5: return pair ? 2 : 1;
    case LAYOUT_MARIAN: return 1; /* its override says "Just EOS", pair or not */
    }
    return 0;
}

static void put(int32_t *dst, size_t *k, const int32_t *src, size_t n) {
    if (n) memcpy(dst + *k, src, n * sizeof *src); /* src is NULL for an empty text */
    *k += n;
}

elang_status tokenizer_encode(const tokenizer *t, const char *text, const char *pair,
                              int max_length, token_seq *out, elang_error *err) {
    *out = (token_seq){0};
    int n_special = n_special_tokens(t->layout, pair != NULL);
    if (max_length < n_special)
        return elang_fail(err, ELANG_ERR_INVALID_ARG,
                          "max_length %d is less than the %d special tokens of %s", max_length,
                          n_special, pair ? "a pair" : "a sequence");
    i32vec a = {0}, b = {0};
    elang_status rc = tokenize(t, text, &a, err);
    if (rc == ELANG_OK && pair) rc = tokenize(t, pair, &b, err);
    if (rc != ELANG_OK) goto done;

    /* truncate_sequences with longest_first: a lone sequence loses its tail;
     * a pair loses one token at a time from the longer sequence, from the
     * second one when they are as long. For a lone sequence that would lose
     * every token transformers logs an error and returns it untruncated,
     * longer than max_length; we refuse instead. */
    size_t la = a.len, lb = b.len, room = (size_t)(max_length - n_special);
    if (!pair && la > 0 && room == 0) {
        rc = elang_fail(err, ELANG_ERR_INVALID_ARG,
                        "max_length %d leaves no room for the text besides its special tokens",
                        max_length);
        goto done;
    }
    if (!pair && la > room) la = room;
    while (la + lb > room) {
        if (la > lb) la--;
        else lb--;
    }

    size_t n = la + lb + (size_t)n_special;
    out->ids = malloc(n * sizeof *out->ids);
    out->type_ids = malloc(n * sizeof *out->type_ids);
    if (!out->ids || !out->type_ids) {
        token_seq_free(out);
        rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory encoding");
        goto done;
    }
    /* build_inputs_with_special_tokens, after truncation as in
     * prepare_for_model. */
    int32_t cls = t->special_id[SPECIAL_CLS], sep = t->special_id[SPECIAL_SEP];
    int32_t eos = t->special_id[SPECIAL_EOS];
    size_t k = 0, first = n; /* BERT's token_type_ids: 1 from `first` on */
    switch (t->layout) {
    case LAYOUT_BERT:
    case LAYOUT_ROBERTA: /* [CLS] a [SEP] b [SEP]; <s> a </s> </s> b </s> */
        out->ids[k++] = cls;
        put(out->ids, &k, a.v, la);
        out->ids[k++] = sep;
        first = k;
        if (!pair) break;
        if (t->layout == LAYOUT_ROBERTA) out->ids[k++] = sep;
        put(out->ids, &k, b.v, lb);
        out->ids[k++] = sep;
        break;
    case LAYOUT_T5: /* a </s> b </s>, where _add_eos_if_not_present skips an
                       </s> already ending its segment */
        put(out->ids, &k, a.v, la);
        if (la == 0 || a.v[la - 1] != eos) out->ids[k++] = eos;
        if (!pair) break;
        put(out->ids, &k, b.v, lb);
        if (lb == 0 || b.v[lb - 1] != eos) out->ids[k++] = eos;
        break;
    case LAYOUT_MARIAN: /* a b </s> */
        put(out->ids, &k, a.v, la);
        put(out->ids, &k, b.v, lb);
        out->ids[k++] = eos;
        break;
    }
    for (size_t i = 0; i < k; i++) out->type_ids[i] = t->layout == LAYOUT_BERT && i >= first;
    out->len = (int)k;
done:
    i32vec_free(&a);
    i32vec_free(&b);
    return rc;
}

void token_seq_free(token_seq *s) {
    free(s->ids);
    free(s->type_ids);
    *s = (token_seq){0};
}

/* ----------------------------------------------------------- decoding */

/* _convert_id_to_token, or NULL where the vocabulary has no such id. */
static const char *id_token(const tokenizer *t, int32_t id) {
    switch (t->kind) {
    case KIND_WORDPIECE: return wordpiece_id_token(t->wp, id);
    case KIND_BPE: return bpe_id_token(t->bpe, id);
    case KIND_SENTENCEPIECE: return sentencepiece_id_token(t->sp, id);
    }
    return NULL;
}

/* The added token with this id, or -1. */
static int added_with_id(const tokenizer *t, int32_t id) {
    for (size_t k = 0; k < t->n_added; k++)
        if (t->added[k].id == id) return (int)k;
    return -1;
}

/* id in all_special_ids / text in all_special_tokens. */
static bool special_id(const tokenizer *t, int32_t id) {
    for (size_t k = 0; k < t->n_added; k++)
        if (t->added[k].special && t->added[k].id == id) return true;
    return false;
}

static bool special_text(const tokenizer *t, const char *text) {
    for (size_t k = 0; k < t->n_added; k++)
        if (t->added[k].special && strcmp(t->added[k].text, text) == 0) return true;
    return false;
}

/* convert_tokens_to_string of tokens[0..n), appended to out. */
static elang_status detokenize(const tokenizer *t, const char *const *tokens, const bool *special,
                               size_t n, strbuf *out, elang_error *err) {
    switch (t->kind) {
    case KIND_WORDPIECE:
        if (wordpiece_detokenize(tokens, n, out)) return ELANG_OK;
        break;
    case KIND_BPE: return bpe_detokenize(t->bpe, tokens, n, out, err);
    case KIND_SENTENCEPIECE:
        return sentencepiece_detokenize(t->sp, tokens, special, n, out, err);
    }
    return elang_fail(err, ELANG_ERR_NOMEM, "out of memory decoding");
}

/* _decode's state: the run of vocabulary tokens waiting for
 * convert_tokens_to_string, and the text so far, made of parts (sub_texts)
 * that " ".join separates. */
typedef struct {
    const char **tokens;
    bool *special;
    size_t run, n_parts;
    strbuf text;
} decoding;

static bool new_part(decoding *d) {
    return d->n_parts++ == 0 || strbuf_puts(&d->text, " ");
}

static elang_status end_run(const tokenizer *t, decoding *d, elang_error *err) {
    if (d->run == 0) return ELANG_OK;
    if (!new_part(d)) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory decoding");
    elang_status rc = detokenize(t, d->tokens, d->special, d->run, &d->text, err);
    d->run = 0;
    return rc;
}

/* clean_up_tokenization: these replacements, in this order. */
static const char *const CLEAN_UP[][2] = {
    {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
    {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
};

elang_status tokenizer_decode(const tokenizer *t, const int32_t *ids, int n, bool skip_special,
                              char **text, elang_error *err) {
    *text = NULL;
    if (n < 0) return elang_fail(err, ELANG_ERR_INVALID_ARG, "%d ids to decode", n);
    decoding d = {.tokens = malloc(((size_t)n + 1) * sizeof *d.tokens),
                  .special = malloc((size_t)n + 1)};
    elang_status rc = ELANG_OK;
    if (!d.tokens || !d.special) goto nomem;
    /* PreTrainedTokenizer._decode: ids to tokens, without the special ones
     * when asked; runs of vocabulary tokens go through
     * convert_tokens_to_string, the added tokens (beyond the vocabulary)
     * stand alone. */
    for (int i = 0; i < n; i++) {
        int32_t id = ids[i];
        int k = added_with_id(t, id);
        const char *token = id >= 0 ? id_token(t, id) : NULL;
        if (!token && k < 0 && (id < 0 || id >= t->n_ids)) {
            rc = elang_fail(err, ELANG_ERR_INVALID_ARG,
                            "id %d (position %d) is outside the vocabulary of %d tokens", id, i,
                            t->n_ids);
            goto done;
        }
        if (skip_special && special_id(t, id)) continue;
        if (k >= 0 && id >= vocab_size(t)) {
            if ((rc = end_run(t, &d, err)) != ELANG_OK) goto done;
            if (!new_part(&d) || !strbuf_puts(&d.text, t->added[k].text)) goto nomem;
            continue;
        }
        /* An id in the vocabulary's range that no token has: BertTokenizer
         * and MarianTokenizer answer the unk token. */
        d.tokens[d.run] = token ? token : t->unk_text;
        d.special[d.run] = special_text(t, d.tokens[d.run]);
        d.run++;
    }
    if ((rc = end_run(t, &d, err)) != ELANG_OK) goto done;
    for (size_t c = 0; c < sizeof CLEAN_UP / sizeof CLEAN_UP[0]; c++)
        strbuf_replace(&d.text, 0, CLEAN_UP[c][0], CLEAN_UP[c][1]);
    if (!strbuf_append(&d.text, "", 0)) goto nomem; /* "" for no parts at all */
    *text = d.text.s;
    d.text = (strbuf){0};
    goto done;
nomem:
    rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory decoding");
done:
    strbuf_free(&d.text);
    free(d.tokens);
    free(d.special);
    return rc;
}

int tokenizer_vocab_size(const tokenizer *t) {
    return t->n_ids;
}

int tokenizer_pad_id(const tokenizer *t) {
    return t->special_id[SPECIAL_PAD];
}

int tokenizer_model_max_length(const tokenizer *t) {
    return t->model_max_length;
}
