/*
 * signin.c - the sign-in pipeline, the password method, the refresh grant
 * and the re-check. See signin.h for the order of the steps and why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "auth/authz.h"
#include "auth/companies.h"
#include "auth/lockout.h"
#include "auth/mfa.h"
#include "auth/ratelimit.h" /* GH_KV_KEY_MAX */
#include "auth/signin.h"
#include "clock.h"
#include "log.h"
#include "store/row.h"

static json_t *reason(const char *why)
{
    return json_pack("{s:s}", "reason", why);
}

/* The lockout key of a known account is the account itself, so its email
 * and its username share one counter (else knowing both would double an
 * attacker's tries); an unknown login is keyed as typed, normalised, so it
 * locks exactly like a real one and tells nothing. */
static void account_key(const gh_user *u, const char *tenant, const char *login, char *out,
                        size_t len)
{
    if (u && u->id[0]) {
        snprintf(out, len, "%s:id:%s", u->tenant_id, u->id);
        return;
    }
    char norm[256];
    if (!login)
        login = "";
    if (email_normalize(login, norm, sizeof norm) != 0 &&
        username_normalize(login, norm, sizeof norm) != 0) {
        size_t i = 0;
        for (; login[i] && i + 1 < sizeof norm; i++)
            norm[i] = (char)(login[i] >= 'A' && login[i] <= 'Z' ? login[i] + 32 : login[i]);
        norm[i] = '\0';
    }
    snprintf(out, len, "%s:%s", tenant, norm);
}

/* Steps 2-5 of signin.h for the account under `account` (u: the account,
 * NULL when there is none): OK, LOCKED, BAD (audited as `failure`) or
 * FAILED. The method's verifier is wiped whatever the outcome. */
static auth_outcome prove(const gh_auth_ctx *ax, signin_attempt *a, const gh_user *u,
                          const char *account, const char *failure, auth_result *r)
{
    const gh_lockout_conf *lc = &ax->cfg->lockout;
    int64_t wait = lockout_check(ax->conn, ax->call, lc, account, ax->ip);
    int ok = wait == 0 && a->method->check(ax, a, u);
    OPENSSL_cleanse(a->verifier, sizeof a->verifier);
    if (wait < 0)
        return auth_failed(r, GH_ERR_UNAVAILABLE, "lockout check");
    if (wait > 0) {
        r->retry_after_s = (wait + 999) / 1000;
        return AUTH_LOCKED;
    }
    if (!ok) {
        lockout_failure(ax->conn, ax->call, lc, account, ax->ip);
        auth_audit(ax, failure, "failure", u && u->id[0] ? u->id : NULL,
                   reason("invalid_credentials"));
        /* the failure that locks the account is audited (and an event,
         * user.locked) of its own; later tries stop at the check above */
        if (u && u->id[0] && lockout_check(ax->conn, ax->call, lc, account, NULL) > 0)
            auth_audit(ax, "login.lockout", "denied", u->id, reason("too_many_failures"));
        return AUTH_BAD;
    }
    lockout_success(ax->conn, ax->call, account);
    return AUTH_OK;
}

/* ---------------------------------------------------------------- issue */

/* What the claims depend on besides the account, when it was read with
 * the account (a refresh grant: account_read) rather than after. */
typedef struct grant_facts {
    gh_company_settings settings;     /* the company's: its MFA policy */
    int has_version;                  /* 0: read the RBAC version from kv */
    char version[AUTHZ_VERSION_MAX];  /* "": kv has none */
    int bad;                          /* the settings did not parse */
} grant_facts;

/* The claims of u's access token for session r->session: its roles, its
 * permissions when the config asks for them, and "mfa_enroll" while a
 * second factor is required and u has none (checked at every refresh too,
 * so a refresh neither escapes it nor keeps it once a factor exists).
 * g: what was read with the account already, or NULL. */
