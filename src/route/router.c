/* The E-LANG router as a cascade: every input goes through the first
 * (Swift) model; those whose score falls below that tier's threshold go,
 * together, through the next; and so on to the last (Super). With two tiers
 * this is the paper's joint inference. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "api/model_internal.h"
#include "util/error.h"
#include "elang.h"
#include "route/answers.h"

/* A cascade replaces one model's answer by another's, so they must speak
 * the same language: classifiers the same labels in the same order (else
 * label 1 of Swift and label 1 of Super could mean different things, and
 * the routed answers would be mixed silently), generators text, and label
 * words only with generators. */
static elang_status check_alike(elang_model *const *tiers, int num_tiers, const elang_route_opts *opts,
                                elang_error *err) {
    const bool words = opts && opts->num_label_words > 0;
    for (int i = 0; i < num_tiers; i++) {
        const bool gen = elang_model_is_generator(tiers[i]);
        if (words && !gen)
            return elang_fail(err, ELANG_ERR_INVALID_ARG,
                              "label words are for text-to-text models; %s is a %s classifier with labels of its own",
                              elang_model_dir(tiers[i]), elang_model_type(tiers[i]));
        if (gen != elang_model_is_generator(tiers[0]))
            return elang_fail(err, ELANG_ERR_INVALID_ARG,
                              "the router's models must all classify or all generate (%s is a %s, %s a %s)",
                              elang_model_dir(tiers[0]), elang_model_type(tiers[0]), elang_model_dir(tiers[i]),
                              elang_model_type(tiers[i]));
        if (words) {
            /* Said now, before any input is read: a clash depends on each model's vocabulary. */
            int32_t *ids = malloc(sizeof *ids * (size_t)opts->num_label_words);
            const elang_status st = ids ? model_label_word_ids(tiers[i], opts->label_words, opts->num_label_words, ids, err)
                                        : elang_fail(err, ELANG_ERR_NOMEM, "out of memory for label words");
            free(ids);
            if (st != ELANG_OK) return st;
        }
        if (gen || i == 0) continue;
        const int n0 = elang_model_num_labels(tiers[0]), ni = elang_model_num_labels(tiers[i]);
        if (n0 != ni)
            return elang_fail(err, ELANG_ERR_INVALID_ARG, "%s has %d labels but %s has %d: their answers cannot "
                              "replace each other", elang_model_dir(tiers[0]), n0, elang_model_dir(tiers[i]), ni);
        for (int k = 0; k < n0; k++)
            if (strcmp(elang_model_label(tiers[0], k), elang_model_label(tiers[i], k)) != 0)
                return elang_fail(err, ELANG_ERR_INVALID_ARG,
                                  "label %d is \"%s\" in %s but \"%s\" in %s: the models must have the same "
                                  "labels in the same order (id2label in config.json)", k,
                                  elang_model_label(tiers[0], k), elang_model_dir(tiers[0]),
                                  elang_model_label(tiers[i], k), elang_model_dir(tiers[i]));
    }
    return ELANG_OK;
}

struct elang_router {
    elang_model **tiers;  /* [num_tiers], borrowed; the last is NULL when `remote` answers for it */
    double *thresholds;   /* [num_tiers - 1] */
    int num_tiers;
    elang_route_opts opts; /* its label words and stop strings point into the copies below */
    char **label_words;   /* [opts.num_label_words], owned */
    char **stop;          /* [opts.gen.num_stop], owned */
    elang_answer_fn remote;
    void *remote_ctx;
};

