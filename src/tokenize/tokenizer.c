/* Loading a tokenizer: which layout a model type has, which vocabulary
 * files its directory holds, tokenizer_config.json's options, and the
 * order in which special and added tokens are set up. */
#include "tokenize/tokenizer.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tokenize/bpe.h"
#include "tokenize/sentencepiece.h"
#include "tokenize/tokenizer_internal.h"
#include "tokenize/wordpiece.h"
#include "util/error.h"
#include "util/files.h"

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
    {"gpt2", LAYOUT_GPT2, false},       {"llama", LAYOUT_LLAMA, false},
    {"mistral", LAYOUT_LLAMA, false},   {"qwen2", LAYOUT_QWEN2, false},
};

/* A decoder-only model's tokenizer_config.json names its class, which may
 * be another family's (Mistral's is LlamaTokenizer; some Llama
 * checkpoints ship GPT-2's byte-level BPE). */
static const struct {
    const char *tokenizer_class;
    tok_layout layout;
} CAUSAL_CLASSES[] = {
    {"GPT2Tokenizer", LAYOUT_GPT2},   {"GPT2TokenizerFast", LAYOUT_GPT2},
    {"LlamaTokenizer", LAYOUT_LLAMA}, {"LlamaTokenizerFast", LAYOUT_LLAMA},
    {"Qwen2Tokenizer", LAYOUT_QWEN2}, {"Qwen2TokenizerFast", LAYOUT_QWEN2},
};

/* T5Tokenizer's default extra_ids: the sentinels <extra_id_0..99>. */
#define T5_EXTRA_IDS 100
/* MarianTokenizer's default model_max_length, and XLM-R's (see
 * default_max_length). */
#define DEFAULT_MAX_LENGTH 512

