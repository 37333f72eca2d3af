#include "eval/svg.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/unicode.h"

/* Okabe and Ito's colour-blind-safe palette (without its yellow, which is
 * unreadable on white), and dash patterns: series i gets colour i % 7 and
 * dash i % 4, so the first 28 series all differ. */
static const char *const COLOURS[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                      "#E69F00", "#56B4E9", "#000000"};
static const char *const DASHES[] = {NULL, "7 4", "2 3", "9 3 2 3"};
#define NUM_COLOURS (sizeof COLOURS / sizeof *COLOURS)
#define NUM_DASHES (sizeof DASHES / sizeof *DASHES)

/* Series with at most this many points also get a dot at each point. */
#define MAX_DOTTED 12

/* ---------------------------------------------------------------- axes */

typedef struct {
    double lo, hi, step;  /* the axis spans [lo, hi], a tick every step */
    double scale;         /* tick labels show value / scale followed by suffix */
    const char *suffix;
    int decimals;
    double min, max;      /* the data, before rounding out to ticks */
    bool any;
} axis;

static void axis_include(axis *a, double v) {
    if (!isfinite(v)) return;
    if (!a->any || v < a->min) a->min = v;
    if (!a->any || v > a->max) a->max = v;
    a->any = true;
}

/* Heckbert's "nice numbers" (Graphics Gems, 1990): 1, 2, 5 or 10 times a
 * power of ten, the nearest to x when rounding, else the next above. */
static double nice(double x, bool round) {
    double e = floor(log10(x)), f = x / pow(10, e), n;
    if (round)
        n = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    else
        n = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return n * pow(10, e);
}

/* Rounds the data range out to about `ticks` round ticks, and picks the
 * label format: SI prefixes from 10^4 on (FLOPs), as many decimals as the
 * step needs. */
static void axis_fit(axis *a, int ticks) {
    double min = a->min, max = a->max;
    if (min == max) {
        double pad = min == 0 ? 1 : fabs(min) / 10;
        min -= pad;
        max += pad;
    }
    a->step = nice(nice(max - min, false) / (ticks - 1), true);
    a->lo = floor(min / a->step + 1e-9) * a->step;
    a->hi = ceil(max / a->step - 1e-9) * a->step;
    double big = fmax(fabs(a->lo), fabs(a->hi));
    static const struct {
        double scale;
        const char *suffix;
    } si[] = {{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}};
    a->scale = 1;
    a->suffix = "";
    for (size_t i = 0; i < sizeof si / sizeof *si && big >= 1e4; i++) {
        if (big >= si[i].scale) {
            a->scale = si[i].scale;
            a->suffix = si[i].suffix;
            break;
        }
    }
    double d = -floor(log10(a->step / a->scale) + 1e-9);
    a->decimals = d > 0 ? (int)d : 0;
}

static int axis_ticks(const axis *a) { return (int)lround((a->hi - a->lo) / a->step) + 1; }

static double axis_tick(const axis *a, int i) {
    double v = a->lo + i * a->step;
    return fabs(v) < a->step * 1e-9 ? 0.0 : v; /* no "-0" */
}

/* ---------------------------------------------------------------- text */

/* Writes s as XML character data: markup characters escaped, the control
 * characters XML 1.0 cannot hold dropped (tab and line ends as spaces). */
static void write_text(FILE *f, const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        case '\t': case '\n': case '\r': fputc(' ', f); break;
        default:
            if (c >= 0x20) fputc(c, f);
        }
    }
}

static size_t text_width(const char *s, double char_width) {
    size_t chars = 0;
    for (; s && *s; s++) chars += ((unsigned char)*s & 0xC0) != 0x80;
    return (size_t)(chars * char_width);
}

static elang_status check_text(const char *s, const char *what, size_t index, elang_error *err) {
    size_t bad;
    if (!s || utf8_decode(s, strlen(s), NULL, &bad)) return ELANG_OK;
    return elang_fail(err, ELANG_ERR_INVALID_ARG, "%s %zu: invalid UTF-8 at byte %zu", what, index,
                      bad);
}

static elang_status check_texts(const svg_chart *c, elang_error *err) {
    const char *chart_texts[] = {c->title, c->x_label, c->y_label};
    elang_status rc = ELANG_OK;
    for (size_t i = 0; i < 3 && rc == ELANG_OK; i++) rc = check_text(chart_texts[i], "chart text", i, err);
    for (size_t i = 0; i < c->num_series && rc == ELANG_OK; i++)
        rc = check_text(c->series[i].name, "series name", i, err);
    for (size_t i = 0; i < c->num_points && rc == ELANG_OK; i++)
        rc = check_text(c->points[i].label, "point label", i, err);
    for (size_t i = 0; i < c->num_rules && rc == ELANG_OK; i++)
        rc = check_text(c->rules[i].label, "rule label", i, err);
    return rc;
}

/* --------------------------------------------------------------- chart */

/* Where things go, in pixels. */
typedef struct {
    int width, height;
    double left, right, top, bottom; /* the plot area */
    axis x, y;
} frame;

