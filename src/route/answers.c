/* One model's answers to many inputs, each with every routing score: the
 * unit that routing, calibration and evaluation are built from. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/model_internal.h"
#include "util/clock.h"
#include "util/error.h"
#include "core/scores.h"
#include "route/aggregate.h"
#include "route/answers.h"

elang_route_opts elang_route_opts_default(void) {
    return (elang_route_opts){.score = ELANG_SCORE_ENERGY, .temperature = 1.0, .aggregate = ELANG_AGG_MEAN,
                              .batch_size = 32, .gen = elang_gen_opts_default()};
}

/* The options with every zero replaced by its default (the decoding
 * settings' zeros are elang_generate's to fill). */
static elang_route_opts with_defaults(const elang_route_opts *opts) {
    const elang_route_opts d = elang_route_opts_default();
    if (!opts) return d;
    elang_route_opts o = *opts;
    if (o.temperature == 0.0) o.temperature = d.temperature;
    if (o.batch_size == 0) o.batch_size = d.batch_size;
    return o;
}

void elang_answers_free(elang_answer *a, size_t n) {
    if (!a) return;
    for (size_t i = 0; i < n; i++) {
        elang_class_out_free(&a[i].cls, 1);
        elang_gen_out_free(&a[i].gen, 1);
        memset(&a[i], 0, sizeof a[i]);
    }
}

/* A classifier's answers, or a generator's by label words (their first
 * tokens compete at the first decoding step; the scores see only those
 * logits). */
static elang_status answer_by_classifying(elang_model *m, const elang_text *in, size_t n,
                                          const elang_route_opts *o, elang_answer *out, elang_error *err) {
    elang_class_out *cls = calloc(n, sizeof *cls);
    if (!cls) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for %zu answers", n);
    const int k = o->num_label_words;
    const elang_classify_opts co = {.batch_size = o->batch_size, .temperature = o->temperature,
                                    .label_words = o->label_words, .num_label_words = k};
    elang_status st = elang_classify(m, in, n, &co, cls, err);
    for (size_t i = 0; st == ELANG_OK && i < n; i++) {
        out[i].label_id = cls[i].label_id;
        out[i].input_tokens = cls[i].num_tokens;
        logits_scores(cls[i].logits, k ? k : elang_model_num_labels(m), o->temperature, out[i].scores);
        if (k) {
            /* The words are the caller's; the step is the whole answer. */
            out[i].label = o->label_words[cls[i].label_id];
            out[i].decoder_steps = 1;
            elang_class_out_free(&cls[i], 1);
        } else {
            out[i].label = elang_model_label(m, cls[i].label_id);
            out[i].cls = cls[i];
        }
    }
    free(cls);
    return st;
}

static elang_status answer_by_generation(elang_model *m, const elang_text *in, size_t n,
                                         const elang_route_opts *o, elang_answer *out, elang_error *err) {
    elang_gen_out *gen = calloc(n, sizeof *gen);
    if (!gen) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for %zu answers", n);
    elang_gen_opts go = o->gen;
    go.temperature = o->temperature;
    go.step_scores = true;
    const int beams = go.num_beams > 0 ? go.num_beams : 1;
    elang_status st = elang_generate(m, in, n, &go, gen, err);
    for (size_t i = 0; st == ELANG_OK && i < n; i++) {
        out[i].gen = gen[i];
        out[i].label_id = -1;
        out[i].input_tokens = gen[i].num_input_ids;
        out[i].decoder_steps = gen[i].num_steps * beams;
        /* PROMPT's score is the first step's (what elang_answer_decisions
         * computes before decoding). */
        for (int k = 0; k < ELANG_DIST_SCORES; k++)
            out[i].scores[k] = (float)aggregate_steps(gen[i].step_scores, gen[i].num_steps, ELANG_DIST_SCORES, k,
                                                      o->aggregate);
    }
    free(gen);
    return st;
}

