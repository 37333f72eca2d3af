/*
 * elang evaluation: labelled data sets, one run of Swift and Super over them,
 * the outcome of every threshold, objectives, reports and calibration files.
 * The conventions of elang.h hold here too. Each section names the file that
 * defines it.
 */
#ifndef ELANG_EVAL_H
#define ELANG_EVAL_H

#include "elang.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ data sets
 * Defined in src/eval/dataset.c. */

/* A labelled data set: a GLUE task in its TSV layout ("sst2", "cola",
 * "mrpc", "rte", "qqp", "mnli", "mnli-mm", "qnli", "stsb", "wnli"; `path`
 * the file, `ref_path` NULL), or "translation" (`path` the source side,
 * `ref_path` the references, one segment a line). */
typedef struct elang_dataset elang_dataset;
elang_status elang_dataset_load(const char *task, const char *path, const char *ref_path,
                                elang_dataset **out, elang_error *err);
size_t elang_dataset_size(const elang_dataset *d);
const char *elang_dataset_task(const elang_dataset *d);
/* The 1-based line of example i in its file (the source file for
 * translation); -1 when there is no example i. */
long elang_dataset_line(const elang_dataset *d, size_t i);
void elang_dataset_free(elang_dataset *d);

/* ------------------------------------------------------------ pair runs
 * Defined in src/eval/pair_run.c. */

/* Swift and Super run once over (a part of) a data set: every input's
 * scores, both answers, their quality and their cost, from which any
 * threshold's outcome follows without running a model again. */
typedef struct elang_pair_run elang_pair_run;

/* Called after each model's pass with what is done so far (for progress bars). */
typedef void (*elang_progress_fn)(void *ctx, const char *stage, size_t done, size_t total);

/* Runs both models on the inputs items[0..n) of d (all when items is NULL).
 * Classifiers must name the task's labels (see README, `elang eval`). */
elang_status elang_pair_run_new(elang_model *swift, elang_model *super, const elang_dataset *d,
                                const size_t *items, size_t n, const elang_route_opts *opts,
                                elang_progress_fn progress, void *progress_ctx,
                                elang_pair_run **out, elang_error *err);
void elang_pair_run_free(elang_pair_run *r);
size_t elang_pair_run_size(const elang_pair_run *r);
/* "accuracy", "f1", "mcc", "pearson", "bleu". */
const char *elang_pair_run_metric_name(const elang_pair_run *r);

/* The measured wall time of routing the run by `kind` at `threshold`:
 * Swift's time over every input plus Super actually run (batched) on the
 * inputs it routes; when `kind` decides before decoding (elang_decision_of:
 * the encoder head, ELANG_AGG_PROMPT), Swift's pass before decoding over
 * every input, Swift run again on the inputs it keeps and Super on the
 * others. */
elang_status elang_measure_routed(const elang_pair_run *r, elang_model *swift, elang_model *super,
                                  const elang_dataset *d, elang_score_kind kind, double threshold, double *seconds,
                                  elang_error *err);

/* --------------------------------------------------- thresholds and objectives
 * Defined in src/eval/sweep.c. */

/* What routing at one threshold gives. */
typedef struct {
    double threshold;   /* Swift keeps inputs with elang_keeps_swift(score, threshold) */
    double super_rate;  /* share of inputs sent to Super */
    double metric;      /* the task's metric of the routed answers */
    double gflops;      /* mean GFLOPs per input: Swift on all + Super on the routed (deciding before
                           decoding: Swift's pass on all, its answer on the kept, Super on the routed) */
} elang_point;

/* Swift's and Super's own metric and mean GFLOPs over the run. */
elang_status elang_pair_run_ends(const elang_pair_run *r, elang_point *swift, elang_point *super,
                                 elang_error *err);

/* Every distinct score of `kind` as a threshold, from all inputs on Super
 * to none, in order of decreasing threshold; release with elang_points_free. */
elang_status elang_sweep(const elang_pair_run *r, elang_score_kind kind, elang_point **points,
                         size_t *n, elang_error *err);
void elang_points_free(elang_point *points);
/* The outcome of one threshold. */
elang_status elang_at_threshold(const elang_pair_run *r, elang_score_kind kind, double threshold,
                                elang_point *out, elang_error *err);

typedef enum {
    ELANG_OBJ_MATCH_SUPER,  /* least compute with metric >= Super's - value */
    ELANG_OBJ_SUPER_RATE,   /* send the share `value` of inputs to Super */
    ELANG_OBJ_BUDGET,       /* best metric at mean GFLOPs <= value */
    ELANG_OBJ_MAX_METRIC,   /* best metric */
    ELANG_OBJ_MATCH_SUPER_BOOTSTRAP /* least compute with metric >= Super's on a share `value`
                                       of paired bootstrap resamples of the inputs */
} elang_objective_kind;

typedef struct {
    elang_objective_kind kind;
    double value;
} elang_objective;

/* "match-super[:EPS]", "match-super-bootstrap:SHARE", "super-rate:P",
 * "budget:GFLOPS", "max-metric". */
elang_status elang_objective_parse(const char *spec, elang_objective *out, elang_error *err);
/* The point of the sweep that meets the objective (ties: less compute). */
elang_status elang_choose(const elang_pair_run *r, elang_score_kind kind, const elang_objective *obj,
                          elang_point *out, elang_error *err);

/* --------------------------------------------------- E-LANG against Super
 * Defined in src/eval/bootstrap.c. */

/* How sure a run's inputs are of E-LANG's gap to Super at one threshold:
 * paired bootstrap resampling (Koehn 2004), both routings scored on the
 * same ELANG_GAP_RESAMPLES resamples of the inputs drawn with replacement.
 * The score is the task's as GLUE averages it: its metric, or the mean of
 * its two where GLUE reports two (MRPC and QQP: F1 and accuracy; STS-B:
 * Pearson and Spearman); BLEU for translation. A metric's scale (0-1,
 * BLEU 0-100) carries over. */
