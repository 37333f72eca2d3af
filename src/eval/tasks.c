#include "eval/tasks.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/decimal.h"
#include "util/files.h"
#include "util/unicode.h"

/* Column names and label strings as the GLUE distribution's files have
 * them (and as `datasets`' glue script looks them up). */
static const task_def TASKS[] = {
    {.name = "sst2", .dir = "SST-2", .dev_file = "dev.tsv", .num_labels = 2,
     .label_names = {"negative", "positive"}, .label_values = {"0", "1"},
     .num_metrics = 1, .metrics = {TASK_METRIC_ACCURACY},
     .text_column = "sentence", .label_column = "label"},
    {.name = "cola", .dir = "CoLA", .dev_file = "dev.tsv", .num_labels = 2,
     .label_names = {"unacceptable", "acceptable"}, .label_values = {"0", "1"},
     .num_metrics = 1, .metrics = {TASK_METRIC_MCC},
     .text_column = "sentence", .label_column = "label",
     .headerless = {"source", "label", "orig_label", "sentence"}},
    {.name = "mrpc", .dir = "MRPC", .dev_file = "dev.tsv", .pair = true, .num_labels = 2,
     .label_names = {"not_equivalent", "equivalent"}, .label_values = {"0", "1"},
     .num_metrics = 2, .metrics = {TASK_METRIC_F1, TASK_METRIC_ACCURACY},
     .text_column = "#1 String", .pair_column = "#2 String", .label_column = "Quality"},
    {.name = "rte", .dir = "RTE", .dev_file = "dev.tsv", .pair = true, .num_labels = 2,
     .label_names = {"entailment", "not_entailment"},
     .label_values = {"entailment", "not_entailment"},
     .num_metrics = 1, .metrics = {TASK_METRIC_ACCURACY},
     .text_column = "sentence1", .pair_column = "sentence2", .label_column = "label"},
    {.name = "qqp", .dir = "QQP", .dev_file = "dev.tsv", .pair = true, .num_labels = 2,
     .label_names = {"not_duplicate", "duplicate"}, .label_values = {"0", "1"},
     .num_metrics = 2, .metrics = {TASK_METRIC_F1, TASK_METRIC_ACCURACY},
     .text_column = "question1", .pair_column = "question2", .label_column = "is_duplicate"},
    {.name = "mnli", .dir = "MNLI", .dev_file = "dev_matched.tsv", .pair = true, .num_labels = 3,
     .label_names = {"contradiction", "entailment", "neutral"},
     .label_values = {"contradiction", "entailment", "neutral"},
     .num_metrics = 1, .metrics = {TASK_METRIC_ACCURACY},
     .text_column = "sentence1", .pair_column = "sentence2", .label_column = "gold_label"},
    {.name = "mnli-mm", .dir = "MNLI", .dev_file = "dev_mismatched.tsv", .pair = true,
     .num_labels = 3, .label_names = {"contradiction", "entailment", "neutral"},
     .label_values = {"contradiction", "entailment", "neutral"},
     .num_metrics = 1, .metrics = {TASK_METRIC_ACCURACY},
     .text_column = "sentence1", .pair_column = "sentence2", .label_column = "gold_label"},
    {.name = "qnli", .dir = "QNLI", .dev_file = "dev.tsv", .pair = true, .num_labels = 2,
     .label_names = {"entailment", "not_entailment"},
     .label_values = {"entailment", "not_entailment"},
     .num_metrics = 1, .metrics = {TASK_METRIC_ACCURACY},
     .text_column = "question", .pair_column = "sentence", .label_column = "label"},
    {.name = "stsb", .dir = "STS-B", .dev_file = "dev.tsv", .pair = true, .num_labels = 0,
     .num_metrics = 2, .metrics = {TASK_METRIC_PEARSON, TASK_METRIC_SPEARMAN},
     .text_column = "sentence1", .pair_column = "sentence2", .label_column = "score"},
    {.name = "wnli", .dir = "WNLI", .dev_file = "dev.tsv", .pair = true, .num_labels = 2,
     .label_names = {"not_entailment", "entailment"}, .label_values = {"0", "1"},
     .num_metrics = 1, .metrics = {TASK_METRIC_ACCURACY},
     .text_column = "sentence1", .pair_column = "sentence2", .label_column = "label"},
};

#define NUM_TASKS (sizeof TASKS / sizeof *TASKS)
#define MAX_COLUMNS 64

const char *task_metric_name(task_metric m) {
    switch (m) {
    case TASK_METRIC_ACCURACY: return "accuracy";
    case TASK_METRIC_F1: return "f1";
    case TASK_METRIC_MCC: return "mcc";
    case TASK_METRIC_PEARSON: return "pearson";
    case TASK_METRIC_SPEARMAN: return "spearman";
    }
    return "unknown";
}

