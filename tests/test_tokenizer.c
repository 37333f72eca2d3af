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
#include "tokenize/unicode.h"

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

/* Compares the encodings of a tests/data expectations file. Rows of
 * tricky_expected.jsonl carry their text; rows of the GLUE files name a file
 * of shared/data/glue and a line, which is read again here. token_type_ids
 * absent from a row are all 0. */
typedef struct {
    char name[32];
    char *data;
    char **line; /* line[k], k >= 1: the k-th line, split on tabs in place */
    size_t n;
} tsv_file;

static const tsv_file *tsv_get(tsv_file cache[2], const char *name) {
    for (int i = 0; i < 2; i++) {
        tsv_file *f = &cache[i];
        if (f->data && strcmp(f->name, name) == 0) return f;
        if (f->data) continue;
        char rel[128];
        snprintf(rel, sizeof rel, "data/glue/%s", name);
        snprintf(f->name, sizeof f->name, "%s", name);
        size_t len;
        f->data = read_file_all(shared_path(rel), &len);
        f->line = calloc(len + 2, sizeof *f->line);
        char *p = f->data;
        while (*p) {
            f->line[++f->n] = p;
            char *e = strchr(p, '\n');
            if (!e) break;
            *e = '\0';
            if (e > p && e[-1] == '\r') e[-1] = '\0';
            p = e + 1;
        }
        return f;
    }
    fail_msg("more than two GLUE files");
    return NULL;
}

static void tsv_free(tsv_file cache[2]) {
    for (int i = 0; i < 2; i++) {
        free(cache[i].data);
        free(cache[i].line);
    }
}

/* Field `col` (0-based) of a tab-separated line, malloc'ed. */
static char *tsv_field(const char *line, int col) {
    for (int c = 0; c < col; c++) {
        line = strchr(line, '\t');
        if (!line) fail_msg("missing column %d", col + 1);
        line++;
    }
    const char *end = strchr(line, '\t');
    return strndup(line, end ? (size_t)(end - line) : strlen(line));
}

static size_t check_expectations(const char *path, const char *model, tokenizer *t) {
    size_t n, checked = 0;
    json_t **rows = read_jsonl(path, &n);
    tsv_file cache[2] = {0};
    for (size_t r = 0; r < n; r++) {
        const json_t *row = rows[r];
        const char *row_model = json_string_value(json_object_get(row, "model"));
        if (row_model && strcmp(row_model, model) != 0) continue;
        char *text, *pair = NULL, what[160];
        const char *file = json_string_value(json_object_get(row, "file"));
        if (file) {
            int line = (int)json_integer_value(json_object_get(row, "line"));
            const tsv_file *f = tsv_get(cache, file);
            if (line < 2 || (size_t)line > f->n) fail_msg("%s: no line %d in %s", path, line, file);
            bool mrpc = strncmp(file, "MRPC/", 5) == 0;
            text = tsv_field(f->line[line], mrpc ? 3 : 0);
            if (mrpc) pair = tsv_field(f->line[line], 4);
            snprintf(what, sizeof what, "%s %s line %d", model, file, line);
        } else {
            const json_t *p = json_object_get(row, "text_pair");
            text = strdup(json_string_value(json_object_get(row, "text")));
            if (json_is_string(p)) pair = strdup(json_string_value(p));
            snprintf(what, sizeof what, "%s %s line %zu", model, path, r + 1);
        }
        token_seq s = encode(t, text, pair, what);
        assert_ids(json_object_get(row, "input_ids"), s.ids, s.len, false, what);
        const json_t *types = json_object_get(row, "token_type_ids");
        if (types) assert_ids(types, s.type_ids, s.len, false, what);
        for (int i = 0; !types && i < s.len; i++) assert_int_equal(s.type_ids[i], 0);
        token_seq_free(&s);
        free(text);
        free(pair);
        checked++;
    }
    tsv_free(cache);
    free_jsonl(rows, n);
    return checked;
}

