/* `elang serve` under load, on loopback: thousands of requests from 48
 * concurrent clients, every answer present, in its place and right; a
 * remote Super killed in the middle of the load and started again (degraded
 * answers, never errors, then routing again); and SIGTERM in the middle of
 * the load (every request the server received is answered, exit 0). The
 * answers are checked against `elang route` on the same sentences of SST-2
 * dev with the demo pair. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "serve_client.h"
#include "support.h"

#define SWIFT "--swift models/sst2-swift --calibration models/sst2.calib.json --threads 1"
#define SST2 SWIFT " --super models/sst2-super"
#define SENTENCES 872

/* What `elang route` answers for each dev sentence. */
typedef struct {
    char *text;
    char label[16], route[8];
    double score, margin; /* |logit 0 - logit 1| of the final answer */
} expected;

static expected want[SENTENCES];
static size_t num_want;
static double threshold;

static void nap(double seconds) {
    struct timespec t = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&t, NULL);
}

static int load_expectations(void **s) {
    (void)s;
    char path[1024], cmd[4096];
    FILE *tsv = fopen(shared_path("data/glue/SST-2/dev.tsv"), "r"), *in;
    snprintf(path, sizeof path, "%s/dev.jsonl", test_tmpdir());
    if (!tsv || !(in = fopen(path, "w"))) return -1;
    char line[8192];
    for (int row = 0; fgets(line, sizeof line, tsv) && num_want < SENTENCES; row++) {
        if (row == 0) continue; /* the header */
        line[strcspn(line, "\t")] = '\0';
        want[num_want].text = strdup(line);
        json_t *o = json_pack("{s:s, s:I}", "text", line, "id", (json_int_t)num_want++);
        char *j = json_dumps(o, JSON_COMPACT);
        fprintf(in, "%s\n", j);
        free(j), json_decref(o);
    }
    fclose(tsv), fclose(in);
    snprintf(cmd, sizeof cmd, "%s route %s --input %s", elang_bin(), SST2, path);
    char *out, *err;
    if (run_command(cmd, &out, &err) != 0) return -1;
    size_t k = 0;
    for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n"), k++) {
        json_t *o = json_loads(l, 0, NULL);
        expected *e = &want[json_integer_value(json_object_get(o, "id"))];
        snprintf(e->label, sizeof e->label, "%s", json_string_value(json_object_get(o, "label")));
        snprintf(e->route, sizeof e->route, "%s", json_string_value(json_object_get(o, "route")));
        e->score = json_real_value(json_object_get(o, "score"));
        json_t *logits = json_object_get(o, "logits");
        e->margin = fabs(json_real_value(json_array_get(logits, 0)) - json_real_value(json_array_get(logits, 1)));
        json_decref(o);
    }
    free(out), free(err);
    json_t *calib = json_load_file("models/sst2.calib.json", 0, NULL);
    threshold = json_real_value(json_object_get(calib, "threshold"));
    json_decref(calib);
    return k == num_want && num_want == SENTENCES ? 0 : -1;
}

/* One client thread's work and what it saw. */
typedef struct {
    int port, index, requests; /* requests: how many, or 0 to run until *stop or refused */
    atomic_bool *stop;
    bool until_refused;        /* a refused connection ends the run instead of failing it */
    long answered, inputs, degraded, by_super, refused, shutting_down;
    char failure[700];         /* the first thing that went wrong */
} client;

