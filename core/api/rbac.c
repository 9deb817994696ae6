/*
 * rbac.c - roles and permissions over HTTP, in the caller's company:
 *   GET POST /api/v1/resources        GET PUT DELETE /api/v1/resources/{id}
 *   GET POST /api/v1/permissions      GET PUT DELETE /api/v1/permissions/{id}
 *   GET POST /api/v1/roles            GET PUT DELETE /api/v1/roles/{id}
 *   POST DELETE /api/v1/roles/{id}/permissions/{permission_id}
 *   POST DELETE /api/v1/users/{id}/roles/{role_id}
 *   GET  /api/v1/users/{id}/permissions   {items: [{permission, role, via}]}
 *   POST /api/v1/authz/check  {permission | permissions: [...], user_id?}
 *        -> {allowed} | {results: {permission: allowed}}
 * Each route needs its permission (resources:read|write, permissions:read|
 * write, roles:read|write, users:read), which the admin role holds; a check
 * is for anyone about themselves, and for users:read about any user of the
 * company. A superuser acts in another company by naming it (?company=). A row of
 * another company answers 404 like a missing one; the system's rows and
 * the built-in roles cannot change (403 read_only). Nobody grants a
 * permission they do not hold, nor gives, takes or inherits a role that
 * carries one (403 not_held). Every change is audited.
 */
#include <stdlib.h>
#include <string.h>
#include "api/api.h"
#include "api/input.h"
#include "api/job.h"
#include "api/guard.h"
#include "api/present.h"
#include "auth/authz.h"
#include "auth/rbac.h"
#include "auth/users.h"

#define CHECK_MAX 100 /* permissions one check may ask about */

/* ---------------------------------------------------------------- shapes */

static json_t *opt_str(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *present_resource(const gh_resource_type *rt)
{
    return json_pack("{s:s, s:s, s:o, s:b, s:o, s:o}", "id", rt->id, "name", rt->name,
                     "description", opt_str(rt->description), "system", !rt->tenant_id[0],
                     "created_at", present_time(rt->created_at), "updated_at",
                     present_time(rt->updated_at));
}

static json_t *present_permission(const gh_permission *p)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:o}", "id", p->id, "name", p->name,
                     "resource_type_id", p->resource_type_id, "action", p->action, "description",
                     opt_str(p->description), "system", !p->tenant_id[0], "created_at",
                     present_time(p->created_at));
}

static json_t *present_role(const gh_role *r)
{
    json_t *parents = json_array();
    for (size_t i = 0; parents && i < r->n_parents; i++)
        json_array_append_new(parents, json_string(r->parents[i]));
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "id", r->id, "name", r->name,
                     "description", opt_str(r->description), "builtin", opt_str(r->builtin),
                     "parent_ids", parents, "created_at", present_time(r->created_at),
                     "updated_at", present_time(r->updated_at));
}

/* What auth/rbac.c said, for a client: its message without the prefix,
 * or dflt. */
static const char *why(const api_job *j, const char *dflt)
{
    return strncmp(j->call.message, "rbac: ", 6) == 0 ? j->call.message + 6 : dflt;
}

/* The answer for a store call that failed on one row. */
static void rbac_fail(api_job *j, gh_result r, const char *what)
{
    switch (r) {
    case GH_ERR_NOT_FOUND: api_fail(j, 404, "not_found", "No such resource."); break;
    case GH_ERR_CONFLICT: api_fail(j, 409, "conflict", why(j, "The name is taken.")); break;
    case GH_ERR_DENIED: api_fail(j, 403, "read_only", why(j, "Built in: it cannot change.")); break;
    case GH_ERR_INVALID: api_fail(j, 422, "invalid_field", why(j, "Invalid.")); break;
    default: api_store_fail(j, r, what);
    }
}

/* A page of n rows of size `size` at v, shaped by present, answered. */
static void answer_page(api_job *j, const void *v, size_t n, size_t size,
                        json_t *(*present)(const void *))
{
    size_t limit = (size_t)json_integer_value(json_object_get(j->in, "limit"));
    size_t offset = (size_t)json_integer_value(json_object_get(j->in, "offset"));
    json_t *items = json_array();
    for (size_t i = offset; items && i < n && i < offset + limit; i++)
        json_array_append_new(items, present((const char *)v + i * size));
    api_ok_page(j, items, (int64_t)n);
}

