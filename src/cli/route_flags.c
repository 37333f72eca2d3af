#include "cli/route_flags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/fail.h"
#include "cli/io.h"
#include "util/decimal.h"

bool stop_from_flag(const char *command, const char *const *stop, const elang_calibration *calib,
                    elang_route_opts *opts) {
    if (!*stop) return true;
    if (calib) {
        fprintf(stderr, "elang %s: --stop changes the answers whose scores the calibration was made on; route "
                        "with --threshold instead\n", command);
        return false;
    }
    if (!(*stop)[0]) {
        fprintf(stderr, "elang %s: --stop needs a non-empty text\n", command);
        return false;
    }
    if (opts->gen.num_beams > 1) {
        fprintf(stderr, "elang %s: --stop works with greedy search, not with --num-beams %d\n", command,
                opts->gen.num_beams);
        return false;
    }
    opts->gen.stop = stop, opts->gen.num_stop = 1;
    return true;
}

bool route_opts_from_flags(const char *command, route_flags *fl, const elang_calibration *calib,
                           elang_route_opts *o) {
    *o = elang_route_opts_default();
    if (calib) {
        /* A calibration fixes how the score is computed; flags may repeat
         * it but not change it, or the threshold would mean nothing. */
        elang_score_kind k;
        elang_aggregation a;
        if ((fl->score && (!elang_score_from_name(fl->score, &k) || k != calib->score)) ||
            (fl->aggregate && (!elang_aggregation_from_name(fl->aggregate, &a) || a != calib->aggregate)) ||
            (fl->temperature > 0.0 && fl->temperature != calib->temperature) || fl->label_words ||
            (fl->num_beams && fl->num_beams != calib->num_beams) ||
            (fl->max_new_tokens && fl->max_new_tokens != calib->max_new_tokens)) {
            /* A classifier's score is its logits' alone: decoding does not enter it. */
            const bool generator = calib->num_label_words > 0 || (calib->task && strcmp(calib->task, "translation") == 0);
            if (generator)
                fprintf(stderr, "elang %s: the calibration fixes the score (%s, T = %g, %s aggregation%s, %d beams, "
                                "%d new tokens); drop --score/--temperature/--aggregate/--label-words/--num-beams/"
                                "--max-new-tokens or calibrate again\n",
                        command, elang_score_name(calib->score), calib->temperature,
                        elang_aggregation_name(calib->aggregate), calib->num_label_words ? ", label words" : "",
                        calib->num_beams, calib->max_new_tokens);
            else
                fprintf(stderr, "elang %s: the calibration fixes the score (%s, T = %g); drop --score/--temperature "
                                "(and a generator's flags, which a classifier does not take) or calibrate again\n",
                        command, elang_score_name(calib->score), calib->temperature);
            return false;
        }
        o->score = calib->score;
        o->temperature = calib->temperature;
        o->aggregate = calib->aggregate;
        o->label_words = calib->num_label_words ? (const char *const *)calib->label_words : NULL;
        o->num_label_words = calib->num_label_words;
        o->gen.num_beams = calib->num_beams;
        o->gen.max_new_tokens = calib->max_new_tokens;
    } else {
        if (fl->score) elang_score_from_name(fl->score, &o->score);
        if (fl->aggregate) elang_aggregation_from_name(fl->aggregate, &o->aggregate);
        if (fl->temperature > 0.0) o->temperature = fl->temperature;
        if (fl->label_words) {
            if (!label_words_parse(command, fl->label_words, &fl->words)) return false;
            o->label_words = fl->words.words;
            o->num_label_words = fl->words.n;
        }
    }
    o->seed = (uint64_t)fl->seed;
    o->batch_size = fl->batch_size;
    o->gen.batch_size = fl->batch_size;
    if (fl->num_beams) o->gen.num_beams = fl->num_beams;
    if (fl->max_new_tokens) o->gen.max_new_tokens = fl->max_new_tokens;
    return true;
}

void route_flags_free(route_flags *fl) {
    label_words_free(&fl->words);
}

/* A flag's prefix (or pair infix), else the calibration's; false when
 * they differ. */
static bool choose_prefix(const char *command, const char *role, const char *what, const char **flag,
                          const char *calibrated) {
    if (!calibrated) return true;
    if (!*flag) {
        *flag = *calibrated ? calibrated : NULL;
        return true;
    }
    if (strcmp(*flag, calibrated) == 0) return true;
    fprintf(stderr, "elang %s: the calibration ran %s with the %s \"%s\", not \"%s\"\n", command, role, what,
            calibrated, *flag);
    return false;
}