static void test_glue_wordpiece(void **state) {
    (void)state;
    tokenizer *t = load("bert", "bert");
    size_t n = check_expectations("tests/data/glue_wordpiece_expected.jsonl", "bert", t);
    assert_int_equal(n, 872 + 408);
    print_message("SST-2 + MRPC dev: %zu WordPiece encodings match the reference\n", n);
    tokenizer_free(t);
}

static void test_glue_bpe(void **state) {
    (void)state;
    tokenizer *t = load("roberta", "roberta");
    size_t n = check_expectations("tests/data/glue_bpe_expected.jsonl", "roberta", t);
    assert_int_equal(n, 300 + 150);
    print_message("SST-2 + MRPC dev: %zu byte-level BPE encodings match the reference\n", n);
    tokenizer_free(t);
}

static void test_tricky_cases(void **state) {
    (void)state;
    tokenizer *bert = load("bert", "bert"), *roberta = load("roberta", "roberta");
    size_t n = check_expectations("tests/data/tricky_expected.jsonl", "bert", bert) +
               check_expectations("tests/data/tricky_expected.jsonl", "roberta", roberta);
    assert_int_equal(n, 34);
    tokenizer_free(bert);
    tokenizer_free(roberta);
}

/* The whitespace sets as Python 3.11 lists them: str.isspace(), and the
 * Unicode White_Space property that the `regex` module's \s matches. */
static void test_unicode_classes(void **state) {
    (void)state;
    static const int32_t py_space[] = {0x9, 0xA, 0xB, 0xC, 0xD, 0x1C, 0x1D, 0x1E, 0x1F, 0x20,
                                       0x85, 0xA0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003,
                                       0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A,
                                       0x2028, 0x2029, 0x202F, 0x205F, 0x3000};
    size_t n = sizeof py_space / sizeof py_space[0], k = 0, ws = 0;
    for (int32_t c = 0; c <= 0x10FFFF; c++) {
        bool listed = k < n && py_space[k] == c;
        k += listed;
        if (uni_py_isspace(c) != listed) fail_msg("str.isspace(U+%04X) differs", c);
        ws += uni_white_space(c);
        if (uni_white_space(c) && !listed) fail_msg("U+%04X is White_Space", c);
    }
    assert_int_equal(ws, 25);
    assert_false(uni_white_space(0x1C));
    int32_t low[2];
    assert_int_equal(uni_py_lower(0x130, low), 2);
    assert_int_equal(low[0], 'i');
    assert_int_equal(low[1], 0x307);
    assert_int_equal(uni_py_lower(0x1C4, low), 1); /* DŽ -> dž */
    assert_int_equal(low[0], 0x1C6);
}

static void expect_fail(elang_status rc, elang_status want, const elang_error *err,
                        const char *needle) {
    if (rc != want)
        fail_msg("status %s, expected %s (%s)", elang_status_name(rc), elang_status_name(want),
                 err->message);
    if (needle && !strstr(err->message, needle))
        fail_msg("message \"%s\" lacks \"%s\"", err->message, needle);
}