/* A router over num_models models, and one more tier when remote is set. */
static elang_status router_new(elang_model *const *tiers, int num_models, const double *thresholds,
                               elang_answer_fn remote, void *ctx, const elang_route_opts *opts,
                               elang_router **out, elang_error *err) {
    if (!out) return elang_fail(err, ELANG_ERR_INVALID_ARG, "a router needs somewhere to be put");
    *out = NULL;
    const int num_tiers = num_models + (remote != NULL);
    if (num_models < 1 || num_tiers < 2 || num_tiers > 16)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "a router needs 2 to 16 tiers, got %d model%s%s", num_models,
                          num_models == 1 ? "" : "s", remote ? " and a remote tier" : "");
    if (!tiers || !thresholds) return elang_fail(err, ELANG_ERR_INVALID_ARG, "a router needs its models and thresholds");
    for (int i = 0; i < num_models; i++)
        if (!tiers[i]) return elang_fail(err, ELANG_ERR_INVALID_ARG, "model %d of the router is missing", i);
    /* NaN compares false with everything: every input would move on. */
    for (int i = 0; i + 1 < num_tiers; i++)
        if (isnan(thresholds[i])) return elang_fail(err, ELANG_ERR_INVALID_ARG, "threshold %d is not a number", i);
    elang_status st = route_opts_check(tiers[0], opts, err);
    if (st == ELANG_OK) st = check_alike(tiers, num_models, opts, err);
    if (st != ELANG_OK) return st;
    /* A head that cannot score these label words is a mistake in the
     * command: said now, before any input is read. */
    for (int i = 0; opts && opts->score == ELANG_SCORE_ENCODER_HEAD && i + 1 < num_tiers; i++) {
        if (!elang_model_has_head(tiers[i]))
            return elang_fail(err, ELANG_ERR_INVALID_ARG,
                              "--score encoder-head needs an encoder head (elang_head.json and "
                              "elang_head.safetensors) in %s", elang_model_dir(tiers[i]));
        int outputs[ENCODER_HEAD_MAX_OUTPUTS], k;
        if ((st = pick_head_outputs(tiers[i], opts, outputs, &k, err)) != ELANG_OK) return st;
    }
    elang_router *r = calloc(1, sizeof *r);
    if (r) {
        r->tiers = calloc((size_t)num_tiers, sizeof *r->tiers);
        r->thresholds = malloc(sizeof *r->thresholds * (size_t)num_tiers);
    }
    if (!r || !r->tiers || !r->thresholds) {
        elang_router_free(r);
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for a router");
    }
    memcpy(r->tiers, tiers, sizeof *r->tiers * (size_t)num_models);
    memcpy(r->thresholds, thresholds, sizeof *r->thresholds * (size_t)(num_tiers - 1));
    r->num_tiers = num_tiers;
    r->opts = opts ? *opts : elang_route_opts_default();
    /* The caller's strings need not outlive this call: answers point at the label words. */
    if (!route_opts_own_strings(&r->opts, &r->label_words, &r->stop)) {
        elang_router_free(r);
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for a router");
    }
    r->remote = remote;
    r->remote_ctx = ctx;
    *out = r;
    return ELANG_OK;
}

elang_status elang_router_new(elang_model *const *tiers, int num_tiers, const double *thresholds,
                              const elang_route_opts *opts, elang_router **out, elang_error *err) {
    return router_new(tiers, num_tiers, thresholds, NULL, NULL, opts, out, err);
}

elang_status elang_router_new_remote(elang_model *const *tiers, int num_models, const double *thresholds,
                                     elang_answer_fn answer, void *ctx, const elang_route_opts *opts,
                                     elang_router **out, elang_error *err) {
    if (out) *out = NULL;
    if (!answer) return elang_fail(err, ELANG_ERR_INVALID_ARG, "a remote tier needs its answer function");
    return router_new(tiers, num_models, thresholds, answer, ctx, opts, out, err);
}

void elang_router_free(elang_router *r) {
    if (!r) return;
    route_opts_strings_free(&r->opts, r->label_words, r->stop);
    free(r->tiers);
    free(r->thresholds);
    free(r);
}

void elang_route_out_free(elang_route_out *out, size_t n) {
    if (!out) return;
    for (size_t i = 0; i < n; i++) {
        if (out[i].answers) elang_answers_free(out[i].answers, (size_t)out[i].tier + 1);
        free(out[i].answers);
        memset(&out[i], 0, sizeof out[i]);
    }
}

/* The inputs keep[0..k) that tier t kept on its decision before decoding:
 * decoded by it now, each full answer replacing its decision, whose
 * scores it takes. texts, seeds and answers are scratch of k entries. */
