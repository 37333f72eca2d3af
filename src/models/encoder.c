#include "models/encoder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/attention.h"
#include "util/error.h"
#include "models/loader.h"

/* ------------------------------------------------------------------ names */

/* Where each family keeps a layer's tensors, relative to the base model. */
typedef struct {
    const char *base_prefix; /* "bert." */
    const char *layer;       /* printf pattern of one layer's prefix */
    const char *q, *k, *v, *attn_out, *attn_ln, *ff_in, *ff_out, *ff_ln;
} family_names;

static const family_names BERT_NAMES = {
    "bert.", "encoder.layer.%d.",
    "attention.self.query", "attention.self.key", "attention.self.value",
    "attention.output.dense", "attention.output.LayerNorm",
    "intermediate.dense", "output.dense", "output.LayerNorm",
};
static const family_names ROBERTA_NAMES = {
    "roberta.", "encoder.layer.%d.",
    "attention.self.query", "attention.self.key", "attention.self.value",
    "attention.output.dense", "attention.output.LayerNorm",
    "intermediate.dense", "output.dense", "output.LayerNorm",
};
static const family_names DISTILBERT_NAMES = {
    "distilbert.", "transformer.layer.%d.",
    "attention.q_lin", "attention.k_lin", "attention.v_lin",
    "attention.out_lin", "sa_layer_norm",
    "ffn.lin1", "ffn.lin2", "output_layer_norm",
};

/* Tensors that checkpoints carry but a sequence classifier does not use;
 * transformers skips them too (with a warning). Anything else left over is
 * reported, since it usually means the wrong checkpoint or class. */
static bool is_known_unused(const char *name, bool roberta) {
    static const char *const prefixes[] = {
        "cls.",                 /* BERT pre-training heads */
        "lm_head.",             /* RoBERTa masked-LM head */
        "vocab_transform.", "vocab_layer_norm.", "vocab_projector.", /* DistilBERT MLM */
        "fit_dense",            /* TinyBERT distillation projections */
    };
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0) return true;
    size_t n = strlen(name);
    if (n >= 12 && strcmp(name + n - 12, "position_ids") == 0) return true; /* a buffer */
    /* RobertaForSequenceClassification is built without the pooler. */
    return roberta && strstr(name, "pooler.") != NULL;
}

/* ------------------------------------------------------------------- load */

static void take_layer(tensor_loader *L, const family_names *fn, int i, const transformer_dims *d,
                       transformer_layer *l) {
    char p[64];
    snprintf(p, sizeof p, fn->layer, i);
    const char *const proj[4] = {fn->q, fn->k, fn->v, fn->attn_out};
    const int H = d->d_model;
    transformer_take_attention(L, d, true, true, p, proj, &l->self_attn);
    transformer_take_norm(L, H, true, &l->self_attn.norm, "%s%s", p, fn->attn_ln);
    char in[96], out[96];
    snprintf(in, sizeof in, "%s%s", p, fn->ff_in);
    snprintf(out, sizeof out, "%s%s", p, fn->ff_out);
    transformer_take_ff(L, d, true, in, NULL, out, &l->ff);
    transformer_take_norm(L, H, true, &l->ff.norm, "%s%s", p, fn->ff_ln);
}

/* Heads sit beside the base model ("classifier.weight"), never under its
 * prefix. The label count comes from config.json, or from the head itself. */
static void take_head(tensor_loader *L, model_config *cfg, const char *dense, const char *out,
                      encoder_classifier *m) {
    /* A tensor already missing is the error to report: reading the labels
     * off the head's shape would overwrite it and load a model without its
     * layers. */
    if (L->status != ELANG_OK) return;
    const int H = m->dims.d_model;
    char name[128];
    snprintf(name, sizeof name, "%s.weight", out);
    if (cfg->num_labels == 0) {
        int64_t rows = loader_rows(L, name);
        if (rows < 1 || rows > 100000) {
            L->status = elang_fail(L->err, ELANG_ERR_FORMAT,
                                   "no classification head: tensor '%s' is missing, and config.json "
                                   "names no labels (is this a base model rather than a "
                                   "...ForSequenceClassification checkpoint?)", name);
            return;
        }
        L->status = config_set_num_labels(cfg, (int)rows, L->err);
    }
    m->num_labels = cfg->num_labels;
    m->head.dense = (linear){.out = H, .in = H};
    m->head.dense.w = loader_take_bare(L, H, H, "%s.weight", dense);
    m->head.dense.b = loader_take_bare(L, H, -1, "%s.bias", dense);
    m->head.out = (linear){.out = m->num_labels, .in = H};
    m->head.out.w = loader_take_bare(L, m->num_labels, H, "%s.weight", out);
    m->head.out.b = loader_take_bare(L, m->num_labels, -1, "%s.bias", out);
}