static json_t *present_resource_v(const void *p) { return present_resource(p); }
static json_t *present_permission_v(const void *p) { return present_permission(p); }
static json_t *present_role_v(const void *p) { return present_role(p); }

/* The write ends: commit with an audit record (the row before, stolen,
 * and after: body), or roll back and answer. */
static void finish(api_job *j, gh_conn *c, gh_result r, const char *action, const char *subject,
                   json_t *before, json_t *body, int status)
{
    if (r == GH_OK) {
        api_audit(j, c, action, "success", subject,
                  json_pack("{s:o*, s:O*}", "before", before, "after", body));
        before = NULL;
        r = store_commit(c, &j->call);
    } else {
        store_rollback(c, &j->call);
    }
    json_decref(before);
    if (r == GH_OK)
        authz_changed(c, &j->call, api_tenant(j)); /* every instance checks anew */
    if (r != GH_OK) {
        json_decref(body);
        rbac_fail(j, r, action);
    } else if (status == 204) {
        json_decref(body);
        api_empty(j, 204);
    } else {
        api_ok(j, status, body);
    }
}

/* ---------------------------------------------------------------- jobs */

/* /{id}, and /{id}/.../{second} when second names a parameter. */
static api_job *id_job(gh_req *req, const char *second, unsigned flags, const char *perm)
{
    api_job *j = api_job_perm(req, flags, perm);
    if (j && (input_path_id(req, "id", j->target) < 0 ||
              (second && input_path_id(req, second, j->target2) < 0))) {
        api_job_free(j);
        return NULL;
    }
    return j;
}

static api_job *body_job(gh_req *req, const char *const *known, const char *path_id,
                         const char *perm)
{
    api_job *j = path_id ? id_job(req, NULL, 0, perm) : api_job_perm(req, 0, perm);
    if (j && (!(j->in = input_body(req, INPUT_JSON)) || input_only(req, j->in, known) < 0)) {
        api_job_free(j);
        return NULL;
    }
    return j;
}

/* ------------------------------------------------------------ resources */

static void resources_work(api_job *j, gh_conn *c)
{
    gh_resource_type *v;
    size_t n;
    gh_result r = rbac_resource_list(c, &j->call, api_tenant(j), &v, &n);
    if (r != GH_OK)
        api_store_fail(j, r, "resource list");
    else
        answer_page(j, v, n, sizeof *v, present_resource_v);
    free(v);
}

static void resources(gh_req *req)
{
    api_job *j = api_job_perm_page(req, "resources:read");
    if (j)
        api_job_run(req, j, resources_work);
}

static void resource_create_work(api_job *j, gh_conn *c)
{
    gh_resource_type rt = { 0 };
    snprintf(rt.name, sizeof rt.name, "%s", api_in(j, "name"));
    snprintf(rt.description, sizeof rt.description, "%s",
             api_in(j, "description") ? api_in(j, "description") : "");
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK)
        r = rbac_resource_create(c, &j->call, api_tenant(j), &rt);
    finish(j, c, r, "rbac.resource.create", rt.id, NULL, present_resource(&rt), 201);
}

static void resource_create(gh_req *req)
{
    static const char *const known[] = { "name", "description", NULL };
    const char *name, *desc;
    api_job *j = body_job(req, known, NULL, "resources:write");
    if (!j)
        return;
    if (input_string(req, j->in, "name", INPUT_REQUIRED, RBAC_NAME_MAX + 64, &name) < 0 ||
        input_string(req, j->in, "description", INPUT_OPTIONAL, 255, &desc) < 0) {
        api_job_free(j);
        return;
    }
    api_job_run(req, j, resource_create_work);
}

static void resource_get_work(api_job *j, gh_conn *c)
{
    gh_resource_type rt;
    gh_result r = rbac_resource_get(c, &j->call, api_tenant(j), j->target, &rt);
    if (r == GH_OK)
        api_ok(j, 200, present_resource(&rt));
    else
        rbac_fail(j, r, "resource get");
}

