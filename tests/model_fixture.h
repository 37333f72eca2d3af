/* A model of the generation interface (T5, Marian, a decoder-only LM)
 * loaded straight from a fixture directory, below the public API, so
 * that tests can drive its encoder and decoder steps; and the fixtures'
 * cases. */
#ifndef ELANG_TESTS_MODEL_FIXTURE_H
#define ELANG_TESTS_MODEL_FIXTURE_H

#include <jansson.h>
#include <stdint.h>

#include "elang.h"
#include "io/config.h"
#include "io/weights.h"
#include "models/seq2seq.h"
#include "util/arena.h"

typedef struct {
    model_config cfg;
    weight_store *ws;
    matmul_ctx *mm;
    seq2seq_model m;
    arena run; /* a test's run state, if it makes one */
} model_fixture;

/* Loads DIR in F32 with the loader its model_type names; on failure f is
 * left empty. */
elang_status model_fixture_open(const char *dir, model_fixture *f, elang_error *err);
/* ../shared/fixtures/hf/NAME, failing the test if it does not load. */
void model_fixture_load(const char *name, model_fixture *f);
void model_fixture_free(model_fixture *f);

/* The rows of ../shared/fixtures/hf/NAME/cases.jsonl. */
json_t **fixture_cases(const char *name, size_t *n);
/* A JSON array of integers as a malloc'ed array of *n ids. */
int32_t *json_ids(const json_t *arr, int *n);

#endif
