#include "util/out_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"

/* Where a chain of symbolic links ends (the path itself when it is no
 * link), malloc'ed; a link's relative target is relative to the link's
 * folder. The end may not exist yet: a dangling link names the file to make.
 * NULL with errno set on failure. */
static char *link_end(const char *path) {
    char *cur = strdup(path);
    for (int hops = 0; cur; hops++) {
        struct stat st;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode)) return cur;
        char target[PATH_MAX];
        const ssize_t n = hops < 40 ? readlink(cur, target, sizeof target - 1) : -1;
        if (hops == 40) errno = ELOOP;
        if (n < 0) break;
        target[n] = '\0';
        const char *slash = strrchr(cur, '/');
        const size_t dir_len = target[0] == '/' || !slash ? 0 : (size_t)(slash - cur) + 1;
        char *next = malloc(dir_len + (size_t)n + 1);
        if (next) memcpy(next, cur, dir_len), memcpy(next + dir_len, target, (size_t)n + 1);
        free(cur);
        cur = next;
    }
    free(cur);
    return NULL;
}

static bool same_file(const struct stat *a, const char *path) {
    struct stat b;
    return stat(path, &b) == 0 && a->st_dev == b.st_dev && a->st_ino == b.st_ino;
}

elang_status out_file_open(out_file *o, const char *path, elang_error *err) {
    memset(o, 0, sizeof *o);
    o->name = path;
    struct stat st;
    const bool exists = stat(path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode))
        return elang_fail(err, ELANG_ERR_IO, "output %s is a directory, not a file", path);
    /* A link that names no file of its own (/dev/stdout on a pipe, or on a
     * deleted file) is written in place, like a device. */
    if (!exists || S_ISREG(st.st_mode)) {
        if (!(o->path = link_end(path)))
            return elang_fail(err, ELANG_ERR_IO, "cannot follow the link %s: %s", path, strerror(errno));
        if (exists && !same_file(&st, o->path)) free(o->path), o->path = NULL;
    }
    if (!o->path) {
        if (!(o->f = fopen(path, "wb")))
            return elang_fail(err, ELANG_ERR_IO, "cannot write output %s: %s", path, strerror(errno));
        return ELANG_OK;
    }
    const size_t n = strlen(o->path) + sizeof ".partial";
    int fd = -1;
    if ((o->tmp_path = malloc(n))) {
        snprintf(o->tmp_path, n, "%s.partial", o->path);
        /* A fresh file, whatever was left at that name (a link is not followed). */
        unlink(o->tmp_path);
        fd = open(o->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        o->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    }
    if (!o->f) {
        const elang_status st_fail = elang_fail(err, ELANG_ERR_IO, "cannot write output %s: %s",
                                                o->tmp_path ? o->tmp_path : path, strerror(errno));
        if (fd >= 0) close(fd);
        out_file_abort(o);
        return st_fail;
    }
    return ELANG_OK;
}

elang_status out_file_commit(out_file *o, elang_error *err) {
    bool ok = fflush(o->f) == 0;
    ok = fclose(o->f) == 0 && ok;
    o->f = NULL;
    if (ok && o->path && rename(o->tmp_path, o->path) != 0) ok = false;
    elang_status st = ELANG_OK;
    if (!ok) {
        st = elang_fail(err, ELANG_ERR_IO, "cannot write output %s: %s", o->name, strerror(errno));
        if (o->tmp_path) unlink(o->tmp_path);
    }
    free(o->path);
    free(o->tmp_path);
    memset(o, 0, sizeof *o);
    return st;
}

void out_file_abort(out_file *o) {
    if (o->f) fclose(o->f);
    if (o->tmp_path) unlink(o->tmp_path);
    free(o->path);
    free(o->tmp_path);
    memset(o, 0, sizeof *o);
}
