/*
 * companies.c - companies, for users of the root company who hold
 * companies:read or companies:write (the superuser and admin roles do):
 *   GET    /api/v1/companies?limit=&offset=       {items, total, limit, offset}
 *   POST   /api/v1/companies {slug, name, settings?}   201 company
 *   GET    /api/v1/companies/{id}                 company
 *   PUT    /api/v1/companies/{id} {name?, settings?}  company
 *   DELETE /api/v1/companies/{id}                 204: deactivated at once (no
 *          sign-in, every session ended), its data erased after
 *          companies.erasure_delay; the root company: 409 root_company
 * settings: {signup_allowed, mfa_required, password_min_length}, each
 * optional (absent: unchanged on PUT, the default on POST). Every change
 * is audited in the company it changes, with the values before and after.
 */
#include <stdlib.h>
#include <string.h>
#include "api/api.h"
#include "api/input.h"
#include "api/job.h"
#include "api/present.h"
#include "auth/companies.h"
#include "auth/users.h"
#include "clock.h"

/* A job for a user of the root company who holds perm (checked in the
 * worker). Another company's user is told 403 at once: companies:read is
 * a system permission every company sees, but it reaches other companies
 * only from the root. */
static api_job *super_job(gh_req *req, const char *perm)
{
    api_job *j = api_job_perm(req, 0, perm);
    if (j && strcmp(j->claims.tenant, GH_ROOT_TENANT) != 0) {
        req_problem(req, 403, "forbidden", "This resource is for the root company's admins.");
        api_job_free(j);
        return NULL;
    }
    return j;
}

/* The optional "settings" object of a body: known members of the right
 * type only, password_min_length put back as an integer. 0, or -1 with
 * the 422 sent. */
static int settings_input(gh_req *req, json_t *in)
{
    static const char *const known[] = { "signup_allowed", "mfa_required",
                                         "password_min_length", NULL };
    json_t *o = json_object_get(in, "settings");
    int64_t min_len;
    int b;

    if (!o || json_is_null(o))
        return 0;
    if (!json_is_object(o)) {
        input_reject(req, "invalid_field", "settings", "must be an object.");
        return -1;
    }
    if (input_only(req, o, known) < 0 || input_bool(req, o, "signup_allowed", &b) < 0 ||
        input_bool(req, o, "mfa_required", &b) < 0 ||
        input_int(req, o, "password_min_length", -1, 0, 128, &min_len) < 0)
        return -1;
    if (min_len >= 0)
        json_object_set_new(o, "password_min_length", json_integer(min_len));
    return 0;
}

/* The checked "settings" of in, over *s: what it does not name stays. */
static void settings_apply(const json_t *in, gh_company_settings *s)
{
    const json_t *o = json_object_get(in, "settings"), *v;

    if ((v = json_object_get(o, "signup_allowed")) && json_is_boolean(v))
        s->signup_allowed = json_is_true(v);
    if ((v = json_object_get(o, "mfa_required")) && json_is_boolean(v))
        s->mfa_required = json_is_true(v);
    if ((v = json_object_get(o, "password_min_length")) && json_is_integer(v))
        s->pw_min_length = json_integer_value(v);
}

/* The answer for a failed store call about one company. */
static void company_fail(api_job *j, gh_result r, const char *what)
{
    if (r == GH_ERR_NOT_FOUND)
        api_fail(j, 404, "not_found", "No such company.");
    else if (r == GH_ERR_CONFLICT)
        api_fail(j, 409, "slug_taken", "A company with this slug exists.");
    else
        api_store_fail(j, r, what);
}

/* Commit with an audit record of before and after (either may be NULL). */
static void commit_audited(api_job *j, gh_conn *c, const char *action, const gh_company *before,
                           const gh_company *after, int status)
{
    json_t *d = json_pack("{s:o*, s:o*}", "before", before ? present_company(before) : NULL,
                          "after", after ? present_company(after) : NULL);
    gh_auth_ctx ax;
    api_auth_ctx(j, c, &ax);
    ax.tenant = after ? after->id : before->id; /* in the company it changes */
    auth_audit(&ax, action, "success", ax.tenant, d); /* takes d */
    gh_result r = store_commit(c, &j->call);
    if (r != GH_OK)
        api_store_fail(j, r, action);
    else if (status == 204)
        api_empty(j, 204);
    else
        api_ok(j, status, present_company(after));
}

/* ---------------------------------------------------------------- list */

static void list_work(api_job *j, gh_conn *c)
{
    int limit = (int)json_integer_value(json_object_get(j->in, "limit"));
    int offset = (int)json_integer_value(json_object_get(j->in, "offset"));
    gh_company *v = NULL;
    size_t n = 0;
    int64_t total = 0;
    gh_result r = companies_list(c, &j->call, limit, offset, &v, &n, &total);
    json_t *items = r == GH_OK ? json_array() : NULL;
    for (size_t i = 0; items && i < n; i++)
        json_array_append_new(items, present_company(&v[i]));
    free(v);
    if (r != GH_OK)
        api_store_fail(j, r, "company list");
    else
        api_ok_page(j, items, total);
}

