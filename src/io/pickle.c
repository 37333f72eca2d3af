#include "io/pickle.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

/* ------------------------------------------------------------ the allowlist */

typedef enum { GLOBAL_ORDERED_DICT, GLOBAL_REBUILD_TENSOR, GLOBAL_STORAGE_TYPE } global_kind;

typedef struct {
    const char *module, *name;
    global_kind kind;
    weight_dtype dtype; /* storage types only */
    size_t elem_size;
} allowed_global;

/* The only globals a state dict needs. Anything else (os.system, builtins.eval,
 * ...) is what makes pickles dangerous, and is refused. */
static const allowed_global allowed_globals[] = {
    {"collections", "OrderedDict", GLOBAL_ORDERED_DICT, DTYPE_OTHER, 0},
    {"torch._utils", "_rebuild_tensor_v2", GLOBAL_REBUILD_TENSOR, DTYPE_OTHER, 0},
    {"torch", "FloatStorage", GLOBAL_STORAGE_TYPE, DTYPE_F32, 4},
    {"torch", "HalfStorage", GLOBAL_STORAGE_TYPE, DTYPE_F16, 2},
    {"torch", "BFloat16Storage", GLOBAL_STORAGE_TYPE, DTYPE_BF16, 2},
    {"torch", "LongStorage", GLOBAL_STORAGE_TYPE, DTYPE_I64, 8},
    {"torch", "IntStorage", GLOBAL_STORAGE_TYPE, DTYPE_I32, 4},
    /* Buffers of these types occur (e.g. boolean attention masks); they load
     * as DTYPE_OTHER so that a model can ignore them. */
    {"torch", "DoubleStorage", GLOBAL_STORAGE_TYPE, DTYPE_OTHER, 8},
    {"torch", "ShortStorage", GLOBAL_STORAGE_TYPE, DTYPE_OTHER, 2},
    {"torch", "CharStorage", GLOBAL_STORAGE_TYPE, DTYPE_OTHER, 1},
    {"torch", "ByteStorage", GLOBAL_STORAGE_TYPE, DTYPE_OTHER, 1},
    {"torch", "BoolStorage", GLOBAL_STORAGE_TYPE, DTYPE_OTHER, 1},
};

/* ------------------------------------------------------------------ values */

typedef enum {
    VALUE_NONE, VALUE_BOOL, VALUE_INT, VALUE_STRING, VALUE_TUPLE, VALUE_LIST,
    VALUE_DICT, VALUE_GLOBAL, VALUE_STORAGE, VALUE_TENSOR
} value_kind;

typedef struct value value;

typedef struct {
    value **items;
    size_t len, cap;
} value_seq;

struct value {
    value_kind kind;
    union {
        bool boolean;
        int64_t integer;
        struct {
            const char *chars; /* into the input, not NUL-terminated */
            size_t len;
        } string;
        value_seq seq; /* tuple, list; a dict as key, value, key, value, ... */
        const allowed_global *global;
        struct {
            const allowed_global *type;
            const value *key;
            int64_t numel;
        } storage;
        struct {
            const value *storage, *size, *stride;
            int64_t offset;
        } tensor;
    };
};

/* Values are shared freely (the memo hands out the same one many times), so
 * they live in an arena freed in one go instead of being reference counted. */
typedef struct arena_block {
    struct arena_block *next;
    max_align_t data[];
} arena_block;

#define ARENA_BLOCK_BYTES ((size_t)64 << 10)

/* ----------------------------------------------------------------- machine */

typedef struct {
    const uint8_t *buf;
    size_t len, pos;
    size_t op_pos; /* offset of the opcode being run, for messages */
    uint8_t op;

    value **stack;
    size_t depth, stack_cap;
    size_t *marks; /* stack depths at each MARK still open */
    size_t nmarks, marks_cap;
    value **memo;
    size_t memo_cap, memo_count;

    arena_block *blocks;
    unsigned char *arena_next;
    size_t arena_left;

    elang_error *err;
} machine;

