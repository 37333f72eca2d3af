/*
 * elang: energy-based joint inference of a Swift (small) and a Super (large)
 * language model (Akbari et al., ACL 2022), in C.
 *
 * This header is inference and routing: loading models, running them, the
 * routing scores and the router. Evaluation on labelled data, calibration and
 * reports are in elang_eval.h. Each section below names the file that defines
 * it.
 *
 * Conventions, the same everywhere:
 * - Every call that can fail returns an elang_status. `err` may be NULL; when
 *   it is not, a failure fills it with a message that names what failed
 *   (file, tensor, field, input). The status is returned either way. The
 *   library never exits the process and never prints.
 * - An options struct set to all zeros means the defaults (each field says
 *   its default); the *_default() functions return the same values spelled
 *   out. A NULL options pointer means the defaults too.
 * - Outputs that own memory are released with the *_free function beside
 *   them, never with free(). On failure a call leaves nothing to free.
 * - Pointers to const are never written through; a model is passed as
 *   `elang_model *` exactly to the calls that run it (they use its run state).
 * - Pointer arguments must not be NULL unless the comment beside the call
 *   says what NULL means, as in C's own library; the entry points that run
 *   models (elang_model_load, elang_classify, elang_generate, elang_route,
 *   the router's creation) refuse NULL models, inputs and outputs with a
 *   message anyway, and take n = 0 inputs with NULL arrays.
 *
 * Threads:
 * - Each model computes with its own thread count (elang_load_opts.threads).
 *   Loading or running one model never changes another's, nor the calling
 *   program's OpenMP or BLAS settings.
 * - Different models may be used from different threads at the same time.
 * - One model (and a router, which runs its models) is used by one thread at a
 *   time: calls that take `elang_model *` use the run state the model keeps
 *   so that a forward pass allocates nothing. Calls that take
 *   `const elang_model *` may be made from any number of threads at once.
 * - Everything else (datasets, pair runs, calibrations) is plain data: safe to
 *   read from many threads, to be written by one.
 */
#ifndef ELANG_H
#define ELANG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --------------------------------------------- version and errors
 * Defined in src/api/errors.c. */

#define ELANG_VERSION_MAJOR 0
#define ELANG_VERSION_MINOR 2
#define ELANG_VERSION_PATCH 0
/* The version of this header; elang_version() is the library's. */
#define ELANG_VERSION "0.2.0"

const char *elang_version(void);

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

/* ---------------------------------------------------------------- models
 * Defined in src/api/model.c. */

typedef struct elang_model elang_model;

/* What a model's matrix products compute in. BF16 and INT8 keep the weights
 * in that type (half and a quarter of the memory) and round or quantize the
 * activations going into each product (INT8: dynamic quantization, a scale
 * per output channel of the weights and per token of the activations); the
 * results, energies and everything after them are F32 in every dtype. */
typedef enum { ELANG_DTYPE_F32, ELANG_DTYPE_BF16, ELANG_DTYPE_INT8 } elang_dtype;

/* "f32", "bf16", "int8"; NULL out of range. */
const char *elang_dtype_name(elang_dtype t);
bool elang_dtype_from_name(const char *name, elang_dtype *out);

#define ELANG_MAX_THREADS 1024

typedef struct {
    /* Worker threads of this model's computations, at most ELANG_MAX_THREADS;
     * 0 = every CPU the process may use (its affinity, at most the CPU
     * quota of its cgroup and those above it), and fewer, down to one, while
     * other processes keep some of them busy (looked at before each batch,
     * at most twice a second): OpenMP's spinning threads on CPUs another
     * process holds make small products many times slower. */
    int threads;
    elang_dtype dtype; /* of the matrix products (0 = F32) */
    int max_length; /* truncation length in tokens; 0 = the model's limit */
    /* Text put before every input's (first) text, e.g. T5's task prefix
     * "translate English to German: "; NULL for none. A prefix holding
     * "{text}" is a template: the text goes there, the rest around it (a
     * language model's prompt, "Review: {text} Sentiment:"). */
    const char *input_prefix;
    /* Generators (T5, Marian, the language models) read one text: a
     * sentence pair is given to them as text + pair_infix + text_pair, put
     * where input_prefix puts a text (after it, or in its {text}), as T5
     * was trained on GLUE ("mrpc sentence1: " ... " sentence2: " ...).
     * NULL: generators refuse pairs. Classifiers ignore it (they take
     * pairs as their tokenizer joins them). */
    const char *pair_infix;
} elang_load_opts;

