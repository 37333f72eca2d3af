#include "models/marian.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "models/loader.h"

/* MarianSinusoidalPositionalEmbedding._init_weight: feature pair i turns at
 * pos / 10000^(2i/D); sines fill the first ceil(D/2) columns and cosines
 * the rest (not interleaved), computed in float64 by numpy and stored as
 * float32. */
static float *sinusoids(int P, int D) {
    float *t = malloc(sizeof(float) * (size_t)P * D);
    if (!t) return NULL;
    const int sines = (D + 1) / 2;
    for (int pos = 0; pos < P; pos++)
        for (int col = 0; col < D; col++) {
            const int i = col < sines ? col : col - sines;
            const double angle = pos / pow(10000.0, 2.0 * i / D);
            t[(size_t)pos * D + col] = (float)(col < sines ? sin(angle) : cos(angle));
        }
    return t;
}

/* ------------------------------------------------------------ forward */

/* x[n, D] = embed[ids] · scale + pos[first + i % per_row]: the embeddings
 * of n tokens in rows of per_row, at positions first.. within each row. */
static elang_status embed_tokens(const marian_model *m, const float *embed, int V, const float *pos,
                                 const int32_t *ids, long n, int per_row, int first, float *x,
                                 elang_error *err) {
    const int D = m->enc.d_model;
    if (first + per_row > m->max_positions)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "position %d is beyond the model's %d positions",
                          first + per_row - 1, m->max_positions);
    elang_status st = embedding_lookup(x, embed, V, D, ids, n, m->embed_scale, err);
    if (st != ELANG_OK) return st;
    for (long i = 0; i < n; i++) add_inplace(x + i * D, pos + (size_t)(first + i % per_row) * D, D);
    return ELANG_OK;
}

static void marian_carve(const void *net, arena *a, seq2seq_run *run) {
    const marian_model *m = net;
    seq2seq_run_carve_common(a, m->mm, &m->enc, &m->dec, m->dec_count, run);
}

static elang_status marian_encode(const void *net, seq2seq_run *run, const int32_t *ids, const int32_t *mask,
                                  elang_error *err) {
    const marian_model *m = net;
    const int B = run->B, S = run->S;
    elang_status st = embed_tokens(m, m->enc_embed, m->embed_rows, m->enc_pos, ids, (long)B * S, S, 0,
                                   run->enc_out, err);
    if (st != ELANG_OK) return st;
    transformer_encoder_forward(&m->enc, m->enc_layers, m->enc_count, run->enc_out, mask, NULL, B, S, &run->enc);
    return matmul_status(m->mm, err);
}

static elang_status marian_start(const void *net, seq2seq_run *run, elang_error *err) {
    const marian_model *m = net;
    elang_status st = transformer_decoder_start(&m->dec, m->dec_layers, m->dec_count, run->enc_out, run->B,
                                                &run->cache, &run->dec, err);
    return st == ELANG_OK ? matmul_status(m->mm, err) : st;
}

static elang_status marian_step(const void *net, seq2seq_run *run, const int32_t *tokens, float *logits,
                                elang_error *err) {
    const marian_model *m = net;
    const int R = run->R;
    elang_status st = embed_tokens(m, m->dec_embed, m->embed_rows, m->dec_pos, tokens, R, 1, run->cache.steps,
                                   run->x, err);
    if (st == ELANG_OK)
        st = transformer_decoder_step(&m->dec, m->dec_layers, m->dec_count, run->x, 1, NULL, NULL, &run->cache, NULL,
                                      &run->dec, err);
    if (st == ELANG_OK) linear_forward(m->mm, logits, run->x, &m->lm_head, R, NULL);
    return st == ELANG_OK ? matmul_status(m->mm, err) : st;
}

static void marian_free(void *net) {
    marian_model *m = net;
    if (!m) return;
    transformer_release(m->enc_layers, m->enc_count);
    transformer_release(m->dec_layers, m->dec_count);
    linear_release(&m->lm_head);
    free(m->sinusoids);
    free(m->enc_layers);
    free(m->dec_layers);
    free(m);
}

