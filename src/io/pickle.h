/* The state dict inside a PyTorch checkpoint's data.pkl.
 *
 * torch.save pickles a dict (usually a collections.OrderedDict) from tensor
 * name to torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
 * requires_grad, backward_hooks[, metadata]), where each storage is a
 * persistent id ('storage', torch.<Type>Storage, key, location, numel) whose
 * bytes live in the zip entry data/<key>. This is a small pickle machine for
 * exactly that: it never imports or calls anything, only recognises an
 * allowlist of globals, and treats any other opcode, global or shape of data
 * as a format error. Every read is bounds-checked and memory grows at most
 * linearly with the input, so hostile or truncated input is an error, never
 * a crash or a huge allocation.
 */
#ifndef ELANG_IO_PICKLE_H
#define ELANG_IO_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "io/weights.h"

typedef struct {
    char *name;
    char *storage_key;     /* the zip entry is <archive>/data/<storage_key> */
    weight_dtype dtype;    /* from the storage type */
    size_t elem_size;
    int64_t storage_numel; /* elements in the whole storage */
    int64_t offset;        /* first element of the tensor in its storage */
    int ndim;
    int64_t shape[WEIGHT_MAX_DIMS];
    int64_t stride[WEIGHT_MAX_DIMS]; /* in elements */
} pickle_tensor;

/* Runs the pickle in buf[0..len) and returns its tensors in dict order.
 * ELANG_ERR_FORMAT for anything malformed (message gives the byte offset or
 * tensor name), ELANG_ERR_UNSUPPORTED for tensors of more than
 * WEIGHT_MAX_DIMS dimensions. The caller frees with pickle_tensors_free. */
elang_status pickle_parse_state_dict(const uint8_t *buf, size_t len, pickle_tensor **tensors,
                                     size_t *count, elang_error *err);

void pickle_tensors_free(pickle_tensor *tensors, size_t count);

#endif
