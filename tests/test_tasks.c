/* Task readers: the GLUE files of shared/data, the other GLUE layouts
 * written here from the headers of the GLUE distribution, label mapping to
 * a model's id2label, parallel text, and every kind of bad file.
 *
 * The counts per label were computed independently with Python's csv
 * module, as `datasets` reads the files:
 *
 *   python3 -c "import csv,collections,sys; f=open(sys.argv[1],encoding='utf-8-sig');
 *     r=list(csv.reader(f,delimiter='\t',quoting=csv.QUOTE_NONE));
 *     r=r[int(sys.argv[3]):]; print(len(r), collections.Counter(x[int(sys.argv[2])] for x in r))"
 *     FILE LABEL_COLUMN HEADER_LINES
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eval/tasks.h"
#include "support.h"

static const task_def *task(const char *name) {
    const task_def *t;
    elang_error err = {0};
    if (task_find(name, &t, &err) != ELANG_OK) fail_msg("%s", err.message);
    return t;
}

static task_data read_task(const char *name, const char *path) {
    task_data d;
    elang_error err = {0};
    if (task_read(task(name), path, &d, &err) != ELANG_OK) fail_msg("%s", err.message);
    return d;
}

/* Reads a GLUE file of shared/data and checks its size and label counts. */
static task_data check_glue(const char *name, const char *rel, size_t n, const size_t *per_label) {
    char path[256];
    snprintf(path, sizeof path, "data/glue/%s", rel);
    task_data d = read_task(name, shared_path(path));
    const task_def *t = task(name);
    if (d.n != n) fail_msg("%s: %zu examples, expected %zu", rel, d.n, n);
    size_t count[TASK_MAX_LABELS] = {0};
    for (size_t i = 0; i < d.n; i++) {
        assert_true(d.ex[i].label >= 0 && d.ex[i].label < t->num_labels);
        count[d.ex[i].label]++;
        assert_true((d.ex[i].text_pair != NULL) == t->pair);
        assert_null(strchr(d.ex[i].text, '\t'));
    }
    for (int k = 0; k < t->num_labels; k++)
        if (count[k] != per_label[k])
            fail_msg("%s: %zu '%s', expected %zu", rel, count[k], t->label_names[k], per_label[k]);
    return d;
}

static void test_glue_dev_files(void **state) {
    (void)state;
    /* SST-2 dev: 872 = 428 "0" (negative) + 444 "1" (positive); line 1 is the header. */
    task_data d = check_glue("sst2", "SST-2/dev.tsv", 872, (size_t[]){428, 444});
    assert_string_equal(d.ex[0].text, "it 's a charming and often affecting journey . ");
    assert_int_equal(d.ex[0].label, 1);
    assert_int_equal(d.ex[0].line, 2);
    assert_int_equal(d.ex[871].line, 873);
    task_data_free(&d);

    /* CoLA dev has no header: 527 = 162 "0" + 365 "1", from line 1. */
    d = check_glue("cola", "CoLA/dev.tsv", 527, (size_t[]){162, 365});
    assert_string_equal(d.ex[0].text, "The sailors rode the breeze clear of the rocks.");
    assert_int_equal(d.ex[0].line, 1);
    task_data_free(&d);

    /* MRPC dev starts with a byte order mark: 408 = 129 "0" + 279 "1".
     * Quotes are ordinary characters (csv.QUOTE_NONE), even unbalanced. */
    d = check_glue("mrpc", "MRPC/dev.tsv", 408, (size_t[]){129, 279});
    assert_string_equal(d.ex[0].text, "He said the foodservice pie business doesn't fit the "
                                      "company's long-term growth strategy.");
    assert_string_equal(d.ex[0].text_pair,
                        "\"The foodservice pie business does not fit our long-term growth strategy.");
    assert_int_equal(d.ex[0].label, 1);
    task_data_free(&d);

    /* RTE dev: 277 = 146 entailment + 131 not_entailment. */
    d = check_glue("rte", "RTE/dev.tsv", 277, (size_t[]){146, 131});
    assert_string_equal(d.ex[0].text_pair, "Christopher Reeve had an accident.");
    assert_int_equal(d.ex[0].label, 1);
    task_data_free(&d);
}

