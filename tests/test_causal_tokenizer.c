/* The decoder-only models' tokenizers against transformers 4.48's slow
 * tokenizers (../shared/fixtures/hf/{gpt2,llama,qwen2}/cases.jsonl):
 * GPT2Tokenizer (byte-level BPE, no bos), LlamaTokenizer (SentencePiece
 * with byte fallback, legacy false: <s> added, the leading "▁" its own),
 * Qwen2Tokenizer (its own pre-tokenization pattern, NFC, digits one by
 * one, added tokens from added_tokens_decoder). Then the same BPE read from
 * a tokenizer.json alone, written here from the fixture's vocab.json and
 * merges.txt, giving identical ids; and tokenizer.json files elang must
 * refuse, by name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "support.h"
#include "tokenize/tokenizer.h"

#define MAX_LENGTH 64 /* oracle.json's max_length */

static char *fixture_dir(const char *name) {
    char rel[128];
    snprintf(rel, sizeof rel, "fixtures/hf/%s", name);
    return strdup(shared_path(rel));
}

/* Every case's text encoded as the fixture's input_ids (truncated to 64,
 * special tokens included); returns how many. */
static size_t check_ids(const tokenizer *t, const char *name) {
    char rel[128];
    snprintf(rel, sizeof rel, "fixtures/hf/%s/cases.jsonl", name);
    size_t n;
    json_t **cases = read_jsonl(shared_path(rel), &n);
    size_t checked = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *text = json_object_get(cases[i], "text"), *want = json_object_get(cases[i], "input_ids");
        if (!json_is_string(text)) continue;
        token_seq seq;
        elang_error err;
        if (tokenizer_encode(t, json_string_value(text), NULL, MAX_LENGTH, &seq, &err) != ELANG_OK)
            fail_msg("%s case %zu: %s", name, i, err.message);
        if ((size_t)seq.len != json_array_size(want))
            fail_msg("%s case %zu (%s): %d ids, want %zu", name, i, json_string_value(text), seq.len,
                     json_array_size(want));
        for (int k = 0; k < seq.len; k++)
            if (seq.ids[k] != json_integer_value(json_array_get(want, (size_t)k)))
                fail_msg("%s case %zu (%s): id %d at %d, want %lld", name, i, json_string_value(text), seq.ids[k], k,
                         (long long)json_integer_value(json_array_get(want, (size_t)k)));
        token_seq_free(&seq);
        checked++;
    }
    free_jsonl(cases, n);
    return checked;
}

static void check_fixture(const char *name, const char *model_type) {
    char *dir = fixture_dir(name);
    tokenizer *t = tokenizer_from_dir(dir, model_type);
    assert_int_equal(check_ids(t, name), 13);
    tokenizer_free(t);
    free(dir);
}

static void gpt2_ids(void **s) { (void)s; check_fixture("gpt2", "gpt2"); }
static void llama_ids(void **s) { (void)s; check_fixture("llama", "llama"); }
static void qwen2_ids(void **s) { (void)s; check_fixture("qwen2", "qwen2"); }

static char *decoded(const tokenizer *t, const char *text, bool skip) {
    int32_t *ids = NULL;
    int n = 0;
    elang_error err;
    char *out = NULL;
    if (tokenizer_tokenize(t, text, &ids, &n, &err) != ELANG_OK ||
        tokenizer_decode(t, ids, n, skip, &out, &err) != ELANG_OK)
        fail_msg("%s: %s", text, err.message);
    free(ids);
    return out;
}

/* Byte-level BPE gives the text back byte for byte (GPT-2 and Qwen2 keep
 * clean_up_tokenization_spaces false); added tokens stay whole, and
 * skip_special drops them. Llama's decoding drops the "▁" it put first. */
static void decoding(void **s) {
    (void)s;
    const char *texts[] = {"Hello, World!  x", "  leading and trailing\twhitespace\n and\xc2\xa0nbsp\r\n  ",
                           "emoji \xf0\x9f\x98\x80 and <|endoftext|> mid"};
    char *dir = fixture_dir("gpt2");
    tokenizer *t = tokenizer_from_dir(dir, "gpt2");
    for (size_t i = 0; i < 3; i++) {
        char *got = decoded(t, texts[i], false);
        assert_string_equal(got, texts[i]);
        free(got);
    }
    char *got = decoded(t, "a <|endoftext|> b", true);
    assert_string_equal(got, "a  b");
    free(got);
    tokenizer_free(t);
    free(dir);

    dir = fixture_dir("qwen2");
    t = tokenizer_from_dir(dir, "qwen2");
    int32_t *ids = NULL;
    int n = 0;
    elang_error err;
    /* <|im_start|> is an added special token (50257), cut out whole. */
    assert_int_equal(tokenizer_tokenize(t, "<|im_start|>user", &ids, &n, &err), ELANG_OK);
    assert_true(n >= 2);
    assert_int_equal(ids[0], 50257);
    free(ids);
    got = decoded(t, "<|im_start|>user 12", false);
    assert_string_equal(got, "<|im_start|>user 12");
    free(got);
    tokenizer_free(t);
    free(dir);

    dir = fixture_dir("llama");
    t = tokenizer_from_dir(dir, "llama");
    got = decoded(t, "Hello world", true);
    assert_string_equal(got, "Hello world");
    free(got);
    token_seq seq;
    /* <s> in the text: the "▁" put before it goes (tokens[1] is special). */
    assert_int_equal(tokenizer_encode(t, "<s>hi", NULL, 64, &seq, &err), ELANG_OK);
    assert_true(seq.len >= 3);
    assert_int_equal(seq.ids[0], 1);
    assert_int_equal(seq.ids[1], 1);
    token_seq_free(&seq);
    tokenizer_free(t);
    free(dir);
}

