#include "serve/server.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "route/answer_json.h"
#include "serve/batcher.h"
#include "serve/engine.h"
#include "serve/http.h"
#include "serve/metrics.h"
#include "serve/openai.h"
#include "serve/remote.h"
#include "serve/request.h"
#include "serve/v2.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/unicode.h"

#define MAX_TARGETS 5

struct serve_server {
    serve_config cfg;
    serve_metrics metrics;
    engine engine;
    batcher batcher;
    remote_super *remote;
    elang_router *router;
    http_front *http;
    int port;
    serve_target targets[MAX_TARGETS]; /* the router, each model by its name, then "swift" and "super" */
    int num_targets;
    char *names[2];
    long started;                    /* time(): the "created" of /v1/models */
    _Atomic unsigned long completions; /* numbers the completions' ids */
};

/* A request's inputs on their way through the batcher; freed by whoever
 * lets go of the job last (batcher_drop, or the worker after a timeout). */
typedef struct {
    serve_job job; /* first: the batcher hands back &job */
    parsed_request req;
    task_result *results;
} pending;

static void pending_release(serve_job *job) {
    pending *p = (pending *)job;
    for (size_t i = 0; p->results && i < job->n; i++) task_result_free(job->key.kind, &p->results[i]);
    free(p->results);
    parsed_request_free(&p->req);
    serve_job_destroy(job);
    free(p);
}

static const serve_target *find_target(const serve_server *s, const char *name) {
    for (int i = 0; name && i < s->num_targets; i++)
        if (strcmp(s->targets[i].name, name) == 0) return &s->targets[i];
    return NULL;
}

/* The first model target: Swift, or the one model. */
static const serve_target *default_model(const serve_server *s) {
    return &s->targets[s->router ? 1 : 0];
}

static json_t *v1_outputs(const serve_target *t, const pending *p) {
    json_t *outputs = json_array();
    const int labels = t->num_label_words ? t->num_label_words : elang_model_num_labels(t->model);
    for (size_t i = 0; i < p->req.n; i++) {
        const task_result *r = &p->results[i];
        json_t *id = p->req.ids[i];
        json_array_append_new(outputs, t->key.kind == TASK_ROUTE      ? route_out_json(id, &r->route, 2, labels, false)
                                       : t->key.kind == TASK_CLASSIFY ? class_out_json(t->model, t->label_words, t->num_label_words, id, &r->cls, false)
                                                                      : gen_out_json(id, &r->gen, false));
    }
    return json_pack("{s:o}", "outputs", outputs);
}

static int max_new_tokens_of(const elang_gen_opts *g) {
    return g->max_new_tokens > 0 ? g->max_new_tokens : elang_gen_opts_default().max_new_tokens;
}

static json_t *completion_response(serve_server *s, const serve_target *t, const pending *p) {
    const elang_gen_opts *g = &s->cfg.opts.gen;
    char id[48];
    snprintf(id, sizeof id, "cmpl-elang-%lu", atomic_fetch_add(&s->completions, 1) + 1);
    const bool own = p->job.key.num_stop > 0;
    const openai_completion_info info = {
        .id = id, .created = (long)time(NULL),
        .max_new_tokens = p->job.key.max_new_tokens ? p->job.key.max_new_tokens : max_new_tokens_of(g),
        .stop = own ? p->job.key.stop : g->stop, .num_stop = own ? p->job.key.num_stop : g->num_stop};
    return openai_completion(t, p->results, p->req.n, &info);
}

/* Waits for the job's answers until the deadline, looking every tenth of a
 * second whether the client has gone: its queued inputs are then taken out
 * of the queue, so that a client that sends much and hangs up cannot keep
 * the models busy for nobody. */
static int await_answers(serve_server *s, const http_request *http, serve_job *job, double deadline) {
    for (;;) {
        const double until = fmin(deadline, clock_seconds() + 0.1);
        if (batcher_wait(&s->batcher, job, until)) return 0;
        if (until >= deadline) return 504;
        if (http_client_gone(http)) return 499;
    }
}

