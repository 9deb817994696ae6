/*
 * sessions.c - the signed-in user's devices and sign-in history:
 *   GET    /api/v1/users/me/sessions           {items: [session]}
 *   DELETE /api/v1/users/me/sessions/{id}      204; 404 if not one of yours
 *   DELETE /api/v1/users/me/sessions           every other one: {revoked: n}
 *   GET    /api/v1/users/me/login-history      {items: [audit event login.*], total, limit, offset}
 * A revoked session's access tokens stop at once (deny-listed in kv).
 */
#include <stdlib.h>
#include "api/api.h"
#include "api/input.h"
#include "api/job.h"
#include "api/present.h"
#include "auth/audit.h"
#include "auth/sessions.h"


static void list_work(api_job *j, gh_conn *c)
{
    gh_session *v = NULL;
    size_t n = 0;
    gh_result r = session_list(c, &j->call, j->claims.sub, &v, &n);
    json_t *items = r == GH_OK ? json_array() : NULL;
    for (size_t i = 0; items && i < n; i++)
        if (json_array_append_new(items, present_session(&v[i], j->claims.sid)) != 0) {
            json_decref(items);
            items = NULL;
        }
    free(v);
    if (r != GH_OK)
        api_store_fail(j, r, "session list");
    else
        api_ok(j, 200, items ? json_pack("{s:o}", "items", items) : NULL);
}

static void list(gh_req *req)
{
    api_job *j = api_job_new(req, API_BEARER | API_READ);
    if (j)
        api_job_run(req, j, list_work);
}

static void revoke_one_work(api_job *j, gh_conn *c)
{
    gh_result r = session_revoke(c, &j->call, j->claims.sub, j->target, "revoked by user",
                                 j->cfg->access_ttl_ms);
    if (r == GH_ERR_NOT_FOUND) {
        api_fail(j, 404, "not_found", "No such session.");
    } else if (r != GH_OK) {
        api_store_fail(j, r, "session revoke");
    } else {
        api_audit(j, c, "session.revoke", "success", j->claims.sub,
                  json_pack("{s:s}", "session_id", j->target));
        api_ok(j, 204, NULL);
    }
}

static void revoke_one(gh_req *req)
{
    api_job *j = api_job_new(req, API_BEARER);
    if (!j)
        return;
    if (input_path_id(req, "id", j->target) < 0) {
        api_job_free(j);
        return;
    }
    api_job_run(req, j, revoke_one_work);
}

static void revoke_others_work(api_job *j, gh_conn *c)
{
    int64_t n = 0;
    gh_result r = session_revoke_all(c, &j->call, j->claims.sub, j->claims.sid,
                                     "revoked by user", j->cfg->access_ttl_ms, &n);
    if (r != GH_OK) {
        api_store_fail(j, r, "session revoke");
        return;
    }
    api_audit(j, c, "session.revoke", "success", j->claims.sub,
              json_pack("{s:s, s:I}", "except", j->claims.sid, "revoked", (json_int_t)n));
    api_ok(j, 200, json_pack("{s:I}", "revoked", (json_int_t)n));
}

static void revoke_others(gh_req *req)
{
    api_job *j = api_job_new(req, API_BEARER);
    if (j)
        api_job_run(req, j, revoke_others_work);
}

static void history_work(api_job *j, gh_conn *c)
{
    json_t *items = NULL;
    int64_t total = 0;
    gh_audit_filter f = { .tenant_id = j->claims.tenant, .subject_id = j->claims.sub,
                          .action_prefix = "login.",
                          .limit = (int)json_integer_value(json_object_get(j->in, "limit")),
                          .offset = (int)json_integer_value(json_object_get(j->in, "offset")) };
    gh_result r = audit_query(c, &j->call, &f, &items, &total);
    if (r != GH_OK)
        api_store_fail(j, r, "login history");
    else
        api_ok_page(j, items, total);
}

static void history(gh_req *req)
{
    api_job *j = api_job_new(req, API_BEARER | API_READ);
    if (!j)
        return;
    if (!(j->in = input_query(req)) || input_page(req, j->in) < 0) {
        api_job_free(j);
        return;
    }
    api_job_run(req, j, history_work);
}

int sessions_register(gh_router *r)
{
    return router_add(r, GH_GET, "/api/v1/users/me/sessions", list) |
           router_add(r, GH_DELETE, "/api/v1/users/me/sessions", revoke_others) |
           router_add(r, GH_DELETE, "/api/v1/users/me/sessions/{id}", revoke_one) |
           router_add(r, GH_GET, "/api/v1/users/me/login-history", history);
}
