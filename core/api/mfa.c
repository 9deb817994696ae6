/*
 * mfa.c - second factors over HTTP: a signed-in user's enrolment
 * (/api/v1/users/me/mfa...) and a sign-in's second step
 * (/api/v1/auth/mfa/verify). The decisions are auth/'s: factors.h for the
 * rows, mfa_plugin.h for the plugin, mfa_signin.h for the sign-in.
 *
 *   GET    /api/v1/users/me/mfa              the factors, pending ones too
 *   POST   /api/v1/users/me/mfa/totp {label?} -> 201 {factor_id, secret,
 *          otpauth_uri, qr_svg}, pending until confirmed; only within
 *          auth.mfa.recent_signin of the sign-in (mfa_sms.h)
 *   POST   /api/v1/users/me/mfa/{id}/confirm {code} -> {factor_id,
 *          recovery_codes (the first confirmed factor only, shown once)}
 *   DELETE /api/v1/users/me/mfa/{id} {password}
 *   POST   /api/v1/users/me/mfa/recovery-codes {password} -> new codes
 *   POST   /api/v1/auth/mfa/verify {mfa_token, method: "totp" | "sms" |
 *          "recovery_code", code} -> the tokens, as a login answers
 *   DELETE /api/v1/users/{id}/mfa            (users:write) every factor and
 *          recovery code of a user of the caller's company
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "api/api.h"
#include "api/input.h"
#include "api/job.h"
#include "api/mfa_sms.h"
#include "api/outcome.h"
#include "api/present.h"
#include "auth/factors.h"
#include "auth/mfa.h"
#include "auth/mfa_plugin.h"
#include "auth/mfa_signin.h"
#include "auth/sessions.h"
#include "auth/signin.h"
#include "clock.h"
#include "plugin/host.h"

#define LABEL_MAX 64
#define CODE_MAX 64
#define TOKEN_MAX 512
#define PASSWORD_MAX 16384

static api_job *job_with_body(gh_req *req, unsigned flags)
{
    api_job *j = api_job_new(req, flags);
    if (j && !(j->in = input_body(req, INPUT_JSON))) {
        api_job_free(j);
        return NULL;
    }
    return j;
}

static json_t *factor_detail(const char *id, const char *type)
{
    return json_pack("{s:s, s:s}", "factor_id", id, "type", type);
}

/* ---------------------------------------------------------------- list */

static void list_work(api_job *j, gh_conn *c)
{
    json_t *items = NULL;
    gh_result r = factors_list(c, &j->call, j->claims.sub, &items);
    if (r != GH_OK)
        api_store_fail(j, r, "mfa factors");
    else
        api_ok(j, 200, json_pack("{s:o}", "items", items));
}

static void list(gh_req *req)
{
    api_job *j = api_job_new(req, API_BEARER | API_READ);
    if (j)
        api_job_run(req, j, list_work);
}

/* ---------------------------------------------------------------- enrol TOTP */

/* The answer of an enrolment: the secret in base32, unpadded as apps want
 * it, besides the URI that holds it too. */
static json_t *totp_answer(api_job *j, const char *id, const gh_factor *f, const char *uri,
                           const char *svg)
{
    char b32[2 * FACTOR_SECRET_MAX];
    size_t n = 0;
    if (host_encode(&j->call, GH_ENC_BASE32, f->secret, f->secret_len, b32, sizeof b32, &n) !=
        GH_OK)
        return NULL;
    b32[strcspn(b32, "=")] = '\0';
    json_t *body = json_pack("{s:s, s:s, s:s, s:s?}", "factor_id", id, "secret", b32,
                             "otpauth_uri", uri, "qr_svg", svg);
    OPENSSL_cleanse(b32, sizeof b32);
    return body;
}

int mfa_recent_signin(api_job *j, gh_conn *c)
{
    gh_session s;
    gh_result r = session_get(c, &j->call, j->claims.sid, &s);
    if (r == GH_OK && s.user_id[0] && strcmp(s.user_id, j->claims.sub) == 0 &&
        gh_now_ms() - s.created_at <= j->cfg->mfa.recent_signin_ms)
        return 0;
    if (r != GH_OK && r != GH_ERR_NOT_FOUND) {
        api_store_fail(j, r, "session");
        return -1;
    }
    j->www_auth = "Bearer error=\"insufficient_user_authentication\", "
                  "error_description=\"Sign in again to change second factors\"";
    api_fail(j, 401, "insufficient_user_authentication",
             "Changing second factors needs a recent sign-in: sign in again, then retry.");
    return -1;
}

