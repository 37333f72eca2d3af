/* `elang serve` against the CLI and the library on the same inputs, in one
 * run (bench/README.md, "Serving"):
 *
 *   serve_bench ELANG SWIFT SUPER CALIB.json INPUTS.txt THREADS "1 8 64" [REQUESTS]
 *
 * INPUTS.txt holds one text a line. Measures
 *  - the library: elang_route on one input at a time, every input (median
 *    latency after a warm-up pass);
 *  - the CLI: `ELANG route` over all inputs in one process, its batch
 *    throughput (inputs over the time beyond a one-input run, so model
 *    loading is not counted);
 *  - the server: `ELANG serve` with the same models and threads, and for
 *    each client count, that many threads each sending one input per
 *    /v1/route request over a kept-alive connection, REQUESTS in all
 *    (default: the number of inputs): requests/s, p50 and p99 latency.
 * Each figure is the median of REPS (default 3) runs. MODEL_FLAGS are given
 * to the CLI and the server alike (--batch-size 8), SERVE_FLAGS to the
 * server only (--max-batch 64). Prints one JSON object per figure, then a
 * table and the two targets: at 64 clients at least 80% of the CLI's
 * throughput; at 1 client at most 2 ms added to the library's latency. */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "elang_eval.h"
#include "bench_util.h"

static double quantile(double *v, size_t n, double q) {
    qsort(v, n, sizeof *v, compare_doubles);
    return v[(size_t)(q * (double)(n - 1) + 0.5)];
}

static void die(const char *fmt, const char *what) {
    fprintf(stderr, "serve_bench: ");
    fprintf(stderr, fmt, what);
    fputc('\n', stderr);
    exit(1);
}

static char **texts;
static size_t num_texts;

static void read_texts(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) die("cannot open %s", path);
    static char line[1 << 16];
    size_t cap = 1024;
    texts = malloc(cap * sizeof *texts);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (num_texts == cap) texts = realloc(texts, (cap *= 2) * sizeof *texts);
        texts[num_texts++] = strdup(line);
    }
    fclose(f);
    if (!num_texts) die("%s holds no inputs", path);
}

/* The library's own latency on one input, the floor the server adds to. */
static double library_ms(const char *swift_dir, const char *super_dir, const char *calib_path, int threads) {
    elang_error err;
    elang_calibration calib;
    elang_model *m[2];
    const elang_load_opts lo = {.threads = threads};
    if (elang_calibration_load(calib_path, &calib, &err) != ELANG_OK ||
        elang_model_load(swift_dir, &lo, &m[0], &err) != ELANG_OK || elang_model_load(super_dir, &lo, &m[1], &err) != ELANG_OK)
        die("%s", err.message);
    elang_route_opts o = elang_route_opts_default();
    o.score = calib.score, o.temperature = calib.temperature, o.aggregate = calib.aggregate;
    elang_router *r;
    if (elang_router_new(m, 2, &calib.threshold, &o, &r, &err) != ELANG_OK) die("%s", err.message);
    const size_t n = num_texts; /* the inputs the server is sent, for the same spread of lengths and routes */
    double *ms = malloc(sizeof *ms * n);
    for (size_t pass = 0; pass < 2; pass++) /* the first pass warms up */
        for (size_t i = 0; i < n; i++) {
            elang_text in = {texts[i], NULL};
            elang_route_out out;
            const double t0 = now();
            if (elang_route(r, &in, 1, &out, &err) != ELANG_OK) die("%s", err.message);
            ms[i] = (now() - t0) * 1e3;
            elang_route_out_free(&out, 1);
        }
    const double p50 = quantile(ms, n, 0.5);
    free(ms);
    elang_router_free(r);
    elang_model_free(m[0]), elang_model_free(m[1]);
    elang_calibration_free(&calib);
    return p50;
}

static double run_cli(const char *cmd) {
    const double t0 = now();
    if (system(cmd) != 0) die("`%s` failed", cmd);
    return now() - t0;
}

/* The CLI's batch throughput in inputs/s: all inputs in one process, less
 * the time of a one-input run (loading, start-up). */
