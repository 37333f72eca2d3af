/* The machine's measured matrix-product peaks through oneDNN, the ceilings
 * elang's achieved GFLOP/s are quoted against: F32, BF16 and INT8 matmuls set
 * up the way src/core/matmul.c sets up a linear layer (row-major activations,
 * weights in the layout oneDNN prefers, packed once outside the timing; F32
 * results for F32 and BF16, s8 x s8 -> s32 for INT8), at a large square
 * shape and at BERT-Base's shapes for a batch of 32 x 128 tokens.
 *
 *   gemm_peak THREADS      -> one JSON object on stdout
 *
 * Each figure is the median of 7 runs; a run executes the primitive often
 * enough to take about 0.2 s, after one untimed execution (which also warms
 * the caches and oneDNN's kernel generation). */
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

#define RUNS 7

#define CHECK(call)                                                                                \
    do {                                                                                           \
        if ((call) != dnnl_success) {                                                              \
            fprintf(stderr, "gemm_peak: %s failed\n", #call);                                      \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* Fills a buffer of `bytes` with small non-zero values of type dt (zeros or
 * denormals could make some kernels faster than real data would). */
static void fill(void *p, size_t bytes, dnnl_data_type_t dt) {
    if (dt == dnnl_f32) {
        float *f = p;
        for (size_t i = 0; i < bytes / 4; i++) f[i] = (float)((i * 2654435761u) % 97) * 0.01f - 0.48f;
    } else if (dt == dnnl_bf16) {
        unsigned short *h = p; /* bf16 = the top half of an f32 */
        for (size_t i = 0; i < bytes / 2; i++) {
            float v = (float)((i * 2654435761u) % 97) * 0.01f - 0.48f;
            unsigned int u;
            memcpy(&u, &v, 4);
            h[i] = (unsigned short)(u >> 16);
        }
    } else {
        signed char *s = p;
        for (size_t i = 0; i < bytes; i++) s[i] = (signed char)((i * 2654435761u) % 255 - 127);
    }
}

static size_t dt_size(dnnl_data_type_t dt) { return dt == dnnl_bf16 ? 2 : dt == dnnl_s8 ? 1 : 4; }

/* GFLOP/s of an M x K by K x N product in type dt (2 FLOPs a multiply-add). */
static double gflops(dnnl_engine_t eng, dnnl_stream_t st, dnnl_data_type_t dt, int M, int K, int N) {
    const dnnl_data_type_t out_dt = dt == dnnl_s8 ? dnnl_s32 : dnnl_f32;
    dnnl_memory_desc_t a, b_any, b_plain, c;
    dnnl_dims_t ad = {M, K}, bd = {K, N}, cd = {M, N};
    CHECK(dnnl_memory_desc_init_by_tag(&a, 2, ad, dt, dnnl_ab));
    CHECK(dnnl_memory_desc_init_by_tag(&b_any, 2, bd, dt, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&b_plain, 2, bd, dt, dnnl_ab));
    CHECK(dnnl_memory_desc_init_by_tag(&c, 2, cd, out_dt, dnnl_ab));
    dnnl_matmul_desc_t md;
    CHECK(dnnl_matmul_desc_init(&md, &a, &b_any, NULL, &c));
    dnnl_primitive_attr_t attr;
    CHECK(dnnl_primitive_attr_create(&attr));
    CHECK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_primitive_desc_create(&pd, &md, attr, eng, NULL));
    const dnnl_memory_desc_t *b_packed = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *scratch_md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    dnnl_primitive_t p;
    CHECK(dnnl_primitive_create(&p, pd));

    dnnl_memory_t am, bu, bm, cm, sm;
    CHECK(dnnl_memory_create(&am, &a, eng, DNNL_MEMORY_ALLOCATE));
    CHECK(dnnl_memory_create(&bu, &b_plain, eng, DNNL_MEMORY_ALLOCATE));
    CHECK(dnnl_memory_create(&bm, b_packed, eng, DNNL_MEMORY_ALLOCATE));
    CHECK(dnnl_memory_create(&cm, &c, eng, DNNL_MEMORY_ALLOCATE));
    CHECK(dnnl_memory_create(&sm, scratch_md, eng, DNNL_MEMORY_ALLOCATE));
    void *h;
    CHECK(dnnl_memory_get_data_handle(am, &h));
    fill(h, (size_t)M * K * dt_size(dt), dt);
    CHECK(dnnl_memory_get_data_handle(bu, &h));
    fill(h, (size_t)K * N * dt_size(dt), dt);
    /* Weights packed once, as a model's are when it loads. */
    dnnl_primitive_desc_t rpd;
    dnnl_primitive_t r;
    CHECK(dnnl_reorder_primitive_desc_create(&rpd, &b_plain, eng, b_packed, eng, NULL));
    CHECK(dnnl_primitive_create(&r, rpd));
    dnnl_exec_arg_t rargs[2] = {{DNNL_ARG_FROM, bu}, {DNNL_ARG_TO, bm}};
    CHECK(dnnl_primitive_execute(r, st, 2, rargs));
    CHECK(dnnl_stream_wait(st));

    dnnl_exec_arg_t args[4] = {
        {DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}, {DNNL_ARG_SCRATCHPAD, sm}};
    double t0 = now();
    CHECK(dnnl_primitive_execute(p, st, 4, args));
    CHECK(dnnl_stream_wait(st));
    const double once = now() - t0;
    int reps = (int)(0.2 / (once > 1e-6 ? once : 1e-6));
    if (reps < 1) reps = 1;
    double t[RUNS];
    for (int run = 0; run < RUNS; run++) {
        t0 = now();
        for (int i = 0; i < reps; i++) CHECK(dnnl_primitive_execute(p, st, 4, args));
        CHECK(dnnl_stream_wait(st));
        t[run] = (now() - t0) / reps;
    }
    qsort(t, RUNS, sizeof t[0], compare_doubles);

    dnnl_primitive_destroy(r);
    dnnl_primitive_desc_destroy(rpd);
    dnnl_primitive_destroy(p);
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(attr);
    dnnl_memory_destroy(am), dnnl_memory_destroy(bu), dnnl_memory_destroy(bm);
    dnnl_memory_destroy(cm), dnnl_memory_destroy(sm);
    return 2.0 * M * K * N / t[RUNS / 2] / 1e9;
}

static const char *isa_name(dnnl_cpu_isa_t isa) {
    switch (isa) {
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx2: return "avx2";
    default: return "other";
    }
}

int main(int argc, char **argv) {
    const int threads = argc > 1 ? atoi(argv[1]) : 0;
    if (argc > 2 || threads < 0) {
        fprintf(stderr, "usage: gemm_peak [THREADS]   (0 or none: all cores)\n");
        return 2;
    }
    /* oneDNN on OpenMP sizes its work by the OpenMP thread count in force
     * when a primitive is created and run. */
    if (threads > 0) omp_set_num_threads(threads);
    dnnl_engine_t eng;
    dnnl_stream_t st;
    CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&st, eng, dnnl_stream_default_flags));

    static const struct {
        const char *name;
        int M, K, N;
    } shapes[] = {
        {"square_4096", 4096, 4096, 4096},
        /* 32 sequences x 128 tokens through BERT-Base's FF up, FF down,
         * attention output and fused Q, K, V projection: every product of
         * a layer, so the report can weigh the layer's own peak. */
        {"bert_4096x768x3072", 4096, 768, 3072},
        {"bert_4096x3072x768", 4096, 3072, 768},
        {"bert_4096x768x768", 4096, 768, 768},
        {"bert_4096x768x2304", 4096, 768, 2304},
    };
    static const struct {
        const char *name;
        dnnl_data_type_t dt;
    } types[] = {{"f32", dnnl_f32}, {"bf16", dnnl_bf16}, {"int8", dnnl_s8}};

    printf("{\"threads\": %d, \"isa\": \"%s\"", omp_get_max_threads(), isa_name(dnnl_get_effective_cpu_isa()));
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        printf(", \"%s\": {", types[t].name);
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            printf("%s\"%s\": %.1f", s ? ", " : "", shapes[s].name,
                   gflops(eng, st, types[t].dt, shapes[s].M, shapes[s].K, shapes[s].N));
        printf("}");
        fflush(stdout);
    }
    printf("}\n");
    dnnl_stream_destroy(st);
    dnnl_engine_destroy(eng);
    return 0;
}