elang_status encoder_classifier_load(encoder_classifier *m, model_config *cfg, weight_store *ws, matmul_ctx *mm,
                                     elang_dtype dtype, elang_error *err) {
    memset(m, 0, sizeof *m);
    m->mm = mm;
    const bool distil = strcmp(cfg->model_type, "distilbert") == 0;
    const bool roberta = strncmp(cfg->model_type, "roberta", 7) == 0 ||
                         strcmp(cfg->model_type, "xlm-roberta") == 0;
    const family_names *fn = distil ? &DISTILBERT_NAMES : roberta ? &ROBERTA_NAMES : &BERT_NAMES;

    const int H = cfg->hidden_size, head_dim = H / cfg->num_heads;
    m->dims = (transformer_dims){
        .d_model = H, .heads = cfg->num_heads, .head_dim = head_dim, .d_ff = cfg->intermediate_size,
        .scale = 1.0f / sqrtf((float)head_dim), .pre_norm = false, .eps = cfg->layer_norm_eps,
        .act = cfg->hidden_act,
    };
    m->num_layers = cfg->num_layers;
    m->vocab_size = cfg->vocab_size;
    m->max_positions = cfg->max_position_embeddings;
    m->type_vocab_size = cfg->type_vocab_size;
    m->roberta_positions = roberta;
    m->pad_id = cfg->pad_token_id;

    /* A base model saved on its own has no "bert." prefix; transformers
     * accepts both, and so do we. */
    char probe[128];
    snprintf(probe, sizeof probe, "%sembeddings.word_embeddings.weight", fn->base_prefix);
    tensor_loader L = {ws, weight_store_find(ws, probe) ? fn->base_prefix : "", err, ELANG_OK};

    m->word_emb = loader_take(&L, m->vocab_size, H, "embeddings.word_embeddings.weight");
    m->pos_emb = loader_take(&L, m->max_positions, H, "embeddings.position_embeddings.weight");
    if (m->type_vocab_size > 0)
        m->type_emb = loader_take(&L, m->type_vocab_size, H, "embeddings.token_type_embeddings.weight");
    transformer_take_norm(&L, H, true, &m->emb_norm, "embeddings.LayerNorm");

    m->layers = calloc((size_t)m->num_layers, sizeof *m->layers);
    if (!m->layers) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for %d layers", m->num_layers);
    for (int i = 0; i < m->num_layers && L.status == ELANG_OK; i++)
        take_layer(&L, fn, i, &m->dims, &m->layers[i]);

    if (distil) {
        take_head(&L, cfg, "pre_classifier", "classifier", m);
        m->head.act = ACT_RELU;
    } else if (roberta) {
        take_head(&L, cfg, "classifier.dense", "classifier.out_proj", m);
        m->head.act = ACT_TANH;
    } else {
        char pooler[64];
        snprintf(pooler, sizeof pooler, "%spooler.dense", L.prefix);
        take_head(&L, cfg, pooler, "classifier", m);
        m->head.act = ACT_TANH;
        /* TinyBERT's classifier applies ReLU to the pooled output; its
         * checkpoints are recognisable by the distillation projection. */
        m->head.relu_after_act = strncmp(cfg->architecture, "TinyBert", 8) == 0 ||
                                 weight_store_find(ws, "fit_dense.weight") != NULL;
    }

    if (L.status == ELANG_OK) {
        for (size_t i = 0; i < weight_store_count(ws); i++) {
            weight_entry *e = weight_store_at(ws, i);
            if (!e->taken && is_known_unused(e->name, roberta)) weight_store_ignore(ws, e->name);
        }
        L.status = weight_store_check_unused(ws, err);
    }
    if (L.status == ELANG_OK) L.status = transformer_prepare(mm, ws, m->layers, m->num_layers, false, dtype, err);
    if (L.status == ELANG_OK) L.status = linear_prepare(mm, &m->head.dense, ELANG_DTYPE_F32, err);
    if (L.status == ELANG_OK) L.status = linear_prepare(mm, &m->head.out, ELANG_DTYPE_F32, err);
    if (L.status != ELANG_OK) encoder_classifier_free(m);
    return L.status;
}

