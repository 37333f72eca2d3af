#include "io/config.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/error.h"
#include "util/files.h"

/* The first of `keys` present in the object; families rename fields. */
static json_t *field(json_t *root, const char *const *keys, const char **found) {
    for (; *keys; keys++) {
        json_t *v = json_object_get(root, *keys);
        if (v && !json_is_null(v)) {
            *found = *keys;
            return v;
        }
    }
    return NULL;
}

/* Reads a positive integer field under any of its names; `fallback` < 0
 * means the field is required. */
static elang_status read_int(json_t *root, const char *path, const char *const *keys,
                             int fallback, int lo, int hi, int *out, elang_error *err) {
    const char *name = keys[0];
    json_t *v = field(root, keys, &name);
    if (!v) {
        if (fallback == INT_MIN)
            return elang_fail(err, ELANG_ERR_FORMAT, "%s: missing field \"%s\"", path, keys[0]);
        *out = fallback;
        return ELANG_OK;
    }
    if (!json_is_integer(v))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: field \"%s\" must be an integer", path, name);
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: field \"%s\" = %lld is out of range [%d, %d]",
                          path, name, (long long)x, lo, hi);
    *out = (int)x;
    return ELANG_OK;
}

/* A number field in (0, 1], such as a norm's epsilon; `fallback` when absent. */
static elang_status read_eps(json_t *root, const char *path, const char *key, double fallback,
                             double *out, elang_error *err) {
    json_t *v = json_object_get(root, key);
    *out = fallback;
    if (!v || json_is_null(v)) return ELANG_OK;
    if (!json_is_number(v) || json_number_value(v) <= 0 || json_number_value(v) > 1)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"%s\" must be a number in (0, 1]", path, key);
    *out = json_number_value(v);
    return ELANG_OK;
}

static elang_status read_bool(json_t *root, const char *path, const char *key, bool fallback,
                              bool *out, elang_error *err) {
    json_t *v = json_object_get(root, key);
    *out = fallback;
    if (!v || json_is_null(v)) return ELANG_OK;
    if (!json_is_boolean(v))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: field \"%s\" must be true or false", path, key);
    *out = json_is_true(v);
    return ELANG_OK;
}

static elang_status read_string(json_t *root, const char *path, const char *key, const char *fallback,
                                const char **out, elang_error *err) {
    json_t *v = json_object_get(root, key);
    *out = fallback;
    if (!v || json_is_null(v)) return ELANG_OK;
    if (!json_is_string(v))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: field \"%s\" must be a string", path, key);
    *out = json_string_value(v);
    return ELANG_OK;
}

static elang_status read_labels(json_t *root, const char *path, model_config *cfg,
                                elang_error *err) {
    json_t *id2label = json_object_get(root, "id2label");
    json_t *num = json_object_get(root, "num_labels");
    if (id2label && !json_is_object(id2label))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"id2label\" must be an object", path);
    int n = 0;
    if (id2label) n = (int)json_object_size(id2label);
    else if (num) {
        if (!json_is_integer(num) || json_integer_value(num) < 1 || json_integer_value(num) > 100000)
            return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"num_labels\" must be a positive integer", path);
        n = (int)json_integer_value(num);
    }
    if (n == 0) return ELANG_OK;
    elang_status st = config_set_num_labels(cfg, n, err);
    if (st != ELANG_OK || !id2label) return st;

    /* Keys are numbers written as text: "0" and "00" are one class, which
     * would leave another unnamed. */
    bool *named = calloc((size_t)n, sizeof *named);
    if (!named) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory reading %s", path);
    const char *key;
    json_t *value;
    json_object_foreach(id2label, key, value) {
        char *end;
        long id = strtol(key, &end, 10);
        if (*key == '\0' || *end != '\0' || id < 0 || id >= n)
            st = elang_fail(err, ELANG_ERR_FORMAT, "%s: id2label key \"%s\" is not a class id in [0, %d)", path, key, n);
        else if (named[id])
            st = elang_fail(err, ELANG_ERR_FORMAT, "%s: id2label names class %ld twice (the second time as \"%s\")",
                            path, id, key);
        else if (!json_is_string(value))
            st = elang_fail(err, ELANG_ERR_FORMAT, "%s: id2label[\"%s\"] must be a string", path, key);
        if (st != ELANG_OK) break;
        char *name = strdup(json_string_value(value));
        if (!name) {
            st = elang_fail(err, ELANG_ERR_NOMEM, "out of memory reading %s", path);
            break;
        }
        named[id] = true;
        free(cfg->id2label[id]);
        cfg->id2label[id] = name;
    }
    free(named);
    return st;
}

