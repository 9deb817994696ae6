/*
 * oauth.c - sign-in with an OAuth / OpenID Connect provider (plugins of
 * kind oauth, auth/oauth_plugin.h), and the identities a user links.
 *
 *   GET    /api/v1/oauth/{name}?redirect_to=&company=   302 to the provider
 *   GET    /api/v1/oauth/{name}/callback                 the provider's answer
 *   POST   /api/v1/oauth/exchange {code}                 the token answer
 *   GET    /api/v1/users/me/identities                   {items}
 *   POST   /api/v1/users/me/identities/{name} {redirect_to?}  {url}: link
 *   DELETE /api/v1/users/me/identities/{id}              204, 409 when last
 *
 * The start keeps a state record in kv for STATE_TTL_MS under the
 * digest of `state` (random): the PKCE verifier, the nonce, redirect_to,
 * the company, the user being linked, and the digest of a random value
 * set as a cookie of the flow's own (COOKIE + part of the state's digest,
 * so flows started side by side in one browser do not overwrite each
 * other; Secure, HttpOnly, SameSite=Lax, Path=/). The callback takes the
 * record (kv del: one use, even in a race), clears the cookie, and goes on
 * only when the cookie's digest matches: a state leaked or forged into
 * another browser is worth nothing there. Then the provider's error, the
 * exchange (the plugin checks RFC 9207's iss, the ID token, userinfo),
 * and the account:
 *   - the identity (provider, subject) is known: its user signs in;
 *   - else an account with the same email is linked only when the
 *     provider says the address is verified and oauth.link_by_verified_email
 *     is on; otherwise 409 account_exists: whoever holds the password must
 *     sign in and link (an attacker's provider account with the victim's
 *     address, unverified or at a lax provider, takes no account over);
 *   - else a new account, when sign-up is open on the server and in the
 *     company (no password: the identity is its way in).
 * The sign-in is the password's pipeline (auth/signin.h) with the
 * identity as proof: disabled accounts, unverified email when required
 * and the MFA challenge apply alike. With redirect_to (matched exactly
 * against oauth.redirect_allowlist) the browser goes back with a one-time
 * `code` (CODE_TTL_MS, kv) or `error=<code>`; tokens never travel in a
 * URL. Without, the callback answers as /auth/login does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include "api/api.h"
#include "api/input.h"
#include "api/job.h"
#include "api/outcome.h"
#include "api/present.h"
#include "api/company.h"
#include "auth/identities.h"
#include "auth/oauth_plugin.h"
#include "auth/signin.h"
#include "auth/users.h"
#include "clock.h"
#include "out.h"

#define STATE_TTL_MS (10 * 60 * 1000)
#define CODE_TTL_MS (60 * 1000)
#define REDIRECT_MAX 2048
#define PARAM_MAX 4096
/* __Host-: the browser takes it only with Secure and Path=/ and no Domain,
 * so no sibling subdomain can plant one for us. Over plain http browsers
 * keep it only for localhost, which they count as secure. */
#define COOKIE "__Host-gh-oauth-"
#define COOKIE_ATTRS "Path=/; Secure; HttpOnly; SameSite=Lax"
#define STATE_KEY "oauth-state:"
#define CODE_KEY "oauth-code:"

/* ---------------------------------------------------------------- kv */

/* kv key prefix + the digest of secret. */
static void kv_key(const char *prefix, const char *secret, char *out, size_t len)
{
    char digest[GH_DIGEST_LEN];
    secret_digest(secret, digest);
    snprintf(out, len, "%s%s", prefix, digest);
}

static gh_result kv_put_json(gh_conn *c, gh_call *call, const char *key, json_t *v,
                             int64_t ttl_ms)
{
    char *text = json_dumps(v, JSON_COMPACT);
    if (!text)
        return GH_ERR_NOMEM;
    gh_result r = store_kv_set(c, call, key, text, strlen(text), ttl_ms, GH_KV_NX);
    OPENSSL_cleanse(text, strlen(text));
    free(text);
    return r;
}

/* Take the JSON under key: read, then delete, and only the caller whose
 * delete removed it gets it, so of two racing callers one wins. */
