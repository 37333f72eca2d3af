#include "cli/io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool line_reader_open(line_reader *r, const char *path) {
    memset(r, 0, sizeof *r);
    if (strcmp(path, "-") == 0) {
        r->f = stdin;
        r->name = "stdin";
        return true;
    }
    r->f = fopen(path, "rb");
    r->name = path;
    if (!r->f) {
        fprintf(stderr, "elang: cannot open input %s: %s\n", path, strerror(errno));
        return false;
    }
    return true;
}

bool line_reader_next(line_reader *r, char **line, size_t *len, bool *failed) {
    *failed = false;
    ssize_t got = getline(&r->buf, &r->cap, r->f);
    if (got < 0) {
        if (ferror(r->f)) {
            fprintf(stderr, "elang: error reading %s after line %ld: %s\n", r->name, r->line_no,
                    strerror(errno));
            *failed = true;
        }
        return false;
    }
    r->line_no++;
    while (got > 0 && (r->buf[got - 1] == '\n' || r->buf[got - 1] == '\r')) r->buf[--got] = '\0';
    *line = r->buf;
    *len = (size_t)got;
    return true;
}

void line_reader_close(line_reader *r) {
    if (r->f && r->f != stdin) fclose(r->f);
    free(r->buf);
    memset(r, 0, sizeof *r);
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
    json_error_t je;
    /* NULs are admitted by the parser only to be refused below by name. */
    json_t *obj = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!obj) {
        snprintf(why, why_size, "line %ld: malformed JSON at column %d: %s", line_no, je.column, je.text);
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

bool output_open(output_file *o, const char *path) {
    memset(o, 0, sizeof *o);
    if (strcmp(path, "-") == 0) {
        o->f = stdout;
        return true;
    }
    o->path = strdup(path);
    size_t n = strlen(path) + 16;
    o->tmp_path = malloc(n);
    if (!o->path || !o->tmp_path) {
        fprintf(stderr, "elang: out of memory\n");
        output_abort(o);
        return false;
    }
    snprintf(o->tmp_path, n, "%s.partial", path);
    o->f = fopen(o->tmp_path, "wb");
    if (!o->f) {
        fprintf(stderr, "elang: cannot write output %s: %s\n", o->tmp_path, strerror(errno));
        output_abort(o);
        return false;
    }
    return true;
}

bool output_write(output_file *o, json_t *obj) {
    if (json_dumpf(obj, o->f, JSON_COMPACT | JSON_REAL_PRECISION(8)) != 0 || fputc('\n', o->f) == EOF) {
        fprintf(stderr, "elang: error writing output: %s\n", strerror(errno));
        return false;
    }
    return true;
}

bool output_commit(output_file *o) {
    bool ok = fflush(o->f) == 0;
    if (o->path) {
        ok = fclose(o->f) == 0 && ok;
        o->f = NULL;
        if (ok && rename(o->tmp_path, o->path) != 0) ok = false;
        if (!ok) {
            fprintf(stderr, "elang: cannot write output %s: %s\n", o->path, strerror(errno));
            unlink(o->tmp_path);
        }
    } else if (!ok) {
        fprintf(stderr, "elang: error writing output: %s\n", strerror(errno));
    }
    free(o->path);
    free(o->tmp_path);
    memset(o, 0, sizeof *o);
    return ok;
}

void output_abort(output_file *o) {
    if (o->path) {
        if (o->f) fclose(o->f);
        if (o->tmp_path) unlink(o->tmp_path);
    } else if (o->f) {
        fflush(o->f);
    }
    free(o->path);
    free(o->tmp_path);
    memset(o, 0, sizeof *o);
}