static elang_status marian_prefill(const void *net, seq2seq_run *run, const int32_t *ids, const int32_t *mask,
                                  float *logits, elang_error *err);

static const seq2seq_ops MARIAN_OPS = {.carve = marian_carve, .encode = marian_encode, .start = marian_start,
                                   .prefill = marian_prefill, .step = marian_step, .free = marian_free};

static elang_status marian_prefill(const void *net, seq2seq_run *run, const int32_t *ids, const int32_t *mask,
                                  float *logits, elang_error *err) {
    const marian_model *m = net;
    return seq2seq_prefill_encoded(&MARIAN_OPS, net, m->decoder_start_id, run, ids, mask, logits, err);
}

/* --------------------------------------------------------------- load */

static const char *const MARIAN_PROJ[4] = {"q_proj", "k_proj", "v_proj", "out_proj"};

/* encoder.layers.i / decoder.layers.i: self_attn, (decoder) encoder_attn,
 * fc1 and fc2, each followed by its LayerNorm. */
static void take_layer(tensor_loader *L, const transformer_dims *d, const char *stack, int i, bool decoder,
                       transformer_layer *l) {
    char p[96], name[160], fc1[160], fc2[160];
    snprintf(p, sizeof p, "%s.layers.%d.", stack, i);
    snprintf(name, sizeof name, "%sself_attn.", p);
    transformer_take_attention(L, d, true, true, name, MARIAN_PROJ, &l->self_attn);
    transformer_take_norm(L, d->d_model, true, &l->self_attn.norm, "%sself_attn_layer_norm", p);
    if (decoder) {
        snprintf(name, sizeof name, "%sencoder_attn.", p);
        transformer_take_attention(L, d, true, true, name, MARIAN_PROJ, &l->cross_attn);
        transformer_take_norm(L, d->d_model, true, &l->cross_attn.norm, "%sencoder_attn_layer_norm", p);
    }
    snprintf(fc1, sizeof fc1, "%sfc1", p);
    snprintf(fc2, sizeof fc2, "%sfc2", p);
    transformer_take_ff(L, d, true, fc1, NULL, fc2, &l->ff);
    transformer_take_norm(L, d->d_model, true, &l->ff.norm, "%sfinal_layer_norm", p);
}

/* Stored positions (older checkpoints keep them) are the same sinusoids;
 * transformers loads them when present, and so do we. */
static const float *take_positions(tensor_loader *L, marian_model *m, const char *stack) {
    char name[64];
    snprintf(name, sizeof name, "%s.embed_positions.weight", stack);
    if (weight_store_find(L->ws, name)) return loader_take_bare(L, m->max_positions, m->enc.d_model, "%s", name);
    if (!m->sinusoids && L->status == ELANG_OK) {
        m->sinusoids = sinusoids(m->max_positions, m->enc.d_model);
        if (!m->sinusoids)
            L->status = elang_fail(L->err, ELANG_ERR_NOMEM, "out of memory for %d positions", m->max_positions);
    }
    return m->sinusoids;
}

static transformer_dims stack_dims(const model_config *cfg, int heads, int d_ff) {
    const int head_dim = cfg->hidden_size / heads;
    return (transformer_dims){
        .d_model = cfg->hidden_size, .heads = heads, .head_dim = head_dim, .d_ff = d_ff,
        .scale = (float)(1.0 / sqrt((double)head_dim)), .pre_norm = false, .eps = cfg->layer_norm_eps,
        .act = cfg->hidden_act,
    };
}

