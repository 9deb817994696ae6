/*
 * job.c - the life of an API job: made and authenticated on the loop, run
 * on a worker, answered and freed back on the loop. See job.h.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "api/company.h"
#include "api/guard.h"
#include "api/input.h"
#include "api/job.h"
#include "api/rate_guard.h"
#include "auth/sessions.h"
#include "auth/users.h"
#include "clock.h"
#include "http/metrics.h"
#include "http/server.h"
#include "log.h"

/*
 * Freed jobs, kept per thread for the next request. A job is a couple of
 * kilobytes: past the sizes malloc keeps per thread, so every calloc went
 * to the shared arena and often merged its small free chunks first
 * (malloc_consolidate), a visible cost on every GET /users/me. A kept job
 * was wiped to zeroes when freed, as calloc would give it. A thread's
 * jobs are freed when it exits.
 */
#define JOB_CACHE 8
typedef struct job_cache {
    size_t n;
    api_job *jobs[JOB_CACHE];
} job_cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_free(void *v)
{
    job_cache *jc = v;
    while (jc->n > 0)
        free(jc->jobs[--jc->n]);
    free(jc);
}

static void cache_init(void)
{
    if (pthread_key_create(&cache_key, cache_free) != 0)
        abort(); /* only at the first request, with the process out of keys */
}

static job_cache *this_cache(void)
{
    pthread_once(&cache_once, cache_init);
    job_cache *jc = pthread_getspecific(cache_key);
    if (!jc && (jc = calloc(1, sizeof *jc)) && pthread_setspecific(cache_key, jc) != 0) {
        free(jc);
        jc = NULL;
    }
    return jc;
}

static api_job *job_alloc(void)
{
    job_cache *jc = this_cache();
    if (jc && jc->n > 0)
        return jc->jobs[--jc->n];
    return calloc(1, sizeof(api_job));
}

/* j is all zeroes */
static void job_release(api_job *j)
{
    job_cache *jc = this_cache();
    if (jc && jc->n < JOB_CACHE)
        jc->jobs[jc->n++] = j;
    else
        free(j);
}

/* The first language tag of an Accept-Language header ("de-CH" from
 * "de-CH, de;q=0.9, en;q=0.5"), for plugins that word messages (call
 * context "locale"); "" when there is none or it is not a plain tag.
 * Clients list their choices in order, so the first is the preferred. */
static void first_language(char *out, size_t len, const char *header)
{
    size_t n = 0;

    out[0] = '\0';
    if (!header)
        return;
    header += strspn(header, " \t");
    for (; header[n] && !strchr(",; \t", header[n]); n++)
        if (!isalnum((unsigned char)header[n]) && header[n] != '-')
            return; /* "*", or not a language tag */
    if (n == 0 || n >= len)
        return;
    memcpy(out, header, n);
    out[n] = '\0';
}

api_job *api_job_new(gh_req *req, unsigned flags)
{
    api_job *j = job_alloc();
    if (!j) {
        req_problem(req, 500, "internal_error", NULL);
        return NULL;
    }
    j->app = req->app;
    j->cycle = cycle_ref(req->cycle);
    j->cfg = j->cycle->cfg;
    j->kr = j->cycle->kr;
    j->flags = flags;
    j->request_id = req->request_id;
    j->route = req->match.route ? req->match.route->pattern : NULL;
    j->method = req->method;
    snprintf(j->ip, sizeof j->ip, "%s", req->client);
    /* stored, listed and put in JSON: clipped to valid, printable UTF-8 */
    device_text_clip(j->ua, sizeof j->ua, req_header(req, "User-Agent"));
    first_language(j->locale, sizeof j->locale, req_header(req, "Accept-Language"));
    if ((j->flags & API_BEARER) && guard_bearer(req, j) < 0) {
        api_job_free(j);
        return NULL;
    }
    return j;
}

api_job *api_job_perm(gh_req *req, unsigned flags, const char *perm)
{
    api_job *j = api_job_new(req, flags | API_BEARER);
    json_t *q = j ? input_query(req) : NULL;
    const char *company = NULL;

    if (j && (!q || input_string(req, q, "company", INPUT_OPTIONAL, 64, &company) < 0)) {
        json_decref(q);
        api_job_free(j);
        return NULL;
    }
    if (company && !company_slug_valid(company) && !uuid_valid(company)) {
        input_reject(req, "invalid_company", "company", "is not a company slug or id.");
        json_decref(q);
        api_job_free(j);
        return NULL;
    }
    if (j) {
        j->perm = perm;
        snprintf(j->company_slug, sizeof j->company_slug, "%s", company ? company : "");
    }
    json_decref(q);
    return j;
}