elang_status config_set_num_labels(model_config *cfg, int num_labels, elang_error *err) {
    char **names = calloc((size_t)num_labels, sizeof *names);
    if (!names) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for %d labels", num_labels);
    for (int i = 0; i < num_labels; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "LABEL_%d", i);
        names[i] = strdup(buf);
        if (!names[i]) {
            for (int j = 0; j < i; j++) free(names[j]);
            free(names);
            return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for %d labels", num_labels);
        }
    }
    for (int i = 0; i < cfg->num_labels; i++) free(cfg->id2label[i]);
    free(cfg->id2label);
    cfg->id2label = names;
    cfg->num_labels = num_labels;
    return ELANG_OK;
}

/* Old checkpoints (TinyBERT's, for one) predate model_type; transformers
 * then goes by the class in `architectures`, and so do we. */
static elang_status read_model_type(json_t *root, const char *path, model_config *cfg,
                                    elang_error *err) {
    json_t *archs = json_object_get(root, "architectures");
    if (archs && json_is_array(archs) && json_array_size(archs) > 0 &&
        json_is_string(json_array_get(archs, 0)))
        snprintf(cfg->architecture, sizeof cfg->architecture, "%s",
                 json_string_value(json_array_get(archs, 0)));

    json_t *mt = json_object_get(root, "model_type");
    if (mt && !json_is_string(mt))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"model_type\" must be a string", path);
    if (mt) {
        snprintf(cfg->model_type, sizeof cfg->model_type, "%s", json_string_value(mt));
    } else {
        static const struct { const char *prefix, *type; } by_class[] = {
            {"DistilBert", "distilbert"}, {"XLMRoberta", "xlm-roberta"},
            {"Roberta", "roberta"},       {"TinyBert", "bert"}, {"Bert", "bert"},
        };
        for (size_t i = 0; i < sizeof by_class / sizeof by_class[0]; i++)
            if (strncmp(cfg->architecture, by_class[i].prefix, strlen(by_class[i].prefix)) == 0) {
                snprintf(cfg->model_type, sizeof cfg->model_type, "%s", by_class[i].type);
                break;
            }
        /* A bare BERT config (hidden_size + type_vocab_size, no class) is
         * what the original BERT and TinyBERT releases ship. */
        if (!cfg->model_type[0] && json_object_get(root, "type_vocab_size") &&
            json_object_get(root, "hidden_size"))
            snprintf(cfg->model_type, sizeof cfg->model_type, "bert");
        if (!cfg->model_type[0])
            return elang_fail(err, ELANG_ERR_FORMAT,
                              "%s: no \"model_type\" and no recognisable \"architectures\"", path);
    }
    static const char *const supported[] = {"bert", "distilbert", "roberta", "xlm-roberta", "t5",
                                            "marian", "gpt2", "llama", "mistral", "qwen2", NULL};
    for (const char *const *s = supported; *s; s++)
        if (strcmp(cfg->model_type, *s) == 0) return ELANG_OK;
    return elang_fail(err, ELANG_ERR_UNSUPPORTED,
                      "%s: model_type \"%s\" is not supported (supported: bert, distilbert, "
                      "roberta, xlm-roberta, t5, marian, gpt2, llama, mistral, qwen2)", path, cfg->model_type);
}

