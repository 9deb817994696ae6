/*
 * users.c - /api/v1/users/me: the signed-in user's own account. Read it,
 * change the profile, or erase it (which asks for the password again and
 * removes the personal data; the row stays for the audit trail).
 */
#include <string.h>
#include "api/api.h"
#include "api/input.h"
#include "api/job.h"
#include "api/profile.h"
#include "api/signin.h"
#include "auth/sessions.h"
#include "auth/users.h"

#define PASSWORD_MAX 16384 /* bytes, as in auth.c */

static void me_get_work(gh_req *req)
{
    api_job *j = req->job_data;
    gh_conn *c = api_conn(j);
    if (c)
        profile_answer(j, c, j->claims.tenant, j->claims.sub, 200);
}

static void me_get(gh_req *req)
{
    api_job *j = api_job_new(req, API_BEARER | API_READ);
    if (j)
        api_job_run(req, j, me_get_work);
}

static void me_put_work(gh_req *req)
{
    api_job *j = req->job_data;
    gh_conn *c = api_conn(j);
    if (!c || profile_apply(j, c, j->claims.tenant, j->claims.sub) < 0)
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

/* Sessions first, so their access tokens are deny-listed in kv, then the
 * personal data; in one transaction. */
static void erase(api_job *j, gh_conn *c)
{
    int64_t n = 0;
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK)
        r = session_revoke_all(c, &j->call, j->claims.sub, NULL, "account erased",
                               j->cfg->access_ttl_ms, &n);
    if (r == GH_OK)
        r = users_erase(c, &j->call, j->claims.tenant, j->claims.sub);
    if (r == GH_OK)
        api_audit(j, c, "user.erase", "success", j->claims.sub, NULL);
    if (r == GH_OK)
        r = store_commit(c, &j->call);
    else
        store_rollback(c, &j->call);
    if (r == GH_OK)
        api_ok(j, 204, NULL);
    else
        api_store_fail(j, r, "erase");
}

static void me_delete_work(gh_req *req)
{
    api_job *j = req->job_data;
    gh_conn *c = api_conn(j);
    if (!c)
        return;
    gh_user u = { 0 };
    signin_result sr = { 0 };
    gh_result r = users_get(c, &j->call, j->claims.tenant, j->claims.sub, &u);
    if (r == GH_ERR_NOT_FOUND) {
        api_fail(j, 404, "not_found", "The account no longer exists.");
    } else if (r != GH_OK) {
        api_store_fail(j, r, "user lookup");
    } else {
        signin_outcome o = signin_recheck(j, c, &u, api_in(j, "password"), &sr);
        if (o == SIGNIN_OK)
            erase(j, c);
        else if (o == SIGNIN_BAD)
            api_audit(j, c, "user.erase", "failure", u.id,
                      json_pack("{s:s}", "reason", "invalid_credentials"));
        signin_problem(j, o, &sr);
    }
    signin_clear(&sr);
    user_clear(&u);
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
