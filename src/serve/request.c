#include "serve/request.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/files.h"

const char *output_name(output_kind k) {
    static const char *names[OUT_KINDS] = {"label", "label_id", "logits", "probs", "energy", "route", "score",
                                           "degraded", "text", "ids", "num_ids", "token_logprobs", "token_energies",
                                           "num_steps"};
    return names[k];
}

static int bad(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *why, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
    return 400;
}

/* A string usable as text: the tokenizers take C strings, so a NUL inside
 * would silently cut the text short. */
static bool usable_text(const json_t *s) {
    return json_is_string(s) && !memchr(json_string_value(s), '\0', json_string_length(s));
}

static int parse_v1(parsed_request *r, bool allow_pair, char *why, size_t size) {
    json_t *inputs = json_object_get(r->root, "inputs"), *model = json_object_get(r->root, "model");
    if (!json_is_array(inputs))
        return bad(why, size, "field \"inputs\" is %s; it must be an array of {\"text\": ...} objects",
                   inputs ? "not an array" : "missing");
    if (model && !json_is_string(model)) return bad(why, size, "field \"model\" must be a string");
    r->model = model ? json_string_value(model) : NULL;
    r->n = json_array_size(inputs);
    if (r->n == 0) return bad(why, size, "\"inputs\" is empty; give at least one input");
    r->texts = calloc(r->n, sizeof *r->texts);
    r->ids = calloc(r->n, sizeof *r->ids);
    if (!r->texts || !r->ids) return 500;
    for (size_t i = 0; i < r->n; i++) {
        json_t *in = json_array_get(inputs, i);
        if (!json_is_object(in)) return bad(why, size, "input %zu is not an object like {\"text\": \"...\"}", i);
        json_t *text = json_object_get(in, "text"), *pair = json_object_get(in, "text_pair");
        if (!json_is_string(text))
            return bad(why, size, "input %zu: field \"text\" is %s; it must be a string", i,
                       text ? "not a string" : "missing");
        if (pair && !json_is_null(pair) && !json_is_string(pair))
            return bad(why, size, "input %zu: field \"text_pair\" must be a string", i);
        if (json_is_string(pair) && !allow_pair)
            return bad(why, size, "input %zu: field \"text_pair\" is not used by this model (a text generator)", i);
        if (!usable_text(text) || (json_is_string(pair) && !usable_text(pair)))
            return bad(why, size, "input %zu: text contains a NUL character (\\u0000)", i);
        r->texts[i] = (elang_text){json_string_value(text), json_is_string(pair) ? json_string_value(pair) : NULL};
        r->ids[i] = json_object_get(in, "id");
    }
    return 0;
}

/* The strings of a BYTES tensor of shape [n] or [n, 1], its data flat or
 * nested as the protocol allows; *n is its length, checked against *n when
 * already set. */
static int v2_strings(json_t *t, const char *name, size_t *n, const char **dst, char *why, size_t size) {
    json_t *shape = json_object_get(t, "shape"), *type = json_object_get(t, "datatype"), *data = json_object_get(t, "data");
    json_t *params = json_object_get(t, "parameters");
    if (params && json_object_get(params, "binary_data_size"))
        return bad(why, size, "tensor \"%s\": binary tensor data is not supported; give the strings in \"data\"", name);
    if (!json_is_string(type) || strcmp(json_string_value(type), "BYTES") != 0)
        return bad(why, size, "tensor \"%s\": datatype must be \"BYTES\"", name);
    const size_t dims = json_array_size(shape);
    if (!json_is_array(shape) || dims < 1 || dims > 2)
        return bad(why, size, "tensor \"%s\": shape must be [n] or [n, 1]", name);
    for (size_t d = 0; d < dims; d++) {
        json_t *v = json_array_get(shape, d);
        if (!json_is_integer(v) || json_integer_value(v) < 0 || (d == 1 && json_integer_value(v) != 1))
            return bad(why, size, "tensor \"%s\": shape must be [n] or [n, 1] with n a whole number", name);
    }
    const json_int_t rows = json_integer_value(json_array_get(shape, 0));
    if (!json_is_array(data)) return bad(why, size, "tensor \"%s\": \"data\" must be an array of strings", name);
    if ((json_int_t)json_array_size(data) != rows)
        return bad(why, size, "tensor \"%s\": shape says %lld elements but \"data\" holds %zu", name, (long long)rows,
                   json_array_size(data));
    if (*n != SIZE_MAX && (size_t)rows != *n)
        return bad(why, size, "tensor \"%s\" has %lld elements but \"text\" has %zu", name, (long long)rows, *n);
    if (rows == 0) return bad(why, size, "tensor \"%s\" is empty; give at least one input", name);
    for (size_t i = 0; i < (size_t)rows; i++) {
        json_t *v = json_array_get(data, i);
        if (json_is_array(v) && json_array_size(v) == 1) v = json_array_get(v, 0); /* the nested form of [n, 1] */
        if (!json_is_string(v)) return bad(why, size, "tensor \"%s\": element %zu is not a string", name, i);
        if (!usable_text(v)) return bad(why, size, "tensor \"%s\": element %zu contains a NUL character", name, i);
        if (dst) dst[i] = json_string_value(v);
    }
    *n = (size_t)rows;
    return 0;
}

