#include "models/seq2seq_layers.h"

#include <stdlib.h>
#include <string.h>

#include "core/attention.h"
#include "util/error.h"

static int width(const seq2seq_dims *d) { return d->heads * d->head_dim; }

/* Buffers for one pass over M rows (N encoder tokens, or R decoder rows). */
typedef struct {
    float *h;         /* [M, D] a pre-norm block's normalised input */
    float *q, *k, *v; /* [M, A] */
    float *ctx;       /* [M, A] attention output before its projection */
    float *proj;      /* [M, D] a block's output, added to the residual */
    float *ff, *gate; /* [M, F] */
} layer_scratch;

static elang_status scratch_init(layer_scratch *s, const seq2seq_dims *d, long M, elang_error *err) {
    const size_t D = (size_t)d->d_model, A = (size_t)width(d), F = (size_t)d->d_ff;
    float *arena = malloc(sizeof(float) * (size_t)M * (2 * D + 4 * A + 2 * F));
    if (!arena) {
        memset(s, 0, sizeof *s);
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for %ld rows of activations", M);
    }
    s->h = arena;
    s->proj = s->h + M * D;
    s->q = s->proj + M * D;
    s->k = s->q + M * A;
    s->v = s->k + M * A;
    s->ctx = s->v + M * A;
    s->ff = s->ctx + M * A;
    s->gate = s->ff + M * F;
    return ELANG_OK;
}

static void scratch_free(layer_scratch *s) {
    free(s->h); /* the arena starts there */
    memset(s, 0, sizeof *s);
}

/* ---------------------------------------------------------------- load */

void seq2seq_take_norm(tensor_loader *L, int D, bool bias, const char *name, seq2seq_norm *n) {
    n->gamma = loader_take(L, D, -1, "%s.weight", name);
    n->beta = bias ? loader_take(L, D, -1, "%s.bias", name) : NULL;
}

void seq2seq_take_attention(tensor_loader *L, const seq2seq_dims *d, bool bias, const char *prefix,
                            const char *const proj[4], seq2seq_attention *a) {
    const int D = d->d_model, A = width(d);
    const float **w[4] = {&a->q_w, &a->k_w, &a->v_w, &a->o_w};
    const float **b[4] = {&a->q_b, &a->k_b, &a->v_b, &a->o_b};
    for (int i = 0; i < 4; i++) {
        const int out = i < 3 ? A : D, in = i < 3 ? D : A;
        *w[i] = loader_take(L, out, in, "%s%s.weight", prefix, proj[i]);
        *b[i] = bias ? loader_take(L, out, -1, "%s%s.bias", prefix, proj[i]) : NULL;
    }
}

void seq2seq_take_ff(tensor_loader *L, const seq2seq_dims *d, bool bias, const char *in,
                     const char *gate, const char *out, seq2seq_ff *f) {
    const int D = d->d_model, F = d->d_ff;
    f->in_w = loader_take(L, F, D, "%s.weight", in);
    f->in_b = bias ? loader_take(L, F, -1, "%s.bias", in) : NULL;
    f->gate_w = gate ? loader_take(L, F, D, "%s.weight", gate) : NULL;
    f->out_w = loader_take(L, D, F, "%s.weight", out);
    f->out_b = bias ? loader_take(L, D, -1, "%s.bias", out) : NULL;
}

/* ------------------------------------------------------------- forward */

elang_status seq2seq_embed(float *x, const float *table, int V, int D, const int32_t *ids, long n,
                           float scale, elang_error *err) {
    for (long i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= V)
            return elang_fail(err, ELANG_ERR_INVALID_ARG, "token id %d is outside the vocabulary (%d)",
                              ids[i], V);
        const float *row = table + (long)ids[i] * D;
        for (int j = 0; j < D; j++) x[i * D + j] = row[j] * scale;
    }
    return ELANG_OK;
}

static void norm_forward(const seq2seq_dims *d, const seq2seq_norm *n, float *x, long M) {
    if (n->beta) layer_norm_forward(x, n->gamma, n->beta, (int)M, d->d_model, d->eps);
    else rms_norm_forward(x, n->gamma, (int)M, d->d_model, d->eps);
}

/* What a block reads: its normalised copy of x (pre-norm, T5LayerFF and
 * T5LayerSelfAttention) or x itself (post-norm, MarianEncoderLayer). */
static const float *block_in(const seq2seq_dims *d, const seq2seq_norm *n, const float *x, long M,
                             layer_scratch *s) {
    if (!d->pre_norm) return x;
    memcpy(s->h, x, sizeof(float) * (size_t)M * d->d_model);
    norm_forward(d, n, s->h, M);
    return s->h;
}

/* The residual add of the block's output s->proj, then the post-norm. */
static void block_out(const seq2seq_dims *d, const seq2seq_norm *n, float *x, long M,
                      const layer_scratch *s) {
    add_inplace(x, s->proj, M * d->d_model);
    if (!d->pre_norm) norm_forward(d, n, x, M);
}

