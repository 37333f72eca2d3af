#include "support.h"

#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
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

/* Python's json module writes an infinity as the bare token Infinity (the
 * fixtures' top1_margin at a forced step), which jansson rejects; outside
 * strings it becomes 1e308, padded to the same length. */
static void replace_infinities(char *line) {
    bool in_string = false;
    for (char *p = line; *p; p++) {
        if (in_string) {
            if (*p == '\\' && p[1]) p++;
            else if (*p == '"') in_string = false;
        } else if (*p == '"') {
            in_string = true;
        } else if (strncmp(p, "Infinity", 8) == 0) {
            memcpy(p, "1e308   ", 8);
            p += 7;
        }
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
        replace_infinities(line);
        json_error_t je;
        json_t *row = json_loadb(line, (size_t)got, 0, &je);
        if (!row) fail_msg("%s: bad JSON line %zu: %s", path, count + 1, je.text);
        if (count == cap) rows = realloc(rows, (cap *= 2) * sizeof *rows);
        rows[count++] = row;
    }
    free(line);
    fclose(f);
    /* A loop over the rows of an empty file would assert nothing. */
    if (count == 0) fail_msg("%s holds no rows", path);
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

const char *test_dir(const char *name) {
    static char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", test_tmpdir(), name);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0) fail_msg("cannot make %s", dir);
    return dir;
}

const char *test_dir_file(const char *dir, const char *name, const char *content) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    write_file(path, content, strlen(content));
    return path;
}

const char *test_dir_copy(const char *src_dir, const char *name, const char *const *names,
                          size_t n) {
    char src[512];
    snprintf(src, sizeof src, "%s", src_dir); /* shared_path's buffer is reused */
    const char *dir = test_dir(name);
    for (size_t i = 0; i < n; i++) {
        char from[600], to[600];
        size_t len;
        snprintf(from, sizeof from, "%s/%s", src, names[i]);
        snprintf(to, sizeof to, "%s/%s", dir, names[i]);
        char *data = read_file_all(from, &len);
        write_file(to, data, len);
        free(data);
    }
    return dir;
}

tokenizer *tokenizer_from_dir(const char *dir, const char *model_type) {
    tokenizer *t = NULL;
    elang_error err = {0};
    if (tokenizer_load(dir, model_type, &t, &err) != ELANG_OK)
        fail_msg("loading %s: %s", dir, err.message);
    return t;
}

/* Written once by watchdog_start, so that the handler only calls
 * async-signal-safe functions. */
static char watchdog_message[256];

static void watchdog_fire(int sig) {
    (void)sig;
    ssize_t ignored = write(STDERR_FILENO, watchdog_message, strlen(watchdog_message));
    (void)ignored;
    _exit(1);
}

void watchdog_start(const char *what, unsigned seconds) {
    snprintf(watchdog_message, sizeof watchdog_message,
             "watchdog: %s took more than %u s (a regression to quadratic time?)\n", what,
             seconds);
    signal(SIGALRM, watchdog_fire);
    alarm(seconds);
}

void watchdog_stop(void) {
    alarm(0);
}

/* A safetensors file whose header is given verbatim. */
void write_raw_safetensors(const char *path, const char *header, const void *data,
                                  size_t data_len) {
    size_t header_len = strlen(header);
    size_t len = 8 + header_len + data_len;
    uint8_t *buf = malloc(len);
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)((uint64_t)header_len >> (8 * i));
    memcpy(buf + 8, header, header_len);
    if (data_len) memcpy(buf + 8 + header_len, data, data_len);
    write_file(path, buf, len);
    free(buf);
}


/* A well-formed safetensors file: tensors stored back to back, header padded
 * with spaces to a multiple of 8 as the reference writer does. */
void write_safetensors(const char *path, const tensor_spec *t, size_t n) {
    json_t *header = json_object();
    size_t offset = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *shape = json_array();
        for (int d = 0; d < t[i].ndim; d++) json_array_append_new(shape, json_integer(t[i].shape[d]));
        json_object_set_new(header, t[i].name,
                            json_pack("{s:s, s:o, s:[I, I]}", "dtype", t[i].dtype, "shape", shape,
                                      "data_offsets", (json_int_t)offset,
                                      (json_int_t)(offset + t[i].nbytes)));
        offset += t[i].nbytes;
    }
    json_object_set_new(header, "__metadata__", json_pack("{s:s}", "format", "pt"));
    char *text = json_dumps(header, JSON_COMPACT);
    size_t len = strlen(text), padded = (len + 8 + 7) / 8 * 8 - 8;
    char *padded_text = malloc(padded + 1);
    memset(padded_text, ' ', padded);
    memcpy(padded_text, text, len);
    padded_text[padded] = '\0';
    uint8_t *data = malloc(offset ? offset : 1);
    offset = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(data + offset, t[i].data, t[i].nbytes);
        offset += t[i].nbytes;
    }
    write_raw_safetensors(path, padded_text, data, offset);
    free(data);
    free(padded_text);
    free(text);
    json_decref(header);
}