static int parse_v2(parsed_request *r, bool allow_pair, unsigned allowed, char *why, size_t size) {
    json_t *inputs = json_object_get(r->root, "inputs"), *outputs = json_object_get(r->root, "outputs");
    json_t *id = json_object_get(r->root, "id");
    if (id && !json_is_string(id)) return bad(why, size, "field \"id\" must be a string");
    r->request_id = id;
    if (!json_is_array(inputs)) return bad(why, size, "field \"inputs\" is %s; it must be an array of tensors",
                                           inputs ? "not an array" : "missing");
    json_t *text = NULL, *pair = NULL;
    for (size_t i = 0; i < json_array_size(inputs); i++) {
        json_t *t = json_array_get(inputs, i), *name = json_object_get(t, "name");
        if (!json_is_object(t) || !json_is_string(name))
            return bad(why, size, "input tensor %zu is not an object with a \"name\"", i);
        json_t **slot = strcmp(json_string_value(name), "text") == 0        ? &text
                        : strcmp(json_string_value(name), "text_pair") == 0 ? &pair
                                                                             : NULL;
        if (!slot)
            return bad(why, size, "unknown input tensor \"%.64s\" (this model takes \"text\"%s)", json_string_value(name),
                       allow_pair ? " and \"text_pair\"" : "");
        if (*slot) return bad(why, size, "input tensor \"%s\" is given twice", json_string_value(name));
        *slot = t;
    }
    if (!text) return bad(why, size, "input tensor \"text\" is missing");
    if (pair && !allow_pair) return bad(why, size, "input tensor \"text_pair\" is not used by this model (a text generator)");
    size_t n = SIZE_MAX;
    int st = v2_strings(text, "text", &n, NULL, why, size);
    if (st) return st;
    r->n = n;
    r->texts = calloc(n, sizeof *r->texts);
    const char **strings = malloc(sizeof *strings * n);
    if (!r->texts || !strings) {
        free(strings);
        return 500;
    }
    st = v2_strings(text, "text", &n, strings, why, size);
    for (size_t i = 0; !st && i < n; i++) r->texts[i].text = strings[i];
    if (!st && pair) st = v2_strings(pair, "text_pair", &n, strings, why, size);
    for (size_t i = 0; !st && pair && i < n; i++) r->texts[i].text_pair = strings[i];
    free(strings);
    if (st) return st;
    if (outputs && !json_is_array(outputs)) return bad(why, size, "field \"outputs\" must be an array");
    for (size_t i = 0; i < json_array_size(outputs); i++) {
        json_t *name = json_object_get(json_array_get(outputs, i), "name");
        if (!json_is_string(name)) return bad(why, size, "requested output %zu has no \"name\" string", i);
        int k = 0;
        while (k < OUT_KINDS && strcmp(output_name((output_kind)k), json_string_value(name)) != 0) k++;
        if (k == OUT_KINDS || !(allowed & 1u << k))
            return bad(why, size, "this model has no output \"%.64s\"", json_string_value(name));
        if (!memchr(r->output_order, k, (size_t)r->num_outputs)) r->output_order[r->num_outputs++] = (unsigned char)k;
    }
    return 0;
}

/* A field that is absent or null: OpenAI's way of leaving a default. */
static bool left_out(const json_t *v) { return !v || json_is_null(v); }

/* OpenAI fields whose other values ask for what elang does not do (it
 * decodes greedily: one deterministic completion per prompt): refused by
 * name, so that no client believes it was served them. Absent or null
 * means greedy here, where OpenAI would sample at temperature 1. */
static int refuse_unsupported(json_t *root, char *why, size_t size) {
    json_t *v;
    if (!left_out(v = json_object_get(root, "temperature")) && !(json_is_number(v) && json_number_value(v) == 0.0))
        return bad(why, size, "field \"temperature\": elang decodes greedily (deterministically); give 0 or leave it "
                              "out");
    if (!left_out(v = json_object_get(root, "top_p")) && !(json_is_number(v) && json_number_value(v) == 1.0))
        return bad(why, size, "field \"top_p\": elang decodes greedily; give 1 or leave it out");
    static const char *const one_only[] = {"n", "best_of"};
    for (int i = 0; i < 2; i++)
        if (!left_out(v = json_object_get(root, one_only[i])) && !(json_is_integer(v) && json_integer_value(v) == 1))
            return bad(why, size, "field \"%s\": greedy decoding gives one completion per prompt; give 1 or leave it "
                                  "out", one_only[i]);
    if (!left_out(v = json_object_get(root, "stream")) && !json_is_false(v))
        return bad(why, size, "field \"stream\": streaming is not supported; give false or leave it out");
    if (!left_out(v = json_object_get(root, "echo")) && !json_is_false(v))
        return bad(why, size, "field \"echo\": echoing the prompt is not supported; give false or leave it out");
    if (!left_out(json_object_get(root, "logprobs")))
        return bad(why, size, "field \"logprobs\" is not supported; leave it out (each choice's \"elang\" object holds "
                              "its energy and routing score)");
    if (!left_out(json_object_get(root, "suffix")))
        return bad(why, size, "field \"suffix\" is not supported; leave it out");
    return 0;
}