elang_status marian_load(weight_store *ws, model_config *cfg, matmul_ctx *mm, elang_dtype dtype,
                         seq2seq_model *out, elang_error *err) {
    memset(out, 0, sizeof *out);
    const seq2seq_config *sc = &cfg->s2s;
    marian_model *m = calloc(1, sizeof *m);
    if (m) {
        m->mm = mm;
        m->enc_layers = calloc((size_t)cfg->num_layers, sizeof *m->enc_layers);
        m->dec_layers = calloc((size_t)sc->decoder_layers, sizeof *m->dec_layers);
    }
    if (!m || !m->enc_layers || !m->dec_layers) {
        marian_free(m);
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading Marian");
    }
    m->enc = stack_dims(cfg, cfg->num_heads, cfg->intermediate_size);
    m->dec = stack_dims(cfg, sc->decoder_heads, sc->decoder_ffn);
    m->embed_rows = cfg->vocab_size;
    m->vocab_size = sc->target_vocab_size;
    m->max_positions = cfg->max_position_embeddings;
    m->embed_scale = sc->scale_embedding ? (float)sqrt((double)cfg->hidden_size) : 1.0f;
    m->enc_count = cfg->num_layers;
    m->decoder_start_id = sc->decoder_start_token_id;
    m->dec_count = sc->decoder_layers;
    const int E = m->embed_rows, V = m->vocab_size, D = cfg->hidden_size;
    if (sc->tie_word_embeddings && V != E) {
        marian_free(m);
        return elang_fail(err, ELANG_ERR_FORMAT,
                          "the lm_head is tied to the decoder's embedding of vocab_size %d rows, but "
                          "decoder_vocab_size is %d", E, V);
    }

    tensor_loader L = {ws, "model.", err, ELANG_OK};
    /* MarianModel gives both stacks `shared` unless
     * share_encoder_decoder_embeddings is false; tie_weights then makes the
     * lm_head the decoder's embedding. */
    const char *tied_head = sc->tie_word_embeddings ? "lm_head.weight" : NULL;
    if (sc->share_embeddings) {
        const char *const names[] = {"model.shared.weight", "model.encoder.embed_tokens.weight",
                                     "model.decoder.embed_tokens.weight", tied_head, NULL};
        m->enc_embed = m->dec_embed = loader_take_tied(&L, E, D, names);
    } else {
        const char *const enc_names[] = {"model.encoder.embed_tokens.weight", NULL};
        const char *const dec_names[] = {"model.decoder.embed_tokens.weight", tied_head, NULL};
        m->enc_embed = loader_take_tied(&L, E, D, enc_names);
        m->dec_embed = loader_take_tied(&L, E, D, dec_names);
    }
    m->enc_pos = take_positions(&L, m, "model.encoder");
    m->dec_pos = take_positions(&L, m, "model.decoder");
    for (int i = 0; i < m->enc_count; i++) take_layer(&L, &m->enc, "encoder", i, false, &m->enc_layers[i]);
    for (int i = 0; i < m->dec_count; i++) take_layer(&L, &m->dec, "decoder", i, true, &m->dec_layers[i]);
    m->lm_head = (linear){.out = V, .in = D};
    m->lm_head.w = sc->tie_word_embeddings ? m->dec_embed : loader_take_bare(&L, V, D, "lm_head.weight");
    /* final_logits_bias is the lm_head's bias, stored [1, V]; transformers
     * has a zero buffer when the checkpoint lacks it. */
    if (weight_store_find(ws, "final_logits_bias")) m->lm_head.b = loader_take_bare(&L, 1, V, "final_logits_bias");
    if (L.status == ELANG_OK) L.status = weight_store_check_unused(ws, err);
    if (L.status == ELANG_OK) L.status = transformer_prepare(mm, ws, m->enc_layers, m->enc_count, false, dtype, err);
    if (L.status == ELANG_OK) L.status = transformer_prepare(mm, ws, m->dec_layers, m->dec_count, true, dtype, err);
    if (L.status == ELANG_OK) L.status = linear_prepare(mm, &m->lm_head, seq2seq_head_dtype(dtype), err);
    if (L.status != ELANG_OK) {
        marian_free(m);
        return L.status;
    }

    out->ops = &MARIAN_OPS;
    out->net = m;
    out->info = (seq2seq_info){
        .vocab_size = V, .d_model = D, .decoder_start_id = sc->decoder_start_token_id,
        .eos_ids = {sc->eos_token_id}, .n_eos = 1, .pad_id = cfg->pad_token_id, .banned_id = sc->bad_word_id,
        .forced_eos_id = sc->forced_eos_token_id, .max_source_len = m->max_positions,
        .max_target_len = m->max_positions,
    };
    return ELANG_OK;
}