static auth_outcome grant_access(const gh_auth_ctx *ax, const gh_user *u, const grant_facts *g,
                                 auth_result *r)
{
    const authz_set *s;
    gh_result res = g && g->has_version
                        ? authz_get_at(ax->conn, ax->call, u->tenant_id, u->id, g->version, &s)
                        : authz_get(ax->conn, ax->call, u->tenant_id, u->id, &s);

    if (res != GH_OK)
        return auth_failed(r, res, "roles");
    snprintf(r->access.sub, sizeof r->access.sub, "%s", u->id);
    snprintf(r->access.sid, sizeof r->access.sid, "%s", r->session.id);
    snprintf(r->access.tenant, sizeof r->access.tenant, "%s", u->tenant_id);
    json_t *claims = json_pack("{s:o}", "roles", authz_roles_json(s));
    if (claims && ax->cfg->tokens.permissions_claim &&
        json_object_set_new(claims, "permissions", authz_permissions_json(s)) != 0) {
        json_decref(claims);
        claims = NULL;
    }
    if (!claims)
        return auth_failed(r, GH_ERR_NOMEM, "token claims");
    int enrol = 0;
    res = g ? mfa_enrolment_due_known(ax->conn, ax->call,
                                      ax->cfg->mfa_required || g->settings.mfa_required, u->id,
                                      &enrol)
            : mfa_enrolment_due(ax->conn, ax->call, ax->cfg->mfa_required, u->tenant_id, u->id,
                                &enrol);
    if (res != GH_OK || (enrol && json_object_set_new(claims, "mfa_enroll", json_true()) != 0)) {
        json_decref(claims);
        return auth_failed(r, res != GH_OK ? res : GH_ERR_NOMEM, "mfa policy");
    }
    json_decref(r->claims);
    r->claims = claims;
    return AUTH_OK;
}

auth_outcome signin_issue(const gh_auth_ctx *ax, const gh_user *u, auth_result *r)
{
    gh_result res = session_create(ax->conn, ax->call, u->tenant_id, u->id, ax->ua, ax->ip,
                                   ax->cfg->refresh_ttl_ms, &r->session, r->refresh);
    if (res != GH_OK)
        return auth_failed(r, res, "session create");
    authz_ensure(ax->conn, ax->call, u->tenant_id); /* so that checks may cache */
    auth_outcome o = grant_access(ax, u, NULL, r);
    if (o != AUTH_OK)
        return o;
    /* a refreshed token does not repeat it: the refresh grant proves neither */
    const char *proof = r->proof_amr ? r->proof_amr : "pwd";
    json_t *amr = r->amr ? json_pack("[s, s]", proof, r->amr) : json_pack("[s]", proof);
    if (!amr || json_object_set_new(r->claims, "amr", amr) != 0)
        return auth_failed(r, GH_ERR_NOMEM, "token claims");
    return AUTH_OK;
}

/* Step 6 and 7 of signin.h, once the proof is known to be right. */
static auth_outcome admit(const gh_auth_ctx *ax, const signin_method *m, auth_result *r)
{
    gh_user *u = &r->user;
    if (!u->is_active || (ax->cfg->require_verified_email && u->email_verified_at <= 0)) {
        int disabled = !u->is_active;
        auth_audit(ax, "login.failure", "denied", u->id,
                   reason(disabled ? "account_disabled" : "email_not_verified"));
        return disabled ? AUTH_DISABLED : AUTH_UNVERIFIED;
    }
    if (!(m->flags & SIGNIN_SECOND_FACTOR)) {
        gh_result res = mfa_methods(ax->conn, ax->call, u->id, &r->methods);
        if (res != GH_OK)
            return auth_failed(r, res, "mfa methods");
        if (json_array_size(r->methods) > 0) {
            res = mfa_challenge_create(ax->conn, ax->call, &ax->cfg->mfa,
                                       m->amr ? m->amr : "pwd", u->tenant_id, u->id, ax->ip,
                                       ax->ua, r->mfa_token);
            if (res != GH_OK)
                return auth_failed(r, res, "mfa challenge");
            auth_audit(ax, "login.mfa_required", "success", u->id, NULL);
            return AUTH_MFA;
        }
    }
    if (!(m->flags & SIGNIN_SECOND_FACTOR)) /* a second step's caller set the first's */
        r->proof_amr = m->amr;
    auth_outcome o = signin_issue(ax, u, r);
    if (o == AUTH_OK)
        auth_audit(ax, "login.success", "success", u->id,
                   json_pack("{s:s}", "session_id", r->session.id));
    return o;
}

/* ---------------------------------------------------------------- pipeline */

auth_outcome signin_run(const gh_auth_ctx *ax, signin_attempt *a, auth_result *r)
{
    const signin_method *m = a->method;
    gh_result fr = m->identify(ax, a, &r->user);
    if (fr != GH_OK && fr != GH_ERR_NOT_FOUND) {
        OPENSSL_cleanse(a->verifier, sizeof a->verifier);
        return auth_failed(r, fr, "user lookup");
    }
    const gh_user *u = fr == GH_OK ? &r->user : NULL;
    char account[384];
    account_key(u, ax->tenant, a->login, account, sizeof account);
    auth_outcome o = prove(ax, a, u, account, m->failure ? m->failure : "login.failure", r);
    if (o != AUTH_OK)
        return o;
    if (a->upgrade && m->upgrade)
        m->upgrade(ax, a, &r->user);
    return admit(ax, m, r);
}

