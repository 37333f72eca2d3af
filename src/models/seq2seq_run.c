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
    kv_cache_carve(a, layers, run->R, dec->heads * dec->head_dim, run->S, run->max_steps, &run->cache);
    transformer_scratch_carve(a, mm, enc, tokens, tokens * enc->heads * run->S, &run->enc);
    transformer_scratch_carve(a, mm, dec, dec_rows, (long)run->R * dec->heads * dec_keys, &run->dec);
    run->enc_bias = run->dec_bias = NULL;
}

elang_dtype seq2seq_head_dtype(elang_dtype dtype) { return dtype == ELANG_DTYPE_INT8 ? ELANG_DTYPE_F32 : dtype; }

void seq2seq_run_set_mask(seq2seq_run *run, const int32_t *src_mask) {
    const int per_input = run->R / run->B;
    for (int r = 0; r < run->R; r++)
        memcpy(run->cache.src_mask + (size_t)r * run->S, src_mask + (size_t)(r / per_input) * run->S,
               sizeof(int32_t) * (size_t)run->S);
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
