#include "io/tensor_file.h"

#include <stdlib.h>
#include <sys/mman.h>

void weight_entries_free(weight_entry *entries, size_t count) {
    for (size_t i = 0; i < count; i++) free(entries[i].name);
    free(entries);
}

void tensor_file_free(tensor_file *f) {
    weight_entries_free(f->entries, f->count);
    if (f->mapping) munmap(f->mapping, f->mapping_len);
    for (size_t i = 0; i < f->nbuffers; i++) free(f->buffers[i]);
    free(f->buffers);
    free(f->path);
    *f = (tensor_file){0};
}

bool tensor_nbytes(int ndim, const int64_t *shape, size_t elem_size, size_t *out) {
    size_t n = elem_size;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (uint64_t)shape[i] > SIZE_MAX) return false;
        if (__builtin_mul_overflow(n, (size_t)shape[i], &n)) return false;
    }
    *out = n;
    return true;
}

const char *weight_dtype_name(weight_dtype dtype) {
    switch (dtype) {
    case DTYPE_F32: return "F32";
    case DTYPE_F16: return "F16";
    case DTYPE_BF16: return "BF16";
    case DTYPE_I64: return "I64";
    case DTYPE_I32: return "I32";
    case DTYPE_OTHER: break;
    }
    return "other";
}
