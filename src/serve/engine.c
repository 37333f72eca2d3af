#include "serve/engine.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"

elang_status engine_reserve(engine *e, size_t max_batch, elang_error *err) {
    e->cls = calloc(max_batch, sizeof *e->cls);
    e->gen_out = calloc(max_batch, sizeof *e->gen_out);
    e->routed = calloc(max_batch, sizeof *e->routed);
    e->capacity = max_batch;
    if (e->cls && e->gen_out && e->routed) return ELANG_OK;
    engine_release(e);
    return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for batches of %zu inputs", max_batch);
}

void engine_release(engine *e) {
    free(e->cls), free(e->gen_out), free(e->routed);
    e->cls = NULL, e->gen_out = NULL, e->routed = NULL;
    e->capacity = 0;
}

bool task_key_equal(const task_key *a, const task_key *b) {
    if (a->kind != b->kind || a->model != b->model || a->max_new_tokens != b->max_new_tokens ||
        a->num_stop != b->num_stop)
        return false;
    for (int i = 0; i < a->num_stop; i++)
        if (strcmp(a->stop[i], b->stop[i]) != 0) return false;
    return true;
}

void task_result_free(task_kind kind, task_result *r) {
    if (kind == TASK_ROUTE) elang_route_out_free(&r->route, 1);
    else if (kind == TASK_CLASSIFY) elang_class_out_free(&r->cls, 1);
    else elang_gen_out_free(&r->gen, 1);
}

elang_status engine_run(engine *e, task_key key, const elang_text *in, const size_t *items, size_t n,
                        task_result *out, elang_error *err) {
    if (n > e->capacity) return elang_fail(err, ELANG_ERR_INVALID_ARG, "a batch of %zu inputs exceeds %zu", n, e->capacity);
    elang_status st;
    switch (key.kind) {
    case TASK_ROUTE:
        st = elang_route_items(e->router, in, items, n, e->routed, err);
        for (size_t i = 0; st == ELANG_OK && i < n; i++) {
            out[i].route = e->routed[i];
            atomic_fetch_add_explicit(e->routed[i].tier ? &e->metrics->by_super : &e->metrics->by_swift, 1,
                                      memory_order_relaxed);
            if (e->routed[i].degraded) atomic_fetch_add_explicit(&e->metrics->degraded, 1, memory_order_relaxed);
        }
        return st;
    case TASK_CLASSIFY:
        st = elang_classify(e->models[key.model], in, n, &e->classify, e->cls, err);
        for (size_t i = 0; st == ELANG_OK && i < n; i++) out[i].cls = e->cls[i];
        break;
    case TASK_GENERATE: {
        elang_gen_opts gen = e->gen;
        if (key.max_new_tokens) gen.max_new_tokens = key.max_new_tokens;
        if (key.num_stop) gen.stop = key.stop, gen.num_stop = key.num_stop;
        st = elang_generate(e->models[key.model], in, n, &gen, e->gen_out, err);
        for (size_t i = 0; st == ELANG_OK && i < n; i++) out[i].gen = e->gen_out[i];
        break;
    }
    default:
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "unknown task %d", (int)key.kind);
    }
    if (st == ELANG_OK) atomic_fetch_add_explicit(&e->metrics->model_inputs, n, memory_order_relaxed);
    return st;
}