static double cli_throughput(const char *elang, const char *pair, const char *inputs, int threads) {
    char one[] = "/tmp/serve_bench_one.txt", cmd[8192];
    FILE *f = fopen(one, "w");
    fprintf(f, "%s\n", texts[0]);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s route %s --threads %d --format text --input %s --output /dev/null", elang, pair,
             threads, inputs);
    const double all = run_cli(cmd);
    snprintf(cmd, sizeof cmd, "%s route %s --threads %d --format text --input %s --output /dev/null", elang, pair,
             threads, one);
    const double base = run_cli(cmd);
    unlink(one);
    return (double)(num_texts - 1) / (all - base);
}

static pid_t server_pid;
static int server_port;

static void start_server(const char *elang, const char *pair, int threads) {
    char log[] = "/tmp/serve_bench_server.log", cmd[8192];
    const char *extra = getenv("SERVE_FLAGS");
    snprintf(cmd, sizeof cmd, "exec %s serve %s --threads %d --port 0 --max-queue 65536 %s 2>%s", elang, pair, threads,
             extra ? extra : "", log);
    unlink(log);
    if ((server_pid = fork()) == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 6000 && !server_port; i++) {
        FILE *f = fopen(log, "r");
        char line[512];
        while (f && fgets(line, sizeof line, f)) {
            const char *at = strstr(line, "listening on http://");
            if (at) server_port = atoi(strrchr(at, ':') + 1);
        }
        if (f) fclose(f);
        struct timespec t = {0, 10000000};
        nanosleep(&t, NULL);
    }
    if (!server_port) die("%s", "the server did not start");
}

static size_t sink(char *d, size_t s, size_t n, void *ctx) {
    (void)d, (void)ctx;
    return s * n;
}

typedef struct {
    atomic_size_t next;
    size_t total;
    double *latency; /* [total] */
    char **bodies;   /* [num_texts] requests, made before timing */
} load;

static void *client(void *arg) {
    load *l = arg;
    CURL *c = curl_easy_init();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/route", server_port);
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    for (size_t k; (k = atomic_fetch_add(&l->next, 1)) < l->total;) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, l->bodies[k % num_texts]);
        const double t0 = now();
        long code = 0;
        if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (code != 200) {
            fprintf(stderr, "serve_bench: a request got %ld (%s)\n", code, code ? "" : "no answer");
            exit(1);
        }
        l->latency[k] = (now() - t0) * 1e3;
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

/* requests/s, p50 and p99 in ms over `total` requests from `clients`. */
static void serve_load(int clients, size_t total, char **bodies, double *rps, double *p50, double *p99) {
    load l = {.total = total, .latency = malloc(sizeof(double) * total), .bodies = bodies};
    pthread_t t[256];
    const double t0 = now();
    for (int i = 0; i < clients; i++) pthread_create(&t[i], NULL, client, &l);
    for (int i = 0; i < clients; i++) pthread_join(t[i], NULL);
    *rps = (double)total / (now() - t0);
    *p50 = quantile(l.latency, total, 0.5);
    *p99 = quantile(l.latency, total, 0.99);
    free(l.latency);
}