/* ------------------------------------------------------- tokenizer.json */

/* A tokenizer.json for the fixture's vocab.json and merges.txt, as the
 * Rust tokenizers save GPT-2's (ByteLevel pre-tokenizer with its regex,
 * merges as "a b") or Qwen2's (NFC, a Split by its pattern, merges as
 * [a, b] pairs), with the added tokens of tokenizer_config.json. Written
 * alone into a fresh directory, which is returned. */
static const char *write_tokenizer_json(const char *name, bool qwen2) {
    char *src = fixture_dir(name), path[4096];
    json_error_t je;
    snprintf(path, sizeof path, "%s/vocab.json", src);
    json_t *vocab = json_load_file(path, 0, &je);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", src);
    json_t *config = json_load_file(path, 0, &je);
    assert_non_null(vocab);
    assert_non_null(config);
    snprintf(path, sizeof path, "%s/merges.txt", src);
    size_t len;
    char *merges_txt = read_file_all(path, &len);
    json_t *merges = json_array();
    char *line = strchr(merges_txt, '\n') + 1; /* after the #version header */
    for (char *next; (next = strchr(line, '\n')); line = next + 1) {
        *next = '\0';
        if (qwen2) {
            char *space = strchr(line, ' ');
            *space = '\0';
            json_array_append_new(merges, json_pack("[ss]", line, space + 1));
        } else {
            json_array_append_new(merges, json_string(line));
        }
    }
    json_t *added = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(config, "added_tokens_decoder"), key, v) {
        json_t *tok = json_deep_copy(v);
        json_object_set_new(tok, "id", json_integer(atoi(key)));
        json_array_append_new(added, tok);
    }
    json_t *model = json_pack("{s:s, s:o, s:o, s:b}", "type", "BPE", "vocab", vocab, "merges", merges,
                              "byte_fallback", false);
    json_t *byte_level = json_pack("{s:s, s:b, s:b, s:b}", "type", "ByteLevel", "add_prefix_space", false,
                                   "trim_offsets", true, "use_regex", !qwen2);
    json_t *pre = byte_level;
    if (qwen2) {
        const char *pattern = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
                              "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
        json_t *split = json_pack("{s:s, s:{s:s}, s:s, s:b}", "type", "Split", "pattern", "Regex", pattern, "behavior",
                                  "Isolated", "invert", false);
        pre = json_pack("{s:s, s:[o,o]}", "type", "Sequence", "pretokenizers", split, byte_level);
    }
    json_t *root = json_pack("{s:s, s:o, s:o, s:o, s:o}", "version", "1.0", "added_tokens", added, "normalizer",
                             qwen2 ? json_pack("{s:s}", "type", "NFC") : json_null(), "pre_tokenizer", pre, "model",
                             model);
    char dirname[64];
    snprintf(dirname, sizeof dirname, "%s-tokenizer-json", name);
    const char *dir = test_dir(dirname);
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    assert_int_equal(json_dump_file(root, path, JSON_COMPACT), 0);
    json_decref(root);
    json_decref(config);
    free(merges_txt);
    free(src);
    return dir;
}

/* tokenizer.json alone gives the ids vocab.json + merges.txt give. */
static void tokenizer_json_alone(void **s) {
    (void)s;
    const char *names[] = {"gpt2", "qwen2"};
    for (int k = 0; k < 2; k++) {
        const char *dir = write_tokenizer_json(names[k], k == 1);
        tokenizer *t = tokenizer_from_dir(dir, names[k]);
        assert_int_equal(check_ids(t, names[k]), 13);
        assert_int_equal(tokenizer_vocab_size(t), k == 0 ? 50257 : 50259);
        tokenizer_free(t);
    }
}