/* ---------------------------------------------------------------- passwords */

static gh_result password_identify(const gh_auth_ctx *ax, signin_attempt *a, gh_user *u)
{
    return users_find_login(ax->conn, ax->call, ax->tenant, a->login, u, a->verifier);
}

/* An account without a hash (none, or not found) costs one dummy
 * verification, the same work as a real one. */
static int password_check(const gh_auth_ctx *ax, signin_attempt *a, const gh_user *u)
{
    const gh_pw_params *pp = &ax->cfg->argon2;
    const char *pw = a->secret;
    if (!u || !a->verifier[0]) {
        password_verify_dummy(pw, strlen(pw), pp);
        return 0;
    }
    int ok = password_verify(pw, strlen(pw), a->verifier, pp, &a->upgrade);
    if (ok < 0)
        gh_log_tagged(GH_LOG_ERROR, "auth", ax->call->request_id,
                      "user %s has an unreadable password hash", u->id);
    return ok == 1;
}

/* A bcrypt hash, or argon2id below the configured cost, is replaced now
 * that the password is known. */
static void password_upgrade(const gh_auth_ctx *ax, signin_attempt *a, const gh_user *u)
{
    const gh_pw_params *pp = &ax->cfg->argon2;
    char hash[GH_PW_HASH_MAX];
    gh_result r = GH_ERR_INTERNAL;
    if (password_hash(a->secret, strlen(a->secret), pp, hash) == 0)
        r = users_set_password(ax->conn, ax->call, u->id, hash);
    OPENSSL_cleanse(hash, sizeof hash);
    if (r == GH_OK)
        gh_log_tagged(GH_LOG_INFO, "auth", ax->call->request_id,
                      "password hash of user %s upgraded", u->id);
    else
        gh_log_tagged(GH_LOG_WARNING, "auth", ax->call->request_id,
                      "cannot upgrade the password hash of user %s: %s", u->id,
                      gh_result_str(r));
}

const signin_method signin_password_method = {
    .identify = password_identify,
    .check = password_check,
    .upgrade = password_upgrade,
};

auth_outcome signin_password(const gh_auth_ctx *ax, const char *login, const char *password,
                             auth_result *r)
{
    signin_attempt a = { .method = &signin_password_method, .login = login, .secret = password };
    return signin_run(ax, &a, r);
}

/* ---------------------------------------------------------------- identities */

static gh_result identity_identify(const gh_auth_ctx *ax, signin_attempt *a, gh_user *u)
{
    return users_get(ax->conn, ax->call, ax->tenant, a->login, u);
}

/* The provider proved it: only an account that is gone fails. */
static int identity_check(const gh_auth_ctx *ax, signin_attempt *a, const gh_user *u)
{
    (void)ax, (void)a;
    return u != NULL;
}

const signin_method signin_identity_method = {
    .identify = identity_identify,
    .check = identity_check,
    .amr = "ext",
};

/* ---------------------------------------------------------------- re-check */

auth_outcome signin_recheck(const gh_auth_ctx *ax, const char *user_id, const char *password,
                            const char *action, signin_act act, void *arg, auth_result *r)
{
    gh_result res = users_get(ax->conn, ax->call, ax->tenant, user_id, &r->user);
    if (res == GH_ERR_NOT_FOUND)
        return AUTH_GONE;
    if (res != GH_OK)
        return auth_failed(r, res, "user lookup");
    /* the hash of the account just read: a missing one is a wrong password */
    signin_attempt a = { .method = &signin_password_method, .secret = password };
    res = users_password_hash(ax->conn, ax->call, user_id, a.verifier);
    if (res != GH_OK && res != GH_ERR_NOT_FOUND) {
        OPENSSL_cleanse(a.verifier, sizeof a.verifier);
        return auth_failed(r, res, "password lookup");
    }
    if (res != GH_OK)
        a.verifier[0] = '\0';
    char account[384];
    account_key(&r->user, r->user.tenant_id, NULL, account, sizeof account);
    auth_outcome o = prove(ax, &a, &r->user, account, action, r);
    return o == AUTH_OK ? act(ax, &r->user, arg, r) : o;
}

/* ---------------------------------------------------------------- refresh */

/* A rotated token came back: someone else holds a copy. session_refresh
 * has revoked the session; say so loudly, never with the token. */
static auth_outcome reused(const gh_auth_ctx *ax, auth_result *r)
{
    const char *sid = r->session.id[0] ? r->session.id : "(unknown)";
    gh_log_tagged(GH_LOG_WARNING, "auth", ax->call->request_id,
                  "refresh token reuse detected from %s: session %s revoked", ax->ip, sid);
    auth_audit(ax, "token.refresh_reused", "denied",
               r->session.user_id[0] ? r->session.user_id : NULL,
               json_pack("{s:s}", "session_id", sid));
    return AUTH_REUSED;
}