/* s->proj[M, D] = out_proj(attention(q, k, v)). */
static elang_status attend(const seq2seq_dims *d, const seq2seq_attention *w, const float *q,
                           const float *k, const float *v, const attention_args *args, long M,
                           layer_scratch *s) {
    elang_status st = attention_forward(s->ctx, q, k, v, args);
    if (st != ELANG_OK) return st;
    linear_forward(s->proj, s->ctx, w->o_w, w->o_b, (int)M, width(d), d->d_model);
    return ELANG_OK;
}

/* s->proj[M, D] = out(act(in x) [· gate x]): T5DenseActDense,
 * T5DenseGatedActDense, Marian's fc1/fc2. */
static void ff_forward(const seq2seq_dims *d, const seq2seq_ff *f, const float *in, long M,
                       layer_scratch *s) {
    const int D = d->d_model, F = d->d_ff;
    linear_forward(s->ff, in, f->in_w, f->in_b, (int)M, D, F);
    activation_forward(s->ff, M * F, d->act);
    if (f->gate_w) {
        linear_forward(s->gate, in, f->gate_w, NULL, (int)M, D, F);
        mul_inplace(s->ff, s->gate, M * F);
    }
    linear_forward(s->proj, s->ff, f->out_w, f->out_b, (int)M, F, D);
}

static void ff_block(const seq2seq_dims *d, const seq2seq_ff *f, float *x, long M, layer_scratch *s) {
    ff_forward(d, f, block_in(d, &f->norm, x, M, s), M, s);
    block_out(d, &f->norm, x, M, s);
}

/* x[B·S, D] := one encoder layer applied to x. */
static elang_status encoder_layer_forward(const seq2seq_dims *d, const seq2seq_layer *l, float *x,
                                          const int32_t *mask, const float *bias, int B, int S,
                                          layer_scratch *s) {
    const long N = (long)B * S;
    const int D = d->d_model, A = width(d);
    const seq2seq_attention *w = &l->self_attn;
    const float *in = block_in(d, &w->norm, x, N, s);
    linear_forward(s->q, in, w->q_w, w->q_b, (int)N, D, A);
    linear_forward(s->k, in, w->k_w, w->k_b, (int)N, D, A);
    linear_forward(s->v, in, w->v_w, w->v_b, (int)N, D, A);
    const attention_args args = {
        .batch = B, .q_len = S, .kv_len = S, .num_heads = d->heads, .head_dim = d->head_dim,
        .scale = d->scale, .q_row_stride = A, .kv_row_stride = A, .out_row_stride = A,
        .kv_batch_stride = (long)S * A, .position_bias = bias, .key_mask = mask,
    };
    elang_status st = attend(d, w, s->q, s->k, s->v, &args, N, s);
    if (st != ELANG_OK) return st;
    block_out(d, &w->norm, x, N, s);
    ff_block(d, &l->ff, x, N, s);
    return ELANG_OK;
}

/* Cross-attention keys and values of decoder layer `layer` for every row. */
static void cross_start(const seq2seq_dims *d, const seq2seq_attention *a, int layer,
                        const float *enc_out, int B, seq2seq_cache *c, layer_scratch *s) {
    const int D = d->d_model, A = width(d), S = c->src_len, per_input = c->rows / B;
    const size_t row = (size_t)S * A;
    linear_forward(s->k, enc_out, a->k_w, a->k_b, B * S, D, A);
    linear_forward(s->v, enc_out, a->v_w, a->v_b, B * S, D, A);
    float *k = c->cross_k + (size_t)layer * c->rows * row, *v = c->cross_v + (size_t)layer * c->rows * row;
    for (int r = 0; r < c->rows; r++) {
        memcpy(k + r * row, s->k + (size_t)(r / per_input) * row, sizeof(float) * row);
        memcpy(v + r * row, s->v + (size_t)(r / per_input) * row, sizeof(float) * row);
    }
}

/* Self-attention of the new token over the cache, itself included
 * (transformers concatenates past and present keys the same way). */
static elang_status self_attention_step(const seq2seq_dims *d, const seq2seq_attention *w, int layer,
                                        const float *in, seq2seq_cache *c, const float *bias,
                                        layer_scratch *s) {
    const int D = d->d_model, A = width(d), R = c->rows, T = c->steps;
    linear_forward(s->q, in, w->q_w, w->q_b, R, D, A);
    linear_forward(s->k, in, w->k_w, w->k_b, R, D, A);
    linear_forward(s->v, in, w->v_w, w->v_b, R, D, A);
    const size_t row = (size_t)c->max_steps * A;
    float *k = c->self_k + (size_t)layer * R * row, *v = c->self_v + (size_t)layer * R * row;
    for (int r = 0; r < R; r++) {
        memcpy(k + r * row + (size_t)T * A, s->k + (size_t)r * A, sizeof(float) * A);
        memcpy(v + r * row + (size_t)T * A, s->v + (size_t)r * A, sizeof(float) * A);
    }
    const attention_args args = {
        .batch = R, .q_len = 1, .kv_len = T + 1, .num_heads = d->heads, .head_dim = d->head_dim,
        .scale = d->scale, .q_row_stride = A, .kv_row_stride = A, .out_row_stride = A,
        .kv_batch_stride = (long)row, .position_bias = bias, .causal = true,
    };
    return attend(d, w, s->q, k, v, &args, R, s);
}

