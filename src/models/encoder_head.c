/* The encoder head: its files checked field by field and tensor by tensor,
 * and its score from the pooled encoder states. */
#include "models/encoder_head.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/weights.h"
#include "util/error.h"
#include "util/files.h"

bool encoder_head_present(const char *dir) {
    char path[FILE_PATH_MAX];
    return (file_path_join(path, dir, ENCODER_HEAD_JSON, NULL) == ELANG_OK && file_exists(path)) ||
           (file_path_join(path, dir, ENCODER_HEAD_WEIGHTS, NULL) == ELANG_OK && file_exists(path));
}

void encoder_head_free(encoder_head *h) {
    if (!h) return;
    for (int i = 0; h->label_words && i < h->outputs; i++) free(h->label_words[i]);
    free(h->label_words);
    free(h->w1), free(h->b1), free(h->w2), free(h->b2);
    free(h->pooled), free(h->hidden_out), free(h->y);
    free(h);
}

/* The string field `key`, which must be one of `allowed` (NULL-terminated). */
static elang_status string_field(json_t *root, const char *path, const char *key, const char *const *allowed,
                                 int *which, elang_error *err) {
    const json_t *v = json_object_get(root, key);
    if (!json_is_string(v)) return elang_fail(err, ELANG_ERR_FORMAT, "%s: field \"%s\" is missing or not a string", path, key);
    for (int i = 0; allowed[i]; i++)
        if (strcmp(json_string_value(v), allowed[i]) == 0) {
            *which = i;
            return ELANG_OK;
        }
    char list[256] = "";
    for (int i = 0; allowed[i]; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s\"%s\"", i ? ", " : "", allowed[i]);
    return elang_fail(err, ELANG_ERR_FORMAT, "%s: field \"%s\" is \"%s\"; expected %s", path, key,
                      json_string_value(v), list);
}

static elang_status read_description(json_t *root, const char *path, encoder_head *h, elang_error *err) {
    static const char *const known[] = {"elang_head", "pooling", "hidden_size", "activation", "predicts",
                                        "label_words", "description"};
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value) {
        bool ok = false;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) ok |= strcmp(key, known[i]) == 0;
        if (!ok) return elang_fail(err, ELANG_ERR_FORMAT, "%s: unknown field \"%s\"", path, key);
    }
    const json_t *version = json_object_get(root, "elang_head");
    if (!json_is_integer(version) || json_integer_value(version) != 1)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: field \"elang_head\" must be 1 (the format's version)", path);
    static const char *const poolings[] = {"mean", NULL}, *const activations[] = {"relu", NULL},
                             *const targets[] = {"label-word-logits", "score", NULL};
    int which;
    elang_status st = string_field(root, path, "pooling", poolings, &which, err);
    if (st == ELANG_OK) st = string_field(root, path, "activation", activations, &which, err);
    if (st == ELANG_OK) st = string_field(root, path, "predicts", targets, &which, err);
    if (st != ELANG_OK) return st;
    h->predicts = which == 0 ? HEAD_PREDICTS_LABEL_WORD_LOGITS : HEAD_PREDICTS_SCORE;
    const json_t *hidden = json_object_get(root, "hidden_size");
    if (!json_is_integer(hidden) || json_integer_value(hidden) < 1 || json_integer_value(hidden) > 65536)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: field \"hidden_size\" must be a whole number from 1 to 65536",
                          path);
    h->hidden = (int)json_integer_value(hidden);
    const json_t *desc = json_object_get(root, "description");
    if (desc && !json_is_string(desc))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: field \"description\" must be a string", path);
    const json_t *words = json_object_get(root, "label_words");
    if (h->predicts == HEAD_PREDICTS_SCORE) {
        if (words) return elang_fail(err, ELANG_ERR_FORMAT, "%s: a \"score\" head has no \"label_words\"", path);
        h->outputs = 1;
        return ELANG_OK;
    }
    if (!json_is_array(words) || json_array_size(words) < 2 || json_array_size(words) > ENCODER_HEAD_MAX_OUTPUTS)
        return elang_fail(err, ELANG_ERR_FORMAT,
                          "%s: a \"label-word-logits\" head needs \"label_words\", 2 to %d strings (the "
                          "label words whose logits it predicts)", path, ENCODER_HEAD_MAX_OUTPUTS);
    h->outputs = (int)json_array_size(words);
    if (!(h->label_words = calloc((size_t)h->outputs, sizeof *h->label_words)))
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
    for (int i = 0; i < h->outputs; i++) {
        const json_t *w = json_array_get(words, (size_t)i);
        if (!json_is_string(w) || !json_string_value(w)[0])
            return elang_fail(err, ELANG_ERR_FORMAT, "%s: label_words[%d] must be a non-empty string", path, i);
        if (!(h->label_words[i] = strdup(json_string_value(w)))) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
        /* A word's output is looked up by name: a second one would never be read. */
        for (int j = 0; j < i; j++)
            if (strcmp(h->label_words[j], h->label_words[i]) == 0)
                return elang_fail(err, ELANG_ERR_FORMAT, "%s: label word \"%s\" is listed twice (label_words[%d] and "
                                  "[%d])", path, h->label_words[i], j, i);
    }
    return ELANG_OK;
}

