/* A small SVG line chart for reports, e.g. accuracy or BLEU against the
 * share of inputs routed to Super, or against FLOPs: one polyline per
 * series with a legend, reference points (Swift alone, Super alone) and
 * reference lines (the oracle) labelled in the plot, numeric axes with
 * round ticks. The chart is a plain description the caller fills in; the
 * output is a standalone SVG 1.1 document with no external resources.
 *
 *     svg_series s[] = {{"energy", x, y, n}, {"random", x2, y2, n2}};
 *     svg_point p[] = {{"Swift", 0, 0.91}, {"Super", 1, 0.95}};
 *     svg_chart c = {.title = "SST-2", .x_label = "routed to Super", .y_label = "accuracy",
 *                    .series = s, .num_series = 2, .points = p, .num_points = 2};
 *     svg_save(&c, "sst2.svg", &err);
 */
#ifndef ELANG_EVAL_SVG_H
#define ELANG_EVAL_SVG_H

#include <stdbool.h>
#include <stddef.h>

#include "elang.h"

typedef struct {
    const char *name;     /* in the legend */
    const double *x, *y;  /* n points, drawn in order; a non-finite one breaks the line */
    size_t n;
} svg_series;

/* A labelled marker, e.g. a single model's cost and quality. */
typedef struct {
    const char *label;
    double x, y;
} svg_point;

/* A labelled dashed line across the plot at x = value (vertical) or
 * y = value. */
typedef struct {
    const char *label;
    double value;
    bool vertical;
} svg_rule;

typedef struct {
    const char *title, *x_label, *y_label; /* any may be NULL */
    const svg_series *series;
    size_t num_series;
    const svg_point *points;
    size_t num_points;
    const svg_rule *rules;
    size_t num_rules;
    int width, height; /* pixels; 0 = 800 × 500 */
} svg_chart;

/* The SVG document, malloc'ed and NUL-terminated (*len without the NUL).
 * Text is escaped for XML; invalid UTF-8 in a text: ELANG_ERR_INVALID_ARG
 * naming it. A chart without a single finite value, or smaller than
 * 300 × 200: ELANG_ERR_INVALID_ARG. */
elang_status svg_render(const svg_chart *c, char **out, size_t *len, elang_error *err);

/* svg_render, written to path (ELANG_ERR_IO naming it on failure). */
elang_status svg_save(const svg_chart *c, const char *path, elang_error *err);

#endif
