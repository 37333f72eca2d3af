/*
 * elang: energy-based joint inference of a Swift (small) and a Super (large)
 * language model (Akbari et al., ACL 2022), in C.
 *
 * Every call that can fail returns an elang_status and, when `err` is not
 * NULL, fills it with a message that names what failed (file, tensor, field,
 * input line). The library never exits the process and never prints.
 */
#ifndef ELANG_H
#define ELANG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ELANG_OK = 0,
    ELANG_ERR_IO,          /* a file is missing or cannot be read */
    ELANG_ERR_FORMAT,      /* a file is malformed, truncated or inconsistent */
    ELANG_ERR_UNSUPPORTED, /* a valid file asks for something elang does not do */
    ELANG_ERR_INVALID_ARG, /* a caller passed a value out of range */
    ELANG_ERR_INPUT,       /* user input text is invalid (e.g. not UTF-8) */
    ELANG_ERR_NOMEM        /* an allocation failed */
} elang_status;

typedef struct {
    elang_status code;
    char message[1024];
    /* For calls over many inputs: the index of the input at fault, or -1. */
    long item;
} elang_error;

/* A static, human-readable name for a status ("format error", ...). */
const char *elang_status_name(elang_status s);

/* ---------------------------------------------------------------- models */

typedef struct elang_model elang_model;

typedef struct {
    int threads;    /* worker threads for BLAS and OpenMP loops; 0 = all cores */
    int max_length; /* truncation length in tokens; 0 = the model's limit */
    /* Text put before every input's (first) text, e.g. T5's task prefix
     * "translate English to German: "; NULL for none. */
    const char *input_prefix;
} elang_load_opts;

/* Loads a Hugging Face model directory as downloaded: config.json, weights
 * (model.safetensors, sharded safetensors with an index, or pytorch_model.bin)
 * and tokenizer files. */
elang_status elang_model_load(const char *dir, const elang_load_opts *opts,
                              elang_model **out, elang_error *err);
void elang_model_free(elang_model *m);

/* The directory the model was loaded from. */
const char *elang_model_dir(const elang_model *m);
/* "bert", "distilbert", "roberta", ... as in config.json. */
const char *elang_model_type(const elang_model *m);
int elang_model_num_labels(const elang_model *m);
/* The id2label name of class `id`, or NULL when out of range. */
const char *elang_model_label(const elang_model *m, int id);
/* The truncation length actually in force. */
int elang_model_max_length(const elang_model *m);

/* Analytic GFLOPs of one input of `input_tokens` tokens (special tokens
 * included) that decodes `output_steps` steps (0 for classifiers; the number
 * of decoder inputs fed for generators, times the beams): matrix products
 * only, a multiply-add counted as 2 FLOPs (src/eval/flops.h). */
double elang_model_gflops(const elang_model *m, int input_tokens, int output_steps);

/* A 16-hex-digit content hash of the model directory (every regular file,
 * by name and content): calibrations remember the models they were made
 * for. Not cryptographic. */
elang_status elang_model_hash(const char *dir, char out[17], elang_error *err);

/* ------------------------------------------------------------ classify */

typedef struct {
    const char *text;      /* UTF-8, NUL-terminated */
    const char *text_pair; /* optional second segment, or NULL */
} elang_text;

typedef struct {
    int label_id;
    float *logits;    /* [num_labels] */
    float *probs;     /* [num_labels], softmax of the logits */
    double energy;    /* E(x) = -T * log sum_i exp(logits_i / T) */
    int32_t *input_ids;      /* [num_tokens], with special tokens */
    int32_t *token_type_ids; /* [num_tokens], or NULL when the model has none */
    int num_tokens;
} elang_class_out;

typedef struct {
    int batch_size;     /* inputs per forward pass; 0 = 32 */
    double temperature; /* T of the energy; 0 = 1 */
} elang_classify_opts;

/* Classifies n inputs. out[i] is filled for every i on success; release its
 * buffers with elang_class_out_free. On failure nothing needs freeing. */
elang_status elang_classify(elang_model *m, const elang_text *in, size_t n,
                            const elang_classify_opts *opts, elang_class_out *out,
                            elang_error *err);
void elang_class_out_free(elang_class_out *out, size_t n);

/* ------------------------------------------------------------- scores */

/* How sure a model is of its output; every kind is oriented so that higher
 * means "keep this model's answer" (E-LANG keeps Swift's when score >= t). */
