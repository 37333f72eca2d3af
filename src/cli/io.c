#include "cli/io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* An input line is a sentence or a document the model cuts to its length;
 * one this long is the wrong file (a binary, /dev/zero), and reading it
 * whole, then parsing it, would take the memory before saying so. */
#define LINE_MAX_BYTES ((size_t)16 << 20)

static bool read_failed(line_reader *r, bool *failed, const char *why) {
    fprintf(stderr, "elang %s: %s line %ld: %s\n", r->command, r->name, r->line_no + 1, why);
    *failed = true;
    return false;
}

bool line_reader_next(line_reader *r, char **line, size_t *len, bool *failed) {
    *failed = false;
    if (!r->buf) { /* an empty line needs room for its NUL too */
        if (!(r->buf = malloc(4096))) return read_failed(r, failed, "out of memory");
        r->cap = 4096;
    }
    size_t got = 0;
    int c = EOF;
    errno = 0;
    while ((c = getc_unlocked(r->f)) != EOF && c != '\n') {
        if (got == LINE_MAX_BYTES) return read_failed(r, failed, "longer than 16 MiB; is it a file of inputs?");
        if (got + 1 >= r->cap) { /* room for c and the NUL */
            size_t cap = 2 * r->cap;
            if (cap > LINE_MAX_BYTES + 1) cap = LINE_MAX_BYTES + 1;
            char *buf = realloc(r->buf, cap);
            if (!buf) return read_failed(r, failed, "out of memory");
            r->buf = buf, r->cap = cap;
        }
        r->buf[got++] = (char)c;
    }
    if (ferror(r->f)) {
        char why[160];
        snprintf(why, sizeof why, "read error: %s", strerror(errno));
        return read_failed(r, failed, why);
    }
    if (got == 0 && c == EOF) return false;
    r->line_no++;
    r->buf[got] = '\0';
    while (got > 0 && r->buf[got - 1] == '\r') r->buf[--got] = '\0';
    const size_t skip = r->line_no == 1 && got >= 3 && memcmp(r->buf, UTF8_BOM, 3) == 0 ? 3 : 0;
    *line = r->buf + skip;
    *len = got - skip;
    return true;
}

void line_reader_close(line_reader *r) {
    if (r->f && r->f != stdin) fclose(r->f);
    free(r->buf);
    memset(r, 0, sizeof *r);
}

bool output_is_an_input(const char *command, const char *out_flag, const char *out_path, const named_path *inputs,
                        size_t n) {
    struct stat out_st, in_st;
    if (stat(out_path, &out_st) != 0 || !S_ISREG(out_st.st_mode)) return false;
    for (size_t i = 0; i < n; i++)
        if (inputs[i].path && strcmp(inputs[i].path, "-") != 0 && stat(inputs[i].path, &in_st) == 0 &&
            in_st.st_dev == out_st.st_dev &&
            in_st.st_ino == out_st.st_ino) {
            fprintf(stderr, "elang %s: %s %s is the %s file; write elsewhere\n", command, out_flag, out_path,
                    inputs[i].flag);
            return true;
        }
    return false;
}

/* Whether the directory path would be made or written in is one, said
 * when not. */
static bool parent_is_dir(const char *command, const char *flag, const char *path) {
    struct stat st;
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    while (slash && slash > parent && slash[1] == '\0') *slash = '\0', slash = strrchr(parent, '/');
    const char *where = !slash ? "." : slash == parent ? "/" : (*slash = '\0', parent);
    if (stat(where, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "elang %s: %s %s: cannot be made, %s is not a directory\n", command, flag, path, where);
        return false;
    }
    return true;
}

bool out_file_usable(const char *command, const char *flag, const char *path) {
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "elang %s: %s %s is a directory; give a file\n", command, flag, path);
        return false;
    }
    return parent_is_dir(command, flag, path);
}

bool report_dir_usable(const char *command, const char *flag, const char *dir, const named_path *inputs, size_t n) {
    struct stat st;
    if (strcmp(dir, "-") == 0) {
        fprintf(stderr, "elang %s: %s - : a report is a directory of files, not standard output\n", command, flag);
        return false;
    }
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "elang %s: %s %s exists and is not a directory\n", command, flag, dir);
        return false;
    }
    if (stat(dir, &st) != 0) /* made by the report writer; its parent must be there */
        return parent_is_dir(command, flag, dir);
    static const char *const files[] = {"report.json", "report.md", "curve.svg"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, files[f]);
        if (output_is_an_input(command, flag, path, inputs, n)) return false;
    }
    return true;
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
        else if (c < 0x20 || c >= 0x7f) snprintf(piece, sizeof piece, "\\x%02x", c);
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
        /* A line that does not even start like JSON is most likely text. */
        size_t lead = 0;
        while (lead < len && (line[lead] == ' ' || line[lead] == '\t')) lead++;
        const bool text_like = lead < len && !strchr("{[\"", line[lead]);
        snprintf(why, why_size, "line %ld: %s%s", line_no, reason,
                 text_like ? " (lines of raw text? give --format text)" : "");
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

bool output_open(output_file *o, const char *command, const char *path) {
    memset(o, 0, sizeof *o);
    o->command = command;
    o->name = path;
    if (strcmp(path, "-") == 0) {
        o->f = stdout;
        o->name = "stdout";
        return true;
    }
    elang_error err;
    if (out_file_open(&o->file, path, &err) != ELANG_OK) {
        fprintf(stderr, "elang %s: %s\n", command, err.message);
        return false;
    }
    o->f = o->file.f;
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
    bool ok = true;
    if (o->f == stdout) {
        if (!(ok = fflush(stdout) == 0))
            fprintf(stderr, "elang %s: cannot write output stdout: %s\n", o->command, strerror(errno));
    } else {
        elang_error err;
        if (!(ok = out_file_commit(&o->file, &err) == ELANG_OK)) fprintf(stderr, "elang %s: %s\n", o->command, err.message);
    }
    memset(o, 0, sizeof *o);
    return ok;
}

void output_abort(output_file *o) {
    if (o->f == stdout) fflush(o->f);
    else out_file_abort(&o->file);
    memset(o, 0, sizeof *o);
}
