/* The Open Inference Protocol's (KServe v2) JSON: model metadata and infer
 * responses, one output tensor per field of the answers, batched along the
 * first dimension, data flat in row-major order. Numbers are written with
 * 17 significant digits so that an elang serving another elang's Super
 * reads back exactly the floats it computed. */
#ifndef ELANG_SERVE_V2_H
#define ELANG_SERVE_V2_H

#include <jansson.h>
#include <stdbool.h>

#include "serve/engine.h"
#include "serve/request.h"

#define V2_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(17))

/* What a name in /v2/models/{name} (or a "model" field) stands for. */
typedef struct {
    const char *name;
    task_key key;              /* TASK_ROUTE for the router */
    const elang_model *model;  /* the model; for the router, Swift (its labels and kind) */
    /* A generator's classes as words, when the server was given them: the
     * router and every model then answer labels (elang_classify by words). */
    const char *const *label_words;
    int num_label_words;
} serve_target;

/* True when the target answers labels: classifiers, and generators given
 * label words. */
bool target_classifies(const serve_target *t);

/* True when the target's inputs may be pairs (not a generation's). */
bool target_takes_pairs(const serve_target *t);

/* The output_kind bits a target gives. */
unsigned v2_outputs(const serve_target *t);

json_t *v2_model_metadata(const serve_target *t);

/* The infer response for results[0..n) of the target's kind: the outputs
 * order[0..num_order) in that order (num_order 0: all the model gives),
 * `request_id` echoed when not NULL. */
json_t *v2_infer_response(const serve_target *t, const task_result *results, size_t n, const unsigned char *order,
                          int num_order, json_t *request_id);

#endif
