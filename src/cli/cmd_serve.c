/* elang serve: the router (or one model) behind HTTP until SIGTERM or
 * SIGINT, which stop new connections and let every request received be
 * answered before the process exits 0. */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/fail.h"
#include "cli/model_flags.h"
#include "cli/route_flags.h"
#include "elang_eval.h"
#include "serve/server.h"

typedef struct {
    route_flags route;
    remote_flags remote;
    const char *calibration, *model, *prefix, *host;
    const char *stop; /* NULL: not given */
    double threshold;
    int port, max_batch, max_delay_ms, max_queue, timeout_ms, max_body_mb, max_text_chars;
} serve_flags;

static void log_line(void *ctx, const char *message) {
    (void)ctx;
    fprintf(stderr, "elang serve: %s\n", message);
}

/* The flags that only mean something to a router, or only to one model. */
static bool check_mode(const serve_flags *fl) {
    const route_flags *r = &fl->route;
    const char *routing[] = {r->swift ? "--swift" : NULL, r->super ? "--super" : NULL,
                             fl->calibration ? "--calibration" : NULL, !isnan(fl->threshold) ? "--threshold" : NULL,
                             r->score ? "--score" : NULL, r->aggregate ? "--aggregate" : NULL,
                             r->swift_prefix ? "--swift-prefix" : NULL,
                             r->super_prefix ? "--super-prefix" : NULL, remote_flag_given(&fl->remote),
                             fl->remote.model ? "--super-model" : NULL};
    if (fl->model) {
        for (size_t i = 0; i < sizeof routing / sizeof routing[0]; i++)
            if (routing[i]) {
                fprintf(stderr, "elang serve: --model serves one model; %s is for a router (--swift DIR --super "
                                "DIR|URL)\n", routing[i]);
                return false;
            }
        return true;
    }
    if (!r->swift || !r->super) {
        fprintf(stderr, "elang serve: give --swift DIR --super DIR|URL (a router) or --model DIR (one model)\n");
        return false;
    }
    if (!fl->calibration == isnan(fl->threshold)) {
        fprintf(stderr, "elang serve: give exactly one of --calibration FILE and --threshold t\n");
        return false;
    }
    if (fl->prefix) {
        fprintf(stderr, "elang serve: --prefix is for --model; a router takes --swift-prefix and --super-prefix\n");
        return false;
    }
    if (!check_remote_flags("serve", r, &fl->remote)) return false;
    return true;
}

/* Loads what the flags name; returns an exit code. */
static int load_models(serve_flags *fl, const elang_calibration *cal, elang_model **models, elang_route_opts *opts) {
    if (!route_opts_from_flags("serve", &fl->route, cal, opts)) return 2;
    elang_error err;
    int rc;
    if (fl->model) {
        elang_load_opts lo = {.threads = fl->route.threads, .dtype = dtype_of_flag(fl->route.dtype),
                              .input_prefix = fl->prefix, .pair_infix = fl->route.pair_infix};
        rc = elang_model_load(fl->model, &lo, &models[0], &err) == ELANG_OK ? 0 : cli_fail("serve", "", &err);
        if (!rc && !decoding_flags_fit("serve", &fl->route, models[0])) rc = 2;
        if (!rc && opts->num_label_words)
            rc = label_words_fit("serve", models[0], opts->label_words, opts->num_label_words);
        /* Flags the served model would ignore are a misunderstanding to say. */
        const char *decoding = fl->route.num_beams        ? "--num-beams"
                               : fl->route.max_new_tokens ? "--max-new-tokens"
                               : fl->stop                 ? "--stop"
                                                          : NULL;
        if (!rc && opts->num_label_words && decoding) {
            fprintf(stderr, "elang serve: %s is for generation; with --label-words, %s classifies by them\n", decoding,
                    fl->model);
            rc = 2;
        }
        if (!rc && fl->route.pair_infix && !opts->num_label_words) {
            fprintf(stderr, "elang serve: --pair-infix joins a pair for a generator classifying by --label-words; %s "
                    "generates from one text per input\n", fl->model);
            rc = 2;
        }
    } else {
        const bool remote = is_url(fl->route.super);
        rc = load_pair("serve", &fl->route, cal, &models[0], remote ? NULL : &models[1]);
        if (!rc && cal && elang_calibration_check(cal, fl->route.swift, remote ? NULL : fl->route.super, &err) != ELANG_OK)
            rc = cli_fail("serve", "", &err);
    }
    if (!rc)
        rc = fit_max_new_tokens("serve", models, models[1] ? 2 : 1, &opts->gen.max_new_tokens,
                                max_new_tokens_source(&fl->route, cal));
    return rc;
}

