#include "core/matmul.h"

#include <dnnl.h>
#include <omp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/kernels.h"
#include "util/clock.h"
#include "util/error.h"

/* ------------------------------------------------------------ context */

/* What identifies a primitive: its shapes, types, fusions and the thread
 * count it was built for (oneDNN sizes its blocking by it). Compared and
 * hashed as bytes, so always zero-initialised. */
typedef struct {
    int kind;          /* KIND_LINEAR or KIND_BATCHED */
    int threads;
    int M, K, N, dtype;
    int bias, activate, act, multiply, accumulate;
    int batch, heads;
    long view[3][6];   /* batched: rows, cols and the four strides of a, b, out */
} primitive_key;

enum { KIND_LINEAR = 1, KIND_BATCHED };

typedef struct {
    primitive_key key;
    dnnl_primitive_t prim;
    /* Memory objects whose data handles are set at each call. */
    dnnl_memory_t src, wei, dst, scratch, multiply;
    size_t scratch_size;
    int rows; /* the product's M: key.M, or more for an INT8 product padded
                 with zero rows past oneDNN's reference kernel (linear_entry) */
} primitive_entry;

struct matmul_ctx {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    primitive_entry **table; /* open addressing, NULL = empty */
    size_t cap, count;
    /* Grown to the largest call so far, never shrunk. */
    void *scratch;           /* oneDNN's scratchpad */
    size_t scratch_cap;
    void *converted;         /* activations in BF16 or INT8 */
    size_t converted_cap;
    float *row_scales;       /* INT8: [M] */
    size_t row_scales_cap;
    int32_t *acc;            /* INT8: [M, N], the product before its scales */
    size_t acc_cap;
    elang_status status;
    char message[512];
    matmul_profile profile;
};

void matmul_get_profile(const matmul_ctx *c, matmul_profile *out) { *out = c->profile; }

/* The weights of one linear layer, ready for its dtype. */
typedef struct {
    elang_dtype dtype;
    dnnl_memory_desc_t w_md;
    dnnl_memory_t w;         /* owns the packed weights */
    dnnl_memory_t bias;      /* F32 [1, N], or NULL */
    float *scales;           /* INT8: [N], each output channel's weight scale */
    const float *host_bias;  /* INT8: the bias in bias's memory, applied with the scales */
} prepared;

static void failf(matmul_ctx *c, elang_status code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void failf(matmul_ctx *c, elang_status code, const char *fmt, ...) {
    if (c->status != ELANG_OK) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->message, sizeof c->message, fmt, ap);
    va_end(ap);
    c->status = code;
}

/* oneDNN's JIT SGEMM, which the batched attention products run on, writes
 * its kernels at its first call: about 0.1 s here. Made once per process
 * when the first model loads, that cost stays in loading instead of being
 * charged to the first batch of whichever model runs first (in a pair run,
 * Swift's, whose whole dev set can take a few tenths of a second). */
static void warm_sgemm(void) {
    enum { N = 64 };
    static float a[N * N], b[N * N], c[N * N];
    dnnl_sgemm('N', 'N', N, N, N, 1.0f, a, N, b, N, 0.0f, c, N);
}

elang_status matmul_ctx_new(matmul_ctx **out, elang_error *err) {
    static pthread_once_t warmed = PTHREAD_ONCE_INIT;
    pthread_once(&warmed, warm_sgemm);
    *out = NULL;
    matmul_ctx *c = calloc(1, sizeof *c);
    if (!c) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for the matrix products");
    if (dnnl_engine_create(&c->engine, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&c->stream, c->engine, dnnl_stream_default_flags) != dnnl_success) {
        matmul_ctx_free(c);
        return elang_fail(err, ELANG_ERR_UNSUPPORTED, "oneDNN cannot open a CPU engine");
    }
    *out = c;
    return ELANG_OK;
}

static void entry_free(primitive_entry *e) {
    if (!e) return;
    dnnl_memory_t m[] = {e->src, e->wei, e->dst, e->scratch, e->multiply};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (m[i]) dnnl_memory_destroy(m[i]);
    if (e->prim) dnnl_primitive_destroy(e->prim);
    free(e);
}

