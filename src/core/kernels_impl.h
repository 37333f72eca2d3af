/* The kernels of kernels.h, written once over GCC's generic vectors of
 * VLEN floats and compiled once per instruction set. The including file
 * defines VLEN and TABLE (the name of its kernel_table) and sets the target.
 *
 * exp() is computed as 2^n · e^r with n = round(x / ln 2) and |r| <= ln2/2,
 * e^r by its Taylor series to degree 7 (relative error below 5e-9 there,
 * so the float result is within an ulp or two). erf() uses Abramowitz and
 * Stegun 7.1.26 (absolute error below 1.5e-7). */
#include <math.h>
#include <string.h>

#include "core/kernels.h"
#include "core/ops.h"

typedef float vf __attribute__((vector_size(VLEN * 4), aligned(4), may_alias));
typedef int32_t vi __attribute__((vector_size(VLEN * 4), aligned(4), may_alias));

static inline vf vload(const float *p) { return *(const vf *)p; }
static inline void vstore(float *p, vf v) { *(vf *)p = v; }
static inline vf vset(float x) { return (vf){0} + x; }

static inline vf vselect(vi mask, vf a, vf b) { return (vf)(((vi)a & mask) | ((vi)b & ~mask)); }
static inline vf vmax(vf a, vf b) { return vselect(a > b, a, b); }
static inline vf vmin(vf a, vf b) { return vselect(a < b, a, b); }

/* v's lanes moved down by s places (lane i gets lane i + s, wrapping). */
static inline vf vrotate(vf v, int s) {
    vi idx;
    for (int i = 0; i < VLEN; i++) idx[i] = (i + s) & (VLEN - 1);
    return __builtin_shuffle(v, idx);
}

/* Horizontal sum and max by halving: log2(VLEN) shuffles instead of a
 * chain of VLEN scalar operations, which short rows (a 32-wide attention
 * head) would otherwise spend most of their time in. */
static inline float hsum(vf v) {
#pragma GCC unroll 4
    for (int s = VLEN / 2; s > 0; s /= 2) v += vrotate(v, s);
    return v[0];
}

static inline float hmax(vf v) {
#pragma GCC unroll 4
    for (int s = VLEN / 2; s > 0; s /= 2) v = vmax(v, vrotate(v, s));
    return v[0];
}

/* e^x; arguments are clamped to [-87.3, 88.3], so anything below gives
 * about 1e-38 (never 0) and callers exclude -inf entries themselves. */
static inline vf vexp(vf x) {
    x = vmin(vmax(x, vset(-87.3f)), vset(88.3f));
    const vf round = vset(12582912.0f); /* 1.5 · 2^23: adding and removing it rounds to an integer */
    vf n = (x * vset(1.44269504f) + round) - round;
    vf r = x - n * vset(0.693145752f) - n * vset(1.42860677e-6f); /* ln 2 in two parts */
    vf p = vset(1.0f / 5040) * r + vset(1.0f / 720);
    p = p * r + vset(1.0f / 120);
    p = p * r + vset(1.0f / 24);
    p = p * r + vset(1.0f / 6);
    p = p * r + vset(0.5f);
    p = p * r + vset(1.0f);
    p = p * r + vset(1.0f);
    vi bits = (__builtin_convertvector(n, vi) + 127) << 23;
    return p * (vf)bits;
}

static inline vi vsign_bit(void) { return (vi){0} + (int32_t)0x80000000u; }

static inline vf verf(vf x) {
    const vi sign = (vi)x & vsign_bit();
    const vf a = (vf)((vi)x & ~sign); /* |x| */
    const vf t = vset(1.0f) / (vset(1.0f) + vset(0.3275911f) * a);
    vf p = vset(1.061405429f) * t + vset(-1.453152027f);
    p = p * t + vset(1.421413741f);
    p = p * t + vset(-0.284496736f);
    p = p * t + vset(0.254829592f);
    const vf y = vset(1.0f) - p * t * vexp(-a * a);
    return (vf)((vi)y | sign);
}