/* names[0..n) joined with ", " into buf (cut to its size). */
static const char *join(const char *const *names, int n, char *buf, size_t size) {
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", names[i]);
    return buf;
}

elang_status task_find(const char *name, const task_def **out, elang_error *err) {
    const char *names[NUM_TASKS];
    for (size_t i = 0; i < NUM_TASKS; i++) {
        if (strcmp(TASKS[i].name, name) == 0) {
            *out = &TASKS[i];
            return ELANG_OK;
        }
        names[i] = TASKS[i].name;
    }
    char known[256];
    return elang_fail(err, ELANG_ERR_INVALID_ARG, "unknown task '%s' (known: %s)", name,
                      join(names, NUM_TASKS, known, sizeof known));
}

/* ------------------------------------------------------------ reading */

/* A whole text file, its lines handed out one by one, NUL-terminated in
 * place. */
typedef struct {
    const char *path;
    char *buf;
    const char *p, *end;
    long line_no;
    i32vec scratch; /* for UTF-8 validation */
} text_file;

static elang_status file_open(text_file *f, const char *path, elang_error *err) {
    size_t len;
    *f = (text_file){.path = path};
    elang_status rc = file_read_all(path, &f->buf, &len, err);
    if (rc != ELANG_OK) return rc;
    f->p = f->buf;
    f->end = f->buf + len;
    if (len >= 3 && memcmp(f->buf, "\xEF\xBB\xBF", 3) == 0) f->p += 3;
    if (f->p == f->end) return elang_fail(err, ELANG_ERR_FORMAT, "%s is empty", path);
    return ELANG_OK;
}

/* Ends the reading; the buffer, which the lines point into, is the
 * caller's (NULL when the file could not be read). */
static char *file_finish(text_file *f) {
    i32vec_free(&f->scratch);
    return f->buf;
}

/* The next line, after checking that it is UTF-8 without NUL bytes; NULL
 * at the end of the file. `universal`: "\r\n" and "\r" end lines too
 * (Python's text mode); otherwise only "\n" does (sacreBLEU opens files
 * with newline="\n") and a "\r" before it is dropped. */
static elang_status file_next(text_file *f, bool universal, char **line, elang_error *err) {
    *line = NULL;
    if (f->p >= f->end) return ELANG_OK;
    char *s = f->buf + (f->p - f->buf);
    size_t len;
    if (universal) {
        const char *start;
        bool terminated;
        text_next_line(&f->p, f->end, &start, &len, &terminated);
    } else {
        const char *nl = memchr(s, '\n', (size_t)(f->end - s));
        len = nl ? (size_t)(nl - s) : (size_t)(f->end - s);
        f->p = nl ? nl + 1 : f->end;
        if (len > 0 && s[len - 1] == '\r') len--;
    }
    s[len] = '\0';
    f->line_no++;
    const char *nul = memchr(s, '\0', len);
    if (nul)
        return elang_fail(err, ELANG_ERR_INPUT, "%s line %ld: NUL byte at byte %zu", f->path,
                          f->line_no, (size_t)(nul - s));
    size_t bad;
    f->scratch.len = 0;
    if (!utf8_decode(s, len, &f->scratch, &bad)) {
        if (bad == SIZE_MAX) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory reading %s", f->path);
        return elang_fail(err, ELANG_ERR_INPUT, "%s line %ld: invalid UTF-8 at byte %zu", f->path,
                          f->line_no, bad);
    }
    *line = s;
    return ELANG_OK;
}

/* Splits a line on tabs in place; returns the number of fields, of which
 * the first MAX_COLUMNS are stored. */
static int split_tabs(char *line, char **fields) {
    int n = 0;
    for (char *p = line;; n++) {
        char *tab = strchr(p, '\t');
        if (n < MAX_COLUMNS) fields[n] = p;
        if (!tab) return n + 1;
        *tab = '\0';
        p = tab + 1;
    }
}

/* ------------------------------------------------------------ GLUE */

/* Where the task's fields are in the file. */
typedef struct {
    int count;                /* columns per line */
    const char *names[MAX_COLUMNS];
    int text, pair, label;    /* column indexes; pair is -1 for single sentences */
} layout;

static int column_of(const layout *l, const char *name) {
    for (int i = 0; i < l->count; i++)
        if (strcmp(l->names[i], name) == 0) return i;
    return -1;
}

