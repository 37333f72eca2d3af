#include "model_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/causal.h"
#include "models/marian.h"
#include "models/t5.h"
#include "support.h"

void model_fixture_free(model_fixture *f) {
    if (f->m.ops) f->m.ops->free(f->m.net);
    arena_free(&f->run);
    matmul_ctx_free(f->mm);
    weight_store_free(f->ws);
    config_free(&f->cfg);
    memset(f, 0, sizeof *f);
}

elang_status model_fixture_open(const char *dir, model_fixture *f, elang_error *err) {
    memset(f, 0, sizeof *f);
    elang_status st = config_load(dir, &f->cfg, err);
    if (st == ELANG_OK) st = weight_store_open(dir, &f->ws, err);
    if (st == ELANG_OK) st = matmul_ctx_new(&f->mm, err);
    if (st == ELANG_OK) {
        const char *type = f->cfg.model_type;
        st = strcmp(type, "t5") == 0       ? t5_load(f->ws, &f->cfg, f->mm, ELANG_DTYPE_F32, &f->m, err)
             : strcmp(type, "marian") == 0 ? marian_load(f->ws, &f->cfg, f->mm, ELANG_DTYPE_F32, &f->m, err)
                                           : causal_load(f->ws, &f->cfg, f->mm, ELANG_DTYPE_F32, &f->m, err);
    }
    if (st != ELANG_OK) model_fixture_free(f);
    return st;
}

void model_fixture_load(const char *name, model_fixture *f) {
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/hf/%s", name);
    elang_error err;
    if (model_fixture_open(shared_path(rel), f, &err) != ELANG_OK) fail_msg("loading %s: %s", name, err.message);
}

json_t **fixture_cases(const char *name, size_t *n) {
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/hf/%s/cases.jsonl", name);
    return read_jsonl(shared_path(rel), n);
}

int32_t *json_ids(const json_t *arr, int *n) {
    *n = (int)json_array_size(arr);
    int32_t *ids = malloc(((size_t)*n + 1) * sizeof *ids);
    for (int i = 0; i < *n; i++) ids[i] = (int32_t)json_integer_value(json_array_get(arr, (size_t)i));
    return ids;
}
