#include "cli/model_flags.h"

#include <stdio.h>

int fit_max_new_tokens(const char *command, elang_model *const *models, int n, int *max_new_tokens,
                       const char *source) {
    for (int i = 0; i < n; i++) {
        const int limit = elang_model_max_new_tokens(models[i]);
        if (limit <= 0 || *max_new_tokens <= limit) continue;
        if (!source) {
            *max_new_tokens = limit;
            continue;
        }
        fprintf(stderr, "elang %s: %s %d exceeds what %s can generate: %d tokens after the start token (its %d "
                        "decoder positions)\n", command, source, *max_new_tokens, elang_model_dir(models[i]), limit,
                limit + 1);
        return 2;
    }
    return 0;
}