static void totp_work(api_job *j, gh_conn *c)
{
    const gh_loaded *p = mfa_plugin_totp(&j->app->plugins);
    if (!p) {
        api_fail(j, 404, "mfa_method_unavailable", "No TOTP plugin is configured.");
        return;
    }
    if (mfa_recent_signin(j, c) < 0)
        return;
    gh_user u = { 0 };
    gh_factor f = { 0 };
    char *uri = NULL, *svg = NULL, id[37];
    gh_result r = users_get(c, &j->call, api_tenant(j), j->claims.sub, &u);
    if (r == GH_OK) /* authenticator apps show the account by this name */
        r = mfa_plugin_enroll(p, &j->call, u.id, u.email ? u.email : u.id, &f, &uri, &svg);
    if (r == GH_OK)
        r = factors_create(c, &j->call, u.id, "totp", api_in(j, "label"), f.secret,
                           f.secret_len, id);
    if (r == GH_ERR_NOT_FOUND) {
        api_fail(j, 404, "not_found", "The account no longer exists.");
    } else if (r != GH_OK) {
        api_store_fail(j, r, "mfa enroll");
    } else {
        api_audit(j, c, "mfa.enroll", "success", u.id, factor_detail(id, "totp"));
        api_ok(j, 201, totp_answer(j, id, &f, uri, svg));
    }
    if (uri)
        OPENSSL_cleanse(uri, strlen(uri));
    free(uri);
    free(svg);
    factor_clear(&f);
    user_clear(&u);
}

static void totp(gh_req *req)
{
    api_job *j = job_with_body(req, API_BEARER);
    static const char *const known[] = { "label", NULL };
    const char *label;
    if (j && (input_only(req, j->in, known) < 0 ||
              input_string(req, j->in, "label", INPUT_OPTIONAL, LABEL_MAX, &label) < 0)) {
        api_job_free(j);
        return;
    }
    if (j)
        api_job_run(req, j, totp_work);
}

/* ---------------------------------------------------------------- confirm */

/* The code proved the pending factor f: it is confirmed (factors_use), and
 * the first factor brings the recovery codes, in one transaction so that
 * no confirmed factor is left without its codes. */
static gh_result confirm_store(api_job *j, gh_conn *c, const gh_factor *f, int64_t counter,
                               json_t **codes)
{
    json_t *methods = NULL;
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK)
        r = factors_use(c, &j->call, f->id, counter);
    if (r == GH_OK)
        r = mfa_methods(c, &j->call, j->claims.sub, &methods);
    if (r == GH_OK && json_array_size(methods) == 1)
        r = recovery_codes_new(c, &j->call, j->claims.sub, codes);
    json_decref(methods);
    if (r == GH_OK)
        return store_commit(c, &j->call);
    store_rollback(c, &j->call);
    return r;
}

static void confirm_work(api_job *j, gh_conn *c)
{
    const gh_loaded *p = mfa_plugin_totp(&j->app->plugins);
    gh_factor f;
    int64_t counter = 0;
    json_t *codes = NULL;
    gh_result r = factors_get(c, &j->call, j->claims.sub, j->target, &f);
    if (r == GH_OK && f.confirmed) {
        api_fail(j, 409, "already_confirmed", "This factor is already confirmed.");
        factor_clear(&f);
        return;
    }
    int answered = 0;
    if (r == GH_OK && strcmp(f.type, "sms") == 0) {
        r = mfa_sms_confirm(j, c, &f, api_in(j, "code"), &answered);
        counter = gh_now_ms(); /* an SMS factor has no steps: its last use */
    } else if (r == GH_OK) {
        r = p ? mfa_plugin_verify(p, &j->call, &f, api_in(j, "code"), &counter) : GH_ERR_DENIED;
    }
    if (answered) {
        factor_clear(&f);
        return;
    }
    if (r == GH_OK)
        r = confirm_store(j, c, &f, counter, &codes);
    if (r == GH_ERR_NOT_FOUND) {
        api_fail(j, 404, "not_found", "No such factor.");
    } else if (r == GH_ERR_DENIED) {
        api_audit(j, c, "mfa.confirm", "failure", j->claims.sub, factor_detail(f.id, f.type));
        api_fail(j, 422, "invalid_code", "The code is wrong or expired.");
    } else if (r != GH_OK) {
        api_store_fail(j, r, "mfa confirm");
    } else {
        api_audit(j, c, "mfa.confirm", "success", j->claims.sub, factor_detail(f.id, f.type));
        json_t *body = json_pack("{s:s, s:b}", "factor_id", f.id, "confirmed", 1);
        if (body && codes)
            json_object_set_new(body, "recovery_codes", codes);
        else
            json_decref(codes);
        api_ok(j, 200, body);
    }
    factor_clear(&f);
}

