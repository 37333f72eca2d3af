#include "cli/route_flags.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool parse_words(const char *command, route_flags *fl, elang_route_opts *o) {
    int n = 0;
    for (const char *p = fl->label_words; *p;) {
        const char *comma = strchr(p, ',');
        const size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len >= sizeof fl->words[0] || n == ELANG_MAX_LABEL_WORDS) {
            fprintf(stderr, "elang %s: --label-words takes 2 to %d non-empty words of under 64 bytes, "
                            "separated by commas\n", command, ELANG_MAX_LABEL_WORDS);
            return false;
        }
        memcpy(fl->words[n], p, len);
        fl->words[n][len] = '\0';
        fl->word_ptrs[n] = fl->words[n];
        n++;
        p += len + (comma ? 1 : 0);
        if (comma && !*p) n = ELANG_MAX_LABEL_WORDS + 1; /* a trailing comma */
    }
    if (n < 2 || n > ELANG_MAX_LABEL_WORDS) {
        fprintf(stderr, "elang %s: --label-words needs 2 to %d comma-separated words\n", command,
                ELANG_MAX_LABEL_WORDS);
        return false;
    }
    o->label_words = fl->word_ptrs;
    o->num_label_words = n;
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
            fprintf(stderr, "elang %s: the calibration fixes the score (%s, T = %g, %s aggregation%s, %d beams, "
                            "%d new tokens); drop --score/--temperature/--aggregate/--label-words/--num-beams/"
                            "--max-new-tokens or calibrate again\n",
                    command, elang_score_name(calib->score), calib->temperature,
                    elang_aggregation_name(calib->aggregate), calib->num_label_words ? ", label words" : "",
                    calib->num_beams, calib->max_new_tokens);
            return false;
        }
        o->score = calib->score;
        o->temperature = calib->temperature;
        o->aggregate = calib->aggregate;
        for (int i = 0; i < calib->num_label_words; i++) fl->word_ptrs[i] = calib->label_words[i];
        o->label_words = calib->num_label_words ? fl->word_ptrs : NULL;
        o->num_label_words = calib->num_label_words;
        o->gen.num_beams = calib->num_beams;
        o->gen.max_new_tokens = calib->max_new_tokens;
    } else {
        if (fl->score) elang_score_from_name(fl->score, &o->score);
        if (fl->aggregate) elang_aggregation_from_name(fl->aggregate, &o->aggregate);
        if (fl->temperature > 0.0) o->temperature = fl->temperature;
        if (fl->label_words && !parse_words(command, fl, o)) return false;
    }
    o->seed = (uint64_t)fl->seed;
    o->batch_size = fl->batch_size;
    o->gen.batch_size = fl->batch_size;
    if (fl->num_beams) o->gen.num_beams = fl->num_beams;
    if (fl->max_new_tokens) o->gen.max_new_tokens = fl->max_new_tokens;
    return true;
}

/* A flag's prefix, else the calibration's; false when they differ. */
static bool choose_prefix(const char *command, const char *role, const char **flag, const char *calibrated) {
    if (!calibrated) return true;
    if (!*flag) {
        *flag = *calibrated ? calibrated : NULL;
        return true;
    }
    if (strcmp(*flag, calibrated) == 0) return true;
    fprintf(stderr, "elang %s: the calibration ran %s with the prefix \"%s\", not \"%s\"\n", command, role,
            calibrated, *flag);
    return false;
}

bool load_pair(const char *command, route_flags *fl, const elang_calibration *calib, elang_model **swift,
               elang_model **super) {
    *swift = *super = NULL;
    if (!fl->swift || !fl->super) {
        fprintf(stderr, "elang %s: --swift DIR and --super DIR are required\n", command);
        return false;
    }
    if (!choose_prefix(command, "Swift", &fl->swift_prefix, calib ? calib->swift_prefix : NULL) ||
        !choose_prefix(command, "Super", &fl->super_prefix, calib ? calib->super_prefix : NULL))
        return false;
    elang_error err;
    elang_load_opts lo = {.threads = fl->threads, .input_prefix = fl->swift_prefix};
    if (elang_model_load(fl->swift, &lo, swift, &err) != ELANG_OK) {
        fprintf(stderr, "elang %s: Swift model: %s\n", command, err.message);
        return false;
    }
    lo.input_prefix = fl->super_prefix;
    if (elang_model_load(fl->super, &lo, super, &err) != ELANG_OK) {
        fprintf(stderr, "elang %s: Super model: %s\n", command, err.message);
        elang_model_free(*swift);
        *swift = NULL;
        return false;
    }
    return true;
}

bool load_dataset(const char *command, const char *task, const char *data, const char *src, const char *ref,
                  elang_dataset **out) {
    *out = NULL;
    if (!task) {
        fprintf(stderr, "elang %s: --task is required (sst2, cola, mrpc, rte, qqp, mnli, mnli-mm, qnli, stsb, "
                        "wnli, translation)\n", command);
        return false;
    }
    const bool translation = strcmp(task, "translation") == 0;
    if (translation ? (!src || !ref || data) : (!data || src || ref)) {
        fprintf(stderr, "elang %s: %s\n", command,
                translation ? "--task translation takes --src FILE --ref FILE" : "a GLUE task takes --data FILE");
        return false;
    }
    elang_error err;
    if (elang_dataset_load(task, translation ? src : data, ref, out, &err) != ELANG_OK) {
        fprintf(stderr, "elang %s: %s\n", command, err.message);
        return false;
    }
    return true;
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
