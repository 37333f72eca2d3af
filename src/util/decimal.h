/* Numbers as a person writes them in a flag or a data file. strtod and
 * strtol alone also take leading blanks, hexadecimal ("0x10" is 16) and
 * words ("inf", "nan"), which there are typos more often than intent, and
 * would make one flag read "0x10" that another refuses. */
#ifndef ELANG_UTIL_DECIMAL_H
#define ELANG_UTIL_DECIMAL_H

#include <stdbool.h>

/* Whether s is, whole, an optional sign and decimal digits; unless
 * `whole_only`, with at most one point and an exponent ("-1.5e-3"). */
bool decimal_syntax(const char *s, bool whole_only);

#endif
