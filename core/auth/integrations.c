/*
 * integrations.c - integrations in the store, and their API keys' shape
 * and check (integrations.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include "auth/integrations.h"
#include "auth/pii.h"
#include "auth/rbac.h"
#include "auth/users.h"
#include "call.h"
#include "clock.h"
#include "log.h"
#include "store/records.h"
#include "store/row.h"

#define BASE32 "abcdefghijklmnopqrstuvwxyz234567"
#define B64URL "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#define TAG_LEN (sizeof INTEGRATION_KEY_TAG - 1)
#define SECRET_CHARS (GH_SECRET_LEN - 1)

/* ---------------------------------------------------------------- pure */

int integration_type_valid(const char *type)
{
    return type && (strcmp(type, "api_key") == 0 || strcmp(type, "oauth2") == 0 ||
                    strcmp(type, "custom") == 0);
}

int integration_perm_valid(const char *name)
{
    const char *colon = strchr(name, ':');
    char rt[RBAC_NAME_MAX + 2];
    size_t n = colon ? (size_t)(colon - name) : 0;
    if (!colon || n >= sizeof rt)
        return 0;
    memcpy(rt, name, n);
    rt[n] = '\0';
    return rbac_name_valid(rt) && rbac_name_valid(colon + 1);
}

int integration_key_parse(const char *key, char prefix[INTEGRATION_PREFIX_LEN + 1])
{
    if (!key || strlen(key) != INTEGRATION_KEY_LEN - 1 ||
        strncmp(key, INTEGRATION_KEY_TAG, TAG_LEN) != 0)
        return 0;
    const char *p = key + TAG_LEN, *s = p + INTEGRATION_PREFIX_LEN + 1;
    if (strspn(p, BASE32) < INTEGRATION_PREFIX_LEN || p[INTEGRATION_PREFIX_LEN] != '_' ||
        strspn(s, B64URL) != SECRET_CHARS)
        return 0;
    memcpy(prefix, p, INTEGRATION_PREFIX_LEN);
    prefix[INTEGRATION_PREFIX_LEN] = '\0';
    return 1;
}

int integration_key_accepts(const gh_integration *in, const char *key, int64_t now_ms)
{
    char d[GH_DIGEST_LEN];
    secret_digest(key, d);
    int ok = in->key_hash[0] && CRYPTO_memcmp(in->key_hash, d, GH_DIGEST_LEN - 1) == 0;
    OPENSSL_cleanse(d, sizeof d);
    return ok && !in->disabled && (!in->expires_at || now_ms < in->expires_at);
}

/* ---------------------------------------------------------------- store */

#define COLS "id, tenant_id, name, type, permissions, key_prefix, key_hash, expires_at, " \
             "last_used_at, disabled, created_at, updated_at, " \
             "CASE WHEN signing_secret IS NULL THEN 0 ELSE 1 END"
#define NCOLS 13
/* the AAD's column of a sealed signing secret (pii.h) */
#define COL_SIGNING_SECRET "integrations.signing_secret"

static void integration_fill(void *rec, const gh_param *col)
{
    gh_integration *in = rec;
    col_copy(&col[0], in->id, sizeof in->id);
    col_copy(&col[1], in->tenant_id, sizeof in->tenant_id);
    col_copy(&col[2], in->name, sizeof in->name);
    col_copy(&col[3], in->type, sizeof in->type);
    col_copy(&col[4], in->permissions, sizeof in->permissions);
    col_copy(&col[5], in->key_prefix, sizeof in->key_prefix);
    col_copy(&col[6], in->key_hash, sizeof in->key_hash);
    in->expires_at = col_int(&col[7]);
    in->last_used_at = col_int(&col[8]);
    in->disabled = col_int(&col[9]) != 0;
    in->created_at = col_int(&col[10]);
    in->updated_at = col_int(&col[11]);
    in->has_signing_secret = col_int(&col[12]) != 0;
}

/* A query of integrations: "SELECT " COLS " FROM integrations ...". */
static record_query integrations(const char *sql, const gh_param *args, size_t nargs)
{
    return (record_query){ .sql = sql, .args = args, .nargs = nargs,
                           .size = sizeof(gh_integration), .ncols = NCOLS,
                           .fill = integration_fill, .what = "integrations" };
}

gh_result integration_get(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                          gh_integration *out)
{
    gh_param args[] = { p_str(id), p_str(tenant) };
    if (!uuid_valid(id))
        return GH_ERR_NOT_FOUND;
    record_query q =
        integrations("SELECT " COLS " FROM integrations WHERE id = ? AND tenant_id = ?", args, 2);
    return store_record(c, call, &q, out);
}