/* Passwords and tokens arrive in `in`: do not leave them in freed memory. */
static void wipe_strings(json_t *in)
{
    const char *key;
    json_t *v;
    json_object_foreach(in, key, v)
        if (json_is_string(v))
            OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
}

/* Forget the answer's body, in either form. */
static void drop_out(api_job *j)
{
    json_decref(j->out);
    j->out = NULL;
    free(j->out_text);
    j->out_text = NULL;
    j->out_len = 0;
}

/* Forget the answer's headers: a Location may hold a one-time code, a
 * cookie a secret. */
static void drop_headers(api_job *j)
{
    if (j->location)
        OPENSSL_cleanse(j->location, strlen(j->location));
    if (j->set_cookie)
        OPENSSL_cleanse(j->set_cookie, strlen(j->set_cookie));
    free(j->location);
    free(j->set_cookie);
    j->location = j->set_cookie = NULL;
}

api_job *api_job_perm_page(gh_req *req, const char *perm)
{
    api_job *j = api_job_perm(req, API_READ, perm);
    if (j && (!(j->in = input_query(req)) || input_page(req, j->in) < 0)) {
        api_job_free(j);
        return NULL;
    }
    return j;
}

api_job *api_job_perm_id(gh_req *req, unsigned flags, const char *perm)
{
    api_job *j = api_job_perm(req, flags, perm);
    if (j && input_path_id(req, "id", j->target) < 0) {
        api_job_free(j);
        return NULL;
    }
    return j;
}

void api_job_run_id(gh_req *req, unsigned flags, const char *perm, api_work work)
{
    api_job *j = api_job_perm_id(req, flags, perm);
    if (j)
        api_job_run(req, j, work);
}

void api_job_free(api_job *j)
{
    if (!j)
        return;
    drop_headers(j);
    if (j->in) {
        wipe_strings(j->in);
        json_decref(j->in);
    }
    drop_out(j);
    json_decref(j->access_claims);
    free(j->data);
    cycle_unref(j->cycle); /* perhaps the last user of a reloaded config */
    OPENSSL_cleanse(j, sizeof *j); /* zeroes: what job_alloc hands out */
    job_release(j);
}

static void send_oauth_error(gh_req *req, const api_job *j)
{
    json_t *e = json_pack("{s:s}", "error", j->code);
    if (e && j->detail[0])
        json_object_set_new(e, "error_description", json_string(j->detail));
    if (!e) {
        req_problem(req, 500, "internal_error", NULL);
        return;
    }
    req_json(req, j->status, e);
}

void api_sign_later(api_job *j, const gh_claims *cl, json_t *claims)
{
    j->access = *cl;
    json_decref(j->access_claims);
    j->access_claims = json_incref(claims);
    j->access_pending = 1;
}

/* On the loop: the pending access token into the answer (api_sign_later). */
static void sign_access(api_job *j)
{
    gh_token_conf tc = j->cfg->tokens;
    if (j->access_ttl_s > 0)
        tc.ttl_s = j->access_ttl_s;
    char *t = j->kr ? token_issue(j->kr, &tc, &j->access, j->access_claims, api_now_s()) : NULL;
    /* the answer takes a copy; a NULL value makes the set fail */
    if (json_object_set_new(j->out, "access_token", t ? json_string(t) : NULL) != 0) {
        gh_log_tagged(GH_LOG_ERROR, "tokens", j->request_id, "cannot sign an access token");
        api_fail(j, 500, (j->flags & API_OAUTH) ? "server_error" : "internal_error", NULL);
    }
    if (t) {
        OPENSSL_cleanse(t, strlen(t));
        free(t);
    }
}

static void job_done(gh_req *req)
{
    api_job *j = req->job_data;
    if (j->access_pending && j->out && !j->code[0] && !req->closed)
        sign_access(j);
    if (!req->closed) {
        char s[24];
        if (j->retry_after_s > 0) {
            snprintf(s, sizeof s, "%lld", (long long)j->retry_after_s);
            req_set_header(req, "Retry-After", s);
        }
        if (j->www_auth)
            req_set_header(req, "WWW-Authenticate", j->www_auth);
        if (j->location && !j->code[0])
            req_set_header(req, "Location", j->location);
        if (j->set_cookie)
            req_set_header(req, "Set-Cookie", j->set_cookie);
        if (j->flags & API_OAUTH)
            req_set_header(req, "Pragma", "no-cache");
        rate_guard_headers(req, j);
    }
    if (j->code[0] && (j->flags & API_OAUTH))
        send_oauth_error(req, j);
    else if (j->code[0])
        req_problem(req, j->status, j->code, j->detail[0] ? j->detail : NULL);
    else if (j->out) {
        json_t *body = j->out;
        j->out = NULL;
        req_json(req, j->status, body);
    } else if (j->out_text)
        req_send(req, j->status, "application/json", j->out_text, j->out_len);
    else
        req_send(req, j->status ? j->status : 204, NULL, NULL, 0);
    api_job_free(j);
}