void matmul_ctx_free(matmul_ctx *c) {
    if (!c) return;
    for (size_t i = 0; i < c->cap; i++) entry_free(c->table[i]);
    free(c->table);
    if (c->stream) dnnl_stream_destroy(c->stream);
    if (c->engine) dnnl_engine_destroy(c->engine);
    free(c->scratch), free(c->converted), free(c->row_scales), free(c->acc);
    free(c);
}

elang_status matmul_status(matmul_ctx *c, elang_error *err) {
    const elang_status st = c->status;
    if (st != ELANG_OK) elang_fail(err, st, "%s", c->message);
    c->status = ELANG_OK;
    return st;
}

/* Makes *buf hold at least `size` bytes, 64-byte aligned; false when out of
 * memory (the failure is recorded). */
static bool reserve(matmul_ctx *c, void **buf, size_t *cap, size_t size) {
    if (size <= *cap) return true;
    const size_t want = (size + size / 2 + 63) / 64 * 64;
    void *p = aligned_alloc(64, want);
    if (!p) {
        failf(c, ELANG_ERR_NOMEM, "out of memory for %zu bytes of matrix-product scratch", size);
        return false;
    }
    free(*buf);
    *buf = p;
    *cap = want;
    return true;
}

/* ------------------------------------------------------------ the cache */

static uint64_t key_hash(const primitive_key *k) {
    const unsigned char *p = (const unsigned char *)k;
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < sizeof *k; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static primitive_entry *lookup(const matmul_ctx *c, const primitive_key *k) {
    if (c->cap == 0) return NULL;
    for (size_t i = key_hash(k) & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
        primitive_entry *e = c->table[i];
        if (!e) return NULL;
        if (memcmp(&e->key, k, sizeof *k) == 0) return e;
    }
}

static bool insert(matmul_ctx *c, primitive_entry *e) {
    if ((c->count + 1) * 2 > c->cap) {
        const size_t cap = c->cap ? c->cap * 2 : 64;
        primitive_entry **table = calloc(cap, sizeof *table);
        if (!table) return false;
        for (size_t i = 0; i < c->cap; i++) {
            if (!c->table[i]) continue;
            size_t j = key_hash(&c->table[i]->key) & (cap - 1);
            while (table[j]) j = (j + 1) & (cap - 1);
            table[j] = c->table[i];
        }
        free(c->table);
        c->table = table;
        c->cap = cap;
    }
    size_t j = key_hash(&e->key) & (c->cap - 1);
    while (c->table[j]) j = (j + 1) & (c->cap - 1);
    c->table[j] = e;
    c->count++;
    return true;
}

/* Builds the primitive of pd into e (memory objects without data for every
 * argument it has), and adds e to the cache; NULL on failure. */
static primitive_entry *finish_entry(matmul_ctx *c, primitive_entry *e, dnnl_primitive_desc_t pd) {
    const dnnl_memory_desc_t *md;
    bool ok = dnnl_primitive_create(&e->prim, pd) == dnnl_success;
    struct { dnnl_query_t query; int index; dnnl_memory_t *mem; } args[] = {
        {dnnl_query_src_md, 0, &e->src}, {dnnl_query_weights_md, 0, &e->wei}, {dnnl_query_dst_md, 0, &e->dst},
        {dnnl_query_scratchpad_md, 0, &e->scratch},
    };
    for (size_t i = 0; ok && i < sizeof args / sizeof args[0]; i++) {
        md = dnnl_primitive_desc_query_md(pd, args[i].query, args[i].index);
        ok = md && dnnl_memory_create(args[i].mem, md, c->engine, DNNL_MEMORY_NONE) == dnnl_success;
    }
    if (ok) e->scratch_size = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0));
    dnnl_primitive_desc_destroy(pd);
    if (!ok || !insert(c, e)) {
        failf(c, ELANG_ERR_NOMEM, "oneDNN cannot build a matrix product of %d x %d x %d", e->key.M, e->key.K,
              e->key.N);
        entry_free(e);
        return NULL;
    }
    return e;
}

