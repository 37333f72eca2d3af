/* kernels_impl.h for AVX2 with FMA: 8 floats a vector. */
#pragma GCC target("avx2,fma,bmi2")
#define VLEN 8
#define TABLE kernels_avx2
#define KERNEL_NAME "avx2"
#include "core/kernels_impl.h"
