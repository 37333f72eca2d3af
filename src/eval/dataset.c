#include "eval/dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

elang_status elang_dataset_load(const char *task, const char *path, const char *ref_path,
                                elang_dataset **out, elang_error *err) {
    *out = NULL;
    elang_dataset *d = calloc(1, sizeof *d);
    if (!d) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory loading %s", path);
    snprintf(d->task_name, sizeof d->task_name, "%s", task);
    elang_status st;
    if (strcmp(task, "translation") == 0) {
        st = ref_path ? task_read_parallel(path, ref_path, &d->parallel, err)
                      : elang_fail(err, ELANG_ERR_INVALID_ARG, "translation needs a reference file beside %s", path);
    } else {
        st = task_find(task, &d->task, err);
        if (st == ELANG_OK && ref_path)
            st = elang_fail(err, ELANG_ERR_INVALID_ARG, "task %s takes one file; a reference file is for translation",
                            task);
        if (st == ELANG_OK) st = task_read(d->task, path, &d->glue, err);
    }
    if (st != ELANG_OK) {
        elang_dataset_free(d);
        return st;
    }
    *out = d;
    return ELANG_OK;
}

size_t elang_dataset_size(const elang_dataset *d) { return d->task ? d->glue.n : d->parallel.n; }

const char *elang_dataset_task(const elang_dataset *d) { return d->task_name; }

long elang_dataset_line(const elang_dataset *d, size_t i) {
    if (i >= elang_dataset_size(d)) return -1;
    /* Parallel files are read line by line, one segment a line. */
    return d->task ? d->glue.ex[i].line : (long)i + 1;
}

void elang_dataset_free(elang_dataset *d) {
    if (!d) return;
    if (d->task) task_data_free(&d->glue);
    else parallel_data_free(&d->parallel);
    free(d);
}

elang_text dataset_text(const elang_dataset *d, size_t i) {
    if (d->task) return (elang_text){d->glue.ex[i].text, d->glue.ex[i].text_pair};
    return (elang_text){d->parallel.src[i], NULL};
}