/* Takes tensor `name` of the given shape as an owned F32 copy. */
static elang_status take_copy(weight_store *ws, const char *name, int ndim, const int64_t *shape, float **out,
                              elang_error *err) {
    const float *data;
    elang_status st = weight_store_take_f32(ws, name, ndim, shape, &data, err);
    if (st != ELANG_OK) return st;
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)shape[i];
    if (!(*out = malloc(sizeof(float) * n))) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
    memcpy(*out, data, sizeof(float) * n);
    return ELANG_OK;
}

elang_status encoder_head_load(const char *dir, int d_model, encoder_head **out, elang_error *err) {
    *out = NULL;
    char json_path[FILE_PATH_MAX], weights_path[FILE_PATH_MAX];
    elang_status st = file_path_join(json_path, dir, ENCODER_HEAD_JSON, err);
    if (st == ELANG_OK) st = file_path_join(weights_path, dir, ENCODER_HEAD_WEIGHTS, err);
    if (st != ELANG_OK) return st;
    /* One file without the other is a head half copied: refuse it rather
     * than route without it. */
    if (!file_exists(json_path) || !file_exists(weights_path))
        return elang_fail(err, ELANG_ERR_IO, "%s: an encoder head needs both %s and %s; %s is missing", dir,
                          ENCODER_HEAD_JSON, ENCODER_HEAD_WEIGHTS,
                          file_exists(json_path) ? ENCODER_HEAD_WEIGHTS : ENCODER_HEAD_JSON);
    encoder_head *h = calloc(1, sizeof *h);
    if (!h) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
    h->d_model = d_model;
    json_t *root = NULL;
    st = file_load_json(json_path, 0, &root, err);
    if (st == ELANG_OK && !json_is_object(root))
        st = elang_fail(err, ELANG_ERR_FORMAT, "%s: expected a JSON object", json_path);
    if (st == ELANG_OK) st = read_description(root, json_path, h, err);
    json_decref(root);
    weight_store *ws = NULL;
    if (st == ELANG_OK) st = weight_store_open_file(dir, ENCODER_HEAD_WEIGHTS, &ws, err);
    const int64_t w1[2] = {h->hidden, d_model}, b1[1] = {h->hidden}, w2[2] = {h->outputs, h->hidden},
                  b2[1] = {h->outputs};
    if (st == ELANG_OK) st = take_copy(ws, "dense.weight", 2, w1, &h->w1, err);
    if (st == ELANG_OK) st = take_copy(ws, "dense.bias", 1, b1, &h->b1, err);
    if (st == ELANG_OK) st = take_copy(ws, "out.weight", 2, w2, &h->w2, err);
    if (st == ELANG_OK) st = take_copy(ws, "out.bias", 1, b2, &h->b2, err);
    if (st == ELANG_OK) st = weight_store_check_unused(ws, err);
    weight_store_free(ws);
    if (st == ELANG_OK && (!(h->pooled = malloc(sizeof(float) * (size_t)d_model)) ||
                           !(h->hidden_out = malloc(sizeof(double) * (size_t)h->hidden)) ||
                           !(h->y = malloc(sizeof(double) * (size_t)h->outputs))))
        st = elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
    if (st != ELANG_OK) {
        encoder_head_free(h);
        return st;
    }
    *out = h;
    return ELANG_OK;
}

