/* What the worker runs on a batch: routing, or one model's classify or
 * generate, with the options the server was started with. Only the worker
 * thread calls engine_run, since the models' calls use their run state. */
#ifndef ELANG_SERVE_ENGINE_H
#define ELANG_SERVE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "elang.h"
#include "serve/metrics.h"

typedef enum { TASK_ROUTE, TASK_CLASSIFY, TASK_GENERATE } task_kind;

/* Inputs with the same key can share a batch. */
typedef struct {
    task_kind kind;
    int model; /* classify/generate: index into engine.models */
    /* generate: a request's own decoding (OpenAI's max_tokens and stop);
     * 0 and none: the server's. The stop strings are borrowed from the
     * request, which outlives its inputs' batches. */
    int max_new_tokens;
    const char *const *stop;
    int num_stop;
} task_key;

/* Whether inputs of the two keys may run in one batch. */
bool task_key_equal(const task_key *a, const task_key *b);

/* One input's answer, of the key's kind. */
typedef union {
    elang_route_out route;
    elang_class_out cls;
    elang_gen_out gen;
} task_result;

#define ENGINE_MAX_MODELS 2

typedef struct {
    elang_model *models[ENGINE_MAX_MODELS]; /* loaded here, borrowed: Swift and Super, or the one model */
    elang_router *router;                   /* NULL when the server routes nothing (--model) */
    elang_classify_opts classify;
    elang_gen_opts gen;
    serve_metrics *metrics;
    /* Each call's outputs land here before they are handed out per input,
     * sized once for the largest batch: a batch allocates nothing more. */
    elang_class_out *cls;
    elang_gen_out *gen_out;
    elang_route_out *routed;
    size_t capacity;
} engine;

/* Sizes the scratch outputs for batches of up to max_batch inputs. */
elang_status engine_reserve(engine *e, size_t max_batch, elang_error *err);
void engine_release(engine *e);

/* Runs in[0..n) (n <= max_batch; items: each input's index in its own
 * request, the random score's seed) and moves each answer to out[i]. On
 * failure err->item names the input at fault when one is, and nothing is
 * left to free. Counts routed answers in the metrics. */
elang_status engine_run(engine *e, task_key key, const elang_text *in, const size_t *items, size_t n,
                        task_result *out, elang_error *err);

/* Releases an answer of `kind` (a zeroed one is fine). */
void task_result_free(task_kind kind, task_result *r);

#endif
