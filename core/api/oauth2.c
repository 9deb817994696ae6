/*
 * oauth2.c - the standard OAuth 2.0 endpoints, for clients that speak the
 * RFCs rather than our API:
 *   POST /oauth2/token       RFC 6749: grant_type password | refresh_token
 *   POST /oauth2/introspect  RFC 7662 (the caller presents a bearer token;
 *                            its own tokens, or an admin's tenant's)
 *   POST /oauth2/revoke      RFC 7009 (always 200: revoking is idempotent)
 * Bodies are form-encoded (JSON accepted too); errors are RFC 6749 5.2
 * {"error", "error_description"}. Clients are public: no client auth, so
 * invalid_client never comes up. The grants share auth/signin.c with the API.
 */
#include <stdlib.h>
#include <string.h>
#include "api/api.h"
#include "api/company.h"
#include "api/input.h"
#include "api/job.h"
#include "api/present.h"
#include "api/outcome.h"
#include "auth/authz.h"
#include "auth/sessions.h"
#include "auth/signin.h"
#include "auth/users.h"

#define FIELD_MAX 4096

static void oauth_error(gh_req *req, int status, const char *error, const char *desc)
{
    json_t *e = json_pack("{s:s, s:s}", "error", error, "error_description", desc);
    req_set_header(req, "Pragma", "no-cache");
    if (e)
        req_json(req, status, e);
    else
        req_problem(req, 500, "internal_error", NULL);
}

/* A required string field, or invalid_request sent. */
static const char *oauth_field(gh_req *req, json_t *in, const char *key)
{
    json_t *v = json_object_get(in, key);
    const char *s = json_string_value(v);
    if (s && *s && json_string_length(v) <= FIELD_MAX)
        return s;
    char desc[96];
    snprintf(desc, sizeof desc, "'%s' is required and must be a string.", key);
    oauth_error(req, 400, "invalid_request", desc);
    return NULL;
}

/* A job for an OAuth endpoint with its body read, or NULL (answered). */
static api_job *oauth_job(gh_req *req, unsigned flags)
{
    api_job *j = api_job_new(req, flags | API_OAUTH);
    if (j && !(j->in = input_body(req, INPUT_FORM | INPUT_JSON | INPUT_OAUTH))) {
        api_job_free(j);
        return NULL;
    }
    return j;
}

/* ---------------------------------------------------------------- token */

static void grant_answer(api_job *j, auth_outcome o, const auth_result *r)
{
    static const struct { auth_outcome o; const char *desc; } refusals[] = {
        { AUTH_LOCKED, "Too many failed attempts; try again later." },
        { AUTH_BAD, "The username or password is wrong." },
        { AUTH_DISABLED, "This account is disabled." },
        { AUTH_UNVERIFIED, "The email address is not verified." },
        { AUTH_REUSED, "The refresh token was already used; the session has been ended." },
        { AUTH_INVALID_REFRESH, "The refresh token is invalid or expired." },
    };
    if (o == AUTH_OK) {
        api_ok(j, 200, api_outcome_tokens(j, r));
    } else if (o == AUTH_MFA) {
        api_ok(j, 403, json_pack("{s:s, s:s, s:s, s:O}", "error", "mfa_required",
                                 "error_description", "A second factor is required.",
                                 "mfa_token", r->mfa_token, "methods", r->methods));
    } else if (o == AUTH_LOCKED) {
        j->retry_after_s = r->retry_after_s;
        api_fail(j, 429, "invalid_grant", refusals[0].desc);
    } else if (o == AUTH_FAILED) {
        api_store_fail(j, r->error, r->what);
    } else {
        for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++)
            if (refusals[i].o == o)
                api_fail(j, 400, "invalid_grant", refusals[i].desc);
    }
}

static void password_grant_work(api_job *j, gh_conn *c)
{
    gh_auth_ctx ax;
    api_auth_ctx(j, c, &ax);
    auth_result r = { 0 };
    auth_outcome o = signin_password(&ax, api_in(j, "username"), api_in(j, "password"), &r);
    grant_answer(j, o, &r);
    auth_clear(&r);
}

