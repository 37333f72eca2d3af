/* `elang classify` end to end: the fixture cases through the CLI, and every
 * kind of bad input answered by a clear message and a non-zero exit. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/model_internal.h"
#include "route/answer_json.h"
#include "support.h"

static char *tmp_file(const char *name) {
    static char path[8][1024];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, sizeof path[0], "%s/%s", test_tmpdir(), name);
    return p;
}

/* Writes the fixture's single cases as classify input, with ids. */
static size_t write_inputs(const char *model, const char *path) {
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/hf/%s/cases.jsonl", model);
    size_t n;
    json_t **cases = read_jsonl(shared_path(rel), &n);
    FILE *f = fopen(path, "w");
    size_t written = 0;
    for (size_t i = 0; i < n; i++) {
        if (json_object_get(cases[i], "batch")) continue;
        json_t *in = json_object();
        json_object_set_new(in, "id", json_integer((json_int_t)i));
        json_object_set(in, "text", json_object_get(cases[i], "text"));
        json_t *pair = json_object_get(cases[i], "text_pair");
        if (pair) json_object_set(in, "text_pair", pair);
        json_dumpf(in, f, JSON_COMPACT);
        fputc('\n', f);
        json_decref(in);
        written++;
    }
    fclose(f);
    free_jsonl(cases, n);
    return written;
}

static void cli_matches_fixture(const char *model, double temperature, const char *energy_key) {
    const char *in = tmp_file("in.jsonl"), *out = tmp_file("out.jsonl");
    size_t n_in = write_inputs(model, in);
    assert_true(n_in >= 15); /* every single case of the fixture goes through the CLI */
    char cmd[4096], *err;
    snprintf(cmd, sizeof cmd, "%s classify --model %s/fixtures/hf/%s --input %s --output %s --emit-ids "
             "--max-length 64 --batch-size 4 --temperature %g --threads 2",
             elang_bin(), getenv("ELANG_SHARED") ? getenv("ELANG_SHARED") : "../shared", model, in, out,
             temperature);
    int rc = run_command(cmd, NULL, &err);
    if (rc != 0) fail_msg("%s exited %d: %s", cmd, rc, err);
    free(err);

    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/hf/%s/cases.jsonl", model);
    size_t n_cases, n_out;
    json_t **cases = read_jsonl(shared_path(rel), &n_cases);
    json_t **got = read_jsonl(out, &n_out);
    assert_int_equal(n_out, n_in);
    for (size_t k = 0; k < n_out; k++) {
        json_t *g = got[k];
        size_t i = (size_t)json_integer_value(json_object_get(g, "id"));
        assert_true(i < n_cases);
        assert_true(json_equal(json_object_get(g, "input_ids"), json_object_get(cases[i], "input_ids")));
        json_t *types = json_object_get(cases[i], "token_type_ids");
        if (types) assert_true(json_equal(json_object_get(g, "token_type_ids"), types));
        else assert_null(json_object_get(g, "token_type_ids"));
        json_t *want = json_object_get(cases[i], "logits"), *logits = json_object_get(g, "logits");
        assert_int_equal(json_array_size(logits), json_array_size(want));
        size_t best = 0;
        for (size_t j = 0; j < json_array_size(want); j++) {
            double w = json_real_value(json_array_get(want, j));
            assert_true(fabs(json_real_value(json_array_get(logits, j)) - w) <= 1e-4);
            if (w > json_real_value(json_array_get(want, best))) best = j;
        }
        assert_int_equal(json_integer_value(json_object_get(g, "label_id")), (json_int_t)best);
        char label[32];
        snprintf(label, sizeof label, "LABEL_%zu", best);
        assert_string_equal(json_string_value(json_object_get(g, "label")), label);
        double energy = json_real_value(json_object_get(g, "energy"));
        assert_true(fabs(-energy - json_real_value(json_object_get(cases[i], energy_key))) <= 1e-3);
    }
    free_jsonl(cases, n_cases);
    free_jsonl(got, n_out);
}

static void bert_cli_t1(void **s) { (void)s; cli_matches_fixture("bert", 1.0, "neg_energy_T1"); }
static void bert_f16_cli_t2(void **s) { (void)s; cli_matches_fixture("bert-f16", 2.0, "neg_energy_T2"); }
static void distilbert_cli_t1(void **s) { (void)s; cli_matches_fixture("distilbert", 1.0, "neg_energy_T1"); }
static void roberta_cli_t2(void **s) { (void)s; cli_matches_fixture("roberta", 2.0, "neg_energy_T2"); }

