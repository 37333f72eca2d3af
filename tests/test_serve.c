/* `elang serve` end to end on loopback: its answers against the CLI's, byte
 * for byte, on the demo pairs and the fixture models, through a local and a
 * remote Super; the KServe v2 layouts; OpenAI's completions API through
 * curl (and the openai npm package when installed) and as the way to a
 * remote Super; every bad request with its status, each followed by a good
 * one; the metrics; and the command's usage errors. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "elang.h"
#include "serve_client.h"
#include "support.h"
#include "util/strbuf.h"

#define SST2 "--swift models/sst2-swift --super models/sst2-super --calibration models/sst2.calib.json --threads 1"
#define M30K "--swift models/multi30k-swift --super models/multi30k-super --calibration models/multi30k.calib.json --threads 1"

static const char *tmp(const char *name) {
    static char path[8][1024];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, sizeof path[0], "%s/%s", test_tmpdir(), name);
    return p;
}

/* stdout of `elang ARGS`, which must succeed. */
static char *cli(const char *args) {
    char cmd[8192], *out, *err;
    snprintf(cmd, sizeof cmd, "%s %s", elang_bin(), args);
    const int rc = run_command(cmd, &out, &err);
    if (rc != 0) fail_msg("`%s` exited %d: %s", cmd, rc, err);
    free(err);
    return out;
}

/* The body a /v1 endpoint answers for inputs whose CLI lines are `jsonl`. */
static char *as_outputs(const char *jsonl) {
    const size_t n = strlen(jsonl);
    char *body = malloc(n + 32), *o = body;
    o += sprintf(o, "{\"outputs\":[");
    for (const char *p = jsonl; *p;) {
        const char *end = strchr(p, '\n');
        const size_t len = end ? (size_t)(end - p) : strlen(p);
        if (o[-1] != '[') *o++ = ',';
        memcpy(o, p, len), o += len;
        p += len + (end != NULL);
    }
    strcpy(o, "]}");
    return body;
}

/* The JSONL inputs of `path` as a /v1 request body. */
static char *v1_request(const char *path) {
    size_t n;
    json_t **rows = read_jsonl(path, &n), *inputs = json_array();
    for (size_t i = 0; i < n; i++) json_array_append(inputs, rows[i]);
    json_t *req = json_pack("{s:o}", "inputs", inputs);
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    free_jsonl(rows, n);
    return body;
}

/* Writes the first `most` lines of a text file as JSONL inputs with ids. */
static const char *jsonl_of_lines(const char *src, const char *name, int most) {
    FILE *in = fopen(src, "r"), *out = fopen(tmp(name), "w");
    assert_non_null(in), assert_non_null(out);
    char line[4096];
    for (int i = 0; i < most && fgets(line, sizeof line, in); i++) {
        line[strcspn(line, "\n")] = '\0';
        json_t *o = json_pack("{s:s, s:s+}", "text", line, "id", "line-", i % 2 ? "odd" : "even");
        json_object_set_new(o, "n", json_integer(i));
        char *s = json_dumps(o, JSON_COMPACT);
        fprintf(out, "%s\n", s);
        free(s), json_decref(o);
    }
    fclose(in), fclose(out);
    return tmp(name);
}

static void post_expect(CURL *c, int port, const char *path, const char *body, long status, const char *want) {
    http_result r;
    http_call(c, port, path, body, strlen(body), &r);
    if (r.status != status || (want && strcmp(r.body, want) != 0))
        fail_msg("POST %s: status %ld (want %ld), body %.3000s\nwant %.3000s", path, r.status, status, r.body,
                 want ? want : "-");
    http_result_free(&r);
}

/* The demo pairs' example inputs in one request each: the body is the
 * CLI's lines, byte for byte, for route, and for classify and generate on
 * each model by name. */
static void demo_pairs_answer_as_the_cli(void **s) {
    (void)s;
    watchdog_start("demo pairs through elang serve", 300);
    CURL *c = curl_easy_init();
    const char *reviews = jsonl_of_lines("examples/reviews.txt", "reviews.jsonl", INT32_MAX);
    const char *captions = jsonl_of_lines("examples/captions.en", "captions.jsonl", INT32_MAX);
    struct {
        const char *pair, *input, *model_cmd[2], *names[2];
    } cases[2] = {
        {SST2, reviews, {"classify --model models/sst2-swift", "classify --model models/sst2-super"},
         {"sst2-swift", "super"}},
        {M30K, captions,
         {"generate --model models/multi30k-swift --prefix 'translate English to German: ' --batch-size 32",
          "generate --model models/multi30k-super --prefix 'translate English to German: ' --batch-size 32"},
         {"swift", "multi30k-super"}},
    };
    for (int k = 0; k < 2; k++) {
        served sv;
        serve_up(&sv, cases[k].pair, 0);
        char args[4096], *body = v1_request(cases[k].input);
        snprintf(args, sizeof args, "route %s --input %s", cases[k].pair, cases[k].input);
        char *lines = cli(args), *want = as_outputs(lines);
        post_expect(c, sv.port, "/v1/route", body, 200, want);
        free(lines), free(want);
        for (int m = 0; m < 2; m++) {
            snprintf(args, sizeof args, "%s --threads 1 --input %s", cases[k].model_cmd[m], cases[k].input);
            lines = cli(args), want = as_outputs(lines);
            json_t *req = json_loads(body, 0, NULL);
            json_object_set_new(req, "model", json_string(cases[k].names[m]));
            char *named = json_dumps(req, JSON_COMPACT);
            post_expect(c, sv.port, k ? "/v1/generate" : "/v1/classify", named, 200, want);
            free(named), json_decref(req), free(lines), free(want);
        }
        free(body);
        assert_int_equal(serve_down(&sv, SIGTERM), 0);
    }
    curl_easy_cleanup(c);
    watchdog_stop();
}

/* The fixture cases (classifiers with text pairs; T5 v1.0 and v1.1; Marian)
 * through a router with a threshold between their scores, the same router
 * with its Super served by another elang over KServe v2, and one model
 * served alone: each the CLI's bytes. */
static const char *fixture_inputs(const char *model, const char *key, const char *name) {
    size_t n;
    json_t **rows = read_jsonl(shared_path(model), &n);
    FILE *out = fopen(tmp(name), "w");
    for (size_t i = 0; i < n; i++) {
        json_t *text = json_object_get(rows[i], key);
        if (!json_is_string(text)) continue; /* the batch line */
        json_t *o = json_pack("{s:O, s:I}", "text", text, "id", (json_int_t)i);
        if (json_object_get(rows[i], "text_pair")) json_object_set(o, "text_pair", json_object_get(rows[i], "text_pair"));
        char *line = json_dumps(o, JSON_COMPACT);
        fprintf(out, "%s\n", line);
        free(line), json_decref(o);
    }
    fclose(out);
    free_jsonl(rows, n);
    return tmp(name);
}

static void fixtures_answer_as_the_cli(void **s) {
    (void)s;
    watchdog_start("fixtures through elang serve", 300);
    CURL *c = curl_easy_init();
    struct {
        const char *swift, *super, *input, *flags;
    } cases[2] = {
        {"fixtures/hf/bert", "fixtures/hf/roberta", fixture_inputs("fixtures/hf/bert/cases.jsonl", "text", "cls.jsonl"),
         "--threshold 2.0 --threads 1"},
        {"fixtures/hf/t5", "fixtures/hf/t5-v1_1", fixture_inputs("fixtures/hf/t5/cases.jsonl", "src", "t5.jsonl"),
         "--threshold 8.17 --max-new-tokens 12 --threads 1"},
    };
    for (int k = 0; k < 2; k++) {
        char args[8192], flags[4096];
        char *body = v1_request(cases[k].input);
        snprintf(flags, sizeof flags, "--swift %s --super %s %s", shared_path(cases[k].swift), shared_path(cases[k].super),
                 cases[k].flags);
        snprintf(args, sizeof args, "route %s --input %s", flags, cases[k].input);
        char *lines = cli(args), *want = as_outputs(lines);
        assert_non_null(strstr(lines, "\"route\":\"super\"")), assert_non_null(strstr(lines, "\"route\":\"swift\""));
        served local, super, remote;
        serve_up(&local, flags, 0);
        post_expect(c, local.port, "/v1/route", body, 200, want);
        assert_int_equal(serve_down(&local, SIGTERM), 0);
        /* Super elsewhere: the same bytes, Super's floats carried exactly. */
        snprintf(args, sizeof args, "--model %s --threads 1%s", shared_path(cases[k].super),
                 k ? " --max-new-tokens 12" : "");
        serve_up(&super, args, 0);
        const char *name = strrchr(cases[k].super, '/') + 1;
        snprintf(flags, sizeof flags, "--swift %s --super http://127.0.0.1:%d/v2/models/%s %s", shared_path(cases[k].swift),
                 super.port, name, cases[k].flags);
        serve_up(&remote, flags, 0);
        post_expect(c, remote.port, "/v1/route", body, 200, want);
        assert_int_equal(serve_down(&remote, SIGTERM), 0);
        assert_int_equal(serve_down(&super, SIGTERM), 0);
        free(body), free(lines), free(want);
    }
    /* Marian served alone. */
    const char *marian = shared_path("fixtures/hf/marian");
    const char *input = fixture_inputs("fixtures/hf/marian/cases.jsonl", "src", "marian.jsonl");
    char args[4096];
    snprintf(args, sizeof args, "generate --model %s --max-new-tokens 12 --batch-size 32 --input %s", marian, input);
    char *lines = cli(args), *want = as_outputs(lines), *body = v1_request(input);
    served one;
    snprintf(args, sizeof args, "--model %s --max-new-tokens 12 --threads 1", marian);
    serve_up(&one, args, 0);
    post_expect(c, one.port, "/v1/generate", body, 200, want);
    post_expect(c, one.port, "/v1/route", body, 404, NULL);
    assert_int_equal(serve_down(&one, SIGTERM), 0);
    free(lines), free(want), free(body);
    curl_easy_cleanup(c);
    watchdog_stop();
}

