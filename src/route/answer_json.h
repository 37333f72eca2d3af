/* The JSON object written for each answer, one definition for the CLI (a
 * line per input) and the server (an element of "outputs"): the same
 * fields in the same order, printed with the same precision, so that the
 * two give the same bytes for the same answer. */
#ifndef ELANG_ROUTE_ANSWER_JSON_H
#define ELANG_ROUTE_ANSWER_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "elang.h"

/* How every answer object is dumped: compact, reals to 8 significant digits. */
#define ANSWER_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(8))

json_t *json_int_array(const int32_t *v, int n);
json_t *json_float_array(const float *v, int n);

/* `elang classify`'s object: id (when not NULL; borrowed), label,
 * label_id, logits, probs, energy; emit_ids adds input_ids and
 * token_type_ids. The labels are m's own, or, when label_words is not
 * NULL, those num_label_words words (a generator classifying by them). */
json_t *class_out_json(const elang_model *m, const char *const *label_words, int num_label_words, json_t *id,
                       const elang_class_out *o, bool emit_ids);

/* `elang generate`'s: id, text, ids, token_logprobs, token_energies,
 * energy, score; emit_ids adds input_ids. */
json_t *gen_out_json(json_t *id, const elang_gen_out *o, bool emit_ids);

/* `elang route`'s: id, the final answer's fields (a classifier's label,
 * label_id, logits, probs, energy; a generator's text, ids,
 * token_logprobs, token_energies, energy), route, score (Swift's), scores
 * in a cascade, swift_label/swift_text and the final tier's, and
 * "degraded": true when the next tier could not answer. num_labels is the
 * classifiers' (the tiers share their labels). */
json_t *route_out_json(json_t *id, const elang_route_out *o, int num_tiers, int num_labels, bool emit_ids);

#endif
