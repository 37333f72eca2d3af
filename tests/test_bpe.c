/* The order of byte-level BPE merges, against transformers' bpe() written
 * out here the way Python runs it (on strings, the lowest-ranked pair
 * first, all its occurrences left to right, then the next): by hand on the
 * cases where the order matters, and on random words with random merges.
 * The sizes where a slower algorithm would matter are test_tokenizer_scale's.
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

/* RobertaTokenizer's special tokens, first in every vocab.json here. */
#define SPECIALS "\"<s>\": 0, \"<pad>\": 1, \"</s>\": 2, \"<unk>\": 3"
#define UNK_ID 3

static tokenizer *load_bpe(const char *vocab_json, const char *merges_txt) {
    const char *dir = test_dir("bpe");
    test_dir_file(dir, "vocab.json", vocab_json);
    test_dir_file(dir, "merges.txt", merges_txt);
    return tokenizer_from_dir(dir, "roberta");
}

static void expect_ids(const tokenizer *t, const char *word, const int32_t *want, int n) {
    int32_t *ids = NULL;
    int len = 0;
    elang_error err = {0};
    if (tokenizer_tokenize(t, word, &ids, &len, &err) != ELANG_OK) fail_msg("%s", err.message);
    if (len != n) fail_msg("\"%s\": %d ids, expected %d", word, len, n);
    for (int i = 0; i < n; i++)
        if (ids[i] != want[i])
            fail_msg("\"%s\": id %d is %d, expected %d", word, i, ids[i], want[i]);
    free(ids);
}

/* "a a a" merges as "aa a"; and merging (a, b), rank 1, makes the pair
 * (ab, a), rank 0, which must wait until every (a, b) has merged: "abab"
 * becomes "ab ab", not "aba b". */
static void test_merge_order_by_hand(void **state) {
    (void)state;
    tokenizer *t = load_bpe("{" SPECIALS ", \"a\": 4, \"b\": 5, \"aa\": 6, \"ab\": 7, \"aba\": 8}",
                            "#version: 0.2\nab a\na b\na a\n");
    expect_ids(t, "aaa", (int32_t[]){6, 4}, 2);
    expect_ids(t, "aaaa", (int32_t[]){6, 6}, 2);
    expect_ids(t, "abab", (int32_t[]){7, 7}, 2);
    expect_ids(t, "aba", (int32_t[]){8}, 1);
    tokenizer_free(t);
}

/* ---------------------------------------- random merges, random words */

#define ALPHABET "abcd"
#define N_MERGES 400
#define SYMBOL_MAX 12 /* the longest merged symbol, NUL included */
#define N_WORDS 2000
#define WORD_MAX 80

typedef char symbol[SYMBOL_MAX];

typedef struct {
    symbol left, right;
} merge_rule;

/* out = left + right, which random_merges keeps within a symbol. */
static void join(symbol out, const char *left, const char *right) {
    size_t nl = strlen(left), nr = strlen(right);
    assert_true(nl + nr < SYMBOL_MAX);
    memmove(out, left, nl);
    memcpy(out + nl, right, nr + 1);
}

/* Merges of random pairs of the letters and of what earlier merges made,
 * listed in a random order, so that a pair often ranks below the pairs
 * that make its symbols; no pair twice. Returns how many symbols there are
 * in made: the letters, then what the merges make. */
static size_t random_merges(merge_rule *rules, symbol *made) {
    size_t n_symbols = strlen(ALPHABET), n = 0;
    for (size_t i = 0; i < n_symbols; i++) snprintf(made[i], SYMBOL_MAX, "%c", ALPHABET[i]);
    while (n < N_MERGES) {
        /* Short symbols, made early, more often: they occur more. */
        const char *l = made[rand() % (1 + rand() % n_symbols)];
        const char *r = made[rand() % (1 + rand() % n_symbols)];
        if (strlen(l) + strlen(r) >= SYMBOL_MAX) continue;
        size_t k = 0;
        while (k < n && !(strcmp(rules[k].left, l) == 0 && strcmp(rules[k].right, r) == 0)) k++;
        if (k < n) continue;
        snprintf(rules[n].left, SYMBOL_MAX, "%s", l);
        snprintf(rules[n].right, SYMBOL_MAX, "%s", r);
        n++;
        symbol joined;
        join(joined, l, r);
        k = 0;
        while (k < n_symbols && strcmp(made[k], joined) != 0) k++;
        if (k == n_symbols) memcpy(made[n_symbols++], joined, SYMBOL_MAX);
    }
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)rand() % (i + 1);
        merge_rule tmp = rules[i];
        rules[i] = rules[j];
        rules[j] = tmp;
    }
    return n_symbols;
}

