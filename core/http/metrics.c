/*
 * metrics.c - Prometheus text exposition of what the daemon counts.
 *
 * Counters are plain arrays of relaxed atomics indexed by route and by a
 * short list of status codes: incrementing one costs an uncontended atomic
 * add on the request path, and nothing is allocated after start-up.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include "app.h"
#include "auth/password.h"
#include "clock.h"
#include "http/metrics.h"
#include "notify/mailer.h"
#include "plugin/host.h"

static const int status_codes[] = {
    200, 201, 202, 204, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 405,
    408, 409, 410, 413, 415, 422, 429, 499, 500, 501, 502, 503, 504,
};
#define NSTATUS (sizeof status_codes / sizeof status_codes[0])
#define OTHER_STATUS NSTATUS /* one more slot for anything else */

static const double bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define NBOUNDS (sizeof bounds / sizeof bounds[0])

typedef struct route_stats {
    _Atomic uint64_t by_status[NSTATUS + 1];
    _Atomic uint64_t buckets[NBOUNDS + 1]; /* last: +Inf */
    _Atomic uint64_t sum_us;
} route_stats;

static route_stats *stats; /* nroutes + 1: the last is "unmatched" */
static _Atomic uint64_t loop_jobs, loop_jobs_moved;
static _Atomic uint64_t loop_async[3]; /* by LOOP_ASYNC_* */
static _Atomic uint64_t tokens_forged, tokens_refused_other, forged_audits_dropped;
static _Atomic uint64_t forwarded_refused;
static size_t nstats;
static int64_t started_ms;

int metrics_init(size_t nroutes)
{
    free(stats);
    nstats = nroutes + 1;
    stats = calloc(nstats, sizeof *stats);
    started_ms = gh_now_ms();
    return stats ? 0 : -1;
}

void metrics_free(void)
{
    free(stats);
    stats = NULL;
    nstats = 0;
}

static size_t status_slot(int status)
{
    for (size_t i = 0; i < NSTATUS; i++)
        if (status_codes[i] == status)
            return i;
    return OTHER_STATUS;
}

void metrics_request(size_t route_index, int status, double seconds)
{
    if (!stats)
        return;
    route_stats *s = &stats[route_index < nstats ? route_index : nstats - 1];
    atomic_fetch_add_explicit(&s->by_status[status_slot(status)], 1, memory_order_relaxed);
    size_t b = 0;
    while (b < NBOUNDS && seconds > bounds[b])
        b++;
    atomic_fetch_add_explicit(&s->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_us, (uint64_t)(seconds * 1e6), memory_order_relaxed);
}

void metrics_loop_job(int moved)
{
    atomic_fetch_add_explicit(moved ? &loop_jobs_moved : &loop_jobs, 1, memory_order_relaxed);
}

void metrics_loop_async(int outcome)
{
    atomic_fetch_add_explicit(&loop_async[outcome], 1, memory_order_relaxed);
}

void metrics_token_refused(int forged)
{
    atomic_fetch_add_explicit(forged ? &tokens_forged : &tokens_refused_other, 1,
                              memory_order_relaxed);
}

void metrics_forged_audit_dropped(void)
{
    atomic_fetch_add_explicit(&forged_audits_dropped, 1, memory_order_relaxed);
}

void metrics_forwarded_refused(void)
{
    atomic_fetch_add_explicit(&forwarded_refused, 1, memory_order_relaxed);
}