/* A JSON body, parsed; fails the test when it is not JSON. */
static json_t *json_of(const http_result *r) {
    json_error_t je;
    json_t *j = json_loadb(r->body, r->len, 0, &je);
    if (!j) fail_msg("not JSON (%s): %.500s", je.text, r->body);
    return j;
}

static json_t *get_json(CURL *c, int port, const char *path, long status) {
    http_result r;
    http_call(c, port, path, NULL, 0, &r);
    if (r.status != status) fail_msg("GET %s: %ld, want %ld: %s", path, r.status, status, r.body);
    json_t *j = json_of(&r);
    http_result_free(&r);
    return j;
}

/* The output tensor `name` of a v2 answer, its shape checked against its
 * data and datatype. */
static json_t *tensor(json_t *resp, const char *name, const char *datatype, size_t rows, size_t cols) {
    json_t *outs = json_object_get(resp, "outputs");
    for (size_t i = 0; i < json_array_size(outs); i++) {
        json_t *t = json_array_get(outs, i);
        if (strcmp(json_string_value(json_object_get(t, "name")), name) != 0) continue;
        assert_string_equal(json_string_value(json_object_get(t, "datatype")), datatype);
        json_t *shape = json_object_get(t, "shape");
        assert_int_equal(json_array_size(shape), cols ? 2 : 1);
        assert_int_equal(json_integer_value(json_array_get(shape, 0)), rows);
        if (cols) assert_int_equal(json_integer_value(json_array_get(shape, 1)), cols);
        assert_int_equal(json_array_size(json_object_get(t, "data")), rows * (cols ? cols : 1));
        return json_object_get(t, "data");
    }
    fail_msg("no output tensor \"%s\"", name);
    return NULL;
}

static void close_to(double got, double want, double rel, const char *what, size_t i) {
    if (!(fabs(got - want) <= rel * fmax(1.0, fabs(want)))) fail_msg("%s of input %zu: %.9g, want %.9g", what, i, got, want);
}

/* The Open Inference Protocol: health, server and model metadata, and
 * infer with flat and nested BYTES tensors, a text_pair, a request id and
 * chosen outputs, its answers those of `elang route`; then /metrics counts
 * what was asked. */