static gh_result kv_take_json(gh_conn *c, gh_call *call, const char *key, json_t **v)
{
    gh_out *out = out_new();
    *v = NULL;
    if (!out)
        return GH_ERR_NOMEM;
    gh_result r = store_kv_get(c, call, key, out);
    const gh_param *val = r == GH_OK ? out_get(out, "value", 0) : NULL;
    if (r == GH_OK && (!val || !(*v = json_loadb(val->data, val->len, 0, NULL))))
        r = GH_ERR_NOT_FOUND; /* not a record we wrote */
    out_free(out);
    if (r == GH_OK)
        r = store_kv_del(c, call, key);
    if (r != GH_OK) {
        json_decref(*v);
        *v = NULL;
    }
    return r;
}

static const char *rec_str(const json_t *rec, const char *key)
{
    return json_string_value(json_object_get(rec, key));
}

/* ---------------------------------------------------------------- answers */

/* redirect_to with one more query parameter (value URL-safe already). */
static char *back_to(const char *redirect_to, const char *key, const char *value)
{
    char *url = NULL;
    if (asprintf(&url, "%s%c%s=%s", redirect_to, strchr(redirect_to, '?') ? '&' : '?', key,
                 value) < 0)
        return NULL;
    return url;
}

/* A failure of the flow: back to redirect_to with error=code, or the
 * problem answer; audited either way. */
static void flow_fail(api_job *j, gh_conn *c, const json_t *rec, int status, const char *code,
                      const char *detail)
{
    const char *to = rec ? rec_str(rec, "r") : NULL;
    const char *user = rec ? rec_str(rec, "u") : NULL;
    api_audit(j, c, user ? "identity.link" : "login.oauth", "failure", user,
              json_pack("{s:s, s:s}", "provider", j->target, "reason", code));
    if (to)
        api_redirect(j, back_to(to, "error", code));
    else
        api_fail(j, status, code, detail);
}

/* The plugin's failure as the flow's. */
static void exchange_fail(api_job *j, gh_conn *c, const json_t *rec, gh_result r)
{
    if (r == GH_ERR_DENIED)
        flow_fail(j, c, rec, 401, "oauth_denied", "The provider's answer was refused.");
    else if (r == GH_ERR_NOMEM || r == GH_ERR_INTERNAL || r == GH_ERR_INVALID)
        flow_fail(j, c, rec, 500, "internal_error", NULL);
    else
        flow_fail(j, c, rec, 502, "provider_unavailable", "The provider cannot be reached.");
}

static int redirect_allowed(const gh_config *cfg, const char *to)
{
    for (size_t i = 0; i < cfg->n_oauth_redirects; i++)
        if (strcmp(cfg->oauth_redirects[i], to) == 0)
            return 1;
    return 0;
}

/* ---------------------------------------------------------------- start */

/* The name of the flow's cookie: COOKIE and 16 hex digits of the digest
 * of its state. */
static void cookie_name(const char *state, char out[64])
{
    char digest[GH_DIGEST_LEN];
    secret_digest(state, digest);
    snprintf(out, 64, "%s%.16s", COOKIE, digest);
}

static char *callback_uri(const api_job *j)
{
    char *uri = NULL;
    if (asprintf(&uri, "%s/api/v1/oauth/%s/callback", j->cfg->public_url, j->target) < 0)
        return NULL;
    return uri;
}

/* PKCE S256 (RFC 7636 4.2): base64url(SHA-256(verifier)). */
static void pkce_challenge(const char *verifier, char out[GH_B64URL_LEN(SHA256_DIGEST_LENGTH)])
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)verifier, strlen(verifier), d);
    b64url_encode(d, sizeof d, out, GH_B64URL_LEN(SHA256_DIGEST_LENGTH));
}

/* Start a flow for the provider j->target, for user_id to link (NULL: to
 * sign in): the state record, the cookie, and the provider's URL into
 * *url. 0, or -1 with the answer set. */
