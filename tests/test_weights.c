/* The weight store: every fixture format, F16/BF16 conversion, sharding, and
 * each way a weights file can be broken. Files with known contents are
 * written into test_tmpdir() by the helpers below. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>
#include <zip.h>

#include "io/weights.h"
#include "support.h"

/* ------------------------------------------------------------- helpers */

/* test_tmpdir()/<printf args>; rotating static buffers. */
__attribute__((format(printf, 1, 2)))
static const char *tmp_path(const char *fmt, ...) {
    static char buf[8][1024];
    static int next;
    char *b = buf[next++ % 8];
    int n = snprintf(b, sizeof buf[0], "%s/", test_tmpdir());
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b + n, sizeof buf[0] - (size_t)n, fmt, ap);
    va_end(ap);
    return b;
}

/* A fresh model directory test_tmpdir()/name; the path stays valid until
 * free_model_dirs() at the end. */
static char *model_dirs[128];
static size_t nmodel_dirs;

static const char *model_dir(const char *name) {
    assert_true(nmodel_dirs < sizeof model_dirs / sizeof model_dirs[0]);
    char *dir = strdup(tmp_path("%s", name));
    if (mkdir(dir, 0755) != 0) fail_msg("cannot create %s", dir);
    return model_dirs[nmodel_dirs++] = dir;
}

static void free_model_dirs(void) {
    while (nmodel_dirs) free(model_dirs[--nmodel_dirs]);
}

static void copy_file(const char *from, const char *to) {
    size_t len;
    char *data = read_file_all(from, &len);
    write_file(to, data, len);
    free(data);
}

static weight_store *open_ok(const char *dir) {
    weight_store *ws = NULL;
    elang_error err = {0};
    if (weight_store_open(dir, &ws, &err) != ELANG_OK) fail_msg("opening %s: %s", dir, err.message);
    assert_non_null(ws);
    return ws;
}

static void expect_error(elang_status got, const elang_error *err, elang_status code,
                         const char *substring) {
    if (got != code || err->code != code || !strstr(err->message, substring))
        fail_msg("got %s \"%s\"; expected %s containing \"%s\"", elang_status_name(got), err->message,
                 elang_status_name(code), substring);
}

static void expect_open_error(const char *dir, elang_status code, const char *substring) {
    weight_store *ws = NULL;
    elang_error err = {0};
    elang_status st = weight_store_open(dir, &ws, &err);
    expect_error(st, &err, code, substring);
    assert_null(ws);
}

static void expect_shape(weight_store *ws, const char *name, weight_dtype dtype, int ndim,
                         int64_t d0, int64_t d1) {
    weight_entry *e = weight_store_find(ws, name);
    if (!e) fail_msg("no tensor '%s'", name);
    assert_int_equal(e->dtype, dtype);
    assert_int_equal(e->ndim, ndim);
    assert_int_equal(e->shape[0], d0);
    if (ndim > 1) assert_int_equal(e->shape[1], d1);
}

/* One small valid F32 tensor file, for directories whose point is elsewhere. */
static void write_tiny_safetensors(const char *path, const char *tensor_name) {
    static const float values[2] = {1, 2};
    tensor_spec t = {tensor_name, "F32", 1, (const int64_t[]){2}, values, sizeof values};
    write_safetensors(path, &t, 1);
}

/* --------------------------------------------------- pickle / zip writer */

/* Just enough of a pickler to write state dicts the way torch.save does,
 * plus the variations torch.save never makes (offsets, views, hostile input). */
typedef struct {
    uint8_t bytes[8192];
    size_t len;
    bool protocol4; /* FRAME, STACK_GLOBAL and MEMOIZE, as Python 3.8+ writes */
} pickle_buf;

static void pk_bytes(pickle_buf *p, const void *b, size_t n) {
    assert_true(p->len + n <= sizeof p->bytes);
    memcpy(p->bytes + p->len, b, n);
    p->len += n;
}

static void pk_op(pickle_buf *p, uint8_t op) { pk_bytes(p, &op, 1); }

static void pk_string(pickle_buf *p, const char *s) { /* SHORT_BINUNICODE */
    pk_op(p, 0x8c);
    pk_op(p, (uint8_t)strlen(s));
    pk_bytes(p, s, strlen(s));
}

