#include "core/cpu_load.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "util/clock.h"

/* The first answer comes this many seconds after the first look: ten ticks
 * a CPU at 100 Hz, enough to tell a busy CPU from an idle one. */
#define FIRST_WINDOW 0.1
/* /proc/stat on a machine of 1024 CPUs is about 100 KB. */
#define PROC_STAT_MAX (1 << 20)

/* The text of a /proc or /sys file, malloc'ed, or NULL. Such files report
 * size 0, so this reads to the end. */
static char *read_text(const char *path, size_t max) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    while (text) {
        len += fread(text + len, 1, cap - 1 - len, f);
        if (len < cap - 1 || cap >= max) break;
        char *grown = realloc(text, cap *= 2);
        if (!grown) free(text);
        text = grown;
    }
    if (text) text[len] = '\0';
    if (ferror(f)) {
        free(text);
        text = NULL;
    }
    fclose(f);
    return text;
}

bool cpu_quota_parse_v2(const char *text, double *cpus) {
    char quota[32];
    double period;
    if (sscanf(text, "%31s %lf", quota, &period) != 2 || !(period > 0)) return false;
    if (strcmp(quota, "max") == 0) {
        *cpus = 0;
        return true;
    }
    char *end;
    const double q = strtod(quota, &end);
    if (*end || !(q > 0)) return false;
    *cpus = q / period;
    return true;
}

/* The quota of the cgroup at `dir` (v2: cpu.max; v1: the cfs files), in
 * CPUs; 0 for none or none readable. */
static double quota_at(const char *dir, bool v2) {
    char path[4096];
    double cpus = 0;
    if (v2) {
        snprintf(path, sizeof path, "%s/cpu.max", dir);
        char *text = read_text(path, 4096);
        if (!text || !cpu_quota_parse_v2(text, &cpus)) cpus = 0;
        free(text);
        return cpus;
    }
    snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir);
    char *quota = read_text(path, 4096);
    snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir);
    char *period = read_text(path, 4096);
    if (quota && period && atof(quota) > 0 && atof(period) > 0) cpus = atof(quota) / atof(period);
    free(quota);
    free(period);
    return cpus;
}

/* The smallest quota of dir and the directories above it, down to (not
 * including) root; 0 when none has one. */
static double quota_up(const char *root, char *dir, bool v2) {
    double least = 0;
    for (size_t stop = strlen(root); strlen(dir) > stop;) {
        const double cpus = quota_at(dir, v2);
        if (cpus > 0 && (least == 0 || cpus < least)) least = cpus;
        *strrchr(dir, '/') = '\0';
    }
    return least;
}

int cpu_quota_cpus_in(const char *root, const char *self_cgroup) {
    /* Inside a container the cgroup namespace makes the process's own
     * cgroup the root; outside one, self_cgroup names it below the root,
     * and a quota may sit on any cgroup above it. */
    char dir[4096], base[4096];
    double cpus = quota_at(root, true);
    snprintf(base, sizeof base, "%s/cpu", root);
    if (cpus == 0) cpus = quota_at(base, false);
    for (const char *line = self_cgroup; line && *line;) {
        const char *end = strchr(line, '\n'), *next = end ? end + 1 : NULL;
        const int len = (int)(end ? (size_t)(end - line) : strlen(line));
        /* "ID:CONTROLLERS:PATH": v2's ID 0 and no controllers; v1's cpu
         * controller alone or with others ("cpu,cpuacct"). */
        const char *colon = memchr(line, ':', (size_t)len);
        const char *second = colon ? memchr(colon + 1, ':', (size_t)(line + len - colon - 1)) : NULL;
        double found = 0;
        if (second && second[1] == '/' && second + 2 < line + len) {
            const int path_len = (int)(line + len - second - 1);
            bool cpu = false;
            for (const char *c = colon + 1; c < second;) {
                const char *comma = memchr(c, ',', (size_t)(second - c));
                const char *stop = comma ? comma : second;
                cpu = cpu || (stop - c == 3 && memcmp(c, "cpu", 3) == 0);
                c = stop + 1;
            }
            const bool v2 = strncmp(line, "0::", 3) == 0;
            const char *top = v2 ? root : base;
            if ((v2 || cpu) && snprintf(dir, sizeof dir, "%s%.*s", top, path_len, second + 1) < (int)sizeof dir)
                found = quota_up(top, dir, v2);
        }
        if (found > 0 && (cpus == 0 || found < cpus)) cpus = found;
        line = next;
    }
    return cpus > 0 ? (int)ceil(cpus - 1e-9) : 0;
}

