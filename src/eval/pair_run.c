/* Running Swift and Super once over a labelled set, batched, in chunks so
 * that a progress bar can follow, and keeping per input what every
 * threshold's outcome needs. */
#include "eval/pair_run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "eval/dataset.h"
#include "eval/metrics.h"
#include "route/answers.h"

#define CHUNK 256

/* The task label of a model's answer: classifiers' classes go through
 * the id2label mapping; label words are given in task order already. */
typedef struct {
    int *task_of_model; /* [num model classes]: task label, -1 if none */
    int num_model;
} label_map;

static elang_status make_label_map(elang_model *m, const elang_pair_run *r, label_map *map,
                                   elang_error *err) {
    memset(map, 0, sizeof *map);
    if (r->kind != RUN_CLASSES || elang_model_is_generator(m)) return ELANG_OK;
    const int nm = elang_model_num_labels(m), nt = r->task->num_labels;
    const char **names = malloc(sizeof *names * (size_t)nm);
    int *model_of_task = malloc(sizeof(int) * (size_t)nt);
    map->task_of_model = malloc(sizeof(int) * (size_t)nm);
    elang_status st = names && model_of_task && map->task_of_model
                          ? ELANG_OK : elang_fail(err, ELANG_ERR_NOMEM, "out of memory for labels");
    for (int i = 0; st == ELANG_OK && i < nm; i++) names[i] = elang_model_label(m, i), map->task_of_model[i] = -1;
    if (st == ELANG_OK) st = task_map_labels(r->task, names, nm, model_of_task, err);
    for (int k = 0; st == ELANG_OK && k < nt; k++) map->task_of_model[model_of_task[k]] = k;
    map->num_model = nm;
    free(names), free(model_of_task);
    if (st != ELANG_OK) free(map->task_of_model), map->task_of_model = NULL;
    return st;
}

/* Records one model's answer to item i. */
static elang_status record_answer(elang_pair_run *r, const elang_dataset *d, elang_model *m, const label_map *map,
                                  bool swift, run_item *it, const elang_answer *a, elang_error *err) {
    const double gflops = elang_model_gflops(m, a->input_tokens, a->decoder_steps);
    int pred = a->label_id;
    if (map->task_of_model && pred >= 0) pred = map->task_of_model[pred];
    /* A class the task does not know (a 3-way model on a 2-way task) is
     * simply wrong: count it as the class after the gold one. */
    if (r->kind == RUN_CLASSES && pred < 0) pred = (it->label + 1) % r->task->num_labels;
    double value = a->cls.logits ? a->cls.logits[0] : 0.0;
    elang_status st = ELANG_OK;
    bleu_stats bs = {0};
    chrf_stats cs = {0};
    if (r->kind == RUN_TRANSLATION) {
        st = bleu_sentence_stats(a->gen.text, d->parallel.ref[it->item], &bs, err);
        if (st == ELANG_OK) st = chrf_sentence_stats(a->gen.text, d->parallel.ref[it->item], &cs, err);
    }
    if (swift) {
        memcpy(it->scores, a->scores, sizeof it->scores);
        it->swift_pred = pred, it->swift_value = value, it->swift_bleu = bs, it->swift_chrf = cs;
        it->swift_gflops = gflops;
    } else {
        it->super_pred = pred, it->super_value = value, it->super_bleu = bs, it->super_chrf = cs;
        it->super_gflops = gflops;
    }
    return st;
}

/* Swift's passes before decoding over one chunk, for every decision the
 * run's scores take before decoding, each timed apart so that Swift's own
 * time stays that of its answers: the answers take the scores their
 * decisions give (as a router's kept answers do), the items the passes'
 * costs. */
static elang_status run_decisions(elang_pair_run *r, elang_model *m, const elang_text *texts, const size_t *items,
                                  size_t count, elang_answer *answers, run_item *its, elang_error *err) {
    elang_answer *decided = calloc(count, sizeof *decided);
    elang_status st = decided ? ELANG_OK : elang_fail(err, ELANG_ERR_NOMEM, "out of memory for a run");
    for (int d = ELANG_DECIDE_AFTER_DECODING + 1; st == ELANG_OK && d < ELANG_DECISIONS; d++) {
        int kind = 0; /* a score that decides by d */
        while (kind < ELANG_SCORE_KINDS && r->decision[kind] != (elang_decision)d) kind++;
        if (kind == ELANG_SCORE_KINDS) continue;
        elang_route_opts o = r->opts;
        o.score = (elang_score_kind)kind;
        double s = 0.0;
        st = elang_answer_decisions(m, texts, items, count, &o, decided, &s, err);
        if (st != ELANG_OK) {
            if (err && err->item >= 0) err->item = (long)items[err->item];
            break;
        }
        r->decision_seconds[d] += s;
        for (size_t j = 0; j < count; j++) {
            answer_take_decision(&answers[j], &decided[j]);
            its[j].decision_gflops[d] = elang_decision_gflops(m, (elang_decision)d, decided[j].input_tokens);
        }
        elang_answers_free(decided, count);
    }
    free(decided);
    return st;
}

