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

static void take_layer(tensor_loader *L, const family_names *fn, int i, int H, int I,
                       encoder_layer *l) {
    char p[64];
    snprintf(p, sizeof p, fn->layer, i);
    l->q_w = loader_take(L, H, H, "%s%s.weight", p, fn->q);
    l->q_b = loader_take(L, H, -1, "%s%s.bias", p, fn->q);
    l->k_w = loader_take(L, H, H, "%s%s.weight", p, fn->k);
    l->k_b = loader_take(L, H, -1, "%s%s.bias", p, fn->k);
    l->v_w = loader_take(L, H, H, "%s%s.weight", p, fn->v);
    l->v_b = loader_take(L, H, -1, "%s%s.bias", p, fn->v);
    l->attn_out_w = loader_take(L, H, H, "%s%s.weight", p, fn->attn_out);
    l->attn_out_b = loader_take(L, H, -1, "%s%s.bias", p, fn->attn_out);
    l->attn_ln_g = loader_take(L, H, -1, "%s%s.weight", p, fn->attn_ln);
    l->attn_ln_b = loader_take(L, H, -1, "%s%s.bias", p, fn->attn_ln);
    l->ff_in_w = loader_take(L, I, H, "%s%s.weight", p, fn->ff_in);
    l->ff_in_b = loader_take(L, I, -1, "%s%s.bias", p, fn->ff_in);
    l->ff_out_w = loader_take(L, H, I, "%s%s.weight", p, fn->ff_out);
    l->ff_out_b = loader_take(L, H, -1, "%s%s.bias", p, fn->ff_out);
    l->ff_ln_g = loader_take(L, H, -1, "%s%s.weight", p, fn->ff_ln);
    l->ff_ln_b = loader_take(L, H, -1, "%s%s.bias", p, fn->ff_ln);
}

/* Heads sit beside the base model ("classifier.weight"), never under its
 * prefix. The label count comes from config.json, or from the head itself. */
static void take_head(tensor_loader *L, model_config *cfg, const char *dense, const char *out,
                      encoder_classifier *m) {
    const int H = m->hidden;
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
    m->head.dense_w = loader_take_bare(L, H, H, "%s.weight", dense);
    m->head.dense_b = loader_take_bare(L, H, -1, "%s.bias", dense);
    m->head.out_w = loader_take_bare(L, m->num_labels, H, "%s.weight", out);
    m->head.out_b = loader_take_bare(L, m->num_labels, -1, "%s.bias", out);
}

elang_status encoder_classifier_load(encoder_classifier *m, model_config *cfg,
                                     weight_store *ws, elang_error *err) {
    memset(m, 0, sizeof *m);
    const bool distil = strcmp(cfg->model_type, "distilbert") == 0;
    const bool roberta = strncmp(cfg->model_type, "roberta", 7) == 0 ||
                         strcmp(cfg->model_type, "xlm-roberta") == 0;
    const family_names *fn = distil ? &DISTILBERT_NAMES : roberta ? &ROBERTA_NAMES : &BERT_NAMES;

    m->hidden = cfg->hidden_size;
    m->intermediate = cfg->intermediate_size;
    m->heads = cfg->num_heads;
    m->num_layers = cfg->num_layers;
    m->vocab_size = cfg->vocab_size;
    m->max_positions = cfg->max_position_embeddings;
    m->type_vocab_size = cfg->type_vocab_size;
    m->ln_eps = cfg->layer_norm_eps;
    m->act = cfg->hidden_act;
    m->roberta_positions = roberta;
    m->pad_id = cfg->pad_token_id;
    const int H = m->hidden, I = m->intermediate;

    /* A base model saved on its own has no "bert." prefix; transformers
     * accepts both, and so do we. */
    char probe[128];
    snprintf(probe, sizeof probe, "%sembeddings.word_embeddings.weight", fn->base_prefix);
    tensor_loader L = {ws, weight_store_find(ws, probe) ? fn->base_prefix : "", err, ELANG_OK};

    m->word_emb = loader_take(&L, m->vocab_size, H, "embeddings.word_embeddings.weight");
    m->pos_emb = loader_take(&L, m->max_positions, H, "embeddings.position_embeddings.weight");
    if (m->type_vocab_size > 0)
        m->type_emb = loader_take(&L, m->type_vocab_size, H, "embeddings.token_type_embeddings.weight");
    m->emb_ln_g = loader_take(&L, H, -1, "embeddings.LayerNorm.weight");
    m->emb_ln_b = loader_take(&L, H, -1, "embeddings.LayerNorm.bias");

    m->layers = calloc((size_t)m->num_layers, sizeof *m->layers);
    if (!m->layers) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for %d layers", m->num_layers);
    for (int i = 0; i < m->num_layers && L.status == ELANG_OK; i++)
        take_layer(&L, fn, i, H, I, &m->layers[i]);

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
    if (L.status != ELANG_OK) encoder_classifier_free(m);
    return L.status;
}