static elang_status decode_kept(elang_router *r, int t, const elang_text *in, const size_t *items,
                                const size_t *keep, size_t k, elang_text *texts, size_t *seeds,
                                elang_answer *answers, elang_route_out *out, elang_error *err) {
    for (size_t j = 0; j < k; j++) {
        texts[j] = in[keep[j]];
        seeds[j] = items ? items[keep[j]] : keep[j];
    }
    elang_status st = elang_answer_all(r->tiers[t], texts, seeds, k, &r->opts, answers, NULL, err);
    if (st != ELANG_OK) {
        if (err && err->item >= 0) err->item = (long)keep[err->item];
        return st;
    }
    for (size_t j = 0; j < k; j++) {
        answer_take_decision(&answers[j], &out[keep[j]].answers[t]);
        elang_answers_free(&out[keep[j]].answers[t], 1);
        out[keep[j]].answers[t] = answers[j];
    }
    return ELANG_OK;
}

elang_status elang_route(elang_router *r, const elang_text *in, size_t n, elang_route_out *out,
                         elang_error *err) {
    return elang_route_items(r, in, NULL, n, out, err);
}

elang_status elang_route_items(elang_router *r, const elang_text *in, const size_t *items, size_t n,
                               elang_route_out *out, elang_error *err) {
    if (!r) return elang_fail(err, ELANG_ERR_INVALID_ARG, "elang_route needs a router");
    const elang_status cleared = outputs_clear(out, n, sizeof *out, in, err);
    if (cleared != ELANG_OK) return cleared;
    size_t *pending = malloc(sizeof *pending * (n ? n : 1)), *keep = malloc(sizeof *keep * (n ? n : 1));
    size_t *seeds = malloc(sizeof *seeds * (n ? n : 1));
    elang_text *texts = malloc(sizeof *texts * (n ? n : 1));
    elang_answer *answers = malloc(sizeof *answers * (n ? n : 1));
    elang_status st = pending && keep && seeds && texts && answers
                          ? ELANG_OK
                          : elang_fail(err, ELANG_ERR_NOMEM, "out of memory routing %zu inputs", n);
    for (size_t i = 0; st == ELANG_OK && i < n; i++) {
        pending[i] = i;
        out[i].answers = calloc((size_t)r->num_tiers, sizeof *out[i].answers);
        if (!out[i].answers) st = elang_fail(err, ELANG_ERR_NOMEM, "out of memory routing %zu inputs", n);
    }
    size_t count = n;
    elang_error remote_err;
    for (int t = 0; st == ELANG_OK && t < r->num_tiers && count > 0; t++) {
        for (size_t j = 0; j < count; j++) {
            texts[j] = in[pending[j]];
            seeds[j] = items ? items[pending[j]] : pending[j];
        }
        const bool last = t == r->num_tiers - 1;
        /* Deciding before decoding, a tier first scores every input with
         * that pass alone, and decodes only those it keeps. */
        const bool early = !last && r->tiers[t] &&
                           elang_decision_of(r->tiers[t], &r->opts) != ELANG_DECIDE_AFTER_DECODING;
        if (early) {
            st = elang_answer_decisions(r->tiers[t], texts, seeds, count, &r->opts, answers, NULL, err);
        } else if (r->tiers[t]) {
            st = elang_answer_all(r->tiers[t], texts, seeds, count, &r->opts, answers, NULL, err);
        } else if (r->remote(r->remote_ctx, texts, seeds, count, answers, &remote_err) != ELANG_OK) {
            /* The answers of the tier before stand. Why the remote side
             * failed is its own to report (its caller gave it a context). */
            for (size_t j = 0; j < count; j++) out[pending[j]].degraded = true;
            break;
        }
        if (st != ELANG_OK) {
            if (err && err->item >= 0) err->item = (long)pending[err->item];
            break;
        }
        size_t next = 0, kept = 0;
        for (size_t j = 0; j < count; j++) {
            elang_route_out *o = &out[pending[j]];
            o->tier = t;
            o->answers[t] = answers[j];
            if (!last && !elang_keeps_swift(answers[j].score, r->thresholds[t])) pending[next++] = pending[j];
            else if (early) keep[kept++] = pending[j];
        }
        count = next;
        if (early && kept > 0) st = decode_kept(r, t, in, items, keep, kept, texts, seeds, answers, out, err);
    }
    free(pending), free(keep), free(seeds), free(texts), free(answers);
    if (st != ELANG_OK) elang_route_out_free(out, n);
    return st;
}