static void test_glue_train_files(void **state) {
    (void)state;
    task_data d = check_glue("sst2", "SST-2/train.tsv", 67349, (size_t[]){29780, 37569});
    task_data_free(&d);
    d = check_glue("cola", "CoLA/train.tsv", 8551, (size_t[]){2528, 6023});
    task_data_free(&d);
    d = check_glue("cola", "CoLA/dev_ood.tsv", 516, (size_t[]){162, 354});
    task_data_free(&d);
    d = check_glue("mrpc", "MRPC/train.tsv", 3668, (size_t[]){1194, 2474});
    task_data_free(&d);
    d = check_glue("rte", "RTE/train.tsv", 2490, (size_t[]){1249, 1241});
    task_data_free(&d);
}

static const char *write_tmp(const char *name, const char *content) {
    static char path[8][512];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, sizeof path[0], "%s/%s", test_tmpdir(), name);
    write_file(p, content, strlen(content));
    return p;
}

/* Layouts of the GLUE distribution that shared/data does not hold. */
static void test_other_layouts(void **state) {
    (void)state;
    task_data d = read_task(
        "qqp", write_tmp("qqp.tsv", "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
                                    "40\t81\t82\tHow do I learn C?\tWhat is the best way to learn C?\t1\n"
                                    "41\t83\t84\tWhy?\tWhy not?\t0\n"));
    assert_int_equal(d.n, 2);
    assert_string_equal(d.ex[0].text_pair, "What is the best way to learn C?");
    assert_int_equal(d.ex[0].label, 1);
    assert_int_equal(d.ex[1].label, 0);
    task_data_free(&d);

    /* MNLI dev: 16 columns, the label in gold_label (the last); train has
     * 12, with only label1 before gold_label. */
    static const char mnli_dev_header[] =
        "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
        "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tlabel2\tlabel3\tlabel4\t"
        "label5\tgold_label\n";
    char text[2048];
    snprintf(text, sizeof text,
             "%s0\t1\t1n\tfiction\t( a )\t( b )\t(ROOT a)\t(ROOT b)\tThe cat sat.\tA cat sits.\t"
             "entailment\tentailment\tneutral\tentailment\tentailment\tentailment\n"
             "1\t2\t2c\tslate\t( c )\t( d )\t(ROOT c)\t(ROOT d)\tIt rains.\tIt is dry.\t"
             "contradiction\tcontradiction\tcontradiction\tcontradiction\tcontradiction\tcontradiction\n"
             "2\t3\t3n\ttravel\t( e )\t( f )\t(ROOT e)\t(ROOT f)\tHe left.\tHe was sad.\t"
             "neutral\tneutral\tneutral\tneutral\tneutral\tneutral\n",
             mnli_dev_header);
    d = read_task("mnli", write_tmp("dev_matched.tsv", text));
    const task_def *mnli = task("mnli");
    assert_int_equal(d.n, 3);
    assert_string_equal(d.ex[0].text, "The cat sat.");
    assert_string_equal(d.ex[0].text_pair, "A cat sits.");
    assert_string_equal(mnli->label_names[d.ex[0].label], "entailment");
    assert_string_equal(mnli->label_names[d.ex[1].label], "contradiction");
    assert_string_equal(mnli->label_names[d.ex[2].label], "neutral");
    task_data_free(&d);
    d = read_task("mnli-mm", write_tmp("train.tsv",
                                       "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\t"
                                       "sentence2_binary_parse\tsentence1_parse\tsentence2_parse\t"
                                       "sentence1\tsentence2\tlabel1\tgold_label\n"
                                       "0\t1\t1e\tgov\t(a)\t(b)\t(a)\t(b)\tYes.\tNo.\tneutral\tneutral\n"));
    assert_int_equal(d.ex[0].label, 2);
    assert_string_equal(task("mnli-mm")->dev_file, "dev_mismatched.tsv");
    task_data_free(&d);

    d = read_task("qnli", write_tmp("qnli.tsv", "index\tquestion\tsentence\tlabel\n"
                                                "0\tWho?\tNobody.\tnot_entailment\n"));
    assert_string_equal(d.ex[0].text, "Who?");
    assert_int_equal(d.ex[0].label, 1);
    task_data_free(&d);

    d = read_task("stsb", write_tmp("stsb.tsv", "index\tgenre\tfilename\tyear\told_index\tsource1\t"
                                                "source2\tsentence1\tsentence2\tscore\n"
                                                "0\tmain-captions\tMSRvid\t2012test\t0001\tnone\t"
                                                "none\tA plane is taking off.\tAn air plane is taking "
                                                "off.\t5.000\n"
                                                "1\tmain-news\theadlines\t2015\t0002\tnone\tnone\t"
                                                "a\tb\t0.6\n"));
    assert_int_equal(d.n, 2);
    assert_int_equal(d.ex[0].label, -1);
    assert_true(d.ex[0].target == 5.0);
    assert_true(d.ex[1].target == 0.6);
    assert_string_equal(d.ex[0].text_pair, "An air plane is taking off.");
    task_data_free(&d);

    /* WNLI writes 0/1 for not_entailment/entailment. */
    d = read_task("wnli", write_tmp("wnli.tsv", "index\tsentence1\tsentence2\tlabel\n0\ta\tb\t1\n"));
    assert_string_equal(task("wnli")->label_names[d.ex[0].label], "entailment");
    task_data_free(&d);
}

