/*
 * clients.c - OAuth clients in the store, and the checks on their
 * settings and secrets (clients.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include "auth/clients.h"
#include "auth/users.h"
#include "call.h"
#include "clock.h"
#include "store/records.h"
#include "store/row.h"

/* ---------------------------------------------------------------- pure */

int client_auth_method_valid(const char *m)
{
    return m && (strcmp(m, CLIENT_SECRET_BASIC) == 0 || strcmp(m, CLIENT_SECRET_POST) == 0 ||
                 strcmp(m, CLIENT_PRIVATE_KEY_JWT) == 0);
}

/* The next item of a space-separated list at *p: its start and length,
 * *p past it; 0 at the end. */
static size_t next_item(const char **p, const char **item)
{
    while (**p == ' ')
        (*p)++;
    *item = *p;
    while (**p && **p != ' ')
        (*p)++;
    return (size_t)(*p - *item);
}

static int item_in(const char *list, const char *item, size_t len)
{
    const char *p = list, *it;
    size_t n;
    while ((n = next_item(&p, &it)) > 0)
        if (n == len && memcmp(it, item, len) == 0)
            return 1;
    return 0;
}

static int scope_token(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
            return 0;
    return 1;
}

/* An absolute URI (a scheme, then "://" and more), no fragment. */
static int absolute_uri(const char *s, size_t n)
{
    size_t scheme = 0;
    while (scheme < n && (strchr("abcdefghijklmnopqrstuvwxyz0123456789+.-", s[scheme]) ||
                          (s[scheme] >= 'A' && s[scheme] <= 'Z')))
        scheme++;
    return scheme > 0 && n > scheme + 3 && memcmp(s + scheme, "://", 3) == 0 &&
           !memchr(s, '#', n) && scope_token(s, n);
}

int client_list_valid(const char *list, int uris)
{
    const char *p = list, *it;
    size_t n;
    if (!list || strlen(list) >= CLIENT_LIST_MAX)
        return 0;
    while ((n = next_item(&p, &it)) > 0) {
        if (!(uris ? absolute_uri(it, n) : scope_token(it, n)))
            return 0;
        /* twice: the first occurrence ends before this one */
        char *before = strndup(list, (size_t)(it - list));
        int dup = !before || item_in(before, it, n);
        free(before);
        if (dup)
            return 0;
    }
    return 1;
}

int client_jwks_uri_allowed(const char *uri, int allow_private)
{
    return strncmp(uri, "https://", 8) == 0 || (allow_private && strncmp(uri, "http://", 7) == 0);
}

int client_list_has(const char *list, const char *item)
{
    return item && *item && item_in(list, item, strlen(item));
}

int client_list_subset(const char *want, const char *allowed)
{
    const char *p = want, *it;
    size_t n;
    while ((n = next_item(&p, &it)) > 0)
        if (!item_in(allowed, it, n))
            return 0;
    return 1;
}

static int digest_is(const char *stored, const char *digest)
{
    return stored[0] && CRYPTO_memcmp(stored, digest, GH_DIGEST_LEN - 1) == 0;
}

int client_secret_matches(const gh_client *cl, const char *secret, int64_t now_ms)
{
    char d[GH_DIGEST_LEN];
    if (!secret || !*secret)
        return 0;
    secret_digest(secret, d);
    int ok = digest_is(cl->secret_hash, d) ||
             (now_ms < cl->old_secret_expires_at && digest_is(cl->old_secret_hash, d));
    OPENSSL_cleanse(d, sizeof d);
    return ok;
}

/* ---------------------------------------------------------------- store */

#define COLS "id, tenant_id, client_id, name, grant_types, scopes, audiences, token_ttl, " \
             "auth_method, secret_hash, old_secret_hash, old_secret_expires_at, jwks_uri, " \
             "jwks, may_introspect, disabled, created_at, updated_at"
#define NCOLS 18

