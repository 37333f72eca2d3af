#include "core/cpu_load.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/clock.h"

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

int cpu_quota_cpus_in(const char *root, const char *self_cgroup) {
    /* Inside a container the cgroup namespace makes the process's own
     * cgroup the root; outside one, self_cgroup names it below the root. */
    char dir[4096];
    double cpus = quota_at(root, true);
    snprintf(dir, sizeof dir, "%s/cpu", root);
    if (cpus == 0) cpus = quota_at(dir, false);
    for (const char *line = self_cgroup; cpus == 0 && line && *line;) {
        const char *end = strchr(line, '\n'), *next = end ? end + 1 : NULL;
        const int len = (int)(end ? (size_t)(end - line) : strlen(line));
        const char *v1 = NULL;
        for (const char *name = ":cpu:", *alt = ":cpu,cpuacct:"; !v1 && name; name = alt, alt = NULL) {
            const char *at = strstr(line, name);
            if (at && at < line + len) v1 = at + strlen(name);
        }
        if (strncmp(line, "0::/", 4) == 0 && len > 4) {
            snprintf(dir, sizeof dir, "%s%.*s", root, len - 3, line + 3);
            cpus = quota_at(dir, true);
        } else if (v1 && line + len - v1 > 1) {
            snprintf(dir, sizeof dir, "%s/cpu%.*s", root, (int)(line + len - v1), v1);
            cpus = quota_at(dir, false);
        }
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

bool cpu_busy_ticks(const char *proc_stat, const cpu_set_t *cpus, unsigned long long *ticks) {
    int seen = 0;
    *ticks = 0;
    for (const char *line = proc_stat; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        int cpu;
        unsigned long long user, nice, system, idle, iowait, irq, softirq, steal;
        if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &user, &nice, &system, &idle,
                   &iowait, &irq, &softirq, &steal) != 9 ||
            cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, cpus))
            continue;
        *ticks += user + nice + system + irq + softirq + steal;
        seen++;
    }
    return seen == CPU_COUNT(cpus);
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

/* Busy ticks of this process's CPUs, and of this process, now. */
static bool sample(unsigned long long *busy, unsigned long long *own) {
    cpu_set_t cpus;
    if (sched_getaffinity(0, sizeof cpus, &cpus) != 0) return false;
    char *stat = read_text("/proc/stat", PROC_STAT_MAX), *self = read_text("/proc/self/stat", 4096);
    const bool ok = stat && self && cpu_busy_ticks(stat, &cpus, busy) && cpu_process_ticks(self, own);
    free(stat);
    free(self);
    return ok;
}

double cpu_others_busy(double interval) {
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static double last_time = -1, last_answer = -1;
    static unsigned long long last_busy, last_own;
    pthread_mutex_lock(&lock);
    const double now = clock_seconds();
    if (last_time < 0 || now - last_time >= interval) {
        unsigned long long busy, own;
        if (!sample(&busy, &own)) {
            last_answer = -1, last_time = -1;
        } else {
            const double hz = (double)sysconf(_SC_CLK_TCK);
            if (last_time >= 0 && busy >= last_busy && own >= last_own) {
                const double others = ((double)(busy - last_busy) - (double)(own - last_own)) / hz / (now - last_time);
                last_answer = others > 0 ? others : 0;
            }
            last_busy = busy, last_own = own, last_time = now;
        }
    }
    const double answer = last_answer;
    pthread_mutex_unlock(&lock);
    return answer;
}
