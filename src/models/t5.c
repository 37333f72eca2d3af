#include "models/t5.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "models/loader.h"

/* ------------------------------------------------------ position bias */

/* T5Attention._relative_position_bucket. `rel` = key position − query
 * position. Half the buckets are exact small distances, the other half
 * log-spaced up to max_distance; the encoder also splits them by sign.
 * The logarithm is taken in float32, as torch takes it. */
static int relative_bucket(int rel, bool bidirectional, int buckets, int max_distance) {
    int bucket = 0;
    if (bidirectional) {
        buckets /= 2;
        if (rel > 0) bucket += buckets;
        rel = abs(rel);
    } else {
        rel = rel < 0 ? -rel : 0;
    }
    const int max_exact = buckets / 2;
    if (rel < max_exact) return bucket + rel;
    const float scaled = logf((float)rel / (float)max_exact) /
                         (float)log((double)max_distance / max_exact) * (float)(buckets - max_exact);
    const int large = scaled < (float)(buckets - 1 - max_exact) ? max_exact + (int)scaled : buckets - 1;
    return bucket + large;
}

/* bias[H, q_len, kv_len] for queries at positions q_first.. and keys at
 * 0..kv_len-1, from table[P, H] (T5Attention.compute_bias). */
static void position_bias(const t5_model *m, const float *table, int H, bool bidirectional, int q_first,
                          int q_len, int kv_len, float *bias) {
    for (int i = 0; i < q_len; i++)
        for (int j = 0; j < kv_len; j++) {
            const int b = relative_bucket(j - (q_first + i), bidirectional, m->buckets, m->max_distance);
            for (int h = 0; h < H; h++) bias[((size_t)h * q_len + i) * kv_len + j] = table[b * H + h];
        }
}

/* ------------------------------------------------------------ forward */

static void t5_carve(const void *net, arena *a, seq2seq_run *run) {
    const t5_model *m = net;
    seq2seq_run_carve_common(a, m->mm, &m->enc, &m->dec, m->dec_count, run);
    run->enc_bias = arena_take(a, sizeof(float) * (size_t)m->enc.heads * run->S * run->S);
    run->dec_bias = arena_take(a, sizeof(float) * (size_t)m->dec.heads * run->max_steps);
}

static elang_status t5_encode(const void *net, seq2seq_run *run, const int32_t *ids, const int32_t *mask,
                              elang_error *err) {
    const t5_model *m = net;
    const transformer_dims *d = &m->enc;
    const int B = run->B, S = run->S;
    float *x = run->enc_out;
    elang_status st = embedding_lookup(x, m->embed, m->vocab_size, d->d_model, ids, (long)B * S, 1.0f, err);
    if (st != ELANG_OK) return st;
    position_bias(m, m->enc_rel_bias, d->heads, true, 0, S, S, run->enc_bias);
    transformer_encoder_forward(d, m->enc_layers, m->enc_count, x, mask, run->enc_bias, B, S, &run->enc);
    norm_forward(x, &m->enc_final, B * S, d->d_model, d->eps);
    return matmul_status(m->mm, err);
}

static elang_status t5_start(const void *net, seq2seq_run *run, elang_error *err) {
    const t5_model *m = net;
    elang_status st = transformer_decoder_start(&m->dec, m->dec_layers, m->dec_count, run->enc_out, run->B,
                                                &run->cache, &run->dec, err);
    return st == ELANG_OK ? matmul_status(m->mm, err) : st;
}

