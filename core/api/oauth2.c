/*
 * oauth2.c - the standard OAuth 2.0 endpoints, for clients that speak the
 * RFCs rather than our API:
 *   POST /oauth2/token       RFC 6749: grant_type password | refresh_token
 *                            (public clients: no client authentication)
 *                            | client_credentials (an OAuth client of
 *                            auth/clients.h, authenticated by its method)
 *   POST /oauth2/introspect  RFC 7662: for a client allowed to introspect
 *                            (its company's tokens), or a bearer holding
 *                            sessions:read (likewise); nobody else
 *   POST /oauth2/revoke      RFC 7009 (always 200: revoking is idempotent)
 * Bodies are form-encoded (JSON accepted too); errors are RFC 6749 5.2
 * {"error", "error_description"}. The user grants share auth/signin.c with
 * the API.
 *
 * A client's access token says sub "client:<client_id>" (never a user id,
 * which is a UUID), sid the client's row id, tenant its company, and
 * client_id and scope; aud is the RFC 8707 resource when one was asked
 * for. No refresh token: the client asks again.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>
#include "api/api.h"
#include "api/company.h"
#include "api/input.h"
#include "api/job.h"
#include "api/present.h"
#include "api/outcome.h"
#include "api/guard.h"
#include "auth/authz.h"
#include "auth/client_auth.h"
#include "auth/sessions.h"
#include "auth/signin.h"
#include "auth/users.h"
#include "plugin/host.h"

#define FIELD_MAX 4096
#define BASIC_MAX 1024 /* a Basic header's credentials, encoded */
#define BASIC_CHALLENGE "Basic realm=\"gatehouse\""

/* What an OAuth job carries from the loop to its work (j->data). */
typedef struct oauth_ctx {
    const char *method;  /* the client's authentication method, or NULL */
    int access;          /* token is a valid access token of ours ... */
    gh_claims token;     /* ... saying this */
} oauth_ctx;

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
    if (j && !(j->data = calloc(1, sizeof(oauth_ctx)))) {
        req_problem(req, 500, "internal_error", NULL);
        api_job_free(j);
        return NULL;
    }
    if (j && !(j->in = input_body(req, INPUT_FORM | INPUT_JSON | INPUT_OAUTH))) {
        api_job_free(j);
        return NULL;
    }
    return j;
}

/* ---------------------------------------------------------------- clients */

/* HTTP Basic's "id:secret", each form-urlencoded (RFC 6749 2.3.1), into
 * in as client_secret_post's fields. 0, or -1 answered. */
static int basic_credentials(gh_req *req, const char *h, json_t *in)
{
    unsigned char raw[BASIC_MAX];
    size_t n = 0, len;
    gh_call call = { 0 };
    while (*h == ' ')
        h++;
    len = strlen(h);
    const char *colon = NULL;
    json_t *id = NULL, *secret = NULL;
    int rc = -1;
    if (len < BASIC_MAX && host_decode(&call, GH_ENC_BASE64, h, len, raw, sizeof raw - 1, &n) == GH_OK &&
        (colon = memchr(raw, ':', n)) != NULL &&
        (id = input_form_decode((const char *)raw, (size_t)(colon - (const char *)raw))) &&
        (secret = input_form_decode(colon + 1, n - (size_t)(colon + 1 - (const char *)raw))) &&
        json_string_length(id) > 0 && json_object_set(in, "client_id", id) == 0 &&
        json_object_set(in, "client_secret", secret) == 0)
        rc = 0;
    OPENSSL_cleanse(raw, sizeof raw);
    json_decref(id);
    json_decref(secret);
    if (rc < 0) {
        req_set_header(req, "WWW-Authenticate", BASIC_CHALLENGE);
        oauth_error(req, 401, "invalid_client", "The Basic credentials cannot be read.");
    }
    return rc;
}

