/* `elang route`, `elang calibrate` and `elang eval` end to end on the
 * fixture models and real data, and their answers to bad usage. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "elang_eval.h"
#include "support.h"

static const char *tmp(const char *name) {
    static char path[8][1024];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, sizeof path[0], "%s/%s", test_tmpdir(), name);
    return p;
}

static void run_ok(const char *args, char **out) {
    char cmd[9000], *err;
    snprintf(cmd, sizeof cmd, "%s %s", elang_bin(), args);
    int rc = run_command(cmd, out, &err);
    if (rc != 0) fail_msg("`%s` exited %d: %s", cmd, rc, err);
    free(err);
}

static void expect_failure(const char *args, const char *needle) {
    char cmd[9000], *out, *err;
    snprintf(cmd, sizeof cmd, "%s %s", elang_bin(), args);
    int rc = run_command(cmd, &out, &err);
    if (rc == 0 || rc >= 128 || !strstr(err, needle))
        fail_msg("`%s` exited %d, stderr: %s(expected a message containing \"%s\")", cmd, rc, err, needle);
    free(out), free(err);
}

/* A JSON file the CLI wrote, parsed; fails the test when it is not JSON. */
static json_t *read_json(const char *path) {
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) fail_msg("%s: %s", path, je.text);
    return j;
}

/* The first n lines of a shared data file, copied to the temp dir (tests
 * may not write into shared/). Keeps a header line when asked. */
static const char *head_of(const char *rel, const char *name, int n) {
    const char *dst = tmp(name);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "head -n %d '%s' > '%s'", n, shared_path(rel), dst);
    assert_int_equal(system(cmd), 0);
    return dst;
}

/* calibrate → CALIB.json → eval with it → report files; then route with it. */
static void calibrate_eval_route_classifiers(void **s) {
    (void)s;
    const char *sw = shared_path("fixtures/hf/distilbert"), *su = shared_path("fixtures/hf/distilbert");
    const char *data = head_of("data/glue/SST-2/dev.tsv", "sst2.tsv", 201);
    const char *calib = tmp("calib.json"), *report = tmp("report");
    char args[8192], *out;
    snprintf(args, sizeof args, "calibrate --swift %s --super %s --task sst2 --data %s --objective super-rate:0.25 "
             "--holdout 0.2 --seed 3 --out %s", sw, su, data, calib);
    run_ok(args, &out);
    assert_non_null(strstr(out, "calibrated on 160 inputs"));
    assert_non_null(strstr(out, "held out (40 inputs)"));
    /* Swift is Super here, so routing costs more than Super alone, and the
     * inputs cannot tell Super ahead: every resampled gap is 0. */
    assert_non_null(strstr(out, "x more)"));
    assert_null(strstr(out, "fewer"));
    assert_non_null(strstr(out, "Swift alone +0.0000 (95% interval +0.0000 to +0.0000)"));
    assert_non_null(strstr(out, "note: these inputs do not tell Super's lead over Swift apart from none (Swift at "
                                "least Super on 100.0% of the resamples)"));
    free(out);
    json_t *c = read_json(calib);
    assert_string_equal(json_string_value(json_object_get(c, "score")), "energy");
    assert_true(fabs(json_real_value(json_object_get(c, "super_rate")) - 0.25) < 0.01);
    assert_true(json_is_real(json_object_get(c, "heldout_metric")));
    const double threshold = json_real_value(json_object_get(c, "threshold"));
    json_decref(c);

    snprintf(args, sizeof args, "eval --swift %s --super %s --task sst2 --data %s --calibration %s --report %s", sw,
             su, data, calib, report);
    char cmd[9000], *err;
    snprintf(cmd, sizeof cmd, "%s %s", elang_bin(), args);
    assert_int_equal(run_command(cmd, &out, &err), 0);
    assert_non_null(strstr(err, "warning:")); /* same file as the calibration */
    assert_non_null(strstr(out, "| **E-LANG** |"));
    free(out), free(err);
    char path[2048];
    snprintf(path, sizeof path, "%s/report.json", report);
    json_t *r = read_json(path);
    const char *sections[] = {"swift", "super", "elang"};
    for (int i = 0; i < 3; i++) {
        json_t *m = json_object_get(r, sections[i]);
        assert_non_null(m);
        assert_string_equal(json_string_value(json_object_get(m, "metric_name")), "accuracy");
        assert_true(json_real_value(json_object_get(m, "gflops")) > 0);
        assert_true(json_real_value(json_object_get(m, "ms")) > 0);
    }
    assert_true(fabs(json_real_value(json_object_get(json_object_get(r, "elang"), "threshold")) - threshold) < 1e-6);
    assert_true(json_array_size(json_object_get(r, "curve")) >= 2);
    json_decref(r);
    snprintf(path, sizeof path, "%s/curve.svg", report);
    assert_int_equal(access(path, R_OK), 0);

    /* route with the calibration: every input has a route and a score, and
     * those below the threshold went to Super. */
    const char *in = tmp("route-in.jsonl");
    const char lines[] = "{\"text\": \"a gripping film\", \"id\": \"a\"}\n{\"text\": \"dull\", \"id\": \"b\"}\n"
                         "{\"text\": \"the plot is thin and the jokes fall flat\", \"id\": \"c\"}\n";
    write_file(in, lines, strlen(lines));
    snprintf(args, sizeof args, "route --swift %s --super %s --calibration %s --input %s", sw, su, calib, in);
    run_ok(args, &out);
    int count = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), count++) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        assert_non_null(o);
        const char *route = json_string_value(json_object_get(o, "route"));
        const double score = json_real_value(json_object_get(o, "score"));
        assert_string_equal(route, score >= threshold ? "swift" : "super");
        assert_non_null(json_object_get(o, "swift_label"));
        assert_true((json_object_get(o, "super_label") != NULL) == (strcmp(route, "super") == 0));
        assert_non_null(json_object_get(o, "logits"));
        json_decref(o);
    }
    assert_int_equal(count, 3);

    /* The same inputs through a pipe, which can be read only once: all
     * three answers, the same as from the file. A pipe read twice leaves
     * the second open waiting for a writer forever, hence the timeouts. */
    const char *fifo = tmp("route-in.fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    char cmd2[9000], *piped, *err2;
    snprintf(cmd2, sizeof cmd2, "timeout 60 sh -c 'cat %s > %s' & timeout 60 %s route --swift %s --super %s --calibration %s --input %s", in, fifo,
             elang_bin(), sw, su, calib, fifo);
    assert_int_equal(run_command(cmd2, &piped, &err2), 0);
    snprintf(args, sizeof args, "route --swift %s --super %s --calibration %s --input %s", sw, su, calib, in);
    free(out);
    run_ok(args, &out);
    assert_string_equal(piped, out);
    free(out), free(piped), free(err2);
}

