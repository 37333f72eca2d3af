/* The run state of an encoder-decoder batch, shared by every family. */
#include <string.h>

#include "models/seq2seq.h"
#include "util/error.h"

void seq2seq_run_carve_common(arena *a, matmul_ctx *mm, const transformer_dims *enc, const transformer_dims *dec,
                              int layers, seq2seq_run *run) {
    const long tokens = (long)run->B * run->S;
    const long dec_rows = run->R > tokens ? run->R : tokens; /* start() projects every source token */
    const long dec_keys = run->S > run->max_steps ? run->S : run->max_steps;
    run->enc_out = arena_take(a, sizeof(float) * (size_t)tokens * enc->d_model);
    run->x = arena_take(a, sizeof(float) * (size_t)run->R * dec->d_model);
    kv_cache_carve(a, layers, run->R, transformer_kv_width(dec), run->S, run->max_steps, &run->cache);
    transformer_scratch_carve(a, mm, enc, tokens, tokens * enc->heads * run->S, &run->enc);
    transformer_scratch_carve(a, mm, dec, dec_rows, (long)run->R * dec->heads * dec_keys, &run->dec);
    run->enc_bias = run->dec_bias = NULL;
    run->start_tokens = arena_take(a, sizeof(int32_t) * (size_t)run->R);
}

elang_status seq2seq_prefill_encoded(const seq2seq_ops *ops, const void *net, int start_id, seq2seq_run *run,
                                     const int32_t *ids, const int32_t *mask, float *logits, elang_error *err) {
    elang_status st = ops->encode(net, run, ids, mask, err);
    if (st == ELANG_OK) st = ops->start(net, run, err);
    if (st != ELANG_OK) return st;
    for (int r = 0; r < run->R; r++) run->start_tokens[r] = start_id;
    return ops->step(net, run, run->start_tokens, logits, err);
}

elang_dtype seq2seq_head_dtype(elang_dtype dtype) { return dtype == ELANG_DTYPE_INT8 ? ELANG_DTYPE_BF16 : dtype; }

void seq2seq_run_set_mask(seq2seq_run *run, const int32_t *src_mask) {
    if (run->cache.src_len == 0) return; /* decoder-only: the prefill marks the prompts' padding */
    const int per_input = run->R / run->B;
    for (int r = 0; r < run->R; r++)
        memcpy(run->cache.src_mask + (size_t)r * run->S, src_mask + (size_t)(r / per_input) * run->S,
               sizeof(int32_t) * (size_t)run->S);
}

/* Rows keep[i] of each layer's [rows, per_row] block of a [layers, rows,
 * per_row] array become rows i of a [layers, n, per_row] one, in place:
 * every destination lies at or before its source, so copying in order is
 * safe. */
static void keep_rows(float *base, int layers, int rows, size_t per_row, size_t used, const int *keep, int n) {
    for (int l = 0; l < layers; l++)
        for (int i = 0; i < n; i++)
            memmove(base + ((size_t)l * n + i) * per_row, base + ((size_t)l * rows + keep[i]) * per_row,
                    sizeof(float) * used);
}

void seq2seq_run_keep(seq2seq_run *run, const int *keep, int n) {
    kv_cache *c = &run->cache;
    const size_t self_row = (size_t)c->max_steps * c->width, cross_row = (size_t)c->src_len * c->width;
    keep_rows(c->self_k, c->layers, c->rows, self_row, (size_t)c->steps * c->width, keep, n);
    keep_rows(c->self_v, c->layers, c->rows, self_row, (size_t)c->steps * c->width, keep, n);
    keep_rows(c->cross_k, c->layers, c->rows, cross_row, cross_row, keep, n);
    keep_rows(c->cross_v, c->layers, c->rows, cross_row, cross_row, keep, n);
    for (int i = 0; i < n; i++)
        memmove(c->src_mask + (size_t)i * c->src_len, c->src_mask + (size_t)keep[i] * c->src_len,
                sizeof(int32_t) * (size_t)c->src_len);
    for (int i = 0; c->self_mask && i < n; i++) {
        memmove(c->self_mask + (size_t)i * c->max_steps, c->self_mask + (size_t)keep[i] * c->max_steps,
                sizeof(int32_t) * (size_t)c->steps);
        c->seen[i] = c->seen[keep[i]];
    }
    c->rows = run->R = n;
}

elang_status seq2seq_run_alloc(const seq2seq_model *m, arena *a, int B, int per_input, int S, int max_steps,
                               const int32_t *src_mask, seq2seq_run *run, elang_error *err) {
    if (B <= 0 || per_input <= 0 || S <= 0 || max_steps <= 0)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "decoder run: %d inputs x %d rows, %d source tokens, %d steps",
                          B, per_input, S, max_steps);
    *run = (seq2seq_run){.B = B, .R = B * per_input, .S = S, .max_steps = max_steps};
    arena_measure(a);
    m->ops->carve(m->net, a, run);
    if (!arena_commit(a))
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for decoding %d rows x %d steps", run->R, max_steps);
    m->ops->carve(m->net, a, run);
    seq2seq_run_set_mask(run, src_mask);
    return ELANG_OK;
}
