/* The subcommands of the elang CLI; each returns the process exit code:
 * 0 success, 1 failure (message on stderr), 2 bad usage. */
#ifndef ELANG_CLI_COMMANDS_H
#define ELANG_CLI_COMMANDS_H

int cmd_classify(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_route(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_serve(int argc, char **argv);

#endif
