#include "serve/metrics.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const int codes[METRIC_CODES] = {200, 400, 404, 405, 413, 422, 499, 500, 503, 504, 0};
static const double latency_le[LATENCY_BUCKETS] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                                   0.1,    0.2,   0.5,   1,     2,    5,    10};
static const int batch_le[BATCH_BUCKETS] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};

const char *endpoint_name(serve_endpoint e) {
    static const char *names[EP_COUNT] = {"/v1/route",   "/v1/classify", "/v1/generate", "/v1/completions",
                                          "/v1/models",  "/v2/infer",    "/v2/metadata", "/v2/health",
                                          "/healthz",    "/metrics",     "other"};
    return names[e];
}

serve_endpoint endpoint_of(const char *path) {
    static const char *exact[] = {"/v1/route", "/v1/classify", "/v1/generate", "/v1/completions", "/v1/models"};
    for (int e = 0; e < 5; e++)
        if (strcmp(path, exact[e]) == 0) return (serve_endpoint)e;
    if (strcmp(path, "/healthz") == 0) return EP_HEALTHZ;
    if (strcmp(path, "/metrics") == 0) return EP_METRICS;
    if (strncmp(path, "/v2/health/", 11) == 0) return EP_V2_HEALTH;
    const size_t n = strlen(path);
    if (strncmp(path, "/v2/models/", 11) == 0 && n > 6 && strcmp(path + n - 6, "/infer") == 0) return EP_V2_INFER;
    if (strcmp(path, "/v2") == 0 || strncmp(path, "/v2/models/", 11) == 0) return EP_V2_METADATA;
    return EP_OTHER;
}

static int code_slot(int status) {
    for (int i = 0; i < METRIC_CODES - 1; i++)
        if (codes[i] == status) return i;
    return METRIC_CODES - 1;
}

