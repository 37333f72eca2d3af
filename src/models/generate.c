#include "models/generate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

/* Shapes: B inputs, K beams, R = B*K decoder rows, V vocabulary,
 * L = 1 + max_new_tokens, the longest sequence (decoder start included). */
typedef struct {
    const seq2seq_model *m;
    const generate_opts *o;
    int B, K, R, V, L;
    seq2seq_cache cache;
    float *logits;      /* [R, V] raw logits of the current step */
    int32_t *tokens;    /* [R, L] each row's sequence so far */
    float *logprobs;    /* [R, L] per token (index 0, the start token, unused) */
    float *energies;    /* [R, L] likewise */
    float *stats;       /* [R, L, n_step_scores] likewise, when asked for */
    int n_stats;
    int32_t *feed;      /* [R] the tokens fed at the current step */
} search;

static double log_sum_exp(const float *x, int n, double temperature) {
    double max = -INFINITY;
    for (int i = 0; i < n; i++)
        if (x[i] > max) max = x[i];
    if (max == -INFINITY) return -INFINITY;
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += exp((x[i] - max) / temperature);
    return max + temperature * log(sum);
}

/* transformers' logits processors as the model's config asks for them:
 * NoBadWordsLogitsProcessor (Marian bans <pad>) and
 * ForcedEOSTokenLogitsProcessor (only </s> is allowed at the last step). */
static void process_scores(const search *s, float *scores, int cur_len) {
    const seq2seq_info *info = &s->m->info;
    if (info->banned_id >= 0) scores[info->banned_id] = -INFINITY;
    if (info->forced_eos_id >= 0 && cur_len == s->L - 1) {
        for (int v = 0; v < s->V; v++) scores[v] = -INFINITY;
        scores[info->forced_eos_id] = 0.0f;
    }
}

/* Records token `tok` of row r at position t with the log-probability and
 * energy of the processed scores it was picked from. */
static void record(search *s, int r, int t, int tok, const float *processed) {
    const double lse = log_sum_exp(processed, s->V, 1.0);
    const size_t at = (size_t)r * s->L + t;
    s->tokens[at] = tok;
    s->logprobs[at] = (float)(processed[tok] - lse);
    s->energies[at] = (float)(0.0 - log_sum_exp(processed, s->V, s->o->temperature));
    if (s->n_stats) s->o->step_scores(processed, s->V, s->o->temperature, s->stats + at * s->n_stats);
}

static elang_status copy_out(const search *s, int r, int len, double score, generated_seq *out,
                             elang_error *err) {
    const int n = s->n_stats;
    out->ids = malloc(sizeof(int32_t) * (size_t)len);
    out->logprobs = malloc(sizeof(float) * (size_t)len);
    out->energies = malloc(sizeof(float) * (size_t)len);
    out->step_scores = n ? malloc(sizeof(float) * (size_t)len * n) : NULL;
    if (!out->ids || !out->logprobs || !out->energies || (n && !out->step_scores)) {
        generated_seq_free(out);
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for generated sequences");
    }
    memcpy(out->ids, s->tokens + (size_t)r * s->L, sizeof(int32_t) * len);
    memcpy(out->logprobs, s->logprobs + (size_t)r * s->L + 1, sizeof(float) * (len - 1));
    memcpy(out->energies, s->energies + (size_t)r * s->L + 1, sizeof(float) * (len - 1));
    if (n) memcpy(out->step_scores, s->stats + ((size_t)r * s->L + 1) * n, sizeof(float) * (len - 1) * n);
    out->len = len;
    out->score = score;
    return ELANG_OK;
}

/* ------------------------------------------------------------- greedy */

/* Row r's first len tokens end with </s>. */
static bool ended(const search *s, int r, int len) {
    return len > 1 && s->tokens[(size_t)r * s->L + len - 1] == s->m->info.eos_id;
}

/* Argmax of the processed logits. A row that has produced </s> is done: it
 * is fed <pad> from then on (as transformers does, while the batch's other
 * rows go on), nothing more is recorded for it, and its output ends at the
 * </s>. */
