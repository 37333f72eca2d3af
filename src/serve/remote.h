/* A Super served elsewhere, reached over the Open Inference Protocol
 * (KServe v2 REST: another `elang serve --model`, Triton, KServe): the
 * routed inputs of a batch go out as one infer request, with connect and
 * request timeouts and a bounded retry. After a failure the remote side is
 * left alone for a backoff that doubles from 0.25 s to 4 s, during which
 * routed inputs keep Swift's answer at once (degraded); the first call that
 * succeeds again ends it, so routing resumes by itself. */
#ifndef ELANG_SERVE_REMOTE_H
#define ELANG_SERVE_REMOTE_H

#include <stdbool.h>

#include "elang.h"
#include "serve/metrics.h"

typedef struct remote_super remote_super;

typedef struct {
    const char *url;          /* the model's v2 path: http://HOST:PORT/v2/models/NAME */
    int connect_timeout_ms;   /* per attempt */
    int timeout_ms;           /* per attempt, the whole exchange */
    int retries;              /* attempts after the first */
    double temperature;       /* of the energies computed when the answer lacks them */
    const elang_model *swift; /* whose labels and kind the answers must match */
    serve_metrics *metrics;
    void (*log)(void *ctx, const char *message); /* state changes: down, back */
    void *log_ctx;
} remote_opts;

elang_status remote_new(const remote_opts *opts, remote_super **out, elang_error *err);
void remote_free(remote_super *r);

/* An elang_answer_fn (ctx: the remote_super) for elang_router_new_remote.
 * A classifier's answer needs the output "logits" [n, labels]; "label",
 * "probs" and "energy" are taken when given and computed from the logits
 * when not. A generator's needs "text" [n]; "ids" with "num_ids",
 * "token_logprobs", "token_energies" (with "num_steps", else num_ids - 1
 * steps as an encoder-decoder's), "energy" and "score" are taken when given
 * (as `elang serve --model` gives them). */
elang_status remote_answer(void *ctx, const elang_text *in, const size_t *items, size_t n, elang_answer *out,
                           elang_error *err);

#endif
