/* Tokenizers on input that is valid but large: many special or added
 * tokens, long texts full of them, one very long word. Each case runs
 * under a watchdog, so that a step quadratic in its size fails instead of
 * hanging: the sizes are ones the quadratic steps this code replaced spent
 * more than the watchdog's minute on (several minutes, mostly), where
 * linear or n log n time takes well under a second. The ids are checked
 * too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support.h"
#include "tokenize/tokenizer.h"
#include "util/strbuf.h"

/* Far beyond what any case takes, even in the sanitizer build. */
#define WATCHDOG_SECONDS 60
/* The pieces of fixtures/hf/t5's spiece.model: the sentinels come next. */
#define T5_PIECES 2000

/* The ids of text, special tokens excluded (malloc'ed, *n of them). */
static int32_t *tokenize(const tokenizer *t, const char *text, int *n) {
    int32_t *ids = NULL;
    elang_error err = {0};
    *n = 0;
    if (tokenizer_tokenize(t, text, &ids, n, &err) != ELANG_OK) fail_msg("%s", err.message);
    return ids;
}

/* decode(ids, skip_special_tokens=True) must give text back. */
static void expect_decoded(const tokenizer *t, const int32_t *ids, int n, const char *text) {
    char *got;
    elang_error err = {0};
    if (tokenizer_decode(t, ids, n, true, &got, &err) != ELANG_OK) fail_msg("%s", err.message);
    assert_string_equal(got, text);
    free(got);
}

/* printf into a growing buffer. */
static void append(strbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char piece[64];
    int len = vsnprintf(piece, sizeof piece, fmt, ap);
    va_end(ap);
    assert_true(len >= 0 && (size_t)len < sizeof piece && strbuf_append(b, piece, (size_t)len));
}

/* A directory with the T5 fixture's spiece.model and this
 * tokenizer_config.json. */
static const char *t5_dir(const char *config) {
    static const char *const files[] = {"spiece.model"};
    const char *dir = test_dir_copy(shared_path("fixtures/hf/t5"), "t5", files, 1);
    test_dir_file(dir, "tokenizer_config.json", config);
    return dir;
}

/* T5's extra_ids sentinels are registered one by one as special tokens. */
static void test_many_t5_sentinels(void **state) {
    (void)state;
    const char *dir = t5_dir("{\"extra_ids\": 300000}");
    watchdog_start("300,000 T5 sentinels", WATCHDOG_SECONDS);
    tokenizer *t = tokenizer_from_dir(dir, "t5");
    assert_int_equal(tokenizer_vocab_size(t), T5_PIECES + 300000);
    int n;
    int32_t *ids = tokenize(t, "<extra_id_299999> <extra_id_0>", &n);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], T5_PIECES);
    assert_int_equal(ids[1], T5_PIECES + 299999);
    watchdog_stop();
    free(ids);
    tokenizer_free(t);
}

/* T5Tokenizer counts the distinct sentinels of additional_special_tokens
 * against extra_ids. */
static void test_many_given_sentinels(void **state) {
    (void)state;
    const int n_given = 300000;
    strbuf config = {0};
    append(&config, "{\"extra_ids\": %d, \"additional_special_tokens\": [", n_given);
    for (int k = 0; k < n_given; k++) append(&config, "%s\"<extra_id_%d>\"", k ? ", " : "", k);
    append(&config, ", \"<extra_id_0>\", \"<sep>\"]}");
    const char *dir = t5_dir(config.s);
    watchdog_start("300,000 given T5 sentinels", WATCHDOG_SECONDS);
    tokenizer *t = tokenizer_from_dir(dir, "t5");
    assert_int_equal(tokenizer_vocab_size(t), T5_PIECES + n_given + 1); /* + <sep> */
    tokenizer_free(t);

    memcpy(config.s, "{\"extra_ids\": 300001", 20); /* as long as "300000" */
    test_dir_file(dir, "tokenizer_config.json", config.s);
    elang_error err = {0};
    assert_int_equal(tokenizer_load(dir, "t5", &t, &err), ELANG_ERR_FORMAT);
    assert_non_null(strstr(err.message, "holds 300000 extra_id tokens but extra_ids is 300001"));
    watchdog_stop();
    strbuf_free(&config);
}

/* added_tokens.json's entries are added one by one, each checked against
 * the special tokens and the tokens added before it; then the special
 * tokens are registered, each checked against the added tokens. */