static elang_status greedy(search *s, generated_seq *out, elang_error *err) {
    const seq2seq_info *info = &s->m->info;
    int *len = malloc(sizeof(int) * s->R);
    if (!len) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for generation");
    for (int r = 0; r < s->R; r++) len[r] = 1;
    elang_status st = ELANG_OK;
    int unfinished = s->R;
    for (int t = 1; t < s->L && unfinished > 0; t++) {
        for (int r = 0; r < s->R; r++)
            s->feed[r] = ended(s, r, len[r]) ? info->pad_id : s->tokens[(size_t)r * s->L + t - 1];
        if ((st = s->m->ops->step(s->m->net, &s->cache, s->feed, s->logits, err)) != ELANG_OK) break;
        for (int r = 0; r < s->R; r++) {
            if (ended(s, r, len[r])) continue;
            float *scores = s->logits + (size_t)r * s->V;
            process_scores(s, scores, t);
            int best = 0;
            for (int v = 1; v < s->V; v++)
                if (scores[v] > scores[best]) best = v;
            record(s, r, t, best, scores);
            len[r] = t + 1;
            if (best == info->eos_id) unfinished--;
        }
    }
    for (int r = 0; r < s->R && st == ELANG_OK; r++) {
        double sum = 0.0;
        for (int t = 1; t < len[r]; t++) sum += s->logprobs[(size_t)r * s->L + t];
        st = copy_out(s, r, len[r], sum, &out[r], err);
    }
    free(len);
    return st;
}

/* --------------------------------------------------------------- beams */

/* Finished hypotheses of one input: transformers' BeamHypotheses, keeping
 * the K best by length-penalised score. */
typedef struct {
    int count;
    double worst;
    generated_seq *hyps; /* [K] */
} hypotheses;

/* Adds row r's first `len` tokens (the last possibly </s>) with the summed
 * log-probability `sum`; the penalty counts `penalty_len` tokens, which for a
 * finished hypothesis excludes its </s> as transformers 4.25 does. */
static elang_status hyp_add(search *s, hypotheses *h, int r, int len, int penalty_len, double sum,
                            elang_error *err) {
    const double score = sum / pow(penalty_len, s->o->length_penalty);
    if (h->count == s->K && score <= h->worst) return ELANG_OK;
    generated_seq g = {0};
    elang_status st = copy_out(s, r, len, score, &g, err);
    if (st != ELANG_OK) return st;
    if (h->count < s->K) {
        h->hyps[h->count++] = g;
    } else {
        int worst = 0;
        for (int i = 1; i < h->count; i++)
            if (h->hyps[i].score < h->hyps[worst].score) worst = i;
        generated_seq_free(&h->hyps[worst]);
        h->hyps[worst] = g;
    }
    h->worst = INFINITY;
    for (int i = 0; i < h->count; i++)
        if (h->hyps[i].score < h->worst) h->worst = h->hyps[i].score;
    return ELANG_OK;
}

static bool hyp_done(const search *s, const hypotheses *h, double best_sum, int cur_len) {
    if (h->count < s->K) return false;
    if (s->o->early_stopping) return true;
    return h->worst >= best_sum / pow(cur_len, s->o->length_penalty);
}

typedef struct {
    double score;
    int index; /* beam * V + token */
} candidate;

/* The 2K best (score, beam*V + token) of one input, best first; ties keep
 * the lower index first. */
static void top_candidates(const float *scores, int n, int k, candidate *top) {
    int filled = 0;
    for (int i = 0; i < n; i++) {
        const double sc = scores[i];
        if (filled == k && sc <= top[k - 1].score) continue;
        int j = filled < k ? filled++ : k - 1;
        while (j > 0 && top[j - 1].score < sc) {
            top[j] = top[j - 1];
            j--;
        }
        top[j] = (candidate){sc, i};
    }
}

/* Gathers rows of a [R, L] array: row r becomes old row from[r]. */
static void gather(void *base, size_t elem, int R, int L, const int *from, void *scratch) {
    const size_t row = elem * (size_t)L;
    for (int r = 0; r < R; r++) memcpy((char *)scratch + r * row, (char *)base + from[r] * row, row);
    memcpy(base, scratch, row * R);
}