static void resource_get(gh_req *req)
{
    api_job *j = id_job(req, NULL, API_READ, "resources:read");
    if (j)
        api_job_run(req, j, resource_get_work);
}

/* name and description of a body into rt, over what it had */
static void resource_from(const api_job *j, gh_resource_type *rt)
{
    if (api_in(j, "name"))
        snprintf(rt->name, sizeof rt->name, "%s", api_in(j, "name"));
    if (api_in(j, "description"))
        snprintf(rt->description, sizeof rt->description, "%s", api_in(j, "description"));
}

static void resource_put_work(api_job *j, gh_conn *c)
{
    gh_resource_type rt;
    json_t *before = NULL;
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK && (r = rbac_resource_get(c, &j->call, api_tenant(j), j->target, &rt)) == GH_OK) {
        before = present_resource(&rt);
        resource_from(j, &rt);
        r = rbac_resource_update(c, &j->call, api_tenant(j), &rt);
    }
    finish(j, c, r, "rbac.resource.update", j->target, before,
           r == GH_OK ? present_resource(&rt) : NULL, 200);
}

static void resource_put(gh_req *req)
{
    static const char *const known[] = { "name", "description", NULL };
    const char *name, *desc;
    api_job *j = body_job(req, known, "id", "resources:write");
    if (!j)
        return;
    if (input_string(req, j->in, "name", INPUT_OPTIONAL, RBAC_NAME_MAX + 64, &name) < 0 ||
        input_string(req, j->in, "description", INPUT_OPTIONAL, 255, &desc) < 0) {
        api_job_free(j);
        return;
    }
    api_job_run(req, j, resource_put_work);
}

static void resource_delete_work(api_job *j, gh_conn *c)
{
    gh_resource_type rt;
    json_t *before = NULL;
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK && (r = rbac_resource_get(c, &j->call, api_tenant(j), j->target, &rt)) == GH_OK) {
        before = present_resource(&rt);
        r = rbac_resource_delete(c, &j->call, api_tenant(j), j->target);
    }
    finish(j, c, r, "rbac.resource.delete", j->target, before, NULL, 204);
}

static void resource_delete(gh_req *req)
{
    api_job *j = id_job(req, NULL, 0, "resources:write");
    if (j)
        api_job_run(req, j, resource_delete_work);
}

/* ----------------------------------------------------------- permissions */

static void permissions_work(api_job *j, gh_conn *c)
{
    gh_permission *v;
    size_t n;
    gh_result r = rbac_permission_list(c, &j->call, api_tenant(j), &v, &n);
    if (r != GH_OK)
        api_store_fail(j, r, "permission list");
    else
        answer_page(j, v, n, sizeof *v, present_permission_v);
    free(v);
}

static void permissions(gh_req *req)
{
    api_job *j = api_job_perm_page(req, "permissions:read");
    if (j)
        api_job_run(req, j, permissions_work);
}

static void permission_create_work(api_job *j, gh_conn *c)
{
    gh_permission p = { 0 };
    snprintf(p.resource_type_id, sizeof p.resource_type_id, "%s", api_in(j, "resource_type_id"));
    snprintf(p.action, sizeof p.action, "%s", api_in(j, "action"));
    snprintf(p.description, sizeof p.description, "%s",
             api_in(j, "description") ? api_in(j, "description") : "");
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK)
        r = rbac_permission_create(c, &j->call, api_tenant(j), &p);
    finish(j, c, r, "rbac.permission.create", p.id, NULL, present_permission(&p), 201);
}

static void permission_create(gh_req *req)
{
    static const char *const known[] = { "resource_type_id", "action", "description", NULL };
    const char *rt, *action, *desc;
    api_job *j = body_job(req, known, NULL, "permissions:write");
    if (!j)
        return;
    if (input_string(req, j->in, "resource_type_id", INPUT_REQUIRED, 36, &rt) < 0 ||
        input_string(req, j->in, "action", INPUT_REQUIRED, RBAC_NAME_MAX + 64, &action) < 0 ||
        input_string(req, j->in, "description", INPUT_OPTIONAL, 255, &desc) < 0) {
        api_job_free(j);
        return;
    }
    api_job_run(req, j, permission_create_work);
}