static void refresh_grant_work(api_job *j, gh_conn *c)
{
    gh_auth_ctx ax;
    api_auth_ctx(j, c, &ax);
    auth_result r = { 0 };
    auth_outcome o = signin_refresh(&ax, api_in(j, "refresh_token"), &r);
    grant_answer(j, o, &r);
    auth_clear(&r);
}

/* The work for the request's grant, or NULL with the error sent. */
static api_work grant_work(gh_req *req, json_t *in)
{
    const char *grant = oauth_field(req, in, "grant_type");
    if (!grant)
        return NULL;
    if (strcmp(grant, "password") == 0)
        return oauth_field(req, in, "username") && oauth_field(req, in, "password")
                   ? password_grant_work : NULL;
    if (strcmp(grant, "refresh_token") == 0)
        return oauth_field(req, in, "refresh_token") ? refresh_grant_work : NULL;
    oauth_error(req, 400, "unsupported_grant_type",
                "Supported grant types: password, refresh_token.");
    return NULL;
}

/* The password grant signs in to a company, as /auth/login does; a bad
 * "company" is an OAuth error here, not a problem document. */
static int grant_company(gh_req *req, api_job *j)
{
    json_t *v = json_object_get(j->in, "company");
    if (v && (!json_is_string(v) || !company_slug_valid(json_string_value(v)))) {
        oauth_error(req, 400, "invalid_request", "'company' is not a company slug.");
        api_job_free(j);
        return -1;
    }
    return api_company_pick(req, j);
}

static void token(gh_req *req)
{
    api_job *j = oauth_job(req, 0);
    api_work work = j ? grant_work(req, j->in) : NULL;
    if (work == password_grant_work) {
        j->flags |= API_HASH;
        if (grant_company(req, j) < 0)
            return;
    }
    if (work)
        api_job_run(req, j, work);
    else
        api_job_free(j);
}

/* ---------------------------------------------------------------- introspect, revoke */

/* On the loop: if `token` is a valid access token, its claims (kept in
 * j->data for the worker); else NULL, and the worker tries it as a
 * refresh token. */
static void classify(api_job *j, const char *token)
{
    gh_claims *cl = calloc(1, sizeof *cl);
    const char *why;
    if (cl && j->kr && token_verify(j->kr, &j->cfg->tokens, token, api_now_s(), cl, &why) == 0)
        j->data = cl;
    else
        free(cl);
}

/* RFC 7662's answer for an access token, with the roles (and permissions)
 * it carries. */
static json_t *active_access(const api_job *j, const gh_claims *cl)
{
    json_t *pl = token_payload(api_in(j, "token"));
    json_t *roles = json_incref(json_object_get(pl, "roles"));
    json_t *perms = json_incref(json_object_get(pl, "permissions"));
    json_decref(pl);
    return json_pack("{s:b, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:o*, s:o*}",
                     "active", 1, "token_type", "access_token", "sub", cl->sub, "sid", cl->sid,
                     "jti", cl->jti, "exp", (json_int_t)cl->exp, "iat", (json_int_t)cl->iat,
                     "nbf", (json_int_t)cl->nbf, "iss", j->cfg->tokens.issuer, "aud", j->cfg->tokens.audience,
                     "tenant", cl->tenant, "roles", roles ? roles : json_array(), "permissions",
                     perms);
}

static json_t *active_refresh(const api_job *j, const gh_session *s)
{
    int64_t issued = s->last_used_at > 0 ? s->last_used_at : s->created_at;
    return json_pack("{s:b, s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "active", 1, "token_type",
                     "refresh_token", "sub", s->user_id, "sid", s->id,
                     "exp", (json_int_t)(s->expires_at / 1000), "iat", (json_int_t)(issued / 1000),
                     "iss", j->cfg->tokens.issuer, "tenant", s->tenant_id);
}

/*
 * Whose tokens the caller may introspect: its own, or, for a holder of
 * sessions:read, any of its company. Any other token is answered
 * {"active": false}, as RFC 7662 2.2 asks for a token the caller may not
 * see: one user's bearer token must not reveal another user's sessions.
 * 1 may, 0 may not, -1 the store failed (the answer is set).
 */
