/* `elang serve`: the models behind HTTP. One worker thread owns the models
 * (a model is used by one thread at a time) and runs batches gathered from
 * concurrent requests; the HTTP threads parse, queue, wait and answer.
 *
 * Endpoints: POST /v1/route, /v1/classify, /v1/generate (the CLI's fields
 * per input); OpenAI's POST /v1/completions and GET /v1/models (for the
 * targets that generate text); the Open Inference Protocol's GET /v2, /v2/health/live,
 * /v2/health/ready, /v2/models/{name}[/ready] and POST
 * /v2/models/{name}/infer, {name} being "elang" for the router and each
 * model's directory name (or "swift", "super"); GET /healthz and /metrics. */
#ifndef ELANG_SERVE_SERVER_H
#define ELANG_SERVE_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "elang.h"
#include "serve/remote.h"

typedef struct {
    const char *host;
    int port;                 /* 0: any free port (serve_port says which) */
    int max_batch;            /* inputs per batch the models run */
    int max_delay_ms;         /* the longest an input waits for a batch to fill */
    int max_queue;            /* inputs waiting, beyond which requests get 503; also the most per request */
    int timeout_ms;           /* a request unanswered by then gets 504 */
    size_t max_body;          /* bytes */
    size_t max_text_chars;    /* characters in one text (or text_pair) at most */
    /* Swift and Super (models[1] NULL when Super is remote), or the one
     * model of a plain model server; borrowed, outliving the server. */
    elang_model *models[2];
    bool route;               /* route from models[0] to Super at `threshold` */
    double threshold;
    elang_route_opts opts;    /* routing; its temperature, batch size and gen settings also serve classify/generate */
    elang_remote_opts super; /* a remote Super (.url NULL: Super is models[1]) */
    void (*log)(void *ctx, const char *message); /* what is worth an operator's eye; NULL for none */
    void *log_ctx;
} serve_config;

typedef struct serve_server serve_server;

/* Starts listening and serving; on failure nothing is left running. */
elang_status serve_start(const serve_config *cfg, serve_server **out, elang_error *err);
int serve_port(const serve_server *s);

/* Stops accepting, answers every request received, stops the worker and
 * frees the server. *received and *answered (when not NULL) get the counts
 * of requests received and answered in full. */
void serve_stop(serve_server *s, unsigned long *received, unsigned long *answered);

#endif
