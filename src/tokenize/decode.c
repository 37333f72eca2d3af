/* Ids back to text: PreTrainedTokenizer._decode with transformers 4.25's
 * defaults. */
#include <stdlib.h>

#include "tokenize/tokenizer_internal.h"
#include "util/error.h"
#include "util/strbuf.h"

/* _decode's state: the run of vocabulary tokens waiting for
 * convert_tokens_to_string, and the text so far, made of parts (sub_texts)
 * that " ".join separates. */
typedef struct {
    const char **tokens;
    bool *special;
    size_t run, n_parts;
    bool spaces; /* " ".join(sub_texts), else "".join */
    strbuf text;
} decoding;

static bool new_part(decoding *d) {
    return d->n_parts++ == 0 || !d->spaces || strbuf_puts(&d->text, " ");
}

static elang_status end_run(const tokenizer *t, decoding *d, elang_error *err) {
    if (d->run == 0) return ELANG_OK;
    if (!new_part(d)) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory decoding");
    elang_status rc =
        t->model.ops->detokenize(t->model.impl, d->tokens, d->special, d->run, &d->text, err);
    d->run = 0;
    return rc;
}

/* clean_up_tokenization: these replacements, in this order. */
static const char *const CLEAN_UP[][2] = {
    {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
    {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
};

elang_status tokenizer_decode(const tokenizer *t, const int32_t *ids, int n, bool skip_special,
                              char **text, elang_error *err) {
    *text = NULL;
    if (n < 0) return elang_fail(err, ELANG_ERR_INVALID_ARG, "%d ids to decode", n);
    decoding d = {.tokens = malloc(((size_t)n + 1) * sizeof *d.tokens),
                  .special = malloc((size_t)n + 1), .spaces = t->spaces_between_special};
    elang_status rc = ELANG_OK;
    if (!d.tokens || !d.special) goto nomem;
    int vocab_size = t->model.ops->size(t->model.impl);
    /* PreTrainedTokenizer._decode: ids to tokens, without the special ones
     * when asked; runs of vocabulary tokens go through
     * convert_tokens_to_string, the added tokens (beyond the vocabulary)
     * stand alone. */
    for (int i = 0; i < n; i++) {
        int32_t id = ids[i];
        int k = added_with_id(&t->added, id);
        const char *token = id >= 0 ? t->model.ops->id_token(t->model.impl, id) : NULL;
        if (!token && k < 0 && (id < 0 || id >= t->n_ids || !t->unk_text)) {
            rc = elang_fail(err, ELANG_ERR_INVALID_ARG,
                            "id %d (position %d) is outside the vocabulary of %d tokens", id, i,
                            t->n_ids);
            goto done;
        }
        if (skip_special && added_is_special_id(&t->added, id)) continue;
        if (k >= 0 && id >= vocab_size) {
            if ((rc = end_run(t, &d, err)) != ELANG_OK) goto done;
            if (!new_part(&d) || !strbuf_puts(&d.text, t->added.v[k].text)) goto nomem;
            continue;
        }
        /* An id in the vocabulary's range that no token has: BertTokenizer
         * and MarianTokenizer answer the unk token. */
        d.tokens[d.run] = token ? token : t->unk_text;
        d.special[d.run] = added_is_special_text(&t->added, d.tokens[d.run]);
        d.run++;
    }
    if ((rc = end_run(t, &d, err)) != ELANG_OK) goto done;
    for (size_t c = 0; t->clean_up && c < sizeof CLEAN_UP / sizeof CLEAN_UP[0]; c++)
        strbuf_replace(&d.text, 0, CLEAN_UP[c][0], CLEAN_UP[c][1]);
    if (!strbuf_append(&d.text, "", 0)) goto nomem; /* "" for no parts at all */
    *text = d.text.s;
    d.text = (strbuf){0};
    goto done;
nomem:
    rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory decoding");
done:
    strbuf_free(&d.text);
    free(d.tokens);
    free(d.special);
    return rc;
}
