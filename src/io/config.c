#include "io/config.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

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

    const char *key;
    json_t *value;
    json_object_foreach(id2label, key, value) {
        char *end;
        long id = strtol(key, &end, 10);
        if (*key == '\0' || *end != '\0' || id < 0 || id >= n)
            return elang_fail(err, ELANG_ERR_FORMAT,
                              "%s: id2label key \"%s\" is not a class id in [0, %d)", path, key, n);
        if (!json_is_string(value))
            return elang_fail(err, ELANG_ERR_FORMAT, "%s: id2label[\"%s\"] must be a string", path, key);
        char *name = strdup(json_string_value(value));
        if (!name) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory reading %s", path);
        free(cfg->id2label[id]);
        cfg->id2label[id] = name;
    }
    return ELANG_OK;
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
    static const char *const supported[] = {"bert", "distilbert", "roberta", "xlm-roberta", NULL};
    for (const char *const *s = supported; *s; s++)
        if (strcmp(cfg->model_type, *s) == 0) return ELANG_OK;
    return elang_fail(err, ELANG_ERR_UNSUPPORTED,
                      "%s: model_type \"%s\" is not supported (supported: bert, distilbert, "
                      "roberta, xlm-roberta)", path, cfg->model_type);
}

static elang_status read_fields(json_t *root, const char *path, model_config *cfg,
                                elang_error *err) {
    elang_status st = read_model_type(root, path, cfg, err);
    if (st != ELANG_OK) return st;
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
        (st = read_int(root, path, KEYS("pad_token_id"), roberta ? 1 : 0, 0, BIG, &cfg->pad_token_id, err)))
        return st;
#undef KEYS
    if (cfg->hidden_size % cfg->num_heads != 0)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: hidden size %d is not divisible by %d heads",
                          path, cfg->hidden_size, cfg->num_heads);
    if (distil) cfg->type_vocab_size = 0;

    /* DistilBERT hard-codes its LayerNorm epsilon; others state it. */
    cfg->layer_norm_eps = 1e-12;
    json_t *eps = json_object_get(root, "layer_norm_eps");
    if (eps && !distil) {
        if (!json_is_number(eps) || json_number_value(eps) <= 0 || json_number_value(eps) > 1)
            return elang_fail(err, ELANG_ERR_FORMAT, "%s: \"layer_norm_eps\" must be a number in (0, 1]", path);
        cfg->layer_norm_eps = json_number_value(eps);
    }

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

elang_status config_load(const char *dir, model_config *cfg, elang_error *err) {
    memset(cfg, 0, sizeof *cfg);
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        FILE *probe = fopen(path, "r");
        if (!probe) return elang_fail(err, ELANG_ERR_IO, "%s: cannot open (is %s a model directory?)", path, dir);
        fclose(probe);
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: malformed JSON at line %d, column %d: %s",
                          path, je.line, je.column, je.text);
    }
    elang_status st = json_is_object(root)
                          ? read_fields(root, path, cfg, err)
                          : elang_fail(err, ELANG_ERR_FORMAT, "%s: top level must be a JSON object", path);
    json_decref(root);
    if (st != ELANG_OK) config_free(cfg);
    return st;
}

void config_free(model_config *cfg) {
    for (int i = 0; i < cfg->num_labels; i++) free(cfg->id2label[i]);
    free(cfg->id2label);
    cfg->id2label = NULL;
    cfg->num_labels = 0;
}