static void kserve_v2_protocol(void **s) {
    (void)s;
    watchdog_start("the v2 protocol", 300);
    CURL *c = curl_easy_init();
    served sv;
    serve_up(&sv, SST2, 0);
    json_t *j = get_json(c, sv.port, "/v2/health/live", 200);
    assert_true(json_is_true(json_object_get(j, "live")));
    json_decref(j);
    j = get_json(c, sv.port, "/v2/health/ready", 200);
    assert_true(json_is_true(json_object_get(j, "ready")));
    json_decref(j);
    j = get_json(c, sv.port, "/v2", 200);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "elang");
    assert_true(json_is_array(json_object_get(j, "extensions")));
    json_decref(j);
    const char *names[] = {"elang", "sst2-swift", "sst2-super", "swift", "super"};
    for (int k = 0; k < 5; k++) {
        char path[256];
        snprintf(path, sizeof path, "/v2/models/%s", names[k]);
        j = get_json(c, sv.port, path, 200);
        assert_string_equal(json_string_value(json_object_get(j, "name")), names[k]);
        json_t *in = json_object_get(j, "inputs"), *out = json_object_get(j, "outputs");
        assert_string_equal(json_string_value(json_object_get(json_array_get(in, 0), "name")), "text");
        assert_string_equal(json_string_value(json_object_get(json_array_get(in, 0), "datatype")), "BYTES");
        assert_string_equal(json_string_value(json_object_get(json_array_get(in, 1), "name")), "text_pair");
        bool has_route = false;
        for (size_t i = 0; i < json_array_size(out); i++)
            has_route |= strcmp(json_string_value(json_object_get(json_array_get(out, i), "name")), "route") == 0;
        assert_int_equal(has_route, k == 0);
        json_decref(j);
        snprintf(path, sizeof path, "/v2/models/%s/ready", names[k]);
        j = get_json(c, sv.port, path, 200);
        assert_true(json_is_true(json_object_get(j, "ready")));
        json_decref(j);
    }
    j = get_json(c, sv.port, "/v2/models/nope", 404);
    assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "nope"));
    json_decref(j);

    /* Infer on the router: the CLI's labels, routes, scores and numbers. */
    const char *reviews = jsonl_of_lines("examples/reviews.txt", "v2-reviews.jsonl", INT32_MAX);
    char args[4096];
    snprintf(args, sizeof args, "route %s --input %s", SST2, reviews);
    char *lines = cli(args);
    size_t n = 0;
    json_t *want[64], *texts = json_array(), *nested = json_array();
    for (char *line = strtok(lines, "\n"); line; line = strtok(NULL, "\n")) want[n++] = json_loads(line, 0, NULL);
    FILE *f = fopen("examples/reviews.txt", "r");
    char text[4096];
    while (fgets(text, sizeof text, f)) {
        text[strcspn(text, "\n")] = '\0';
        json_array_append_new(texts, json_string(text));
        json_array_append_new(nested, json_pack("[s]", text));
    }
    fclose(f);
    assert_int_equal(json_array_size(texts), n);
    for (int form = 0; form < 2; form++) {
        json_t *req = json_pack("{s:s, s:[{s:s, s:[I], s:s, s:O}]}", "id", "req-7", "inputs", "name", "text", "shape",
                                (json_int_t)n, "datatype", "BYTES", "data", form ? nested : texts);
        if (form) json_array_append_new(json_object_get(json_array_get(json_object_get(req, "inputs"), 0), "shape"),
                                        json_integer(1));
        char *body = json_dumps(req, JSON_COMPACT);
        http_result r;
        http_call(c, sv.port, "/v2/models/elang/infer", body, strlen(body), &r);
        if (r.status != 200) fail_msg("infer: %ld %s", r.status, r.body);
        json_t *resp = json_of(&r);
        assert_string_equal(json_string_value(json_object_get(resp, "model_name")), "elang");
        assert_string_equal(json_string_value(json_object_get(resp, "id")), "req-7");
        json_t *label = tensor(resp, "label", "BYTES", n, 0), *route = tensor(resp, "route", "BYTES", n, 0);
        json_t *logits = tensor(resp, "logits", "FP32", n, 2), *score = tensor(resp, "score", "FP64", n, 0);
        json_t *degraded = tensor(resp, "degraded", "BOOL", n, 0), *energy = tensor(resp, "energy", "FP64", n, 0);
        tensor(resp, "probs", "FP32", n, 2), tensor(resp, "label_id", "INT64", n, 0);
        for (size_t i = 0; i < n; i++) {
            assert_string_equal(json_string_value(json_array_get(label, i)), json_string_value(json_object_get(want[i], "label")));
            assert_string_equal(json_string_value(json_array_get(route, i)), json_string_value(json_object_get(want[i], "route")));
            assert_true(json_is_false(json_array_get(degraded, i)));
            close_to(json_real_value(json_array_get(score, i)), json_real_value(json_object_get(want[i], "score")), 1e-7, "score", i);
            close_to(json_real_value(json_array_get(energy, i)), json_real_value(json_object_get(want[i], "energy")), 1e-7, "energy", i);
            for (size_t k = 0; k < 2; k++)
                close_to(json_real_value(json_array_get(logits, 2 * i + k)),
                         json_real_value(json_array_get(json_object_get(want[i], "logits"), k)), 1e-7, "logit", i);
        }
        json_decref(resp), json_decref(req);
        http_result_free(&r), free(body);
    }
    /* One model, a text pair, and only the outputs asked for, in the order asked (the server's own puts label first). */
    const char *pair_req = "{\"inputs\":[{\"name\":\"text\",\"shape\":[2],\"datatype\":\"BYTES\",\"data\":[\"a fine "
                           "film\",\"dull\"]},{\"name\":\"text_pair\",\"shape\":[2],\"datatype\":\"BYTES\",\"data\":[\"yes\","
                           "\"no\"]}],\"outputs\":[{\"name\":\"energy\"},{\"name\":\"label\"},{\"name\":\"energy\"}]}";
    http_result r;
    http_call(c, sv.port, "/v2/models/super/versions/1/infer", pair_req, strlen(pair_req), &r);
    assert_int_equal(r.status, 200);
    json_t *resp = json_of(&r);
    assert_int_equal(json_array_size(json_object_get(resp, "outputs")), 2);
    tensor(resp, "label", "BYTES", 2, 0), tensor(resp, "energy", "FP64", 2, 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(resp, "outputs"), 0), "name")),
                        "energy");
    assert_null(json_object_get(resp, "id"));
    json_decref(resp), http_result_free(&r);
    /* The metrics count what was asked: 2 route requests of n inputs. */
    http_call(c, sv.port, "/metrics", NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(metric_value(r.body, "elang_http_requests_total{endpoint=\"/v2/infer\",code=\"200\"}"), 3);
    assert_int_equal(metric_value(r.body, "elang_http_errors_total{endpoint=\"/v2/metadata\",code=\"404\"}"), 1);
    const double swift = metric_value(r.body, "elang_inputs_total{answered_by=\"swift\"}");
    const double super = metric_value(r.body, "elang_inputs_total{answered_by=\"super\"}");
    assert_int_equal(swift + super, 2 * n);
    assert_true(super > 0);
    close_to(metric_value(r.body, "elang_super_rate"), super / (swift + super), 1e-5, "super rate", 0);
    assert_int_equal(metric_value(r.body, "elang_model_inputs_total"), 2);
    assert_int_equal(metric_value(r.body, "elang_degraded_total"), 0);
    assert_int_equal(metric_value(r.body, "elang_queue_depth"), 0);
    /* Every sample line is NAME{LABELS} VALUE; histograms are cumulative
     * and end at +Inf with their count. */
    double last = -1;
    for (char *line = strtok(r.body, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') continue;
        const size_t name_len = strspn(line, "abcdefghijklmnopqrstuvwxyz_");
        const char *value = strrchr(line, ' ');
        assert_true(name_len > 0 && value && (line[name_len] == ' ' || (line[name_len] == '{' && value[-1] == '}')));
        char *end;
        const double v = strtod(value + 1, &end);
        assert_true(*end == '\0' && v >= 0);
        const bool bucket = strstr(line, "_bucket{") != NULL;
        if (bucket && last >= 0) assert_true(v >= last);
        last = bucket ? (strstr(line, "le=\"+Inf\"") ? -1 : v) : -1;
    }
    http_result_free(&r);
    assert_int_equal(serve_down(&sv, SIGTERM), 0);
    for (size_t i = 0; i < n; i++) json_decref(want[i]);
    json_decref(texts), json_decref(nested), free(lines);
    curl_easy_cleanup(c);
    watchdog_stop();
}

typedef struct {
    int port;
    const char *body;
    long status;
} async_post;

static void *post_in_background(void *arg) {
    async_post *a = arg;
    CURL *c = curl_easy_init();
    http_result r;
    http_call(c, a->port, "/v1/route", a->body, strlen(a->body), &r);
    a->status = r.status;
    http_result_free(&r);
    curl_easy_cleanup(c);
    return NULL;
}

/* Every kind of bad request gets its status and a message naming the
 * fault, and the server answers the next good request. */
static void bad_requests_get_their_status(void **s) {
    (void)s;
    watchdog_start("bad requests", 300);
    CURL *c = curl_easy_init();
    served sv;
    serve_up(&sv, SST2 " --max-body-mb 1 --max-queue 16 --max-text-chars 19000", 0);
    const char good[] = "{\"inputs\":[{\"text\":\"a fine film\",\"id\":1},{\"text\":\"dull\",\"id\":2}]}";
    char *big = malloc((3 << 19) + 64), *many = malloc(4096), *bad_utf8 = strdup("{\"inputs\":[{\"text\":\"ab\xff\"}]}");
    sprintf(big, "{\"inputs\":[{\"text\":\"");
    memset(big + strlen(big), 'a', 3 << 19);
    strcpy(big + 22 + (3 << 19), "\"}]}");
    strcpy(many, "{\"inputs\":[");
    for (int i = 0; i < 17; i++) strcat(many, i ? ",{\"text\":\"x\"}" : "{\"text\":\"x\"}");
    strcat(many, "]}");
    const char *v2 = "/v2/models/elang/infer";
    const struct {
        const char *method, *path, *body;
        long status;
        const char *says;
    } cases[] = {
        {"POST", "/v1/route", "{\"inputs\": [", 400, "malformed JSON at line 1, column"},
        {"POST", "/v1/route", "[1, 2]", 400, "must be a JSON object"},
        {"POST", "/v1/route", "{\"inputs\": \"a fine film\"}", 400, "\"inputs\" is not an array"},
        {"POST", "/v1/route", "{\"text\": \"a fine film\"}", 400, "\"inputs\" is missing"},
        {"POST", "/v1/route", "{\"inputs\": [{\"id\": 1}]}", 400, "input 0: field \"text\" is missing"},
        {"POST", "/v1/route", "{\"inputs\": [{\"text\": \"ok\"}, {\"text\": 7}]}", 400, "input 1: field \"text\" is not a string"},
        {"POST", "/v1/route", "{\"inputs\": [{\"text\": \"a\", \"text_pair\": [1]}]}", 400, "\"text_pair\" must be a string"},
        {"POST", "/v1/route", "{\"inputs\": [\"a fine film\"]}", 400, "input 0 is not an object"},
        {"POST", "/v1/route", bad_utf8, 400, "invalid UTF-8 at byte offset"},
        {"POST", "/v1/route", "{\"inputs\": [{\"text\": \"a\\u0000b\"}]}", 400, "NUL"},
        {"POST", "/v1/route", "{\"inputs\": []}", 400, "\"inputs\" is empty"},
        {"POST", "/v1/route", "{\"inputs\": [{\"text\": \"a\"}], \"inputs\": []}", 400, "duplicate object key"},
        {"POST", "/v1/route", many, 422, "the request has 17 inputs; this server takes at most 16"},
        {"POST", "/v1/route", big, 413, "at most 1048576"},
        {"POST", "/v1/classify", "{\"model\": \"nope\", \"inputs\": [{\"text\": \"a\"}]}", 404, "no model \"nope\""},
        {"POST", "/v1/route", "{\"model\": \"swift\", \"inputs\": [{\"text\": \"a\"}]}", 404,
         "/v1/route routes with model \"elang\", not \"swift\""},
        {"POST", "/v1/classify", "{\"model\": 3, \"inputs\": [{\"text\": \"a\"}]}", 400, "\"model\" must be a string"},
        {"POST", "/v1/classify", "{\"model\": \"elang\", \"inputs\": [{\"text\": \"a\"}]}", 400,
         "model \"elang\" is the router; use /v1/route"},
        {"POST", "/v1/generate", "{\"inputs\": [{\"text\": \"a\"}]}", 400, "classifies; use /v1/classify"},
        {"GET", "/v1/route", NULL, 405, "takes POST"},
        {"POST", "/healthz", "{}", 405, "takes GET"},
        {"GET", "/v1/nope", NULL, 404, "no such endpoint"},
        {"GET", "/healthz%00junk", NULL, 404, "no such endpoint: /healthz%00junk"},
        {"GET", "/v2/models/elang/versions/2", NULL, 404, "model \"elang\" has one version, \"1\""},
        /* a byte that is no UTF-8 (%ff) quoted in the message: replaced, so the body stays JSON */
        {"GET", "/v1/nope%ff", NULL, 404, "no such endpoint: /v1/nope\xef\xbf\xbd"},
        {"POST", "/v1/completions", "{\"prompt\": \"a fine film\"}", 400, "model \"elang\" answers labels, not text"},
        {"POST", "/v1/completions", "{\"model\": \"super\", \"prompt\": \"a\"}", 400, "use /v1/classify"},
        {"POST", "/v1/completions", "{\"prompt\": \"a\", \"stream\": true}", 400, "streaming is not supported"},
        {"GET", "/v1/completions", NULL, 405, "takes POST"},
        {"POST", "/v1/models", "{}", 405, "takes GET"},
        {"POST", v2, "{\"inputs\": [{\"name\": \"text\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}]}", 400,
         "datatype must be \"BYTES\""},
        {"POST", v2, "{\"inputs\": [{\"name\": \"text\", \"shape\": [2], \"datatype\": \"BYTES\", \"data\": [\"a\"]}]}",
         400, "shape says 2 elements but \"data\" holds 1"},
        {"POST", v2, "{\"inputs\": [{\"name\": \"text\", \"shape\": [1, 2], \"datatype\": \"BYTES\", \"data\": [\"a\", "
                     "\"b\"]}]}", 400, "shape must be [n] or [n, 1]"},
        {"POST", v2, "{\"inputs\": [{\"name\": \"txt\", \"shape\": [1], \"datatype\": \"BYTES\", \"data\": [\"a\"]}]}", 400,
         "unknown input tensor \"txt\""},
        {"POST", v2, "{\"inputs\": [{\"name\": \"text\", \"shape\": [1], \"datatype\": \"BYTES\", \"data\": [3]}]}", 400,
         "element 0 is not a string"},
        {"POST", v2, "{\"inputs\": [{\"name\": \"text\", \"shape\": [1], \"datatype\": \"BYTES\", \"data\": [\"a\"]}, {\"name\": "
                     "\"text_pair\", \"shape\": [2], \"datatype\": \"BYTES\", \"data\": [\"a\", \"b\"]}]}", 400,
         "\"text_pair\" has 2 elements but \"text\" has 1"},
        {"POST", v2, "{\"inputs\": [{\"name\": \"text\", \"shape\": [1], \"datatype\": \"BYTES\", \"data\": [\"a\"]}], "
                     "\"outputs\": [{\"name\": \"text\"}]}", 400, "no output \"text\""},
        {"POST", v2, "{\"inputs\": [{\"name\": \"text\", \"shape\": [1], \"datatype\": \"BYTES\", \"parameters\": "
                     "{\"binary_data_size\": 4}}]}", 400, "binary tensor data is not supported"},
        {"POST", v2, "{\"id\": 5, \"inputs\": []}", 400, "\"id\" must be a string"},
        {"POST", v2, "{\"inputs\": []}", 400, "\"text\" is missing"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        http_result r;
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, cases[k].method);
        http_call(c, sv.port, cases[k].path, cases[k].body, cases[k].body ? strlen(cases[k].body) : 0, &r);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
        json_t *j = r.status ? json_of(&r) : NULL;
        const char *msg = json_string_value(json_object_get(j, "error"));
        if (r.status != cases[k].status || !msg || !strstr(msg, cases[k].says))
            fail_msg("case %zu (%s %s): status %ld, body %.300s; want %ld and \"%s\"", k, cases[k].method, cases[k].path,
                     r.status, r.body, cases[k].status, cases[k].says);
        json_decref(j), http_result_free(&r);
        http_call(c, sv.port, "/v1/route", good, strlen(good), &r);
        if (r.status != 200) fail_msg("the good request after case %zu: %ld %s", k, r.status, r.body);
        j = json_of(&r);
        assert_int_equal(json_array_size(json_object_get(j, "outputs")), 2);
        json_decref(j), http_result_free(&r);
    }
    /* HEAD where GET is taken (no body); a 405 names the methods the path takes; an empty body is said so. */
    CURL *head = curl_easy_init();
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/healthz", sv.port);
    curl_easy_setopt(head, CURLOPT_URL, url);
    curl_easy_setopt(head, CURLOPT_NOBODY, 1L);
    assert_int_equal(curl_easy_perform(head), CURLE_OK);
    long head_status = 0;
    curl_easy_getinfo(head, CURLINFO_RESPONSE_CODE, &head_status);
    assert_int_equal(head_status, 200);
    curl_easy_cleanup(head);
    http_result r405;
    http_call(c, sv.port, "/healthz", "{}", 2, &r405);
    assert_int_equal(r405.status, 405);
    assert_string_equal(r405.allow, "GET, HEAD");
    http_result_free(&r405);
    http_call(c, sv.port, "/v1/route", "", 0, &r405);
    assert_int_equal(r405.status, 400);
    assert_non_null(strstr(r405.body, "the request has no body"));
    assert_string_equal(r405.allow, "");
    http_result_free(&r405);
    /* A text of more characters than --max-text-chars, counted as NFKD
     * decomposes them (U+FDFA is 18 characters in 3 bytes), is refused, in
     * the text or the pair. */
    strbuf many_chars = {0};
    assert_true(strbuf_puts(&many_chars, "{\"inputs\": [{\"text\": \"a\"}, {\"text\": \"a\", \"text_pair\": \""));
    for (int i = 0; i < 1056; i++) assert_true(strbuf_puts(&many_chars, "\uFDFA"));
    assert_true(strbuf_puts(&many_chars, "\"}]}"));
    post_expect(c, sv.port, "/v1/route", many_chars.s, 413,
                "{\"error\":\"input 1 has a text of 19008 characters (decomposed, NFKD); this server takes at most "
                "19000 (--max-text-chars)\"}");
    strbuf_free(&many_chars);
    /* A text far over the models' 128 positions is cut as the CLI cuts it
     * (19,000 characters: at --max-text-chars, taken). */
    const char *long_in = tmp("long.jsonl");
    FILE *f = fopen(long_in, "w");
    fprintf(f, "{\"text\": \"");
    for (int i = 0; i < 3000; i++) fprintf(f, "%s ", i % 3 ? "moving" : "dull");
    fprintf(f, "\"}\n");
    fclose(f);
    char args[4096];
    snprintf(args, sizeof args, "route %s --input %s", SST2, long_in);
    char *lines = cli(args), *want = as_outputs(lines), *body = v1_request(long_in);
    post_expect(c, sv.port, "/v1/route", body, 200, want);
    free(lines), free(want), free(body);
    assert_int_equal(serve_down(&sv, SIGTERM), 0);

    /* A batch that waits for inputs outlives the timeout (504); a request
     * the queue has no room for is turned away at once (503, Retry-After);
     * a full batch runs at once. */
    serve_up(&sv, SST2 " --max-batch 8 --max-delay-ms 1500 --timeout-ms 400 --max-queue 8", 0);
    async_post one = {sv.port, "{\"inputs\": [{\"text\": \"alone\"}]}", -1};
    pthread_t t;
    pthread_create(&t, NULL, post_in_background, &one);
    struct timespec pause = {0, 150 * 1000 * 1000};
    nanosleep(&pause, NULL);
    char eight[512] = "{\"inputs\": [";
    for (int i = 0; i < 8; i++) strcat(eight, i ? ", {\"text\": \"fine\"}" : "{\"text\": \"fine\"}");
    strcat(eight, "]}");
    http_result r;
    http_call(c, sv.port, "/v1/route", eight, strlen(eight), &r);
    assert_int_equal(r.status, 503);
    assert_string_equal(r.retry_after, " 1");
    assert_non_null(strstr(r.body, "--max-queue"));
    http_result_free(&r);
    pthread_join(t, NULL);
    assert_int_equal(one.status, 504);
    http_call(c, sv.port, "/v1/route", eight, strlen(eight), &r);
    assert_int_equal(r.status, 200);
    http_result_free(&r);
    http_call(c, sv.port, "/metrics", NULL, 0, &r);
    assert_int_equal(metric_value(r.body, "elang_http_errors_total{endpoint=\"/v1/route\",code=\"504\"}"), 1);
    assert_int_equal(metric_value(r.body, "elang_http_errors_total{endpoint=\"/v1/route\",code=\"503\"}"), 1);
    /* The timed-out input left the queue unanswered: only the full batch ran. */
    assert_int_equal(metric_value(r.body, "elang_batch_size_sum"), 8);
    http_result_free(&r);
    assert_int_equal(serve_down(&sv, SIGTERM), 0);
    free(big), free(many), free(bad_utf8);
    curl_easy_cleanup(c);
    watchdog_stop();
}

/* `curl ARGS`, the command-line client: the JSON it got, and the status. */
static json_t *curl_json(const char *args, long *status) {
    char cmd[16384], *out, *err;
    snprintf(cmd, sizeof cmd, "curl -sS -w '\\n%%{http_code}' %s", args);
    if (run_command(cmd, &out, &err) != 0) fail_msg("`%s` failed: %s", cmd, err);
    char *nl = strrchr(out, '\n');
    assert_non_null(nl);
    *status = strtol(nl + 1, NULL, 10);
    *nl = '\0';
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j) fail_msg("`%s` answered no JSON (%s): %s", cmd, je.text, out);
    free(out), free(err);
    return j;
}

