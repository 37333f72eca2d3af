/* Evaluation data: the GLUE tasks in the TSV layouts of the GLUE
 * distribution, and parallel text for translation.
 *
 * A GLUE file is read as Hugging Face `datasets`' glue script reads it
 * (csv with tab delimiter and no quoting: quotes are ordinary characters):
 * the header names the columns and each task takes its fields by column
 * name, so MNLI's train (12 columns) and dev (16 columns) files both work.
 * CoLA's train and dev files have no header; their four columns are fixed.
 * A leading UTF-8 byte order mark (MRPC's files have one) is skipped, lines
 * end with "\n", "\r\n" or "\r", and blank lines are skipped as
 * csv.DictReader skips them. Every line must have as many columns as the
 * header. Test files, which have no label column, are refused.
 */
#ifndef ELANG_EVAL_TASKS_H
#define ELANG_EVAL_TASKS_H

#include <stdbool.h>
#include <stddef.h>

#include "elang.h"

#define TASK_MAX_LABELS 3
#define TASK_MAX_METRICS 2

typedef enum {
    TASK_METRIC_ACCURACY,
    TASK_METRIC_F1, /* of class 1 */
    TASK_METRIC_MCC,
    TASK_METRIC_PEARSON,
    TASK_METRIC_SPEARMAN
} task_metric;

/* "accuracy", "f1", "mcc", "pearson", "spearman". */
const char *task_metric_name(task_metric m);

typedef struct {
    const char *name;     /* "sst2", "cola", "mrpc", "rte", "qqp", "mnli", "mnli-mm", "qnli", "stsb", "wnli" */
    const char *dir;      /* its folder in the GLUE distribution: "SST-2", "MNLI", ... */
    const char *dev_file; /* the file GLUE evaluates on: "dev.tsv", "dev_matched.tsv", ... */
    bool pair;            /* sentence-pair task */
    int num_labels;       /* 0 for STS-B, a regression task */
    /* Label ids are indexes into label_names. The order is that of the
     * GLUE processors of BERT and transformers (glue.py get_labels), which
     * generic "LABEL_<k>" models were trained with; for MNLI it is
     * contradiction, entailment, neutral (the `datasets` package orders
     * MNLI entailment, neutral, contradiction, but models fine-tuned from
     * it name their labels). */
    const char *label_names[TASK_MAX_LABELS];
    /* How the file writes each label ("0"/"1" or the name itself). */
    const char *label_values[TASK_MAX_LABELS];
    /* The metrics GLUE reports, the main one first. */
    int num_metrics;
    task_metric metrics[TASK_MAX_METRICS];
    /* Layout: the column names of the fields, and for files without a
     * header (CoLA) the columns themselves, NULL-terminated; headerless[0]
     * is NULL when the file starts with a header. */
    const char *text_column, *pair_column, *label_column;
    const char *headerless[5];
} task_def;

/* The task called `name`; ELANG_ERR_INVALID_ARG listing the known names
 * otherwise. */
elang_status task_find(const char *name, const task_def **out, elang_error *err);

typedef struct {
    const char *text;
    const char *text_pair; /* NULL for single-sentence tasks */
    int label;             /* index into label_names; -1 for STS-B */
    double target;         /* STS-B's similarity score; 0 otherwise */
    long line;             /* 1-based line number in the file */
} task_example;

typedef struct {
    task_example *ex;
    size_t n;
    char *buf; /* the file; the texts point into it */
} task_data;

/* Reads every example of a labelled GLUE file of task t. Errors name the
 * file and, for bad content, the line and field: ELANG_ERR_IO when it
 * cannot be read; ELANG_ERR_FORMAT when it is empty, has no examples, has
 * a line with the wrong number of columns, lacks a column in its header
 * (a test file lacks the label), or holds an unknown label or a score
 * that is not a number; ELANG_ERR_INPUT for invalid UTF-8 or a NUL byte.
 * Release with task_data_free. */
elang_status task_read(const task_def *t, const char *path, task_data *out, elang_error *err);
void task_data_free(task_data *d);

/* Maps each task label to a model class: model_of_task[k] (k < num_labels)
 * gets the class id of task label k among the model's id2label names
 * model_labels[0..num_model_labels). When every model name is the generic
 * "LABEL_<i>" (i its id), the task's label order is taken as the model's
 * and the counts must agree. Otherwise labels are matched by name, ignoring
 * case and treating '-' and ' ' as '_', with "pos" and "neg" accepted for
 * positive and negative. ELANG_ERR_INVALID_ARG names a task label that has
 * no match, a count mismatch, or a regression task. */
elang_status task_map_labels(const task_def *t, const char *const *model_labels,
                             int num_model_labels, int *model_of_task, elang_error *err);

/* Parallel text for translation: line i of src and line i of ref. */
typedef struct {
    char **src, **ref; /* n lines each, without their end of line */
    size_t n;
    char *src_buf, *ref_buf;
} parallel_data;

/* Reads two parallel files, one segment a line. Lines end with "\n" as
 * sacreBLEU reads them (a "\r" before it is dropped); a final line without
 * "\n" counts, and a leading byte order mark is skipped. Both files must
 * have the same number of lines (ELANG_ERR_FORMAT naming both counts) and
 * at least one. Invalid UTF-8 or a NUL byte: ELANG_ERR_INPUT naming the file
 * and line. Release with parallel_data_free. */
elang_status task_read_parallel(const char *src_path, const char *ref_path, parallel_data *out,
                                elang_error *err);
void parallel_data_free(parallel_data *d);

#endif