void encoder_classifier_free(encoder_classifier *m) {
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
    const int H = m->hidden;
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
    layer_norm_forward(x, m->emb_ln_g, m->emb_ln_b, B * S, H, m->ln_eps);
    return ELANG_OK;
}

/* Scratch for one forward pass; sizes in the comments, N = B*S tokens. */
typedef struct {
    float *q, *k, *v; /* [N, H] */
    float *ctx;       /* [N, H] attention output before its projection */
    float *proj;      /* [N, H] projection outputs, added to the residual */
    float *ff;        /* [N, I] */
} encoder_scratch;

/* x[N, H] := post-LN transformer layer applied to x. */
static elang_status layer_forward(const encoder_classifier *m, const encoder_layer *l,
                                  const int32_t *mask, int B, int S, float *x,
                                  encoder_scratch *s) {
    const int H = m->hidden, I = m->intermediate, N = B * S, dh = H / m->heads;
    linear_forward(s->q, x, l->q_w, l->q_b, N, H, H);
    linear_forward(s->k, x, l->k_w, l->k_b, N, H, H);
    linear_forward(s->v, x, l->v_w, l->v_b, N, H, H);
    const attention_args args = {
        .batch = B, .q_len = S, .kv_len = S, .num_heads = m->heads, .head_dim = dh,
        .scale = 1.0f / sqrtf((float)dh),
        .q_row_stride = H, .kv_row_stride = H, .out_row_stride = H,
        .kv_batch_stride = (long)S * H, .key_mask = mask,
    };
    elang_status st = attention_forward(s->ctx, s->q, s->k, s->v, &args);
    if (st != ELANG_OK) return st;
    linear_forward(s->proj, s->ctx, l->attn_out_w, l->attn_out_b, N, H, H);
    add_inplace(x, s->proj, (long)N * H);
    layer_norm_forward(x, l->attn_ln_g, l->attn_ln_b, N, H, m->ln_eps);

    linear_forward(s->ff, x, l->ff_in_w, l->ff_in_b, N, H, I);
    activation_forward(s->ff, (long)N * I, m->act);
    linear_forward(s->proj, s->ff, l->ff_out_w, l->ff_out_b, N, I, H);
    add_inplace(x, s->proj, (long)N * H);
    layer_norm_forward(x, l->ff_ln_g, l->ff_ln_b, N, H, m->ln_eps);
    return ELANG_OK;
}

/* logits[B, L] from the first token of each item of hidden[B, S, H]. */
static elang_status head_forward(const encoder_classifier *m, const float *hidden, int B, int S,
                                 float *logits) {
    const int H = m->hidden;
    float *first = malloc(sizeof(float) * (size_t)B * H * 2);
    if (!first) return ELANG_ERR_NOMEM;
    float *pooled = first + (size_t)B * H;
    for (int b = 0; b < B; b++) memcpy(first + (long)b * H, hidden + (long)b * S * H, sizeof(float) * H);
    linear_forward(pooled, first, m->head.dense_w, m->head.dense_b, B, H, H);
    activation_forward(pooled, (long)B * H, m->head.act);
    if (m->head.relu_after_act) activation_forward(pooled, (long)B * H, ACT_RELU);
    linear_forward(logits, pooled, m->head.out_w, m->head.out_b, B, H, m->num_labels);
    free(first);
    return ELANG_OK;
}

elang_status encoder_classifier_forward(const encoder_classifier *m, const int32_t *ids,
                                        const int32_t *type_ids, const int32_t *mask, int B,
                                        int S, float *hidden, float *logits, elang_error *err) {
    const size_t N = (size_t)B * S, H = (size_t)m->hidden, I = (size_t)m->intermediate;
    float *arena = malloc(sizeof(float) * N * (5 * H + I));
    if (!arena) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for a batch of %d x %d tokens", B, S);
    encoder_scratch s = {arena, arena + N * H, arena + 2 * N * H, arena + 3 * N * H,
                         arena + 4 * N * H, arena + 5 * N * H};

    elang_status st = embeddings_forward(m, ids, type_ids, B, S, hidden, err);
    for (int i = 0; i < m->num_layers && st == ELANG_OK; i++)
        st = layer_forward(m, &m->layers[i], mask, B, S, hidden, &s);
    if (st == ELANG_OK) st = head_forward(m, hidden, B, S, logits);
    free(arena);
    if (st == ELANG_ERR_NOMEM) elang_fail(err, st, "out of memory in the encoder forward pass");
    return st;
}