int main(int argc, char **argv) {
    if (argc < 8) {
        fprintf(stderr, "usage: serve_bench ELANG SWIFT SUPER CALIB.json INPUTS.txt THREADS \"1 8 64\" [REQUESTS]\n");
        return 2;
    }
    const char *elang = argv[1], *swift = argv[2], *super = argv[3], *calib = argv[4], *inputs = argv[5];
    const int threads = atoi(argv[6]);
    read_texts(inputs);
    const size_t total = argc > 8 ? (size_t)atol(argv[8]) : num_texts;
    const char *model_flags = getenv("MODEL_FLAGS");
    char pair[4096];
    snprintf(pair, sizeof pair, "--swift %s --super %s --calibration %s %s", swift, super, calib,
             model_flags ? model_flags : "");
    curl_global_init(CURL_GLOBAL_DEFAULT);

    const double lib = library_ms(swift, super, calib, threads);
    /* Each record names the flags it ran with. */
    char config[600];
    json_t *cfg = json_pack("{s:s, s:s}", "model_flags", model_flags ? model_flags : "", "serve_flags",
                            getenv("SERVE_FLAGS") ? getenv("SERVE_FLAGS") : "");
    char *cfg_text = json_dumps(cfg, JSON_COMPACT);
    snprintf(config, sizeof config, "%.*s", (int)strlen(cfg_text) - 2, cfg_text + 1);
    free(cfg_text), json_decref(cfg);
    printf("{\"row\":\"serve\",\"what\":\"library\",%s,\"threads\":%d,\"latency_ms\":%.4f}\n", config, threads,
           lib);
    fflush(stdout);
    const char *reps_env = getenv("REPS");
    const int reps = reps_env && atoi(reps_env) > 0 && atoi(reps_env) <= 16 ? atoi(reps_env) : 3;
    int levels[8], num_levels = 0;
    for (char *list = strdup(argv[7]), *tok = strtok(list, " "); tok && num_levels < 8; tok = strtok(NULL, " "))
        levels[num_levels++] = atoi(tok);

    char **bodies = malloc(sizeof *bodies * num_texts);
    for (size_t i = 0; i < num_texts; i++) {
        json_t *req = json_pack("{s:[{s:s}]}", "inputs", "text", texts[i]);
        bodies[i] = json_dumps(req, JSON_COMPACT);
        json_decref(req);
    }
    start_server(elang, pair, threads);
    double warm[3];
    serve_load(8, num_texts < 200 ? num_texts : 200, bodies, &warm[0], &warm[1], &warm[2]); /* untimed */
    /* The machine may be shared: each round measures the CLI and then every
     * client count, so that a ratio compares figures taken side by side. */
    double cli[16], runs[8][16][3], ratio[8][16];
    for (int rep = 0; rep < reps; rep++) {
        cli[rep] = cli_throughput(elang, pair, inputs, threads);
        for (int l = 0; l < num_levels; l++) {
            serve_load(levels[l], total, bodies, &runs[l][rep][0], &runs[l][rep][1], &runs[l][rep][2]);
            ratio[l][rep] = runs[l][rep][0] / cli[rep];
        }
    }
    const double cli_rate = quantile(cli, (size_t)reps, 0.5);
    printf("{\"row\":\"serve\",\"what\":\"cli\",%s,\"threads\":%d,\"inputs\":%zu,\"inputs_per_s\":%.1f}\n", config,
           threads, num_texts, cli_rate);
    char table[4096] = "";
    double ratio64 = -1, p50_1 = -1;
    for (int l = 0; l < num_levels; l++) {
        /* The run of median throughput, with its latencies. */
        qsort(runs[l], (size_t)reps, sizeof runs[l][0], compare_doubles);
        const double *m = runs[l][reps / 2], r = quantile(ratio[l], (size_t)reps, 0.5);
        printf("{\"row\":\"serve\",\"what\":\"server\",%s,\"threads\":%d,\"clients\":%d,\"requests\":%zu,"
               "\"requests_per_s\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"of_cli\":%.3f,\"reps\":%d}\n", config, threads,
               levels[l], total, m[0], m[1], m[2], r, reps);
        char row[256];
        snprintf(row, sizeof row, "| %d | %.0f | %.0f%% | %.2f | %.2f |\n", levels[l], m[0], 100 * r, m[1], m[2]);
        strcat(table, row);
        if (levels[l] == 64) ratio64 = r;
        if (levels[l] == 1) p50_1 = m[1];
    }
    kill(server_pid, SIGTERM);
    int status;
    waitpid(server_pid, &status, 0);
    printf("\nSST-2 demo pair, %zu inputs, %d model thread(s), medians of %d rounds: library %.2f ms/input alone; "
           "CLI %.0f inputs/s\n\n| clients | requests/s | of CLI | p50 ms | p99 ms |\n|---:|---:|---:|---:|---:|\n%s\n",
           num_texts, threads, reps, lib, cli_rate, table);
    if (ratio64 >= 0)
        printf("target: 64 clients >= 80%% of the CLI's throughput: %.0f%% %s\n", 100 * ratio64,
               ratio64 >= 0.8 ? "met" : "NOT met");
    if (p50_1 >= 0)
        printf("target: 1 client adds <= 2 ms to the library's latency: +%.2f ms %s\n", p50_1 - lib,
               p50_1 - lib <= 2.0 ? "met" : "NOT met");
    return 0;
}
