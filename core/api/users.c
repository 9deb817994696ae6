/*
 * users.c - /api/v1/users/me: the signed-in user's own account. Read it,
 * change the profile, or erase it (which asks for the password again and
 * removes the personal data; the row stays for the audit trail).
 */
#include <string.h>
#include "api/api.h"
#include "api/input.h"
#include "api/job.h"
#include "api/me_cache.h"
#include "api/profile.h"
#include "api/outcome.h"
#include "auth/sessions.h"
#include "auth/signin.h"
#include "auth/users.h"

#define PASSWORD_MAX 16384 /* bytes, as in auth.c */

/* From the cache when the row's stamps, read fresh by guard_live, are
 * those it was rendered under: no statement. On the loop (cache_only) a
 * miss moves to a worker, which reads the row and fills the cache. */
static void me_get_work(api_job *j, gh_conn *c)
{
    const char *stamp = j->stamps.row;
    size_t len;
    char *text = me_cache_get(j->claims.tenant, j->claims.sub, stamp, &len);

    if (text) {
        api_ok_text(j, 200, text, len);
        return;
    }
    if (j->cache_only) {
        j->again_on_worker = 1;
        return;
    }
    profile_answer(j, c, j->claims.tenant, j->claims.sub, 200);
    if (stamp[0] && j->status == 200 && j->out_text)
        me_cache_put(j->claims.tenant, j->claims.sub, stamp, j->out_text, j->out_len);
}

static void me_get(gh_req *req)
{
    api_job *j = api_job_new(req, API_BEARER | API_READ | API_CACHED);
    if (j)
        api_job_run(req, j, me_get_work);
}

static void me_put_work(api_job *j, gh_conn *c)
{
    if (profile_apply(j, c, j->claims.tenant, j->claims.sub) < 0)
        return;
    api_audit(j, c, "user.update", "success", j->claims.sub, NULL);
    profile_answer(j, c, j->claims.tenant, j->claims.sub, 200);
}

static void me_put(gh_req *req)
{
    api_job *j = api_job_new(req, API_BEARER);
    if (!j)
        return;
    static const char *const known[] = { PROFILE_FIELDS, NULL };
    if (!(j->in = input_body(req, INPUT_JSON)) || input_only(req, j->in, known) < 0 ||
        profile_check(req, j->in, 0) < 0) {
        api_job_free(j);
        return;
    }
    api_job_run(req, j, me_put_work);
}

/* The password is right: sessions first, so their access tokens are
 * deny-listed in kv, then the personal data; in one transaction. */
static auth_outcome erase(const gh_auth_ctx *ax, const gh_user *u, void *arg, auth_result *ar)
{
    int64_t n = 0;
    gh_result r = store_begin(ax->conn, ax->call);
    if (r == GH_OK)
        r = session_revoke_all(ax->conn, ax->call, u->id, NULL, "account erased",
                               ax->cfg->access_ttl_ms, &n);
    if (r == GH_OK)
        r = users_erase(ax->conn, ax->call, ax->tenant, u->id);
    if (r == GH_OK)
        auth_audit(ax, "user.erase", "success", u->id, NULL);
    if (r == GH_OK)
        r = store_commit(ax->conn, ax->call);
    else
        store_rollback(ax->conn, ax->call);
    return r == GH_OK ? AUTH_OK : auth_failed(ar, r, "erase");
}

static void me_delete_work(api_job *j, gh_conn *c)
{
    gh_auth_ctx ax;
    api_auth_ctx(j, c, &ax);
    auth_result r = { 0 };
    auth_outcome o = signin_recheck(&ax, j->claims.sub, api_in(j, "password"), "user.erase",
                                    erase, NULL, &r);
    if (o == AUTH_OK)
        api_ok(j, 204, NULL);
    else
        api_outcome_fail(j, o, &r);
    auth_clear(&r);
}

static void me_delete(gh_req *req)
{
    api_job *j = api_job_new(req, API_BEARER | API_HASH);
    const char *pw;
    if (!j)
        return;
    if (!(j->in = input_body(req, INPUT_JSON)) ||
        input_string(req, j->in, "password", INPUT_REQUIRED, PASSWORD_MAX, &pw) < 0) {
        api_job_free(j);
        return;
    }
    api_job_run(req, j, me_delete_work);
}

int users_register(gh_router *r)
{
    return router_add(r, GH_GET, "/api/v1/users/me", me_get) |
           router_add(r, GH_PUT, "/api/v1/users/me", me_put) |
           router_add(r, GH_DELETE, "/api/v1/users/me", me_delete);
}
