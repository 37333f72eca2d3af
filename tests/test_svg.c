/* The SVG chart writer: well-formed XML (checked by a small parser here,
 * so the test needs no XML tool), the series, legend, references and
 * ticks present, text escaped, and bad charts refused. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eval/svg.h"
#include "support.h"

/* Checks XML well-formedness for what the writer emits: one root element,
 * matched and properly nested tags, quoted attributes without '<', and '&'
 * only in the five predefined entities. Fails the test with the offset. */
static void check_well_formed(const char *s) {
    const char *stack[64];
    size_t stack_len[64];
    int depth = 0, roots = 0;
    const char *start = s;
    if (strncmp(s, "<?xml ", 6) == 0) {
        s = strstr(s, "?>");
        if (!s) fail_msg("unterminated XML declaration");
        s += 2;
    }
    while (*s) {
        if (*s == '&') {
            static const char *const entities[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
            bool known = false;
            for (int i = 0; i < 5; i++) known |= strncmp(s, entities[i], strlen(entities[i])) == 0;
            if (!known) fail_msg("bare '&' at offset %td", s - start);
            s++;
            continue;
        }
        if (*s == '>') fail_msg("bare '>' in text at offset %td", s - start);
        if (*s != '<') {
            if (depth == 0 && *s != '\n' && *s != ' ') fail_msg("text outside the root at offset %td", s - start);
            s++;
            continue;
        }
        bool closing = s[1] == '/';
        const char *name = s + 1 + closing;
        size_t len = strcspn(name, " \t\n/>");
        if (len == 0) fail_msg("tag without a name at offset %td", s - start);
        const char *p = name + len;
        while (*p && *p != '>' && !(p[0] == '/' && p[1] == '>')) {
            if (*p == ' ' || *p == '\n') {
                p++;
                continue;
            }
            if (closing) fail_msg("attribute in a closing tag at offset %td", p - start);
            size_t attr = strcspn(p, "= \t\n/>");
            if (attr == 0 || p[attr] != '=' || p[attr + 1] != '"')
                fail_msg("malformed attribute at offset %td", p - start);
            const char *end = strchr(p + attr + 2, '"');
            if (!end) fail_msg("unterminated attribute at offset %td", p - start);
            if (memchr(p + attr + 2, '<', (size_t)(end - p - attr - 2)))
                fail_msg("'<' in an attribute at offset %td", p - start);
            p = end + 1;
        }
        if (!*p) fail_msg("unterminated tag at offset %td", s - start);
        bool empty = *p == '/';
        if (closing) {
            if (depth == 0 || stack_len[depth - 1] != len || strncmp(stack[depth - 1], name, len) != 0)
                fail_msg("</%.*s> does not close the open element at offset %td", (int)len, name, s - start);
            depth--;
        } else if (!empty) {
            if (depth == 0) roots++;
            if (depth == 64) fail_msg("too deep");
            stack[depth] = name;
            stack_len[depth++] = len;
        } else if (depth == 0) {
            roots++;
        }
        s = p + (empty ? 2 : 1);
    }
    if (depth != 0) fail_msg("%d elements left open", depth);
    if (roots != 1) fail_msg("%d root elements", roots);
}

static size_t count(const char *s, const char *what) {
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what)) n++;
    return n;
}

static char *render(const svg_chart *c) {
    char *svg;
    size_t len;
    elang_error err = {0};
    if (svg_render(c, &svg, &len, &err) != ELANG_OK) fail_msg("%s", err.message);
    assert_int_equal(len, strlen(svg));
    check_well_formed(svg);
    return svg;
}

static void test_routing_chart(void **state) {
    (void)state;
    double x[11], energy[11], random[11];
    for (int i = 0; i <= 10; i++) {
        x[i] = i / 10.0;
        energy[i] = 0.906 + 0.041 * (1 - exp(-4 * x[i]));
        random[i] = 0.906 + 0.041 * x[i];
    }
    double xs[4] = {0, 0.5, 0.7, 1}, ys[4] = {0.91, NAN, 0.93, 0.947};
    svg_series s[] = {{"energy", x, energy, 11}, {"random", x, random, 11}, {"a <b> & \"c\"", xs, ys, 4}};
    svg_point p[] = {{"Swift", 0, 0.906}, {"Super", 1, 0.947}};
    svg_rule r[] = {{"oracle", 0.968, false}, {"budget", 0.3, true}};
    svg_chart c = {.title = "SST-2 & friends", .x_label = "routed to Super", .y_label = "accuracy",
                   .series = s, .num_series = 3, .points = p, .num_points = 2, .rules = r, .num_rules = 2};
    char *svg = render(&c);
    /* One polyline per series, the third broken in two by its NaN (the
     * lone point before it is dotted like all points of short series). */
    assert_int_equal(count(svg, "<polyline"), 4);
    assert_int_equal(count(svg, "<circle"), 11 + 11 + 3);
    /* Distinct colours and dashes, each in its line and its legend entry. */
    assert_int_equal(count(svg, "stroke=\"#0072B2\" stroke-width=\"2\""), 2);
    assert_int_equal(count(svg, "stroke=\"#D55E00\" stroke-width=\"2\" stroke-dasharray=\"7 4\""), 2);
    assert_int_equal(count(svg, "stroke=\"#009E73\" stroke-width=\"2\" stroke-dasharray=\"2 3\""), 3);
    /* Legend, references and titles, escaped. */
    assert_non_null(strstr(svg, ">energy</text>"));
    assert_non_null(strstr(svg, ">random</text>"));
    assert_non_null(strstr(svg, ">a &lt;b&gt; &amp; &quot;c&quot;</text>"));
    assert_non_null(strstr(svg, ">SST-2 &amp; friends</text>"));
    assert_non_null(strstr(svg, ">Swift</text>"));
    assert_non_null(strstr(svg, ">Super</text>"));
    assert_non_null(strstr(svg, ">oracle</text>"));
    assert_non_null(strstr(svg, ">budget</text>"));
    assert_int_equal(count(svg, "<path d=\"M"), 2);
    assert_int_equal(count(svg, "stroke-dasharray=\"5 4\""), 2);
    /* y spans 0.906 .. 0.968 (the oracle): Heckbert's nice range of 0.062
     * is 0.1, a fifth of it rounds to a step of 0.02, so the ticks are
     * 0.90, 0.92, ..., 0.98. x spans 0 .. 1: steps of 1/6 round to 0.2. */
    assert_non_null(strstr(svg, ">0.90</text>"));
    assert_non_null(strstr(svg, ">0.98</text>"));
    assert_null(strstr(svg, ">0.91</text>"));
    assert_null(strstr(svg, ">1.00</text>"));
    assert_null(strstr(svg, ">0.88</text>"));
    assert_non_null(strstr(svg, ">0.0</text>"));
    assert_non_null(strstr(svg, ">1.0</text>"));
    assert_int_equal(count(svg, "text-anchor=\"middle\">0."), 5); /* 0.0, 0.2, ..., 0.8 */
    free(svg);
}

