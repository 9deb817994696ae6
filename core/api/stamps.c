/*
 * stamps.c - a bearer request's deny-list entries and version stamps in
 * one kv round trip (MGET on Redis). See stamps.h for why that is enough.
 */
#include <stdio.h>
#include <string.h>
#include "api/stamps.h"
#include "auth/ratelimit.h"
#include "auth/sessions.h"
#include "auth/users.h"
#include "out.h"

/* A stamp as kv gave it, or one put back where kv had none (lost in a
 * restart or an eviction; a user who never changed). "" when another
 * reader put one back first or kv refused: this request caches nothing. */
static void stamp_of(gh_conn *c, gh_call *call, const char *key, const gh_param *p,
                     char v[AUTHZ_VERSION_MAX])
{
    char fresh[STORE_STAMP_LEN + 1];

    authz_version_of(p, v);
    if (!v[0] && store_stamp_ensure(c, call, key, fresh) == GH_OK)
        snprintf(v, AUTHZ_VERSION_MAX, "%s", fresh);
}

/* The user and company stamps as st->row ("" if either is unknown). */
static void row_of(gh_conn *c, gh_call *call, const char *const *keys, const gh_out *out,
                   size_t at, api_stamps *st)
{
    char user[AUTHZ_VERSION_MAX], company[AUTHZ_VERSION_MAX];

    stamp_of(c, call, keys[at], out_get(out, "value", at), user);
    stamp_of(c, call, keys[at + 1], out_get(out, "value", at + 1), company);
    st->row[0] = '\0';
    if (user[0] && company[0])
        snprintf(st->row, sizeof st->row, "%s/%s", user, company);
}

int stamps_read(gh_conn *c, gh_call *call, const gh_claims *cl, int want_rbac, api_stamps *st)
{
    char deny[2][TOKEN_DENY_KEY_MAX], user[USERS_STAMP_KEY_MAX], company[USERS_STAMP_KEY_MAX];
    char rbac[GH_KV_KEY_MAX];
    const char *keys[5];
    size_t nd = token_deny_keys(cl->sid, cl->jti, deny), n = 0;
    gh_out *out = out_new();
    int denied = 0;

    memset(st, 0, sizeof *st);
    if (!out) {
        call_fail(call, GH_ERR_NOMEM, "stamps: out of memory");
        return -1;
    }
    for (size_t i = 0; i < nd; i++)
        keys[n++] = deny[i];
    users_stamp_key(user, cl->sub);
    users_company_stamp_key(company, cl->tenant);
    keys[n++] = user;
    keys[n++] = company;
    if (want_rbac) {
        authz_version_key(rbac, sizeof rbac, cl->tenant);
        keys[n++] = rbac;
    }
    if (store_kv_get_many(c, call, keys, n, out) != GH_OK) {
        out_free(out);
        return -1;
    }
    for (size_t i = 0; i < nd; i++) {
        const gh_param *v = out_get(out, "value", i);
        denied |= v == NULL || v->type != GH_T_NULL; /* none at all: refuse */
    }
    if (!denied) {
        row_of(c, call, keys, out, nd, st);
        if (want_rbac) {
            authz_version_of(out_get(out, "value", nd + 2), st->rbac);
            st->rbac_known = 1;
        }
    }
    out_free(out);
    return denied;
}
