/* Each model computes with its own thread count. OpenMP keeps the count per
 * calling thread (the nthreads-var ICV), and oneDNN, built on the same
 * OpenMP, sizes and runs its primitives by the caller's
 * omp_get_max_threads(), so setting it around a model's work (primitive
 * creation included), and restoring it after, gives every model its own
 * count without touching process-wide state or another thread's. */
#ifndef ELANG_CORE_THREADS_H
#define ELANG_CORE_THREADS_H

/* `requested` threads, 0 meaning every CPU the process may use: those of
 * its affinity mask, at most its cgroup's CPU quota (cpu_load.h). */
int threads_resolve(int requested);

/* Takes the first look at the other processes' load, so that
 * threads_available can answer from the first call after 0.1 s. */
void threads_watch_load(void);

/* The threads a model resolved from 0 should compute with now: all n, or
 * fewer while other processes keep some of this process's CPUs busy
 * (cpu_load.h says why), looked at twice a second. */
int threads_available(int n);

/* threads_available's rule: n, unless others (CPUs' worth of time other
 * processes take on the process's cpus, negative when unknown) is at least
 * half a CPU; then the whole CPUs left, at least 1 and at most n. */
int threads_under_load(int n, int cpus, double others);

/* Makes the calling thread compute with n threads; returns the count it had,
 * for threads_leave. */
int threads_enter(int n);
void threads_leave(int previous);

#endif
