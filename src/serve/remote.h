/* A Super served elsewhere, reached over the Open Inference Protocol
 * (KServe v2 REST: another `elang serve --model`, Triton, KServe) or over
 * OpenAI's completions API (openai_remote.h): the routed inputs of a batch
 * go out as one request, with connect and request timeouts and a bounded
 * retry. After a failure the remote side is
 * left alone for a backoff that doubles from 0.25 s to 4 s, during which
 * routed inputs keep Swift's answer at once (degraded); the first call that
 * succeeds again ends it, so routing resumes by itself. */
#ifndef ELANG_SERVE_REMOTE_H
#define ELANG_SERVE_REMOTE_H

#include <stdbool.h>

#include "elang.h"
#include "serve/metrics.h"

/* The library's elang_remote (elang.h), with the server's metrics. */
typedef struct elang_remote remote_super;

typedef struct {
    elang_remote_api api;
    /* v2: the model's path, http://HOST:PORT/v2/models/NAME; OpenAI: the
     * server's, http://HOST:PORT (or its /v1) */
    const char *url;
    /* OpenAI: the model asked for, and the decoding asked of it (the
     * router's max_new_tokens and stop strings, borrowed) */
    const char *model;
    int max_new_tokens;
    const char *const *stop;
    int num_stop;
    int connect_timeout_ms;   /* per attempt; 0 or less: 500 */
    int timeout_ms;           /* per attempt, the whole exchange; 0 or less: 5000 */
    int retries;              /* attempts after the first; below 0: none */
    double temperature;       /* of the energies computed when the answer lacks them */
    const elang_model *swift; /* whose labels and kind the answers must match */
    /* A generator's classes as words (borrowed): the answers are labels
     * among them, as `elang serve --model SUPER --label-words` gives them */
    const char *const *label_words;
    int num_label_words;
    serve_metrics *metrics;   /* NULL: the remote keeps its own, unread */
    void (*log)(void *ctx, const char *message); /* state changes: down, back */
    void *log_ctx;
} remote_opts;

/* elang_remote_new with the server's metrics and log; released with
 * elang_remote_free, answering through elang_remote_answer (elang.h).
 * Over OpenAI's API, a generator's answer is its text alone. Over v2, a
 * classifier's answer (or, given label words, a generator's) needs the
 * output "logits" [n, labels or words]; "label",
 * "probs" and "energy" are taken when given and computed from the logits
 * when not. A generator's needs "text" [n]; "ids" with "num_ids",
 * "token_logprobs", "token_energies" (with "num_steps", else num_ids - 1
 * steps as an encoder-decoder's), "energy" and "score" are taken when given
 * (as `elang serve --model` gives them). */
elang_status remote_new(const remote_opts *opts, remote_super **out, elang_error *err);

#endif
