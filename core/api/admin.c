/*
 * admin.c - account administration in a company, for holders of the
 * permission each route names (users:read, users:write, sessions:read,
 * sessions:revoke, audit:read; the admin role holds them all):
 *   GET    /api/v1/users?limit=&offset=&email=    {items, total, limit, offset}
 *   GET    /api/v1/users?external_id=             the same, the one imported with it
 *   POST   /api/v1/users {email, password | invite: true, is_admin?, roles?, profile}
 *          201 user (+ invitation_sent): an account in the admin's company,
 *          with a password, or invited by mail to choose one
 *   GET    /api/v1/users/{id}                     user
 *   PUT    /api/v1/users/{id}                     profile, email, is_active, is_admin
 *   DELETE /api/v1/users/{id}                     erase: 204
 *   POST   /api/v1/users/{id}/activate|deactivate user
 *   GET    /api/v1/sessions?user_id=&limit=&offset= {items, total, limit, offset}:
 *          the company's live sessions, newest first
 *   DELETE /api/v1/sessions/{id}                  204; 404 if not the company's
 *   GET    /api/v1/audit-events?subject_id=&action=&limit=&offset=
 * Every change is audited with the admin as the actor. Taking an account's
 * activity away (deactivate, erase) also ends its sessions at once.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "api/api.h"
#include "api/guard.h"
#include "api/input.h"
#include "api/job.h"
#include "api/mailflow.h"
#include "api/outcome.h"
#include "api/present.h"
#include "api/profile.h"
#include "auth/audit.h"
#include "auth/authz.h"
#include "auth/credentials.h"
#include "auth/pii.h"
#include "auth/rbac.h"
#include "auth/sessions.h"
#include "auth/users.h"


/* Sessions of an account that was just switched off: end them now. */
static gh_result end_sessions(api_job *j, gh_conn *c, const char *why)
{
    int64_t n = 0;
    return session_revoke_all(c, &j->call, j->target, NULL, why, j->cfg->access_ttl_ms, &n);
}

/* End the transaction: commit if all went well, else roll back. Then
 * 0, or -1 with the answer set for what failed. */
static int finish(api_job *j, gh_conn *c, gh_result r, const char *what)
{
    if (r == GH_OK)
        r = store_commit(c, &j->call);
    else
        store_rollback(c, &j->call);
    if (r == GH_ERR_NOT_FOUND)
        api_fail(j, 404, "not_found", "No such user.");
    else if (r != GH_OK)
        api_store_fail(j, r, what);
    return r == GH_OK ? 0 : -1;
}

/* ---------------------------------------------------------------- list */

/* The user an import mapped an old service's id to, as a page of 0 or 1:
 * the old tables' references are resolved without knowing Gatehouse ids. */
static void list_external(api_job *j, gh_conn *c)
{
    gh_user u = { 0 };
    gh_result r = users_find_key(c, &j->call, api_tenant(j), NULL, api_in(j, "external_id"), 0,
                                 &u);
    json_t *items = r == GH_OK || r == GH_ERR_NOT_FOUND ? json_array() : NULL;
    if (items && r == GH_OK)
        json_array_append_new(items, present_user(&u));
    user_clear(&u);
    if (r != GH_OK && r != GH_ERR_NOT_FOUND)
        api_store_fail(j, r, "user lookup");
    else
        api_ok(j, 200, items ? json_pack("{s:o, s:i, s:i, s:i}", "items", items, "total",
                                         r == GH_OK, "limit",
                                         (int)json_integer_value(json_object_get(j->in, "limit")),
                                         "offset", 0)
                             : NULL);
}

static void list_work(api_job *j, gh_conn *c)
{
    if (api_in(j, "external_id")) {
        list_external(j, c);
        return;
    }
    int limit = (int)json_integer_value(json_object_get(j->in, "limit"));
    int offset = (int)json_integer_value(json_object_get(j->in, "offset"));
    gh_user *v = NULL;
    size_t n = 0;
    int64_t total = 0;
    gh_result r = users_list(c, &j->call, api_tenant(j), api_in(j, "email"), limit, offset, &v,
                             &n, &total);
    json_t *items = r == GH_OK ? json_array() : NULL;
    for (size_t i = 0; i < n; i++) {
        if (items && json_array_append_new(items, present_user(&v[i])) != 0) {
            json_decref(items);
            items = NULL;
        }
        user_clear(&v[i]);
    }
    free(v);
    if (r != GH_OK)
        api_store_fail(j, r, "user list");
    else
        api_ok_page(j, items, total);
}