static void permission_get_work(api_job *j, gh_conn *c)
{
    gh_permission p;
    gh_result r = rbac_permission_get(c, &j->call, api_tenant(j), j->target, &p);
    if (r == GH_OK)
        api_ok(j, 200, present_permission(&p));
    else
        rbac_fail(j, r, "permission get");
}

static void permission_get(gh_req *req)
{
    api_job *j = id_job(req, NULL, API_READ, "permissions:read");
    if (j)
        api_job_run(req, j, permission_get_work);
}

static void permission_put_work(api_job *j, gh_conn *c)
{
    gh_permission p;
    json_t *before = NULL;
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK && (r = rbac_permission_get(c, &j->call, api_tenant(j), j->target, &p)) == GH_OK) {
        before = present_permission(&p);
        if (api_in(j, "action"))
            snprintf(p.action, sizeof p.action, "%s", api_in(j, "action"));
        if (api_in(j, "description"))
            snprintf(p.description, sizeof p.description, "%s", api_in(j, "description"));
        r = rbac_permission_update(c, &j->call, api_tenant(j), &p);
    }
    finish(j, c, r, "rbac.permission.update", j->target, before,
           r == GH_OK ? present_permission(&p) : NULL, 200);
}

static void permission_put(gh_req *req)
{
    static const char *const known[] = { "action", "description", NULL };
    const char *action, *desc;
    api_job *j = body_job(req, known, "id", "permissions:write");
    if (!j)
        return;
    if (input_string(req, j->in, "action", INPUT_OPTIONAL, RBAC_NAME_MAX + 64, &action) < 0 ||
        input_string(req, j->in, "description", INPUT_OPTIONAL, 255, &desc) < 0) {
        api_job_free(j);
        return;
    }
    api_job_run(req, j, permission_put_work);
}

static void permission_delete_work(api_job *j, gh_conn *c)
{
    gh_permission p;
    json_t *before = NULL;
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK && (r = rbac_permission_get(c, &j->call, api_tenant(j), j->target, &p)) == GH_OK) {
        before = present_permission(&p);
        r = rbac_permission_delete(c, &j->call, api_tenant(j), j->target);
    }
    finish(j, c, r, "rbac.permission.delete", j->target, before, NULL, 204);
}

static void permission_delete(gh_req *req)
{
    api_job *j = id_job(req, NULL, 0, "permissions:write");
    if (j)
        api_job_run(req, j, permission_delete_work);
}

/* ----------------------------------------------------------------- roles */

static void roles_work(api_job *j, gh_conn *c)
{
    gh_role *v;
    size_t n;
    gh_result r = rbac_role_list(c, &j->call, api_tenant(j), &v, &n);
    if (r != GH_OK)
        api_store_fail(j, r, "role list");
    else
        answer_page(j, v, n, sizeof *v, present_role_v);
    free(v);
}

static void roles(gh_req *req)
{
    api_job *j = api_job_perm_page(req, "roles:read");
    if (j)
        api_job_run(req, j, roles_work);
}

/* name, description and parent_ids of a role body into r (checked on
 * the loop: role_input). */
static void role_from(const api_job *j, gh_role *r)
{
    const json_t *parents = json_object_get(j->in, "parent_ids"), *v;
    size_t i;
    if (api_in(j, "name"))
        snprintf(r->name, sizeof r->name, "%s", api_in(j, "name"));
    if (api_in(j, "description"))
        snprintf(r->description, sizeof r->description, "%s", api_in(j, "description"));
    if (!parents)
        return;
    r->n_parents = 0;
    json_array_foreach(parents, i, v)
        snprintf(r->parents[r->n_parents++], sizeof r->parents[0], "%s", json_string_value(v));
}

static int role_input(gh_req *req, api_job *j, int name_required)
{
    const char *name, *desc;
    const json_t *parents = json_object_get(j->in, "parent_ids"), *v;
    size_t i;
    if (input_string(req, j->in, "name", name_required, RBAC_NAME_MAX + 64, &name) < 0 ||
        input_string(req, j->in, "description", INPUT_OPTIONAL, 255, &desc) < 0)
        return -1;
    if (parents && (!json_is_array(parents) || json_array_size(parents) > RBAC_PARENTS_MAX)) {
        input_reject(req, "invalid_field", "parent_ids", "must be a list of at most 16 role ids.");
        return -1;
    }
    json_array_foreach(parents, i, v) {
        if (!json_is_string(v) || !uuid_valid(json_string_value(v))) {
            input_reject(req, "invalid_field", "parent_ids", "must hold role ids.");
            return -1;
        }
    }
    return 0;
}

