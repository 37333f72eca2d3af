#include "support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

const char *shared_path(const char *rel) {
    static char buf[8][4096];
    static int next;
    const char *root = getenv("ELANG_SHARED");
    if (!root || !*root) root = "../shared";
    char *b = buf[next++ % 8];
    snprintf(b, sizeof buf[0], "%s/%s", root, rel);
    return b;
}

const char *elang_bin(void) {
    const char *b = getenv("ELANG_BIN");
    return b && *b ? b : "build/elang";
}

static char tmpdir[256];

const char *test_tmpdir(void) {
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/elang-test-XXXXXX");
        if (!mkdtemp(tmpdir)) fail_msg("mkdtemp failed");
    }
    return tmpdir;
}

void test_tmpdir_cleanup(void) {
    if (tmpdir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
        tmpdir[0] = '\0';
    }
}

json_t **read_jsonl(const char *path, size_t *n) {
    FILE *f = fopen(path, "r");
    if (!f) fail_msg("cannot open %s", path);
    size_t cap = 16, count = 0;
    json_t **rows = malloc(cap * sizeof *rows);
    char *line = NULL;
    size_t linecap = 0;
    ssize_t got;
    while ((got = getline(&line, &linecap, f)) > 0) {
        if (got == 1 && line[0] == '\n') continue;
        json_error_t je;
        json_t *row = json_loadb(line, (size_t)got, 0, &je);
        if (!row) fail_msg("%s: bad JSON line %zu: %s", path, count + 1, je.text);
        if (count == cap) rows = realloc(rows, (cap *= 2) * sizeof *rows);
        rows[count++] = row;
    }
    free(line);
    fclose(f);
    *n = count;
    return rows;
}

void free_jsonl(json_t **rows, size_t n) {
    for (size_t i = 0; i < n; i++) json_decref(rows[i]);
    free(rows);
}

static char *slurp(FILE *f, size_t *out_len) {
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len < 2) buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    if (out_len) *out_len = len;
    return buf;
}

int run_command(const char *cmd, char **out, char **err) {
    char errpath[512];
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", test_tmpdir());
    size_t need = strlen(cmd) + strlen(errpath) + 16;
    char *full = malloc(need);
    snprintf(full, need, "%s 2>'%s'", cmd, errpath);
    FILE *p = popen(full, "r");
    free(full);
    if (!p) fail_msg("popen failed for %s", cmd);
    char *o = slurp(p, NULL);
    int status = pclose(p);
    if (out) *out = o; else free(o);
    if (err) {
        FILE *ef = fopen(errpath, "r");
        *err = ef ? slurp(ef, NULL) : strdup("");
        if (ef) fclose(ef);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) fail_msg("cannot write %s", path);
    if (len && fwrite(data, 1, len, f) != len) fail_msg("short write to %s", path);
    fclose(f);
}

char *read_file_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot read %s", path);
    char *buf = slurp(f, len);
    fclose(f);
    return buf;
}
