#include "route/answer_json.h"

#include <stdio.h>

json_t *json_int_array(const int32_t *v, int n) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_integer(v[i]));
    return a;
}

json_t *json_float_array(const float *v, int n) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_real(v[i]));
    return a;
}

json_t *class_out_json(const elang_model *m, const char *const *label_words, int num_label_words, json_t *id,
                       const elang_class_out *o, bool emit_ids) {
    const int L = label_words ? num_label_words : elang_model_num_labels(m);
    json_t *obj = json_object();
    if (id) json_object_set(obj, "id", id);
    json_object_set_new(obj, "label",
                        json_string(label_words ? label_words[o->label_id] : elang_model_label(m, o->label_id)));
    json_object_set_new(obj, "label_id", json_integer(o->label_id));
    json_object_set_new(obj, "logits", json_float_array(o->logits, L));
    json_object_set_new(obj, "probs", json_float_array(o->probs, L));
    json_object_set_new(obj, "energy", json_real(o->energy));
    if (emit_ids) {
        json_object_set_new(obj, "input_ids", json_int_array(o->input_ids, o->num_tokens));
        if (o->token_type_ids)
            json_object_set_new(obj, "token_type_ids", json_int_array(o->token_type_ids, o->num_tokens));
    }
    return obj;
}

json_t *gen_out_json(json_t *id, const elang_gen_out *o, bool emit_ids) {
    json_t *obj = json_object();
    if (id) json_object_set(obj, "id", id);
    json_object_set_new(obj, "text", json_string(o->text));
    json_object_set_new(obj, "ids", json_int_array(o->ids, o->num_ids));
    json_object_set_new(obj, "token_logprobs", json_float_array(o->token_logprobs, o->num_steps));
    json_object_set_new(obj, "token_energies", json_float_array(o->token_energies, o->num_steps));
    json_object_set_new(obj, "energy", json_real(o->energy));
    json_object_set_new(obj, "score", json_real(o->score));
    if (emit_ids) json_object_set_new(obj, "input_ids", json_int_array(o->input_ids, o->num_input_ids));
    return obj;
}

/* The answer's own fields, as classify or generate print them. An answer
 * from a remote server may lack the ids and per-token numbers. */
static void answer_fields(json_t *obj, int num_labels, const elang_answer *a, bool emit_ids) {
    if (a->label_id >= 0) {
        json_object_set_new(obj, "label", json_string(a->label));
        json_object_set_new(obj, "label_id", json_integer(a->label_id));
    }
    if (a->cls.logits) {
        json_object_set_new(obj, "logits", json_float_array(a->cls.logits, num_labels));
        json_object_set_new(obj, "probs", json_float_array(a->cls.probs, num_labels));
        json_object_set_new(obj, "energy", json_real(a->cls.energy));
        if (emit_ids && a->cls.input_ids)
            json_object_set_new(obj, "input_ids", json_int_array(a->cls.input_ids, a->cls.num_tokens));
    }
    if (a->gen.text) json_object_set_new(obj, "text", json_string(a->gen.text));
    if (a->gen.ids) {
        json_object_set_new(obj, "ids", json_int_array(a->gen.ids, a->gen.num_ids));
        json_object_set_new(obj, "token_logprobs", json_float_array(a->gen.token_logprobs, a->gen.num_steps));
        json_object_set_new(obj, "token_energies", json_float_array(a->gen.token_energies, a->gen.num_steps));
        json_object_set_new(obj, "energy", json_real(a->gen.energy));
    }
    if (emit_ids && a->gen.input_ids)
        json_object_set_new(obj, "input_ids", json_int_array(a->gen.input_ids, a->gen.num_input_ids));
}

static const char *tier_name(int tier, int num_tiers, char *buf, size_t size) {
    if (tier == 0) return "swift";
    if (tier == num_tiers - 1) return "super";
    snprintf(buf, size, "tier%d", tier);
    return buf;
}

json_t *route_out_json(json_t *id, const elang_route_out *o, int num_tiers, int num_labels, bool emit_ids) {
    json_t *obj = json_object();
    char buf[16];
    if (id) json_object_set(obj, "id", id);
    answer_fields(obj, num_labels, &o->answers[o->tier], emit_ids);
    json_object_set_new(obj, "route", json_string(tier_name(o->tier, num_tiers, buf, sizeof buf)));
    json_object_set_new(obj, "score", json_real(o->answers[0].score));
    if (num_tiers > 2) {
        json_t *scores = json_array();
        for (int t = 0; t <= o->tier; t++) json_array_append_new(scores, json_real(o->answers[t].score));
        json_object_set_new(obj, "scores", scores);
    }
    for (int t = 0; t <= o->tier; t++) {
        if (t > 0 && t < o->tier) continue; /* in a cascade, the first and the final answers */
        const elang_answer *a = &o->answers[t];
        char key[32];
        const char *who = tier_name(t, num_tiers, buf, sizeof buf);
        snprintf(key, sizeof key, "%s_%s", who, a->label_id >= 0 ? "label" : "text");
        json_object_set_new(obj, key, a->label_id >= 0 ? json_string(a->label) : a->gen.text ? json_string(a->gen.text) : json_null());
    }
    if (o->degraded) json_object_set_new(obj, "degraded", json_true());
    return obj;
}