/* 0, or the index + 1 of the first input whose text or text_pair has more
 * than max characters once decomposed (*chars of them). */
static size_t first_too_long(const parsed_request *req, size_t max, size_t *chars) {
    for (size_t i = 0; i < req->n; i++) {
        const char *texts[2] = {req->texts[i].text, req->texts[i].text_pair};
        for (int k = 0; k < 2; k++)
            if (texts[k] && (*chars = utf8_nfkd_length(texts[k])) > max) return i + 1;
    }
    return 0;
}

/* Queues the parsed inputs for the target, waits for the answers within
 * the timeout and writes the reply in the request's layout. */
static void answer(serve_server *s, const http_request *http, const serve_target *t, parsed_request *req,
                   request_layout layout, double t0, http_reply *reply) {
    size_t too_long, chars = 0;
    if (req->n > (size_t)s->cfg.max_queue) {
        http_error(reply, 422, "the request has %zu inputs; this server takes at most %d per request (--max-queue)",
                   req->n, s->cfg.max_queue);
        parsed_request_free(req);
        return;
    }
    /* Tokenizing takes time linear in a text's length, but for
     * libsentencepiece, which joins a run of characters its vocabulary lacks
     * in time quadratic in the run's normalized length: bound what one text
     * can cost by the most normalization can make of it. */
    if ((too_long = first_too_long(req, s->cfg.max_text_chars, &chars))) {
        http_error(reply, 413,
                   "input %zu has a text of %zu characters (decomposed, NFKD); this server takes at most %zu "
                   "(--max-text-chars)",
                   too_long - 1, chars, s->cfg.max_text_chars);
        parsed_request_free(req);
        return;
    }
    pending *p = calloc(1, sizeof *p);
    task_result *results = p ? calloc(req->n, sizeof *results) : NULL;
    if (!results) {
        http_error(reply, 500, "out of memory for a request of %zu inputs", req->n);
        free(p);
        parsed_request_free(req);
        return;
    }
    p->req = *req, p->results = results;
    memset(req, 0, sizeof *req);
    /* A generator decodes as the request asks (its stop strings live in
     * the request, which the job keeps); a router as it was started. */
    task_key key = t->key;
    if (key.kind == TASK_GENERATE) {
        key.max_new_tokens = p->req.max_tokens == max_new_tokens_of(&s->cfg.opts.gen) ? 0 : p->req.max_tokens;
        key.stop = p->req.stop, key.num_stop = p->req.num_stop;
    }
    if (!serve_job_init(&p->job, key, p->req.texts, p->req.n, results, pending_release)) {
        http_error(reply, 500, "out of memory for a request of %zu inputs", p->req.n);
        free(results);
        parsed_request_free(&p->req);
        free(p);
        return;
    }
    if (batcher_submit(&s->batcher, &p->job) != 0) {
        http_error(reply, 503, "the queue is full (%d inputs, --max-queue) or the server is stopping; try again",
                   s->cfg.max_queue);
        reply->retry_after = 1;
        pending_release(&p->job);
        return;
    }
    const int waited = await_answers(s, http, &p->job, t0 + s->cfg.timeout_ms * 1e-3);
    if (waited == 504)
        http_error(reply, 504, "no answer within %d ms (--timeout-ms)", s->cfg.timeout_ms);
    else if (waited == 499) /* nginx's status for it; nobody reads the answer, the metrics count it */
        http_error(reply, 499, "the client closed the connection before its answer");
    else if (p->job.status)
        http_error(reply, p->job.status, "%s", p->job.why);
    else if (layout == LAYOUT_V1)
        http_json(reply, v1_outputs(t, p), ANSWER_JSON_FLAGS);
    else if (layout == LAYOUT_V2)
        http_json(reply, v2_infer_response(t, p->results, p->req.n, p->req.output_order, p->req.num_outputs,
                                              p->req.request_id), V2_JSON_FLAGS);
    else
        http_json(reply, completion_response(s, t, p), ANSWER_JSON_FLAGS);
    if (batcher_drop(&s->batcher, &p->job)) pending_release(&p->job);
}

