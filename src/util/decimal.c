#include "util/decimal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

static const char *digits(const char *s, int *count) {
    for (*count = 0; isdigit((unsigned char)*s); s++) ++*count;
    return s;
}

static bool decimal_syntax(const char *s, bool whole_only) {
    if (*s == '+' || *s == '-') s++;
    int before, after = 0;
    s = digits(s, &before);
    if (!whole_only && *s == '.') s = digits(s + 1, &after);
    if (before + after == 0) return false;
    if (!whole_only && (*s == 'e' || *s == 'E')) {
        s++;
        if (*s == '+' || *s == '-') s++;
        int exponent;
        s = digits(s, &exponent);
        if (exponent == 0) return false;
    }
    return *s == '\0';
}

bool decimal_parse(const char *s, double lo, double hi, double *out) {
    if (!decimal_syntax(s, false)) return false;
    errno = 0;
    const double v = strtod(s, NULL);
    if (errno || !isfinite(v) || v < lo || v > hi) return false;
    *out = v;
    return true;
}

bool whole_parse(const char *s, long lo, long hi, long *out) {
    if (!decimal_syntax(s, true)) return false;
    errno = 0;
    const long v = strtol(s, NULL, 10);
    if (errno || v < lo || v > hi) return false;
    *out = v;
    return true;
}
