#include "models/transformer.h"

#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/attention.h"
#include "util/error.h"

static int width(const transformer_dims *d) { return d->heads * d->head_dim; }
int transformer_kv_width(const transformer_dims *d) { return (d->kv_heads > 0 ? d->kv_heads : d->heads) * d->head_dim; }

void transformer_scratch_carve(arena *a, matmul_ctx *mm, const transformer_dims *d, long rows, long score_floats,
                               transformer_scratch *s) {
    const size_t D = (size_t)d->d_model, A = (size_t)width(d), F = (size_t)d->d_ff, M = (size_t)rows;
    const size_t K = (size_t)transformer_kv_width(d);
    s->mm = mm;
    s->h = arena_take(a, sizeof(float) * M * D);
    s->qkv = arena_take(a, sizeof(float) * M * (A + 2 * K));
    s->ctx = arena_take(a, sizeof(float) * M * A);
    s->ff = arena_take(a, sizeof(float) * M * F);
    s->gate = arena_take(a, sizeof(float) * M * F);
    s->scores = arena_take(a, sizeof(float) * (size_t)(score_floats > 0 ? score_floats : 1));
}

void kv_cache_carve(arena *a, int layers, int rows, int width, int src_len, int max_steps, kv_cache *c) {
    *c = (kv_cache){.layers = layers, .rows = rows, .width = width, .max_steps = max_steps, .src_len = src_len};
    const size_t self = (size_t)layers * rows * max_steps * width, cross = (size_t)layers * rows * src_len * width;
    c->self_k = arena_take(a, sizeof(float) * self);
    c->self_v = arena_take(a, sizeof(float) * self);
    c->cross_k = arena_take(a, sizeof(float) * cross);
    c->cross_v = arena_take(a, sizeof(float) * cross);
    c->src_mask = arena_take(a, sizeof(int32_t) * (size_t)rows * src_len);
    if (src_len == 0) {
        c->self_mask = arena_take(a, sizeof(int32_t) * (size_t)rows * max_steps);
        c->seen = arena_take(a, sizeof(int32_t) * (size_t)rows);
    }
    c->reorder = arena_take(a, sizeof(float) * (size_t)rows * max_steps * width);
}

/* Gathers rows of one [R, max_steps, A] block per layer through the
 * scratch; only the `steps` filled positions move. */
static void gather_rows(float *cache, const kv_cache *c, const int *from) {
    const size_t row = (size_t)c->max_steps * c->width, used = (size_t)c->steps * c->width;
    for (int l = 0; l < c->layers; l++) {
        float *block = cache + (size_t)l * c->rows * row;
        for (int r = 0; r < c->rows; r++) memcpy(c->reorder + r * used, block + from[r] * row, sizeof(float) * used);
        for (int r = 0; r < c->rows; r++) memcpy(block + r * row, c->reorder + r * used, sizeof(float) * used);
    }
}

void kv_cache_reorder(kv_cache *c, const int *from) {
    if (c->steps == 0) return;
    gather_rows(c->self_k, c, from);
    gather_rows(c->self_v, c, from);
}

/* Row b of each layer's [inputs, per_row] block becomes rows b·k .. b·k +
 * k - 1 of a [inputs·k, per_row] one, in place. Destination d = l·R + r
 * reads source l·B + r / k <= d: going from the last destination down, a
 * source is read before it is overwritten (only destination d itself
 * overwrites slot d, and every reader of it comes at or above it). */
static void expand_rows(void *base, size_t elem, int layers, int inputs, int k, size_t per_row, size_t used) {
    char *p = base;
    const int rows = inputs * k;
    for (int l = layers - 1; l >= 0; l--)
        for (int r = rows - 1; r >= 0; r--)
            memmove(p + ((size_t)l * rows + r) * per_row * elem, p + ((size_t)l * inputs + r / k) * per_row * elem,
                    used * elem);
}

void kv_cache_expand(kv_cache *c, int per_input) {
    if (per_input == 1) return;
    const int B = c->rows;
    const size_t self_row = (size_t)c->max_steps * c->width, used = (size_t)c->steps * c->width;
    const size_t cross_row = (size_t)c->src_len * c->width;
    expand_rows(c->self_k, sizeof(float), c->layers, B, per_input, self_row, used);
    expand_rows(c->self_v, sizeof(float), c->layers, B, per_input, self_row, used);
    expand_rows(c->cross_k, sizeof(float), c->layers, B, per_input, cross_row, cross_row);
    expand_rows(c->cross_v, sizeof(float), c->layers, B, per_input, cross_row, cross_row);
    expand_rows(c->src_mask, sizeof(int32_t), 1, B, per_input, (size_t)c->src_len, (size_t)c->src_len);
    if (c->self_mask) {
        expand_rows(c->self_mask, sizeof(int32_t), 1, B, per_input, (size_t)c->max_steps, (size_t)c->steps);
        expand_rows(c->seen, sizeof(int32_t), 1, B, per_input, 1, 1);
    }
    c->rows = B * per_input;
}