static elang_status read_encoder_fields(json_t *root, const char *path, model_config *cfg,
                                        elang_error *err) {
    elang_status st;
    bool distil = strcmp(cfg->model_type, "distilbert") == 0;
    bool roberta = strcmp(cfg->model_type, "roberta") == 0 || strcmp(cfg->model_type, "xlm-roberta") == 0;
    const int REQUIRED = INT_MIN, BIG = 1 << 24;

#define KEYS(...) ((const char *const[]){__VA_ARGS__, NULL})
    if ((st = read_int(root, path, KEYS("vocab_size"), REQUIRED, 1, BIG, &cfg->vocab_size, err)) ||
        (st = read_int(root, path, KEYS("hidden_size", "dim"), REQUIRED, 1, 65536, &cfg->hidden_size, err)) ||
        (st = read_int(root, path, KEYS("num_hidden_layers", "n_layers"), REQUIRED, 1, 1024, &cfg->num_layers, err)) ||
        (st = read_int(root, path, KEYS("num_attention_heads", "n_heads"), REQUIRED, 1, 1024, &cfg->num_heads, err)) ||
        (st = read_int(root, path, KEYS("intermediate_size", "hidden_dim"), REQUIRED, 1, 1 << 20, &cfg->intermediate_size, err)) ||
        (st = read_int(root, path, KEYS("max_position_embeddings"), 512, 1, 1 << 20, &cfg->max_position_embeddings, err)) ||
        (st = read_int(root, path, KEYS("type_vocab_size"), distil ? 0 : 2, 0, 1024, &cfg->type_vocab_size, err)) ||
        (st = read_int(root, path, KEYS("pad_token_id"), roberta ? 1 : 0, 0, cfg->vocab_size - 1, &cfg->pad_token_id,
                       err)))
        return st;
#undef KEYS
    /* RoBERTa numbers positions from pad_token_id + 1: room is needed for
     * <s>, </s> and one token of text after it. */
    if (roberta && cfg->max_position_embeddings - cfg->pad_token_id - 1 < 3)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: pad_token_id %d leaves no positions for text "
                          "(max_position_embeddings %d; RoBERTa's positions start after pad_token_id)", path,
                          cfg->pad_token_id, cfg->max_position_embeddings);
    if (cfg->hidden_size % cfg->num_heads != 0)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: hidden size %d is not divisible by %d heads",
                          path, cfg->hidden_size, cfg->num_heads);
    if (distil) cfg->type_vocab_size = 0;

    /* DistilBERT hard-codes its LayerNorm epsilon; others state it. */
    cfg->layer_norm_eps = 1e-12;
    if (!distil && (st = read_eps(root, path, "layer_norm_eps", 1e-12, &cfg->layer_norm_eps, err)))
        return st;

    const char *act_key = distil ? "activation" : "hidden_act";
    json_t *act = json_object_get(root, act_key);
    const char *act_name = "gelu";
    if (act) {
        if (!json_is_string(act))
            return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"%s\" must be a string", path, act_key);
        act_name = json_string_value(act);
    }
    snprintf(cfg->hidden_act_name, sizeof cfg->hidden_act_name, "%s", act_name);
    if (activation_from_name(act_name, &cfg->hidden_act) != ELANG_OK)
        return elang_fail(err, ELANG_ERR_UNSUPPORTED, "%s: %s \"%s\" is not supported", path, act_key, act_name);

    json_t *pet = json_object_get(root, "position_embedding_type");
    if (pet && !(json_is_string(pet) && strcmp(json_string_value(pet), "absolute") == 0))
        return elang_fail(err, ELANG_ERR_UNSUPPORTED,
                          "%s: position_embedding_type other than \"absolute\" is not supported", path);
    json_t *sin = json_object_get(root, "sinusoidal_pos_embds");
    cfg->sinusoidal_positions = distil && sin && json_is_true(sin);

    return read_labels(root, path, cfg, err);
}

/* generate() bans every sequence bad_words_ids lists; elang's loop bans one
 * token, which is all Marian's configs list ([[<pad>]]). */
static elang_status read_bad_word(json_t *root, const char *path, int vocab, int *out,
                                  elang_error *err) {
    json_t *v = json_object_get(root, "bad_words_ids");
    *out = -1;
    if (!v || json_is_null(v)) return ELANG_OK;
    size_t i;
    json_t *seq;
    if (!json_is_array(v))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"bad_words_ids\" must be a list of lists of token ids", path);
    json_array_foreach(v, i, seq) {
        size_t j;
        json_t *id;
        if (!json_is_array(seq) || json_array_size(seq) == 0)
            return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"bad_words_ids\" must be a list of lists of token ids", path);
        json_array_foreach(seq, j, id)
            if (!json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) >= vocab)
                return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"bad_words_ids\" holds something other "
                                  "than a token id in [0, %d)", path, vocab);
    }
    if (json_array_size(v) == 0) return ELANG_OK;
    if (json_array_size(v) > 1 || json_array_size(json_array_get(v, 0)) > 1)
        return elang_fail(err, ELANG_ERR_UNSUPPORTED,
                          "%s: \"bad_words_ids\" other than a single token is not supported", path);
    *out = (int)json_integer_value(json_array_get(json_array_get(v, 0), 0));
    return ELANG_OK;
}