/* POSTs body (consumed) to path with curl. */
static json_t *curl_post(int port, const char *path, json_t *body, long *status) {
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    const char *file = tmp("curl-body.json");
    write_file(file, text, strlen(text));
    free(text);
    char args[4096];
    snprintf(args, sizeof args, "-H 'Content-Type: application/json' --data-binary @%s http://127.0.0.1:%d%s", file,
             port, path);
    return curl_json(args, status);
}

/* The CLI's JSON lines, parsed: at most 64. */
static size_t parse_lines(char *lines, json_t **rows) {
    size_t n = 0;
    for (char *line = strtok(lines, "\n"); line && n < 64; line = strtok(NULL, "\n")) {
        json_error_t je;
        if (!(rows[n++] = json_loads(line, 0, &je))) fail_msg("not JSON (%s): %s", je.text, line);
    }
    return n;
}

static const char *str_of(json_t *o, const char *key) {
    const char *v = json_string_value(json_object_get(o, key));
    if (!v) fail_msg("no string \"%s\" in %s", key, json_dumps(o, JSON_COMPACT));
    return v;
}

/* The prompts of a JSONL input file, as a JSON array. */
static json_t *prompts_of(const char *path) {
    size_t n;
    json_t **rows = read_jsonl(path, &n), *prompts = json_array();
    for (size_t i = 0; i < n; i++) json_array_append(prompts, json_object_get(rows[i], "text"));
    free_jsonl(rows, n);
    return prompts;
}

/* A choice of a completions answer, its index checked. */
static json_t *choice(json_t *answer, size_t i) {
    json_t *c = json_array_get(json_object_get(answer, "choices"), i);
    if (json_integer_value(json_object_get(c, "index")) != (json_int_t)i || !json_is_null(json_object_get(c, "logprobs")))
        fail_msg("choice %zu: %s", i, json_dumps(c, JSON_COMPACT));
    return c;
}

/* The text a completion answers for a CLI line: its text before the first
 * stop string. */
static char *cut_at(const char *text, const char *stop) {
    const char *at = stop ? strstr(text, stop) : NULL;
    return strndup(text, at ? (size_t)(at - text) : strlen(text));
}

/* POST /v1/completions and GET /v1/models with curl on a language model:
 * the texts of `elang generate` (at the server's max_new_tokens, at the
 * request's, and cut before a stop string), finish reasons, usage, OpenAI's
 * answer shape; what greedy decoding cannot do is refused with 400. */