/* ---------------------------------------------------------- linear layers */

static const char *dtype_label(elang_dtype t) {
    return t == ELANG_DTYPE_BF16 ? "bf16" : t == ELANG_DTYPE_INT8 ? "int8" : "f32";
}

static dnnl_data_type_t src_type(elang_dtype t) {
    return t == ELANG_DTYPE_BF16 ? dnnl_bf16 : t == ELANG_DTYPE_INT8 ? dnnl_s8 : dnnl_f32;
}

static dnnl_alg_kind_t eltwise_of(activation act, float *alpha) {
    *alpha = 0.0f;
    switch (act) {
    case ACT_GELU: return dnnl_eltwise_gelu_erf;
    case ACT_GELU_TANH: return dnnl_eltwise_gelu_tanh;
    case ACT_RELU: return dnnl_eltwise_relu;
    case ACT_SILU: *alpha = 1.0f; return dnnl_eltwise_swish;
    case ACT_TANH: return dnnl_eltwise_tanh;
    }
    return dnnl_eltwise_relu;
}

/* The matmul description of a linear layer of key k, with its weights in
 * w_md (NULL: the layout oneDNN prefers) and its fused epilogue as
 * post-ops. INT8 products give the plain int32 sums: a scale per row is a
 * post-op oneDNN's fast kernels lack, so the scales, bias and the rest of
 * the epilogue follow in one vector pass (kernels' dequantize_row). */
static bool linear_desc(matmul_ctx *c, const primitive_key *k, const dnnl_memory_desc_t *w_md,
                        dnnl_primitive_desc_t *pd) {
    const dnnl_data_type_t dt = src_type((elang_dtype)k->dtype);
    const bool int8 = k->dtype == ELANG_DTYPE_INT8;
    dnnl_memory_desc_t src, wei, dst, bias, full;
    dnnl_dims_t sd = {k->M, k->K}, wd = {k->K, k->N}, dd = {k->M, k->N}, bd = {1, k->N};
    dnnl_memory_desc_init_by_tag(&src, 2, sd, dt, dnnl_ab);
    if (w_md) wei = *w_md;
    else dnnl_memory_desc_init_by_tag(&wei, 2, wd, dt, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&dst, 2, dd, int8 ? dnnl_s32 : dnnl_f32, dnnl_ab);
    dnnl_memory_desc_init_by_tag(&bias, 2, bd, dnnl_f32, dnnl_ab);
    dnnl_memory_desc_init_by_tag(&full, 2, dd, dnnl_f32, dnnl_ab);
    dnnl_matmul_desc_t md;
    if (dnnl_matmul_desc_init(&md, &src, &wei, k->bias ? &bias : NULL, &dst) != dnnl_success) return false;
    dnnl_primitive_attr_t attr;
    dnnl_post_ops_t po;
    if (dnnl_primitive_attr_create(&attr) != dnnl_success) return false;
    dnnl_post_ops_create(&po);
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (k->activate) {
        float alpha;
        const dnnl_alg_kind_t alg = eltwise_of((activation)k->act, &alpha);
        dnnl_post_ops_append_eltwise(po, 1.0f, alg, alpha, 0.0f);
    }
    if (k->multiply) dnnl_post_ops_append_binary(po, dnnl_binary_mul, &full);
    if (k->accumulate) dnnl_post_ops_append_sum(po, 1.0f);
    dnnl_primitive_attr_set_post_ops(attr, po);
    const bool ok = dnnl_primitive_desc_create(pd, &md, attr, c->engine, NULL) == dnnl_success;
    dnnl_post_ops_destroy(po);
    dnnl_primitive_attr_destroy(attr);
    return ok;
}