void kv_cache_positions(const kv_cache *c, const int32_t *mask, int n, int32_t *pos) {
    for (int r = 0; r < c->rows; r++) {
        int32_t next = c->steps == 0 ? 0 : c->seen ? c->seen[r] : c->steps;
        for (int i = 0; i < n; i++) {
            const bool real = !mask || mask[(size_t)r * n + i];
            pos[(size_t)r * n + i] = real ? next++ : 0;
        }
    }
}

/* ---------------------------------------------------------------- load */

void transformer_take_norm(tensor_loader *L, int D, bool bias, norm_params *n, const char *fmt, ...) {
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    n->gamma = loader_take(L, D, -1, "%s.weight", name);
    n->beta = bias ? loader_take(L, D, -1, "%s.bias", name) : NULL;
}

void transformer_take_attention(tensor_loader *L, const transformer_dims *d, bool qkv_bias, bool o_bias,
                                const char *prefix, const char *const proj[4], attention_block *a) {
    const int D = d->d_model, A = width(d), K = transformer_kv_width(d);
    linear *l[4] = {&a->q, &a->k, &a->v, &a->o};
    const int out[4] = {A, K, K, D}, in[4] = {D, D, D, A};
    for (int i = 0; i < 4; i++)
        loader_take_linear(L, out[i], in[i], i < 3 ? qkv_bias : o_bias, l[i], "%s%s", prefix, proj[i]);
}

void transformer_take_ff(tensor_loader *L, const transformer_dims *d, bool bias, const char *in,
                         const char *gate, const char *out, ff_block *f) {
    const int D = d->d_model, F = d->d_ff;
    loader_take_linear(L, F, D, bias, &f->in, "%s", in);
    if (gate) loader_take_linear(L, F, D, false, &f->gate, "%s", gate);
    loader_take_linear(L, D, F, bias, &f->out, "%s", out);
}

/* ------------------------------------------------------------- forward */

elang_status embedding_lookup(float *x, const float *table, int V, int D, const int32_t *ids, long n, float scale,
                              elang_error *err) {
    for (long i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= V)
            return elang_fail(err, ELANG_ERR_INVALID_ARG, "token id %d is outside the vocabulary (%d)", ids[i], V);
        const float *row = table + (long)ids[i] * D;
        for (int j = 0; j < D; j++) x[i * D + j] = row[j] * scale;
    }
    return ELANG_OK;
}

/* ------------------------------------------------------------ prepare */

/* `parts` linears of the same input width as one product whose outputs
 * are theirs side by side (nn.Linear's rows stacked). */
static elang_status fuse(matmul_ctx *mm, const linear *const *parts, int n, linear *out, elang_dtype dtype,
                         elang_error *err) {
    const int in = parts[0]->in;
    int rows = 0;
    for (int i = 0; i < n; i++) rows += parts[i]->out;
    float *w = malloc(sizeof(float) * (size_t)rows * in), *b = parts[0]->b ? malloc(sizeof(float) * (size_t)rows) : NULL;
    if (!w || (parts[0]->b && !b)) {
        free(w), free(b);
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory fusing projections");
    }
    for (int i = 0, at = 0; i < n; at += parts[i++]->out) {
        memcpy(w + (size_t)at * in, parts[i]->w, sizeof(float) * (size_t)parts[i]->out * in);
        if (b) memcpy(b + at, parts[i]->b, sizeof(float) * (size_t)parts[i]->out);
    }
    *out = (linear){.w = w, .b = b, .out = rows, .in = in};
    elang_status st = linear_prepare(mm, out, dtype, err);
    /* The prepared copy is all that runs: the F32 concatenation goes. */
    free(w), free(b);
    out->w = out->b = NULL;
    return st;
}

