/* A generator's encoder head (models/encoder_head.h) behind the model: its
 * routing score for texts, and what it costs. */
#include <stdlib.h>
#include <string.h>

#include "api/model_internal.h"
#include "core/threads.h"
#include "models/flops.h"
#include "util/clock.h"
#include "util/error.h"

bool elang_model_has_head(const elang_model *m) { return m->head != NULL; }

double elang_model_head_gflops(const elang_model *m, int input_tokens) {
    if (!m->head) return 0.0;
    const model_config *c = &m->cfg;
    const flops_dims d = {.layers = c->num_layers, .hidden = c->hidden_size, .intermediate = c->intermediate_size,
                          .heads = c->num_heads, .head_dim = c->s2s.head_dim, .gated_ff = c->s2s.gated_ff};
    return (flops_seq2seq_encoder(&d, input_tokens) + encoder_head_flops(m->head)) / 1e9;
}

static int by_length_desc(const void *a, const void *b, void *lengths) {
    const token_seq *l = lengths;
    const size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (l[i].len != l[j].len) return l[j].len - l[i].len;
    return i < j ? -1 : i > j;
}

elang_status model_head_scores(elang_model *m, const elang_text *in, size_t n, int batch_size, double temperature,
                               double *scores, int *input_tokens, elang_error *err) {
    if (!m->head)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "%s has no encoder head (%s and %s)", m->dir, ENCODER_HEAD_JSON,
                          ENCODER_HEAD_WEIGHTS);
    if (n == 0) return ELANG_OK;
    token_seq *seqs = calloc(n, sizeof *seqs);
    size_t *order = malloc(sizeof *order * n);
    double *batch_scores = malloc(sizeof(double) * (size_t)(batch_size > 0 ? batch_size : 1));
    elang_status st = seqs && order && batch_scores && batch_size > 0
                          ? ELANG_OK : elang_fail(err, ELANG_ERR_NOMEM, "out of memory for %zu inputs", n);
    const int threads = threads_enter(m->threads);
    const double t0 = clock_seconds();
    for (size_t i = 0; st == ELANG_OK && i < n; i++) {
        if (!in[i].text) st = elang_fail(err, ELANG_ERR_INVALID_ARG, "input %zu has no text", i);
        else st = model_encode(m, in[i].text, in[i].text_pair, &seqs[i], err);
        if (st != ELANG_OK) st = elang_error_item(err, st, (long)i);
        order[i] = i;
    }
    if (st == ELANG_OK) qsort_r(order, n, sizeof *order, by_length_desc, seqs);
    for (size_t start = 0; st == ELANG_OK && start < n; start += (size_t)batch_size) {
        const int B = (int)(n - start < (size_t)batch_size ? n - start : (size_t)batch_size);
        const int S = seqs[order[start]].len; /* longest first */
        arena_measure(&m->batch);
        int32_t *ids = arena_take(&m->batch, sizeof(int32_t) * (size_t)B * S);
        int32_t *mask = arena_take(&m->batch, sizeof(int32_t) * (size_t)B * S);
        if (!arena_commit(&m->batch)) {
            st = elang_fail(err, ELANG_ERR_NOMEM, "out of memory for a batch of %d x %d tokens", B, S);
            break;
        }
        ids = arena_take(&m->batch, sizeof(int32_t) * (size_t)B * S);
        mask = arena_take(&m->batch, sizeof(int32_t) * (size_t)B * S);
        for (int b = 0; b < B; b++) {
            const token_seq *q = &seqs[order[start + (size_t)b]];
            for (int s = 0; s < S; s++) {
                ids[(size_t)b * S + s] = s < q->len ? q->ids[s] : m->s2s.info.pad_id;
                mask[(size_t)b * S + s] = s < q->len;
            }
        }
        st = encoder_head_scores(m->head, &m->s2s, &m->run, ids, mask, B, S, temperature, batch_scores, err);
        for (int b = 0; st == ELANG_OK && b < B; b++) {
            const size_t i = order[start + (size_t)b];
            scores[i] = batch_scores[b];
            input_tokens[i] = seqs[i].len;
        }
    }
    m->seconds += clock_seconds() - t0;
    threads_leave(threads);
    for (size_t i = 0; seqs && i < n; i++) token_seq_free(&seqs[i]);
    free(seqs), free(order), free(batch_scores);
    return st;
}
