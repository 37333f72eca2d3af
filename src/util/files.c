#include "util/files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"

elang_status file_path_join(char *buf, const char *dir, const char *name, elang_error *err) {
    int n = snprintf(buf, FILE_PATH_MAX, "%s/%s", dir, name);
    if (n < 0 || n >= FILE_PATH_MAX)
        return elang_fail(err, ELANG_ERR_IO, "%s/%s: path too long", dir, name);
    return ELANG_OK;
}

bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

elang_status file_optional(const char *path, bool *present, elang_error *err) {
    struct stat st;
    *present = false;
    if (lstat(path, &st) != 0)
        return errno == ENOENT || errno == ENOTDIR ? ELANG_OK
                                                   : elang_fail(err, ELANG_ERR_IO, "cannot read %s: %s", path,
                                                                strerror(errno));
    if (stat(path, &st) != 0)
        return elang_fail(err, ELANG_ERR_IO, "%s is a link that cannot be followed: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return elang_fail(err, ELANG_ERR_IO, "%s is there but is not a regular file", path);
    *present = true;
    return ELANG_OK;
}

elang_status file_require(const char *path, elang_error *err) {
    struct stat st;
    if (stat(path, &st) != 0)
        return elang_fail(err, ELANG_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return elang_fail(err, ELANG_ERR_IO, "cannot open %s: not a regular file", path);
    return ELANG_OK;
}

elang_status file_read_all(const char *path, char **data, size_t *len, elang_error *err) {
    /* O_NONBLOCK: opening a FIFO for reading would wait for a writer; it is
     * refused below like every other entry that is not a regular file. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return elang_fail(err, ELANG_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    elang_status rc = ELANG_OK;
    char *buf = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = elang_fail(err, ELANG_ERR_IO, "cannot read %s: %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = elang_fail(err, ELANG_ERR_IO, "%s is %s, not a file", path,
                        S_ISDIR(st.st_mode) ? "a directory" : "a device, FIFO or socket");
        goto done;
    }
    const size_t size = (size_t)st.st_size;
    if (!(buf = malloc(size + 1))) {
        rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory reading %s", path);
        goto done;
    }
    size_t got = 0;
    while (got < size) {
        const ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            rc = elang_fail(err, ELANG_ERR_IO, "cannot read %s: %s", path, n < 0 ? strerror(errno) : "short read");
            goto done;
        }
        got += (size_t)n;
    }
    buf[size] = '\0';
    *data = buf;
    *len = size;
    buf = NULL;
done:
    free(buf);
    close(fd);
    return rc;
}

void json_error_describe(const json_error_t *je, bool with_line, char *buf, size_t size) {
    char where[64];
    if (with_line) snprintf(where, sizeof where, "line %d, column %d", je->line, je->column);
    else snprintf(where, sizeof where, "column %d", je->column);
    if (strstr(je->text, "too big integer"))
        snprintf(buf, size, "a whole number at %s does not fit in 64 bits (%s); write it as a string", where,
                 je->text);
    else
        snprintf(buf, size, "malformed JSON at %s: %s", where, je->text);
}

elang_status file_load_json(const char *path, size_t flags, json_t **out, elang_error *err) {
    /* jansson parses a buffer twice as fast as a FILE (it reads those one
     * character at a time), which matters for a 50k-entry vocab.json. */
    char *data;
    size_t len;
    *out = NULL;
    elang_status rc = file_read_all(path, &data, &len, err);
    if (rc != ELANG_OK) return rc;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        free(data);
        return elang_fail(err, ELANG_ERR_FORMAT, "%s starts with a UTF-8 byte order mark, which JSON does not "
                          "allow (Python's json refuses it too): save the file as UTF-8 without BOM", path);
    }
    json_error_t je;
    *out = json_loadb(data, len, flags, &je);
    free(data);
    if (!*out) {
        char why[300];
        json_error_describe(&je, true, why, sizeof why);
        return elang_fail(err, ELANG_ERR_FORMAT, "%s: %s", path, why);
    }
    return ELANG_OK;
}

bool text_next_line(const char **p, const char *end, const char **line, size_t *len,
                   bool *terminated) {
    const char *s = *p;
    if (s >= end) return false;
    const char *e = s;
    while (e < end && *e != '\n' && *e != '\r') e++;
    *line = s;
    *len = (size_t)(e - s);
    *terminated = e < end;
    if (e < end && *e == '\r' && e + 1 < end && e[1] == '\n') e++;
    *p = e < end ? e + 1 : e;
    return true;
}
