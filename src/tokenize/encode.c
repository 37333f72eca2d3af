/* Text to ids: PreTrainedTokenizer.tokenize around the subword algorithm,
 * then the special tokens around one text or a pair, truncated
 * `longest_first`. */
#include <stdlib.h>
#include <string.h>

#include "tokenize/tokenizer_internal.h"
#include "util/error.h"
#include "util/unicode.h"

/* PreTrainedTokenizer.tokenize + convert_tokens_to_ids. */
static elang_status tokenize(const tokenizer *t, const char *text, i32vec *ids, elang_error *err) {
    i32vec raw = {0}, low = {0};
    size_t bad;
    if (!utf8_decode(text, strlen(text), &raw, &bad)) {
        i32vec_free(&raw);
        if (bad == SIZE_MAX) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory tokenizing");
        return elang_fail(err, ELANG_ERR_INPUT, "invalid UTF-8 at byte offset %zu", bad);
    }
    bool ok = !t->model.ops->prepare || t->model.ops->prepare(t->model.impl, &raw);
    /* RobertaTokenizer.prepare_for_tokenization: add_prefix_space puts a
     * space before a text that does not start with whitespace;
     * GPT2Tokenizer's before any text. */
    if (ok && t->add_prefix_space && raw.len > 0 && (t->layout == LAYOUT_GPT2 || !uni_py_isspace(raw.v[0]))) {
        ok = i32vec_reserve(&raw, 1);
        if (ok) {
            memmove(raw.v + 1, raw.v, raw.len * sizeof *raw.v);
            raw.v[0] = ' ';
            raw.len++;
        }
    }
    const i32vec *s = &raw;
    if (ok && t->lowercase) {
        ok = added_lowercase_around(&t->added, &raw, &low);
        s = &low;
    }
    /* Cut out the added tokens, let each one eat the whitespace its flags
     * say, and tokenize the non-empty chunks between them. */
    const added_token *added = t->added.v;
    subword_context ctx = {t->special_id[SPECIAL_UNK], &t->specials, t->unk_text, true, false};
    int prev = -1;
    for (size_t i = 0; ok;) {
        size_t start = i, j = i;
        int k = -1;
        while (j < s->len && (k = added_match(&t->added, s->v, s->len, j)) < 0) j++;
        size_t end = j;
        if (prev >= 0 && added[prev].rstrip)
            while (start < end && uni_py_isspace(s->v[start])) start++;
        if (k >= 0 && added[k].lstrip)
            while (end > start && uni_py_isspace(s->v[end - 1])) end--;
        ctx.first = prev < 0;
        ctx.before_special = k >= 0 && added[k].special;
        if (end > start)
            ok = t->model.ops->tokenize(t->model.impl, s->v + start, end - start, &ctx, ids);
        if (k < 0) break;
        ok = ok && i32vec_push(ids, added[k].id);
        prev = k;
        i = j + added[k].n;
    }
    i32vec_free(&raw);
    i32vec_free(&low);
    return ok ? ELANG_OK : elang_fail(err, ELANG_ERR_NOMEM, "out of memory tokenizing");
}

elang_status tokenizer_tokenize(const tokenizer *t, const char *text, int32_t **ids, int *len,
                                elang_error *err) {
    i32vec v = {0};
    elang_status rc = tokenize(t, text, &v, err);
    if (rc == ELANG_OK && v.len > 0) {
        int32_t *grown = realloc(*ids, ((size_t)*len + v.len) * sizeof *grown);
        if (!grown) {
            rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory tokenizing");
        } else {
            memcpy(grown + *len, v.v, v.len * sizeof *grown);
            *ids = grown;
            *len += (int)v.len;
        }
    }
    i32vec_free(&v);
    return rc;
}

int n_special_tokens(const tokenizer *t, bool pair) {
    switch (t->layout) {
    case LAYOUT_BERT: return pair ? 3 : 2;
    case LAYOUT_ROBERTA: return pair ? 4 : 2;
    case LAYOUT_T5: return pair ? 2 : 1;
    case LAYOUT_MARIAN: return 1; /* its override says "Just EOS", pair or not */
    case LAYOUT_GPT2:
    case LAYOUT_LLAMA:
    case LAYOUT_QWEN2: return (t->add_bos + t->add_eos) * (pair ? 2 : 1);
    }
    return 0;
}

