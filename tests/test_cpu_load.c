/* The thread count under load: cgroup quotas, /proc's CPU times, and the
 * rule that turns them into threads (core/cpu_load.h, core/threads.h). What
 * it does to speed is measured in bench/ (bench/README.md), not here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <cmocka.h>

#include "core/cpu_load.h"
#include "support.h"
#include "core/threads.h"

static void test_quota_v2(void **state) {
    (void)state;
    double cpus = -1;
    assert_true(cpu_quota_parse_v2("max 100000\n", &cpus));
    assert_true(cpus == 0);
    assert_true(cpu_quota_parse_v2("150000 100000\n", &cpus));
    assert_true(cpus == 1.5);
    assert_true(cpu_quota_parse_v2("50000 100000", &cpus));
    assert_true(cpus == 0.5);
    assert_false(cpu_quota_parse_v2("", &cpus));
    assert_false(cpu_quota_parse_v2("max", &cpus));
    assert_false(cpu_quota_parse_v2("12x 100000", &cpus));
    assert_false(cpu_quota_parse_v2("-5 100000", &cpus));
    assert_false(cpu_quota_parse_v2("100000 0", &cpus));
}

/* Quotas where a container sees its own (at the root) and where the
 * process's cgroup is named below the root; v2 first, then v1. */
static void test_quota_files(void **state) {
    (void)state;
    char v2[512], v1[512];
    snprintf(v2, sizeof v2, "%s", test_dir("v2"));
    assert_int_equal(cpu_quota_cpus_in(v2, NULL), 0); /* no files: no quota */
    test_dir_file(v2, "cpu.max", "150000 100000\n");
    assert_int_equal(cpu_quota_cpus_in(v2, NULL), 2); /* 1.5 CPUs: two threads */
    test_dir_file(v2, "cpu.max", "max 100000\n");
    assert_int_equal(cpu_quota_cpus_in(v2, "0::/\n"), 0);
    test_dir_file(test_dir("v2/kube/pod"), "cpu.max", "50000 100000\n");
    assert_int_equal(cpu_quota_cpus_in(v2, "0::/kube/pod\n"), 1);

    snprintf(v1, sizeof v1, "%s", test_dir("v1"));
    test_dir_file(test_dir("v1/cpu/batch/job"), "cpu.cfs_quota_us", "300000\n");
    char cpu[600];
    snprintf(cpu, sizeof cpu, "%s/cpu", v1);
    test_dir_file(cpu, "cpu.cfs_period_us", "100000\n");
    test_dir_file(cpu, "cpu.cfs_quota_us", "-1\n");
    assert_int_equal(cpu_quota_cpus_in(v1, NULL), 0);
    snprintf(cpu, sizeof cpu, "%s/cpu/batch/job", v1);
    test_dir_file(cpu, "cpu.cfs_period_us", "100000\n");
    assert_int_equal(cpu_quota_cpus_in(v1, "9:memory:/x\n4:cpu,cpuacct:/batch/job\n0::/\n"), 3);
}

/* Two CPUs' lines of /proc/stat (and the total line, which is not a CPU). */
static const char PROC_STAT[] = "cpu  900 90 900 9000 90 9 9 9 0 0\n"
                                "cpu0 100 10 200 5000 50 1 2 3 0 0\n"
                                "cpu1 400 40 300 4000 40 4 5 6 0 0\n"
                                "intr 12345 0 0\n"
                                "ctxt 999\n";

static void test_busy_ticks(void **state) {
    (void)state;
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    CPU_SET(1, &cpus);
    unsigned long long ticks;
    /* user + nice + system + irq + softirq + steal; idle and iowait are not busy */
    assert_true(cpu_busy_ticks(PROC_STAT, &cpus, &ticks));
    assert_int_equal(ticks, 400 + 40 + 300 + 4 + 5 + 6);
    CPU_SET(0, &cpus);
    assert_true(cpu_busy_ticks(PROC_STAT, &cpus, &ticks));
    assert_int_equal(ticks, 755 + 100 + 10 + 200 + 1 + 2 + 3);
    CPU_SET(2, &cpus); /* a CPU /proc/stat does not list */
    assert_false(cpu_busy_ticks(PROC_STAT, &cpus, &ticks));
}

static void test_process_ticks(void **state) {
    (void)state;
    unsigned long long ticks;
    /* a command name with a space and a ')' in it */
    assert_true(cpu_process_ticks("4242 (el ang) x) R 1 4242 4242 0 -1 4194560 100 0 0 0 37 5 0 0 20 0 3 0 9 "
                                  "100000 200 18446744073709551615\n",
                                  &ticks));
    assert_int_equal(ticks, 42);
    assert_false(cpu_process_ticks("4242 elang R 1", &ticks));
    assert_false(cpu_process_ticks("4242 (elang) R 1 2", &ticks));
}

static void test_threads_under_load(void **state) {
    (void)state;
    assert_int_equal(threads_under_load(2, 2, -1), 2);  /* unknown: as asked */
    assert_int_equal(threads_under_load(2, 2, 0.0), 2);
    assert_int_equal(threads_under_load(2, 2, 0.4), 2);
    assert_int_equal(threads_under_load(2, 2, 0.5), 1); /* half a CPU taken: one thread */
    assert_int_equal(threads_under_load(2, 2, 1.0), 1);
    assert_int_equal(threads_under_load(2, 2, 3.0), 1); /* never fewer than one */
    assert_int_equal(threads_under_load(8, 8, 2.6), 5);
    assert_int_equal(threads_under_load(8, 8, 0.6), 7);
    assert_int_equal(threads_under_load(4, 16, 9.0), 4); /* never more than asked */
}

/* On this machine, now: nothing to compare with at the first look, a load
 * of this process's CPUs at the next. */
static void test_others_busy_here(void **state) {
    (void)state;
    assert_true(cpu_others_busy(0) == -1);
    struct timespec pause = {0, 200 * 1000 * 1000};
    nanosleep(&pause, NULL);
    cpu_set_t cpus;
    assert_int_equal(sched_getaffinity(0, sizeof cpus, &cpus), 0);
    const double others = cpu_others_busy(0);
    assert_true(others >= 0 && others <= CPU_COUNT(&cpus) + 0.5);
    assert_true(cpu_others_busy(60) == others); /* within the interval: the same answer */
    const int n = threads_available(CPU_COUNT(&cpus));
    assert_true(n >= 1 && n <= CPU_COUNT(&cpus));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quota_v2),
        cmocka_unit_test(test_quota_files),
        cmocka_unit_test(test_busy_ticks),
        cmocka_unit_test(test_process_ticks),
        cmocka_unit_test(test_threads_under_load),
        cmocka_unit_test(test_others_busy_here),
    };
    const int failed = cmocka_run_group_tests_name("cpu_load", tests, NULL, NULL);
    test_tmpdir_cleanup();
    return failed;
}
