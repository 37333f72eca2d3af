#include "models/loader.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/error.h"

static const char *legacy_layer_norm_name(const char *name, char *buf, size_t size) {
    size_t n = strlen(name);
    if (n > 7 && strcmp(name + n - 7, ".weight") == 0)
        snprintf(buf, size, "%.*s.gamma", (int)(n - 7), name);
    else if (n > 5 && strcmp(name + n - 5, ".bias") == 0)
        snprintf(buf, size, "%.*s.beta", (int)(n - 5), name);
    else
        return NULL;
    return buf;
}

static const float *take(tensor_loader *L, const char *prefix, int64_t d0, int64_t d1,
                         const char *fmt, va_list ap) {
    if (L->status != ELANG_OK) return NULL;
    char name[512], legacy[512];
    int len = snprintf(name, sizeof name, "%s", prefix);
    vsnprintf(name + len, sizeof name - (size_t)len, fmt, ap);
    if (!weight_store_find(L->ws, name) && strstr(name, "LayerNorm")) {
        const char *alt = legacy_layer_norm_name(name, legacy, sizeof legacy);
        if (alt && weight_store_find(L->ws, alt)) snprintf(name, sizeof name, "%s", alt);
    }
    const int64_t shape[2] = {d0, d1};
    const float *data = NULL;
    L->status = weight_store_take_f32(L->ws, name, d1 < 0 ? 1 : 2, shape, &data, L->err);
    return data;
}

const float *loader_take(tensor_loader *L, int64_t d0, int64_t d1, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const float *t = take(L, L->prefix, d0, d1, fmt, ap);
    va_end(ap);
    return t;
}

void loader_take_linear(tensor_loader *L, int out, int in, bool bias, linear *l, const char *fmt, ...) {
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    *l = (linear){.out = out, .in = in};
    l->w = loader_take(L, out, in, "%s.weight", name);
    if (bias) l->b = loader_take(L, out, -1, "%s.bias", name);
}

const float *loader_take_bare(tensor_loader *L, int64_t d0, int64_t d1, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const float *t = take(L, "", d0, d1, fmt, ap);
    va_end(ap);
    return t;
}

const float *loader_take_tied(tensor_loader *L, int64_t d0, int64_t d1, const char *const *names) {
    const char *const *found = names;
    for (const char *const *n = names; *n; n++)
        if (weight_store_find(L->ws, *n)) {
            found = n;
            break;
        }
    for (const char *const *n = names; *n; n++)
        if (n != found) weight_store_ignore(L->ws, *n);
    return loader_take_bare(L, d0, d1, "%s", *found);
}

int64_t loader_rows(tensor_loader *L, const char *name) {
    const weight_entry *e = weight_store_find(L->ws, name);
    return e && e->ndim >= 1 ? e->shape[0] : -1;
}
