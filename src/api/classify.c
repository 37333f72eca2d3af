/* elang_classify: tokenize, batch, run the encoder, and turn logits into a
 * label, probabilities and the E-LANG energy. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/model_internal.h"
#include "core/scores.h"
#include "core/threads.h"
#include "util/clock.h"
#include "util/error.h"

void elang_class_out_free(elang_class_out *out, size_t n) {
    if (!out) return;
    for (size_t i = 0; i < n; i++) {
        free(out[i].logits);
        free(out[i].input_ids);
        free(out[i].token_type_ids);
        memset(&out[i], 0, sizeof out[i]);
    }
}

/* Fills label, probabilities and energy from the logits already in `o`. */
static void finish_output(elang_class_out *o, int L, double temperature) {
    int best = 0;
    double max = o->logits[0];
    for (int j = 1; j < L; j++)
        if (o->logits[j] > max) max = o->logits[best = j];
    double sum = 0.0;
    for (int j = 0; j < L; j++) sum += exp(o->logits[j] - max);
    for (int j = 0; j < L; j++) o->probs[j] = (float)(exp(o->logits[j] - max) / sum);
    o->label_id = best;
    o->energy = -log_sum_exp(o->logits, L, temperature);
}

/* Longer inputs first, so each batch holds inputs of similar length and
 * little compute goes to padding. Ties keep input order. */
static int by_length_desc(const void *a, const void *b, void *outputs) {
    const elang_class_out *o = outputs;
    const size_t i = *(const size_t *)a, j = *(const size_t *)b;
    const int li = o[i].num_tokens, lj = o[j].num_tokens;
    if (li != lj) return lj - li;
    return i < j ? -1 : i > j;
}

/* One padded batch: its inputs [B, S] and the encoder's buffers. */
typedef struct {
    int32_t *ids, *types, *mask; /* [B, S] */
    encoder_run run;
} classify_batch;

static void batch_carve(arena *a, const elang_model *m, int B, int S, classify_batch *c) {
    const size_t N = (size_t)B * S;
    c->ids = arena_take(a, sizeof(int32_t) * N);
    c->types = arena_take(a, sizeof(int32_t) * N);
    c->mask = arena_take(a, sizeof(int32_t) * N);
    encoder_run_carve(a, &m->encoder, B, S, &c->run);
}

/* Runs one padded batch over the inputs order[0..B). */
static elang_status run_batch(elang_model *m, elang_class_out *out, const size_t *order, int B,
                              elang_error *err) {
    int S = 0;
    for (int b = 0; b < B; b++)
        if (out[order[b]].num_tokens > S) S = out[order[b]].num_tokens;
    const int L = m->cfg.num_labels;
    classify_batch c;
    arena_measure(&m->run);
    batch_carve(&m->run, m, B, S, &c);
    if (!arena_commit(&m->run))
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for a batch of %d x %d tokens", B, S);
    batch_carve(&m->run, m, B, S, &c);
    int32_t *ids = c.ids, *types = c.types, *mask = c.mask;
    for (int b = 0; b < B; b++) {
        const elang_class_out *o = &out[order[b]];
        for (int s = 0; s < S; s++) {
            const bool real = s < o->num_tokens;
            ids[(size_t)b * S + s] = real ? o->input_ids[s] : m->cfg.pad_token_id;
            types[(size_t)b * S + s] = real && o->token_type_ids ? o->token_type_ids[s] : 0;
            mask[(size_t)b * S + s] = real;
        }
    }
    elang_status st = encoder_classifier_forward(&m->encoder, ids, m->encoder.type_emb ? types : NULL,
                                                 mask, B, S, &c.run, err);
    if (st == ELANG_OK)
        for (int b = 0; b < B; b++) memcpy(out[order[b]].logits, c.run.logits + (size_t)b * L, sizeof(float) * L);
    return st;
}

