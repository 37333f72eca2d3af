#include "tokenize/files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"

elang_status tok_path(char *buf, const char *dir, const char *name, elang_error *err) {
    int n = snprintf(buf, TOK_PATH_MAX, "%s/%s", dir, name);
    if (n < 0 || n >= TOK_PATH_MAX)
        return elang_fail(err, ELANG_ERR_IO, "%s/%s: path too long", dir, name);
    return ELANG_OK;
}

bool tok_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

elang_status tok_require_file(const char *path, elang_error *err) {
    struct stat st;
    if (stat(path, &st) != 0)
        return elang_fail(err, ELANG_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return elang_fail(err, ELANG_ERR_IO, "cannot open %s: not a regular file", path);
    return ELANG_OK;
}

elang_status tok_read_file(const char *path, char **data, size_t *len, elang_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return elang_fail(err, ELANG_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    elang_status rc = ELANG_OK;
    char *buf = NULL;
    long size;
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        rc = elang_fail(err, ELANG_ERR_IO, "cannot read %s: %s", path, strerror(errno));
        goto done;
    }
    buf = malloc((size_t)size + 1);
    if (!buf) {
        rc = elang_fail(err, ELANG_ERR_NOMEM, "out of memory reading %s", path);
        goto done;
    }
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        rc = elang_fail(err, ELANG_ERR_IO, "cannot read %s: short read", path);
        goto done;
    }
    buf[size] = '\0';
    *data = buf;
    *len = (size_t)size;
    buf = NULL;
done:
    free(buf);
    fclose(f);
    return rc;
}

elang_status tok_load_json(const char *path, size_t flags, json_t **out, elang_error *err) {
    /* jansson parses a buffer twice as fast as a FILE (it reads those one
     * character at a time), which matters for a 50k-entry vocab.json. */
    char *data;
    size_t len;
    elang_status rc = tok_read_file(path, &data, &len, err);
    if (rc != ELANG_OK) return rc;
    json_error_t je;
    *out = json_loadb(data, len, flags, &je);
    free(data);
    if (!*out)
        return elang_fail(err, ELANG_ERR_FORMAT, "%s line %d: %s", path, je.line, je.text);
    return ELANG_OK;
}

bool tok_next_line(const char **p, const char *end, const char **line, size_t *len,
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