/* Loads a Hugging Face model directory as downloaded: config.json, weights
 * (model.safetensors, sharded safetensors with an index, or pytorch_model.bin)
 * and tokenizer files. opts may be NULL. */
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
/* The threads the model computes with (0 in the options resolved to the
 * CPUs the process may use: then the most, fewer while others load them). */
int elang_model_threads(const elang_model *m);
/* What its matrix products compute in. */
elang_dtype elang_model_dtype(const elang_model *m);

/* Where a model's time went since it was loaded, to see what to tune. */
typedef struct {
    double seconds;             /* inside calls that ran it (tokenizing included) */
    double linear_seconds;      /* its linear layers' products, fused epilogues included */
    double linear_gflop;        /* their arithmetic, a multiply-add counted as 2 */
    double attention_seconds;   /* attention's Q·Kᵀ and P·V products */
    double attention_gflop;
    long products;              /* matrix products run */
    long batches;               /* forward batches run */
    long batches_fewer_threads; /* of them, run on fewer threads than elang_model_threads while
                                   other processes held CPUs (threads 0 only) */
    int fewest_threads;         /* the fewest threads a batch ran on (elang_model_threads when none ran) */
} elang_profile;
void elang_model_profile(const elang_model *m, elang_profile *out);
/* True when the model generates text (T5, Marian, GPT-2, Llama, Qwen2),
 * false for a classifier. */
bool elang_model_is_generator(const elang_model *m);
/* True when an input may be a sentence pair: a classifier's tokenizer joins
 * the two; a generator needs its pair infix (elang_load_opts.pair_infix). */
bool elang_model_takes_pairs(const elang_model *m);
/* The most tokens a generator can produce after its start token (Marian's
 * decoder positions); 0 when unbounded (T5) or for classifiers. A
 * decoder-only model's positions less the least prompt: its special tokens
 * (a BOS) and one token of text. */
int elang_model_max_new_tokens(const elang_model *m);
/* True for the decoder-only language models (GPT-2, Llama, Qwen2). */
bool elang_model_is_causal(const elang_model *m);

/* Analytic GFLOPs of one input of `input_tokens` tokens (special tokens
 * included) that decodes `output_steps` steps (0 for classifiers; the number
 * of decoder inputs fed for generators, times the beams): matrix products
 * only, a multiply-add counted as 2 FLOPs (src/models/flops.h); NaN for a
 * negative count. */
double elang_model_gflops(const elang_model *m, int input_tokens, int output_steps);

/* True when the model is a generator whose directory holds an encoder
 * head (elang_head.json + elang_head.safetensors, loaded with the model):
 * the routing score ELANG_SCORE_ENCODER_HEAD. */
bool elang_model_has_head(const elang_model *m);
/* Analytic GFLOPs of the head's score for an input of `input_tokens`
 * tokens: the encoder alone plus the head; 0 without a head, NaN for a
 * negative count (elang_decision_gflops counts every pass before decoding). */
double elang_model_head_gflops(const elang_model *m, int input_tokens);

/* A 16-hex-digit content hash of the model directory (every regular file,
 * by name and content; other entries such as FIFOs are skipped): calibrations
 * remember the models they were made for. Not cryptographic. */
elang_status elang_model_hash(const char *dir, char out[17], elang_error *err);

/* ------------------------------------------------------------ classify
 * Defined in src/api/classify.c. */

typedef struct {
    const char *text;      /* UTF-8, NUL-terminated */
    const char *text_pair; /* optional second segment, or NULL */
} elang_text;

typedef struct {
    int label_id;
    float *logits;    /* [num_labels]; one allocation with probs (logits[0..2L)), freed with it */
    float *probs;     /* [num_labels] = logits + num_labels, softmax of the logits */
    double energy;    /* E(x) = -T * log sum_i exp(logits_i / T) */
    int32_t *input_ids;      /* [num_tokens], with special tokens */
    int32_t *token_type_ids; /* [num_tokens], or NULL when the model has none */
    int num_tokens;
} elang_class_out;