elang_status route_opts_check(elang_model *m, const elang_route_opts *opts, elang_error *err) {
    if (!m) return elang_fail(err, ELANG_ERR_INVALID_ARG, "routing needs a model");
    const elang_route_opts with = with_defaults(opts), *o = &with;
    if (o->score < 0 || o->score >= ELANG_SCORE_KINDS)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "unknown score kind %d", (int)o->score);
    if (o->aggregate < ELANG_AGG_MEAN || o->aggregate > ELANG_AGG_PROMPT)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "unknown aggregation %d", (int)o->aggregate);
    elang_status st = label_words_check(o->label_words, o->num_label_words, err);
    if (st != ELANG_OK) return st;
    if (o->gen.num_stop < 0 || (o->gen.num_stop > 0 && !o->gen.stop))
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "stop strings: %d given%s", o->gen.num_stop,
                          o->gen.stop ? "" : " but no list");
    for (int i = 0; i < o->gen.num_stop; i++)
        if (!o->gen.stop[i] || !o->gen.stop[i][0])
            return elang_fail(err, ELANG_ERR_INVALID_ARG, "stop string %d is %s", i + 1,
                              o->gen.stop[i] ? "empty" : "NULL");
    if (o->num_label_words > 0 && !elang_model_is_generator(m))
        return elang_fail(err, ELANG_ERR_INVALID_ARG,
                          "label words are for text-to-text models; %s is a %s classifier with labels of its own",
                          elang_model_dir(m), elang_model_type(m));
    if (!(o->temperature > 0.0) || !isfinite(o->temperature))
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "routing temperature must be a positive number, got %g",
                          o->temperature);
    if (o->batch_size < 0)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "routing batch size must be positive, got %d", o->batch_size);
    return ELANG_OK;
}

/* Each answer's random score, and the score the options route on. */
static void finish(const elang_route_opts *o, const size_t *items, size_t n, elang_answer *out) {
    for (size_t i = 0; i < n; i++) {
        out[i].scores[ELANG_SCORE_RANDOM] = (float)random_score(o->seed, items ? items[i] : i);
        out[i].score = out[i].scores[o->score];
    }
}

elang_status elang_answer_all(elang_model *m, const elang_text *in, const size_t *items, size_t n,
                              const elang_route_opts *opts, elang_answer *out, double *seconds,
                              elang_error *err) {
    const elang_route_opts o = with_defaults(opts);
    elang_status st = route_opts_check(m, opts, err);
    if (st != ELANG_OK) return st;
    if ((st = outputs_clear(out, n, sizeof *out, in, err)) != ELANG_OK || n == 0) return st;
    const double t0 = clock_seconds();
    if (!elang_model_is_generator(m) || o.num_label_words > 0) st = answer_by_classifying(m, in, n, &o, out, err);
    else st = answer_by_generation(m, in, n, &o, out, err);
    if (seconds) *seconds = clock_seconds() - t0;
    if (st != ELANG_OK) {
        elang_answers_free(out, n);
        return st;
    }
    /* The head's score is a pass of its own (elang_answer_decisions). */
    for (size_t i = 0; i < n; i++) out[i].scores[ELANG_SCORE_ENCODER_HEAD] = NAN;
    finish(&o, items, n, out);
    return ELANG_OK;
}

elang_decision elang_decision_of(const elang_model *m, const elang_route_opts *opts) {
    const elang_route_opts o = with_defaults(opts);
    if (!elang_model_is_generator(m)) return ELANG_DECIDE_AFTER_DECODING;
    if (o.score == ELANG_SCORE_ENCODER_HEAD) return ELANG_DECIDE_BY_HEAD;
    if (o.aggregate == ELANG_AGG_PROMPT && o.num_label_words == 0) return ELANG_DECIDE_ON_FIRST_STEP;
    return ELANG_DECIDE_AFTER_DECODING;
}

elang_status pick_head_outputs(const elang_model *m, const elang_route_opts *o, int *outputs, int *k,
                               elang_error *err) {
    const encoder_head *h = m->head;
    *k = 0;
    if (!h || h->predicts != HEAD_PREDICTS_LABEL_WORD_LOGITS) return ELANG_OK;
    if (o->num_label_words < 2 || o->num_label_words > ENCODER_HEAD_MAX_OUTPUTS)
        return elang_fail(err, ELANG_ERR_INVALID_ARG,
                          "the encoder head of %s predicts label-word logits: route with --label-words (2 to %d of "
                          "its words)", elang_model_dir(m), ENCODER_HEAD_MAX_OUTPUTS);
    *k = o->num_label_words;
    return encoder_head_pick(h, elang_model_dir(m), o->label_words, *k, outputs, err);
}