static void openai_completions_with_curl(void **s) {
    (void)s;
    watchdog_start("/v1/completions with curl", 300);
    char model[2048], args[8192];
    snprintf(model, sizeof model, "%s", shared_path("fixtures/hf/gpt2"));
    const char *in = jsonl_of_lines(shared_path("data/multi30k/val.en"), "lm8.jsonl", 8);
    json_t *want[2][64];
    const int tokens[2] = {6, 2};
    size_t n = 0;
    for (int k = 0; k < 2; k++) {
        snprintf(args, sizeof args, "generate --model %s --max-new-tokens %d --emit-ids --input %s", model, tokens[k], in);
        char *lines = cli(args);
        n = parse_lines(lines, want[k]);
        free(lines);
    }
    assert_int_equal(n, 8);
    /* A stop string: the first letter after the first one in any text. */
    char stop[2] = "";
    for (size_t i = 0; i < n && !stop[0]; i++) {
        const char *t = str_of(want[0][i], "text");
        for (size_t j = 1; t[j] && !stop[0]; j++)
            if ((t[j] >= 'a' && t[j] <= 'z') || (t[j] >= 'A' && t[j] <= 'Z')) stop[0] = t[j];
    }
    assert_true(stop[0] != '\0');
    served sv;
    snprintf(args, sizeof args, "--model %s --max-new-tokens 6 --threads 1", model);
    serve_up(&sv, args, 0);
    long status;
    /* max_tokens: the server's when left out, else the request's; a stop
     * string (in an array, as clients send several). */
    const struct {
        int max_tokens, answer;
        bool stop;
    } asks[] = {{0, 0, false}, {6, 0, false}, {2, 1, false}, {6, 0, true}};
    for (size_t a = 0; a < sizeof asks / sizeof asks[0]; a++) {
        json_t *body = json_pack("{s:s, s:o, s:i}", "model", "gpt2", "prompt", prompts_of(in), "temperature", 0);
        if (asks[a].max_tokens) json_object_set_new(body, "max_tokens", json_integer(asks[a].max_tokens));
        if (asks[a].stop) json_object_set_new(body, "stop", json_pack("[s, s]", stop, "never-generated"));
        json_t *r = curl_post(sv.port, "/v1/completions", body, &status);
        if (status != 200) fail_msg("ask %zu: %ld %s", a, status, json_dumps(r, JSON_COMPACT));
        assert_string_equal(str_of(r, "object"), "text_completion");
        assert_string_equal(str_of(r, "model"), "gpt2");
        assert_true(strncmp(str_of(r, "id"), "cmpl-", 5) == 0);
        assert_true(json_integer_value(json_object_get(r, "created")) > 1700000000);
        assert_int_equal(json_array_size(json_object_get(r, "choices")), n);
        json_int_t prompt_tokens = 0, completion_tokens = 0;
        for (size_t i = 0; i < n; i++) {
            json_t *w = want[asks[a].answer][i], *c = choice(r, i);
            const size_t steps = json_array_size(json_object_get(w, "token_logprobs"));
            char *text = cut_at(str_of(w, "text"), asks[a].stop ? stop : NULL);
            const bool stopped = asks[a].stop && strstr(str_of(w, "text"), stop);
            const int most = tokens[asks[a].answer];
            assert_string_equal(str_of(c, "text"), text);
            assert_string_equal(str_of(c, "finish_reason"), !stopped && steps >= (size_t)most ? "length" : "stop");
            assert_true(json_is_real(json_object_get(json_object_get(c, "elang"), "energy")));
            prompt_tokens += (json_int_t)json_array_size(json_object_get(w, "input_ids"));
            completion_tokens += (json_int_t)steps;
            free(text);
        }
        json_t *usage = json_object_get(r, "usage");
        if (!asks[a].stop) {
            assert_int_equal(json_integer_value(json_object_get(usage, "prompt_tokens")), prompt_tokens);
            assert_int_equal(json_integer_value(json_object_get(usage, "completion_tokens")), completion_tokens);
        }
        assert_int_equal(json_integer_value(json_object_get(usage, "total_tokens")),
                         json_integer_value(json_object_get(usage, "prompt_tokens")) +
                             json_integer_value(json_object_get(usage, "completion_tokens")));
        json_decref(r);
    }
    /* One prompt as a string, the model left to the server. */
    json_t *r = curl_post(sv.port, "/v1/completions", json_pack("{s:s}", "prompt", "A group of men are loading cotton onto a truck"),
                  &status);
    assert_int_equal(status, 200);
    assert_int_equal(json_array_size(json_object_get(r, "choices")), 1);
    assert_string_equal(str_of(choice(r, 0), "text"), str_of(want[0][0], "text"));
    json_decref(r);
    /* The models it completes with. */
    snprintf(args, sizeof args, "http://127.0.0.1:%d/v1/models", sv.port);
    r = curl_json(args, &status);
    assert_int_equal(status, 200);
    assert_string_equal(str_of(r, "object"), "list");
    json_t *data = json_object_get(r, "data");
    assert_int_equal(json_array_size(data), 1);
    assert_string_equal(str_of(json_array_get(data, 0), "id"), "gpt2");
    assert_string_equal(str_of(json_array_get(data, 0), "object"), "model");
    json_decref(r);
    /* KServe v2 on a language model: its ids are its new tokens, a step
     * each (an encoder-decoder's hold its start token besides). */
    r = curl_post(sv.port, "/v2/models/gpt2/infer",
                  json_pack("{s:[{s:s, s:[I], s:s, s:o}]}", "inputs", "name", "text", "shape", (json_int_t)n, "datatype",
                            "BYTES", "data", prompts_of(in)),
                  &status);
    assert_int_equal(status, 200);
    json_t *texts = tensor(r, "text", "BYTES", n, 0), *num_ids = tensor(r, "num_ids", "INT32", n, 0);
    json_t *num_steps = tensor(r, "num_steps", "INT32", n, 0);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(json_string_value(json_array_get(texts, i)), str_of(want[0][i], "text"));
        assert_int_equal(json_integer_value(json_array_get(num_ids, i)), json_array_size(json_object_get(want[0][i], "ids")));
        assert_int_equal(json_integer_value(json_array_get(num_steps, i)),
                         json_array_size(json_object_get(want[0][i], "token_logprobs")));
        assert_int_equal(json_integer_value(json_array_get(num_steps, i)), json_integer_value(json_array_get(num_ids, i)));
    }
    json_decref(r);
    /* What it cannot do, by name. */
    const struct {
        const char *body, *says;
        long status;
    } refused[] = {
        {"{\"model\": \"gpt2\", \"prompt\": \"a\", \"n\": 2}", "field \"n\"", 400},
        {"{\"model\": \"gpt2\", \"prompt\": \"a\", \"stream\": true}", "streaming is not supported", 400},
        {"{\"model\": \"gpt2\", \"prompt\": \"a\", \"temperature\": 0.8}", "decodes greedily", 400},
        {"{\"model\": \"gpt2\", \"prompt\": \"a\", \"max_tokens\": 500}", "exceeds what model \"gpt2\" can generate", 400},
        {"{\"model\": \"nope\", \"prompt\": \"a\"}", "no model \"nope\" here", 404},
    };
    for (size_t k = 0; k < sizeof refused / sizeof refused[0]; k++) {
        r = curl_post(sv.port, "/v1/completions", json_loads(refused[k].body, 0, NULL), &status);
        const char *msg = json_string_value(json_object_get(r, "error"));
        if (status != refused[k].status || !msg || !strstr(msg, refused[k].says))
            fail_msg("%s: %ld %s; want %ld \"%s\"", refused[k].body, status, json_dumps(r, JSON_COMPACT),
                     refused[k].status, refused[k].says);
        json_decref(r);
    }
    CURL *c = curl_easy_init();
    http_result m;
    http_call(c, sv.port, "/metrics", NULL, 0, &m);
    assert_int_equal(metric_value(m.body, "elang_http_requests_total{endpoint=\"/v1/completions\",code=\"200\"}"), 5);
    assert_int_equal(metric_value(m.body, "elang_http_errors_total{endpoint=\"/v1/completions\",code=\"400\"}"), 4);
    assert_int_equal(metric_value(m.body, "elang_http_requests_total{endpoint=\"/v1/models\",code=\"200\"}"), 1);
    http_result_free(&m);
    curl_easy_cleanup(c);
    assert_int_equal(serve_down(&sv, SIGTERM), 0);
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < n; i++) json_decref(want[k][i]);
    watchdog_stop();
}

/* After the remote Super failed: every input has Swift's answer, and the
 * routed ones say they are degraded. */
static void expect_degraded(json_t *got, json_t **want, size_t n) {
    json_t *outs = json_object_get(got, "outputs");
    assert_int_equal(json_array_size(outs), n);
    for (size_t i = 0; i < n; i++) {
        json_t *g = json_array_get(outs, i);
        const bool routed = strcmp(str_of(want[i], "route"), "super") == 0;
        assert_string_equal(str_of(g, "route"), "swift");
        assert_string_equal(str_of(g, "text"), str_of(want[i], "swift_text"));
        assert_int_equal(json_is_true(json_object_get(g, "degraded")), routed);
    }
}

/* A language-model router (GPT-2 as Swift, Qwen2 as Super) whose Super is
 * another elang: over KServe v2, the CLI's bytes (a language model's ids
 * have no start token, so its steps are its ids); over OpenAI's
 * completions API, the CLI's texts and routes, through /v1/route and the
 * router's own /v1/completions; a Super asked for a model it lacks (404)
 * and a Super gone leave Swift's answers, marked degraded. */
