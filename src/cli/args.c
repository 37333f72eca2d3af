#include "cli/args.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/decimal.h"
#include "util/unicode.h"

void print_usage(const char *command, const char *synopsis, const flag_spec *flags) {
    fprintf(stderr, "usage: elang %s %s\n\nflags:\n", command, synopsis);
    for (const flag_spec *f = flags; f->name; f++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", f->name, f->metavar ? " " : "", f->metavar ? f->metavar : "");
        fprintf(stderr, "  %-24s %s\n", left, f->help);
    }
}

static int bad_value(const char *command, const flag_spec *f, const char *value, const char *why) {
    fprintf(stderr, "elang %s: invalid value '%s' for --%s: %s\n", command, value, f->name, why);
    return 2;
}

static int set_value(const char *command, const flag_spec *f, const char *value) {
    char why[160];
    switch (f->kind) {
    case FLAG_BOOL: *(bool *)f->dest = true; return 0;
    case FLAG_TEXT: {
        /* The tokenizer's own rule (util/unicode), checked here so that the
         * fault is the flag's, not the first input's. */
        size_t bad;
        if (!utf8_decode(value, strlen(value), NULL, &bad)) {
            /* Not the value itself: its bytes would garble the terminal. */
            fprintf(stderr, "elang %s: invalid value for --%s: not valid UTF-8 (byte %zu)\n", command, f->name, bad);
            return 2;
        }
        __attribute__((fallthrough)); /* otherwise a string */
    }
    case FLAG_STRING:
        if (!*value) return bad_value(command, f, value, "must not be empty");
        *(const char **)f->dest = value;
        return 0;
    case FLAG_CHOICE: {
        size_t n = strlen(value);
        for (const char *c = f->choices; *c;) {
            const char *bar = strchr(c, '|');
            size_t len = bar ? (size_t)(bar - c) : strlen(c);
            if (len == n && strncmp(c, value, n) == 0) {
                *(const char **)f->dest = value;
                return 0;
            }
            c += len + (bar ? 1 : 0);
        }
        snprintf(why, sizeof why, "expected one of %s", f->choices);
        return bad_value(command, f, value, why);
    }
    case FLAG_INT: {
        long v;
        if (!whole_parse(value, (long)f->min, (long)f->max, &v)) {
            snprintf(why, sizeof why, "expected a whole number from %.0f to %.0f", f->min, f->max);
            return bad_value(command, f, value, why);
        }
        *(int *)f->dest = (int)v;
        return 0;
    }
    case FLAG_DOUBLE: {
        double v;
        if (!decimal_parse(value, f->min, f->max, &v)) {
            snprintf(why, sizeof why, "expected a number from %g to %g", f->min, f->max);
            return bad_value(command, f, value, why);
        }
        *(double *)f->dest = v;
        return 0;
    }
    }
    return 2;
}

/* The flag `arg` names ("--name" or "--name=value"), or NULL. */
static const flag_spec *find_flag(const flag_spec *flags, const char *arg) {
    if (strncmp(arg, "--", 2) != 0) return NULL;
    const char *name = arg + 2, *eq = strchr(name, '=');
    const size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
    const flag_spec *f = flags;
    while (f->name && !(strlen(f->name) == name_len && strncmp(f->name, name, name_len) == 0)) f++;
    return f->name ? f : NULL;
}

/* More than any command declares. */
#define MAX_FLAGS 128

int parse_flags(const char *command, const char *synopsis, int argc, char **argv,
                const flag_spec *flags) {
    /* A flag given twice is a mistake in the command (two thresholds, two
     * models): taking the last silently would run what was not meant. */
    bool given[MAX_FLAGS] = {0};
    size_t declared = 0;
    while (flags[declared].name) declared++;
    if (declared > MAX_FLAGS) {
        fprintf(stderr, "elang %s: internal error: %zu flags declared, at most %d\n", command, declared, MAX_FLAGS);
        return 2;
    }
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_usage(command, synopsis, flags);
            return 1;
        }
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "elang %s: unexpected argument '%s' (flags start with --; see elang %s --help)\n",
                    command, arg, command);
            return 2;
        }
        const flag_spec *f = find_flag(flags, arg);
        if (!f) {
            fprintf(stderr, "elang %s: unknown flag '--%.*s' (see elang %s --help)\n", command,
                    (int)strcspn(arg + 2, "="), arg + 2, command);
            return 2;
        }
        const size_t which = (size_t)(f - flags);
        if (given[which]) {
            fprintf(stderr, "elang %s: --%s is given twice; give it once\n", command, f->name);
            return 2;
        }
        given[which] = true;
        const char *eq = strchr(arg, '='), *value;
        /* A flag missing its value must not swallow the next flag: in
         * "--output --threads 2" --output lacks a value. A value that looks
         * like a flag can still be given as --output=--threads. */
        const bool next_is_flag =
            i + 1 < argc && (find_flag(flags, argv[i + 1]) || strcmp(argv[i + 1], "--help") == 0);
        if (f->kind == FLAG_BOOL) {
            if (eq) {
                fprintf(stderr, "elang %s: --%s takes no value\n", command, f->name);
                return 2;
            }
            value = "";
        } else if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc && !next_is_flag) {
            value = argv[++i];
        } else {
            fprintf(stderr, "elang %s: --%s needs a value\n", command, f->name);
            return 2;
        }
        int rc = set_value(command, f, value);
        if (rc) return rc;
    }
    return 0;
}
