#include "models/generate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/scores.h"
#include "util/error.h"

/* Logit entries a step must scan before its rows are shared among threads:
 * below this, waking the other threads costs more than the scan. */
enum { ROWS_PARALLEL_MIN = 1 << 16 };

typedef struct {
    double score;
    int index; /* beam * V + token */
} candidate;

/* Everything one generation uses, carved with the model's run state from
 * one arena. Shapes: B inputs, K beams, R = B*K decoder rows, V vocabulary,
 * L = 1 + max_new_tokens, the longest sequence (decoder start included),
 * n = n_stats per token. */
typedef struct {
    const seq2seq_model *m;
    const generate_opts *o;
    int B, K, R, V, L, n_stats;
    seq2seq_run run;
    float *logits;      /* [R, V] raw logits of the current step */
    int32_t *tokens;    /* [R, L] each row's sequence so far */
    float *logprobs;    /* [R, L] per token (index 0, the start token, unused) */
    float *energies;    /* [R, L] likewise */
    float *stats;       /* [R, L, n] likewise, when asked for */
    int32_t *feed;      /* [R] the tokens fed at the current step, one per live row */
    int *len;           /* [R] greedy: each row's length so far */
    int *active;        /* [R] the row (greedy) or input (beams) each live row of the run decodes */
    int *keep;          /* [R] which of the run's rows stay after a step */
    /* Beam search: the next step's rows before they are gathered. */
    double *beam_score, *next_score;   /* [R] */
    int *from;                         /* [R] the row each new row continues */
    int32_t *next_tok;                 /* [R] */
    float *next_logprob, *next_energy; /* [R] */
    float *next_stats;                 /* [R, n] */
    float *scores;                     /* [R, V] log-probabilities plus the beam's score */
    float *raw;                        /* [V] one row's processed raw logits */
    candidate *top;                    /* [2K] */
    void *gather;                      /* [R, L, max(n, 1)] floats: reordering scratch */
    /* Finished hypotheses, K slots per input (transformers' BeamHypotheses),
     * laid out like the rows: slot b*K + j. */
    int32_t *hyp_tokens;               /* [B*K, L] */
    float *hyp_logprobs, *hyp_energies;/* [B*K, L] */
    float *hyp_stats;                  /* [B*K, L, n] */
    int *hyp_len;                      /* [B*K] */
    double *hyp_score;                 /* [B*K] */
    int *hyp_count;                    /* [B] */
    double *hyp_worst;                 /* [B] */
    bool *done;                        /* [B] */
} search;

static void search_carve(search *s, arena *a) {
    const size_t R = (size_t)s->R, V = (size_t)s->V, L = (size_t)s->L, n = (size_t)s->n_stats;
    const size_t slots = (size_t)s->B * s->K;
    s->m->ops->carve(s->m->net, a, &s->run);
    s->logits = arena_take(a, sizeof(float) * R * V);
    s->tokens = arena_take(a, sizeof(int32_t) * R * L);
    s->logprobs = arena_take(a, sizeof(float) * R * L);
    s->energies = arena_take(a, sizeof(float) * R * L);
    s->stats = arena_take(a, sizeof(float) * R * L * n);
    s->feed = arena_take(a, sizeof(int32_t) * R);
    s->len = arena_take(a, sizeof(int) * R);
    s->active = arena_take(a, sizeof(int) * R);
    s->keep = arena_take(a, sizeof(int) * R);
    if (s->K == 1) return;
    s->beam_score = arena_take(a, sizeof(double) * R);
    s->next_score = arena_take(a, sizeof(double) * R);
    s->from = arena_take(a, sizeof(int) * R);
    s->next_tok = arena_take(a, sizeof(int32_t) * R);
    s->next_logprob = arena_take(a, sizeof(float) * R);
    s->next_energy = arena_take(a, sizeof(float) * R);
    s->next_stats = arena_take(a, sizeof(float) * R * n);
    s->scores = arena_take(a, sizeof(float) * R * V);
    s->raw = arena_take(a, sizeof(float) * V);
    s->top = arena_take(a, sizeof(candidate) * 2 * (size_t)s->K);
    s->gather = arena_take(a, sizeof(float) * R * L * (n > 1 ? n : 1));
    s->hyp_tokens = arena_take(a, sizeof(int32_t) * slots * L);
    s->hyp_logprobs = arena_take(a, sizeof(float) * slots * L);
    s->hyp_energies = arena_take(a, sizeof(float) * slots * L);
    s->hyp_stats = arena_take(a, sizeof(float) * slots * L * n);
    s->hyp_len = arena_take(a, sizeof(int) * slots);
    s->hyp_score = arena_take(a, sizeof(double) * slots);
    s->hyp_count = arena_take(a, sizeof(int) * (size_t)s->B);
    s->hyp_worst = arena_take(a, sizeof(double) * (size_t)s->B);
    s->done = arena_take(a, sizeof(bool) * (size_t)s->B);
}

