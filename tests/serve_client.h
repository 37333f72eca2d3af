/* For the tests of `elang serve`: the server as a child process on a port
 * of its own choosing (loopback only), and an HTTP client on libcurl. */
#ifndef ELANG_TESTS_SERVE_CLIENT_H
#define ELANG_TESTS_SERVE_CLIENT_H

#include <curl/curl.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    int port;
    char log[600]; /* its stderr */
} served;

/* Starts `elang serve ARGS --port PORT` (PORT 0: a free one, read back from
 * its "listening on" line); fails the test if it does not listen within a
 * minute. The server dies with the test process. */
void serve_up(served *s, const char *args, int port);
/* Sends `sig` and waits (a minute at most) for the exit; returns the exit
 * status, or 128 + the signal that killed it. */
int serve_down(served *s, int sig);
/* The server's stderr so far (malloc'ed). */
char *serve_log(const served *s);

typedef struct {
    long status;      /* 0 when no answer came (connection refused or reset) */
    char *body;       /* malloc'ed, NUL-terminated */
    size_t len;
    char retry_after[16];
    char allow[32];   /* the Allow header of a 405 */
    char error[128];  /* why no answer came */
} http_result;

/* GET (body NULL) or POST `len` bytes of body to http://127.0.0.1:port/path
 * on the handle (reused: its connection is kept alive). */
void http_call(CURL *c, int port, const char *path, const char *body, size_t len, http_result *r);
void http_result_free(http_result *r);

/* A value of the Prometheus text served at /metrics: the sample whose name
 * and labels are exactly `series` (e.g. elang_degraded_total or
 * elang_inputs_total{answered_by="super"}); -1 when absent. */
double metric_value(const char *metrics_text, const char *series);

#endif
