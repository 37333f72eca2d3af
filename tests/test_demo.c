/* `elang demo` end to end on a models folder built from the fixtures
 * (DistilBERT standing in for the SST-2 pair, Marian for the Multi30k
 * pair), calibrated here with `elang calibrate`: the mechanics of the demo,
 * whatever models it is given. The real demo models have their own test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <math.h>

#include "support.h"

static void sh(const char *cmd) {
    char *out, *err;
    int rc = run_command(cmd, &out, &err);
    if (rc != 0) fail_msg("`%s` exited %d: %s", cmd, rc, err);
    free(out), free(err);
}

/* tmp/models with the fixture pairs and calibrations made on data that the
 * demo does not report on (SST-2 train lines, Multi30k val lines). */
static const char *fake_models(void) {
    static char dir[1024];
    snprintf(dir, sizeof dir, "%s/models", test_tmpdir());
    char cmd[8192];
    const char *t = test_tmpdir();
    snprintf(cmd, sizeof cmd,
             "rm -rf %s && mkdir -p %s && ln -s %s %s/sst2-swift && ln -s %s %s/sst2-super && "
             "ln -s %s %s/multi30k-swift && ln -s %s %s/multi30k-super && "
             "head -n 120 %s > %s/cal.tsv && head -n 30 %s > %s/v.en && head -n 30 %s > %s/v.de",
             dir, dir, shared_path("fixtures/hf/distilbert"), dir, shared_path("fixtures/hf/distilbert"), dir,
             shared_path("fixtures/hf/marian"), dir, shared_path("fixtures/hf/marian"), dir,
             shared_path("data/glue/SST-2/train.tsv"), t, shared_path("data/multi30k/val.en"), t,
             shared_path("data/multi30k/val.de"), t);
    sh(cmd);
    snprintf(cmd, sizeof cmd, "%s calibrate --swift %s/sst2-swift --super %s/sst2-super --task sst2 --data %s/cal.tsv "
             "--objective super-rate:0.4 --out %s/sst2.calib.json", elang_bin(), dir, dir, t, dir);
    sh(cmd);
    snprintf(cmd, sizeof cmd, "%s calibrate --swift %s/multi30k-swift --super %s/multi30k-super --task translation "
             "--src %s/v.en --ref %s/v.de --max-new-tokens 8 --objective super-rate:0.4 --out %s/multi30k.calib.json",
             elang_bin(), dir, dir, t, t, dir);
    sh(cmd);
    return dir;
}

static void demo_routes_examples(void **s) {
    (void)s;
    const char *models = fake_models();
    char cmd[4096], *out, *err;
    snprintf(cmd, sizeof cmd, "%s demo --models %s --examples examples", elang_bin(), models);
    int rc = run_command(cmd, &out, &err);
    if (rc != 0) fail_msg("demo exited %d: %s", rc, err);
    /* Both pairs, a decision per example, and the table. */
    assert_non_null(strstr(out, "== SST-2 sentiment"));
    assert_non_null(strstr(out, "== Multi30k English -> German"));
    assert_non_null(strstr(out, "A gripping, beautifully acted film"));
    assert_non_null(strstr(out, "A dog is running through the snow."));
    assert_non_null(strstr(out, "32 inputs:"));
    assert_non_null(strstr(out, "24 inputs:"));
    assert_non_null(strstr(out, "| E-LANG |"));
    free(out), free(err);
}

static void demo_evaluates_with_reports(void **s) {
    (void)s;
    const char *models = fake_models();
    char cmd[4096], *out, *err, report[1024];
    snprintf(report, sizeof report, "%s/out", test_tmpdir());
    snprintf(cmd, sizeof cmd, "%s demo --models %s --examples examples --data %s --report %s --only sst2", elang_bin(),
             models, shared_path("data"), report);
    int rc = run_command(cmd, &out, &err);
    if (rc != 0) fail_msg("demo exited %d: %s", rc, err);
    assert_non_null(strstr(out, "# E-LANG on sst2 (872 inputs)"));
    /* The paper's GLUE table, here of the one task evaluated. */
    assert_non_null(strstr(out, "== GLUE, glue-bert pairs"));
    assert_non_null(strstr(out, "| sst2 | accuracy |"));
    assert_non_null(strstr(out, "| **average** (1 tasks) |"));
    /* With one task the average's gap to Super is that task's, drawn on the
     * same resamples as its report's (sst2 is the first pair: seed 1). */
    const char *line = strstr(out, "- E-LANG's average minus Super's: ");
    assert_non_null(line);
    double gap, lo, hi;
    assert_int_equal(sscanf(line, "- E-LANG's average minus Super's: %lf points (95%% interval %lf to %lf", &gap, &lo,
                            &hi), 3);
    assert_non_null(strstr(out, "- Swift's average minus Super's: "));
    char path[2048];
    snprintf(path, sizeof path, "%s/glue-bert/sst2/report.json", report);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) fail_msg("%s: %s", path, je.text);
    const json_t *vs = json_object_get(json_object_get(j, "elang"), "vs_super");
    const double want[3] = {json_number_value(json_object_get(vs, "difference")),
                            json_number_value(json_array_get(json_object_get(vs, "ci95"), 0)),
                            json_number_value(json_array_get(json_object_get(vs, "ci95"), 1))};
    const double got[3] = {gap, lo, hi};
    for (int k = 0; k < 3; k++)
        if (!(fabs(got[k] - 100.0 * want[k]) <= 0.0051)) fail_msg("demo's gap %d: %g, report's %g", k, got[k], want[k]);
    assert_true(lo <= hi);
    json_decref(j);
    free(out), free(err);
    const char *files[] = {"glue-bert/sst2/report.json", "glue-bert/sst2/report.md", "glue-bert/sst2/curve.svg"};
    for (int i = 0; i < 3; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", report, files[i]);
        assert_int_equal(access(path, R_OK), 0);
    }
}

static void demo_refuses_bad_setups(void **s) {
    (void)s;
    char cmd[4096], *out, *err;
    snprintf(cmd, sizeof cmd, "%s demo --models %s/nothing-here", elang_bin(), test_tmpdir());
    assert_int_equal(run_command(cmd, &out, &err), 1);
    assert_non_null(strstr(out, "skipped"));
    assert_non_null(strstr(err, "no demo models in"));
    free(out), free(err);
    /* Models without their calibration: an error naming the file. */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/uncalibrated", test_tmpdir());
    snprintf(cmd, sizeof cmd, "mkdir -p %s && ln -sfn %s %s/sst2-swift", dir, shared_path("fixtures/hf/distilbert"), dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s demo --models %s", elang_bin(), dir);
    assert_int_equal(run_command(cmd, &out, &err), 1);
    assert_non_null(strstr(err, "cannot open")), assert_non_null(strstr(err, "sst2.calib.json"));
    free(out), free(err);
    snprintf(cmd, sizeof cmd, "%s demo --report /tmp/x", elang_bin());
    assert_int_equal(run_command(cmd, &out, &err), 2);
    assert_non_null(strstr(err, "--report needs --data DIR"));
    free(out), free(err);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(demo_routes_examples),
        cmocka_unit_test(demo_evaluates_with_reports),
        cmocka_unit_test(demo_refuses_bad_setups),
    };
    int failed = cmocka_run_group_tests_name("demo", tests, NULL, NULL);
    test_tmpdir_cleanup();
    return failed;
}