/* Carves the search from the model's arena, and prefills: the batch
 * encoded and the decoder start token fed (encoder-decoders), or the
 * prompts run through the stack (decoder-only); s->logits then holds the
 * first step's logits. Every row starts with the decoder start token
 * (decoder-only: -1, a placeholder never output). */
static elang_status search_init(search *s, const seq2seq_model *m, arena *a, const generate_opts *o,
                                const int32_t *src_ids, const int32_t *src_mask, int B, int S, int max_steps,
                                elang_error *err) {
    *s = (search){.m = m, .o = o, .B = B, .K = o->num_beams, .R = B * o->num_beams, .V = m->info.vocab_size,
                  .L = max_steps + 1, .n_stats = o->step_scores ? ELANG_DIST_SCORES : 0};
    s->run = (seq2seq_run){.B = B, .R = s->R, .S = S, .max_steps = max_steps};
    arena_measure(a);
    search_carve(s, a);
    if (!arena_commit(a))
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for generating %d x %d rows", B, o->num_beams);
    search_carve(s, a);
    seq2seq_run_set_mask(&s->run, src_mask);
    const size_t RL = (size_t)s->R * s->L;
    memset(s->logprobs, 0, sizeof(float) * RL);
    memset(s->energies, 0, sizeof(float) * RL);
    memset(s->stats, 0, sizeof(float) * RL * (size_t)s->n_stats);
    elang_status st = m->ops->prefill(m->net, &s->run, src_ids, src_mask, s->logits, err);
    if (st != ELANG_OK) return st;
    for (int r = 0; r < s->R; r++) s->tokens[(size_t)r * s->L] = m->info.decoder_start_id;
    return ELANG_OK;
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

/* The log-probability of token `tok` (-1: the best one, greedy search's
 * pick), the energy and (into stats) the routing scores of the processed
 * scores it was picked from; returns the token. */
static int token_record(const search *s, const float *processed, int tok, float *logprob, float *energy,
                        float *stats) {
    double lse, e;
    const int best = step_statistics(processed, s->V, s->o->temperature, &lse, &e, s->n_stats ? stats : NULL);
    if (tok < 0) tok = best;
    *logprob = (float)(processed[tok] - lse);
    *energy = (float)e;
    return tok;
}

/* Records token `tok` (-1: the best) of row r at position t; returns it. */
static int record(search *s, int r, int t, int tok, const float *processed) {
    const size_t at = (size_t)r * s->L + t;
    tok = token_record(s, processed, tok, &s->logprobs[at], &s->energies[at], s->stats + at * s->n_stats);
    s->tokens[at] = tok;
    return tok;
}

/* A generated sequence of `len` tokens from arrays laid out as the rows:
 * tokens[0..len) (a decoder-only model's from 1: its placeholder start
 * goes), and the per-token values from index 1. */
static elang_status seq_out(const search *s, const int32_t *tokens, const float *logprobs, const float *energies,
                            const float *stats, int len, double score, generated_seq *out, elang_error *err) {
    const int n = s->n_stats, skip = s->m->info.decoder_start_id < 0;
    out->ids = malloc(sizeof(int32_t) * (size_t)len);
    out->logprobs = malloc(sizeof(float) * (size_t)len);
    out->energies = malloc(sizeof(float) * (size_t)len);
    out->step_scores = n ? malloc(sizeof(float) * (size_t)len * n) : NULL;
    if (!out->ids || !out->logprobs || !out->energies || (n && !out->step_scores)) {
        generated_seq_free(out);
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for generated sequences");
    }
    memcpy(out->ids, tokens + skip, sizeof(int32_t) * (len - skip));
    memcpy(out->logprobs, logprobs + 1, sizeof(float) * (len - 1));
    memcpy(out->energies, energies + 1, sizeof(float) * (len - 1));
    if (n) memcpy(out->step_scores, stats + n, sizeof(float) * (len - 1) * n);
    out->len = len - skip;
    out->steps = len - 1;
    out->score = score;
    return ELANG_OK;
}

/* ------------------------------------------------------------- greedy */

/* Whether row r's tokens generated up to step t end its generation at a
 * stop string. */
static bool stops(const search *s, int r, int t) {
    return s->o->stop && s->o->stop(s->o->stop_ctx, r, s->tokens + (size_t)r * s->L + 1, t);
}

/* Argmax of the processed logits. A row that has produced </s> is done:
 * its output ends at the </s>, and the row leaves the batch, so that the
 * others' steps no longer compute it (transformers feeds it <pad> until the
 * batch ends; rows being independent, the others' outputs are the same). */
static elang_status greedy(search *s, generated_seq *out, elang_error *err) {
    const seq2seq_info *info = &s->m->info;
    int live = s->R; /* rows still decoding: s->active[0..live), the run's rows in that order */
    for (int r = 0; r < s->R; r++) s->len[r] = 1, s->active[r] = r;
    elang_status st = ELANG_OK;
    for (int t = 1; t < s->L && live > 0; t++) {
        /* The first step's logits come from the prefill. */
        for (int i = 0; i < live && t > 1; i++) s->feed[i] = s->tokens[(size_t)s->active[i] * s->L + t - 1];
        if (t > 1 && (st = s->m->ops->step(s->m->net, &s->run, s->feed, s->logits, err)) != ELANG_OK) return st;
        /* Rows are independent: each thread scans its own rows' logits. */
#pragma omp parallel for if ((long)live * s->V >= ROWS_PARALLEL_MIN)
        for (int i = 0; i < live; i++) {
            float *scores = s->logits + (size_t)i * s->V;
            process_scores(s, scores, t);
            record(s, s->active[i], t, -1, scores);
        }
        int kept = 0;
        for (int i = 0; i < live; i++) {
            const int r = s->active[i];
            s->len[r] = t + 1;
            if (!seq2seq_is_eos(info, s->tokens[(size_t)r * s->L + t]) && !stops(s, r, t))
                s->keep[kept] = i, s->active[kept++] = r;
        }
        if (kept < live) seq2seq_run_keep(&s->run, s->keep, kept);
        live = kept;
    }
    for (int r = 0; r < s->R && st == ELANG_OK; r++) {
        const size_t row = (size_t)r * s->L;
        double sum = 0.0;
        for (int t = 1; t < s->len[r]; t++) sum += s->logprobs[row + t];
        st = seq_out(s, s->tokens + row, s->logprobs + row, s->energies + row, s->stats + row * s->n_stats,
                     s->len[r], sum, &out[r], err);
    }
    return st;
}

/* --------------------------------------------------------------- beams */

/* Offers row r's first `len` tokens (the last possibly </s>) with the
 * summed log-probability `sum` to input b's finished hypotheses, which keep
 * the K best by length-penalised score; the penalty counts `penalty_len`
 * tokens, which for a finished hypothesis excludes its </s> as transformers
 * 4.25 does. */
static void hyp_add(search *s, int b, int r, int len, int penalty_len, double sum) {
    const double score = sum / pow(penalty_len, s->o->length_penalty);
    const int K = s->K, first = b * K;
    if (s->hyp_count[b] == K && score <= s->hyp_worst[b]) return;
    int slot = first + s->hyp_count[b];
    if (s->hyp_count[b] < K) {
        s->hyp_count[b]++;
    } else {
        slot = first;
        for (int i = first + 1; i < first + K; i++)
            if (s->hyp_score[i] < s->hyp_score[slot]) slot = i;
    }
    const size_t L = (size_t)s->L, n = (size_t)s->n_stats;
    memcpy(s->hyp_tokens + slot * L, s->tokens + r * L, sizeof(int32_t) * (size_t)len);
    memcpy(s->hyp_logprobs + slot * L, s->logprobs + r * L, sizeof(float) * (size_t)len);
    memcpy(s->hyp_energies + slot * L, s->energies + r * L, sizeof(float) * (size_t)len);
    memcpy(s->hyp_stats + slot * L * n, s->stats + r * L * n, sizeof(float) * (size_t)len * n);
    s->hyp_len[slot] = len;
    s->hyp_score[slot] = score;
    s->hyp_worst[b] = INFINITY;
    for (int i = first; i < first + s->hyp_count[b]; i++)
        if (s->hyp_score[i] < s->hyp_worst[b]) s->hyp_worst[b] = s->hyp_score[i];
}

static bool hyp_done(const search *s, int b, double best_sum, int cur_len) {
    if (s->hyp_count[b] < s->K) return false;
    if (!s->o->early_stopping) return s->hyp_worst[b] >= best_sum / pow(cur_len, s->o->length_penalty);
    return true;
}

/* The k best (score, beam*V + token) of one input, best first; ties keep
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

/* One step's choice for input b, whose beams are the run's rows from
 * first_row: the 2K best continuations; those ending in </s> among the
 * first K become finished hypotheses, the best K others the next beams.
 * An input already done (its rows retired) gets <pad>, as transformers'
 * beam scorer gives it. */
static void choose_beams(search *s, int b, int first_row, int cur_len) {
    const seq2seq_info *info = &s->m->info;
    const int K = s->K, V = s->V, n = s->n_stats;
    if (s->done[b]) {
        for (int j = 0; j < K; j++) {
            const int r = b * K + j;
            s->from[r] = r, s->next_tok[r] = info->pad_id, s->next_score[r] = 0.0;
            s->next_logprob[r] = s->next_energy[r] = 0.0f;
            for (int k = 0; k < n; k++) s->next_stats[(size_t)r * n + k] = 0.0f;
        }
        return;
    }
    top_candidates(s->scores + (size_t)first_row * V, K * V, 2 * K, s->top);
    int kept = 0;
    for (int rank = 0; rank < 2 * K && kept < K; rank++) {
        const int beam = s->top[rank].index / V, r = b * K + beam, tok = s->top[rank].index % V;
        memcpy(s->raw, s->logits + (size_t)(first_row + beam) * V, sizeof(float) * V);
        process_scores(s, s->raw, cur_len);
        if (seq2seq_is_eos(info, tok)) {
            if (rank >= K) continue;
            /* A finished hypothesis: this row plus </s>. The </s> is written
             * into the row's next slot only to be copied out with it; the
             * slot is overwritten after the gather. */
            record(s, r, cur_len, tok, s->raw);
            hyp_add(s, b, r, cur_len + 1, cur_len, s->top[rank].score);
        } else {
            const int nr = b * K + kept++;
            s->from[nr] = r, s->next_tok[nr] = tok, s->next_score[nr] = s->top[rank].score;
            token_record(s, s->raw, tok, &s->next_logprob[nr], &s->next_energy[nr], s->next_stats + (size_t)nr * n);
        }
    }
    s->done[b] = hyp_done(s, b, s->top[0].score, cur_len);
}

static elang_status beam_search(search *s, generated_seq *out, elang_error *err) {
    const int K = s->K, V = s->V, R = s->R, L = s->L, n = s->n_stats;
    /* Only the first beam of each input is live at the start, so the first
     * step does not pick the same token K times. */
    for (int r = 0; r < R; r++) s->beam_score[r] = r % K == 0 ? 0.0 : -1e9;
    for (int b = 0; b < s->B; b++) s->hyp_count[b] = 0, s->hyp_worst[b] = INFINITY, s->done[b] = false;
    /* The inputs still searching, s->active[0..live); input active[i]'s
     * beams are the run's rows i*K.. (arrays here keep the inputs' own
     * rows b*K..: a done input's rows leave the run, not the arrays). */
    int live = s->B;
    for (int b = 0; b < s->B; b++) s->active[b] = b;

    int cur_len = 1;
    while (cur_len < L && live > 0) {
        /* The first step's logits come from the prefill. */
        for (int i = 0; i < live * K && cur_len > 1; i++)
            s->feed[i] = s->tokens[((size_t)s->active[i / K] * K + i % K) * L + cur_len - 1];
        elang_status st = cur_len > 1 ? s->m->ops->step(s->m->net, &s->run, s->feed, s->logits, err) : ELANG_OK;
        if (st != ELANG_OK) return st;
        /* Every live row's token log-probabilities, processed, plus its beam
         * score; the per-token record keeps the processed raw logits' view. */
#pragma omp parallel for if ((long)live * K * V >= ROWS_PARALLEL_MIN)
        for (int i = 0; i < live * K; i++) {
            float *logit = s->logits + (size_t)i * V, *sc = s->scores + (size_t)i * V;
            double lse, energy;
            step_statistics(logit, V, 1.0, &lse, &energy, NULL);
            for (int v = 0; v < V; v++) sc[v] = (float)(logit[v] - lse);
            process_scores(s, sc, cur_len);
            const double beam_score = s->beam_score[s->active[i / K] * K + i % K];
            for (int v = 0; v < V; v++) sc[v] = (float)(sc[v] + beam_score);
        }
        for (int b = 0, i = 0; b < s->B; b++) {
            const bool searching = i < live && s->active[i] == b;
            if (!searching) s->done[b] = true;
            choose_beams(s, b, searching ? i * K : 0, cur_len);
            i += searching;
        }
        gather(s->tokens, sizeof(int32_t), R, L, s->from, s->gather);
        gather(s->logprobs, sizeof(float), R, L, s->from, s->gather);
        gather(s->energies, sizeof(float), R, L, s->from, s->gather);
        if (n) gather(s->stats, sizeof(float) * n, R, L, s->from, s->gather);
        for (int r = 0; r < R; r++) {
            const size_t at = (size_t)r * L + cur_len;
            if (n) memcpy(s->stats + at * n, s->next_stats + (size_t)r * n, sizeof(float) * n);
            s->tokens[at] = s->next_tok[r];
            s->logprobs[at] = s->next_logprob[r];
            s->energies[at] = s->next_energy[r];
            s->beam_score[r] = s->next_score[r];
        }
        /* The cache follows the beams (within each input), then the inputs
         * that are done leave it. */
        int kept = 0;
        for (int i = 0; i < live; i++) {
            const int b = s->active[i];
            for (int j = 0; j < K; j++) s->keep[i * K + j] = i * K + s->from[b * K + j] - b * K;
        }
        kv_cache_reorder(&s->run.cache, s->keep);
        for (int i = 0; i < live; i++) {
            const int b = s->active[i];
            if (s->done[b]) continue;
            for (int j = 0; j < K; j++) s->keep[kept * K + j] = i * K + j;
            s->active[kept++] = b;
        }
        if (kept < live) seq2seq_run_keep(&s->run, s->keep, kept * K);
        live = kept;
        cur_len++;
    }

    /* Inputs still open at the length limit offer their live beams; each
     * input's answer is its best hypothesis (the later on ties). */
    elang_status st = ELANG_OK;
    for (int b = 0; b < s->B && st == ELANG_OK; b++) {
        for (int j = 0; j < K && !s->done[b]; j++) hyp_add(s, b, b * K + j, cur_len, cur_len, s->beam_score[b * K + j]);
        int best = b * K;
        for (int i = b * K + 1; i < b * K + s->hyp_count[b]; i++)
            if (s->hyp_score[i] >= s->hyp_score[best]) best = i;
        const size_t at = (size_t)best * L;
        st = seq_out(s, s->hyp_tokens + at, s->hyp_logprobs + at, s->hyp_energies + at, s->hyp_stats + at * n,
                     s->hyp_len[best], s->hyp_score[best], &out[b], err);
    }
    return st;
}

/* ---------------------------------------------------------------- entry */

elang_status generate(const seq2seq_model *m, arena *a, const int32_t *src_ids, const int32_t *src_mask, int B,
                      int S, const generate_opts *opts, generated_seq *out, elang_error *err) {
    if (opts->num_beams < 1 || opts->max_new_tokens < 1 || !(opts->temperature > 0.0))
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "generation needs num_beams >= 1, max_new_tokens >= 1 "
                          "and a positive temperature");
    search s;
    elang_status st = search_init(&s, m, a, opts, src_ids, src_mask, B, S, opts->max_new_tokens, err);
    if (st != ELANG_OK) return st;
    memset(out, 0, sizeof *out * B);
    st = opts->num_beams == 1 ? greedy(&s, out, err) : beam_search(&s, out, err);
    if (st != ELANG_OK)
        for (int b = 0; b < B; b++) generated_seq_free(&out[b]);
    return st;
}

