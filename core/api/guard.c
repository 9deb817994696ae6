/*
 * guard.c - bearer authentication: the token on the loop, its revocation
 * on the worker. See guard.h for the answers.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>
#include "api/company.h"
#include "api/guard.h"
#include "auth/authz.h"
#include "auth/clients.h"
#include "auth/integrations.h"
#include "auth/rbac.h"
#include "auth/sessions.h"
#include "auth/users.h"
#include "call.h"
#include "clock.h"
#include "http/metrics.h"
#include "log.h"

#define INVALID_TOKEN "Bearer error=\"invalid_token\""

const char *guard_token(gh_req *req)
{
    const char *h = req_header(req, "Authorization");
    if (!h || strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
        return NULL;
    h += 6;
    while (*h == ' ' || *h == '\t')
        h++;
    return *h ? h : NULL;
}

/*
 * Verified-token cache, one per loop thread (no locks). An ES256 signature
 * check costs more CPU than everything else /users/me does; a client
 * presents the same token many times. A hit needs the SHA-256 of the
 * exact bytes that were fully verified before, under the same cycle of
 * config and keyring. Keyed on the cycle's generation, never on its
 * address: a reloaded cycle is freed once unused, and a new one may come
 * at the same address with other keys or issuer; exp and nbf are checked
 * again on every hit, and revocation is checked on the worker as always.
 * Direct-mapped: a collision just evicts.
 */
#define VCACHE_SLOTS 512
typedef struct vslot {
    unsigned char digest[32];
    uint64_t gen;               /* gh_cycle.gen; 0: empty */
    gh_claims claims;
} vslot;
static _Thread_local vslot vcache[VCACHE_SLOTS];

/* SHA-256 fetched once: EVP_sha256() makes every EVP_Digest look the
 * algorithm up again in OpenSSL 3, which costs as much as the hashing of a
 * token itself. */
static EVP_MD *sha256;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static vslot *vcache_slot(const char *token, unsigned char digest[32])
{
    unsigned int len = 32;
    pthread_once(&sha256_once, sha256_fetch);
    if (!sha256 || EVP_Digest(token, strlen(token), digest, &len, sha256, NULL) != 1)
        return NULL;
    uint32_t h;
    memcpy(&h, digest, sizeof h);
    return &vcache[h % VCACHE_SLOTS];
}

static int vcache_hit(const vslot *v, const unsigned char digest[32], const api_job *j, int64_t now)
{
    return v && v->gen == j->cycle->gen && memcmp(v->digest, digest, 32) == 0 &&
           v->claims.exp > now && v->claims.nbf <= now + GH_TOKEN_LEEWAY_S;
}

static void refuse_token(gh_req *req)
{
    req_set_header(req, "WWW-Authenticate", INVALID_TOKEN);
    req_problem(req, 401, "invalid_token", "The access token is invalid or expired.");
}

/*
 * A forged token (a bad signature, a foreign key, algorithm or issuer) is
 * an attack signal: an audit row, written on a worker, which then sends
 * the same 401 as any refusal. A flood of them must fill neither the
 * audit table nor the workers: at most FORGED_AUDITS_PER_MIN rows a minute
 * per process; the others are answered on the loop at once, counted in
 * /metrics, and the next row says how many went unrecorded.
 */
#define FORGED_AUDITS_PER_MIN 30
static _Atomic int64_t forged_minute;
static _Atomic int forged_audits;
static _Atomic int64_t forged_unrecorded;

static int forged_audit_allowed(void)
{
    int64_t minute = gh_now_ms() / 60000, seen = atomic_load(&forged_minute);
    if (seen != minute && atomic_compare_exchange_strong(&forged_minute, &seen, minute))
        atomic_store(&forged_audits, 0);
    if (atomic_fetch_add(&forged_audits, 1) < FORGED_AUDITS_PER_MIN)
        return 1;
    atomic_fetch_add(&forged_unrecorded, 1);
    metrics_forged_audit_dropped();
    return 0;
}

static void forged_work(api_job *j, gh_conn *c)
{
    json_int_t missed = (json_int_t)atomic_exchange(&forged_unrecorded, 0);
    api_audit(j, c, "token.forged", "denied", NULL,
              json_pack("{s:s, s:I}", "reason", (const char *)j->data, "unrecorded_before",
                        missed));
}

/* 0: the audit job answers req; -1: the caller answers. */
static int audit_forged(gh_req *req, const char *why)
{
    if (!forged_audit_allowed())
        return -1;
    api_job *a = api_job_new(req, API_ANSWERED);
    if (!a)
        return 0; /* answered (500) */
    if (!(a->data = strdup(why))) {
        api_job_free(a);
        return -1;
    }
    a->www_auth = INVALID_TOKEN;
    api_fail(a, 401, "invalid_token", "The access token is invalid or expired.");
    api_job_run(req, a, forged_work);
    return 0;
}