static elang_status beam_search(search *s, generated_seq *out, elang_error *err) {
    const seq2seq_info *info = &s->m->info;
    const int K = s->K, V = s->V, R = s->R;
    double *beam_score = malloc(sizeof(double) * R), *next_score = malloc(sizeof(double) * R);
    int *from = malloc(sizeof(int) * R);
    int32_t *next_tok = malloc(sizeof(int32_t) * R);
    float *next_logprob = malloc(sizeof(float) * R), *next_energy = malloc(sizeof(float) * R);
    float *next_stats = malloc(sizeof(float) * R * (s->n_stats + 1));
    float *scores = malloc(sizeof(float) * (size_t)R * V), *raw = malloc(sizeof(float) * V);
    candidate *top = malloc(sizeof(candidate) * 2 * K);
    hypotheses *hyps = calloc(s->B, sizeof *hyps);
    bool *done = calloc(s->B, sizeof *done);
    void *scratch = malloc(sizeof(float) * (size_t)R * s->L * (s->n_stats + 1));
    elang_status st = ELANG_OK;
    if (!beam_score || !next_score || !from || !next_tok || !next_logprob || !next_energy || !next_stats ||
        !scores || !raw || !top || !hyps || !done || !scratch)
        st = elang_fail(err, ELANG_ERR_NOMEM, "out of memory for beam search");
    for (int b = 0; b < s->B && st == ELANG_OK; b++)
        if (!(hyps[b].hyps = calloc(K, sizeof(generated_seq))))
            st = elang_fail(err, ELANG_ERR_NOMEM, "out of memory for beam search");
    /* Only the first beam of each input is live at the start, so the first
     * step does not pick the same token K times. */
    for (int r = 0; r < R && st == ELANG_OK; r++) beam_score[r] = r % K == 0 ? 0.0 : -1e9;

    int cur_len = 1;
    bool all_done = false;
    while (st == ELANG_OK && cur_len < s->L && !all_done) {
        for (int r = 0; r < R; r++) s->feed[r] = s->tokens[(size_t)r * s->L + cur_len - 1];
        if ((st = s->m->ops->step(s->m->net, &s->cache, s->feed, s->logits, err)) != ELANG_OK) break;
        /* Every row's token log-probabilities, processed, plus its beam score;
         * the per-token record keeps the processed raw logits' view. */
        for (int r = 0; r < R; r++) {
            float *logit = s->logits + (size_t)r * V, *sc = scores + (size_t)r * V;
            const double lse = log_sum_exp(logit, V, 1.0);
            for (int v = 0; v < V; v++) sc[v] = (float)(logit[v] - lse);
            process_scores(s, sc, cur_len);
            for (int v = 0; v < V; v++) sc[v] = (float)(sc[v] + beam_score[r]);
        }
        for (int b = 0; b < s->B && st == ELANG_OK; b++) {
            if (done[b]) {
                for (int j = 0; j < K; j++) {
                    const int r = b * K + j;
                    from[r] = r, next_tok[r] = info->pad_id, next_score[r] = 0.0;
                    next_logprob[r] = next_energy[r] = 0.0f;
                    for (int k = 0; k < s->n_stats; k++) next_stats[(size_t)r * s->n_stats + k] = 0.0f;
                }
                continue;
            }
            top_candidates(scores + (size_t)b * K * V, K * V, 2 * K, top);
            int kept = 0;
            for (int rank = 0; rank < 2 * K && kept < K && st == ELANG_OK; rank++) {
                const int r = b * K + top[rank].index / V, tok = top[rank].index % V;
                memcpy(raw, s->logits + (size_t)r * V, sizeof(float) * V);
                process_scores(s, raw, cur_len);
                if (tok == info->eos_id) {
                    if (rank >= K) continue;
                    /* A finished hypothesis: this row plus </s>. The </s> is
                     * written into the row's next slot only to be copied out
                     * with it; the slot is overwritten after the gather. */
                    record(s, r, cur_len, tok, raw);
                    st = hyp_add(s, &hyps[b], r, cur_len + 1, cur_len, top[rank].score, err);
                } else {
                    const int nr = b * K + kept++;
                    const double lse = log_sum_exp(raw, V, 1.0);
                    from[nr] = r, next_tok[nr] = tok, next_score[nr] = top[rank].score;
                    next_logprob[nr] = (float)(raw[tok] - lse);
                    next_energy[nr] = (float)(0.0 - log_sum_exp(raw, V, s->o->temperature));
                    if (s->n_stats) s->o->step_scores(raw, V, s->o->temperature, next_stats + (size_t)nr * s->n_stats);
                }
            }
            done[b] = hyp_done(s, &hyps[b], top[0].score, cur_len);
        }
        if (st != ELANG_OK) break;
        gather(s->tokens, sizeof(int32_t), R, s->L, from, scratch);
        gather(s->logprobs, sizeof(float), R, s->L, from, scratch);
        gather(s->energies, sizeof(float), R, s->L, from, scratch);
        if (s->n_stats) gather(s->stats, sizeof(float) * s->n_stats, R, s->L, from, scratch);
        for (int r = 0; r < R; r++) {
            if (s->n_stats)
                memcpy(s->stats + ((size_t)r * s->L + cur_len) * s->n_stats, next_stats + (size_t)r * s->n_stats,
                       sizeof(float) * s->n_stats);
            s->tokens[(size_t)r * s->L + cur_len] = next_tok[r];
            s->logprobs[(size_t)r * s->L + cur_len] = next_logprob[r];
            s->energies[(size_t)r * s->L + cur_len] = next_energy[r];
            beam_score[r] = next_score[r];
        }
        st = seq2seq_cache_reorder(&s->cache, from, err);
        cur_len++;
        all_done = true;
        for (int b = 0; b < s->B; b++) all_done = all_done && done[b];
    }

    /* Inputs still open at the length limit offer their live beams. */
    for (int b = 0; b < s->B && st == ELANG_OK; b++) {
        for (int j = 0; j < K && !done[b] && st == ELANG_OK; j++)
            st = hyp_add(s, &hyps[b], b * K + j, cur_len, cur_len, beam_score[b * K + j], err);
        if (st != ELANG_OK) break;
        int best = 0;
        for (int i = 1; i < hyps[b].count; i++)
            if (hyps[b].hyps[i].score >= hyps[b].hyps[best].score) best = i;
        out[b] = hyps[b].hyps[best];
        hyps[b].hyps[best] = (generated_seq){0};
    }
    for (int b = 0; hyps && b < s->B; b++) {
        for (int i = 0; hyps[b].hyps && i < K; i++) generated_seq_free(&hyps[b].hyps[i]);
        free(hyps[b].hyps);
    }
    free(beam_score), free(next_score), free(from), free(next_tok), free(next_logprob), free(next_energy), free(next_stats);
    free(scores), free(raw), free(top);
    free(hyps), free(done), free(scratch);
    return st;
}