/*
 * The client credentials the request presents (RFC 6749 2.3): a Basic
 * header, client_secret in the body, or a client_assertion (RFC 7523).
 * One method at a time (2.3: a client MUST NOT use more than one). Basic's
 * id and secret join the body's fields; the method goes in the context.
 * 1 some, 0 none, -1 answered.
 */
static int read_client(gh_req *req, api_job *j)
{
    const char *h = req_header(req, "Authorization");
    oauth_ctx *x = j->data;
    int basic = h && strncasecmp(h, "Basic ", 6) == 0;
    int post = json_object_get(j->in, "client_secret") != NULL;
    int jwt = json_object_get(j->in, "client_assertion") != NULL ||
              json_object_get(j->in, "client_assertion_type") != NULL;
    if (basic + post + jwt > 1) {
        oauth_error(req, 400, "invalid_request", "Use one client authentication method only.");
        return -1;
    }
    if (basic) {
        /* a body's client_id must agree with the header's */
        const char *named = api_in(j, "client_id");
        char *body_id = named ? strdup(named) : NULL;
        int rc = basic_credentials(req, h + 6, j->in);
        if (rc == 0 && body_id && strcmp(body_id, api_in(j, "client_id")) != 0) {
            oauth_error(req, 400, "invalid_request", "client_id differs from the Basic credentials.");
            rc = -1;
        }
        free(body_id);
        if (rc < 0)
            return -1;
        x->method = CLIENT_SECRET_BASIC;
    } else if (jwt) {
        const char *type = oauth_field(req, j->in, "client_assertion_type");
        if (!type || !oauth_field(req, j->in, "client_assertion"))
            return -1;
        if (strcmp(type, CLIENT_ASSERTION_TYPE) != 0) {
            oauth_error(req, 400, "invalid_request", "client_assertion_type must be " CLIENT_ASSERTION_TYPE ".");
            return -1;
        }
        x->method = CLIENT_PRIVATE_KEY_JWT;
    } else if (post) {
        if (!oauth_field(req, j->in, "client_id") || !oauth_field(req, j->in, "client_secret"))
            return -1;
        x->method = CLIENT_SECRET_POST;
    } else {
        return 0;
    }
    return 1;
}

/* In the worker: the request's client, authenticated, into cl; 0, or -1
 * with the answer set (invalid_client, 429 while locked out). */