static void language_models_with_super_elsewhere(void **s) {
    (void)s;
    watchdog_start("a language model's Super elsewhere", 300);
    char swift[2048], super[2048], args[8192], flags[8192];
    snprintf(swift, sizeof swift, "%s", shared_path("fixtures/hf/gpt2"));
    snprintf(super, sizeof super, "%s", shared_path("fixtures/hf/qwen2"));
    const char *routing = "--score random --threshold 0.5 --max-new-tokens 6 --threads 1";
    const char *in = jsonl_of_lines(shared_path("data/multi30k/val.en"), "lm-route.jsonl", 8);
    snprintf(args, sizeof args, "route --swift %s --super %s %s --input %s", swift, super, routing, in);
    char *lines = cli(args), *want_bytes = as_outputs(lines), *body = v1_request(in);
    json_t *want[64];
    const size_t n = parse_lines(lines, want);
    size_t routed = 0;
    for (size_t i = 0; i < n; i++) routed += strcmp(str_of(want[i], "route"), "super") == 0;
    assert_true(routed > 0 && routed < n);
    CURL *c = curl_easy_init();
    served big, v2, openai, wrong;
    char url[256];
    snprintf(args, sizeof args, "--model %s --max-new-tokens 6 --threads 1", super);
    serve_up(&big, args, 0);
    snprintf(flags, sizeof flags, "--swift %s --super http://127.0.0.1:%d/v2/models/qwen2 %s", swift, big.port, routing);
    serve_up(&v2, flags, 0);
    post_expect(c, v2.port, "/v1/route", body, 200, want_bytes);
    assert_int_equal(serve_down(&v2, SIGTERM), 0);

    snprintf(flags, sizeof flags, "--swift %s --super http://127.0.0.1:%d --super-api openai --super-model qwen2 %s",
             swift, big.port, routing);
    serve_up(&openai, flags, 0);
    http_result r;
    http_call(c, openai.port, "/v1/route", body, strlen(body), &r);
    assert_int_equal(r.status, 200);
    json_t *got = json_of(&r), *outs = json_object_get(got, "outputs");
    http_result_free(&r);
    assert_int_equal(json_array_size(outs), n);
    for (size_t i = 0; i < n; i++) {
        json_t *g = json_array_get(outs, i), *w = want[i];
        assert_string_equal(str_of(g, "route"), str_of(w, "route"));
        assert_string_equal(str_of(g, "text"), str_of(w, "text"));
        assert_string_equal(str_of(g, "swift_text"), str_of(w, "swift_text"));
        if (strcmp(str_of(w, "route"), "super") == 0) assert_string_equal(str_of(g, "super_text"), str_of(w, "super_text"));
        else if (!json_equal(g, w)) fail_msg("input %zu: %s, want %s", i, json_dumps(g, 0), json_dumps(w, 0));
        assert_null(json_object_get(g, "degraded"));
    }
    json_decref(got);
    long status;
    json_t *answer = curl_post(openai.port, "/v1/completions",
                               json_pack("{s:s, s:o, s:i}", "model", "elang", "prompt", prompts_of(in), "max_tokens", 6),
                               &status);
    assert_int_equal(status, 200);
    for (size_t i = 0; i < n; i++) {
        json_t *ch = choice(answer, i);
        assert_string_equal(str_of(ch, "text"), str_of(want[i], "text"));
        assert_string_equal(str_of(json_object_get(ch, "elang"), "route"), str_of(want[i], "route"));
    }
    json_decref(answer);
    answer = curl_post(openai.port, "/v1/completions", json_pack("{s:s, s:s, s:i}", "model", "elang", "prompt", "a",
                                                                 "max_tokens", 3), &status);
    assert_int_equal(status, 400);
    assert_non_null(strstr(str_of(answer, "error"), "max_tokens must be 6 (--max-new-tokens) or left out"));
    json_decref(answer);
    snprintf(args, sizeof args, "http://127.0.0.1:%d/v1/models", openai.port);
    answer = curl_json(args, &status);
    json_t *data = json_object_get(answer, "data");
    assert_int_equal(json_array_size(data), 3); /* the router, Swift by its name and as "swift"; Super is elsewhere */
    assert_string_equal(str_of(json_array_get(data, 0), "id"), "elang");
    assert_string_equal(str_of(json_array_get(data, 1), "id"), "gpt2");
    assert_string_equal(str_of(json_array_get(data, 2), "id"), "swift");
    json_decref(answer);

    /* The same through the C API: a router whose last tier is an
     * elang_remote. */
    elang_model *gpt2;
    elang_error err;
    if (elang_model_load(swift, &(elang_load_opts){.threads = 1}, &gpt2, &err) != ELANG_OK) fail_msg("%s", err.message);
    elang_route_opts ro = elang_route_opts_default();
    ro.score = ELANG_SCORE_RANDOM, ro.gen.max_new_tokens = 6;
    snprintf(url, sizeof url, "http://127.0.0.1:%d", big.port);
    elang_remote *remote;
    const elang_remote_opts remote_at = {.api = ELANG_REMOTE_OPENAI, .url = url, .model = "qwen2", .retries = 1};
    if (elang_remote_new(&remote_at, gpt2, &ro, &remote, &err) != ELANG_OK) fail_msg("%s", err.message);
    elang_router *router;
    const double threshold = 0.5;
    if (elang_router_new_remote(&gpt2, 1, &threshold, elang_remote_answer, remote, &ro, &router, &err) != ELANG_OK)
        fail_msg("%s", err.message);
    size_t count;
    json_t **rows = read_jsonl(in, &count);
    elang_text texts[64];
    elang_route_out routes[64];
    for (size_t i = 0; i < count; i++) texts[i] = (elang_text){json_string_value(json_object_get(rows[i], "text")), NULL};
    if (elang_route(router, texts, count, routes, &err) != ELANG_OK) fail_msg("%s", err.message);
    assert_int_equal(count, n);
    for (size_t i = 0; i < n; i++) {
        assert_false(routes[i].degraded);
        assert_string_equal(routes[i].tier ? "super" : "swift", str_of(want[i], "route"));
        assert_string_equal(routes[i].answers[routes[i].tier].gen.text, str_of(want[i], "text"));
    }
    elang_route_out_free(routes, n);
    free_jsonl(rows, count);
    elang_router_free(router);
    elang_remote_free(remote);
    elang_model_free(gpt2);

    /* elang route with its Super elsewhere: over v2 the bytes of the Super
     * loaded locally, over OpenAI's API their texts and routes. */
    snprintf(args, sizeof args, "route --swift %s --super http://127.0.0.1:%d/v2/models/qwen2 %s --input %s", swift,
             big.port, routing, in);
    char *remote_lines = cli(args), *remote_bytes = as_outputs(remote_lines);
    assert_string_equal(remote_bytes, want_bytes);
    free(remote_lines), free(remote_bytes);
    char openai_route[8192];
    snprintf(openai_route, sizeof openai_route, "route --swift %s --super http://127.0.0.1:%d --super-api openai "
             "--super-model qwen2 %s --input %s", swift, big.port, routing, in);
    remote_lines = cli(openai_route);
    json_t *rows_out[64], *lines_json = json_array();
    assert_int_equal(parse_lines(remote_lines, rows_out), n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(str_of(rows_out[i], "route"), str_of(want[i], "route"));
        assert_string_equal(str_of(rows_out[i], "text"), str_of(want[i], "text"));
        json_decref(rows_out[i]);
    }
    free(remote_lines);

    /* The Super's server lacks the model asked for: 404 is not retried. */
    snprintf(flags, sizeof flags, "--swift %s --super http://127.0.0.1:%d/v1/ --super-api openai --super-model nope %s",
             swift, big.port, routing);
    serve_up(&wrong, flags, 0);
    http_call(c, wrong.port, "/v1/route", body, strlen(body), &r);
    assert_int_equal(r.status, 200);
    got = json_of(&r);
    http_result_free(&r);
    expect_degraded(got, want, n);
    json_decref(got);
    char *log = serve_log(&wrong);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/completions answered HTTP 404", big.port);
    if (!strstr(log, url) || !strstr(log, "no model \\\"nope\\\"")) fail_msg("log: %s", log);
    free(log);
    assert_int_equal(serve_down(&wrong, SIGTERM), 0);

    /* The Super gone. */
    assert_int_equal(serve_down(&big, SIGTERM), 0);
    http_call(c, openai.port, "/v1/route", body, strlen(body), &r);
    assert_int_equal(r.status, 200);
    got = json_of(&r);
    http_result_free(&r);
    expect_degraded(got, want, n);
    json_decref(got);
    char cmd[16384], *route_out, *route_err;
    snprintf(cmd, sizeof cmd, "%s %s", elang_bin(), openai_route);
    assert_int_equal(run_command(cmd, &route_out, &route_err), 0);
    assert_int_equal(parse_lines(route_out, rows_out), n);
    for (size_t i = 0; i < n; i++) json_array_append_new(lines_json, rows_out[i]);
    got = json_pack("{s:o}", "outputs", lines_json);
    expect_degraded(got, want, n);
    json_decref(got);
    char warning[128];
    snprintf(warning, sizeof warning, "did not answer for %zu routed inputs", routed);
    if (!strstr(route_err, warning)) fail_msg("stderr: %s", route_err);
    free(route_out), free(route_err);
    http_call(c, openai.port, "/metrics", NULL, 0, &r);
    assert_int_equal(metric_value(r.body, "elang_degraded_total"), routed);
    http_result_free(&r);
    assert_int_equal(serve_down(&openai, SIGTERM), 0);
    for (size_t i = 0; i < n; i++) json_decref(want[i]);
    free(lines), free(want_bytes), free(body);
    curl_easy_cleanup(c);
    watchdog_stop();
}

/* OpenAI's own client, the openai npm package (tests/openai-client, pinned
 * by its package-lock.json; `npm ci` there installs it): the model list,
 * the texts of `elang generate`, and a refusal it reports as an error.
 * Skipped, and said so, when the package is not installed. */