static int flow_start(api_job *j, gh_conn *c, const char *user_id, char **url)
{
    const gh_loaded *p = oauth_plugin_of(&j->app->plugins, j->target);
    char state[GH_SECRET_LEN], verifier[GH_SECRET_LEN], nonce[GH_SECRET_LEN];
    char browser[GH_SECRET_LEN], bdigest[GH_DIGEST_LEN], key[128], name[64];
    char challenge[GH_B64URL_LEN(SHA256_DIGEST_LENGTH)];
    char *redirect_uri = callback_uri(j);
    const char *to = api_in(j, "redirect_to");
    *url = NULL;
    gh_result r = p && redirect_uri ? GH_OK : GH_ERR_NOMEM;
    if (!p) {
        free(redirect_uri);
        api_fail(j, 404, "unknown_provider", "No such sign-in provider.");
        return -1;
    }
    if (r == GH_OK && (secret_new(state) || secret_new(verifier) || secret_new(nonce) ||
                       secret_new(browser)))
        r = GH_ERR_INTERNAL;
    json_t *rec = NULL;
    if (r == GH_OK) {
        secret_digest(browser, bdigest);
        pkce_challenge(verifier, challenge);
        rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s*, s:s*}", "p", j->target, "v", verifier,
                        "n", nonce, "b", bdigest, "t", api_tenant(j), "r", to, "u", user_id);
        kv_key(STATE_KEY, state, key, sizeof key);
        r = rec ? kv_put_json(c, &j->call, key, rec, STATE_TTL_MS) : GH_ERR_NOMEM;
    }
    if (r == GH_OK)
        r = oauth_plugin_authorize(p, &j->call, redirect_uri, state, nonce, challenge, url);
    if (r == GH_OK)
        cookie_name(state, name);
    if (r == GH_OK && asprintf(&j->set_cookie, "%s=%s; Max-Age=%d; " COOKIE_ATTRS, name, browser,
                               STATE_TTL_MS / 1000) < 0) {
        j->set_cookie = NULL;
        r = GH_ERR_NOMEM;
    }
    if (rec) {
        OPENSSL_cleanse((char *)rec_str(rec, "v"), strlen(verifier));
        json_decref(rec);
    }
    OPENSSL_cleanse(verifier, sizeof verifier);
    OPENSSL_cleanse(browser, sizeof browser);
    free(redirect_uri);
    if (r != GH_OK) {
        free(*url);
        *url = NULL;
        api_store_fail(j, r, "oauth start");
        return -1;
    }
    return 0;
}

static void start_work(api_job *j, gh_conn *c)
{
    char *url;
    if (flow_start(j, c, NULL, &url) == 0)
        api_redirect(j, url);
}

/* The checks both starts share, on the loop: the provider's name into
 * j->target, redirect_to on the allowlist. 0, or -1 answered. */
static int start_check(gh_req *req, api_job *j, const char *name)
{
    const char *to;
    if (!name || strlen(name) >= sizeof j->target) {
        req_problem(req, 404, "unknown_provider", "No such sign-in provider.");
        return -1;
    }
    snprintf(j->target, sizeof j->target, "%s", name);
    if (input_string(req, j->in, "redirect_to", INPUT_OPTIONAL, REDIRECT_MAX, &to) < 0)
        return -1;
    if (to && !redirect_allowed(j->cfg, to)) {
        input_reject(req, "invalid_redirect_to", "redirect_to", "is not an allowed address.");
        return -1;
    }
    return 0;
}

static void start(gh_req *req)
{
    api_job *j = api_job_new(req, 0);
    static const char *const known[] = { "redirect_to", "company", NULL };
    if (!j)
        return;
    if (!(j->in = input_query(req)) || input_only(req, j->in, known) < 0 ||
        start_check(req, j, req_param(req, "name")) < 0) {
        api_job_free(j);
        return;
    }
    if (api_company_pick(req, j) == 0)
        api_job_run(req, j, start_work);
}

/* ---------------------------------------------------------------- sign-in */

/* Sign user_id in through the identity pipeline, answering as /auth/login. */
static void sign_in(api_job *j, gh_conn *c, const char *user_id)
{
    gh_auth_ctx ax;
    api_auth_ctx(j, c, &ax);
    auth_result r = { 0 };
    signin_attempt a = { .method = &signin_identity_method, .login = user_id };
    auth_outcome o = signin_run(&ax, &a, &r);
    if (o == AUTH_OK) {
        json_t *body = api_outcome_tokens(j, &r);
        if (body)
            json_object_set_new(body, "user", present_user(&r.user));
        api_ok(j, 200, body);
    } else if (o == AUTH_MFA) {
        api_ok(j, 200, json_pack("{s:b, s:s, s:O}", "mfa_required", 1, "mfa_token", r.mfa_token,
                                 "methods", r.methods));
    } else {
        api_outcome_fail(j, o, &r);
    }
    auth_clear(&r);
}

/* The company of a flow (its id, which the start recorded) into
 * j->company, as a request naming it would: 0, or -1 answered. */