/* One model over every item, CHUNK inputs at a time. */
static elang_status run_model(elang_pair_run *r, const elang_dataset *d, elang_model *m, bool swift,
                              elang_progress_fn progress, void *ctx, elang_error *err) {
    label_map map;
    elang_status st = make_label_map(m, r, &map, err);
    elang_text *texts = malloc(sizeof *texts * CHUNK);
    size_t *items = malloc(sizeof *items * CHUNK);
    elang_answer *answers = calloc(CHUNK, sizeof *answers);
    if (st == ELANG_OK && (!texts || !items || !answers))
        st = elang_fail(err, ELANG_ERR_NOMEM, "out of memory for a run");
    double *seconds = swift ? &r->swift_seconds : &r->super_seconds;
    for (size_t start = 0; st == ELANG_OK && start < r->n; start += CHUNK) {
        const size_t count = r->n - start < CHUNK ? r->n - start : CHUNK;
        for (size_t j = 0; j < count; j++) {
            items[j] = r->items[start + j].item;
            texts[j] = dataset_text(d, items[j]);
        }
        double s = 0.0;
        st = elang_answer_all(m, texts, items, count, &r->opts, answers, &s, err);
        if (st != ELANG_OK) {
            if (err && err->item >= 0) err->item = (long)items[err->item];
            break;
        }
        *seconds += s;
        if (swift) st = run_decisions(r, m, texts, items, count, answers, &r->items[start], err);
        for (size_t j = 0; st == ELANG_OK && j < count; j++)
            st = record_answer(r, d, m, &map, swift, &r->items[start + j], &answers[j], err);
        elang_answers_free(answers, count);
        if (progress) progress(ctx, swift ? "swift" : "super", start + count, r->n);
    }
    free(map.task_of_model), free(texts), free(items), free(answers);
    return st;
}

elang_status elang_pair_run_new(elang_model *swift, elang_model *super, const elang_dataset *d,
                                const size_t *items, size_t n, const elang_route_opts *opts,
                                elang_progress_fn progress, void *progress_ctx,
                                elang_pair_run **out, elang_error *err) {
    *out = NULL;
    const size_t size = elang_dataset_size(d);
    if (!items) n = size;
    if (n == 0) return elang_fail(err, ELANG_ERR_INVALID_ARG, "no inputs to run");
    for (size_t i = 0; items && i < n; i++)
        if (items[i] >= size)
            return elang_fail(err, ELANG_ERR_INVALID_ARG, "item %zu is example %zu, beyond the data set's %zu", i,
                              items[i], size);
    const bool generators = elang_model_is_generator(swift);
    if (elang_model_is_generator(super) != generators)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "Swift and Super must both classify or both generate");
    const elang_route_opts o = opts ? *opts : elang_route_opts_default();
    if (d->task && generators && o.num_label_words == 0)
        return elang_fail(err, ELANG_ERR_INVALID_ARG,
                          "text-to-text models on task %s need label words (in the task's label order: %s, %s...)",
                          d->task_name, d->task->label_names[0], d->task->label_names[1]);
    if (d->task && o.num_label_words > 0 && o.num_label_words != d->task->num_labels)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "task %s has %d labels but %d label words were given",
                          d->task_name, d->task->num_labels, o.num_label_words);
    if (!d->task && !generators)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "translation needs text generators, not classifiers");
    if (!d->task && o.num_label_words > 0)
        return elang_fail(err, ELANG_ERR_INVALID_ARG,
                          "label words are for classification tasks; translation scores its generated text");

    elang_pair_run *r = calloc(1, sizeof *r);
    if (r) r->items = calloc(n, sizeof *r->items);
    if (!r || !r->items) {
        elang_pair_run_free(r);
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for a run of %zu inputs", n);
    }
    r->n = n;
    r->dataset_size = size;
    r->opts = o;
    r->swift_dir = strdup(elang_model_dir(swift));
    r->super_dir = strdup(elang_model_dir(super));
    if (!r->swift_dir || !r->super_dir || !route_opts_own_strings(&r->opts, &r->label_words, &r->stop)) {
        elang_pair_run_free(r);
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for a run of %zu inputs", n);
    }
    r->has_head = elang_model_has_head(swift);
    for (int k = 0; k < ELANG_SCORE_KINDS; k++) {
        elang_route_opts ok = o;
        ok.score = (elang_score_kind)k;
        if (k != ELANG_SCORE_ENCODER_HEAD || r->has_head) r->decision[k] = elang_decision_of(swift, &ok);
    }
    r->task = d->task;
    r->kind = !d->task ? RUN_TRANSLATION : d->task->num_labels == 0 ? RUN_REGRESSION : RUN_CLASSES;
    if (d->task) r->metric = d->task->metrics[0];
    for (size_t i = 0; i < n; i++) {
        const size_t item = items ? items[i] : i;
        r->items[i].item = item;
        if (d->task) r->items[i].label = d->glue.ex[item].label, r->items[i].target = d->glue.ex[item].target;
    }
    elang_status st = run_model(r, d, swift, true, progress, progress_ctx, err);
    if (st == ELANG_OK) st = run_model(r, d, super, false, progress, progress_ctx, err);
    if (st != ELANG_OK) {
        elang_pair_run_free(r);
        return st;
    }
    *out = r;
    return ELANG_OK;
}