/* Runs a reorder from src to dst (packing, type conversion). */
static bool reorder(matmul_ctx *c, dnnl_memory_t src, dnnl_memory_t dst) {
    const dnnl_memory_desc_t *smd, *dmd;
    dnnl_memory_get_memory_desc(src, &smd);
    dnnl_memory_get_memory_desc(dst, &dmd);
    dnnl_primitive_desc_t pd;
    if (dnnl_reorder_primitive_desc_create(&pd, smd, c->engine, dmd, c->engine, NULL) != dnnl_success) return false;
    dnnl_primitive_t r;
    bool ok = dnnl_primitive_create(&r, pd) == dnnl_success;
    dnnl_primitive_desc_destroy(pd);
    if (!ok) return false;
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}};
    ok = dnnl_primitive_execute(r, c->stream, 2, args) == dnnl_success && dnnl_stream_wait(c->stream) == dnnl_success;
    dnnl_primitive_destroy(r);
    return ok;
}

/* INT8 weights: each output channel (row of W) rounded to int8 with the
 * scale max|row| / 127, symmetric. */
static int8_t *quantize_weights(const linear *l, float *scales) {
    int8_t *q = malloc((size_t)l->out * l->in);
    if (!q) return NULL;
    const kernel_table *kt = kernels();
    for (int n = 0; n < l->out; n++) scales[n] = kt->quantize_row(q + (size_t)n * l->in, l->w + (size_t)n * l->in, l->in);
    return q;
}

/* l's weights rounded to the nearest BF16 values, as F32. */
static float *round_to_bf16(const linear *l) {
    const size_t n = (size_t)l->out * l->in;
    float *f = malloc(sizeof(float) * n);
    uint16_t *h = malloc(sizeof(uint16_t) * n);
    if (f && h) {
        kernels()->to_bf16(h, l->w, (long)n);
        for (size_t i = 0; i < n; i++) {
            const uint32_t bits = (uint32_t)h[i] << 16;
            memcpy(&f[i], &bits, sizeof bits);
        }
    }
    free(h);
    if (!h) free(f), f = NULL;
    return f;
}

elang_status linear_prepare(matmul_ctx *c, linear *l, elang_dtype dtype, elang_error *err) {
    prepared *p = calloc(1, sizeof *p);
    if (!p) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory preparing weights");
    p->dtype = dtype;
    /* The layout oneDNN wants for these weights, from the description of
     * a product of this shape: the same for every batch size. */
    const primitive_key probe = {.kind = KIND_LINEAR, .threads = omp_get_max_threads(), .M = 64, .K = l->in,
                                 .N = l->out, .dtype = dtype, .bias = l->b != NULL && dtype != ELANG_DTYPE_INT8};
    dnnl_primitive_desc_t pd;
    bool ok = linear_desc(c, &probe, NULL, &pd);
    /* A CPU without BF16 products (oneDNN needs AVX-512 for them): the
     * weights are rounded to BF16 and computed in F32, the same numbers at
     * F32's speed and memory. */
    float *rounded = NULL;
    if (!ok && dtype == ELANG_DTYPE_BF16) {
        primitive_key f32 = probe;
        f32.dtype = p->dtype = ELANG_DTYPE_F32;
        ok = linear_desc(c, &f32, NULL, &pd) && (rounded = round_to_bf16(l));
    }
    if (ok) {
        p->w_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
        dnnl_primitive_desc_destroy(pd);
    }
    /* The weights as they are stored, [out, in] row-major: the K x N
     * matrix in layout "ba"; INT8 after quantization. */
    float *scales = NULL;
    int8_t *q = NULL;
    const void *user = rounded ? rounded : l->w;
    dnnl_data_type_t user_dt = dnnl_f32;
    if (ok && dtype == ELANG_DTYPE_INT8) {
        scales = malloc(sizeof(float) * (size_t)l->out);
        ok = scales && (q = quantize_weights(l, scales));
        user = q, user_dt = dnnl_s8;
    }
    dnnl_memory_desc_t user_md, vec_md;
    dnnl_dims_t wd = {l->in, l->out}, vd = {1, l->out};
    dnnl_memory_t user_mem = NULL;
    ok = ok && dnnl_memory_desc_init_by_tag(&user_md, 2, wd, user_dt, dnnl_ba) == dnnl_success &&
         dnnl_memory_create(&user_mem, &user_md, c->engine, (void *)user) == dnnl_success &&
         dnnl_memory_create(&p->w, &p->w_md, c->engine, DNNL_MEMORY_ALLOCATE) == dnnl_success &&
         reorder(c, user_mem, p->w);
    dnnl_memory_desc_init_by_tag(&vec_md, 2, vd, dnnl_f32, dnnl_ab);
    if (ok && l->b) {
        ok = dnnl_memory_create(&p->bias, &vec_md, c->engine, DNNL_MEMORY_ALLOCATE) == dnnl_success;
        void *h = NULL;
        if (ok) dnnl_memory_get_data_handle(p->bias, &h), memcpy(h, l->b, sizeof(float) * (size_t)l->out);
        if (ok && dtype == ELANG_DTYPE_INT8) p->host_bias = h;
    }
    if (user_mem) dnnl_memory_destroy(user_mem);
    free(q), free(rounded);
    p->scales = scales;
    l->prepared = p;
    if (!ok) {
        linear_release(l);
        return elang_fail(err, ELANG_ERR_UNSUPPORTED, "oneDNN cannot prepare %d x %d weights in %s", l->out, l->in,
                          dtype_label(dtype));
    }
    return ELANG_OK;
}

