/*
 * onboard.c - a customer in one call, and their cloud provisioning:
 *   POST   /api/v1/onboard {username, email, company_name, password?}
 *          202 {access_token, token_type, refresh_token, expires_in, user,
 *          company, provisioning: {state}, invitation_sent?}
 *   GET    /api/v1/customer/me            {username, email, user, company,
 *          provisioning}: the caller's own
 *   GET    /api/v1/companies/{id}/provisioning          provisioning
 *   POST   /api/v1/companies/{id}/provisioning/retry    202 provisioning
 *   DELETE /api/v1/companies/{id}/provisioning          202 provisioning
 *
 * Onboarding makes, in one transaction, the company (its slug from the
 * name, made unique), its first user as its admin, the provisioning job
 * when onboarding.cloud is set, and their audit rows; then answers with
 * the user's tokens, as a sign-in does. Without a password the user
 * chooses one from the invitation mail (mailflow_invite). A company name
 * already taken (whatever its case), or an email or username any
 * company's account holds, is 409 with nothing written: a customer is
 * onboarded once. Callers: root-company users and API keys holding
 * companies:onboard (superusers, root admins); with onboarding.public,
 * anyone, counted by the built-in `onboard` rate limit.
 *
 * provisioning: {state, cloud, resources: ["type:id"...], attempts,
 * last_error, next_attempt_at, updated_at}; state "none" (and nothing
 * else) for a company onboarded without a cloud. The admin routes: GET
 * with companies:read, retry with companies:write, for the root company's
 * users (any company) or the company's own (its admin sees and retries
 * its own); DELETE (deprovision) with companies:write, root only: it
 * destroys what the customer runs on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "api/api.h"
#include "api/input.h"
#include "api/job.h"
#include "api/mailflow.h"
#include "api/outcome.h"
#include "api/present.h"
#include "api/profile.h"
#include "auth/credentials.h"
#include "auth/provisioning.h"
#include "auth/signin.h"
#include "auth/users.h"
#include "notify/provisioner.h"

#define LOGIN_MAX 320
#define PASSWORD_MAX 16384

static json_t *present_provisioning(const gh_provisioning *p)
{
    if (!p)
        return json_pack("{s:s}", "state", "none");
    json_t *res = json_array();
    char copy[PROV_RESOURCES_MAX], *save = NULL;
    snprintf(copy, sizeof copy, "%s", p->resources);
    for (char *t = strtok_r(copy, "\n", &save); res && t; t = strtok_r(NULL, "\n", &save))
        json_array_append_new(res, json_string(t));
    return json_pack("{s:s, s:s, s:o*, s:I, s:s*, s:o, s:o}", "state", p->state, "cloud",
                     p->cloud, "resources", res, "attempts", (json_int_t)p->attempts,
                     "last_error", p->last_error[0] ? p->last_error : NULL, "next_attempt_at",
                     present_time(p->next_attempt_at), "updated_at",
                     present_time(p->updated_at));
}

/* The company's provisioning as presented; "none" when it has no job.
 * NULL with the answer set when the store failed. */
static json_t *provisioning_of(api_job *j, gh_conn *c, const char *tenant)
{
    gh_provisioning p;
    gh_result r = provisioning_get(c, &j->call, tenant, &p);
    if (r == GH_OK || r == GH_ERR_NOT_FOUND)
        return present_provisioning(r == GH_OK ? &p : NULL);
    api_store_fail(j, r, "provisioning read");
    return NULL;
}

/* ---------------------------------------------------------------- onboard */

typedef struct onboarding {
    gh_company co;
    gh_user u;
    auth_result sr;
    char hash[GH_PW_HASH_MAX];
    int invited;               /* mailflow_invite's *sent */
} onboarding;

/* 409 when the company name, email or username is taken; 0 when free,
 * -1 with the answer set. */
