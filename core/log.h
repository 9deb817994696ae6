/*
 * log.h - the daemon's log: levels, plain or JSON lines, stderr or syslog.
 *
 * Callers pass messages, never secrets: no request bodies, Authorization
 * values, passwords or tokens go through here. log_access() writes the one
 * line per request and takes only what is safe to record.
 */
#ifndef GH_LOG_H
#define GH_LOG_H

#include <stdarg.h>
#include <gatehouse/plugin.h> /* gh_log_level */

typedef struct gh_log_conf {
    int level;    /* gh_log_level: lines above it are dropped */
    int json;     /* 1: one JSON object per line */
    int syslog;   /* 1: syslog(3) instead of stderr */
    int access;   /* 1: one line per request */
} gh_log_conf;

void log_configure(const gh_log_conf *conf); /* atomic switch; safe at SIGHUP */
int log_level_from_name(const char *name);   /* -1 if unknown */
int log_enabled(int level);

void gh_log(int level, const char *fmt, ...) GH_PRINTF(2, 3);
/* the same, tagged with a source (plugin name) and request id, either NULL */
void gh_log_tagged(int level, const char *source, const char *request_id,
                   const char *fmt, ...) GH_PRINTF(4, 5);
void gh_vlog_tagged(int level, const char *source, const char *request_id,
                    const char *fmt, va_list ap);

/* client: who the request is from (behind a trusted proxy, the address
 * its header names); peer: who connected. */
void log_access(const char *method, const char *path, int status,
                double duration_ms, const char *request_id, const char *client,
                const char *peer);

#endif