/* Forget what a first try on the loop answered. */
static void job_reset(api_job *j, unsigned flags)
{
    drop_out(j);
    j->status = 0;
    j->code[0] = j->detail[0] = '\0';
    j->retry_after_s = 0;
    j->www_auth = NULL;
    drop_headers(j);
    j->access_pending = 0;
    j->access_ttl_s = 0;
    j->flags = flags;
    j->on_loop = j->cache_only = j->again_on_worker = j->stamps_fresh = 0;
}

/* A cache_only job's budget on the loop: its one kv round trip (see
 * run_on_loop). */
#define API_LOOP_KV_MS 20

/* j->call afresh, with the job's deadline and what plugins may read. */
static void job_call(api_job *j)
{
    call_init(&j->call, NULL, j->request_id,
              j->cache_only ? API_LOOP_KV_MS : j->on_loop ? 0 : j->cfg->request_timeout_ms);
    j->call.client_ip = j->ip;
    j->call.user_agent = j->ua[0] ? j->ua : NULL;
    j->call.locale = j->locale[0] ? j->locale : NULL;
    j->call.public_url = j->cfg->public_url;
    if (j->flags & API_BEARER) {
        j->call.tenant = j->claims.tenant;
        j->call.user_id = j->claims.sub;
    }
}

/* In the worker (or on the loop): this thread's connection with j->call
 * ready, or NULL with a 503 set. */
static gh_conn *job_conn(api_job *j)
{
    job_call(j);
    gh_conn *c = store_current();
    if (!c) {
        if (!(j->flags & API_ANSWERED)) {
            j->retry_after_s = 1;
            api_fail(j, 503, "unavailable", "Storage is unavailable; try again shortly.");
        }
        return NULL;
    }
    /* a failed BEGIN costs the snapshot, not the answer */
    if (j->flags & API_READ)
        store_read_begin(c, &j->call);
    /* a bearer's company: the token's, or one guard_live resolves */
    if ((j->flags & API_BEARER) ? guard_live(j, c) < 0 : api_company_resolve(j, c) < 0)
        return NULL;
    /* before the work, once the caller is known: a limit may be per user */
    if (rate_guard(j, c) < 0)
        return NULL;
    return c;
}

/* Every job's work, with its connection; an API_READ job's reads share
 * one snapshot (job_conn opens it). */
static void job_work(gh_req *req)
{
    api_job *j = req->job_data;
    gh_conn *c = job_conn(j);
    if (c)
        j->work(j, c);
    if (j->flags & API_READ)
        store_read_end(store_current(), &j->call);
    if (c && j->key_touch)
        guard_key_touch(j, c);
}

/* The loop's own connection when the store is local, or when kv is a
 * server and the job may answer from caches, opened at its first read so
 * that an idle server keeps none; main.c's loop_stop closes it. Without
 * one, every job goes to the workers. */
static gh_conn *loop_conn(gh_app *app)
{
    static _Thread_local int failed;
    gh_conn *c = store_current();
    char err[256];
    if (c || failed || !loop_current())
        return c;
    if (!(c = app_thread_open(app, err, sizeof err))) {
        failed = 1;
        gh_log(GH_LOG_WARNING, "event loop: no storage connection, reads go to workers: %s", err);
        return NULL;
    }
    store_read_share(c, 1); /* one snapshot per pass: main.c's loop_pass_end */
    return c;
}

static void to_worker(gh_req *req, api_job *j)
{
    gh_pool *pool = (j->flags & API_HASH) && j->app->hash_pool ? j->app->hash_pool : j->app->pool;
    if (req_defer_on(req, pool, job_work, job_done, j) < 0)
        api_job_free(j);
}

/* On the loop, when read_async's stamps have come (st NULL: the loop cannot
 * answer alone, see stamps_read_async): the job runs on them as it would
 * have after a synchronous read, or starts again on a worker, which reads
 * everything again. A client gone meanwhile gets nothing. */
