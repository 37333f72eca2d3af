/* kernels_impl.h for the x86-64 baseline, SSE2: 4 floats a vector. */
#define VLEN 4
#define TABLE kernels_sse2
#define KERNEL_NAME "sse2"
#include "core/kernels_impl.h"
