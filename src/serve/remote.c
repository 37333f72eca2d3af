#include "serve/remote.h"

#include <curl/curl.h>
#include <jansson.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve/openai_remote.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/strbuf.h"

#define BACKOFF_FIRST 0.25
#define BACKOFF_MAX 4.0
/* A Super's answer is a few numbers or a short text per input; a server
 * gone wrong that streams without end must not take the memory with it. */
#define ANSWER_MAX_BYTES ((size_t)64 << 20)

struct elang_remote {
    remote_opts opts;
    serve_metrics own_metrics;  /* counted when the caller keeps none */
    char *url, *model;
    char *endpoint;             /* what is posted to: the v2 infer URL, or the completions URL */
    CURL *curl;                 /* one handle: its connection is kept alive between batches */
    struct curl_slist *headers;
    strbuf reply;               /* reused: a batch allocates only its request body */
    bool reply_too_large;       /* the last answer passed ANSWER_MAX_BYTES and was cut off */
    char curl_error[CURL_ERROR_SIZE];
    double down_until, backoff; /* clock_seconds(); 0 while up */
    bool down;
};

static void say(remote_super *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(remote_super *r, const char *fmt, ...) {
    if (!r->opts.log) return;
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->opts.log(r->opts.log_ctx, msg);
}

static size_t on_data(char *data, size_t size, size_t count, void *ctx) {
    remote_super *r = ctx;
    const size_t n = size * count;
    if (n > ANSWER_MAX_BYTES - r->reply.len) {
        r->reply_too_large = true;
        return 0; /* libcurl stops the transfer */
    }
    return strbuf_append(&r->reply, data, n) ? n : 0;
}

/* The v2 infer URL of a model's URL, checked. */
static elang_status v2_infer_url(const char *u, char **out, elang_error *err) {
    const char *path = strstr(u, "/v2/models/");
    if ((strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) || !path || !path[11] ||
        strchr(path + 11, '/'))
        return elang_fail(err, ELANG_ERR_INVALID_ARG,
                          "a remote Super is given by its model's URL, http://HOST:PORT/v2/models/NAME; got '%s'", u);
    const size_t size = strlen(u) + sizeof "/infer";
    if (!(*out = malloc(size))) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for the remote Super");
    snprintf(*out, size, "%s/infer", u);
    return ELANG_OK;
}

/* What libcurl would refuse only at the first request, after Swift had run
 * (a port beyond 65535, a malformed host), said when the Super is opened. */
static elang_status check_endpoint(const char *given, const char *endpoint, elang_error *err) {
    CURLU *u = curl_url();
    if (!u) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for the remote Super");
    const CURLUcode rc = curl_url_set(u, CURLUPART_URL, endpoint, 0);
    curl_url_cleanup(u);
    if (rc != CURLUE_OK)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "remote Super URL '%s': %s", given, curl_url_strerror(rc));
    return ELANG_OK;
}

/* What an OpenAI server can stand in for: a generator, by model name. */
static elang_status check_openai(const remote_opts *o, elang_error *err) {
    if (!elang_model_is_generator(o->swift))
        return elang_fail(err, ELANG_ERR_INVALID_ARG,
                          "an OpenAI completions API answers text, and Swift (%s) is a %s classifier: a classifier's "
                          "Super must answer logits (KServe v2)", elang_model_dir(o->swift), elang_model_type(o->swift));
    if (o->num_label_words > 0)
        return elang_fail(err, ELANG_ERR_INVALID_ARG,
                          "an OpenAI completions API answers text, not label words: a Super classifying by label words "
                          "must answer their logits (KServe v2, e.g. elang serve --model DIR --label-words ...)");
    if (!o->model || !o->model[0])
        return elang_fail(err, ELANG_ERR_INVALID_ARG,
                          "a Super behind an OpenAI-compatible API needs the name of its model (--super-model NAME)");
    return ELANG_OK;
}

