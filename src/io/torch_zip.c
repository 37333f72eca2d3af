#include "io/torch_zip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "util/error.h"
#include "io/pickle.h"

static const char *zip_code_message(int code, char *buf, size_t cap) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, code);
    snprintf(buf, cap, "%s", zip_error_strerror(&ze));
    zip_error_fini(&ze);
    return buf;
}

/* zip_open failed: say whether the file is missing, an older PyTorch format,
 * or just broken. */
static elang_status open_failure(const char *path, int code, elang_error *err) {
    char why[256];
    zip_code_message(code, why, sizeof why);
    if (code != ZIP_ER_NOZIP && code != ZIP_ER_INCONS)
        return elang_fail(err, ELANG_ERR_IO, "cannot open %s: %s", path, why);
    unsigned char head[512] = {0};
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(head, 1, sizeof head, f) : 0;
    if (f) fclose(f);
    /* The pre-1.6 format is a bare pickle stream (protocol 2 magic number
     * first); older still is a tar archive. */
    if (got >= 2 && head[0] == 0x80 && head[1] == 0x02)
        return elang_fail(err, ELANG_ERR_UNSUPPORTED,
                          "%s uses the legacy (before PyTorch 1.6) serialization format, which elang "
                          "does not read; re-save it with a recent torch.save or convert it to "
                          "safetensors", path);
    if (got >= 262 && memcmp(head + 257, "ustar", 5) == 0)
        return elang_fail(err, ELANG_ERR_UNSUPPORTED,
                          "%s uses the legacy tar serialization format of old PyTorch versions, which "
                          "elang does not read; re-save it with a recent torch.save or convert it to "
                          "safetensors", path);
    return elang_fail(err, ELANG_ERR_FORMAT,
                      "%s is not a valid zip archive (%s): truncated, or not a PyTorch checkpoint", path, why);
}

/* Reads zip entry `index` (called `name` in messages) into a new buffer. */
static elang_status read_entry(zip_t *za, zip_uint64_t index, const char *path, const char *name,
                               uint8_t **data, size_t *size, elang_error *err) {
    zip_stat_t sb;
    if (zip_stat_index(za, index, 0, &sb) != 0 || !(sb.valid & ZIP_STAT_SIZE) || sb.size > SIZE_MAX)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: cannot stat %s: %s", path, name, zip_strerror(za));
    *size = (size_t)sb.size;
    if (!(*data = malloc(*size ? *size : 1)))
        return elang_fail(err, ELANG_ERR_NOMEM, "%s: out of memory reading %s (%zu bytes)", path, name,
                          *size);
    zip_file_t *zf = zip_fopen_index(za, index, 0);
    zip_int64_t got = zf ? zip_fread(zf, *data, *size) : -1;
    elang_status st = ELANG_OK;
    if (got < 0 || (size_t)got != *size)
        st = elang_fail(err, ELANG_ERR_FORMAT, "%s: cannot read %s: %s", path, name,
                        zf ? zip_file_strerror(zf) : zip_strerror(za));
    if (zf) zip_fclose(zf);
    if (st != ELANG_OK) {
        free(*data);
        *data = NULL;
    }
    return st;
}

/* The folder all entries share, found through its data.pkl. */
static elang_status find_archive_prefix(zip_t *za, const char *path, char **prefix,
                                        zip_uint64_t *pickle_index, elang_error *err) {
    static const char suffix[] = "/data.pkl";
    const size_t suffix_len = sizeof suffix - 1;
    *prefix = NULL;
    zip_int64_t n = zip_get_num_entries(za, 0);
    for (zip_int64_t i = 0; i < n; i++) {
        const char *name = zip_get_name(za, (zip_uint64_t)i, 0);
        size_t len = name ? strlen(name) : 0;
        if (len <= suffix_len || strcmp(name + len - suffix_len, suffix) != 0) continue;
        size_t prefix_len = len - suffix_len;
        if (memchr(name, '/', prefix_len)) continue;
        if (*prefix) {
            free(*prefix);
            *prefix = NULL;
            return elang_fail(err, ELANG_ERR_FORMAT, "%s holds more than one data.pkl", path);
        }
        if (!(*prefix = strndup(name, prefix_len)))
            return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
        *pickle_index = (zip_uint64_t)i;
    }
    if (!*prefix)
        return elang_fail(err, ELANG_ERR_FORMAT,
                          "%s is a zip archive without <archive>/data.pkl, not a PyTorch checkpoint", path);
    return ELANG_OK;
}