/* Translation: BLEU of a Marian pair on the first Multi30k test lines. */
static void eval_translation(void **s) {
    (void)s;
    const char *m = shared_path("fixtures/hf/marian");
    const char *src = head_of("data/multi30k/test_2016_flickr.en", "src.en", 12);
    const char *ref = head_of("data/multi30k/test_2016_flickr.de", "ref.de", 12);
    const char *report = tmp("mt-report");
    char args[8192], *out;
    snprintf(args, sizeof args, "eval --swift %s --super %s --task translation --src %s --ref %s --threshold 5 "
             "--max-new-tokens 8 --score maxprob --aggregate min --report %s", m, m, src, ref, report);
    run_ok(args, &out);
    assert_non_null(strstr(out, "| bleu |"));
    free(out);
    char path[2048];
    snprintf(path, sizeof path, "%s/report.json", report);
    json_t *r = read_json(path);
    assert_string_equal(json_string_value(json_object_get(r, "score")), "maxprob");
    assert_string_equal(json_string_value(json_object_get(r, "aggregation")), "min");
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "elang"), "metric_name")), "bleu");
    /* Everything on Super: E-LANG's BLEU and chrF are Super's. */
    json_t *e = json_object_get(r, "elang"), *sup = json_object_get(r, "super");
    assert_true(fabs(json_real_value(json_object_get(e, "metric")) - json_real_value(json_object_get(sup, "metric"))) < 1e-9);
    assert_true(json_is_real(json_object_get(e, "chrf")));
    assert_true(fabs(json_real_value(json_object_get(e, "chrf")) - json_real_value(json_object_get(sup, "chrf"))) < 1e-9);
    /* maxprob is at most 1, so threshold 5 sends everything to Super. */
    assert_true(fabs(json_real_value(json_object_get(json_object_get(r, "elang"), "super_rate")) - 1.0) < 1e-9);
    json_decref(r);
}

/* Language models end to end: GPT-2 as Swift, Qwen2 as Super, on prompts;
 * calibrated with first-step scores taken after decoding (first) and
 * before it (prompt): the same threshold and routes, and prompt decisions
 * cost less (a routed input costs Swift its prompt alone). Eval and route
 * take the calibration; routed inputs have no Swift text. SST-2 through
 * label words after a prompt prefix. */
static void language_models_end_to_end(void **s) {
    (void)s;
    const char *sw = shared_path("fixtures/hf/gpt2"), *su = shared_path("fixtures/hf/qwen2");
    const char *src = head_of("data/multi30k/val.en", "lm-src.en", 16);
    const char *ref = head_of("data/multi30k/val.de", "lm-ref.de", 16);
    const char *aggs[2] = {"first", "prompt"};
    double threshold[2], gflops[2];
    char args[8192], *out, path[2048];
    for (int a = 0; a < 2; a++) {
        snprintf(args, sizeof args, "calibrate --swift %s --super %s --task translation --src %s --ref %s "
                 "--aggregate %s --max-new-tokens 6 --objective super-rate:0.5 --out %s/lm-%s.json", sw, su, src,
                 ref, aggs[a], test_tmpdir(), aggs[a]);
        run_ok(args, &out);
        free(out);
        snprintf(path, sizeof path, "%s/lm-%s.json", test_tmpdir(), aggs[a]);
        json_t *c = read_json(path);
        assert_string_equal(json_string_value(json_object_get(c, "aggregation")), aggs[a]);
        threshold[a] = json_real_value(json_object_get(c, "threshold"));
        gflops[a] = json_real_value(json_object_get(c, "gflops"));
        assert_true(fabs(json_real_value(json_object_get(c, "super_rate")) - 0.5) < 1e-9);
        json_decref(c);
    }
    assert_true(fabs(threshold[0] - threshold[1]) < 1e-4);
    assert_true(gflops[1] < gflops[0]);
    snprintf(args, sizeof args, "eval --swift %s --super %s --task translation --src %s --ref %s --calibration "
             "%s/lm-prompt.json --report %s/lm-report", sw, su, src, ref, test_tmpdir(), test_tmpdir());
    run_ok(args, &out);
    assert_non_null(strstr(out, "aggregated by prompt"));
    free(out);
    const char *in = tmp("lm-in.jsonl");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "sed 's/.*/{\"text\": \"&\"}/' %s > %s", src, in);
    assert_int_equal(system(cmd), 0);
    snprintf(args, sizeof args, "route --swift %s --super %s --calibration %s/lm-prompt.json --input %s", sw, su,
             test_tmpdir(), in);
    run_ok(args, &out);
    size_t swift = 0, super = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        assert_non_null(j);
        const bool routed = strcmp(json_string_value(json_object_get(j, "route")), "super") == 0;
        assert_true(routed ? json_is_null(json_object_get(j, "swift_text")) : json_is_string(json_object_get(j, "swift_text")));
        assert_true(json_is_string(json_object_get(j, "text")));
        super += routed, swift += !routed;
        json_decref(j);
    }
    assert_int_equal(swift + super, 16);
    assert_true(swift > 0 && super > 0);
    free(out);

    const char *dev = head_of("data/glue/SST-2/dev.tsv", "lm-dev.tsv", 25);
    snprintf(args, sizeof args, "eval --swift %s --super %s --task sst2 --data %s --label-words negative,positive "
             "--swift-prefix 'Review: ' --super-prefix 'Review: ' --threshold 0 --report %s/lm-sst2", sw, su, dev,
             test_tmpdir());
    run_ok(args, &out);
    assert_non_null(strstr(out, "| accuracy |"));
    free(out);
}

