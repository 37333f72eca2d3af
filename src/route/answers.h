/* What routing and pair runs share of answers.c beyond the public API. */
#ifndef ELANG_ROUTE_ANSWERS_H
#define ELANG_ROUTE_ANSWERS_H

#include "elang.h"

/* The full answer of an input kept by a decision before decoding takes the
 * scores that decision gave (every kind its pass computed, NaN elsewhere)
 * and the score it was routed on, so that the answer says why it stands. */
void answer_take_decision(elang_answer *full, const elang_answer *decision);

#endif
