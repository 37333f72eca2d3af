/* Numbers as a person writes them in a flag or a data file: an optional
 * sign, decimal digits with at most one point, an optional exponent
 * ("-1.5e-3"). strtod and strtol alone also take leading blanks,
 * hexadecimal ("0x10" is 16) and words ("inf", "nan"), which there are
 * typos more often than intent, and would make one flag read "0x10" that
 * another refuses. */
#ifndef ELANG_UTIL_DECIMAL_H
#define ELANG_UTIL_DECIMAL_H

#include <stdbool.h>

/* s, whole, as such a number from lo to hi; false when it is none, or
 * beyond what a double holds (strtod's ERANGE), or out of the range. */
bool decimal_parse(const char *s, double lo, double hi, double *out);

/* s, whole, as a sign and decimal digits from lo to hi. */
bool whole_parse(const char *s, long lo, long hi, long *out);

#endif
