#include "tokenize/vocab.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/error.h"
#include "util/files.h"

bool tok_vocab_add(tok_vocab *v, const char *token, size_t len, int32_t id, bool *had) {
    if (strmap_get(&v->ids, token, len) >= 0) {
        *had = true;
        return true;
    }
    *had = false;
    if (!strmap_put(&v->ids, token, len, id, NULL)) return false;
    v->size++;
    return true;
}

static int by_entry_id(const void *a, const void *b) {
    int32_t x = ((const tok_vocab_entry *)a)->id, y = ((const tok_vocab_entry *)b)->id;
    return (x > y) - (x < y);
}

elang_status tok_vocab_index(tok_vocab *v, const char *path, elang_error *err) {
    free(v->by_id);
    v->by_id = malloc(((size_t)v->size + 1) * sizeof *v->by_id);
    if (!v->by_id) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading %s", path);
    size_t n = 0;
    for (size_t i = 0; i < v->ids.cap; i++)
        if (v->ids.slots[i].value >= 0)
            v->by_id[n++] = (tok_vocab_entry){v->ids.slots[i].value, v->ids.slots[i].off};
    qsort(v->by_id, n, sizeof *v->by_id, by_entry_id);
    v->max_id = n ? v->by_id[n - 1].id : -1;
    for (size_t i = 1; i < n; i++)
        if (v->by_id[i].id == v->by_id[i - 1].id)
            return elang_fail(err, ELANG_ERR_FORMAT, "%s: two tokens have the id %d", path,
                              v->by_id[i].id);
    return ELANG_OK;
}

elang_status tok_vocab_load_json(const char *path, tok_vocab *v, elang_error *err) {
    json_t *root;
    elang_status rc = file_load_json(path, JSON_REJECT_DUPLICATES, &root, err);
    if (rc != ELANG_OK) return rc;
    rc = tok_vocab_from_json(root, path, v, err);
    json_decref(root);
    return rc;
}

elang_status tok_vocab_from_json(const json_t *root, const char *path, tok_vocab *v, elang_error *err) {
    elang_status rc = ELANG_OK;
    if (!json_is_object(root)) {
        rc = elang_fail(err, ELANG_ERR_FORMAT, "%s: not a JSON object of token -> id", path);
        goto done;
    }
    if (!strmap_reserve(&v->ids, json_object_size(root))) goto nomem;
    const char *token;
    json_t *id;
    bool had;
    json_object_foreach((json_t *)root, token, id) {
        if (!json_is_integer(id) || json_integer_value(id) < 0 ||
            json_integer_value(id) > INT32_MAX) {
            rc = elang_fail(err, ELANG_ERR_FORMAT,
                            "%s: the id of \"%s\" is not an integer in [0, 2^31)", path, token);
            goto done;
        }
        /* Tokens are distinct: the parser rejects repeated keys. */
        if (!tok_vocab_add(v, token, strlen(token), (int32_t)json_integer_value(id), &had))
            goto nomem;
    }
    rc = tok_vocab_index(v, path, err);
    goto done;
nomem:
    rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading %s", path);
done:
    return rc;
}

void tok_vocab_free(tok_vocab *v) {
    strmap_free(&v->ids);
    free(v->by_id);
    *v = (tok_vocab){0};
}

int32_t tok_vocab_id(const tok_vocab *v, const char *token, size_t len) {
    return strmap_get(&v->ids, token, len);
}

const char *tok_vocab_token(const tok_vocab *v, int32_t id) {
    /* Vocabularies are nearly always dense (ids 0..size-1): look there
     * first, then search. */
    const tok_vocab_entry *e = NULL;
    if (id >= 0 && id < v->size && v->by_id[id].id == id) {
        e = &v->by_id[id];
    } else {
        size_t lo = 0, hi = (size_t)v->size;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (v->by_id[mid].id < id) lo = mid + 1;
            else hi = mid;
        }
        if (lo < (size_t)v->size && v->by_id[lo].id == id) e = &v->by_id[lo];
    }
    return e ? v->ids.arena + e->off : NULL;
}