__attribute__((format(printf, 2, 3)))
static elang_status malformed(machine *m, const char *fmt, ...) {
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return elang_fail(m->err, ELANG_ERR_FORMAT, "pickle byte %zu (opcode 0x%02x): %s", m->op_pos,
                      m->op, what);
}

static elang_status out_of_memory(machine *m) {
    return elang_fail(m->err, ELANG_ERR_NOMEM, "out of memory reading a pickle");
}

static void *arena_alloc(machine *m, size_t size) {
    size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (m->arena_left < size) {
        size_t cap = size > ARENA_BLOCK_BYTES ? size : ARENA_BLOCK_BYTES;
        arena_block *b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->next = m->blocks;
        m->blocks = b;
        m->arena_next = (unsigned char *)b->data;
        m->arena_left = cap;
    }
    void *p = m->arena_next;
    m->arena_next += size;
    m->arena_left -= size;
    return p;
}

static value *new_value(machine *m, value_kind kind) {
    value *v = arena_alloc(m, sizeof *v);
    if (v) *v = (value){.kind = kind};
    return v;
}

/* Grows by doubling into fresh arena memory; the old array is simply left
 * behind, which at most doubles what the sequence costs. */
static elang_status seq_append(machine *m, value_seq *s, value *v) {
    if (s->len == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4;
        value **items = arena_alloc(m, cap * sizeof *items);
        if (!items) return out_of_memory(m);
        if (s->len) memcpy(items, s->items, s->len * sizeof *items);
        s->items = items;
        s->cap = cap;
    }
    s->items[s->len++] = v;
    return ELANG_OK;
}

static bool grow(void **array, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    size_t cap2 = *cap ? *cap : 16;
    while (cap2 < need) cap2 *= 2;
    void *p = realloc(*array, cap2 * elem);
    if (!p) return false;
    *array = p;
    *cap = cap2;
    return true;
}

static elang_status push(machine *m, value *v) {
    if (!v) return out_of_memory(m);
    if (!grow((void **)&m->stack, &m->stack_cap, m->depth + 1, sizeof *m->stack))
        return out_of_memory(m);
    m->stack[m->depth++] = v;
    return ELANG_OK;
}

/* Where the values above the innermost MARK start: nothing may pop below it. */
static size_t fence(const machine *m) {
    return m->nmarks ? m->marks[m->nmarks - 1] : 0;
}

static elang_status pop(machine *m, value **out) {
    if (m->depth <= fence(m)) return malformed(m, "stack underflow");
    *out = m->stack[--m->depth];
    return ELANG_OK;
}

static elang_status top(machine *m, value **out) {
    if (m->depth <= fence(m)) return malformed(m, "stack underflow");
    *out = m->stack[m->depth - 1];
    return ELANG_OK;
}

/* Closes the innermost MARK: *start is the first stack slot above it. */
static elang_status pop_mark(machine *m, size_t *start) {
    if (!m->nmarks) return malformed(m, "no MARK to close");
    *start = m->marks[--m->nmarks];
    return ELANG_OK;
}

/* The container that APPENDS/SETITEMS fill sits just below the MARK. */
static elang_status container_below_mark(machine *m, size_t start, value_kind kind, value **out) {
    if (start <= fence(m)) return malformed(m, "stack underflow");
    *out = m->stack[start - 1];
    if ((*out)->kind != kind)
        return malformed(m, "expected a %s to fill", kind == VALUE_LIST ? "list" : "dict");
    return ELANG_OK;
}

static elang_status read_bytes(machine *m, size_t n, const uint8_t **out) {
    if (m->len - m->pos < n)
        return malformed(m, "truncated: needs %zu bytes, %zu are left", n, m->len - m->pos);
    *out = m->buf + m->pos;
    m->pos += n;
    return ELANG_OK;
}