/* the company's settings, then (has_version) its RBAC version */
static int facts_row(void *ud, const gh_param *cols, uint32_t n)
{
    grant_facts *g = ud;
    char *text = NULL;

    if (n < 1 + (uint32_t)g->has_version || col_dup(&cols[0], &text) < 0) {
        g->bad = 1;
        return 1;
    }
    g->bad = company_settings_parse(text, &g->settings) != 0;
    free(text);
    if (g->has_version)
        authz_version_of(&cols[1], g->version);
    return 1;
}

/* The session's account, and in the same statement what its claims need
 * besides (grant_facts): its company's settings and, when kv is the SQL
 * store's table, the company's RBAC version; read after the commit they
 * were a round trip each. Read before the role graph, as authz_get
 * would, so a version still stamps what is computed under it. */
static gh_result account_read(const gh_auth_ctx *ax, auth_result *r, grant_facts *g)
{
    const char *kv = store_kv_sql_value(ax->conn);
    char key[GH_KV_KEY_MAX], cols[256];
    int64_t now = gh_now_ms();
    gh_param args[2];

    memset(g, 0, sizeof *g);
    g->settings = company_settings_default();
    g->has_version = kv != NULL;
    authz_version_key(key, sizeof key, r->session.tenant_id);
    args[0] = p_str(key);
    args[1] = p_int(&now);
    if ((size_t)snprintf(cols, sizeof cols,
                         "(SELECT t.settings FROM tenants t WHERE t.id = u.tenant_id)%s%s",
                         kv ? ", " : "", kv ? kv : "") >= sizeof cols)
        return call_fail(ax->call, GH_ERR_INTERNAL, "signin: the account's query does not fit");
    users_more more = { cols, args, kv ? 2 : 0, facts_row, g };
    gh_result res = users_get_more(ax->conn, ax->call, r->session.tenant_id, r->session.user_id,
                                   &more, &r->user);
    if (res == GH_OK && g->bad)
        res = call_fail(ax->call, GH_ERR_INTERNAL, "signin: the company's settings do not parse");
    return res;
}

/* The rotation and the account check share one transaction: the user row
 * is read under the write lock the rotation holds anyway (no second round
 * of locks), and a disabled account's session is revoked in it. The token
 * is signed after the commit, with no lock held. */
static gh_result refresh_tx(const gh_auth_ctx *ax, const char *refresh, auth_result *r,
                            gh_refresh_outcome *oc, int *disabled, grant_facts *g)
{
    gh_result res = session_refresh(ax->conn, ax->call, refresh, ax->ua, ax->ip,
                                    ax->cfg->access_ttl_ms, ax->cfg->refresh_idle_ms, &r->session,
                                    r->refresh, oc);
    if (res != GH_OK || *oc != GH_REFRESH_OK)
        return res;
    res = account_read(ax, r, g);
    if (res == GH_ERR_NOT_FOUND || (res == GH_OK && !r->user.is_active)) {
        *disabled = 1;
        res = session_revoke(ax->conn, ax->call, NULL, r->session.id, "account disabled",
                             ax->cfg->access_ttl_ms);
        if (res == GH_ERR_NOT_FOUND)
            res = GH_OK;
    }
    return res;
}

auth_outcome signin_refresh(const gh_auth_ctx *ax, const char *refresh, auth_result *r)
{
    gh_refresh_outcome oc = GH_REFRESH_UNKNOWN;
    grant_facts g = { 0 };
    int disabled = 0;
    gh_result res = store_begin(ax->conn, ax->call);
    if (res == GH_OK) {
        res = refresh_tx(ax, refresh, r, &oc, &disabled, &g);
        if (res == GH_OK)
            res = store_commit(ax->conn, ax->call);
        else
            store_rollback(ax->conn, ax->call);
    }
    if (res != GH_OK || oc != GH_REFRESH_OK || disabled)
        OPENSSL_cleanse(r->refresh, sizeof r->refresh); /* never handed out */
    if (res == GH_ERR_NOT_FOUND)
        return AUTH_INVALID_REFRESH;
    if (res != GH_OK)
        return auth_failed(r, res, "refresh");
    if (oc == GH_REFRESH_REUSED)
        return reused(ax, r);
    if (oc != GH_REFRESH_OK || disabled)
        return AUTH_INVALID_REFRESH;
    return grant_access(ax, &r->user, &g, r);
}