/* ---------------------------------------------------------------- entry */

static void search_free(search *s) {
    seq2seq_cache_free(&s->cache);
    free(s->logits), free(s->tokens), free(s->logprobs), free(s->energies), free(s->stats), free(s->feed);
}

/* Encodes the batch, fills the cross-attention cache and seeds every row
 * with the decoder start token. */
static elang_status search_init(search *s, const seq2seq_model *m, const generate_opts *o,
                                 const int32_t *src_ids, const int32_t *src_mask, int B, int S,
                                 int max_steps, elang_error *err) {
    memset(s, 0, sizeof *s);
    s->m = m, s->o = o, s->B = B, s->K = o->num_beams, s->R = B * o->num_beams;
    s->V = m->info.vocab_size, s->L = max_steps + 1;
    float *enc = malloc(sizeof(float) * (size_t)B * S * m->info.d_model);
    s->logits = malloc(sizeof(float) * (size_t)s->R * s->V);
    s->tokens = malloc(sizeof(int32_t) * (size_t)s->R * s->L);
    s->logprobs = calloc((size_t)s->R * s->L, sizeof(float));
    s->energies = calloc((size_t)s->R * s->L, sizeof(float));
    s->n_stats = o->step_scores ? o->n_step_scores : 0;
    s->stats = s->n_stats ? calloc((size_t)s->R * s->L * s->n_stats, sizeof(float)) : NULL;
    s->feed = malloc(sizeof(int32_t) * s->R);
    elang_status st = ELANG_OK;
    if (!enc || !s->logits || !s->tokens || !s->logprobs || !s->energies || !s->feed ||
        (s->n_stats && !s->stats))
        st = elang_fail(err, ELANG_ERR_NOMEM, "out of memory for generating %d x %d rows", B, o->num_beams);
    if (st == ELANG_OK) st = m->ops->encode(m->net, src_ids, src_mask, B, S, enc, err);
    if (st == ELANG_OK) st = seq2seq_cache_init(&s->cache, m, s->R, S, src_mask, B, max_steps, err);
    if (st == ELANG_OK) st = m->ops->start(m->net, enc, B, &s->cache, err);
    for (int r = 0; st == ELANG_OK && r < s->R; r++) s->tokens[(size_t)r * s->L] = m->info.decoder_start_id;
    free(enc);
    if (st != ELANG_OK) search_free(s);
    return st;
}