/* forced_eos_token_id: absent means the family's default, null means none. */
static elang_status read_forced_eos(json_t *root, const char *path, int fallback, int vocab, int *out,
                                    elang_error *err) {
    json_t *v = json_object_get(root, "forced_eos_token_id");
    if (v && json_is_null(v)) {
        *out = -1;
        return ELANG_OK;
    }
    return read_int(root, path, (const char *const[]){"forced_eos_token_id", NULL}, fallback, 0,
                    vocab - 1, out, err);
}

/* T5Config derives the feed-forward from feed_forward_proj: "<act>" or
 * "gated-<act>", with "gated-gelu" meaning gelu_new for old checkpoints.
 * dense_act_fn and is_gated_act, when config.json states them, win: the
 * base PretrainedConfig sets every leftover key after T5Config.__init__. */
static elang_status read_t5_feed_forward(json_t *root, const char *path, model_config *cfg,
                                         elang_error *err) {
    const char *proj, *act;
    elang_status st = read_string(root, path, "feed_forward_proj", "relu", &proj, err);
    if (st != ELANG_OK) return st;
    const char *dash = strchr(proj, '-');
    bool gated = strncmp(proj, "gated-", 6) == 0;
    if ((dash && !gated) || (gated && strchr(proj + 6, '-')))
        return elang_fail(err, ELANG_ERR_FORMAT,
                          "%s: feed_forward_proj \"%s\" is not of the form \"<activation>\" or "
                          "\"gated-<activation>\"", path, proj);
    act = strcmp(proj, "gated-gelu") == 0 ? "gelu_new" : gated ? proj + 6 : proj;
    if ((st = read_string(root, path, "dense_act_fn", act, &act, err)) ||
        (st = read_bool(root, path, "is_gated_act", gated, &cfg->s2s.gated_ff, err)))
        return st;
    snprintf(cfg->hidden_act_name, sizeof cfg->hidden_act_name, "%s", act);
    if (activation_from_name(act, &cfg->hidden_act) != ELANG_OK) {
        if (json_object_get(root, "dense_act_fn"))
            return elang_fail(err, ELANG_ERR_UNSUPPORTED, "%s: dense_act_fn \"%s\" is not supported", path, act);
        return elang_fail(err, ELANG_ERR_UNSUPPORTED,
                          "%s: activation \"%s\" of feed_forward_proj \"%s\" is not supported", path,
                          act, proj);
    }
    return ELANG_OK;
}

#define KEYS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* T5Config's defaults are t5-small's; what config.json omits takes them. */
static elang_status read_t5_fields(json_t *root, const char *path, model_config *cfg,
                                   elang_error *err) {
    seq2seq_config *s = &cfg->s2s;
    const int BIG = 1 << 24;
    elang_status st;
    if ((st = read_int(root, path, KEYS("vocab_size"), 32128, 1, BIG, &cfg->vocab_size, err)) ||
        (st = read_int(root, path, KEYS("d_model"), 512, 1, 65536, &cfg->hidden_size, err)) ||
        (st = read_int(root, path, KEYS("d_kv"), 64, 1, 65536, &s->head_dim, err)) ||
        (st = read_int(root, path, KEYS("d_ff"), 2048, 1, 1 << 20, &cfg->intermediate_size, err)) ||
        (st = read_int(root, path, KEYS("num_layers"), 6, 1, 1024, &cfg->num_layers, err)) ||
        (st = read_int(root, path, KEYS("num_decoder_layers"), cfg->num_layers, 1, 1024, &s->decoder_layers, err)) ||
        (st = read_int(root, path, KEYS("num_heads"), 8, 1, 1024, &cfg->num_heads, err)) ||
        (st = read_int(root, path, KEYS("relative_attention_num_buckets"), 32, 4, 65536, &s->relative_buckets, err)) ||
        (st = read_int(root, path, KEYS("relative_attention_max_distance"), 128, 1, 1 << 20, &s->relative_max_distance, err)) ||
        (st = read_int(root, path, KEYS("pad_token_id"), 0, 0, cfg->vocab_size - 1, &cfg->pad_token_id, err)) ||
        (st = read_int(root, path, KEYS("eos_token_id"), 1, 0, cfg->vocab_size - 1, &s->eos_token_id, err)) ||
        /* T5 starts decoding from its pad token; configs state it as 0. */
        (st = read_int(root, path, KEYS("decoder_start_token_id"), cfg->pad_token_id, 0, cfg->vocab_size - 1,
                       &s->decoder_start_token_id, err)) ||
        (st = read_forced_eos(root, path, -1, cfg->vocab_size, &s->forced_eos_token_id, err)) ||
        (st = read_bad_word(root, path, cfg->vocab_size, &s->bad_word_id, err)) ||
        (st = read_bool(root, path, "tie_word_embeddings", true, &s->tie_word_embeddings, err)) ||
        (st = read_eps(root, path, "layer_norm_epsilon", 1e-6, &cfg->layer_norm_eps, err)))
        return st;
    /* The log-spaced buckets run from half the buckets up to max_distance. */
    if (s->relative_max_distance <= s->relative_buckets / 2)
        return elang_fail(err, ELANG_ERR_FORMAT,
                          "%s: relative_attention_max_distance %d must exceed half of "
                          "relative_attention_num_buckets (%d)", path, s->relative_max_distance,
                          s->relative_buckets);
    s->decoder_heads = cfg->num_heads;
    s->decoder_ffn = cfg->intermediate_size;
    s->target_vocab_size = cfg->vocab_size;
    return read_t5_feed_forward(root, path, cfg, err);
}