static elang_status t5_step(const void *net, seq2seq_run *run, const int32_t *tokens, float *logits,
                            elang_error *err) {
    const t5_model *m = net;
    const transformer_dims *d = &m->dec;
    const int R = run->R, D = d->d_model, steps = run->cache.steps;
    float *x = run->x;
    elang_status st = embedding_lookup(x, m->embed, m->vocab_size, D, tokens, R, 1.0f, err);
    if (st != ELANG_OK) return st;
    /* The new token's row of the decoder's causal bias: keys 0..steps. */
    if (steps < run->max_steps) position_bias(m, m->dec_rel_bias, d->heads, false, steps, 1, steps + 1, run->dec_bias);
    st = transformer_decoder_step(d, m->dec_layers, m->dec_count, x, 1, NULL, NULL, &run->cache, run->dec_bias,
                                  &run->dec, err);
    if (st != ELANG_OK) return st;
    norm_forward(x, &m->dec_final, R, D, d->eps);
    if (m->scale_logits) {
        const float scale = (float)(1.0 / sqrt((double)D));
        for (long i = 0; i < (long)R * D; i++) x[i] *= scale;
    }
    linear_forward(m->mm, logits, x, &m->lm_head, R, NULL);
    return matmul_status(m->mm, err);
}

static void t5_free(void *net) {
    t5_model *m = net;
    if (!m) return;
    transformer_release(m->enc_layers, m->enc_count);
    transformer_release(m->dec_layers, m->dec_count);
    linear_release(&m->lm_head);
    free(m->enc_layers);
    free(m->dec_layers);
    free(m);
}

static elang_status t5_prefill(const void *net, seq2seq_run *run, const int32_t *ids, const int32_t *mask,
                                  float *logits, elang_error *err);

static const seq2seq_ops T5_OPS = {.carve = t5_carve, .encode = t5_encode, .start = t5_start,
                                   .prefill = t5_prefill, .step = t5_step, .free = t5_free};

static elang_status t5_prefill(const void *net, seq2seq_run *run, const int32_t *ids, const int32_t *mask,
                                  float *logits, elang_error *err) {
    const t5_model *m = net;
    return seq2seq_prefill_encoded(&T5_OPS, net, m->decoder_start_id, run, ids, mask, logits, err);
}

/* --------------------------------------------------------------- load */

static const char *const T5_PROJ[4] = {"q", "k", "v", "o"};

static void take_ff(tensor_loader *L, const transformer_dims *d, bool gated, const char *p, ff_block *f) {
    char in[160], gate[160], out[160];
    snprintf(in, sizeof in, "%sDenseReluDense.%s", p, gated ? "wi_0" : "wi");
    snprintf(gate, sizeof gate, "%sDenseReluDense.wi_1", p);
    snprintf(out, sizeof out, "%sDenseReluDense.wo", p);
    transformer_take_ff(L, d, false, in, gated ? gate : NULL, out, f);
    transformer_take_norm(L, d->d_model, false, &f->norm, "%slayer_norm", p);
}

/* Sub-layers of a block: layer.0 SelfAttention, (decoder) layer.1
 * EncDecAttention, then the feed-forward. */
static void take_block(tensor_loader *L, const transformer_dims *d, bool gated, const char *stack, int i,
                       bool decoder, transformer_layer *l) {
    char p[128];
    snprintf(p, sizeof p, "%s.block.%d.layer.0.SelfAttention.", stack, i);
    transformer_take_attention(L, d, false, false, p, T5_PROJ, &l->self_attn);
    transformer_take_norm(L, d->d_model, false, &l->self_attn.norm, "%s.block.%d.layer.0.layer_norm", stack, i);
    if (decoder) {
        snprintf(p, sizeof p, "%s.block.%d.layer.1.EncDecAttention.", stack, i);
        transformer_take_attention(L, d, false, false, p, T5_PROJ, &l->cross_attn);
        transformer_take_norm(L, d->d_model, false, &l->cross_attn.norm, "%s.block.%d.layer.1.layer_norm", stack, i);
    }
    snprintf(p, sizeof p, "%s.block.%d.layer.%d.", stack, i, decoder ? 2 : 1);
    take_ff(L, d, gated, p, &l->ff);
}

