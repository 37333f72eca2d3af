#include "core/threads.h"

#include <omp.h>

int threads_resolve(int requested) { return requested > 0 ? requested : omp_get_num_procs(); }

int threads_enter(int n) {
    const int previous = omp_get_max_threads();
    if (n != previous) omp_set_num_threads(n);
    return previous;
}

void threads_leave(int previous) {
    if (omp_get_max_threads() != previous) omp_set_num_threads(previous);
}
