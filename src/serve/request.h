/* Request bodies to inputs: the server's own layout ({"inputs": [{"text",
 * "text_pair", "id"}, ...]}), the Open Inference Protocol's (KServe v2:
 * BYTES tensors "text" and "text_pair") and OpenAI's completions request
 * ("prompt", "max_tokens", "stop"). Untrusted bytes end here, so this is
 * what fuzz/fuzz_request.c drives. */
#ifndef ELANG_SERVE_REQUEST_H
#define ELANG_SERVE_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "elang.h"

typedef enum { LAYOUT_V1, LAYOUT_V2, LAYOUT_OPENAI } request_layout;

/* OpenAI's limit on stop strings, and elang's on max_tokens (as the CLI's
 * --max-new-tokens). */
#define OPENAI_MAX_STOP 4
#define OPENAI_MAX_TOKENS 4096

/* The v2 outputs a request may name; which ones a model gives is the
 * server's to say (outputs_allowed). */
typedef enum {
    OUT_LABEL, OUT_LABEL_ID, OUT_LOGITS, OUT_PROBS, OUT_ENERGY, OUT_ROUTE, OUT_SCORE, OUT_DEGRADED, OUT_TEXT,
    OUT_IDS, OUT_NUM_IDS, OUT_TOKEN_LOGPROBS, OUT_TOKEN_ENERGIES, OUT_NUM_STEPS, OUT_KINDS
} output_kind;

const char *output_name(output_kind k);

typedef struct {
    json_t *root;       /* the parsed body: texts and ids point into it */
    elang_text *texts;  /* [n] */
    json_t **ids;       /* [n] v1: each input's "id" (borrowed), or NULL */
    size_t n;
    const char *model;  /* v1: the "model" field, or NULL */
    json_t *request_id; /* v2: the request's "id" (borrowed), or NULL */
    unsigned char output_order[OUT_KINDS]; /* v2: the output kinds asked for, each once, in the request's order */
    int num_outputs;    /* v2: how many; 0 when "outputs" is absent (all) */
    int max_tokens;     /* OpenAI: "max_tokens", 0 when absent or null */
    const char *stop[OPENAI_MAX_STOP]; /* OpenAI: the "stop" strings (borrowed) */
    int num_stop;
} parsed_request;

/* Parses body[0..len) in `layout`. `allow_pair` says whether text_pair is
 * meaningful (classifiers); `outputs_allowed` is the mask of v2 outputs the
 * model gives. Returns 0, or 400 with a message naming the fault in `why`
 * (malformed JSON, invalid UTF-8, a field of the wrong type, a missing
 * text, a NUL in a text, a tensor of the wrong layout, an OpenAI field
 * asking for what greedy decoding does not do) or 500 when out of memory.
 * On failure nothing is left to free. */
int request_parse(const char *body, size_t len, request_layout layout, bool allow_pair, unsigned outputs_allowed,
                  parsed_request *out, char *why, size_t why_size);
void parsed_request_free(parsed_request *r);

#endif