typedef struct {
    int batch_size;     /* inputs per forward pass; 0 = 32 */
    double temperature; /* T of the energy; 0 = 1 */
    /* A text generator (T5, Marian, GPT-2, Llama, Qwen2) classifies by
     * label words, in class order ("negative", "positive"): the logits are
     * those of each word's first token at the first decoding step (a
     * decoder-only model's: the token that continues the prompt with
     * " word"), the label the highest; nothing is decoded. A generator
     * needs them; a classifier refuses them (its labels are its own). */
    const char *const *label_words;
    int num_label_words;
} elang_classify_opts;

/* Classifies n inputs. out[i] is filled for every i on success (by label
 * words: logits and probs over the num_label_words words, token_type_ids
 * NULL); release its buffers with elang_class_out_free. */
elang_status elang_classify(elang_model *m, const elang_text *in, size_t n,
                            const elang_classify_opts *opts, elang_class_out *out,
                            elang_error *err);
void elang_class_out_free(elang_class_out *out, size_t n);

/* ------------------------------------------------------------ generate
 * Defined in src/api/generate.c. */

typedef struct {
    char *text;               /* decoded output, special tokens dropped */
    /* [num_ids]: an encoder-decoder's decoder start token, the generated
     * tokens, the end-of-sequence token if reached; a decoder-only model's
     * generated tokens alone (its prompt is input_ids) */
    int32_t *ids;
    int num_ids;
    int num_steps;            /* generated tokens: num_ids - 1 (encoder-decoder) or num_ids (decoder-only) */
    float *token_logprobs;    /* [num_steps]: log-probability of each generated token */
    float *token_energies;    /* [num_steps]: -T log sum exp(scores / T) of its step */
    double energy;            /* mean of token_energies */
    double score;             /* greedy: sum of logprobs; beam: the length-penalised beam score */
    int32_t *input_ids;       /* [num_input_ids], the encoded source (</s> included) or prompt */
    int num_input_ids;
    /* [num_steps][ELANG_DIST_SCORES]: every routing score of each step's
     * scores, when elang_gen_opts.step_scores is set; else NULL. */
    float *step_scores;
} elang_gen_out;

/* A length_penalty that ranks beams by their plain sum of log-probabilities
 * (transformers' length_penalty=0): length^1e-300 is exactly 1. */
#define ELANG_LENGTH_PENALTY_NONE 1e-300

typedef struct {
    int num_beams;          /* 1 = greedy; 0 = 1 */
    int max_new_tokens;     /* tokens generated after the decoder start token; 0 = 64 */
    double length_penalty;  /* beam score = sum logprobs / length^length_penalty; 0 = 1 */
    bool no_early_stopping; /* false: an input is done once num_beams hypotheses end */
    int batch_size;         /* inputs per encoder/decoder batch; 0 = 16 */
    double temperature;     /* T of the per-token energies; 0 = 1 */
    bool step_scores;       /* also fill elang_gen_out.step_scores */
    /* Greedy search only: an input's generation also ends once the text of
     * its generated tokens holds one of these strings (transformers'
     * stop_strings); the tokens and text keep the stop string. NULL: none. */
    const char *const *stop;
    int num_stop;
} elang_gen_opts;

/* num_beams 1, max_new_tokens 64, length_penalty 1, early stopping,
 * batch_size 16, temperature 1. */
elang_gen_opts elang_gen_opts_default(void);

/* Generates for n inputs (text_pair must be NULL); out[i] filled for every
 * i on success, released with elang_gen_out_free. Batched decoding gives the
 * same outputs as one input at a time. A decoder-only model continues each
 * text (its prompt; an empty one becomes the model's bos token, as
 * generate() starts from it); prompt and generated tokens together must fit
 * its positions. */
elang_status elang_generate(elang_model *m, const elang_text *in, size_t n, const elang_gen_opts *opts,
                            elang_gen_out *out, elang_error *err);
void elang_gen_out_free(elang_gen_out *out, size_t n);

/* ------------------------------------------------------------- scores
 * Defined in src/api/scores.c. */

