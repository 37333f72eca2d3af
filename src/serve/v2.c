#include "serve/v2.h"

#include <stdlib.h>

#define BIT(k) (1u << (k))

bool target_classifies(const serve_target *t) {
    return !elang_model_is_generator(t->model) || t->num_label_words > 0;
}

bool target_takes_pairs(const serve_target *t) {
    return target_classifies(t) && elang_model_takes_pairs(t->model);
}

unsigned v2_outputs(const serve_target *t) {
    const unsigned classified = BIT(OUT_LABEL) | BIT(OUT_LABEL_ID) | BIT(OUT_LOGITS) | BIT(OUT_PROBS) | BIT(OUT_ENERGY);
    if (t->key.kind == TASK_ROUTE) {
        const unsigned common = BIT(OUT_ROUTE) | BIT(OUT_SCORE) | BIT(OUT_DEGRADED);
        /* A router's label-word answers keep no logits (the router's scores are its own). */
        if (t->num_label_words > 0) return common | BIT(OUT_LABEL) | BIT(OUT_LABEL_ID);
        if (elang_model_is_generator(t->model)) return common | BIT(OUT_TEXT) | BIT(OUT_ENERGY);
        return common | classified;
    }
    if (t->key.kind == TASK_CLASSIFY) return classified;
    return BIT(OUT_TEXT) | BIT(OUT_IDS) | BIT(OUT_NUM_IDS) | BIT(OUT_TOKEN_LOGPROBS) | BIT(OUT_TOKEN_ENERGIES) |
           BIT(OUT_NUM_STEPS) | BIT(OUT_ENERGY) | BIT(OUT_SCORE);
}

static const char *datatype(output_kind k) {
    switch (k) {
    case OUT_LABEL: case OUT_ROUTE: case OUT_TEXT: return "BYTES";
    case OUT_LABEL_ID: return "INT64";
    case OUT_IDS: case OUT_NUM_IDS: case OUT_NUM_STEPS: return "INT32";
    case OUT_LOGITS: case OUT_PROBS: case OUT_TOKEN_LOGPROBS: case OUT_TOKEN_ENERGIES: return "FP32";
    case OUT_DEGRADED: return "BOOL";
    default: return "FP64";
    }
}

/* Columns per input: 0 for one value, -1 for as many as the longest answer. */
static int width(const serve_target *t, output_kind k) {
    if (k == OUT_LOGITS || k == OUT_PROBS) return t->num_label_words ? t->num_label_words : elang_model_num_labels(t->model);
    if (k == OUT_IDS || k == OUT_TOKEN_LOGPROBS || k == OUT_TOKEN_ENERGIES) return -1;
    return 0;
}

json_t *v2_model_metadata(const serve_target *t) {
    json_t *inputs = json_array(), *outputs = json_array();
    json_array_append_new(inputs, json_pack("{s:s, s:s, s:[i]}", "name", "text", "datatype", "BYTES", "shape", -1));
    if (target_takes_pairs(t))
        json_array_append_new(inputs, json_pack("{s:s, s:s, s:[i]}", "name", "text_pair", "datatype", "BYTES", "shape", -1));
    const unsigned outs = v2_outputs(t);
    for (int k = 0; k < OUT_KINDS; k++) {
        if (!(outs & BIT(k))) continue;
        const int w = width(t, (output_kind)k);
        json_t *shape = w ? json_pack("[i, i]", -1, w) : json_pack("[i]", -1);
        json_array_append_new(outputs, json_pack("{s:s, s:s, s:o}", "name", output_name((output_kind)k), "datatype",
                                                 datatype((output_kind)k), "shape", shape));
    }
    return json_pack("{s:s, s:[s], s:s, s:o, s:o}", "name", t->name, "versions", "1", "platform", "elang", "inputs",
                     inputs, "outputs", outputs);
}

/* The answer of input i that a field comes from. */
static const elang_answer *final_answer(const task_result *r) { return &r->route.answers[r->route.tier]; }

static const elang_class_out *class_out(const serve_target *t, const task_result *r) {
    return t->key.kind == TASK_ROUTE ? &final_answer(r)->cls : &r->cls;
}

