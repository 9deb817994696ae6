/*
 * call.c - the call context. See call.h.
 */
#include <stdio.h>
#include <string.h>
#include "call.h"
#include "clock.h"
#include "log.h"

void call_init(gh_call *call, const struct gh_loaded *p, const char *request_id,
               int64_t timeout_ms)
{
    memset(call, 0, sizeof *call);
    call->plugin = p;
    call->request_id = request_id;
    call->deadline_ms = gh_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
}

static gh_result call_vfail(gh_call *call, gh_result code, const char *fmt, va_list ap)
{
    char msg[sizeof call->message];

    if (!call)
        return code;
    /* formatted aside first: plugins wrap the last error with
     * fail(call, r, "exchange: %s", call->message) */
    vsnprintf(msg, sizeof msg, fmt, ap);
    memcpy(call->message, msg, sizeof msg);
    call->code = code;
    return code;
}

gh_result call_fail(gh_call *call, gh_result code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    code = call_vfail(call, code, fmt, ap);
    va_end(ap);
    return code;
}

gh_result call_fail_retry(gh_call *call, gh_result code, int64_t retry_after_ms,
                          const char *fmt, ...)
{
    va_list ap;

    if (call)
        call->retry_after_ms = retry_after_ms > 0 ? retry_after_ms : 0;
    va_start(ap, fmt);
    code = call_vfail(call, code, fmt, ap);
    va_end(ap);
    return code;
}

int64_t call_deadline_ms(const gh_call *call)
{
    return call ? call->deadline_ms : gh_now_ms();
}

void call_limit_ms(gh_call *call, int64_t ms)
{
    int64_t at = gh_now_ms() + (ms > 0 ? ms : 0);

    if (at < call->deadline_ms)
        call->deadline_ms = at;
}

void call_vlog(const gh_call *call, const char *source, int level, const char *fmt,
               va_list ap)
{
    gh_vlog_tagged(level, source, call ? call->request_id : NULL, fmt, ap);
}

void call_log(const gh_call *call, const char *source, int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    call_vlog(call, source, level, fmt, ap);
    va_end(ap);
}

const char *gh_result_str(gh_result r)
{
    static const char *const names[] = {
        [GH_OK] = "ok",
        [GH_ERR_INVALID] = "invalid",
        [GH_ERR_NOT_FOUND] = "not found",
        [GH_ERR_CONFLICT] = "conflict",
        [GH_ERR_DENIED] = "denied",
        [GH_ERR_UNAVAILABLE] = "unavailable",
        [GH_ERR_TIMEOUT] = "timeout",
        [GH_ERR_UNSUPPORTED] = "unsupported",
        [GH_ERR_INTERNAL] = "internal error",
        [GH_ERR_NOMEM] = "out of memory",
        [GH_ERR_RATE_LIMITED] = "rate limited by the remote side",
        [GH_ERR_UPSTREAM] = "the remote side failed",
    };

    if ((unsigned)r < sizeof names / sizeof names[0] && names[r])
        return names[r];
    return "unknown error";
}

int64_t call_left_ms(const gh_call *call, int64_t limit_ms)
{
    int64_t left;

    if (call == NULL || call->deadline_ms <= 0)
        return limit_ms > 0 ? limit_ms : -1;
    left = call->deadline_ms - gh_now_ms();
    if (left <= 0)
        return 0;
    return limit_ms > 0 && limit_ms < left ? limit_ms : left;
}
