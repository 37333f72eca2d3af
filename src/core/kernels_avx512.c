/* kernels_impl.h for AVX-512 (F, BW, DQ, VL): 16 floats a vector. */
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,fma,bmi2")
#define VLEN 16
#define TABLE kernels_avx512
#define KERNEL_NAME "avx512"
#include "core/kernels_impl.h"