static void list(gh_req *req)
{
    api_job *j = api_job_perm(req, 0, "users:read");
    const char *email, *external;
    if (!j)
        return;
    if (!(j->in = input_query(req)) || input_page(req, j->in) < 0 ||
        input_string(req, j->in, "email", INPUT_OPTIONAL, 254, &email) < 0 ||
        input_string(req, j->in, "external_id", INPUT_OPTIONAL, 255, &external) < 0) {
        api_job_free(j);
        return;
    }
    if (external && email) {
        input_reject(req, "invalid_field", "external_id", "and 'email' cannot be combined.");
        api_job_free(j);
        return;
    }
    /* encrypted addresses are found by their blind index: whole ones only */
    char norm[256];
    if (pii_current() && email && *email && email_normalize(email, norm, sizeof norm) != 0) {
        input_reject(req, "email_filter_exact", "email",
                     "must be a whole address: with encryption at rest, addresses cannot "
                     "be searched by a part.");
        api_job_free(j);
        return;
    }
    api_job_run(req, j, list_work);
}

/* ---------------------------------------------------------------- create */

/* Which of email and username another account of the company has. */
static void create_taken(api_job *j, gh_conn *c, const char *email)
{
    gh_user u = { 0 };
    gh_result r = users_find_login(c, &j->call, api_tenant(j), email, &u, NULL);
    user_clear(&u);
    if (r == GH_OK)
        api_fail(j, 409, "email_taken", "An account with this email address exists.");
    else
        api_fail(j, 409, "username_taken", "This username is taken.");
}

#define CREATE_ROLES_MAX 16

/* The ids of the new user's "roles" (each a role's id or name) into ids,
 * with the admin role for is_admin: each one the caller may hand out
 * (guard_role_allowed). 0, or -1 with the answer set. */
static int create_roles(api_job *j, gh_conn *c, char (*ids)[37], size_t *n)
{
    const json_t *want = json_object_get(j->in, "roles"), *v;
    gh_role *all = NULL;
    size_t na = 0, i, k;
    gh_result r = rbac_role_list(c, &j->call, api_tenant(j), &all, &na);

    *n = 0;
    if (r != GH_OK) {
        api_store_fail(j, r, "role list");
        return -1;
    }
    if (json_is_true(json_object_get(j->in, "is_admin")))
        snprintf(ids[(*n)++], 37, "%s", RBAC_ROLE_ADMIN);
    json_array_foreach(want, i, v) {
        const char *name = json_string_value(v);
        for (k = 0; k < na && strcmp(all[k].id, name) != 0 && strcmp(all[k].name, name) != 0; k++)
            ;
        if (k == na) {
            free(all);
            api_fail(j, 422, "unknown_role", "A role in \"roles\" does not exist.");
            return -1;
        }
        snprintf(ids[(*n)++], 37, "%s", all[k].id);
    }
    free(all);
    for (i = 0; i < *n; i++) {
        int ok = guard_role_allowed(j, c, ids[i]);
        if (ok == 0)
            api_fail(j, 403, "not_held", "You cannot give a role with permissions you do not "
                     "hold.");
        if (ok <= 0)
            return -1;
    }
    return 0;
}

/* The account with its password (the policy and the company's floor
 * apply), or without one and an invitation to choose it; with its roles. */