static elang_status prepare_layer(matmul_ctx *mm, transformer_layer *l, bool decoder, elang_dtype dtype,
                                  elang_error *err) {
    attention_block *sa = &l->self_attn, *ca = &l->cross_attn;
    const linear *qkv[3] = {&sa->q, &sa->k, &sa->v}, *kv[2] = {&ca->k, &ca->v};
    elang_status st = fuse(mm, qkv, 3, &sa->qkv, dtype, err);
    if (st == ELANG_OK) st = linear_prepare(mm, &sa->o, dtype, err);
    if (st == ELANG_OK && decoder) st = linear_prepare(mm, &ca->q, dtype, err);
    if (st == ELANG_OK && decoder) st = fuse(mm, kv, 2, &ca->kv, dtype, err);
    if (st == ELANG_OK && decoder) st = linear_prepare(mm, &ca->o, dtype, err);
    if (st == ELANG_OK) st = linear_prepare(mm, &l->ff.in, dtype, err);
    if (st == ELANG_OK && l->ff.gate.w) st = linear_prepare(mm, &l->ff.gate, dtype, err);
    if (st == ELANG_OK) st = linear_prepare(mm, &l->ff.out, dtype, err);
    return st;
}

/* The layer's loaded weights, once prepared: back to the store. */
static void drop_sources(weight_store *ws, transformer_layer *l) {
    linear *all[] = {&l->self_attn.q, &l->self_attn.k, &l->self_attn.v, &l->self_attn.o, &l->cross_attn.q,
                     &l->cross_attn.k, &l->cross_attn.v, &l->cross_attn.o, &l->ff.in, &l->ff.gate, &l->ff.out};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
        weight_store_drop(ws, all[k]->w);
        weight_store_drop(ws, all[k]->b);
        all[k]->w = all[k]->b = NULL;
    }
}

elang_status transformer_prepare(matmul_ctx *mm, weight_store *ws, transformer_layer *layers, int count,
                                 bool decoder, elang_dtype dtype, elang_error *err) {
    elang_status st = ELANG_OK;
    for (int i = 0; i < count && st == ELANG_OK; i++) {
        st = prepare_layer(mm, &layers[i], decoder, dtype, err);
        if (st == ELANG_OK) drop_sources(ws, &layers[i]);
    }
    return st;
}

void transformer_release(transformer_layer *layers, int count) {
    for (int i = 0; layers && i < count; i++) {
        transformer_layer *l = &layers[i];
        linear *all[] = {&l->self_attn.qkv, &l->self_attn.o, &l->cross_attn.q, &l->cross_attn.kv,
                         &l->cross_attn.o, &l->ff.in, &l->ff.gate, &l->ff.out};
        for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) linear_release(all[k]);
    }
}

/* ------------------------------------------------------------- forward */

/* What a block reads: its normalised copy of x (pre-norm, T5LayerFF and
 * T5LayerSelfAttention) or x itself (post-norm, BertLayer, MarianEncoderLayer). */
static const float *block_in(const transformer_dims *d, const norm_params *n, const float *x, long M,
                             transformer_scratch *s) {
    if (!d->pre_norm) return x;
    memcpy(s->h, x, sizeof(float) * (size_t)M * d->d_model);
    norm_forward(s->h, n, (int)M, d->d_model, d->eps);
    return s->h;
}

/* The residual add is fused into the block's last product (it accumulates
 * into x); what is left is the post-norm. */
static void block_out(const transformer_dims *d, const norm_params *n, float *x, long M) {
    if (!d->pre_norm) norm_forward(x, n, (int)M, d->d_model, d->eps);
}

static const epilogue RESIDUAL = {.accumulate = true};

/* x[M, D] += o(attention(q, k, v)). */
static void attend(const attention_block *w, const float *q, const float *k, const float *v, attention_args *args,
                   float *x, long M, transformer_scratch *s) {
    args->scores = s->scores;
    attention_forward(s->mm, s->ctx, q, k, v, args);
    linear_forward(s->mm, x, s->ctx, &w->o, (int)M, &RESIDUAL);
}

/* x[M, D] += out(act(in x) [· gate x]): BertIntermediate + BertOutput,
 * T5DenseActDense, T5DenseGatedActDense, Marian's fc1/fc2. */
static void ff_sublayer(const transformer_dims *d, const ff_block *f, float *x, long M, transformer_scratch *s) {
    const float *in = block_in(d, &f->norm, x, M, s);
    const epilogue act = {.activate = true, .act = d->act};
    linear_forward(s->mm, s->ff, in, &f->in, (int)M, &act);
    const float *hidden = s->ff;
    if (f->gate.prepared) {
        const epilogue gate = {.multiply = s->ff};
        linear_forward(s->mm, s->gate, in, &f->gate, (int)M, &gate);
        hidden = s->gate;
    }
    linear_forward(s->mm, x, hidden, &f->out, (int)M, &RESIDUAL);
    block_out(d, &f->norm, x, M);
}