/* A role is given or taken only by who holds all it carries. 0, or -1
 * with the answer set. */
static int within_reach(api_job *j, gh_conn *c, const char *role_id)
{
    int ok = guard_role_allowed(j, c, role_id);
    if (ok == 0)
        api_fail(j, 403, "not_held", "You cannot give or take a role with permissions you do "
                 "not hold.");
    return ok == 1 ? 0 : -1;
}

/* Every parent of the body within reach: a role made a child of one
 * would carry what the caller does not hold. 0, or -1 with the answer. */
static int parents_within_reach(api_job *j, gh_conn *c)
{
    const json_t *parents = json_object_get(j->in, "parent_ids"), *v;
    size_t i;
    json_array_foreach(parents, i, v)
        if (within_reach(j, c, json_string_value(v)) < 0)
            return -1;
    return 0;
}

static void role_create_work(api_job *j, gh_conn *c)
{
    gh_role r = { 0 };
    if (parents_within_reach(j, c) < 0)
        return;
    role_from(j, &r);
    gh_result res = store_begin(c, &j->call);
    if (res == GH_OK)
        res = rbac_role_create(c, &j->call, api_tenant(j), &r);
    finish(j, c, res, "rbac.role.create", r.id, NULL, present_role(&r), 201);
}

static void role_create(gh_req *req)
{
    static const char *const known[] = { "name", "description", "parent_ids", NULL };
    api_job *j = body_job(req, known, NULL, "roles:write");
    if (!j)
        return;
    if (role_input(req, j, INPUT_REQUIRED) < 0) {
        api_job_free(j);
        return;
    }
    api_job_run(req, j, role_create_work);
}

static void role_get_work(api_job *j, gh_conn *c)
{
    gh_role r;
    gh_result res = rbac_role_get(c, &j->call, api_tenant(j), j->target, &r);
    if (res == GH_OK)
        api_ok(j, 200, present_role(&r));
    else
        rbac_fail(j, res, "role get");
}

static void role_get(gh_req *req)
{
    api_job *j = id_job(req, NULL, API_READ, "roles:read");
    if (j)
        api_job_run(req, j, role_get_work);
}

static void role_put_work(api_job *j, gh_conn *c)
{
    gh_role r;
    if (parents_within_reach(j, c) < 0)
        return;
    json_t *before = NULL;
    gh_result res = store_begin(c, &j->call);
    if (res == GH_OK && (res = rbac_role_get(c, &j->call, api_tenant(j), j->target, &r)) ==
                            GH_OK) {
        before = present_role(&r);
        role_from(j, &r);
        res = rbac_role_update(c, &j->call, api_tenant(j), &r);
    }
    finish(j, c, res, "rbac.role.update", j->target, before,
           res == GH_OK ? present_role(&r) : NULL, 200);
}

static void role_put(gh_req *req)
{
    static const char *const known[] = { "name", "description", "parent_ids", NULL };
    api_job *j = body_job(req, known, "id", "roles:write");
    if (!j)
        return;
    if (role_input(req, j, INPUT_OPTIONAL) < 0) {
        api_job_free(j);
        return;
    }
    api_job_run(req, j, role_put_work);
}

static void role_delete_work(api_job *j, gh_conn *c)
{
    gh_role ro;
    json_t *before = NULL;
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK && (r = rbac_role_get(c, &j->call, api_tenant(j), j->target, &ro)) == GH_OK) {
        before = present_role(&ro);
        r = rbac_role_delete(c, &j->call, api_tenant(j), j->target);
    }
    finish(j, c, r, "rbac.role.delete", j->target, before, NULL, 204);
}

static void role_delete(gh_req *req)
{
    api_job *j = id_job(req, NULL, 0, "roles:write");
    if (j)
        api_job_run(req, j, role_delete_work);
}

