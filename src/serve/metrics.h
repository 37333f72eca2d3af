/* The server's counters and histograms, kept with atomics so that the HTTP
 * threads and the worker update them without a lock, and rendered in the
 * Prometheus text format for GET /metrics. */
#ifndef ELANG_SERVE_METRICS_H
#define ELANG_SERVE_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "util/strbuf.h"

/* What a request asked for: the label of its series. */
typedef enum {
    EP_ROUTE, EP_CLASSIFY, EP_GENERATE, EP_COMPLETIONS, EP_MODELS, EP_V2_INFER, EP_V2_METADATA, EP_V2_HEALTH,
    EP_HEALTHZ, EP_METRICS, EP_OTHER, EP_COUNT
} serve_endpoint;

/* The statuses the server answers with; any other is counted as the last. */
#define METRIC_CODES 11
#define LATENCY_BUCKETS 14
#define BATCH_BUCKETS 12

typedef struct {
    _Atomic uint64_t buckets[LATENCY_BUCKETS + 1]; /* the last is +Inf */
    _Atomic uint64_t sum_ns, count;
} latency_histogram;

typedef struct {
    _Atomic uint64_t requests[EP_COUNT][METRIC_CODES];
    latency_histogram latency[EP_COUNT];
    _Atomic uint64_t by_swift, by_super, degraded; /* inputs routed */
    _Atomic uint64_t model_inputs;                  /* inputs of /v1/classify, /v1/generate, model infer and
                                                       completions */
    _Atomic uint64_t batch_buckets[BATCH_BUCKETS + 1], batches, batch_inputs;
    _Atomic int64_t queue_depth;                    /* inputs waiting for the worker */
    _Atomic int64_t in_flight;                      /* requests received and not yet answered */
    _Atomic uint64_t remote_calls, remote_failures, remote_retries, remote_skipped;
    latency_histogram remote_latency;
} serve_metrics;

const char *endpoint_name(serve_endpoint e);
/* The endpoint a request path is counted under. */
serve_endpoint endpoint_of(const char *path);

void metrics_request(serve_metrics *m, serve_endpoint e, int status, double seconds);
void metrics_batch(serve_metrics *m, size_t inputs);
void metrics_observe(latency_histogram *h, double seconds);

/* Appends every series in the text exposition format; false when out of
 * memory. */
bool metrics_render(const serve_metrics *m, strbuf *out);

#endif