/* HEAD is GET without the body (libmicrohttpd leaves the body out). */
static bool method_is(const http_request *req, const char *want, http_reply *reply) {
    if (strcmp(req->method, want) == 0 || (strcmp(want, "GET") == 0 && strcmp(req->method, "HEAD") == 0)) return true;
    http_error(reply, 405, "%s takes %s, not %s", req->path, want, req->method);
    reply->allow = strcmp(want, "GET") == 0 ? "GET, HEAD" : want;
    return false;
}

/* Refuses (400) a request holding a pair the target cannot take, saying
 * what would let it; false when there is none. The parser lets pairs
 * through to every endpoint that may classify: which model answers is
 * known once the request is read. */
static bool refuses_pairs(const serve_target *t, const parsed_request *pr, http_reply *reply) {
    if (target_takes_pairs(t)) return false;
    for (size_t i = 0; i < pr->n; i++) {
        if (!pr->texts[i].text_pair) continue;
        if (target_classifies(t))
            http_error(reply, 400, "input %zu: model \"%s\" reads one text per input, not a pair: serve it with "
                       "--pair-infix (T5 on GLUE: \" sentence2: \") to join the two", i, t->name);
        else
            http_error(reply, 400, "input %zu: field \"text_pair\" is not used by model \"%s\" (a text generator)", i,
                       t->name);
        return true;
    }
    return false;
}

static void v1(serve_server *s, const http_request *req, serve_endpoint ep, double t0, http_reply *reply) {
    if (!method_is(req, "POST", reply)) return;
    const serve_target *t = ep == EP_ROUTE ? find_target(s, "elang") : default_model(s);
    if (!t) {
        http_error(reply, 404, "this server serves one model and routes nothing; use /v1/classify or /v1/generate");
        return;
    }
    parsed_request pr;
    char why[600];
    const int st = request_parse(req->body, req->len, LAYOUT_V1, ep != EP_GENERATE, 0, &pr, why, sizeof why);
    if (st) {
        http_error(reply, st, "%s", st == 500 ? "out of memory parsing the request" : why);
        return;
    }
    if (ep != EP_ROUTE && pr.model) t = find_target(s, pr.model);
    if (ep == EP_ROUTE && pr.model && strcmp(pr.model, t->name) != 0)
        /* Only the router routes: a request naming another model expects
         * something this endpoint would not do. */
        http_error(reply, 404, "/v1/route routes with model \"%s\", not \"%s\" (use /v1/classify or /v1/generate "
                   "for one model)", t->name, pr.model);
    else if (ep != EP_ROUTE && !t)
        http_error(reply, 404, "no model \"%s\" here", pr.model);
    else if (ep != EP_ROUTE && t->key.kind == TASK_ROUTE)
        http_error(reply, 400, "model \"%s\" is the router; use /v1/route (or name \"swift\" or \"super\" here)",
                   t->name);
    else if (ep == EP_CLASSIFY && t->key.kind != TASK_CLASSIFY)
        http_error(reply, 400, "model \"%s\" generates text; use /v1/generate", t->name);
    else if (ep == EP_GENERATE && t->key.kind != TASK_GENERATE)
        http_error(reply, 400, "model \"%s\" classifies; use /v1/classify", t->name);
    else
        refuses_pairs(t, &pr, reply);
    if (reply->status) {
        parsed_request_free(&pr);
        return;
    }
    answer(s, req, t, &pr, LAYOUT_V1, t0, reply);
}

/* Whether the request's decoding can be had from the target. A model
 * decodes each request as it asks; the router as it was started, since its
 * threshold holds for that decoding alone: a request may restate it, not
 * change it. */
