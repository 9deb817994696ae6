/*
 * webhooks.c - subscriptions in the store, their secrets, and which event
 * types they match (webhooks.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "auth/pii.h"
#include "auth/tokens.h"
#include "auth/users.h"
#include "auth/webhooks.h"
#include "call.h"
#include "clock.h"
#include "log.h"
#include "store/records.h"
#include "store/row.h"

#define COL_SECRET "webhook_subscriptions.secret"

/* ---------------------------------------------------------------- pure */

int webhook_pattern_valid(const char *p)
{
    size_t n = p ? strlen(p) : 0;
    if (n == 1 && p[0] == '*')
        return 1;
    if (n == 0 || n >= WEBHOOK_TYPE_MAX || p[0] == '.')
        return 0;
    size_t body = n >= 2 && strcmp(p + n - 2, ".*") == 0 ? n - 2 : n;
    if (body == 0 || p[body - 1] == '.')
        return 0;
    /* the body alone: a prefix's ".*" is past it */
    return strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_.") >= body && !strstr(p, "..");
}

/* 1 when the pattern (len bytes of a list) matches type. */
static int pattern_matches(const char *pat, size_t len, const char *type)
{
    if (len == 1 && pat[0] == '*')
        return 1;
    if (len >= 2 && pat[len - 2] == '.' && pat[len - 1] == '*')
        return strncmp(type, pat, len - 1) == 0; /* "user.*": "user." and more */
    return strlen(type) == len && strncmp(type, pat, len) == 0;
}

int webhook_types_match(const char *list, const char *type)
{
    const char *p = list;
    while (p && *p) {
        size_t n = strcspn(p, " ");
        if (n && pattern_matches(p, n, type))
            return 1;
        p += n + (p[n] == ' ');
    }
    return 0;
}

/* ---------------------------------------------------------------- secrets */

static gh_result new_secret(gh_call *call, char secret[WEBHOOK_SECRET_LEN])
{
    return webhook_secret_new(secret) == 0 ? GH_OK
           : call_fail(call, GH_ERR_INTERNAL, "webhooks: no random bytes");
}

/* The secret as stored: sealed under the newest personal-data key when
 * encryption at rest is on, bound to the subscription's id. malloc'd. */
static char *seal(const char *id, const char *secret)
{
    const gh_pii *p = pii_current();
    const char *why = "";
    char *out = p ? pii_encrypt(p, COL_SECRET, id, secret, strlen(secret), &why) : strdup(secret);
    if (!out && p)
        gh_log(GH_LOG_ERROR, "webhooks: secret of subscription %s: %s", id, why);
    return out;
}

gh_result webhook_secret_unseal(gh_call *call, const char *id, const char *stored,
                                char secret[WEBHOOK_SECRET_LEN])
{
    const char *why = "";
    char *clear = NULL;
    if (pii_decrypt(pii_current(), COL_SECRET, id, stored, &clear, &why) < 0)
        return call_fail(call, GH_ERR_INTERNAL, "webhooks: secret of subscription %s: %s", id,
                         why);
    size_t n = strlen(clear);
    gh_result r = n < WEBHOOK_SECRET_LEN ? GH_OK
                  : call_fail(call, GH_ERR_INTERNAL, "webhooks: secret of subscription %s: "
                              "damaged", id);
    if (r == GH_OK)
        memcpy(secret, clear, n + 1);
    OPENSSL_cleanse(clear, n);
    free(clear);
    return r;
}

/* ---------------------------------------------------------------- store */

#define COLS "id, tenant_id, url, event_types, disabled, disabled_reason, " \
             "consecutive_failures, created_at, updated_at"
#define NCOLS 9

static void sub_fill(void *rec, const gh_param *col)
{
    gh_webhook_sub *s = rec;
    col_copy(&col[0], s->id, sizeof s->id);
    col_copy(&col[1], s->tenant_id, sizeof s->tenant_id);
    col_copy(&col[2], s->url, sizeof s->url);
    col_copy(&col[3], s->event_types, sizeof s->event_types);
    s->disabled = col_int(&col[4]) != 0;
    col_copy(&col[5], s->disabled_reason, sizeof s->disabled_reason);
    s->consecutive_failures = col_int(&col[6]);
    s->created_at = col_int(&col[7]);
    s->updated_at = col_int(&col[8]);
}

static record_query subs(const char *sql, const gh_param *args, size_t nargs)
{
    return (record_query){ .sql = sql, .args = args, .nargs = nargs,
                           .size = sizeof(gh_webhook_sub), .ncols = NCOLS, .fill = sub_fill,
                           .what = "webhook subscriptions" };
}

