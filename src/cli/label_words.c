#include "cli/label_words.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/fail.h"

bool label_words_parse(const char *command, const char *list, label_words *w) {
    w->n = 0;
    if (!(w->copy = strdup(list))) {
        fprintf(stderr, "elang %s: out of memory\n", command);
        return false;
    }
    bool ok = true;
    for (char *p = w->copy; ok;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        ok = *p && w->n < CLI_MAX_LABEL_WORDS;
        if (ok) w->words[w->n++] = p;
        if (!comma) break;
        p = comma + 1;
    }
    if (!ok || w->n < 2) {
        fprintf(stderr, "elang %s: --label-words needs 2 to %d non-empty words separated by commas\n", command,
                CLI_MAX_LABEL_WORDS);
        return false;
    }
    /* Two equal words are a typo the command line alone shows; words that
     * differ but start with the same token can only be found with the model. */
    for (int i = 0; i < w->n; i++)
        for (int j = i + 1; j < w->n; j++)
            if (strcmp(w->words[i], w->words[j]) == 0) {
                fprintf(stderr, "elang %s: --label-words names \"%s\" twice (words %d and %d)\n", command,
                        w->words[i], i + 1, j + 1);
                return false;
            }
    return true;
}

int label_words_fit(const char *command, elang_model *m, const char *const *words, int n) {
    const elang_classify_opts probe = {.label_words = words, .num_label_words = n};
    elang_class_out none;
    elang_error err;
    return elang_classify(m, NULL, 0, &probe, &none, &err) == ELANG_OK ? 0 : cli_fail(command, "", &err);
}

void label_words_free(label_words *w) {
    free(w->copy);
    w->copy = NULL;
    w->n = 0;
}
