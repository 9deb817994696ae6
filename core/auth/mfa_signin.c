/*
 * mfa_signin.c - a sign-in's second step as a signin_method. See
 * mfa_signin.h for the rules.
 */
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include "auth/factors.h"
#include "auth/mfa.h"
#include "auth/mfa_plugin.h"
#include "auth/mfa_signin.h"
#include "auth/ratelimit.h"
#include "auth/sms_codes.h"
#include "auth/signin.h"
#include "log.h"

typedef struct mfa_attempt {
    signin_attempt a;           /* first: the pipeline hands back &a */
    const gh_loaded *totp;
    const char *token;
    const char *user_id;        /* the challenge's */
    mfa_kind kind;
    gh_result error;            /* a failure that is not a wrong code */
} mfa_attempt;

static gh_result mfa_identify(const gh_auth_ctx *ax, signin_attempt *a, gh_user *u)
{
    const mfa_attempt *m = (const mfa_attempt *)a;
    return users_get(ax->conn, ax->call, ax->tenant, m->user_id, u);
}

/* One of the user's TOTP factors accepts the code, at a step none has. */
static gh_result totp_check(const gh_auth_ctx *ax, mfa_attempt *m, const gh_user *u)
{
    json_t *ids = NULL;
    if (!m->totp)
        return GH_ERR_DENIED;
    gh_result r = factors_ids(ax->conn, ax->call, u->id, "totp", &ids), found = GH_ERR_DENIED;
    for (size_t i = 0; r == GH_OK && i < json_array_size(ids); i++) {
        gh_factor f;
        int64_t counter = 0;
        r = factors_get(ax->conn, ax->call, u->id, json_string_value(json_array_get(ids, i)), &f);
        if (r == GH_OK)
            r = mfa_plugin_verify(m->totp, ax->call, &f, m->a.secret, &counter);
        if (r == GH_OK)
            r = factors_use(ax->conn, ax->call, f.id, counter);
        factor_clear(&f);
        if (r != GH_ERR_DENIED)
            found = r;
        else
            r = GH_OK; /* the next factor may know it */
        if (found != GH_ERR_DENIED)
            break;
    }
    json_decref(ids);
    return r != GH_OK ? r : found;
}

static int mfa_check(const gh_auth_ctx *ax, signin_attempt *a, const gh_user *u)
{
    mfa_attempt *m = (mfa_attempt *)a;
    if (!u)
        return 0;
    char digest[GH_DIGEST_LEN];
    gh_result r;
    if (m->kind == MFA_SMS) {
        secret_digest(m->token, digest);
        r = sms_code_check(ax->conn, ax->call, &ax->cfg->mfa, "signin", digest, a->secret);
        if (r == GH_ERR_NOT_FOUND) /* none sent, expired or out of tries: wrong */
            r = GH_ERR_DENIED;
    } else {
        r = m->kind == MFA_TOTP ? totp_check(ax, m, u)
                                : recovery_code_use(ax->conn, ax->call, u->id, a->secret);
    }
    if (r == GH_OK) {
        json_t *ctx = NULL;
        r = mfa_challenge_take(ax->conn, ax->call, m->token, &ctx);
        json_decref(ctx);
        if (r == GH_ERR_NOT_FOUND) /* another request won it */
            r = GH_ERR_DENIED;
    } else if (r == GH_ERR_DENIED) {
        gh_result fr = mfa_challenge_fail(ax->conn, ax->call, &ax->cfg->mfa, m->token);
        if (fr != GH_OK)
            gh_log_tagged(GH_LOG_WARNING, "auth", ax->call->request_id,
                          "cannot count a wrong code of user %s: %s", u->id, gh_result_str(fr));
    }
    if (r != GH_OK && r != GH_ERR_DENIED)
        m->error = r;
    return r == GH_OK;
}

/* A sign-in's SMS code counts against the verify limit of the account
 * and of the phone the codes go to (none: the account's alone). */