static void client_fill(void *rec, const gh_param *col)
{
    gh_client *cl = rec;
    col_copy(&col[0], cl->id, sizeof cl->id);
    col_copy(&col[1], cl->tenant_id, sizeof cl->tenant_id);
    col_copy(&col[2], cl->client_id, sizeof cl->client_id);
    col_copy(&col[3], cl->name, sizeof cl->name);
    col_copy(&col[4], cl->grant_types, sizeof cl->grant_types);
    col_copy(&col[5], cl->scopes, sizeof cl->scopes);
    col_copy(&col[6], cl->audiences, sizeof cl->audiences);
    cl->token_ttl_s = col_int(&col[7]);
    col_copy(&col[8], cl->auth_method, sizeof cl->auth_method);
    col_copy(&col[9], cl->secret_hash, sizeof cl->secret_hash);
    col_copy(&col[10], cl->old_secret_hash, sizeof cl->old_secret_hash);
    cl->old_secret_expires_at = col_int(&col[11]);
    col_copy(&col[12], cl->jwks_uri, sizeof cl->jwks_uri);
    col_copy(&col[13], cl->jwks, sizeof cl->jwks);
    cl->may_introspect = col_int(&col[14]) != 0;
    cl->disabled = col_int(&col[15]) != 0;
    cl->created_at = col_int(&col[16]);
    cl->updated_at = col_int(&col[17]);
}

/* A query of clients: "SELECT " COLS " FROM oauth_clients ...". */
static record_query clients(const char *sql, const gh_param *args, size_t nargs)
{
    return (record_query){ .sql = sql, .args = args, .nargs = nargs, .size = sizeof(gh_client),
                           .ncols = NCOLS, .fill = client_fill, .what = "clients" };
}

gh_result client_get(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                     gh_client *out)
{
    gh_param args[] = { p_str(id), p_str(tenant) };
    if (!uuid_valid(id))
        return GH_ERR_NOT_FOUND;
    record_query q =
        clients("SELECT " COLS " FROM oauth_clients WHERE id = ? AND tenant_id = ?", args, 2);
    return store_record(c, call, &q, out);
}

gh_result client_by_client_id(gh_conn *c, gh_call *call, const char *client_id, gh_client *out)
{
    gh_param arg = p_str(client_id);
    if (strlen(client_id) >= CLIENT_ID_MAX)
        return GH_ERR_NOT_FOUND;
    record_query q = clients("SELECT " COLS " FROM oauth_clients WHERE client_id = ?", &arg, 1);
    return store_record(c, call, &q, out);
}

gh_result client_list(gh_conn *c, gh_call *call, const char *tenant, gh_client **out, size_t *n)
{
    gh_param arg = p_str(tenant);
    record_query q = clients("SELECT " COLS " FROM oauth_clients WHERE tenant_id = ?"
                             " ORDER BY name, id", &arg, 1);
    void *v;
    gh_result r = store_records(c, call, &q, &v, n);
    *out = v;
    return r;
}

/* A new secret into secret and its digest into cl. */
static gh_result new_secret(gh_call *call, gh_client *cl, char secret[CLIENT_SECRET_LEN])
{
    char raw[GH_SECRET_LEN];
    if (secret_new(raw) != 0)
        return call_fail(call, GH_ERR_INTERNAL, "clients: no random bytes");
    snprintf(secret, CLIENT_SECRET_LEN, CLIENT_SECRET_PREFIX "%s", raw);
    OPENSSL_cleanse(raw, sizeof raw);
    secret_digest(secret, cl->secret_hash);
    return GH_OK;
}

static int secret_method(const gh_client *cl)
{
    return strcmp(cl->auth_method, CLIENT_PRIVATE_KEY_JWT) != 0;
}