static double px(const frame *fr, double v) {
    return fr->left + (v - fr->x.lo) / (fr->x.hi - fr->x.lo) * (fr->right - fr->left);
}

static double py(const frame *fr, double v) {
    return fr->bottom - (v - fr->y.lo) / (fr->y.hi - fr->y.lo) * (fr->bottom - fr->top);
}

/* "20G", "0.94"; zero without a prefix ("0", not "0G"). */
static void write_tick_label(FILE *f, const axis *a, double v) {
    fprintf(f, "%.*f%s", a->decimals, v / a->scale, v == 0 ? "" : a->suffix);
}

static void write_axes(FILE *f, const svg_chart *c, const frame *fr) {
    fputs("<g stroke=\"#e3e3e3\" stroke-width=\"1\">\n", f);
    for (int i = 0; i < axis_ticks(&fr->x); i++) {
        double x = px(fr, axis_tick(&fr->x, i));
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", x, fr->top, x, fr->bottom);
    }
    for (int i = 0; i < axis_ticks(&fr->y); i++) {
        double y = py(fr, axis_tick(&fr->y, i));
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", fr->left, y, fr->right, y);
    }
    fputs("</g>\n", f);
    fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" stroke=\"#444\"/>\n",
            fr->left, fr->top, fr->right - fr->left, fr->bottom - fr->top);
    fputs("<g font-size=\"12\" fill=\"#333\">\n", f);
    for (int i = 0; i < axis_ticks(&fr->x); i++) {
        double v = axis_tick(&fr->x, i);
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">", px(fr, v), fr->bottom + 18);
        write_tick_label(f, &fr->x, v);
        fputs("</text>\n", f);
    }
    for (int i = 0; i < axis_ticks(&fr->y); i++) {
        double v = axis_tick(&fr->y, i);
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">", fr->left - 8, py(fr, v) + 4);
        write_tick_label(f, &fr->y, v);
        fputs("</text>\n", f);
    }
    fputs("</g>\n", f);
    if (c->title) {
        fprintf(f, "<text x=\"%.2f\" y=\"30\" text-anchor=\"middle\" font-size=\"17\" font-weight=\"bold\">",
                (fr->left + fr->right) / 2);
        write_text(f, c->title);
        fputs("</text>\n", f);
    }
    if (c->x_label) {
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"14\">",
                (fr->left + fr->right) / 2, fr->bottom + 44);
        write_text(f, c->x_label);
        fputs("</text>\n", f);
    }
    if (c->y_label) {
        double x = 22, y = (fr->top + fr->bottom) / 2;
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"14\" "
                   "transform=\"rotate(-90 %.2f %.2f)\">", x, y, x, y);
        write_text(f, c->y_label);
        fputs("</text>\n", f);
    }
}

static void write_stroke(FILE *f, size_t i) {
    fprintf(f, "stroke=\"%s\" stroke-width=\"2\"", COLOURS[i % NUM_COLOURS]);
    if (DASHES[i % NUM_DASHES]) fprintf(f, " stroke-dasharray=\"%s\"", DASHES[i % NUM_DASHES]);
}

/* One series: a polyline through its points, broken where a point is not
 * finite; a dot on every point of a short series, and on a lone point
 * between breaks of a long one. */
static void write_series(FILE *f, const svg_series *s, size_t index, const frame *fr) {
    const char *colour = COLOURS[index % NUM_COLOURS];
    bool dotted = s->n <= MAX_DOTTED;
    size_t run = 0;
    for (size_t i = 0; i <= s->n; i++) {
        bool finite = i < s->n && isfinite(s->x[i]) && isfinite(s->y[i]);
        if (finite) {
            if (run == 0) {
                fputs("<polyline fill=\"none\" ", f);
                write_stroke(f, index);
                fputs(" points=\"", f);
            }
            fprintf(f, "%s%.2f,%.2f", run ? " " : "", px(fr, s->x[i]), py(fr, s->y[i]));
            run++;
            continue;
        }
        if (run > 0) fputs("\"/>\n", f);
        if (run == 1 && !dotted)
            fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"%s\"/>\n", px(fr, s->x[i - 1]),
                    py(fr, s->y[i - 1]), colour);
        run = 0;
    }
    for (size_t i = 0; dotted && i < s->n; i++) {
        if (isfinite(s->x[i]) && isfinite(s->y[i]))
            fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"%s\"/>\n", px(fr, s->x[i]),
                    py(fr, s->y[i]), colour);
    }
}

/* Reference lines in grey dashes, their labels inside the plot at the far
 * end; reference points as black diamonds, labelled on the side facing the
 * middle of the plot. */