static int64_t sms_verify_limit(const gh_auth_ctx *ax, const char *user_id)
{
    char phone[FACTOR_SECRET_MAX + 1];
    int limit = ax->cfg->mfa.sms_verify_limit;
    gh_result r = factors_first_phone(ax->conn, ax->call, user_id, phone, sizeof phone);
    if (r != GH_OK && r != GH_ERR_NOT_FOUND)
        return -1;
    int64_t w = r == GH_OK ? sms_limit_hit(ax->conn, ax->call, "sms-verify", user_id, phone, limit)
                           : ratelimit_hit(ax->conn, ax->call, "sms-verify", user_id, limit, 60000);
    OPENSSL_cleanse(phone, sizeof phone);
    return w;
}

static const signin_method mfa_method = {
    .identify = mfa_identify,
    .check = mfa_check,
    .flags = SIGNIN_SECOND_FACTOR,
    .failure = "mfa.failure",
};

auth_outcome mfa_signin(const gh_auth_ctx *ax, const gh_loaded *totp, const char *mfa_token,
                        mfa_kind kind, const char *code, auth_result *r)
{
    json_t *ctx = NULL;
    gh_result res = mfa_challenge_peek(ax->conn, ax->call, mfa_token, &ctx);
    if (res == GH_ERR_NOT_FOUND)
        return AUTH_MFA_TOKEN;
    if (res != GH_OK)
        return auth_failed(r, res, "mfa challenge");
    const char *user_id = json_string_value(json_object_get(ctx, "user_id"));
    const char *tenant = json_string_value(json_object_get(ctx, "tenant_id"));
    if (!user_id || !tenant) {
        json_decref(ctx);
        return auth_failed(r, GH_ERR_INTERNAL, "mfa challenge");
    }
    /* the sign-in goes on in the company it started in */
    gh_auth_ctx in_tenant = *ax;
    in_tenant.tenant = tenant;
    mfa_attempt m = { .a = { .method = &mfa_method, .secret = code },
                      .totp = totp, .token = mfa_token, .user_id = user_id, .kind = kind };
    static const char *const amr[] = { [MFA_TOTP] = "otp", [MFA_RECOVERY] = "mfa",
                                       [MFA_SMS] = "sms" };
    static const char *const names[] = { [MFA_TOTP] = "totp",
                                         [MFA_RECOVERY] = "recovery_code", [MFA_SMS] = "sms" };
    int64_t wait = kind == MFA_SMS ? sms_verify_limit(ax, user_id) : 0;
    if (wait != 0) {
        json_decref(ctx);
        if (wait < 0)
            return auth_failed(r, GH_ERR_UNAVAILABLE, "sms verify limit");
        r->retry_after_s = (wait + 999) / 1000;
        return AUTH_LOCKED;
    }
    r->amr = amr[kind];
    /* the challenge says how the first step was proved: a provider's
     * sign-in then a code is ["ext", "otp"], not a password's */
    const char *first = json_string_value(json_object_get(ctx, "first"));
    r->proof_amr = first && strcmp(first, "ext") == 0 ? "ext" : "pwd";
    /* One transaction for the whole step: the factor's counter, the
     * challenge, the lockout counters, the session and the audit rows
     * would otherwise commit one by one, and each commit costs more than
     * the code's check. A wrong code commits too (its try counts); only a
     * failure of the store rolls back. */
    if ((res = store_begin(ax->conn, ax->call)) != GH_OK) {
        json_decref(ctx);
        return auth_failed(r, res, "mfa begin");
    }
    auth_outcome o = signin_run(&in_tenant, &m.a, r);
    if (o == AUTH_BAD && m.error != GH_OK)
        o = auth_failed(r, m.error, "mfa check");
    if (o == AUTH_OK)
        auth_audit(&in_tenant, "mfa.success", "success", r->user.id,
                   json_pack("{s:s}", "method", names[kind]));
    if (o == AUTH_FAILED)
        store_rollback(ax->conn, ax->call);
    else if ((res = store_commit(ax->conn, ax->call)) != GH_OK)
        o = auth_failed(r, res, "mfa commit");
    json_decref(ctx);
    return o;
}
