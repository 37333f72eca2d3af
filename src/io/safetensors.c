#include "io/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"

/* The reference implementation refuses headers above 100 MB, and so do we: a
 * corrupt length must not make the JSON parser chew through gigabytes. */
#define SAFETENSORS_MAX_HEADER ((uint64_t)100 << 20)

static const struct {
    const char *name;
    weight_dtype dtype;
    size_t size;
} dtypes[] = {
    {"F32", DTYPE_F32, 4},   {"F16", DTYPE_F16, 2}, {"BF16", DTYPE_BF16, 2},
    {"I64", DTYPE_I64, 8},   {"I32", DTYPE_I32, 4},
    /* Valid in the format but never computed with: recorded so that a model
     * can ignore such a tensor; an error only when a model takes one. */
    {"F64", DTYPE_OTHER, 8}, {"I16", DTYPE_OTHER, 2}, {"I8", DTYPE_OTHER, 1},
    {"U8", DTYPE_OTHER, 1},  {"U16", DTYPE_OTHER, 2}, {"U32", DTYPE_OTHER, 4},
    {"U64", DTYPE_OTHER, 8}, {"BOOL", DTYPE_OTHER, 1}, {"F8_E4M3", DTYPE_OTHER, 1},
    {"F8_E5M2", DTYPE_OTHER, 1},
};

/* Byte range of one tensor inside the data section, kept until the overlap
 * check has run. */
typedef struct {
    uint64_t begin, end;
    size_t entry;
} byte_range;

static bool get_offset(json_t *v, uint64_t *out) {
    if (!json_is_integer(v) || json_integer_value(v) < 0) return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
}

/* Validates one header entry and fills e (all but name and file). */
static elang_status parse_entry(const char *file, const char *name, json_t *desc,
                                const uint8_t *data, uint64_t data_len,
                                weight_entry *e, byte_range *range, elang_error *err) {
    if (!json_is_object(desc))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: tensor '%s': expected an object", file, name);

    json_t *dtype = json_object_get(desc, "dtype");
    if (!json_is_string(dtype))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: tensor '%s': \"dtype\" is missing or not a string",
                          file, name);
    size_t elem_size = 0;
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++) {
        if (strcmp(json_string_value(dtype), dtypes[i].name) == 0) {
            e->dtype = dtypes[i].dtype;
            elem_size = dtypes[i].size;
        }
    }
    if (!elem_size)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: tensor '%s': unknown dtype \"%s\"", file, name,
                          json_string_value(dtype));

    json_t *shape = json_object_get(desc, "shape");
    if (!json_is_array(shape))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: tensor '%s': \"shape\" is missing or not an array",
                          file, name);
    if (json_array_size(shape) > WEIGHT_MAX_DIMS)
        return elang_fail(err, ELANG_ERR_UNSUPPORTED,
                          "%s: tensor '%s' has %zu dimensions; at most %d are supported", file, name,
                          json_array_size(shape), WEIGHT_MAX_DIMS);
    e->ndim = (int)json_array_size(shape);
    for (int i = 0; i < e->ndim; i++) {
        json_t *dim = json_array_get(shape, (size_t)i);
        if (!json_is_integer(dim) || json_integer_value(dim) < 0)
            return elang_fail(err, ELANG_ERR_FORMAT,
                              "%s: tensor '%s': shape entries must be non-negative integers", file, name);
        e->shape[i] = json_integer_value(dim);
    }
    if (!tensor_nbytes(e->ndim, e->shape, elem_size, &e->nbytes))
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: tensor '%s': shape is too large", file, name);

    json_t *offsets = json_object_get(desc, "data_offsets");
    if (!json_is_array(offsets) || json_array_size(offsets) != 2 ||
        !get_offset(json_array_get(offsets, 0), &range->begin) ||
        !get_offset(json_array_get(offsets, 1), &range->end) || range->begin > range->end)
        return elang_fail(err, ELANG_ERR_FORMAT,
                          "%s: tensor '%s': \"data_offsets\" must be [begin, end] with 0 <= begin <= end",
                          file, name);
    if (range->end - range->begin != e->nbytes)
        return elang_fail(err, ELANG_ERR_FORMAT,
                          "%s: tensor '%s': data_offsets [%llu, %llu] hold %llu bytes, but %zu are "
                          "needed for its dtype %s and shape",
                          file, name, (unsigned long long)range->begin, (unsigned long long)range->end,
                          (unsigned long long)(range->end - range->begin), e->nbytes,
                          json_string_value(dtype));
    if (range->end > data_len)
        return elang_fail(err, ELANG_ERR_FORMAT,
                          "%s is truncated: tensor '%s' lies at bytes [%llu, %llu) of the data section, "
                          "which has only %llu bytes",
                          file, name, (unsigned long long)range->begin, (unsigned long long)range->end,
                          (unsigned long long)data_len);
    e->data = data + range->begin;
    return ELANG_OK;
}