static elang_status read_uint(machine *m, size_t n, uint64_t *out) {
    const uint8_t *p = NULL;
    elang_status st = read_bytes(m, n, &p);
    if (st != ELANG_OK) return st;
    *out = 0;
    for (size_t i = n; i-- > 0;) *out = *out << 8 | p[i];
    return ELANG_OK;
}

static elang_status push_int(machine *m, int64_t i) {
    value *v = new_value(m, VALUE_INT);
    if (v) v->integer = i;
    return push(m, v);
}

/* A string of `len_bytes`-byte length prefix, kept as a view of the input. */
static elang_status push_string(machine *m, size_t len_bytes) {
    uint64_t n;
    const uint8_t *chars = NULL;
    elang_status st = read_uint(m, len_bytes, &n);
    if (st == ELANG_OK && n > m->len - m->pos)
        return malformed(m, "truncated: string of %llu bytes, %zu are left", (unsigned long long)n,
                         m->len - m->pos);
    if (st == ELANG_OK) st = read_bytes(m, (size_t)n, &chars);
    if (st != ELANG_OK) return st;
    value *v = new_value(m, VALUE_STRING);
    if (v) v->string.chars = (const char *)chars, v->string.len = (size_t)n;
    return push(m, v);
}

static bool string_is(const value *v, const char *s) {
    return v->kind == VALUE_STRING && v->string.len == strlen(s) &&
           memcmp(v->string.chars, s, v->string.len) == 0;
}

static elang_status push_global(machine *m, const char *module, size_t module_len,
                                const char *name, size_t name_len) {
    for (size_t i = 0; i < sizeof allowed_globals / sizeof allowed_globals[0]; i++) {
        const allowed_global *g = &allowed_globals[i];
        if (strlen(g->module) == module_len && memcmp(g->module, module, module_len) == 0 &&
            strlen(g->name) == name_len && memcmp(g->name, name, name_len) == 0) {
            value *v = new_value(m, VALUE_GLOBAL);
            if (v) v->global = g;
            return push(m, v);
        }
    }
    return malformed(m, "forbidden global '%.*s.%.*s': a state dict needs only "
                        "collections.OrderedDict, torch._utils._rebuild_tensor_v2 and torch storage types",
                     (int)(module_len > 100 ? 100 : module_len), module,
                     (int)(name_len > 100 ? 100 : name_len), name);
}

/* GLOBAL: "module\nname\n" inline. */
static elang_status op_global(machine *m) {
    const char *parts[2];
    size_t lens[2];
    for (int i = 0; i < 2; i++) {
        const uint8_t *start = m->buf + m->pos;
        const uint8_t *nl = memchr(start, '\n', m->len - m->pos);
        if (!nl) return malformed(m, "truncated: GLOBAL without its newline");
        parts[i] = (const char *)start;
        lens[i] = (size_t)(nl - start);
        m->pos += lens[i] + 1;
    }
    return push_global(m, parts[0], lens[0], parts[1], lens[1]);
}

/* STACK_GLOBAL: module and name were pushed as strings. */
static elang_status op_stack_global(machine *m) {
    value *module = NULL, *name = NULL;
    elang_status st = pop(m, &name);
    if (st == ELANG_OK) st = pop(m, &module);
    if (st != ELANG_OK) return st;
    if (module->kind != VALUE_STRING || name->kind != VALUE_STRING)
        return malformed(m, "STACK_GLOBAL needs two strings");
    return push_global(m, module->string.chars, module->string.len, name->string.chars,
                       name->string.len);
}

/* TUPLE (n < 0: everything above the MARK) and TUPLE1..3. */
static elang_status op_tuple(machine *m, int n) {
    size_t start = 0;
    elang_status st = ELANG_OK;
    if (n < 0) {
        st = pop_mark(m, &start);
    } else {
        if (m->depth - fence(m) < (size_t)n) return malformed(m, "stack underflow");
        start = m->depth - (size_t)n;
    }
    if (st != ELANG_OK) return st;
    value *t = new_value(m, VALUE_TUPLE);
    if (!t) return out_of_memory(m);
    for (size_t i = start; i < m->depth && st == ELANG_OK; i++) st = seq_append(m, &t->seq, m->stack[i]);
    if (st != ELANG_OK) return st;
    m->depth = start;
    return push(m, t);
}

