/* elang_model: a checkpoint directory loaded whole (config, weights,
 * tokenizer), checked for consistency between its parts. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/model_internal.h"
#include "util/error.h"
#include "core/threads.h"
#include "io/dir_hash.h"
#include "models/flops.h"
#include "models/marian.h"
#include "models/t5.h"
#include "util/strbuf.h"
#include "util/unicode.h"

/* T5 has relative positions and no hard limit; its tokenizers truncate at
 * model_max_length, 512 for the released checkpoints. A decoder-only
 * model's prompt is bounded by its positions, less one for a token to
 * generate. */
#define SEQ2SEQ_DEFAULT_MAX_LENGTH 512

static elang_status choose_max_length(elang_model *m, const elang_load_opts *opts,
                                      elang_error *err) {
    int limit = INT_MAX;
    if (!m->is_seq2seq) limit = encoder_classifier_max_tokens(&m->encoder);
    else if (m->is_causal) limit = m->s2s.info.max_total_len - 1;
    else if (m->s2s.info.max_source_len > 0) limit = m->s2s.info.max_source_len;
    if (opts && opts->max_length > 0) {
        if (opts->max_length > limit)
            return elang_fail(err, ELANG_ERR_INVALID_ARG,
                              "max length %d exceeds the model's %d positions", opts->max_length, limit);
        /* One token of text beside the special tokens the tokenizer frames
         * a text with (BERT's two, T5's one, GPT-2's none). */
        const int specials = n_special_tokens(m->tok, false);
        if (opts->max_length < specials + 1)
            return elang_fail(err, ELANG_ERR_INVALID_ARG,
                              "max length %d leaves no room for text beside the %d special tokens of a %s input "
                              "(it must be at least %d)", opts->max_length, specials, m->cfg.model_type, specials + 1);
        m->max_length = opts->max_length;
        return ELANG_OK;
    }
    /* transformers truncates to the tokenizer's model_max_length; the
     * position table is the hard limit behind it. */
    int tok_limit = tokenizer_model_max_length(m->tok);
    if (tok_limit <= 0 && limit == INT_MAX) tok_limit = SEQ2SEQ_DEFAULT_MAX_LENGTH;
    m->max_length = tok_limit > 0 && tok_limit < limit ? tok_limit : limit;
    return ELANG_OK;
}

/* Text that becomes part of every input must be UTF-8, or every input's
 * text would be blamed for it later. */
static elang_status check_text_opt(const char *name, const char *text, elang_error *err) {
    size_t bad;
    if (!text || utf8_decode(text, strlen(text), NULL, &bad)) return ELANG_OK;
    return elang_fail(err, ELANG_ERR_INVALID_ARG, "%s: invalid UTF-8 at byte offset %zu", name, bad);
}

static elang_status check_load_opts(const elang_load_opts *o, elang_error *err) {
    /* Each thread has a stack of its own: beyond this, creating them can
     * fail inside the OpenMP runtime, which aborts the process. */
    if (o->threads < 0 || o->threads > ELANG_MAX_THREADS)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "threads must be from 0 to %d, got %d", ELANG_MAX_THREADS,
                          o->threads);
    if (o->max_length < 0)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "max_length must be 0 (the model's limit) or more, got %d",
                          o->max_length);
    elang_status st = check_text_opt("input_prefix", o->input_prefix, err);
    return st == ELANG_OK ? check_text_opt("pair_infix", o->pair_infix, err) : st;
}