/* x[B·S, D] := one encoder layer applied to x. */
static void encoder_layer_forward(const transformer_dims *d, const transformer_layer *l, float *x,
                                  const int32_t *mask, const float *bias, int B, int S, transformer_scratch *s) {
    const long N = (long)B * S;
    const int A = width(d), K = transformer_kv_width(d), W = A + 2 * K;
    const attention_block *w = &l->self_attn;
    linear_forward(s->mm, s->qkv, block_in(d, &w->norm, x, N, s), &w->qkv, (int)N, NULL);
    attention_args args = {
        .batch = B, .q_len = S, .kv_len = S, .num_heads = d->heads, .kv_heads = d->kv_heads,
        .head_dim = d->head_dim, .scale = d->scale, .q_row_stride = W, .kv_row_stride = W, .out_row_stride = A,
        .kv_batch_stride = (long)S * W, .position_bias = bias, .key_mask = mask,
    };
    attend(w, s->qkv, s->qkv + A, s->qkv + A + K, &args, x, N, s);
    block_out(d, &w->norm, x, N);
    ff_sublayer(d, &l->ff, x, N, s);
}

void transformer_encoder_forward(const transformer_dims *d, const transformer_layer *layers, int count,
                                 float *x, const int32_t *mask, const float *bias, int B, int S,
                                 transformer_scratch *s) {
    for (int l = 0; l < count; l++) encoder_layer_forward(d, &layers[l], x, mask, bias, B, S, s);
}

/* Cross-attention keys and values of decoder layer `layer` for every row:
 * one product over the source, copied to each of its input's rows. */
static void cross_start(const attention_block *a, int layer, const float *enc_out, int B, kv_cache *c,
                        transformer_scratch *s) {
    const int S = c->src_len, K = c->width, per_input = c->rows / B;
    linear_forward(s->mm, s->qkv, enc_out, &a->kv, B * S, NULL);
    const size_t block = (size_t)c->rows * S * K;
    float *k = c->cross_k + (size_t)layer * block, *v = c->cross_v + (size_t)layer * block;
    for (int r = 0; r < c->rows; r++)
        for (int j = 0; j < S; j++) {
            const float *kv = s->qkv + ((size_t)(r / per_input) * S + j) * 2 * K;
            memcpy(k + ((size_t)r * S + j) * K, kv, sizeof(float) * K);
            memcpy(v + ((size_t)r * S + j) * K, kv + K, sizeof(float) * K);
        }
}

/* A cache carved for another model would be read and written out of its
 * bounds: refuse it. */
static elang_status check_cache(const transformer_dims *d, int count, const kv_cache *c, elang_error *err) {
    if (c->layers != count || c->width != transformer_kv_width(d))
        return elang_fail(err, ELANG_ERR_INVALID_ARG,
                          "decoder cache of %d layers x %d was made for another model (%d x %d)", c->layers,
                          c->width, count, transformer_kv_width(d));
    return ELANG_OK;
}

elang_status transformer_decoder_start(const transformer_dims *d, const transformer_layer *layers, int count,
                                       const float *enc_out, int B, kv_cache *c, transformer_scratch *s,
                                       elang_error *err) {
    elang_status st = check_cache(d, count, c, err);
    if (st != ELANG_OK) return st;
    for (int l = 0; l < count; l++) cross_start(&layers[l].cross_attn, l, enc_out, B, c, s);
    c->steps = 0;
    return ELANG_OK;
}

/* The new tokens' queries and keys turned to their positions (rotary
 * embeddings; LlamaAttention applies them after the projections, before
 * the keys join the cache). */
static void rotate(const transformer_dims *d, float *qkv, long M, const int32_t *pos) {
    const int A = width(d), K = transformer_kv_width(d), W = A + 2 * K;
#pragma omp parallel for if (M * W > 65536)
    for (long i = 0; i < M; i++) {
        rope_apply(d->rope, qkv + i * W, d->heads, pos[i]);
        rope_apply(d->rope, qkv + i * W + A, K / d->head_dim, pos[i]);
    }
}

/* Self-attention of n new tokens per row over the cache, themselves
 * included (transformers concatenates past and present keys the same
 * way); a new token sees the ones before it, not those after. */
