/* The thread count under load: cgroup quotas, /proc's CPU times, and the
 * rule that turns them into threads (core/cpu_load.h, core/threads.h). What
 * it does to speed is measured in bench/ (bench/README.md), not here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <math.h>
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
    /* the least quota on the way up counts: the slice above the pod's */
    char kube[600];
    snprintf(kube, sizeof kube, "%s/kube", v2);
    test_dir_file(kube, "cpu.max", "20000 100000\n");
    test_dir_file(test_dir("v2/kube/pod/app"), "cpu.max", "max 100000\n");
    assert_int_equal(cpu_quota_cpus_in(v2, "0::/kube/pod/app\n"), 1);
    test_dir_file(kube, "cpu.max", "250000 100000\n");
    test_dir_file(test_dir("v2/kube/pod"), "cpu.max", "max 100000\n");
    assert_int_equal(cpu_quota_cpus_in(v2, "0::/kube/pod\n"), 3);

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
    assert_int_equal(cpu_quota_cpus_in(v1, "4:cpuset,cpu,cpuacct:/batch/job\n"), 3);
    assert_int_equal(cpu_quota_cpus_in(v1, "4:cpuacct:/batch/job\n"), 0); /* not the cpu controller */
}

/* Two CPUs' lines of /proc/stat, and the total line, which is no CPU's
 * (its first number, 1, must not read as CPU 1). */
static const char PROC_STAT[] = "cpu  1 90 900 9000 90 9 9 9 0 0\n"
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
    int counted;
    /* user + system + irq + softirq + steal; idle and iowait are not busy,
     * nice only when asked (this process niced) */
    assert_true(cpu_busy_ticks(PROC_STAT, &cpus, false, &ticks, &counted));
    assert_int_equal(ticks, 400 + 300 + 4 + 5 + 6);
    assert_int_equal(counted, 1);
    assert_true(cpu_busy_ticks(PROC_STAT, &cpus, true, &ticks, &counted));
    assert_int_equal(ticks, 400 + 40 + 300 + 4 + 5 + 6);
    CPU_SET(0, &cpus);
    assert_true(cpu_busy_ticks(PROC_STAT, &cpus, false, &ticks, &counted));
    assert_int_equal(ticks, 715 + 100 + 200 + 1 + 2 + 3);
    assert_int_equal(counted, 2);
    /* CPUs 5 and 6 where the view lists cpu0 and cpu1 (LXCFS): all it lists */
    CPU_ZERO(&cpus);
    CPU_SET(5, &cpus);
    CPU_SET(6, &cpus);
    assert_true(cpu_busy_ticks(PROC_STAT, &cpus, false, &ticks, &counted));
    assert_int_equal(ticks, 715 + 306);
    assert_int_equal(counted, 2);
    assert_false(cpu_busy_ticks("cpu  1 2 3 4 5 6 7 8\nintr 1\n", &cpus, false, &ticks, &counted));
}

/* Others' share: the CPUs' busy time less the process's own, per second. */
static void test_others_share(void **state) {
    (void)state;
    /* 150 ticks busy, 40 of them this process's, 100 Hz, 0.5 s: 2.2 CPUs */
    assert_true(fabs(cpu_others_share(1000, 1150, 300, 340, 100, 0.5) - 2.2) < 1e-12);
    assert_true(cpu_others_share(1000, 1030, 300, 340, 100, 0.5) == 0); /* rounded apart: not below 0 */
    assert_true(cpu_others_share(1000, 900, 300, 340, 100, 0.5) == 0);  /* counters gone back */
    assert_true(cpu_others_share(1000, 1150, 300, 340, 100, 0) == 0);
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
 * of this process's CPUs once 0.1 s has passed. */
static void test_others_busy_here(void **state) {
    (void)state;
    int cpus;
    assert_true(cpu_others_busy(60, &cpus) == -1);
    assert_true(cpu_others_busy(60, &cpus) == -1); /* too soon for an answer */
    struct timespec pause = {0, 200 * 1000 * 1000};
    nanosleep(&pause, NULL);
    const double others = cpu_others_busy(60, &cpus);
    cpu_set_t mask;
    assert_int_equal(sched_getaffinity(0, sizeof mask, &mask), 0);
    assert_int_equal(cpus, CPU_COUNT(&mask));
    assert_true(others >= 0 && others <= cpus + 1);
    assert_true(cpu_others_busy(60, &cpus) == others); /* within the interval: the same answer */
    const int n = threads_available(cpus);
    assert_true(n >= 1 && n <= cpus);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quota_v2),
        cmocka_unit_test(test_quota_files),
        cmocka_unit_test(test_busy_ticks),
        cmocka_unit_test(test_others_share),
        cmocka_unit_test(test_process_ticks),
        cmocka_unit_test(test_threads_under_load),
        cmocka_unit_test(test_others_busy_here),
    };
    const int failed = cmocka_run_group_tests_name("cpu_load", tests, NULL, NULL);
    test_tmpdir_cleanup();
    return failed;
}