/* y[outputs] = out(relu(dense(x[d_model]))), summed in double;
 * hidden[h->hidden] is scratch. */
static void forward(const encoder_head *h, const float *x, double *hidden, double *y) {
    for (int j = 0; j < h->hidden; j++) {
        double s = h->b1[j];
        for (int i = 0; i < h->d_model; i++) s += (double)h->w1[(size_t)j * h->d_model + i] * x[i];
        hidden[j] = s > 0.0 ? s : 0.0;
    }
    for (int k = 0; k < h->outputs; k++) {
        double s = h->b2[k];
        for (int j = 0; j < h->hidden; j++) s += (double)h->w2[(size_t)k * h->hidden + j] * hidden[j];
        y[k] = s;
    }
}

elang_status encoder_head_pick(const encoder_head *h, const char *dir, const char *const *words, int k, int *outputs,
                               elang_error *err) {
    for (int i = 0; i < k; i++) {
        outputs[i] = -1;
        for (int j = 0; j < h->outputs && outputs[i] < 0; j++)
            if (strcmp(words[i], h->label_words[j]) == 0) outputs[i] = j;
        if (outputs[i] >= 0) continue;
        /* The words it does predict, as many as fit, tell the user which
         * --label-words to give. */
        char known[256] = "";
        for (int j = 0; j < h->outputs; j++) {
            const size_t used = strlen(known);
            snprintf(known + used, sizeof known - used, "%s%s", j ? ", " : "", h->label_words[j]);
        }
        return elang_fail(err, ELANG_ERR_INVALID_ARG,
                          "label word \"%s\" is not one the encoder head of %s predicts (%s); route with "
                          "--label-words among those", words[i], dir, known);
    }
    return ELANG_OK;
}

/* The routing score of the head's outputs y (of them, those picked, or
 * all): higher means "keep Swift". */
static double head_score(const encoder_head *h, const double *y, const int *outputs, int k, double temperature) {
    if (h->predicts == HEAD_PREDICTS_SCORE) return y[0];
    if (!outputs) k = h->outputs;
    double top = -INFINITY, sum = 0.0;
    for (int i = 0; i < k; i++) top = fmax(top, y[outputs ? outputs[i] : i]);
    for (int i = 0; i < k; i++) sum += exp((y[outputs ? outputs[i] : i] - top) / temperature);
    return top + temperature * log(sum);
}

elang_status encoder_head_scores(encoder_head *h, const seq2seq_model *m, arena *a, const int32_t *ids,
                                 const int32_t *mask, int B, int S, const int *outputs, int k,
                                 double temperature, float *scores, elang_error *err) {
    seq2seq_run run;
    elang_status st = seq2seq_run_alloc(m, a, B, 1, S, 1, mask, &run, err);
    if (st == ELANG_OK) st = m->ops->encode(m->net, &run, ids, mask, err);
    float *pooled = h->pooled;
    for (int b = 0; st == ELANG_OK && b < B; b++) {
        int tokens = 0;
        for (int i = 0; i < h->d_model; i++) pooled[i] = 0.0f;
        for (int s = 0; s < S; s++) {
            if (!mask[(size_t)b * S + s]) continue;
            const float *x = run.enc_out + ((size_t)b * S + s) * h->d_model;
            for (int i = 0; i < h->d_model; i++) pooled[i] += x[i];
            tokens++;
        }
        for (int i = 0; i < h->d_model; i++) pooled[i] /= tokens > 0 ? tokens : 1;
        forward(h, pooled, h->hidden_out, h->y);
        scores[b] = (float)head_score(h, h->y, outputs, k, temperature);
    }
    return st;
}

double encoder_head_flops(const encoder_head *h) {
    return 2.0 * h->hidden * h->d_model + 2.0 * h->outputs * h->hidden;
}
