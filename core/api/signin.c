/*
 * signin.c - password sign-in and refresh grant, shared by the API and the
 * OAuth doors. See signin.h for the order of the checks and why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "api/signin.h"
#include "auth/lockout.h"
#include "auth/mfa.h"
#include "log.h"

void signin_clear(signin_result *r)
{
    user_clear(&r->user);
    json_decref(r->methods);
    OPENSSL_cleanse(r, sizeof *r);
}

void signin_account_key(const char *tenant, const char *login, char *out, size_t len)
{
    char norm[256];
    if (email_normalize(login, norm, sizeof norm) != 0 &&
        username_normalize(login, norm, sizeof norm) != 0) {
        size_t i = 0;
        for (; login[i] && i + 1 < sizeof norm; i++)
            norm[i] = (char)(login[i] >= 'A' && login[i] <= 'Z' ? login[i] + 32 : login[i]);
        norm[i] = '\0';
    }
    snprintf(out, len, "%s:%s", tenant, norm);
}

static signin_outcome failed(api_job *j, gh_result r, const char *what)
{
    api_store_fail(j, r, what);
    return SIGNIN_FAILED;
}

static json_t *reason(const char *why)
{
    return json_pack("{s:s}", "reason", why);
}

/* The access token of u for session r->session: signed on the loop, into
 * the answer present_tokens makes (api_sign_later says why). */
static signin_outcome issue_access(api_job *j, const gh_user *u, signin_result *r)
{
    gh_claims cl = { 0 };
    snprintf(cl.sub, sizeof cl.sub, "%s", u->id);
    snprintf(cl.sid, sizeof cl.sid, "%s", r->session.id);
    snprintf(cl.tenant, sizeof cl.tenant, "%s", u->tenant_id);
    cl.admin = u->is_admin;
    api_sign_later(j, &cl);
    return SIGNIN_OK;
}

signin_outcome signin_issue(api_job *j, gh_conn *c, const gh_user *u, signin_result *r)
{
    gh_result res = session_create(c, &j->call, u->tenant_id, u->id, j->ua, j->ip,
                                   j->cfg->refresh_ttl_ms, &r->session, r->refresh);
    if (res != GH_OK)
        return failed(j, res, "session create");
    return issue_access(j, u, r);
}

/* A bcrypt hash, or argon2id below the configured cost, is replaced now
 * that the password is known. Failing to is not the user's problem. */
static void upgrade_hash(api_job *j, gh_conn *c, const gh_user *u, const char *pw,
                         const gh_pw_params *pp)
{
    char hash[GH_PW_HASH_MAX];
    gh_result r = GH_ERR_INTERNAL;
    if (password_hash(pw, strlen(pw), pp, hash) == 0)
        r = users_set_password(c, &j->call, u->id, hash);
    OPENSSL_cleanse(hash, sizeof hash);
    if (r == GH_OK)
        gh_log_tagged(GH_LOG_INFO, "auth", j->request_id, "password hash of user %s upgraded",
                      u->id);
    else
        gh_log_tagged(GH_LOG_WARNING, "auth", j->request_id,
                      "cannot upgrade the password hash of user %s: %s", u->id, gh_result_str(r));
}

/* The lockout key of a known account is the account itself, so its email
 * and its username share one counter (else knowing both would double an
 * attacker's tries); an unknown login is keyed as typed, normalised, so it
 * locks exactly like a real one and tells nothing. */
static void account_key(const gh_user *u, const char *tenant, const char *login, char *out,
                        size_t len)
{
    if (u && u->id[0])
        snprintf(out, len, "%s:id:%s", u->tenant_id, u->id);
    else
        signin_account_key(tenant, login, out, len);
}

/* Step 3 of signin.h: 1 the password is right, 0 not. An unknown account
 * (hash NULL) costs one dummy verification, the same work as a real one. */
static int check_password(api_job *j, const char *pw, const char *hash, const gh_user *u,
                          int *rehash)
{
    const gh_pw_params *pp = &j->cfg->argon2;
    if (!hash) {
        password_verify_dummy(pw, strlen(pw), pp);
        return 0;
    }
    int ok = password_verify(pw, strlen(pw), hash, pp, rehash);
    if (ok < 0)
        gh_log_tagged(GH_LOG_ERROR, "auth", j->request_id,
                      "user %s has an unreadable password hash", u->id);
    return ok == 1;
}