static elang_status config_bool(const json_t *cfg, const char *key, bool *out, const char *path,
                                elang_error *err) {
    const json_t *v = json_object_get(cfg, key);
    if (!v || json_is_null(v)) return ELANG_OK;
    if (!json_is_boolean(v))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: %s is not true or false", path, key);
    *out = json_is_true(v);
    return ELANG_OK;
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

elang_status load_optional_json(const char *dir, const char *name, size_t flags, json_t **out,
                                char *path, elang_error *err) {
    bool present = false;
    elang_status rc = file_path_join(path, dir, name, err);
    if (rc == ELANG_OK) rc = file_optional(path, &present, err);
    if (rc != ELANG_OK || !present) return rc;
    rc = file_load_json(path, flags, out, err);
    if (rc == ELANG_OK && !json_is_object(*out))
        rc = elang_fail(err, ELANG_ERR_FORMAT, "%s: not a JSON object", path);
    return rc;
}

/* The vocabulary and the algorithm that goes with it: SentencePiece for T5
 * and Marian, and for XLM-R when there is a sentencepiece.bpe.model; for
 * the others WordPiece when there is a vocab.txt, else byte-level BPE.
 * Sets what depends on the tokenizer class that choice makes: only
 * BertTokenizer has do_lower_case, which makes the generic
 * PreTrainedTokenizer.tokenize lowercase the text; only RobertaTokenizer
 * has add_prefix_space. */
/* A decoder-only model's vocabulary: LlamaTokenizer's tokenizer.model
 * when there is one (Llama layout), else vocab.json + merges.txt (GPT-2's
 * or Qwen2's byte-level BPE), else tokenizer.json alone (*tokenizer_json
 * then holds it, for its added tokens). */
static elang_status load_causal_vocabulary(tokenizer *t, const char *dir, const json_t *config,
                                           const char *config_path, bool add_prefix_space, json_t **tokenizer_json,
                                           elang_error *err) {
    char path[FILE_PATH_MAX], merges[FILE_PATH_MAX];
    elang_status rc;
    if (t->layout == LAYOUT_LLAMA) {
        /* LlamaTokenizer: legacy (True when not given) and add_prefix_space
         * (True when not given). */
        bool legacy = true, prefix = true;
        if ((rc = config_bool(config, "legacy", &legacy, config_path, err)) ||
            (rc = config_bool(config, "add_prefix_space", &prefix, config_path, err)) ||
            (rc = file_path_join(path, dir, SENTENCEPIECE_LLAMA_FILE, err)))
            return rc;
        if (file_exists(path)) return sentencepiece_load_llama(dir, legacy, prefix, &t->model, err);
    }
    const bpe_pretokenizer pre = t->layout == LAYOUT_QWEN2 ? BPE_QWEN2 : BPE_GPT2;
    if ((rc = file_path_join(path, dir, "vocab.json", err)) || (rc = file_path_join(merges, dir, "merges.txt", err)))
        return rc;
    if (file_exists(path) && file_exists(merges)) {
        t->add_prefix_space = add_prefix_space;
        return bpe_load(path, merges, pre, &t->model, err);
    }
    if ((rc = file_path_join(path, dir, "tokenizer.json", err))) return rc;
    if (file_exists(path)) return tokenizer_json_load(path, &t->model, tokenizer_json, err);
    return elang_fail(err, ELANG_ERR_IO, "%s: no tokenizer files: looked for %svocab.json + merges.txt and "
                      "tokenizer.json", dir, t->layout == LAYOUT_LLAMA ? SENTENCEPIECE_LLAMA_FILE ", " : "");
}

static elang_status load_vocabulary(tokenizer *t, const char *dir, bool xlmr,
                                    const json_t *config, const char *config_path,
                                    const wordpiece_opts *wopts, bool add_prefix_space,
                                    int extra_ids, json_t **tokenizer_json, elang_error *err) {
    char path[FILE_PATH_MAX], merges[FILE_PATH_MAX];
    bool separate_vocabs = false;
    elang_status rc;
    switch (t->layout) {
    case LAYOUT_T5: return sentencepiece_load_t5(dir, extra_ids, &t->model, err);
    case LAYOUT_MARIAN:
        if ((rc = config_bool(config, "separate_vocabs", &separate_vocabs, config_path, err)))
            return rc;
        return sentencepiece_load_marian(dir, separate_vocabs, &t->model, err);
    case LAYOUT_GPT2:
    case LAYOUT_LLAMA:
    case LAYOUT_QWEN2:
        return load_causal_vocabulary(t, dir, config, config_path, add_prefix_space, tokenizer_json, err);
    case LAYOUT_BERT:
    case LAYOUT_ROBERTA: break;
    }
    if (xlmr) {
        if ((rc = file_path_join(path, dir, SENTENCEPIECE_XLMR_FILE, err))) return rc;
        if (file_exists(path)) {
            t->xlmr = true;
            return sentencepiece_load_xlmr(dir, &t->model, err);
        }
    }
    if ((rc = file_path_join(path, dir, "vocab.txt", err))) return rc;
    if (file_exists(path)) {
        t->lowercase = wopts->do_lower_case;
        return wordpiece_load(path, wopts, &t->model, err);
    }
    if ((rc = file_path_join(path, dir, "vocab.json", err)) ||
        (rc = file_path_join(merges, dir, "merges.txt", err)))
        return rc;
    if (!file_exists(path) || !file_exists(merges))
        return elang_fail(err, ELANG_ERR_IO,
                          "%s: no tokenizer files: looked for %svocab.txt (WordPiece) and for "
                          "vocab.json + merges.txt (byte-level BPE)",
                          dir, xlmr ? SENTENCEPIECE_XLMR_FILE " (XLM-R SentencePiece), " : "");
    t->add_prefix_space = add_prefix_space;
    return bpe_load(path, merges, BPE_GPT2, &t->model, err);
}

/* model_max_length when tokenizer_config.json does not give one.
 * MarianTokenizer's constructor defaults to 512. XLMRobertaTokenizer has no
 * default of its own: from_pretrained gives 512 (max_model_input_sizes) to
 * the XLM-R checkpoints it loads by hub name, and no limit to a local
 * directory without model_max_length. We take 512 for both, the positions
 * every XLM-R checkpoint has room for, rather than truncate nothing. */
static int default_max_length(const tokenizer *t) {
    return t->layout == LAYOUT_MARIAN || t->xlmr ? DEFAULT_MAX_LENGTH : 0;
}

elang_status tokenizer_load(const char *dir, const char *model_type, tokenizer **out,
                            elang_error *err) {
    char path[FILE_PATH_MAX];
    json_t *config = NULL, *tokenizer_json = NULL;
    special_specs specs = {0};
    elang_status rc;
    tokenizer *t = calloc(1, sizeof *t);
    if (!t) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading the tokenizer");

    size_t li = 0, n_layouts = sizeof LAYOUTS / sizeof LAYOUTS[0];
    while (li < n_layouts && strcmp(LAYOUTS[li].model_type, model_type) != 0) li++;
    if (li == n_layouts) {
        rc = elang_fail(err, ELANG_ERR_UNSUPPORTED,
                        "model type \"%s\": no tokenizer layout for it (known: bert, distilbert, "
                        "roberta, xlm-roberta, t5, marian, gpt2, llama, mistral, qwen2)",
                        model_type);
        goto done;
    }
    t->layout = LAYOUTS[li].layout;
    t->model_max_length = -1; /* until tokenizer_config.json gives one */

    /* tokenizer_config.json holds the constructor arguments. Its
     * model_max_length is sometimes int(1e30) ("no limit"), too big for a
     * JSON integer in jansson, hence integers read as reals. */
    char config_path[FILE_PATH_MAX];
    rc = load_optional_json(dir, "tokenizer_config.json", JSON_DECODE_INT_AS_REAL, &config,
                            config_path, err);
    if (rc != ELANG_OK) goto done;
    wordpiece_opts wopts = {.do_lower_case = true, .strip_accents = -1,
                            .tokenize_chinese_chars = true};
    int extra_ids = t->layout == LAYOUT_T5 ? T5_EXTRA_IDS : 0;
    bool add_prefix_space = false;
    t->add_bos = t->layout == LAYOUT_LLAMA; /* LlamaTokenizer's add_bos_token default */
    t->clean_up = !layout_is_causal(t->layout);
    t->spaces_between_special = t->layout != LAYOUT_QWEN2;
    if (config) {
        bool strip = false;
        const json_t *sa = json_object_get(config, "strip_accents");
        const json_t *max = json_object_get(config, "model_max_length");
        if ((rc = config_bool(config, "do_lower_case", &wopts.do_lower_case, config_path, err)) ||
            (rc = config_bool(config, "strip_accents", &strip, config_path, err)) ||
            (rc = config_bool(config, "tokenize_chinese_chars", &wopts.tokenize_chinese_chars,
                              config_path, err)) ||
            (rc = config_bool(config, "add_prefix_space", &add_prefix_space, config_path,
                              err)) ||
            (t->layout == LAYOUT_T5 &&
             (rc = config_int(config, "extra_ids", &extra_ids, config_path, err))))
            goto done;
        if (sa && !json_is_null(sa)) wopts.strip_accents = strip;
        const json_t *cls = json_object_get(config, "tokenizer_class");
        for (size_t c = 0; layout_is_causal(t->layout) && json_is_string(cls) &&
                           c < sizeof CAUSAL_CLASSES / sizeof CAUSAL_CLASSES[0]; c++)
            if (strcmp(json_string_value(cls), CAUSAL_CLASSES[c].tokenizer_class) == 0)
                t->layout = CAUSAL_CLASSES[c].layout;
        t->add_bos = t->layout == LAYOUT_LLAMA;
        t->spaces_between_special = t->layout != LAYOUT_QWEN2;
        if (layout_is_causal(t->layout) &&
            ((rc = config_bool(config, "add_bos_token", &t->add_bos, config_path, err)) ||
             (rc = config_bool(config, "clean_up_tokenization_spaces", &t->clean_up, config_path, err)) ||
             (rc = config_bool(config, "spaces_between_special_tokens", &t->spaces_between_special, config_path,
                               err)) ||
             (t->layout == LAYOUT_LLAMA && (rc = config_bool(config, "add_eos_token", &t->add_eos, config_path, err)))))
            goto done;
        if (max && !json_is_null(max) && !json_is_number(max)) {
            rc = elang_fail(err, ELANG_ERR_FORMAT, "%s: model_max_length is not a number",
                            config_path);
            goto done;
        }
        if (max && !json_is_null(max)) {
            /* Room for one token of text at least, or every text would be
             * refused when encoded. */
            double m = json_number_value(max);
            int least = n_special_tokens(t, false) + 1;
            if (!(m >= least)) {
                rc = elang_fail(err, ELANG_ERR_FORMAT,
                                "%s: model_max_length %g leaves no room for text beside the %d "
                                "special tokens of a %s sequence (it must be at least %d)",
                                config_path, m, least - 1, model_type, least);
                goto done;
            }
            t->model_max_length = m <= INT_MAX ? (int)m : 0;
        }
    }

    if ((rc = load_vocabulary(t, dir, LAYOUTS[li].xlmr, config, config_path, &wopts,
                              add_prefix_space, extra_ids, &tokenizer_json, err)))
        goto done;
    if (t->model_max_length < 0) t->model_max_length = default_max_length(t);
    t->n_ids = t->model.ops->size(t->model.impl);
    if (t->n_ids == 0) {
        rc = elang_fail(err, ELANG_ERR_FORMAT, "the tokenizer in %s has an empty vocabulary (a truncated file?)", dir);
        goto done;
    }

    /* The added tokens the files list with their ids (transformers >= 4.34):
     * tokenizer.json's, then tokenizer_config.json's added_tokens_decoder. */
    const json_t *declared = config ? json_object_get(config, "added_tokens_decoder") : NULL;
    char json_path[FILE_PATH_MAX];
    if (tokenizer_json && (rc = file_path_join(json_path, dir, "tokenizer.json", err))) goto done;
    if (tokenizer_json && json_object_get(tokenizer_json, "added_tokens") &&
        (rc = added_read_declared(t, json_object_get(tokenizer_json, "added_tokens"), json_path, err)))
        goto done;
    if (layout_is_causal(t->layout) && declared && (rc = added_read_declared(t, declared, config_path, err)))
        goto done;

    /* The special tokens and added_tokens.json's take the ids after the
     * vocabulary, added_tokens.json's first. */
    if ((rc = specials_read(t, dir, config, config_path, extra_ids, &specs, err))) goto done;
    if ((rc = file_path_join(path, dir, "added_tokens.json", err))) goto done;
    bool has_added = false;
    if ((rc = file_optional(path, &has_added, err))) goto done;
    if (has_added && (rc = added_read_file(t, path, err))) goto done;
    if ((rc = specials_register(t, &specs, dir, model_type, err))) goto done;
    if (!added_index(&t->added)) {
        rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading the tokenizer in %s", dir);
        goto done;
    }
    *out = t;
    t = NULL;
done:
    specials_free(&specs);
    json_decref(config);
    json_decref(tokenizer_json);
    tokenizer_free(t);
    return rc;
}

void tokenizer_free(tokenizer *t) {
    if (!t) return;
    if (t->model.ops) t->model.ops->free(t->model.impl);
    added_free(&t->added);
    strmap_free(&t->specials);
    free(t);
}

int tokenizer_vocab_size(const tokenizer *t) {
    return t->n_ids;
}

int32_t tokenizer_max_id(const tokenizer *t, const char **text) {
    int32_t max = t->model.ops->max_id(t->model.impl);
    *text = t->model.ops->id_token(t->model.impl, max);
    for (size_t i = 0; i < t->added.n; i++)
        if (t->added.v[i].id > max) max = t->added.v[i].id, *text = t->added.v[i].text;
    return max;
}

int tokenizer_pad_id(const tokenizer *t) {
    return t->special_id[SPECIAL_PAD];
}

int tokenizer_model_max_length(const tokenizer *t) {
    return t->model_max_length;
}