static void test_task_table(void **state) {
    (void)state;
    const task_def *t = task("mrpc");
    assert_true(t->pair);
    assert_int_equal(t->num_metrics, 2);
    assert_string_equal(task_metric_name(t->metrics[0]), "f1");
    assert_string_equal(task_metric_name(t->metrics[1]), "accuracy");
    assert_string_equal(task_metric_name(task("cola")->metrics[0]), "mcc");
    t = task("stsb");
    assert_int_equal(t->num_labels, 0);
    assert_string_equal(task_metric_name(t->metrics[0]), "pearson");
    assert_string_equal(task_metric_name(t->metrics[1]), "spearman");
    assert_string_equal(task("sst2")->label_names[0], "negative");
    assert_string_equal(task("sst2")->dir, "SST-2");

    const task_def *none;
    elang_error err = {0};
    assert_int_equal(task_find("sst-2", &none, &err), ELANG_ERR_INVALID_ARG);
    assert_string_equal(err.message, "unknown task 'sst-2' (known: sst2, cola, mrpc, rte, qqp, "
                                     "mnli, mnli-mm, qnli, stsb, wnli)");
}

static void test_line_endings_and_blank_lines(void **state) {
    (void)state;
    /* A byte order mark, "\r\n" and lone "\r" line ends, and blank lines
     * (skipped); line numbers count physical lines. */
    task_data d = read_task("rte", write_tmp("crlf.tsv", "\xEF\xBB\xBFindex\tsentence1\tsentence2\tlabel\r\n"
                                                         "0\ta\tb\tentailment\r\n"
                                                         "\r\n"
                                                         "1\tc\td\tnot_entailment\r"
                                                         "2\te\tf\tentailment"));
    assert_int_equal(d.n, 3);
    assert_string_equal(d.ex[0].text_pair, "b");
    assert_int_equal(d.ex[1].label, 1);
    assert_int_equal(d.ex[1].line, 4);
    assert_int_equal(d.ex[2].line, 5);
    task_data_free(&d);
}

/* Reading `content` as task `name` fails with `code` and a message
 * containing `want`. */
static void expect_error(const char *name, const char *content, elang_status code,
                         const char *want) {
    const char *path = write_tmp("bad.tsv", content);
    task_data d;
    elang_error err = {0};
    elang_status rc = task_read(task(name), path, &d, &err);
    if (rc != code) fail_msg("%s: status %d, expected %d (%s)", want, rc, code, err.message);
    if (!strstr(err.message, want)) fail_msg("message \"%s\" lacks \"%s\"", err.message, want);
    if (!strstr(err.message, path)) fail_msg("message \"%s\" does not name the file", err.message);
    assert_null(d.ex);
}