void linear_release(linear *l) {
    prepared *p = l->prepared;
    if (!p) return;
    if (p->w) dnnl_memory_destroy(p->w);
    if (p->bias) dnnl_memory_destroy(p->bias);
    free(p->scales);
    free(p);
    l->prepared = NULL;
}

static bool is_reference(dnnl_primitive_desc_t pd) {
    const char *impl = NULL;
    return dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl &&
           strncmp(impl, "ref", 3) == 0;
}

static primitive_entry *linear_entry(matmul_ctx *c, const primitive_key *k, const prepared *p) {
    primitive_entry *e = lookup(c, k);
    if (e) return e;
    if (!(e = calloc(1, sizeof *e))) {
        failf(c, ELANG_ERR_NOMEM, "out of memory for a matrix product");
        return NULL;
    }
    e->key = *k;
    e->rows = k->M;
    dnnl_primitive_desc_t pd;
    if (!linear_desc(c, k, &p->w_md, &pd)) {
        failf(c, ELANG_ERR_UNSUPPORTED, "oneDNN has no %s product of %d x %d x %d with these fusions",
              dtype_label((elang_dtype)k->dtype), k->M, k->K, k->N);
        free(e);
        return NULL;
    }
    /* With weights packed for AMX, oneDNN 2.6 has only its reference kernel
     * for INT8 products of one or two rows, ~1000x slower (a decoder step
     * of the last rows took 1.3 ms for 2 x 128 x 128). Zero rows added up
     * to the fewest that get a fast kernel cost nothing by comparison; the
     * rows are independent, so the real ones are unchanged. */
    for (int rows = 4; k->dtype == ELANG_DTYPE_INT8 && rows <= 16 && is_reference(pd); rows *= 2) {
        primitive_key padded = *k;
        padded.M = rows;
        dnnl_primitive_desc_t faster;
        if (rows > k->M && linear_desc(c, &padded, &p->w_md, &faster)) {
            if (is_reference(faster)) {
                dnnl_primitive_desc_destroy(faster);
                continue;
            }
            dnnl_primitive_desc_destroy(pd);
            pd = faster, e->rows = rows;
        }
    }
    dnnl_dims_t fd = {k->M, k->N};
    dnnl_memory_desc_t full;
    dnnl_memory_desc_init_by_tag(&full, 2, fd, dnnl_f32, dnnl_ab);
    if (k->multiply && dnnl_memory_create(&e->multiply, &full, c->engine, DNNL_MEMORY_NONE) != dnnl_success) {
        dnnl_primitive_desc_destroy(pd);
        entry_free(e);
        failf(c, ELANG_ERR_NOMEM, "out of memory for a matrix product");
        return NULL;
    }
    return finish_entry(c, e, pd);
}

/* x as the product's source: F32 as it is, else converted into the
 * context's scratch (INT8 rows with their scales in c->row_scales, and
 * zero rows after them up to `rows`). */