static int flow_company(api_job *j, gh_conn *c, const char *tenant)
{
    snprintf(j->company_slug, sizeof j->company_slug, "%s", tenant ? tenant : "");
    if (!j->company_slug[0]) {
        api_store_fail(j, GH_ERR_INTERNAL, "oauth record without company");
        return -1;
    }
    return api_company_resolve(j, c);
}

/* A new account for the provider's profile, with its identity, in one
 * transaction: its id into user_id. 0, or -1 answered. */
static int sign_up(api_job *j, gh_conn *c, const json_t *rec, const oauth_profile *pr,
                   char user_id[37])
{
    gh_user u = { .is_active = 1 };
    char id[37];
    snprintf(u.tenant_id, sizeof u.tenant_id, "%s", api_tenant(j));
    u.email = pr->email ? strdup(pr->email) : NULL;
    u.full_name = pr->name ? strdup(pr->name) : NULL;
    u.given_name = pr->given_name ? strdup(pr->given_name) : NULL;
    u.family_name = pr->family_name ? strdup(pr->family_name) : NULL;
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK && (r = users_create(c, &j->call, &u, NULL)) == GH_OK &&
        (!pr->email_verified || (r = users_mark_verified(c, &j->call, u.id, gh_now_ms())) == GH_OK))
        r = identities_create(c, &j->call, u.tenant_id, u.id, j->target, pr->subject, pr->email, id);
    if (r == GH_OK)
        r = store_commit(c, &j->call);
    else
        store_rollback(c, &j->call);
    snprintf(user_id, 37, "%s", u.id);
    user_clear(&u);
    if (r == GH_ERR_INVALID) {
        flow_fail(j, c, rec, 422, "email_required", "The provider gave no usable email address.");
        return -1;
    }
    if (r == GH_ERR_CONFLICT) { /* a race with another sign-up of the same address */
        flow_fail(j, c, rec, 409, "account_exists",
                  "An account with this email exists: sign in, then link the provider.");
        return -1;
    }
    if (r != GH_OK) {
        api_store_fail(j, r, "oauth signup");
        return -1;
    }
    api_audit(j, c, "user.signup", "success", user_id, json_pack("{s:s}", "provider", j->target));
    return 0;
}

/* The account the provider's profile signs in to (linking or creating
 * it, as the rules say) into user_id: 0, or -1 answered. */
static int account_for(api_job *j, gh_conn *c, const json_t *rec, const oauth_profile *pr,
                       char user_id[37])
{
    char id[37];
    gh_user u = { 0 };
    gh_result r = identities_find(c, &j->call, api_tenant(j), j->target, pr->subject, user_id, id);
    if (r == GH_OK) {
        identities_touch(c, &j->call, id); /* bookkeeping: a failure costs no sign-in */
        return 0;
    }
    if (r != GH_ERR_NOT_FOUND) {
        api_store_fail(j, r, "identity lookup");
        return -1;
    }
    r = pr->email ? users_find_login(c, &j->call, api_tenant(j), pr->email, &u, NULL)
                  : GH_ERR_NOT_FOUND;
    if (r == GH_OK) {
        snprintf(user_id, 37, "%s", u.id);
        user_clear(&u);
        if (!pr->email_verified || !j->cfg->oauth_link_verified) {
            flow_fail(j, c, rec, 409, "account_exists",
                      "An account with this email exists: sign in, then link the provider.");
            return -1;
        }
        r = identities_create(c, &j->call, api_tenant(j), user_id, j->target, pr->subject,
                              pr->email, id);
        if (r != GH_OK) {
            api_store_fail(j, r, "identity link");
            return -1;
        }
        api_audit(j, c, "identity.link", "success", user_id,
                  json_pack("{s:s, s:s, s:s}", "provider", j->target, "identity_id", id, "by",
                            "verified_email"));
        return 0;
    }
    if (r != GH_ERR_NOT_FOUND) {
        api_store_fail(j, r, "user lookup");
        return -1;
    }
    if (!j->cfg->allow_signup || !j->company.settings.signup_allowed) {
        flow_fail(j, c, rec, 403, "signup_disabled", "Sign-up is closed in this company.");
        return -1;
    }
    return sign_up(j, c, rec, pr, user_id);
}

/* ---------------------------------------------------------------- link */

