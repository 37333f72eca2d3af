/* libFuzzer target: pickle_parse_state_dict on arbitrary bytes, as if they
 * were a checkpoint's data.pkl. Beyond not crashing, leaking or allocating
 * without bound, an accepted pickle must describe sane tensors and a
 * refused one must say why. */
#include <stddef.h>
#include <stdint.h>

#include "io/pickle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pickle_tensor *tensors;
    size_t count;
    elang_error err = {0};
    elang_status st = pickle_parse_state_dict(data, size, &tensors, &count, &err);
    if (st != ELANG_OK) {
        if ((st != ELANG_ERR_FORMAT && st != ELANG_ERR_UNSUPPORTED) || !err.message[0]) __builtin_trap();
        return 0;
    }
    for (size_t i = 0; i < count; i++) {
        const pickle_tensor *t = &tensors[i];
        if (!t->name || !t->storage_key || t->ndim < 0 || t->ndim > WEIGHT_MAX_DIMS || t->offset < 0 ||
            t->storage_numel < 0 || t->elem_size == 0)
            __builtin_trap();
        for (int d = 0; d < t->ndim; d++)
            if (t->shape[d] < 0 || t->stride[d] < 0) __builtin_trap();
    }
    pickle_tensors_free(tensors, count);
    return 0;
}