void elang_pair_run_free(elang_pair_run *r) {
    if (!r) return;
    route_opts_strings_free(&r->opts, r->label_words, r->stop);
    free(r->swift_dir), free(r->super_dir);
    free(r->items);
    free(r);
}

size_t elang_pair_run_size(const elang_pair_run *r) { return r->n; }

const char *elang_pair_run_metric_name(const elang_pair_run *r) {
    return r->kind == RUN_TRANSLATION ? "bleu" : task_metric_name(r->metric);
}

double run_chrf(const elang_pair_run *r, const bool *on_swift) {
    chrf_stats total = {0};
    for (size_t i = 0; i < r->n; i++) chrf_stats_add(&total, on_swift[i] ? &r->items[i].swift_chrf : &r->items[i].super_chrf);
    return chrf_from_stats(&total);
}

elang_status run_metric(const elang_pair_run *r, const bool *on_swift, double *out, elang_error *err) {
    return run_metric_of(r, r->metric, on_swift, NULL, r->n, out, err);
}

elang_status run_metric_as(const elang_pair_run *r, task_metric metric, const bool *on_swift, double *out,
                           elang_error *err) {
    return run_metric_of(r, metric, on_swift, NULL, r->n, out, err);
}

elang_status run_metric_of(const elang_pair_run *r, task_metric metric, const bool *on_swift, const size_t *pick,
                           size_t m, double *out, elang_error *err) {
#define ITEM(k) (pick ? pick[k] : (k))
    if (r->kind == RUN_TRANSLATION) {
        bleu_stats total = {0};
        for (size_t k = 0; k < m; k++) {
            const run_item *it = &r->items[ITEM(k)];
            bleu_stats_add(&total, on_swift[ITEM(k)] ? &it->swift_bleu : &it->super_bleu);
        }
        *out = bleu_from_stats(&total).score;
        return ELANG_OK;
    }
    elang_status st = ELANG_OK;
    if (r->kind == RUN_REGRESSION) {
        double *pred = malloc(sizeof(double) * m), *gold = malloc(sizeof(double) * m);
        if (!pred || !gold) st = elang_fail(err, ELANG_ERR_NOMEM, "out of memory for a metric");
        for (size_t k = 0; st == ELANG_OK && k < m; k++) {
            const run_item *it = &r->items[ITEM(k)];
            pred[k] = on_swift[ITEM(k)] ? it->swift_value : it->super_value;
            gold[k] = it->target;
        }
        if (st == ELANG_OK)
            st = metric == TASK_METRIC_SPEARMAN ? metric_spearman(pred, gold, m, out, err)
                                                   : metric_pearson(pred, gold, m, out, err);
        free(pred), free(gold);
        return st;
    }
    int *pred = malloc(sizeof(int) * m), *gold = malloc(sizeof(int) * m);
    if (!pred || !gold) st = elang_fail(err, ELANG_ERR_NOMEM, "out of memory for a metric");
    for (size_t k = 0; st == ELANG_OK && k < m; k++) {
        const run_item *it = &r->items[ITEM(k)];
        pred[k] = on_swift[ITEM(k)] ? it->swift_pred : it->super_pred;
        gold[k] = it->label;
    }
#undef ITEM
    if (st == ELANG_OK) {
        if (metric == TASK_METRIC_F1) st = metric_f1(pred, gold, m, out, err);
        else if (metric == TASK_METRIC_MCC) st = metric_mcc(pred, gold, m, r->task->num_labels, out, err);
        else st = metric_accuracy(pred, gold, m, out, err);
    }
    free(pred), free(gold);
    return st;
}