static void text_format_reads_raw_lines(void **s) {
    (void)s;
    const char *in = tmp_file("in.txt");
    const char text[] = "it 's a charming and often affecting journey .\n\nx\n";
    write_file(in, text, strlen(text));
    char cmd[2048], *out;
    snprintf(cmd, sizeof cmd, "%s classify --model %s --format text --input %s --emit-ids", elang_bin(),
             shared_path("fixtures/hf/bert"), in);
    assert_int_equal(run_command(cmd, &out, NULL), 0);
    /* Three lines in, three results out: the blank line is an empty text. */
    const char *want[] = {"[101,2009,1005,1055,1037,11951,1998,2411,12473,4990,1012,102]", "[101,102]",
                          "[101,1060,102]"};
    char *line = out;
    for (int i = 0; i < 3; i++) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        assert_non_null(strstr(line, want[i]));
        line = nl + 1;
    }
    assert_string_equal(line, "");
    free(out);
}

/* ---------------------------------------------------------------- bad input */

/* Runs the CLI, expecting failure with `needle` in its stderr and nothing on
 * stdout. */
static void expect_failure(const char *args, const char *needle) {
    char cmd[4096], *out, *err;
    snprintf(cmd, sizeof cmd, "%s %s", elang_bin(), args);
    int rc = run_command(cmd, &out, &err);
    if (rc == 0 || rc >= 128 || !strstr(err, needle))
        fail_msg("`%s` exited %d, stderr: %s(expected a message containing \"%s\")", cmd, rc, err, needle);
    assert_string_equal(out, "");
    free(out), free(err);
}

/* A copy of a fixture model directory in the temp dir, as symlinks, so that
 * a test can replace one file. */
static const char *model_copy(const char *fixture, const char *name) {
    static char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", test_tmpdir(), name);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && ln -s %s/* '%s/'", dir, dir,
             shared_path(fixture), dir);
    assert_int_equal(system(cmd), 0);
    return dir;
}

static void replace_file(const char *dir, const char *name, const void *data, size_t len) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
    write_file(path, data, len);
}

/* A copy (model_copy) of fixture whose file `name` has its first `from`
 * replaced by `to`. */
static const char *edited_copy(const char *fixture, const char *copy, const char *name, const char *from,
                               const char *to) {
    const char *dir = model_copy(fixture, copy);
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", shared_path(fixture), name);
    char *text = read_file_all(path, NULL);
    char *at = strstr(text, from);
    if (!at) fail_msg("%s holds no \"%s\"", path, from);
    const size_t head = (size_t)(at - text), size = strlen(text) - strlen(from) + strlen(to) + 1;
    char *edited = malloc(size);
    snprintf(edited, size, "%.*s%s%s", (int)head, text, to, at + strlen(from));
    replace_file(dir, name, edited, strlen(edited));
    free(text), free(edited);
    return dir;
}

/* What a model directory's tokenizer and config files promise is checked
 * when it loads, naming the file and the token or field, not when a text
 * happens to reach it (or never: a wrong tokenization, exit 0). */