typedef enum {
    ELANG_SCORE_ENERGY,          /* -E(x) = T log sum exp(f / T): the paper's energy */
    ELANG_SCORE_SOFTMAX_ENERGY,  /* T log sum exp(softmax(f) / T): the authors' code */
    ELANG_SCORE_MAXPROB,         /* max softmax(f) */
    ELANG_SCORE_ENTROPY,         /* -H(softmax(f)) */
    ELANG_SCORE_MARGIN,          /* top-1 minus top-2 probability */
    ELANG_SCORE_RANDOM,          /* a fixed pseudo-random number per input: the baseline */
    ELANG_SCORE_KINDS
} elang_score_kind;

/* The kinds computed from a distribution of logits: all but random. */
#define ELANG_DIST_SCORES ELANG_SCORE_RANDOM

/* "energy", "softmax-energy", "maxprob", "entropy", "margin", "random";
 * NULL for a value out of range. */
const char *elang_score_name(elang_score_kind k);
/* 1 and *out set when name is a score kind, else 0. */
int elang_score_from_name(const char *name, elang_score_kind *out);

/* ------------------------------------------------------------ generate */

typedef struct {
    char *text;               /* decoded output, special tokens dropped */
    int32_t *ids;             /* [num_ids]: decoder start token, generated tokens, </s> if reached */
    int num_ids;
    float *token_logprobs;    /* [num_ids - 1]: log-probability of each generated token */
    float *token_energies;    /* [num_ids - 1]: -T log sum exp(scores / T) of its step */
    double energy;            /* mean of token_energies */
    double score;             /* greedy: sum of logprobs; beam: the length-penalised beam score */
    int32_t *input_ids;       /* [num_input_ids], the encoded source with </s> */
    int num_input_ids;
    /* [num_ids - 1][ELANG_DIST_SCORES]: every routing score of each step's
     * scores, when elang_gen_opts.step_scores is set; else NULL. */
    float *step_scores;
} elang_gen_out;

typedef struct {
    int num_beams;          /* 1 = greedy */
    int max_new_tokens;     /* tokens generated after the decoder start token */
    double length_penalty;  /* beam score = sum logprobs / length^length_penalty */
    int early_stopping;     /* 1: an input is done once num_beams hypotheses end */
    int batch_size;         /* inputs per encoder/decoder batch */
    double temperature;     /* T of the per-token energies */
    int step_scores;        /* 1: also fill elang_gen_out.step_scores */
} elang_gen_opts;

/* num_beams 1, max_new_tokens 64, length_penalty 1, early_stopping 1,
 * batch_size 16, temperature 1. */
elang_gen_opts elang_gen_opts_default(void);

/* 1 when the model generates text (T5, Marian), 0 for a classifier. */
int elang_model_is_generator(const elang_model *m);

/* Generates for n inputs (text_pair must be NULL); out[i] filled for every
 * i on success, released with elang_gen_out_free. Batched decoding gives the
 * same outputs as one input at a time. */
elang_status elang_generate(elang_model *m, const elang_text *in, size_t n, const elang_gen_opts *opts,
                            elang_gen_out *out, elang_error *err);
void elang_gen_out_free(elang_gen_out *out, size_t n);

/* E(x) = -T * log sum_i exp(logits_i / T), computed stably in double. */
double elang_energy(const float *logits, int n, double temperature);

/* out[k], k < ELANG_DIST_SCORES: every routing score of one row of logits
 * (-inf entries are excluded tokens), at temperature T. */
void elang_scores(const float *logits, int n, double temperature, float *out);

/* -------------------------------------------------------------- routing */

/* How a seq2seq model's per-step scores become one score per input. */
typedef enum { ELANG_AGG_MEAN, ELANG_AGG_MIN, ELANG_AGG_SUM, ELANG_AGG_FIRST } elang_aggregation;

/* "mean", "min", "sum", "first"; NULL out of range. */
const char *elang_aggregation_name(elang_aggregation a);
int elang_aggregation_from_name(const char *name, elang_aggregation *out);

typedef struct {
    elang_score_kind score;        /* what decides the routing (default energy) */
    double temperature;            /* T of the energies (default 1) */
    elang_aggregation aggregate;   /* seq2seq: per-step scores → input score (default mean) */
    /* Text-to-text classification with T5: the label words, in class order
     * ("negative", "positive"); the answer is the label word whose first
     * token has the highest logit at the first decoding step, and the
     * scores come from those logits alone (the decision is taken before
     * decoding). NULL: ordinary generation. */
    const char *const *label_words;
    int num_label_words;
    uint64_t seed;                 /* of the random score */
    int batch_size;                /* inputs per forward pass (default 32) */
    elang_gen_opts gen;            /* decoding settings of generators */
} elang_route_opts;

