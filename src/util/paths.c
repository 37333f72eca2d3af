#include "util/paths.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/strbuf.h"

/* Kept as they are: nothing to be relative to. */
static bool stays(const char *path) { return !path[0] || path[0] == '/' || strstr(path, "://"); }

/* `path` from directory `dir` (an absolute path; NULL: the working
 * directory), absolute and normalized as text: no ".", "..", or empty
 * components ("/.." is "/"). Malloc'ed; NULL when memory runs out or the
 * working directory cannot be had. */
static char *absolute_from(const char *dir, const char *path) {
    char cwd[PATH_MAX];
    if (path[0] != '/' && !dir && !(dir = getcwd(cwd, sizeof cwd))) return NULL;
    strbuf joined = {0}, out = {0};
    bool ok = (path[0] == '/' || (strbuf_puts(&joined, dir) && strbuf_puts(&joined, "/"))) &&
              strbuf_puts(&joined, path) && strbuf_puts(&out, "");
    for (char *p = ok ? joined.s : NULL; p && *p;) {
        while (*p == '/') p++;
        const size_t len = strcspn(p, "/");
        if (len == 2 && p[0] == '.' && p[1] == '.') {
            char *slash = strrchr(out.s, '/');
            out.len = slash ? (size_t)(slash - out.s) : 0;
            out.s[out.len] = '\0';
        } else if (len && !(len == 1 && p[0] == '.')) {
            ok = ok && strbuf_puts(&out, "/") && strbuf_append(&out, p, len);
        }
        p += len;
    }
    if (ok && !out.len) ok = strbuf_puts(&out, "/");
    strbuf_free(&joined);
    if (ok) return out.s;
    strbuf_free(&out);
    return NULL;
}

/* The path from absolute normalized directory `from` to absolute
 * normalized `to`. */
static char *relative(const char *from, const char *to) {
    /* The longest common prefix that ends at a component boundary. */
    size_t common = 0;
    for (size_t i = 0;; i++) {
        const bool end_from = from[i] == '\0' || from[i] == '/', end_to = to[i] == '\0' || to[i] == '/';
        if (end_from && end_to) common = i;
        if (from[i] != to[i] || from[i] == '\0') break;
    }
    strbuf out = {0};
    bool ok = strbuf_puts(&out, "");
    /* One ".." for every component of `from` beyond the common part (the
     * root "/" has none). */
    for (const char *p = from + common; ok && *p; p++)
        if (*p == '/' && p[1]) ok = strbuf_puts(&out, out.len ? "/.." : "..");
    const char *rest = to + common + (to[common] == '/');
    if (ok && *rest) ok = (!out.len || strbuf_puts(&out, "/")) && strbuf_puts(&out, rest);
    if (ok && !out.len) ok = strbuf_puts(&out, ".");
    if (ok) return out.s;
    strbuf_free(&out);
    return NULL;
}

char *path_relative(const char *dir, const char *target) {
    char *from = absolute_from(NULL, dir), *to = absolute_from(NULL, target);
    char *rel = from && to ? relative(from, to) : NULL;
    free(from), free(to);
    return rel;
}

/* The real folder of `file` (links followed; for a file not written yet,
 * its folder's); NULL when it is no regular file or cannot be resolved. */
static char *folder_of(const char *file) {
    struct stat st;
    char *real = NULL;
    if (stat(file, &st) == 0) {
        if (!S_ISREG(st.st_mode)) return NULL;
        if (!(real = realpath(file, NULL))) return NULL;
        *strrchr(real, '/') = '\0';  /* realpath's answer is absolute */
        if (!real[0]) strcpy(real, "/");
        return real;
    }
    const char *slash = strrchr(file, '/');
    char *folder = slash ? strndup(file, slash == file ? 1 : (size_t)(slash - file)) : strdup(".");
    real = folder ? realpath(folder, NULL) : NULL;
    free(folder);
    return real;
}

char *path_for_file(const char *file, const char *path) {
    if (stays(path)) return strdup(path);
    char *base = folder_of(file), *target = absolute_from(NULL, path);
    char *recorded = base && target ? relative(base, target) : target;
    if (recorded != target) free(target);
    free(base);
    return recorded;
}

char *path_from_file(const char *file, const char *recorded) {
    if (stays(recorded)) return strdup(recorded);
    char *base = folder_of(file);
    if (!base) return strdup(recorded);
    char *target = absolute_from(base, recorded);
    char *path = target ? path_relative(".", target) : NULL;
    free(base), free(target);
    return path;
}
