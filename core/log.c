/*
 * log.c - one line per event, plain or JSON, to stderr or syslog.
 *
 * Lines are built whole in a stack buffer and written with one write(2), so
 * lines from different threads never interleave. Control characters in
 * messages are escaped: a crafted path or header cannot forge a log line.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "log.h"

static _Atomic int cur_level = GH_LOG_INFO;
static _Atomic int cur_json;
static _Atomic int cur_syslog;
static _Atomic int cur_access = 1;
static _Atomic int syslog_open;

static const char *level_names[] = {
    [GH_LOG_ERROR] = "error", [GH_LOG_WARNING] = "warning", [GH_LOG_NOTICE] = "notice",
    [GH_LOG_INFO] = "info", [GH_LOG_DEBUG] = "debug",
};

void log_configure(const gh_log_conf *conf)
{
    atomic_store(&cur_level, conf->level);
    atomic_store(&cur_json, conf->json);
    atomic_store(&cur_access, conf->access);
    if (conf->syslog && !atomic_exchange(&syslog_open, 1))
        openlog("gatehoused", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    atomic_store(&cur_syslog, conf->syslog);
}

int log_level_from_name(const char *name)
{
    for (int l = GH_LOG_ERROR; l <= GH_LOG_DEBUG; l++)
        if (strcasecmp(name, level_names[l]) == 0)
            return l;
    return -1;
}

int log_enabled(int level)
{
    return level <= atomic_load_explicit(&cur_level, memory_order_relaxed);
}

/* A bounded line builder: appends quietly truncate at the end. */
typedef struct line {
    char buf[2048];
    size_t len;
} line;

static void put_raw(line *l, const char *s, size_t n)
{
    size_t room = sizeof l->buf - 2 - l->len; /* keep room for "\n\0" */
    if (n > room)
        n = room;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void put_str(line *l, const char *s)
{
    put_raw(l, s, strlen(s));
}

/* Escape for JSON strings (json=1) or for plain lines (json=0): quotes and
 * backslashes only matter in JSON; control bytes are escaped in both. */
static void put_escaped(line *l, const char *s, int json)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put_str(l, esc);
        } else if (json && (c == '"' || c == '\\')) {
            esc[0] = '\\', esc[1] = (char)c;
            put_raw(l, esc, 2);
        } else {
            put_raw(l, (const char *)&c, 1);
        }
    }
}

static void put_time(line *l)
{
    struct timespec ts;
    struct tm tm;
    char t[40];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(t + n, sizeof t - n, ".%03ldZ", ts.tv_nsec / 1000000);
    put_str(l, t);
}

static void emit(int level, line *l)
{
    if (atomic_load_explicit(&cur_syslog, memory_order_relaxed)) {
        l->buf[l->len] = '\0';
        syslog(level, "%s", l->buf);
        return;
    }
    l->buf[l->len++] = '\n';
    ssize_t off = 0;
    while ((size_t)off < l->len) {
        ssize_t w = write(STDERR_FILENO, l->buf + off, l->len - (size_t)off);
        if (w <= 0)
            break;
        off += w;
    }
}

/* Start a line: time and level in plain form (syslog adds its own time). */
static void begin(line *l, int level, int json)
{
    l->len = 0;
    int sys = atomic_load_explicit(&cur_syslog, memory_order_relaxed);
    if (json) {
        put_str(l, "{");
        if (!sys) {
            put_str(l, "\"time\":\"");
            put_time(l);
            put_str(l, "\",");
        }
        put_str(l, "\"level\":\"");
        put_str(l, level_names[level]);
        put_str(l, "\"");
    } else {
        if (!sys) {
            put_time(l);
            put_str(l, " ");
        }
        put_str(l, level_names[level]);
    }
}

static void field(line *l, int json, const char *key, const char *value)
{
    if (json) {
        put_str(l, ",\"");
        put_str(l, key);
        put_str(l, "\":\"");
        put_escaped(l, value, 1);
        put_str(l, "\"");
    } else {
        put_str(l, " ");
        put_str(l, key);
        put_str(l, "=");
        put_escaped(l, value, 0);
    }
}

void gh_vlog_tagged(int level, const char *source, const char *request_id,
                    const char *fmt, va_list ap)
{
    if (level < GH_LOG_ERROR)
        level = GH_LOG_ERROR;
    if (level > GH_LOG_DEBUG || !log_enabled(level))
        return;
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    int json = atomic_load_explicit(&cur_json, memory_order_relaxed);
    line l;
    begin(&l, level, json);
    if (source)
        field(&l, json, "source", source);
    if (request_id)
        field(&l, json, "request_id", request_id);
    if (json) {
        field(&l, json, "msg", msg);
        put_str(&l, "}");
    } else {
        put_str(&l, ": ");
        put_escaped(&l, msg, 0);
    }
    emit(level, &l);
}

void gh_log_tagged(int level, const char *source, const char *request_id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gh_vlog_tagged(level, source, request_id, fmt, ap);
    va_end(ap);
}

void gh_log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gh_vlog_tagged(level, NULL, NULL, fmt, ap);
    va_end(ap);
}

void log_access(const char *method, const char *path, int status,
                double duration_ms, const char *request_id, const char *client,
                const char *peer)
{
    if (!atomic_load_explicit(&cur_access, memory_order_relaxed) || !log_enabled(GH_LOG_INFO))
        return;
    int json = atomic_load_explicit(&cur_json, memory_order_relaxed);
    char num[32];
    line l;
    begin(&l, GH_LOG_INFO, json);
    field(&l, json, "event", "access");
    field(&l, json, "method", method);
    field(&l, json, "path", path);
    snprintf(num, sizeof num, "%d", status);
    if (json) {
        put_str(&l, ",\"status\":");
        put_str(&l, num);
        snprintf(num, sizeof num, "%.3f", duration_ms);
        put_str(&l, ",\"duration_ms\":");
        put_str(&l, num);
    } else {
        field(&l, json, "status", num);
        snprintf(num, sizeof num, "%.3f", duration_ms);
        field(&l, json, "duration_ms", num);
    }
    field(&l, json, "request_id", request_id);
    field(&l, json, "client", client);
    field(&l, json, "peer", peer);
    if (json)
        put_str(&l, "}");
    emit(GH_LOG_INFO, &l);
}
