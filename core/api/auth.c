/*
 * auth.c - /api/v1/auth: signup, login, refresh, logout, change-password.
 *
 * Inputs are checked on the loop; the work functions hand them to auth/,
 * which decides (auth/signin.h, shared with /oauth2/token, and
 * auth/credentials.h), and map its outcome to the answer (outcome.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "api/api.h"
#include "api/company.h"
#include "api/input.h"
#include "api/job.h"
#include "api/mailflow.h"
#include "api/outcome.h"
#include "api/present.h"
#include "api/profile.h"
#include "auth/credentials.h"
#include "auth/sessions.h"
#include "auth/signin.h"
#include "auth/users.h"
#include "log.h"

#define LOGIN_MAX 320      /* an address of 254 bytes, with room to refuse it */
#define PASSWORD_MAX 16384 /* bytes: 4096 characters of up to 4 bytes; the policy counts */
#define TOKEN_MAX 512

/* Parse and check the body; on failure the answer is sent and j freed. */
static api_job *job_with_body(gh_req *req, unsigned flags, unsigned accept)
{
    api_job *j = api_job_new(req, flags);
    if (j && !(j->in = input_body(req, accept))) {
        api_job_free(j);
        return NULL;
    }
    return j;
}

/* ---------------------------------------------------------------- signup */

static void signup_taken(api_job *j, gh_conn *c, const char *email)
{
    gh_user u = { 0 };
    gh_result r = users_find_login(c, &j->call, api_tenant(j), email, &u, NULL);
    user_clear(&u);
    if (r == GH_OK)
        api_fail(j, 409, "email_taken", "An account with this email address exists.");
    else
        api_fail(j, 409, "username_taken", "This username is taken.");
}

/* Create the user, its verification mail in the outbox and, unless
 * verification comes first, its first session, in one transaction: no
 * user is left without its answer or its mail, and no mail goes to a
 * sign-up rolled back. *mailed: mailflow_signup's *sent. */
static int signup_store(api_job *j, const gh_auth_ctx *ax, gh_user *u, const char *hash,
                        auth_result *sr, int *mailed)
{
    gh_result r = store_begin(ax->conn, ax->call);
    if (r == GH_OK)
        r = users_create(ax->conn, ax->call, u, hash);
    if (r == GH_OK)
        r = mailflow_signup(j, ax->conn, u, mailed);
    if (r != GH_OK) {
        store_rollback(ax->conn, ax->call);
        if (r == GH_ERR_CONFLICT)
            signup_taken(j, ax->conn, u->email);
        else
            api_store_fail(j, r, "signup");
        return -1;
    }
    auth_outcome o;
    if (!j->cfg->require_verified_email && (o = signin_issue(ax, u, sr)) != AUTH_OK) {
        store_rollback(ax->conn, ax->call);
        api_outcome_fail(j, o, sr);
        return -1;
    }
    auth_audit(ax, "user.signup", "success", u->id, NULL);
    if ((r = store_commit(ax->conn, ax->call)) != GH_OK) {
        api_store_fail(j, r, "signup commit");
        return -1;
    }
    return 0;
}

static void signup_answer(api_job *j, const gh_user *u, const auth_result *sr, int mailed)
{
    json_t *body = sr->session.id[0] ? api_outcome_tokens(j, sr)
                                     : json_pack("{s:b}", "verification_required", 1);
    if (body)
        json_object_set_new(body, "user", present_user(u));
    if (body && mailed >= 0) /* mail is on: say whether the mail is on its way */
        json_object_set_new(body, "verification_email_sent", json_boolean(mailed == 1));
    api_ok(j, 201, body);
}

static void signup_work(api_job *j, gh_conn *c)
{
    const char *email = api_in(j, "email"), *pw = api_in(j, "password");
    const char *username = api_in(j, "username");
    if (!j->company.settings.signup_allowed) {
        api_fail(j, 403, "signup_disabled", "Sign-up is closed in this company.");
        return;
    }
    gh_auth_ctx ax;
    api_auth_ctx(j, c, &ax);
    char hash[GH_PW_HASH_MAX];
    auth_result sr = { 0 };
    int mailed = -1;
    auth_outcome o = credentials_new(&ax, pw, email, username, hash, &sr);
    if (o != AUTH_OK) {
        api_outcome_fail(j, o, &sr);
        OPENSSL_cleanse(hash, sizeof hash);
        return;
    }
    gh_user u = { .is_active = 1 };
    snprintf(u.tenant_id, sizeof u.tenant_id, "%s", api_tenant(j));
    u.email = strdup(email);
    u.username = username && *username ? strdup(username) : NULL; /* "" is none */
    if (!u.email || profile_fill(j, &u) < 0)
        api_store_fail(j, GH_ERR_INTERNAL, "signup");
    else if (signup_store(j, &ax, &u, hash, &sr, &mailed) == 0)
        signup_answer(j, &u, &sr, mailed);
    OPENSSL_cleanse(hash, sizeof hash);
    auth_clear(&sr);
    user_clear(&u);
}

static void signup(gh_req *req)
{
    api_job *j = api_job_new(req, API_HASH);
    if (!j)
        return;
    if (!j->cfg->allow_signup) {
        req_problem(req, 403, "signup_disabled", "Sign-up is closed on this server.");
        api_job_free(j);
        return;
    }
    static const char *const known[] = { "email", "password", "company", PROFILE_FIELDS, NULL };
    const char *email, *pw;
    if (!(j->in = input_body(req, INPUT_JSON)) || input_only(req, j->in, known) < 0 ||
        input_string(req, j->in, "email", INPUT_REQUIRED, LOGIN_MAX, &email) < 0 ||
        input_string(req, j->in, "password", INPUT_REQUIRED, PASSWORD_MAX, &pw) < 0 ||
        profile_check(req, j->in, 1) < 0) { /* email syntax, username, names, phone */
        api_job_free(j);
        return;
    }
    if (api_company_pick(req, j) == 0)
        api_job_run(req, j, signup_work);
}

