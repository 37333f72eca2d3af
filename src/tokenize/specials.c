/* The special tokens: which ones a tokenizer has, as its class's
 * constructor, tokenizer_config.json and special_tokens_map.json say, and
 * their registration among the added tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenize/tokenizer_internal.h"
#include "util/error.h"

static const char *const SPECIAL_KEYS[N_SPECIAL] = {"bos_token", "eos_token", "unk_token",
                                                    "sep_token", "pad_token", "cls_token",
                                                    "mask_token"};

/* The constructor defaults of the tokenizer class behind each layout
 * (BertTokenizer has no bos/eos, T5 and Marian have eos, unk and pad only). */
static const char *const SPECIAL_DEFAULTS[][N_SPECIAL] = {
    [LAYOUT_BERT] = {NULL, NULL, "[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"},
    [LAYOUT_ROBERTA] = {"<s>", "</s>", "<unk>", "</s>", "<pad>", "<s>", "<mask>"},
    [LAYOUT_T5] = {NULL, "</s>", "<unk>", NULL, "<pad>", NULL, NULL},
    [LAYOUT_MARIAN] = {NULL, "</s>", "<unk>", NULL, "<pad>", NULL, NULL},
    [LAYOUT_GPT2] = {"<|endoftext|>", "<|endoftext|>", "<|endoftext|>", NULL, NULL, NULL, NULL},
    [LAYOUT_LLAMA] = {"<s>", "</s>", "<unk>", NULL, NULL, NULL, NULL},
    [LAYOUT_QWEN2] = {NULL, "<|endoftext|>", "<|endoftext|>", NULL, "<|endoftext|>", NULL, NULL},
};

/* The special tokens each layout cannot do without: for its framing, for
 * unknown pieces and for padding. */
#define BIT(k) (1u << (k))
static const unsigned REQUIRED_SPECIALS[] = {
    [LAYOUT_BERT] = BIT(SPECIAL_UNK) | BIT(SPECIAL_CLS) | BIT(SPECIAL_SEP) | BIT(SPECIAL_PAD),
    [LAYOUT_ROBERTA] = BIT(SPECIAL_UNK) | BIT(SPECIAL_CLS) | BIT(SPECIAL_SEP) | BIT(SPECIAL_PAD),
    [LAYOUT_T5] = BIT(SPECIAL_UNK) | BIT(SPECIAL_EOS) | BIT(SPECIAL_PAD),
    [LAYOUT_MARIAN] = BIT(SPECIAL_UNK) | BIT(SPECIAL_EOS) | BIT(SPECIAL_PAD),
    /* Generation pads by the mask, stops at the model's eos_token_id, and
     * byte-level BPE and byte fallback have no unknown pieces. */
    [LAYOUT_GPT2] = 0, [LAYOUT_LLAMA] = 0, [LAYOUT_QWEN2] = 0,
};
#undef BIT

/* How the constructor takes special token k given as a plain string.
 * RobertaTokenizer wraps every one in an AddedToken that strips nothing
 * but <mask>'s left side; XLMRobertaTokenizer wraps <mask> alone, the same
 * way; the other tokenizers keep plain strings, which tokenize() strips on
 * both sides. */