static void test_bad_files(void **state) {
    (void)state;
    task_data d;
    elang_error err = {0};
    assert_int_equal(task_read(task("sst2"), "/nonexistent/dev.tsv", &d, &err), ELANG_ERR_IO);
    assert_non_null(strstr(err.message, "cannot open /nonexistent/dev.tsv"));

    expect_error("sst2", "", ELANG_ERR_FORMAT, "bad.tsv is empty");
    expect_error("mrpc", "\xEF\xBB\xBF", ELANG_ERR_FORMAT, "bad.tsv is empty");
    expect_error("sst2", "\n\n", ELANG_ERR_FORMAT, "bad.tsv is empty");
    expect_error("sst2", "sentence\tlabel\n", ELANG_ERR_FORMAT, "bad.tsv holds no examples");
    expect_error("sst2", "sentence\tlabel\ngood\t1\nbad\t0\textra\n", ELANG_ERR_FORMAT,
                 "line 3: 3 columns, expected 2 (sentence, label)");
    expect_error("cola", "gj04\t1\t\tok\nshort\t1\n", ELANG_ERR_FORMAT,
                 "line 2: 2 columns, expected 4 (source, label, orig_label, sentence)");
    expect_error("sst2", "sentence\tlabel\ngood\t1\nbad\t2\n", ELANG_ERR_FORMAT,
                 "line 3: unknown label '2' in column 'label' (expected one of: 0, 1)");
    expect_error("rte", "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tcontradiction\n",
                 ELANG_ERR_FORMAT, "line 2: unknown label 'contradiction' in column 'label' "
                                   "(expected one of: entailment, not_entailment)");
    expect_error("stsb", "index\tsentence1\tsentence2\tscore\n0\ta\tb\t4.2x\n", ELANG_ERR_FORMAT,
                 "line 2: score '4.2x' is not a number");
    expect_error("sst2", "sentence\tlabel\ncaf\xe9\t1\n", ELANG_ERR_INPUT,
                 "line 2: invalid UTF-8 at byte 3");
    /* Test files of the GLUE distribution have no label column. */
    expect_error("sst2", "index\tsentence\n0\tuntitled\n", ELANG_ERR_FORMAT,
                 "line 1: no column 'label' in the header (index, sentence): a test file has no "
                 "labels and cannot be evaluated");
    expect_error("cola", "index\tsentence\n0\tBill left.\n", ELANG_ERR_FORMAT,
                 "line 1: 2 columns, expected 4 (source, label, orig_label, sentence); this looks "
                 "like a test file, which has no labels and cannot be evaluated");
    expect_error("mrpc", "sentence\tlabel\nx\t1\n", ELANG_ERR_FORMAT,
                 "line 1: no column '#1 String' in the header (sentence, label)");
}

static void test_nul_byte(void **state) {
    (void)state;
    /* write_tmp takes a C string, so this file is written by length. */
    static const char content[] = "sentence\tlabel\nok\t1\nab\0c\t1\n";
    char path[512];
    snprintf(path, sizeof path, "%s/nul.tsv", test_tmpdir());
    write_file(path, content, sizeof content - 1);
    task_data d;
    elang_error err = {0};
    assert_int_equal(task_read(task("sst2"), path, &d, &err), ELANG_ERR_INPUT);
    assert_non_null(strstr(err.message, "nul.tsv line 3: NUL byte at byte 2"));
}

static int map(const char *task_name, const char *const *labels, int n, int *out, elang_error *err) {
    return task_map_labels(task(task_name), labels, n, out, err);
}

static void test_label_mapping(void **state) {
    (void)state;
    int m[TASK_MAX_LABELS];
    elang_error err = {0};
    /* Generic names: the task's own order. */
    assert_int_equal(map("mnli", (const char *[]){"LABEL_0", "LABEL_1", "LABEL_2"}, 3, m, &err), ELANG_OK);
    assert_int_equal(m[0], 0);
    assert_int_equal(m[2], 2);
    /* By name, any case and order (distilbert-base-uncased-finetuned-sst-2-english). */
    assert_int_equal(map("sst2", (const char *[]){"POSITIVE", "NEGATIVE"}, 2, m, &err), ELANG_OK);
    assert_int_equal(m[0], 1);
    assert_int_equal(m[1], 0);
    assert_int_equal(map("sst2", (const char *[]){"neg", "pos"}, 2, m, &err), ELANG_OK);
    assert_int_equal(m[0], 0);
    assert_int_equal(m[1], 1);
    /* roberta-large-mnli's id2label: CONTRADICTION, NEUTRAL, ENTAILMENT. */
    assert_int_equal(map("mnli", (const char *[]){"CONTRADICTION", "NEUTRAL", "ENTAILMENT"}, 3, m, &err),
                     ELANG_OK);
    assert_int_equal(m[0], 0); /* contradiction */
    assert_int_equal(m[1], 2); /* entailment */
    assert_int_equal(m[2], 1); /* neutral */
    /* Separators: "Not Entailment", "not-equivalent". */
    assert_int_equal(map("rte", (const char *[]){"Entailment", "Not Entailment"}, 2, m, &err), ELANG_OK);
    assert_int_equal(m[1], 1);
    assert_int_equal(map("mrpc", (const char *[]){"equivalent", "not-equivalent"}, 2, m, &err), ELANG_OK);
    assert_int_equal(m[0], 1);
    assert_int_equal(m[1], 0);
    assert_int_equal(map("cola", (const char *[]){"unacceptable", "acceptable"}, 2, m, &err), ELANG_OK);
    assert_int_equal(m[1], 1);
    /* A three-class NLI model on a two-class task: no not_entailment. */
    assert_int_equal(map("rte", (const char *[]){"entailment", "neutral", "contradiction"}, 3, m, &err),
                     ELANG_ERR_INVALID_ARG);
    assert_string_equal(err.message, "no model label matches rte's label 'not_entailment' (the "
                                     "model's labels: entailment, neutral, contradiction)");
    assert_int_equal(map("sst2", (const char *[]){"LABEL_0", "LABEL_1", "LABEL_2"}, 3, m, &err),
                     ELANG_ERR_INVALID_ARG);
    assert_string_equal(err.message, "the model has 3 classes (LABEL_0..LABEL_2) but sst2 has 2 labels");
    assert_int_equal(map("stsb", (const char *[]){"LABEL_0"}, 1, m, &err), ELANG_ERR_INVALID_ARG);
    assert_string_equal(err.message, "stsb is a regression task; it has no labels to map");
}