static elang_status tokenize_all(elang_model *m, const elang_text *in, size_t n,
                                 elang_class_out *out, elang_error *err) {
    const int L = m->cfg.num_labels;
    for (size_t i = 0; i < n; i++) {
        if (!in[i].text)
            return elang_error_item(err, elang_fail(err, ELANG_ERR_INVALID_ARG, "input %zu has no text", i),
                                    (long)i);
        token_seq seq;
        elang_status st = model_encode(m, in[i].text, in[i].text_pair, &seq, err);
        if (st != ELANG_OK) return elang_error_item(err, st, (long)i);
        out[i].input_ids = seq.ids;
        out[i].num_tokens = seq.len;
        /* Only BERT's tokenizer reports token types; RoBERTa's and
         * DistilBERT's return none (RoBERTa's single type row is all 0). */
        if (m->encoder.type_emb && !m->encoder.roberta_positions) out[i].token_type_ids = seq.type_ids;
        else free(seq.type_ids);
        out[i].logits = malloc(sizeof(float) * (size_t)L * 2);
        if (!out[i].logits) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for outputs");
        out[i].probs = out[i].logits + L;
    }
    return ELANG_OK;
}

/* A generator as a classifier: the label words' first tokens compete at the
 * first decoding step. */
static elang_status classify_by_label_words(elang_model *m, const elang_text *in, size_t n,
                                            const char *const *words, int k, int batch, double T,
                                            elang_class_out *out, elang_error *err) {
    int32_t *ids = malloc(sizeof *ids * (size_t)(k > 0 ? k : 1));
    elang_status st = ids ? model_label_word_ids(m, words, k, ids, err)
                          : elang_fail(err, ELANG_ERR_NOMEM, "out of memory for label words");
    if (st == ELANG_OK && n > 0) st = model_label_word_logits(m, in, n, ids, k, batch, out, err);
    free(ids);
    if (st != ELANG_OK) {
        elang_class_out_free(out, n);
        return st;
    }
    for (size_t i = 0; i < n; i++) finish_output(&out[i], k, T);
    return ELANG_OK;
}

elang_status elang_classify(elang_model *m, const elang_text *in, size_t n,
                            const elang_classify_opts *opts, elang_class_out *out,
                            elang_error *err) {
    if (!m) return elang_fail(err, ELANG_ERR_INVALID_ARG, "elang_classify needs a model");
    const int k = opts ? opts->num_label_words : 0;
    if (m->is_seq2seq && k == 0)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "a %s model generates text; it classifies by label words "
                          "alone (elang generate otherwise)", m->cfg.model_type);
    if (!m->is_seq2seq && k != 0)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "label words are for text generators; %s is a %s classifier "
                          "with labels of its own", m->dir, m->cfg.model_type);
    const int batch = opts && opts->batch_size > 0 ? opts->batch_size : 32;
    const double T = opts && opts->temperature != 0.0 ? opts->temperature : 1.0;
    if (opts && opts->batch_size < 0)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "batch size must be positive, got %d", opts->batch_size);
    if (!(T > 0.0) || !isfinite(T))
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "temperature must be a positive number, got %g", T);
    elang_status st = outputs_clear(out, n, sizeof *out, in, err);
    if (st != ELANG_OK) return st;
    /* Label words are checked against the vocabulary even for no input. */
    if (k != 0) return classify_by_label_words(m, in, n, opts->label_words, k, batch, T, out, err);
    if (n == 0) return ELANG_OK;

    size_t *order = malloc(sizeof *order * n);
    if (!order) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for %zu inputs", n);
    const int threads = threads_enter(m->threads);
    const double t0 = clock_seconds();
    st = tokenize_all(m, in, n, out, err);
    if (st == ELANG_OK) {
        for (size_t i = 0; i < n; i++) order[i] = i;
        qsort_r(order, n, sizeof *order, by_length_desc, out);
        for (size_t start = 0; start < n && st == ELANG_OK; start += (size_t)batch) {
            const int B = (int)(n - start < (size_t)batch ? n - start : (size_t)batch);
            model_batch_threads(m);
            st = run_batch(m, out, order + start, B, err);
        }
    }
    m->seconds += clock_seconds() - t0;
    threads_leave(threads);
    free(order);
    if (st != ELANG_OK) {
        elang_class_out_free(out, n);
        return st;
    }
    for (size_t i = 0; i < n; i++) finish_output(&out[i], m->cfg.num_labels, T);
    return ELANG_OK;
}
