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
    /* Swift's encoder head, when it has one: the cost of its score (the
     * encoder alone and the head), paid by every input routed with it
     * before Swift decodes or Super runs. */
    double head_gflops;
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
    bool has_head;             /* Swift has an encoder head: scores[ELANG_SCORE_ENCODER_HEAD] are set */
    double head_seconds;       /* its wall time over all n inputs */
    elang_route_opts opts;
};

/* ELANG_ERR_INVALID_ARG unless kind names a score the run has (the encoder
 * head's only when Swift has one). */
elang_status check_score_kind(const elang_pair_run *r, elang_score_kind kind, elang_error *err);

/* Mean GFLOPs per input when routing by `kind` sends the inputs with
 * on_swift[i] false to Super: Swift on every input and Super on those, or,
 * with the encoder head, the head on every input, Swift on the kept and
 * Super on the others. */
double run_gflops(const elang_pair_run *r, elang_score_kind kind, const bool *on_swift);

/* The metric of routed answers: input i answered by Swift when on_swift[i]. */
elang_status run_metric(const elang_pair_run *r, const bool *on_swift, double *out, elang_error *err);
/* The same with another of the task's metrics (MRPC's accuracy beside its
 * F1); translation runs ignore `metric` and give BLEU. */
elang_status run_metric_as(const elang_pair_run *r, task_metric metric, const bool *on_swift, double *out,
                           elang_error *err);

/* Translation runs: corpus chrF2 of the routed answers. */
double run_chrf(const elang_pair_run *r, const bool *on_swift);

#endif