static void confirm(gh_req *req)
{
    api_job *j = job_with_body(req, API_BEARER);
    const char *code;
    if (j && (input_path_id(req, "id", j->target) < 0 ||
              input_string(req, j->in, "code", INPUT_REQUIRED, CODE_MAX, &code) < 0)) {
        api_job_free(j);
        return;
    }
    if (j)
        api_job_run(req, j, confirm_work);
}

/* ---------------------------------------------------------------- remove */

typedef struct remove_arg {
    api_job *j;
    gh_result r;
} remove_arg;

/* The password is right: the factor goes, and with the last one the
 * recovery codes, which would be a way in without any factor. */
static auth_outcome remove_checked(const gh_auth_ctx *ax, const gh_user *u, void *arg,
                                   auth_result *r)
{
    remove_arg *a = arg;
    int64_t left = 0;
    (void)r;
    a->r = factors_delete(ax->conn, ax->call, u->id, a->j->target, &left);
    if (a->r == GH_OK && left == 0) {
        gh_result dr = factors_delete(ax->conn, ax->call, u->id, NULL, &left);
        if (dr != GH_ERR_NOT_FOUND)
            a->r = dr;
    }
    return AUTH_OK;
}

static void remove_work(api_job *j, gh_conn *c)
{
    gh_auth_ctx ax;
    api_auth_ctx(j, c, &ax);
    auth_result r = { 0 };
    remove_arg a = { j, GH_OK };
    auth_outcome o = signin_recheck(&ax, j->claims.sub, api_in(j, "password"), "mfa.remove",
                                    remove_checked, &a, &r);
    if (o != AUTH_OK)
        api_outcome_fail(j, o, &r);
    else if (a.r == GH_ERR_NOT_FOUND)
        api_fail(j, 404, "not_found", "No such factor.");
    else if (a.r != GH_OK)
        api_store_fail(j, a.r, "mfa remove");
    else {
        api_audit(j, c, "mfa.remove", "success", j->claims.sub,
                  json_pack("{s:s}", "factor_id", j->target));
        api_ok(j, 204, NULL);
    }
    auth_clear(&r);
}

static void remove_factor(gh_req *req)
{
    api_job *j = job_with_body(req, API_BEARER | API_HASH);
    const char *pw;
    if (j && (input_path_id(req, "id", j->target) < 0 ||
              input_string(req, j->in, "password", INPUT_REQUIRED, PASSWORD_MAX, &pw) < 0)) {
        api_job_free(j);
        return;
    }
    if (j)
        api_job_run(req, j, remove_work);
}

/* ---------------------------------------------------------------- recovery codes */

typedef struct codes_arg {
    gh_result r;
    json_t *codes;
} codes_arg;

/* Only a user with a factor has codes: without one they would be a
 * second way in that nothing else backs. */
static auth_outcome codes_checked(const gh_auth_ctx *ax, const gh_user *u, void *arg,
                                  auth_result *r)
{
    codes_arg *a = arg;
    json_t *methods = NULL;
    (void)r;
    a->r = mfa_methods(ax->conn, ax->call, u->id, &methods);
    if (a->r == GH_OK)
        a->r = json_array_size(methods) == 0
                   ? GH_ERR_NOT_FOUND
                   : recovery_codes_new(ax->conn, ax->call, u->id, &a->codes);
    json_decref(methods);
    return AUTH_OK;
}

static void codes_work(api_job *j, gh_conn *c)
{
    gh_auth_ctx ax;
    api_auth_ctx(j, c, &ax);
    auth_result r = { 0 };
    codes_arg a = { GH_OK, NULL };
    auth_outcome o = signin_recheck(&ax, j->claims.sub, api_in(j, "password"),
                                    "mfa.recovery_codes", codes_checked, &a, &r);
    if (o != AUTH_OK)
        api_outcome_fail(j, o, &r);
    else if (a.r == GH_ERR_NOT_FOUND)
        api_fail(j, 409, "mfa_not_enrolled", "Confirm a second factor first.");
    else if (a.r != GH_OK)
        api_store_fail(j, a.r, "recovery codes");
    else {
        api_audit(j, c, "mfa.recovery_codes", "success", j->claims.sub, NULL);
        api_ok(j, 200, json_pack("{s:O}", "recovery_codes", a.codes));
    }
    json_decref(a.codes);
    auth_clear(&r);
}