static void create_work(api_job *j, gh_conn *c)
{
    char roles[CREATE_ROLES_MAX + 1][37];
    size_t n_roles;
    if (create_roles(j, c, roles, &n_roles) < 0)
        return;
    const char *pw = api_in(j, "password");
    int invite = json_is_true(json_object_get(j->in, "invite"));
    char hash[GH_PW_HASH_MAX] = "";
    gh_auth_ctx ax;
    api_auth_ctx(j, c, &ax);
    auth_result ar = { 0 };
    auth_outcome o = pw ? credentials_new(&ax, pw, api_in(j, "email"), api_in(j, "username"),
                                          hash, &ar)
                        : AUTH_OK;
    if (o != AUTH_OK) {
        api_outcome_fail(j, o, &ar);
        auth_clear(&ar);
        return;
    }
    gh_user u = { .is_active = 1,
                  .is_admin = json_is_true(json_object_get(j->in, "is_admin")) };
    snprintf(u.tenant_id, sizeof u.tenant_id, "%.36s", api_tenant(j));
    const char *username = api_in(j, "username");
    u.email = strdup(api_in(j, "email"));
    u.username = username && *username ? strdup(username) : NULL;
    gh_result r = !u.email || profile_fill(j, &u) < 0 ? GH_ERR_NOMEM : store_begin(c, &j->call);
    if (r == GH_OK)
        r = users_create(c, &j->call, &u, pw ? hash : NULL);
    for (size_t i = 0; r == GH_OK && i < n_roles; i++)
        r = rbac_user_assign(c, &j->call, api_tenant(j), u.id, roles[i]);
    int invited = 0; /* the invitation commits with the account, or neither does */
    if (r == GH_OK && invite)
        r = mailflow_invite(j, c, &u, &invited);
    if (r == GH_OK)
        api_audit(j, c, "admin.user.create", "success", u.id,
                  json_pack("{s:b, s:b, s:O*}", "invite", invite, "admin", u.is_admin, "roles",
                            json_object_get(j->in, "roles")));
    OPENSSL_cleanse(hash, sizeof hash);
    if (r == GH_OK)
        r = store_commit(c, &j->call);
    else
        store_rollback(c, &j->call);
    if (r == GH_ERR_CONFLICT) {
        create_taken(j, c, u.email);
    } else if (r == GH_ERR_DENIED) {
        api_fail(j, 422, "invalid_role", "The superuser role is for the root company only.");
    } else if (r != GH_OK) {
        api_store_fail(j, r, "user create");
    } else {
        if (n_roles)
            authz_changed(c, &j->call, api_tenant(j));
        json_t *body = present_user(&u);
        if (invite && body)
            json_object_set_new(body, "invitation_sent", json_boolean(invited == 1));
        api_ok(j, 201, body);
    }
    auth_clear(&ar);
    user_clear(&u);
}

/* "roles": absent, or a list of up to CREATE_ROLES_MAX role ids or names.
 * 0, or -1 with the 422 sent. */
static int roles_input(gh_req *req, const json_t *in)
{
    const json_t *roles = json_object_get(in, "roles"), *v;
    size_t i;
    if (!roles || json_is_null(roles))
        return 0;
    if (!json_is_array(roles) || json_array_size(roles) > CREATE_ROLES_MAX) {
        input_reject(req, "invalid_field", "roles", "must be a list of at most 16 roles.");
        return -1;
    }
    json_array_foreach(roles, i, v) {
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            json_string_length(v) > RBAC_NAME_MAX) {
            input_reject(req, "invalid_field", "roles", "must hold role ids or names.");
            return -1;
        }
    }
    return 0;
}

static void create(gh_req *req)
{
    static const char *const known[] = { "email", "password", "invite", "is_admin", "roles",
                                         PROFILE_FIELDS, NULL };
    api_job *j = api_job_perm(req, API_HASH, "users:write");
    const char *email, *pw;
    int invite, admin;
    if (!j)
        return;
    if (!(j->in = input_body(req, INPUT_JSON)) || input_only(req, j->in, known) < 0 ||
        input_string(req, j->in, "email", INPUT_REQUIRED, 320, &email) < 0 ||
        input_string(req, j->in, "password", INPUT_OPTIONAL, 16384, &pw) < 0 ||
        input_bool(req, j->in, "invite", &invite) < 0 ||
        input_bool(req, j->in, "is_admin", &admin) < 0 ||
        profile_check(req, j->in, 1) < 0 || roles_input(req, j->in) < 0) {
        api_job_free(j);
        return;
    }
    if (!pw == (invite != 1)) {
        input_reject(req, "invalid_field", "password",
                     "or \"invite\": true is required, and not both: the user chooses the "
                     "password from the invitation.");
        api_job_free(j);
        return;
    }
    if (invite == 1 && mailflow_ready(req) < 0) {
        api_job_free(j);
        return;
    }
    api_job_run(req, j, create_work);
}

/* ---------------------------------------------------------------- one user */

/* A job for /users/{id} needing perm, the id checked (404 otherwise). */
static api_job *user_job(gh_req *req, const char *perm)
{
    api_job *j = api_job_perm(req, 0, perm);
    if (j && input_path_id(req, "id", j->target) < 0) {
        api_job_free(j);
        return NULL;
    }
    return j;
}

static void get_work(api_job *j, gh_conn *c)
{
    profile_answer(j, c, api_tenant(j), j->target, 200);
}

static void get(gh_req *req)
{
    api_job *j = user_job(req, "users:read");
    if (j)
        api_job_run(req, j, get_work);
}