/* A token that may only enrol a second factor (mfa_enroll, see
 * auth/signin.c) reaches the enrolment routes and logout, nothing else. */
static int enrolment_only(gh_req *req, const api_job *j)
{
    static const char mfa[] = "/api/v1/users/me/mfa";
    const char *p = req->path;
    if (!j->claims.mfa_enroll || strcmp(p, "/api/v1/auth/logout") == 0 ||
        (strncmp(p, mfa, sizeof mfa - 1) == 0 && (p[sizeof mfa - 1] == '\0' || p[sizeof mfa - 1] == '/')))
        return 0;
    req_problem(req, 403, "mfa_enrollment_required",
                "Enrol a second factor (/api/v1/users/me/mfa) before anything else.");
    return -1;
}

/* An API key, by its shape only: the integration is the worker's to find. */
static int key_bearer(gh_req *req, api_job *j, const char *key)
{
    char prefix[INTEGRATION_PREFIX_LEN + 1];
    if (!integration_key_parse(key, prefix)) {
        gh_log_tagged(GH_LOG_DEBUG, "guard", req->request_id, "API key refused: malformed");
        metrics_token_refused(0);
        refuse_token(req);
        return -1;
    }
    memcpy(j->api_key, key, sizeof j->api_key);
    return 0;
}

int guard_bearer(gh_req *req, api_job *j)
{
    const char *token = guard_token(req), *key = req_header(req, "X-API-Key");
    if (token && strncmp(token, INTEGRATION_KEY_TAG, sizeof INTEGRATION_KEY_TAG - 1) == 0)
        return key_bearer(req, j, token);
    if (!token && key)
        return key_bearer(req, j, key);
    if (j->flags & API_KEY) {
        req_set_header(req, "WWW-Authenticate", "Bearer");
        req_problem(req, 401, "unauthorized", "This resource needs an integration's API key.");
        return -1;
    }
    if (!token) {
        req_set_header(req, "WWW-Authenticate", "Bearer");
        req_problem(req, 401, "unauthorized", "This resource needs a bearer access token.");
        return -1;
    }
    int64_t now = api_now_s();
    unsigned char digest[32];
    vslot *v = vcache_slot(token, digest);
    if (vcache_hit(v, digest, j, now)) {
        j->claims = v->claims;
        return enrolment_only(req, j);
    }
    const char *why = "refused";
    if (!j->kr || token_verify(j->kr, &j->cfg->tokens, token, now, &j->claims, &why) != 0) {
        int forged = j->kr && token_refusal_forged(why);
        gh_log_tagged(forged ? GH_LOG_NOTICE : GH_LOG_DEBUG, "guard", req->request_id,
                      "access token refused: %s", why);
        metrics_token_refused(forged);
        if (!forged || audit_forged(req, why) < 0)
            refuse_token(req);
        return -1;
    }
    if (v) {
        memcpy(v->digest, digest, sizeof v->digest);
        v->gen = j->cycle->gen;
        v->claims = j->claims;
    }
    return enrolment_only(req, j);
}

/*
 * The caller holds j->perm in the company the request acts in: its own,
 * or, for a superuser only, the one ?company= names (which guard_live
 * resolves here, so that api_tenant() is that company for the work). A
 * company another user names is refused as the permission is: 403.
 */
gh_result guard_perms(api_job *j, gh_conn *c, const authz_set **s)
{
    if (j->stamps.rbac_known)
        return authz_get_at(c, &j->call, j->claims.tenant, j->claims.sub, j->stamps.rbac, s);
    return authz_get(c, &j->call, j->claims.tenant, j->claims.sub, s);
}

static int permitted(api_job *j, gh_conn *c, const char *key_perms)
{
    const authz_set *s = NULL;
    gh_result r = key_perms ? GH_OK : guard_perms(j, c, &s);
    if (r != GH_OK) {
        api_store_fail(j, r, "permission check");
        return -1;
    }
    int super = s && authz_superuser(s);
    if (j->company_slug[0] && api_company_resolve(j, c) < 0)
        return -1;
    if (j->company.id[0] && strcmp(j->company.id, j->claims.tenant) != 0 && !super) {
        api_fail(j, 403, "forbidden", "Only a superuser acts in another company.");
        return -1;
    }
    if (super || (s ? authz_has(s, j->perm) : client_list_has(key_perms, j->perm)))
        return 0;
    char why[160];
    snprintf(why, sizeof why, "This needs the permission %s.", j->perm);
    api_fail(j, 403, "forbidden", why);
    return -1;
}

