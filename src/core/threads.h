/* Each model computes with its own thread count. OpenMP keeps the count per
 * calling thread (the nthreads-var ICV), and oneDNN, built on the same
 * OpenMP, sizes and runs its primitives by the caller's
 * omp_get_max_threads(), so setting it around a model's work (primitive
 * creation included), and restoring it after, gives every model its own
 * count without touching process-wide state or another thread's. */
#ifndef ELANG_CORE_THREADS_H
#define ELANG_CORE_THREADS_H

/* `requested` threads, 0 meaning every core the process may use. */
int threads_resolve(int requested);

/* Makes the calling thread compute with n threads; returns the count it had,
 * for threads_leave. */
int threads_enter(int n);
void threads_leave(int previous);

#endif
