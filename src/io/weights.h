/* The tensors of a checkpoint, whatever file format they came in.
 *
 * weight_store_open() finds the weights in a Hugging Face model directory
 * (model.safetensors; sharded model-0000k-of-0000n.safetensors listed by
 * model.safetensors.index.json; pytorch_model.bin, the PyTorch zip + pickle
 * format; or its shards listed by pytorch_model.bin.index.json, in that order
 * of preference), indexes every tensor by name and checks that each one's
 * bytes lie inside its file. Models then take the tensors they need with
 * weight_store_take_f32(), which checks the shape and converts F16/BF16 to
 * F32, and finally call weight_store_check_unused() so that a tensor nobody
 * asked for is reported instead of silently ignored.
 */
#ifndef ELANG_IO_WEIGHTS_H
#define ELANG_IO_WEIGHTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elang.h"

typedef enum { DTYPE_F32, DTYPE_F16, DTYPE_BF16, DTYPE_I64, DTYPE_I32, DTYPE_OTHER } weight_dtype;

#define WEIGHT_MAX_DIMS 4

typedef struct {
    char *name;                      /* "bert.encoder.layer.0.attention.self.query.weight" */
    weight_dtype dtype;
    int ndim;
    int64_t shape[WEIGHT_MAX_DIMS];
    const void *data;                /* into a mapping or buffer owned by the store */
    size_t nbytes;                   /* = product(shape) * dtype size, checked at open */
    const char *file;                /* file the tensor came from, for messages */
    bool taken;                      /* set by weight_store_take_f32 */
} weight_entry;

typedef struct weight_store weight_store;

/* Opens the weights of model directory `dir`. Fails with ELANG_ERR_IO when no
 * weights file exists (or a shard the index names is missing),
 * ELANG_ERR_FORMAT when one is malformed or truncated, or when a sharded
 * index and its shards disagree (message names the file and, where known,
 * the tensor), ELANG_ERR_UNSUPPORTED for valid files elang cannot use (legacy
 * PyTorch formats, non-contiguous saved views, more than WEIGHT_MAX_DIMS
 * dimensions). */
elang_status weight_store_open(const char *dir, weight_store **out, elang_error *err);
void weight_store_free(weight_store *ws);

/* Opens one safetensors file, dir/file, whatever else the directory holds
 * (a model's side file such as its encoder head), with the same checks. */
elang_status weight_store_open_file(const char *dir, const char *file, weight_store **out, elang_error *err);

/* NULL when no tensor has that name. */
weight_entry *weight_store_find(weight_store *ws, const char *name);
size_t weight_store_count(const weight_store *ws);
weight_entry *weight_store_at(weight_store *ws, size_t i);

/* Takes tensor `name` as F32 with exactly the given shape (shape may be NULL
 * when ndim is 0). *out points either into the file's memory (F32, aligned)
 * or into a converted copy the store owns and frees with the store; taking a
 * tensor again (tied weights) returns the same pointer. Missing tensor or
 * other shape: ELANG_ERR_FORMAT with a message naming the tensor, file,
 * expected and found shapes; a dtype other than F32/F16/BF16:
 * ELANG_ERR_UNSUPPORTED. */
elang_status weight_store_take_f32(weight_store *ws, const char *name, int ndim,
                                   const int64_t *shape, const float **out,
                                   elang_error *err);

/* Once a model has copied a tensor it took (packed it for its matrix
 * products), the store's F32 view of it is dead weight: pages of a
 * memory-mapped file are handed back to the OS (read again if ever
 * touched), and a converted copy taken only once is freed. `data` is what
 * weight_store_take_f32 returned; the caller no longer uses it. */
void weight_store_drop(weight_store *ws, const float *data);

/* Marks a tensor as deliberately unused (e.g. the position_ids buffer); a
 * name the checkpoint lacks is ignored too, as such buffers come and go
 * between versions of transformers. */
void weight_store_ignore(weight_store *ws, const char *name);

/* ELANG_ERR_FORMAT naming the first tensor (and the count) that was neither
 * taken nor ignored. */
elang_status weight_store_check_unused(const weight_store *ws, elang_error *err);

/* Description of where the weights came from ("model.safetensors",
 * "3 shards of model.safetensors.index.json", "pytorch_model.bin"). */
const char *weight_store_source(const weight_store *ws);

#endif
