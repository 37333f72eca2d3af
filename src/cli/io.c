#include "cli/io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "route/answer_json.h"
#include "util/files.h"

#define UTF8_BOM "\xEF\xBB\xBF"

bool line_reader_open(line_reader *r, const char *command, const char *path) {
    memset(r, 0, sizeof *r);
    r->command = command;
    if (strcmp(path, "-") == 0) {
        r->f = stdin;
        r->name = "stdin";
        return true;
    }
    r->f = fopen(path, "rb");
    r->name = path;
    if (!r->f) {
        fprintf(stderr, "elang %s: cannot open input %s: %s\n", command, path, strerror(errno));
        return false;
    }
    /* fopen takes a directory, and reading it would only fail with EISDIR.
     * A FIFO or a device is a fine input (`--input <(...)`, /dev/null). */
    struct stat st;
    if (fstat(fileno(r->f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "elang %s: input %s is a directory, not a file\n", command, path);
        fclose(r->f);
        r->f = NULL;
        return false;
    }
    return true;
}

bool line_reader_next(line_reader *r, char **line, size_t *len, bool *failed) {
    *failed = false;
    ssize_t got = getline(&r->buf, &r->cap, r->f);
    if (got < 0) {
        if (ferror(r->f)) {
            fprintf(stderr, "elang %s: error reading %s after line %ld: %s\n", r->command, r->name, r->line_no,
                    strerror(errno));
            *failed = true;
        }
        return false;
    }
    r->line_no++;
    while (got > 0 && (r->buf[got - 1] == '\n' || r->buf[got - 1] == '\r')) r->buf[--got] = '\0';
    const size_t skip = r->line_no == 1 && got >= 3 && memcmp(r->buf, UTF8_BOM, 3) == 0 ? 3 : 0;
    *line = r->buf + skip;
    *len = (size_t)got - skip;
    return true;
}

void line_reader_close(line_reader *r) {
    if (r->f && r->f != stdin) fclose(r->f);
    free(r->buf);
    memset(r, 0, sizeof *r);
}

const char *escape_for_message(const char *s, size_t len, char *buf, size_t size) {
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        const unsigned char c = (unsigned char)s[i];
        char piece[8];
        if (c == '\r') strcpy(piece, "\\r");
        else if (c == '\n') strcpy(piece, "\\n");
        else if (c == '\t') strcpy(piece, "\\t");
        else if (c == '\\') strcpy(piece, "\\\\");
        else if (c < 0x20 || c == 0x7f) snprintf(piece, sizeof piece, "\\x%02x", c);
        else piece[0] = (char)c, piece[1] = '\0';
        const size_t n = strlen(piece);
        if (k + n + 4 > size) { /* room for "..." and the NUL */
            strcpy(buf + k, "...");
            return buf;
        }
        memcpy(buf + k, piece, n);
        k += n;
    }
    buf[k] = '\0';
    return buf;
}

