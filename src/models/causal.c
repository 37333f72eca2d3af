#include "models/causal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/loader.h"
#include "util/error.h"

/* ------------------------------------------------------------ forward */

static void causal_carve(const void *net, arena *a, seq2seq_run *run) {
    const causal_model *m = net;
    const transformer_dims *d = &m->dims;
    const long tokens = (long)run->B * run->S, rows = run->R > tokens ? run->R : tokens;
    const int capacity = run->S + run->max_steps;
    /* The prefill's scores: B·heads·S·S; a step's: R·heads·capacity. */
    const long prefill = tokens * d->heads * run->S, step = (long)run->R * d->heads * capacity;
    run->enc_out = NULL;
    run->enc_bias = run->dec_bias = NULL;
    run->start_tokens = NULL;
    run->x = arena_take(a, sizeof(float) * (size_t)rows * d->d_model);
    run->pos = arena_take(a, sizeof(int32_t) * (size_t)rows);
    run->last = arena_take(a, sizeof(float) * (size_t)run->B * d->d_model);
    kv_cache_carve(a, m->count, run->R, transformer_kv_width(d), 0, capacity, &run->cache);
    transformer_scratch_carve(a, m->mm, d, rows, prefill > step ? prefill : step, &run->dec);
}

/* x[n, D] = embed[ids] (+ GPT-2's wpe[pos]). A position beyond the
 * model's is ELANG_ERR_INVALID_ARG: GPT-2 has no row for it, and Llama was
 * not trained for it. */
static elang_status embed(const causal_model *m, const int32_t *ids, const int32_t *pos, long n, float *x,
                          elang_error *err) {
    const int D = m->dims.d_model;
    for (long i = 0; i < n; i++)
        if (pos[i] >= m->max_positions)
            return elang_fail(err, ELANG_ERR_INVALID_ARG, "position %d is beyond the model's %d positions", pos[i],
                              m->max_positions);
    elang_status st = embedding_lookup(x, m->embed, m->vocab_size, D, ids, n, 1.0f, err);
    if (st != ELANG_OK || !m->positions) return st;
    for (long i = 0; i < n; i++) add_inplace(x + i * D, m->positions + (size_t)pos[i] * D, D);
    return ELANG_OK;
}

/* run->x[B·S, D] := the prompts ids[B, S] through every layer (before the
 * final norm), their keys and values in the cache, laid out for B rows. */
static elang_status read_prompts(const causal_model *m, seq2seq_run *run, const int32_t *ids, const int32_t *mask,
                                 elang_error *err) {
    kv_cache *c = &run->cache;
    const int B = run->B, S = run->S;
    c->rows = B;
    c->steps = 0;
    kv_cache_positions(c, mask, S, run->pos);
    elang_status st = embed(m, ids, run->pos, (long)B * S, run->x, err);
    if (st == ELANG_OK)
        st = transformer_decoder_step(&m->dims, m->layers, m->count, run->x, S, mask, run->pos, c, NULL, &run->dec,
                                      err);
    return st;
}

/* logits[M, V] = lm_head(norm(x[M, D])), x normalised in place. */
static elang_status head(const causal_model *m, float *x, long M, float *logits, elang_error *err) {
    norm_forward(x, &m->final, (int)M, m->dims.d_model, m->dims.eps);
    linear_forward(m->mm, logits, x, &m->lm_head, (int)M, NULL);
    return matmul_status(m->mm, err);
}

static elang_status causal_prefill(const void *net, seq2seq_run *run, const int32_t *ids, const int32_t *mask,
                                   float *logits, elang_error *err) {
    const causal_model *m = net;
    const int B = run->B, S = run->S, K = run->R / B, D = m->dims.d_model, V = m->vocab_size;
    elang_status st = read_prompts(m, run, ids, mask, err);
    if (st != ELANG_OK) return st;
    /* Left-padded, every prompt ends at position S - 1. */
    for (int b = 0; b < B; b++)
        memcpy(run->last + (size_t)b * D, run->x + ((size_t)b * S + S - 1) * D, sizeof(float) * D);
    if ((st = head(m, run->last, B, logits, err)) != ELANG_OK) return st;
    /* Beam search: each input's K rows start alike (row r = input r / K;
     * copied from the last row down, a source is read before it is
     * overwritten). */
    for (int r = run->R - 1; r >= 0 && K > 1; r--)
        memmove(logits + (size_t)r * V, logits + (size_t)(r / K) * V, sizeof(float) * V);
    kv_cache_expand(&run->cache, K);
    return ELANG_OK;
}

