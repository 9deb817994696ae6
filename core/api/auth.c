/*
 * auth.c - /api/v1/auth: signup, login, refresh, logout, change-password.
 *
 * Inputs are checked on the loop; policy, hashing and every store call run
 * in the work functions. The sign-in decisions themselves are in signin.c,
 * shared with /oauth2/token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "api/api.h"
#include "api/input.h"
#include "api/job.h"
#include "api/mailflow.h"
#include "api/passwords.h"
#include "api/present.h"
#include "api/profile.h"
#include "api/signin.h"
#include "auth/sessions.h"
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

/* Create the user and, unless verification comes first, its first
 * session, in one transaction: no user is left without its answer. */
static int signup_store(api_job *j, gh_conn *c, gh_user *u, const char *hash, signin_result *sr)
{
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK)
        r = users_create(c, &j->call, u, hash);
    if (r != GH_OK) {
        store_rollback(c, &j->call);
        if (r == GH_ERR_CONFLICT)
            signup_taken(j, c, u->email);
        else
            api_store_fail(j, r, "signup");
        return -1;
    }
    if (!j->cfg->require_verified_email && signin_issue(j, c, u, sr) != SIGNIN_OK) {
        store_rollback(c, &j->call);
        return -1;
    }
    api_audit(j, c, "user.signup", "success", u->id, NULL);
    if ((r = store_commit(c, &j->call)) != GH_OK) {
        api_store_fail(j, r, "signup commit");
        return -1;
    }
    return 0;
}

static void signup_answer(api_job *j, const gh_user *u, const signin_result *sr)
{
    int64_t ttl_s = j->cfg->access_ttl_ms / 1000;
    json_t *body = sr->session.id[0] ? present_tokens(sr->refresh, ttl_s)
                              : json_pack("{s:b}", "verification_required", 1);
    if (body)
        json_object_set_new(body, "user", present_user(u));
    api_ok(j, 201, body);
}

/* The optional profile fields profile_check let through; "" is none. */
static int profile_fields(api_job *j, gh_user *u)
{
    struct {
        const char *key;
        char **to;
    } f[] = { { "full_name", &u->full_name },     { "given_name", &u->given_name },
              { "family_name", &u->family_name }, { "phone", &u->phone },
              { "country_code", &u->country_code } };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        const char *v = api_in(j, f[i].key);
        if (v && *v && !(*f[i].to = strdup(v)))
            return -1;
    }
    return 0;
}

static void signup_work(gh_req *req)
{
    api_job *j = req->job_data;
    gh_conn *c = api_conn(j);
    const char *email = api_in(j, "email"), *pw = api_in(j, "password");
    const char *username = api_in(j, "username");
    if (!c || !passwords_policy_ok(j, pw, email, username))
        return;
    const gh_pw_params *pp = &j->cfg->argon2;
    char hash[GH_PW_HASH_MAX];
    if (password_hash(pw, strlen(pw), pp, hash) != 0) {
        api_store_fail(j, GH_ERR_INTERNAL, "password hash");
        return;
    }
    gh_user u = { .is_active = 1 };
    snprintf(u.tenant_id, sizeof u.tenant_id, "%s", api_tenant(j));
    u.email = strdup(email);
    u.username = username && *username ? strdup(username) : NULL; /* "" is none */
    signin_result sr = { 0 };
    if (!u.email || profile_fields(j, &u) < 0)
        api_store_fail(j, GH_ERR_INTERNAL, "signup");
    else if (signup_store(j, c, &u, hash, &sr) == 0) {
        signup_answer(j, &u, &sr);
        mailflow_signup(j, c, &u); /* the verification mail, when mail is on */
    }
    OPENSSL_cleanse(hash, sizeof hash);
    signin_clear(&sr);
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
    static const char *const known[] = { "email", "password", PROFILE_FIELDS, NULL };
    const char *email, *pw;
    if (!(j->in = input_body(req, INPUT_JSON)) || input_only(req, j->in, known) < 0 ||
        input_string(req, j->in, "email", INPUT_REQUIRED, LOGIN_MAX, &email) < 0 ||
        input_string(req, j->in, "password", INPUT_REQUIRED, PASSWORD_MAX, &pw) < 0 ||
        profile_check(req, j->in, 1) < 0) { /* email syntax, username, names, phone */
        api_job_free(j);
        return;
    }
    api_job_run(req, j, signup_work);
}

/* ---------------------------------------------------------------- login */

static void login_answer(api_job *j, signin_outcome o, const signin_result *r)
{
    if (o == SIGNIN_OK) {
        json_t *body = present_tokens(r->refresh, j->cfg->access_ttl_ms / 1000);
        if (body)
            json_object_set_new(body, "user", present_user(&r->user));
        api_ok(j, 200, body);
    } else if (o == SIGNIN_MFA) {
        api_ok(j, 200, json_pack("{s:b, s:s, s:O}", "mfa_required", 1, "mfa_token", r->mfa_token,
                                 "methods", r->methods));
    } else {
        signin_problem(j, o, r);
    }
}

static void login_work(gh_req *req)
{
    api_job *j = req->job_data;
    gh_conn *c = api_conn(j);
    if (!c)
        return;
    const char *login = api_in(j, "email") ? api_in(j, "email") : api_in(j, "username");
    signin_result r = { 0 };
    signin_outcome o = signin_password(j, c, login, api_in(j, "password"), &r);
    login_answer(j, o, &r);
    signin_clear(&r);
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
    api_job_run(req, j, login_work);
}

/* ---------------------------------------------------------------- refresh */

static void refresh_work(gh_req *req)
{
    api_job *j = req->job_data;
    gh_conn *c = api_conn(j);
    if (!c)
        return;
    signin_result r = { 0 };
    signin_outcome o = signin_refresh(j, c, api_in(j, "refresh_token"), &r);
    if (o == SIGNIN_OK)
        api_ok(j, 200, present_tokens(r.refresh, j->cfg->access_ttl_ms / 1000));
    else
        signin_problem(j, o, &r);
    signin_clear(&r);
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

static void logout_work(gh_req *req)
{
    api_job *j = req->job_data;
    gh_conn *c = api_conn(j);
    if (!c)
        return;
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

/* The old password is right: check the new one, hash it, store it. */
static void change_password_checked(api_job *j, gh_conn *c, const gh_user *u)
{
    const char *pw = api_in(j, "new_password");
    if (!passwords_policy_ok(j, pw, u->email, u->username))
        return;
    const gh_pw_params *pp = &j->cfg->argon2;
    char hash[GH_PW_HASH_MAX];
    if (password_hash(pw, strlen(pw), pp, hash) == 0)
        passwords_replace(j, c, j->claims.sub, j->claims.sid, "password changed",
                          "password.change", hash);
    else
        api_store_fail(j, GH_ERR_INTERNAL, "password hash");
    OPENSSL_cleanse(hash, sizeof hash);
}

static void change_password_work(gh_req *req)
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
        api_store_fail(j, r, "change password");
    } else {
        signin_outcome o = signin_recheck(j, c, &u, api_in(j, "old_password"), &sr);
        if (o == SIGNIN_OK)
            change_password_checked(j, c, &u);
        else if (o == SIGNIN_BAD)
            api_audit(j, c, "password.change", "failure", u.id,
                      json_pack("{s:s}", "reason", "invalid_credentials"));
        signin_problem(j, o, &sr);
    }
    signin_clear(&sr);
    user_clear(&u);
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