static inline vf vtanh(vf x) {
    /* 1 - 2 / (e^2x + 1): exact at the tails, absolute error ~1e-7 near 0. */
    return vset(1.0f) - vset(2.0f) / (vexp(x + x) + vset(1.0f));
}

static inline vf vactivate(vf v, int act) {
    switch (act) {
    case ACT_GELU: return vset(0.5f) * v * (vset(1.0f) + verf(v * vset(0.70710678f)));
    case ACT_GELU_TANH: {
        const vf inner = vset(0.7978845608f) * (v + vset(0.044715f) * v * v * v);
        return vset(0.5f) * v * (vset(1.0f) + vtanh(inner));
    }
    case ACT_RELU: return vmax(v, vset(0.0f));
    case ACT_SILU: return v / (vset(1.0f) + vexp(-v));
    case ACT_TANH: return vtanh(v);
    }
    return v;
}

/* One element at a time through the same vector code, for the tails, so
 * that a row's last few entries get exactly the arithmetic of the others. */
static inline float sexp(float x) { return vexp(vset(x))[0]; }

static void activate(float *x, long n, int act) {
    long i = 0;
    for (; i + VLEN <= n; i += VLEN) vstore(x + i, vactivate(vload(x + i), act));
    for (; i < n; i++) x[i] = vactivate(vset(x[i]), act)[0];
}

static void softmax(float *x, int n, float scale, const float *bias, const int32_t *mask, int last) {
    /* Pass 1: the scores, the excluded entries -inf, and their maximum. */
    vi lane;
    for (int l = 0; l < VLEN; l++) lane[l] = l;
    const vf vscale = vset(scale), ninf = vset(-INFINITY);
    vf vmaxs = ninf;
    int j = 0;
    for (; j + VLEN <= n; j += VLEN) {
        vf s = vload(x + j) * vscale;
        if (bias) s += vload(bias + j);
        vi live = lane + j <= last;
        if (mask) live &= *(const vi *)(mask + j) != 0;
        s = vselect(live, s, ninf);
        vstore(x + j, s);
        vmaxs = vmax(vmaxs, s);
    }
    float max = hmax(vmaxs);
    for (; j < n; j++) {
        x[j] = j > last || (mask && !mask[j]) ? -INFINITY : x[j] * scale + (bias ? bias[j] : 0.0f);
        if (x[j] > max) max = x[j];
    }
    if (max == -INFINITY) {
        memset(x, 0, sizeof(float) * (size_t)n);
        return;
    }
    /* Pass 2: exp(s - max), 0 for the excluded; pass 3: normalise. */
    const vf vm = vset(max);
    vf vsum = vset(0.0f);
    float sum = 0.0f;
    for (j = 0; j + VLEN <= n; j += VLEN) {
        const vf s = vload(x + j);
        const vf e = vselect(s > ninf, vexp(s - vm), vset(0.0f));
        vstore(x + j, e);
        vsum += e;
    }
    for (; j < n; j++) {
        x[j] = x[j] == -INFINITY ? 0.0f : sexp(x[j] - max);
        sum += x[j];
    }
    const vf inv = vset(1.0f / (hsum(vsum) + sum));
    for (j = 0; j + VLEN <= n; j += VLEN) vstore(x + j, vload(x + j) * inv);
    for (; j < n; j++) x[j] *= inv[0];
}

