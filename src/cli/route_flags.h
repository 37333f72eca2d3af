/* Flags shared by the commands that route (route, calibrate, eval): the
 * routing score and how it is computed, decoding settings, and the models. */
#ifndef ELANG_CLI_ROUTE_FLAGS_H
#define ELANG_CLI_ROUTE_FLAGS_H

#include <stdbool.h>

#include "cli/args.h"
#include "cli/label_words.h"
#include "cli/model_flags.h"
#include "elang_eval.h"

typedef struct {
    const char *swift, *super;
    const char *swift_prefix, *super_prefix; /* NULL: none (or the calibration's) */
    const char *pair_infix;                  /* likewise */
    const char *score, *aggregate; /* NULL: not given */
    const char *dtype;             /* NULL: f32 */
    const char *label_words;       /* "negative,positive" */
    double temperature;            /* 0: not given */
    int batch_size, threads, num_beams, max_new_tokens, seed;
    label_words words;             /* --label-words parsed */
} route_flags;

/* num_beams and max_new_tokens stay 0 when not given, so that a
 * calibration's values can stand in. */
#define ROUTE_FLAG_DEFAULTS .batch_size = 32

/* The flag table rows every routing command accepts. */
#define ROUTE_FLAG_SPECS(fl)                                                                                   \
    {"swift", FLAG_STRING, &(fl).swift, 0, 0, NULL, "the Swift (small) model directory", "DIR"},              \
    {"super", FLAG_STRING, &(fl).super, 0, 0, NULL, "the Super (large) model directory (route, serve: or a URL)", "DIR"}, \
    {"swift-prefix", FLAG_TEXT, &(fl).swift_prefix, 0, 0, NULL,                                              \
     "text put before every Swift input (T5's task prefix)", "TEXT"},                                          \
    {"super-prefix", FLAG_TEXT, &(fl).super_prefix, 0, 0, NULL, "likewise for Super", "TEXT"},              \
    {"pair-infix", FLAG_TEXT, &(fl).pair_infix, 0, 0, NULL,                                                  \
     "text-to-text models: text put between a pair's two texts (T5 on GLUE: \" sentence2: \")", "TEXT"},        \
    {"score", FLAG_CHOICE, &(fl).score, 0, 0, "energy|softmax-energy|maxprob|entropy|margin|random|encoder-head",  \
     "routing score (default energy; encoder-head: Swift's encoder head, see README)", "S"},                  \
    {"temperature", FLAG_DOUBLE, &(fl).temperature, 1e-6, 1e6, NULL, "T of the energies (default 1)", "T"},   \
    {"aggregate", FLAG_CHOICE, &(fl).aggregate, 0, 0, "mean|min|sum|first|prompt",                            \
     "generators: per-token scores -> input score (default mean; prompt: decide before decoding)", "A"},       \
    {"label-words", FLAG_TEXT, &(fl).label_words, 0, 0, NULL,                                                \
     "generators as classifiers: label words in class order, comma-separated", "W,W"},                         \
    {"batch-size", FLAG_INT, &(fl).batch_size, 1, 4096, NULL, "inputs per forward pass (default 32)", "N"},   \
    {"threads", FLAG_INT, &(fl).threads, 0, 1024, NULL, "worker threads; 0 = all CPUs, fewer while others hold some (default)", "N"},      \
    DTYPE_FLAG_SPEC((fl).dtype),                                                                               \
    {"num-beams", FLAG_INT, &(fl).num_beams, 1, 64, NULL, "generators: beam width (default 1, greedy)", "N"}, \
    {"max-new-tokens", FLAG_INT, &(fl).max_new_tokens, 1, 4096, NULL,                                          \
     "generators: tokens to generate at most (default 64)", "N"},                                              \
    {"seed", FLAG_INT, &(fl).seed, 0, 2147483647, NULL, "seed of the random score (calibrate: and of its --holdout split)", "N"}

/* A Super on another machine (route and serve take --super URL). */
typedef struct {
    const char *api, *model; /* --super-api, --super-model; NULL: not given */
    int connect_timeout_ms, timeout_ms, retries; /* -1: not given (the library's timeouts; one retry) */
} remote_flags;

#define REMOTE_FLAG_DEFAULTS {.connect_timeout_ms = -1, .timeout_ms = -1, .retries = -1}