bool parse_record(const char *line, size_t len, long line_no, bool plain_text, bool allow_pair,
                  cli_record *rec, char *why, size_t why_size) {
    memset(rec, 0, sizeof *rec);
    rec->line_no = line_no;
    if (plain_text) {
        if (memchr(line, '\0', len)) {
            snprintf(why, why_size, "line %ld: contains a NUL byte", line_no);
            return false;
        }
        rec->text = strndup(line, len);
        return rec->text != NULL;
    }
    /* The reader drops the one that may start the input; here one starts a
     * line of the middle (files concatenated with their marks). */
    if (len >= 3 && memcmp(line, UTF8_BOM, 3) == 0) {
        snprintf(why, why_size, "line %ld: starts with a UTF-8 byte order mark, which JSON does not allow (only "
                 "the first line of the input may carry one)", line_no);
        return false;
    }
    json_error_t je;
    /* NULs are admitted by the parser only to be refused below by name. */
    json_t *obj = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!obj) {
        char reason[300];
        json_error_describe(&je, false, reason, sizeof reason);
        snprintf(why, why_size, "line %ld: %s", line_no, reason);
        return false;
    }
    bool ok = false;
    json_t *text = json_object_get(obj, "text"), *pair = json_object_get(obj, "text_pair");
    if (!json_is_object(obj))
        snprintf(why, why_size, "line %ld: expected a JSON object like {\"text\": \"...\"}", line_no);
    else if (!json_is_string(text))
        snprintf(why, why_size, "line %ld: field \"text\" is %s; it must be a string", line_no,
                 text ? "not a string" : "missing");
    else if (pair && !json_is_null(pair) && !json_is_string(pair))
        snprintf(why, why_size, "line %ld: field \"text_pair\" must be a string", line_no);
    else if (pair && json_is_string(pair) && !allow_pair)
        snprintf(why, why_size, "line %ld: field \"text_pair\" is not used by this command", line_no);
    else if (memchr(json_string_value(text), '\0', json_string_length(text)) ||
             (json_is_string(pair) && memchr(json_string_value(pair), '\0', json_string_length(pair))))
        snprintf(why, why_size, "line %ld: text contains a NUL character (\\u0000)", line_no);
    else
        ok = true;
    if (ok) {
        rec->text = strdup(json_string_value(text));
        rec->text_pair = json_is_string(pair) ? strdup(json_string_value(pair)) : NULL;
        json_t *id = json_object_get(obj, "id");
        rec->id = id ? json_incref(id) : NULL;
        ok = rec->text && (!json_is_string(pair) || rec->text_pair);
        if (!ok) snprintf(why, why_size, "line %ld: out of memory", line_no);
    }
    json_decref(obj);
    if (!ok) free_record(rec);
    return ok;
}

void free_record(cli_record *rec) {
    free(rec->text);
    free(rec->text_pair);
    json_decref(rec->id);
    memset(rec, 0, sizeof *rec);
}

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

bool output_open(output_file *o, const char *command, const char *path) {
    memset(o, 0, sizeof *o);
    o->command = command;
    o->name = path;
    if (strcmp(path, "-") == 0) {
        o->f = stdout;
        o->name = "stdout";
        return true;
    }
    struct stat st;
    const bool exists = stat(path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "elang %s: output %s is a directory, not a file\n", command, path);
        return false;
    }
    /* A link to a regular file is followed, so that the file is replaced and
     * the link stays. A device, a FIFO, or a link that names no file of its
     * own (/dev/stdout on a pipe, or on a deleted file) is written in place. */
    if (!exists || S_ISREG(st.st_mode)) {
        if (!(o->path = link_end(path))) {
            fprintf(stderr, "elang %s: cannot follow the link %s: %s\n", command, path, strerror(errno));
            return false;
        }
        if (exists && !same_file(&st, o->path)) free(o->path), o->path = NULL;
    }
    if (!o->path) {
        o->f = fopen(path, "wb");
        if (!o->f) fprintf(stderr, "elang %s: cannot write output %s: %s\n", command, path, strerror(errno));
        return o->f != NULL;
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
        fprintf(stderr, "elang %s: cannot write output %s: %s\n", command, o->tmp_path ? o->tmp_path : path,
                strerror(errno));
        if (fd >= 0) close(fd);
        output_abort(o);
        return false;
    }
    return true;
}

bool output_write(output_file *o, json_t *obj) {
    if (json_dumpf(obj, o->f, ANSWER_JSON_FLAGS) != 0 || fputc('\n', o->f) == EOF) {
        fprintf(stderr, "elang %s: error writing output %s: %s\n", o->command, o->name, strerror(errno));
        return false;
    }
    return true;
}

bool output_commit(output_file *o) {
    bool ok = fflush(o->f) == 0;
    if (o->f != stdout) {
        ok = fclose(o->f) == 0 && ok;
        o->f = NULL;
    }
    if (ok && o->path && rename(o->tmp_path, o->path) != 0) ok = false;
    if (!ok) {
        fprintf(stderr, "elang %s: cannot write output %s: %s\n", o->command, o->name, strerror(errno));
        if (o->tmp_path) unlink(o->tmp_path);
    }
    free(o->path);
    free(o->tmp_path);
    memset(o, 0, sizeof *o);
    return ok;
}

void output_abort(output_file *o) {
    if (o->f == stdout) fflush(o->f);
    else if (o->f) fclose(o->f);
    if (o->tmp_path) unlink(o->tmp_path);
    free(o->path);
    free(o->tmp_path);
    memset(o, 0, sizeof *o);
}