static void constructor_strip(const tokenizer *t, int k, bool *lstrip, bool *rstrip) {
    /* GPT2Tokenizer, LlamaTokenizer and Qwen2Tokenizer wrap every one in an
     * AddedToken that strips nothing. */
    if (layout_is_causal(t->layout)) {
        *lstrip = *rstrip = false;
        return;
    }
    bool wrapped = t->layout == LAYOUT_ROBERTA && (k == SPECIAL_MASK || !t->xlmr);
    *lstrip = !wrapped || k == SPECIAL_MASK;
    *rstrip = !wrapped;
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

void specials_free(special_specs *s) {
    for (int k = 0; k < N_SPECIAL; k++) free(s->named[k].text);
    for (size_t i = 0; i < s->n_extra; i++) free(s->extra[i].text);
    free(s->extra);
}

/* T5Tokenizer.__init__: unless the constructor was given
 * additional_special_tokens, the extra_ids sentinels <extra_id_0>, ... are
 * the additional special tokens; if it was, they must hold extra_ids
 * distinct tokens that contain "extra_id" (or it raises ValueError). */
static elang_status t5_sentinels(special_specs *s, int extra_ids, bool given, const char *path,
                                 elang_error *err) {
    if (extra_ids <= 0) return ELANG_OK;
    if (given) {
        strmap seen = {0};
        int distinct = 0;
        for (size_t i = 0; i < s->n_extra; i++) {
            const char *text = s->extra[i].text;
            bool had;
            if (!strstr(text, "extra_id")) continue;
            if (!strmap_put(&seen, text, strlen(text), 0, &had)) {
                strmap_free(&seen);
                goto nomem;
            }
            distinct += !had;
        }
        strmap_free(&seen);
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

static bool collect_text(strmap *texts, const token_spec *spec) {
    return !spec->text || strmap_put(texts, spec->text, strlen(spec->text), 0, NULL);
}

elang_status specials_read(tokenizer *t, const char *dir, const json_t *config,
                           const char *config_path, int extra_ids, special_specs *s,
                           elang_error *err) {
    char path[FILE_PATH_MAX];
    json_t *map = NULL;
    elang_status rc = ELANG_OK;
    for (int k = 0; k < N_SPECIAL; k++) {
        const char *d = SPECIAL_DEFAULTS[t->layout][k];
        if (d && !(s->named[k].text = strdup(d))) goto nomem;
        constructor_strip(t, k, &s->named[k].lstrip, &s->named[k].rstrip);
    }
    if (config && (rc = read_specials(config, config_path, t, true, s, err))) goto done;
    const json_t *given = json_object_get(config, "additional_special_tokens");
    if (t->layout == LAYOUT_T5 &&
        (rc = t5_sentinels(s, extra_ids, given && !json_is_null(given), config_path, err)))
        goto done;
    if ((rc = load_optional_json(dir, "special_tokens_map.json", 0, &map, path, err)) ||
        (map && (rc = read_specials(map, path, t, false, s, err))))
        goto done;
    /* MarianTokenizer.__init__ insists that vocab.json has both. */
    static const int in_marian_vocab[] = {SPECIAL_UNK, SPECIAL_PAD};
    for (size_t i = 0; t->layout == LAYOUT_MARIAN && i < 2; i++) {
        int k = in_marian_vocab[i];
        if (s->named[k].text && vocab_id(t, s->named[k].text) < 0) {
            rc = elang_fail(err, ELANG_ERR_FORMAT, "%s/vocab.json: %s \"%s\" is missing", dir,
                            SPECIAL_KEYS[k], s->named[k].text);
            goto done;
        }
    }
    for (int k = 0; k < N_SPECIAL; k++)
        if (!collect_text(&t->specials, &s->named[k])) goto nomem;
    for (size_t i = 0; i < s->n_extra; i++)
        if (!collect_text(&t->specials, &s->extra[i])) goto nomem;
    goto done;
nomem:
    rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading the tokenizer in %s", dir);
done:
    json_decref(map);
    return rc;
}

/* sanitize_special_tokens(): every special token is cut out of the text, and
 * one missing from the vocabulary gets the next free id. */
static bool register_special(tokenizer *t, const token_spec *spec) {
    if (!spec->text) return true;
    int k = added_find(&t->added, spec->text);
    if (k >= 0) {
        added_token *a = &t->added.v[k];
        a->special = true;
        /* added_tokens_decoder's flags stand (transformers >= 4.34). */
        if (layout_is_causal(t->layout)) return true;
        a->lstrip = spec->lstrip;
        a->rstrip = spec->rstrip;
        return true;
    }
    int32_t id = vocab_id(t, spec->text);
    return added_append(&t->added, spec->text, id >= 0 ? id : t->n_ids++, true, spec->lstrip,
                        spec->rstrip);
}

elang_status specials_register(tokenizer *t, const special_specs *s, const char *dir,
                               const char *model_type, elang_error *err) {
    for (int k = 0; k < N_SPECIAL; k++)
        if (!register_special(t, &s->named[k])) goto nomem;
    for (size_t i = 0; i < s->n_extra; i++)
        if (!register_special(t, &s->extra[i])) goto nomem;
    for (int k = 0; k < N_SPECIAL; k++) {
        const char *text = s->named[k].text;
        t->special_id[k] = text ? t->added.v[added_find(&t->added, text)].id : -1;
    }
    for (int k = 0; k < N_SPECIAL; k++)
        if ((REQUIRED_SPECIALS[t->layout] >> k & 1) && t->special_id[k] < 0)
            return elang_fail(err, ELANG_ERR_FORMAT, "%s: %s is null, but %s models need it", dir,
                              SPECIAL_KEYS[k], model_type);
    const char *unk = s->named[SPECIAL_UNK].text;
    t->unk_text = unk ? t->added.v[added_find(&t->added, unk)].text : NULL;
    if (t->add_bos && t->special_id[SPECIAL_BOS] < 0)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: add_bos_token is true but bos_token is null", dir);
    if (t->add_eos && t->special_id[SPECIAL_EOS] < 0)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: add_eos_token is true but eos_token is null", dir);
    return ELANG_OK;
nomem:
    return elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading the tokenizer in %s", dir);
}
