/* The decoder's key/value cache, shared by every encoder-decoder family. */
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "models/seq2seq.h"

elang_status seq2seq_cache_init(seq2seq_cache *c, const seq2seq_model *m, int rows, int src_len,
                                const int32_t *src_mask_per_input, int inputs, int max_steps,
                                elang_error *err) {
    memset(c, 0, sizeof *c);
    if (rows <= 0 || inputs <= 0 || rows % inputs != 0 || src_len <= 0 || max_steps <= 0)
        return elang_fail(err, ELANG_ERR_INVALID_ARG,
                          "decoder cache: %d rows for %d inputs, %d source tokens, %d steps", rows,
                          inputs, src_len, max_steps);
    c->layers = m->cache_layers;
    c->rows = rows;
    c->width = m->cache_width;
    c->max_steps = max_steps;
    c->src_len = src_len;
    const size_t self = (size_t)c->layers * rows * max_steps * c->width;
    const size_t cross = (size_t)c->layers * rows * src_len * c->width;
    c->self_k = malloc(sizeof(float) * self);
    c->self_v = malloc(sizeof(float) * self);
    c->cross_k = malloc(sizeof(float) * cross);
    c->cross_v = malloc(sizeof(float) * cross);
    c->src_mask = malloc(sizeof(int32_t) * (size_t)rows * src_len);
    if (!c->self_k || !c->self_v || !c->cross_k || !c->cross_v || !c->src_mask) {
        seq2seq_cache_free(c);
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for the decoder cache of %d rows x %d steps",
                          rows, max_steps);
    }
    const int per_input = rows / inputs;
    for (int r = 0; r < rows; r++)
        memcpy(c->src_mask + (size_t)r * src_len, src_mask_per_input + (size_t)(r / per_input) * src_len,
               sizeof(int32_t) * src_len);
    return ELANG_OK;
}

void seq2seq_cache_free(seq2seq_cache *c) {
    free(c->self_k);
    free(c->self_v);
    free(c->cross_k);
    free(c->cross_v);
    free(c->src_mask);
    memset(c, 0, sizeof *c);
}

/* Gathers rows of one [R, len, width] block per layer through a scratch
 * copy; only the `steps` filled positions move. */
static void gather_rows(float *cache, float *scratch, const seq2seq_cache *c, const int *from) {
    const size_t row = (size_t)c->max_steps * c->width, used = (size_t)c->steps * c->width;
    for (int l = 0; l < c->layers; l++) {
        float *block = cache + (size_t)l * c->rows * row;
        for (int r = 0; r < c->rows; r++) memcpy(scratch + r * used, block + from[r] * row, sizeof(float) * used);
        for (int r = 0; r < c->rows; r++) memcpy(block + r * row, scratch + r * used, sizeof(float) * used);
    }
}

elang_status seq2seq_cache_reorder(seq2seq_cache *c, const int *from, elang_error *err) {
    if (c->steps == 0) return ELANG_OK;
    float *scratch = malloc(sizeof(float) * (size_t)c->rows * c->steps * c->width);
    if (!scratch) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory reordering the decoder cache");
    gather_rows(c->self_k, scratch, c, from);
    gather_rows(c->self_v, scratch, c, from);
    free(scratch);
    return ELANG_OK;
}