/* --lines restricts calibration to listed lines of the data file (the demo
 * calibrates on a held-out split of SST-2 train this way). */
static void calibrate_on_listed_lines(void **s) {
    (void)s;
    const char *d = shared_path("fixtures/hf/distilbert");
    const char *data = head_of("data/glue/SST-2/dev.tsv", "lines.tsv", 40);
    const char *lines = tmp("lines.txt"), *calib = tmp("lines-calib.json");
    const char list[] = "2\n3\n5\n7\n11\n13\n";
    write_file(lines, list, strlen(list));
    char args[8192], *out;
    snprintf(args, sizeof args, "calibrate --swift %s --super %s --task sst2 --data %s --lines %s --out %s", d, d, data,
             lines, calib);
    run_ok(args, &out);
    assert_non_null(strstr(out, "calibrated on 6 inputs"));
    free(out);
    size_t len;
    char *text = read_file_all(calib, &len);
    assert_non_null(strstr(text, "\"data_lines\""));
    free(text);
    /* An --out naming an input is refused before anything runs, the input kept. */
    char onto_input[8192];
    snprintf(onto_input, sizeof onto_input, "calibrate --swift %s --super %s --task sst2 --data %s --lines %s --out %s",
             d, d, data, lines, lines);
    expect_failure(onto_input, "is the --lines file; write elsewhere");
    text = read_file_all(lines, &len);
    assert_string_equal(text, list);
    free(text);
    /* Lists saved on Windows: the same lines. */
    const char crlf[] = "2\r\n3\r\n5\r\n7\r\n11\r\n13\r\n";
    write_file(lines, crlf, strlen(crlf));
    run_ok(args, &out);
    assert_non_null(strstr(out, "calibrated on 6 inputs"));
    free(out);
    const char control[] = "2\r\n3\x01\r\n";
    write_file(lines, control, strlen(control));
    expect_failure(args, "line 2: \"3\\x01\" is not the line of an example");
    const char binary[] = "2\n3\xff\n";
    write_file(lines, binary, strlen(binary));
    expect_failure(args, "line 2: \"3\\xff\" is not the line of an example");
    const char bad[] = "2\n1\n";
    write_file(lines, bad, strlen(bad));
    expect_failure(args, "line 2: \"1\" is not the line of an example (they are on lines 2 to ");
    const char worse[] = "2\nseven\n";
    write_file(lines, worse, strlen(worse));
    expect_failure(args, "\"seven\" is not the line of an example");
}

/* eval --lines reports on listed lines alone, and warns by how many of them
 * the calibration's own listed lines share. */