static const void *convert_source(matmul_ctx *c, const float *x, int M, int rows, int K, elang_dtype dtype) {
    const size_t n = (size_t)M * K;
    const kernel_table *kt = kernels();
    if (dtype == ELANG_DTYPE_F32) return x;
    if (dtype == ELANG_DTYPE_BF16) {
        if (!reserve(c, &c->converted, &c->converted_cap, n * sizeof(uint16_t))) return NULL;
        uint16_t *h = c->converted;
#pragma omp parallel for if (n > 65536)
        for (int m = 0; m < M; m++) kt->to_bf16(h + (size_t)m * K, x + (size_t)m * K, K);
        return h;
    }
    if (!reserve(c, &c->converted, &c->converted_cap, (size_t)rows * K) ||
        !reserve(c, (void **)&c->row_scales, &c->row_scales_cap, sizeof(float) * (size_t)M))
        return NULL;
    int8_t *q = c->converted;
    memset(q + n, 0, (size_t)(rows - M) * K);
#pragma omp parallel for if (n > 65536)
    for (int m = 0; m < M; m++) c->row_scales[m] = kt->quantize_row(q + (size_t)m * K, x + (size_t)m * K, K);
    return q;
}

/* INT8: y = epilogue(acc · row scale · channel scale + bias), row by row. */
static void dequantize(matmul_ctx *c, float *y, const prepared *p, int M, int N, const epilogue *e) {
    const kernel_table *kt = kernels();
    const int act = e->activate ? (int)e->act : -1;
#pragma omp parallel for if ((long)M * N > 65536)
    for (int m = 0; m < M; m++)
        kt->dequantize_row(y + (size_t)m * N, c->acc + (size_t)m * N, N, c->row_scales[m], p->scales, p->host_bias, act,
                           e->multiply ? e->multiply + (size_t)m * N : NULL, e->accumulate);
}

void linear_forward(matmul_ctx *c, float *y, const float *x, const linear *l, int M, const epilogue *e) {
    const prepared *p = l->prepared;
    if (c->status != ELANG_OK || M <= 0) return;
    if (!p) {
        failf(c, ELANG_ERR_INVALID_ARG, "a %d x %d linear layer was not prepared", l->out, l->in);
        return;
    }
    const epilogue none = {0};
    if (!e) e = &none;
    const bool int8 = p->dtype == ELANG_DTYPE_INT8;
    /* INT8 products are plain; their epilogue is dequantize()'s. */
    const double t0 = clock_seconds();
    const primitive_key k = {.kind = KIND_LINEAR, .threads = omp_get_max_threads(), .M = M, .K = l->in,
                             .N = l->out, .dtype = p->dtype, .bias = p->bias != NULL && !int8,
                             .activate = e->activate && !int8, .act = e->activate && !int8 ? (int)e->act : 0,
                             .multiply = e->multiply != NULL && !int8, .accumulate = e->accumulate && !int8};
    primitive_entry *en = linear_entry(c, &k, p);
    const void *src = en ? convert_source(c, x, M, en->rows, l->in, p->dtype) : NULL;
    if (!src || !reserve(c, &c->scratch, &c->scratch_cap, en->scratch_size) ||
        (int8 && !reserve(c, (void **)&c->acc, &c->acc_cap, sizeof(int32_t) * (size_t)en->rows * l->out)))
        return;
    dnnl_memory_set_data_handle(en->src, (void *)src);
    dnnl_memory_set_data_handle(en->dst, int8 ? (void *)c->acc : y);
    dnnl_memory_set_data_handle(en->scratch, c->scratch);
    dnnl_exec_arg_t args[6];
    int n = 0;
    args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, en->src};
    args[n++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, p->w};
    args[n++] = (dnnl_exec_arg_t){DNNL_ARG_DST, en->dst};
    args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, en->scratch};
    if (k.bias) args[n++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, p->bias};
    if (k.multiply) {
        dnnl_memory_set_data_handle(en->multiply, (void *)e->multiply);
        /* The multiply is the post-op after the activation, when there is one. */
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_ATTR_MULTIPLE_POST_OP(k.activate ? 1 : 0) | DNNL_ARG_SRC_1, en->multiply};
    }
    if (dnnl_primitive_execute(en->prim, c->stream, n, args) != dnnl_success ||
        dnnl_stream_wait(c->stream) != dnnl_success) {
        failf(c, ELANG_ERR_UNSUPPORTED, "oneDNN failed a %d x %d x %d product", M, l->in, l->out);
        return;
    }
    if (int8) dequantize(c, y, p, M, l->out, e);
    c->profile.linear_seconds += clock_seconds() - t0;
    c->profile.linear_flops += 2.0 * M * l->in * l->out;
    c->profile.products++;
}

