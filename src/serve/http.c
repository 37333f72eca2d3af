#include "serve/http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/error.h"
#include "util/strbuf.h"
#include "util/unicode.h"

struct http_front {
    struct MHD_Daemon *daemon;
    size_t max_body;
    http_handler handler;
    void *ctx;
    serve_metrics *metrics;
    pthread_mutex_t lock;
    pthread_cond_t idle;           /* in_flight fell to 0 */
    long in_flight;                /* requests received and not done */
    unsigned long received, completed;
    bool draining;
};

/* One request in progress: the connection's state between calls. */
typedef struct {
    strbuf body;
    double start;
    serve_endpoint endpoint;
    bool too_large, counted;
} request_state;

void http_error(http_reply *reply, int status, const char *fmt, ...) {
    char msg[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* The message may quote the request's bytes (a path, a model name) or be
     * cut inside a character, and JSON strings must be UTF-8: ill-formed
     * bytes become U+FFFD, as a browser shows them. */
    strbuf text = {0};
    json_t *j = utf8_decode_replace((const unsigned char *)msg, strlen(msg), &text)
                    ? json_pack("{s:s}", "error", text.s ? text.s : "")
                    : NULL;
    free(text.s);
    free(reply->body);
    reply->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    reply->len = reply->body ? strlen(reply->body) : 0;
    reply->status = status;
    reply->content_type = NULL;
    json_decref(j);
}

void http_json(http_reply *reply, json_t *json, size_t flags) {
    free(reply->body);
    reply->body = json ? json_dumps(json, flags) : NULL;
    json_decref(json);
    if (!reply->body) {
        http_error(reply, 500, "out of memory for the answer");
        return;
    }
    reply->len = strlen(reply->body);
    reply->status = 200;
    reply->content_type = NULL;
}

static int hex_digit(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* libmicrohttpd's %-decoding of the path, except that %00 stays as it is:
 * decoded, it would end the C string early, and /healthz%00junk would
 * answer as /healthz. */
static size_t unescape_path(void *cls, struct MHD_Connection *conn, char *s) {
    (void)cls, (void)conn;
    char *w = s;
    for (const char *r = s; *r;) {
        const int hi = r[0] == '%' ? hex_digit(r[1]) : -1, lo = hi >= 0 ? hex_digit(r[2]) : -1;
        if (lo >= 0 && (hi | lo) != 0) {
            *w++ = (char)(hi * 16 + lo);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

bool http_client_gone(const http_request *req) {
    if (req->client_fd < 0) return false;
    struct pollfd p = {.fd = req->client_fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) <= 0) return false;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
    char byte;
    return (p.revents & POLLIN) && recv(req->client_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

static enum MHD_Result send_reply(http_front *f, struct MHD_Connection *conn, request_state *rs, http_reply *r) {
    if (!r->body) {
        /* The one way to lose an answer's body is memory; say so in the
         * smallest way that still is JSON. */
        static const char fallback[] = "{\"error\":\"out of memory\"}";
        r->status = r->status >= 400 ? r->status : 500;
        r->body = strdup(fallback);
        r->len = r->body ? strlen(r->body) : 0;
    }
    struct MHD_Response *resp = r->body ? MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE)
                                        : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(r->body);
        return MHD_NO;
    }
    r->body = NULL;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type ? r->content_type : "application/json");
    if (r->allow) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (r->retry_after > 0) {
        char secs[16];
        snprintf(secs, sizeof secs, "%d", r->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, secs);
    }
    pthread_mutex_lock(&f->lock);
    const bool draining = f->draining;
    pthread_mutex_unlock(&f->lock);
    if (draining) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    const enum MHD_Result ok = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    metrics_request(f->metrics, rs->endpoint, r->status, clock_seconds() - rs->start);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    (void)version;
    http_front *f = cls;
    request_state *rs = *con_cls;
    http_reply reply = {0};
    if (!rs) {
        if (!(rs = calloc(1, sizeof *rs))) return MHD_NO;
        *con_cls = rs;
        rs->start = clock_seconds();
        rs->endpoint = endpoint_of(url);
        pthread_mutex_lock(&f->lock);
        const bool draining = f->draining;
        if (!draining) {
            rs->counted = true;
            f->in_flight++;
            f->received++;
            atomic_fetch_add(&f->metrics->in_flight, 1);
        }
        pthread_mutex_unlock(&f->lock);
        if (draining) {
            http_error(&reply, 503, "the server is shutting down");
            return send_reply(f, conn, rs, &reply);
        }
        /* A declared length over the limit is refused before any of the
         * body is read; the connection is closed after the answer. */
        const char *length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length && strtoull(length, NULL, 10) > f->max_body) rs->too_large = true;
        if (rs->too_large) {
            http_error(&reply, 413, "the body has %s bytes; this server takes at most %zu (--max-body-mb)", length,
                       f->max_body);
            return send_reply(f, conn, rs, &reply);
        }
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (!rs->too_large && rs->body.len + *upload_size > f->max_body) {
            rs->too_large = true;
            strbuf_free(&rs->body);
        }
        if (!rs->too_large && !strbuf_append(&rs->body, upload, *upload_size)) {
            *upload_size = 0;
            return MHD_NO;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (rs->too_large) {
        http_error(&reply, 413, "the body has more than %zu bytes, the most this server takes (--max-body-mb)",
                   f->max_body);
    } else {
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        const http_request req = {method, url, rs->body.s ? rs->body.s : "", rs->body.len,
                                  info ? info->connect_fd : -1};
        f->handler(f->ctx, &req, &reply);
    }
    return send_reply(f, conn, rs, &reply);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
    (void)conn;
    http_front *f = cls;
    request_state *rs = *con_cls;
    if (!rs) return;
    if (rs->counted) {
        pthread_mutex_lock(&f->lock);
        if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) f->completed++;
        if (--f->in_flight == 0) pthread_cond_broadcast(&f->idle);
        pthread_mutex_unlock(&f->lock);
        atomic_fetch_sub(&f->metrics->in_flight, 1);
    }
    strbuf_free(&rs->body);
    free(rs);
    *con_cls = NULL;
}

/* The listening socket, made here so that a port of 0 can be told and a
 * failure named. */
static int listen_on(const char *host, int port, int *bound, elang_error *err) {
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
    const int gai = getaddrinfo(host, service, &hints, &ai);
    if (gai != 0) {
        elang_fail(err, ELANG_ERR_INVALID_ARG, "cannot listen on %s: %s", host, gai_strerror(gai));
        return -1;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    const int one = 1;
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 512) != 0) {
        elang_fail(err, ELANG_ERR_IO, "cannot listen on %s:%d: %s", host, port, strerror(errno));
        if (fd >= 0) close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &len);
    *bound = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
                                             : ((struct sockaddr_in *)&sa)->sin_port);
    return fd;
}

elang_status http_start(const char *host, int port, size_t max_body, http_handler handler, void *ctx,
                        serve_metrics *metrics, http_front **out, int *bound_port, elang_error *err) {
    *out = NULL;
    http_front *f = calloc(1, sizeof *f);
    if (!f) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for the HTTP server");
    f->max_body = max_body, f->handler = handler, f->ctx = ctx, f->metrics = metrics;
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->idle, NULL);
    const int fd = listen_on(host, port, bound_port, err);
    if (fd < 0) {
        free(f);
        return err ? err->code : ELANG_ERR_IO;
    }
    f->daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                                     MHD_USE_ITC,
                                 0, NULL, NULL, on_request, f, MHD_OPTION_LISTEN_SOCKET, fd,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, f,
                                 MHD_OPTION_UNESCAPE_CALLBACK, unescape_path, NULL,
                                 /* an idle keep-alive connection, or a client that stalls, is closed after this */
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_CONNECTION_LIMIT,
                                 (unsigned)4096, MHD_OPTION_END);
    if (!f->daemon) {
        close(fd);
        free(f);
        return elang_fail(err, ELANG_ERR_IO, "cannot start the HTTP server on %s:%d", host, *bound_port);
    }
    *out = f;
    return ELANG_OK;
}

void http_drain_and_stop(http_front *f, unsigned long *received, unsigned long *completed) {
    pthread_mutex_lock(&f->lock);
    f->draining = true;
    pthread_mutex_unlock(&f->lock);
    const MHD_socket fd = MHD_quiesce_daemon(f->daemon);
    if (fd != MHD_INVALID_SOCKET) close(fd);
    pthread_mutex_lock(&f->lock);
    while (f->in_flight > 0) pthread_cond_wait(&f->idle, &f->lock);
    pthread_mutex_unlock(&f->lock);
    MHD_stop_daemon(f->daemon);
    if (received) *received = f->received;
    if (completed) *completed = f->completed;
    pthread_cond_destroy(&f->idle);
    pthread_mutex_destroy(&f->lock);
    free(f);
}