void metrics_observe(latency_histogram *h, double seconds) {
    int b = 0;
    while (b < LATENCY_BUCKETS && seconds > latency_le[b]) b++;
    atomic_fetch_add_explicit(&h->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, (uint64_t)(seconds * 1e9), memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

void metrics_request(serve_metrics *m, serve_endpoint e, int status, double seconds) {
    atomic_fetch_add_explicit(&m->requests[e][code_slot(status)], 1, memory_order_relaxed);
    metrics_observe(&m->latency[e], seconds);
}

void metrics_batch(serve_metrics *m, size_t inputs) {
    int b = 0;
    while (b < BATCH_BUCKETS && (int)inputs > batch_le[b]) b++;
    atomic_fetch_add_explicit(&m->batch_buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->batches, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->batch_inputs, inputs, memory_order_relaxed);
}

static uint64_t load(const _Atomic uint64_t *v) { return atomic_load_explicit(v, memory_order_relaxed); }

static bool append(strbuf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool append(strbuf *out, const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    return n >= 0 && strbuf_append(out, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static bool header(strbuf *out, const char *name, const char *type, const char *help) {
    return append(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One histogram's series; labels are "" or `key="value",`. */
static bool histogram(strbuf *out, const char *name, const char *labels, const _Atomic uint64_t *buckets, int n,
                      const double *le_real, const int *le_int, double sum, uint64_t count) {
    uint64_t cumulative = 0;
    bool ok = true;
    for (int b = 0; ok && b <= n; b++) {
        cumulative += load(&buckets[b]);
        char le[32];
        if (b == n) snprintf(le, sizeof le, "+Inf");
        else if (le_real) snprintf(le, sizeof le, "%g", le_real[b]);
        else snprintf(le, sizeof le, "%d", le_int[b]);
        ok = append(out, "%s_bucket{%sle=\"%s\"} %" PRIu64 "\n", name, labels, le, cumulative);
    }
    /* The labels without their trailing comma, in braces, or nothing. */
    char own[128] = "";
    const size_t len = strlen(labels);
    if (len) snprintf(own, sizeof own, "{%.*s}", (int)len - 1, labels);
    return ok && append(out, "%s_sum%s %.9g\n%s_count%s %" PRIu64 "\n", name, own, sum, name, own, count);
}

/* The requests of every endpoint with a status from codes[first] on. */
static bool by_status(strbuf *out, const serve_metrics *m, const char *name, int first) {
    bool ok = true;
    for (int e = 0; e < EP_COUNT; e++)
        for (int c = first; ok && c < METRIC_CODES; c++) {
            const uint64_t v = load(&m->requests[e][c]);
            char code[16];
            snprintf(code, sizeof code, codes[c] ? "%d" : "other", codes[c]);
            if (v) ok = append(out, "%s{endpoint=\"%s\",code=\"%s\"} %" PRIu64 "\n", name,
                               endpoint_name((serve_endpoint)e), code, v);
        }
    return ok;
}

bool metrics_render(const serve_metrics *m, strbuf *out) {
    bool ok = header(out, "elang_http_requests_total", "counter", "HTTP requests answered, by endpoint and status code.") &&
              by_status(out, m, "elang_http_requests_total", 0) &&
              header(out, "elang_http_errors_total", "counter", "HTTP requests answered with a 4xx or 5xx status.") &&
              by_status(out, m, "elang_http_errors_total", 1);
    ok = ok && header(out, "elang_http_request_duration_seconds", "histogram",
                      "Time from a request's arrival to its answer, by endpoint.");
    for (int e = 0; ok && e < EP_COUNT; e++) {
        const latency_histogram *h = &m->latency[e];
        if (!load(&h->count)) continue;
        char labels[64];
        snprintf(labels, sizeof labels, "endpoint=\"%s\",", endpoint_name((serve_endpoint)e));
        ok = histogram(out, "elang_http_request_duration_seconds", labels, h->buckets, LATENCY_BUCKETS, latency_le, NULL,
                       (double)load(&h->sum_ns) * 1e-9, load(&h->count));
    }
    const uint64_t swift = load(&m->by_swift), super = load(&m->by_super);
    ok = ok && header(out, "elang_inputs_total", "counter", "Routed inputs, by the model whose answer stands.") &&
         append(out, "elang_inputs_total{answered_by=\"swift\"} %" PRIu64 "\n", swift) &&
         append(out, "elang_inputs_total{answered_by=\"super\"} %" PRIu64 "\n", super) &&
         header(out, "elang_super_rate", "gauge", "Share of routed inputs answered by Super since the start.") &&
         append(out, "elang_super_rate %.6f\n", swift + super ? (double)super / (double)(swift + super) : 0.0) &&
         header(out, "elang_degraded_total", "counter",
                "Routed inputs answered by Swift because the remote Super failed.") &&
         append(out, "elang_degraded_total %" PRIu64 "\n", load(&m->degraded)) &&
         header(out, "elang_model_inputs_total", "counter", "Inputs of one-model requests (classify, generate).") &&
         append(out, "elang_model_inputs_total %" PRIu64 "\n", load(&m->model_inputs)) &&
         header(out, "elang_batch_size", "histogram", "Inputs per batch the models ran.") &&
         histogram(out, "elang_batch_size", "", m->batch_buckets, BATCH_BUCKETS, NULL, batch_le,
                   (double)load(&m->batch_inputs), load(&m->batches)) &&
         header(out, "elang_queue_depth", "gauge", "Inputs waiting for the models.") &&
         append(out, "elang_queue_depth %" PRId64 "\n", atomic_load(&m->queue_depth)) &&
         header(out, "elang_requests_in_flight", "gauge", "Requests received and not yet answered.") &&
         append(out, "elang_requests_in_flight %" PRId64 "\n", atomic_load(&m->in_flight)) &&
         header(out, "elang_remote_super_calls_total", "counter", "Batches sent to the remote Super (retries apart).") &&
         append(out, "elang_remote_super_calls_total %" PRIu64 "\n", load(&m->remote_calls)) &&
         header(out, "elang_remote_super_failures_total", "counter",
                "Batches the remote Super did not answer after every retry.") &&
         append(out, "elang_remote_super_failures_total %" PRIu64 "\n", load(&m->remote_failures)) &&
         header(out, "elang_remote_super_retries_total", "counter", "Attempts repeated after a failed one.") &&
         append(out, "elang_remote_super_retries_total %" PRIu64 "\n", load(&m->remote_retries)) &&
         header(out, "elang_remote_super_skipped_total", "counter",
                "Batches not sent while the remote Super was backed off after a failure.") &&
         append(out, "elang_remote_super_skipped_total %" PRIu64 "\n", load(&m->remote_skipped)) &&
         header(out, "elang_remote_super_duration_seconds", "histogram", "Time of each call to the remote Super.") &&
         histogram(out, "elang_remote_super_duration_seconds", "", m->remote_latency.buckets, LATENCY_BUCKETS,
                   latency_le, NULL, (double)load(&m->remote_latency.sum_ns) * 1e-9, load(&m->remote_latency.count));
    return ok;
}