elang_status elang_model_load(const char *dir, const elang_load_opts *opts, elang_model **out,
                              elang_error *err) {
    if (!out) return elang_fail(err, ELANG_ERR_INVALID_ARG, "elang_model_load needs somewhere to put the model");
    *out = NULL;
    if (!dir) return elang_fail(err, ELANG_ERR_INVALID_ARG, "elang_model_load needs a model directory");
    elang_status st = opts ? check_load_opts(opts, err) : ELANG_OK;
    if (st != ELANG_OK) return st;
    elang_model *m = calloc(1, sizeof *m);
    if (m) m->dir = strdup(dir);
    if (!m || !m->dir) {
        free(m);
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading %s", dir);
    }
    m->threads = threads_resolve(opts ? opts->threads : 0);
    m->threads_auto = !opts || opts->threads == 0;
    if (m->threads_auto) threads_watch_load();
    m->dtype = opts ? opts->dtype : ELANG_DTYPE_F32;
    if (!elang_dtype_name(m->dtype)) {
        const int dtype = (int)m->dtype;
        free(m->dir), free(m);
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "unknown dtype %d", dtype);
    }
    /* Weights are packed for the thread count they will run with. */
    const int threads = threads_enter(m->threads);
    st = matmul_ctx_new(&m->mm, err);
    if (st == ELANG_OK) st = config_load(dir, &m->cfg, err);
    if (st == ELANG_OK) st = weight_store_open(dir, &m->weights, err);
    if (st == ELANG_OK) {
        m->is_causal = config_is_causal(&m->cfg);
        m->is_seq2seq = config_is_seq2seq(&m->cfg) || m->is_causal;
        if (m->is_causal) st = causal_load(m->weights, &m->cfg, m->mm, m->dtype, &m->s2s, err);
        else if (strcmp(m->cfg.model_type, "t5") == 0) st = t5_load(m->weights, &m->cfg, m->mm, m->dtype, &m->s2s, err);
        else if (strcmp(m->cfg.model_type, "marian") == 0)
            st = marian_load(m->weights, &m->cfg, m->mm, m->dtype, &m->s2s, err);
        else st = encoder_classifier_load(&m->encoder, &m->cfg, m->weights, m->mm, m->dtype, err);
    }
    threads_leave(threads);
    if (st == ELANG_OK && encoder_head_present(dir)) {
        if (!m->is_seq2seq || m->is_causal)
            st = elang_fail(err, ELANG_ERR_FORMAT, "%s holds an encoder head (%s), but a %s %s: heads are for "
                            "encoder-decoders", dir, ENCODER_HEAD_JSON, m->cfg.model_type,
                            m->is_causal ? "language model has no encoder for it to read"
                                         : "classifier has no decoder for it to spare");
        else st = encoder_head_load(dir, m->s2s.info.d_model, &m->head, err);
    }
    if (st == ELANG_OK) st = tokenizer_load(dir, m->cfg.model_type, &m->tok, err);
    if (st == ELANG_OK) {
        /* Checked here, not when a text happens to hold the token. */
        const int rows = m->is_seq2seq ? m->s2s.info.vocab_size : m->cfg.vocab_size;
        const char *text;
        const int32_t max_id = tokenizer_max_id(m->tok, &text);
        if (max_id >= rows)
            st = elang_fail(err, ELANG_ERR_FORMAT, "%s: the tokenizer gives \"%s\" the id %d, but the model's "
                            "embedding has only %d rows", dir, text ? text : "?", max_id, rows);
    }
    if (st == ELANG_OK) st = choose_max_length(m, opts, err);
    if (st == ELANG_OK && opts && opts->input_prefix && !(m->input_prefix = strdup(opts->input_prefix)))
        st = elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading %s", dir);
    if (st == ELANG_OK && opts && opts->pair_infix && !(m->pair_infix = strdup(opts->pair_infix)))
        st = elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading %s", dir);
    if (st != ELANG_OK) {
        elang_model_free(m);
        return st;
    }
    *out = m;
    return ELANG_OK;
}

void elang_model_free(elang_model *m) {
    if (!m) return;
    encoder_classifier_free(&m->encoder);
    encoder_head_free(m->head);
    if (m->s2s.ops) m->s2s.ops->free(m->s2s.net);
    arena_free(&m->batch);
    arena_free(&m->run);
    matmul_ctx_free(m->mm); /* after the weights it packed */
    tokenizer_free(m->tok);
    weight_store_free(m->weights);
    config_free(&m->cfg);
    free(m->dir);
    free(m->input_prefix);
    free(m->pair_infix);
    free(m);
}

const char *elang_model_type(const elang_model *m) { return m->cfg.model_type; }
const char *elang_model_dir(const elang_model *m) { return m->dir; }
int elang_model_num_labels(const elang_model *m) { return m->cfg.num_labels; }
int elang_model_max_length(const elang_model *m) { return m->max_length; }
int elang_model_threads(const elang_model *m) { return m->threads; }

void model_batch_threads(elang_model *m) {
    const int n = m->threads_auto ? threads_available(m->threads) : m->threads;
    m->batches++;
    m->batches_fewer_threads += n < m->threads;
    if (m->fewest_threads == 0 || n < m->fewest_threads) m->fewest_threads = n;
    threads_enter(n);
}
elang_dtype elang_model_dtype(const elang_model *m) { return m->dtype; }

void elang_model_profile(const elang_model *m, elang_profile *out) {
    matmul_profile p;
    matmul_get_profile(m->mm, &p);
    *out = (elang_profile){.seconds = m->seconds, .linear_seconds = p.linear_seconds,
                           .linear_gflop = p.linear_flops / 1e9, .attention_seconds = p.batched_seconds,
                           .attention_gflop = p.batched_flops / 1e9, .products = p.products,
                           .batches = m->batches, .batches_fewer_threads = m->batches_fewer_threads,
                           .fewest_threads = m->fewest_threads ? m->fewest_threads : m->threads};
}