/* How sure a model is of its output; every kind is oriented so that higher
 * means "keep this model's answer" (see elang_keeps_swift). */
typedef enum {
    ELANG_SCORE_ENERGY,          /* -E(x) = T log sum exp(f / T): the paper's energy */
    ELANG_SCORE_SOFTMAX_ENERGY,  /* T log sum exp(softmax(f) / T): the authors' code */
    ELANG_SCORE_MAXPROB,         /* max softmax(f) */
    ELANG_SCORE_ENTROPY,         /* -H(softmax(f)) */
    ELANG_SCORE_MARGIN,          /* top-1 minus top-2 probability */
    ELANG_SCORE_RANDOM,          /* a fixed pseudo-random number per input: the baseline */
    /* A generator's encoder head (elang_model_has_head): a score predicted
     * from Swift's encoder states alone, so that an input sent to Super
     * never runs Swift's decoder. NaN in elang_answer_all's answers:
     * elang_answer_decisions computes it (ELANG_DECIDE_BY_HEAD). */
    ELANG_SCORE_ENCODER_HEAD,
    ELANG_SCORE_KINDS
} elang_score_kind;

/* The kinds computed from a distribution of logits: all but random. */
#define ELANG_DIST_SCORES ELANG_SCORE_RANDOM

/* "energy", "softmax-energy", "maxprob", "entropy", "margin", "random",
 * "encoder-head"; NULL for a value out of range. */
const char *elang_score_name(elang_score_kind k);
/* True and *out set when name is a score kind. */
bool elang_score_from_name(const char *name, elang_score_kind *out);

/* E(x) = -T * log sum_i exp(logits_i / T), computed stably in double. */
double elang_energy(const float *logits, int n, double temperature);

/* out[k], k < ELANG_DIST_SCORES: every routing score of one row of logits
 * (-inf entries are excluded tokens), at temperature T. */
void elang_scores(const float *logits, int n, double temperature, float *out);

/* -------------------------------------------------------------- routing
 * Defined in src/route/ (rule.c, aggregate.c, answers.c, router.c). */

/* The E-LANG rule, the one place it is written: Swift's answer stands when
 * its score is at least the threshold; otherwise the input goes to Super. */
bool elang_keeps_swift(double score, double threshold);

/* How a generator's per-step scores become one score per input. PROMPT is
 * FIRST's score, taken before decoding: the scores of the first step's
 * logits (a language model's last prompt position, an encoder-decoder's
 * decoder start token), so the router decides on them and the model then
 * decodes only the inputs it keeps (ELANG_DECIDE_ON_FIRST_STEP); a routed
 * input costs it its prompt alone (encoder and one step). */
typedef enum { ELANG_AGG_MEAN, ELANG_AGG_MIN, ELANG_AGG_SUM, ELANG_AGG_FIRST, ELANG_AGG_PROMPT } elang_aggregation;

/* "mean", "min", "sum", "first", "prompt"; NULL out of range. */
const char *elang_aggregation_name(elang_aggregation a);
bool elang_aggregation_from_name(const char *name, elang_aggregation *out);

typedef struct {
    elang_score_kind score;        /* what decides the routing (0 = energy) */
    double temperature;            /* T of the energies; 0 = 1 */
    elang_aggregation aggregate;   /* generators: per-step scores → input score (0 = mean) */
    /* Text-to-text classification with T5: the label words, in class order
     * ("negative", "positive"); the answer is the label word whose first
     * token has the highest logit at the first decoding step, and the
     * scores come from those logits alone (the decision is taken before
     * decoding). Classifiers refuse them. NULL: ordinary generation. */
    const char *const *label_words;
    int num_label_words;
    uint64_t seed;                 /* of the random score */
    int batch_size;                /* inputs per forward pass; 0 = 32 */
    elang_gen_opts gen;            /* decoding settings of generators (zeros: defaults) */
} elang_route_opts;

/* energy, T = 1, mean aggregation, no label words, seed 0, batch size 32,
 * elang_gen_opts_default(). */
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
 * score, so that a subset scores as it would in the whole); *seconds (if not
 * NULL) gets the wall time. Release with elang_answers_free. */
