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
        it->swift_prompt_gflops = elang_model_is_generator(m) ? elang_model_gflops(m, a->input_tokens, 1) : gflops;
        memcpy(it->scores, a->scores, sizeof it->scores);
        it->swift_pred = pred, it->swift_value = value, it->swift_bleu = bs, it->swift_chrf = cs;
        it->swift_gflops = gflops;
    } else {
        it->super_pred = pred, it->super_value = value, it->super_bleu = bs, it->super_chrf = cs;
        it->super_gflops = gflops;
    }
    return st;
}

double swift_cost(const elang_pair_run *r, const run_item *it, bool kept) {
    const bool prompt = r->opts.aggregate == ELANG_AGG_PROMPT && r->opts.num_label_words == 0;
    return kept || !prompt ? it->swift_gflops : it->swift_prompt_gflops;
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
    if (!items) n = elang_dataset_size(d);
    if (n == 0) return elang_fail(err, ELANG_ERR_INVALID_ARG, "no inputs to run");
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

    elang_pair_run *r = calloc(1, sizeof *r);
    if (r) r->items = calloc(n, sizeof *r->items);
    if (!r || !r->items) {
        elang_pair_run_free(r);
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for a run of %zu inputs", n);
    }
    r->n = n;
    r->opts = o;
    snprintf(r->swift_dir, sizeof r->swift_dir, "%s", elang_model_dir(swift));
    snprintf(r->super_dir, sizeof r->super_dir, "%s", elang_model_dir(super));
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
    const size_t n = r->n;
    if (r->kind == RUN_TRANSLATION) {
        bleu_stats total = {0};
        for (size_t i = 0; i < n; i++)
            bleu_stats_add(&total, on_swift[i] ? &r->items[i].swift_bleu : &r->items[i].super_bleu);
        *out = bleu_from_stats(&total).score;
        return ELANG_OK;
    }
    elang_status st = ELANG_OK;
    if (r->kind == RUN_REGRESSION) {
        double *pred = malloc(sizeof(double) * n), *gold = malloc(sizeof(double) * n);
        if (!pred || !gold) st = elang_fail(err, ELANG_ERR_NOMEM, "out of memory for a metric");
        for (size_t i = 0; st == ELANG_OK && i < n; i++) {
            pred[i] = on_swift[i] ? r->items[i].swift_value : r->items[i].super_value;
            gold[i] = r->items[i].target;
        }
        if (st == ELANG_OK)
            st = r->metric == TASK_METRIC_SPEARMAN ? metric_spearman(pred, gold, n, out, err)
                                                   : metric_pearson(pred, gold, n, out, err);
        free(pred), free(gold);
        return st;
    }
    int *pred = malloc(sizeof(int) * n), *gold = malloc(sizeof(int) * n);
    if (!pred || !gold) st = elang_fail(err, ELANG_ERR_NOMEM, "out of memory for a metric");
    for (size_t i = 0; st == ELANG_OK && i < n; i++) {
        pred[i] = on_swift[i] ? r->items[i].swift_pred : r->items[i].super_pred;
        gold[i] = r->items[i].label;
    }
    if (st == ELANG_OK) {
        if (r->metric == TASK_METRIC_F1) st = metric_f1(pred, gold, n, out, err);
        else if (r->metric == TASK_METRIC_MCC) st = metric_mcc(pred, gold, n, r->task->num_labels, out, err);
        else st = metric_accuracy(pred, gold, n, out, err);
    }
    free(pred), free(gold);
    return st;
}

elang_status check_score_kind(elang_score_kind kind, elang_error *err) {
    if (kind < 0 || kind >= ELANG_SCORE_KINDS)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "unknown score kind %d", (int)kind);
    return ELANG_OK;
}

elang_status elang_measure_routed(const elang_pair_run *r, elang_model *super, const elang_dataset *d,
                                  elang_score_kind kind, double threshold, double *seconds, elang_error *err) {
    if (check_score_kind(kind, err) != ELANG_OK) return ELANG_ERR_INVALID_ARG;
    elang_text *texts = malloc(sizeof *texts * r->n);
    size_t *items = malloc(sizeof *items * r->n);
    elang_answer *answers = calloc(r->n, sizeof *answers);
    elang_status st = texts && items && answers ? ELANG_OK : elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
    size_t routed = 0;
    for (size_t i = 0; st == ELANG_OK && i < r->n; i++)
        if (!elang_keeps_swift(r->items[i].scores[kind], threshold)) {
            items[routed] = r->items[i].item;
            texts[routed++] = dataset_text(d, r->items[i].item);
        }
    double super_seconds = 0.0;
    if (st == ELANG_OK && routed > 0) {
        st = elang_answer_all(super, texts, items, routed, &r->opts, answers, &super_seconds, err);
        if (st == ELANG_OK) elang_answers_free(answers, routed);
    }
    *seconds = r->swift_seconds + super_seconds;
    free(texts), free(items), free(answers);
    return st;
}