static void eval_on_listed_lines(void **s) {
    (void)s;
    const char *d = shared_path("fixtures/hf/distilbert");
    const char *data = head_of("data/glue/SST-2/dev.tsv", "eval-lines.tsv", 40);
    const char *cal_lines = tmp("eval-cal-lines.txt"), *calib = tmp("eval-lines-calib.json");
    const char *lines = tmp("eval-lines.txt"), *report = tmp("eval-lines-report");
    const char calibrated[] = "2\n3\n5\n7\n11\n13\n";
    write_file(cal_lines, calibrated, strlen(calibrated));
    char args[8192], cmd[9000], *out, *err;
    snprintf(args, sizeof args, "calibrate --swift %s --super %s --task sst2 --data %s --lines %s --out %s", d, d, data,
             cal_lines, calib);
    run_ok(args, &out);
    free(out);
    const struct { const char *list; const char *warning; } cases[] = {
        {"2\n3\n5\n7\n11\n13\n", "6 of the 6 examples evaluated are among those the threshold was calibrated on"},
        {"13\n4\n6\n2\n", "2 of the 4 examples evaluated are among those"},
        {"4\n6\n8\n", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(lines, cases[i].list, strlen(cases[i].list));
        snprintf(cmd, sizeof cmd, "%s eval --swift %s --super %s --task sst2 --data %s --lines %s --calibration %s "
                 "--report %s", elang_bin(), d, d, data, lines, calib, report);
        if (run_command(cmd, &out, &err) != 0) fail_msg("`%s`: %s", cmd, err);
        char want[64];
        int listed = 0;
        for (const char *c = cases[i].list; *c; c++) listed += *c == '\n';
        snprintf(want, sizeof want, "# E-LANG on sst2 (%d inputs)", listed);
        assert_non_null(strstr(out, want));
        if (cases[i].warning) assert_non_null(strstr(err, cases[i].warning));
        else assert_null(strstr(err, "warning"));
        free(out), free(err);
    }
    /* A bad list fails as calibrate's does, before anything runs. */
    const char bad[] = "2\n99\n";
    write_file(lines, bad, strlen(bad));
    snprintf(args, sizeof args, "eval --swift %s --super %s --task sst2 --data %s --lines %s --threshold 0 --report %s",
             d, d, data, lines, report);
    expect_failure(args, "line 2: \"99\" is not the line of an example");
    const char twice[] = "2\n3\n2\n";
    write_file(lines, twice, strlen(twice));
    expect_failure(args, "line 3: line 2 is listed twice");
    /* A calibration whose own list is gone: the overlap cannot be counted,
     * and eval says so instead of keeping quiet. */
    json_t *c = read_json(calib);
    json_object_set_new(c, "data_lines", json_string(tmp("gone.txt")));
    const char *stale = tmp("eval-lines-stale.json");
    assert_int_equal(json_dump_file(c, stale, 0), 0);
    json_decref(c);
    write_file(lines, "4\n", 2);
    snprintf(cmd, sizeof cmd, "%s eval --swift %s --super %s --task sst2 --data %s --lines %s --calibration %s "
             "--report %s", elang_bin(), d, d, data, lines, stale, report);
    if (run_command(cmd, &out, &err) != 0) fail_msg("`%s`: %s", cmd, err);
    assert_non_null(strstr(err, "gone.txt is the calibration's data_lines"));
    assert_non_null(strstr(err, "cannot be counted"));
    free(out), free(err);
}

/* A calibration records its paths relative to its own folder: calibrated
 * from one directory with relative paths, it still knows its data when
 * read from another, and after the folder holding data and calibration is
 * moved. A file of version 1 keeps its paths as they are. */
static void calibration_paths_follow_the_file(void **s) {
    (void)s;
    const char *d = shared_path("fixtures/hf/distilbert");
    char cmd[9000], *out, *err;
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s' && mkdir -p '%s/data' '%s/calibrations' '%s' && head -n 40 '%s' > "
             "'%s/data/sst2.tsv' && printf '2\\n3\\n5\\n' > '%s/data/lines.txt'",
             tmp("project"), tmp("moved"), tmp("project"), tmp("project"), tmp("elsewhere"),
             shared_path("data/glue/SST-2/dev.tsv"), tmp("project"), tmp("project"));
    assert_int_equal(system(cmd), 0);
    /* The models by a relative name too (a link to the fixture). */
    snprintf(cmd, sizeof cmd, "ln -s '%s' '%s/m' && cd '%s' && %s calibrate --swift m --super %s --task sst2 "
             "--data data/sst2.tsv --lines data/lines.txt --out calibrations/c.json", d, tmp("project"),
             tmp("project"), elang_bin(), d);
    if (run_command(cmd, &out, &err) != 0) fail_msg("`%s`: %s", cmd, err);
    free(out), free(err);
    json_t *c = read_json(tmp("project/calibrations/c.json"));
    assert_int_equal(json_integer_value(json_object_get(c, "elang_calibration")), 2);
    assert_string_equal(json_string_value(json_object_get(c, "data")), "../data/sst2.tsv");
    assert_string_equal(json_string_value(json_object_get(c, "data_lines")), "../data/lines.txt");
    assert_string_equal(json_string_value(json_object_get(json_object_get(c, "swift"), "path")), "../m");
    assert_string_equal(json_string_value(json_object_get(json_object_get(c, "super"), "path")), d);
    json_decref(c);
    /* Loaded from elsewhere, Swift's path names the model it was made for. */
    char here[2048];
    assert_non_null(getcwd(here, sizeof here));
    assert_int_equal(chdir(tmp("elsewhere")), 0);
    elang_calibration loaded;
    elang_error lerr;
    char file[2048];
    snprintf(file, sizeof file, "%s", tmp("project/calibrations/c.json"));
    assert_int_equal(elang_calibration_load(file, &loaded, &lerr), ELANG_OK);
    assert_string_equal(loaded.swift_dir, "../project/m");
    assert_int_equal(elang_calibration_check(&loaded, loaded.swift_dir, loaded.super_dir, &lerr), ELANG_OK);
    elang_calibration_free(&loaded);
    assert_int_equal(chdir(here), 0);
    /* Written to a descriptor: redirected into a file, the paths are from
     * that file's folder; through a pipe, whose folder says nothing, they
     * are absolute. */
    const char *outs[2] = {"3> calibrations/redirected.json", "3>&1 >/dev/null | cat > calibrations/piped.json"};
    const char *files[2] = {"project/calibrations/redirected.json", "project/calibrations/piped.json"};
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd, "cd '%s' && %s calibrate --swift m --super m --task sst2 --data data/sst2.tsv "
                 "--lines data/lines.txt --out /dev/fd/3 %s", tmp("project"), elang_bin(), outs[k]);
        if (run_command(cmd, &out, &err) != 0) fail_msg("`%s`: %s", cmd, err);
        free(out), free(err);
        c = read_json(tmp(files[k]));
        const char *data = json_string_value(json_object_get(c, "data"));
        if (k == 0) assert_string_equal(data, "../data/sst2.tsv");
        else assert_true(data[0] == '/' && strcmp(data + strlen(data) - strlen("/data/sst2.tsv"), "/data/sst2.tsv") == 0);
        json_decref(c);
    }
    /* Read from elsewhere, then from the moved folder: eval finds that it
     * evaluates on the calibration's own examples. */
    const char *roots[2] = {"project", "moved"};
    for (int r = 0; r < 2; r++) {
        if (r == 1) {
            snprintf(cmd, sizeof cmd, "mv '%s' '%s'", tmp("project"), tmp("moved"));
            assert_int_equal(system(cmd), 0);
        }
        char root[1024];
        snprintf(root, sizeof root, "%s", tmp(roots[r]));
        snprintf(cmd, sizeof cmd, "cd '%s' && %s eval --swift %s --super %s --task sst2 --data %s/data/sst2.tsv "
                 "--lines %s/data/lines.txt --calibration %s/calibrations/c.json --report report", tmp("elsewhere"),
                 elang_bin(), d, d, root, root, root);
        if (run_command(cmd, &out, &err) != 0) fail_msg("`%s`: %s", cmd, err);
        if (!strstr(err, "3 of the 3 examples evaluated are among those the threshold was calibrated on"))
            fail_msg("from %s, calibration in %s: %s", tmp("elsewhere"), root, err);
        free(out), free(err);
    }
    /* Version 1: the paths as calibrate was given them, from where it ran. */
    c = read_json(tmp("moved/calibrations/c.json"));
    json_object_set_new(c, "elang_calibration", json_integer(1));
    json_object_set_new(c, "data", json_string("data/sst2.tsv"));
    json_object_set_new(c, "data_lines", json_string("data/lines.txt"));
    assert_int_equal(json_dump_file(c, tmp("moved/calibrations/v1.json"), 0), 0);
    json_decref(c);
    snprintf(cmd, sizeof cmd, "cd '%s' && %s eval --swift %s --super %s --task sst2 --data data/sst2.tsv "
             "--lines data/lines.txt --calibration calibrations/v1.json --report report", tmp("moved"), elang_bin(),
             d, d);
    if (run_command(cmd, &out, &err) != 0) fail_msg("`%s`: %s", cmd, err);
    assert_non_null(strstr(err, "3 of the 3 examples evaluated are among those"));
    free(out), free(err);
}