elang_status elang_answer_decisions(elang_model *m, const elang_text *in, const size_t *items, size_t n,
                                    const elang_route_opts *opts, elang_answer *out, double *seconds,
                                    elang_error *err) {
    const elang_route_opts o = with_defaults(opts);
    elang_status st = route_opts_check(m, opts, err);
    if (st != ELANG_OK) return st;
    const elang_decision pass = elang_decision_of(m, &o);
    if (st == ELANG_OK && pass == ELANG_DECIDE_AFTER_DECODING)
        st = elang_fail(err, ELANG_ERR_INVALID_ARG, "%s is routed on its answers here: no score is known before it "
                        "decodes (elang_decision_of)", elang_model_dir(m));
    int head_outputs[ENCODER_HEAD_MAX_OUTPUTS], num_head_outputs = 0;
    if (st == ELANG_OK && pass == ELANG_DECIDE_BY_HEAD)
        st = pick_head_outputs(m, &o, head_outputs, &num_head_outputs, err);
    if (st != ELANG_OK) return st;
    if ((st = outputs_clear(out, n, sizeof *out, in, err)) != ELANG_OK || n == 0) return st;
    float *scores = malloc(sizeof(float) * n * ELANG_SCORE_KINDS);
    int *lengths = malloc(sizeof(int) * n);
    const double t0 = clock_seconds();
    st = scores && lengths
             ? model_decision_scores(m, pass, in, n, o.batch_size, o.temperature,
                                     num_head_outputs ? head_outputs : NULL, num_head_outputs, scores, lengths, err)
             : elang_fail(err, ELANG_ERR_NOMEM, "out of memory for %zu answers", n);
    if (seconds) *seconds = clock_seconds() - t0;
    for (size_t i = 0; st == ELANG_OK && i < n; i++) {
        out[i].label_id = -1;
        out[i].input_tokens = lengths[i];
        out[i].decoder_steps = pass == ELANG_DECIDE_ON_FIRST_STEP;
        memcpy(out[i].scores, scores + i * ELANG_SCORE_KINDS, sizeof out[i].scores);
    }
    free(scores), free(lengths);
    if (st == ELANG_OK) finish(&o, items, n, out);
    return st;
}

double elang_decision_gflops(const elang_model *m, elang_decision d, int input_tokens) {
    if (d == ELANG_DECIDE_ON_FIRST_STEP) return elang_model_gflops(m, input_tokens, 1);
    if (d == ELANG_DECIDE_BY_HEAD) return elang_model_head_gflops(m, input_tokens);
    return 0.0;
}

void answer_take_decision(elang_answer *full, const elang_answer *decision) {
    for (int k = 0; k < ELANG_SCORE_KINDS; k++)
        if (!isnan(decision->scores[k])) full->scores[k] = decision->scores[k];
    full->score = decision->score;
}

/* *out: a copy of s[0..n) (NULL when n is 0); false when out of memory,
 * with *out released. */
static bool copy_strings(const char *const *s, int n, char ***out) {
    *out = NULL;
    if (n <= 0) return true;
    char **copy = calloc((size_t)n, sizeof *copy);
    for (int i = 0; copy && i < n; i++)
        if (!(copy[i] = strdup(s[i]))) {
            while (i > 0) free(copy[--i]);
            free(copy);
            copy = NULL;
        }
    *out = copy;
    return copy != NULL;
}

static void free_strings(char **s, int n) {
    for (int i = 0; s && i < n; i++) free(s[i]);
    free(s);
}

bool route_opts_own_strings(elang_route_opts *opts, char ***words, char ***stop) {
    if (!copy_strings(opts->label_words, opts->num_label_words, words)) return false;
    if (!copy_strings(opts->gen.stop, opts->gen.num_stop, stop)) {
        free_strings(*words, opts->num_label_words);
        *words = NULL;
        return false;
    }
    opts->label_words = (const char *const *)*words;
    opts->gen.stop = (const char *const *)*stop;
    return true;
}

void route_opts_strings_free(const elang_route_opts *opts, char **words, char **stop) {
    free_strings(words, opts->num_label_words);
    free_strings(stop, opts->gen.num_stop);
}