static bool decoding_allowed(const serve_server *s, const serve_target *t, const parsed_request *r,
                             http_reply *reply) {
    const elang_gen_opts *g = &s->cfg.opts.gen;
    if (t->key.kind == TASK_ROUTE) {
        bool same_stop = r->num_stop == 0 || r->num_stop == g->num_stop;
        for (int i = 0; same_stop && i < r->num_stop; i++) same_stop = strcmp(r->stop[i], g->stop[i]) == 0;
        if (r->max_tokens && r->max_tokens != max_new_tokens_of(g))
            http_error(reply, 400, "model \"%s\" routes with the decoding it was started with, which its threshold "
                       "holds for: max_tokens must be %d (--max-new-tokens) or left out", t->name, max_new_tokens_of(g));
        else if (!same_stop)
            http_error(reply, 400, "model \"%s\" routes with the decoding it was started with, which its threshold "
                       "holds for: \"stop\" must be %s%s%s or left out", t->name, g->num_stop ? "\"" : "",
                       g->num_stop ? g->stop[0] : "none", g->num_stop ? "\" (--stop)" : " (no --stop)");
        return !reply->status;
    }
    const int most = elang_model_max_new_tokens(t->model);
    if (r->num_stop && g->num_beams > 1)
        http_error(reply, 400, "stop strings need greedy decoding; this server decodes with %d beams (--num-beams)",
                   g->num_beams);
    else if (most > 0 && r->max_tokens > most)
        http_error(reply, 400, "max_tokens %d exceeds what model \"%s\" can generate: %d tokens", r->max_tokens, t->name,
                   most);
    return !reply->status;
}

/* POST /v1/completions: OpenAI's completions for the router or a
 * generator, named by "model" (by default the router, or the one model). */
static void completions(serve_server *s, const http_request *req, double t0, http_reply *reply) {
    if (!method_is(req, "POST", reply)) return;
    parsed_request pr;
    char why[600];
    const int st = request_parse(req->body, req->len, LAYOUT_OPENAI, false, 0, &pr, why, sizeof why);
    if (st) {
        http_error(reply, st, "%s", st == 500 ? "out of memory parsing the request" : why);
        return;
    }
    const serve_target *t = pr.model ? find_target(s, pr.model) : &s->targets[0];
    if (!t)
        http_error(reply, 404, "no model \"%s\" here (GET /v1/models lists them)", pr.model);
    else if (!openai_completes(t))
        http_error(reply, 400, "model \"%s\" answers labels, not text; /v1/completions is for text generators (use "
                   "%s)", t->name, t->key.kind == TASK_ROUTE ? "/v1/route" : "/v1/classify");
    else if (decoding_allowed(s, t, &pr, reply)) {
        answer(s, req, t, &pr, LAYOUT_OPENAI, t0, reply); /* takes pr */
        return;
    }
    parsed_request_free(&pr);
}

/* /v2/models/{name}[/ready|/infer]. */
static void v2_model(serve_server *s, const http_request *req, double t0, http_reply *reply) {
    const char *name = req->path + strlen("/v2/models/"), *slash = strchr(name, '/');
    char buf[256];
    snprintf(buf, sizeof buf, "%.*s", (int)(slash ? (size_t)(slash - name) : strlen(name)), name);
    const serve_target *t = find_target(s, buf);
    if (!t) {
        http_error(reply, 404, "no model \"%s\" here", buf);
        return;
    }
    const char *rest = slash ? slash : "";
    /* The metadata lists one version, "1"; the protocol's versioned paths name it. */
    if (strncmp(rest, "/versions/", 10) == 0) {
        const size_t len = strcspn(rest + 10, "/");
        if (len != 1 || rest[10] != '1') {
            http_error(reply, 404, "model \"%s\" has one version, \"1\"", t->name);
            return;
        }
        rest += 11;
    }
    if (!*rest) {
        if (method_is(req, "GET", reply)) http_json(reply, v2_model_metadata(t), V2_JSON_FLAGS);
    } else if (strcmp(rest, "/ready") == 0) {
        if (method_is(req, "GET", reply)) http_json(reply, json_pack("{s:s, s:b}", "name", t->name, "ready", 1), V2_JSON_FLAGS);
    } else if (strcmp(rest, "/infer") == 0) {
        if (!method_is(req, "POST", reply)) return;
        parsed_request pr;
        char why[600];
        const int st = request_parse(req->body, req->len, LAYOUT_V2, t->key.kind != TASK_GENERATE, v2_outputs(t), &pr,
                                     why, sizeof why);
        if (st) http_error(reply, st, "%s", st == 500 ? "out of memory parsing the request" : why);
        else if (refuses_pairs(t, &pr, reply)) parsed_request_free(&pr);
        else answer(s, req, t, &pr, LAYOUT_V2, t0, reply);
    } else {
        http_error(reply, 404, "no such endpoint: %s", req->path);
    }
}