static void failed(client *c, const char *fmt, ...) {
    if (c->failure[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->failure, sizeof c->failure, fmt, ap);
    va_end(ap);
}

/* Checks one answer against the CLI's; a score within a hair of the
 * threshold, or logits within a hair of a tie, may fall either way once
 * batched with other inputs. */
static void check_output(client *c, json_t *o, const char *id, size_t sentence) {
    const expected *e = &want[sentence];
    const char *got_id = json_string_value(json_object_get(o, "id"));
    const char *route = json_string_value(json_object_get(o, "route"));
    const char *label = json_string_value(json_object_get(o, "label"));
    const bool degraded = json_is_true(json_object_get(o, "degraded"));
    if (!got_id || strcmp(got_id, id) != 0) return failed(c, "answer %s in the place of %s", got_id ? got_id : "-", id);
    if (!route || !label) return failed(c, "answer %s lacks route or label", id);
    const bool near = fabs(e->score - threshold) < 1e-4;
    const double score = json_real_value(json_object_get(o, "score"));
    if (fabs(score - e->score) > 1e-4) return failed(c, "answer %s: score %.8g, the CLI's %.8g", id, score, e->score);
    if (degraded) {
        c->degraded++;
        if (strcmp(route, "swift") != 0 || (!near && strcmp(e->route, "super") != 0))
            return failed(c, "answer %s: degraded but routed %s (the CLI: %s)", id, route, e->route);
        if (strcmp(label, json_string_value(json_object_get(o, "swift_label"))) != 0)
            return failed(c, "answer %s: degraded with a label other than Swift's", id);
        return;
    }
    c->by_super += strcmp(route, "super") == 0;
    if (near) return;
    if (strcmp(route, e->route) != 0) return failed(c, "answer %s: routed %s, the CLI %s", id, route, e->route);
    if (e->margin > 1e-4 && strcmp(label, e->label) != 0)
        return failed(c, "answer %s: label %s, the CLI's %s", id, label, e->label);
}

static void *client_run(void *arg) {
    client *c = arg;
    CURL *curl = curl_easy_init();
    for (int r = 0; c->requests ? r < c->requests : !atomic_load(c->stop); r++) {
        const int k = 1 + (c->index + r) % 3;
        size_t sentence[3];
        char ids[3][32];
        json_t *inputs = json_array();
        for (int j = 0; j < k; j++) {
            sentence[j] = ((size_t)c->index * 7919 + (size_t)r * 31 + (size_t)j * 104729) % num_want;
            snprintf(ids[j], sizeof ids[j], "%d-%d-%d", c->index, r, j);
            json_array_append_new(inputs, json_pack("{s:s, s:s}", "text", want[sentence[j]].text, "id", ids[j]));
        }
        json_t *req = json_pack("{s:o}", "inputs", inputs);
        char *body = json_dumps(req, JSON_COMPACT);
        json_decref(req);
        http_result res;
        http_call(curl, c->port, "/v1/route", body, strlen(body), &res);
        free(body);
        if (res.status == 0) {
            c->refused++;
            if (!c->until_refused) failed(c, "request %d-%d: %s", c->index, r, res.error);
        } else if (res.status == 503 && strstr(res.body, "shutting down")) {
            c->shutting_down++;
        } else if (res.status != 200) {
            failed(c, "request %d-%d: status %ld, %.300s", c->index, r, res.status, res.body);
        } else {
            json_t *j = json_loadb(res.body, res.len, 0, NULL), *outs = json_object_get(j, "outputs");
            if (json_array_size(outs) != (size_t)k)
                failed(c, "request %d-%d: %zu answers for %d inputs", c->index, r, json_array_size(outs), k);
            for (int i = 0; i < k && json_array_size(outs) == (size_t)k; i++)
                check_output(c, json_array_get(outs, (size_t)i), ids[i], sentence[i]);
            c->answered++;
            c->inputs += k;
            json_decref(j);
        }
        const bool refused = res.status == 0;
        http_result_free(&res);
        if (refused) break;
    }
    curl_easy_cleanup(curl);
    return NULL;
}

/* Runs n clients; returns once `until` says so (or they finish). */
typedef struct {
    pthread_t threads[64];
    client clients[64];
    int n;
    atomic_bool stop;
} crowd;

static void crowd_start(crowd *cr, int n, int port, int requests, bool until_refused) {
    memset(cr, 0, sizeof *cr);
    cr->n = n;
    for (int i = 0; i < n; i++) {
        cr->clients[i] = (client){.port = port, .index = i, .requests = requests, .stop = &cr->stop,
                                  .until_refused = until_refused};
        pthread_create(&cr->threads[i], NULL, client_run, &cr->clients[i]);
    }
}

static void crowd_join(crowd *cr, client *total) {
    memset(total, 0, sizeof *total);
    atomic_store(&cr->stop, true);
    for (int i = 0; i < cr->n; i++) {
        pthread_join(cr->threads[i], NULL);
        const client *c = &cr->clients[i];
        if (c->failure[0]) fail_msg("client %d: %s", i, c->failure);
        total->answered += c->answered, total->inputs += c->inputs, total->degraded += c->degraded;
        total->by_super += c->by_super, total->refused += c->refused, total->shutting_down += c->shutting_down;
    }
}

static double metric_of(int port, const char *series) {
    CURL *c = curl_easy_init();
    http_result r;
    http_call(c, port, "/metrics", NULL, 0, &r);
    const double v = metric_value(r.body, series);
    http_result_free(&r);
    curl_easy_cleanup(c);
    return v;
}

/* 48 clients, 2160 requests of one to three inputs: each answered, its
 * answers in order under their ids and equal to the CLI's; the inputs of
 * concurrent requests shared batches. */
static void concurrent_load(void **s) {
    (void)s;
    watchdog_start("2160 concurrent requests", 600);
    served sv;
    serve_up(&sv, SST2 " --max-queue 4096", 0);
    crowd cr;
    crowd_start(&cr, 48, sv.port, 45, false);
    client total;
    crowd_join(&cr, &total);
    assert_int_equal(total.answered, 48 * 45);
    assert_int_equal(total.refused, 0);
    assert_int_equal(metric_of(sv.port, "elang_http_requests_total{endpoint=\"/v1/route\",code=\"200\"}"), 48 * 45);
    const double swift = metric_of(sv.port, "elang_inputs_total{answered_by=\"swift\"}");
    const double super = metric_of(sv.port, "elang_inputs_total{answered_by=\"super\"}");
    assert_int_equal(swift + super, total.inputs);
    assert_int_equal(super, total.by_super);
    const double batches = metric_of(sv.port, "elang_batch_size_count");
    assert_int_equal(metric_of(sv.port, "elang_batch_size_sum"), total.inputs);
    print_message("%ld requests, %ld inputs (%ld by Super) in %.0f batches\n", total.answered, total.inputs,
                  total.by_super, batches);
    if (!(total.inputs / batches > 4)) fail_msg("%ld inputs in %.0f batches: requests did not share them", total.inputs, batches);
    assert_int_equal(serve_down(&sv, SIGTERM), 0);
    watchdog_stop();
}

/* The Super answers counted by the router, once they grow again (or the
 * wait ends); returns whether they did. */
static bool super_answers_again(int port) {
    const double before = metric_of(port, "elang_inputs_total{answered_by=\"super\"}");
    for (int i = 0; i < 300; i++, nap(0.05))
        if (metric_of(port, "elang_inputs_total{answered_by=\"super\"}") > before) return true;
    return false;
}

/* Super on another server, killed with the load on: answers keep coming,
 * the routed ones from Swift marked degraded; once Super is back on its
 * port, routing to it resumes by itself. Then Super too slow rather than
 * gone (stopped: connections are accepted, nothing is answered): the calls
 * time out, answers are degraded meanwhile, and it resumes when Super
 * does. */
static void remote_super_killed_and_back(void **s) {
    (void)s;
    watchdog_start("a remote Super killed and restarted", 600);
    served super, router;
    serve_up(&super, "--model models/sst2-super --threads 1", 0);
    char args[1024];
    snprintf(args, sizeof args, SWIFT " --super http://127.0.0.1:%d/v2/models/sst2-super --super-connect-timeout-ms "
             "200 --super-timeout-ms 1000 --super-retries 1", super.port);
    serve_up(&router, args, 0);
    crowd cr;
    crowd_start(&cr, 16, router.port, 0, false);
    nap(1.0);
    const int super_port = super.port;
    assert_int_equal(serve_down(&super, SIGKILL), 128 + SIGKILL);
    nap(1.5);
    const double degraded_while_down = metric_of(router.port, "elang_degraded_total");
    serve_up(&super, "--model models/sst2-super --threads 1", super_port);
    const bool resumed = super_answers_again(router.port);
    kill(super.pid, SIGSTOP);
    const double degraded_before_stop = metric_of(router.port, "elang_degraded_total");
    nap(3.0);
    const double degraded_while_stopped = metric_of(router.port, "elang_degraded_total") - degraded_before_stop;
    kill(super.pid, SIGCONT);
    const bool resumed_again = super_answers_again(router.port);
    client total;
    crowd_join(&cr, &total);
    print_message("%ld answers, %ld degraded, %ld by Super\n", total.answered, total.degraded, total.by_super);
    if (degraded_while_down <= 0) fail_msg("no degraded answer while Super was down");
    if (!resumed) fail_msg("routing to Super did not resume after it came back");
    if (degraded_while_stopped <= 0) fail_msg("no degraded answer while Super was too slow");
    if (!resumed_again) fail_msg("routing to Super did not resume after it answered again");
    assert_true(total.degraded > 0 && total.by_super > 0);
    assert_int_equal(total.refused, 0);
    assert_true(metric_of(router.port, "elang_remote_super_failures_total") > 0);
    char *log = serve_log(&router);
    assert_non_null(strstr(log, "remote Super failed"));
    assert_non_null(strstr(log, "answers again; routing resumes"));
    free(log);
    assert_int_equal(serve_down(&router, SIGTERM), 0);
    assert_int_equal(serve_down(&super, SIGTERM), 0);
    watchdog_stop();
}

/* Clients that send long completions and hang up before their answers:
 * their queued prompts are taken out of the queue (status 499 in the
 * metrics) rather than decoded for nobody, so the queue empties long before
 * the 8 x 100 prompts of 200 tokens (within --max-queue's 1,024) could have
 * been generated. */
static void hung_up_requests_leave_the_queue(void **s) {
    (void)s;
    watchdog_start("requests whose clients hung up", 300);
    served sv;
    serve_up(&sv, "--model models/sst2-lm-super --threads 1", 0);
    char body[8192];
    int len = snprintf(body, sizeof body, "{\"prompt\": [");
    for (int i = 0; i < 100; i++) len += snprintf(body + len, sizeof body - (size_t)len, "%s\"Review: a film\"", i ? "," : "");
    len += snprintf(body + len, sizeof body - (size_t)len, "], \"max_tokens\": 200}");
    char head[256];
    const int head_len = snprintf(head, sizeof head, "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                  "application/json\r\nContent-Length: %d\r\n\r\n", len);
    int fds[8];
    for (int i = 0; i < 8; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)sv.port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        assert_int_equal(connect(fds[i], (struct sockaddr *)&a, sizeof a), 0);
        assert_int_equal(write(fds[i], head, (size_t)head_len), head_len);
        assert_int_equal(write(fds[i], body, (size_t)len), len);
    }
    nap(0.2);
    for (int i = 0; i < 8; i++) close(fds[i]);
    const char *gone = "elang_http_requests_total{endpoint=\"/v1/completions\",code=\"499\"}";
    /* The request whose batch was running when its client left finishes that batch (and may count as
     * answered); what it still had queued leaves with the rest. */
    double withdrawn = 0, depth = -1;
    for (int i = 0; i < 200; i++, nap(0.05))
        if ((withdrawn = metric_of(sv.port, gone)) >= 7 && (depth = metric_of(sv.port, "elang_queue_depth")) == 0) break;
    if (withdrawn < 7 || depth != 0)
        fail_msg("10 s after 8 clients hung up: %g requests left the queue, %g inputs still queued", withdrawn, depth);
    assert_int_equal(serve_down(&sv, SIGTERM), 0);
    watchdog_stop();
}

/* SIGTERM with 32 clients sending: the server stops accepting, answers
 * every request it had received, and exits 0; each client's requests end
 * with refused connections, not lost answers. */
static void sigterm_under_load(void **s) {
    (void)s;
    watchdog_start("SIGTERM under load", 600);
    served sv;
    serve_up(&sv, SST2 " --max-delay-ms 20 --max-queue 4096", 0);
    crowd cr;
    crowd_start(&cr, 32, sv.port, 0, true);
    nap(1.5);
    assert_int_equal(serve_down(&sv, SIGTERM), 0);
    client total;
    crowd_join(&cr, &total);
    char *log = serve_log(&sv);
    unsigned long received = 0, complete = 0;
    const char *at = strstr(log, "stopped; ");
    if (!at || sscanf(at, "stopped; %lu requests received, %lu answered in full", &received, &complete) != 2)
        fail_msg("no summary in the log: %s", log);
    free(log);
    print_message("%lu requests received, %lu answered in full, %ld answers seen, %ld turned away while stopping\n",
                  received, complete, total.answered, total.shutting_down);
    if (received != complete || complete != (unsigned long)total.answered)
        fail_msg("received %lu, answered in full %lu, clients got %ld answers", received, complete, total.answered);
    assert_true(total.answered > 32);
    assert_true(total.refused >= 1);
    watchdog_stop();
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(concurrent_load),
        cmocka_unit_test(remote_super_killed_and_back),
        cmocka_unit_test(hung_up_requests_leave_the_queue),
        cmocka_unit_test(sigterm_under_load),
    };
    const int rc = cmocka_run_group_tests(tests, load_expectations, NULL);
    test_tmpdir_cleanup();
    return rc;
}