/* Nobody grants what they do not hold. */
static void grant_work(api_job *j, gh_conn *c)
{
    gh_permission p;
    const authz_set *held;
    gh_result r = rbac_permission_get(c, &j->call, api_tenant(j), j->target2, &p);
    if (r == GH_OK && (r = authz_get(c, &j->call, j->claims.tenant, j->claims.sub, &held)) ==
                          GH_OK && !authz_superuser(held) && !authz_has(held, p.name)) {
        api_fail(j, 403, "not_held", "You cannot grant a permission you do not hold.");
        return;
    }
    if (r != GH_OK) {
        rbac_fail(j, r, "grant");
        return;
    }
    if ((r = store_begin(c, &j->call)) == GH_OK)
        r = rbac_role_grant(c, &j->call, api_tenant(j), j->target, j->target2);
    finish(j, c, r, "rbac.role.grant", j->target, NULL,
           json_pack("{s:s, s:s}", "role_id", j->target, "permission", p.name), 204);
}

static void revoke_work(api_job *j, gh_conn *c)
{
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK)
        r = rbac_role_revoke(c, &j->call, api_tenant(j), j->target, j->target2);
    finish(j, c, r, "rbac.role.revoke", j->target, NULL,
           json_pack("{s:s, s:s}", "role_id", j->target, "permission_id", j->target2), 204);
}

static void role_grant(gh_req *req)
{
    api_job *j = id_job(req, "permission_id", 0, "roles:write");
    if (j)
        api_job_run(req, j, grant_work);
}

static void role_revoke(gh_req *req)
{
    api_job *j = id_job(req, "permission_id", 0, "roles:write");
    if (j)
        api_job_run(req, j, revoke_work);
}

/* ----------------------------------------------------------- users' roles */

static void assign_work(api_job *j, gh_conn *c)
{
    if (within_reach(j, c, j->target2) < 0)
        return;
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK)
        r = rbac_user_assign(c, &j->call, api_tenant(j), j->target, j->target2);
    finish(j, c, r, "rbac.user.assign", j->target, NULL, json_pack("{s:s}", "role_id", j->target2),
           204);
}

static void unassign_work(api_job *j, gh_conn *c)
{
    if (within_reach(j, c, j->target2) < 0)
        return;
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK)
        r = rbac_user_unassign(c, &j->call, api_tenant(j), j->target, j->target2);
    finish(j, c, r, "rbac.user.unassign", j->target, NULL, json_pack("{s:s}", "role_id", j->target2),
           204);
}

static void user_assign(gh_req *req)
{
    api_job *j = id_job(req, "role_id", 0, "roles:write");
    if (j)
        api_job_run(req, j, assign_work);
}

static void user_unassign(gh_req *req)
{
    api_job *j = id_job(req, "role_id", 0, "roles:write");
    if (j)
        api_job_run(req, j, unassign_work);
}

static json_t *grants_json(const gh_grant *g, size_t n)
{
    json_t *items = json_array();
    for (size_t i = 0; items && i < n; i++)
        json_array_append_new(items, json_pack("{s:s, s:{s:s, s:s}, s:s}", "permission",
                                               g[i].permission, "role", "id", g[i].role_id,
                                               "name", g[i].role_name, "via", g[i].via_role_name));
    return items;
}

static void user_permissions_work(api_job *j, gh_conn *c)
{
    gh_user u = { 0 };
    gh_grant *g = NULL;
    size_t n = 0;
    gh_result r = users_get(c, &j->call, api_tenant(j), j->target, &u);
    user_clear(&u);
    if (r == GH_OK)
        r = rbac_effective(c, &j->call, api_tenant(j), j->target, &g, &n);
    if (r == GH_OK)
        api_ok(j, 200, json_pack("{s:o}", "items", grants_json(g, n)));
    else
        rbac_fail(j, r, "effective permissions");
    free(g);
}

static void user_permissions(gh_req *req)
{
    api_job *j = id_job(req, NULL, API_READ, "users:read");
    if (j)
        api_job_run(req, j, user_permissions_work);
}

/* ----------------------------------------------------------------- check */