elang_route_opts elang_route_opts_default(void);

/* One model's answer to one input. */
typedef struct {
    int label_id;                  /* class (classifier or label words); -1 for text */
    const char *label;             /* its id2label name or label word (owned elsewhere) */
    float scores[ELANG_SCORE_KINDS]; /* every routing score of this answer */
    double score;                  /* scores[opts.score] */
    int input_tokens;              /* the input's length in tokens, special tokens included */
    int decoder_steps;             /* decoder inputs fed (generators; × beams), 0 for classifiers */
    elang_class_out cls;           /* classifier outputs, when a classifier answered */
    elang_gen_out gen;             /* generator outputs (gen.text), when a generator answered */
} elang_answer;

/* Runs one model on n inputs and scores every answer. `items`, if not NULL,
 * gives each input's index in the whole data set (it seeds the random
 * score, so that a subset scores as it would in the whole); *seconds gets
 * the wall time. Release with elang_answers_free. */
elang_status elang_answer_all(elang_model *m, const elang_text *in, const size_t *items, size_t n,
                              const elang_route_opts *opts, elang_answer *out, double *seconds,
                              elang_error *err);
void elang_answers_free(elang_answer *a, size_t n);

typedef struct elang_router elang_router;

/* A cascade over num_tiers models, tiers[0] the Swift model and the last
 * the Super one: an input stays with tier i when its score there is
 * >= thresholds[i] (num_tiers - 1 thresholds), else moves on. The models
 * stay owned by the caller and must outlive the router. */
elang_status elang_router_new(elang_model *const *tiers, int num_tiers, const double *thresholds,
                              const elang_route_opts *opts, elang_router **out, elang_error *err);
void elang_router_free(elang_router *r);

typedef struct {
    int tier;                /* whose answer stands: 0 = Swift */
    elang_answer *answers;   /* [tier + 1]: every consulted tier's answer; answers[tier] is final */
} elang_route_out;

/* Routes n inputs: every input through tier 0 (batched), the ones below
 * its threshold through tier 1 (batched), and so on. */
elang_status elang_route(elang_router *r, const elang_text *in, size_t n, elang_route_out *out,
                         elang_error *err);
void elang_route_out_free(elang_route_out *out, size_t n);

/* ---------------------------------------------------------- evaluation */

/* A labelled data set: a GLUE task in its TSV layout ("sst2", "cola",
 * "mrpc", "rte", "qqp", "mnli", "mnli-mm", "qnli", "stsb", "wnli"; `path`
 * the file, `ref_path` NULL), or "translation" (`path` the source side,
 * `ref_path` the references, one segment a line). */
typedef struct elang_dataset elang_dataset;
elang_status elang_dataset_load(const char *task, const char *path, const char *ref_path,
                                elang_dataset **out, elang_error *err);
size_t elang_dataset_size(const elang_dataset *d);
const char *elang_dataset_task(const elang_dataset *d);
/* The 1-based line of example i in its file (the source file for translation). */
long elang_dataset_line(const elang_dataset *d, size_t i);
void elang_dataset_free(elang_dataset *d);

/* Swift and Super run once over (a part of) a data set: every input's
 * scores, both answers, their quality and their cost, from which any
 * threshold's outcome follows without running a model again. */
typedef struct elang_pair_run elang_pair_run;

/* Called after each model's pass with what is done so far (for progress bars). */
typedef void (*elang_progress_fn)(void *ctx, const char *stage, size_t done, size_t total);

/* Runs both models on the inputs items[0..n) of d (all when items is NULL). */
elang_status elang_pair_run_new(elang_model *swift, elang_model *super, const elang_dataset *d,
                                const size_t *items, size_t n, const elang_route_opts *opts,
                                elang_progress_fn progress, void *progress_ctx,
                                elang_pair_run **out, elang_error *err);
void elang_pair_run_free(elang_pair_run *r);
size_t elang_pair_run_size(const elang_pair_run *r);
/* "accuracy", "f1", "mcc", "pearson", "bleu". */
const char *elang_pair_run_metric_name(const elang_pair_run *r);