static void stamps_arrived(void *arg, const api_stamps *st)
{
    gh_req *req = arg;
    api_job *j = req->job_data;
    unsigned flags = j->flags;

    if (req->closed) {
        req_resume(req); /* frees the job, answers nothing */
        return;
    }
    if (st) {
        j->stamps = *st;
        j->stamps_fresh = 1;
        job_work(req);
        metrics_loop_job(j->again_on_worker);
    }
    metrics_loop_async(!st ? LOOP_ASYNC_FAILED : j->again_on_worker ? LOOP_ASYNC_MOVED
                                                                     : LOOP_ASYNC_ANSWERED);
    if (st && !j->again_on_worker) {
        req_resume(req);
        return;
    }
    job_reset(j, flags);
    to_worker(req, j);
}

/* A cache_only bearer job's one kv read, sent without waiting for it:
 * the loop serves other connections until stamps_arrived. 0: under way,
 * req held; -1: it could not start (the kv server backs off, say). */
static int read_async(gh_req *req, api_job *j, gh_conn *c)
{
    job_call(j);
    if (stamps_read_async(c, &j->call, loop_base(req->loop), &j->claims, guard_wants_rbac(j),
                          stamps_arrived, req) < 0)
        return -1;
    req_hold(req, job_done, j);
    return 0;
}

/*
 * A worker costs two thread hand-offs (loop -> worker -> loop), which is
 * most of what a read like GET /users/me costs on a small machine. So when
 * the store is local (this loop then has its own connection, see
 * loop_conn) an API_READ job runs here and now. It may not wait: its
 * calls have no time left (a zero deadline), so a store that would wait
 * for a lock answers UNAVAILABLE at once, and the job starts again on a
 * worker, which may wait. Reads take no write lock, and under WAL a reader
 * waits only in rare moments (recovery, a checkpoint restarting the log).
 *
 * The jobs of one pass of the loop (the connections one wait found ready)
 * share one read snapshot, ended when the pass ends: taking and dropping
 * SQLite's WAL read lock costs two fcntl calls, which on a small VM were
 * the dearest part of a GET /users/me. A write this process made since
 * the snapshot began ends it early (store_read_share), so a revocation
 * answered by this server holds for every request after the answer.
 *
 * With a server database and a kv server, an API_CACHED job runs here too
 * (cache_only): its one kv round trip (the deny-list and the stamps,
 * guard_live) has API_LOOP_KV_MS at most, and it answers from a cache
 * under those stamps or moves to a worker; it never reads the database
 * here. A kv server that is slow or gone costs a loop that wait once: the
 * store then backs off its connection for a second, and meanwhile such
 * jobs fail at once and move.
 *
 * A kv plugin with get_many_async (Redis) spares the loop even that wait,
 * which was most of its time: a bearer job sends the read (read_async),
 * the request is held, and the loop serves other connections; the reads
 * of one pass leave in one write. stamps_arrived then runs the job on the
 * stamps as above, or moves it to a worker, which reads everything again:
 * correctness never rests on the asynchronous read.
 */
static int run_on_loop(gh_req *req, api_job *j)
{
    int local = store_is_local(j->app->store);
    int cached = !local && (j->flags & API_CACHED) && store_kv_server(j->app->store);
    gh_conn *c;
    if (!(j->flags & API_READ) || !(local || cached) || !(c = loop_conn(j->app)))
        return 0;
    unsigned flags = j->flags;
    j->on_loop = 1;
    j->cache_only = cached;
    req->job_data = j;
    if (cached && (j->flags & API_BEARER) && !j->api_key[0] && store_kv_async(c)) {
        if (read_async(req, j, c) == 0)
            return 1;
        metrics_loop_async(LOOP_ASYNC_FAILED);
        job_reset(j, flags);
        return 0;
    }
    job_work(req);
    metrics_loop_job(j->again_on_worker);
    if (!j->again_on_worker) {
        job_done(req);
        return 1;
    }
    job_reset(j, flags);
    return 0;
}

void api_job_run(gh_req *req, api_job *j, api_work work)
{
    j->work = work;
    if (run_on_loop(req, j))
        return;
    to_worker(req, j);
}

void api_change_done(api_job *j, gh_conn *c, gh_result r, const char *action, const char *subject,
                     json_t *details, json_t *body, int status,
                     void (*fail)(api_job *j, gh_result r, const char *what))
{
    if (r == GH_OK) {
        api_audit(j, c, action, "success", subject, details);
        r = store_commit(c, &j->call);
    } else {
        json_decref(details);
        store_rollback(c, &j->call);
    }
    if (r != GH_OK) {
        json_decref(body);
        fail(j, r, action);
    } else if (status == 204) {
        json_decref(body);
        api_empty(j, 204);
    } else {
        api_ok(j, status, body);
    }
}