elang_status elang_answer_all(elang_model *m, const elang_text *in, const size_t *items, size_t n,
                              const elang_route_opts *opts, elang_answer *out, double *seconds,
                              elang_error *err);
void elang_answers_free(elang_answer *a, size_t n);

/* When routing decides whether a model's answer stands: on the answer
 * itself, or before the model decodes, on a pass of its own over the input
 * whose score is known then. Deciding before decoding, the router runs that
 * pass alone on every input (elang_answer_decisions) and decodes only the
 * inputs it keeps; the others cost the model the pass alone. */
typedef enum {
    ELANG_DECIDE_AFTER_DECODING, /* classifiers, and generators routed on their decoded answer */
    ELANG_DECIDE_ON_FIRST_STEP,  /* ELANG_AGG_PROMPT (no label words): the first decoding step's scores */
    ELANG_DECIDE_BY_HEAD,        /* ELANG_SCORE_ENCODER_HEAD: the encoder and its head */
    ELANG_DECISIONS
} elang_decision;

/* How routing with opts (NULL: the defaults) decides for m: the one place
 * that says whether a score is known before decoding. Label words decide
 * on the first step too, but that step is their whole answer: there is
 * nothing left to decode (ELANG_DECIDE_AFTER_DECODING). */
elang_decision elang_decision_of(const elang_model *m, const elang_route_opts *opts);

/* The pass before decoding of elang_decision_of(m, opts) on n inputs, no
 * decoding: out[i] gets label_id -1, no text, input_tokens, decoder_steps
 * (1 for the first step, 0 for the head), the scores the pass gives (the
 * first step: every distribution score, as ELANG_AGG_PROMPT's of
 * elang_answer_all; the head: ELANG_SCORE_ENCODER_HEAD), the random score,
 * NaN for the others, and score = scores[opts.score]. items and seconds as
 * in elang_answer_all. ELANG_ERR_INVALID_ARG when the options decide after
 * decoding, when the head's score is asked of a model without one, or when
 * its head predicts label-word logits for other label words than opts'.
 * Release with elang_answers_free. */
elang_status elang_answer_decisions(elang_model *m, const elang_text *in, const size_t *items, size_t n,
                                    const elang_route_opts *opts, elang_answer *out, double *seconds,
                                    elang_error *err);

/* Analytic GFLOPs of decision d's pass on an input of input_tokens tokens:
 * the prompt (an encoder-decoder's encoder and first step) for the first
 * step, elang_model_head_gflops for the head; 0 after decoding. */
double elang_decision_gflops(const elang_model *m, elang_decision d, int input_tokens);

typedef struct elang_router elang_router;

/* A cascade over num_tiers models, tiers[0] the Swift model and the last
 * the Super one: an input stays with tier i when elang_keeps_swift(its score
 * there, thresholds[i]) (num_tiers - 1 thresholds), else moves on. The models
 * must answer alike (all classifiers with the same labels, or all
 * generators); they stay owned by the caller and must outlive the router.
 * The routing options (score, aggregation, temperature, batch size, label
 * words) are checked here, decoding options when the models first decode;
 * label words and stop strings are copied (answers' labels point at the
 * router's copies). A NaN threshold
 * is refused; +-INFINITY sends every input on or keeps every one. */
elang_status elang_router_new(elang_model *const *tiers, int num_tiers, const double *thresholds,
                              const elang_route_opts *opts, elang_router **out, elang_error *err);
void elang_router_free(elang_router *r);

/* A last tier that is no model loaded here, e.g. a server elsewhere: answers
 * in[0..n) as elang_answer_all would, filling out[i] for every i so that
 * elang_answers_free releases it (a classifier's label pointing at a
 * tier-0 model's label names; logits and probs in one allocation), or
 * fails leaving nothing to free. `items` as in elang_answer_all. */
typedef elang_status (*elang_answer_fn)(void *ctx, const elang_text *in, const size_t *items, size_t n,
                                        elang_answer *out, elang_error *err);

/* A cascade whose models tiers[0..num_models) are followed by one more
 * tier answered by `answer` (thresholds: num_models of them). When `answer`
 * fails, the inputs sent to it keep the answer they had, marked degraded,
 * and elang_route succeeds: a remote Super that is down costs accuracy,
 * never answers. The models must answer alike, as for elang_router_new;
 * the answer function must answer as they do: with label words, by them
 * (label_id in their order, label one of the words, no cls). */