static elang_status op_append(machine *m) {
    value *item = NULL, *list = NULL;
    elang_status st = pop(m, &item);
    if (st == ELANG_OK) st = top(m, &list);
    if (st != ELANG_OK) return st;
    if (list->kind != VALUE_LIST) return malformed(m, "APPEND to something not a list");
    return seq_append(m, &list->seq, item);
}

static elang_status op_setitem(machine *m) {
    value *key = NULL, *val = NULL, *dict = NULL;
    elang_status st = pop(m, &val);
    if (st == ELANG_OK) st = pop(m, &key);
    if (st == ELANG_OK) st = top(m, &dict);
    if (st != ELANG_OK) return st;
    if (dict->kind != VALUE_DICT) return malformed(m, "SETITEM on something not a dict");
    st = seq_append(m, &dict->seq, key);
    return st == ELANG_OK ? seq_append(m, &dict->seq, val) : st;
}

/* APPENDS and SETITEMS: everything above the MARK goes into the container
 * below it (as key, value pairs for a dict). */
static elang_status op_fill(machine *m, value_kind kind) {
    size_t start = 0;
    value *container = NULL;
    elang_status st = pop_mark(m, &start);
    if (st == ELANG_OK) st = container_below_mark(m, start, kind, &container);
    if (st != ELANG_OK) return st;
    if (kind == VALUE_DICT && (m->depth - start) % 2)
        return malformed(m, "SETITEMS with an odd number of items");
    for (size_t i = start; i < m->depth && st == ELANG_OK; i++)
        st = seq_append(m, &container->seq, m->stack[i]);
    m->depth = start;
    return st;
}

/* _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
 * backward_hooks[, metadata]). Sizes and strides are checked later, when the
 * tensor's name is known. */
static elang_status rebuild_tensor(machine *m, const value_seq *args) {
    if (args->len != 6 && args->len != 7)
        return malformed(m, "_rebuild_tensor_v2 takes 6 or 7 arguments, got %zu", args->len);
    value *const *a = args->items;
    if (a[0]->kind != VALUE_STORAGE || a[1]->kind != VALUE_INT || a[2]->kind != VALUE_TUPLE ||
        a[3]->kind != VALUE_TUPLE || a[4]->kind != VALUE_BOOL)
        return malformed(m, "_rebuild_tensor_v2 needs (storage, offset, size, stride, requires_grad, ...)");
    value *t = new_value(m, VALUE_TENSOR);
    if (t) {
        t->tensor.storage = a[0];
        t->tensor.offset = a[1]->integer;
        t->tensor.size = a[2];
        t->tensor.stride = a[3];
    }
    return push(m, t);
}

static elang_status op_reduce(machine *m) {
    value *args = NULL, *callable = NULL;
    elang_status st = pop(m, &args);
    if (st == ELANG_OK) st = pop(m, &callable);
    if (st != ELANG_OK) return st;
    if (callable->kind != VALUE_GLOBAL || args->kind != VALUE_TUPLE)
        return malformed(m, "REDUCE needs an allowed global and an argument tuple");
    switch (callable->global->kind) {
    case GLOBAL_ORDERED_DICT:
        if (args->seq.len) return malformed(m, "OrderedDict() with arguments");
        return push(m, new_value(m, VALUE_DICT));
    case GLOBAL_REBUILD_TENSOR:
        return rebuild_tensor(m, &args->seq);
    case GLOBAL_STORAGE_TYPE:
        break;
    }
    return malformed(m, "torch.%s cannot be called", callable->global->name);
}

/* BUILD sets the attributes of the object below; for a state dict that is
 * the OrderedDict's _metadata (module versions), which loading ignores. */
