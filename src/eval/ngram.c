#include "eval/ngram.h"

#include <stdlib.h>

/* The suffix of a sequence starting at s, cut to at most max_order items. */
typedef struct {
    const int32_t *s;
    size_t len;
} slice;

static int slice_cmp(const void *x, const void *y) {
    const slice *a = x, *b = y;
    size_t n = a->len < b->len ? a->len : b->len;
    for (size_t i = 0; i < n; i++)
        if (a->s[i] != b->s[i]) return a->s[i] < b->s[i] ? -1 : 1;
    return (a->len > b->len) - (a->len < b->len);
}

/* Every position's suffix, cut to max_order items and sorted. All n-grams
 * that are equal (n <= max_order) then form one run, since the strings with
 * a given prefix are an interval of a lexicographic order; a suffix shorter
 * than n holds no n-gram and lies outside every run of n-grams. */
static slice *sorted_suffixes(const int32_t *s, size_t len, int max_order) {
    slice *v = malloc((len ? len : 1) * sizeof *v);
    if (!v) return NULL;
    for (size_t i = 0; i < len; i++) {
        size_t rest = len - i;
        v[i] = (slice){s + i, rest < (size_t)max_order ? rest : (size_t)max_order};
    }
    qsort(v, len, sizeof *v, slice_cmp);
    return v;
}

static int prefix_cmp(const slice *a, const slice *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (a->s[i] != b->s[i]) return a->s[i] < b->s[i] ? -1 : 1;
    return 0;
}

/* The index just past the run of n-grams equal to v[i]'s. */
static size_t run_end(const slice *v, size_t len, size_t i, size_t n) {
    size_t j = i + 1;
    while (j < len && v[j].len >= n && prefix_cmp(&v[i], &v[j], n) == 0) j++;
    return j;
}

/* Walks the runs of both sorted lists in step, like a merge. */
static int64_t matches_of_order(const slice *a, size_t na, const slice *b, size_t nb, size_t n) {
    int64_t match = 0;
    size_t i = 0, j = 0;
    for (;;) {
        while (i < na && a[i].len < n) i++;
        while (j < nb && b[j].len < n) j++;
        if (i >= na || j >= nb) return match;
        int c = prefix_cmp(&a[i], &b[j], n);
        size_t ie = c <= 0 ? run_end(a, na, i, n) : i;
        size_t je = c >= 0 ? run_end(b, nb, j, n) : j;
        if (c == 0) match += (int64_t)(ie - i < je - j ? ie - i : je - j);
        i = ie;
        j = je;
    }
}

bool ngram_matches(const int32_t *a, size_t na, const int32_t *b, size_t nb, int max_order,
                   int64_t *match) {
    slice *sa = sorted_suffixes(a, na, max_order);
    slice *sb = sorted_suffixes(b, nb, max_order);
    bool ok = sa && sb;
    for (int n = 1; ok && n <= max_order; n++) match[n - 1] = matches_of_order(sa, na, sb, nb, (size_t)n);
    free(sa);
    free(sb);
    return ok;
}