static void handle(void *ctx, const http_request *req, http_reply *reply) {
    serve_server *s = ctx;
    const double t0 = clock_seconds();
    const char *p = req->path;
    const serve_endpoint ep = endpoint_of(p);
    if (ep == EP_ROUTE || ep == EP_CLASSIFY || ep == EP_GENERATE) {
        v1(s, req, ep, t0, reply);
    } else if (ep == EP_COMPLETIONS) {
        completions(s, req, t0, reply);
    } else if (ep == EP_MODELS) {
        if (method_is(req, "GET", reply))
            http_json(reply, openai_models(s->targets, s->num_targets, s->started), JSON_COMPACT);
    } else if (strncmp(p, "/v2/models/", 11) == 0) {
        v2_model(s, req, t0, reply);
    } else if (strcmp(p, "/healthz") == 0) {
        if (method_is(req, "GET", reply)) http_json(reply, json_pack("{s:s}", "status", "ok"), JSON_COMPACT);
    } else if (strcmp(p, "/v2/health/live") == 0) {
        if (method_is(req, "GET", reply)) http_json(reply, json_pack("{s:b}", "live", 1), JSON_COMPACT);
    } else if (strcmp(p, "/v2/health/ready") == 0) {
        if (method_is(req, "GET", reply)) http_json(reply, json_pack("{s:b}", "ready", 1), JSON_COMPACT);
    } else if (strcmp(p, "/v2") == 0) {
        if (method_is(req, "GET", reply))
            http_json(reply, json_pack("{s:s, s:s, s:[]}", "name", "elang", "version", elang_version(), "extensions"),
                      JSON_COMPACT);
    } else if (strcmp(p, "/metrics") == 0) {
        if (!method_is(req, "GET", reply)) return;
        strbuf text = {0};
        if (!metrics_render(&s->metrics, &text)) {
            strbuf_free(&text);
            http_error(reply, 500, "out of memory for the metrics");
            return;
        }
        reply->status = 200;
        reply->body = text.s;
        reply->len = text.len;
        reply->content_type = "text/plain; version=0.0.4; charset=utf-8";
    } else {
        http_error(reply, 404, "no such endpoint: %s", p);
    }
}

/* The directory's last component: what v2 calls the model. */
static char *model_name(const elang_model *m) {
    const char *dir = elang_model_dir(m);
    size_t end = strlen(dir);
    while (end > 1 && dir[end - 1] == '/') end--;
    size_t start = end;
    while (start > 0 && dir[start - 1] != '/') start--;
    return strndup(dir + start, end - start);
}

static void add_target(serve_server *s, const char *name, task_key key, const elang_model *m) {
    const bool words = s->cfg.opts.num_label_words > 0;
    s->targets[s->num_targets++] =
        (serve_target){.name = name, .key = key, .model = m, .label_words = words ? s->cfg.opts.label_words : NULL,
                       .num_label_words = words ? s->cfg.opts.num_label_words : 0};
}

/* A model's own requests: it classifies (a generator by the server's label
 * words) or generates, with the server's decoding unless a request asks
 * for its own. */
static task_key model_key(const serve_server *s, const elang_model *m, int k) {
    const bool generates = elang_model_is_generator(m) && s->cfg.opts.num_label_words == 0;
    return (task_key){.kind = generates ? TASK_GENERATE : TASK_CLASSIFY, .model = k};
}

