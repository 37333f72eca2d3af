#include "cli/fail.h"

#include <stdio.h>

int cli_fail(const char *command, const char *context, const elang_error *err) {
    fprintf(stderr, "elang %s: %s%s\n", command, context, err->message);
    return err->code == ELANG_ERR_INVALID_ARG ? 2 : 1;
}
