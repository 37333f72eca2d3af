/* Flags whose range depends on the model: checked once the models are
 * loaded and before any input runs, so that the message names the flag
 * rather than failing midway. */
#ifndef ELANG_CLI_MODEL_FLAGS_H
#define ELANG_CLI_MODEL_FLAGS_H

#include "elang.h"

/* *max_new_tokens against what each generator of models[0..n) can produce
 * (Marian's decoder positions). `source` names where the number came from
 * ("--max-new-tokens", "the calibration's max_new_tokens"): a number asked
 * for that exceeds a model's limit is refused (exit code 2); NULL means it
 * is the default, which shrinks to the limit. Returns 0 or 2. */
int fit_max_new_tokens(const char *command, elang_model *const *models, int n, int *max_new_tokens,
                       const char *source);

#endif
