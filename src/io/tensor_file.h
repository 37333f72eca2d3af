/* What every weights-file loader (safetensors, PyTorch zip) hands to the
 * weight store: the tensors of one file and the memory their data points into,
 * plus the size arithmetic they all need to do safely. */
#ifndef ELANG_IO_TENSOR_FILE_H
#define ELANG_IO_TENSOR_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/weights.h"

typedef struct {
    char *path;             /* entries[i].file points here */
    weight_entry *entries;  /* names owned; data points into mapping or buffers */
    size_t count;
    void *mapping;          /* the mmap'ed file (safetensors), or NULL */
    size_t mapping_len;
    void **buffers;         /* malloc'ed storages (PyTorch zip) */
    size_t nbuffers;
} tensor_file;

/* Signature shared by safetensors_open and torch_zip_open, so that the store
 * can treat the formats (and their sharded variants) alike. On failure *out
 * holds nothing that needs freeing. */
typedef elang_status (*tensor_file_opener)(const char *path, tensor_file *out,
                                           elang_error *err);

/* Releases everything the file owns; safe on a zeroed tensor_file. */
void tensor_file_free(tensor_file *f);

/* Frees the names of count entries and the array itself. */
void weight_entries_free(weight_entry *entries, size_t count);

/* product(shape) * elem_size, false when a dimension is negative or the
 * product does not fit in size_t (a hostile header must not wrap around). */
bool tensor_nbytes(int ndim, const int64_t *shape, size_t elem_size, size_t *out);

/* "F32", "F16", ... for messages. */
const char *weight_dtype_name(weight_dtype dtype);

#endif
