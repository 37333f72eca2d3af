/* Taking a model's tensors out of a weight store by name, with a sticky
 * error: the first missing or misshapen tensor is remembered and every later
 * take is a no-op, so a model's load function reads as a plain list of its
 * tensors and checks the outcome once at the end. */
#ifndef ELANG_MODELS_LOADER_H
#define ELANG_MODELS_LOADER_H

#include <stdint.h>

#include <stdbool.h>

#include "core/ops.h"
#include "io/weights.h"

typedef struct {
    weight_store *ws;
    const char *prefix; /* "bert.", "roberta.", ... or "" when saved bare */
    elang_error *err;
    elang_status status;
} tensor_loader;

/* Takes prefix+name (name printf-formatted) as F32 of shape [d0] (d1 < 0)
 * or [d0, d1]. Old checkpoints call LayerNorm parameters gamma/beta; those
 * are accepted as transformers renames them on load. */
const float *loader_take(tensor_loader *L, int64_t d0, int64_t d1, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* An nn.Linear: prefix+name.weight [out, in] and, when `bias`,
 * prefix+name.bias [out] (name printf-formatted). */
void loader_take_linear(tensor_loader *L, int out, int in, bool bias, linear *l, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Same, without the prefix (heads live beside the base model). */
const float *loader_take_bare(tensor_loader *L, int64_t d0, int64_t d1, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A parameter transformers ties under several prefix-less names (T5's
 * shared.weight is also encoder.embed_tokens.weight, ...): takes the first
 * of the NULL-terminated `names` the checkpoint holds and marks the others
 * used, since checkpoints that store several copies store the same values.
 * When none is present the error names the first. */
const float *loader_take_tied(tensor_loader *L, int64_t d0, int64_t d1, const char *const *names);

/* The first dimension of prefix-less tensor `name`, or -1 when absent. */
int64_t loader_rows(tensor_loader *L, const char *name);

#endif
