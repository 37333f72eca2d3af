/* Flags whose range depends on the model: checked once the models are
 * loaded and before any input runs, so that the message names the flag
 * rather than failing midway. */
#ifndef ELANG_CLI_MODEL_FLAGS_H
#define ELANG_CLI_MODEL_FLAGS_H

#include "elang_eval.h"

/* *max_new_tokens against what each generator of models[0..n) can produce
 * (Marian's decoder positions). `source` names where the number came from
 * ("--max-new-tokens", "the calibration's max_new_tokens"): a number asked
 * for that exceeds a model's limit is refused (exit code 2); NULL means it
 * is the default, which shrinks to the limit. Returns 0 or 2. */
int fit_max_new_tokens(const char *command, elang_model *const *models, int n, int *max_new_tokens,
                       const char *source);

/* The --dtype flag row (a FLAG_CHOICE into a const char *), and its value:
 * F32 when not given. */
#define DTYPE_FLAG_SPEC(dest)                                                                                  \
    {"dtype", FLAG_CHOICE, &(dest), 0, 0, "f32|bf16|int8",                                                     \
     "what the matrix products compute in: f32 (default), bf16 or int8 (dynamic quantization)", "T"}
elang_dtype dtype_of_flag(const char *flag);

/* --profile: where a model's time went, on stderr (elang_profile). */
#define PROFILE_FLAG_SPEC(dest)                                                                                \
    {"profile", FLAG_BOOL, &(dest), 0, 0, NULL, "print where the models' time went (stderr)", NULL}
void print_profile(const char *command, const elang_model *m);

/* A calibration made in another dtype still routes, but its threshold was
 * set on slightly different scores: say so on stderr. */
void warn_dtype(const char *command, const elang_calibration *calib, elang_dtype dtype);

#endif
