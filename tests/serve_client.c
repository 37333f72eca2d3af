#include "serve_client.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "support.h"

static void nap(double seconds) {
    struct timespec t = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&t, NULL);
}

char *serve_log(const served *s) {
    FILE *f = fopen(s->log, "r");
    if (!f) return strdup("");
    char *buf = calloc(1, 1 << 16);
    const size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

void serve_up(served *s, const char *args, int port) {
    static int count;
    snprintf(s->log, sizeof s->log, "%s/serve-%d-%d.log", test_tmpdir(), (int)getpid(), count++);
    size_t need = strlen(args) + strlen(elang_bin()) + strlen(s->log) + 64;
    char *cmd = malloc(need);
    snprintf(cmd, need, "exec %s serve %s --port %d 2>'%s'", elang_bin(), args, port, s->log);
    s->pid = fork();
    if (s->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    free(cmd);
    if (s->pid < 0) fail_msg("fork failed");
    for (int i = 0; i < 6000; i++) {
        char *log = serve_log(s);
        const char *at = strstr(log, "listening on http://");
        if (at && sscanf(strchr(at + 20, ':') + 1, "%d", &s->port) == 1) {
            free(log);
            return;
        }
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) fail_msg("elang serve %s exited: %s", args, log);
        free(log);
        nap(0.01);
    }
    kill(s->pid, SIGKILL);
    fail_msg("elang serve %s did not listen within a minute", args);
}

int serve_down(served *s, int sig) {
    kill(s->pid, sig);
    int status = 0;
    for (int i = 0; i < 6000; i++) {
        if (waitpid(s->pid, &status, WNOHANG) == s->pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        nap(0.01);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &status, 0);
    fail_msg("elang serve did not exit within a minute of signal %d", sig);
    return -1;
}

static size_t on_body(char *data, size_t size, size_t count, void *ctx) {
    http_result *r = ctx;
    const size_t n = size * count;
    char *grown = realloc(r->body, r->len + n + 1);
    if (!grown) return 0;
    memcpy(grown + r->len, data, n);
    r->body = grown;
    r->len += n;
    r->body[r->len] = '\0';
    return n;
}

static size_t on_header(char *data, size_t size, size_t count, void *ctx) {
    http_result *r = ctx;
    const size_t n = size * count;
    if (n > 12 && strncasecmp(data, "Retry-After:", 12) == 0)
        snprintf(r->retry_after, sizeof r->retry_after, "%.*s", (int)strcspn(data + 12, "\r\n"), data + 12);
    if (n > 7 && strncasecmp(data, "Allow: ", 7) == 0)
        snprintf(r->allow, sizeof r->allow, "%.*s", (int)strcspn(data + 7, "\r\n"), data + 7);
    return n;
}

void http_call(CURL *c, int port, const char *path, const char *body, size_t len, http_result *r) {
    memset(r, 0, sizeof *r);
    r->body = calloc(1, 1);
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    /* No extra round trip per POST; but a body of 1 MiB or more waits for "100 Continue" (libcurl's own
     * rule), so that a server refusing it from its Content-Length is not reset mid-upload, which can
     * lose the refusal. */
    struct curl_slist *no_expect = curl_slist_append(NULL, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, body && len >= (1u << 20) ? NULL : no_expect);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    const CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    else snprintf(r->error, sizeof r->error, "%s", curl_easy_strerror(rc));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(no_expect);
}

void http_result_free(http_result *r) {
    free(r->body);
    memset(r, 0, sizeof *r);
}

double metric_value(const char *text, const char *series) {
    const size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, series, n) == 0 && p[n] == ' ') return strtod(p + n + 1, NULL);
    return -1;
}
