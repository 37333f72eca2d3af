/* OpenAI's completions API on the server's side: the model list of
 * GET /v1/models and the answer to POST /v1/completions, for the targets
 * that generate text (the router of generators, and each generator by
 * name), so that OpenAI's clients, and another elang (--super-api openai),
 * can use them. */
#ifndef ELANG_SERVE_OPENAI_H
#define ELANG_SERVE_OPENAI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "serve/engine.h"
#include "serve/request.h"
#include "serve/v2.h"

/* Whether /v1/completions can answer for the target: it generates text
 * (label words answer a label, not a completion). */
bool openai_completes(const serve_target *t);

/* {"object": "list", "data": [{"id", "object": "model", "created",
 * "owned_by": "elang"}, ...]} of the targets that complete text. */
json_t *openai_models(const serve_target *targets, int n, long created);

/* What the completion of one request was asked to be: its id
 * ("cmpl-..."), the most tokens it could take, and the stop strings that
 * ended it (the request's, else the server's), which OpenAI's text leaves
 * out. */
typedef struct {
    const char *id;
    long created;
    int max_new_tokens;
    const char *const *stop;
    int num_stop;
} openai_completion_info;

/* The answer to a completions request of n prompts: a choice per prompt
 * with its index, its text cut before the first stop string, finish_reason
 * ("stop": a stop string or the end of sequence; "length": max_new_tokens
 * tokens without either) and "elang": the energy and score (and for the
 * router, the route and whether it was degraded); "usage" counts the
 * prompts' tokens and the generated ones. */
json_t *openai_completion(const serve_target *t, const task_result *results, size_t n,
                          const openai_completion_info *info);

#endif