/* MarianConfig's defaults are opus-mt's. Its LayerNorms keep PyTorch's
 * default epsilon; old configs' static_position_embeddings is ignored, as
 * transformers 4.25 always uses sinusoids. */
static elang_status read_marian_fields(json_t *root, const char *path, model_config *cfg,
                                       elang_error *err) {
    seq2seq_config *s = &cfg->s2s;
    const int BIG = 1 << 24;
    const char *act;
    elang_status st;
    if ((st = read_int(root, path, KEYS("vocab_size"), 58101, 1, BIG, &cfg->vocab_size, err)) ||
        (st = read_int(root, path, KEYS("d_model"), 1024, 1, 65536, &cfg->hidden_size, err)) ||
        (st = read_int(root, path, KEYS("encoder_layers"), 12, 1, 1024, &cfg->num_layers, err)) ||
        (st = read_int(root, path, KEYS("encoder_attention_heads"), 16, 1, 1024, &cfg->num_heads, err)) ||
        (st = read_int(root, path, KEYS("encoder_ffn_dim"), 4096, 1, 1 << 20, &cfg->intermediate_size, err)) ||
        (st = read_int(root, path, KEYS("decoder_layers"), 12, 1, 1024, &s->decoder_layers, err)) ||
        (st = read_int(root, path, KEYS("decoder_attention_heads"), 16, 1, 1024, &s->decoder_heads, err)) ||
        (st = read_int(root, path, KEYS("decoder_ffn_dim"), 4096, 1, 1 << 20, &s->decoder_ffn, err)) ||
        (st = read_int(root, path, KEYS("max_position_embeddings"), 1024, 1, 1 << 20, &cfg->max_position_embeddings, err)) ||
        (st = read_bool(root, path, "share_encoder_decoder_embeddings", true, &s->share_embeddings, err)) ||
        (st = read_int(root, path, KEYS("decoder_vocab_size"), cfg->vocab_size, 1, BIG, &s->target_vocab_size, err)))
        return st;
    if (s->share_embeddings) s->target_vocab_size = cfg->vocab_size;
    const int V = s->target_vocab_size;
    if ((st = read_int(root, path, KEYS("pad_token_id"), 58100, 0, V - 1, &cfg->pad_token_id, err)) ||
        (st = read_int(root, path, KEYS("eos_token_id"), 0, 0, V - 1, &s->eos_token_id, err)) ||
        (st = read_int(root, path, KEYS("decoder_start_token_id"), 58100, 0, V - 1, &s->decoder_start_token_id, err)) ||
        (st = read_forced_eos(root, path, 0, V, &s->forced_eos_token_id, err)) ||
        (st = read_bad_word(root, path, V, &s->bad_word_id, err)) ||
        (st = read_bool(root, path, "tie_word_embeddings", true, &s->tie_word_embeddings, err)) ||
        (st = read_bool(root, path, "scale_embedding", false, &s->scale_embedding, err)) ||
        (st = read_string(root, path, "activation_function", "gelu", &act, err)))
        return st;
    if (cfg->hidden_size % cfg->num_heads != 0 || cfg->hidden_size % s->decoder_heads != 0)
        return elang_fail(err, ELANG_ERR_FORMAT,
                          "%s: d_model %d is not divisible by encoder_attention_heads %d and "
                          "decoder_attention_heads %d", path, cfg->hidden_size, cfg->num_heads,
                          s->decoder_heads);
    snprintf(cfg->hidden_act_name, sizeof cfg->hidden_act_name, "%s", act);
    if (activation_from_name(act, &cfg->hidden_act) != ELANG_OK)
        return elang_fail(err, ELANG_ERR_UNSUPPORTED, "%s: activation_function \"%s\" is not supported",
                          path, act);
    cfg->layer_norm_eps = 1e-5;
    return ELANG_OK;
}