static elang_status find_columns(const task_def *t, const text_file *f, layout *l,
                                 elang_error *err) {
    const char *want[3] = {t->text_column, t->pair_column, t->label_column};
    int *at[3] = {&l->text, &l->pair, &l->label};
    for (int k = 0; k < 3; k++) {
        *at[k] = want[k] ? column_of(l, want[k]) : -1;
        if (want[k] && *at[k] < 0) {
            char have[512];
            join(l->names, l->count, have, sizeof have);
            return elang_fail(err, ELANG_ERR_FORMAT,
                              "%s line %ld: no column '%s' in the header (%s)%s", f->path,
                              f->line_no, want[k], have,
                              k == 2 ? ": a test file has no labels and cannot be evaluated"
                                     : "; is this a file of the task?");
        }
    }
    return ELANG_OK;
}

/* The columns of the task's files: the first line of a file with a header,
 * or the fixed columns of a headerless one. */
static elang_status read_layout(const task_def *t, text_file *f, layout *l, elang_error *err) {
    *l = (layout){0};
    if (t->headerless[0]) {
        const int max = (int)(sizeof t->headerless / sizeof *t->headerless);
        while (l->count < max && t->headerless[l->count]) {
            l->names[l->count] = t->headerless[l->count];
            l->count++;
        }
        return find_columns(t, f, l, err);
    }
    char *header = NULL;
    elang_status rc;
    do {
        rc = file_next(f, true, &header, err);
    } while (rc == ELANG_OK && header && !*header);
    if (rc != ELANG_OK) return rc;
    if (!header) return elang_fail(err, ELANG_ERR_FORMAT, "%s is empty", f->path);
    char *fields[MAX_COLUMNS];
    l->count = split_tabs(header, fields);
    if (l->count > MAX_COLUMNS)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s line %ld: %d columns in the header; at most %d",
                          f->path, f->line_no, l->count, MAX_COLUMNS);
    for (int i = 0; i < l->count; i++) l->names[i] = fields[i];
    return find_columns(t, f, l, err);
}

static elang_status parse_label(const task_def *t, const layout *l, const char *value,
                                const char *path, long line_no, task_example *ex,
                                elang_error *err) {
    const char *column = l->names[l->label];
    if (t->num_labels == 0) {
        ex->label = -1;
        if (!decimal_parse(value, -INFINITY, INFINITY, &ex->target))
            return elang_fail(err, ELANG_ERR_FORMAT, "%s line %ld: %s '%s' is not a number", path,
                              line_no, column, value);
        return ELANG_OK;
    }
    for (int k = 0; k < t->num_labels; k++) {
        if (strcmp(value, t->label_values[k]) == 0) {
            ex->label = k;
            return ELANG_OK;
        }
    }
    char expected[128];
    return elang_fail(err, ELANG_ERR_FORMAT,
                      "%s line %ld: unknown label '%s' in column '%s' (expected one of: %s)", path,
                      line_no, value, column, join(t->label_values, t->num_labels, expected, sizeof expected));
}

static elang_status push_example(task_data *d, size_t *cap, const task_example *ex,
                                 elang_error *err) {
    if (d->n == *cap) {
        size_t grown = *cap ? 2 * *cap : 1024;
        task_example *v = realloc(d->ex, grown * sizeof *v);
        if (!v) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for %zu examples", grown);
        d->ex = v;
        *cap = grown;
    }
    d->ex[d->n++] = *ex;
    return ELANG_OK;
}

elang_status task_read(const task_def *t, const char *path, task_data *out, elang_error *err) {
    *out = (task_data){0};
    text_file f;
    layout l;
    size_t cap = 0;
    elang_status rc = file_open(&f, path, err);
    if (rc == ELANG_OK) rc = read_layout(t, &f, &l, err);
    char *line;
    while (rc == ELANG_OK && (rc = file_next(&f, true, &line, err)) == ELANG_OK && line) {
        if (!*line) continue;
        char *fields[MAX_COLUMNS];
        int count = split_tabs(line, fields);
        if (count != l.count) {
            char names[512];
            join(l.names, l.count, names, sizeof names);
            /* CoLA's test file starts with the header "index\tsentence". */
            bool test_header = t->headerless[0] && f.line_no == 1 && strcmp(fields[0], "index") == 0;
            rc = elang_fail(err, ELANG_ERR_FORMAT, "%s line %ld: %d columns, expected %d (%s)%s",
                            path, f.line_no, count, l.count, names,
                            test_header ? "; this looks like a test file, which has no labels and "
                                          "cannot be evaluated"
                                        : "");
            break;
        }
        task_example ex = {.text = fields[l.text], .line = f.line_no};
        if (l.pair >= 0) ex.text_pair = fields[l.pair];
        rc = parse_label(t, &l, fields[l.label], path, f.line_no, &ex, err);
        if (rc == ELANG_OK) rc = push_example(out, &cap, &ex, err);
    }
    if (rc == ELANG_OK && out->n == 0)
        rc = elang_fail(err, ELANG_ERR_FORMAT, "%s holds no examples", path);
    out->buf = file_finish(&f);
    if (rc != ELANG_OK) task_data_free(out);
    return rc;
}

