/* --label-words W,W: a generator's classes as words, for every command that
 * takes them (route, calibrate, eval, serve, classify). */
#ifndef ELANG_CLI_LABEL_WORDS_H
#define ELANG_CLI_LABEL_WORDS_H

#include <stdbool.h>

#include "elang.h"

/* More label words than any task has labels is a typo, not a request. */
#define CLI_MAX_LABEL_WORDS 64

typedef struct {
    char *copy;                           /* of the flag's text, cut at its commas */
    const char *words[CLI_MAX_LABEL_WORDS]; /* pointers into copy */
    int n;
} label_words;

/* Splits `list` ("negative,positive") into w: 2 to CLI_MAX_LABEL_WORDS
 * non-empty words, no word twice. False after saying why on stderr (as
 * "elang COMMAND: ..."); release w with label_words_free either way. */
bool label_words_parse(const char *command, const char *list, label_words *w);
void label_words_free(label_words *w);

/* 0 when m classifies by words[0..n): a text generator whose vocabulary
 * tells the words' first tokens apart; else the exit code, after saying
 * why. Asked before any input is read. */
int label_words_fit(const char *command, elang_model *m, const char *const *words, int n);

#endif