static elang_status causal_step(const void *net, seq2seq_run *run, const int32_t *tokens, float *logits,
                                elang_error *err) {
    const causal_model *m = net;
    kv_cache *c = &run->cache;
    const int R = c->rows;
    kv_cache_positions(c, NULL, 1, run->pos);
    elang_status st = embed(m, tokens, run->pos, R, run->x, err);
    if (st == ELANG_OK)
        st = transformer_decoder_step(&m->dims, m->layers, m->count, run->x, 1, NULL, run->pos, c, NULL, &run->dec,
                                      err);
    return st == ELANG_OK ? head(m, run->x, R, logits, err) : st;
}

static void causal_free(void *net) {
    causal_model *m = net;
    if (!m) return;
    transformer_release(m->layers, m->count);
    linear_release(&m->lm_head);
    rope_table_free(&m->rope);
    free(m->transposed);
    free(m->layers);
    free(m);
}

static const seq2seq_ops CAUSAL_OPS = {.carve = causal_carve, .prefill = causal_prefill, .step = causal_step,
                                       .free = causal_free};

elang_status causal_prompt_logits(const seq2seq_model *m, arena *a, const int32_t *ids, const int32_t *mask, int B,
                                  int S, float *logits, elang_error *err) {
    if (m->ops != &CAUSAL_OPS)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "prompt logits are for decoder-only models");
    seq2seq_run run;
    elang_status st = seq2seq_run_alloc(m, a, B, 1, S, 1, mask, &run, err);
    if (st == ELANG_OK) st = read_prompts(m->net, &run, ids, mask, err);
    return st == ELANG_OK ? head(m->net, run.x, (long)B * S, logits, err) : st;
}

/* --------------------------------------------------------------- load */

/* GPT-2's Conv1D: weight [in, out] (x · W + b), stored transposed from
 * nn.Linear's [out, in]. Taken, then written as [out, in] at *at, which
 * advances past it. */
static const float *take_conv1d(tensor_loader *L, int in, int out, float **at, const char *name) {
    const float *w = loader_take(L, in, out, "%s.weight", name);
    if (!w) return NULL;
    float *t = *at;
    for (int i = 0; i < in; i++)
        for (int o = 0; o < out; o++) t[(size_t)o * in + i] = w[(size_t)i * out + o];
    weight_store_drop(L->ws, w);
    *at += (size_t)in * out;
    return t;
}

/* transformer.h.i of GPT2LMHeadModel (h.i of GPT2Model): ln_1, attn.c_attn
 * (q, k and v side by side: split into the three), attn.c_proj, ln_2,
 * mlp.c_fc, mlp.c_proj. */