static int by_begin(const void *a, const void *b) {
    const byte_range *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* Two tensors sharing bytes would make one silently alias the other; the
 * reference implementation rejects that too. Empty tensors overlap nothing. */
static elang_status check_overlaps(const char *file, const weight_entry *entries,
                                   byte_range *ranges, size_t count, elang_error *err) {
    qsort(ranges, count, sizeof *ranges, by_begin);
    const byte_range *prev = NULL;
    for (size_t i = 0; i < count; i++) {
        if (ranges[i].begin == ranges[i].end) continue;
        if (prev && ranges[i].begin < prev->end)
            return elang_fail(err, ELANG_ERR_FORMAT,
                              "%s: tensors '%s' and '%s' overlap (data_offsets [%llu, %llu] and "
                              "[%llu, %llu])",
                              file, entries[prev->entry].name, entries[ranges[i].entry].name,
                              (unsigned long long)prev->begin, (unsigned long long)prev->end,
                              (unsigned long long)ranges[i].begin, (unsigned long long)ranges[i].end);
        prev = &ranges[i];
    }
    return ELANG_OK;
}

static elang_status parse_header(const char *file, json_t *header, const uint8_t *data,
                                 uint64_t data_len, weight_entry *entries, size_t *count,
                                 byte_range *ranges, elang_error *err) {
    const char *name;
    json_t *desc;
    json_object_foreach(header, name, desc) {
        if (strcmp(name, "__metadata__") == 0) continue;
        weight_entry *e = &entries[*count];
        elang_status st = parse_entry(file, name, desc, data, data_len, e, &ranges[*count], err);
        if (st != ELANG_OK) return st;
        if (!(e->name = strdup(name))) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
        e->file = file;
        ranges[*count].entry = *count;
        (*count)++;
    }
    return check_overlaps(file, entries, ranges, *count, err);
}

elang_status safetensors_parse(const uint8_t *buf, size_t len, const char *file,
                               weight_entry **entries, size_t *count, elang_error *err) {
    *entries = NULL;
    *count = 0;
    if (len < 8)
        return elang_fail(err, ELANG_ERR_FORMAT,
                          "%s is too short (%zu bytes) to be a safetensors file", file, len);
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; i--) header_len = header_len << 8 | buf[i];
    if (header_len > len - 8)
        return elang_fail(err, ELANG_ERR_FORMAT,
                          "%s: header length %llu exceeds the %zu bytes that follow it "
                          "(truncated, or not a safetensors file)",
                          file, (unsigned long long)header_len, len - 8);
    if (header_len > SAFETENSORS_MAX_HEADER)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: header length %llu is over the 100 MB limit",
                          file, (unsigned long long)header_len);

    json_error_t je;
    json_t *header = json_loadb((const char *)buf + 8, (size_t)header_len, JSON_REJECT_DUPLICATES, &je);
    if (!header)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: malformed JSON header: %s (at byte %d)", file,
                          je.text, je.position);
    if (!json_is_object(header)) {
        json_decref(header);
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: the JSON header is not an object", file);
    }

    size_t cap = json_object_size(header);
    weight_entry *list = calloc(cap ? cap : 1, sizeof *list);
    byte_range *ranges = calloc(cap ? cap : 1, sizeof *ranges);
    size_t n = 0;
    elang_status st = list && ranges
        ? parse_header(file, header, buf + 8 + header_len, len - 8 - header_len, list, &n, ranges, err)
        : elang_fail(err, ELANG_ERR_NOMEM, "out of memory reading %s", file);
    free(ranges);
    json_decref(header);
    if (st != ELANG_OK) {
        weight_entries_free(list, n);
        return st;
    }
    *entries = list;
    *count = n;
    return ELANG_OK;
}

elang_status safetensors_open(const char *path, tensor_file *out, elang_error *err) {
    *out = (tensor_file){0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return elang_fail(err, ELANG_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return elang_fail(err, ELANG_ERR_IO, "cannot read %s: not a regular file", path);
    }
    size_t len = (size_t)st.st_size;
    /* Mapping instead of reading: F32 tensors are then used in place, and the
     * pages of tensors nobody takes are never read. */
    void *map = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    int map_errno = errno;
    close(fd);
    if (map == MAP_FAILED)
        return elang_fail(err, ELANG_ERR_IO, "cannot map %s: %s", path, strerror(map_errno));
    out->mapping = map;
    out->mapping_len = len;
    if (!(out->path = strdup(path))) {
        tensor_file_free(out);
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
    }
    elang_status status = safetensors_parse(map, len, out->path, &out->entries, &out->count, err);
    if (status != ELANG_OK) tensor_file_free(out);
    return status;
}