#define ELANG_GAP_RESAMPLES 1000
typedef struct {
    double difference;     /* E-LANG's score minus Super's on all the inputs */
    double se;             /* standard deviation of the resampled differences */
    double lo, hi;         /* 95% percentile interval of the resampled differences */
    double share_at_least; /* share of resamples on which E-LANG scores at least Super */
    size_t resamples;      /* how many of the ELANG_GAP_RESAMPLES the four above rest on */
} elang_gap;

/* Resamples are fixed by `seed` (the same seed, the same resamples); to
 * combine tasks (elang_gap_of_mean) give each its own seed, so that their
 * resamples are drawn independently. Seed 0 draws the resamples on which
 * the match-super-bootstrap objective judges thresholds, so a gap on the
 * data a threshold was calibrated on is best drawn under another (reports
 * use seed 1). `resampled`, if not NULL, receives the ELANG_GAP_RESAMPLES
 * differences in order. A resample on which a metric is undefined (NaN: a
 * correlation of constant answers) is left out of se, lo, hi and
 * share_at_least (`resamples` counts the others): the first three are NaN
 * with fewer than two left, the last with none. */
elang_status elang_gap_to_super(const elang_pair_run *r, elang_score_kind kind, double threshold, uint64_t seed,
                                double *resampled, elang_gap *out, elang_error *err);
/* The same for Swift alone, every input on Swift: whether the data shows
 * Super ahead of Swift at all, a gap for routing to recover. */
elang_status elang_swift_gap_to_super(const elang_pair_run *r, uint64_t seed, double *resampled, elang_gap *out,
                                      elang_error *err);
/* The gap of a mean over tasks, as GLUE's average: resampled[t] holds task
 * t's ELANG_GAP_RESAMPLES resampled differences (each task's own seed), the
 * mean of the b-th of every task is the average's b-th; `difference` is
 * the average's gap on the data themselves. */
elang_status elang_gap_of_mean(const double *const *resampled, size_t tasks, double difference, elang_gap *out,
                               elang_error *err);

/* -------------------------------------------------------------- reports
 * Defined in src/eval/report.c. */

/* Writes DIR/report.json, DIR/report.md and DIR/curve.svg for routing at
 * `threshold` with score `kind`: Swift, Super and E-LANG rows, the curves
 * of every score kind side by side with APGR and CPT(50%), CPT(80%), and
 * the random and oracle references. `elang_seconds` is the measured wall
 * time of routing the run's inputs at that threshold (Swift on all, Super
 * on the routed), or < 0 to estimate it from the two models' times. The
 * three files are replaced together: on failure the old ones stay. */
elang_status elang_report_write(const elang_pair_run *r, elang_score_kind kind, double threshold,
                                double elang_seconds, const char *dir, elang_error *err);

/* --------------------------------------------------------- calibration
 * Defined in src/eval/calibration_file.c. */

/* What `elang calibrate` decided, and for which models: routing refuses a
 * calibration whose models' content hashes differ from the models given.
 * Strings are owned by the struct (elang_calibration_free); a zeroed struct
 * holds none. */
typedef struct {
    double threshold;
    elang_score_kind score;
    double temperature;
    elang_aggregation aggregate;
    char **label_words;            /* [num_label_words] */
    int num_label_words;
    char *objective;               /* as given: "match-super:0.005" */
    char *task;
    /* Paths (data, data_lines, swift_dir, super_dir) are from the working
     * directory in memory; a file records relative ones relative to its
     * folder (util/paths.h; files of version 1: as given). */
    char *data;                    /* the file calibrated on */
    char *data_lines;              /* the file listing the lines used of it, or "" for all */
    double holdout;                /* share of it held out to report on; 0 = none */
    char *metric_name;
    double metric, super_rate, gflops;           /* at the threshold, on the calibration part */
    double swift_metric, super_metric;           /* each model alone, on the calibration part */
    double swift_gflops, super_gflops;
    double heldout_metric, heldout_super_rate;   /* on the held-out part; NaN without one */
    char *swift_dir, *super_dir;
    char swift_hash[17], super_hash[17];
    char *swift_prefix, *super_prefix;           /* input prefixes the models were run with ("" none) */
    char *pair_infix;                            /* text-to-text models' pair infix ("" none) */
    int num_beams, max_new_tokens;               /* decoding of generators (scores depend on it) */
    elang_dtype dtype;                           /* what the models computed in (files without it: F32) */
} elang_calibration;

/* Sets *dst to a copy of src (NULL: ""), freeing what it held: fills the
 * string fields of a calibration. */
elang_status elang_calibration_set(char **dst, const char *src, elang_error *err);
/* Writes the calibration as JSON to path: to a temporary file beside it,
 * renamed over path only once complete, so a failed write leaves the old
 * file as it was. */
elang_status elang_calibration_save(const elang_calibration *c, const char *path, elang_error *err);
/* Reads and validates a calibration file (every field named on error);
 * release with elang_calibration_free. */
elang_status elang_calibration_load(const char *path, elang_calibration *c, elang_error *err);
void elang_calibration_free(elang_calibration *c);
/* ELANG_ERR_INVALID_ARG naming the model when swift_dir's or super_dir's
 * content hash is not the calibration's. A NULL super_dir (Super served
 * elsewhere) is not checked; swift_dir is required. */
elang_status elang_calibration_check(const elang_calibration *c, const char *swift_dir,
                                     const char *super_dir, elang_error *err);

#ifdef __cplusplus
}
#endif
#endif
