/* How much of this process's CPUs the process may use: its cgroup's CPU
 * quota (containers), and the share other processes are taking right now.
 *
 * Why: OpenMP's waiting threads spin, so a team of as many threads as there
 * are CPUs, on CPUs another process keeps busy, waits at every barrier for
 * a thread the scheduler has put aside; many small parallel regions (batch
 * 1, small models) then ran 2x (and in a probe up to 250x) slower than on
 * one thread. And a container limited to one CPU's time on a 64-CPU host
 * sees 64 CPUs. */
#ifndef ELANG_CORE_CPU_LOAD_H
#define ELANG_CORE_CPU_LOAD_H

#include <sched.h>
#include <stdbool.h>

/* The CPUs' worth of time the cgroup quotas allow (cgroup v2's cpu.max, v1's
 * cpu.cfs_quota_us / cpu.cfs_period_us; the smallest of the process's
 * cgroup and those above it), rounded up; 0 when there is no quota or none
 * can be read. */
int cpu_quota_cpus(void);

/* The same with the cgroup file system mounted at root (v2 at root itself,
 * v1's cpu controller at root/cpu) and self_cgroup the text of
 * /proc/self/cgroup (NULL when unreadable). */
int cpu_quota_cpus_in(const char *root, const char *self_cgroup);

/* cpu.max's text ("max 100000" or "QUOTA PERIOD"): the CPUs it allows, or
 * 0 for none; false when the text is not that. */
bool cpu_quota_parse_v2(const char *text, double *cpus);

/* The clock ticks spent busy (user, system, irq, softirq, steal; nice too
 * when `nice` is true) by the CPUs of `cpus` in /proc/stat's text, and how
 * many CPUs that sums. A view that numbers the CPUs its own way (LXCFS
 * shows a container's CPUs as cpu0, cpu1, ...) lacks some of them: then every
 * CPU it lists is summed. False when it lists none. */
bool cpu_busy_ticks(const char *proc_stat, const cpu_set_t *cpus, bool nice, unsigned long long *ticks,
                    int *counted);

/* utime + stime, in clock ticks, from /proc/self/stat's text. */
bool cpu_process_ticks(const char *self_stat, unsigned long long *ticks);

/* The CPUs' worth of time others took over `seconds`, from two samples of
 * the CPUs' busy ticks and the process's own, `hz` ticks a second; never
 * below 0 (the two counts are rounded apart). */
double cpu_others_share(unsigned long long busy_before, unsigned long long busy_after,
                        unsigned long long own_before, unsigned long long own_after, double hz, double seconds);

/* The CPUs' worth of time other processes took on this process's CPUs
 * since the previous look, which is taken again once `interval` seconds
 * have passed (else the previous answer stands; the first answer comes 0.1 s
 * after the first look); *cpus gets how many CPUs that is out of. -1 before
 * there are two looks or when /proc cannot be read. Thread-safe. */
double cpu_others_busy(double interval, int *cpus);

#endif