static int authenticate(api_job *j, gh_conn *c, gh_client *cl)
{
    const oauth_ctx *x = j->data;
    char endpoint[1024];
    client_creds cr = { .method = x->method, .client_id = api_in(j, "client_id"),
                        .secret = api_in(j, "client_secret"),
                        .assertion = api_in(j, "client_assertion") };
    int64_t wait_ms = 0;
    snprintf(endpoint, sizeof endpoint, "%s/oauth2/token", j->cfg->public_url);
    switch (client_authenticate(c, &j->call, j->cfg, endpoint, &cr, j->ip, cl, &wait_ms)) {
    case CLIENT_AUTH_OK:
        return 0;
    case CLIENT_AUTH_LOCKED:
        j->retry_after_s = (wait_ms + 999) / 1000;
        api_fail(j, 429, "invalid_client", "Too many failed attempts; try again later.");
        return -1;
    case CLIENT_AUTH_FAILED:
        if (strcmp(x->method, CLIENT_SECRET_BASIC) == 0)
            j->www_auth = BASIC_CHALLENGE;
        api_fail(j, 401, "invalid_client", "Client authentication failed.");
        return -1;
    default:
        api_store_fail(j, j->call.code ? j->call.code : GH_ERR_INTERNAL, "client authentication");
        return -1;
    }
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

/* RFC 6749 4.4, with RFC 8707's resource as the token's audience. */
static void client_grant_work(api_job *j, gh_conn *c)
{
    gh_client cl;
    if (authenticate(j, c, &cl) < 0)
        return;
    const char *scope = api_in(j, "scope"), *resource = api_in(j, "resource");
    if (!client_list_has(cl.grant_types, CLIENT_GRANT)) {
        api_fail(j, 400, "unauthorized_client", "This client may not use the client_credentials grant.");
        return;
    }
    if (scope && *scope && (!client_list_valid(scope, 0) || !client_list_subset(scope, cl.scopes))) {
        api_fail(j, 400, "invalid_scope", "A scope asked for is not one this client may have.");
        return;
    }
    if (resource && !client_list_has(cl.audiences, resource)) {
        api_fail(j, 400, "invalid_target", "The resource is not one this client may ask for.");
        return;
    }
    const char *granted = scope && *scope ? scope : cl.scopes;
    gh_claims claims = { 0 };
    snprintf(claims.sub, sizeof claims.sub, "client:%s", cl.client_id);
    snprintf(claims.sid, sizeof claims.sid, "%s", cl.id);
    snprintf(claims.tenant, sizeof claims.tenant, "%s", cl.tenant_id);
    json_t *extra = json_pack("{s:s, s:s}", "client_id", cl.client_id, "scope", granted);
    if (extra && resource)
        json_object_set_new(extra, "aud", json_string(resource));
    j->access_ttl_s = cl.token_ttl_s;
    api_sign_later(j, &claims, extra);
    json_decref(extra);
    api_ok(j, 200, json_pack("{s:n, s:s, s:I, s:s}", "access_token", "token_type", "Bearer",
                             "expires_in", (json_int_t)cl.token_ttl_s, "scope", granted));
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
    if (strcmp(grant, CLIENT_GRANT) == 0)
        return client_grant_work;
    oauth_error(req, 400, "unsupported_grant_type",
                "Supported grant types: password, refresh_token, client_credentials.");
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
    int client = work == client_grant_work ? read_client(req, j) : 0;
    if (client < 0) {
        api_job_free(j);
        return;
    }
    if (work == client_grant_work && !client) {
        req_set_header(req, "WWW-Authenticate", BASIC_CHALLENGE);
        oauth_error(req, 401, "invalid_client", "The client_credentials grant needs client authentication.");
        api_job_free(j);
        return;
    }
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

/* On the loop: whether `token` is a valid access token of ours, and its
 * claims (in the context, for the worker); if not, the worker tries it as
 * a refresh token. Any audience we issue for counts (a client's token for
 * a resource names that resource): the signature and issuer are ours. */
static void classify(api_job *j, const char *token)
{
    oauth_ctx *x = j->data;
    gh_token_conf tc = j->cfg->tokens;
    json_t *pl = token_payload(token), *aud = json_object_get(pl, "aud");
    const char *named = json_string_value(json_is_array(aud) ? json_array_get(aud, 0) : aud);
    const char *why;
    if (named)
        tc.audience = (char *)named;
    x->access = j->kr && token_verify(j->kr, &tc, token, api_now_s(), &x->token, &why) == 0;
    json_decref(pl);
}

/* RFC 7662's answer for an access token, with the roles (and permissions)
 * it carries, or a client's client_id and scope. */
static json_t *active_access(const api_job *j, const gh_claims *cl)
{
    json_t *pl = token_payload(api_in(j, "token"));
    json_t *roles = json_incref(json_object_get(pl, "roles"));
    json_t *perms = json_incref(json_object_get(pl, "permissions"));
    json_t *aud = json_incref(json_object_get(pl, "aud"));
    json_t *client_id = json_incref(json_object_get(pl, "client_id"));
    json_t *scope = json_incref(json_object_get(pl, "scope"));
    json_decref(pl);
    return json_pack("{s:b, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:o, s:s, s:o*, s:o*, s:o*, s:o*}",
                     "active", 1, "token_type", "access_token", "sub", cl->sub, "sid", cl->sid,
                     "jti", cl->jti, "exp", (json_int_t)cl->exp, "iat", (json_int_t)cl->iat,
                     "nbf", (json_int_t)cl->nbf, "iss", j->cfg->tokens.issuer, "aud",
                     aud ? aud : json_string(j->cfg->tokens.audience),
                     "tenant", cl->tenant, "roles", roles ? roles : json_array(), "permissions",
                     perms, "client_id", client_id, "scope", scope);
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
 * Who may introspect (RFC 7662 2.1 wants the endpoint protected): a client
 * registered as may_introspect, or a bearer holding sessions:read; either
 * sees the tokens of its own company only, and any other token is answered
 * {"active": false}, as 2.2 asks for a token the caller may not see.
 * Nobody else gets an answer: a user's own bearer token does not open it.
 * In the worker: the caller's company into tenant; 0, or -1 answered.
 */
static int introspector(api_job *j, gh_conn *c, char tenant[37])
{
    if (!(j->flags & API_BEARER)) {
        gh_client cl;
        if (authenticate(j, c, &cl) < 0)
            return -1;
        if (!cl.may_introspect) {
            api_fail(j, 403, "unauthorized_client", "This client may not introspect tokens.");
            return -1;
        }
        memcpy(tenant, cl.tenant_id, 37);
        return 0;
    }
    const authz_set *s;
    gh_result r = guard_perms(j, c, &s);
    if (r != GH_OK) {
        api_store_fail(j, r, "introspect");
        return -1;
    }
    if (!authz_has(s, "sessions:read")) {
        api_fail(j, 403, "insufficient_scope",
                 "Introspection needs the permission sessions:read, or a client allowed to introspect.");
        return -1;
    }
    snprintf(tenant, 37, "%.36s", j->claims.tenant);
    return 0;
}

/* 1 when a client's token (sub "client:...") is of a client that still
 * exists and is enabled, and for any other token; 0 not; -1 the store
 * failed (answered). */
static int client_live(api_job *j, gh_conn *c, const gh_claims *cl)
{
    gh_client client;
    if (strncmp(cl->sub, "client:", 7) != 0)
        return 1;
    gh_result r = client_get(c, &j->call, cl->tenant, cl->sid, &client);
    if (r == GH_OK)
        return !client.disabled;
    if (r == GH_ERR_NOT_FOUND)
        return 0;
    api_store_fail(j, r, "introspect");
    return -1;
}

static void inactive(api_job *j)
{
    api_ok(j, 200, json_pack("{s:b}", "active", 0));
}

static void introspect_work(api_job *j, gh_conn *c)
{
    const oauth_ctx *x = j->data;
    const gh_claims *cl = &x->token;
    char tenant[37];
    gh_session s;
    int live;
    if (introspector(j, c, tenant) < 0)
        return;
    if (x->access) {
        int denied = token_denied(c, &j->call, cl->sid, cl->jti);
        if (denied < 0)
            api_store_fail(j, GH_ERR_UNAVAILABLE, "introspect");
        else if (denied || strcmp(cl->tenant, tenant) != 0 || (live = client_live(j, c, cl)) == 0)
            inactive(j);
        else if (live > 0)
            api_ok(j, 200, active_access(j, cl));
        return;
    }
    gh_result r = session_by_refresh(c, &j->call, api_in(j, "token"), &s);
    if (r == GH_OK && strcmp(s.tenant_id, tenant) == 0)
        api_ok(j, 200, active_refresh(j, &s));
    else if (r == GH_OK || r == GH_ERR_NOT_FOUND || r == GH_ERR_INVALID)
        inactive(j);
    else
        api_store_fail(j, r, "introspect");
}

static void introspect(gh_req *req)
{
    api_job *j = oauth_job(req, API_READ);
    const char *tok;
    int client;
    if (!j)
        return;
    if ((client = read_client(req, j)) < 0 || !(tok = oauth_field(req, j->in, "token"))) {
        api_job_free(j);
        return;
    }
    if (client) {
        j->flags &= ~API_READ; /* failures and assertions' jti are written */
    } else {
        j->flags |= API_BEARER | API_RBAC;
        if (guard_bearer(req, j) < 0) {
            api_job_free(j);
            return;
        }
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
    const oauth_ctx *x = j->data;
    gh_result r = x->access ? revoke_access(j, c, &x->token) : revoke_refresh(j, c);
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
