/* The safetensors format: an 8-byte little-endian header length N, N bytes of
 * JSON mapping each tensor name to {"dtype", "shape", "data_offsets": [begin,
 * end]} (offsets relative to the data section that follows the header), an
 * optional "__metadata__" object, then the raw little-endian tensor data. */
#ifndef ELANG_IO_SAFETENSORS_H
#define ELANG_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "io/tensor_file.h"

/* Parses and validates the whole file held in buf[0..len): header, every
 * entry's dtype, shape and offsets, and that every tensor's bytes lie inside
 * buf. On success *entries (count *count) name owned, data pointing into buf,
 * file = `file`, which must outlive them. Errors are ELANG_ERR_FORMAT (or
 * ELANG_ERR_UNSUPPORTED for tensors of more than WEIGHT_MAX_DIMS dimensions)
 * with a message naming `file` and the tensor at fault. */
elang_status safetensors_parse(const uint8_t *buf, size_t len, const char *file,
                               weight_entry **entries, size_t *count, elang_error *err);

/* Maps `path` read-only and parses it; *out owns the mapping. */
elang_status safetensors_open(const char *path, tensor_file *out, elang_error *err);

#endif