static void check_work(api_job *j, gh_conn *c)
{
    const char *who = api_in(j, "user_id") ? api_in(j, "user_id") : j->claims.sub;
    const json_t *list = json_object_get(j->in, "permissions"), *v;
    const authz_set *s;
    size_t i;
    gh_result r = authz_get(c, &j->call, api_tenant(j), who, &s);
    if (r != GH_OK) {
        api_store_fail(j, r, "authz check");
        return;
    }
    if (!list) {
        api_ok(j, 200, json_pack("{s:b}", "allowed", authz_has(s, api_in(j, "permission"))));
        return;
    }
    json_t *results = json_object();
    json_array_foreach(list, i, v)
        json_object_set_new(results, json_string_value(v),
                            json_boolean(authz_has(s, json_string_value(v))));
    api_ok(j, 200, json_pack("{s:o}", "results", results));
}

/* Another user's permissions are for who may read users (users:read);
 * about oneself anyone may ask. */
static void check(gh_req *req)
{
    static const char *const known[] = { "permission", "permissions", "user_id", NULL };
    api_job *j = api_job_perm(req, API_READ, "users:read");
    const char *perm, *user;
    const json_t *list, *v;
    size_t i;
    if (!j)
        return;
    if (!(j->in = input_body(req, INPUT_JSON)) || input_only(req, j->in, known) < 0 ||
        input_string(req, j->in, "permission", INPUT_OPTIONAL, RBAC_PERMISSION_MAX, &perm) < 0 ||
        input_string(req, j->in, "user_id", INPUT_OPTIONAL, 36, &user) < 0) {
        api_job_free(j);
        return;
    }
    list = json_object_get(j->in, "permissions");
    if (!perm == !list || (list && (!json_is_array(list) || json_array_size(list) == 0 ||
                                    json_array_size(list) > CHECK_MAX))) {
        input_reject(req, "invalid_field", "permission",
                     "or \"permissions\" (a list of 1 to 100) is required, and not both.");
        api_job_free(j);
        return;
    }
    json_array_foreach(list, i, v) {
        if (!json_is_string(v) || json_string_length(v) > RBAC_PERMISSION_MAX) {
            input_reject(req, "invalid_field", "permissions", "must hold permission names.");
            api_job_free(j);
            return;
        }
    }
    if (!user || strcmp(user, j->claims.sub) == 0) { /* about oneself, in one's company */
        j->perm = NULL;
        j->company_slug[0] = '\0';
    }
    api_job_run(req, j, check_work);
}

int rbac_register(gh_router *r)
{
    return router_add(r, GH_GET, "/api/v1/resources", resources) |
           router_add(r, GH_POST, "/api/v1/resources", resource_create) |
           router_add(r, GH_GET, "/api/v1/resources/{id}", resource_get) |
           router_add(r, GH_PUT, "/api/v1/resources/{id}", resource_put) |
           router_add(r, GH_DELETE, "/api/v1/resources/{id}", resource_delete) |
           router_add(r, GH_GET, "/api/v1/permissions", permissions) |
           router_add(r, GH_POST, "/api/v1/permissions", permission_create) |
           router_add(r, GH_GET, "/api/v1/permissions/{id}", permission_get) |
           router_add(r, GH_PUT, "/api/v1/permissions/{id}", permission_put) |
           router_add(r, GH_DELETE, "/api/v1/permissions/{id}", permission_delete) |
           router_add(r, GH_GET, "/api/v1/roles", roles) |
           router_add(r, GH_POST, "/api/v1/roles", role_create) |
           router_add(r, GH_GET, "/api/v1/roles/{id}", role_get) |
           router_add(r, GH_PUT, "/api/v1/roles/{id}", role_put) |
           router_add(r, GH_DELETE, "/api/v1/roles/{id}", role_delete) |
           router_add(r, GH_POST, "/api/v1/roles/{id}/permissions/{permission_id}", role_grant) |
           router_add(r, GH_DELETE, "/api/v1/roles/{id}/permissions/{permission_id}",
                      role_revoke) |
           router_add(r, GH_POST, "/api/v1/users/{id}/roles/{role_id}", user_assign) |
           router_add(r, GH_DELETE, "/api/v1/users/{id}/roles/{role_id}", user_unassign) |
           router_add(r, GH_GET, "/api/v1/users/{id}/permissions", user_permissions) |
           router_add(r, GH_POST, "/api/v1/authz/check", check);
}