static int taken(api_job *j, gh_conn *c)
{
    static const struct {
        const char *field, *code, *detail;
    } checks[] = {
        { "company_name", "company_taken", "A company with this name exists." },
        { "email", "email_taken", "An account with this email address exists." },
        { "username", "username_taken", "This username is taken." },
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        int t = 0;
        gh_result r = i == 0 ? companies_name_taken(c, &j->call, api_in(j, checks[i].field), &t)
                             : users_login_taken(c, &j->call, api_in(j, checks[i].field), &t);
        if (r != GH_OK) {
            api_store_fail(j, r, "onboarding check");
            return -1;
        }
        if (t) {
            api_fail(j, 409, checks[i].code, checks[i].detail);
            return -1;
        }
    }
    return 0;
}

/* Everything onboarding writes, in the transaction the caller opened;
 * GH_OK, or the failure with nothing answered yet. */
static gh_result onboard_store(api_job *j, gh_conn *c, gh_auth_ctx *ax, onboarding *ob,
                               auth_outcome *o)
{
    const char *pw = api_in(j, "password");
    company_slug_from(ob->co.name, ob->co.slug);
    gh_result r = companies_free_slug(c, &j->call, ob->co.slug);
    if (r == GH_OK)
        r = companies_create(c, &j->call, &ob->co);
    snprintf(ob->u.tenant_id, sizeof ob->u.tenant_id, "%s", ob->co.id);
    if (r == GH_OK)
        r = users_create(c, &j->call, &ob->u, pw ? ob->hash : NULL);
    if (r == GH_OK && j->cfg->onboarding_cloud.name)
        r = provisioning_create(c, &j->call, ob->co.id, j->cfg->onboarding_cloud.name);
    if (r == GH_OK && !pw) /* the invitation commits with the account, or neither does */
        r = mailflow_invite(j, c, &ob->u, &ob->invited);
    if (r != GH_OK)
        return r;
    ax->tenant = ob->co.id; /* the new company's: its audit, the user's session */
    auth_audit(ax, "company.create", "success", ob->co.id,
               json_pack("{s:o}", "after", present_company(&ob->co)));
    auth_audit(ax, "user.create", "success", ob->u.id,
               json_pack("{s:b, s:b, s:s}", "invite", !pw, "admin", 1, "via", "onboard"));
    if ((*o = signin_issue(ax, &ob->u, &ob->sr)) != AUTH_OK)
        return GH_ERR_INTERNAL;
    return GH_OK;
}

static void onboard_answer(api_job *j, gh_conn *c, onboarding *ob)
{
    json_t *body = api_outcome_tokens(j, &ob->sr);
    json_t *prov = provisioning_of(j, c, ob->co.id);
    if (!prov) {
        json_decref(body);
        return;
    }
    if (body) {
        json_object_set_new(body, "user", present_user(&ob->u));
        json_object_set_new(body, "company", present_company(&ob->co));
        json_object_set_new(body, "provisioning", prov);
        if (!api_in(j, "password"))
            json_object_set_new(body, "invitation_sent", json_boolean(ob->invited == 1));
    } else {
        json_decref(prov);
    }
    api_ok(j, 202, body);
}

static void onboard_work(api_job *j, gh_conn *c)
{
    if (!j->cfg->onboarding_public && strcmp(j->claims.tenant, GH_ROOT_TENANT) != 0) {
        api_fail(j, 403, "forbidden", "Onboarding is for the root company's admins and keys.");
        return;
    }
    onboarding *ob = j->data;
    const char *pw = api_in(j, "password"), *username = api_in(j, "username");
    gh_auth_ctx ax;
    api_auth_ctx(j, c, &ax);
    auth_outcome o = pw ? credentials_new(&ax, pw, api_in(j, "email"), username, ob->hash,
                                          &ob->sr)
                        : AUTH_OK;
    if (o != AUTH_OK) {
        api_outcome_fail(j, o, &ob->sr);
        return;
    }
    snprintf(ob->co.name, sizeof ob->co.name, "%s", api_in(j, "company_name"));
    ob->co.settings = company_settings_default();
    ob->u = (gh_user){ .is_active = 1, .is_admin = 1 };
    ob->u.email = strdup(api_in(j, "email"));
    ob->u.username = strdup(username);
    gh_result r = !ob->u.email || !ob->u.username ? GH_ERR_NOMEM : store_begin(c, &j->call);
    if (r != GH_OK) {
        api_store_fail(j, r, "onboarding");
        return;
    }
    if (taken(j, c) < 0) {
        store_rollback(c, &j->call);
        return;
    }
    if ((r = onboard_store(j, c, &ax, ob, &o)) == GH_OK)
        r = store_commit(c, &j->call);
    else
        store_rollback(c, &j->call);
    if (o != AUTH_OK)
        api_outcome_fail(j, o, &ob->sr);
    else if (r == GH_ERR_INVALID) /* the name: companies_create says why */
        api_fail(j, 422, "invalid_field", "'company_name' is 1 to 200 bytes of text.");
    else if (r == GH_ERR_CONFLICT) /* another onboarding took them meanwhile */
        api_fail(j, 409, "onboarding_conflict", "The company or the account was just taken.");
    else if (r != GH_OK)
        api_store_fail(j, r, "onboarding");
    else {
        onboard_answer(j, c, ob);
        provisioner_wake();
    }
}

