/* The HTTP front, on libmicrohttpd: a thread per connection (the handler
 * may wait for the models without holding up other connections), request
 * bodies gathered up to a limit (413 beyond it, before reading the rest),
 * every answer counted in the metrics, and a drain for shutdown: stop
 * accepting, answer what was received, then close. */
#ifndef ELANG_SERVE_HTTP_H
#define ELANG_SERVE_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "elang.h"
#include "serve/metrics.h"

typedef struct {
    const char *method, *path;
    const char *body; /* NUL-terminated; len bytes */
    size_t len;
    int client_fd;    /* the connection's socket, for http_client_gone; -1 when unknown */
} http_request;

/* Whether the client has closed its end of the connection (or it broke);
 * data it sent after the request (a pipelined one) does not count. */
bool http_client_gone(const http_request *req);

typedef struct {
    int status;
    char *body;          /* malloc'ed JSON or text, taken by the front; NULL sends an error for the status */
    size_t len;
    const char *content_type; /* NULL: application/json */
    int retry_after;     /* seconds for a Retry-After header; 0 for none */
    const char *allow;   /* a 405's Allow header (the methods the path takes); NULL for none */
} http_reply;

/* Answers one request; runs on the connection's thread, many at once. */
typedef void (*http_handler)(void *ctx, const http_request *req, http_reply *reply);

/* reply = {"error": message} with the status. */
void http_error(http_reply *reply, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* reply = json dumped with jansson `flags`, status 200; consumes json. */
void http_json(http_reply *reply, json_t *json, size_t flags);

typedef struct http_front http_front;

/* Listens on host:port (0: any free port, *bound_port says which). */
elang_status http_start(const char *host, int port, size_t max_body, http_handler handler, void *ctx,
                        serve_metrics *metrics, http_front **out, int *bound_port, elang_error *err);
/* Stops accepting connections (requests that arrive after this on open
 * connections get 503), waits until every request received before is
 * answered, closes everything and frees the front. *received and *completed
 * (when not NULL) get the requests received before the drain, and those
 * whose answer was sent in full. */
void http_drain_and_stop(http_front *f, unsigned long *received, unsigned long *completed);

#endif