/* Which known fields the admin sent, for the audit row (never values). */
static json_t *changed_fields(const json_t *in)
{
    static const char *const known[] = { "email",       "username",     "full_name",
                                         "given_name",  "family_name",  "phone",
                                         "country_code", "is_active",   "is_admin" };
    json_t *a = json_array();
    for (size_t i = 0; a && i < sizeof known / sizeof known[0]; i++)
        if (json_object_get(in, known[i]))
            json_array_append_new(a, json_string(known[i]));
    return json_pack("{s:o*}", "fields", a);
}

static int put_store(api_job *j, gh_conn *c, int active, int admin)
{
    int allowed = admin < 0 ? 1 : guard_role_allowed(j, c, RBAC_ROLE_ADMIN);
    if (allowed <= 0) {
        if (allowed == 0)
            api_fail(j, 403, "not_held", "Only an admin makes or unmakes an admin.");
        return -1;
    }
    gh_result r = store_begin(c, &j->call);
    if (r != GH_OK) {
        api_store_fail(j, r, "user update");
        return -1;
    }
    if (profile_apply(j, c, api_tenant(j), j->target) < 0) {
        store_rollback(c, &j->call); /* the answer is set */
        return -1;
    }
    if (active >= 0 || admin >= 0)
        r = users_set_flags(c, &j->call, api_tenant(j), j->target, active, admin);
    if (r == GH_OK && active == 0)
        r = end_sessions(j, c, "deactivated by admin");
    if (r == GH_OK)
        api_audit(j, c, "admin.user.update", "success", j->target, changed_fields(j->in));
    if (finish(j, c, r, "user update") < 0)
        return -1;
    if (active >= 0 || admin >= 0)
        authz_changed(c, &j->call, api_tenant(j));
    return 0;
}

static void put_work(api_job *j, gh_conn *c)
{
    json_t *a = json_object_get(j->in, "is_active"), *ad = json_object_get(j->in, "is_admin");
    int active = json_is_boolean(a) ? json_is_true(a) : -1;
    int admin = json_is_boolean(ad) ? json_is_true(ad) : -1;
    if (put_store(j, c, active, admin) == 0)
        profile_answer(j, c, api_tenant(j), j->target, 200);
}

static void put(gh_req *req)
{
    api_job *j = user_job(req, "users:write");
    int active, admin;
    if (!j)
        return;
    static const char *const known[] = { "email", "is_active", "is_admin", PROFILE_FIELDS, NULL };
    if (!(j->in = input_body(req, INPUT_JSON)) || input_only(req, j->in, known) < 0 ||
        profile_check(req, j->in, 1) < 0 ||
        input_bool(req, j->in, "is_active", &active) < 0 ||
        input_bool(req, j->in, "is_admin", &admin) < 0) {
        api_job_free(j);
        return;
    }
    api_job_run(req, j, put_work);
}

static void delete_work(api_job *j, gh_conn *c)
{
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK)
        r = end_sessions(j, c, "erased by admin");
    if (r == GH_OK)
        r = users_erase(c, &j->call, api_tenant(j), j->target);
    if (r == GH_OK)
        api_audit(j, c, "admin.user.erase", "success", j->target, NULL);
    if (finish(j, c, r, "user erase") == 0) {
        authz_changed(c, &j->call, api_tenant(j));
        api_ok(j, 204, NULL);
    }
}

static void delete(gh_req *req)
{
    api_job *j = user_job(req, "users:write");
    if (j)
        api_job_run(req, j, delete_work);
}

/* ---------------------------------------------------------------- activate */

static void set_active_work(api_job *j, gh_conn *c, int active)
{
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK)
        r = users_set_flags(c, &j->call, api_tenant(j), j->target, active, -1);
    if (r == GH_OK && !active)
        r = end_sessions(j, c, "deactivated by admin");
    if (r == GH_OK)
        api_audit(j, c, active ? "admin.user.activate" : "admin.user.deactivate", "success",
                  j->target, NULL);
    if (finish(j, c, r, "user activation") == 0) {
        authz_changed(c, &j->call, api_tenant(j));
        profile_answer(j, c, api_tenant(j), j->target, 200);
    }
}

static void activate_work(api_job *j, gh_conn *c)
{
    set_active_work(j, c, 1);
}

static void deactivate_work(api_job *j, gh_conn *c)
{
    set_active_work(j, c, 0);
}

static void activate(gh_req *req)
{
    api_job *j = user_job(req, "users:write");
    if (j)
        api_job_run(req, j, activate_work);
}

static void deactivate(gh_req *req)
{
    api_job *j = user_job(req, "users:write");
    if (j)
        api_job_run(req, j, deactivate_work);
}

/* ---------------------------------------------------------------- sessions */