/* Steps 6-8 of signin.h, once the password is known to be right. */
static signin_outcome admit(api_job *j, gh_conn *c, signin_result *r)
{
    gh_user *u = &r->user;
    if (!u->is_active || (j->cfg->require_verified_email && u->email_verified_at <= 0)) {
        int disabled = !u->is_active;
        api_audit(j, c, "login.failure", "denied", u->id,
                  reason(disabled ? "account_disabled" : "email_not_verified"));
        return disabled ? SIGNIN_DISABLED : SIGNIN_UNVERIFIED;
    }
    gh_result res = mfa_methods(c, &j->call, u->id, &r->methods);
    if (res != GH_OK)
        return failed(j, res, "mfa methods");
    if (json_array_size(r->methods) > 0) {
        res = mfa_challenge_create(c, &j->call, u->tenant_id, u->id, j->ip, j->ua, r->mfa_token);
        if (res != GH_OK)
            return failed(j, res, "mfa challenge");
        api_audit(j, c, "login.mfa_required", "success", u->id, NULL);
        return SIGNIN_MFA;
    }
    signin_outcome o = signin_issue(j, c, u, r);
    if (o == SIGNIN_OK)
        api_audit(j, c, "login.success", "success", u->id,
                  json_pack("{s:s}", "session_id", r->session.id));
    return o;
}

signin_outcome signin_password(api_job *j, gh_conn *c, const char *login, const char *password,
                               signin_result *r)
{
    char hash[GH_PW_HASH_MAX] = "";
    gh_result fr = users_find_login(c, &j->call, api_tenant(j), login, &r->user, hash);
    if (fr != GH_OK && fr != GH_ERR_NOT_FOUND) {
        OPENSSL_cleanse(hash, sizeof hash);
        return failed(j, fr, "user lookup");
    }
    const gh_lockout_conf *lc = &j->cfg->lockout;
    char account[384];
    account_key(fr == GH_OK ? &r->user : NULL, api_tenant(j), login, account, sizeof account);
    int64_t wait = lockout_check(c, &j->call, lc, account, j->ip);
    int rehash = 0, ok = 0;
    if (wait == 0)
        ok = check_password(j, password, fr == GH_OK ? hash : NULL, &r->user, &rehash);
    OPENSSL_cleanse(hash, sizeof hash);
    if (wait < 0)
        return failed(j, GH_ERR_UNAVAILABLE, "lockout check");
    if (wait > 0) {
        r->retry_after_s = (wait + 999) / 1000;
        return SIGNIN_LOCKED;
    }
    if (!ok) {
        lockout_failure(c, &j->call, lc, account, j->ip);
        api_audit(j, c, "login.failure", "failure", r->user.id[0] ? r->user.id : NULL,
                  reason("invalid_credentials"));
        return SIGNIN_BAD;
    }
    lockout_success(c, &j->call, account);
    if (rehash) {
        const gh_pw_params *pp = &j->cfg->argon2;
        upgrade_hash(j, c, &r->user, password, pp);
    }
    return admit(j, c, r);
}

/* A rotated token came back: someone else holds a copy. session_refresh
 * has revoked the session; say so loudly, never with the token. */
static signin_outcome reused(api_job *j, gh_conn *c, signin_result *r)
{
    const char *sid = r->session.id[0] ? r->session.id : "(unknown)";
    gh_log_tagged(GH_LOG_WARNING, "auth", j->request_id,
                  "refresh token reuse detected from %s: session %s revoked", j->ip, sid);
    api_audit(j, c, "token.refresh_reused", "denied",
              r->session.user_id[0] ? r->session.user_id : NULL,
              json_pack("{s:s}", "session_id", sid));
    return SIGNIN_REUSED;
}

/* The rotation and the account check share one transaction: the user row
 * is read under the write lock the rotation holds anyway (no second round
 * of locks), and a disabled account's session is revoked in it. The token
 * is signed after the commit, with no lock held. */