static void onboarding_free(api_job *j)
{
    onboarding *ob = j->data;
    if (!ob)
        return;
    OPENSSL_cleanse(ob->hash, sizeof ob->hash);
    auth_clear(&ob->sr);
    user_clear(&ob->u);
}

static void onboard_done(api_job *j, gh_conn *c)
{
    onboard_work(j, c);
    onboarding_free(j);
}

static void onboard(gh_req *req)
{
    static const char *const known[] = { "username", "email", "company_name", "password", NULL };
    int public = req->cycle->cfg->onboarding_public;
    api_job *j = public ? api_job_new(req, API_HASH)
                        : api_job_perm(req, API_HASH, "companies:onboard");
    const char *s;
    if (!j)
        return;
    if (!public)
        j->rl_done = 1; /* the onboard limit is for anonymous callers */
    if (!(j->data = calloc(1, sizeof(onboarding)))) {
        req_problem(req, 500, "internal_error", NULL);
        api_job_free(j);
        return;
    }
    if (!(j->in = input_body(req, INPUT_JSON)) || input_only(req, j->in, known) < 0 ||
        input_string(req, j->in, "username", INPUT_REQUIRED, LOGIN_MAX, &s) < 0 ||
        input_string(req, j->in, "email", INPUT_REQUIRED, LOGIN_MAX, &s) < 0 ||
        input_string(req, j->in, "company_name", INPUT_REQUIRED, COMPANY_NAME_MAX, &s) < 0 ||
        input_string(req, j->in, "password", INPUT_OPTIONAL, PASSWORD_MAX, &s) < 0 ||
        profile_check(req, j->in, 1) < 0) { /* email syntax, username */
        api_job_free(j);
        return;
    }
    if (!*api_in(j, "username") || !*api_in(j, "company_name")) {
        input_reject(req, "missing_field", *api_in(j, "username") ? "company_name" : "username",
                     "must not be empty.");
        api_job_free(j);
        return;
    }
    if (!s && mailflow_ready(req) < 0) { /* no password: the invitation must go */
        api_job_free(j);
        return;
    }
    api_job_run(req, j, onboard_done);
}

/* ---------------------------------------------------------------- customer/me */

static void me_work(api_job *j, gh_conn *c)
{
    gh_user u = { 0 };
    gh_company co;
    gh_result r = users_get(c, &j->call, j->claims.tenant, j->claims.sub, &u);
    if (r == GH_OK)
        r = companies_get(c, &j->call, j->claims.tenant, &co);
    json_t *prov = r == GH_OK ? provisioning_of(j, c, co.id) : NULL;
    if (r == GH_ERR_NOT_FOUND)
        api_fail(j, 404, "not_found", "The account no longer exists.");
    else if (r != GH_OK)
        api_store_fail(j, r, "customer read");
    else if (prov)
        api_ok(j, 200, json_pack("{s:s*, s:s*, s:o, s:o, s:o}", "username", u.username,
                                 "email", u.email, "user", present_user(&u), "company",
                                 present_company(&co), "provisioning", prov));
    user_clear(&u);
}