static void take_gpt2_layer(tensor_loader *L, const transformer_dims *d, int i, float **at, transformer_layer *l) {
    const int D = d->d_model, F = d->d_ff;
    char p[64], name[96];
    snprintf(p, sizeof p, "h.%d.", i);
    transformer_take_norm(L, D, true, &l->self_attn.norm, "%sln_1", p);
    snprintf(name, sizeof name, "%sattn.c_attn", p);
    const float *w = take_conv1d(L, D, 3 * D, at, name);
    const float *b = loader_take(L, 3 * D, -1, "%s.bias", name);
    linear *qkv[3] = {&l->self_attn.q, &l->self_attn.k, &l->self_attn.v};
    for (int k = 0; k < 3; k++)
        *qkv[k] = (linear){.w = w ? w + (size_t)k * D * D : NULL, .b = b ? b + (size_t)k * D : NULL, .out = D, .in = D};
    const struct { linear *l; int in, out; const char *name; } conv[] = {
        {&l->self_attn.o, D, D, "attn.c_proj"}, {&l->ff.in, D, F, "mlp.c_fc"}, {&l->ff.out, F, D, "mlp.c_proj"}};
    for (size_t k = 0; k < sizeof conv / sizeof conv[0]; k++) {
        snprintf(name, sizeof name, "%s%s", p, conv[k].name);
        *conv[k].l = (linear){.out = conv[k].out, .in = conv[k].in};
        conv[k].l->w = take_conv1d(L, conv[k].in, conv[k].out, at, name);
        conv[k].l->b = loader_take(L, conv[k].out, -1, "%s.bias", name);
    }
    transformer_take_norm(L, D, true, &l->ff.norm, "%sln_2", p);
    /* The causal mask buffers of older checkpoints; transformers ignores them. */
    char buf[128];
    snprintf(buf, sizeof buf, "%s%sattn.bias", L->prefix, p);
    weight_store_ignore(L->ws, buf);
    snprintf(buf, sizeof buf, "%s%sattn.masked_bias", L->prefix, p);
    weight_store_ignore(L->ws, buf);
}

static void take_gpt2(tensor_loader *L, causal_model *m, const model_config *cfg) {
    const int D = m->dims.d_model, F = m->dims.d_ff;
    /* GPT2LMHeadModel saves its base model under "transformer."; the
     * original checkpoints are GPT2Model's, bare. */
    L->prefix = weight_store_find(L->ws, "transformer.wte.weight") ? "transformer." : "";
    const size_t per_layer = (size_t)4 * D * D + 2 * (size_t)D * F;
    m->transposed = malloc(sizeof(float) * per_layer * (size_t)m->count);
    if (!m->transposed) {
        L->status = elang_fail(L->err, ELANG_ERR_NOMEM, "out of memory loading GPT-2");
        return;
    }
    char wte[64];
    snprintf(wte, sizeof wte, "%swte.weight", L->prefix);
    const char *const embed_names[] = {wte, cfg->lm.tie_word_embeddings ? "lm_head.weight" : NULL, NULL};
    m->embed = loader_take_tied(L, m->vocab_size, D, embed_names);
    m->positions = loader_take(L, m->max_positions, D, "wpe.weight");
    float *at = m->transposed;
    for (int i = 0; i < m->count; i++) take_gpt2_layer(L, &m->dims, i, &at, &m->layers[i]);
    transformer_take_norm(L, D, true, &m->final, "ln_f");
}

static const char *const LLAMA_PROJ[4] = {"q_proj", "k_proj", "v_proj", "o_proj"};

/* model.layers.i: input_layernorm, self_attn, post_attention_layernorm, mlp. */
static void take_llama_layer(tensor_loader *L, const transformer_dims *d, const causal_config *c, int i,
                             transformer_layer *l) {
    char p[64], in[96], gate[96], out[96];
    snprintf(p, sizeof p, "layers.%d.", i);
    transformer_take_norm(L, d->d_model, false, &l->self_attn.norm, "%sinput_layernorm", p);
    snprintf(in, sizeof in, "%sself_attn.", p);
    transformer_take_attention(L, d, c->qkv_bias, c->o_bias, in, LLAMA_PROJ, &l->self_attn);
    /* SwiGLU: the activated product is gate_proj, the one multiplying it up_proj. */
    snprintf(in, sizeof in, "%smlp.gate_proj", p);
    snprintf(gate, sizeof gate, "%smlp.up_proj", p);
    snprintf(out, sizeof out, "%smlp.down_proj", p);
    transformer_take_ff(L, d, c->mlp_bias, in, gate, out, &l->ff);
    transformer_take_norm(L, d->d_model, false, &l->ff.norm, "%spost_attention_layernorm", p);
    /* Older checkpoints store the rotary inverse frequencies; transformers
     * computes them. */
    char buf[128];
    snprintf(buf, sizeof buf, "model.%sself_attn.rotary_emb.inv_freq", p);
    weight_store_ignore(L->ws, buf);
}

