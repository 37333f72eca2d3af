/* What the benchmark programs share: a monotonic clock, the comparison
 * qsort needs for medians, and the texts of a {"text": ...} JSONL file.
 * Header-only because every C file in bench/ is a program of its own. */
#ifndef ELANG_BENCH_UTIL_H
#define ELANG_BENCH_UTIL_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "elang.h"

static inline double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Doubles, or rows of them by their first. */
static inline int compare_doubles(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static inline double median(double *v, size_t n) {
    qsort(v, n, sizeof *v, compare_doubles);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The texts of a JSONL file of {"text": ...} lines; *n set to their
 * number. A benchmark's inputs are its own making: on a bad file it says
 * which line and exits. */
static inline elang_text *read_text_lines(const char *program, const char *path, size_t *n) {
    json_error_t je;
    json_t *lines = json_array();
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot open %s\n", program, path);
        exit(1);
    }
    static char line[1 << 20];
    for (int number = 1; fgets(line, sizeof line, f); number++) {
        if (line[0] == '\n') continue;
        json_t *o = json_loads(line, 0, &je);
        if (!o || !json_is_string(json_object_get(o, "text"))) {
            fprintf(stderr, "%s: %s:%d: not a {\"text\": ...} line\n", program, path, number);
            exit(1);
        }
        json_array_append_new(lines, o);
    }
    fclose(f);
    *n = json_array_size(lines);
    elang_text *in = calloc(*n ? *n : 1, sizeof *in);
    for (size_t i = 0; i < *n; i++)
        in[i].text = strdup(json_string_value(json_object_get(json_array_get(lines, i), "text")));
    json_decref(lines);
    return in;
}

#endif