/* What routing at one threshold gives. */
typedef struct {
    double threshold;   /* Swift keeps inputs with score >= threshold */
    double super_rate;  /* share of inputs sent to Super */
    double metric;      /* the task's metric of the routed answers */
    double gflops;      /* mean GFLOPs per input: Swift on all + Super on the routed */
} elang_point;

/* Every distinct score of `kind` as a threshold, from all inputs on Super
 * to none, in order of decreasing threshold; *points malloc'ed. */
elang_status elang_sweep(const elang_pair_run *r, elang_score_kind kind, elang_point **points,
                         size_t *n, elang_error *err);
/* The outcome of one threshold. */
elang_status elang_at_threshold(const elang_pair_run *r, elang_score_kind kind, double threshold,
                                elang_point *out, elang_error *err);
/* Swift's and Super's own metric and mean GFLOPs over the run. */
void elang_pair_run_ends(const elang_pair_run *r, elang_point *swift, elang_point *super);

typedef enum {
    ELANG_OBJ_MATCH_SUPER,  /* least compute with metric >= Super's - value */
    ELANG_OBJ_SUPER_RATE,   /* send the share `value` of inputs to Super */
    ELANG_OBJ_BUDGET,       /* best metric at mean GFLOPs <= value */
    ELANG_OBJ_MAX_METRIC    /* best metric */
} elang_objective_kind;

typedef struct {
    elang_objective_kind kind;
    double value;
} elang_objective;

/* "match-super[:EPS]", "super-rate:P", "budget:GFLOPS", "max-metric". */
elang_status elang_objective_parse(const char *spec, elang_objective *out, elang_error *err);
/* The point of the sweep that meets the objective (ties: less compute). */
elang_status elang_choose(const elang_pair_run *r, elang_score_kind kind, const elang_objective *obj,
                          elang_point *out, elang_error *err);

/* The measured wall time of routing the run at `threshold`: Swift's time
 * over every input plus Super actually run (batched) on the inputs it
 * routes. */
elang_status elang_measure_routed(const elang_pair_run *r, elang_model *super, const elang_dataset *d,
                                  elang_score_kind kind, double threshold, double *seconds, elang_error *err);

/* Writes DIR/report.json, DIR/report.md and DIR/curve.svg for routing at
 * `threshold` with score `kind`: Swift, Super and E-LANG rows, the curves
 * of every score kind side by side with APGR and CPT(50%), CPT(80%), and
 * the random and oracle references. `elang_seconds` is the measured wall
 * time of routing the run's inputs at that threshold (Swift on all, Super
 * on the routed), or < 0 to estimate it from the two models' times. */
elang_status elang_report_write(const elang_pair_run *r, elang_score_kind kind, double threshold,
                                double elang_seconds, const char *dir, elang_error *err);

/* --------------------------------------------------------- calibration */

#define ELANG_MAX_LABEL_WORDS 8

/* What `elang calibrate` decided, and for which models: routing refuses a
 * calibration whose models' content hashes differ from the models given. */
typedef struct {
    double threshold;
    elang_score_kind score;
    double temperature;
    elang_aggregation aggregate;
    int num_label_words;
    char label_words[ELANG_MAX_LABEL_WORDS][64];
    char objective[64];           /* as given: "match-super:0.005" */
    char task[32];
    char data[1024];              /* the file calibrated on */
    char data_lines[1024];        /* the file listing the lines used of it, or "" for all */
    double holdout;               /* share of it held out to report on; 0 = none */
    char metric_name[16];
    double metric, super_rate, gflops;           /* at the threshold, on the calibration part */
    double swift_metric, super_metric;           /* each model alone, on the calibration part */
    double swift_gflops, super_gflops;
    double heldout_metric, heldout_super_rate;   /* on the held-out part; NaN without one */
    char swift_dir[1024], super_dir[1024];
    char swift_hash[17], super_hash[17];
    char swift_prefix[256], super_prefix[256]; /* input prefixes the models were run with */
    int num_beams, max_new_tokens;             /* decoding of generators (scores depend on it) */
} elang_calibration;

elang_status elang_calibration_save(const elang_calibration *c, const char *path, elang_error *err);
/* Reads and validates a calibration file (every field named on error). */
elang_status elang_calibration_load(const char *path, elang_calibration *c, elang_error *err);
/* ELANG_ERR_INVALID_ARG naming the model when swift_dir's or super_dir's
 * content hash is not the calibration's. */
elang_status elang_calibration_check(const elang_calibration *c, const char *swift_dir,
                                     const char *super_dir, elang_error *err);

#ifdef __cplusplus
}
#endif
#endif