static void customer_me(gh_req *req)
{
    api_job *j = api_job_new(req, API_BEARER | API_READ);
    if (j)
        api_job_run(req, j, me_work);
}

/* ---------------------------------------------------------------- admin */

/* A job on /companies/{id}/provisioning needing perm. Whether the caller
 * reaches that company is the work's to say (company_reached). */
static void admin_route(gh_req *req, unsigned flags, const char *perm, api_work work)
{
    api_job *j = api_job_perm(req, flags, perm);
    if (j && input_path_id(req, "id", j->target) < 0) {
        api_job_free(j);
        return;
    }
    if (j)
        api_job_run(req, j, work);
}

/* The root company's callers reach every company, the others their own;
 * root_only: the root's alone. 1, or 0 with the answer set (another
 * company is 404, as a missing one). */
static int company_reached(api_job *j, int root_only)
{
    int root = strcmp(j->claims.tenant, GH_ROOT_TENANT) == 0;
    if (root_only && !root) {
        api_fail(j, 403, "forbidden", "Deprovisioning is for the root company's admins.");
        return 0;
    }
    if (!root && strcmp(j->claims.tenant, j->target) != 0) {
        api_fail(j, 404, "not_found", "No such company.");
        return 0;
    }
    return 1;
}

static void prov_fail(api_job *j, gh_result r, const char *what)
{
    if (r == GH_ERR_NOT_FOUND)
        api_fail(j, 404, "no_provisioning", "This company has no provisioning job.");
    else if (r == GH_ERR_CONFLICT)
        api_fail(j, 409, "provisioning_busy", "The job is running, or its state does not "
                 "allow this.");
    else
        api_store_fail(j, r, what);
}

static void get_work(api_job *j, gh_conn *c)
{
    gh_provisioning p;
    if (!company_reached(j, 0))
        return;
    gh_result r = provisioning_get(c, &j->call, j->target, &p);
    if (r == GH_OK)
        api_ok(j, 200, present_provisioning(&p));
    else
        prov_fail(j, r, "provisioning read");
}

/* retry or deprovision, audited in the company, and the thread woken. */
static void move_work(api_job *j, gh_conn *c, int root_only, const char *action,
                      gh_result (*move)(gh_conn *, gh_call *, const char *, gh_provisioning *))
{
    gh_provisioning p;
    if (!company_reached(j, root_only))
        return;
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK && (r = move(c, &j->call, j->target, &p)) == GH_OK) {
        gh_auth_ctx ax;
        api_auth_ctx(j, c, &ax);
        ax.tenant = j->target;
        auth_audit(&ax, action, "success", j->target, json_pack("{s:s}", "state", p.state));
        r = store_commit(c, &j->call);
    } else {
        store_rollback(c, &j->call);
    }
    if (r != GH_OK) {
        prov_fail(j, r, action);
        return;
    }
    api_ok(j, 202, present_provisioning(&p));
    provisioner_wake();
}

static void retry_work(api_job *j, gh_conn *c)
{
    move_work(j, c, 0, "provisioning.retry", provisioning_retry);
}

static void delete_work(api_job *j, gh_conn *c)
{
    move_work(j, c, 1, "provisioning.deprovision", provisioning_deprovision);
}

static void get(gh_req *req)
{
    admin_route(req, API_READ, "companies:read", get_work);
}

static void retry(gh_req *req)
{
    admin_route(req, 0, "companies:write", retry_work);
}

static void delete(gh_req *req)
{
    admin_route(req, 0, "companies:write", delete_work);
}

int onboard_register(gh_router *r)
{
    return router_add(r, GH_POST, "/api/v1/onboard", onboard) |
           router_add(r, GH_GET, "/api/v1/customer/me", customer_me) |
           router_add(r, GH_GET, "/api/v1/companies/{id}/provisioning", get) |
           router_add(r, GH_POST, "/api/v1/companies/{id}/provisioning/retry", retry) |
           router_add(r, GH_DELETE, "/api/v1/companies/{id}/provisioning", delete);
}
