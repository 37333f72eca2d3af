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
    /* Swift's passes before decoding (elang_decision_gflops), for the
     * decisions the run's scores take before decoding; 0 for the others. */
    double decision_gflops[ELANG_DECISIONS];
    size_t item;                      /* index in the data set */
} run_item;

struct elang_pair_run {
    run_kind kind;
    const task_def *task;      /* NULL for translation */
    task_metric metric;        /* the main metric (classes, regression) */
    char *swift_dir, *super_dir; /* as the models were loaded from */
    size_t dataset_size;       /* of the data set the items index, to know it again */
    size_t n;
    run_item *items;           /* [n] */
    double swift_seconds, super_seconds; /* each model's wall time over all n inputs (its answers) */
    bool has_head;             /* Swift has an encoder head: scores[ELANG_SCORE_ENCODER_HEAD] are set */
    /* How routing by each score kind decides for Swift (elang_decision_of
     * with the run's options and that score), and each pass before
     * decoding's wall time over all n inputs, apart from Swift's answers. */
    elang_decision decision[ELANG_SCORE_KINDS];
    double decision_seconds[ELANG_DECISIONS];
    elang_route_opts opts;     /* its label words and stop strings point at the copies below */
    char **label_words, **stop; /* owned (route_opts_own_strings) */
};

/* Whether the task reports two metrics (MRPC and QQP: F1 and accuracy;
 * STS-B: Pearson and Spearman), whose mean is its GLUE score; translation
 * and the other tasks have one. */
static inline bool run_has_two_metrics(const elang_pair_run *r) { return r->task && r->task->num_metrics > 1; }

/* ELANG_ERR_INVALID_ARG unless kind names a score the run has (the encoder
 * head's only when Swift has one). */
elang_status check_score_kind(const elang_pair_run *r, elang_score_kind kind, elang_error *err);

/* Sets on_swift[i] to whether routing by `kind` at `threshold` keeps input
 * i on Swift (elang_keeps_swift); returns how many go to Super. */
size_t run_keep_mask(const elang_pair_run *r, elang_score_kind kind, double threshold, bool *on_swift);

/* Mean GFLOPs per input when routing by `kind` keeps the inputs with
 * on_swift[i] on Swift and sends the others to Super. One rule for every
 * decision (r->decision[kind]): Swift's pass before decoding on every input,
 * Swift's answer on the kept (less what that pass already is of it: the
 * first step starts Swift's own generation, while the head is a pass of its
 * own), Super on the others. Deciding after decoding, the pass is Swift's
 * whole answer, so Swift is paid on every input. */
double run_gflops(const elang_pair_run *r, elang_score_kind kind, const bool *on_swift);

/* The metric of routed answers: input i answered by Swift when on_swift[i]. */
elang_status run_metric(const elang_pair_run *r, const bool *on_swift, double *out, elang_error *err);
/* The same with another of the task's metrics (MRPC's accuracy beside its
 * F1); translation runs ignore `metric` and give BLEU. */
elang_status run_metric_as(const elang_pair_run *r, task_metric metric, const bool *on_swift, double *out,
                           elang_error *err);
/* `metric` of the inputs pick[0..m) alone, repeats counted as often as they
 * appear (a bootstrap resample); pick NULL means all m = r->n inputs. */
elang_status run_metric_of(const elang_pair_run *r, task_metric metric, const bool *on_swift, const size_t *pick,
                           size_t m, double *out, elang_error *err);

/* Translation runs: corpus chrF2 of the routed answers. */
double run_chrf(const elang_pair_run *r, const bool *on_swift);

#endif