static void test_invalid_utf8(void **state) {
    (void)state;
    tokenizer *bert = load("bert", "bert"), *roberta = load("roberta", "roberta");
    static const struct {
        const char *text, *offset;
    } bad[] = {
        {"ab\xC0\xAF", "byte offset 2"},          /* overlong "/" */
        {"\xE0\x80\xAF", "byte offset 0"},        /* overlong, 3 bytes */
        {"x\xED\xA0\x80y", "byte offset 1"},      /* surrogate U+D800 */
        {"abc\xE2\x82", "byte offset 3"},         /* truncated euro sign */
        {"\x80", "byte offset 0"},                /* lone continuation byte */
        {"ok \xF4\x90\x80\x80", "byte offset 3"}, /* past U+10FFFF */
        {"\xF8\x88\x80\x80\x80", "byte offset 0"}, /* 5-byte form */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tokenizer *ts[] = {bert, roberta};
        for (int k = 0; k < 2; k++) {
            token_seq s;
            elang_error err = {0};
            expect_fail(tokenizer_encode(ts[k], bad[i].text, NULL, 64, &s, &err),
                        ELANG_ERR_INPUT, &err, "invalid UTF-8");
            expect_fail(ELANG_ERR_INPUT, ELANG_ERR_INPUT, &err, bad[i].offset);
            expect_fail(tokenizer_encode(ts[k], "fine", bad[i].text, 64, &s, &err),
                        ELANG_ERR_INPUT, &err, bad[i].offset);
            int32_t *ids = NULL;
            int len = 0;
            expect_fail(tokenizer_tokenize(ts[k], bad[i].text, &ids, &len, &err),
                        ELANG_ERR_INPUT, &err, "invalid UTF-8");
            assert_int_equal(len, 0);
            free(ids);
        }
    }
    tokenizer_free(bert);
    tokenizer_free(roberta);
}

static void test_empty_and_max_length(void **state) {
    (void)state;
    tokenizer *bert = load("bert", "bert"), *roberta = load("roberta", "roberta");
    token_seq s;
    elang_error err = {0};
    int32_t *ids = NULL;
    int len = 0;
    assert_int_equal(tokenizer_tokenize(bert, "", &ids, &len, &err), ELANG_OK);
    assert_int_equal(len, 0);
    assert_int_equal(tokenizer_tokenize(bert, "hello world", &ids, &len, &err), ELANG_OK);
    assert_int_equal(tokenizer_tokenize(bert, "hello", &ids, &len, &err), ELANG_OK);
    assert_int_equal(len, 3); /* appended */
    assert_int_equal(ids[2], 7592);
    free(ids);

    /* The special tokens alone fit exactly. */
    assert_int_equal(tokenizer_encode(bert, "", NULL, 2, &s, &err), ELANG_OK);
    assert_int_equal(s.len, 2);
    token_seq_free(&s);
    assert_int_equal(tokenizer_encode(bert, "a b", "c d", 3, &s, &err), ELANG_OK);
    assert_int_equal(s.len, 3);
    token_seq_free(&s);
    assert_int_equal(tokenizer_encode(roberta, "a b", "c d", 4, &s, &err), ELANG_OK);
    assert_int_equal(s.len, 4);
    token_seq_free(&s);

    /* Fewer than the special tokens, or no room at all for a lone text. */
    expect_fail(tokenizer_encode(bert, "x", NULL, 1, &s, &err), ELANG_ERR_INVALID_ARG, &err,
                "max_length 1");
    expect_fail(tokenizer_encode(bert, "x", "y", 2, &s, &err), ELANG_ERR_INVALID_ARG, &err,
                "3 special tokens");
    expect_fail(tokenizer_encode(roberta, "x", "y", 3, &s, &err), ELANG_ERR_INVALID_ARG, &err,
                "4 special tokens");
    expect_fail(tokenizer_encode(bert, "x", NULL, 0, &s, &err), ELANG_ERR_INVALID_ARG, &err,
                NULL);
    expect_fail(tokenizer_encode(bert, "x", NULL, 2, &s, &err), ELANG_ERR_INVALID_ARG, &err,
                "no room");

    /* longest_first: from the longer segment, from the second on a tie. */
    assert_int_equal(tokenizer_encode(bert, "a b c", "d e f", 7, &s, &err), ELANG_OK);
    static const int32_t tie[] = {101, 1037, 1038, 102, 1040, 1041, 102};
    static const int32_t tie_types[] = {0, 0, 0, 0, 1, 1, 1};
    assert_int_equal(s.len, 7);
    assert_memory_equal(s.ids, tie, sizeof tie);
    assert_memory_equal(s.type_ids, tie_types, sizeof tie_types);
    token_seq_free(&s);

    assert_int_equal(tokenizer_pad_id(bert), 0);
    assert_int_equal(tokenizer_pad_id(roberta), 1);
    assert_int_equal(tokenizer_vocab_size(bert), 30522);
    assert_int_equal(tokenizer_vocab_size(roberta), 50261);
    assert_int_equal(tokenizer_model_max_length(bert), 64);
    assert_int_equal(tokenizer_model_max_length(roberta), 0);
    tokenizer_free(bert);
    tokenizer_free(roberta);
}

