#include "util/paths.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/strbuf.h"

/* The folder part of a path: "models" for "models/x.json", "." for "x.json",
 * "/" for "/x.json". Malloc'ed; NULL when memory runs out. */
static char *folder_of(const char *file) {
    const char *slash = strrchr(file, '/');
    if (!slash) return strdup(".");
    if (slash == file) return strdup("/");
    return strndup(file, (size_t)(slash - file));
}

char *path_relative(const char *dir, const char *target) {
    char *from = realpath(dir, NULL), *to = realpath(target, NULL);
    strbuf out = {0};
    bool ok = from && to;
    if (ok) {
        /* The longest common prefix that ends at a component boundary. */
        size_t common = 0;
        for (size_t i = 0;; i++) {
            const bool end_from = from[i] == '\0' || from[i] == '/', end_to = to[i] == '\0' || to[i] == '/';
            if (end_from && end_to) common = i;
            if (from[i] != to[i] || from[i] == '\0') break;
        }
        /* One ".." for every component of `from` beyond the common part
         * (the root "/" has none). */
        for (const char *p = from + common; ok && *p; p++)
            if (*p == '/' && p[1]) ok = strbuf_puts(&out, out.len ? "/.." : "..");
        const char *rest = to + common + (to[common] == '/');
        if (ok && *rest) ok = (!out.len || strbuf_puts(&out, "/")) && strbuf_puts(&out, rest);
        if (ok && !out.len) ok = strbuf_puts(&out, ".");
    }
    free(from), free(to);
    if (ok) return out.s;
    strbuf_free(&out);
    return NULL;
}

char *path_from_file(const char *file, const char *recorded) {
    if (!recorded[0] || recorded[0] == '/') return strdup(recorded);
    char *folder = folder_of(file);
    strbuf joined = {0};
    bool ok = folder && (strcmp(folder, ".") == 0 || (strbuf_puts(&joined, folder) && strbuf_puts(&joined, "/"))) &&
              strbuf_puts(&joined, recorded);
    free(folder);
    if (!ok) {
        strbuf_free(&joined);
        return NULL;
    }
    char *from_here = path_relative(".", joined.s);
    if (!from_here) return joined.s;
    strbuf_free(&joined);
    return from_here;
}

char *path_for_file(const char *file, const char *path) {
    if (!path[0] || path[0] == '/') return strdup(path);
    char *folder = folder_of(file);
    char *rel = folder ? path_relative(folder, path) : NULL;
    free(folder);
    if (rel) return rel;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return strdup(path);
    const size_t n = strlen(cwd) + strlen(path) + 2;
    char *absolute = malloc(n);
    if (absolute) snprintf(absolute, n, "%s/%s", cwd, path);
    return absolute;
}