/* ------------------------------------------------------- parallel text */

static void test_parallel_real(void **state) {
    (void)state;
    parallel_data p;
    elang_error err = {0};
    assert_int_equal(task_read_parallel(shared_path("data/multi30k/test_2016_flickr.en"),
                                        shared_path("data/multi30k/test_2016_flickr.de"), &p, &err),
                     ELANG_OK);
    assert_int_equal(p.n, 1000);
    assert_string_equal(p.src[0], "A man in an orange hat starring at something.");
    assert_string_equal(p.ref[0], "Ein Mann mit einem orangefarbenen Hut, der etwas anstarrt.");
    parallel_data_free(&p);
    assert_int_equal(task_read_parallel(shared_path("data/wmt21/newstest2021.en-de.en"),
                                        shared_path("data/wmt21/newstest2021.en-de.de"), &p, &err),
                     ELANG_OK);
    assert_int_equal(p.n, 1002);
    parallel_data_free(&p);

    const char *val = shared_path("data/multi30k/val.en");
    const char *test = shared_path("data/multi30k/test_2016_flickr.de");
    assert_int_equal(task_read_parallel(val, test, &p, &err), ELANG_ERR_FORMAT);
    char want[1024];
    snprintf(want, sizeof want, "%s has 1014 lines but %s has 1000", val, test);
    assert_non_null(strstr(err.message, want));
    assert_null(p.src);
}

static void test_parallel_files(void **state) {
    (void)state;
    parallel_data p;
    elang_error err = {0};
    /* "\r\n" loses its "\r"; a lone "\r" stays inside the line, as
     * sacreBLEU reads lines; blank lines are segments; the last line needs
     * no "\n"; a byte order mark is skipped. */
    const char *src = write_tmp("src.txt", "\xEF\xBB\xBFone\r\ntwo\rhalf\n\nfour");
    const char *ref = write_tmp("ref.txt", "eins\nzwei\n\nvier\n");
    assert_int_equal(task_read_parallel(src, ref, &p, &err), ELANG_OK);
    assert_int_equal(p.n, 4);
    assert_string_equal(p.src[0], "one");
    assert_string_equal(p.src[1], "two\rhalf");
    assert_string_equal(p.src[2], "");
    assert_string_equal(p.src[3], "four");
    assert_string_equal(p.ref[3], "vier");
    parallel_data_free(&p);

    const char *empty = write_tmp("empty.txt", "");
    assert_int_equal(task_read_parallel(empty, ref, &p, &err), ELANG_ERR_FORMAT);
    assert_non_null(strstr(err.message, "empty.txt is empty"));
    const char *bad = write_tmp("bad.txt", "fine\nnot \xc3\x28 fine\nfine\nfine\n");
    assert_int_equal(task_read_parallel(src, bad, &p, &err), ELANG_ERR_INPUT);
    assert_non_null(strstr(err.message, "bad.txt line 2: invalid UTF-8 at byte 4"));
    assert_int_equal(task_read_parallel("/nonexistent.en", ref, &p, &err), ELANG_ERR_IO);
    assert_non_null(strstr(err.message, "/nonexistent.en"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_glue_dev_files),
        cmocka_unit_test(test_glue_train_files),
        cmocka_unit_test(test_other_layouts),
        cmocka_unit_test(test_task_table),
        cmocka_unit_test(test_line_endings_and_blank_lines),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_label_mapping),
        cmocka_unit_test(test_parallel_real),
        cmocka_unit_test(test_parallel_files),
    };
    int failed = cmocka_run_group_tests_name("tasks", tests, NULL, NULL);
    test_tmpdir_cleanup();
    return failed;
}