/* ----------------------------------------------- tokenizer files in tmpdir */

static const char *tmp_file(const char *dir, const char *name, const char *content) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    write_file(path, content, strlen(content));
    return path;
}

static const char *fresh_dir(const char *name) {
    static char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", test_tmpdir(), name);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0) fail_msg("cannot make %s", dir);
    return dir;
}

static const char *SMALL_VOCAB = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nun\n##aff\n##able\n"
                                 "Caf\xC3\xA9\ncafe\ncaf\xC3\xA9\n\xE4\xB8\xAD\n"
                                 "\xE4\xB8\xAD\xE6\x96\x87\n,\nhello\n";

/* The ids of text with the tokenizer in dir, special tokens excluded. */
static void expect_tokens(const char *dir, const char *text, const int32_t *want, int n) {
    tokenizer *t = NULL;
    elang_error err = {0};
    if (tokenizer_load(dir, "bert", &t, &err) != ELANG_OK) fail_msg("%s", err.message);
    int32_t *ids = NULL;
    int len = 0;
    if (tokenizer_tokenize(t, text, &ids, &len, &err) != ELANG_OK) fail_msg("%s", err.message);
    if (len != n) fail_msg("\"%s\": %d ids, expected %d", text, len, n);
    for (int i = 0; i < n; i++)
        if (ids[i] != want[i]) fail_msg("\"%s\": id %d is %d, expected %d", text, i, ids[i], want[i]);
    free(ids);
    tokenizer_free(t);
}

static void test_wordpiece_options(void **state) {
    (void)state;
    const char *dir = fresh_dir("options");
    tmp_file(dir, "vocab.txt", SMALL_VOCAB);
    char long_word[128];
    memset(long_word, 'x', 101);
    long_word[101] = '\0';

    /* Defaults: lowercase, strip accents, split CJK. */
    expect_tokens(dir, "Caf\xC3\xA9, unaffable hello", (int32_t[]){9, 13, 5, 6, 7, 14}, 6);
    expect_tokens(dir, "\xE4\xB8\xAD\xE6\x96\x87", (int32_t[]){11, 1}, 2);
    expect_tokens(dir, long_word, (int32_t[]){1}, 1);
    expect_tokens(dir, "un[MASK]able", (int32_t[]){5, 4, 1}, 3);

    tmp_file(dir, "tokenizer_config.json", "{\"do_lower_case\": false}");
    expect_tokens(dir, "Caf\xC3\xA9", (int32_t[]){8}, 1);
    tmp_file(dir, "tokenizer_config.json", "{\"strip_accents\": false}");
    expect_tokens(dir, "CAF\xC3\x89", (int32_t[]){10}, 1);
    tmp_file(dir, "tokenizer_config.json",
              "{\"do_lower_case\": false, \"strip_accents\": true, "
              "\"tokenize_chinese_chars\": false}");
    expect_tokens(dir, "Caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87", (int32_t[]){1, 12}, 2);

    /* model_max_length int(1e30) means no limit. */
    tmp_file(dir, "tokenizer_config.json",
              "{\"model_max_length\": 1000000000000000019884624838656}");
    tokenizer *t = NULL;
    elang_error err = {0};
    assert_int_equal(tokenizer_load(dir, "bert", &t, &err), ELANG_OK);
    assert_int_equal(tokenizer_model_max_length(t), 0);
    tokenizer_free(t);

    /* added_tokens.json continues the vocabulary; with do_lower_case the
     * token is matched on the lowercased text. */
    tmp_file(dir, "tokenizer_config.json", "{}");
    tmp_file(dir, "added_tokens.json", "{\"NewTok\": 15}");
    assert_int_equal(tokenizer_load(dir, "bert", &t, &err), ELANG_OK);
    assert_int_equal(tokenizer_vocab_size(t), 16);
    tokenizer_free(t);
    expect_tokens(dir, "helloNEWTOKhello", (int32_t[]){14, 15, 14}, 3);
    tmp_file(dir, "added_tokens.json", "{\"newtok\": 17}");
    assert_int_equal(tokenizer_load(dir, "bert", &t, &err), ELANG_ERR_FORMAT);
    assert_non_null(strstr(err.message, "next free id is 15"));

    /* special_tokens_map.json overrides; a special token missing from the
     * vocabulary gets the next id. */
    remove(tmp_file(dir, "added_tokens.json", ""));
    tmp_file(dir, "special_tokens_map.json",
              "{\"mask_token\": {\"content\": \"<M>\", \"lstrip\": true}, "
              "\"additional_special_tokens\": [\"<X>\"]}");
    expect_tokens(dir, "hello<M> <X>hello", (int32_t[]){14, 15, 16, 14}, 4);
    expect_tokens(dir, "[MASK]", (int32_t[]){1, 1, 1}, 3);
}