/* eos_token_id: one id or a list of them (Llama 3's configs list several);
 * absent or null keeps *n as it is. */
static elang_status read_eos(json_t *root, const char *path, int vocab, int *ids, int *n, elang_error *err) {
    json_t *v = json_object_get(root, "eos_token_id");
    if (!v || json_is_null(v)) return ELANG_OK;
    json_t *one = v;
    size_t count = json_is_array(v) ? json_array_size(v) : 1;
    if (count > CONFIG_MAX_EOS)
        return elang_fail(err, ELANG_ERR_UNSUPPORTED, "%s: \"eos_token_id\" lists %zu tokens; elang takes at most %d",
                          path, count, CONFIG_MAX_EOS);
    for (size_t i = 0; i < count; i++) {
        if (json_is_array(v)) one = json_array_get(v, i);
        if (!json_is_integer(one) || json_integer_value(one) < 0 || json_integer_value(one) >= vocab)
            return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"eos_token_id\" must be a token id in [0, %d) or a list "
                              "of them", path, vocab);
        ids[i] = (int)json_integer_value(one);
    }
    *n = (int)count;
    return ELANG_OK;
}

/* generation_config.json, which generate() reads before config.json: its
 * eos_token_id is where generation stops. Absent: config.json's stands. */
static elang_status read_generation_config(const char *dir, model_config *cfg, elang_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    bool present;
    elang_status st = file_optional(path, &present, err);
    if (st != ELANG_OK || !present) return st;
    json_t *root;
    st = file_load_json(path, JSON_REJECT_DUPLICATES, &root, err);
    if (st != ELANG_OK) return st;
    st = json_is_object(root) ? read_eos(root, path, cfg->vocab_size, cfg->lm.eos_ids, &cfg->lm.n_eos, err)
                              : elang_fail(err, ELANG_ERR_FORMAT, "%s: top level must be a JSON object", path);
    json_decref(root);
    return st;
}

/* rope_scaling (linear, dynamic, YaRN, Llama 3's) changes the angles; elang
 * computes the default rotary embedding only, so any other is refused
 * rather than computed wrong. */
static elang_status check_rope_scaling(json_t *root, const char *path, elang_error *err) {
    json_t *v = json_object_get(root, "rope_scaling");
    if (!v || json_is_null(v)) return ELANG_OK;
    json_t *type = json_is_object(v) ? json_object_get(v, "rope_type") : NULL;
    if (!type && json_is_object(v)) type = json_object_get(v, "type");
    if (type && json_is_string(type) && strcmp(json_string_value(type), "default") == 0) return ELANG_OK;
    return elang_fail(err, ELANG_ERR_UNSUPPORTED, "%s: rope_scaling %s%s%s is not supported (only the default "
                      "rotary embedding is)", path, type && json_is_string(type) ? "\"" : "",
                      type && json_is_string(type) ? json_string_value(type) : "(of no known type)",
                      type && json_is_string(type) ? "\"" : "");
}

