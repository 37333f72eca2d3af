/* OpenAI's completions protocol from the client's side, for a Super behind
 * any OpenAI-compatible server (vLLM, llama.cpp's server, another
 * `elang serve`): the routed prompts of a batch go out as one request, and
 * each prompt's answer is the text of the choice whose "index" is its
 * place in the request. remote.c carries the exchange (timeouts, retries,
 * backoff); this file is what the bytes say. */
#ifndef ELANG_SERVE_OPENAI_REMOTE_H
#define ELANG_SERVE_OPENAI_REMOTE_H

#include <stddef.h>

#include "elang.h"

typedef struct {
    const char *model;       /* the "model" the server is asked for */
    int max_tokens;          /* "max_tokens" */
    const char *const *stop; /* "stop", when num_stop > 0 */
    int num_stop;
} openai_request;

/* The completions URL of a server given as http(s)://HOST[:PORT][/PATH]:
 * URL/v1/completions, or URL/completions when the URL already ends in /v1
 * (as OpenAI's clients take their base URL), malloc'ed into *out; a URL
 * that is not http(s) is refused. */
elang_status openai_completions_url(const char *url, char **out, elang_error *err);

/* The body asking for the prompts in[idx[0..m)]: {"model", "prompt":
 * [...], "max_tokens", "temperature": 0, "stop"}. malloc'ed; NULL when out
 * of memory. */
char *openai_request_body(const openai_request *q, const elang_text *in, const size_t *idx, size_t m);

/* Reads the answer of `url` to a request of m prompts: out[idx[k]] gets
 * the text of the choice with "index" k (label_id -1, no ids or per-token
 * numbers, which the protocol does not carry). A reply that is not JSON,
 * lacks "choices", holds another number of them, gives a choice without a
 * whole "index" below m or twice the same, or one whose "text" is not a
 * string, fails with a message naming the URL and what was missing; the
 * caller frees whatever out[] got (elang_answers_free). */
elang_status openai_read_answer(const char *url, const char *reply, size_t len, const size_t *idx, size_t m,
                                elang_answer *out, elang_error *err);

#endif