void api_ok_page(api_job *j, json_t *items, int64_t total)
{
    api_ok(j, 200, items ? json_pack("{s:o, s:I, s:O, s:O}", "items", items, "total",
                                     (json_int_t)total, "limit", json_object_get(j->in, "limit"),
                                     "offset", json_object_get(j->in, "offset"))
                         : NULL);
}

void api_ok(api_job *j, int status, json_t *body)
{
    if (!body && status != 204) {
        api_fail(j, 500, "internal_error", NULL);
        return;
    }
    drop_out(j);
    j->out = body;
    j->status = status;
    j->code[0] = '\0';
}

void api_ok_text(api_job *j, int status, char *text, size_t len)
{
    if (!text) {
        api_fail(j, 500, "internal_error", NULL);
        return;
    }
    drop_out(j);
    j->out_text = text;
    j->out_len = len;
    j->status = status;
    j->code[0] = '\0';
}

void api_empty(api_job *j, int status)
{
    drop_out(j);
    j->status = status;
    j->code[0] = '\0';
}

void api_redirect(api_job *j, char *url)
{
    if (!url) {
        api_fail(j, 500, "internal_error", NULL);
        return;
    }
    api_empty(j, 302);
    if (j->location)
        OPENSSL_cleanse(j->location, strlen(j->location));
    free(j->location);
    j->location = url;
}

void api_fail(api_job *j, int status, const char *code, const char *detail)
{
    drop_out(j);
    j->status = status;
    snprintf(j->code, sizeof j->code, "%s", code);
    snprintf(j->detail, sizeof j->detail, "%s", detail ? detail : "");
}

void api_store_fail(api_job *j, gh_result r, const char *what)
{
    int busy = r == GH_ERR_UNAVAILABLE || r == GH_ERR_TIMEOUT;
    int warn = busy || r == GH_ERR_RATE_LIMITED || r == GH_ERR_UPSTREAM;
    if (busy && j->on_loop) { /* not a failure yet: a worker may wait */
        j->again_on_worker = 1;
        api_fail(j, 503, "unavailable", NULL);
        return;
    }
    gh_log_tagged(warn ? GH_LOG_WARNING : GH_LOG_ERROR, "api", j->request_id, "%s: %s%s%s", what,
                  gh_result_str(r), j->call.message[0] ? ": " : "", j->call.message);
    if (busy || r == GH_ERR_RATE_LIMITED) {
        /* the plugin's retry-after when it reported one, in whole seconds */
        j->retry_after_s = j->call.retry_after_ms > 0 ? (j->call.retry_after_ms + 999) / 1000 : 1;
        api_fail(j, 503, (j->flags & API_OAUTH) ? "temporarily_unavailable" : "unavailable",
                 "The server cannot serve this right now; try again shortly.");
    } else if (r == GH_ERR_UPSTREAM) {
        api_fail(j, 502, (j->flags & API_OAUTH) ? "temporarily_unavailable" : "bad_gateway",
                 "A service this server depends on failed; try again later.");
    } else {
        api_fail(j, 500, (j->flags & API_OAUTH) ? "server_error" : "internal_error", NULL);
    }
}

const char *api_in(const api_job *j, const char *key)
{
    return json_string_value(json_object_get(j->in, key));
}

int64_t api_now_s(void)
{
    return gh_now_ms() / 1000;
}

const char *api_tenant(const api_job *j)
{
    if (j->company.id[0])
        return j->company.id;
    return (j->flags & API_BEARER) ? j->claims.tenant : GH_ROOT_TENANT;
}

void api_auth_ctx(api_job *j, gh_conn *c, gh_auth_ctx *ax)
{
    *ax = (gh_auth_ctx){ .cfg = j->cfg, .conn = c, .call = &j->call, .tenant = api_tenant(j),
                         .actor = (j->flags & API_BEARER) ? j->claims.sub : NULL,
                         .ip = j->ip, .ua = j->ua };
}

void api_audit(api_job *j, gh_conn *c, const char *action, const char *outcome,
               const char *subject_id, json_t *details)
{
    gh_auth_ctx ax;
    api_auth_ctx(j, c, &ax);
    auth_audit(&ax, action, outcome, subject_id, details);
}