int cmd_serve(int argc, char **argv) {
    serve_flags fl = {.route = {ROUTE_FLAG_DEFAULTS}, .remote = REMOTE_FLAG_DEFAULTS, .threshold = NAN,
                      .host = "127.0.0.1", .port = 8080, .max_batch = 64, .max_delay_ms = 0, .max_queue = 1024,
                      .timeout_ms = 30000, .max_body_mb = 8, .max_text_chars = 100000};
    const flag_spec flags[] = {
        ROUTE_FLAG_SPECS(fl.route),
        {"calibration", FLAG_STRING, &fl.calibration, 0, 0, NULL, "CALIB.json from elang calibrate", "FILE"},
        {"threshold", FLAG_DOUBLE, &fl.threshold, -1e30, 1e30, NULL, "keep Swift's answer when score >= t", "t"},
        {"model", FLAG_STRING, &fl.model, 0, 0, NULL, "serve this one model, no routing (e.g. as a remote Super)", "DIR"},
        {"prefix", FLAG_TEXT, &fl.prefix, 0, 0, NULL, "with --model: text put before every input (T5's task prefix)", "TEXT"},
        {"host", FLAG_STRING, &fl.host, 0, 0, NULL, "address to listen on (default 127.0.0.1)", "ADDR"},
        {"port", FLAG_INT, &fl.port, 0, 65535, NULL, "port to listen on; 0 picks a free one (default 8080)", "N"},
        {"max-batch", FLAG_INT, &fl.max_batch, 1, 4096, NULL, "inputs gathered into one batch at most (default 64)", "N"},
        {"max-delay-ms", FLAG_INT, &fl.max_delay_ms, 0, 10000, NULL,
         "how long an input may wait for its batch to fill (default 0: run what is queued)", "N"},
        {"max-queue", FLAG_INT, &fl.max_queue, 1, 1 << 20, NULL,
         "inputs waiting at most; more get 503 (default 1024; also the most per request)", "N"},
        {"timeout-ms", FLAG_INT, &fl.timeout_ms, 1, 3600000, NULL, "answer 504 after this long (default 30000)", "N"},
        {"max-body-mb", FLAG_INT, &fl.max_body_mb, 1, 1024, NULL, "largest request body, in MiB (default 8)", "N"},
        {"max-text-chars", FLAG_INT, &fl.max_text_chars, 1, 1 << 30, NULL,
         "longest text of an input, in characters (default 100000)", "N"},
        REMOTE_FLAG_SPECS(fl.remote),
        {"stop", FLAG_TEXT, &fl.stop, 0, 0, NULL,
         "generators: end a generation once its text holds TEXT (greedy; not with --calibration)", "TEXT"},
        {0},
    };
    const char *synopsis = "--swift DIR --super DIR|URL (--calibration CALIB.json | --threshold t) [flags]\n"
                           "       elang serve --swift DIR --super URL --super-api openai --super-model NAME "
                           "(--calibration CALIB.json | --threshold t) [flags]\n"
                           "       elang serve --model DIR [flags]";
    int rc = parse_flags("serve", synopsis, argc, argv, flags);
    if (rc) return rc == 1 ? 0 : 2;
    if (!check_mode(&fl)) return 2;

    elang_calibration calib = {0};
    elang_error err;
    if (fl.calibration && elang_calibration_load(fl.calibration, &calib, &err) != ELANG_OK)
        return cli_fail("serve", "", &err);
    const elang_calibration *cal = fl.calibration ? &calib : NULL;
    elang_model *models[2] = {0};
    serve_config cfg = {.host = fl.host, .port = fl.port, .max_batch = fl.max_batch, .max_delay_ms = fl.max_delay_ms,
                        .max_queue = fl.max_queue, .timeout_ms = fl.timeout_ms,
                        .max_body = (size_t)fl.max_body_mb << 20,
                        .max_text_chars = (size_t)fl.max_text_chars, .route = !fl.model,
                        .threshold = cal ? cal->threshold : fl.threshold,
                        .super = remote_opts_of(fl.route.super && is_url(fl.route.super) ? fl.route.super : NULL,
                                                &fl.remote),
                        .log = log_line};
    rc = load_models(&fl, cal, models, &cfg.opts);
    if (!rc && !stop_from_flag("serve", &fl.stop, cal, &cfg.opts)) rc = 2;
    /* Every thread the server starts inherits this mask, so the signals
     * wait for sigwait below instead of killing the process mid-answer. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    serve_server *server = NULL;
    if (!rc) {
        signal(SIGPIPE, SIG_IGN);
        pthread_sigmask(SIG_BLOCK, &stop, NULL);
        cfg.models[0] = models[0], cfg.models[1] = models[1];
        /* Models or options the library refuses are the command's mistake
         * (exit 2); a port that cannot be had is a failure (exit 1). */
        if (serve_start(&cfg, &server, &err) != ELANG_OK) rc = cli_fail("serve", "", &err);
    }
    if (!rc) {
        fprintf(stderr, "elang serve: listening on http://%s:%d (%s)\n", fl.host, serve_port(server),
                fl.model ? fl.model : cfg.super.url ? "routing to a remote Super" : "routing");
        int sig = 0;
        sigwait(&stop, &sig);
        fprintf(stderr, "elang serve: %s: answering the requests in flight, then stopping\n",
                sig == SIGTERM ? "SIGTERM" : "SIGINT");
        unsigned long received = 0, answered = 0;
        serve_stop(server, &received, &answered);
        fprintf(stderr, "elang serve: stopped; %lu requests received, %lu answered in full\n", received, answered);
    }
    for (int i = 0; i < 2; i++) elang_model_free(models[i]);
    elang_calibration_free(&calib);
    route_flags_free(&fl.route);
    return rc;
}