elang_status elang_router_new_remote(elang_model *const *tiers, int num_models, const double *thresholds,
                                     elang_answer_fn answer, void *ctx, const elang_route_opts *opts,
                                     elang_router **out, elang_error *err);

/* A Super served elsewhere, as the last tier of elang_router_new_remote
 * (defined in src/serve/remote.c): a KServe v2 model (another
 * `elang serve --model`, Triton, KServe), or a model behind an
 * OpenAI-compatible completions API (vLLM, llama.cpp's server, another
 * `elang serve`; text generators only, whose answers are then text alone).
 * Each batch's routed inputs go out as one request; a call times out and is
 * retried after transport failures and 5xx answers (a 4xx answer, or one
 * longer than 64 MiB, which is cut off there, is not retried); after a failure the remote side is left alone for a backoff
 * that doubles from 0.25 s to 4 s, during which its inputs fail at once, so
 * the router answers them degraded; the first call that succeeds ends it. */
typedef enum { ELANG_REMOTE_V2, ELANG_REMOTE_OPENAI } elang_remote_api;

typedef struct {
    elang_remote_api api;   /* 0 = KServe v2 */
    /* v2: the model's URL, http://HOST:PORT/v2/models/NAME; OpenAI: the
     * server's, http://HOST:PORT (or its /v1), asked at /v1/completions */
    const char *url;
    const char *model;      /* OpenAI: the model asked for (required) */
    int connect_timeout_ms; /* per attempt; 0 (or less) = 500 */
    int timeout_ms;         /* per attempt, the whole exchange; 0 (or less) = 5000 */
    int retries;            /* attempts after a failed one; 0 = none */
} elang_remote_opts;

typedef struct elang_remote elang_remote;

/* A remote Super that answers as `swift` does (its labels and kind). From
 * `route` (NULL: the defaults), the router's options: the temperature of
 * energies computed from a v2 answer's logits and, over OpenAI, the
 * max_new_tokens and stop strings each request asks for (the strings
 * borrowed: they must outlive the remote); with label words (borrowed
 * too), the answers are labels among them, from a v2 Super that answers
 * their logits (`elang serve --model SUPER --label-words ...`). Refused:
 * an OpenAI API for a classifier or for label words (it answers no
 * logits), or without a model name. */
elang_status elang_remote_new(const elang_remote_opts *opts, const elang_model *swift, const elang_route_opts *route,
                              elang_remote **out, elang_error *err);
void elang_remote_free(elang_remote *r);

/* The elang_answer_fn of a remote Super (ctx: the elang_remote). Like a
 * router, a remote is used by one thread at a time. */
elang_status elang_remote_answer(void *ctx, const elang_text *in, const size_t *items, size_t n, elang_answer *out,
                                 elang_error *err);

typedef struct {
    int tier;                /* whose answer stands: 0 = Swift */
    elang_answer *answers;   /* [tier + 1]: every consulted tier's answer; answers[tier] is final */
    bool degraded;           /* routed on, but the next tier (an elang_answer_fn) failed */
} elang_route_out;

/* Routes n inputs: every input through tier 0 (batched), the ones below
 * its threshold through tier 1 (batched), and so on. A tier (not the last)
 * that decides before decoding (elang_decision_of) first runs that pass
 * alone on every input and decodes only the inputs it keeps: the answers of
 * inputs it passed on are the pass's (no text), and a kept input's answer
 * carries the scores it was decided on. A label word's answer names it
 * by the router's copy: read the answers before freeing the router. */
elang_status elang_route(elang_router *r, const elang_text *in, size_t n, elang_route_out *out,
                         elang_error *err);
/* elang_route with each input's index in a larger whole (the random
 * score's seed, as in elang_answer_all); NULL items means 0..n-1. */
elang_status elang_route_items(elang_router *r, const elang_text *in, const size_t *items, size_t n,
                               elang_route_out *out, elang_error *err);
void elang_route_out_free(elang_route_out *out, size_t n);

#ifdef __cplusplus
}
#endif
#endif
