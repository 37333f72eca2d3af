/* What calibration and evaluation know of one run of Swift and Super over
 * a labelled set: per input, Swift's scores, both answers' quality and both
 * models' cost. Any threshold's outcome is computed from this alone. */
#ifndef ELANG_EVAL_PAIR_RUN_H
#define ELANG_EVAL_PAIR_RUN_H

#include <stdbool.h>

#include "elang_eval.h"
#include "eval/bleu.h"
#include "eval/chrf.h"
#include "eval/tasks.h"

typedef enum { RUN_CLASSES, RUN_REGRESSION, RUN_TRANSLATION } run_kind;

typedef struct {
    float scores[ELANG_SCORE_KINDS];  /* Swift's routing scores */
    int label;                        /* gold task label (classes) */
    double target;                    /* gold value (regression) */
    int swift_pred, super_pred;       /* task labels (classes) */
    double swift_value, super_value;  /* predictions (regression) */
    bleu_stats swift_bleu, super_bleu; /* translation, against the reference */
    chrf_stats swift_chrf, super_chrf;
    double swift_gflops, super_gflops;
    double swift_prompt_gflops;       /* Swift's prompt alone (encoder and one step), for generators */
    size_t item;                      /* index in the data set */
} run_item;

struct elang_pair_run {
    run_kind kind;
    const task_def *task;      /* NULL for translation */
    task_metric metric;        /* the main metric (classes, regression) */
    char swift_dir[1024], super_dir[1024];
    size_t n;
    run_item *items;           /* [n] */
    double swift_seconds, super_seconds; /* each model's wall time over all n inputs */
    elang_route_opts opts;
};

/* What Swift costs on an item: all of its run when it keeps the input; when
 * it routes it, only its prompt if the options decide on the prompt
 * (ELANG_AGG_PROMPT), since Swift then never decodes it. */
double swift_cost(const elang_pair_run *r, const run_item *it, bool kept);

/* ELANG_ERR_INVALID_ARG unless kind names a score. */
elang_status check_score_kind(elang_score_kind kind, elang_error *err);

/* The metric of routed answers: input i answered by Swift when on_swift[i]. */
elang_status run_metric(const elang_pair_run *r, const bool *on_swift, double *out, elang_error *err);

/* Translation runs: corpus chrF2 of the routed answers. */
double run_chrf(const elang_pair_run *r, const bool *on_swift);

#endif