/* Replacing a calibration is all or nothing: a write that fails (here the
 * file size limit, below the calibration's size) leaves the previous
 * calibration whole, and the command fails. */
static void calibrate_keeps_old_file_on_failed_write(void **s) {
    (void)s;
    const char *d = shared_path("fixtures/hf/distilbert");
    const char *data = head_of("data/glue/SST-2/dev.tsv", "limit.tsv", 30), *calib = tmp("limit-calib.json");
    /* A long prefix makes the calibration 2 KB, twice the limit. */
    char prefix[1601], args[8192], cmd[9000], *out, *err;
    for (int i = 0; i < 200; i++) memcpy(prefix + 8 * i, "review: ", 8);
    prefix[1600] = '\0';
    snprintf(args, sizeof args, "calibrate --swift %s --super %s --task sst2 --data %s --out %s --swift-prefix '%s'",
             d, d, data, calib, prefix);
    run_ok(args, &out);
    free(out);
    size_t old_len, len;
    char *old = read_file_all(calib, &old_len);
    assert_true(old_len > 2048);
    /* 1 block: 512 bytes in dash, 1024 in bash; both below the file. */
    snprintf(cmd, sizeof cmd, "(ulimit -f 1; trap '' XFSZ; exec %s %s --objective max-metric)", elang_bin(), args);
    assert_int_equal(run_command(cmd, NULL, &err), 1);
    assert_non_null(strstr(err, "cannot write"));
    free(err);
    char *now = read_file_all(calib, &len);
    assert_int_equal(len, old_len);
    assert_memory_equal(now, old, len);
    free(now), free(old);
    char partial[2048];
    snprintf(partial, sizeof partial, "%s.partial", calib);
    assert_int_equal(access(partial, F_OK), -1);
}

/* report.json, report.md and curve.svg describe one run: when one of them
 * cannot be written (or moved into place), none is replaced. */
static void eval_report_replaced_together(void **s) {
    (void)s;
    const char *d = shared_path("fixtures/hf/distilbert");
    const char *data = head_of("data/glue/SST-2/dev.tsv", "report.tsv", 30), *report = tmp("together");
    char args[8192], path[2048], json[2048], *out;
    snprintf(args, sizeof args, "eval --swift %s --super %s --task sst2 --data %s --threshold 1 --report %s", d, d,
             data, report);
    run_ok(args, &out);
    free(out);
    snprintf(json, sizeof json, "%s/report.json", report);
    size_t old_len, len;
    char *old = read_file_all(json, &old_len);
    /* Another threshold, another report.json; but curve.svg cannot be
     * written, then cannot replace what is in its place. */
    snprintf(args, sizeof args, "eval --swift %s --super %s --task sst2 --data %s --threshold 2 --report %s", d, d,
             data, report);
    const char *blockers[] = {"curve.svg.partial", "curve.svg"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", report, blockers[i]);
        unlink(path);
        assert_int_equal(mkdir(path, 0777), 0);
        expect_failure(args, blockers[i]);
        char *now = read_file_all(json, &len);
        assert_int_equal(len, old_len);
        assert_memory_equal(now, old, len);
        free(now);
        const char *partials[] = {"report.json.partial", "report.md.partial"};
        for (int k = 0; k < 2; k++) {
            snprintf(path, sizeof path, "%s/%s", report, partials[k]);
            assert_int_equal(access(path, F_OK), -1);
        }
        snprintf(path, sizeof path, "%s/%s", report, blockers[i]);
        rmdir(path);
    }
    free(old);
}

/* A prefix is kept whole, however long and whatever its characters: what
 * calibrate was given, CALIB.json holds and route applies. */
static void long_prefixes_round_trip(void **s) {
    (void)s;
    const char *d = shared_path("fixtures/hf/distilbert");
    const char *data = head_of("data/glue/SST-2/dev.tsv", "prefix.tsv", 30), *calib = tmp("prefix-calib.json");
    const char *in = tmp("prefix-in.jsonl");
    const char line[] = "{\"text\": \"a gripping film\"}\n";
    write_file(in, line, strlen(line));
    /* Both start alike, so that whichever model answers, its ids show it. */
    const char *unit[2] = {"review: ", "review: naïve café — 日本語の批評 "};
    char *prefix[2];
    for (int k = 0; k < 2; k++) {
        const size_t n = strlen(unit[k]), times = 6000 / n;
        prefix[k] = malloc(n * times + 1);
        for (size_t i = 0; i < times; i++) memcpy(prefix[k] + i * n, unit[k], n);
        prefix[k][n * times] = '\0';
    }
    const size_t size = 2 * 6000 + 4096;
    char *cmd = malloc(size), *out, *err, *explicit_out;
    snprintf(cmd, size, "%s calibrate --swift %s --super %s --task sst2 --data %s --out %s --swift-prefix '%s' "
             "--super-prefix '%s'", elang_bin(), d, d, data, calib, prefix[0], prefix[1]);
    if (run_command(cmd, NULL, &err) != 0) fail_msg("calibrate: %s", err);
    free(err);
    json_t *c = read_json(calib);
    const char *side[2] = {"swift", "super"};
    for (int k = 0; k < 2; k++)
        assert_string_equal(json_string_value(json_object_get(json_object_get(c, side[k]), "prefix")), prefix[k]);
    json_decref(c);
    /* route takes the prefixes from the calibration, and accepts them given
     * again (it refuses prefixes that differ from the calibration's). */
    snprintf(cmd, size, "%s route --swift %s --super %s --calibration %s --input %s --emit-ids", elang_bin(), d, d,
             calib, in);
    if (run_command(cmd, &out, &err) != 0) fail_msg("route: %s", err);
    free(err);
    snprintf(cmd, size, "%s route --swift %s --super %s --calibration %s --input %s --emit-ids --swift-prefix '%s' "
             "--super-prefix '%s'", elang_bin(), d, d, calib, in, prefix[0], prefix[1]);
    if (run_command(cmd, &explicit_out, &err) != 0) fail_msg("route with the prefixes: %s", err);
    assert_string_equal(out, explicit_out);
    /* The ids start with the prefix's (a text of its own would not). */
    assert_non_null(strstr(out, "\"input_ids\":[101,3319,1024,"));
    free(out), free(explicit_out), free(err), free(cmd);
    free(prefix[0]), free(prefix[1]);
}