int guard_role_allowed(api_job *j, gh_conn *c, const char *role_id)
{
    const authz_set *s;
    gh_grant *g = NULL;
    gh_role ro;
    size_t n = 0;
    gh_result r = guard_perms(j, c, &s);
    int ok = 1;

    if (r == GH_OK && authz_superuser(s))
        return 1;
    if (r == GH_OK && (r = rbac_role_get(c, &j->call, api_tenant(j), role_id, &ro)) == GH_OK &&
        strcmp(ro.builtin, "superuser") == 0)
        return 0;
    if (r == GH_OK)
        r = rbac_role_effective(c, &j->call, api_tenant(j), role_id, &g, &n);
    if (r == GH_ERR_NOT_FOUND)
        return 1; /* the change itself answers 404 */
    if (r != GH_OK) {
        api_store_fail(j, r, "role check");
        return -1;
    }
    for (size_t i = 0; ok && i < n; i++)
        ok = authz_has(s, g[i].permission);
    free(g);
    return ok;
}

static void refuse_key(api_job *j)
{
    j->www_auth = INVALID_TOKEN;
    api_fail(j, 401, "invalid_token", "The API key is invalid, disabled or expired.");
}

/* An API key's half of guard_live: its integration, live, is the caller. */
static int key_live(api_job *j, gh_conn *c)
{
    char prefix[INTEGRATION_PREFIX_LEN + 1];
    gh_integration in;
    int64_t now = gh_now_ms();
    gh_result r = integration_key_parse(j->api_key, prefix)
                      ? integration_by_prefix(c, &j->call, prefix, &in) : GH_ERR_NOT_FOUND;
    if (r != GH_OK && r != GH_ERR_NOT_FOUND && j->on_loop) { /* busy, perhaps: a worker may wait */
        j->again_on_worker = 1;
        return -1;
    }
    if (r != GH_OK && r != GH_ERR_NOT_FOUND) {
        api_store_fail(j, r, "API key check");
        return -1;
    }
    if (r != GH_OK || !integration_key_accepts(&in, j->api_key, now)) {
        gh_log_tagged(GH_LOG_DEBUG, "guard", j->request_id, "API key refused: %s",
                      r != GH_OK ? "unknown prefix" : "wrong, disabled or expired");
        refuse_key(j);
        return -1;
    }
    snprintf(j->claims.sub, sizeof j->claims.sub, "%s", in.id);
    snprintf(j->claims.tenant, sizeof j->claims.tenant, "%s", in.tenant_id);
    if (now - in.last_used_at >= INTEGRATION_TOUCH_MS) {
        if (j->on_loop) { /* the loop does not write: a worker records it */
            j->again_on_worker = 1;
            return -1;
        }
        j->key_touch = 1;
    }
    if (j->flags & API_KEY)
        return 0;
    if (!j->perm) {
        api_fail(j, 403, "forbidden", "An API key opens only permission-guarded routes.");
        return -1;
    }
    return permitted(j, c, in.permissions);
}

void guard_key_touch(api_job *j, gh_conn *c)
{
    gh_call call;
    call_init(&call, NULL, j->request_id, j->cfg->request_timeout_ms);
    if (integration_touch(c, &call, j->claims.sub, gh_now_ms()) != GH_OK)
        gh_log_tagged(GH_LOG_WARNING, "guard", j->request_id,
                      "recording an API key's use failed: %s", call.message);
}

int guard_live(api_job *j, gh_conn *c)
{
    /* the caller's own credentials failed: RFC 6750 answers, on every route */
    unsigned oauth = j->flags & API_OAUTH;
    j->flags &= ~API_OAUTH;
    if (j->api_key[0]) {
        if (key_live(j, c) < 0)
            return -1;
        j->flags |= oauth;
        return 0;
    }
    /* with a kv server, the deny-list and the stamps in one round trip,
     * unless the loop's asynchronous read has just brought them */
    int denied = j->stamps_fresh ? 0
                 : store_kv_batched(c)
                     ? stamps_read(c, &j->call, &j->claims, guard_wants_rbac(j), &j->stamps)
                     : token_denied(c, &j->call, j->claims.sid, j->claims.jti);
    if (denied < 0 && j->on_loop) { /* busy, perhaps: a worker may wait */
        j->again_on_worker = 1;
        return -1;
    }
    if (denied < 0) {
        gh_log_tagged(GH_LOG_WARNING, "guard", j->request_id,
                      "revocation list unavailable: %s", j->call.message);
        j->retry_after_s = 1;
        api_fail(j, 503, "unavailable", "The server cannot check tokens right now.");
        return -1;
    }
    if (denied) {
        j->www_auth = INVALID_TOKEN;
        api_fail(j, 401, "invalid_token", "The access token has been revoked.");
        return -1;
    }
    if (j->perm && permitted(j, c, NULL) < 0)
        return -1;
    j->flags |= oauth;
    return 0;
}