static uint64_t load(_Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

static const char *route_label(const gh_app *app, size_t i)
{
    const gh_route *r = router_at(app->router, i);
    return r ? r->pattern : "unmatched";
}

static void render_requests(struct evbuffer *out, const gh_app *app)
{
    evbuffer_add_printf(out, "# HELP gatehouse_http_requests_total HTTP requests answered, by route and status.\n"
                             "# TYPE gatehouse_http_requests_total counter\n");
    for (size_t r = 0; r < nstats; r++)
        for (size_t i = 0; i <= NSTATUS; i++) {
            uint64_t n = load(&stats[r].by_status[i]);
            if (!n)
                continue;
            if (i == OTHER_STATUS)
                evbuffer_add_printf(out, "gatehouse_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                                    route_label(app, r), (unsigned long long)n);
            else
                evbuffer_add_printf(out, "gatehouse_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                                    route_label(app, r), status_codes[i], (unsigned long long)n);
        }

    evbuffer_add_printf(out, "# HELP gatehouse_http_request_duration_seconds Time from request to answer.\n"
                             "# TYPE gatehouse_http_request_duration_seconds histogram\n");
    for (size_t r = 0; r < nstats; r++) {
        uint64_t cum = 0, total = 0;
        for (size_t b = 0; b <= NBOUNDS; b++)
            total += load(&stats[r].buckets[b]);
        if (!total)
            continue;
        const char *label = route_label(app, r);
        for (size_t b = 0; b < NBOUNDS; b++) {
            cum += load(&stats[r].buckets[b]);
            evbuffer_add_printf(out, "gatehouse_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                                label, bounds[b], (unsigned long long)cum);
        }
        cum += load(&stats[r].buckets[NBOUNDS]);
        evbuffer_add_printf(out, "gatehouse_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
                                 "gatehouse_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                                 "gatehouse_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                            label, (unsigned long long)cum, label,
                            (double)load(&stats[r].sum_us) / 1e6, label, (unsigned long long)cum);
    }
}

static void render_event(void *ud, const char *plugin, const char *event, uint64_t n)
{
    evbuffer_add_printf(ud, "gatehouse_plugin_events_total{plugin=\"%s\",event=\"%s\"} %llu\n",
                        plugin, event, (unsigned long long)n);
}

void metrics_render(struct evbuffer *out, const gh_app *app)
{
    if (stats)
        render_requests(out, app);
    if (app->pool)
        evbuffer_add_printf(out,
            "# HELP gatehouse_worker_queue_depth Jobs waiting for a worker thread.\n"
            "# TYPE gatehouse_worker_queue_depth gauge\n"
            "gatehouse_worker_queue_depth %zu\n"
            "# HELP gatehouse_workers_busy Worker threads running a job.\n"
            "# TYPE gatehouse_workers_busy gauge\n"
            "gatehouse_workers_busy %d\n"
            "# HELP gatehouse_workers Worker threads in the pool.\n"
            "# TYPE gatehouse_workers gauge\n"
            "gatehouse_workers %d\n",
            pool_depth(app->pool), pool_busy(app->pool), pool_size(app->pool));
    if (app->mailer)
        outbox_render(out, app->mailer->outbox);
    evbuffer_add_printf(out, "# HELP gatehouse_loop_jobs_total Read jobs run on an event loop "
                             "(local store), by whether they had to move to a worker.\n"
                             "# TYPE gatehouse_loop_jobs_total counter\n"
                             "gatehouse_loop_jobs_total{moved=\"no\"} %llu\n"
                             "gatehouse_loop_jobs_total{moved=\"yes\"} %llu\n",
                        (unsigned long long)load(&loop_jobs),
                        (unsigned long long)load(&loop_jobs_moved));
    evbuffer_add_printf(out, "# HELP gatehouse_loop_async_reads_total Cached reads whose kv "
                             "round trip an event loop did not wait for, by what came of "
                             "them: answered on the loop, moved to a worker after the read "
                             "(a cache miss), or failed (kv failed, late or backing off, a "
                             "revoked token, a lost stamp: the worker reads again).\n"
                             "# TYPE gatehouse_loop_async_reads_total counter\n"
                             "gatehouse_loop_async_reads_total{result=\"answered\"} %llu\n"
                             "gatehouse_loop_async_reads_total{result=\"moved\"} %llu\n"
                             "gatehouse_loop_async_reads_total{result=\"failed\"} %llu\n",
                        (unsigned long long)load(&loop_async[LOOP_ASYNC_ANSWERED]),
                        (unsigned long long)load(&loop_async[LOOP_ASYNC_MOVED]),
                        (unsigned long long)load(&loop_async[LOOP_ASYNC_FAILED]));
    evbuffer_add_printf(out, "# HELP gatehouse_access_tokens_refused_total Bearer tokens refused, "
                             "by whether they were forged (bad signature, key, algorithm, "
                             "issuer or audience not ours) or just expired or malformed.\n"
                             "# TYPE gatehouse_access_tokens_refused_total counter\n"
                             "gatehouse_access_tokens_refused_total{reason=\"forged\"} %llu\n"
                             "gatehouse_access_tokens_refused_total{reason=\"other\"} %llu\n"
                             "# HELP gatehouse_forged_token_audits_dropped_total Forged tokens "
                             "not audited: over the audit rate limit.\n"
                             "# TYPE gatehouse_forged_token_audits_dropped_total counter\n"
                             "gatehouse_forged_token_audits_dropped_total %llu\n",
                        (unsigned long long)load(&tokens_forged),
                        (unsigned long long)load(&tokens_refused_other),
                        (unsigned long long)load(&forged_audits_dropped));
    evbuffer_add_printf(out, "# HELP gatehouse_forwarded_header_refused_total Forwarding headers "
                             "from a trusted proxy that could not be read: the proxy was taken "
                             "as the client.\n"
                             "# TYPE gatehouse_forwarded_header_refused_total counter\n"
                             "gatehouse_forwarded_header_refused_total %llu\n",
                        (unsigned long long)load(&forwarded_refused));
    evbuffer_add_printf(out, "# HELP gatehouse_password_checks_total Password verifications run "
                             "(an unknown account's dummy one included).\n"
                             "# TYPE gatehouse_password_checks_total counter\n"
                             "gatehouse_password_checks_total %llu\n",
                        (unsigned long long)password_checks_total());
    evbuffer_add_printf(out, "# HELP gatehouse_plugin_errors_total Plugin operations that failed.\n"
                             "# TYPE gatehouse_plugin_errors_total counter\n");
    for (size_t i = 0; i < app->plugins.n; i++)
        evbuffer_add_printf(out, "gatehouse_plugin_errors_total{plugin=\"%s\"} %llu\n",
                            app->plugins.v[i].name,
                            (unsigned long long)atomic_load(&app->plugins.v[i].errors));
    evbuffer_add_printf(out, "# HELP gatehouse_plugin_events_total Events plugins counted.\n"
                             "# TYPE gatehouse_plugin_events_total counter\n");
    host_events_foreach(render_event, out);
    evbuffer_add_printf(out, "# HELP gatehouse_start_time_seconds When this process started.\n"
                             "# TYPE gatehouse_start_time_seconds gauge\n"
                             "gatehouse_start_time_seconds %lld\n"
                             "# HELP gatehouse_build_info The running version.\n"
                             "# TYPE gatehouse_build_info gauge\n"
                             "gatehouse_build_info{version=\"%s\"} 1\n",
                        (long long)(started_ms / 1000), PACKAGE_VERSION);
}