/* A Super that never answers: a socket listening on a free port that
 * nobody accepts on, so the kernel completes each connection and queues it
 * (the backlog, 64, outlasts any attempts made here). */
static int silent_super(int *port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 64), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* The connections queued on the silent Super since the last count. */
static int calls_made(int fd) {
    assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
    int n = 0;
    for (int c; (c = accept(fd, NULL, NULL)) >= 0; n++) close(c);
    return n;
}

/* A routed input's call to a remote Super that times out is made again
 * --super-retries times, once when the flag is not given; then the input
 * keeps Swift's answer, marked degraded. */
static void remote_super_retries(void **s) {
    (void)s;
    int port;
    const int fd = silent_super(&port);
    const char *input = tmp("one.jsonl");
    const char *line = "{\"text\": \"an ok film\"}\n";
    write_file(input, line, strlen(line));
    const struct {
        const char *flag;
        int calls;
    } cases[] = {{"", 2}, {"--super-retries 0", 1}, {"--super-retries 2", 3}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[2048], *out;
        snprintf(args, sizeof args, "route --swift models/sst2-swift --super http://127.0.0.1:%d/v2/models/m "
                 "--threshold 100 --super-timeout-ms 100 %s --input %s", port, cases[i].flag, input);
        run_ok(args, &out);
        assert_non_null(strstr(out, "\"degraded\":true"));
        free(out);
        const int calls = calls_made(fd);
        if (calls != cases[i].calls) fail_msg("%s: %d calls to Super, want %d", args, calls, cases[i].calls);
    }
    close(fd);
}

/* A Super that answers every call with one canned KServe v2 body. */
typedef struct {
    int fd;
    const char *body;
} canned_super;

static void *answer_calls(void *arg) {
    const canned_super *c = arg;
    for (int conn; (conn = accept(c->fd, NULL, NULL)) >= 0; close(conn)) {
        /* The request is read up to its body's end: headers, then Content-Length bytes. */
        char req[65536];
        size_t got = 0;
        const char *end = NULL;
        long body = 0;
        for (ssize_t r; got < sizeof req - 1 && (r = read(conn, req + got, sizeof req - 1 - got)) > 0;) {
            got += (size_t)r, req[got] = '\0';
            if (!end && (end = strstr(req, "\r\n\r\n"))) {
                const char *cl = strcasestr(req, "content-length:");
                body = cl ? strtol(cl + 15, NULL, 10) : 0;
            }
            if (end && (long)(got - (size_t)(end + 4 - req)) >= body) break;
        }
        char head[256];
        const int n = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                               "Content-Length: %zu\r\nConnection: close\r\n\r\n", strlen(c->body));
        /* MSG_NOSIGNAL: a client that stops reading a long answer must not kill the test with SIGPIPE. */
        if (send(conn, head, (size_t)n, MSG_NOSIGNAL) != n || send(conn, c->body, strlen(c->body), MSG_NOSIGNAL) < 0)
            continue;
    }
    return NULL;
}

/* `elang route` of one input with its Super the canned answer `body`
 * (extra flags in `flags`), which must succeed; its outputs in *out and
 * *err. */
static void route_to_canned_super(const char *body, const char *flags, char **out, char **err) {
    int port;
    canned_super c = {.fd = silent_super(&port), .body = body};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, answer_calls, &c), 0);
    const char *input = tmp("one.jsonl"), *line = "{\"text\": \"an ok film\"}\n";
    write_file(input, line, strlen(line));
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s route --swift models/sst2-swift --super http://127.0.0.1:%d/v2/models/m "
             "--threshold 100 %s --input %s", elang_bin(), port, flags, input);
    const int rc = run_command(cmd, out, err);
    shutdown(c.fd, SHUT_RDWR); /* ends the accept loop */
    pthread_join(t, NULL);
    close(c.fd);
    if (rc != 0) fail_msg("`%s` exited %d: %s", cmd, rc, *err);
}

/* A remote Super's answer whose logits are no 32-bit floats (1e39 would be
 * an infinity, its energy NaN), or whose shape is not one row of logits an
 * input, is refused like any malformed answer: the input keeps Swift's
 * answer, marked degraded. */