static void self_attention_step(const transformer_dims *d, const attention_block *w, int layer, float *x, int n,
                                const int32_t *pos, kv_cache *c, const float *bias, transformer_scratch *s) {
    const int A = width(d), K = c->width, W = A + 2 * K, R = c->rows, T = c->steps;
    const long M = (long)R * n;
    linear_forward(s->mm, s->qkv, block_in(d, &w->norm, x, M, s), &w->qkv, (int)M, NULL);
    if (d->rope) rotate(d, s->qkv, M, pos);
    const size_t row = (size_t)c->max_steps * K;
    float *k = c->self_k + (size_t)layer * R * row, *v = c->self_v + (size_t)layer * R * row;
    for (int r = 0; r < R; r++)
        for (int i = 0; i < n; i++) {
            const float *src = s->qkv + ((size_t)r * n + i) * W;
            memcpy(k + r * row + (size_t)(T + i) * K, src + A, sizeof(float) * K);
            memcpy(v + r * row + (size_t)(T + i) * K, src + A + K, sizeof(float) * K);
        }
    attention_args args = {
        .batch = R, .q_len = n, .kv_len = T + n, .num_heads = d->heads, .kv_heads = d->kv_heads,
        .head_dim = d->head_dim, .scale = d->scale, .q_row_stride = W, .kv_row_stride = K, .out_row_stride = A,
        .kv_batch_stride = (long)row, .position_bias = bias, .causal = true, .key_mask = c->self_mask,
        .mask_row_stride = c->max_steps,
    };
    attend(w, s->qkv, k, v, &args, x, M, s);
    block_out(d, &w->norm, x, M);
}

/* Cross-attention over the source, padding masked out. */
static void cross_attention_step(const transformer_dims *d, const attention_block *w, int layer, float *x,
                                 kv_cache *c, transformer_scratch *s) {
    const int A = width(d), K = c->width, R = c->rows, S = c->src_len;
    linear_forward(s->mm, s->qkv, block_in(d, &w->norm, x, R, s), &w->q, R, NULL);
    const size_t block = (size_t)R * S * K;
    attention_args args = {
        .batch = R, .q_len = 1, .kv_len = S, .num_heads = d->heads, .kv_heads = d->kv_heads,
        .head_dim = d->head_dim, .scale = d->scale, .q_row_stride = A, .kv_row_stride = K, .out_row_stride = A,
        .kv_batch_stride = (long)S * K, .key_mask = c->src_mask,
    };
    attend(w, s->qkv, c->cross_k + (size_t)layer * block, c->cross_v + (size_t)layer * block, &args, x, R, s);
    block_out(d, &w->norm, x, R);
}

/* x[R·n, D] := decoder layer `layer` applied to the new tokens of every
 * row; only an encoder-decoder's layers (their cross-attention prepared)
 * look at the source. */
static void decoder_layer_step(const transformer_dims *d, const transformer_layer *l, int layer, float *x, int n,
                               const int32_t *pos, kv_cache *c, const float *bias, transformer_scratch *s) {
    self_attention_step(d, &l->self_attn, layer, x, n, pos, c, bias, s);
    if (l->cross_attn.q.prepared) cross_attention_step(d, &l->cross_attn, layer, x, c, s);
    ff_sublayer(d, &l->ff, x, (long)c->rows * n, s);
}

/* Marks the n new slots of each row of a decoder-only cache as real or
 * padding and counts the real ones (their positions come from `seen`). */
static void admit(kv_cache *c, int n, const int32_t *mask) {
    if (!c->self_mask) return;
    for (int r = 0; r < c->rows; r++)
        for (int i = 0; i < n; i++) {
            const int32_t real = !mask || mask[(size_t)r * n + i];
            c->self_mask[(size_t)r * c->max_steps + c->steps + i] = real;
            c->seen[r] += real;
        }
}

elang_status transformer_decoder_step(const transformer_dims *d, const transformer_layer *layers, int count,
                                      float *x, int n, const int32_t *mask, const int32_t *pos, kv_cache *c,
                                      const float *bias, transformer_scratch *s, elang_error *err) {
    elang_status st = check_cache(d, count, c, err);
    if (st != ELANG_OK) return st;
    if (n < 1 || c->steps + n > c->max_steps)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "the decoder cache is full: it holds %d steps, %d more do not fit after %d",
                          c->max_steps, n, c->steps);
    if (d->rope && !pos)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "rotary embeddings need the new tokens' positions");
    if (c->self_mask && c->steps == 0) memset(c->seen, 0, sizeof(int32_t) * (size_t)c->rows);
    admit(c, n, mask);
    for (int l = 0; l < count; l++) decoder_layer_step(d, &layers[l], l, x, n, pos, c, bias, s);
    c->steps += n;
    return ELANG_OK;
}