static void test_missing_files(void **state) {
    (void)state;
    tokenizer *t = NULL;
    elang_error err = {0};
    const char *dir = fresh_dir("empty");
    expect_fail(tokenizer_load(dir, "bert", &t, &err), ELANG_ERR_IO, &err, "vocab.txt");
    expect_fail(ELANG_ERR_IO, ELANG_ERR_IO, &err, "merges.txt");
    tmp_file(dir, "vocab.json", "{}");
    expect_fail(tokenizer_load(dir, "roberta", &t, &err), ELANG_ERR_IO, &err, "merges.txt");
    expect_fail(tokenizer_load(shared_path("fixtures/hf/bert"), "gpt2", &t, &err),
                ELANG_ERR_UNSUPPORTED, &err, "gpt2");
    assert_null(t);
}

static void expect_bad_file(const char *model_type, const char *name, const char *content,
                            const char *needle) {
    tokenizer *t = NULL;
    elang_error err = {0};
    const char *dir = fresh_dir("bad");
    if (strcmp(model_type, "bert") == 0) {
        tmp_file(dir, "vocab.txt", SMALL_VOCAB);
    } else {
        tmp_file(dir, "vocab.json", "{\"<s>\": 0, \"<pad>\": 1, \"</s>\": 2, \"<unk>\": 3}");
        tmp_file(dir, "merges.txt", "#version: 0.2\n");
    }
    tmp_file(dir, name, content);
    expect_fail(tokenizer_load(dir, model_type, &t, &err), ELANG_ERR_FORMAT, &err, name);
    expect_fail(ELANG_ERR_FORMAT, ELANG_ERR_FORMAT, &err, needle);
    assert_null(t);
}