/* OpenAI's completions request: "prompt" a string or an array of strings
 * (prompts of token ids are refused), "model", "max_tokens", "stop" (a
 * string or up to OPENAI_MAX_STOP of them). */
static int parse_openai(parsed_request *r, char *why, size_t size) {
    json_t *root = r->root, *prompt = json_object_get(root, "prompt"), *model = json_object_get(root, "model");
    if (model && !json_is_string(model)) return bad(why, size, "field \"model\" must be a string");
    r->model = model ? json_string_value(model) : NULL;
    if (!json_is_string(prompt) && !json_is_array(prompt))
        return bad(why, size, "field \"prompt\" is %s; it must be a string or an array of strings",
                   prompt ? "neither a string nor an array" : "missing");
    r->n = json_is_string(prompt) ? 1 : json_array_size(prompt);
    if (r->n == 0) return bad(why, size, "\"prompt\" is empty; give at least one prompt");
    if (!(r->texts = calloc(r->n, sizeof *r->texts))) return 500;
    for (size_t i = 0; i < r->n; i++) {
        json_t *p = json_is_string(prompt) ? prompt : json_array_get(prompt, i);
        if (!json_is_string(p))
            return bad(why, size, "prompt %zu is not a string (prompts of token ids are not supported)", i);
        if (!usable_text(p)) return bad(why, size, "prompt %zu contains a NUL character (\\u0000)", i);
        r->texts[i].text = json_string_value(p);
    }
    json_t *max_tokens = json_object_get(root, "max_tokens");
    if (!left_out(max_tokens)) {
        if (!json_is_integer(max_tokens) || json_integer_value(max_tokens) < 1 ||
            json_integer_value(max_tokens) > OPENAI_MAX_TOKENS)
            return bad(why, size, "field \"max_tokens\" must be a whole number from 1 to %d", OPENAI_MAX_TOKENS);
        r->max_tokens = (int)json_integer_value(max_tokens);
    }
    json_t *stop = json_object_get(root, "stop");
    if (!left_out(stop)) {
        if (!json_is_string(stop) && !json_is_array(stop))
            return bad(why, size, "field \"stop\" must be a string or an array of strings");
        const size_t k = json_is_string(stop) ? 1 : json_array_size(stop);
        if (k > OPENAI_MAX_STOP)
            return bad(why, size, "field \"stop\" holds %zu strings; at most %d", k, OPENAI_MAX_STOP);
        for (size_t i = 0; i < k; i++) {
            json_t *s = json_is_string(stop) ? stop : json_array_get(stop, i);
            if (!json_is_string(s) || json_string_length(s) == 0 || !usable_text(s))
                return bad(why, size, "stop string %zu must be a non-empty string without NUL characters", i);
            r->stop[r->num_stop++] = json_string_value(s);
        }
    }
    return refuse_unsupported(root, why, size);
}

int request_parse(const char *body, size_t len, request_layout layout, bool allow_pair, unsigned outputs_allowed,
                  parsed_request *out, char *why, size_t why_size) {
    memset(out, 0, sizeof *out);
    if (len == 0) return bad(why, why_size, "the request has no body; send a JSON object");
    json_error_t je;
    /* NULs are admitted by the parser only to be refused by name. */
    out->root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!out->root) {
        if (json_error_code(&je) == json_error_invalid_utf8)
            return bad(why, why_size, "invalid UTF-8 at byte offset %d", je.position);
        if (json_error_code(&je) == json_error_out_of_memory) return 500;
        json_error_describe(&je, true, why, why_size);
        return 400;
    }
    int st = !json_is_object(out->root) ? bad(why, why_size, "the body must be a JSON object")
             : layout == LAYOUT_V1        ? parse_v1(out, allow_pair, why, why_size)
             : layout == LAYOUT_V2        ? parse_v2(out, allow_pair, outputs_allowed, why, why_size)
                                          : parse_openai(out, why, why_size);
    if (st) parsed_request_free(out);
    return st;
}

void parsed_request_free(parsed_request *r) {
    json_decref(r->root);
    free(r->texts);
    free(r->ids);
    memset(r, 0, sizeof *r);
}