elang_status generate(const seq2seq_model *m, const int32_t *src_ids, const int32_t *src_mask, int B,
                      int S, const generate_opts *opts, generated_seq *out, elang_error *err) {
    if (opts->num_beams < 1 || opts->max_new_tokens < 1 || !(opts->temperature > 0.0))
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "generation needs num_beams >= 1, max_new_tokens >= 1 "
                          "and a positive temperature");
    search s;
    elang_status st = search_init(&s, m, opts, src_ids, src_mask, B, S, opts->max_new_tokens, err);
    if (st != ELANG_OK) return st;
    memset(out, 0, sizeof *out * B);
    st = opts->num_beams == 1 ? greedy(&s, out, err) : beam_search(&s, out, err);
    search_free(&s);
    if (st != ELANG_OK)
        for (int b = 0; b < B; b++) generated_seq_free(&out[b]);
    return st;
}

elang_status first_step_logits(const seq2seq_model *m, const int32_t *src_ids, const int32_t *src_mask,
                               int B, int S, float *logits, elang_error *err) {
    const generate_opts o = {.num_beams = 1, .max_new_tokens = 1, .temperature = 1.0};
    search s;
    elang_status st = search_init(&s, m, &o, src_ids, src_mask, B, S, 1, err);
    if (st != ELANG_OK) return st;
    for (int r = 0; r < s.R; r++) s.feed[r] = m->info.decoder_start_id;
    st = m->ops->step(m->net, &s.cache, s.feed, logits, err);
    search_free(&s);
    return st;
}

elang_status teacher_forced_energies(const seq2seq_model *m, const int32_t *src_ids, int S,
                                     const int32_t *ids, int len, double temperature,
                                     float *energies, elang_error *err) {
    const generate_opts o = {.num_beams = 1, .max_new_tokens = len, .temperature = temperature};
    int32_t *mask = malloc(sizeof(int32_t) * S);
    if (!mask) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
    for (int i = 0; i < S; i++) mask[i] = 1;
    search s;
    elang_status st = search_init(&s, m, &o, src_ids, mask, 1, S, len, err);
    free(mask);
    if (st != ELANG_OK) return st;
    for (int t = 0; st == ELANG_OK && t < len; t++)
        if ((st = m->ops->step(m->net, &s.cache, &ids[t], s.logits, err)) == ELANG_OK)
            energies[t] = (float)-log_sum_exp(s.logits, s.V, temperature);
    search_free(&s);
    return st;
}

void generated_seq_free(generated_seq *g) {
    free(g->ids), free(g->logprobs), free(g->energies), free(g->step_scores);
    memset(g, 0, sizeof *g);
}