bool decoding_flags_fit(const char *command, const route_flags *fl, const elang_model *swift) {
    const char *decoding = fl->num_beams ? "--num-beams" : fl->max_new_tokens ? "--max-new-tokens"
                         : fl->aggregate ? "--aggregate" : fl->pair_infix ? "--pair-infix" : NULL;
    if (!decoding || elang_model_is_generator(swift)) return true;
    fprintf(stderr, "elang %s: %s is for text generators; %s is a %s classifier\n", command, decoding,
            elang_model_dir(swift), elang_model_type(swift));
    return false;
}

int load_pair(const char *command, route_flags *fl, const elang_calibration *calib, elang_model **swift,
              elang_model **super) {
    *swift = NULL;
    if (super) *super = NULL;
    if (!fl->swift || !fl->super) {
        fprintf(stderr, "elang %s: --swift DIR and --super DIR are required\n", command);
        return 2;
    }
    if (super && is_url(fl->super)) {
        fprintf(stderr, "elang %s: --super takes a model directory here, since both models run on every input; a "
                        "Super on another machine (KServe v2 or an OpenAI-compatible API) is for elang route and "
                        "elang serve (--super URL, --super-api)\n", command);
        return 2;
    }
    if (!choose_prefix(command, "Swift", "prefix", &fl->swift_prefix, calib ? calib->swift_prefix : NULL) ||
        !choose_prefix(command, "Super", "prefix", &fl->super_prefix, calib ? calib->super_prefix : NULL) ||
        !choose_prefix(command, "the models", "pair infix", &fl->pair_infix, calib ? calib->pair_infix : NULL))
        return 2;
    const elang_dtype dtype = dtype_of_flag(fl->dtype);
    warn_dtype(command, calib, dtype);
    elang_error err;
    elang_load_opts lo = {.threads = fl->threads, .input_prefix = fl->swift_prefix, .dtype = dtype,
                          .pair_infix = fl->pair_infix};
    if (elang_model_load(fl->swift, &lo, swift, &err) != ELANG_OK) return cli_fail(command, "Swift model: ", &err);
    if (!decoding_flags_fit(command, fl, *swift)) {
        elang_model_free(*swift);
        *swift = NULL;
        return 2;
    }
    lo.input_prefix = fl->super_prefix;
    if (super && elang_model_load(fl->super, &lo, super, &err) != ELANG_OK) {
        elang_model_free(*swift);
        *swift = NULL;
        return cli_fail(command, "Super model: ", &err);
    }
    return 0;
}

bool is_url(const char *s) { return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0; }

const char *remote_flag_given(const remote_flags *rf) {
    return rf->api                        ? "--super-api"
           : rf->connect_timeout_ms >= 0 ? "--super-connect-timeout-ms"
           : rf->timeout_ms >= 0         ? "--super-timeout-ms"
           : rf->retries >= 0            ? "--super-retries"
                                         : NULL;
}

bool check_remote_flags(const char *command, const route_flags *fl, const remote_flags *rf) {
    const bool remote = fl->super && is_url(fl->super), openai = rf->api && strcmp(rf->api, "openai") == 0;
    if (remote && fl->super_prefix) {
        fprintf(stderr, "elang %s: a remote Super applies its own prefix (start it with --prefix); drop "
                        "--super-prefix\n", command);
        return false;
    }
    /* A flag for a remote Super given with a local one would be silently
     * ignored: most likely --super names the wrong thing. */
    const char *remote_only = remote_flag_given(rf);
    if (remote_only && !remote) {
        fprintf(stderr, "elang %s: %s is for a remote Super; --super %s is no http(s) URL\n", command, remote_only,
                fl->super ? fl->super : "(none)");
        return false;
    }
    if (rf->model && !openai) {
        fprintf(stderr, "elang %s: --super-model names the model of a Super behind an OpenAI-compatible API "
                        "(--super-api openai)\n", command);
        return false;
    }
    if (openai && !rf->model) {
        fprintf(stderr, "elang %s: --super-api openai needs --super-model NAME, the model the server at %s is "
                        "asked for (its GET /v1/models lists them)\n", command, fl->super);
        return false;
    }
    return true;
}