static void test_malformed_files(void **state) {
    (void)state;
    expect_bad_file("roberta", "vocab.json", "[\"a\", \"b\"]", "not a JSON object");
    expect_bad_file("roberta", "vocab.json", "{\"a\": 0,\n \"a\": 1}", "line 2");
    expect_bad_file("roberta", "vocab.json", "{\"a\": \"zero\"}", "\"a\"");
    expect_bad_file("roberta", "vocab.json", "{\"a\": 0", "line 1");
    expect_bad_file("roberta", "vocab.json", "{\"a\": 0, \"b\": 0}", "two tokens have the id 0");
    expect_bad_file("roberta", "merges.txt", "#version: 0.2\na b\nab\n", "line 3");
    expect_bad_file("roberta", "merges.txt", "#version: 0.2\na b c\n", "line 2");
    expect_bad_file("roberta", "merges.txt", "#version: 0.2\n\xC3 b\n", "invalid UTF-8");
    expect_bad_file("bert", "vocab.txt", "[PAD]\n[UNK]\nx\n[CLS]\nx\n", "line 5: duplicate");
    expect_bad_file("bert", "vocab.txt", "[PAD]\n\xFF\n", "line 2: invalid UTF-8");
    expect_bad_file("bert", "tokenizer_config.json", "{\"do_lower_case\": \"yes\"}",
                    "do_lower_case");
    expect_bad_file("bert", "tokenizer_config.json", "{\"cls_token\": 3}", "cls_token");
    expect_bad_file("bert", "special_tokens_map.json", "[]", "not a JSON object");

    /* A special token the layout needs, set to null. */
    tokenizer *t = NULL;
    elang_error err = {0};
    const char *dir = fresh_dir("null_unk");
    tmp_file(dir, "vocab.txt", SMALL_VOCAB);
    tmp_file(dir, "special_tokens_map.json", "{\"unk_token\": null}");
    expect_fail(tokenizer_load(dir, "bert", &t, &err), ELANG_ERR_FORMAT, &err, "unk_token is null");
    assert_null(t);
}

/* What a blank line, the header and an unterminated last line of
 * merges.txt do, on a vocabulary small enough to follow by hand. */
static void test_bpe_merges_file(void **state) {
    (void)state;
    const char *dir = fresh_dir("bpe");
    tmp_file(dir, "vocab.json",
              "{\"<s>\": 0, \"<pad>\": 1, \"</s>\": 2, \"<unk>\": 3, \"l\": 4, \"o\": 5, "
              "\"lo\": 6, \"low\": 7, \"\\u0120\": 8, \"\\u0120low\": 9, \"w\": 10}");
    tmp_file(dir, "merges.txt", "l o\n\nl o\nlo w\n\xC4\xA0 low");
    tokenizer *t = NULL;
    elang_error err = {0};
    assert_int_equal(tokenizer_load(dir, "roberta", &t, &err), ELANG_OK);
    int32_t *ids = NULL;
    int len = 0;
    /* The first "l o" is the header; "\u0120 low" has no newline, so it is
     * ignored and " low" stays two tokens. */
    assert_int_equal(tokenizer_tokenize(t, "low low lo", &ids, &len, &err), ELANG_OK);
    static const int32_t want[] = {7, 8, 7, 8, 6};
    assert_int_equal(len, 5);
    assert_memory_equal(ids, want, sizeof want);
    tokenizer_free(t);
    free(ids);

    tmp_file(dir, "merges.txt", "#version\nl o\n\nlo w\n\xC4\xA0 low\n");
    tmp_file(dir, "tokenizer_config.json", "{\"add_prefix_space\": true}");
    assert_int_equal(tokenizer_load(dir, "roberta", &t, &err), ELANG_OK);
    ids = NULL;
    len = 0;
    assert_int_equal(tokenizer_tokenize(t, "low lo x", &ids, &len, &err), ELANG_OK);
    static const int32_t want2[] = {9, 8, 6, 8, 3};
    assert_int_equal(len, 5);
    assert_memory_equal(ids, want2, sizeof want2);
    tokenizer_free(t);
    free(ids);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_bert),
        cmocka_unit_test(test_fixture_distilbert),
        cmocka_unit_test(test_fixture_roberta),
        cmocka_unit_test(test_glue_wordpiece),
        cmocka_unit_test(test_glue_bpe),
        cmocka_unit_test(test_tricky_cases),
        cmocka_unit_test(test_unicode_classes),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_empty_and_max_length),
        cmocka_unit_test(test_wordpiece_options),
        cmocka_unit_test(test_missing_files),
        cmocka_unit_test(test_malformed_files),
        cmocka_unit_test(test_bpe_merges_file),
    };
    int failed = cmocka_run_group_tests_name("tokenizer", tests, NULL, NULL);
    test_tmpdir_cleanup();
    return failed;
}