static void test_many_added_tokens(void **state) {
    (void)state;
    const int n_special = 100000, n_added = 300000, n_vocab = 6;
    const char *dir = test_dir("added");
    test_dir_file(dir, "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n");
    strbuf json = {0};
    append(&json, "{\"additional_special_tokens\": [");
    for (int k = 0; k < n_special; k++) append(&json, "%s\"<S%d>\"", k ? ", " : "", k);
    append(&json, "]}");
    test_dir_file(dir, "special_tokens_map.json", json.s);
    json.len = 0;
    append(&json, "{");
    for (int k = 0; k < n_added; k++)
        append(&json, "%s\"Tok%d\": %d", k ? ", " : "", k, n_vocab + k);
    append(&json, "}");
    test_dir_file(dir, "added_tokens.json", json.s);
    strbuf_free(&json);

    watchdog_start("100,000 special and 300,000 added tokens", WATCHDOG_SECONDS);
    tokenizer *t = tokenizer_from_dir(dir, "bert");
    assert_int_equal(tokenizer_vocab_size(t), n_vocab + n_added + n_special);
    /* do_lower_case: the added tokens are lowercased, and so is the text
     * around the special ones. */
    int n;
    int32_t *ids = tokenize(t, "TOK7 <S99999>hello tok299999", &n);
    const int32_t want[] = {n_vocab + 7, n_vocab + n_added + 99999, 5, n_vocab + 299999};
    assert_int_equal(n, 4);
    assert_memory_equal(ids, want, sizeof want);
    watchdog_stop();
    free(ids);
    tokenizer_free(t);
}

/* A text of 300,000 sentinels (5 MB) with 60,000 added tokens to look
 * for at every position. */
static void test_text_of_added_tokens(void **state) {
    (void)state;
    const int n_sentinels = 60000, n_in_text = 300000;
    tokenizer *t = tokenizer_from_dir(t5_dir("{\"extra_ids\": 60000}"), "t5");
    strbuf text = {0};
    for (int i = 0; i < n_in_text; i++) append(&text, "<extra_id_%d>", i * 7 % n_sentinels);
    watchdog_start("a text of 300,000 added tokens", WATCHDOG_SECONDS);
    int n;
    int32_t *ids = tokenize(t, text.s, &n);
    assert_int_equal(n, n_in_text);
    for (int i = 0; i < n_in_text; i++)
        assert_int_equal(ids[i], T5_PIECES + n_sentinels - 1 - i * 7 % n_sentinels);
    watchdog_stop();
    free(ids);
    strbuf_free(&text);
    tokenizer_free(t);
}

/* Decoding looks every id up among 60,000 added tokens. */
static void test_decode_among_added_tokens(void **state) {
    (void)state;
    const int n_sentinels = 60000, n_ids = 2000000;
    tokenizer *t = tokenizer_from_dir(t5_dir("{\"extra_ids\": 60000}"), "t5");
    int32_t *ids = malloc(n_ids * sizeof *ids);
    for (int i = 0; i < n_ids; i++) ids[i] = T5_PIECES + i % n_sentinels;
    watchdog_start("decoding 2,000,000 added tokens", WATCHDOG_SECONDS);
    expect_decoded(t, ids, n_ids, ""); /* every one is special */
    char *text;
    elang_error err = {0};
    assert_int_equal(tokenizer_decode(t, ids, 2, false, &text, &err), ELANG_OK);
    assert_string_equal(text, "<extra_id_59999><extra_id_59998>"); /* the last sentinel first */
    watchdog_stop();
    free(text);
    free(ids);
    tokenizer_free(t);
}

/* The alphabetic tokens of the RoBERTa fixture's vocab.json (without the
 * "Ġ" of a word start) run together, in id order and back: a word of
 * 552,844 letters, which merges with as many different pairs as the
 * vocabulary has (each pass of bpe() costs the length of the word). */
static char *vocabulary_word(void) {
    json_error_t je;
    json_t *vocab = json_load_file(shared_path("fixtures/hf/roberta/vocab.json"), 0, &je);
    if (!vocab) fail_msg("vocab.json: %s", je.text);
    static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const char **pieces = malloc(json_object_size(vocab) * sizeof *pieces);
    size_t n = 0;
    strbuf word = {0};
    const char *key;
    json_t *id;
    json_object_foreach(vocab, key, id) {
        const char *piece = strncmp(key, "\xC4\xA0", 2) == 0 ? key + 2 : key;
        if (*piece && strspn(piece, letters) == strlen(piece)) pieces[n++] = piece;
    }
    for (size_t i = 0; i < 2 * n; i++)
        assert_true(strbuf_puts(&word, pieces[i < n ? i : 2 * n - 1 - i]));
    free(pieces);
    json_decref(vocab);
    return word.s;
}