static int may_introspect(api_job *j, gh_conn *c, const char *sub, const char *tenant)
{
    const authz_set *s;
    if (strcmp(sub, j->claims.sub) == 0)
        return 1;
    if (strcmp(tenant, j->claims.tenant) != 0)
        return 0;
    gh_result r = authz_get(c, &j->call, j->claims.tenant, j->claims.sub, &s);
    if (r != GH_OK) {
        api_store_fail(j, r, "introspect");
        return -1;
    }
    return authz_has(s, "sessions:read");
}

static void inactive(api_job *j)
{
    api_ok(j, 200, json_pack("{s:b}", "active", 0));
}

static void introspect_work(api_job *j, gh_conn *c)
{
    const gh_claims *cl = j->data;
    gh_session s;
    int may;
    if (cl) {
        int denied = token_denied(c, &j->call, cl->sid, cl->jti);
        if (denied < 0)
            api_store_fail(j, GH_ERR_UNAVAILABLE, "introspect");
        else if (denied || (may = may_introspect(j, c, cl->sub, cl->tenant)) == 0)
            inactive(j);
        else if (may > 0)
            api_ok(j, 200, active_access(j, cl));
        return;
    }
    gh_result r = session_by_refresh(c, &j->call, api_in(j, "token"), &s);
    if (r == GH_OK && (may = may_introspect(j, c, s.user_id, s.tenant_id)) != 0) {
        if (may > 0)
            api_ok(j, 200, active_refresh(j, &s));
    } else if (r == GH_OK || r == GH_ERR_NOT_FOUND || r == GH_ERR_INVALID) {
        inactive(j);
    } else {
        api_store_fail(j, r, "introspect");
    }
}

static void introspect(gh_req *req)
{
    api_job *j = oauth_job(req, API_BEARER | API_READ);
    const char *tok;
    if (!j)
        return;
    if (!(tok = oauth_field(req, j->in, "token"))) {
        api_job_free(j);
        return;
    }
    classify(j, tok);
    api_job_run(req, j, introspect_work);
}

static gh_result revoke_access(api_job *j, gh_conn *c, const gh_claims *cl)
{
    /* cl passed verification: live, perhaps only by the leeway */
    gh_result r = token_deny(c, &j->call, cl->jti, cl->exp);
    if (r == GH_OK)
        api_audit(j, c, "token.revoke", "success", cl->sub,
                  json_pack("{s:s, s:s}", "token_type", "access_token", "jti", cl->jti));
    return r;
}

static gh_result revoke_refresh(api_job *j, gh_conn *c)
{
    gh_session s;
    gh_result r = session_by_refresh(c, &j->call, api_in(j, "token"), &s);
    if (r == GH_OK)
        r = session_revoke(c, &j->call, NULL, s.id, "token revoked", j->cfg->access_ttl_ms);
    if (r == GH_OK)
        api_audit(j, c, "token.revoke", "success", s.user_id,
                  json_pack("{s:s, s:s}", "token_type", "refresh_token", "session_id", s.id));
    /* RFC 7009 2.2: an unknown or already revoked token is still a 200 */
    return r == GH_ERR_NOT_FOUND || r == GH_ERR_INVALID ? GH_OK : r;
}

static void revoke_work(api_job *j, gh_conn *c)
{
    gh_result r = j->data ? revoke_access(j, c, j->data) : revoke_refresh(j, c);
    if (r != GH_OK)
        api_store_fail(j, r, "revoke");
    else
        api_empty(j, 200);
}

static void revoke(gh_req *req)
{
    api_job *j = oauth_job(req, 0);
    const char *tok;
    if (!j)
        return;
    if (!(tok = oauth_field(req, j->in, "token"))) {
        api_job_free(j);
        return;
    }
    classify(j, tok);
    api_job_run(req, j, revoke_work);
}

int oauth2_register(gh_router *r)
{
    return router_add(r, GH_POST, "/oauth2/token", token) |
           router_add(r, GH_POST, "/oauth2/introspect", introspect) |
           router_add(r, GH_POST, "/oauth2/revoke", revoke);
}