elang_status remote_new(const remote_opts *opts, remote_super **out, elang_error *err) {
    *out = NULL;
    const bool openai = opts->api == ELANG_REMOTE_OPENAI;
    char *endpoint = NULL;
    elang_status st = openai ? check_openai(opts, err) : ELANG_OK;
    if (st == ELANG_OK)
        st = openai ? openai_completions_url(opts->url, &endpoint, err) : v2_infer_url(opts->url, &endpoint, err);
    if (st == ELANG_OK && (st = check_endpoint(opts->url, endpoint, err)) != ELANG_OK) free(endpoint);
    if (st != ELANG_OK) return st;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        free(endpoint);
        return elang_fail(err, ELANG_ERR_IO, "libcurl failed to initialize");
    }
    remote_super *r = calloc(1, sizeof *r);
    if (!r) {
        free(endpoint);
        curl_global_cleanup();
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for the remote Super");
    }
    r->opts = *opts;
    /* elang_remote_opts' zeros mean the defaults, as the public header says;
     * applied here so that every way of making a remote Super gets them. */
    if (r->opts.connect_timeout_ms <= 0) r->opts.connect_timeout_ms = 500;
    if (r->opts.timeout_ms <= 0) r->opts.timeout_ms = 5000;
    if (r->opts.retries < 0) r->opts.retries = 0;
    if (!r->opts.metrics) r->opts.metrics = &r->own_metrics;
    r->endpoint = endpoint;
    r->url = strdup(opts->url);
    r->model = opts->model ? strdup(opts->model) : NULL;
    r->opts.url = r->url, r->opts.model = r->model;
    r->curl = curl_easy_init();
    /* "Expect: 100-continue" would cost a round trip per batch. */
    r->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (r->headers) r->headers = curl_slist_append(r->headers, "Expect:");
    if (!r->url || (opts->model && !r->model) || !r->curl || !r->headers) {
        elang_remote_free(r);
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for the remote Super");
    }
    CURL *c = r->curl;
    curl_easy_setopt(c, CURLOPT_URL, r->endpoint);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* timeouts without SIGALRM: the server has threads */
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)opts->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)opts->timeout_ms);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->curl_error);
    *out = r;
    return ELANG_OK;
}

void elang_remote_free(elang_remote *r) {
    if (!r) return;
    if (r->curl) curl_easy_cleanup(r->curl);
    curl_slist_free_all(r->headers);
    strbuf_free(&r->reply);
    free(r->url), free(r->model), free(r->endpoint);
    free(r);
    curl_global_cleanup();
}

/* One BYTES tensor of the inputs in[idx[0..m)]. */
static json_t *bytes_tensor(const char *name, const elang_text *in, const size_t *idx, size_t m, bool pair) {
    json_t *data = json_array();
    for (size_t k = 0; k < m; k++)
        json_array_append_new(data, json_string(pair ? in[idx[k]].text_pair : in[idx[k]].text));
    return json_pack("{s:s, s:[I], s:s, s:o}", "name", name, "shape", (json_int_t)m, "datatype", "BYTES", "data", data);
}

/* Posts body; on success r->reply holds the answer. Retries transport
 * failures and 5xx answers; a 4xx answer will not change on retry. */
static elang_status post(remote_super *r, const char *body, elang_error *err) {
    curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, body);
    elang_status st = ELANG_OK;
    for (int attempt = 0; attempt <= r->opts.retries; attempt++) {
        if (attempt) atomic_fetch_add_explicit(&r->opts.metrics->remote_retries, 1, memory_order_relaxed);
        r->reply.len = 0;
        r->reply_too_large = false;
        r->curl_error[0] = '\0';
        const CURLcode rc = curl_easy_perform(r->curl);
        long code = 0;
        curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &code);
        if (rc == CURLE_OK && code == 200) return ELANG_OK;
        if (r->reply_too_large) { /* the same server would send the same again */
            st = elang_fail(err, ELANG_ERR_IO, "%s answered more than %zu MiB; the answer is refused", r->endpoint,
                            ANSWER_MAX_BYTES >> 20);
            break;
        }
        if (rc != CURLE_OK) {
            st = elang_fail(err, ELANG_ERR_IO, "%s: %s", r->endpoint, r->curl_error[0] ? r->curl_error : curl_easy_strerror(rc));
            continue;
        }
        /* The buffer is reused: only this answer's bytes are its own. */
        const int shown = r->reply.len < 300 ? (int)r->reply.len : 300;
        st = elang_fail(err, ELANG_ERR_IO, "%s answered HTTP %ld: %.*s", r->endpoint, code, shown,
                        r->reply.s ? r->reply.s : "");
        if (code < 500) break;
    }
    return st;
}

/* The named output tensor of a v2 answer, or NULL. */
static json_t *output(json_t *root, const char *name) {
    json_t *outs = json_object_get(root, "outputs");
    for (size_t i = 0; i < json_array_size(outs); i++) {
        json_t *t = json_array_get(outs, i);
        const char *nm = json_string_value(json_object_get(t, "name"));
        if (nm && strcmp(nm, name) == 0) return t;
    }
    return NULL;
}