static elang_status op_build(machine *m) {
    value *state = NULL, *target = NULL;
    elang_status st = pop(m, &state);
    if (st == ELANG_OK) st = top(m, &target);
    if (st != ELANG_OK) return st;
    if (target->kind != VALUE_DICT) return malformed(m, "BUILD on something not a dict");
    return ELANG_OK;
}

/* BINPERSID: torch's persistent id ('storage', storage_type, key, location, numel). */
static elang_status op_persistent_id(machine *m) {
    value *pid = NULL;
    elang_status st = pop(m, &pid);
    if (st != ELANG_OK) return st;
    value *const *f = pid->kind == VALUE_TUPLE && pid->seq.len == 5 ? pid->seq.items : NULL;
    if (!f || !string_is(f[0], "storage") || f[1]->kind != VALUE_GLOBAL ||
        f[1]->global->kind != GLOBAL_STORAGE_TYPE || f[2]->kind != VALUE_STRING ||
        f[3]->kind != VALUE_STRING || f[4]->kind != VALUE_INT || f[4]->integer < 0)
        return malformed(m, "persistent id is not ('storage', type, key, location, numel)");
    value *s = new_value(m, VALUE_STORAGE);
    if (s) {
        s->storage.type = f[1]->global;
        s->storage.key = f[2];
        s->storage.numel = f[4]->integer;
    }
    return push(m, s);
}

/* Memo indices are dense from 0 in every pickler, so an index beyond the
 * input's length can only come from a hostile file: refusing it bounds the
 * memo by the input size. */
static elang_status memo_put(machine *m, uint64_t index) {
    value *v = NULL;
    elang_status st = top(m, &v);
    if (st != ELANG_OK) return st;
    if (index > m->len) return malformed(m, "memo index %llu out of range", (unsigned long long)index);
    size_t old_cap = m->memo_cap;
    if (!grow((void **)&m->memo, &m->memo_cap, (size_t)index + 1, sizeof *m->memo))
        return out_of_memory(m);
    memset(m->memo + old_cap, 0, (m->memo_cap - old_cap) * sizeof *m->memo);
    if (!m->memo[index]) m->memo_count++;
    m->memo[index] = v;
    return ELANG_OK;
}

static elang_status memo_get(machine *m, uint64_t index) {
    if (index >= m->memo_cap || !m->memo[index])
        return malformed(m, "memo index %llu was never set", (unsigned long long)index);
    return push(m, m->memo[index]);
}