static float dot(const float *a, const float *b, int n) {
    vf acc = vset(0.0f);
    int i = 0;
    for (; i + VLEN <= n; i += VLEN) acc += vload(a + i) * vload(b + i);
    float s = hsum(acc);
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static void attend_one(float *out, const float *q, const float *k, const float *v, int kv_len, int dh,
                       long kv_stride, float scale, const float *bias, const int32_t *mask, int last, float *scores) {
    for (int j = 0; j < kv_len; j++) scores[j] = dot(q, k + j * kv_stride, dh);
    softmax(scores, kv_len, scale, bias, mask, last);
    /* One slice of the output at a time, summed over the keys in a
     * register: a head is a few vectors wide, so this reads each value
     * once and writes the output once. */
    int d = 0;
    for (; d + VLEN <= dh; d += VLEN) {
        vf acc = vset(0.0f);
        for (int j = 0; j < kv_len; j++) acc += vset(scores[j]) * vload(v + j * kv_stride + d);
        vstore(out + d, acc);
    }
    for (; d < dh; d++) {
        float acc = 0.0f;
        for (int j = 0; j < kv_len; j++) acc += scores[j] * v[j * kv_stride + d];
        out[d] = acc;
    }
}

static void norm_row(float *x, const float *gamma, const float *beta, int H, float eps) {
    vf acc = vset(0.0f);
    float tail = 0.0f;
    int j;
    float mean = 0.0f;
    if (beta) {
        for (j = 0; j + VLEN <= H; j += VLEN) acc += vload(x + j);
        for (; j < H; j++) tail += x[j];
        mean = (hsum(acc) + tail) / (float)H;
        acc = vset(0.0f), tail = 0.0f;
    }
    const vf vm = vset(mean);
    for (j = 0; j + VLEN <= H; j += VLEN) {
        const vf d = vload(x + j) - vm;
        acc += d * d;
    }
    for (; j < H; j++) tail += (x[j] - mean) * (x[j] - mean);
    const float inv = 1.0f / sqrtf((hsum(acc) + tail) / (float)H + eps);
    const vf vinv = vset(inv);
    for (j = 0; j + VLEN <= H; j += VLEN) {
        vf y = (vload(x + j) - vm) * vinv * vload(gamma + j);
        if (beta) y += vload(beta + j);
        vstore(x + j, y);
    }
    for (; j < H; j++) x[j] = (x[j] - mean) * inv * gamma[j] + (beta ? beta[j] : 0.0f);
}

static void stats(const float *x, int n, float temperature, bool with_soft, logit_stats *out) {
    /* Pass 1: the two largest logits. */
    vf m1 = vset(-INFINITY), m2 = vset(-INFINITY);
    int j = 0;
    for (; j + VLEN <= n; j += VLEN) {
        const vf v = vload(x + j);
        m2 = vmax(m2, vmin(v, m1));
        m1 = vmax(m1, v);
    }
    float max = -INFINITY, second = -INFINITY;
    for (int l = 0; l < VLEN; l++) {
        const float c[2] = {m1[l], m2[l]};
        for (int k = 0; k < 2; k++) {
            if (c[k] > max) second = max, max = c[k];
            else if (c[k] > second) second = c[k];
        }
    }
    for (; j < n; j++) {
        if (x[j] > max) second = max, max = x[j];
        else if (x[j] > second) second = x[j];
    }
    *out = (logit_stats){.max = max, .second = second, .argmax = -1};
    if (max == -INFINITY) return;
    const vf vmax_ = vset(max);
    for (j = 0; j + VLEN <= n; j += VLEN) {
        const vi hit = vload(x + j) == vmax_;
        bool any = false;
        for (int l = 0; l < VLEN; l++) any |= hit[l] != 0;
        if (any) break;
    }
    while (x[j] != max) j++;
    out->argmax = j;
    /* Pass 2: the partition sums at T = 1 and T, and Σ e·(x - max). Float
     * lanes for speed, spilled into double every BLOCK vectors so that a
     * vocabulary of 50k keeps its sums to about 1e-7. */
    enum { BLOCK = 32 };
    const vf vm = vset(max), inv_t = vset(1.0f / temperature), ninf = vset(-INFINITY);
    const bool unit_t = temperature == 1.0f; /* then z_t is z: one exp an entry, not two */
    double sz = 0.0, szt = 0.0, swx = 0.0;
    for (j = 0; j + VLEN <= n;) {
        vf z = vset(0.0f), zt = vset(0.0f), wx = vset(0.0f);
        for (int b = 0; b < BLOCK && j + VLEN <= n; b++, j += VLEN) {
            const vf v = vload(x + j);
            const vi live = v > ninf;
            const vf d = vselect(live, v - vm, vset(0.0f));
            const vf e = vselect(live, vexp(d), vset(0.0f));
            z += e;
            wx += e * d;
            zt += unit_t ? e : vselect(live, vexp(d * inv_t), vset(0.0f));
        }
        sz += hsum(z), szt += hsum(zt), swx += hsum(wx);
    }
    for (; j < n; j++) {
        if (x[j] == -INFINITY) continue;
        const float d = x[j] - max, e = sexp(d);
        sz += e, swx += (double)e * d, szt += sexp(d * inv_t[0]);
    }
    out->z = sz, out->z_t = szt, out->wx = swx;
    if (!with_soft) return;
    /* Pass 3: Σ exp(p / T) with p = e / z; excluded tokens have p = 0. */
    const vf scale = vset((float)(1.0 / (sz * temperature)));
    double ssoft = 0.0;
    for (j = 0; j + VLEN <= n;) {
        vf soft = vset(0.0f);
        for (int b = 0; b < BLOCK && j + VLEN <= n; b++, j += VLEN) {
            const vf v = vload(x + j);
            const vf e = vselect(v > ninf, vexp(v - vm), vset(0.0f));
            soft += vexp(e * scale);
        }
        ssoft += hsum(soft);
    }
    for (; j < n; j++) {
        const float e = x[j] == -INFINITY ? 0.0f : sexp(x[j] - max);
        ssoft += sexp(e * scale[0]);
    }
    out->soft = ssoft;
}

static uint16_t bf16_of(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* a quiet NaN */
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

static void to_bf16(uint16_t *dst, const float *src, long n) {
    typedef uint32_t vu __attribute__((vector_size(VLEN * 4), aligned(4), may_alias));
    long i = 0;
    for (; i + VLEN <= n; i += VLEN) {
        const vu u = *(const vu *)(src + i);
        const vu r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
        const vu nan = (vu)((u & 0x7fffffffu) > 0x7f800000u);
        const vu out = (r & ~nan) | (((u >> 16) | 0x40) & nan);
        for (int l = 0; l < VLEN; l++) dst[i + l] = (uint16_t)out[l];
    }
    for (; i < n; i++) dst[i] = bf16_of(src[i]);
}

static float quantize_row(int8_t *dst, const float *src, int K) {
    vf m = vset(0.0f);
    int j = 0;
    for (; j + VLEN <= K; j += VLEN) {
        const vf v = vload(src + j);
        m = vmax(m, vmax(v, -v));
    }
    float amax = hmax(m);
    for (; j < K; j++) amax = fmaxf(amax, fabsf(src[j]));
    const float scale = amax > 0.0f ? amax / 127.0f : 1.0f;
    const vf inv = vset(1.0f / scale), round = vset(12582912.0f);
    for (j = 0; j + VLEN <= K; j += VLEN) {
        const vf q = (vload(src + j) * inv + round) - round;
        const vi qi = __builtin_convertvector(q, vi);
        for (int l = 0; l < VLEN; l++) dst[j + l] = (int8_t)qi[l];
    }
    for (; j < K; j++) dst[j] = (int8_t)lrintf(src[j] * inv[0]);
    return scale;
}

static void dequantize_row(float *y, const int32_t *acc, int N, float row_scale, const float *col_scales,
                           const float *bias, int act, const float *multiply, bool accumulate) {
    const vf rs = vset(row_scale);
    int j = 0;
    for (; j + VLEN <= N; j += VLEN) {
        vf v = __builtin_convertvector(*(const vi *)(acc + j), vf) * rs * vload(col_scales + j);
        if (bias) v += vload(bias + j);
        if (act >= 0) v = vactivate(v, act);
        if (multiply) v *= vload(multiply + j);
        if (accumulate) v += vload(y + j);
        vstore(y + j, v);
    }
    for (; j < N; j++) {
        float v = (float)acc[j] * row_scale * col_scales[j] + (bias ? bias[j] : 0.0f);
        if (act >= 0) v = vactivate(vset(v), act)[0];
        if (multiply) v *= multiply[j];
        y[j] = accumulate ? y[j] + v : v;
    }
}

const kernel_table TABLE = {
    .name = KERNEL_NAME,
    .softmax = softmax,
    .attend_one = attend_one,
    .norm_row = norm_row,
    .activate = activate,
    .logit_stats = stats,
    .to_bf16 = to_bf16,
    .quantize_row = quantize_row,
    .dequantize_row = dequantize_row,
};