gh_result client_create(gh_conn *c, gh_call *call, const char *tenant, gh_client *cl,
                        char secret[CLIENT_SECRET_LEN])
{
    unsigned char rnd[16];
    char id[GH_B64URL_LEN(sizeof rnd)];
    int64_t intro, disabled;
    gh_result r;

    secret[0] = '\0';
    if (RAND_bytes(rnd, sizeof rnd) != 1 || b64url_encode(rnd, sizeof rnd, id, sizeof id) == 0)
        return call_fail(call, GH_ERR_INTERNAL, "clients: no random bytes");
    uuid_new(cl->id);
    snprintf(cl->client_id, sizeof cl->client_id, "ghc_%s", id);
    snprintf(cl->tenant_id, sizeof cl->tenant_id, "%s", tenant);
    cl->secret_hash[0] = cl->old_secret_hash[0] = '\0';
    cl->old_secret_expires_at = 0;
    if (secret_method(cl) && (r = new_secret(call, cl, secret)) != GH_OK)
        return r;
    cl->created_at = cl->updated_at = gh_now_ms();
    intro = cl->may_introspect;
    disabled = cl->disabled;
    gh_param args[] = {
        p_str(cl->id), p_str(tenant), p_str(cl->client_id), p_str(cl->name),
        p_str(cl->grant_types), p_str(cl->scopes), p_str(cl->audiences), p_int(&cl->token_ttl_s),
        p_str(cl->auth_method), p_opt_empty(cl->secret_hash), p_opt_empty(cl->jwks_uri),
        p_opt_empty(cl->jwks), p_int(&intro), p_int(&disabled), p_int(&cl->created_at),
        p_int(&cl->updated_at),
    };
    return store_exec(c, call, "INSERT INTO oauth_clients (id, tenant_id, client_id, name, "
                      "grant_types, scopes, audiences, token_ttl, auth_method, secret_hash, "
                      "jwks_uri, jwks, may_introspect, disabled, created_at, updated_at) VALUES "
                      "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      args, sizeof args / sizeof args[0], NULL, NULL, NULL);
}

/* Write every column a change may touch. */
static gh_result write_row(gh_conn *c, gh_call *call, const char *tenant, gh_client *cl)
{
    int64_t intro = cl->may_introspect, disabled = cl->disabled;
    cl->updated_at = gh_now_ms();
    gh_param args[] = {
        p_str(cl->name), p_str(cl->grant_types), p_str(cl->scopes), p_str(cl->audiences),
        p_int(&cl->token_ttl_s), p_str(cl->auth_method), p_opt_empty(cl->secret_hash),
        p_opt_empty(cl->old_secret_hash), p_int(&cl->old_secret_expires_at),
        p_opt_empty(cl->jwks_uri), p_opt_empty(cl->jwks), p_int(&intro), p_int(&disabled),
        p_int(&cl->updated_at), p_str(cl->id), p_str(tenant),
    };
    int64_t changed = 0;
    gh_result r = store_exec(c, call, "UPDATE oauth_clients SET name = ?, grant_types = ?, "
                             "scopes = ?, audiences = ?, token_ttl = ?, auth_method = ?, "
                             "secret_hash = ?, old_secret_hash = ?, old_secret_expires_at = ?, "
                             "jwks_uri = ?, jwks = ?, may_introspect = ?, disabled = ?, "
                             "updated_at = ? "
                             "WHERE id = ? AND tenant_id = ?",
                             args, sizeof args / sizeof args[0], NULL, NULL, &changed);
    return r == GH_OK && changed == 0 ? GH_ERR_NOT_FOUND : r;
}

gh_result client_update(gh_conn *c, gh_call *call, const char *tenant, gh_client *cl,
                        char secret[CLIENT_SECRET_LEN])
{
    gh_result r;
    secret[0] = '\0';
    if (!secret_method(cl)) {
        /* keys now: a secret left behind would still authenticate */
        cl->secret_hash[0] = cl->old_secret_hash[0] = '\0';
        cl->old_secret_expires_at = 0;
    } else if (!cl->secret_hash[0] && (r = new_secret(call, cl, secret)) != GH_OK) {
        return r;
    }
    return write_row(c, call, tenant, cl);
}

gh_result client_delete(gh_conn *c, gh_call *call, const char *tenant, const char *id)
{
    gh_param args[] = { p_str(id), p_str(tenant) };
    int64_t changed = 0;
    gh_result r = store_exec(c, call, "DELETE FROM oauth_clients WHERE id = ? AND tenant_id = ?",
                             args, 2, NULL, NULL, &changed);
    return r == GH_OK && changed == 0 ? GH_ERR_NOT_FOUND : r;
}

gh_result client_rotate(gh_conn *c, gh_call *call, const char *tenant, gh_client *cl,
                        int64_t grace_ms, char secret[CLIENT_SECRET_LEN])
{
    gh_result r;
    secret[0] = '\0';
    if (!secret_method(cl))
        return call_fail(call, GH_ERR_INVALID, "clients: a private_key_jwt client has no secret");
    memcpy(cl->old_secret_hash, cl->secret_hash, sizeof cl->old_secret_hash);
    cl->old_secret_expires_at = gh_now_ms() + grace_ms;
    if ((r = new_secret(call, cl, secret)) != GH_OK)
        return r;
    return write_row(c, call, tenant, cl);
}