void task_data_free(task_data *d) {
    free(d->ex);
    free(d->buf);
    *d = (task_data){0};
}

/* ------------------------------------------------------- label mapping */

/* Lowercase ASCII, with '-' and ' ' read as '_', and the short forms of
 * sentiment labels expanded. */
static void normalize_label(const char *s, char *out, size_t size) {
    size_t n = 0;
    for (; *s && n + 1 < size; s++) out[n++] = *s == '-' || *s == ' ' ? '_' : (char)tolower((unsigned char)*s);
    out[n] = '\0';
    if (strcmp(out, "pos") == 0) snprintf(out, size, "positive");
    if (strcmp(out, "neg") == 0) snprintf(out, size, "negative");
}

/* id2label's default names, which say nothing about the classes. */
static bool is_generic(const char *name, int id) {
    char want[32];
    snprintf(want, sizeof want, "LABEL_%d", id);
    return strcmp(name, want) == 0;
}

elang_status task_map_labels(const task_def *t, const char *const *model_labels,
                             int num_model_labels, int *model_of_task, elang_error *err) {
    if (t->num_labels == 0)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "%s is a regression task; it has no labels to map",
                          t->name);
    bool generic = num_model_labels > 0;
    for (int i = 0; i < num_model_labels; i++) generic &= is_generic(model_labels[i], i);
    if (generic) {
        if (num_model_labels != t->num_labels)
            return elang_fail(err, ELANG_ERR_INVALID_ARG,
                              "the model has %d classes (LABEL_0..LABEL_%d) but %s has %d labels",
                              num_model_labels, num_model_labels - 1, t->name, t->num_labels);
        for (int k = 0; k < t->num_labels; k++) model_of_task[k] = k;
        return ELANG_OK;
    }
    for (int k = 0; k < t->num_labels; k++) {
        char want[64], have[64];
        normalize_label(t->label_names[k], want, sizeof want);
        model_of_task[k] = -1;
        for (int i = 0; i < num_model_labels && model_of_task[k] < 0; i++) {
            normalize_label(model_labels[i], have, sizeof have);
            if (strcmp(want, have) == 0) model_of_task[k] = i;
        }
        if (model_of_task[k] < 0) {
            char names[512];
            return elang_fail(err, ELANG_ERR_INVALID_ARG,
                              "no model label matches %s's label '%s' (the model's labels: %s)",
                              t->name, t->label_names[k],
                              join(model_labels, num_model_labels, names, sizeof names));
        }
    }
    return ELANG_OK;
}

/* ------------------------------------------------------- parallel text */

/* Every line of one file of a pair, in a growing array. */
static elang_status read_lines(const char *path, char ***lines, size_t *n, char **buf,
                               elang_error *err) {
    text_file f;
    size_t cap = 0;
    *lines = NULL;
    *n = 0;
    elang_status rc = file_open(&f, path, err);
    char *line;
    while (rc == ELANG_OK && (rc = file_next(&f, false, &line, err)) == ELANG_OK && line) {
        if (*n == cap) {
            size_t grown = cap ? 2 * cap : 1024;
            char **v = realloc(*lines, grown * sizeof *v);
            if (!v) {
                rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory reading %s", path);
                break;
            }
            *lines = v;
            cap = grown;
        }
        (*lines)[(*n)++] = line;
    }
    *buf = file_finish(&f);
    return rc;
}

elang_status task_read_parallel(const char *src_path, const char *ref_path, parallel_data *out,
                                elang_error *err) {
    *out = (parallel_data){0};
    size_t n_src = 0, n_ref = 0;
    elang_status rc = read_lines(src_path, &out->src, &n_src, &out->src_buf, err);
    if (rc == ELANG_OK) rc = read_lines(ref_path, &out->ref, &n_ref, &out->ref_buf, err);
    if (rc == ELANG_OK && n_src != n_ref)
        rc = elang_fail(err, ELANG_ERR_FORMAT,
                        "%s has %zu lines but %s has %zu; parallel files need one segment a line in both",
                        src_path, n_src, ref_path, n_ref);
    out->n = n_src;
    if (rc != ELANG_OK) parallel_data_free(out);
    return rc;
}

void parallel_data_free(parallel_data *d) {
    free(d->src);
    free(d->ref);
    free(d->src_buf);
    free(d->ref_buf);
    *d = (parallel_data){0};
}
