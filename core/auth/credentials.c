/*
 * credentials.c - see credentials.h.
 */
#include <string.h>
#include <openssl/crypto.h>
#include "auth/credentials.h"
#include "auth/companies.h"

const char *credentials_policy(const gh_pw_policy *pol, const char *pw, size_t len,
                               const char *email, const char *username, const char **detail)
{
    const char *context[3] = { NULL, NULL, NULL };
    size_t n = 0;
    if (email && *email)
        context[n++] = email;
    if (username && *username)
        context[n++] = username;
    return password_policy_check(pol, pw, len, context, detail);
}

auth_outcome credentials_new(const gh_auth_ctx *ax, const char *pw, const char *email,
                             const char *username, char hash[GH_PW_HASH_MAX], auth_result *r)
{
    gh_pw_policy policy = ax->cfg->pw;
    gh_company co;
    r->detail = NULL;
    /* a company may ask for longer passwords than the server, never shorter */
    if (ax->conn && companies_get(ax->conn, ax->call, ax->tenant, &co) == GH_OK &&
        co.settings.pw_min_length > policy.min_length)
        policy.min_length = (int)co.settings.pw_min_length;
    if ((r->refusal = credentials_policy(&policy, pw, strlen(pw), email, username, &r->detail)))
        return AUTH_REFUSED;
    if (password_hash(pw, strlen(pw), &ax->cfg->argon2, hash) != 0)
        return auth_failed(r, GH_ERR_INTERNAL, "password hash");
    return AUTH_OK;
}

auth_outcome credentials_replace(const gh_auth_ctx *ax, const char *user_id, const char *keep_sid,
                                 const char *reason, const char *action, const char *hash,
                                 auth_result *r)
{
    int64_t n = 0;
    gh_result res = store_begin(ax->conn, ax->call);
    if (res == GH_OK)
        res = users_set_password(ax->conn, ax->call, user_id, hash);
    if (res == GH_OK)
        res = session_revoke_all(ax->conn, ax->call, user_id, keep_sid, reason,
                                 ax->cfg->access_ttl_ms, &n);
    if (res == GH_OK)
        auth_audit(ax, action, "success", user_id,
                   json_pack("{s:I}", "sessions_revoked", (json_int_t)n));
    if (res == GH_OK)
        res = store_commit(ax->conn, ax->call);
    else
        store_rollback(ax->conn, ax->call);
    return res == GH_OK ? AUTH_OK : auth_failed(r, res, action);
}

auth_outcome credentials_change(const gh_auth_ctx *ax, const gh_user *u, const char *pw,
                                const char *keep_sid, auth_result *r)
{
    char hash[GH_PW_HASH_MAX];
    auth_outcome o = credentials_new(ax, pw, u->email, u->username, hash, r);
    if (o == AUTH_OK)
        o = credentials_replace(ax, u->id, keep_sid, "password changed", "password.change", hash,
                                r);
    OPENSSL_cleanse(hash, sizeof hash);
    return o;
}