static void put(int32_t *dst, size_t *k, const int32_t *src, size_t n) {
    if (n) memcpy(dst + *k, src, n * sizeof *src); /* src is NULL for an empty text */
    *k += n;
}

elang_status tokenizer_encode(const tokenizer *t, const char *text, const char *pair,
                              int max_length, token_seq *out, elang_error *err) {
    *out = (token_seq){0};
    int n_special = n_special_tokens(t, pair != NULL);
    if (max_length < n_special)
        return elang_fail(err, ELANG_ERR_INVALID_ARG,
                          "max_length %d is less than the %d special tokens of %s", max_length,
                          n_special, pair ? "a pair" : "a sequence");
    i32vec a = {0}, b = {0};
    elang_status rc = tokenize(t, text, &a, err);
    if (rc == ELANG_OK && pair && (rc = tokenize(t, pair, &b, err)) != ELANG_OK)
        elang_error_prefix(err, rc, "text_pair: ");
    if (rc != ELANG_OK) goto done;

    /* truncate_sequences with longest_first: a lone sequence loses its tail;
     * a pair loses one token at a time from the longer sequence, from the
     * second one when they are as long. For a lone sequence that would lose
     * every token transformers logs an error and returns it untruncated,
     * longer than max_length; we refuse instead. */
    size_t la = a.len, lb = b.len, room = (size_t)(max_length - n_special);
    if (!pair && la > 0 && room == 0) {
        rc = elang_fail(err, ELANG_ERR_INVALID_ARG,
                        "max_length %d leaves no room for the text besides its special tokens",
                        max_length);
        goto done;
    }
    if (!pair && la > room) la = room;
    while (la + lb > room) {
        if (la > lb) la--;
        else lb--;
    }

    size_t n = la + lb + (size_t)n_special;
    out->ids = malloc(n * sizeof *out->ids);
    out->type_ids = malloc(n * sizeof *out->type_ids);
    if (!out->ids || !out->type_ids) {
        token_seq_free(out);
        rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory encoding");
        goto done;
    }
    /* build_inputs_with_special_tokens, after truncation as in
     * prepare_for_model. */
    int32_t cls = t->special_id[SPECIAL_CLS], sep = t->special_id[SPECIAL_SEP];
    int32_t eos = t->special_id[SPECIAL_EOS];
    size_t k = 0, first = n; /* BERT's token_type_ids: 1 from `first` on */
    switch (t->layout) {
    case LAYOUT_BERT:
    case LAYOUT_ROBERTA: /* [CLS] a [SEP] b [SEP]; <s> a </s> </s> b </s> */
        out->ids[k++] = cls;
        put(out->ids, &k, a.v, la);
        out->ids[k++] = sep;
        first = k;
        if (!pair) break;
        if (t->layout == LAYOUT_ROBERTA) out->ids[k++] = sep;
        put(out->ids, &k, b.v, lb);
        out->ids[k++] = sep;
        break;
    case LAYOUT_T5: /* a </s> b </s>, where _add_eos_if_not_present skips an
                       </s> already ending its segment */
        put(out->ids, &k, a.v, la);
        if (la == 0 || a.v[la - 1] != eos) out->ids[k++] = eos;
        if (!pair) break;
        put(out->ids, &k, b.v, lb);
        if (lb == 0 || b.v[lb - 1] != eos) out->ids[k++] = eos;
        break;
    case LAYOUT_MARIAN: /* a b </s> */
        put(out->ids, &k, a.v, la);
        put(out->ids, &k, b.v, lb);
        out->ids[k++] = eos;
        break;
    case LAYOUT_GPT2: /* [bos] a [eos] [bos] b [eos], as each config says */
    case LAYOUT_LLAMA:
    case LAYOUT_QWEN2:
        for (int seg = 0; seg < (pair ? 2 : 1); seg++) {
            if (t->add_bos) out->ids[k++] = t->special_id[SPECIAL_BOS];
            put(out->ids, &k, seg ? b.v : a.v, seg ? lb : la);
            if (t->add_eos) out->ids[k++] = eos;
        }
        break;
    }
    for (size_t i = 0; i < k; i++) out->type_ids[i] = t->layout == LAYOUT_BERT && i >= first;
    out->len = (int)k;
done:
    i32vec_free(&a);
    i32vec_free(&b);
    return rc;
}

void token_seq_free(token_seq *s) {
    free(s->ids);
    free(s->type_ids);
    *s = (token_seq){0};
}