static void list(gh_req *req)
{
    api_job *j = super_job(req, "companies:read");
    if (!j)
        return;
    if (!(j->in = input_query(req)) || input_page(req, j->in) < 0) {
        api_job_free(j);
        return;
    }
    api_job_run(req, j, list_work);
}

/* ---------------------------------------------------------------- create */

static void create_work(api_job *j, gh_conn *c)
{
    gh_company *co = j->data;
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK && (r = companies_create(c, &j->call, co)) == GH_OK) {
        commit_audited(j, c, "company.create", NULL, co, 201);
        return;
    }
    store_rollback(c, &j->call);
    company_fail(j, r, "company create");
}

static void create(gh_req *req)
{
    static const char *const known[] = { "slug", "name", "settings", NULL };
    api_job *j = super_job(req, "companies:write");
    const char *slug, *name;
    gh_company *co;
    if (!j)
        return;
    if (!(j->data = co = calloc(1, sizeof *co))) {
        req_problem(req, 500, "internal_error", NULL);
        api_job_free(j);
        return;
    }
    co->settings = company_settings_default();
    if (!(j->in = input_body(req, INPUT_JSON)) || input_only(req, j->in, known) < 0 ||
        input_string(req, j->in, "slug", INPUT_REQUIRED, COMPANY_SLUG_MAX + 64, &slug) < 0 ||
        input_string(req, j->in, "name", INPUT_REQUIRED, COMPANY_NAME_MAX, &name) < 0 ||
        settings_input(req, j->in) < 0) {
        api_job_free(j);
        return;
    }
    if (!company_slug_valid(slug)) {
        input_reject(req, "invalid_field", "slug",
                     "is 1 to 63 of a-z, 0-9 and '-', not starting or ending with '-'.");
        api_job_free(j);
        return;
    }
    strcpy(co->slug, slug);
    strcpy(co->name, name);
    settings_apply(j->in, &co->settings);
    api_job_run(req, j, create_work);
}

/* ---------------------------------------------------------------- one */

static api_job *one_job(gh_req *req, const char *perm)
{
    api_job *j = super_job(req, perm);
    if (j && input_path_id(req, "id", j->target) < 0) {
        api_job_free(j);
        return NULL;
    }
    return j;
}

static void get_work(api_job *j, gh_conn *c)
{
    gh_company co;
    gh_result r = companies_get(c, &j->call, j->target, &co);
    if (r == GH_OK)
        api_ok(j, 200, present_company(&co));
    else
        company_fail(j, r, "company get");
}

static void get(gh_req *req)
{
    api_job *j = one_job(req, "companies:read");
    if (j)
        api_job_run(req, j, get_work);
}

static void put_work(api_job *j, gh_conn *c)
{
    gh_company before, after;
    const char *name = api_in(j, "name");
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK)
        r = companies_get(c, &j->call, j->target, &before);
    if (r == GH_OK) {
        after = before;
        if (name)
            strcpy(after.name, name);
        settings_apply(j->in, &after.settings);
        after.updated_at = gh_now_ms();
        r = companies_update(c, &j->call, &after);
    }
    if (r == GH_OK) {
        commit_audited(j, c, "company.update", &before, &after, 200);
        return;
    }
    store_rollback(c, &j->call);
    company_fail(j, r, "company update");
}

static void put(gh_req *req)
{
    static const char *const known[] = { "name", "settings", NULL };
    api_job *j = one_job(req, "companies:write");
    const char *name;
    if (!j)
        return;
    if (!(j->in = input_body(req, INPUT_JSON)) || input_only(req, j->in, known) < 0 ||
        input_string(req, j->in, "name", INPUT_OPTIONAL, COMPANY_NAME_MAX, &name) < 0 ||
        settings_input(req, j->in) < 0) {
        api_job_free(j);
        return;
    }
    api_job_run(req, j, put_work);
}

static void delete_work(api_job *j, gh_conn *c)
{
    gh_company before, after;
    int64_t revoked = 0;
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK)
        r = companies_get(c, &j->call, j->target, &before);
    if (r == GH_OK && before.is_root) {
        store_rollback(c, &j->call);
        api_fail(j, 409, "root_company", "The root company cannot be deleted.");
        return;
    }
    if (r == GH_OK)
        r = companies_deactivate(c, &j->call, j->target,
                                 gh_now_ms() + j->cfg->company_erasure_delay_ms,
                                 j->cfg->access_ttl_ms, &revoked);
    if (r == GH_OK)
        r = companies_get(c, &j->call, j->target, &after);
    if (r == GH_OK) {
        commit_audited(j, c, "company.deactivate", &before, &after, 204);
        return;
    }
    store_rollback(c, &j->call);
    company_fail(j, r, "company deactivate");
}

static void delete(gh_req *req)
{
    api_job *j = one_job(req, "companies:write");
    if (j)
        api_job_run(req, j, delete_work);
}

int companies_register(gh_router *r)
{
    return router_add(r, GH_GET, "/api/v1/companies", list) |
           router_add(r, GH_POST, "/api/v1/companies", create) |
           router_add(r, GH_GET, "/api/v1/companies/{id}", get) |
           router_add(r, GH_PUT, "/api/v1/companies/{id}", put) |
           router_add(r, GH_DELETE, "/api/v1/companies/{id}", delete);
}
