/*
 * job.h - one API request's trip through the worker pool.
 *
 * Every API handler follows the same three steps. On the loop thread it
 * authenticates (guard.h), validates its input into `in`, and queues the
 * job. On a worker, its work function talks to the services and leaves the
 * answer in the job: a status and a body, or a status and a problem code.
 * Back on the loop, api_job_done() sends that answer and frees the job.
 * So a work function never touches evhttp, and a handler never blocks.
 *
 * One exception, for speed: an API_READ job runs on the loop itself when
 * the store is local (SQLite, kv in SQL), with no time to wait for a lock;
 * if it would have to wait, it starts again on a worker. See api_job_run.
 */
#ifndef GH_API_JOB_H
#define GH_API_JOB_H

#include <stdint.h>
#include <jansson.h>
#include "app.h"
#include "auth/audit.h"
#include "auth/companies.h"
#include "auth/context.h"
#include "auth/integrations.h"
#include "api/stamps.h"
#include "auth/tokens.h"
#include "http/request.h"
#include "store/store.h"

#define API_UA_MAX 256

enum {
    API_BEARER = 1 << 0,  /* a valid access token is required */
    API_OAUTH = 1 << 2,   /* errors in RFC 6749 shape, not problem+json;
                             Pragma: no-cache as RFC 6749 5.1 asks */
    API_HASH = 1 << 3,    /* the work hashes a password: run it on the
                             low-priority hashing pool */
    API_READ = 1 << 4,    /* the work only reads the store: it may run on
                             the loop when the store is local */
    API_ANSWERED = 1 << 5,/* the answer is set before the work runs, which
                             only records: no storage leaves it as it is */
    API_KEY = 1 << 6,     /* with API_BEARER: an integration's API key, and
                             it alone, is the credential (no permission) */
    API_CACHED = 1 << 7,  /* with API_READ and a kv server: the work may
                             answer from caches under fresh stamps, on the
                             loop; at a miss it moves to a worker */
    API_RBAC = 1 << 8,    /* with API_BEARER, for work that checks the
                             caller's permissions itself (guard_perms):
                             the RBAC version comes with the deny-list */
};

typedef struct api_job api_job;

/* A work function: runs on a worker (or, API_READ, on the loop) with this
 * thread's connection, the job's call ready and, for API_BEARER, the
 * session checked live. Without a connection it does not run: the 503 is
 * set (api_job_run). */
typedef void (*api_work)(api_job *j, gh_conn *c);

struct api_job {
    /* set on the loop, read-only in the worker */
    gh_app *app;
    gh_cycle *cycle;            /* the request's, a reference of the job's
                                   own: cfg and kr live while the job does */
    const gh_config *cfg;       /* cycle->cfg: the config when the request came in */
    const gh_keyring *kr;       /* cycle->kr: the keyring likewise */
    unsigned flags;
    gh_claims claims;           /* API_BEARER: the caller's access token;
                                   for an API key, filled in by guard_live
                                   (sub: the integration's id) */
    char api_key[INTEGRATION_KEY_LEN]; /* the API key presented, or "" */
    api_stamps stamps;          /* guard_live's, with a kv server: the
                                   version stamps caches may answer under */
    int stamps_fresh;           /* ... already read, on the loop without
                                   waiting (api_job_run): guard_live reads
                                   none */
    int key_touch;              /* record the key's use after the work */
    const char *perm;           /* the permission the route needs, or NULL */
    json_t *in;                 /* validated input, owned; wiped when freed */
    char target[64];            /* a path parameter, when the route has one */
    char target2[37];           /* a second one: /roles/{id}/permissions/{id} */
    void *data;                 /* the handler's own, free()d with the job */
    char ip[64];
    char ua[API_UA_MAX];        /* User-Agent, printable ASCII, truncated */
    char locale[36];            /* Accept-Language's first tag, or "" */
    char company_slug[COMPANY_SLUG_MAX + 1]; /* api_company_pick's, or the
                                   ?company= (slug or id) of api_job_perm */
    gh_company company;         /* ... resolved in the worker: api_tenant() */
    const char *request_id;
    gh_call call;               /* the worker's store calls */
    api_work work;              /* the handler's work function */
    int on_loop;                /* running on the loop: no lock waits */
    int cache_only;             /* ... and no SQL: kv and caches only (the
                                   work sets again_on_worker at a miss) */
    const char *route;          /* the route's pattern, for rate_limits: */
    unsigned method;            /* GH_GET ... */
    int rl_done;                /* rate_guard has counted this request */
    size_t rl_from;             /* ... under the limits before this one */
    char rl_policy[96];         /* its RateLimit-Policy, or "" */
    char rl_state[96];          /* its RateLimit */
    int again_on_worker;        /* on the loop, the store was busy */

