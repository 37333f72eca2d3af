/* What the router needs of answers.c beyond elang_answer_all. */
#ifndef ELANG_ROUTE_ANSWERS_H
#define ELANG_ROUTE_ANSWERS_H

#include <stdbool.h>

#include "elang.h"

/* Whether opts decide for this model before it decodes (a generator with
 * ELANG_AGG_PROMPT and no label words). */
bool answers_decide_on_prompt(const elang_model *m, const elang_route_opts *opts);

/* The decision half of elang_answer_all under ELANG_AGG_PROMPT: every
 * input's scores from its first step's logits, without decoding (no text:
 * gen is empty, label_id -1, decoder_steps 1). Released with
 * elang_answers_free. */
elang_status answer_first_steps(elang_model *m, const elang_text *in, const size_t *items, size_t n,
                                const elang_route_opts *opts, elang_answer *out, elang_error *err);

#endif