elang_remote_opts remote_opts_of(const char *url, const remote_flags *rf) {
    return (elang_remote_opts){.api = rf->api && strcmp(rf->api, "openai") == 0 ? ELANG_REMOTE_OPENAI : ELANG_REMOTE_V2,
                               .url = url, .model = rf->model,
                               .connect_timeout_ms = rf->connect_timeout_ms, .timeout_ms = rf->timeout_ms,
                               /* The library's default is no retry; one spares a router the
                                * Super's occasional dropped connection. */
                               .retries = rf->retries >= 0 ? rf->retries : 1};
}

const char *max_new_tokens_source(const route_flags *fl, const elang_calibration *calib) {
    return fl->max_new_tokens ? "--max-new-tokens" : calib ? "the calibration's max_new_tokens" : NULL;
}

int load_dataset(const char *command, const char *task, const char *data, const char *src, const char *ref,
                 elang_dataset **out) {
    *out = NULL;
    if (!task) {
        fprintf(stderr, "elang %s: --task is required (sst2, cola, mrpc, rte, qqp, mnli, mnli-mm, qnli, stsb, "
                        "wnli, translation)\n", command);
        return 2;
    }
    const bool translation = strcmp(task, "translation") == 0;
    if (translation ? (!src || !ref || data) : (!data || src || ref)) {
        fprintf(stderr, "elang %s: %s\n", command,
                translation ? "--task translation takes --src FILE --ref FILE" : "a GLUE task takes --data FILE");
        return 2;
    }
    elang_error err;
    if (elang_dataset_load(task, translation ? src : data, ref, out, &err) != ELANG_OK)
        return cli_fail(command, "", &err);
    return 0;
}

size_t *examples_on_lines(const char *command, const elang_dataset *d, const char *path, size_t *count) {
    line_reader r;
    if (!line_reader_open(&r, command, path)) return NULL;
    const size_t n = elang_dataset_size(d);
    const long last = elang_dataset_line(d, n - 1);
    long *by_line = malloc(sizeof(long) * (size_t)(last + 1));
    bool *wanted = calloc((size_t)n, sizeof *wanted);
    size_t *idx = malloc(sizeof *idx * n);
    bool ok = by_line && wanted && idx, failed = false;
    if (!ok) fprintf(stderr, "elang %s: out of memory\n", command);
    for (long l = 0; ok && l <= last; l++) by_line[l] = -1;
    for (size_t i = 0; ok && i < n; i++) by_line[elang_dataset_line(d, i)] = (long)i;
    char *text;
    size_t len;
    while (ok && line_reader_next(&r, &text, &len, &failed)) {
        long line;
        /* (A NUL inside the line would end the number early.) */
        if (memchr(text, '\0', len) || !whole_parse(text, 1, last, &line) || by_line[line] < 0) {
            char shown[128];
            fprintf(stderr,
                    "elang %s: %s line %ld: \"%s\" is not the line of an example (they are on lines %ld to %ld of "
                    "the data file, a header being line 1)\n",
                    command, path, r.line_no, escape_for_message(text, len, shown, sizeof shown),
                    (long)elang_dataset_line(d, 0), last);
            ok = false;
        } else if (wanted[by_line[line]]) {
            fprintf(stderr, "elang %s: %s line %ld: line %ld is listed twice\n", command, path, r.line_no, line);
            ok = false;
        } else {
            wanted[by_line[line]] = true;
        }
    }
    ok = ok && !failed;
    line_reader_close(&r);
    *count = 0;
    for (size_t i = 0; ok && i < n; i++)
        if (wanted[i]) idx[(*count)++] = i;
    if (ok && *count == 0) {
        fprintf(stderr, "elang %s: %s lists no lines\n", command, path);
        ok = false;
    }
    free(by_line), free(wanted);
    if (!ok) free(idx);
    return ok ? idx : NULL;
}

void progress_bar(void *command, const char *stage, size_t done, size_t total) {
    if (!isatty(STDERR_FILENO) || total == 0) return;
    const int width = 30, filled = (int)((double)done / total * width);
    fprintf(stderr, "\r%s %-5s [", (const char *)command, stage);
    for (int i = 0; i < width; i++) fputc(i < filled ? '#' : '.', stderr);
    fprintf(stderr, "] %zu/%zu", done, total);
    if (done == total) fputc('\n', stderr);
    fflush(stderr);
}
