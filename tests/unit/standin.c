/*
 * standin.c - starting the plugin tests' stand-ins, reading their records,
 * capturing the log (standin.h).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "plugin/host.h"
#include "standin.h"

/* Run argv into *pid and wait for it to write its port to READY. */
static unsigned run_until_ready(const char *const *argv, const char *script, pid_t *pid)
{
    char *ready;
    unsigned port;

    unlink(READY);
    if ((*pid = fork()) == 0) {
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    for (int tries = 0; *pid > 0 && tries < 1000 && access(READY, R_OK) != 0; tries++)
        usleep(10000);
    ready = read_file(READY);
    port = (unsigned)strtoul(ready, NULL, 10);
    free(ready);
    if (port == 0)
        fprintf(stderr, "%s did not start\n", script);
    return port;
}

unsigned standin_start(const char *script, const char *const *args, pid_t *pid)
{
    const char *argv[32] = {"python3", NULL, "serve", READY, RECORD};
    char path[1024];
    size_t n = 5;

    if (!getenv("top_srcdir"))
        return 0;
    snprintf(path, sizeof path, "%s/tests/integration/%s", getenv("top_srcdir"), script);
    argv[1] = path;
    for (; *args && n + 1 < sizeof argv / sizeof argv[0]; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    return run_until_ready(argv, script, pid);
}

int standin_npm_install(const char *dir, char *path, size_t len)
{
    char cmd[2048], *nl;
    FILE *p;
    int ok;

    if (!getenv("top_srcdir"))
        return -1;
    snprintf(cmd, sizeof cmd, "sh '%s/tests/npm-install.sh' '%s/tests/standins/%s'",
             getenv("top_srcdir"), getenv("top_srcdir"), dir);
    if (!(p = popen(cmd, "r")))
        return -1;
    ok = fgets(path, (int)len, p) != NULL;
    if (pclose(p) != 0 || !ok)
        return -1;
    if ((nl = strchr(path, '\n')) != NULL)
        *nl = '\0';
    return 0;
}

unsigned standin_start_node(const char *npm_dir, const char *script, const char *const *args,
                            pid_t *pid)
{
    const char *argv[32] = {"node", NULL, "--port-file", READY};
    char path[1024];
    size_t n = 4;

    snprintf(path, sizeof path, "%s/%s", npm_dir, script);
    argv[1] = path;
    for (; *args && n + 1 < sizeof argv / sizeof argv[0]; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    return run_until_ready(argv, script, pid);
}

void standin_stop(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;

    if (!f)
        return strdup("");
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = calloc(1, (size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return buf;
}

int record_lines(void)
{
    char *s = read_file(RECORD);
    int n = 0;

    for (char *p = s; (p = strchr(p, '\n')) != NULL; p++)
        n++;
    free(s);
    return n;
}

char *record_line(int i)
{
    for (int tries = 0; tries < 500; tries++) {
        char *s = read_file(RECORD), *p = s;

        for (int k = 0; k < i && p; k++)
            p = (p = strchr(p, '\n')) ? p + 1 : NULL;
        if (p && strchr(p, '\n')) {
            char *line = strndup(p, (size_t)(strchr(p, '\n') - p));

            free(s);
            return line;
        }
        free(s);
        usleep(10000);
    }
    fail_msg("no line %d in the stand-in's record", i);
    return NULL;
}

const char *json_field(const char *line, const char *key, char *buf, size_t len)
{
    const gh_host *h = &gh_host_table;
    gh_json *doc = NULL;
    const gh_json *v = NULL;
    char path[64];
    const char *dot;

    buf[0] = '\0';
    assert_int_equal(h->json_decode(NULL, line, strlen(line), &doc), GH_OK);
    snprintf(path, sizeof path, "%s", key);
    if ((dot = strchr(path, '.')) != NULL) {
        path[dot - path] = '\0';
        v = h->json_get(h->json_get(doc, path), dot + 1);
    } else {
        v = h->json_get(doc, key);
    }
    if (h->json_str(v))
        snprintf(buf, len, "%s", h->json_str(v));
    else if (h->json_type(v) == GH_T_INT)
        snprintf(buf, len, "%lld", (long long)h->json_int(v, 0));
    else if (h->json_type(v) == GH_T_BOOL)
        snprintf(buf, len, "%s", h->json_bool(v, 0) ? "true" : "false");
    else if (h->json_type(v) == GH_T_NULL || !v)
        snprintf(buf, len, "(null)");
    h->json_free(doc);
    return buf;
}

static int saved_stderr = -1;

void capture_start(void)
{
    gh_log_conf all = {.level = GH_LOG_DEBUG};
    FILE *f = fopen("stderr.log", "w");

    assert_non_null(f);
    fflush(stderr);
    saved_stderr = dup(2);
    assert_true(dup2(fileno(f), 2) >= 0);
    fclose(f);
    log_configure(&all);
}

char *capture_stop(void)
{
    gh_log_conf quiet = {.level = GH_LOG_ERROR};

    fflush(stderr);
    log_configure(&quiet);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    return read_file("stderr.log");
}