/* Storage bytes are copied as they are, so they must be little-endian. */
static elang_status check_byteorder(zip_t *za, const char *path, const char *prefix, elang_error *err) {
    char name[512];
    snprintf(name, sizeof name, "%s/byteorder", prefix);
    zip_int64_t index = zip_name_locate(za, name, 0);
    if (index < 0) return ELANG_OK; /* written only since PyTorch 1.12; older files are little-endian */
    uint8_t *data;
    size_t size;
    elang_status st = read_entry(za, (zip_uint64_t)index, path, name, &data, &size, err);
    if (st != ELANG_OK) return st;
    if (!(size == 6 && memcmp(data, "little", 6) == 0))
        st = elang_fail(err, ELANG_ERR_UNSUPPORTED, "%s: byteorder is '%.*s', only 'little' is supported",
                        path, (int)(size > 16 ? 16 : size), (const char *)data);
    free(data);
    return st;
}

/* Only dense row-major tensors can be used in place; torch.save keeps views
 * as they are, so a transposed tensor would arrive with permuted strides.
 * Dimensions of size 1 may have any stride, as in torch's is_contiguous. */
static bool is_contiguous(const pickle_tensor *t) {
    int64_t expected = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] == 0) return true;
        if (t->shape[i] != 1 && t->stride[i] != expected) return false;
        expected *= t->shape[i];
    }
    return true;
}

typedef struct {
    zip_t *za;
    const char *path;   /* owned by out */
    const char *prefix;
    uint8_t **storages; /* by zip entry index, once read; owned by out->buffers */
    size_t *storage_sizes;
    tensor_file *out;
} loader;

/* Finds the bytes of storage `key`, reading its entry on first use (tied
 * weights share one storage). */
static elang_status load_storage(loader *l, const pickle_tensor *t, const uint8_t **data,
                                 elang_error *err) {
    char name[512];
    snprintf(name, sizeof name, "%s/data/%s", l->prefix, t->storage_key);
    zip_int64_t index = zip_name_locate(l->za, name, 0);
    if (index < 0)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: tensor '%s' needs storage %s, which is not in the zip",
                          l->path, t->name, name);
    if (!l->storages[index]) {
        elang_status st = read_entry(l->za, (zip_uint64_t)index, l->path, name, &l->storages[index],
                                     &l->storage_sizes[index], err);
        if (st != ELANG_OK) return st;
        l->out->buffers[l->out->nbuffers++] = l->storages[index];
    }
    size_t expected;
    if (!tensor_nbytes(1, &t->storage_numel, t->elem_size, &expected) ||
        expected != l->storage_sizes[index])
        return elang_fail(err, ELANG_ERR_FORMAT,
                          "%s: storage %s of tensor '%s' has %zu bytes, but %lld elements of %zu bytes "
                          "were declared", l->path, name, t->name, l->storage_sizes[index],
                          (long long)t->storage_numel, t->elem_size);
    *data = l->storages[index];
    return ELANG_OK;
}

