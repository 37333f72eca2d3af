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

/* The routing options' checks (after their defaults), shared by
 * elang_answer_all and the router, which checks them at creation so that
 * a mistake is said before any input is read. m: the answering model. */
elang_status route_opts_check(elang_model *m, const elang_route_opts *opts, elang_error *err);

/* Points opts' label words and stop strings at copies of them, made in
 * *words and *stop, so that what a router or a pair run keeps does not
 * depend on the caller's strings living on. False when out of memory
 * (then nothing is left to free). */
bool route_opts_own_strings(elang_route_opts *opts, char ***words, char ***stop);
void route_opts_strings_free(const elang_route_opts *opts, char **words, char **stop);

#endif
