/* libFuzzer target: safetensors_parse on arbitrary bytes, as if they were a
 * whole model.safetensors. Every accepted tensor's bytes are read, so that a
 * missing bounds check shows up as an ASan report rather than passing
 * silently; every refusal must come with a format-type code and a message. */
#include <stddef.h>
#include <stdint.h>

#include "io/safetensors.h"

/* Where the bytes read go, so that the reads are not optimised away. */
volatile uint8_t fuzz_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    weight_entry *entries;
    size_t count;
    elang_error err = {0};
    elang_status st = safetensors_parse(data, size, "fuzz.safetensors", &entries, &count, &err);
    if (st != ELANG_OK) {
        if ((st != ELANG_ERR_FORMAT && st != ELANG_ERR_UNSUPPORTED) || !err.message[0]) __builtin_trap();
        return 0;
    }
    for (size_t i = 0; i < count; i++) {
        const uint8_t *bytes = entries[i].data;
        if (!entries[i].name || entries[i].ndim > WEIGHT_MAX_DIMS) __builtin_trap();
        for (size_t k = 0; k < entries[i].nbytes; k++) fuzz_sink ^= bytes[k];
    }
    weight_entries_free(entries, count);
    return 0;
}