static const elang_gen_out *gen_out(const serve_target *t, const task_result *r) {
    return t->key.kind == TASK_ROUTE ? &final_answer(r)->gen : &r->gen;
}

/* The value of output k for input i, column j. */
static json_t *value(const serve_target *t, const task_result *r, output_kind k, int j) {
    const bool routed = t->key.kind == TASK_ROUTE;
    const elang_class_out *c = class_out(t, r);
    const elang_gen_out *g = gen_out(t, r);
    switch (k) {
    case OUT_LABEL:
        return json_string(routed                 ? final_answer(r)->label
                           : t->num_label_words ? t->label_words[c->label_id]
                                                : elang_model_label(t->model, c->label_id));
    case OUT_LABEL_ID: return json_integer(routed ? final_answer(r)->label_id : c->label_id);
    case OUT_LOGITS: return json_real(c->logits[j]);
    case OUT_PROBS: return json_real(c->probs[j]);
    case OUT_ENERGY: return json_real(target_classifies(t) ? c->energy : g->energy);
    case OUT_ROUTE: return json_string(r->route.tier ? "super" : "swift");
    case OUT_SCORE: return json_real(routed ? r->route.answers[0].score : g->score);
    case OUT_DEGRADED: return json_boolean(r->route.degraded);
    case OUT_TEXT: return json_string(g->text ? g->text : "");
    case OUT_IDS: return json_integer(j < g->num_ids ? g->ids[j] : 0);
    case OUT_NUM_IDS: return json_integer(g->num_ids);
    case OUT_NUM_STEPS: return json_integer(g->num_steps);
    case OUT_TOKEN_LOGPROBS: return json_real(j < g->num_steps ? g->token_logprobs[j] : 0.0);
    case OUT_TOKEN_ENERGIES: return json_real(j < g->num_steps ? g->token_energies[j] : 0.0);
    default: return json_null();
    }
}

json_t *v2_infer_response(const serve_target *t, const task_result *results, size_t n, const unsigned char *order,
                          int num_order, json_t *request_id) {
    /* The outputs asked for, in the request's order; all the model gives when none was named. */
    unsigned char all[OUT_KINDS];
    if (num_order == 0) {
        const unsigned outs = v2_outputs(t);
        for (int k = 0; k < OUT_KINDS; k++)
            if (outs & BIT(k)) all[num_order++] = (unsigned char)k;
        order = all;
    }
    /* Ragged outputs are padded (ids with 0, numbers with 0.0) to the
     * longest answer; num_ids and num_steps tell each answer's own lengths
     * (an encoder-decoder's ids hold its start token, one more than its
     * steps; a language model's ids are its new tokens, one per step). */
    int longest = 1, longest_steps = 1;
    if (t->key.kind == TASK_GENERATE)
        for (size_t i = 0; i < n; i++) {
            if (results[i].gen.num_ids > longest) longest = results[i].gen.num_ids;
            if (results[i].gen.num_steps > longest_steps) longest_steps = results[i].gen.num_steps;
        }
    json_t *outputs = json_array();
    for (int o = 0; o < num_order; o++) {
        const int k = order[o];
        int w = width(t, (output_kind)k);
        const bool matrix = w != 0;
        if (w < 0) w = k == OUT_IDS ? longest : longest_steps;
        json_t *data = json_array();
        for (size_t i = 0; i < n; i++)
            for (int j = 0; j < (matrix ? w : 1); j++) json_array_append_new(data, value(t, &results[i], (output_kind)k, j));
        json_t *shape = matrix ? json_pack("[I, i]", (json_int_t)n, w) : json_pack("[I]", (json_int_t)n);
        json_array_append_new(outputs, json_pack("{s:s, s:s, s:o, s:o}", "name", output_name((output_kind)k),
                                                 "datatype", datatype((output_kind)k), "shape", shape, "data", data));
    }
    json_t *resp = json_pack("{s:s, s:o}", "model_name", t->name, "outputs", outputs);
    if (request_id) json_object_set(resp, "id", request_id);
    return resp;
}
