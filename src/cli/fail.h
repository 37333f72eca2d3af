/* How a command ends on a library error: `elang COMMAND: message` on
 * stderr, and the exit code the error calls for. */
#ifndef ELANG_CLI_FAIL_H
#define ELANG_CLI_FAIL_H

#include "elang.h"

/* Prints "elang COMMAND: CONTEXTmessage" and returns 2 when the library
 * refused a value the command line chose (ELANG_ERR_INVALID_ARG: a flag
 * beyond what the model can do, models that cannot stand in for each other,
 * a task the model cannot answer, a calibration made for other models), 1
 * for every other failure (files that cannot be read, bad content). */
int cli_fail(const char *command, const char *context, const elang_error *err);

#endif