/* Link the profile to the flow's user: the answer, or back to redirect_to
 * with linked=<provider>. */
static void link_identity(api_job *j, gh_conn *c, const json_t *rec, const oauth_profile *pr)
{
    const char *user = rec_str(rec, "u"), *to = rec_str(rec, "r");
    char owner[37], id[37];
    gh_result r = identities_find(c, &j->call, api_tenant(j), j->target, pr->subject, owner, id);
    if (r == GH_OK && strcmp(owner, user) != 0) {
        flow_fail(j, c, rec, 409, "identity_taken",
                  "This provider account is linked to another account.");
        return;
    }
    if (r == GH_ERR_NOT_FOUND)
        r = identities_create(c, &j->call, api_tenant(j), user, j->target, pr->subject,
                              pr->email, id);
    if (r != GH_OK) {
        api_store_fail(j, r, "identity link");
        return;
    }
    api_audit(j, c, "identity.link", "success", user,
              json_pack("{s:s, s:s}", "provider", j->target, "identity_id", id));
    if (to)
        api_redirect(j, back_to(to, "linked", j->target));
    else
        api_ok(j, 200, json_pack("{s:s, s:s, s:s}", "id", id, "provider", j->target, "subject",
                                 pr->subject));
}

/* ---------------------------------------------------------------- callback */

/* The provider's user is user_id: without redirect_to the sign-in itself;
 * with, a one-time code for it, so no token travels in a URL. */
static void signed_in(api_job *j, gh_conn *c, const char *to, const char *user_id)
{
    char one[GH_SECRET_LEN], key[128];
    if (!to) {
        sign_in(j, c, user_id);
        return;
    }
    if (secret_new(one) != 0) {
        api_store_fail(j, GH_ERR_INTERNAL, "oauth code");
        return;
    }
    json_t *grant = json_pack("{s:s, s:s, s:s}", "u", user_id, "t", api_tenant(j), "p",
                              j->target);
    kv_key(CODE_KEY, one, key, sizeof key);
    gh_result r = grant ? kv_put_json(c, &j->call, key, grant, CODE_TTL_MS) : GH_ERR_NOMEM;
    json_decref(grant);
    if (r == GH_OK)
        api_redirect(j, back_to(to, "code", one));
    else
        api_store_fail(j, r, "oauth code");
    OPENSSL_cleanse(one, sizeof one);
}

/* The flow's end once the state is known good: the provider's answer,
 * the exchange, then the account. */
static void callback_flow(api_job *j, gh_conn *c, const json_t *rec)
{
    const char *err = api_in(j, "error"), *code = api_in(j, "code");
    if (err) {
        int denied = strcmp(err, "access_denied") == 0;
        flow_fail(j, c, rec, denied ? 403 : 502, denied ? "access_denied" : "provider_error",
                  "The provider did not sign the user in.");
        return;
    }
    if (!code) {
        flow_fail(j, c, rec, 400, "invalid_request", "The provider's answer has no code.");
        return;
    }
    const gh_loaded *p = oauth_plugin_of(&j->app->plugins, j->target);
    char *redirect_uri = callback_uri(j);
    oauth_profile pr = { 0 };
    gh_result r = p && redirect_uri ? GH_OK : GH_ERR_INTERNAL;
    if (r == GH_OK)
        r = oauth_plugin_exchange(p, &j->call, code, redirect_uri, rec_str(rec, "v"),
                                  rec_str(rec, "n"), api_in(j, "iss"), &pr);
    free(redirect_uri);
    char user_id[37];
    if (r != GH_OK)
        exchange_fail(j, c, rec, r);
    else if (rec_str(rec, "u"))
        link_identity(j, c, rec, &pr);
    else if (account_for(j, c, rec, &pr, user_id) == 0)
        signed_in(j, c, rec_str(rec, "r"), user_id);
    oauth_profile_clear(&pr);
}