static void remote_super_out_of_range_logits(void **s) {
    (void)s;
    char *out, *err;
    route_to_canned_super("{\"model_name\":\"m\",\"outputs\":[{\"name\":\"logits\",\"datatype\":\"FP32\","
                          "\"shape\":[1,2],\"data\":[1e39,-1e39]}]}", "--super-retries 0", &out, &err);
    if (!strstr(out, "\"route\":\"swift\"") || !strstr(out, "\"degraded\":true"))
        fail_msg("an out-of-range answer was taken: %s", out);
    free(out), free(err);
    /* Logits as a vector of 2 for one input of two labels: the shape says
     * the Super did not answer rows of logits, whatever its data count. */
    route_to_canned_super("{\"model_name\":\"m\",\"outputs\":[{\"name\":\"logits\",\"datatype\":\"FP32\","
                          "\"shape\":[2],\"data\":[1.5,-1.5]}]}", "--super-retries 0", &out, &err);
    if (!strstr(out, "\"route\":\"swift\"") || !strstr(out, "\"degraded\":true"))
        fail_msg("an answer of another shape was taken: %s", out);
    free(out), free(err);
    /* The same numbers as [1, 2] are Super's answer. */
    route_to_canned_super("{\"model_name\":\"m\",\"outputs\":[{\"name\":\"logits\",\"datatype\":\"FP32\","
                          "\"shape\":[1,2],\"data\":[1.5,-1.5]}]}", "--super-retries 0", &out, &err);
    if (!strstr(out, "\"route\":\"super\"") || strstr(out, "\"degraded\""))
        fail_msg("a well-formed answer was not taken: %s", out);
    free(out), free(err);
}

/* route --stop ends generations as generate --stop does (everything kept
 * on Swift here: its answers are Swift's); not with a calibration or beams. */
static void route_stop_as_generate(void **s) {
    (void)s;
    const char *src = head_of("data/multi30k/val.en", "val5.en", 5);
    char args[4096], *routed, *generated;
    snprintf(args, sizeof args, "route --swift models/multi30k-swift --super models/multi30k-super --threshold -1e30 "
             "--format text --input %s --max-new-tokens 20 --stop 'e '", src);
    run_ok(args, &routed);
    snprintf(args, sizeof args, "generate --model models/multi30k-swift --format text --input %s --max-new-tokens 20 "
             "--stop 'e '", src);
    run_ok(args, &generated);
    int cut = 0, lines = 0;
    for (char *r = routed, *g = generated; *r && *g; lines++) {
        char *r_end = strchr(r, '\n'), *g_end = strchr(g, '\n');
        assert_non_null(r_end), assert_non_null(g_end);
        *r_end = *g_end = '\0';
        json_t *a = json_loads(r, 0, NULL), *b = json_loads(g, 0, NULL);
        const char *text = json_string_value(json_object_get(b, "text"));
        assert_string_equal(json_string_value(json_object_get(a, "text")), text);
        cut += strstr(text, "e ") != NULL;
        json_decref(a), json_decref(b);
        r = r_end + 1, g = g_end + 1;
    }
    assert_int_equal(lines, 5);
    assert_true(cut >= 3); /* the stop string ended most of them */
    free(routed), free(generated);
    snprintf(args, sizeof args, "route --swift models/multi30k-swift --super models/multi30k-super --calibration "
             "models/multi30k.calib.json --input /dev/null --stop 'e '");
    expect_failure(args, "--stop changes the answers whose scores the calibration was made on");
    snprintf(args, sizeof args, "route --swift models/multi30k-swift --super models/multi30k-super --threshold 1 "
             "--num-beams 2 --input /dev/null --stop 'e '");
    expect_failure(args, "--stop works with greedy search, not with --num-beams 2");
}

/* A remote Super whose answer never ends (here: 65 MiB of it) is cut off
 * at 64 MiB rather than read into memory whole; the input keeps Swift's
 * answer, marked degraded, and the log says why. */
static void remote_super_endless_answer(void **s) {
    (void)s;
    const size_t size = (size_t)65 << 20;
    char *body = malloc(size + 1), *out, *err;
    assert_non_null(body);
    memset(body, ' ', size);
    body[0] = '{', body[size - 1] = '}', body[size] = '\0';
    route_to_canned_super(body, "", &out, &err);
    free(body);
    if (!strstr(out, "\"route\":\"swift\"") || !strstr(out, "\"degraded\":true"))
        fail_msg("an endless answer was not refused: %s", out);
    if (!strstr(err, "more than 64 MiB")) fail_msg("the log does not say the answer was too long: %s", err);
    free(out), free(err);
}

