#include "core/threads.h"

#include <math.h>
#include <omp.h>

#include "core/cpu_load.h"

/* Seconds between looks at the other processes' load. */
#define LOAD_INTERVAL 0.5

int threads_resolve(int requested) {
    if (requested > 0) return requested;
    const int procs = omp_get_num_procs(), quota = cpu_quota_cpus();
    return quota > 0 && quota < procs ? quota : procs;
}

int threads_under_load(int n, int cpus, double others) {
    if (others < 0.5) return n;
    const int left = (int)floor(cpus - others);
    return left < 1 ? 1 : left < n ? left : n;
}

void threads_watch_load(void) {
    int cpus;
    cpu_others_busy(LOAD_INTERVAL, &cpus);
}

int threads_available(int n) {
    int cpus;
    const double others = cpu_others_busy(LOAD_INTERVAL, &cpus);
    return threads_under_load(n, cpus, others);
}

int threads_enter(int n) {
    const int previous = omp_get_max_threads();
    if (n != previous) omp_set_num_threads(n);
    return previous;
}

void threads_leave(int previous) {
    if (omp_get_max_threads() != previous) omp_set_num_threads(previous);
}