static void write_references(FILE *f, const svg_chart *c, const frame *fr) {
    for (size_t i = 0; i < c->num_rules; i++) {
        const svg_rule *r = &c->rules[i];
        if (!isfinite(r->value)) continue;
        double x1 = fr->left, y1 = py(fr, r->value), x2 = fr->right, y2 = y1;
        double tx = fr->right - 6, ty = y1 - 6;
        if (r->vertical) {
            x1 = x2 = px(fr, r->value);
            y1 = fr->top;
            y2 = fr->bottom;
            tx = x1 - 6;
            ty = fr->top + 16;
        }
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#777\" "
                   "stroke-width=\"1.5\" stroke-dasharray=\"5 4\"/>\n", x1, y1, x2, y2);
        if (r->label) {
            fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\" font-size=\"12\" fill=\"#555\">",
                    tx, ty);
            write_text(f, r->label);
            fputs("</text>\n", f);
        }
    }
    for (size_t i = 0; i < c->num_points; i++) {
        const svg_point *p = &c->points[i];
        if (!isfinite(p->x) || !isfinite(p->y)) continue;
        double x = px(fr, p->x), y = py(fr, p->y);
        fprintf(f, "<path d=\"M%.2f %.2fl6 6l-6 6l-6 -6z\" fill=\"#222\" stroke=\"white\"/>\n", x, y - 6);
        if (p->label) {
            bool left_half = x < (fr->left + fr->right) / 2;
            fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"%s\" font-size=\"13\" font-weight=\"bold\" "
                       "fill=\"#222\">", left_half ? x + 10 : x - 10, y - 8, left_half ? "start" : "end");
            write_text(f, p->label);
            fputs("</text>\n", f);
        }
    }
}

static void write_legend(FILE *f, const svg_chart *c, const frame *fr) {
    double x = fr->right + 20, y = fr->top + 8;
    for (size_t i = 0; i < c->num_series; i++, y += 22) {
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" ", x, y, x + 32, y);
        write_stroke(f, i);
        fprintf(f, "/>\n<text x=\"%.2f\" y=\"%.2f\" font-size=\"13\">", x + 40, y + 4);
        write_text(f, c->series[i].name ? c->series[i].name : "");
        fputs("</text>\n", f);
    }
}

/* The plot area and the axes' ranges, from every finite value shown. */
static elang_status layout(const svg_chart *c, frame *fr, elang_error *err) {
    *fr = (frame){.width = c->width ? c->width : 800, .height = c->height ? c->height : 500};
    if (fr->width < 300 || fr->height < 200)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "a %d x %d chart is too small; at least 300 x 200",
                          fr->width, fr->height);
    double legend = 0;
    for (size_t i = 0; i < c->num_series; i++) {
        const svg_series *s = &c->series[i];
        double w = 60.0 + (double)text_width(s->name, 7.5);
        if (w > legend) legend = w;
        for (size_t j = 0; j < s->n; j++) {
            if (isfinite(s->x[j]) && isfinite(s->y[j])) {
                axis_include(&fr->x, s->x[j]);
                axis_include(&fr->y, s->y[j]);
            }
        }
    }
    for (size_t i = 0; i < c->num_points; i++) {
        if (isfinite(c->points[i].x) && isfinite(c->points[i].y)) {
            axis_include(&fr->x, c->points[i].x);
            axis_include(&fr->y, c->points[i].y);
        }
    }
    for (size_t i = 0; i < c->num_rules; i++)
        axis_include(c->rules[i].vertical ? &fr->x : &fr->y, c->rules[i].value);
    if (!fr->x.any || !fr->y.any)
        return elang_fail(err, ELANG_ERR_INVALID_ARG, "the chart has no finite value to plot on %s",
                          fr->x.any ? "the y axis" : "the x axis");
    axis_fit(&fr->x, 7);
    axis_fit(&fr->y, 6);
    fr->left = 78;
    fr->right = fr->width - 20 - (legend > fr->width / 3.0 ? fr->width / 3.0 : legend);
    fr->top = c->title ? 50 : 20;
    fr->bottom = fr->height - (c->x_label ? 62 : 36);
    return ELANG_OK;
}

elang_status svg_render(const svg_chart *c, char **out, size_t *len, elang_error *err) {
    frame fr;
    elang_status rc = check_texts(c, err);
    if (rc == ELANG_OK) rc = layout(c, &fr, err);
    if (rc != ELANG_OK) return rc;
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f) return elang_fail(err, ELANG_ERR_NOMEM, "out of memory rendering a chart");
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
               "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n",
            fr.width, fr.height, fr.width, fr.height, fr.width, fr.height);
    write_axes(f, c, &fr);
    for (size_t i = 0; i < c->num_series; i++) write_series(f, &c->series[i], i, &fr);
    write_references(f, c, &fr);
    write_legend(f, c, &fr);
    fputs("</svg>\n", f);
    bool failed = ferror(f) != 0;
    if (fclose(f) != 0 || failed) {
        free(buf);
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory rendering a chart");
    }
    *out = buf;
    *len = size;
    return ELANG_OK;
}

elang_status svg_save(const svg_chart *c, const char *path, elang_error *err) {
    char *svg;
    size_t len;
    elang_status rc = svg_render(c, &svg, &len, err);
    if (rc != ELANG_OK) return rc;
    FILE *f = fopen(path, "wb");
    if (!f) {
        rc = elang_fail(err, ELANG_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    } else {
        bool ok = fwrite(svg, 1, len, f) == len;
        if (fclose(f) != 0 || !ok) rc = elang_fail(err, ELANG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    }
    free(svg);
    return rc;
}
