/* Command-line flags: each subcommand declares its flags in a table; the
 * parser checks every value (type, range) and names the flag at fault. */
#ifndef ELANG_CLI_ARGS_H
#define ELANG_CLI_ARGS_H

#include <stdbool.h>

/* FLAG_TEXT is a FLAG_STRING that is text for the models (a prefix, label
 * words), so it must be UTF-8; a path need not be. */
typedef enum { FLAG_BOOL, FLAG_INT, FLAG_DOUBLE, FLAG_STRING, FLAG_TEXT, FLAG_CHOICE } flag_kind;

typedef struct {
    const char *name;     /* without the leading "--" */
    flag_kind kind;
    void *dest;           /* bool*, int*, double*, const char** (string, text, choice) */
    double min, max;      /* inclusive range for numbers */
    const char *choices;  /* FLAG_CHOICE: "json|text" */
    const char *help;
    const char *metavar;
} flag_spec;

/* Parses argv[0..argc) against `flags` (terminated by a zero entry).
 * Returns 0, or prints a message naming the bad flag to stderr and returns 2;
 * returns 1 after printing usage when --help is given. */
int parse_flags(const char *command, const char *synopsis, int argc, char **argv,
                const flag_spec *flags);

void print_usage(const char *command, const char *synopsis, const flag_spec *flags);

#endif