/* Runs one opcode; *stop is set by STOP. */
static elang_status step(machine *m, bool *stop) {
    uint64_t u;
    elang_status st;
    switch (m->op) {
    case 0x80: /* PROTO */
        st = read_uint(m, 1, &u);
        if (st == ELANG_OK && u > 5) return malformed(m, "unknown pickle protocol %llu", (unsigned long long)u);
        return st;
    case 0x95: /* FRAME: a buffering hint, the frame's bytes follow inline */
        return read_uint(m, 8, &u);
    case '.': /* STOP */
        *stop = true;
        return ELANG_OK;
    case '(': /* MARK */
        if (!grow((void **)&m->marks, &m->marks_cap, m->nmarks + 1, sizeof *m->marks))
            return out_of_memory(m);
        m->marks[m->nmarks++] = m->depth;
        return ELANG_OK;
    case '0': { /* POP */
        value *v = NULL;
        return pop(m, &v);
    }
    case 'N': return push(m, new_value(m, VALUE_NONE));
    case 0x88: /* NEWTRUE */
    case 0x89: { /* NEWFALSE */
        value *v = new_value(m, VALUE_BOOL);
        if (v) v->boolean = m->op == 0x88;
        return push(m, v);
    }
    case 'J': /* BININT: signed 32-bit */
        st = read_uint(m, 4, &u);
        return st == ELANG_OK ? push_int(m, (int32_t)(uint32_t)u) : st;
    case 'K': /* BININT1 */
    case 'M': /* BININT2 */
        st = read_uint(m, m->op == 'K' ? 1 : 2, &u);
        return st == ELANG_OK ? push_int(m, (int64_t)u) : st;
    case 0x8a: { /* LONG1: n-byte little-endian two's complement */
        st = read_uint(m, 1, &u);
        if (st != ELANG_OK) return st;
        size_t n = (size_t)u;
        if (n > 8) return malformed(m, "integer of %zu bytes is too large", n);
        st = read_uint(m, n, &u);
        if (st != ELANG_OK) return st;
        if (n > 0 && n < 8 && (u >> (8 * n - 1)) & 1) u |= ~(uint64_t)0 << (8 * n);
        return push_int(m, (int64_t)u);
    }
    case 'X': return push_string(m, 4);    /* BINUNICODE */
    case 0x8c: return push_string(m, 1);   /* SHORT_BINUNICODE */
    case 0x8d: return push_string(m, 8);   /* BINUNICODE8 */
    case 'c': return op_global(m);         /* GLOBAL */
    case 0x93: return op_stack_global(m);  /* STACK_GLOBAL */
    case '}': return push(m, new_value(m, VALUE_DICT));  /* EMPTY_DICT */
    case ']': return push(m, new_value(m, VALUE_LIST));  /* EMPTY_LIST */
    case ')': return push(m, new_value(m, VALUE_TUPLE)); /* EMPTY_TUPLE */
    case 't': return op_tuple(m, -1);      /* TUPLE */
    case 0x85: return op_tuple(m, 1);      /* TUPLE1 */
    case 0x86: return op_tuple(m, 2);      /* TUPLE2 */
    case 0x87: return op_tuple(m, 3);      /* TUPLE3 */
    case 'a': return op_append(m);         /* APPEND */
    case 'e': return op_fill(m, VALUE_LIST); /* APPENDS */
    case 's': return op_setitem(m);        /* SETITEM */
    case 'u': return op_fill(m, VALUE_DICT); /* SETITEMS */
    case 'R': return op_reduce(m);         /* REDUCE */
    case 'b': return op_build(m);          /* BUILD */
    case 'Q': return op_persistent_id(m);  /* BINPERSID */
    case 'q': /* BINPUT */
    case 'r': /* LONG_BINPUT */
        st = read_uint(m, m->op == 'q' ? 1 : 4, &u);
        return st == ELANG_OK ? memo_put(m, u) : st;
    case 0x94: return memo_put(m, m->memo_count); /* MEMOIZE */
    case 'h': /* BINGET */
    case 'j': /* LONG_BINGET */
        st = read_uint(m, m->op == 'h' ? 1 : 4, &u);
        return st == ELANG_OK ? memo_get(m, u) : st;
    }
    return malformed(m, "unsupported opcode");
}

/* ------------------------------------------------- from values to tensors */

static char *copy_string(const value *v) {
    char *s = malloc(v->string.len + 1);
    if (s) {
        memcpy(s, v->string.chars, v->string.len);
        s[v->string.len] = '\0';
    }
    return s;
}

/* Reads a size or stride tuple of ints into dims[]. */
static elang_status tensor_dims(const char *name, const char *what, const value *tuple,
                                int64_t *dims, elang_error *err) {
    if (tuple->seq.len > WEIGHT_MAX_DIMS)
        return elang_fail(err, ELANG_ERR_UNSUPPORTED,
                          "tensor '%s' has %zu dimensions; at most %d are supported", name,
                          tuple->seq.len, WEIGHT_MAX_DIMS);
    for (size_t i = 0; i < tuple->seq.len; i++) {
        const value *d = tuple->seq.items[i];
        if (d->kind != VALUE_INT || d->integer < 0)
            return elang_fail(err, ELANG_ERR_FORMAT, "tensor '%s': its %s must be non-negative integers",
                              name, what);
        dims[i] = d->integer;
    }
    return ELANG_OK;
}

