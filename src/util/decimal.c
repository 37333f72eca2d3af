#include "util/decimal.h"

#include <ctype.h>

static const char *digits(const char *s, int *count) {
    for (*count = 0; isdigit((unsigned char)*s); s++) ++*count;
    return s;
}

bool decimal_syntax(const char *s, bool whole_only) {
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