    /* the answer, set in the worker */
    int status;
    char code[48];              /* problem or OAuth error code; "" = success */
    char detail[256];
    json_t *out;                /* success body; NULL: no body ... */
    char *out_text;             /* ... unless it came as JSON text */
    size_t out_len;
    int64_t retry_after_s;      /* > 0: Retry-After */
    const char *www_auth;       /* WWW-Authenticate value, static */
    char *location;             /* a redirect's Location (api_redirect), or NULL */
    char *set_cookie;           /* a Set-Cookie value (malloc'd), or NULL */
    gh_claims access;           /* access_pending: the token to sign ... */
    json_t *access_claims;      /* ... with these claims besides, or NULL ... */
    int access_pending;         /* ... into out's "access_token" (api_sign_later) */
    int64_t access_ttl_s;       /* > 0: its lifetime, not tokens.access_ttl
                                   (an OAuth client's own) */
};

/* A job for req, authenticated as flags ask (the 401/403 is sent on
 * failure). NULL when the request has been answered. */
api_job *api_job_new(gh_req *req, unsigned flags);
/* The same for a route that needs a permission ("users:read", a static
 * string): a bearer token whose user holds it, checked in the worker
 * (guard_live). The request acts in the caller's company; a superuser may
 * name another with ?company=<slug or id> (api_tenant). */
api_job *api_job_perm(gh_req *req, unsigned flags, const char *perm);
/* api_job_perm for a list (API_READ): its paging (input_page) in in. */
api_job *api_job_perm_page(gh_req *req, const char *perm);
/* api_job_perm for a route on /{id}: the id into target (anything but a
 * UUID is 404). */
api_job *api_job_perm_id(gh_req *req, unsigned flags, const char *perm);
/* A route on /{id} that takes no body: api_job_perm_id, then work. */
void api_job_run_id(gh_req *req, unsigned flags, const char *perm, api_work work);
void api_job_free(api_job *j);
/* Queue work; api_job_done answers. On a full queue the 503 has been sent
 * and the job freed. */
void api_job_run(gh_req *req, api_job *j, api_work work);

/* A change's end, in the worker. r GH_OK: the audit row (action, subject,
 * details), the commit, and the answer: body with status, or 204 without
 * one; else the rollback and fail's answer for r. details and body are
 * stolen. */
void api_change_done(api_job *j, gh_conn *c, gh_result r, const char *action, const char *subject,
                     json_t *details, json_t *body, int status,
                     void (*fail)(api_job *j, gh_result r, const char *what));

/* Answers, set in the worker. api_ok steals body (NULL: 204-like, no body;
 * an allocation failure becomes a 500). */
void api_ok(api_job *j, int status, json_t *body);
/* The same with a body already in JSON text (malloc'd, stolen; NULL is a
 * 500), such as present_user_json's. */
void api_ok_text(api_job *j, int status, char *text, size_t len);
/* 200 with a page of a list, the one envelope of every list:
 * {items, total, limit, offset}, limit and offset as input_page left them
 * in j->in. Steals items (NULL: a 500). */
void api_ok_page(api_job *j, json_t *items, int64_t total);
/* 302 to url (malloc'd, stolen; NULL is a 500), no body. */
void api_redirect(api_job *j, char *url);
/* An answer without a body (200 for RFC 7009, 204 ...). */
void api_empty(api_job *j, int status);
void api_fail(api_job *j, int status, const char *code, const char *detail);
/* A failed store or plugin call: 503 for lock contention, an unreachable
 * backend or a remote side that rate-limits us (with the plugin's
 * Retry-After when it reported one), 502 for a remote side that failed, else
 * 500 (an unknown code too); the reason goes to the log, never to the
 * client. */
void api_store_fail(api_job *j, gh_result r, const char *what);

/* The answer's "access_token" (present_tokens leaves it null) is signed
 * for cl back on the loop, just before the answer is sent. Signing needs no
 * store, yet it is three quarters of a refresh grant's work: on a worker,
 * and on SQLite the one worker is the only writer, it capped refresh
 * grants at the rate one thread can sign. A failure to sign becomes a 500.
 * claims (may be NULL: roles, permissions) go into the token besides; the
 * job takes a reference. */
void api_sign_later(api_job *j, const gh_claims *cl, json_t *claims);

/* The input field key as a string, or NULL when absent or null. */
const char *api_in(const api_job *j, const char *key);

int64_t api_now_s(void);
/* The company the request acts in: for a bearer, the one a superuser
 * named (api_job_perm) or else the caller's; without one, the company the
 * request picked (api/company.h) or else the root company. */
const char *api_tenant(const api_job *j);

/* The request as auth/ sees it (context.h), on c with the job's call. */
void api_auth_ctx(api_job *j, gh_conn *c, gh_auth_ctx *ax);

/* One audit row from this request: actor = the caller when authenticated.
 * A failure to record is logged; it does not change the answer. */
void api_audit(api_job *j, gh_conn *c, const char *action, const char *outcome,
               const char *subject_id, json_t *details /* stolen, may be NULL */);

#endif