static void codes(gh_req *req)
{
    api_job *j = job_with_body(req, API_BEARER | API_HASH);
    const char *pw;
    if (j && input_string(req, j->in, "password", INPUT_REQUIRED, PASSWORD_MAX, &pw) < 0) {
        api_job_free(j);
        return;
    }
    if (j)
        api_job_run(req, j, codes_work);
}

/* ---------------------------------------------------------------- verify */

static void verify_work(api_job *j, gh_conn *c)
{
    gh_auth_ctx ax;
    api_auth_ctx(j, c, &ax);
    auth_result r = { 0 };
    const char *method = api_in(j, "method");
    mfa_kind kind = strcmp(method, "totp") == 0 ? MFA_TOTP
                    : strcmp(method, "sms") == 0 ? MFA_SMS
                                                 : MFA_RECOVERY;
    auth_outcome o = mfa_signin(&ax, mfa_plugin_totp(&j->app->plugins), api_in(j, "mfa_token"),
                                kind, api_in(j, "code"), &r);
    if (o == AUTH_OK) {
        json_t *body = api_outcome_tokens(j, &r);
        if (body)
            json_object_set_new(body, "user", present_user(&r.user));
        api_ok(j, 200, body);
    } else if (o == AUTH_BAD) {
        api_fail(j, 401, "invalid_code", "The code is wrong or was already used.");
    } else {
        api_outcome_fail(j, o, &r);
    }
    auth_clear(&r);
}

static void verify(gh_req *req)
{
    api_job *j = job_with_body(req, 0);
    static const char *const known[] = { "mfa_token", "method", "code", NULL };
    const char *token, *method, *code;
    if (j && (input_only(req, j->in, known) < 0 ||
              input_string(req, j->in, "mfa_token", INPUT_REQUIRED, TOKEN_MAX, &token) < 0 ||
              input_string(req, j->in, "method", INPUT_REQUIRED, 32, &method) < 0 ||
              input_string(req, j->in, "code", INPUT_REQUIRED, CODE_MAX, &code) < 0)) {
        api_job_free(j);
        return;
    }
    if (j && strcmp(method, "totp") != 0 && strcmp(method, "recovery_code") != 0 &&
        strcmp(method, "sms") != 0) {
        input_reject(req, "invalid_method", "method",
                     "must be \"totp\", \"sms\" or \"recovery_code\".");
        api_job_free(j);
        return;
    }
    if (j)
        api_job_run(req, j, verify_work);
}

/* ---------------------------------------------------------------- admin reset */

static void reset_work(api_job *j, gh_conn *c)
{
    gh_user u = { 0 };
    int64_t left = 0;
    /* the user must be of the company acted in: another's id is not found */
    gh_result r = users_get(c, &j->call, api_tenant(j), j->target, &u);
    if (r == GH_OK) {
        r = factors_delete(c, &j->call, u.id, NULL, &left);
        int had = r == GH_OK;
        if (r == GH_ERR_NOT_FOUND) /* nothing to reset is reset */
            r = GH_OK;
        if (r == GH_OK)
            api_audit(j, c, "mfa.reset", "success", u.id, json_pack("{s:b}", "removed", had));
    }
    if (r == GH_ERR_NOT_FOUND)
        api_fail(j, 404, "not_found", "No such user.");
    else if (r != GH_OK)
        api_store_fail(j, r, "mfa reset");
    else
        api_ok(j, 204, NULL);
    user_clear(&u);
}

static void reset(gh_req *req)
{
    api_job *j = api_job_perm(req, 0, "users:write");
    if (j && input_path_id(req, "id", j->target) < 0) {
        api_job_free(j);
        return;
    }
    if (j)
        api_job_run(req, j, reset_work);
}

int mfa_register(gh_router *r)
{
    return router_add(r, GH_GET, "/api/v1/users/me/mfa", list) |
           router_add(r, GH_POST, "/api/v1/users/me/mfa/totp", totp) |
           router_add(r, GH_POST, "/api/v1/users/me/mfa/recovery-codes", codes) |
           router_add(r, GH_POST, "/api/v1/users/me/mfa/{id}/confirm", confirm) |
           router_add(r, GH_DELETE, "/api/v1/users/me/mfa/{id}", remove_factor) |
           router_add(r, GH_POST, "/api/v1/auth/mfa/verify", verify) |
           router_add(r, GH_DELETE, "/api/v1/users/{id}/mfa", reset);
}