static elang_status add_tensor(loader *l, pickle_tensor *t, elang_error *err) {
    weight_entry *e = &l->out->entries[l->out->count];
    size_t nbytes;
    if (!tensor_nbytes(t->ndim, t->shape, t->elem_size, &nbytes))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: tensor '%s' is too large", l->path, t->name);
    if (!is_contiguous(t))
        return elang_fail(err, ELANG_ERR_UNSUPPORTED,
                          "%s: tensor '%s' is not contiguous (a saved view); re-save it after "
                          ".contiguous() or convert the checkpoint to safetensors", l->path, t->name);
    const uint8_t *storage = NULL;
    elang_status st = load_storage(l, t, &storage, err);
    if (st != ELANG_OK) return st;
    /* Element counts are checked, not byte counts, so that offset * elem_size
     * below cannot overflow. */
    size_t numel = nbytes / t->elem_size;
    if ((uint64_t)t->offset > (uint64_t)t->storage_numel ||
        numel > (uint64_t)(t->storage_numel - t->offset))
        return elang_fail(err, ELANG_ERR_FORMAT,
                          "%s: tensor '%s' (elements %lld to %lld) lies outside its storage of %lld elements",
                          l->path, t->name, (long long)t->offset, (long long)t->offset + (long long)numel,
                          (long long)t->storage_numel);
    *e = (weight_entry){
        .name = t->name,
        .dtype = t->dtype,
        .ndim = t->ndim,
        .data = storage + (size_t)t->offset * t->elem_size,
        .nbytes = nbytes,
        .file = l->path,
    };
    memcpy(e->shape, t->shape, sizeof e->shape);
    t->name = NULL; /* now owned by the entry */
    l->out->count++;
    return ELANG_OK;
}

static elang_status load_tensors(zip_t *za, const char *prefix, zip_uint64_t pickle_index,
                                 tensor_file *out, elang_error *err) {
    uint8_t *pickle;
    size_t pickle_len;
    char pickle_name[512];
    snprintf(pickle_name, sizeof pickle_name, "%s/data.pkl", prefix);
    elang_status st = read_entry(za, pickle_index, out->path, pickle_name, &pickle, &pickle_len, err);
    if (st != ELANG_OK) return st;
    pickle_tensor *tensors = NULL;
    size_t count = 0;
    st = pickle_parse_state_dict(pickle, pickle_len, &tensors, &count, err);
    free(pickle);
    if (st != ELANG_OK) return elang_error_prefix(err, st, "%s: %s: ", out->path, pickle_name);

    zip_int64_t nentries = zip_get_num_entries(za, 0);
    loader l = {
        .za = za,
        .path = out->path,
        .prefix = prefix,
        .storages = calloc((size_t)nentries, sizeof *l.storages),
        .storage_sizes = calloc((size_t)nentries, sizeof *l.storage_sizes),
        .out = out,
    };
    out->entries = calloc(count ? count : 1, sizeof *out->entries);
    out->buffers = calloc(count ? count : 1, sizeof *out->buffers);
    if (!l.storages || !l.storage_sizes || !out->entries || !out->buffers)
        st = elang_fail(err, ELANG_ERR_NOMEM, "out of memory reading %s", out->path);
    for (size_t i = 0; i < count && st == ELANG_OK; i++) st = add_tensor(&l, &tensors[i], err);
    free(l.storages);
    free(l.storage_sizes);
    pickle_tensors_free(tensors, count);
    return st;
}

elang_status torch_zip_open(const char *path, tensor_file *out, elang_error *err) {
    *out = (tensor_file){0};
    int code = 0;
    zip_t *za = zip_open(path, ZIP_RDONLY, &code);
    if (!za) return open_failure(path, code, err);
    char *prefix = NULL;
    zip_uint64_t pickle_index = 0;
    elang_status st = (out->path = strdup(path)) ? ELANG_OK
                                                 : elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
    if (st == ELANG_OK) st = find_archive_prefix(za, path, &prefix, &pickle_index, err);
    if (st == ELANG_OK) st = check_byteorder(za, path, prefix, err);
    if (st == ELANG_OK) st = load_tensors(za, prefix, pickle_index, out, err);
    free(prefix);
    zip_discard(za); /* opened read-only: nothing to write back */
    if (st != ELANG_OK) tensor_file_free(out);
    return st;
}