/* GPT-2's pre-tokenizer keeps a run of letters whole: byte-level BPE
 * merges the symbols of one long word. test_bpe checks the order of the
 * merges; here the ids must at least spell the word again. */
static void test_bpe_long_word(void **state) {
    (void)state;
    tokenizer *t = tokenizer_from_dir(shared_path("fixtures/hf/roberta"), "roberta");
    char *word = vocabulary_word();
    assert_int_equal(strlen(word), 552844);
    watchdog_start("byte-level BPE on a word of 552,844 letters", WATCHDOG_SECONDS);
    int n;
    int32_t *ids = tokenize(t, word, &n);
    assert_true(n > 50000 && n < 552844);
    expect_decoded(t, ids, n, word);
    watchdog_stop();
    free(ids);
    free(word);
    tokenizer_free(t);
}

/* MarianTokenizer drops language codes, ">>" to the last "<<" of a line:
 * here a line of 333,334 ">>a" and no "<<". (Not a run of ">" alone:
 * libsentencepiece itself takes quadratic time to join a run of characters
 * it does not know into one piece.) */
static void test_marian_without_language_code(void **state) {
    (void)state;
    const int reps = 333334;
    tokenizer *t = tokenizer_from_dir(shared_path("fixtures/hf/marian"), "marian");
    strbuf text = {0};
    for (int i = 0; i < reps; i++) assert_true(strbuf_puts(&text, ">>a"));
    watchdog_start("Marian on a line of 333,334 \">>a\"", WATCHDOG_SECONDS);
    int n;
    int32_t *ids = tokenize(t, text.s, &n);
    /* ▁, then <unk> (">>") and "a" each time */
    assert_int_equal(n, 1 + 2 * reps);
    assert_int_equal(ids[0], 19);
    for (int i = 1; i < n; i++) assert_int_equal(ids[i], i % 2 ? 1 : 16);
    watchdog_stop();
    free(ids);
    strbuf_free(&text);
    tokenizer_free(t);
}

/* n random lowercase letters (malloc'ed). */
static char *random_letters(size_t n) {
    char *s = malloc(n + 1);
    for (size_t i = 0; i < n; i++) s[i] = (char)('a' + rand() % 26);
    s[n] = '\0';
    return s;
}

/* Neither WordPiece nor SentencePiece had a quadratic step to fix; these
 * keep it so. WordPiece makes a word of more than max_input_chars_per_word
 * (100) characters [UNK] before looking at its pieces. */
static void test_long_word_wordpiece_sentencepiece(void **state) {
    (void)state;
    tokenizer *bert = tokenizer_from_dir(shared_path("fixtures/hf/bert"), "bert");
    tokenizer *t5 = tokenizer_from_dir(shared_path("fixtures/hf/t5"), "t5");
    char *word = random_letters(1000000);
    watchdog_start("WordPiece and SentencePiece on a word of a million letters",
                   WATCHDOG_SECONDS);
    int n;
    int32_t *ids = tokenize(bert, word, &n);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 100); /* [UNK] */
    free(ids);
    ids = tokenize(t5, word, &n);
    assert_true(n > 100000);
    expect_decoded(t5, ids, n, word);
    watchdog_stop();
    free(ids);
    free(word);
    tokenizer_free(bert);
    tokenizer_free(t5);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_t5_sentinels),
        cmocka_unit_test(test_many_given_sentinels),
        cmocka_unit_test(test_many_added_tokens),
        cmocka_unit_test(test_text_of_added_tokens),
        cmocka_unit_test(test_decode_among_added_tokens),
        cmocka_unit_test(test_bpe_long_word),
        cmocka_unit_test(test_marian_without_language_code),
        cmocka_unit_test(test_long_word_wordpiece_sentencepiece),
    };
    int failed = cmocka_run_group_tests_name("tokenizer_scale", tests, NULL, NULL);
    test_tmpdir_cleanup();
    return failed;
}
