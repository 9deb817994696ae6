/*
 * mfa.c - second factors of a user and pending MFA challenges. See mfa.h
 * for the flow and the shapes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "auth/companies.h"
#include "auth/mfa.h"
#include "clock.h"
#include "out.h"

#define KEY_PREFIX "mfa:"
#define TRIES_PREFIX "mfa-tries:"

static json_t *column_json(const gh_param *col)
{
    if (col->type == GH_T_STR || col->type == GH_T_BYTES)
        return json_stringn(col->data, col->len);
    return json_null();
}

static int method_row(void *ud, const gh_param *cols, uint32_t ncols)
{
    json_t *methods = ud;
    if (ncols < 3)
        return 1;
    json_t *m = json_object();
    if (!m)
        return 1;
    json_object_set_new(m, "id", column_json(&cols[0]));
    json_object_set_new(m, "type", column_json(&cols[1]));
    json_object_set_new(m, "label", column_json(&cols[2]));
    return json_array_append_new(methods, m) != 0;
}

gh_result mfa_methods(gh_conn *c, gh_call *call, const char *user_id, json_t **methods)
{
    static const char sql[] =
        "SELECT id, type, label FROM credentials"
        " WHERE user_id = ? AND type IN ('totp', 'sms') AND confirmed_at IS NOT NULL"
        " ORDER BY created_at, id";
    gh_param arg = { NULL, GH_T_STR, user_id, strlen(user_id) };
    *methods = json_array();
    if (!*methods)
        return GH_ERR_INTERNAL;
    gh_result r = store_exec(c, call, sql, &arg, 1, method_row, *methods, NULL);
    if (r != GH_OK) {
        json_decref(*methods);
        *methods = NULL;
    }
    return r;
}

gh_result mfa_enrolment_due(gh_conn *c, gh_call *call, int required, const char *tenant_id,
                            const char *user_id, int *due)
{
    gh_company co;
    gh_result r = GH_OK;
    *due = 0;
    if (!required && (r = companies_get(c, call, tenant_id, &co)) == GH_OK)
        required = co.settings.mfa_required;
    return r == GH_OK ? mfa_enrolment_due_known(c, call, required, user_id, due) : r;
}

gh_result mfa_enrolment_due_known(gh_conn *c, gh_call *call, int required, const char *user_id,
                                  int *due)
{
    json_t *methods = NULL;
    gh_result r = GH_OK;
    *due = 0;
    if (required && (r = mfa_methods(c, call, user_id, &methods)) == GH_OK)
        *due = json_array_size(methods) == 0;
    json_decref(methods);
    return r;
}

static void challenge_key(const char *token, char key[sizeof KEY_PREFIX + GH_DIGEST_LEN])
{
    char digest[GH_DIGEST_LEN];
    secret_digest(token, digest);
    snprintf(key, sizeof KEY_PREFIX + GH_DIGEST_LEN, KEY_PREFIX "%s", digest);
}

gh_result mfa_challenge_create(gh_conn *c, gh_call *call, const gh_mfa_conf *mc,
                               const char *first, const char *tenant_id,
                               const char *user_id, const char *ip, const char *user_agent,
                               char token[GH_SECRET_LEN])
{
    char key[sizeof KEY_PREFIX + GH_DIGEST_LEN];
    if (secret_new(token) != 0)
        return GH_ERR_INTERNAL;
    challenge_key(token, key);
    json_t *ctx = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "user_id", user_id, "tenant_id",
                            tenant_id, "ip", ip ? ip : "", "user_agent",
                            user_agent ? user_agent : "", "created_at", (json_int_t)gh_now_ms(),
                            "first", first);
    char *text = ctx ? json_dumps(ctx, JSON_COMPACT) : NULL;
    json_decref(ctx);
    if (!text)
        return GH_ERR_INTERNAL;
    gh_result r = store_kv_set(c, call, key, text, strlen(text), mc->token_ttl_ms, GH_KV_NX);
    free(text);
    return r;
}

gh_result mfa_challenge_peek(gh_conn *c, gh_call *call, const char *token, json_t **ctx)
{
    char key[sizeof KEY_PREFIX + GH_DIGEST_LEN];
    challenge_key(token, key);
    *ctx = NULL;
    gh_out *out = out_new();
    if (!out)
        return GH_ERR_INTERNAL;
    gh_result r = store_kv_get(c, call, key, out);
    const gh_param *v = r == GH_OK ? out_get(out, "value", 0) : NULL;
    if (r == GH_OK && v)
        *ctx = json_loadb(v->data, v->len, 0, NULL);
    out_free(out);
    if (r == GH_OK && !json_is_object(*ctx)) {
        json_decref(*ctx);
        *ctx = NULL;
        r = GH_ERR_INTERNAL;
    }
    return r;
}

gh_result mfa_challenge_take(gh_conn *c, gh_call *call, const char *token, json_t **ctx)
{
    char key[sizeof KEY_PREFIX + GH_DIGEST_LEN];
    challenge_key(token, key);
    gh_result r = mfa_challenge_peek(c, call, token, ctx);
    /* the delete decides who took it: two racing takes cannot both win */
    if (r == GH_OK)
        r = store_kv_del(c, call, key);
    if (r != GH_OK) {
        json_decref(*ctx);
        *ctx = NULL;
    }
    return r;
}

gh_result mfa_challenge_fail(gh_conn *c, gh_call *call, const gh_mfa_conf *mc,
                             const char *token)
{
    char digest[GH_DIGEST_LEN], key[sizeof KEY_PREFIX + GH_DIGEST_LEN];
    char tries[sizeof TRIES_PREFIX + GH_DIGEST_LEN];
    secret_digest(token, digest);
    snprintf(tries, sizeof tries, TRIES_PREFIX "%s", digest);
    int64_t n = 0;
    gh_result r = store_kv_incr(c, call, tries, 1, mc->token_ttl_ms, &n);
    if (r != GH_OK || n < mc->token_tries)
        return r;
    challenge_key(token, key);
    r = store_kv_del(c, call, key);
    return r == GH_ERR_NOT_FOUND ? GH_OK : r;
}
