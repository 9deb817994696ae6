/*
 * rate_guard.c - per-route limits on API jobs. See rate_guard.h.
 *
 * Where the count lives: in kv when kv is shared with other instances
 * (a kv plugin such as Redis, or the kv table of a SQL server), so every
 * instance counts against one limit; in this process's memory when the
 * store is local (SQLite with its own kv table), where no other instance
 * can share it and a kv write per request would queue every request
 * behind the one SQLite writer. A shared sliding window is counted here
 * first and sent to kv in batches (rate_batch.c). docs/design.md weighs
 * them.
 */
#include <stdio.h>
#include <string.h>
#include "api/rate_guard.h"
#include "auth/rate_batch.h"
#include "auth/rate_kv.h"
#include "auth/rate_local.h"
#include "clock.h"
#include "log.h"

static int route_matches(const gh_rl_route *r, unsigned method, const char *pattern)
{
    if (r->methods && !(r->methods & method))
        return 0;
    return r->prefix ? strncmp(pattern, r->pattern, strlen(r->pattern)) == 0
                     : strcmp(pattern, r->pattern) == 0;
}

static int limit_applies(const gh_rate_limit *l, unsigned method, const char *pattern)
{
    for (size_t i = 0; i < l->n_routes; i++)
        if (route_matches(&l->routes[i], method, pattern))
            return 1;
    return 0;
}

/* Whom l counts this request for, qualified by kind so an IP and a user
 * id never share a count; the IP when the request has no such caller. */
static void subject_of(const api_job *j, int kind, char *buf, size_t len)
{
    const char *sub = j->claims.sub;
    int bearer = (j->flags & API_BEARER) && sub[0];
    int client = bearer && strncmp(sub, "client:", 7) == 0;
    const char *client_id = kind == RL_KEY_CLIENT ? api_in(j, "client_id") : NULL;

    if (kind == RL_KEY_USER && bearer && !client && !j->api_key[0])
        snprintf(buf, len, "user:%s", sub);
    else if (kind == RL_KEY_KEY && bearer && j->api_key[0])
        snprintf(buf, len, "key:%s", sub);
    else if (kind == RL_KEY_CLIENT && client)
        snprintf(buf, len, "%s", sub);
    else if (kind == RL_KEY_CLIENT && client_id)
        snprintf(buf, len, "client:%.100s", client_id);
    else
        snprintf(buf, len, "ip:%s", j->ip);
}

static int64_t seconds(int64_t ms)
{
    return (ms + 999) / 1000;
}

/* The headers for l's verdict v, kept in the job for the loop. */
static void keep_headers(api_job *j, const gh_rate_limit *l, const rl_verdict *v)
{
    snprintf(j->rl_policy, sizeof j->rl_policy, "\"%s\";q=%lld;w=%lld", l->name,
             (long long)(l->algorithm == RL_TOKEN_BUCKET && l->burst ? l->burst : l->limit),
             (long long)seconds(l->window_ms));
    snprintf(j->rl_state, sizeof j->rl_state, "\"%s\";r=%lld;t=%lld", l->name,
             (long long)v->remaining, (long long)seconds(v->reset_ms));
}

/* One request under l: 0 counted, in v; 1 it needs kv and j is on the
 * loop; -1 kv failed. */
static int count(api_job *j, gh_conn *c, const gh_rate_limit *l, int shared, const char *subject,
                 int64_t now, rl_verdict *v)
{
    if (!shared) {
        rl_local_hit(l, subject, now, v);
        return 0;
    }
    if (l->algorithm == RL_SLIDING_WINDOW)
        return rl_batch_hit(c, &j->call, l, subject, now, !j->on_loop, v);
    if (j->on_loop)
        return 1;
    return rl_kv_bucket(c, &j->call, l, subject, now, v);
}

int rate_guard(api_job *j, gh_conn *c)
{
    const gh_rate_limits *rl = &j->cfg->rate_limits;
    int shared = store_kv_plugin(c) != NULL || !store_is_local(j->app->store);
    int64_t now = gh_now_ms(), least = -1;

    if (j->rl_done || !j->route)
        return 0;
    for (size_t i = j->rl_from; i < rl->n; i++) {
        const gh_rate_limit *l = &rl->v[i];
        char subject[160];
        rl_verdict v;

        if (!limit_applies(l, j->method, j->route))
            continue;
        subject_of(j, l->key, subject, sizeof subject);
        int rc = count(j, c, l, shared, subject, now, &v);
        if (rc > 0) { /* kv may wait; the loop may not */
            j->rl_from = i; /* the limits before have counted it */
            j->again_on_worker = 1;
            api_fail(j, 503, "unavailable", NULL);
            return -1;
        }
        if (rc < 0) {
            gh_log_tagged(GH_LOG_WARNING, "ratelimit", j->request_id,
                          "limit %s: kv failed, %s%s%s", l->name,
                          l->fail_closed ? "refused" : "let in", j->call.message[0] ? ": " : "",
                          j->call.message);
            if (!l->fail_closed)
                continue;
            j->retry_after_s = 1;
            api_fail(j, 503, "unavailable", "Rate limits cannot be checked; try again shortly.");
            return -1;
        }
        if (!v.allowed) {
            char detail[128];
            keep_headers(j, l, &v);
            j->retry_after_s = seconds(v.reset_ms);
            snprintf(detail, sizeof detail, "Too many requests; try again in %lld s.",
                     (long long)j->retry_after_s);
            api_fail(j, 429, "rate_limited", detail);
            j->rl_done = 1;
            return -1;
        }
        /* the headers speak for the limit closest to refusing */
        if (least < 0 || v.remaining < least) {
            least = v.remaining;
            keep_headers(j, l, &v);
        }
    }
    j->rl_done = 1;
    return 0;
}

void rate_guard_headers(gh_req *req, const api_job *j)
{
    if (!j->rl_policy[0])
        return;
    req_set_header(req, "RateLimit-Policy", j->rl_policy);
    req_set_header(req, "RateLimit", j->rl_state);
}