gh_result integration_by_prefix(gh_conn *c, gh_call *call, const char *prefix,
                                gh_integration *out)
{
    gh_param arg = p_str(prefix);
    record_query q = integrations("SELECT " COLS " FROM integrations WHERE key_prefix = ?", &arg, 1);
    return store_record(c, call, &q, out);
}

gh_result integration_list(gh_conn *c, gh_call *call, const char *tenant, gh_integration **out,
                           size_t *n)
{
    gh_param arg = p_str(tenant);
    record_query q = integrations("SELECT " COLS " FROM integrations WHERE tenant_id = ?"
                                  " ORDER BY name, id", &arg, 1);
    void *v;
    gh_result r = store_records(c, call, &q, &v, n);
    *out = v;
    return r;
}

/* A new key into key, its prefix and digest into in. */
static gh_result new_key(gh_call *call, gh_integration *in, char key[INTEGRATION_KEY_LEN])
{
    unsigned char rnd[INTEGRATION_PREFIX_LEN];
    char secret[GH_SECRET_LEN];
    if (RAND_bytes(rnd, sizeof rnd) != 1 || secret_new(secret) != 0)
        return call_fail(call, GH_ERR_INTERNAL, "integrations: no random bytes");
    for (size_t i = 0; i < INTEGRATION_PREFIX_LEN; i++)
        in->key_prefix[i] = BASE32[rnd[i] % 32];
    in->key_prefix[INTEGRATION_PREFIX_LEN] = '\0';
    snprintf(key, INTEGRATION_KEY_LEN, INTEGRATION_KEY_TAG "%s_%s", in->key_prefix, secret);
    OPENSSL_cleanse(secret, sizeof secret);
    secret_digest(key, in->key_hash);
    return GH_OK;
}

/* An optional time: 0 is SQL NULL. */
static gh_param p_time(const int64_t *v)
{
    return *v ? p_int(v) : (gh_param){ NULL, GH_T_NULL, NULL, 0 };
}