/* GPT2Config's defaults are gpt2's (124M). */
static elang_status read_gpt2_fields(json_t *root, const char *path, model_config *cfg, elang_error *err) {
    causal_config *c = &cfg->lm;
    const int BIG = 1 << 24;
    const char *act;
    bool scale = true, by_layer = false;
    elang_status st;
    if ((st = read_int(root, path, KEYS("vocab_size"), 50257, 1, BIG, &cfg->vocab_size, err)) ||
        (st = read_int(root, path, KEYS("n_embd"), 768, 1, 65536, &cfg->hidden_size, err)) ||
        (st = read_int(root, path, KEYS("n_layer"), 12, 1, 1024, &cfg->num_layers, err)) ||
        (st = read_int(root, path, KEYS("n_head"), 12, 1, 1024, &cfg->num_heads, err)) ||
        (st = read_int(root, path, KEYS("n_inner"), 4 * cfg->hidden_size, 1, 1 << 20, &cfg->intermediate_size, err)) ||
        (st = read_int(root, path, KEYS("n_positions"), 1024, 1, 1 << 20, &cfg->max_position_embeddings, err)) ||
        (st = read_int(root, path, KEYS("bos_token_id"), 50256, 0, cfg->vocab_size - 1, &c->bos_token_id, err)) ||
        (st = read_eps(root, path, "layer_norm_epsilon", 1e-5, &cfg->layer_norm_eps, err)) ||
        (st = read_string(root, path, "activation_function", "gelu_new", &act, err)) ||
        (st = read_bool(root, path, "tie_word_embeddings", true, &c->tie_word_embeddings, err)) ||
        (st = read_bool(root, path, "scale_attn_weights", true, &scale, err)) ||
        (st = read_bool(root, path, "scale_attn_by_inverse_layer_idx", false, &by_layer, err)))
        return st;
    if (!scale || by_layer)
        return elang_fail(err, ELANG_ERR_UNSUPPORTED, "%s: %s is not supported", path,
                          !scale ? "scale_attn_weights false" : "scale_attn_by_inverse_layer_idx true");
    if (cfg->hidden_size % cfg->num_heads != 0)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: n_embd %d is not divisible by n_head %d", path,
                          cfg->hidden_size, cfg->num_heads);
    c->eos_ids[0] = 50256, c->n_eos = 1;
    if ((st = read_eos(root, path, cfg->vocab_size, c->eos_ids, &c->n_eos, err))) return st;
    snprintf(cfg->hidden_act_name, sizeof cfg->hidden_act_name, "%s", act);
    if (activation_from_name(act, &cfg->hidden_act) != ELANG_OK)
        return elang_fail(err, ELANG_ERR_UNSUPPORTED, "%s: activation_function \"%s\" is not supported", path, act);
    c->head_dim = cfg->hidden_size / cfg->num_heads;
    c->kv_heads = cfg->num_heads;
    c->qkv_bias = c->o_bias = c->mlp_bias = true;
    return ELANG_OK;
}

/* LlamaConfig's, MistralConfig's and Qwen2Config's defaults are those of
 * Llama 2 7B, Mistral 7B and Qwen2 7B. */
static elang_status read_llama_fields(json_t *root, const char *path, model_config *cfg, elang_error *err) {
    causal_config *c = &cfg->lm;
    const bool mistral = strcmp(cfg->model_type, "mistral") == 0, qwen2 = strcmp(cfg->model_type, "qwen2") == 0;
    const int BIG = 1 << 24;
    const char *act;
    double theta = 10000.0;
    int window = 0;
    bool use_window = mistral;
    elang_status st;
    if ((st = read_int(root, path, KEYS("vocab_size"), qwen2 ? 151936 : 32000, 1, BIG, &cfg->vocab_size, err)) ||
        (st = read_int(root, path, KEYS("hidden_size"), 4096, 1, 65536, &cfg->hidden_size, err)) ||
        (st = read_int(root, path, KEYS("intermediate_size"), mistral ? 14336 : qwen2 ? 22016 : 11008, 1, 1 << 20,
                       &cfg->intermediate_size, err)) ||
        (st = read_int(root, path, KEYS("num_hidden_layers"), 32, 1, 1024, &cfg->num_layers, err)) ||
        (st = read_int(root, path, KEYS("num_attention_heads"), 32, 1, 1024, &cfg->num_heads, err)) ||
        (st = read_int(root, path, KEYS("num_key_value_heads"), mistral ? 8 : cfg->num_heads, 1, cfg->num_heads,
                       &c->kv_heads, err)) ||
        (st = read_int(root, path, KEYS("head_dim"), cfg->hidden_size / cfg->num_heads, 1, 65536, &c->head_dim,
                       err)) ||
        (st = read_int(root, path, KEYS("max_position_embeddings"), mistral ? 4096 * 32 : qwen2 ? 32768 : 2048, 1,
                       1 << 24, &cfg->max_position_embeddings, err)) ||
        (st = read_int(root, path, KEYS("bos_token_id"), qwen2 ? -1 : 1, -1, cfg->vocab_size - 1, &c->bos_token_id, err)) ||
        (st = read_int(root, path, KEYS("sliding_window"), 0, 0, 1 << 24, &window, err)) ||
        (st = read_eps(root, path, "rms_norm_eps", 1e-6, &cfg->layer_norm_eps, err)) ||
        (st = read_string(root, path, "hidden_act", "silu", &act, err)) ||
        (st = read_bool(root, path, "tie_word_embeddings", false, &c->tie_word_embeddings, err)) ||
        (st = read_bool(root, path, "attention_bias", false, &c->o_bias, err)) ||
        (st = read_bool(root, path, "mlp_bias", false, &c->mlp_bias, err)) ||
        (qwen2 && (st = read_bool(root, path, "use_sliding_window", false, &use_window, err))) ||
        (st = check_rope_scaling(root, path, err)))
        return st;
    json_t *rt = json_object_get(root, "rope_theta");
    if (rt && !json_is_null(rt)) {
        if (!json_is_number(rt) || !(json_number_value(rt) > 0))
            return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"rope_theta\" must be a positive number", path);
        theta = json_number_value(rt);
    }
    /* Qwen2Attention divides hidden_size by the heads whatever head_dim says. */
    if (qwen2) c->head_dim = cfg->hidden_size / cfg->num_heads;
    if (cfg->num_heads % c->kv_heads != 0)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: num_attention_heads %d is not a multiple of num_key_value_heads %d",
                          path, cfg->num_heads, c->kv_heads);
    if (c->head_dim % 2 != 0)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: head size %d is odd; rotary embeddings turn pairs of features",
                          path, c->head_dim);
    c->eos_ids[0] = 2, c->n_eos = !qwen2;
    if ((st = read_eos(root, path, cfg->vocab_size, c->eos_ids, &c->n_eos, err))) return st;
    snprintf(cfg->hidden_act_name, sizeof cfg->hidden_act_name, "%s", act);
    if (activation_from_name(act, &cfg->hidden_act) != ELANG_OK)
        return elang_fail(err, ELANG_ERR_UNSUPPORTED, "%s: hidden_act \"%s\" is not supported", path, act);
    /* A sliding window only changes what a token sees beyond `window`
     * tokens back: below that, it is the plain causal attention, so the
     * window caps the sequence instead of being computed. */
    if (use_window && window > 0 && window < cfg->max_position_embeddings) cfg->max_position_embeddings = window;
    c->rope_theta = theta;
    c->rms_norm = c->gated_ff = true;
    c->qkv_bias = qwen2 || c->o_bias;
    return ELANG_OK;
}