/* Whether a tensor's "shape", when it has one, is rows x width (width 0:
 * [rows] or [rows, 1]): a Super answering [2n] where [n, 2] is meant has
 * misunderstood the request, though its data would fill the rows. */
static bool shape_fits(json_t *t, size_t rows, size_t width) {
    json_t *shape = json_object_get(t, "shape");
    if (!shape) return true;
    json_t *d0 = json_array_get(shape, 0), *d1 = json_array_get(shape, 1);
    const size_t dims = json_array_size(shape);
    if (!json_is_integer(d0) || json_integer_value(d0) != (json_int_t)rows) return false;
    if (dims == 1) return width == 0;
    return dims == 2 && json_is_integer(d1) && json_integer_value(d1) == (json_int_t)(width ? width : 1);
}

/* The elements of a tensor of rows x width (width 0: a vector), flat or
 * nested by row; NULL when it has another shape. */
static json_t *element(json_t *t, size_t rows, size_t width, size_t i, size_t j) {
    if (!shape_fits(t, rows, width)) return NULL;
    json_t *data = json_object_get(t, "data");
    const size_t w = width ? width : 1;
    if (json_array_size(data) == rows * w && !json_is_array(json_array_get(data, 0)))
        return json_array_get(data, i * w + j);
    if (json_array_size(data) == rows && json_array_size(json_array_get(data, i)) == w)
        return json_array_get(json_array_get(data, i), j);
    return NULL;
}

/* A JSON number that stays finite as the float elang keeps it in: 1e39
 * would become an infinity, and the answer's energy and probabilities NaN. */
static bool float_number(json_t *v, double *dst) {
    if (!json_is_number(v)) return false;
    *dst = json_number_value(v);
    return fabs(*dst) <= FLT_MAX;
}

static bool numbers(json_t *t, size_t rows, size_t width, size_t i, double *dst) {
    for (size_t j = 0; j < (width ? width : 1); j++)
        if (!float_number(element(t, rows, width, i, j), &dst[j])) return false;
    return true;
}

static elang_status malformed(elang_error *err, remote_super *r, const char *what) {
    return elang_fail(err, ELANG_ERR_FORMAT, "%s answered without %s", r->endpoint, what);
}

/* Label j's name: the router's label word, or Swift's own label. */
static const char *label_name(const remote_super *r, int j) {
    return r->opts.num_label_words ? r->opts.label_words[j] : elang_model_label(r->opts.swift, j);
}

static elang_status classifier_answer(remote_super *r, json_t *root, size_t m, size_t i, elang_answer *a,
                                      elang_error *err) {
    const elang_model *swift = r->opts.swift;
    const int words = r->opts.num_label_words;
    const int L = words ? words : elang_model_num_labels(swift);
    double row[256];
    if (L > 256) return elang_fail(err, ELANG_ERR_UNSUPPORTED, "a remote Super with %d labels (at most 256)", L);
    json_t *logits = output(root, "logits"), *label = output(root, "label"), *probs = output(root, "probs");
    json_t *energy = output(root, "energy");
    if (!logits || !numbers(logits, m, (size_t)L, i, row))
        return malformed(err, r, words ? "an output \"logits\" of one row of finite numbers per input, one per label word"
                                       : "an output \"logits\" of one row of finite numbers per input, as many as Swift's labels");
    a->cls.logits = malloc(sizeof(float) * 2 * (size_t)L);
    if (!a->cls.logits) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for remote answers");
    a->cls.probs = a->cls.logits + L;
    int best = 0;
    for (int j = 0; j < L; j++) {
        a->cls.logits[j] = (float)row[j];
        if (row[j] > row[best]) best = j;
    }
    if (probs && numbers(probs, m, (size_t)L, i, row)) {
        for (int j = 0; j < L; j++) a->cls.probs[j] = (float)row[j];
    } else {
        double sum = 0.0;
        for (int j = 0; j < L; j++) sum += exp(a->cls.logits[j] - a->cls.logits[best]);
        for (int j = 0; j < L; j++) a->cls.probs[j] = (float)(exp(a->cls.logits[j] - a->cls.logits[best]) / sum);
    }
    a->cls.energy = energy && numbers(energy, m, 0, i, row) ? row[0]
                                                            : elang_energy(a->cls.logits, L, r->opts.temperature);
    if (label) {
        const char *name = json_string_value(element(label, m, 0, i, 0));
        if (!name) return malformed(err, r, "a string per input in its output \"label\"");
        for (best = 0; best < L && strcmp(label_name(r, best), name) != 0; best++) {
        }
        if (best == L)
            return elang_fail(err, ELANG_ERR_FORMAT, "%s answered label \"%.100s\", which %s", r->endpoint, name,
                              words ? "is none of the label words" : "Swift does not have");
    }
    a->cls.label_id = a->label_id = best;
    a->label = label_name(r, best);
    elang_scores(a->cls.logits, L, r->opts.temperature, a->scores);
    /* A label-word answer keeps its scores alone, as one computed here does. */
    if (words) elang_class_out_free(&a->cls, 1);
    return ELANG_OK;
}