static void callback_work(api_job *j, gh_conn *c)
{
    const char *state = api_in(j, "state"), *cookie = api_in(j, "cookie");
    char key[128], digest[GH_DIGEST_LEN];
    json_t *rec = NULL;
    gh_result r = state ? GH_OK : GH_ERR_NOT_FOUND;
    if (r == GH_OK) {
        kv_key(STATE_KEY, state, key, sizeof key);
        r = kv_take_json(c, &j->call, key, &rec);
    }
    const char *bound = rec_str(rec, "b"), *provider = rec_str(rec, "p");
    if (r == GH_OK && (!bound || !provider || strcmp(provider, j->target) != 0))
        r = GH_ERR_NOT_FOUND; /* a state of another provider's flow */
    if (r == GH_ERR_NOT_FOUND) {
        flow_fail(j, c, NULL, 400, "invalid_state", "Unknown, used or expired state.");
    } else if (r != GH_OK) {
        api_store_fail(j, r, "oauth state");
    } else if (!cookie || (secret_digest(cookie, digest),
                           CRYPTO_memcmp(digest, bound, GH_DIGEST_LEN - 1) != 0 ||
                               strlen(bound) != GH_DIGEST_LEN - 1)) {
        /* the state came back to a browser that did not start the flow */
        flow_fail(j, c, rec, 400, "browser_mismatch", "This sign-in was started elsewhere.");
    } else if (flow_company(j, c, rec_str(rec, "t")) == 0) {
        callback_flow(j, c, rec);
    }
    if (rec) {
        const char *v = rec_str(rec, "v");
        if (v)
            OPENSSL_cleanse((char *)v, strlen(v));
        json_decref(rec);
    }
}

/* The value of cookie name in a Cookie header, malloc'd, or NULL. */
static char *cookie_value(const char *header, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = header; p && *p;) {
        p += strspn(p, " ");
        if (strncmp(p, name, n) == 0 && p[n] == '=')
            return strndup(p + n + 1, strcspn(p + n + 1, ";"));
        p = strchr(p, ';');
        if (p)
            p++;
    }
    return NULL;
}

static void callback(gh_req *req)
{
    api_job *j = api_job_new(req, 0);
    const char *name = req_param(req, "name"), *v;
    static const char *const keys[] = { "state", "code", "iss", "error", NULL };
    if (!j)
        return;
    /* providers add parameters of their own (scope, session_state, hd):
     * the ones used are checked, the rest ignored */
    if (!(j->in = input_query(req))) {
        api_job_free(j);
        return;
    }
    for (size_t i = 0; keys[i]; i++)
        if (input_string(req, j->in, keys[i], INPUT_OPTIONAL, PARAM_MAX, &v) < 0) {
            api_job_free(j);
            return;
        }
    if (!name || strlen(name) >= sizeof j->target) {
        req_problem(req, 404, "unknown_provider", "No such sign-in provider.");
        api_job_free(j);
        return;
    }
    snprintf(j->target, sizeof j->target, "%s", name);
    const char *state = api_in(j, "state");
    if (state) { /* the flow's cookie, which has done its job whatever comes */
        char cname[64];
        cookie_name(state, cname);
        char *cookie = cookie_value(req_header(req, "Cookie"), cname);
        if (cookie) {
            json_object_set_new(j->in, "cookie", json_string(cookie));
            OPENSSL_cleanse(cookie, strlen(cookie));
            free(cookie);
        }
        if (asprintf(&j->set_cookie, "%s=; Max-Age=0; " COOKIE_ATTRS, cname) < 0)
            j->set_cookie = NULL;
    }
    api_job_run(req, j, callback_work);
}

/* ---------------------------------------------------------------- exchange */

static void exchange_work(api_job *j, gh_conn *c)
{
    char key[128];
    json_t *grant = NULL;
    kv_key(CODE_KEY, api_in(j, "code"), key, sizeof key);
    gh_result r = kv_take_json(c, &j->call, key, &grant);
    const char *user = rec_str(grant, "u");
    snprintf(j->target, sizeof j->target, "%s", rec_str(grant, "p") ? rec_str(grant, "p") : "");
    if (r == GH_ERR_NOT_FOUND || (r == GH_OK && !user)) {
        api_audit(j, c, "login.oauth", "failure", NULL,
                  json_pack("{s:s}", "reason", "invalid_code"));
        api_fail(j, 400, "invalid_code", "Unknown, used or expired code.");
    } else if (r != GH_OK) {
        api_store_fail(j, r, "oauth code");
    } else if (flow_company(j, c, rec_str(grant, "t")) == 0) {
        sign_in(j, c, user);
    }
    json_decref(grant);
}