static elang_status make_targets(serve_server *s, elang_error *err) {
    if (s->router) add_target(s, "elang", (task_key){.kind = TASK_ROUTE}, s->cfg.models[0]);
    for (int k = 0; k < 2; k++) {
        const elang_model *m = s->cfg.models[k];
        if (!m) continue;
        if (!(s->names[k] = model_name(m))) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
        add_target(s, s->names[k], model_key(s, m, k), m);
    }
    for (int k = 0; s->router && k < 2; k++)
        if (s->cfg.models[k]) add_target(s, k ? "super" : "swift", model_key(s, s->cfg.models[k], k), s->cfg.models[k]);
    return ELANG_OK;
}

static elang_status make_router(serve_server *s, elang_error *err) {
    const serve_config *c = &s->cfg;
    if (!c->route) return ELANG_OK;
    if (!c->super.url) return elang_router_new(s->cfg.models, 2, &c->threshold, &c->opts, &s->router, err);
    const remote_opts ro = {.api = c->super.api, .url = c->super.url, .model = c->super.model,
                            .max_new_tokens = max_new_tokens_of(&c->opts.gen), .stop = c->opts.gen.stop,
                            .num_stop = c->opts.gen.num_stop, .connect_timeout_ms = c->super.connect_timeout_ms,
                            .timeout_ms = c->super.timeout_ms, .retries = c->super.retries,
                            .temperature = c->opts.temperature > 0 ? c->opts.temperature : 1.0,
                            .swift = c->models[0], .label_words = c->opts.label_words,
                            .num_label_words = c->opts.num_label_words, .metrics = &s->metrics, .log = c->log,
                            .log_ctx = c->log_ctx};
    elang_status st = remote_new(&ro, &s->remote, err);
    if (st == ELANG_OK)
        st = elang_router_new_remote(s->cfg.models, 1, &c->threshold, elang_remote_answer, s->remote, &c->opts, &s->router, err);
    return st;
}

static void teardown(serve_server *s) {
    batcher_stop(&s->batcher);
    engine_release(&s->engine);
    elang_router_free(s->router);
    elang_remote_free(s->remote);
    free(s->names[0]), free(s->names[1]);
    free(s);
}

elang_status serve_start(const serve_config *cfg, serve_server **out, elang_error *err) {
    *out = NULL;
    if (!cfg->models[0] || cfg->max_batch < 1 || cfg->max_queue < 1 || cfg->max_delay_ms < 0 || cfg->timeout_ms < 1)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "a server needs a model, and batch, queue and timeout limits");
    if (cfg->route && !cfg->models[1] == !cfg->super.url)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "a router needs Super: a model or a URL");
    serve_server *s = calloc(1, sizeof *s);
    if (!s) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for the server");
    s->cfg = *cfg;
    s->started = (long)time(NULL);
    elang_status st = make_router(s, err);
    if (st == ELANG_OK) st = make_targets(s, err);
    engine *e = &s->engine;
    e->models[0] = cfg->models[0], e->models[1] = cfg->models[1];
    e->router = s->router;
    e->metrics = &s->metrics;
    e->classify = (elang_classify_opts){.batch_size = cfg->opts.batch_size, .temperature = cfg->opts.temperature,
                                        .label_words = cfg->opts.label_words,
                                        .num_label_words = cfg->opts.num_label_words};
    e->gen = cfg->opts.gen;
    e->gen.temperature = cfg->opts.temperature;
    if (st == ELANG_OK) st = engine_reserve(e, (size_t)cfg->max_batch, err);
    if (st == ELANG_OK)
        st = batcher_start(&s->batcher, e, &s->metrics, (size_t)cfg->max_batch, (size_t)cfg->max_queue,
                           cfg->max_delay_ms * 1e-3, err);
    if (st == ELANG_OK)
        st = http_start(cfg->host, cfg->port, cfg->max_body, handle, s, &s->metrics, &s->http, &s->port, err);
    if (st != ELANG_OK) {
        teardown(s);
        return st;
    }
    *out = s;
    return ELANG_OK;
}

int serve_port(const serve_server *s) { return s->port; }

void serve_stop(serve_server *s, unsigned long *received, unsigned long *answered) {
    http_drain_and_stop(s->http, received, answered);
    teardown(s);
}
