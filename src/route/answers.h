/* What routing and pair runs share of answers.c beyond the public API. */
#ifndef ELANG_ROUTE_ANSWERS_H
#define ELANG_ROUTE_ANSWERS_H

#include "elang.h"
#include "models/encoder_head.h"

/* The full answer of an input kept by a decision before decoding takes the
 * scores that decision gave (every kind its pass computed, NaN elsewhere)
 * and the score it was routed on, so that the answer says why it stands. */
void answer_take_decision(elang_answer *full, const elang_answer *decision);

/* The outputs of m's label-word head that the routing's label words name
 * (outputs[ENCODER_HEAD_MAX_OUTPUTS], *k of them; *k 0 when m has no such
 * head); an error when the routing names too few or a word the head does
 * not predict. */
elang_status pick_head_outputs(const elang_model *m, const elang_route_opts *o, int *outputs, int *k,
                               elang_error *err);

#endif