static void take_stack(tensor_loader *L, const transformer_dims *d, bool gated, const char *stack, int count,
                       bool decoder, transformer_layer *layers, const float **rel_bias, norm_params *final,
                       int buckets) {
    *rel_bias = loader_take(L, buckets, d->heads, "%s.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                            stack);
    for (int i = 0; i < count; i++) take_block(L, d, gated, stack, i, decoder, &layers[i]);
    transformer_take_norm(L, d->d_model, false, final, "%s.final_layer_norm", stack);
}

elang_status t5_load(weight_store *ws, model_config *cfg, matmul_ctx *mm, elang_dtype dtype, seq2seq_model *out,
                     elang_error *err) {
    memset(out, 0, sizeof *out);
    const seq2seq_config *sc = &cfg->s2s;
    t5_model *m = calloc(1, sizeof *m);
    if (m) {
        m->mm = mm;
        m->enc_layers = calloc((size_t)cfg->num_layers, sizeof *m->enc_layers);
        m->dec_layers = calloc((size_t)sc->decoder_layers, sizeof *m->dec_layers);
    }
    if (!m || !m->enc_layers || !m->dec_layers) {
        t5_free(m);
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading T5");
    }
    const transformer_dims dims = {
        .d_model = cfg->hidden_size, .heads = cfg->num_heads, .head_dim = sc->head_dim,
        .d_ff = cfg->intermediate_size, .scale = 1.0f, .pre_norm = true, .eps = cfg->layer_norm_eps,
        .act = cfg->hidden_act,
    };
    m->enc = m->dec = dims;
    m->vocab_size = cfg->vocab_size;
    m->buckets = sc->relative_buckets;
    m->max_distance = sc->relative_max_distance;
    m->scale_logits = sc->tie_word_embeddings;
    m->enc_count = cfg->num_layers;
    m->decoder_start_id = sc->decoder_start_token_id;
    m->dec_count = sc->decoder_layers;
    const int V = m->vocab_size, D = dims.d_model;

    tensor_loader L = {ws, "", err, ELANG_OK};
    /* T5ForConditionalGeneration hands `shared` to both stacks; checkpoints
     * may also store it as their embed_tokens, and as lm_head when tied. */
    const char *const embed_names[] = {"shared.weight", "encoder.embed_tokens.weight",
                                       "decoder.embed_tokens.weight",
                                       sc->tie_word_embeddings ? "lm_head.weight" : NULL, NULL};
    m->embed = loader_take_tied(&L, V, D, embed_names);
    take_stack(&L, &m->enc, sc->gated_ff, "encoder", m->enc_count, false, m->enc_layers, &m->enc_rel_bias,
               &m->enc_final, m->buckets);
    take_stack(&L, &m->dec, sc->gated_ff, "decoder", m->dec_count, true, m->dec_layers, &m->dec_rel_bias,
               &m->dec_final, m->buckets);
    m->lm_head = (linear){.out = V, .in = D};
    m->lm_head.w = sc->tie_word_embeddings ? m->embed : loader_take(&L, V, D, "lm_head.weight");
    /* Only block 0 has a relative bias, and transformers skips the cross-
     * attention one that old checkpoints carry. */
    weight_store_ignore(ws, "decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight");
    if (L.status == ELANG_OK) L.status = weight_store_check_unused(ws, err);
    if (L.status == ELANG_OK) L.status = transformer_prepare(mm, ws, m->enc_layers, m->enc_count, false, dtype, err);
    if (L.status == ELANG_OK) L.status = transformer_prepare(mm, ws, m->dec_layers, m->dec_count, true, dtype, err);
    if (L.status == ELANG_OK) L.status = linear_prepare(mm, &m->lm_head, seq2seq_head_dtype(dtype), err);
    if (L.status != ELANG_OK) {
        t5_free(m);
        return L.status;
    }

    out->ops = &T5_OPS;
    out->net = m;
    out->info = (seq2seq_info){
        .vocab_size = V, .d_model = D, .decoder_start_id = sc->decoder_start_token_id,
        .eos_ids = {sc->eos_token_id}, .n_eos = 1, .pad_id = cfg->pad_token_id, .banned_id = sc->bad_word_id,
        .forced_eos_id = sc->forced_eos_token_id, .max_source_len = 0, .max_target_len = 0,
    };
    return ELANG_OK;
}
