/* elang_dataset: a GLUE task file or parallel text, as the router's
 * calibration and evaluation read it. */
#ifndef ELANG_EVAL_DATASET_H
#define ELANG_EVAL_DATASET_H

#include "elang_eval.h"
#include "eval/tasks.h"

struct elang_dataset {
    char task_name[32];
    const task_def *task;   /* NULL for translation */
    task_data glue;         /* when task */
    parallel_data parallel; /* when translation */
};

/* The model-facing text of example i. */
elang_text dataset_text(const elang_dataset *d, size_t i);

#endif