gh_result webhook_sub_get(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                          gh_webhook_sub *out)
{
    gh_param args[] = { p_str(id), p_str(tenant) };
    if (!uuid_valid(id))
        return GH_ERR_NOT_FOUND;
    record_query q = subs("SELECT " COLS " FROM webhook_subscriptions WHERE id = ? AND "
                          "tenant_id = ?", args, 2);
    return store_record(c, call, &q, out);
}

gh_result webhook_sub_list(gh_conn *c, gh_call *call, const char *tenant, gh_webhook_sub **out,
                           size_t *n)
{
    gh_param arg = p_str(tenant);
    record_query q = subs("SELECT " COLS " FROM webhook_subscriptions WHERE tenant_id = ? "
                          "ORDER BY created_at, id", &arg, 1);
    void *v = NULL;
    gh_result r = store_records(c, call, &q, &v, n);
    *out = v;
    return r;
}

gh_result webhook_sub_create(gh_conn *c, gh_call *call, const char *tenant, gh_webhook_sub *s,
                             char secret[WEBHOOK_SECRET_LEN])
{
    gh_result r;
    secret[0] = '\0';
    uuid_new(s->id);
    snprintf(s->tenant_id, sizeof s->tenant_id, "%s", tenant);
    if ((r = new_secret(call, secret)) != GH_OK)
        return r;
    char *sealed = seal(s->id, secret);
    if (!sealed)
        return call_fail(call, GH_ERR_INTERNAL, "webhooks: cannot seal the secret");
    s->created_at = s->updated_at = gh_now_ms();
    s->consecutive_failures = 0;
    int64_t disabled = s->disabled;
    gh_param args[] = {
        p_str(s->id), p_str(tenant), p_str(s->url), p_str(s->event_types), p_str(sealed),
        p_int(&disabled), p_opt_empty(s->disabled_reason), p_int(&s->consecutive_failures),
        p_int(&s->created_at), p_int(&s->updated_at),
    };
    r = store_exec(c, call, "INSERT INTO webhook_subscriptions (id, tenant_id, url, event_types, "
                   "secret, disabled, disabled_reason, consecutive_failures, created_at, "
                   "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   args, sizeof args / sizeof args[0], NULL, NULL, NULL);
    free(sealed);
    return r;
}

gh_result webhook_sub_update(gh_conn *c, gh_call *call, const char *tenant, gh_webhook_sub *s)
{
    int64_t disabled = s->disabled, changed = 0;
    s->updated_at = gh_now_ms();
    gh_param args[] = {
        p_str(s->url), p_str(s->event_types), p_int(&disabled), p_opt_empty(s->disabled_reason),
        p_int(&s->consecutive_failures), p_int(&s->updated_at), p_str(s->id), p_str(tenant),
    };
    gh_result r = store_exec(c, call, "UPDATE webhook_subscriptions SET url = ?, event_types = ?, "
                             "disabled = ?, disabled_reason = ?, consecutive_failures = ?, "
                             "updated_at = ? WHERE id = ? AND tenant_id = ?",
                             args, sizeof args / sizeof args[0], NULL, NULL, &changed);
    return r == GH_OK && changed == 0 ? GH_ERR_NOT_FOUND : r;
}

gh_result webhook_sub_delete(gh_conn *c, gh_call *call, const char *tenant, const char *id)
{
    gh_param args[] = { p_str(id), p_str(tenant) };
    int64_t changed = 0;
    /* explicitly, not by the foreign key alone: SQLite enforces it only
     * where foreign keys are switched on */
    gh_result r = store_exec(c, call, "DELETE FROM webhook_deliveries WHERE subscription_id = ? "
                             "AND tenant_id = ?", args, 2, NULL, NULL, NULL);
    if (r == GH_OK)
        r = store_exec(c, call, "DELETE FROM webhook_subscriptions WHERE id = ? AND "
                       "tenant_id = ?", args, 2, NULL, NULL, &changed);
    return r == GH_OK && changed == 0 ? GH_ERR_NOT_FOUND : r;
}

gh_result webhook_sub_rotate(gh_conn *c, gh_call *call, const char *tenant, gh_webhook_sub *s,
                             char secret[WEBHOOK_SECRET_LEN])
{
    gh_result r = new_secret(call, secret);
    if (r != GH_OK)
        return r;
    char *sealed = seal(s->id, secret);
    if (!sealed)
        return call_fail(call, GH_ERR_INTERNAL, "webhooks: cannot seal the secret");
    int64_t changed = 0;
    s->updated_at = gh_now_ms();
    gh_param args[] = { p_str(sealed), p_int(&s->updated_at), p_str(s->id), p_str(tenant) };
    r = store_exec(c, call, "UPDATE webhook_subscriptions SET secret = ?, updated_at = ? "
                   "WHERE id = ? AND tenant_id = ?", args, 4, NULL, NULL, &changed);
    free(sealed);
    return r == GH_OK && changed == 0 ? GH_ERR_NOT_FOUND : r;
}
