/* The added tokens: the special tokens and the entries of
 * added_tokens.json, which PreTrainedTokenizer cuts out of a text before
 * the subword algorithm sees the rest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenize/tokenizer_internal.h"
#include "util/error.h"
#include "util/unicode.h"

int added_find(const added_tokens *a, const char *text) {
    return strmap_get(&a->by_text, text, strlen(text));
}

bool added_append(added_tokens *a, const char *text, int32_t id, bool special, bool lstrip,
                  bool rstrip) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 16;
        added_token *v = realloc(a->v, cap * sizeof *v);
        if (!v) return false;
        a->v = v;
        a->cap = cap;
    }
    i32vec cps = {0};
    size_t bad, len = strlen(text);
    char *copy = strdup(text);
    /* jansson strings are UTF-8: only memory can fail. */
    if (!copy || !utf8_decode(text, len, &cps, &bad) ||
        !strmap_put(&a->by_text, text, len, (int32_t)a->n, NULL)) {
        free(copy);
        i32vec_free(&cps);
        return false;
    }
    a->v[a->n++] = (added_token){copy, cps.v, cps.len, id, special, lstrip, rstrip};
    return true;
}

void added_free(added_tokens *a) {
    for (size_t k = 0; k < a->n; k++) {
        free(a->v[k].text);
        free(a->v[k].cps);
    }
    free(a->v);
    strmap_free(&a->by_text);
    strmap_free(&a->by_id);
    strmap_free(&a->special_ids);
    free(a->order);
    *a = (added_tokens){0};
}

typedef struct {
    const char *text;
    json_int_t id;
} added_entry;

static int by_id(const void *a, const void *b) {
    json_int_t x = ((const added_entry *)a)->id, y = ((const added_entry *)b)->id;
    return (x > y) - (x < y);
}

/* added_tokens.json, token -> id: from_pretrained adds them in id order and
 * insists that the ids continue the vocabulary without gaps. Tokens the
 * vocabulary already has are not added; with do_lower_case the non-special
 * ones are lowercased first (_add_tokens). */
elang_status added_read_file(tokenizer *t, const char *path, elang_error *err) {
    json_t *root;
    elang_status rc = file_load_json(path, JSON_REJECT_DUPLICATES, &root, err);
    if (rc != ELANG_OK) return rc;
    added_entry *entries = NULL;
    char *lowered = NULL;
    if (!json_is_object(root)) {
        rc = elang_fail(err, ELANG_ERR_FORMAT, "%s: not a JSON object of token -> id", path);
        goto done;
    }
    size_t n = 0;
    if (!(entries = malloc((json_object_size(root) + 1) * sizeof *entries))) goto nomem;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (!json_is_integer(v)) {
            rc = elang_fail(err, ELANG_ERR_FORMAT, "%s: the id of \"%s\" is not an integer", path,
                            key);
            goto done;
        }
        entries[n++] = (added_entry){key, json_integer_value(v)};
    }
    qsort(entries, n, sizeof *entries, by_id);
    for (size_t i = 0; i < n; i++) {
        const char *text = entries[i].text;
        bool special = strmap_get(&t->specials, text, strlen(text)) >= 0;
        if (!special && t->lowercase) {
            i32vec cps = {0};
            size_t bad, len = strlen(text);
            free(lowered);
            lowered = malloc(8 * len + 1);
            bool ok = lowered && utf8_decode(text, len, &cps, &bad) &&
                      i32vec_reserve(&cps, cps.len); /* room for the lowercase pass below */
            if (ok) {
                i32vec low = {0};
                ok = i32vec_reserve(&low, 2 * cps.len);
                for (size_t k = 0; ok && k < cps.len; k++)
                    low.len += (size_t)uni_py_lower(cps.v[k], low.v + low.len);
                if (ok) lowered[utf8_encode(low.v, low.len, lowered, NULL)] = '\0';
                i32vec_free(&low);
            }
            i32vec_free(&cps);
            if (!ok) goto nomem;
            text = lowered;
        }
        if (vocab_id(t, text) >= 0 || added_find(&t->added, text) >= 0) continue;
        if (entries[i].id != t->n_ids) {
            rc = elang_fail(err, ELANG_ERR_FORMAT,
                            "%s: \"%s\" has id %lld but the next free id is %d (added tokens "
                            "must continue the vocabulary without gaps)",
                            path, entries[i].text, (long long)entries[i].id, t->n_ids);
            goto done;
        }
        if (!added_append(&t->added, text, t->n_ids++, special, true, true)) goto nomem;
    }
    goto done;
nomem:
    rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory reading %s", path);
done:
    free(lowered);
    free(entries);
    json_decref(root);
    return rc;
}

/* One AddedToken of added_tokens_decoder or tokenizer.json's added_tokens:
 * its content and flags; `id` the id it was listed with. */
static elang_status declared_token(tokenizer *t, const json_t *v, json_int_t id, const char *path, const char *where,
                                   elang_error *err) {
    const json_t *content = json_is_object(v) ? json_object_get(v, "content") : NULL;
    if (!json_is_string(content))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: %s is not an AddedToken with a \"content\" string", path, where);
    /* (Below INT32_MAX: the ids after it are counted from id + 1.) */
    if (id < 0 || id >= INT32_MAX)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: %s has no id in [0, 2^31 - 1)", path, where);
    const char *text = json_string_value(content);
    if (added_find(&t->added, text) >= 0) return ELANG_OK;
    if (!added_append(&t->added, text, (int32_t)id, json_is_true(json_object_get(v, "special")),
                      json_is_true(json_object_get(v, "lstrip")), json_is_true(json_object_get(v, "rstrip"))))
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory reading %s", path);
    if (id >= t->n_ids) t->n_ids = (int)id + 1;
    return ELANG_OK;
}