void encoder_classifier_free(encoder_classifier *m) {
    transformer_release(m->layers, m->num_layers);
    linear_release(&m->head.dense);
    linear_release(&m->head.out);
    free(m->layers);
    m->layers = NULL;
}

int encoder_classifier_max_tokens(const encoder_classifier *m) {
    /* RoBERTa's first real position is pad_id + 1, so pad_id + 1 rows of
     * its table are never reached by text. */
    return m->roberta_positions ? m->max_positions - m->pad_id - 1 : m->max_positions;
}

/* --------------------------------------------------------------- forward */

/* x[B, S, H] = LayerNorm(word[ids] + position[pos] + type[type_ids]) */
static elang_status embeddings_forward(const encoder_classifier *m, const int32_t *ids,
                                       const int32_t *type_ids, int B, int S, float *x,
                                       elang_error *err) {
    const int H = m->dims.d_model;
    for (int b = 0; b < B; b++) {
        int roberta_pos = m->pad_id; /* cumulative count of non-pad tokens */
        for (int s = 0; s < S; s++) {
            const long t = (long)b * S + s;
            const int id = ids[t];
            const int type = type_ids ? type_ids[t] : 0;
            int pos = s;
            if (m->roberta_positions) pos = id == m->pad_id ? m->pad_id : ++roberta_pos;
            if (id < 0 || id >= m->vocab_size)
                return elang_fail(err, ELANG_ERR_INVALID_ARG, "token id %d is outside the vocabulary (%d)",
                                  id, m->vocab_size);
            if (pos >= m->max_positions)
                return elang_fail(err, ELANG_ERR_INVALID_ARG,
                                  "input of %d tokens is longer than the model's %d positions", S,
                                  encoder_classifier_max_tokens(m));
            if (m->type_emb && (type < 0 || type >= m->type_vocab_size))
                return elang_fail(err, ELANG_ERR_INVALID_ARG, "token type %d is outside [0, %d)",
                                  type, m->type_vocab_size);
            float *row = x + t * H;
            const float *w = m->word_emb + (long)id * H, *p = m->pos_emb + (long)pos * H;
            for (int h = 0; h < H; h++) row[h] = w[h] + p[h];
            if (m->type_emb) add_inplace(row, m->type_emb + (long)type * H, H);
        }
    }
    norm_forward(x, &m->emb_norm, B * S, H, m->dims.eps);
    return ELANG_OK;
}

void encoder_run_carve(arena *a, const encoder_classifier *m, int B, int S, encoder_run *r) {
    const size_t N = (size_t)B * S, H = (size_t)m->dims.d_model;
    r->hidden = arena_take(a, sizeof(float) * N * H);
    r->first = arena_take(a, sizeof(float) * (size_t)B * H);
    r->pooled = arena_take(a, sizeof(float) * (size_t)B * H);
    r->logits = arena_take(a, sizeof(float) * (size_t)B * m->num_labels);
    transformer_scratch_carve(a, m->mm, &m->dims, (long)N, (long)B * m->dims.heads * S * S, &r->layer);
}

/* logits[B, L] from the first token of each item of hidden[B, S, H]. */
static void head_forward(const encoder_classifier *m, int B, int S, encoder_run *r) {
    const int H = m->dims.d_model;
    for (int b = 0; b < B; b++) memcpy(r->first + (long)b * H, r->hidden + (long)b * S * H, sizeof(float) * H);
    const epilogue act = {.activate = true, .act = m->head.act};
    linear_forward(m->mm, r->pooled, r->first, &m->head.dense, B, &act);
    if (m->head.relu_after_act) activation_forward(r->pooled, (long)B * H, ACT_RELU);
    linear_forward(m->mm, r->logits, r->pooled, &m->head.out, B, NULL);
}

elang_status encoder_classifier_forward(const encoder_classifier *m, const int32_t *ids,
                                        const int32_t *type_ids, const int32_t *mask, int B,
                                        int S, encoder_run *r, elang_error *err) {
    elang_status st = embeddings_forward(m, ids, type_ids, B, S, r->hidden, err);
    if (st != ELANG_OK) return st;
    transformer_encoder_forward(&m->dims, m->layers, m->num_layers, r->hidden, mask, NULL, B, S, &r->layer);
    head_forward(m, B, S, r);
    return matmul_status(m->mm, err);
}