static void pk_int(pickle_buf *p, int32_t v) { /* BININT */
    uint8_t b[5] = {'J', (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    pk_bytes(p, b, 5);
}

static void pk_global(pickle_buf *p, const char *module, const char *name) {
    if (p->protocol4) {
        pk_string(p, module);
        pk_string(p, name);
        pk_op(p, 0x93); /* STACK_GLOBAL */
        pk_op(p, 0x94); /* MEMOIZE */
        return;
    }
    pk_op(p, 'c'); /* GLOBAL */
    pk_bytes(p, module, strlen(module));
    pk_op(p, '\n');
    pk_bytes(p, name, strlen(name));
    pk_op(p, '\n');
}

static void pk_int_tuple(pickle_buf *p, int n, const int *v) {
    pk_op(p, '(');
    for (int i = 0; i < n; i++) pk_int(p, v[i]);
    pk_op(p, 't');
}

typedef struct {
    const char *name, *storage_type, *key;
    int storage_numel, offset, ndim;
    int size[5], stride[5];
} pickled_tensor;

/* name, _rebuild_tensor_v2((persid ('storage', type, key, 'cpu', numel)),
 * offset, size, stride, False, OrderedDict()) */
static void pk_tensor(pickle_buf *p, const pickled_tensor *t) {
    pk_string(p, t->name);
    pk_global(p, "torch._utils", "_rebuild_tensor_v2");
    pk_op(p, '(');
    pk_op(p, '(');
    pk_string(p, "storage");
    pk_global(p, "torch", t->storage_type);
    pk_string(p, t->key);
    pk_string(p, "cpu");
    pk_int(p, t->storage_numel);
    pk_op(p, 't');
    pk_op(p, 'Q');
    pk_int(p, t->offset);
    pk_int_tuple(p, t->ndim, t->size);
    pk_int_tuple(p, t->ndim, t->stride);
    pk_op(p, 0x89);
    pk_global(p, "collections", "OrderedDict");
    pk_op(p, ')');
    pk_op(p, 'R');
    pk_op(p, 't');
    pk_op(p, 'R');
}

/* OrderedDict() filled by SETITEMS, then BUILD with a _metadata attribute, as
 * a module's state_dict() pickles. */
static void pk_state_dict(pickle_buf *p, const pickled_tensor *t, size_t n) {
    pk_op(p, 0x80);
    pk_op(p, p->protocol4 ? 4 : 2);
    if (p->protocol4) {
        pk_op(p, 0x95); /* FRAME, its length patched below */
        pk_bytes(p, (uint8_t[8]){0}, 8);
    }
    pk_global(p, "collections", "OrderedDict");
    pk_op(p, ')');
    pk_op(p, 'R');
    pk_op(p, '(');
    for (size_t i = 0; i < n; i++) pk_tensor(p, &t[i]);
    pk_op(p, 'u');
    pk_op(p, '}');
    pk_string(p, "_metadata");
    pk_op(p, '}');
    pk_string(p, "");
    pk_op(p, '}');
    pk_string(p, "version");
    pk_int(p, 1);
    pk_op(p, 's');
    pk_op(p, 's');
    pk_op(p, 's');
    pk_op(p, 'b');
    pk_op(p, '.');
    if (p->protocol4)
        for (int i = 0; i < 8; i++) p->bytes[3 + i] = (uint8_t)((uint64_t)(p->len - 11) >> (8 * i));
}

typedef struct {
    const char *name;
    const void *data;
    size_t len;
} zip_member;

/* Writes a zip with the given members, stored uncompressed like torch.save. */
static void write_zip(const char *path, const zip_member *m, size_t n) {
    int code;
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &code);
    assert_non_null(za);
    for (size_t i = 0; i < n; i++) {
        zip_source_t *src = zip_source_buffer(za, m[i].data, m[i].len, 0);
        zip_int64_t index = zip_file_add(za, m[i].name, src, ZIP_FL_OVERWRITE);
        assert_true(index >= 0);
        zip_set_file_compression(za, (zip_uint64_t)index, ZIP_CM_STORE, 0);
    }
    if (zip_close(za) != 0) fail_msg("writing %s: %s", path, zip_strerror(za));
}

/* A copy of the distilbert checkpoint in a new model dir, with `entry`
 * replaced by data (or deleted when data is NULL). */
static const char *distilbert_variant(const char *dir_name, const char *entry, const void *data,
                                      size_t len) {
    const char *dir = model_dir(dir_name);
    const char *bin = tmp_path("%s/pytorch_model.bin", dir_name);
    copy_file(shared_path("fixtures/hf/distilbert/pytorch_model.bin"), bin);
    int code;
    zip_t *za = zip_open(bin, 0, &code);
    assert_non_null(za);
    zip_int64_t index = zip_name_locate(za, entry, 0);
    assert_true(index >= 0);
    if (data) {
        zip_source_t *src = zip_source_buffer(za, data, len, 0);
        assert_int_equal(zip_file_replace(za, (zip_uint64_t)index, src, 0), 0);
    } else {
        assert_int_equal(zip_delete(za, (zip_uint64_t)index), 0);
    }
    if (zip_close(za) != 0) fail_msg("writing %s: %s", bin, zip_strerror(za));
    return dir;
}

/* ------------------------------------------------------- fixtures load */

static void test_bert_safetensors(void **state) {
    (void)state;
    weight_store *ws = open_ok(shared_path("fixtures/hf/bert"));
    assert_int_equal(weight_store_count(ws), 42);
    assert_string_equal(weight_store_source(ws), "model.safetensors");
    expect_shape(ws, "bert.embeddings.position_ids", DTYPE_I64, 2, 1, 64);
    expect_shape(ws, "bert.embeddings.word_embeddings.weight", DTYPE_F32, 2, 30522, 32);
    expect_shape(ws, "bert.encoder.layer.1.attention.self.query.weight", DTYPE_F32, 2, 32, 32);
    expect_shape(ws, "classifier.bias", DTYPE_F32, 1, 3, 0);
    assert_null(weight_store_find(ws, "cls.predictions.bias"));
    assert_string_equal(weight_store_at(ws, 0)->name, "bert.embeddings.position_ids");
    assert_null(weight_store_at(ws, 42));

    const int64_t *ids = weight_store_find(ws, "bert.embeddings.position_ids")->data;
    assert_int_equal(ids[0], 0);
    assert_int_equal(ids[63], 63);

    /* Values read with Python's struct from the file's bytes. */
    const float *bias;
    elang_error err = {0};
    assert_int_equal(weight_store_take_f32(ws, "classifier.bias", 1, (int64_t[]){3}, &bias, &err), ELANG_OK);
    assert_true(bias == weight_store_find(ws, "classifier.bias")->data); /* in place */
    assert_true(bias[0] == 0.3506849706172943f);
    assert_true(bias[1] == -0.16958609223365784f);
    assert_true(bias[2] == 0.10122418403625488f);
    assert_true(weight_store_find(ws, "classifier.bias")->taken);
    weight_store_free(ws);
}

/* The reference decoding of an IEEE half, by its definition. */
static double half_reference(uint16_t h) {
    int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    double sign = h & 0x8000 ? -1 : 1;
    if (exponent == 0x1f) return mantissa ? NAN : sign * INFINITY;
    if (exponent == 0) return sign * ldexp(mantissa, -24);
    return sign * ldexp(mantissa + 1024, exponent - 25);
}

static void test_bert_f16(void **state) {
    (void)state;
    weight_store *ws = open_ok(shared_path("fixtures/hf/bert-f16"));
    assert_int_equal(weight_store_count(ws), 42);
    expect_shape(ws, "bert.embeddings.word_embeddings.weight", DTYPE_F16, 2, 30522, 32);
    elang_error err = {0};
    const float *bias;
    assert_int_equal(weight_store_take_f32(ws, "classifier.bias", 1, (int64_t[]){3}, &bias, &err), ELANG_OK);
    /* From Python: struct.unpack('<e') of the bytes 0xb03a, 0x323c, 0xb369. */
    assert_true(bias[0] == -0.132080078125f);
    assert_true(bias[1] == 0.19482421875f);
    assert_true(bias[2] == -0.2315673828125f);

    /* Every half of every tensor (165 of them subnormal) against the
     * definition of the format. */
    size_t checked = 0;
    for (size_t i = 0; i < weight_store_count(ws); i++) {
        weight_entry *e = weight_store_at(ws, i);
        if (e->dtype != DTYPE_F16) continue;
        const float *f32;
        assert_int_equal(weight_store_take_f32(ws, e->name, e->ndim, e->shape, &f32, &err), ELANG_OK);
        const uint8_t *raw = e->data;
        for (size_t k = 0; k < e->nbytes / 2; k++, checked++) {
            uint16_t h = (uint16_t)(raw[2 * k] | raw[2 * k + 1] << 8);
            if ((double)f32[k] != half_reference(h))
                fail_msg("%s[%zu]: 0x%04x gave %.9g", e->name, k, h, (double)f32[k]);
        }
    }
    assert_int_equal(checked, 993613);
    /* Taking a tensor again gives the same converted copy. */
    const float *again;
    assert_int_equal(weight_store_take_f32(ws, "classifier.bias", 1, (int64_t[]){3}, &again, &err), ELANG_OK);
    assert_ptr_equal(again, bias);
    weight_store_free(ws);
}

static void test_distilbert_bin(void **state) {
    (void)state;
    weight_store *ws = open_ok(shared_path("fixtures/hf/distilbert"));
    assert_int_equal(weight_store_count(ws), 40);
    assert_string_equal(weight_store_source(ws), "pytorch_model.bin");
    assert_string_equal(weight_store_at(ws, 0)->name, "distilbert.embeddings.word_embeddings.weight");
    assert_string_equal(weight_store_at(ws, 39)->name, "classifier.bias");
    expect_shape(ws, "distilbert.embeddings.word_embeddings.weight", DTYPE_F32, 2, 30522, 32);
    expect_shape(ws, "distilbert.embeddings.position_embeddings.weight", DTYPE_F32, 2, 64, 32);
    expect_shape(ws, "distilbert.transformer.layer.1.ffn.lin1.weight", DTYPE_F32, 2, 37, 32);
    expect_shape(ws, "pre_classifier.weight", DTYPE_F32, 2, 32, 32);
    expect_shape(ws, "classifier.bias", DTYPE_F32, 1, 2, 0);

    /* Values read independently with Python's zipfile and struct from
     * pytorch_model/data/<key>, the key taken from the pickle. */
    elang_error err = {0};
    const float *v;
    assert_int_equal(weight_store_take_f32(ws, "classifier.bias", 1, (int64_t[]){2}, &v, &err), ELANG_OK);
    assert_true(v[0] == -0.3029693365097046f && v[1] == 0.18072429299354553f);
    assert_int_equal(weight_store_take_f32(ws, "distilbert.embeddings.word_embeddings.weight", 2,
                                           (int64_t[]){30522, 32}, &v, &err), ELANG_OK);
    assert_true(v[0] == -0.0932500958442688f && v[1] == 0.15911279618740082f);
    assert_true(v[30522 * 32 - 1] == -0.27587890625f);
    assert_int_equal(weight_store_take_f32(ws, "distilbert.transformer.layer.1.output_layer_norm.weight", 1,
                                           (int64_t[]){32}, &v, &err), ELANG_OK);
    assert_true(v[0] == 1.1147452592849731f && v[1] == 1.0425424575805664f);
    weight_store_free(ws);
}

static void test_other_fixtures(void **state) {
    (void)state;
    weight_store *ws = open_ok(shared_path("fixtures/hf/roberta"));
    assert_int_equal(weight_store_count(ws), 42);
    expect_shape(ws, "roberta.embeddings.word_embeddings.weight", DTYPE_F32, 2, 50261, 32);
    expect_shape(ws, "roberta.embeddings.position_ids", DTYPE_I64, 2, 1, 66);
    expect_shape(ws, "classifier.out_proj.bias", DTYPE_F32, 1, 3, 0);
    weight_store_free(ws);

    /* T5 v1.0 ties the embeddings: stored once, as shared.weight. */
    ws = open_ok(shared_path("fixtures/hf/t5"));
    assert_int_equal(weight_store_count(ws), 60);
    expect_shape(ws, "shared.weight", DTYPE_F32, 2, 2100, 32);
    expect_shape(ws, "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", DTYPE_F32, 2,
                 32, 4);
    assert_null(weight_store_find(ws, "lm_head.weight"));
    assert_null(weight_store_find(ws, "encoder.embed_tokens.weight"));
    weight_store_free(ws);

    ws = open_ok(shared_path("fixtures/hf/t5-v1_1"));
    assert_int_equal(weight_store_count(ws), 52);
    expect_shape(ws, "lm_head.weight", DTYPE_F32, 2, 2100, 32);
    weight_store_free(ws);

    /* Marian stores no position embeddings. */
    ws = open_ok(shared_path("fixtures/hf/marian"));
    assert_int_equal(weight_store_count(ws), 86);
    expect_shape(ws, "final_logits_bias", DTYPE_F32, 2, 1, 1448);
    expect_shape(ws, "model.shared.weight", DTYPE_F32, 2, 1448, 32);
    assert_null(weight_store_find(ws, "model.encoder.embed_positions.weight"));
    weight_store_free(ws);
}

/* ------------------------------------------------------------ dtypes */

static void test_f16_bf16_conversion(void **state) {
    (void)state;
    /* 1, -2, smallest subnormal, largest subnormal, largest normal, -0 */
    static const uint16_t halfs[6] = {0x3C00, 0xC000, 0x0001, 0x03FF, 0x7BFF, 0x8000};
    /* 1, -2, smallest subnormal, 3.140625 */
    static const uint16_t bfloats[4] = {0x3F80, 0xC000, 0x0001, 0x4049};
    /* Not numbers, which no trained weight is: 1 and -inf, NaN; +inf. */
    static const uint16_t half_inf[2] = {0x3C00, 0xFC00}, half_nan[1] = {0x7E00}, bfloat_inf[1] = {0x7F80};
    /* A U8 first, so that the F32 tensor after it is misaligned. */
    static const uint8_t pad[1] = {7};
    static const float f32[2] = {1.5f, -3.25f};
    uint8_t f32_bytes[8];
    memcpy(f32_bytes, f32, sizeof f32);
    const tensor_spec t[7] = {
        {"f16", "F16", 1, (const int64_t[]){6}, halfs, sizeof halfs},
        {"bf16", "BF16", 1, (const int64_t[]){4}, bfloats, sizeof bfloats},
        {"f16_inf", "F16", 1, (const int64_t[]){2}, half_inf, sizeof half_inf},
        {"f16_nan", "F16", 1, (const int64_t[]){1}, half_nan, sizeof half_nan},
        {"bf16_inf", "BF16", 1, (const int64_t[]){1}, bfloat_inf, sizeof bfloat_inf},
        {"pad", "U8", 1, (const int64_t[]){1}, pad, 1},
        {"unaligned", "F32", 2, (const int64_t[]){1, 2}, f32_bytes, 8},
    };
    const char *dir = model_dir("dtypes");
    write_safetensors(tmp_path("dtypes/model.safetensors"), t, 7);
    weight_store *ws = open_ok(dir);
    elang_error err = {0};
    const float *v;

    assert_int_equal(weight_store_take_f32(ws, "f16", 1, (int64_t[]){6}, &v, &err), ELANG_OK);
    assert_true(v[0] == 1.0f);
    assert_true(v[1] == -2.0f);
    assert_true(v[2] == 5.960464477539063e-08f);
    assert_true(v[3] == 6.097555160522461e-05f);
    assert_true(v[4] == 65504.0f);
    assert_true(v[5] == 0.0f && signbit(v[5]));

    assert_int_equal(weight_store_take_f32(ws, "bf16", 1, (int64_t[]){4}, &v, &err), ELANG_OK);
    assert_true(v[0] == 1.0f);
    assert_true(v[1] == -2.0f);
    assert_true(v[2] == 9.183549615799121e-41f);
    assert_true(v[3] == 3.140625f);

    /* Infinities and NaN convert as such, and are refused by name. */
    expect_error(weight_store_take_f32(ws, "f16_inf", 1, (int64_t[]){2}, &v, &err), &err, ELANG_ERR_FORMAT,
                 "tensor 'f16_inf' in");
    assert_non_null(strstr(err.message, "holds an infinity at element 1: the weights are damaged"));
    assert_null(v);
    assert_false(weight_store_find(ws, "f16_inf")->taken);
    expect_error(weight_store_take_f32(ws, "f16_nan", 1, (int64_t[]){1}, &v, &err), &err, ELANG_ERR_FORMAT,
                 "holds NaN at element 0");
    expect_error(weight_store_take_f32(ws, "bf16_inf", 1, (int64_t[]){1}, &v, &err), &err, ELANG_ERR_FORMAT,
                 "holds an infinity at element 0");

    weight_entry *unaligned = weight_store_find(ws, "unaligned");
    assert_int_equal((uintptr_t)unaligned->data % 4, 1);
    assert_int_equal(weight_store_take_f32(ws, "unaligned", 2, (int64_t[]){1, 2}, &v, &err), ELANG_OK);
    assert_true(v != unaligned->data);
    assert_true(v[0] == 1.5f && v[1] == -3.25f);

    /* Other dtypes load (to be ignored) but cannot be taken as weights. */
    assert_int_equal(weight_store_find(ws, "pad")->dtype, DTYPE_OTHER);
    expect_error(weight_store_take_f32(ws, "pad", 1, (int64_t[]){1}, &v, &err), &err, ELANG_ERR_UNSUPPORTED,
                 "tensor 'pad' in");
    assert_null(v);
    weight_store_free(ws);

    ws = open_ok(shared_path("fixtures/hf/bert"));
    expect_error(weight_store_take_f32(ws, "bert.embeddings.position_ids", 2, (int64_t[]){1, 64}, &v, &err),
                 &err, ELANG_ERR_UNSUPPORTED, "has dtype I64; only F32, F16 and BF16");
    weight_store_free(ws);
}

/* ----------------------------------------------------- take and unused */

static void test_take_errors_and_unused(void **state) {
    (void)state;
    weight_store *ws = open_ok(shared_path("fixtures/hf/bert"));
    elang_error err = {0};
    const float *v;
    char expected[2048];
    snprintf(expected, sizeof expected,
             "tensor 'classifier.weight' in %s has shape [3, 32], expected [2, 32]",
             shared_path("fixtures/hf/bert/model.safetensors"));
    expect_error(weight_store_take_f32(ws, "classifier.weight", 2, (int64_t[]){2, 32}, &v, &err), &err,
                 ELANG_ERR_FORMAT, expected);
    expect_error(weight_store_take_f32(ws, "classifier.weight", 1, (int64_t[]){96}, &v, &err), &err,
                 ELANG_ERR_FORMAT, "has shape [3, 32], expected [96]");
    assert_false(weight_store_find(ws, "classifier.weight")->taken);
    expect_error(weight_store_take_f32(ws, "pooler.dense.wieght", 2, (int64_t[]){32, 32}, &v, &err), &err,
                 ELANG_ERR_FORMAT, "tensor 'pooler.dense.wieght' is missing from");
    expect_error(weight_store_take_f32(ws, "classifier.weight", 9, (int64_t[]){1}, &v, &err), &err,
                 ELANG_ERR_INVALID_ARG, "classifier.weight");

    /* Everything but three tensors taken or ignored. */
    for (size_t i = 0; i < weight_store_count(ws); i++) {
        weight_entry *e = weight_store_at(ws, i);
        if (strcmp(e->name, "classifier.weight") == 0 || strcmp(e->name, "classifier.bias") == 0 ||
            strcmp(e->name, "bert.pooler.dense.bias") == 0)
            continue;
        if (e->dtype == DTYPE_F32)
            assert_int_equal(weight_store_take_f32(ws, e->name, e->ndim, e->shape, &v, &err), ELANG_OK);
        else
            weight_store_ignore(ws, e->name);
    }
    expect_error(weight_store_check_unused(ws, &err), &err, ELANG_ERR_FORMAT,
                 "3 tensors of model.safetensors are not used by the model, the first being "
                 "'bert.pooler.dense.bias'");
    weight_store_ignore(ws, "bert.pooler.dense.bias");
    weight_store_ignore(ws, "classifier.bias");
    weight_store_ignore(ws, "no.such.tensor"); /* harmless */
    expect_error(weight_store_check_unused(ws, &err), &err, ELANG_ERR_FORMAT,
                 "tensor 'classifier.weight' in");
    assert_int_equal(weight_store_take_f32(ws, "classifier.weight", 2, (int64_t[]){3, 32}, &v, &err), ELANG_OK);
    assert_int_equal(weight_store_check_unused(ws, &err), ELANG_OK);
    weight_store_free(ws);
}

/* ---------------------------------------------------------- sharding */

/* Splits the bert fixture into two shards plus an index, as
 * save_pretrained(max_shard_size=...) does. Returns the directory. */
static const char *write_bert_shards(const char *name, const char *edit_index_tensor,
                                     const char *edit_index_shard) {
    const char *dir = model_dir(name);
    weight_store *bert = open_ok(shared_path("fixtures/hf/bert"));
    size_t n = weight_store_count(bert), half = n / 2;
    tensor_spec *t = calloc(n, sizeof *t);
    json_t *weight_map = json_object();
    for (size_t i = 0; i < n; i++) {
        weight_entry *e = weight_store_at(bert, i);
        t[i] = (tensor_spec){e->name, e->dtype == DTYPE_I64 ? "I64" : "F32", e->ndim, e->shape, e->data,
                             e->nbytes};
        json_object_set_new(weight_map, e->name,
                            json_string(i < half ? "model-00001-of-00002.safetensors"
                                                 : "model-00002-of-00002.safetensors"));
    }
    write_safetensors(tmp_path("%s/model-00001-of-00002.safetensors", name), t, half);
    write_safetensors(tmp_path("%s/model-00002-of-00002.safetensors", name), t + half, n - half);
    if (edit_index_tensor) {
        if (edit_index_shard)
            json_object_set_new(weight_map, edit_index_tensor, json_string(edit_index_shard));
        else
            json_object_del(weight_map, edit_index_tensor);
    }
    json_t *index = json_pack("{s:{s:I}, s:o}", "metadata", "total_size", (json_int_t)3974964,
                              "weight_map", weight_map);
    assert_int_equal(json_dump_file(index, tmp_path("%s/model.safetensors.index.json", name), 0), 0);
    json_decref(index);
    free(t);
    weight_store_free(bert);
    return dir;
}

static void test_sharded_safetensors(void **state) {
    (void)state;
    weight_store *sharded = open_ok(write_bert_shards("sharded", NULL, NULL));
    weight_store *bert = open_ok(shared_path("fixtures/hf/bert"));
    assert_string_equal(weight_store_source(sharded), "2 shards of model.safetensors.index.json");
    assert_int_equal(weight_store_count(sharded), weight_store_count(bert));
    for (size_t i = 0; i < weight_store_count(bert); i++) {
        weight_entry *want = weight_store_at(bert, i);
        weight_entry *got = weight_store_find(sharded, want->name);
        if (!got) fail_msg("'%s' lost in sharding", want->name);
        assert_int_equal(got->dtype, want->dtype);
        assert_int_equal(got->ndim, want->ndim);
        assert_memory_equal(got->shape, want->shape, sizeof got->shape);
        assert_int_equal(got->nbytes, want->nbytes);
        assert_memory_equal(got->data, want->data, want->nbytes);
        assert_non_null(strstr(got->file, i < weight_store_count(bert) / 2 ? "model-00001-of-00002"
                                                                            : "model-00002-of-00002"));
    }
    weight_store_free(bert);
    weight_store_free(sharded);
}

static void test_sharded_errors(void **state) {
    (void)state;
    const char *dir = write_bert_shards("shard_missing_file", "classifier.bias", "model-00003-of-00003.safetensors");
    expect_open_error(dir, ELANG_ERR_IO, "shard 'model-00003-of-00003.safetensors' named by "
                                         "model.safetensors.index.json: cannot open");

    dir = write_bert_shards("shard_wrong", "classifier.bias", "model-00001-of-00002.safetensors");
    expect_open_error(dir, ELANG_ERR_FORMAT, "lists tensor 'classifier.bias' in model-00001-of-00002.safetensors, "
                                             "but it is in model-00002-of-00002.safetensors");

    dir = write_bert_shards("shard_unlisted", "classifier.bias", NULL);
    expect_open_error(dir, ELANG_ERR_FORMAT, "tensor 'classifier.bias' of ");
    expect_open_error(dir, ELANG_ERR_FORMAT, "is not listed in");

    dir = write_bert_shards("shard_lacks", "classifier.extra", "model-00002-of-00002.safetensors");
    expect_open_error(dir, ELANG_ERR_FORMAT, "lists tensor 'classifier.extra' in "
                                             "model-00002-of-00002.safetensors, but it is in no shard");

    dir = write_bert_shards("shard_escape", "classifier.bias", "../bert/model.safetensors");
    expect_open_error(dir, ELANG_ERR_FORMAT, "must be a file name in the same directory");

    /* The same tensor in both shards. */
    dir = model_dir("shard_duplicate");
    write_tiny_safetensors(tmp_path("shard_duplicate/a.safetensors"), "w");
    write_tiny_safetensors(tmp_path("shard_duplicate/b.safetensors"), "w");
    const char *index = "{\"weight_map\": {\"w\": \"a.safetensors\", \"v\": \"b.safetensors\"}}";
    write_file(tmp_path("shard_duplicate/model.safetensors.index.json"), index, strlen(index));
    expect_open_error(dir, ELANG_ERR_FORMAT, "tensor 'w' appears twice");

    dir = model_dir("shard_bad_index");
    write_file(tmp_path("shard_bad_index/model.safetensors.index.json"), "{\"weight_map\": [", 16);
    expect_open_error(dir, ELANG_ERR_FORMAT, "model.safetensors.index.json: malformed JSON");
    write_file(tmp_path("shard_bad_index/model.safetensors.index.json"), "{}", 2);
    expect_open_error(dir, ELANG_ERR_FORMAT, "\"weight_map\" is missing");
}

/* ----------------------------------------------- broken safetensors */

static void test_missing_weights(void **state) {
    (void)state;
    expect_open_error(tmp_path("no_such_dir"), ELANG_ERR_IO, "cannot open model directory");
    const char *dir = model_dir("empty");
    char expected[2048];
    snprintf(expected, sizeof expected,
             "no weights in %s: expected model.safetensors, model.safetensors.index.json or pytorch_model.bin",
             dir);
    expect_open_error(dir, ELANG_ERR_IO, expected);
}

/* A model dir holding one model.safetensors with this header and data. */
static const char *bad_safetensors(const char *name, const char *header, size_t data_len) {
    static const uint8_t zeros[64];
    assert_true(data_len <= sizeof zeros);
    const char *dir = model_dir(name);
    write_raw_safetensors(tmp_path("%s/model.safetensors", name), header, zeros, data_len);
    return dir;
}

static void test_broken_safetensors(void **state) {
    (void)state;
    /* Header length beyond the end of the file. */
    const char *dir = model_dir("long_header");
    uint8_t head[16] = {0xff, 0xff, 0, 0, 0, 0, 0, 0, '{', '}'};
    write_file(tmp_path("long_header/model.safetensors"), head, sizeof head);
    expect_open_error(dir, ELANG_ERR_FORMAT, "header length 65535 exceeds the 8 bytes that follow it");

    dir = model_dir("short_file");
    write_file(tmp_path("short_file/model.safetensors"), head, 5);
    expect_open_error(dir, ELANG_ERR_FORMAT, "too short");

    /* Truncated: the fixture without its last 10 bytes, which belong to
     * classifier.bias, the tensor stored last. */
    dir = model_dir("truncated");
    size_t len;
    char *bert = read_file_all(shared_path("fixtures/hf/bert/model.safetensors"), &len);
    write_file(tmp_path("truncated/model.safetensors"), bert, len - 10);
    free(bert);
    expect_open_error(dir, ELANG_ERR_FORMAT, "model.safetensors is truncated: tensor 'classifier.bias' lies "
                                             "at bytes [3974952, 3974964) of the data section, which has "
                                             "only 3974954 bytes");

    expect_open_error(bad_safetensors("bad_json", "{\"a\": {\"dtype\": ", 0), ELANG_ERR_FORMAT,
                      "malformed JSON header");
    expect_open_error(bad_safetensors("not_object", "[1, 2]", 0), ELANG_ERR_FORMAT,
                      "the JSON header is not an object");
    expect_open_error(bad_safetensors("dup_key",
                                      "{\"a\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [0, 4]},"
                                      " \"a\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [4, 8]}}",
                                      8),
                      ELANG_ERR_FORMAT, "duplicate");
    expect_open_error(bad_safetensors("entry_not_object", "{\"w\": 3}", 0), ELANG_ERR_FORMAT,
                      "tensor 'w': expected an object");
    expect_open_error(bad_safetensors("unknown_dtype",
                                      "{\"w\": {\"dtype\": \"F31\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4),
                      ELANG_ERR_FORMAT, "tensor 'w': unknown dtype \"F31\"");
    expect_open_error(bad_safetensors("no_dtype", "{\"w\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4),
                      ELANG_ERR_FORMAT, "tensor 'w': \"dtype\" is missing");
    expect_open_error(bad_safetensors("neg_shape",
                                      "{\"w\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", 4),
                      ELANG_ERR_FORMAT, "tensor 'w': shape entries must be non-negative integers");
    expect_open_error(bad_safetensors("float_shape",
                                      "{\"w\": {\"dtype\": \"F32\", \"shape\": [1.0], \"data_offsets\": [0, 4]}}", 4),
                      ELANG_ERR_FORMAT, "tensor 'w': shape entries");
    expect_open_error(bad_safetensors("five_dims",
                                      "{\"w\": {\"dtype\": \"F32\", \"shape\": [1,1,1,1,1], \"data_offsets\": [0, 4]}}",
                                      4),
                      ELANG_ERR_UNSUPPORTED, "tensor 'w' has 5 dimensions; at most 4");
    expect_open_error(bad_safetensors("huge_shape",
                                      "{\"w\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296, 4], "
                                      "\"data_offsets\": [0, 4]}}", 4),
                      ELANG_ERR_FORMAT, "tensor 'w': shape is too large");
    expect_open_error(bad_safetensors("wrong_size",
                                      "{\"w\": {\"dtype\": \"F32\", \"shape\": [2, 2], \"data_offsets\": [0, 12]}}", 12),
                      ELANG_ERR_FORMAT, "tensor 'w': data_offsets [0, 12] hold 12 bytes, but 16 are needed");
    expect_open_error(bad_safetensors("reversed_offsets",
                                      "{\"w\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [8, 4]}}", 8),
                      ELANG_ERR_FORMAT, "tensor 'w': \"data_offsets\" must be [begin, end]");
    expect_open_error(bad_safetensors("out_of_range",
                                      "{\"w\": {\"dtype\": \"F16\", \"shape\": [2], \"data_offsets\": [60, 64]}}", 8),
                      ELANG_ERR_FORMAT, "is truncated: tensor 'w' lies at bytes [60, 64) of the data section, "
                                        "which has only 8 bytes");
    expect_open_error(bad_safetensors("overlap",
                                      "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                                      " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 12),
                      ELANG_ERR_FORMAT, "tensors 'a' and 'b' overlap");

    /* What is valid: empty tensors, scalars, metadata, padding spaces. */
    weight_store *ws = open_ok(bad_safetensors(
        "edge_cases",
        "{\"__metadata__\": {\"format\": \"pt\"}, \"empty\": {\"dtype\": \"F32\", \"shape\": [0, 3], "
        "\"data_offsets\": [4, 4]}, \"scalar\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [0, 4]}}   ",
        4));
    assert_int_equal(weight_store_count(ws), 2);
    expect_shape(ws, "empty", DTYPE_F32, 2, 0, 3);
    const float *v;
    elang_error err = {0};
    assert_int_equal(weight_store_take_f32(ws, "scalar", 0, NULL, &v, &err), ELANG_OK);
    assert_true(v[0] == 0.0f);
    weight_store_free(ws);
}

/* ------------------------------------------------------ PyTorch zips */

/* Storages with an offset, one shared by two tensors, an F16 storage, and a
 * 0-d tensor; checked against the values written, pickled with protocol 2
 * (as torch.save) and 4. */
static void check_pickle_offsets_and_sharing(bool protocol4) {
    static const float shared[6] = {0, 1, 2, 3, 4, 5};
    static const uint16_t halfs[2] = {0x3C00, 0xC000};
    const pickled_tensor t[4] = {
        {"whole", "FloatStorage", "0", 6, 0, 2, {2, 3}, {3, 1}},
        {"row1", "FloatStorage", "0", 6, 3, 1, {3}, {1}},
        {"half", "HalfStorage", "1", 2, 0, 1, {2}, {1}},
        {"scalar", "FloatStorage", "0", 6, 5, 0, {0}, {0}},
    };
    pickle_buf p = {.protocol4 = protocol4};
    pk_state_dict(&p, t, 4);
    const zip_member members[] = {
        {"archive/data.pkl", p.bytes, p.len},
        {"archive/data/0", shared, sizeof shared},
        {"archive/data/1", halfs, sizeof halfs},
        {"archive/byteorder", "little", 6},
        {"archive/version", "3\n", 2},
    };
    const char *name = protocol4 ? "pickle_offsets4" : "pickle_offsets";
    const char *dir = model_dir(name);
    write_zip(tmp_path("%s/pytorch_model.bin", name), members, 5);
    weight_store *ws = open_ok(dir);
    assert_int_equal(weight_store_count(ws), 4);
    elang_error err = {0};
    const float *v;
    assert_int_equal(weight_store_take_f32(ws, "whole", 2, (int64_t[]){2, 3}, &v, &err), ELANG_OK);
    assert_true(v[0] == 0 && v[5] == 5);
    assert_int_equal(weight_store_take_f32(ws, "row1", 1, (int64_t[]){3}, &v, &err), ELANG_OK);
    assert_true(v[0] == 3 && v[1] == 4 && v[2] == 5);
    assert_ptr_equal(weight_store_find(ws, "row1")->data,
                     (const float *)weight_store_find(ws, "whole")->data + 3);
    assert_int_equal(weight_store_take_f32(ws, "half", 1, (int64_t[]){2}, &v, &err), ELANG_OK);
    assert_true(v[0] == 1.0f && v[1] == -2.0f);
    assert_int_equal(weight_store_take_f32(ws, "scalar", 0, NULL, &v, &err), ELANG_OK);
    assert_true(v[0] == 5);
    assert_int_equal(weight_store_check_unused(ws, &err), ELANG_OK);
    weight_store_free(ws);
}

static void test_pickle_offsets_and_sharing(void **state) {
    (void)state;
    check_pickle_offsets_and_sharing(false);
    check_pickle_offsets_and_sharing(true);
}

/* A model dir whose pytorch_model.bin holds these tensors over one
 * six-float storage "0". */
static const char *pickled_model(const char *name, const pickled_tensor *t, size_t n) {
    static const float storage[6] = {0, 1, 2, 3, 4, 5};
    pickle_buf p = {0};
    pk_state_dict(&p, t, n);
    const zip_member members[] = {
        {"archive/data.pkl", p.bytes, p.len},
        {"archive/data/0", storage, sizeof storage},
    };
    const char *dir = model_dir(name);
    write_zip(tmp_path("%s/pytorch_model.bin", name), members, 2);
    return dir;
}

static void test_pickle_tensor_errors(void **state) {
    (void)state;
    const pickled_tensor transposed = {"t", "FloatStorage", "0", 6, 0, 2, {3, 2}, {1, 3}};
    expect_open_error(pickled_model("pickle_view", &transposed, 1), ELANG_ERR_UNSUPPORTED,
                      "tensor 't' is not contiguous");
    const pickled_tensor beyond = {"b", "FloatStorage", "0", 6, 4, 1, {3}, {1}};
    expect_open_error(pickled_model("pickle_beyond", &beyond, 1), ELANG_ERR_FORMAT,
                      "tensor 'b' (elements 4 to 7) lies outside its storage of 6 elements");
    const pickled_tensor wrong_numel = {"n", "FloatStorage", "0", 7, 0, 1, {3}, {1}};
    expect_open_error(pickled_model("pickle_numel", &wrong_numel, 1), ELANG_ERR_FORMAT,
                      "storage archive/data/0 of tensor 'n' has 24 bytes, but 7 elements of 4 bytes");
    const pickled_tensor no_storage = {"s", "FloatStorage", "9", 6, 0, 1, {3}, {1}};
    expect_open_error(pickled_model("pickle_no_storage", &no_storage, 1), ELANG_ERR_FORMAT,
                      "tensor 's' needs storage archive/data/9, which is not in the zip");
    const pickled_tensor five_dims = {"f", "FloatStorage", "0", 6, 0, 5, {1, 1, 1, 1, 6}, {6, 6, 6, 6, 1}};
    expect_open_error(pickled_model("pickle_5d", &five_dims, 1), ELANG_ERR_UNSUPPORTED,
                      "tensor 'f' has 5 dimensions; at most 4");
    const pickled_tensor negative = {"m", "FloatStorage", "0", 6, 0, 1, {-3}, {1}};
    expect_open_error(pickled_model("pickle_negative", &negative, 1), ELANG_ERR_FORMAT,
                      "tensor 'm': its sizes must be non-negative integers");
    const pickled_tensor evil_key = {"k", "FloatStorage", "../0", 6, 0, 1, {3}, {1}};
    expect_open_error(pickled_model("pickle_key", &evil_key, 1), ELANG_ERR_FORMAT,
                      "tensor 'k': invalid storage key");
    const pickled_tensor twice[2] = {{"d", "FloatStorage", "0", 6, 0, 1, {3}, {1}},
                                     {"d", "FloatStorage", "0", 6, 3, 1, {3}, {1}}};
    expect_open_error(pickled_model("pickle_twice", twice, 2), ELANG_ERR_FORMAT, "tensor 'd' appears twice");

    /* Storage bytes are used as they are: only little-endian files work. */
    static const float storage[3] = {1, 2, 3};
    const pickled_tensor ok = {"w", "FloatStorage", "0", 3, 0, 1, {3}, {1}};
    pickle_buf p = {0};
    pk_state_dict(&p, &ok, 1);
    const zip_member members[] = {
        {"archive/data.pkl", p.bytes, p.len},
        {"archive/data/0", storage, sizeof storage},
        {"archive/byteorder", "big", 3},
    };
    const char *dir = model_dir("pickle_big_endian");
    write_zip(tmp_path("pickle_big_endian/pytorch_model.bin"), members, 3);
    expect_open_error(dir, ELANG_ERR_UNSUPPORTED, "byteorder is 'big', only 'little' is supported");
}

/* pytorch_model.bin.index.json with two .bin shards. */
static void test_sharded_bin(void **state) {
    (void)state;
    const pickled_tensor a = {"a", "FloatStorage", "0", 6, 0, 2, {3, 2}, {2, 1}};
    const pickled_tensor b = {"b", "FloatStorage", "0", 6, 2, 1, {4}, {1}};
    const char *dir = pickled_model("sharded_bin", &a, 1);
    pickled_model("sharded_bin_2", &b, 1);
    assert_int_equal(rename(tmp_path("sharded_bin/pytorch_model.bin"),
                            tmp_path("sharded_bin/pytorch_model-00001-of-00002.bin")), 0);
    assert_int_equal(rename(tmp_path("sharded_bin_2/pytorch_model.bin"),
                            tmp_path("sharded_bin/pytorch_model-00002-of-00002.bin")), 0);
    const char *index = "{\"metadata\": {\"total_size\": 40}, \"weight_map\": {"
                        "\"a\": \"pytorch_model-00001-of-00002.bin\", \"b\": \"pytorch_model-00002-of-00002.bin\"}}";
    write_file(tmp_path("sharded_bin/pytorch_model.bin.index.json"), index, strlen(index));
    weight_store *ws = open_ok(dir);
    assert_string_equal(weight_store_source(ws), "2 shards of pytorch_model.bin.index.json");
    elang_error err = {0};
    const float *v;
    assert_int_equal(weight_store_take_f32(ws, "b", 1, (int64_t[]){4}, &v, &err), ELANG_OK);
    assert_true(v[0] == 2 && v[3] == 5);
    assert_non_null(strstr(weight_store_find(ws, "a")->file, "pytorch_model-00001-of-00002.bin"));
    weight_store_free(ws);
}

static void test_broken_torch_zip(void **state) {
    (void)state;
    /* The fixture's data.pkl cut short, and replaced by junk. */
    size_t len;
    uint8_t *pickle = NULL;
    {
        int code;
        zip_t *za = zip_open(shared_path("fixtures/hf/distilbert/pytorch_model.bin"), ZIP_RDONLY, &code);
        assert_non_null(za);
        zip_stat_t sb;
        assert_int_equal(zip_stat(za, "pytorch_model/data.pkl", 0, &sb), 0);
        len = (size_t)sb.size;
        pickle = malloc(len);
        zip_file_t *zf = zip_fopen(za, "pytorch_model/data.pkl", 0);
        assert_int_equal(zip_fread(zf, pickle, len), (zip_int64_t)len);
        zip_fclose(zf);
        zip_discard(za);
    }
    expect_open_error(distilbert_variant("pickle_no_stop", "pytorch_model/data.pkl", pickle, len - 1),
                      ELANG_ERR_FORMAT, "pytorch_model.bin: pytorch_model/data.pkl: pickle truncated: no STOP");
    expect_open_error(distilbert_variant("pickle_cut", "pytorch_model/data.pkl", pickle, len / 2),
                      ELANG_ERR_FORMAT, "pickle byte 2251 (opcode 0x58): truncated: string of 53 bytes, 5 are left");
    expect_open_error(distilbert_variant("pickle_cut_string", "pytorch_model/data.pkl", pickle, 20),
                      ELANG_ERR_FORMAT, "pickle byte 6 (opcode 0x58): truncated: string of 44 bytes");
    uint8_t junk[256];
    srand(7);
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)rand();
    junk[0] = 0x80;
    junk[1] = 2;
    junk[2] = 0xff; /* not an opcode */
    expect_open_error(distilbert_variant("pickle_junk", "pytorch_model/data.pkl", junk, sizeof junk),
                      ELANG_ERR_FORMAT, "pickle byte 2 (opcode 0xff): unsupported opcode");

    /* The classic exploit: a global that would run a command. */
    static const char evil[] = "\x80\x02" "cos\nsystem\n" "X\x02\x00\x00\x00id" "\x85R.";
    expect_open_error(distilbert_variant("pickle_evil", "pytorch_model/data.pkl", evil, sizeof evil - 1),
                      ELANG_ERR_FORMAT, "forbidden global 'os.system'");
    static const char stack_evil[] = "\x80\x04\x8c\x08" "builtins" "\x8c\x04" "eval" "\x93)R.";
    expect_open_error(distilbert_variant("pickle_evil2", "pytorch_model/data.pkl", stack_evil,
                                         sizeof stack_evil - 1),
                      ELANG_ERR_FORMAT, "forbidden global 'builtins.eval'");
    /* Valid pickles that are not state dicts. */
    static const char list[] = "\x80\x02]q\x00.";
    expect_open_error(distilbert_variant("pickle_list", "pytorch_model/data.pkl", list, sizeof list - 1),
                      ELANG_ERR_FORMAT, "the pickle does not hold a dict of tensors");
    static const char not_tensor[] = "\x80\x02}(X\x01\x00\x00\x00wK\x01u.";
    expect_open_error(distilbert_variant("pickle_int", "pytorch_model/data.pkl", not_tensor,
                                         sizeof not_tensor - 1),
                      ELANG_ERR_FORMAT, "state dict entry 'w' is not a tensor");
    free(pickle);

    expect_open_error(distilbert_variant("zip_no_storage", "pytorch_model/data/39", NULL, 0), ELANG_ERR_FORMAT,
                      "tensor 'classifier.bias' needs storage pytorch_model/data/39, which is not in the zip");
    expect_open_error(distilbert_variant("zip_no_pickle", "pytorch_model/data.pkl", NULL, 0), ELANG_ERR_FORMAT,
                      "a zip archive without <archive>/data.pkl");
}

static void test_not_a_zip(void **state) {
    (void)state;
    /* The pre-1.6 format: a bare pickle stream starting with its magic number. */
    const char *dir = model_dir("legacy");
    static const uint8_t legacy[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e};
    write_file(tmp_path("legacy/pytorch_model.bin"), legacy, sizeof legacy);
    expect_open_error(dir, ELANG_ERR_UNSUPPORTED, "uses the legacy (before PyTorch 1.6) serialization format");

    dir = model_dir("tar");
    uint8_t tar[1024] = {0};
    memcpy(tar + 257, "ustar", 5);
    write_file(tmp_path("tar/pytorch_model.bin"), tar, sizeof tar);
    expect_open_error(dir, ELANG_ERR_UNSUPPORTED, "legacy tar serialization format");

    /* A zip cut in half has lost its central directory. */
    dir = model_dir("zip_cut");
    size_t len;
    char *bin = read_file_all(shared_path("fixtures/hf/distilbert/pytorch_model.bin"), &len);
    write_file(tmp_path("zip_cut/pytorch_model.bin"), bin, len / 2);
    free(bin);
    expect_open_error(dir, ELANG_ERR_FORMAT, "is not a valid zip archive");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bert_safetensors),
        cmocka_unit_test(test_bert_f16),
        cmocka_unit_test(test_distilbert_bin),
        cmocka_unit_test(test_other_fixtures),
        cmocka_unit_test(test_f16_bf16_conversion),
        cmocka_unit_test(test_take_errors_and_unused),
        cmocka_unit_test(test_sharded_safetensors),
        cmocka_unit_test(test_sharded_errors),
        cmocka_unit_test(test_missing_weights),
        cmocka_unit_test(test_broken_safetensors),
        cmocka_unit_test(test_pickle_offsets_and_sharing),
        cmocka_unit_test(test_pickle_tensor_errors),
        cmocka_unit_test(test_sharded_bin),
        cmocka_unit_test(test_broken_torch_zip),
        cmocka_unit_test(test_not_a_zip),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    free_model_dirs();
    test_tmpdir_cleanup();
    return failed;
}