static void sessions_work(api_job *j, gh_conn *c)
{
    int limit = (int)json_integer_value(json_object_get(j->in, "limit"));
    int offset = (int)json_integer_value(json_object_get(j->in, "offset"));
    gh_session *v = NULL;
    size_t n = 0;
    int64_t total = 0;
    gh_result r = session_list_tenant(c, &j->call, api_tenant(j), api_in(j, "user_id"), limit,
                                      offset, &v, &n, &total);
    json_t *items = r == GH_OK ? json_array() : NULL;
    for (size_t i = 0; items && i < n; i++) {
        json_t *s = present_session(&v[i], j->claims.sid);
        json_object_set_new(s, "user_id", json_string(v[i].user_id));
        json_array_append_new(items, s);
    }
    free(v);
    if (r != GH_OK)
        api_store_fail(j, r, "session list");
    else
        api_ok_page(j, items, total);
}

static void sessions(gh_req *req)
{
    api_job *j = api_job_perm(req, API_READ, "sessions:read");
    const char *user_id;
    if (!j)
        return;
    if (!(j->in = input_query(req)) || input_page(req, j->in) < 0 ||
        input_string(req, j->in, "user_id", INPUT_OPTIONAL, 36, &user_id) < 0) {
        api_job_free(j);
        return;
    }
    api_job_run(req, j, sessions_work);
}

/* A session of another company is as unknown as one that never was. */
static void session_delete_work(api_job *j, gh_conn *c)
{
    gh_session s;
    gh_result r = session_get(c, &j->call, j->target, &s);
    if (r == GH_OK && strcmp(s.tenant_id, api_tenant(j)) != 0)
        r = GH_ERR_NOT_FOUND;
    if (r == GH_OK)
        r = session_revoke(c, &j->call, NULL, j->target, "revoked by admin", j->cfg->access_ttl_ms);
    if (r == GH_OK) {
        api_audit(j, c, "admin.session.revoke", "success", s.user_id,
                  json_pack("{s:s}", "session_id", j->target));
        api_empty(j, 204);
    } else if (r == GH_ERR_NOT_FOUND) {
        api_fail(j, 404, "not_found", "No such live session.");
    } else {
        api_store_fail(j, r, "session revoke");
    }
}

static void session_delete(gh_req *req)
{
    api_job *j = api_job_perm(req, 0, "sessions:revoke");
    if (j && input_path_id(req, "id", j->target) < 0) {
        api_job_free(j);
        return;
    }
    if (j)
        api_job_run(req, j, session_delete_work);
}

/* ---------------------------------------------------------------- audit */

static void audit_work(api_job *j, gh_conn *c)
{
    gh_audit_filter f = {
        .tenant_id = api_tenant(j),
        .subject_id = api_in(j, "subject_id"),
        .action_prefix = api_in(j, "action"),
        .limit = (int)json_integer_value(json_object_get(j->in, "limit")),
        .offset = (int)json_integer_value(json_object_get(j->in, "offset")),
    };
    json_t *items = NULL;
    int64_t total = 0;
    gh_result r = audit_query(c, &j->call, &f, &items, &total);
    if (r != GH_OK)
        api_store_fail(j, r, "audit query");
    else
        api_ok_page(j, items, total);
}

static void audit(gh_req *req)
{
    api_job *j = api_job_perm(req, API_READ, "audit:read");
    const char *subject, *action;
    if (!j)
        return;
    if (!(j->in = input_query(req)) || input_page(req, j->in) < 0 ||
        input_string(req, j->in, "subject_id", INPUT_OPTIONAL, 64, &subject) < 0 ||
        input_string(req, j->in, "action", INPUT_OPTIONAL, 64, &action) < 0) {
        api_job_free(j);
        return;
    }
    api_job_run(req, j, audit_work);
}

int admin_register(gh_router *r)
{
    return router_add(r, GH_GET, "/api/v1/users", list) |
           router_add(r, GH_POST, "/api/v1/users", create) |
           router_add(r, GH_GET, "/api/v1/users/{id}", get) |
           router_add(r, GH_PUT, "/api/v1/users/{id}", put) |
           router_add(r, GH_DELETE, "/api/v1/users/{id}", delete) |
           router_add(r, GH_POST, "/api/v1/users/{id}/activate", activate) |
           router_add(r, GH_POST, "/api/v1/users/{id}/deactivate", deactivate) |
           router_add(r, GH_GET, "/api/v1/sessions", sessions) |
           router_add(r, GH_DELETE, "/api/v1/sessions/{id}", session_delete) |
           router_add(r, GH_GET, "/api/v1/audit-events", audit);
}