gh_result integration_create(gh_conn *c, gh_call *call, const char *tenant, gh_integration *in,
                             char key[INTEGRATION_KEY_LEN])
{
    gh_result r;
    key[0] = '\0';
    uuid_new(in->id);
    snprintf(in->tenant_id, sizeof in->tenant_id, "%s", tenant);
    if ((r = new_key(call, in, key)) != GH_OK)
        return r;
    in->last_used_at = 0;
    in->created_at = in->updated_at = gh_now_ms();
    int64_t disabled = in->disabled;
    gh_param args[] = {
        p_str(in->id), p_str(tenant), p_str(in->name), p_str(in->type), p_str(in->permissions),
        p_str(in->key_prefix), p_str(in->key_hash), p_time(&in->expires_at), p_int(&disabled),
        p_int(&in->created_at), p_int(&in->updated_at),
    };
    return store_exec(c, call, "INSERT INTO integrations (id, tenant_id, name, type, permissions, "
                      "key_prefix, key_hash, expires_at, disabled, created_at, updated_at) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      args, sizeof args / sizeof args[0], NULL, NULL, NULL);
}

gh_result integration_update(gh_conn *c, gh_call *call, const char *tenant, gh_integration *in)
{
    int64_t disabled = in->disabled, changed = 0;
    in->updated_at = gh_now_ms();
    gh_param args[] = {
        p_str(in->name), p_str(in->type), p_str(in->permissions), p_str(in->key_prefix),
        p_str(in->key_hash), p_time(&in->expires_at), p_int(&disabled), p_int(&in->updated_at),
        p_str(in->id), p_str(tenant),
    };
    gh_result r = store_exec(c, call, "UPDATE integrations SET name = ?, type = ?, "
                             "permissions = ?, key_prefix = ?, key_hash = ?, expires_at = ?, "
                             "disabled = ?, updated_at = ? WHERE id = ? AND tenant_id = ?",
                             args, sizeof args / sizeof args[0], NULL, NULL, &changed);
    return r == GH_OK && changed == 0 ? GH_ERR_NOT_FOUND : r;
}

gh_result integration_delete(gh_conn *c, gh_call *call, const char *tenant, const char *id)
{
    gh_param args[] = { p_str(id), p_str(tenant) };
    int64_t changed = 0;
    gh_result r = store_exec(c, call, "DELETE FROM integrations WHERE id = ? AND tenant_id = ?",
                             args, 2, NULL, NULL, &changed);
    return r == GH_OK && changed == 0 ? GH_ERR_NOT_FOUND : r;
}

gh_result integration_regenerate(gh_conn *c, gh_call *call, const char *tenant,
                                 gh_integration *in, char key[INTEGRATION_KEY_LEN])
{
    gh_result r = new_key(call, in, key);
    return r == GH_OK ? integration_update(c, call, tenant, in) : r;
}

gh_result integration_touch(gh_conn *c, gh_call *call, const char *id, int64_t now_ms)
{
    int64_t before = now_ms - INTEGRATION_TOUCH_MS;
    gh_param args[] = { p_int(&now_ms), p_str(id), p_int(&before) };
    return store_exec(c, call, "UPDATE integrations SET last_used_at = ? WHERE id = ? AND "
                      "(last_used_at IS NULL OR last_used_at < ?)", args, 3, NULL, NULL, NULL);
}

/* ---------------------------------------------------------------- signing secret */

/* Write sealed (NULL: none) as id's signing secret. */
static gh_result signing_secret_put(gh_conn *c, gh_call *call, const char *tenant,
                                    const char *id, const char *sealed)
{
    int64_t changed = 0, now = gh_now_ms();
    gh_param args[] = { p_opt(sealed), p_int(&now), p_str(id), p_str(tenant) };
    gh_result r = store_exec(c, call, "UPDATE integrations SET signing_secret = ?, "
                             "updated_at = ? WHERE id = ? AND tenant_id = ?",
                             args, 4, NULL, NULL, &changed);
    return r == GH_OK && changed == 0 ? GH_ERR_NOT_FOUND : r;
}

gh_result integration_signing_secret_new(gh_conn *c, gh_call *call, const char *tenant,
                                         const char *id, char secret[WEBHOOK_SECRET_LEN])
{
    const gh_pii *p = pii_current();
    const char *why = "";
    if (webhook_secret_new(secret) != 0)
        return call_fail(call, GH_ERR_INTERNAL, "integrations: no random bytes");
    char *sealed = p ? pii_encrypt(p, COL_SIGNING_SECRET, id, secret, strlen(secret), &why)
                     : strdup(secret);
    if (!sealed)
        return call_fail(call, GH_ERR_INTERNAL, "integrations: sealing a signing secret: %s",
                         p ? why : "out of memory");
    gh_result r = signing_secret_put(c, call, tenant, id, sealed);
    OPENSSL_cleanse(sealed, strlen(sealed));
    free(sealed);
    return r;
}

gh_result integration_signing_secret_drop(gh_conn *c, gh_call *call, const char *tenant,
                                          const char *id)
{
    return signing_secret_put(c, call, tenant, id, NULL);
}

typedef struct stored_secret {
    char *text;
    int found, oom;
} stored_secret;

static int stored_row(void *ud, const gh_param *col, uint32_t n)
{
    stored_secret *s = ud;
    s->found = n > 0;
    s->oom = s->found && col_dup(&col[0], &s->text) < 0;
    return 1;
}

gh_result integration_signing_secret(gh_conn *c, gh_call *call, const char *id,
                                     char secret[WEBHOOK_SECRET_LEN])
{
    gh_param arg = p_str(id);
    stored_secret st = { 0 };
    char *stored, *clear = NULL;
    const char *why = "";
    gh_result r = store_exec(c, call, "SELECT signing_secret FROM integrations WHERE id = ? "
                             "AND signing_secret IS NOT NULL", &arg, 1, stored_row, &st, NULL);
    if (r == GH_OK && st.oom)
        r = call_fail(call, GH_ERR_NOMEM, "integrations: out of memory");
    if (r != GH_OK || !st.found || !st.text) {
        free(st.text);
        return r != GH_OK ? r : GH_ERR_NOT_FOUND;
    }
    stored = st.text;
    /* a failed decryption leaves clear NULL */
    int ok = pii_decrypt(pii_current(), COL_SIGNING_SECRET, id, stored, &clear, &why) == 0 &&
             strlen(clear) < WEBHOOK_SECRET_LEN;
    if (ok)
        memcpy(secret, clear, strlen(clear) + 1);
    else
        gh_log(GH_LOG_ERROR, "integrations: signing secret of integration %s: %s", id,
               clear ? "damaged" : why);
    if (clear)
        OPENSSL_cleanse(clear, strlen(clear));
    OPENSSL_cleanse(stored, strlen(stored));
    free(clear);
    free(stored);
    return ok ? GH_OK : call_fail(call, GH_ERR_INTERNAL, "integrations: unreadable signing secret");
}