#define REMOTE_FLAG_SPECS(fl)                                                                                  \
    {"super-connect-timeout-ms", FLAG_INT, &(fl).connect_timeout_ms, 1, 600000, NULL,                          \
     "remote Super: time to connect, per attempt (default 500)", "N"},                                         \
    {"super-timeout-ms", FLAG_INT, &(fl).timeout_ms, 1, 3600000, NULL,                                         \
     "remote Super: time for a whole call, per attempt (default 5000)", "N"},                                  \
    {"super-retries", FLAG_INT, &(fl).retries, 0, 10, NULL, "remote Super: attempts after a failed one (default 1)", \
     "N"},                                                                                                     \
    {"super-api", FLAG_CHOICE, &(fl).api, 0, 0, "v2|openai",                                                   \
     "how --super URL is reached: KServe v2, URL = http://HOST:PORT/v2/models/NAME (default), or an "          \
     "OpenAI-compatible server, URL = http://HOST:PORT (asked at URL/v1/completions)", "API"},                 \
    {"super-model", FLAG_STRING, &(fl).model, 0, 0, NULL,                                                      \
     "--super-api openai: the model the server is asked for (required)", "NAME"}

/* Generator flags (--num-beams, --max-new-tokens, --aggregate, --pair-infix) would be
 * ignored by a classifier Swift: false, with a message, when given for one. */
bool decoding_flags_fit(const char *command, const route_flags *fl, const elang_model *swift);

/* Whether --super names a server rather than a directory. */
bool is_url(const char *s);

/* The remote flags against --super and --super-prefix: a remote API for a
 * URL only, the model name with OpenAI's API only (and required there), no
 * prefix of ours for a server that applies its own. Prints why and returns
 * false. */
bool check_remote_flags(const char *command, const route_flags *fl, const remote_flags *rf);

/* The first flag given that only a remote Super uses (--super-api, its
 * timeouts, --super-retries; --super-model is checked on its own), or NULL. */
const char *remote_flag_given(const remote_flags *rf);

/* The library's options for the Super at `url` as the flags describe it. */
elang_remote_opts remote_opts_of(const char *url, const remote_flags *rf);

/* The labelled-data flag rows of calibrate and eval. */
#define DATA_FLAG_SPECS(task, data, src, ref)                                                                  \
    {"task", FLAG_STRING, &(task), 0, 0, NULL,                                                                 \
     "sst2, cola, mrpc, rte, qqp, mnli, mnli-mm, qnli, stsb, wnli, translation", "TASK"},                      \
    {"data", FLAG_STRING, &(data), 0, 0, NULL, "labelled GLUE TSV file", "FILE"},                             \
    {"src", FLAG_STRING, &(src), 0, 0, NULL, "translation: source sentences, one a line", "FILE"},            \
    {"ref", FLAG_STRING, &(ref), 0, 0, NULL, "translation: reference translations", "FILE"}

/* --stop TEXT of route and serve: every generation ends once its text holds
 * `*stop` (greedy search only; not with a calibration, whose scores were
 * made on whole answers). Points opts at stop; prints why and returns false
 * when the flag cannot be taken. A NULL *stop leaves opts as they are. */
bool stop_from_flag(const char *command, const char *const *stop, const elang_calibration *calib,
                    elang_route_opts *opts);

/* The routing options the flags describe, starting from `base` (a
 * calibration's settings, or the defaults). Prints why and returns false on
 * a bad value or a flag that contradicts the calibration. The options point
 * into fl (and calib), which must outlive them; route_flags_free releases
 * what fl holds. */
bool route_opts_from_flags(const char *command, route_flags *fl, const elang_calibration *calib,
                           elang_route_opts *out);
void route_flags_free(route_flags *fl);

/* Loads Swift and Super (--swift and --super required), with their input
 * prefixes (the flags', or else the calibration's when given); Swift alone
 * when `super` is NULL (Super served elsewhere; else a URL is refused). Returns an
 * exit code: 0, 2 for flags that are missing or contradict the calibration,
 * else as cli_fail for a model that cannot be loaded (after printing why). */
int load_pair(const char *command, route_flags *fl, const elang_calibration *calib, elang_model **swift,
              elang_model **super);

/* Where the options' max_new_tokens came from, for fit_max_new_tokens:
 * the flag, the calibration, or NULL for the default. */
const char *max_new_tokens_source(const route_flags *fl, const elang_calibration *calib);

/* The labelled data: --task with --data (GLUE) or --src/--ref (translation).
 * Returns an exit code as load_pair does (an unknown task is a usage error). */
int load_dataset(const char *command, const char *task, const char *data, const char *src, const char *ref,
                 elang_dataset **out);

/* The examples of `d` on the 1-based lines of its file listed in `path`
 * (one number a line, "\n" or "\r\n" ended, each once), in file order,
 * and their number; prints why and returns NULL on a bad list (calibrate
 * and eval --lines). */
size_t *examples_on_lines(const char *command, const elang_dataset *d, const char *path, size_t *count);

/* A progress bar on stderr, drawn only when stderr is a terminal. */
void progress_bar(void *command, const char *stage, size_t done, size_t total);

#endif