static void bad_usage(void **s) {
    (void)s;
    const char *bert = shared_path("fixtures/hf/bert"), *distil = shared_path("fixtures/hf/distilbert");
    const char *t5 = shared_path("fixtures/hf/t5"), *dev = shared_path("data/glue/SST-2/dev.tsv");
    char args[8192];
    snprintf(args, sizeof args, "route --swift %s --super %s", bert, bert);
    expect_failure(args, "exactly one of --calibration FILE and --threshold t");
    snprintf(args, sizeof args, "route --swift %s --threshold 1", bert);
    expect_failure(args, "give --swift DIR --super DIR");
    snprintf(args, sizeof args, "route --models %s --thresholds 1", bert);
    expect_failure(args, "--models needs 2 to 8 directories");
    snprintf(args, sizeof args, "route --models %s,%s,%s --thresholds 1,x", bert, bert, bert);
    expect_failure(args, "threshold 'x' is not a number");
    snprintf(args, sizeof args, "route --swift %s --super %s --threshold 1 --score confidence", bert, bert);
    expect_failure(args, "expected one of energy|softmax-energy");
    snprintf(args, sizeof args, "route --swift %s --super %s --threshold 1", bert, t5);
    expect_failure(args, "all classify or all generate");
    snprintf(args, sizeof args, "route --swift %s --super %s --threshold 1 --label-words good", t5, t5);
    expect_failure(args, "--label-words needs 2 to 64");
    snprintf(args, sizeof args, "route --swift %s --super %s --calibration %s/none.json", bert, bert, test_tmpdir());
    expect_failure(args, "cannot open calibration");

    snprintf(args, sizeof args, "calibrate --swift %s --super %s --task sst2 --data %s --out %s --objective fastest",
             distil, distil, dev, tmp("c.json"));
    expect_failure(args, "unknown objective \"fastest\"");
    snprintf(args, sizeof args, "calibrate --swift %s --super %s --task sst3 --data %s --out %s", distil, distil, dev,
             tmp("c.json"));
    expect_failure(args, "sst3");
    snprintf(args, sizeof args, "calibrate --swift %s --super %s --task sst2 --data %s --out %s", bert, bert, dev,
             tmp("c.json"));
    expect_failure(args, "label"); /* a 3-class model on a 2-class task */
    snprintf(args, sizeof args, "calibrate --swift %s --super %s --task sst2 --out %s", distil, distil, tmp("c.json"));
    expect_failure(args, "a GLUE task takes --data FILE");
    snprintf(args, sizeof args, "calibrate --swift %s --super %s --task translation --data %s --out %s", t5, t5, dev,
             tmp("c.json"));
    expect_failure(args, "--task translation takes --src FILE --ref FILE");
    snprintf(args, sizeof args, "calibrate --swift %s --super %s --task sst2 --data %s --out %s", t5, t5, dev,
             tmp("c.json"));
    expect_failure(args, "need label words");
    snprintf(args, sizeof args, "calibrate --swift %s --super %s --task sst2 --data %s --holdout 2 --out %s", distil,
             distil, dev, tmp("c.json"));
    expect_failure(args, "for --holdout");

    snprintf(args, sizeof args, "route --models %s,%s,%s --thresholds 1,0x2", bert, bert, bert);
    expect_failure(args, "threshold '0x2' is not a number");
    snprintf(args, sizeof args, "route --models %s,%s --thresholds 1 --swift-prefix 'x: '", t5, t5);
    expect_failure(args, "--swift-prefix is for --swift/--super");
    snprintf(args, sizeof args, "route --models %s,%s,%s --thresholds 1,1e300", bert, bert, bert);
    expect_failure(args, "threshold '1e300' is not a number");
    snprintf(args, sizeof args, "calibrate --swift %s --super %s --task sst2 --data %s --out %s --objective "
             "match-super:0x1", distil, distil, dev, tmp("c.json"));
    expect_failure(args, "the tolerance must be a number");
    snprintf(args, sizeof args, "calibrate --swift %s --super %s --task sst2 --data %s --out -", distil, distil, dev);
    expect_failure(args, "not to standard output");
    /* A pair infix joins the sentences of a generator's prompt; a classifier would ignore it. */
    snprintf(args, sizeof args, "route --swift %s --super %s --threshold 1 --pair-infix ' s2: ' --input /dev/null",
             distil, distil);
    expect_failure(args, "--pair-infix is for text generators");

    snprintf(args, sizeof args, "eval --swift %s --super %s --task sst2 --data %s --threshold 1", distil, distil, dev);
    expect_failure(args, "--report DIR is required");
    /* The report's place is checked before the models run, and it may not
     * replace the files it reports on. */
    snprintf(args, sizeof args, "eval --swift %s --super %s --task sst2 --data %s --threshold 1 --report -", distil,
             distil, dev);
    expect_failure(args, "a report is a directory");
    snprintf(args, sizeof args, "eval --swift %s --super %s --task sst2 --data %s --threshold 1 --report %s", distil,
             distil, dev, dev);
    expect_failure(args, "exists and is not a directory");
    snprintf(args, sizeof args, "eval --swift %s --super %s --task sst2 --data %s --threshold 1 --report %s/no/such",
             distil, distil, dev, test_tmpdir());
    expect_failure(args, "cannot be made");
    char report_dir[1024], data_in_report[1100];
    snprintf(report_dir, sizeof report_dir, "%s/report-over-data", test_tmpdir());
    mkdir(report_dir, 0777);
    snprintf(data_in_report, sizeof data_in_report, "%s/report.md", report_dir);
    size_t dev_len;
    char *dev_text = read_file_all(dev, &dev_len);
    write_file(data_in_report, dev_text, dev_len);
    free(dev_text);
    snprintf(args, sizeof args, "eval --swift %s --super %s --task sst2 --data %s --threshold 1 --report %s", distil,
             distil, data_in_report, report_dir);
    expect_failure(args, "is the --data file");
    expect_failure("demo --data /nonexistent-data", "--data /nonexistent-data is not a directory");
    /* A calibration made for other models is refused. */
    const char *calib = tmp("other.json");
    snprintf(args, sizeof args, "calibrate --swift %s --super %s --task sst2 --data %s --out %s", distil, distil,
             head_of("data/glue/SST-2/dev.tsv", "small.tsv", 30), calib);
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "%s %s >/dev/null 2>&1", elang_bin(), args);
    assert_int_equal(system(cmd), 0);
    snprintf(args, sizeof args, "route --swift %s --super %s --calibration %s", bert, distil, calib);
    expect_failure(args, "calibrate again");
    snprintf(args, sizeof args, "route --swift %s --super %s --calibration %s --input /dev/null --output %s", distil,
             distil, calib, calib);
    expect_failure(args, "is the --calibration file");
    snprintf(args, sizeof args, "route --swift %s --super %s --calibration %s --score margin --input /dev/null", distil,
             distil, calib);
    expect_failure(args, "the calibration fixes the score");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(calibrate_eval_route_classifiers),
        cmocka_unit_test(eval_translation),
        cmocka_unit_test(route_stop_as_generate),
        cmocka_unit_test(language_models_end_to_end),
        cmocka_unit_test(calibrate_on_listed_lines),
        cmocka_unit_test(eval_on_listed_lines),
        cmocka_unit_test(calibration_paths_follow_the_file),
        cmocka_unit_test(calibrate_keeps_old_file_on_failed_write),
        cmocka_unit_test(eval_report_replaced_together),
        cmocka_unit_test(long_prefixes_round_trip),
        cmocka_unit_test(remote_super_retries),
        cmocka_unit_test(remote_super_out_of_range_logits),
        cmocka_unit_test(remote_super_endless_answer),
        cmocka_unit_test(bad_usage),
    };
    int failed = cmocka_run_group_tests_name("route-cli", tests, NULL, NULL);
    test_tmpdir_cleanup();
    return failed;
}