int cpu_quota_cpus(void) {
    char *self = read_text("/proc/self/cgroup", 1 << 16);
    const int cpus = cpu_quota_cpus_in("/sys/fs/cgroup", self);
    free(self);
    return cpus;
}

/* A cpuN line's N and busy ticks ("cpu " is the total: not one); false for
 * any other line. */
static bool cpu_line(const char *line, bool nice, int *cpu, unsigned long long *busy) {
    unsigned long long user, niced, system, idle, iowait, irq, softirq, steal;
    if (strncmp(line, "cpu", 3) != 0 || !isdigit((unsigned char)line[3]) ||
        sscanf(line + 3, "%d %llu %llu %llu %llu %llu %llu %llu %llu", cpu, &user, &niced, &system, &idle, &iowait,
               &irq, &softirq, &steal) != 9 || *cpu < 0)
        return false;
    *busy = user + (nice ? niced : 0) + system + irq + softirq + steal;
    return true;
}

bool cpu_busy_ticks(const char *proc_stat, const cpu_set_t *cpus, bool nice, unsigned long long *ticks,
                    int *counted) {
    int listed = 0, kept = 0;
    unsigned long long all = 0, in_set = 0;
    for (const char *line = proc_stat; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        int cpu;
        unsigned long long busy;
        if (!cpu_line(line, nice, &cpu, &busy)) continue;
        listed++, all += busy;
        if (cpu < CPU_SETSIZE && CPU_ISSET(cpu, cpus)) kept++, in_set += busy;
    }
    const bool whole_set = kept == CPU_COUNT(cpus);
    *ticks = whole_set ? in_set : all;
    *counted = whole_set ? kept : listed;
    return listed > 0;
}

bool cpu_process_ticks(const char *self_stat, unsigned long long *ticks) {
    /* The command name, in parentheses, may hold spaces and ')': fields
     * count from the last ')'; utime and stime are the 14th and 15th. */
    const char *p = strrchr(self_stat, ')');
    unsigned long long utime, stime;
    if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return false;
    *ticks = utime + stime;
    return true;
}

/* Busy ticks of this process's CPUs (*cpus of them), and of this process,
 * now. A niced process's own time is in the nice column, so nice counts
 * then; otherwise niced processes, which yield to this one, do not. */
static bool sample(unsigned long long *busy, unsigned long long *own, int *cpus) {
    cpu_set_t mask;
    if (sched_getaffinity(0, sizeof mask, &mask) != 0) return false;
    errno = 0;
    const bool niced = getpriority(PRIO_PROCESS, 0) > 0 && errno == 0;
    char *stat = read_text("/proc/stat", PROC_STAT_MAX), *self = read_text("/proc/self/stat", 4096);
    const bool ok = stat && self && cpu_busy_ticks(stat, &mask, niced, busy, cpus) && cpu_process_ticks(self, own);
    free(stat);
    free(self);
    return ok;
}

double cpu_others_share(unsigned long long busy_before, unsigned long long busy_after,
                        unsigned long long own_before, unsigned long long own_after, double hz, double seconds) {
    if (busy_after < busy_before || own_after < own_before || !(hz > 0) || !(seconds > 0)) return 0;
    const double others = ((double)(busy_after - busy_before) - (double)(own_after - own_before)) / hz / seconds;
    return others > 0 ? others : 0;
}

double cpu_others_busy(double interval, int *cpus) {
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static double last_time = -1, last_answer = -1;
    static unsigned long long last_busy, last_own;
    static int last_cpus;
    pthread_mutex_lock(&lock);
    /* The clock is read after /proc, so that a preemption in between
     * stretches both the ticks' window and the time it is divided by. */
    const double wait = last_answer < 0 ? FIRST_WINDOW : interval;
    if (last_time < 0 || clock_seconds() - last_time >= wait) {
        unsigned long long busy, own;
        int n;
        if (sample(&busy, &own, &n)) {
            const double now = clock_seconds();
            if (last_time >= 0 && n == last_cpus)
                last_answer = cpu_others_share(last_busy, busy, last_own, own, (double)sysconf(_SC_CLK_TCK),
                                               now - last_time);
            last_busy = busy, last_own = own, last_cpus = n, last_time = now;
        } else {
            last_answer = -1, last_time = -1;
        }
    }
    const double answer = last_answer;
    *cpus = last_cpus;
    pthread_mutex_unlock(&lock);
    return answer;
}