/* Cross-attention over the source, padding masked out. */
static elang_status cross_attention_step(const seq2seq_dims *d, const seq2seq_attention *w, int layer,
                                         const float *in, seq2seq_cache *c, layer_scratch *s) {
    const int D = d->d_model, A = width(d), R = c->rows, S = c->src_len;
    linear_forward(s->q, in, w->q_w, w->q_b, R, D, A);
    const size_t row = (size_t)S * A;
    const attention_args args = {
        .batch = R, .q_len = 1, .kv_len = S, .num_heads = d->heads, .head_dim = d->head_dim,
        .scale = d->scale, .q_row_stride = A, .kv_row_stride = A, .out_row_stride = A,
        .kv_batch_stride = (long)row, .key_mask = c->src_mask,
    };
    return attend(d, w, s->q, c->cross_k + (size_t)layer * R * row, c->cross_v + (size_t)layer * R * row,
                  &args, R, s);
}

/* x[R, D] := decoder layer `layer` applied to the new token of every row. */
static elang_status decoder_layer_step(const seq2seq_dims *d, const seq2seq_layer *l, int layer,
                                       float *x, seq2seq_cache *c, const float *bias,
                                       layer_scratch *s) {
    const long R = c->rows;
    elang_status st = self_attention_step(d, &l->self_attn, layer,
                                          block_in(d, &l->self_attn.norm, x, R, s), c, bias, s);
    if (st != ELANG_OK) return st;
    block_out(d, &l->self_attn.norm, x, R, s);
    st = cross_attention_step(d, &l->cross_attn, layer, block_in(d, &l->cross_attn.norm, x, R, s), c, s);
    if (st != ELANG_OK) return st;
    block_out(d, &l->cross_attn.norm, x, R, s);
    ff_block(d, &l->ff, x, R, s);
    return ELANG_OK;
}

/* ------------------------------------------------------------- stacks */

static elang_status out_of_memory(elang_status st, elang_error *err, const char *where) {
    if (st == ELANG_ERR_NOMEM) return elang_fail(err, st, "out of memory in the %s attention", where);
    return st;
}

elang_status seq2seq_encoder_forward(const seq2seq_dims *d, const seq2seq_layer *layers, int count,
                                     float *x, const int32_t *mask, const float *bias, int B, int S,
                                     elang_error *err) {
    layer_scratch s;
    elang_status st = scratch_init(&s, d, (long)B * S, err);
    for (int l = 0; l < count && st == ELANG_OK; l++)
        st = out_of_memory(encoder_layer_forward(d, &layers[l], x, mask, bias, B, S, &s), err, "encoder");
    scratch_free(&s);
    return st;
}

static elang_status check_cache(const seq2seq_dims *d, int count, const seq2seq_cache *c,
                                elang_error *err) {
    if (c->layers != count || c->width != width(d))
        return elang_fail(err, ELANG_ERR_INVALID_ARG,
                          "decoder cache of %d layers x %d was made for another model (%d x %d)",
                          c->layers, c->width, count, width(d));
    return ELANG_OK;
}

elang_status seq2seq_decoder_start(const seq2seq_dims *d, const seq2seq_layer *layers, int count,
                                   const float *enc_out, int B, seq2seq_cache *c, elang_error *err) {
    elang_status st = check_cache(d, count, c, err);
    if (st == ELANG_OK && (B <= 0 || c->rows % B != 0))
        st = elang_fail(err, ELANG_ERR_INVALID_ARG, "%d decoder rows cannot be split among %d inputs",
                        c->rows, B);
    layer_scratch s;
    if (st == ELANG_OK) st = scratch_init(&s, d, (long)B * c->src_len, err);
    if (st != ELANG_OK) return st;
    for (int l = 0; l < count; l++) cross_start(d, &layers[l].cross_attn, l, enc_out, B, c, &s);
    scratch_free(&s);
    c->steps = 0;
    return ELANG_OK;
}

elang_status seq2seq_decoder_step(const seq2seq_dims *d, const seq2seq_layer *layers, int count,
                                  float *x, seq2seq_cache *c, const float *bias, elang_error *err) {
    elang_status st = check_cache(d, count, c, err);
    if (st == ELANG_OK && c->steps >= c->max_steps)
        st = elang_fail(err, ELANG_ERR_INVALID_ARG, "the decoder cache is full (%d steps)", c->max_steps);
    layer_scratch s;
    if (st == ELANG_OK) st = scratch_init(&s, d, c->rows, err);
    if (st != ELANG_OK) return st;
    for (int l = 0; l < count && st == ELANG_OK; l++)
        st = out_of_memory(decoder_layer_step(d, &layers[l], l, x, c, bias, &s), err, "decoder");
    scratch_free(&s);
    if (st == ELANG_OK) c->steps++;
    return st;
}