static const char *const dtype_names[] = {"f32", "bf16", "int8"};

const char *elang_dtype_name(elang_dtype t) {
    return t >= ELANG_DTYPE_F32 && t <= ELANG_DTYPE_INT8 ? dtype_names[t] : NULL;
}

bool elang_dtype_from_name(const char *name, elang_dtype *out) {
    for (int t = ELANG_DTYPE_F32; t <= ELANG_DTYPE_INT8; t++)
        if (strcmp(name, dtype_names[t]) == 0) {
            *out = (elang_dtype)t;
            return true;
        }
    return false;
}
bool elang_model_is_generator(const elang_model *m) { return m->is_seq2seq; }

bool elang_model_takes_pairs(const elang_model *m) { return !m->is_seq2seq || m->pair_infix; }

int elang_model_max_new_tokens(const elang_model *m) {
    /* A decoder-only prompt needs its special tokens (a BOS) and one token of text. */
    if (m->is_causal) {
        const int most = m->s2s.info.max_total_len - n_special_tokens(m->tok, false) - 1;
        return most > 0 ? most : 1; /* 0 would mean unbounded; one token overflows and is refused at run time */
    }
    /* Positions count the decoder start token too. */
    return m->is_seq2seq && m->s2s.info.max_target_len > 0 ? m->s2s.info.max_target_len - 1 : 0;
}

bool elang_model_is_causal(const elang_model *m) { return m->is_causal; }

elang_status elang_model_hash(const char *dir, char out[17], elang_error *err) {
    return dir_hash(dir, out, err);
}

const char *elang_model_label(const elang_model *m, int id) {
    return id >= 0 && id < m->cfg.num_labels ? m->cfg.id2label[id] : NULL;
}

double elang_model_gflops(const elang_model *m, int input_tokens, int output_steps) {
    if (input_tokens < 0 || output_steps < 0) return NAN;
    const model_config *c = &m->cfg;
    flops_dims d = {.layers = c->num_layers, .hidden = c->hidden_size, .intermediate = c->intermediate_size,
                    .heads = c->num_heads, .num_labels = c->num_labels};
    if (!m->is_seq2seq) return flops_encoder_classifier(&d, input_tokens) / 1e9;
    if (m->is_causal) {
        d.head_dim = c->lm.head_dim;
        d.kv_heads = c->lm.kv_heads;
        d.vocab = m->s2s.info.vocab_size;
        d.gated_ff = c->lm.gated_ff;
        return flops_causal(&d, input_tokens, output_steps > 0 ? output_steps : 1) / 1e9;
    }
    d.decoder_layers = c->s2s.decoder_layers;
    d.head_dim = c->s2s.head_dim;
    d.vocab = m->s2s.info.vocab_size;
    d.gated_ff = c->s2s.gated_ff;
    return flops_seq2seq(&d, input_tokens, output_steps) / 1e9;
}

elang_status model_encode(const elang_model *m, const char *text, const char *pair, token_seq *out,
                          elang_error *err) {
    return model_encode_max(m, text, pair, m->max_length, out, err);
}

elang_status model_encode_max(const elang_model *m, const char *text, const char *pair, int max_length,
                              token_seq *out, elang_error *err) {
    /* A generator reads one text: a pair is joined into it by the pair
     * infix; a classifier's tokenizer takes the two. */
    const bool join_pair = m->is_seq2seq && pair;
    if (join_pair && !m->pair_infix)
        return elang_fail(err, ELANG_ERR_INVALID_ARG,
                          "%s reads one text per input, not a pair: give it a pair infix (--pair-infix, e.g. "
                          "\" sentence2: \") to join the two", m->dir);
    if (!m->input_prefix && !join_pair) return tokenizer_encode(m->tok, text, pair, max_length, out, err);
    /* The input's text (a joined pair: text + infix + pair) goes after the
     * prefix, or, when the prefix holds {text}, there: a template such as
     * a language model's prompt "Review: {text} Sentiment:". */
    const char *prefix = m->input_prefix ? m->input_prefix : "", *slot = strstr(prefix, "{text}");
    const size_t before = slot ? (size_t)(slot - prefix) : strlen(prefix);
    strbuf joined = {0};
    const bool ok = strbuf_append(&joined, prefix, before) && strbuf_puts(&joined, text) &&
                    (!join_pair || (strbuf_puts(&joined, m->pair_infix) && strbuf_puts(&joined, pair))) &&
                    strbuf_puts(&joined, slot ? slot + strlen("{text}") : "");
    elang_status st = ok ? tokenizer_encode(m->tok, joined.s, join_pair ? NULL : pair, max_length, out, err)
                         : elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
    strbuf_free(&joined);
    return st;
}