static int rank_of(const merge_rule *rules, const char *left, const char *right) {
    for (int k = 0; k < N_MERGES; k++)
        if (strcmp(rules[k].left, left) == 0 && strcmp(rules[k].right, right) == 0) return k;
    return -1;
}

/* transformers' bpe() on the letters of word: the symbols it ends with. */
static size_t reference_bpe(const merge_rule *rules, const char *word, symbol *s) {
    size_t n = strlen(word);
    for (size_t i = 0; i < n; i++) snprintf(s[i], SYMBOL_MAX, "%c", word[i]);
    while (n > 1) {
        int best = -1;
        for (size_t i = 0; i + 1 < n; i++) {
            int r = rank_of(rules, s[i], s[i + 1]);
            if (r >= 0 && (best < 0 || r < best)) best = r;
        }
        if (best < 0) break;
        const merge_rule *m = &rules[best];
        size_t out = 0;
        for (size_t i = 0; i < n; out++) {
            if (i + 1 < n && strcmp(s[i], m->left) == 0 && strcmp(s[i + 1], m->right) == 0) {
                join(s[out], m->left, m->right);
                i += 2;
            } else {
                memmove(s[out], s[i++], SYMBOL_MAX);
            }
        }
        n = out;
    }
    return n;
}

/* Every third merged symbol is left out of vocab.json: it becomes <unk>. */
static int32_t symbol_id(const symbol *made, size_t n_made, const char *sym) {
    for (size_t k = 0; k < n_made; k++)
        if (strcmp(made[k], sym) == 0)
            return k < strlen(ALPHABET) || k % 3 ? (int32_t)(4 + k) : UNK_ID;
    fail_msg("\"%s\" was never made", sym);
    return -1;
}

static void test_random_merges_against_reference(void **state) {
    (void)state;
    srand(20240611);
    merge_rule *rules = malloc(N_MERGES * sizeof *rules);
    symbol *made = malloc((N_MERGES + strlen(ALPHABET)) * sizeof *made);
    size_t n_made = random_merges(rules, made);
    strbuf vocab = {0}, merges = {0};
    assert_true(strbuf_puts(&vocab, "{" SPECIALS) && strbuf_puts(&merges, "#version: 0.2\n"));
    for (size_t k = 0; k < n_made; k++) {
        char entry[64];
        snprintf(entry, sizeof entry, ", \"%s\": %zu", made[k], 4 + k);
        if (symbol_id(made, n_made, made[k]) != UNK_ID) assert_true(strbuf_puts(&vocab, entry));
    }
    assert_true(strbuf_puts(&vocab, "}"));
    for (size_t k = 0; k < N_MERGES; k++) {
        char line[64];
        snprintf(line, sizeof line, "%s %s\n", rules[k].left, rules[k].right);
        assert_true(strbuf_puts(&merges, line));
    }
    tokenizer *t = load_bpe(vocab.s, merges.s);

    symbol *s = malloc(WORD_MAX * sizeof *s);
    int32_t want[WORD_MAX];
    size_t letters = 0, merged_away = 0;
    for (int w = 0; w < N_WORDS; w++) {
        char word[WORD_MAX + 1];
        size_t len = 1 + (size_t)rand() % WORD_MAX;
        for (size_t i = 0; i < len; i++) word[i] = ALPHABET[rand() % (int)strlen(ALPHABET)];
        word[len] = '\0';
        size_t n = reference_bpe(rules, word, s);
        for (size_t i = 0; i < n; i++) want[i] = symbol_id(made, n_made, s[i]);
        expect_ids(t, word, want, (int)n);
        letters += len;
        merged_away += len - n;
    }
    /* The merges did something. */
    print_message("%d random words of %zu letters: %zu merges, as the reference\n", N_WORDS,
                  letters, merged_away);
    assert_true(merged_away > letters / 3);
    tokenizer_free(t);
    free(s);
    free(rules);
    free(made);
    strbuf_free(&vocab);
    strbuf_free(&merges);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_order_by_hand),
        cmocka_unit_test(test_random_merges_against_reference),
    };
    int failed = cmocka_run_group_tests_name("bpe", tests, NULL, NULL);
    test_tmpdir_cleanup();
    return failed;
}