/* ---------------------------------------------------------------- login */

static void login_answer(api_job *j, auth_outcome o, const auth_result *r)
{
    if (o == AUTH_OK) {
        json_t *body = api_outcome_tokens(j, r);
        if (body)
            json_object_set_new(body, "user", present_user(&r->user));
        api_ok(j, 200, body);
    } else if (o == AUTH_MFA) {
        api_ok(j, 200, json_pack("{s:b, s:s, s:O}", "mfa_required", 1, "mfa_token", r->mfa_token,
                                 "methods", r->methods));
    } else {
        api_outcome_fail(j, o, r);
    }
}

static void login_work(api_job *j, gh_conn *c)
{
    const char *login = api_in(j, "email") ? api_in(j, "email") : api_in(j, "username");
    gh_auth_ctx ax;
    api_auth_ctx(j, c, &ax);
    auth_result r = { 0 };
    auth_outcome o = signin_password(&ax, login, api_in(j, "password"), &r);
    login_answer(j, o, &r);
    auth_clear(&r);
}

static void login(gh_req *req)
{
    api_job *j = job_with_body(req, API_HASH, INPUT_JSON | INPUT_FORM);
    const char *email, *username, *pw;
    if (!j)
        return;
    if (input_string(req, j->in, "email", INPUT_OPTIONAL, LOGIN_MAX, &email) < 0 ||
        input_string(req, j->in, "username", INPUT_OPTIONAL, LOGIN_MAX, &username) < 0 ||
        input_string(req, j->in, "password", INPUT_REQUIRED, PASSWORD_MAX, &pw) < 0) {
        api_job_free(j);
        return;
    }
    if (!email && !username) {
        input_reject(req, "missing_field", "email", "or 'username' is required.");
        api_job_free(j);
        return;
    }
    if (api_company_pick(req, j) == 0)
        api_job_run(req, j, login_work);
}

/* ---------------------------------------------------------------- refresh */

static void refresh_work(api_job *j, gh_conn *c)
{
    gh_auth_ctx ax;
    api_auth_ctx(j, c, &ax);
    auth_result r = { 0 };
    auth_outcome o = signin_refresh(&ax, api_in(j, "refresh_token"), &r);
    if (o == AUTH_OK)
        api_ok(j, 200, api_outcome_tokens(j, &r));
    else
        api_outcome_fail(j, o, &r);
    auth_clear(&r);
}

static void refresh(gh_req *req)
{
    api_job *j = job_with_body(req, 0, INPUT_JSON);
    const char *token;
    if (!j)
        return;
    if (input_string(req, j->in, "refresh_token", INPUT_REQUIRED, TOKEN_MAX, &token) < 0) {
        api_job_free(j);
        return;
    }
    api_job_run(req, j, refresh_work);
}

/* ---------------------------------------------------------------- logout */

static void logout_work(api_job *j, gh_conn *c)
{
    gh_result r = session_revoke(c, &j->call, j->claims.sub, j->claims.sid, "logout",
                                 j->cfg->access_ttl_ms);
    if (r != GH_OK && r != GH_ERR_NOT_FOUND) {
        api_store_fail(j, r, "logout");
        return;
    }
    api_audit(j, c, "logout", "success", j->claims.sub,
              json_pack("{s:s}", "session_id", j->claims.sid));
    api_ok(j, 204, NULL);
}

/* The body (RFC 7009-style {refresh_token}) is not needed: the access
 * token names the session, which holds the refresh token. */
static void logout(gh_req *req)
{
    api_job *j = api_job_new(req, API_BEARER);
    if (j)
        api_job_run(req, j, logout_work);
}

/* ---------------------------------------------------------------- change-password */

/* The old password is right: the new one, checked, hashed and stored. */
static auth_outcome change_password_checked(const gh_auth_ctx *ax, const gh_user *u, void *arg,
                                            auth_result *r)
{
    const api_job *j = arg;
    return credentials_change(ax, u, api_in(j, "new_password"), j->claims.sid, r);
}

static void change_password_work(api_job *j, gh_conn *c)
{
    gh_auth_ctx ax;
    api_auth_ctx(j, c, &ax);
    auth_result r = { 0 };
    auth_outcome o = signin_recheck(&ax, j->claims.sub, api_in(j, "old_password"),
                                    "password.change", change_password_checked, j, &r);
    if (o == AUTH_OK)
        api_ok(j, 204, NULL);
    else
        api_outcome_fail(j, o, &r);
    auth_clear(&r);
}

static void change_password(gh_req *req)
{
    api_job *j = job_with_body(req, API_BEARER | API_HASH, INPUT_JSON);
    const char *old_pw, *new_pw;
    if (!j)
        return;
    if (input_string(req, j->in, "old_password", INPUT_REQUIRED, PASSWORD_MAX, &old_pw) < 0 ||
        input_string(req, j->in, "new_password", INPUT_REQUIRED, PASSWORD_MAX, &new_pw) < 0) {
        api_job_free(j);
        return;
    }
    api_job_run(req, j, change_password_work);
}

int auth_register(gh_router *r)
{
    return router_add(r, GH_POST, "/api/v1/auth/signup", signup) |
           router_add(r, GH_POST, "/api/v1/auth/login", login) |
           router_add(r, GH_POST, "/api/v1/auth/refresh", refresh) |
           router_add(r, GH_POST, "/api/v1/auth/logout", logout) |
           router_add(r, GH_POST, "/api/v1/auth/change-password", change_password);
}
