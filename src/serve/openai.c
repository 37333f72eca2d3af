#include "serve/openai.h"

#include <string.h>

bool openai_completes(const serve_target *t) { return !target_classifies(t); }

json_t *openai_models(const serve_target *targets, int n, long created) {
    json_t *data = json_array();
    for (int i = 0; i < n; i++)
        if (openai_completes(&targets[i]))
            json_array_append_new(data, json_pack("{s:s, s:s, s:I, s:s}", "id", targets[i].name, "object", "model",
                                                  "created", (json_int_t)created, "owned_by", "elang"));
    return json_pack("{s:s, s:o}", "object", "list", "data", data);
}

/* The length of text before the first of the stop strings, or -1 when it
 * holds none. */
static long stop_at(const char *text, const char *const *stop, int num_stop) {
    long first = -1;
    for (int i = 0; i < num_stop; i++) {
        const char *at = strstr(text, stop[i]);
        if (at && (first < 0 || at - text < first)) first = at - text;
    }
    return first;
}

json_t *openai_completion(const serve_target *t, const task_result *results, size_t n,
                          const openai_completion_info *info) {
    const bool routed = t->key.kind == TASK_ROUTE;
    json_t *choices = json_array();
    json_int_t prompt_tokens = 0, completion_tokens = 0;
    for (size_t i = 0; i < n; i++) {
        const task_result *r = &results[i];
        const elang_answer *final = routed ? &r->route.answers[r->route.tier] : NULL;
        const elang_gen_out *g = routed ? &final->gen : &r->gen;
        const char *text = g->text ? g->text : "";
        const long cut = stop_at(text, info->stop, info->num_stop);
        /* A remote Super's answer that is text alone has no steps to count:
         * it ended as that server decided, reported as "stop". */
        const char *finish = cut < 0 && g->num_steps >= info->max_new_tokens ? "length" : "stop";
        json_t *extra = json_object();
        if (routed) {
            json_object_set_new(extra, "route", json_string(r->route.tier ? "super" : "swift"));
            json_object_set_new(extra, "score", json_real(r->route.answers[0].score));
            if (r->route.degraded) json_object_set_new(extra, "degraded", json_true());
        } else {
            json_object_set_new(extra, "score", json_real(g->score));
        }
        if (g->token_energies) json_object_set_new(extra, "energy", json_real(g->energy));
        json_array_append_new(choices, json_pack("{s:I, s:s%, s:s, s:n, s:o}", "index", (json_int_t)i, "text", text,
                                                 (size_t)(cut < 0 ? (long)strlen(text) : cut), "finish_reason", finish,
                                                 "logprobs", "elang", extra));
        prompt_tokens += routed ? r->route.answers[0].input_tokens : g->num_input_ids;
        completion_tokens += g->num_steps;
    }
    return json_pack("{s:s, s:s, s:I, s:s, s:o, s:{s:I, s:I, s:I}}", "id", info->id, "object", "text_completion",
                     "created", (json_int_t)info->created, "model", t->name, "choices", choices, "usage",
                     "prompt_tokens", prompt_tokens, "completion_tokens", completion_tokens, "total_tokens",
                     prompt_tokens + completion_tokens);
}
