#include "io/weights.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "util/files.h"
#include "io/safetensors.h"
#include "io/tensor_file.h"
#include "io/torch_zip.h"

struct weight_store {
    char *dir;
    char source[128];
    tensor_file *files;
    size_t nfiles;
    weight_entry **entries; /* every tensor of every file, in file order */
    size_t count;
    float **converted;      /* [count]: the F32 copy take made of it, or NULL */
    unsigned *takes;        /* [count]: how often it was taken (tied weights: more than once) */
    size_t *slots;          /* open-addressing table of entry index + 1; 0 = empty */
    size_t nslots;          /* a power of two, at least twice count */
};

/* The layouts a Hugging Face model directory may use, in order of
 * preference; safetensors first, as it is used in place without copying. */
static const struct {
    const char *file;
    bool sharded; /* `file` is an index whose weight_map names the shards */
    tensor_file_opener opener;
} layouts[] = {
    {"model.safetensors", false, safetensors_open},
    {"model.safetensors.index.json", true, safetensors_open},
    {"pytorch_model.bin", false, torch_zip_open},
    {"pytorch_model.bin.index.json", true, torch_zip_open},
};

/* -------------------------------------------------------------- name index */

static uint64_t hash_name(const char *s) { /* FNV-1a */
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The slot holding `name`, or the empty slot where it would go. */
static size_t find_slot(const weight_store *ws, const char *name) {
    size_t mask = ws->nslots - 1;
    size_t i = (size_t)hash_name(name) & mask;
    while (ws->slots[i] && strcmp(ws->entries[ws->slots[i] - 1]->name, name) != 0) i = (i + 1) & mask;
    return i;
}

static bool lookup(const weight_store *ws, const char *name, size_t *index) {
    if (!ws->nslots) return false;
    size_t slot = ws->slots[find_slot(ws, name)];
    if (slot) *index = slot - 1;
    return slot != 0;
}

/* Lists and hashes the tensors of every file opened; a name seen twice is an
 * error, since either copy could be the one a model gets. */
static elang_status build_index(weight_store *ws, elang_error *err) {
    size_t total = 0;
    for (size_t f = 0; f < ws->nfiles; f++) total += ws->files[f].count;
    ws->nslots = 16;
    while (ws->nslots < 2 * total) ws->nslots *= 2;
    ws->entries = calloc(total ? total : 1, sizeof *ws->entries);
    ws->converted = calloc(total ? total : 1, sizeof *ws->converted);
    ws->takes = calloc(total ? total : 1, sizeof *ws->takes);
    ws->slots = calloc(ws->nslots, sizeof *ws->slots);
    if (!ws->entries || !ws->converted || !ws->takes || !ws->slots)
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory indexing %zu tensors", total);
    for (size_t f = 0; f < ws->nfiles; f++) {
        for (size_t i = 0; i < ws->files[f].count; i++) {
            weight_entry *e = &ws->files[f].entries[i];
            size_t slot = find_slot(ws, e->name);
            if (ws->slots[slot])
                return elang_fail(err, ELANG_ERR_FORMAT, "tensor '%s' appears twice: in %s and in %s",
                                  e->name, ws->entries[ws->slots[slot] - 1]->file, e->file);
            ws->entries[ws->count] = e;
            ws->slots[slot] = ++ws->count;
        }
    }
    return ELANG_OK;
}

/* ------------------------------------------------------------------ opening */

static char *join_path(const char *dir, const char *file) {
    size_t len = strlen(dir) + strlen(file) + 2;
    char *path = malloc(len);
    if (path) snprintf(path, len, "%s/%s", dir, file);
    return path;
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static elang_status add_file(weight_store *ws, const char *path, tensor_file_opener opener,
                             elang_error *err) {
    tensor_file *files = realloc(ws->files, (ws->nfiles + 1) * sizeof *files);
    if (!files) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
    ws->files = files;
    elang_status st = opener(path, &files[ws->nfiles], err);
    if (st == ELANG_OK) ws->nfiles++;
    return st;
}

/* Opens every shard the weight_map names, once each. Shard names must be
 * plain file names: an index must not reach outside the model directory. */
static elang_status open_shards(weight_store *ws, const char *index_name, json_t *weight_map,
                                tensor_file_opener opener, elang_error *err) {
    const char *tensor;
    json_t *shard;
    json_object_foreach(weight_map, tensor, shard) {
        const char *file = json_string_value(shard);
        if (!file || !*file || strchr(file, '/') || strcmp(file, ".") == 0 || strcmp(file, "..") == 0)
            return elang_fail(err, ELANG_ERR_FORMAT,
                              "%s/%s: the shard of tensor '%s' must be a file name in the same directory",
                              ws->dir, index_name, tensor);
        bool seen = false;
        for (size_t f = 0; f < ws->nfiles && !seen; f++) seen = strcmp(base_name(ws->files[f].path), file) == 0;
        if (seen) continue;
        char *path = join_path(ws->dir, file);
        if (!path) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
        elang_status st = add_file(ws, path, opener, err);
        free(path);
        if (st != ELANG_OK) return elang_error_prefix(err, st, "shard '%s' named by %s: ", file, index_name);
    }
    return ELANG_OK;
}

/* The index and the shards must agree tensor for tensor, so that a shard
 * swapped for another version, or missing tensors, cannot go unnoticed. */
static elang_status check_shards_match_index(const weight_store *ws, const char *index_name,
                                             json_t *weight_map, elang_error *err) {
    const char *tensor;
    json_t *shard;
    json_object_foreach(weight_map, tensor, shard) {
        size_t i;
        if (!lookup(ws, tensor, &i))
            return elang_fail(err, ELANG_ERR_FORMAT, "%s/%s lists tensor '%s' in %s, but it is in no shard",
                              ws->dir, index_name, tensor, json_string_value(shard));
        const char *actual = base_name(ws->entries[i]->file);
        if (strcmp(actual, json_string_value(shard)) != 0)
            return elang_fail(err, ELANG_ERR_FORMAT, "%s/%s lists tensor '%s' in %s, but it is in %s",
                              ws->dir, index_name, tensor, json_string_value(shard), actual);
    }
    for (size_t i = 0; i < ws->count; i++) {
        if (!json_object_get(weight_map, ws->entries[i]->name))
            return elang_fail(err, ELANG_ERR_FORMAT, "tensor '%s' of %s is not listed in %s/%s",
                              ws->entries[i]->name, ws->entries[i]->file, ws->dir, index_name);
    }
    return ELANG_OK;
}

static elang_status open_sharded(weight_store *ws, const char *index_name, tensor_file_opener opener,
                                 elang_error *err) {
    char *path = join_path(ws->dir, index_name);
    if (!path) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
    json_t *index;
    elang_status st = file_load_json(path, JSON_REJECT_DUPLICATES, &index, err);
    json_t *weight_map = index ? json_object_get(index, "weight_map") : NULL;
    if (st == ELANG_OK && (!json_is_object(weight_map) || json_object_size(weight_map) == 0))
        st = elang_fail(err, ELANG_ERR_FORMAT, "%s: \"weight_map\" is missing, empty or not an object", path);
    if (st == ELANG_OK) st = open_shards(ws, index_name, weight_map, opener, err);
    if (st == ELANG_OK) st = build_index(ws, err);
    if (st == ELANG_OK) st = check_shards_match_index(ws, index_name, weight_map, err);
    if (st == ELANG_OK)
        snprintf(ws->source, sizeof ws->source, "%zu shard%s of %s", ws->nfiles, ws->nfiles == 1 ? "" : "s",
                 index_name);
    json_decref(index);
    free(path);
    return st;
}

static elang_status open_single(weight_store *ws, const char *file, tensor_file_opener opener,
                                elang_error *err) {
    char *path = join_path(ws->dir, file);
    if (!path) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
    elang_status st = add_file(ws, path, opener, err);
    free(path);
    if (st == ELANG_OK) st = build_index(ws, err);
    if (st == ELANG_OK) snprintf(ws->source, sizeof ws->source, "%s", file);
    return st;
}

static bool dir_has_file(const char *dir, const char *file) {
    char *path = join_path(dir, file);
    struct stat st;
    bool exists = path && stat(path, &st) == 0;
    free(path);
    return exists;
}

elang_status weight_store_open(const char *dir, weight_store **out, elang_error *err) {
    *out = NULL;
    struct stat st;
    if (stat(dir, &st) != 0)
        return elang_fail(err, ELANG_ERR_IO, "cannot open model directory %s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return elang_fail(err, ELANG_ERR_IO, "%s is not a directory", dir);

    size_t layout = 0;
    while (layout < sizeof layouts / sizeof layouts[0] && !dir_has_file(dir, layouts[layout].file)) layout++;
    if (layout == sizeof layouts / sizeof layouts[0])
        return elang_fail(err, ELANG_ERR_IO,
                          "no weights in %s: expected model.safetensors, model.safetensors.index.json "
                          "or pytorch_model.bin", dir);

    weight_store *ws = calloc(1, sizeof *ws);
    if (!ws || !(ws->dir = strdup(dir))) {
        free(ws);
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
    }
    elang_status status = layouts[layout].sharded
        ? open_sharded(ws, layouts[layout].file, layouts[layout].opener, err)
        : open_single(ws, layouts[layout].file, layouts[layout].opener, err);
    if (status != ELANG_OK) {
        weight_store_free(ws);
        return status;
    }
    *out = ws;
    return ELANG_OK;
}

elang_status weight_store_open_file(const char *dir, const char *file, weight_store **out, elang_error *err) {
    *out = NULL;
    weight_store *ws = calloc(1, sizeof *ws);
    if (!ws || !(ws->dir = strdup(dir))) {
        free(ws);
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
    }
    elang_status status = open_single(ws, file, safetensors_open, err);
    if (status != ELANG_OK) {
        weight_store_free(ws);
        return status;
    }
    *out = ws;
    return ELANG_OK;
}

void weight_store_free(weight_store *ws) {
    if (!ws) return;
    for (size_t i = 0; i < ws->count; i++) free(ws->converted[i]);
    for (size_t f = 0; f < ws->nfiles; f++) tensor_file_free(&ws->files[f]);
    free(ws->files);
    free(ws->converted);
    free(ws->takes);
    free(ws->entries);
    free(ws->slots);
    free(ws->dir);
    free(ws);
}

/* ------------------------------------------------------------------ lookup */

weight_entry *weight_store_find(weight_store *ws, const char *name) {
    size_t i;
    return lookup(ws, name, &i) ? ws->entries[i] : NULL;
}

size_t weight_store_count(const weight_store *ws) { return ws->count; }

weight_entry *weight_store_at(weight_store *ws, size_t i) {
    return i < ws->count ? ws->entries[i] : NULL;
}

const char *weight_store_source(const weight_store *ws) { return ws->source; }

void weight_store_ignore(weight_store *ws, const char *name) {
    weight_entry *e = weight_store_find(ws, name);
    if (e) e->taken = true;
}

/* ------------------------------------------------------------------ taking */

/* IEEE half to single: every half, subnormals, infinities and NaN payloads
 * included, is exactly representable as a float. */
static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1f;
    uint32_t mantissa = h & 0x3ff;
    uint32_t bits;
    if (exponent == 0x1f) {
        bits = sign | 0x7f800000u | mantissa << 13;
    } else if (exponent) {
        bits = sign | (exponent + 127 - 15) << 23 | mantissa << 13; /* rebias the exponent */
    } else {
        /* zero or subnormal, mantissa * 2^-24: exact in float arithmetic */
        float magnitude = (float)mantissa * 0x1p-24f;
        return sign ? -magnitude : magnitude;
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* bfloat16 is the upper half of a float. */
static float bfloat16_to_float(uint16_t b) {
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* The data may sit at any address (safetensors does not require aligned
 * offsets), so elements are assembled from bytes, little-endian as stored. */
static void convert_to_f32(const weight_entry *e, size_t numel, float *dst) {
    const uint8_t *src = e->data;
    for (size_t i = 0; i < numel; i++) {
        uint16_t v = (uint16_t)(src[2 * i] | src[2 * i + 1] << 8);
        dst[i] = e->dtype == DTYPE_F16 ? half_to_float(v) : bfloat16_to_float(v);
    }
}

/* The index of the first NaN or infinity in x[n], or n: such a weight can
 * only be damage (a broken conversion, a diverged training), and would
 * surface later as answers with no scores. Bits, not isfinite(), so that
 * the loop vectorises: a float is non-finite when its exponent is all ones. */
static size_t first_non_finite(const float *x, size_t n) {
    size_t found = n;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &x[i], sizeof bits);
        if ((bits & 0x7f800000u) == 0x7f800000u && i < found) found = i;
    }
    return found;
}

static void format_shape(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t used = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (used < cap) snprintf(buf + used, cap - used, "]");
}

elang_status weight_store_take_f32(weight_store *ws, const char *name, int ndim,
                                   const int64_t *shape, const float **out, elang_error *err) {
    *out = NULL;
    if (ndim < 0 || ndim > WEIGHT_MAX_DIMS || (ndim > 0 && !shape))
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "taking tensor '%s': invalid expected shape", name);
    size_t i;
    if (!lookup(ws, name, &i))
        return elang_fail(err, ELANG_ERR_FORMAT, "tensor '%s' is missing from %s (%s)", name, ws->dir,
                          ws->source);
    weight_entry *e = ws->entries[i];
    bool same_shape = e->ndim == ndim;
    for (int d = 0; d < ndim && same_shape; d++) same_shape = e->shape[d] == shape[d];
    if (!same_shape) {
        char found[128], expected[128];
        format_shape(found, sizeof found, e->ndim, e->shape);
        format_shape(expected, sizeof expected, ndim, shape);
        return elang_fail(err, ELANG_ERR_FORMAT, "tensor '%s' in %s has shape %s, expected %s", name,
                          e->file, found, expected);
    }
    if (e->dtype != DTYPE_F32 && e->dtype != DTYPE_F16 && e->dtype != DTYPE_BF16)
        return elang_fail(err, ELANG_ERR_UNSUPPORTED,
                          "tensor '%s' in %s has dtype %s; only F32, F16 and BF16 tensors can be used "
                          "as weights", name, e->file, weight_dtype_name(e->dtype));
    const size_t numel = e->nbytes / (e->dtype == DTYPE_F32 ? 4 : 2);
    const float *f32 = NULL;
    if (e->dtype == DTYPE_F32 && (uintptr_t)e->data % _Alignof(float) == 0) {
        f32 = e->data; /* zero copy */
    } else if (ws->converted[i]) {
        f32 = ws->converted[i];
    } else {
        float *converted = malloc(numel ? numel * sizeof *converted : 1);
        if (!converted) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory converting tensor '%s'", name);
        if (e->dtype == DTYPE_F32)
            memcpy(converted, e->data, e->nbytes);
        else
            convert_to_f32(e, numel, converted);
        f32 = ws->converted[i] = converted; /* kept, so that tied weights taken twice convert once */
    }
    if (ws->takes[i] == 0) { /* the first take; a tied weight's second finds it checked */
        const size_t bad = first_non_finite(f32, numel);
        if (bad < numel)
            return elang_fail(err, ELANG_ERR_FORMAT, "tensor '%s' in %s holds %s at element %zu: the weights are "
                              "damaged", name, e->file, isnan(f32[bad]) ? "NaN" : "an infinity", bad);
    }
    e->taken = true;
    ws->takes[i]++;
    *out = f32;
    return ELANG_OK;
}

void weight_store_drop(weight_store *ws, const float *data) {
    if (!data) return;
    for (size_t i = 0; i < ws->count; i++) {
        weight_entry *e = ws->entries[i];
        if (ws->converted[i] == data) {
            if (ws->takes[i] == 1) free(ws->converted[i]), ws->converted[i] = NULL;
            return;
        }
        if (e->data != data) continue;
        for (size_t f = 0; f < ws->nfiles; f++) {
            const char *map = ws->files[f].mapping;
            if (!map || (const char *)data < map || (const char *)data >= map + ws->files[f].mapping_len) continue;
            const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
            const uintptr_t from = ((uintptr_t)data + page - 1) / page * page;
            const uintptr_t to = ((uintptr_t)data + e->nbytes) / page * page;
            /* A private read-only mapping of the file: dropped pages come
             * back from the file, unchanged, if anything reads them. */
            if (to > from) madvise((void *)from, to - from, MADV_DONTNEED);
        }
        return;
    }
}

elang_status weight_store_check_unused(const weight_store *ws, elang_error *err) {
    size_t unused = 0;
    const weight_entry *first = NULL;
    for (size_t i = 0; i < ws->count; i++) {
        if (ws->entries[i]->taken) continue;
        if (!first) first = ws->entries[i];
        unused++;
    }
    if (!unused) return ELANG_OK;
    if (unused == 1)
        return elang_fail(err, ELANG_ERR_FORMAT, "tensor '%s' in %s is not used by the model", first->name,
                          first->file);
    return elang_fail(err, ELANG_ERR_FORMAT, "%zu tensors of %s are not used by the model, the first being "
                      "'%s' in %s", unused, ws->source, first->name, first->file);
}