static void openai_npm_client(void **s) {
    (void)s;
    if (access("tests/openai-client/node_modules/openai/package.json", R_OK) != 0) {
        print_message("openai_npm_client: SKIPPED: the openai npm package is not installed; run `npm ci` in "
                      "tests/openai-client to test with it\n");
        skip();
    }
    watchdog_start("the openai npm client", 300);
    char model[2048], args[8192];
    snprintf(model, sizeof model, "%s", shared_path("fixtures/hf/gpt2"));
    const char *in = jsonl_of_lines(shared_path("data/multi30k/val.en"), "npm.jsonl", 4);
    snprintf(args, sizeof args, "generate --model %s --max-new-tokens 6 --input %s", model, in);
    char *lines = cli(args);
    json_t *want[64];
    const size_t n = parse_lines(lines, want);
    served sv;
    snprintf(args, sizeof args, "--model %s --max-new-tokens 6 --threads 1", model);
    serve_up(&sv, args, 0);
    json_t *prompts = prompts_of(in);
    char *text = json_dumps(prompts, JSON_COMPACT);
    const char *file = tmp("npm-prompts.json");
    write_file(file, text, strlen(text));
    free(text), json_decref(prompts);
    char cmd[8192], *out, *err;
    snprintf(cmd, sizeof cmd, "node tests/openai-client/client.mjs http://127.0.0.1:%d gpt2 %s 6", sv.port, file);
    if (run_command(cmd, &out, &err) != 0) fail_msg("`%s` failed: %s%s", cmd, out, err);
    json_error_t je;
    json_t *res = json_loads(out, 0, &je);
    if (!res) fail_msg("`%s` printed no JSON (%s): %s", cmd, je.text, out);
    json_t *ids = json_object_get(res, "models"), *completion = json_object_get(res, "completion");
    assert_int_equal(json_array_size(ids), 1);
    assert_string_equal(json_string_value(json_array_get(ids, 0)), "gpt2");
    assert_string_equal(str_of(completion, "object"), "text_completion");
    assert_int_equal(json_array_size(json_object_get(completion, "choices")), n);
    for (size_t i = 0; i < n; i++) assert_string_equal(str_of(choice(completion, i), "text"), str_of(want[i], "text"));
    json_t *refused = json_object_get(res, "refused");
    assert_int_equal(json_integer_value(json_object_get(refused, "status")), 400);
    assert_non_null(strstr(str_of(refused, "message"), "greedy decoding gives one completion per prompt"));
    json_decref(res), free(out), free(err), free(lines);
    for (size_t i = 0; i < n; i++) json_decref(want[i]);
    assert_int_equal(serve_down(&sv, SIGTERM), 0);
    watchdog_stop();
}

/* MRPC's sentence pairs through the text-to-text pair as its calibration
 * sets it up (prefix, pair infix, label words): /v1/route answers the CLI's
 * bytes, and each model answers by the label words on /v1/classify as
 * `elang classify --label-words` does; one generator served alone with
 * label words classifies (v1 and v2), and refuses to generate. */
static void text_to_text_pairs_and_label_words(void **s) {
    (void)s;
    watchdog_start("label words through elang serve", 300);
    CURL *c = curl_easy_init();
    /* The first dev pairs as JSONL, with ids. */
    FILE *dev = fopen(shared_path("data/glue/MRPC/dev.tsv"), "r"), *out = fopen(tmp("mrpc.jsonl"), "w");
    assert_non_null(dev), assert_non_null(out);
    char line[8192];
    for (int i = 0; i < 13 && fgets(line, sizeof line, dev); i++) {
        line[strcspn(line, "\r\n")] = '\0';
        char *f[5] = {line};
        for (int k = 1; k < 5 && f[k - 1]; k++) {
            char *tab = strchr(f[k - 1], '\t');
            f[k] = tab ? (*tab = '\0', tab + 1) : NULL;
        }
        if (i == 0 || !f[4]) continue; /* the header */
        /* The last without its pair: a text alone goes into the prefix alone. */
        json_t *o = i < 12 ? json_pack("{s:s, s:s, s:i}", "text", f[3], "text_pair", f[4], "id", i)
                           : json_pack("{s:s, s:i}", "text", f[3], "id", i);
        char *js = json_dumps(o, JSON_COMPACT);
        fprintf(out, "%s\n", js);
        free(js), json_decref(o);
    }
    fclose(dev), fclose(out);
    const char *in = tmp("mrpc.jsonl"), *pair = "--swift models/glue-t5-swift --super models/glue-t5-super "
                                                   "--calibration models/glue-t5-mrpc.calib.json --threads 1";
    const char *words = "--label-words not_equivalent,equivalent --prefix 'mrpc sentence1: ' "
                        "--pair-infix ' sentence2: ' --threads 1";
    char args[4096], *body = v1_request(in), *lines, *want;
    served sv;
    serve_up(&sv, pair, 0);
    snprintf(args, sizeof args, "route %s --input %s", pair, in);
    lines = cli(args), want = as_outputs(lines);
    post_expect(c, sv.port, "/v1/route", body, 200, want);
    free(lines), free(want);
    const char *models[3] = {"swift", "super", "glue-t5-super"};
    for (int m = 0; m < 3; m++) {
        snprintf(args, sizeof args, "classify --model models/glue-t5-%s %s --input %s", m ? "super" : "swift", words,
                 in);
        lines = cli(args), want = as_outputs(lines);
        json_t *req = json_loads(body, 0, NULL);
        json_object_set_new(req, "model", json_string(models[m]));
        char *named = json_dumps(req, JSON_COMPACT);
        post_expect(c, sv.port, "/v1/classify", named, 200, want);
        free(named), json_decref(req), free(lines), free(want);
    }
    assert_int_equal(serve_down(&sv, SIGTERM), 0);

    snprintf(args, sizeof args, "--model models/glue-t5-super %s", words);
    serve_up(&sv, args, 0);
    snprintf(args, sizeof args, "classify --model models/glue-t5-super %s --input %s", words, in);
    lines = cli(args), want = as_outputs(lines);
    post_expect(c, sv.port, "/v1/classify", body, 200, want);
    /* Metadata: text and text_pair in; a classifier's five outputs, two columns for the two words. */
    json_t *meta = get_json(c, sv.port, "/v2/models/glue-t5-super", 200);
    assert_int_equal(json_array_size(json_object_get(meta, "inputs")), 2); /* text and text_pair */
    json_t *outs = json_object_get(meta, "outputs");
    assert_int_equal(json_array_size(outs), 5);
    for (size_t k = 0; k < 5; k++) {
        const char *name = str_of(json_array_get(outs, k), "name");
        const json_t *shape = json_object_get(json_array_get(outs, k), "shape");
        const bool matrix = strcmp(name, "logits") == 0 || strcmp(name, "probs") == 0;
        assert_int_equal(json_array_size(shape), matrix ? 2 : 1);
        if (matrix) assert_int_equal(json_integer_value(json_array_get(shape, 1)), 2);
    }
    json_decref(meta);
    /* v2: the CLI's labels and numbers, a pair a row (a tensor holds a
     * pair for every row: the paired inputs alone). */
    size_t n;
    json_t **rows = read_jsonl(in, &n), *texts = json_array(), *pairs = json_array();
    const size_t paired = n - 1;
    for (size_t i = 0; i < paired; i++) {
        json_array_append(texts, json_object_get(rows[i], "text"));
        json_array_append(pairs, json_object_get(rows[i], "text_pair"));
    }
    json_t *req = json_pack("{s:[{s:s, s:s, s:[I], s:o}, {s:s, s:s, s:[I], s:o}]}", "inputs", "name", "text",
                            "datatype", "BYTES", "shape", (json_int_t)paired, "data", texts, "name", "text_pair",
                            "datatype", "BYTES", "shape", (json_int_t)paired, "data", pairs);
    char *v2body = json_dumps(req, JSON_COMPACT);
    http_result r;
    http_call(c, sv.port, "/v2/models/glue-t5-super/infer", v2body, strlen(v2body), &r);
    assert_int_equal(r.status, 200);
    json_t *resp = json_of(&r);
    json_t *label = tensor(resp, "label", "BYTES", paired, 0), *label_id = tensor(resp, "label_id", "INT64", paired, 0);
    json_t *logits = tensor(resp, "logits", "FP32", paired, 2), *probs = tensor(resp, "probs", "FP32", paired, 2);
    json_t *energy = tensor(resp, "energy", "FP64", paired, 0);
    const char *lines_file = tmp("mrpc-cli.jsonl");
    write_file(lines_file, lines, strlen(lines));
    size_t cli_n;
    json_t **cli_rows = read_jsonl(lines_file, &cli_n);
    assert_int_equal(cli_n, n);
    for (size_t i = 0; i < paired; i++) {
        assert_string_equal(json_string_value(json_array_get(label, i)), str_of(cli_rows[i], "label"));
        assert_int_equal(json_integer_value(json_array_get(label_id, i)),
                         json_integer_value(json_object_get(cli_rows[i], "label_id")));
        for (size_t j = 0; j < 2; j++) {
            close_to(json_number_value(json_array_get(logits, 2 * i + j)),
                     json_number_value(json_array_get(json_object_get(cli_rows[i], "logits"), j)), 1e-6, "logit", i);
            close_to(json_number_value(json_array_get(probs, 2 * i + j)),
                     json_number_value(json_array_get(json_object_get(cli_rows[i], "probs"), j)), 1e-6, "prob", i);
        }
        close_to(json_number_value(json_array_get(energy, i)), json_number_value(json_object_get(cli_rows[i], "energy")),
                 1e-6, "energy", i);
    }
    json_decref(resp), http_result_free(&r), free(v2body), json_decref(req);
    free_jsonl(rows, n), free_jsonl(cli_rows, cli_n);
    free(lines), free(want);
    /* It answers labels: no generation, no completions, no models to complete with. */
    post_expect(c, sv.port, "/v1/generate", "{\"inputs\": [{\"text\": \"a\"}]}", 400,
                "{\"error\":\"model \\\"glue-t5-super\\\" classifies; use /v1/classify\"}");
    http_call(c, sv.port, "/v1/completions", "{\"prompt\": \"a\"}", strlen("{\"prompt\": \"a\"}"), &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "answers labels, not text"));
    http_result_free(&r);
    json_t *listed = get_json(c, sv.port, "/v1/models", 200);
    assert_int_equal(json_array_size(json_object_get(listed, "data")), 0);
    json_decref(listed);
    /* It is a router's Super elsewhere: the routed answers are those of
     * the Super loaded here, for a threshold that sends some inputs on. */
    const char *routing = "--label-words not_equivalent,equivalent --pair-infix ' sentence2: ' --score maxprob "
                          "--threshold 0.7 --threads 1";
    snprintf(args, sizeof args, "route --swift models/glue-t5-swift --super models/glue-t5-super --swift-prefix "
             "'mrpc sentence1: ' --super-prefix 'mrpc sentence1: ' %s --input %s", routing, in);
    lines = cli(args), want = as_outputs(lines);
    assert_non_null(strstr(lines, "\"route\":\"super\""));
    assert_non_null(strstr(lines, "\"route\":\"swift\""));
    served router;
    for (int remote = 0; remote < 2; remote++) {
        char super[256];
        if (remote) snprintf(super, sizeof super, "http://127.0.0.1:%d/v2/models/glue-t5-super", sv.port);
        else snprintf(super, sizeof super, "models/glue-t5-super --super-prefix 'mrpc sentence1: '");
        snprintf(args, sizeof args, "--swift models/glue-t5-swift --swift-prefix 'mrpc sentence1: ' --super %s %s",
                 super, routing);
        serve_up(&router, args, 0);
        post_expect(c, router.port, "/v1/route", body, 200, want);
        assert_int_equal(serve_down(&router, SIGTERM), 0);
    }
    free(lines), free(want);
    assert_int_equal(serve_down(&sv, SIGTERM), 0);
    /* Without a pair infix, a pair is refused with what would let it in,
     * and the inputs without one are answered. */
    serve_up(&sv, "--model models/glue-t5-swift --label-words not_equivalent,equivalent --threads 1", 0);
    http_call(c, sv.port, "/v1/classify", body, strlen(body), &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "input 0: model \\\"glue-t5-swift\\\" reads one text per input, not a pair: serve it "
                                   "with --pair-infix"));
    http_result_free(&r);
    post_expect(c, sv.port, "/v1/classify", "{\"inputs\": [{\"text\": \"a\"}]}", 200, NULL);
    assert_int_equal(serve_down(&sv, SIGTERM), 0);
    free(body);
    curl_easy_cleanup(c);
    watchdog_stop();
}