static void take_llama(tensor_loader *L, causal_model *m, const model_config *cfg) {
    const int D = m->dims.d_model;
    L->prefix = "model.";
    const char *const embed_names[] = {"model.embed_tokens.weight",
                                       cfg->lm.tie_word_embeddings ? "lm_head.weight" : NULL, NULL};
    m->embed = loader_take_tied(L, m->vocab_size, D, embed_names);
    for (int i = 0; i < m->count; i++) take_llama_layer(L, &m->dims, &cfg->lm, i, &m->layers[i]);
    transformer_take_norm(L, D, false, &m->final, "norm");
}

elang_status causal_load(weight_store *ws, model_config *cfg, matmul_ctx *mm, elang_dtype dtype, seq2seq_model *out,
                         elang_error *err) {
    memset(out, 0, sizeof *out);
    const causal_config *c = &cfg->lm;
    causal_model *m = calloc(1, sizeof *m);
    if (m) m->layers = calloc((size_t)cfg->num_layers, sizeof *m->layers);
    if (!m || !m->layers) {
        causal_free(m);
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading %s", cfg->model_type);
    }
    m->mm = mm;
    m->count = cfg->num_layers;
    m->vocab_size = cfg->vocab_size;
    m->max_positions = cfg->max_position_embeddings;
    m->dims = (transformer_dims){
        .d_model = cfg->hidden_size, .heads = cfg->num_heads, .head_dim = c->head_dim, .d_ff = cfg->intermediate_size,
        .kv_heads = c->kv_heads, .scale = (float)(1.0 / sqrt((double)c->head_dim)), .pre_norm = true,
        .eps = cfg->layer_norm_eps, .act = cfg->hidden_act,
    };
    tensor_loader L = {ws, "", err, ELANG_OK};
    if (strcmp(cfg->model_type, "gpt2") == 0) take_gpt2(&L, m, cfg);
    else take_llama(&L, m, cfg);
    m->lm_head = (linear){.out = m->vocab_size, .in = m->dims.d_model};
    m->lm_head.w = c->tie_word_embeddings ? m->embed : loader_take_bare(&L, m->vocab_size, m->dims.d_model,
                                                                        "lm_head.weight");
    if (L.status == ELANG_OK) L.status = weight_store_check_unused(ws, err);
    /* The rotary table (positions x head_dim) after the weights agree with
     * the config: a config's absurd max_position_embeddings is then told by
     * the tensors' shapes, not by gigabytes allocated first. */
    if (L.status == ELANG_OK && c->rope_theta > 0) {
        L.status = rope_table_init(&m->rope, c->head_dim, m->max_positions, c->rope_theta, err);
        m->dims.rope = &m->rope;
    }
    if (L.status == ELANG_OK) L.status = transformer_prepare(mm, ws, m->layers, m->count, false, dtype, err);
    if (L.status == ELANG_OK) L.status = linear_prepare(mm, &m->lm_head, seq2seq_head_dtype(dtype), err);
    /* Prepared, the transposed Conv1D weights are not read again. */
    free(m->transposed);
    m->transposed = NULL;
    if (L.status != ELANG_OK) {
        causal_free(m);
        return L.status;
    }
    out->ops = &CAUSAL_OPS;
    out->net = m;
    out->info = (seq2seq_info){
        .vocab_size = m->vocab_size, .d_model = m->dims.d_model, .decoder_start_id = -1, .n_eos = c->n_eos,
        .pad_id = c->n_eos > 0 ? c->eos_ids[0] : 0, .banned_id = -1, .forced_eos_id = -1,
        .max_source_len = m->max_positions, .max_total_len = m->max_positions,
    };
    memcpy(out->info.eos_ids, c->eos_ids, sizeof(int) * (size_t)c->n_eos);
    return ELANG_OK;
}