static elang_status generator_answer(remote_super *r, json_t *root, size_t m, size_t i, elang_answer *a,
                                     elang_error *err) {
    const char *text = json_string_value(element(output(root, "text"), m, 0, i, 0));
    if (!text) return malformed(err, r, "an output \"text\" of one string per input");
    a->label_id = -1;
    if (!(a->gen.text = strdup(text))) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for remote answers");
    json_t *num = output(root, "num_ids"), *ids = output(root, "ids"), *lp = output(root, "token_logprobs");
    json_t *te = output(root, "token_energies"), *num_steps = output(root, "num_steps");
    double v;
    if (output(root, "energy") && numbers(output(root, "energy"), m, 0, i, &v)) a->gen.energy = v;
    if (output(root, "score") && numbers(output(root, "score"), m, 0, i, &v)) a->gen.score = v;
    if (!num || !ids || !lp || !te) return ELANG_OK;
    const json_t *shape = json_object_get(ids, "shape");
    const json_int_t width = json_integer_value(json_array_get(shape, 1));
    if (!numbers(num, m, 0, i, &v) || v < 1 || v > (double)width || width > 1 << 20)
        return malformed(err, r, "a count in \"num_ids\" within the width of \"ids\"");
    const int k = (int)v;
    /* Steps: as said, else those of an encoder-decoder (ids hold its start
     * token), as servers that predate num_steps answer. */
    const json_int_t steps_width = json_integer_value(json_array_get(json_object_get(lp, "shape"), 1));
    int steps = k - 1;
    if (num_steps) {
        if (!numbers(num_steps, m, 0, i, &v) || v < 0 || v > (double)steps_width)
            return malformed(err, r, "a count in \"num_steps\" within the width of \"token_logprobs\"");
        steps = (int)v;
    }
    a->gen.ids = malloc(sizeof(int32_t) * (size_t)k);
    a->gen.token_logprobs = malloc(sizeof(float) * (size_t)k);
    a->gen.token_energies = malloc(sizeof(float) * (size_t)k);
    if (!a->gen.ids || !a->gen.token_logprobs || !a->gen.token_energies)
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for remote answers");
    a->gen.num_ids = k, a->gen.num_steps = steps;
    for (int t = 0; t < k; t++) {
        json_t *id = element(ids, m, (size_t)width, i, (size_t)t);
        if (!json_is_integer(id)) return malformed(err, r, "whole numbers in \"ids\"");
        a->gen.ids[t] = (int32_t)json_integer_value(id);
    }
    for (int t = 0; t < steps; t++) {
        double p, e;
        if (!float_number(element(lp, m, (size_t)steps_width, i, (size_t)t), &p) ||
            !float_number(element(te, m, (size_t)steps_width, i, (size_t)t), &e))
            return malformed(err, r, "finite numbers in \"token_logprobs\" and \"token_energies\"");
        a->gen.token_logprobs[t] = (float)p;
        a->gen.token_energies[t] = (float)e;
    }
    return ELANG_OK;
}

static char *v2_request_body(const elang_text *in, const size_t *idx, size_t m) {
    json_t *inputs = json_array();
    json_array_append_new(inputs, bytes_tensor("text", in, idx, m, false));
    if (in[idx[0]].text_pair) json_array_append_new(inputs, bytes_tensor("text_pair", in, idx, m, true));
    json_t *req = json_pack("{s:o}", "inputs", inputs);
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    return body;
}

