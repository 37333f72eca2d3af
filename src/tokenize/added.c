/* The added tokens: the special tokens and the entries of
 * added_tokens.json, which PreTrainedTokenizer cuts out of a text before
 * the subword algorithm sees the rest. */
#include <stdlib.h>
#include <string.h>

#include "tokenize/tokenizer_internal.h"
#include "util/error.h"
#include "util/unicode.h"

int added_find(const added_tokens *a, const char *text) {
    for (size_t k = 0; k < a->n; k++)
        if (strcmp(a->v[k].text, text) == 0) return (int)k;
    return -1;
}

bool added_append(added_tokens *a, const char *text, int32_t id, bool special, bool lstrip,
                  bool rstrip) {
    added_token *v = realloc(a->v, (a->n + 1) * sizeof *v);
    if (!v) return false;
    a->v = v;
    i32vec cps = {0};
    size_t bad;
    char *copy = strdup(text);
    if (!copy || !utf8_decode(text, strlen(text), &cps, &bad)) { /* jansson strings are UTF-8 */
        free(copy);
        i32vec_free(&cps);
        return false;
    }
    v[a->n++] = (added_token){copy, cps.v, cps.len, id, special, lstrip, rstrip};
    return true;
}

void added_free(added_tokens *a) {
    for (size_t k = 0; k < a->n; k++) {
        free(a->v[k].text);
        free(a->v[k].cps);
    }
    free(a->v);
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

/* PreTrainedTokenizer's trie takes the leftmost match and extends it to the
 * longest; scanning positions in order and taking the longest here is the
 * same. (An empty token never matches: Trie.add ignores it.) */
int added_match(const added_tokens *a, const int32_t *s, size_t n, size_t i) {
    int best = -1;
    for (size_t k = 0; k < a->n; k++) {
        const added_token *t = &a->v[k];
        if (t->n > 0 && t->n <= n - i && (best < 0 || t->n > a->v[best].n) &&
            memcmp(t->cps, s + i, t->n * sizeof *s) == 0)
            best = (int)k;
    }
    return best;
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
    for (size_t k = 0; k < a->n; k++)
        if (a->v[k].id == id) return (int)k;
    return -1;
}

bool added_is_special_id(const added_tokens *a, int32_t id) {
    for (size_t k = 0; k < a->n; k++)
        if (a->v[k].special && a->v[k].id == id) return true;
    return false;
}

bool added_is_special_text(const added_tokens *a, const char *text) {
    for (size_t k = 0; k < a->n; k++)
        if (a->v[k].special && strcmp(a->v[k].text, text) == 0) return true;
    return false;
}
