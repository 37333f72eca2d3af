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

/* Frees what a path function returned after comparing it. */
static void expect_path(char *got, const char *want) {
    if (!got || strcmp(got, want) != 0) fail_msg("%s, want %s", got ? got : "NULL", want);
    free(got);
}

/* Paths compared as text once absolute: "..", ".", doubled slashes, the
 * root, and names that share a prefix ("x" and "xy"). */
static void relative_paths(void **s) {
    (void)s;
    expect_path(path_relative("/a/b/c", "/a/w/f"), "../../w/f");
    expect_path(path_relative("/a", "/a/w/f"), "w/f");
    expect_path(path_relative("/a/w/f", "/a"), "../..");
    expect_path(path_relative("/a//b/./c/..", "/a/b"), ".");
    expect_path(path_relative("/", "/tmp"), "tmp");
    expect_path(path_relative("/tmp", "/"), "..");
    expect_path(path_relative("/../..", "/x"), "x");
    expect_path(path_relative("/a/x", "/a/xy"), "../xy");
    expect_path(path_relative("/a/xy", "/a/x"), "../x");
    char here[2048];
    assert_non_null(getcwd(here, sizeof here));
    assert_int_equal(chdir("/usr"), 0);
    expect_path(path_relative("lib", "share/doc"), "../share/doc");
    expect_path(path_relative(".", "../etc"), "../etc");
    assert_int_equal(chdir(here), 0);
}

static void file_paths_round_trip(void **s) {
    (void)s;
    char here[2048], cwd[2048], want[2100], cmd[4096];
    assert_non_null(getcwd(here, sizeof here));
    assert_int_equal(chdir(test_tmpdir()), 0);
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(cmd, sizeof cmd, "mkdir -p x/y x/w real/sub links && touch x/w/f real/sub/c.json && "
             "ln -sfn ../real/sub/c.json links/c.json && ln -sfn x/y ylink");
    assert_int_equal(system(cmd), 0);
    /* Recorded from the file's folder (written yet or not), read back from
     * the working directory. */
    expect_path(path_for_file("x/y/c.json", "x/w/f"), "../w/f");
    expect_path(path_from_file("real/sub/c.json", "../../x/w/f"), "x/w/f");
    expect_path(path_for_file("c.json", "x/w/f"), "x/w/f");
    /* A file written through a link records from where the link points,
     * and is read back the same through either name. */
    expect_path(path_for_file("links/c.json", "x/w/f"), "../../x/w/f");
    expect_path(path_from_file("links/c.json", "../../x/w/f"), "x/w/f");
    /* A link inside the recorded path is kept as a name. */
    expect_path(path_for_file("real/sub/c.json", "ylink/../x/w/f"), "../../x/w/f");
    expect_path(path_for_file("real/sub/c.json", "ylink/g"), "../../ylink/g");
    /* Absolute paths, URLs and "" as they are. */
    expect_path(path_for_file("x/y/c.json", ""), "");
    expect_path(path_for_file("x/y/c.json", "/abs/olute"), "/abs/olute");
    expect_path(path_for_file("x/y/c.json", "http://host:1/v2/models/m"), "http://host:1/v2/models/m");
    expect_path(path_from_file("real/sub/c.json", "/abs/olute"), "/abs/olute");
    /* A device says nothing of a folder: the path is recorded absolute, and
     * what is read from one is taken from the working directory. */
    snprintf(want, sizeof want, "%s/x/w/f", cwd);
    expect_path(path_for_file("/dev/null", "x/w/f"), want);
    expect_path(path_from_file("/dev/null", "x/w/f"), "x/w/f");
    /* A target that is not there is the text joined. */
    expect_path(path_from_file("real/sub/c.json", "../gone"), "real/gone");
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
