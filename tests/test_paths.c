/* util/paths: what a file records of another's path, and the way back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "support.h"
#include "util/paths.h"

static void expect_relative(const char *dir, const char *target, const char *want) {
    char *got = path_relative(dir, target);
    if (!got || strcmp(got, want) != 0) fail_msg("from %s to %s: %s, want %s", dir, target, got ? got : "NULL", want);
    free(got);
}

static void relative_paths(void **s) {
    (void)s;
    char cmd[8192], a[2048], b[2048], link[2048], root[1024];
    snprintf(root, sizeof root, "%s", test_tmpdir());
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/x/y/z' '%s/x/w' && touch '%s/x/w/f' && ln -sfn '%s/x/y/z' '%s/zl'", root,
             root, root, root, root);
    assert_int_equal(system(cmd), 0);
    snprintf(a, sizeof a, "%s/x/y/z", root), snprintf(b, sizeof b, "%s/x/w/f", root);
    expect_relative(a, b, "../../w/f");
    snprintf(a, sizeof a, "%s/x", root);
    expect_relative(a, b, "w/f");
    expect_relative(b, a, "../..");
    expect_relative(a, a, ".");
    /* "/" has no component to climb out of; a link is followed first. */
    expect_relative("/", "/tmp", "tmp");
    snprintf(link, sizeof link, "%s/zl/../..", root);  /* through the link: x, not root */
    snprintf(a, sizeof a, "%s/x/w", root);
    expect_relative(link, a, "w");
    /* "x" and "xy" share no component. */
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/xy'", root);
    assert_int_equal(system(cmd), 0);
    snprintf(a, sizeof a, "%s/x", root), snprintf(b, sizeof b, "%s/xy", root);
    expect_relative(a, b, "../xy");
    assert_null(path_relative(a, "/does/not/exist"));
}

/* Frees what a path function returned after comparing it. */
static void expect_path(char *got, const char *want) {
    if (!got || strcmp(got, want) != 0) fail_msg("%s, want %s", got ? got : "NULL", want);
    free(got);
}

static void file_paths_round_trip(void **s) {
    (void)s;
    char here[2048];
    assert_non_null(getcwd(here, sizeof here));
    assert_int_equal(chdir(test_tmpdir()), 0);
    /* Recorded from the file's folder, read back from the working directory. */
    expect_path(path_for_file("x/y/c.json", "x/w/f"), "../w/f");
    expect_path(path_from_file("x/y/c.json", "../w/f"), "x/w/f");
    expect_path(path_from_file("c.json", "x/w/f"), "x/w/f");
    /* Absolute and empty paths as they are; a path that cannot be resolved
     * is recorded absolute, which means the same from anywhere. */
    expect_path(path_for_file("x/y/c.json", ""), "");
    expect_path(path_for_file("x/y/c.json", "/abs/olute"), "/abs/olute");
    char cwd[2048], want[2100];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(want, sizeof want, "%s/gone/file", cwd);
    expect_path(path_for_file("x/y/c.json", "gone/file"), want);
    /* A recorded path whose target is gone is the two joined. */
    expect_path(path_from_file("x/y/c.json", "../gone"), "x/y/../gone");
    assert_int_equal(chdir(here), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(relative_paths),
        cmocka_unit_test(file_paths_round_trip),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    test_tmpdir_cleanup();
    return rc;
}
