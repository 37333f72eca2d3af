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
} elang_gen_out;

typedef struct {
    int num_beams;          /* 1 = greedy */
    int max_new_tokens;     /* tokens generated after the decoder start token */
    double length_penalty;  /* beam score = sum logprobs / length^length_penalty */
    int early_stopping;     /* 1: an input is done once num_beams hypotheses end */
    int batch_size;         /* inputs per encoder/decoder batch */
    double temperature;     /* T of the per-token energies */
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

/* ------------------------------------------------------------- scores */

/* E(x) = -T * log sum_i exp(logits_i / T), computed stably in double. */
double elang_energy(const float *logits, int n, double temperature);

#ifdef __cplusplus
}
#endif
#endif
