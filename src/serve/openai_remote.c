#include "serve/openai_remote.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

elang_status openai_completions_url(const char *url, char **out, elang_error *err) {
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return elang_fail(err, ELANG_ERR_INVALID_ARG,
                          "a Super behind an OpenAI-compatible API is given by its server's URL, http://HOST:PORT; "
                          "got '%s'", url);
    size_t len = strlen(url);
    while (len > 0 && url[len - 1] == '/') len--;
    const bool has_v1 = len >= 3 && strncmp(url + len - 3, "/v1", 3) == 0;
    const char *tail = has_v1 ? "/completions" : "/v1/completions";
    const size_t size = len + strlen(tail) + 1;
    if (!(*out = malloc(size))) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for the remote Super");
    snprintf(*out, size, "%.*s%s", (int)len, url, tail);
    return ELANG_OK;
}

char *openai_request_body(const openai_request *q, const elang_text *in, const size_t *idx, size_t m) {
    json_t *prompts = json_array();
    for (size_t k = 0; k < m; k++) json_array_append_new(prompts, json_string(in[idx[k]].text));
    json_t *req = json_pack("{s:s, s:o, s:i, s:i}", "model", q->model, "prompt", prompts, "max_tokens", q->max_tokens,
                            "temperature", 0);
    if (req && q->num_stop > 0) {
        json_t *stop = json_array();
        for (int i = 0; i < q->num_stop; i++) json_array_append_new(stop, json_string(q->stop[i]));
        json_object_set_new(req, "stop", stop);
    }
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    return body;
}

/* Fills out[idx[...]] from the choices; *why gets what was wrong. */
static elang_status read_choices(json_t *root, const size_t *idx, size_t m, elang_answer *out, char *why,
                                 size_t size) {
    json_t *choices = json_object_get(root, "choices");
    if (!json_is_array(choices)) {
        snprintf(why, size, "without a \"choices\" array");
        return ELANG_ERR_FORMAT;
    }
    if (json_array_size(choices) != m) {
        snprintf(why, size, "%zu choices to %zu prompts", json_array_size(choices), m);
        return ELANG_ERR_FORMAT;
    }
    for (size_t k = 0; k < m; k++) {
        json_t *choice = json_array_get(choices, k), *index = json_object_get(choice, "index");
        json_t *text = json_object_get(choice, "text");
        if (!json_is_integer(index) || json_integer_value(index) < 0 || (size_t)json_integer_value(index) >= m) {
            snprintf(why, size, "choice %zu without an \"index\" from 0 to %zu", k, m - 1);
            return ELANG_ERR_FORMAT;
        }
        /* A server may list the choices in any order: each is its
         * prompt's by its index, not by its place. */
        elang_answer *a = &out[idx[json_integer_value(index)]];
        if (a->gen.text) {
            snprintf(why, size, "two choices with \"index\" %lld", (long long)json_integer_value(index));
            return ELANG_ERR_FORMAT;
        }
        if (!json_is_string(text)) {
            snprintf(why, size, "choice %zu (index %lld) without a string \"text\"", k,
                     (long long)json_integer_value(index));
            return ELANG_ERR_FORMAT;
        }
        a->label_id = -1;
        if (!(a->gen.text = strdup(json_string_value(text)))) return ELANG_ERR_NOMEM;
    }
    return ELANG_OK;
}

elang_status openai_read_answer(const char *url, const char *reply, size_t len, const size_t *idx, size_t m,
                                elang_answer *out, elang_error *err) {
    json_error_t je;
    json_t *root = json_loadb(reply, len, 0, &je);
    if (!root) return elang_fail(err, ELANG_ERR_FORMAT, "%s answered malformed JSON: %s", url, je.text);
    char why[200];
    const elang_status st = read_choices(root, idx, m, out, why, sizeof why);
    json_decref(root);
    if (st == ELANG_ERR_NOMEM) return elang_fail(err, st, "out of memory for the answers of %s", url);
    if (st != ELANG_OK) return elang_fail(err, st, "%s answered %s", url, why);
    return ELANG_OK;
}