static void test_large_values_and_degenerate_ranges(void **state) {
    (void)state;
    /* FLOPs: SI prefixes, and 0 without one. */
    double x[] = {1.2e9, 5.5e9, 2.2e10}, y[] = {30.1, 33.5, 35.2};
    svg_series s[] = {{"BLEU", x, y, 3}};
    svg_chart c = {.series = s, .num_series = 1, .width = 500, .height = 320};
    char *svg = render(&c);
    assert_non_null(strstr(svg, ">0</text>"));
    assert_non_null(strstr(svg, ">10G</text>"));
    assert_non_null(strstr(svg, ">20G</text>"));
    assert_non_null(strstr(svg, "width=\"500\" height=\"320\""));
    free(svg);
    /* One point: the range is widened around it; a single reference line
     * is enough for its axis. */
    double one_x = 3, one_y = 0;
    svg_series single[] = {{"one", &one_x, &one_y, 1}};
    svg_rule r[] = {{NULL, 0.5, false}};
    c = (svg_chart){.series = single, .num_series = 1, .rules = r, .num_rules = 1};
    svg = render(&c);
    assert_int_equal(count(svg, "<circle"), 1);
    free(svg);
}

static void test_bad_charts(void **state) {
    (void)state;
    char *svg;
    size_t len;
    elang_error err = {0};
    double nan_x = NAN, y = 1;
    svg_series s[] = {{"nothing", &nan_x, &y, 1}};
    svg_chart c = {.series = s, .num_series = 1};
    assert_int_equal(svg_render(&c, &svg, &len, &err), ELANG_ERR_INVALID_ARG);
    assert_string_equal(err.message, "the chart has no finite value to plot on the x axis");
    c = (svg_chart){0};
    assert_int_equal(svg_render(&c, &svg, &len, &err), ELANG_ERR_INVALID_ARG);

    double x = 1;
    svg_series ok[] = {{"fine", &x, &y, 1}, {"caf\xe9", &x, &y, 1}};
    c = (svg_chart){.series = ok, .num_series = 2};
    assert_int_equal(svg_render(&c, &svg, &len, &err), ELANG_ERR_INVALID_ARG);
    assert_string_equal(err.message, "series name 1: invalid UTF-8 at byte 3");
    c = (svg_chart){.series = ok, .num_series = 1, .width = 100, .height = 100};
    assert_int_equal(svg_render(&c, &svg, &len, &err), ELANG_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "too small"));
    c = (svg_chart){.series = ok, .num_series = 1};
    assert_int_equal(svg_save(&c, "/nonexistent/dir/chart.svg", &err), ELANG_ERR_IO);
    assert_non_null(strstr(err.message, "cannot create /nonexistent/dir/chart.svg"));
}

static void test_save(void **state) {
    (void)state;
    double x[] = {0, 1}, y[] = {0, 1};
    svg_series s[] = {{"diagonal", x, y, 2}};
    svg_chart c = {.title = "t", .series = s, .num_series = 1};
    char path[512];
    snprintf(path, sizeof path, "%s/chart.svg", test_tmpdir());
    elang_error err = {0};
    assert_int_equal(svg_save(&c, path, &err), ELANG_OK);
    size_t len;
    char *saved = read_file_all(path, &len);
    char *svg = render(&c);
    assert_string_equal(saved, svg);
    free(saved);
    free(svg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routing_chart),
        cmocka_unit_test(test_large_values_and_degenerate_ranges),
        cmocka_unit_test(test_bad_charts),
        cmocka_unit_test(test_save),
    };
    int failed = cmocka_run_group_tests_name("svg", tests, NULL, NULL);
    test_tmpdir_cleanup();
    return failed;
}