/* ------------------------------------------------------------ batched */

static void view_md(const matrix_view *v, int batch, int heads, dnnl_memory_desc_t *md) {
    dnnl_dims_t dims = {batch, heads, v->rows, v->cols};
    dnnl_dims_t strides = {v->stride_b, v->stride_h, v->stride_r, v->stride_c};
    dnnl_memory_desc_init_by_strides(md, 4, dims, dnnl_f32, strides);
}

void batched_matmul(matmul_ctx *c, int batch, int heads, const matrix_view *a, const matrix_view *b,
                    const matrix_view *out) {
    if (c->status != ELANG_OK || batch <= 0 || heads <= 0) return;
    const double t0 = clock_seconds();
    primitive_key k = {.kind = KIND_BATCHED, .threads = omp_get_max_threads(), .batch = batch, .heads = heads};
    const matrix_view *v[3] = {a, b, out};
    for (int i = 0; i < 3; i++) {
        const long f[6] = {v[i]->rows, v[i]->cols, v[i]->stride_b, v[i]->stride_h, v[i]->stride_r, v[i]->stride_c};
        memcpy(k.view[i], f, sizeof f);
    }
    primitive_entry *e = lookup(c, &k);
    if (!e) {
        if (!(e = calloc(1, sizeof *e))) {
            failf(c, ELANG_ERR_NOMEM, "out of memory for a matrix product");
            return;
        }
        e->key = k;
        dnnl_memory_desc_t amd, bmd, omd;
        view_md(a, batch, heads, &amd);
        view_md(b, batch, heads, &bmd);
        view_md(out, batch, heads, &omd);
        dnnl_matmul_desc_t md;
        dnnl_primitive_attr_t attr;
        dnnl_primitive_desc_t pd;
        bool ok = dnnl_matmul_desc_init(&md, &amd, &bmd, NULL, &omd) == dnnl_success &&
                  dnnl_primitive_attr_create(&attr) == dnnl_success;
        if (ok) {
            dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
            ok = dnnl_primitive_desc_create(&pd, &md, attr, c->engine, NULL) == dnnl_success;
            dnnl_primitive_attr_destroy(attr);
        }
        if (!ok) {
            failf(c, ELANG_ERR_UNSUPPORTED, "oneDNN has no batched product of %d x %d by %d x %d", a->rows,
                  a->cols, b->rows, b->cols);
            free(e);
            return;
        }
        if (!(e = finish_entry(c, e, pd))) return;
    }
    if (!reserve(c, &c->scratch, &c->scratch_cap, e->scratch_size)) return;
    dnnl_memory_set_data_handle(e->src, (void *)a->p);
    dnnl_memory_set_data_handle(e->wei, (void *)b->p);
    dnnl_memory_set_data_handle(e->dst, (void *)out->p);
    dnnl_memory_set_data_handle(e->scratch, c->scratch);
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, e->src}, {DNNL_ARG_WEIGHTS, e->wei}, {DNNL_ARG_DST, e->dst},
                               {DNNL_ARG_SCRATCHPAD, e->scratch}};
    if (dnnl_primitive_execute(e->prim, c->stream, 4, args) != dnnl_success ||
        dnnl_stream_wait(c->stream) != dnnl_success)
        failf(c, ELANG_ERR_UNSUPPORTED, "oneDNN failed a batched product");
    c->profile.batched_seconds += clock_seconds() - t0;
    c->profile.batched_flops += 2.0 * batch * heads * a->rows * a->cols * b->cols;
    c->profile.products++;
}