static elang_status convert_tensor(const value *key, const value *tv, pickle_tensor *t,
                                   elang_error *err) {
    if (key->kind != VALUE_STRING || memchr(key->string.chars, '\0', key->string.len))
        return elang_fail(err, ELANG_ERR_FORMAT, "a state dict key is not a string");
    if (!(t->name = copy_string(key))) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
    if (tv->kind != VALUE_TENSOR)
        return elang_fail(err, ELANG_ERR_FORMAT, "state dict entry '%s' is not a tensor", t->name);
    const value *storage = tv->tensor.storage, *size = tv->tensor.size, *stride = tv->tensor.stride;
    const value *key_string = storage->storage.key;
    if (key_string->string.len == 0 || memchr(key_string->string.chars, '\0', key_string->string.len) ||
        memchr(key_string->string.chars, '/', key_string->string.len))
        return elang_fail(err, ELANG_ERR_FORMAT, "tensor '%s': invalid storage key", t->name);
    if (size->seq.len != stride->seq.len)
        return elang_fail(err, ELANG_ERR_FORMAT, "tensor '%s': %zu sizes but %zu strides", t->name,
                          size->seq.len, stride->seq.len);
    if (tv->tensor.offset < 0)
        return elang_fail(err, ELANG_ERR_FORMAT, "tensor '%s': negative storage offset", t->name);
    elang_status st = tensor_dims(t->name, "sizes", size, t->shape, err);
    if (st == ELANG_OK) st = tensor_dims(t->name, "strides", stride, t->stride, err);
    if (st != ELANG_OK) return st;
    t->ndim = (int)size->seq.len;
    if (!(t->storage_key = copy_string(key_string)))
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
    t->dtype = storage->storage.type->dtype;
    t->elem_size = storage->storage.type->elem_size;
    t->storage_numel = storage->storage.numel;
    t->offset = tv->tensor.offset;
    return ELANG_OK;
}

static elang_status convert_state_dict(const value *dict, pickle_tensor **tensors, size_t *count,
                                       elang_error *err) {
    if (dict->kind != VALUE_DICT)
        return elang_fail(err, ELANG_ERR_FORMAT, "the pickle does not hold a dict of tensors");
    size_t n = dict->seq.len / 2;
    pickle_tensor *list = calloc(n ? n : 1, sizeof *list);
    if (!list) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        elang_status st = convert_tensor(dict->seq.items[2 * i], dict->seq.items[2 * i + 1], &list[i], err);
        if (st != ELANG_OK) {
            pickle_tensors_free(list, i + 1); /* entry i may be half filled */
            return st;
        }
    }
    *tensors = list;
    *count = n;
    return ELANG_OK;
}

static void machine_free(machine *m) {
    while (m->blocks) {
        arena_block *next = m->blocks->next;
        free(m->blocks);
        m->blocks = next;
    }
    free(m->stack);
    free(m->marks);
    free(m->memo);
}

elang_status pickle_parse_state_dict(const uint8_t *buf, size_t len, pickle_tensor **tensors,
                                     size_t *count, elang_error *err) {
    *tensors = NULL;
    *count = 0;
    machine m = {.buf = buf, .len = len, .err = err};
    elang_status st = ELANG_OK;
    bool stop = false;
    while (!stop && st == ELANG_OK) {
        if (m.pos == m.len) {
            st = elang_fail(err, ELANG_ERR_FORMAT, "pickle truncated: no STOP after %zu bytes", len);
            break;
        }
        m.op_pos = m.pos;
        m.op = m.buf[m.pos++];
        st = step(&m, &stop);
    }
    if (st == ELANG_OK) {
        if (m.depth != 1 || m.nmarks)
            st = elang_fail(err, ELANG_ERR_FORMAT, "pickle stops with %zu values and %zu marks on the "
                            "stack instead of one dict", m.depth, m.nmarks);
        else
            st = convert_state_dict(m.stack[0], tensors, count, err);
    }
    machine_free(&m);
    return st;
}

void pickle_tensors_free(pickle_tensor *tensors, size_t count) {
    for (size_t i = 0; i < count; i++) {
        free(tensors[i].name);
        free(tensors[i].storage_key);
    }
    free(tensors);
}