static void expect_refused(const char *dir, const char *model_type, elang_status want, const char *needle) {
    tokenizer *t = NULL;
    elang_error err = {0};
    const elang_status got = tokenizer_load(dir, model_type, &t, &err);
    if (got != want || !strstr(err.message, needle))
        fail_msg("%s: status %d (%s), want %d with \"%s\"", dir, got, err.message, want, needle);
}

/* What a tokenizer.json may say that elang does not do, or that is not a
 * tokenizer.json at all, is refused naming the file and what is wrong. */
static void tokenizer_json_refused(void **s) {
    (void)s;
    const char *dir = test_dir("bad-tokenizer-json");
    const struct {
        const char *content;
        elang_status want;
        const char *needle;
    } bad[] = {
        {"[1, 2]", ELANG_ERR_FORMAT, "no \"model\" object"},
        {"{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}", ELANG_ERR_UNSUPPORTED, "model type \"WordPiece\""},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, \"pre_tokenizer\": "
         "{\"type\": \"Metaspace\"}}", ELANG_ERR_UNSUPPORTED, "pre_tokenizer \"Metaspace\""},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, \"pre_tokenizer\": "
         "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": \"\\\\p{N}{1,3}\"}}, "
         "{\"type\": \"ByteLevel\", \"use_regex\": false}]}}", ELANG_ERR_UNSUPPORTED, "\\p{N}{1,3}"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [], \"ignore_merges\": true}, "
         "\"pre_tokenizer\": {\"type\": \"ByteLevel\"}}", ELANG_ERR_UNSUPPORTED, "ignore_merges"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [7]}, \"pre_tokenizer\": "
         "{\"type\": \"ByteLevel\"}}", ELANG_ERR_FORMAT, "model.merges[0]"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, \"pre_tokenizer\": "
         "{\"type\": \"ByteLevel\"}, \"added_tokens\": [{\"content\": \"<x>\"}]}", ELANG_ERR_FORMAT, "added_tokens[0]"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": -3}, \"merges\": []}, \"pre_tokenizer\": "
         "{\"type\": \"ByteLevel\"}}", ELANG_ERR_FORMAT, "model.vocab"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        test_dir_file(dir, "tokenizer.json", bad[i].content);
        expect_refused(dir, "gpt2", bad[i].want, bad[i].needle);
        expect_refused(dir, "gpt2", bad[i].want, "tokenizer.json");
    }
    /* No tokenizer file at all: the files looked for are named. */
    const char *empty = test_dir("no-tokenizer");
    expect_refused(empty, "llama", ELANG_ERR_IO, "tokenizer.model, vocab.json + merges.txt and tokenizer.json");
}

/* tokenizer_config.json's flags: a bos added by GPT-2 when asked, Llama's
 * add_eos_token, and a bos asked for that the config makes null. */
static void config_flags(void **s) {
    (void)s;
    char *src = fixture_dir("gpt2");
    const char *files[] = {"vocab.json", "merges.txt"};
    const char *dir = test_dir_copy(src, "gpt2-bos", files, 2);
    test_dir_file(dir, "tokenizer_config.json", "{\"add_bos_token\": true, \"tokenizer_class\": \"GPT2Tokenizer\"}");
    tokenizer *t = tokenizer_from_dir(dir, "gpt2");
    token_seq seq;
    elang_error err;
    assert_int_equal(tokenizer_encode(t, "The cat", NULL, 64, &seq, &err), ELANG_OK);
    assert_int_equal(seq.len, 3);
    assert_int_equal(seq.ids[0], 50256);
    token_seq_free(&seq);
    tokenizer_free(t);
    test_dir_file(dir, "tokenizer_config.json", "{\"add_bos_token\": true, \"bos_token\": null}");
    expect_refused(dir, "gpt2", ELANG_ERR_FORMAT, "add_bos_token is true but bos_token is null");
    free(src);

    src = fixture_dir("llama");
    const char *spm[] = {"tokenizer.model"};
    dir = test_dir_copy(src, "llama-eos", spm, 1);
    test_dir_file(dir, "tokenizer_config.json", "{\"add_eos_token\": true, \"legacy\": false}");
    t = tokenizer_from_dir(dir, "llama");
    assert_int_equal(tokenizer_encode(t, "The cat", NULL, 64, &seq, &err), ELANG_OK);
    assert_int_equal(seq.ids[0], 1);
    assert_int_equal(seq.ids[seq.len - 1], 2);
    token_seq_free(&seq);
    tokenizer_free(t);
    free(src);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gpt2_ids),
        cmocka_unit_test(llama_ids),
        cmocka_unit_test(qwen2_ids),
        cmocka_unit_test(decoding),
        cmocka_unit_test(tokenizer_json_alone),
        cmocka_unit_test(tokenizer_json_refused),
        cmocka_unit_test(config_flags),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    test_tmpdir_cleanup();
    return failed;
}
