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
        if (elang_model_is_causal(models[i]))
            fprintf(stderr, "elang %s: %s %d leaves no room in %s for a prompt (its special tokens and a token of "
                            "text): at most %d\n", command, source, *max_new_tokens, elang_model_dir(models[i]), limit);
        else
            fprintf(stderr, "elang %s: %s %d exceeds what %s can generate: %d tokens after the start token (its %d "
                            "decoder positions)\n", command, source, *max_new_tokens, elang_model_dir(models[i]), limit,
                    limit + 1);
        return 2;
    }
    return 0;
}

elang_dtype dtype_of_flag(const char *flag) {
    elang_dtype t = ELANG_DTYPE_F32;
    if (flag) elang_dtype_from_name(flag, &t); /* the flag parser admitted only the names */
    return t;
}

void warn_dtype(const char *command, const elang_calibration *calib, elang_dtype dtype) {
    if (calib && calib->dtype != dtype)
        fprintf(stderr, "elang %s: warning: the calibration was made with %s matrix products and these models run "
                        "%s: the scores shift a little, so its threshold may sit slightly off (calibrate again with "
                        "--dtype %s to be exact)\n", command, elang_dtype_name(calib->dtype), elang_dtype_name(dtype),
                elang_dtype_name(dtype));
}

void print_profile(const char *command, const elang_model *m) {
    elang_profile p;
    elang_model_profile(m, &p);
    const double rest = p.seconds - p.linear_seconds - p.attention_seconds;
    const double share = p.seconds > 0 ? 100.0 / p.seconds : 0.0;
    char threads[160];
    int len = snprintf(threads, sizeof threads, "%d threads", elang_model_threads(m));
    if (p.batches_fewer_threads > 0)
        snprintf(threads + len, sizeof threads - (size_t)len,
                 "; %ld of %ld batches on fewer, down to %d, while other processes held CPUs", p.batches_fewer_threads,
                 p.batches, p.fewest_threads);
    fprintf(stderr,
            "elang %s: profile of %s (%s, %s): %.3f s in the model; linear layers %.3f s (%.0f%%, %.1f "
            "GFLOP/s), attention products %.3f s (%.0f%%, %.1f GFLOP/s), the rest %.3f s (%.0f%%: tokenizing, "
            "embeddings, norms, softmax, energies and scores, search); %ld products\n",
            command, elang_model_dir(m), elang_dtype_name(elang_model_dtype(m)), threads, p.seconds,
            p.linear_seconds, p.linear_seconds * share, p.linear_seconds > 0 ? p.linear_gflop / p.linear_seconds : 0.0,
            p.attention_seconds, p.attention_seconds * share,
            p.attention_seconds > 0 ? p.attention_gflop / p.attention_seconds : 0.0, rest, rest * share, p.products);
}
