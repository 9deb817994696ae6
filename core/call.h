/*
 * call.h - gh_call, the context of one call into the core or a plugin: its
 * deadline, who it is for (request id, tenant, user, client), whose op runs,
 * and its last error.
 *
 * It sits at the bottom of the tree, next to clock.h and log.h: the store,
 * auth/ and the plugin layer all pass it down, and the host table hands it
 * to plugins as the opaque gh_call of <gatehouse/plugin.h>. The core sets
 * its own errors with call_fail(), which is also the host table's fail.
 */
#ifndef GH_CALL_H
#define GH_CALL_H

#include <stdarg.h>
#include <stdint.h>
#include <gatehouse/plugin.h> /* gh_call, gh_result */

struct gh_loaded; /* a loaded plugin (plugin/loader.h); only its address is kept here */

struct gh_call {
    const struct gh_loaded *plugin; /* whose op runs (NULL: the core itself) */
    int64_t deadline_ms;       /* on gh_now_ms()'s clock */
    gh_result code;            /* set by call_fail */
    char message[256];         /* set by call_fail; logged, never sent */
    int64_t retry_after_ms;    /* set by call_fail_retry; 0: not known */
    const struct gh_node *fail_at; /* set by the host's cfg_fail: the option at fault */
    /* The request this call serves, for plugins (ABI 1.1 call context).
     * Each may be NULL where the core does not know it; the strings are
     * borrowed from whoever made the call and outlive it. */
    const char *request_id;
    const char *tenant;
    const char *user_id;
    const char *client_ip;
    const char *user_agent;
    const char *locale;
    const char *public_url;
    int64_t attempt;           /* 1 for a first try; 0 when not counted */
};

/* A call for plugin p (or NULL) that must end within timeout_ms; every
 * context field but request_id is left NULL. */
void call_init(gh_call *call, const struct gh_loaded *p, const char *request_id,
               int64_t timeout_ms);

/* Record code and a message (printf-like) on call and return code, so a
 * failure is one line: `return call_fail(call, GH_ERR_NOMEM, "x: ...");`.
 * The message may wrap the previous one (fmt may use call->message). A NULL
 * call only returns code. */
gh_result call_fail(gh_call *call, gh_result code, const char *fmt, ...) GH_PRINTF(3, 4);
/* call_fail that also records when the remote side takes a retry (the host
 * table's fail_retry); call_fail leaves an earlier retry_after_ms alone, so
 * a wrapping message keeps it. */
gh_result call_fail_retry(gh_call *call, gh_result code, int64_t retry_after_ms,
                          const char *fmt, ...) GH_PRINTF(4, 5);

/* The deadline; now for a NULL call, which has no time of its own. */
int64_t call_deadline_ms(const gh_call *call);
/* The time one wait may take: limit_ms (> 0) or less when the deadline is
 * nearer; 0 when it has passed; -1 (or limit_ms) when there is none. */
int64_t call_left_ms(const gh_call *call, int64_t limit_ms);
/* Tighten the deadline to at most ms from now (never loosens it). */
void call_limit_ms(gh_call *call, int64_t ms);

/* A log line tagged with source (a plugin's name, or NULL) and the call's
 * request id. */
void call_log(const gh_call *call, const char *source, int level, const char *fmt, ...)
    GH_PRINTF(4, 5);
void call_vlog(const gh_call *call, const char *source, int level, const char *fmt,
               va_list ap);

/* "ok", "invalid", "not found", ... for messages; "unknown error" for a
 * code newer than the core. */
const char *gh_result_str(gh_result r);

#endif
