#include "core/threads.h"

#include <math.h>
#include <omp.h>
#include <pthread.h>

#include "core/cpu_load.h"

/* Seconds between looks at the other processes' load. */
#define LOAD_INTERVAL 0.5

static int usable;
static pthread_once_t usable_once = PTHREAD_ONCE_INIT;

static void find_usable_cpus(void) {
    const int procs = omp_get_num_procs(), quota = cpu_quota_cpus();
    usable = quota > 0 && quota < procs ? quota : procs;
}

/* The CPUs this process may keep busy, read once: the quota's files cost
 * more than a small model's call. */
static int usable_cpus(void) {
    pthread_once(&usable_once, find_usable_cpus);
    return usable;
}

int threads_resolve(int requested) { return requested > 0 ? requested : usable_cpus(); }

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