static gh_result refresh_tx(api_job *j, gh_conn *c, const char *refresh, signin_result *r,
                            gh_refresh_outcome *oc, int *disabled)
{
    gh_result res = session_refresh(c, &j->call, refresh, j->ua, j->ip, j->cfg->access_ttl_ms,
                                    &r->session, r->refresh, oc);
    if (res != GH_OK || *oc != GH_REFRESH_OK)
        return res;
    res = users_get(c, &j->call, r->session.tenant_id, r->session.user_id, &r->user);
    if (res == GH_ERR_NOT_FOUND || (res == GH_OK && !r->user.is_active)) {
        *disabled = 1;
        res = session_revoke(c, &j->call, NULL, r->session.id, "account disabled",
                             j->cfg->access_ttl_ms);
        if (res == GH_ERR_NOT_FOUND)
            res = GH_OK;
    }
    return res;
}

signin_outcome signin_refresh(api_job *j, gh_conn *c, const char *refresh, signin_result *r)
{
    gh_refresh_outcome oc = GH_REFRESH_UNKNOWN;
    int disabled = 0;
    gh_result res = store_begin(c, &j->call);
    if (res == GH_OK) {
        res = refresh_tx(j, c, refresh, r, &oc, &disabled);
        if (res == GH_OK)
            res = store_commit(c, &j->call);
        else
            store_rollback(c, &j->call);
    }
    if (res != GH_OK || oc != GH_REFRESH_OK || disabled)
        OPENSSL_cleanse(r->refresh, sizeof r->refresh); /* never handed out */
    if (res == GH_ERR_NOT_FOUND)
        return SIGNIN_INVALID_REFRESH;
    if (res != GH_OK)
        return failed(j, res, "refresh");
    if (oc == GH_REFRESH_REUSED)
        return reused(j, c, r);
    if (oc != GH_REFRESH_OK || disabled)
        return SIGNIN_INVALID_REFRESH;
    return issue_access(j, &r->user, r);
}

signin_outcome signin_recheck(api_job *j, gh_conn *c, const gh_user *u, const char *password,
                              signin_result *r)
{
    const gh_lockout_conf *lc = &j->cfg->lockout;
    char account[384];
    account_key(u, u->tenant_id, NULL, account, sizeof account);
    int64_t wait = lockout_check(c, &j->call, lc, account, j->ip);
    if (wait < 0)
        return failed(j, GH_ERR_UNAVAILABLE, "lockout check");
    if (wait > 0) {
        r->retry_after_s = (wait + 999) / 1000;
        return SIGNIN_LOCKED;
    }
    const gh_pw_params *pp = &j->cfg->argon2;
    char hash[GH_PW_HASH_MAX] = "";
    gh_result res = users_password_hash(c, &j->call, u->id, hash);
    int ok = res == GH_OK && password_verify(password, strlen(password), hash, pp, NULL) == 1;
    OPENSSL_cleanse(hash, sizeof hash);
    if (res != GH_OK && res != GH_ERR_NOT_FOUND)
        return failed(j, res, "password lookup");
    if (!ok) {
        lockout_failure(c, &j->call, lc, account, j->ip);
        return SIGNIN_BAD;
    }
    lockout_success(c, &j->call, account);
    return SIGNIN_OK;
}

void signin_problem(api_job *j, signin_outcome o, const signin_result *r)
{
    switch (o) {
    case SIGNIN_LOCKED:
        j->retry_after_s = r->retry_after_s;
        api_fail(j, 429, "too_many_attempts", "Too many failed attempts; try again later.");
        break;
    case SIGNIN_BAD:
        api_fail(j, 401, "invalid_credentials", "The login or the password is wrong.");
        break;
    case SIGNIN_DISABLED:
        api_fail(j, 403, "account_disabled", "This account is disabled.");
        break;
    case SIGNIN_UNVERIFIED:
        api_fail(j, 403, "email_not_verified", "Verify the email address before signing in.");
        break;
    case SIGNIN_REUSED:
        api_fail(j, 401, "refresh_token_reused",
                 "This refresh token was already used; the session has been ended.");
        break;
    case SIGNIN_INVALID_REFRESH:
        api_fail(j, 401, "invalid_refresh_token", "The refresh token is invalid or expired.");
        break;
    case SIGNIN_FAILED: /* the answer is set */
    case SIGNIN_OK:
    case SIGNIN_MFA:
        break;
    }
}