/* The command's own mistakes: exit 2 with the reason; a port in use, 1. */
static void usage_errors(void **s) {
    (void)s;
    const struct {
        const char *args, *says;
        int rc;
    } cases[] = {
        {"serve --model models/sst2-swift --swift models/sst2-swift", "--model serves one model; --swift is for a router", 2},
        {"serve --model models/sst2-swift --threshold 1", "--threshold is for a router", 2},
        {"serve --swift models/sst2-swift --super models/sst2-super", "exactly one of --calibration FILE and --threshold t", 2},
        {"serve --swift models/sst2-swift", "give --swift DIR --super DIR|URL", 2},
        {"serve --swift models/sst2-swift --super models/sst2-super --threshold 1 --prefix x", "--prefix is for --model", 2},
        {"serve --swift models/sst2-swift --super http://127.0.0.1:9/v2/models/m --super-prefix x --threshold 1",
         "a remote Super applies its own prefix", 2},
        {"serve --swift models/sst2-swift --super http://127.0.0.1:9/models/m --threshold 1",
         "http://HOST:PORT/v2/models/NAME", 2},
        {"route --swift models/sst2-swift --super http://127.0.0.1:99999/v2/models/m --threshold 1",
         "remote Super URL 'http://127.0.0.1:99999/v2/models/m': Port number", 2},
        {"route --swift models/sst2-swift --super models/sst2-super --threshold 1 --num-beams 4",
         "--num-beams is for text generators; models/sst2-swift is a bert classifier", 2},
        {"route --models models/sst2-swift,models/sst2-super --thresholds 1 --aggregate min",
         "--aggregate is for text generators; models/sst2-swift is a bert classifier", 2},
        {"serve --swift models/glue-t5-swift --super http://127.0.0.1:9/v2/models/m --threshold 1 "
         "--label-words positive,positively", "start with the same token in models/glue-t5-swift", 2},
        {"serve --swift models/multi30k-swift --super http://127.0.0.1:9 --super-api openai --threshold 1",
         "--super-api openai needs --super-model NAME", 2},
        {"serve --swift models/sst2-swift --super http://127.0.0.1:9 --super-api openai --super-model m --threshold 1",
         "an OpenAI completions API answers text, and Swift", 2},
        {"serve --swift models/multi30k-swift --super http://127.0.0.1:9/v2/models/m --super-model m --threshold 1",
         "--super-model names the model of a Super behind an OpenAI-compatible API", 2},
        {"serve --swift models/multi30k-swift --super models/multi30k-super --super-api openai --threshold 1",
         "--super-api is for a remote Super; --super models/multi30k-super is no http(s) URL", 2},
        {"serve --swift models/multi30k-swift --super models/multi30k-super --super-retries 3 --threshold 1",
         "--super-retries is for a remote Super", 2},
        {"serve --model models/sst2-swift --super-timeout-ms 100", "--super-timeout-ms is for a router", 2},
        {"route --swift models/sst2-swift --super models/sst2-super --super-connect-timeout-ms 100 --threshold 1",
         "--super-connect-timeout-ms is for a remote Super", 2},
        {"serve --swift models/multi30k-swift --super ftp://h --super-api openai --super-model m --threshold 1",
         "--super ftp://h is no http(s) URL", 2},
        {"serve --swift models/multi30k-swift --super http://127.0.0.1:9 --super-api openai --super-model m --threshold 1 "
         "--label-words a,b", "an OpenAI completions API answers text, not label words", 2},
        {"serve --swift models/multi30k-swift --super models/multi30k-super --calibration models/multi30k.calib.json "
         "--stop .", "--stop changes the answers whose scores the calibration was made on", 2},
        {"serve --model models/multi30k-swift --num-beams 2 --stop .", "--stop works with greedy search", 2},
        {"serve --model models/sst2-swift --label-words a,b", "label words are for text generators", 2},
        {"serve --model models/glue-t5-swift --label-words positive,positively", "start with the same token", 2},
        {"serve --model models/glue-t5-swift --label-words no,yes --num-beams 2",
         "--num-beams is for generation; with --label-words, models/glue-t5-swift classifies by them", 2},
        {"serve --model models/glue-t5-swift --pair-infix ' x '", "models/glue-t5-swift generates from one text", 2},
        {"serve --model models/sst2-swift --pair-infix ' x '", "--pair-infix is for text generators", 2},
        {"serve --model models/sst2-swift --super-api openai", "--super-api is for a router", 2},
        {"route --swift models/sst2-swift --super http://127.0.0.1:9 --super-api openai --super-model m --threshold 1",
         "an OpenAI completions API answers text, and Swift", 2},
        {"route --swift models/multi30k-swift --super http://127.0.0.1:9/v2/models/m --super-model m --threshold 1",
         "elang route: --super-model names the model", 2},
        {"serve --model models/sst2-swift --port 70000", "invalid value '70000' for --port", 2},
        {"serve --model models/sst2-swift --max-batch 0", "invalid value '0' for --max-batch", 2},
        {"serve --model models/sst2-swift --host no.such.host.invalid --port 0", "cannot listen on no.such.host.invalid", 2},
        {"serve --model /nonexist", "/nonexist/config.json", 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char cmd[4096], *out, *err;
        /* A case the checks miss would start serving: `timeout` turns that into exit 124, not a hang. */
        snprintf(cmd, sizeof cmd, "timeout 60 %s %s </dev/null", elang_bin(), cases[k].args);
        const int rc = run_command(cmd, &out, &err);
        if (rc != cases[k].rc || !strstr(err, cases[k].says))
            fail_msg("`%s` exited %d (want %d): %s(want \"%s\")", cmd, rc, cases[k].rc, err, cases[k].says);
        free(out), free(err);
    }
    /* calibrate and eval run Super on every input: no URL. */
    char cmd[4096], *out, *err;
    snprintf(cmd, sizeof cmd, "%s calibrate --swift models/sst2-swift --super http://127.0.0.1:9/v2/models/m --task sst2 "
             "--data %s --out /dev/null", elang_bin(), shared_path("data/glue/SST-2/dev.tsv"));
    assert_int_equal(run_command(cmd, &out, &err), 2);
    if (!strstr(err, "--super takes a model directory here")) fail_msg("%s", err);
    free(out), free(err);
    served a, b;
    serve_up(&a, "--model models/sst2-swift --threads 1", 0);
    snprintf(cmd, sizeof cmd, "%s serve --model models/sst2-swift --threads 1 --port %d", elang_bin(), a.port);
    assert_int_equal(run_command(cmd, &out, &err), 1);
    assert_non_null(strstr(err, "cannot listen on 127.0.0.1:"));
    free(out), free(err);
    (void)b;
    assert_int_equal(serve_down(&a, SIGINT), 0);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(demo_pairs_answer_as_the_cli),
        cmocka_unit_test(fixtures_answer_as_the_cli),
        cmocka_unit_test(text_to_text_pairs_and_label_words),
        cmocka_unit_test(kserve_v2_protocol),
        cmocka_unit_test(bad_requests_get_their_status),
        cmocka_unit_test(openai_completions_with_curl),
        cmocka_unit_test(language_models_with_super_elsewhere),
        cmocka_unit_test(openai_npm_client),
        cmocka_unit_test(usage_errors),
    };
    const int rc = cmocka_run_group_tests(tests, NULL, NULL);
    test_tmpdir_cleanup();
    return rc;
}
