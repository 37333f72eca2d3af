/* tokenizer.json, the file of the Rust ("fast") tokenizers, which current
 * checkpoints ship, often alone: the byte-level BPE it describes, read
 * into the same algorithm as vocab.json + merges.txt, so that both give the
 * same ids. What the file describes beyond that is checked, not guessed:
 * a model other than BPE, a pre-tokenizer other than GPT-2's or Qwen2's
 * pattern, or options that change the result are ELANG_ERR_UNSUPPORTED
 * naming the file and the field. */
#include <string.h>

#include "tokenize/bpe.h"
#include "tokenize/tokenizer_internal.h"
#include "util/error.h"

/* The patterns as tokenizer.json spells them (Split pre-tokenizers). */
static const char GPT2_PATTERN[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
static const char QWEN2_PATTERN[] = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
                                    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

static const char *type_of(const json_t *v) {
    const json_t *t = json_is_object(v) ? json_object_get(v, "type") : NULL;
    return json_is_string(t) ? json_string_value(t) : "";
}

/* One pre-tokenizer of the file: ByteLevel (with use_regex: GPT-2's
 * pattern) or a Split by a regex. Sets *pattern (NULL when it splits
 * nothing) and *byte_level. */
static elang_status one_pretokenizer(const json_t *p, const char *path, const char **pattern, bool *byte_level,
                                     elang_error *err) {
    const char *type = type_of(p);
    if (strcmp(type, "ByteLevel") == 0) {
        if (json_is_true(json_object_get(p, "add_prefix_space")))
            return elang_fail(err, ELANG_ERR_UNSUPPORTED, "%s: pre_tokenizer ByteLevel with add_prefix_space true is "
                              "not supported", path);
        *byte_level = true;
        const json_t *re = json_object_get(p, "use_regex");
        if (!re || json_is_true(re)) *pattern = GPT2_PATTERN;
        return ELANG_OK;
    }
    const json_t *regex = json_object_get(json_object_get(p, "pattern"), "Regex");
    if (strcmp(type, "Split") == 0 && json_is_string(regex)) {
        *pattern = json_string_value(regex);
        return ELANG_OK;
    }
    return elang_fail(err, ELANG_ERR_UNSUPPORTED, "%s: pre_tokenizer \"%s\" is not supported (byte-level BPE with "
                      "GPT-2's or Qwen2's pattern is)", path, type);
}

/* Which of the two pre-tokenizations the file's pre_tokenizer and
 * normalizer make. */
static elang_status pretokenizer_of(const json_t *root, const char *path, bpe_pretokenizer *out, elang_error *err) {
    const json_t *pre = json_object_get(root, "pre_tokenizer");
    const json_t *list = strcmp(type_of(pre), "Sequence") == 0 ? json_object_get(pre, "pretokenizers") : NULL;
    const char *pattern = NULL;
    bool byte_level = false;
    elang_status rc = ELANG_OK;
    if (list && json_is_array(list))
        for (size_t i = 0; rc == ELANG_OK && i < json_array_size(list); i++) {
            const char *p = NULL;
            rc = one_pretokenizer(json_array_get(list, i), path, &p, &byte_level, err);
            if (p && pattern && rc == ELANG_OK)
                rc = elang_fail(err, ELANG_ERR_UNSUPPORTED, "%s: pre_tokenizer splits twice", path);
            if (p) pattern = p;
        }
    else if (pre && !json_is_null(pre))
        rc = one_pretokenizer(pre, path, &pattern, &byte_level, err);
    if (rc != ELANG_OK) return rc;
    if (!byte_level)
        return elang_fail(err, ELANG_ERR_UNSUPPORTED, "%s: pre_tokenizer has no ByteLevel step; only byte-level BPE "
                          "is supported", path);
    const char *norm = type_of(json_object_get(root, "normalizer"));
    if (pattern && strcmp(pattern, GPT2_PATTERN) == 0 && !*norm) *out = BPE_GPT2;
    else if (pattern && strcmp(pattern, QWEN2_PATTERN) == 0 && strcmp(norm, "NFC") == 0) *out = BPE_QWEN2;
    else
        return elang_fail(err, ELANG_ERR_UNSUPPORTED, "%s: the pre-tokenization pattern %s%s%s with normalizer "
                          "\"%s\" is not supported (GPT-2's without one, Qwen2's with NFC are)", path,
                          pattern ? "\"" : "", pattern ? pattern : "(none)", pattern ? "\"" : "", norm);
    return ELANG_OK;
}

elang_status tokenizer_json_load(const char *path, subword_model *model, json_t **root, elang_error *err) {
    *root = NULL;
    elang_status rc = file_load_json(path, JSON_REJECT_DUPLICATES, root, err);
    if (rc != ELANG_OK) return rc;
    const json_t *m = json_object_get(*root, "model");
    bpe_pretokenizer pre = BPE_GPT2;
    if (!json_is_object(*root) || !json_is_object(m))
        rc = elang_fail(err, ELANG_ERR_FORMAT, "%s: no \"model\" object", path);
    else if (strcmp(type_of(m), "BPE") != 0)
        rc = elang_fail(err, ELANG_ERR_UNSUPPORTED, "%s: model type \"%s\" is not supported (BPE is)", path,
                        type_of(m));
    else if (json_is_true(json_object_get(m, "ignore_merges")) || json_is_true(json_object_get(m, "byte_fallback")))
        rc = elang_fail(err, ELANG_ERR_UNSUPPORTED, "%s: model.%s true is not supported", path,
                        json_is_true(json_object_get(m, "ignore_merges")) ? "ignore_merges" : "byte_fallback");
    if (rc == ELANG_OK) rc = pretokenizer_of(*root, path, &pre, err);
    if (rc == ELANG_OK) rc = bpe_load_json(m, path, pre, model, err);
    if (rc != ELANG_OK) {
        json_decref(*root);
        *root = NULL;
    }
    return rc;
}
