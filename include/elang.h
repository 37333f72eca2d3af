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
} elang_load_opts;

/* Loads a Hugging Face model directory as downloaded: config.json, weights
 * (model.safetensors, sharded safetensors with an index, or pytorch_model.bin)
 * and tokenizer files. */
elang_status elang_model_load(const char *dir, const elang_load_opts *opts,
                              elang_model **out, elang_error *err);
void elang_model_free(elang_model *m);

/* "bert", "distilbert", "roberta", ... as in config.json. */
const char *elang_model_type(const elang_model *m);
int elang_model_num_labels(const elang_model *m);
/* The id2label name of class `id`, or NULL when out of range. */
const char *elang_model_label(const elang_model *m, int id);
/* The truncation length actually in force. */
int elang_model_max_length(const elang_model *m);

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

#ifdef __cplusplus
}
#endif
#endif