elang_status first_step_logits(const seq2seq_model *m, arena *a, const int32_t *src_ids, const int32_t *src_mask,
                               int B, int S, float *logits, elang_error *err) {
    const generate_opts o = {.num_beams = 1, .max_new_tokens = 1, .temperature = 1.0};
    search s;
    elang_status st = search_init(&s, m, a, &o, src_ids, src_mask, B, S, 1, err);
    if (st == ELANG_OK) memcpy(logits, s.logits, sizeof(float) * (size_t)B * s.V);
    return st;
}

elang_status first_step_scores(const seq2seq_model *m, arena *a, const int32_t *src_ids, const int32_t *src_mask,
                               int B, int S, double temperature, float *scores, elang_error *err) {
    /* Room for two steps, so that the first is not the last one allowed. */
    const generate_opts o = {.num_beams = 1, .max_new_tokens = 2, .temperature = temperature, .step_scores = true};
    search s;
    elang_status st = search_init(&s, m, a, &o, src_ids, src_mask, B, S, 2, err);
    for (int b = 0; st == ELANG_OK && b < B; b++) {
        float *row = s.logits + (size_t)b * s.V, logprob, energy;
        process_scores(&s, row, 1);
        token_record(&s, row, -1, &logprob, &energy, scores + (size_t)b * ELANG_DIST_SCORES);
    }
    return st;
}

elang_status teacher_forced_energies(const seq2seq_model *m, arena *a, const int32_t *src_ids,
                                     const int32_t *src_mask, int S, const int32_t *ids, int len,
                                     double temperature, float *energies, elang_error *err) {
    if (len < 1 || (m->info.decoder_start_id >= 0 && ids[0] != m->info.decoder_start_id))
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "teacher forcing starts from the decoder start token %d",
                          m->info.decoder_start_id);
    const generate_opts o = {.num_beams = 1, .max_new_tokens = len, .temperature = temperature};
    search s;
    elang_status st = search_init(&s, m, a, &o, src_ids, src_mask, 1, S, len, err);
    for (int t = 0; st == ELANG_OK && t < len; t++)
        if (t == 0 || (st = m->ops->step(m->net, &s.run, &ids[t], s.logits, err)) == ELANG_OK)
            energies[t] = (float)-log_sum_exp(s.logits, s.V, temperature);
    return st;
}

void generated_seq_free(generated_seq *g) {
    free(g->ids), free(g->logprobs), free(g->energies), free(g->step_scores);
    memset(g, 0, sizeof *g);
}