/* Asks for the inputs in[idx[0..m)], all with a text_pair or all without. */
static elang_status ask(remote_super *r, const elang_text *in, const size_t *idx, size_t m, elang_answer *out,
                        elang_error *err) {
    const bool openai = r->opts.api == ELANG_REMOTE_OPENAI;
    const openai_request q = {.model = r->opts.model, .max_tokens = r->opts.max_new_tokens, .stop = r->opts.stop,
                              .num_stop = r->opts.num_stop};
    char *body = openai ? openai_request_body(&q, in, idx, m) : v2_request_body(in, idx, m);
    if (!body) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for a request to the remote Super");
    elang_status st = post(r, body, err);
    free(body);
    if (st != ELANG_OK) return st;
    if (openai) return openai_read_answer(r->endpoint, r->reply.s, r->reply.len, idx, m, out, err);
    json_error_t je;
    json_t *root = json_loadb(r->reply.s, r->reply.len, 0, &je);
    if (!root) return elang_fail(err, ELANG_ERR_FORMAT, "%s answered malformed JSON: %s", r->endpoint, je.text);
    const bool gen = elang_model_is_generator(r->opts.swift) && r->opts.num_label_words == 0;
    for (size_t k = 0; st == ELANG_OK && k < m; k++)
        st = gen ? generator_answer(r, root, m, k, &out[idx[k]], err)
                 : classifier_answer(r, root, m, k, &out[idx[k]], err);
    json_decref(root);
    return st;
}

elang_status elang_remote_answer(void *ctx, const elang_text *in, const size_t *items, size_t n, elang_answer *out,
                                 elang_error *err) {
    (void)items;
    remote_super *r = ctx;
    serve_metrics *mt = r->opts.metrics;
    const double t0 = clock_seconds();
    if (t0 < r->down_until) {
        atomic_fetch_add_explicit(&mt->remote_skipped, 1, memory_order_relaxed);
        return elang_fail(err, ELANG_ERR_IO, "%s is backed off after a failure", r->endpoint);
    }
    elang_status cleared = outputs_clear(out, n, sizeof *out, in, err);
    if (cleared != ELANG_OK) return cleared;
    size_t *idx = malloc(sizeof *idx * (n ? n : 1));
    if (!idx) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for a request to the remote Super");
    atomic_fetch_add_explicit(&mt->remote_calls, 1, memory_order_relaxed);
    /* A tensor holds a text_pair for every input or for none: inputs with
     * and without one go in two requests. */
    elang_status st = ELANG_OK;
    for (int with_pair = 0; st == ELANG_OK && with_pair < 2; with_pair++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if ((in[i].text_pair != NULL) == with_pair) idx[m++] = i;
        if (m) st = ask(r, in, idx, m, out, err);
    }
    free(idx);
    const double now = clock_seconds();
    metrics_observe(&mt->remote_latency, now - t0);
    if (st != ELANG_OK) {
        elang_answers_free(out, n);
        atomic_fetch_add_explicit(&mt->remote_failures, 1, memory_order_relaxed);
        r->backoff = r->backoff > 0 ? fmin(2 * r->backoff, BACKOFF_MAX) : BACKOFF_FIRST;
        r->down_until = now + r->backoff;
        if (!r->down) say(r, "remote Super failed (%s); routed inputs get Swift's answer, marked degraded, until it answers again", err ? err->message : "");
        r->down = true;
        return st;
    }
    if (r->down) say(r, "remote Super %s answers again; routing resumes", r->url);
    r->down = false;
    r->backoff = 0;
    r->down_until = 0;
    return ELANG_OK;
}

elang_status elang_remote_new(const elang_remote_opts *opts, const elang_model *swift, const elang_route_opts *route,
                              elang_remote **out, elang_error *err) {
    *out = NULL;
    if (!opts || !opts->url || !swift)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "a remote Super needs its URL and the router's Swift model");
    if (opts->api != ELANG_REMOTE_V2 && opts->api != ELANG_REMOTE_OPENAI)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "unknown remote API %d (KServe v2 or OpenAI)", (int)opts->api);
    const elang_route_opts defaults = elang_route_opts_default();
    if (!route) route = &defaults;
    const int max_new_tokens = route->gen.max_new_tokens > 0 ? route->gen.max_new_tokens
                                                             : elang_gen_opts_default().max_new_tokens;
    const remote_opts ro = {.api = opts->api, .url = opts->url, .model = opts->model, .max_new_tokens = max_new_tokens,
                            .stop = route->gen.stop, .num_stop = route->gen.num_stop,
                            .connect_timeout_ms = opts->connect_timeout_ms, .timeout_ms = opts->timeout_ms,
                            .retries = opts->retries,
                            .temperature = route->temperature > 0 ? route->temperature : 1.0, .swift = swift,
                            .label_words = route->label_words, .num_label_words = route->num_label_words};
    return remote_new(&ro, out, err);
}