static void model_files_checked_at_load(void **s) {
    (void)s;
    char args[4096], path[2048];
    const struct { const char *fixture, *file, *from, *to, *command, *needle; } cases[] = {
        /* An added token's id at the edge of int32 overflowed the count of ids. */
        {"fixtures/hf/gpt2", "tokenizer_config.json", "\"added_tokens_decoder\": {",
         "\"added_tokens_decoder\": {\"2147483647\": {\"content\": \"zzz\", \"special\": true},", "generate",
         "added_tokens_decoder[\"2147483647\"] has no id in [0, 2^31 - 1)"},
        {"fixtures/hf/gpt2", "tokenizer_config.json", "\"added_tokens_decoder\": {",
         "\"added_tokens_decoder\": {\"60000\": {\"content\": \"zzz\", \"special\": true},", "generate",
         "the tokenizer gives \"zzz\" the id 60000, but the model's embedding has only 50257 rows"},
        /* A vocabulary entry beyond the embedding, found only by a text holding it before. */
        {"fixtures/hf/gpt2", "vocab.json", "{", "{\"zzqq\": 50300, ", "generate",
         "the tokenizer gives \"zzqq\" the id 50300"},
        {"fixtures/hf/roberta", "config.json", "\"pad_token_id\": 1", "\"pad_token_id\": 1000000", "classify",
         "config.json: field \"pad_token_id\" = 1000000 is out of range [0, 50260]"},
        {"fixtures/hf/bert", "config.json", "\"2\": \"LABEL_2\"", "\"00\": \"LABEL_2\"", "classify",
         "id2label names class 0 twice"},
        {"fixtures/hf/roberta", "config.json", "\"pad_token_id\": 1", "\"pad_token_id\": 63", "classify",
         "pad_token_id 63 leaves no positions for text (max_position_embeddings 66"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *dir = edited_copy(cases[i].fixture, "checked-at-load", cases[i].file, cases[i].from, cases[i].to);
        snprintf(args, sizeof args, "%s --model %s --input /dev/null", cases[i].command, dir);
        expect_failure(args, cases[i].needle);
    }
    /* An empty vocabulary: every word became the unknown token, exit 0. */
    const char *dir = model_copy("fixtures/hf/gpt2", "empty-vocab");
    replace_file(dir, "vocab.json", "{}", 2);
    snprintf(args, sizeof args, "generate --model %s --input /dev/null", dir);
    expect_failure(args, "has an empty vocabulary");
    /* Optional files that are there but unreadable (a partial download's
     * dangling link, a directory): once taken for absent, which changed how
     * Llama tokenizes (its legacy default). */
    dir = model_copy("fixtures/hf/llama", "broken-optional");
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    unlink(path);
    assert_int_equal(symlink("/nonexistent/tokenizer_config.json", path), 0);
    snprintf(args, sizeof args, "generate --model %s --input /dev/null", dir);
    expect_failure(args, "tokenizer_config.json is a link that cannot be followed");
    dir = model_copy("fixtures/hf/llama", "broken-optional");
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    unlink(path);
    assert_int_equal(mkdir(path, 0777), 0);
    expect_failure(args, "generation_config.json is there but is not a regular file");
}

/* --max-length counts the special tokens a model's tokenizer frames a text
 * with: GPT-2 adds none, so one token of text is a valid length (it was
 * refused below 3 for every model). */
static void max_length_fits_the_framing(void **s) {
    (void)s;
    char in[1024], cmd[4096], *out, *err;
    snprintf(in, sizeof in, "%s/max-length.jsonl", test_tmpdir());
    const char line[] = "{\"text\": \"hello world there\"}\n";
    write_file(in, line, strlen(line));
    snprintf(cmd, sizeof cmd, "%s generate --model %s --input %s --max-length 1 --max-new-tokens 1 --emit-ids",
             elang_bin(), shared_path("fixtures/hf/gpt2"), in);
    if (run_command(cmd, &out, &err) != 0) fail_msg("%s: %s", cmd, err);
    assert_non_null(strstr(out, "\"input_ids\":[31373]"));
    free(out), free(err);
}

static void bad_flags(void **s) {
    (void)s;
    const char *bert = shared_path("fixtures/hf/bert");
    char args[2048];
    expect_failure("classify", "--model DIR is required");
    expect_failure("frobnicate", "unknown command 'frobnicate'");
    snprintf(args, sizeof args, "classify --model %s --batch-size 0", bert);
    expect_failure(args, "invalid value '0' for --batch-size");
    snprintf(args, sizeof args, "classify --model %s --batch-size lots", bert);
    expect_failure(args, "invalid value 'lots' for --batch-size");
    snprintf(args, sizeof args, "classify --model %s --temperature -1", bert);
    expect_failure(args, "invalid value '-1' for --temperature");
    snprintf(args, sizeof args, "classify --model %s --temperature nan", bert);
    expect_failure(args, "for --temperature");
    snprintf(args, sizeof args, "classify --model %s --threads 99999", bert);
    expect_failure(args, "for --threads");
    snprintf(args, sizeof args, "classify --model %s --format xml", bert);
    expect_failure(args, "expected one of json|text");
    snprintf(args, sizeof args, "classify --model %s --fast", bert);
    expect_failure(args, "unknown flag '--fast'");
    snprintf(args, sizeof args, "classify --model %s --input", bert);
    expect_failure(args, "--input needs a value");
    /* Hexadecimal and blanks, which strtod would take, are typos here. */
    snprintf(args, sizeof args, "classify --model %s --temperature 0x10", bert);
    expect_failure(args, "invalid value '0x10' for --temperature");
    snprintf(args, sizeof args, "classify --model %s --batch-size '8 '", bert);
    expect_failure(args, "invalid value '8 ' for --batch-size");
    /* Two of one flag: which was meant is not for the parser to guess. */
    snprintf(args, sizeof args, "classify --model %s --model %s --input /dev/null", bert, bert);
    expect_failure(args, "--model is given twice");
    snprintf(args, sizeof args, "classify --model %s --max-length 100000 --input /dev/null", bert);
    expect_failure(args, "max length 100000 exceeds the model's 64 positions");
}

static void bad_inputs(void **s) {
    (void)s;
    const char *bert = shared_path("fixtures/hf/bert");
    const char *in = tmp_file("bad.jsonl"), *out = tmp_file("never.jsonl");
    char args[4096];
    struct { const char *content, *needle; } cases[] = {
        {"{\"text\": \"fine\"}\n{\"text\": \"broken\"\n", "line 2: malformed JSON"},
        {"A fine film.\n", "line 1: malformed JSON at column 1: '[' or '{' expected near 'A' (lines of raw text? give "
                           "--format text)"},
        {"{\"text\": 42}\n", "line 1: field \"text\" is not a string"},
        {"{\"txt\": \"typo\"}\n", "line 1: field \"text\" is missing"},
        {"[\"not\", \"an object\"]\n", "line 1: expected a JSON object"},
        {"{\"text\": \"a\", \"text_pair\": 7}\n", "line 1: field \"text_pair\" must be a string"},
        {"{\"text\": \"nul \\u0000 inside\"}\n", "line 1: text contains a NUL"},
        {"{\"text\": \"a\"}\n\xEF\xBB\xBF{\"text\": \"b\"}\n", "line 2: starts with a UTF-8 byte order mark"},
        {"{\"text\": \"a\", \"id\": 123456789012345678901234567890}\n",
         "line 1: a whole number at column 50 does not fit in 64 bits"},
        {"", "holds no inputs"},
        {"\n\n", "holds no inputs"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(in, cases[i].content, strlen(cases[i].content));
        snprintf(args, sizeof args, "classify --model %s --input %s --output %s", bert, in, out);
        expect_failure(args, cases[i].needle);
        assert_int_equal(access(out, F_OK), -1); /* no partial output left behind */
    }
    /* Raw text that is not UTF-8: the message names the line. */
    const char latin1[] = "fine\ncaf\xe9 au lait\n";
    write_file(in, latin1, strlen(latin1));
    snprintf(args, sizeof args, "classify --model %s --format text --input %s", bert, in);
    expect_failure(args, "line 2: ");
    expect_failure(args, "UTF-8");
    snprintf(args, sizeof args, "classify --model %s --input %s/does-not-exist.jsonl", bert, test_tmpdir());
    expect_failure(args, "cannot open input");
    snprintf(args, sizeof args, "classify --model %s --input %s", bert, test_tmpdir());
    expect_failure(args, "is a directory, not a file");
    /* A line without end is not read into memory whole. */
    snprintf(args, sizeof args, "classify --model %s --input /dev/zero --output %s", bert, out);
    expect_failure(args, "/dev/zero line 1: longer than 16 MiB");
    const size_t big = (size_t)17 << 20;
    char *longer = malloc(big);
    assert_non_null(longer);
    memset(longer, 'a', big);
    memcpy(longer, "{\"text\": \"ok\"}\n", 15);
    write_file(in, longer, big);
    free(longer);
    snprintf(args, sizeof args, "classify --model %s --input %s --output %s", bert, in, out);
    expect_failure(args, "line 2: longer than 16 MiB");
    assert_int_equal(access(out, F_OK), -1);
    /* An output that is the input would replace it with the results. */
    const char two[] = "{\"text\": \"a\"}\n{\"text\": \"b\"}\n";
    write_file(in, two, strlen(two));
    snprintf(args, sizeof args, "classify --model %s --input %s --output %s", bert, in, in);
    expect_failure(args, "is the --input file");
    size_t len;
    char *kept = read_file_all(in, &len);
    assert_int_equal(len, strlen(two));
    assert_memory_equal(kept, two, len);
    free(kept);
}

/* The byte order mark that Windows tools put at the start of a file is an
 * encoding signature, not text: the first line reads as without it. */
static void byte_order_mark_starts_input(void **s) {
    (void)s;
    const char *bert = shared_path("fixtures/hf/bert");
    const char *plain = tmp_file("plain.txt"), *marked = tmp_file("marked.txt");
    struct { const char *format, *text; } cases[] = {
        {"json", "{\"text\": \"a charming film\"}\n{\"text\": \"dull\"}\n"},
        {"text", "a charming film\ndull\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char with_mark[256], cmd[4096], *want, *got, *err;
        snprintf(with_mark, sizeof with_mark, "\xEF\xBB\xBF%s", cases[i].text);
        write_file(plain, cases[i].text, strlen(cases[i].text));
        write_file(marked, with_mark, strlen(with_mark));
        snprintf(cmd, sizeof cmd, "%s classify --model %s --format %s --emit-ids --input %s", elang_bin(), bert,
                 cases[i].format, plain);
        assert_int_equal(run_command(cmd, &want, NULL), 0);
        snprintf(cmd, sizeof cmd, "%s classify --model %s --format %s --emit-ids --input %s", elang_bin(), bert,
                 cases[i].format, marked);
        if (run_command(cmd, &got, &err) != 0) fail_msg("%s: %s", cmd, err);
        assert_string_equal(got, want);
        free(want), free(got), free(err);
    }
}

static int count_lines(const char *path) {
    size_t len;
    char *text = read_file_all(path, &len);
    int n = 0;
    for (size_t i = 0; i < len; i++) n += text[i] == '\n';
    free(text);
    return n;
}

/* A flag missing its value does not take the next flag as its value; a
 * value that starts with "--" can still be given with "=". */
static void flag_is_no_value(void **s) {
    (void)s;
    const char *in = tmp_file("one.jsonl");
    write_file(in, "{\"text\": \"x\"}\n", 14);
    /* In the temp dir, where a wrong parse leaves its file. */
    char *bin = realpath(elang_bin(), NULL), cmd[4096], *err;
    assert_non_null(bin);
    snprintf(cmd, sizeof cmd, "cd %s && %s classify --model %s --input %s --output --emit-ids", test_tmpdir(), bin,
             shared_path("fixtures/hf/bert"), in);
    assert_int_equal(run_command(cmd, NULL, &err), 2);
    assert_non_null(strstr(err, "elang classify: --output needs a value"));
    free(err);
    assert_int_equal(access(tmp_file("--emit-ids"), F_OK), -1);
    snprintf(cmd, sizeof cmd, "cd %s && %s classify --model %s --input %s --output=--emit-ids", test_tmpdir(), bin,
             shared_path("fixtures/hf/bert"), in);
    assert_int_equal(run_command(cmd, NULL, NULL), 0);
    assert_int_equal(count_lines(tmp_file("--emit-ids")), 1);
    free(bin);
}

/* Runs classify on three inputs with --output `target`, in a shell that
 * may start a reader first (`before`, "" for none); returns the exit code. */
static int classify_to(const char *target, const char *before) {
    const char *in = tmp_file("three.jsonl");
    const char three[] = "{\"text\": \"a\"}\n{\"text\": \"b\"}\n{\"text\": \"c\"}\n";
    write_file(in, three, strlen(three));
    char cmd[4096], *err;
    snprintf(cmd, sizeof cmd, "%s timeout 60 %s classify --model %s --input %s --output %s; rc=$?; wait; exit $rc",
             before, elang_bin(), shared_path("fixtures/hf/bert"), in, target);
    const int rc = run_command(cmd, NULL, &err);
    if (rc != 0) fprintf(stderr, "%s: %s\n", cmd, err);
    free(err);
    return rc;
}

/* --output to what is not a regular file: a device and a FIFO are written
 * in place (a file renamed over them would replace the node: as root, /dev
 * entries themselves), a link stays a link and its file gets the output.
 * Only nodes made here: the test must be safe to run on a build that
 * replaces them. */
static void output_keeps_devices_fifos_and_links(void **s) {
    (void)s;
    struct stat st;
    const char *dev = tmp_file("null");
    if (mknod(dev, S_IFCHR | 0666, makedev(1, 3)) == 0) {
        assert_int_equal(classify_to(dev, ""), 0);
        assert_int_equal(lstat(dev, &st), 0);
        assert_true(S_ISCHR(st.st_mode));
    } else {
        fprintf(stderr, "no device node test: mknod needs root\n");
    }

    const char *fifo = tmp_file("fifo"), *got = tmp_file("from-fifo.jsonl");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    char reader[2048];
    snprintf(reader, sizeof reader, "timeout 10 cat %s > %s &", fifo, got);
    assert_int_equal(classify_to(fifo, reader), 0);
    assert_int_equal(count_lines(got), 3);
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));

    const char *target = tmp_file("target.jsonl"), *link = tmp_file("link.jsonl");
    write_file(target, "old\n", 4);
    assert_int_equal(symlink("target.jsonl", link), 0); /* relative: to the link's folder */
    assert_int_equal(classify_to(link, ""), 0);
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(count_lines(target), 3);
    assert_int_equal(access(tmp_file("target.jsonl.partial"), F_OK), -1);
    assert_int_equal(access(tmp_file("link.jsonl.partial"), F_OK), -1);
}

static void bad_models(void **s) {
    (void)s;
    char args[4096];
    snprintf(args, sizeof args, "classify --model %s/no-such-model --input /dev/null", test_tmpdir());
    expect_failure(args, "config.json: cannot open");

    const char *dir = model_copy("fixtures/hf/bert", "bad-config");
    replace_file(dir, "config.json", "{\"model_type\": \"bert\",", 22);
    snprintf(args, sizeof args, "classify --model %s --input /dev/null", dir);
    expect_failure(args, "config.json: malformed JSON");

    /* A config.json that is no file, or carries a byte order mark: said so. */
    size_t len;
    char *cfg = read_file_all(shared_path("fixtures/hf/bert/config.json"), &len);
    char *marked = malloc(len + 3);
    memcpy(marked, "\xEF\xBB\xBF", 3), memcpy(marked + 3, cfg, len);
    replace_file(dir, "config.json", marked, len + 3);
    expect_failure(args, "config.json starts with a UTF-8 byte order mark");
    free(marked);
    char path[2048];
    snprintf(path, sizeof path, "%s/config.json", dir);
    unlink(path);
    assert_int_equal(mkdir(path, 0777), 0);
    expect_failure(args, "config.json is a directory, not a file");
    rmdir(path);

    const char gpt[] = "{\"model_type\": \"gptj\", \"vocab_size\": 10}";
    replace_file(dir, "config.json", gpt, strlen(gpt));
    expect_failure(args, "model_type \"gptj\" is not supported");

    /* A config whose sizes disagree with the weights: the tensor is named. */
    char *p = strstr(cfg, "\"intermediate_size\": 37");
    assert_non_null(p);
    memcpy(p, "\"intermediate_size\": 38", 23);
    dir = model_copy("fixtures/hf/bert", "wrong-shape");
    replace_file(dir, "config.json", cfg, len);
    snprintf(args, sizeof args, "classify --model %s --input /dev/null", dir);
    expect_failure(args, "bert.encoder.layer.0.intermediate.dense.weight");
    free(cfg);

    /* Truncated weights. */
    char *weights = read_file_all(shared_path("fixtures/hf/bert/model.safetensors"), &len);
    dir = model_copy("fixtures/hf/bert", "truncated");
    replace_file(dir, "model.safetensors", weights, len / 2);
    snprintf(args, sizeof args, "classify --model %s --input /dev/null", dir);
    expect_failure(args, "model.safetensors");
    replace_file(dir, "model.safetensors", weights, 5);
    expect_failure(args, "model.safetensors");
    free(weights);

    /* No tokenizer files. */
    dir = model_copy("fixtures/hf/bert", "no-vocab");
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    unlink(path);
    snprintf(args, sizeof args, "classify --model %s --input /dev/null", dir);
    expect_failure(args, "vocab");
}

/* `elang generate` on the encoder-decoder fixtures: greedy and beam ids as
 * transformers produced them, per-token energies as its scores give. */
static void generate_matches_fixture(const char *model, int beams, const char *ids_key) {
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/hf/%s/cases.jsonl", model);
    size_t n;
    json_t **cases = read_jsonl(shared_path(rel), &n);
    assert_int_equal(n, 8);
    const char *in = tmp_file("gen-in.jsonl"), *out = tmp_file("gen-out.jsonl");
    FILE *f = fopen(in, "w");
    for (size_t i = 0; i < n; i++) {
        json_t *row = json_pack("{s:O, s:I}", "text", json_object_get(cases[i], "src"), "id", (json_int_t)i);
        json_dumpf(row, f, JSON_COMPACT);
        fputc('\n', f);
        json_decref(row);
    }
    fclose(f);
    char cmd[4096], *err;
    snprintf(cmd, sizeof cmd, "%s generate --model %s/fixtures/hf/%s --input %s --output %s --num-beams %d "
             "--max-new-tokens 16 --batch-size 3 --emit-ids --threads 2", elang_bin(),
             getenv("ELANG_SHARED") ? getenv("ELANG_SHARED") : "../shared", model, in, out, beams);
    int rc = run_command(cmd, NULL, &err);
    if (rc != 0) fail_msg("%s exited %d: %s", cmd, rc, err);
    free(err);
    size_t n_out;
    json_t **got = read_jsonl(out, &n_out);
    assert_int_equal(n_out, n);
    for (size_t k = 0; k < n; k++) {
        json_t *g = got[k];
        assert_int_equal(json_integer_value(json_object_get(g, "id")), (json_int_t)k);
        assert_true(json_equal(json_object_get(g, "ids"), json_object_get(cases[k], ids_key)));
        assert_true(json_equal(json_object_get(g, "input_ids"), json_object_get(cases[k], "input_ids")));
        assert_true(json_is_string(json_object_get(g, "text")));
        json_t *energies = json_object_get(g, "token_energies");
        assert_int_equal(json_array_size(energies), json_array_size(json_object_get(g, "ids")) - 1);
        assert_int_equal(json_array_size(json_object_get(g, "token_logprobs")), json_array_size(energies));
        if (beams == 1) {
            json_t *steps = json_object_get(cases[k], "greedy_steps");
            double mean = 0.0;
            for (size_t t = 0; t < json_array_size(energies); t++) {
                double want = -json_number_value(json_object_get(json_array_get(steps, t), "neg_energy_T1"));
                assert_true(fabs(json_real_value(json_array_get(energies, t)) - want) <= 1e-3);
                mean += want / (double)json_array_size(energies);
            }
            assert_true(fabs(json_real_value(json_object_get(g, "energy")) - mean) <= 1e-3);
        }
    }
    free_jsonl(got, n_out);
    free_jsonl(cases, n);
}

static void t5_generate_greedy(void **s) { (void)s; generate_matches_fixture("t5", 1, "greedy_ids"); }
static void t5_v1_1_generate_beam(void **s) { (void)s; generate_matches_fixture("t5-v1_1", 4, "beam_ids"); }
static void marian_generate_greedy(void **s) { (void)s; generate_matches_fixture("marian", 1, "greedy_ids"); }
static void marian_generate_beam(void **s) { (void)s; generate_matches_fixture("marian", 4, "beam_ids"); }

/* `elang classify --label-words` on a text generator: each case's first
 * decoding step's logits of the words' first tokens, as transformers gives
 * them (the fixture's teacher_forced_first_logits), named by the words;
 * the prefix is put before the text as the library's generation puts it. */
#define EIGHT_WORDS(x) x "1," x "2," x "3," x "4," x "5," x "6," x "7," x "8,"
#define SIXTY_FIVE_WORDS                                                                                       \
    EIGHT_WORDS("a") EIGHT_WORDS("b") EIGHT_WORDS("c") EIGHT_WORDS("d") EIGHT_WORDS("e") EIGHT_WORDS("f")         \
    EIGHT_WORDS("g") EIGHT_WORDS("h") "z"

static void classify_by_label_words(void **s) {
    (void)s;
    const char *t5 = shared_path("fixtures/hf/t5"), *prefix = "translate English to German: ";
    elang_model *m;
    elang_error err;
    assert_int_equal(elang_model_load(t5, NULL, &m, &err), ELANG_OK);
    const char *words[3] = {"no", "yes", "maybe"};
    int32_t ids[3];
    for (int j = 0; j < 3; j++) assert_int_equal(model_first_token_id(m, words[j], &ids[j], &err), ELANG_OK);
    elang_model_free(m);
    size_t n;
    json_t **cases = read_jsonl(shared_path("fixtures/hf/t5/cases.jsonl"), &n);
    const char *in = tmp_file("words.txt");
    FILE *f = fopen(in, "w");
    size_t written = 0;
    for (size_t c = 0; c < n; c++) {
        const char *src = json_string_value(json_object_get(cases[c], "src"));
        if (!json_object_get(cases[c], "teacher_forced_first_logits") || strncmp(src, prefix, strlen(prefix)) != 0)
            continue;
        fprintf(f, "%s\n", src + strlen(prefix));
        written++;
    }
    fclose(f);
    assert_true(written >= 3);
    char cmd[4096], *out, *errs;
    snprintf(cmd, sizeof cmd, "%s classify --model %s --label-words no,yes,maybe --prefix '%s' --format text "
             "--emit-ids --input %s", elang_bin(), t5, prefix, in);
    if (run_command(cmd, &out, &errs) != 0) fail_msg("%s: %s", cmd, errs);
    char *line = out;
    size_t seen = 0;
    for (size_t c = 0; c < n; c++) {
        const char *src = json_string_value(json_object_get(cases[c], "src"));
        json_t *first = json_object_get(cases[c], "teacher_forced_first_logits");
        if (!first || strncmp(src, prefix, strlen(prefix)) != 0) continue;
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        json_t *got = json_loads(line, 0, NULL);
        assert_non_null(got);
        int best = 0;
        for (int j = 0; j < 3; j++) {
            const double want = json_number_value(json_array_get(first, (size_t)ids[j]));
            const double logit = json_number_value(json_array_get(json_object_get(got, "logits"), (size_t)j));
            if (!(fabs(logit - want) <= 1e-3)) fail_msg("case %zu, \"%s\": logit %f, want %f", c, words[j], logit, want);
            if (want > json_number_value(json_array_get(first, (size_t)ids[best]))) best = j;
        }
        assert_string_equal(json_string_value(json_object_get(got, "label")), words[best]);
        assert_int_equal(json_integer_value(json_object_get(got, "label_id")), best);
        assert_true(json_equal(json_object_get(got, "input_ids"), json_object_get(cases[c], "input_ids")));
        json_decref(got);
        line = nl + 1;
        seen++;
    }
    assert_int_equal(seen, written);
    assert_string_equal(line, "");
    free(out), free(errs);
    free_jsonl(cases, n);

    /* What does not fit the model is said before any input is read; a
     * pair needs the infix that joins it into the generator's one text. */
    const char pair[] = "{\"text\": \"a\", \"text_pair\": \"b\"}\n";
    write_file(in, pair, strlen(pair));
    const struct { const char *model, *flags, *message; } refused[] = {
        {t5, "", "give its classes as --label-words"},
        {"bert", "--label-words no,yes", "--label-words is for text generators"},
        {"bert", "--pair-infix ' and '", "--pair-infix is for text generators"},
        {t5, "--label-words yes", "--label-words needs 2 to 64 non-empty words"},
        {t5, "--label-words yes,,no", "--label-words needs 2 to 64 non-empty words"},
        {t5, "--label-words " SIXTY_FIVE_WORDS, "--label-words needs 2 to 64 non-empty words"},
        {t5, "--label-words yes,no,yes", "names \"yes\" twice"},
        {t5, "--label-words positive,positively", "start with the same token"},
        {t5, "--label-words no,yes", "reads one text per input, not a pair: give it a pair infix (--pair-infix"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char args[4096];
        const char *model = strcmp(refused[i].model, "bert") == 0 ? shared_path("fixtures/hf/bert") : t5;
        snprintf(args, sizeof args, "classify --model %s %s --input %s", model, refused[i].flags, in);
        expect_failure(args, refused[i].message);
    }
    snprintf(cmd, sizeof cmd, "%s classify --model %s --label-words no,yes --prefix 'mrpc sentence1: ' "
             "--pair-infix ' sentence2: ' --emit-ids --input %s", elang_bin(), t5, in);
    if (run_command(cmd, &out, &errs) != 0) fail_msg("%s: %s", cmd, errs);
    elang_load_opts plain = {0};
    assert_int_equal(elang_model_load(t5, &plain, &m, &err), ELANG_OK);
    token_seq joined;
    assert_int_equal(model_encode(m, "mrpc sentence1: a sentence2: b", NULL, &joined, &err), ELANG_OK);
    json_t *got = json_loads(out, 0, NULL), *want = json_int_array(joined.ids, joined.len);
    assert_true(json_equal(json_object_get(got, "input_ids"), want));
    json_decref(got), json_decref(want);
    token_seq_free(&joined);
    elang_model_free(m);
    free(out), free(errs);
}

static void generate_bad_usage(void **s) {
    (void)s;
    const char *t5 = shared_path("fixtures/hf/t5"), *bert = shared_path("fixtures/hf/bert");
    const char *in = tmp_file("gen-bad.jsonl");
    char args[4096];
    snprintf(args, sizeof args, "generate --model %s --num-beams 0", t5);
    expect_failure(args, "invalid value '0' for --num-beams");
    snprintf(args, sizeof args, "generate --model %s --max-new-tokens 100000", t5);
    expect_failure(args, "for --max-new-tokens");
    snprintf(args, sizeof args, "generate --model %s --length-penalty inf", t5);
    expect_failure(args, "for --length-penalty");
    /* Text for the model must be UTF-8; the fault is the flag's, not the input's. */
    snprintf(args, sizeof args, "generate --model %s --prefix 'ok \xc3('", t5);
    expect_failure(args, "invalid value for --prefix: not valid UTF-8 (byte 3)");
    snprintf(args, sizeof args, "generate --model %s --input /dev/null", bert);
    expect_failure(args, "use elang classify");
    snprintf(args, sizeof args, "classify --model %s --input /dev/null", t5);
    expect_failure(args, "use elang generate");
    const char pair[] = "{\"text\": \"a\", \"text_pair\": \"b\"}\n";
    write_file(in, pair, strlen(pair));
    snprintf(args, sizeof args, "generate --model %s --input %s", t5, in);
    expect_failure(args, "line 1: field \"text_pair\" is not used by this command");
    const char bad[] = "ok\n\xff\xfe\n";
    write_file(in, bad, strlen(bad));
    snprintf(args, sizeof args, "generate --model %s --format text --input %s", t5, in);
    expect_failure(args, "line 2: invalid UTF-8");

    /* A checkpoint without its tokenizer model. */
    const char *dir = model_copy("fixtures/hf/t5", "no-spiece");
    char path[2048];
    snprintf(path, sizeof path, "%s/spiece.model", dir);
    unlink(path);
    snprintf(args, sizeof args, "generate --model %s --input /dev/null", dir);
    expect_failure(args, "spiece.model");

    /* A vocabulary larger than the model's embedding. */
    dir = model_copy("fixtures/hf/marian", "big-vocab");
    size_t len;
    char *vocab = read_file_all(shared_path("fixtures/hf/marian/vocab.json"), &len);
    char *close = strrchr(vocab, '}');
    assert_non_null(close);
    char *bigger = malloc(len + 64);
    snprintf(bigger, len + 64, "%.*s, \"extra\": 1448}", (int)(close - vocab), vocab);
    replace_file(dir, "vocab.json", bigger, strlen(bigger));
    snprintf(args, sizeof args, "generate --model %s --input /dev/null", dir);
    expect_failure(args, "the tokenizer gives \"extra\" the id 1448, but the model's embedding has only 1448 rows");
    free(vocab), free(bigger);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bert_cli_t1),
        cmocka_unit_test(bert_f16_cli_t2),
        cmocka_unit_test(distilbert_cli_t1),
        cmocka_unit_test(roberta_cli_t2),
        cmocka_unit_test(text_format_reads_raw_lines),
        cmocka_unit_test(bad_flags),
        cmocka_unit_test(model_files_checked_at_load),
        cmocka_unit_test(max_length_fits_the_framing),
        cmocka_unit_test(bad_inputs),
        cmocka_unit_test(bad_models),
        cmocka_unit_test(byte_order_mark_starts_input),
        cmocka_unit_test(flag_is_no_value),
        cmocka_unit_test(output_keeps_devices_fifos_and_links),
        cmocka_unit_test(t5_generate_greedy),
        cmocka_unit_test(t5_v1_1_generate_beam),
        cmocka_unit_test(marian_generate_greedy),
        cmocka_unit_test(marian_generate_beam),
        cmocka_unit_test(classify_by_label_words),
        cmocka_unit_test(generate_bad_usage),
    };
    int failed = cmocka_run_group_tests_name("cli", tests, NULL, NULL);
    test_tmpdir_cleanup();
    return failed;
}