static void exchange(gh_req *req)
{
    api_job *j = api_job_new(req, 0);
    static const char *const known[] = { "code", NULL };
    const char *code;
    if (j && (!(j->in = input_body(req, INPUT_JSON)) || input_only(req, j->in, known) < 0 ||
              input_string(req, j->in, "code", INPUT_REQUIRED, 64, &code) < 0)) {
        api_job_free(j);
        return;
    }
    if (j)
        api_job_run(req, j, exchange_work);
}

/* ---------------------------------------------------------------- identities */

static void list_work(api_job *j, gh_conn *c)
{
    json_t *items = NULL;
    gh_result r = identities_list(c, &j->call, j->claims.sub, &items);
    if (r != GH_OK)
        api_store_fail(j, r, "identities");
    else
        api_ok(j, 200, json_pack("{s:o}", "items", items));
}

static void list(gh_req *req)
{
    api_job *j = api_job_new(req, API_BEARER | API_READ);
    if (j)
        api_job_run(req, j, list_work);
}

static void link_work(api_job *j, gh_conn *c)
{
    char *url;
    if (flow_start(j, c, j->claims.sub, &url) == 0)
        api_ok(j, 200, json_pack("{s:s}", "url", url));
    free(url);
}

static void link_start(gh_req *req)
{
    api_job *j = api_job_new(req, API_BEARER);
    static const char *const known[] = { "redirect_to", NULL };
    if (j && (!(j->in = input_body(req, INPUT_JSON)) || input_only(req, j->in, known) < 0 ||
              start_check(req, j, req_param(req, "name")) < 0)) {
        api_job_free(j);
        return;
    }
    if (j)
        api_job_run(req, j, link_work);
}

/* The identity goes unless it is the last way in: no password and no
 * other identity. Counted and deleted in one transaction, so two unlinks
 * racing cannot both pass the count. */
static void unlink_work(api_job *j, gh_conn *c)
{
    char hash[GH_PW_HASH_MAX], provider[64];
    int64_t n = 0;
    gh_result r = store_begin(c, &j->call), pw = GH_OK;
    if (r == GH_OK)
        r = identities_count(c, &j->call, j->claims.sub, &n);
    if (r == GH_OK)
        pw = users_password_hash(c, &j->call, j->claims.sub, hash);
    OPENSSL_cleanse(hash, sizeof hash);
    if (r == GH_OK && pw != GH_OK && pw != GH_ERR_NOT_FOUND)
        r = pw;
    int last = r == GH_OK && n <= 1 && pw == GH_ERR_NOT_FOUND;
    if (r == GH_OK && !last)
        r = identities_delete(c, &j->call, j->claims.sub, j->target, provider);
    if (r == GH_OK && !last)
        r = store_commit(c, &j->call);
    else
        store_rollback(c, &j->call);
    if (r == GH_ERR_NOT_FOUND) {
        api_fail(j, 404, "not_found", "No such identity.");
    } else if (r != GH_OK) {
        api_store_fail(j, r, "identity unlink");
    } else if (last) {
        api_audit(j, c, "identity.unlink", "denied", j->claims.sub,
                  json_pack("{s:s, s:s}", "identity_id", j->target, "reason", "last_sign_in_method"));
        api_fail(j, 409, "last_sign_in_method",
                 "This is the account's only way to sign in: set a password or link another "
                 "provider first.");
    } else {
        api_audit(j, c, "identity.unlink", "success", j->claims.sub,
                  json_pack("{s:s, s:s}", "identity_id", j->target, "provider", provider));
        api_ok(j, 204, NULL);
    }
}

static void unlink_identity(gh_req *req)
{
    api_job *j = api_job_new(req, API_BEARER);
    char id[37];
    if (j && input_path_id(req, "id", id) < 0) {
        api_job_free(j);
        return;
    }
    if (j) {
        snprintf(j->target, sizeof j->target, "%s", id);
        api_job_run(req, j, unlink_work);
    }
}

int oauth_register(gh_router *r)
{
    return router_add(r, GH_GET, "/api/v1/oauth/{name}", start) |
           router_add(r, GH_GET, "/api/v1/oauth/{name}/callback", callback) |
           router_add(r, GH_POST, "/api/v1/oauth/exchange", exchange) |
           router_add(r, GH_GET, "/api/v1/users/me/identities", list) |
           router_add(r, GH_POST, "/api/v1/users/me/identities/{name}", link_start) |
           router_add(r, GH_DELETE, "/api/v1/users/me/identities/{id}", unlink_identity);
}