elang_status added_read_declared(tokenizer *t, const json_t *list, const char *path, elang_error *err) {
    elang_status rc = ELANG_OK;
    char where[64];
    if (json_is_object(list)) {
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)list, key, v) {
            char *end;
            const long long id = strtoll(key, &end, 10);
            snprintf(where, sizeof where, "added_tokens_decoder[\"%.24s\"]", key);
            if (*key == '\0' || *end != '\0')
                return elang_fail(err, ELANG_ERR_FORMAT, "%s: %s: the key is not a token id", path, where);
            if ((rc = declared_token(t, v, id, path, where, err)) != ELANG_OK) return rc;
        }
        return ELANG_OK;
    }
    if (!json_is_array(list))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: the added tokens are neither an object nor a list", path);
    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *v = json_array_get(list, i), *id = json_object_get(v, "id");
        snprintf(where, sizeof where, "added_tokens[%zu]", i);
        if (!json_is_integer(id))
            return elang_fail(err, ELANG_ERR_FORMAT, "%s: %s has no integer \"id\"", path, where);
        if ((rc = declared_token(t, v, json_integer_value(id), path, where, err)) != ELANG_OK) return rc;
    }
    return ELANG_OK;
}

/* Code point order, a token before the longer ones it starts. */
static int by_code_points(const void *x, const void *y) {
    const added_token *a = *(const added_token *const *)x, *b = *(const added_token *const *)y;
    for (size_t k = 0; k < a->n && k < b->n; k++)
        if (a->cps[k] != b->cps[k]) return a->cps[k] < b->cps[k] ? -1 : 1;
    return (a->n > b->n) - (a->n < b->n);
}

bool added_index(added_tokens *a) {
    if (!strmap_reserve(&a->by_id, a->n) || !(a->order = malloc((a->n + 1) * sizeof *a->order)))
        return false;
    for (size_t k = 0; k < a->n; k++) {
        const added_token *t = &a->v[k];
        if (added_with_id(a, t->id) < 0 &&
            !strmap_put(&a->by_id, &t->id, sizeof t->id, (int32_t)k, NULL))
            return false;
        if (t->special && !strmap_put(&a->special_ids, &t->id, sizeof t->id, 0, NULL))
            return false;
        /* An empty token never matches: Trie.add ignores it. */
        if (t->n > 0) a->order[a->n_order++] = t;
    }
    qsort(a->order, a->n_order, sizeof *a->order, by_code_points);
    return true;
}

/* The first of order[lo..hi), tokens longer than d code points, whose code
 * point d is not below c (with past: is above c). */
static size_t bound(const added_token *const *order, size_t lo, size_t hi, size_t d, int32_t c,
                    bool past) {
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int32_t m = order[mid]->cps[d];
        if (m < c || (past && m == c)) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* PreTrainedTokenizer's trie takes the leftmost match and extends it to the
 * longest; scanning positions in order and taking the longest here is the
 * same. The sorted tokens serve as a trie: those that start with s[i..i+d)
 * are a range of them, narrowed one code point at a time. */
int added_match(const added_tokens *a, const int32_t *s, size_t n, size_t i) {
    const added_token *best = NULL;
    size_t lo = 0, hi = a->n_order;
    for (size_t d = 0; i + d < n && lo < hi; d++) {
        /* A token that is s[i..i+d) itself sorts first and was taken. */
        if (a->order[lo]->n == d) lo++;
        lo = bound(a->order, lo, hi, d, s[i + d], false);
        hi = bound(a->order, lo, hi, d, s[i + d], true);
        if (lo < hi && a->order[lo]->n == d + 1) best = a->order[lo];
    }
    return best ? (int)(best - a->v) : -1;
}

/* With do_lower_case, tokenize() lowercases the text one character at a
 * time (a regex substitution of `.+?`), skipping the added tokens. */
bool added_lowercase_around(const added_tokens *a, const i32vec *text, i32vec *out) {
    if (!i32vec_reserve(out, 2 * text->len)) return false;
    for (size_t i = 0; i < text->len;) {
        int k = added_match(a, text->v, text->len, i);
        if (k >= 0) {
            memcpy(out->v + out->len, a->v[k].cps, a->v[k].n * sizeof *out->v);
            out->len += a->v[k].n;
            i += a->v[k].n;
        } else {
            out->len += (size_t)uni_py_lower(text->v[i++], out->v + out->len);
        }
    }
    return true;
}

int added_with_id(const added_tokens *a, int32_t id) {
    return strmap_get(&a->by_id, &id, sizeof id);
}

bool added_is_special_id(const added_tokens *a, int32_t id) {
    return strmap_get(&a->special_ids, &id, sizeof id) >= 0;
}

bool added_is_special_text(const added_tokens *a, const char *text) {
    int k = added_find(a, text);
    return k >= 0 && a->v[k].special;
}
