/* libFuzzer target: request_parse on arbitrary bytes, as the body of a
 * request to the server. The first byte picks the layout (the server's own
 * JSON, KServe v2 tensors or OpenAI's completions request) and whether text
 * pairs are allowed; the rest
 * is the body. An accepted body must yield at least one input with every
 * text a readable string (read to its end, so that a pointer into freed or
 * foreign memory shows), pairs only when allowed and outputs only among
 * those offered; a refused one must be 400 or 500 and say why. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "serve/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const request_layout layout = data[0] & 1 ? LAYOUT_V2 : data[0] & 4 ? LAYOUT_OPENAI : LAYOUT_V1;
    const bool allow_pair = data[0] & 2;
    const unsigned offered = (unsigned)data[0] << 5 | 0x1f; /* some outputs, varying with the byte */
    parsed_request r;
    char why[600] = "";
    const int st = request_parse((const char *)data + 1, size - 1, layout, allow_pair, offered, &r, why, sizeof why);
    if (st) {
        if ((st != 400 && st != 500) || (st == 400 && !why[0])) __builtin_trap();
        return 0;
    }
    if (r.n == 0 || !r.texts || !r.root || (r.outputs & ~offered)) __builtin_trap();
    if (r.num_stop < 0 || r.num_stop > OPENAI_MAX_STOP || r.max_tokens < 0 || r.max_tokens > OPENAI_MAX_TOKENS)
        __builtin_trap();
    for (int i = 0; i < r.num_stop; i++)
        if (!r.stop[i][0]) __builtin_trap(); /* an empty stop string would end every generation at once */
    size_t total = 0;
    for (size_t i = 0; i < r.n; i++) {
        if (!r.texts[i].text || (r.texts[i].text_pair && !allow_pair)) __builtin_trap();
        total += strlen(r.texts[i].text) + (r.texts[i].text_pair ? strlen(r.texts[i].text_pair) : 0);
        if (layout == LAYOUT_V1 && r.ids[i] && r.ids[i]->refcount == 0) __builtin_trap();
    }
    if (total > size) __builtin_trap(); /* texts come from the body, never from elsewhere */
    parsed_request_free(&r);
    return 0;
}