#undef KEYS

static elang_status read_fields(json_t *root, const char *path, model_config *cfg,
                                elang_error *err) {
    elang_status st = read_model_type(root, path, cfg, err);
    if (st != ELANG_OK) return st;
    if (strcmp(cfg->model_type, "t5") == 0) return read_t5_fields(root, path, cfg, err);
    if (strcmp(cfg->model_type, "marian") == 0) return read_marian_fields(root, path, cfg, err);
    if (strcmp(cfg->model_type, "gpt2") == 0) return read_gpt2_fields(root, path, cfg, err);
    if (config_is_causal(cfg)) return read_llama_fields(root, path, cfg, err);
    return read_encoder_fields(root, path, cfg, err);
}

elang_status config_load(const char *dir, model_config *cfg, elang_error *err) {
    memset(cfg, 0, sizeof *cfg);
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return elang_fail(err, ELANG_ERR_IO, "%s: cannot open (is %s a model directory?)", path, dir);
    json_t *root;
    elang_status st = file_load_json(path, JSON_REJECT_DUPLICATES, &root, err);
    if (st != ELANG_OK) return st;
    st = json_is_object(root)
                          ? read_fields(root, path, cfg, err)
                          : elang_fail(err, ELANG_ERR_FORMAT, "%s: top level must be a JSON object", path);
    json_decref(root);
    if (st == ELANG_OK && config_is_causal(cfg)) st = read_generation_config(dir, cfg, err);
    if (st != ELANG_OK) config_free(cfg);
    return st;
}

bool config_is_causal(const model_config *cfg) {
    return strcmp(cfg->model_type, "gpt2") == 0 || strcmp(cfg->model_type, "llama") == 0 ||
           strcmp(cfg->model_type, "mistral") == 0 || strcmp(cfg->model_type, "qwen2") == 0;
}

bool config_is_seq2seq(const model_config *cfg) {
    return strcmp(cfg->model_type, "t5") == 0 || strcmp(cfg->model_type, "marian") == 0;
}

void config_free(model_config *cfg) {
    for (int i = 0; i < cfg->num_labels; i++) free(cfg->id2label[i]);
    free(cfg->id2label);
    cfg->id2label = NULL;
    cfg->num_labels = 0;
}