elang_status check_score_kind(const elang_pair_run *r, elang_score_kind kind, elang_error *err) {
    if (kind < 0 || kind >= ELANG_SCORE_KINDS)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "unknown score kind %d", (int)kind);
    if (kind == ELANG_SCORE_ENCODER_HEAD && !r->has_head)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "score encoder-head: %s has no encoder head (elang_head.json "
                          "and elang_head.safetensors)", r->swift_dir);
    return ELANG_OK;
}

size_t run_keep_mask(const elang_pair_run *r, elang_score_kind kind, double threshold, bool *on_swift) {
    size_t routed = 0;
    for (size_t i = 0; i < r->n; i++) {
        on_swift[i] = elang_keeps_swift(r->items[i].scores[kind], threshold);
        routed += !on_swift[i];
    }
    return routed;
}

double run_gflops(const elang_pair_run *r, elang_score_kind kind, const bool *on_swift) {
    const elang_decision d = r->decision[kind];
    double sum = 0.0;
    for (size_t i = 0; i < r->n; i++) {
        const run_item *it = &r->items[i];
        /* A kept input is decoded from its start again (the router does not
         * keep the pass's cache), so it costs its pass and its whole answer. */
        const bool decided_after = d == ELANG_DECIDE_AFTER_DECODING;
        const double pass = decided_after ? it->swift_gflops : it->decision_gflops[d];
        const double answer = decided_after ? 0.0 : it->swift_gflops;
        sum += pass + (on_swift[i] ? answer : it->super_gflops);
    }
    return sum / r->n;
}

/* Runs `m` on the inputs of the run that `on_swift` marks as `which`,
 * adding its wall time to *seconds. */
static elang_status time_part(const elang_pair_run *r, elang_model *m, const elang_dataset *d, const bool *on_swift,
                              bool which, double *seconds, elang_error *err) {
    elang_text *texts = malloc(sizeof *texts * r->n);
    size_t *items = malloc(sizeof *items * r->n);
    elang_answer *answers = calloc(r->n, sizeof *answers);
    elang_status st = texts && items && answers ? ELANG_OK : elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
    size_t count = 0;
    for (size_t i = 0; st == ELANG_OK && i < r->n; i++)
        if (on_swift[i] == which) {
            items[count] = r->items[i].item;
            texts[count++] = dataset_text(d, r->items[i].item);
        }
    double s = 0.0;
    if (st == ELANG_OK && count > 0) {
        st = elang_answer_all(m, texts, items, count, &r->opts, answers, &s, err);
        if (st == ELANG_OK) elang_answers_free(answers, count);
    }
    *seconds += s;
    free(texts), free(items), free(answers);
    return st;
}

elang_status elang_measure_routed(const elang_pair_run *r, elang_model *swift, elang_model *super,
                                  const elang_dataset *d, elang_score_kind kind, double threshold, double *seconds,
                                  elang_error *err) {
    if (check_score_kind(r, kind, err) != ELANG_OK) return ELANG_ERR_INVALID_ARG;
    /* Timing runs the models again on the run's items: they must be the run's. */
    if (d->task != r->task || elang_dataset_size(d) != r->dataset_size)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "the data set (%s, %zu examples) is not the one the run was made "
                          "on", elang_dataset_task(d), elang_dataset_size(d));
    const char *given[2] = {elang_model_dir(swift), elang_model_dir(super)}, *ran[2] = {r->swift_dir, r->super_dir};
    for (int k = 0; k < 2; k++)
        if (strcmp(given[k], ran[k]) != 0)
            return elang_fail(err, ELANG_ERR_INVALID_ARG, "%s is %s, but the run was made with %s",
                              k == 0 ? "Swift" : "Super", given[k], ran[k]);
    bool *on = malloc(sizeof(bool) * r->n);
    if (!on) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
    run_keep_mask(r, kind, threshold, on);
    /* Deciding after decoding, Swift's time over every input is the run's
     * own; before, its pass's over every input, and Swift's answers, run
     * again, on the inputs it keeps. */
    const elang_decision dec = r->decision[kind];
    *seconds = dec == ELANG_DECIDE_AFTER_DECODING ? r->swift_seconds : r->decision_seconds[dec];
    elang_status st = dec == ELANG_DECIDE_AFTER_DECODING ? ELANG_OK : time_part(r, swift, d, on, true, seconds, err);
    if (st == ELANG_OK) st = time_part(r, super, d, on, false, seconds, err);
    free(on);
    return st;
}
