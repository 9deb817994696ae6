/*
 * stamps.c - a bearer request's deny-list entries and version stamps in
 * one kv round trip (MGET on Redis). See stamps.h for why that is enough.
 */
#include <stdio.h>
#include <stdlib.h>
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

/* A request's keys: its deny-list entries (nd of them) first, then the
 * user's and the company's stamps, then the RBAC version when want_rbac. */
typedef struct stamp_keys {
    char deny[2][TOKEN_DENY_KEY_MAX], user[USERS_STAMP_KEY_MAX], company[USERS_STAMP_KEY_MAX];
    char rbac[GH_KV_KEY_MAX];
    const char *keys[5];
    size_t n, nd;
} stamp_keys;

static void keys_of(const gh_claims *cl, int want_rbac, stamp_keys *k)
{
    k->nd = token_deny_keys(cl->sid, cl->jti, k->deny);
    k->n = 0;
    for (size_t i = 0; i < k->nd; i++)
        k->keys[k->n++] = k->deny[i];
    users_stamp_key(k->user, cl->sub);
    users_company_stamp_key(k->company, cl->tenant);
    k->keys[k->n++] = k->user;
    k->keys[k->n++] = k->company;
    if (want_rbac) {
        authz_version_key(k->rbac, sizeof k->rbac, cl->tenant);
        k->keys[k->n++] = k->rbac;
    }
}

/* Whether the values deny-list the token: a value at all, or none read. */
static int denied_by(const gh_param *const *deny, size_t nd)
{
    int denied = 0;
    for (size_t i = 0; i < nd; i++)
        denied |= store_kv_there(deny[i]);
    return denied;
}

int stamps_read(gh_conn *c, gh_call *call, const gh_claims *cl, int want_rbac, api_stamps *st)
{
    stamp_keys k;
    const gh_param *deny[2];
    gh_out *out = out_new();
    int denied;

    memset(st, 0, sizeof *st);
    if (!out) {
        call_fail(call, GH_ERR_NOMEM, "stamps: out of memory");
        return -1;
    }
    keys_of(cl, want_rbac, &k);
    if (store_kv_get_many(c, call, k.keys, k.n, out) != GH_OK) {
        out_free(out);
        return -1;
    }
    for (size_t i = 0; i < k.nd; i++)
        deny[i] = out_get(out, "value", i);
    if (!(denied = denied_by(deny, k.nd))) {
        row_of(c, call, k.keys, out, k.nd, st);
        if (want_rbac) {
            authz_version_of(out_get(out, "value", k.nd + 2), st->rbac);
            st->rbac_known = 1;
        }
    }
    out_free(out);
    return denied;
}

/* An asynchronous read on its way: the keys are sent, their layout kept. */
typedef struct stamps_wait {
    size_t n, nd;
    int want_rbac;
    stamps_cb cb;
    void *arg;
} stamps_wait;

/* The stamps in values, or NULL for the worker: a failed read, a token
 * deny-listed, or a stamp kv lost (putting one back is a write). */
static const api_stamps *stamps_of(const stamps_wait *w, gh_result r, const gh_param *values,
                                   size_t n, api_stamps *st)
{
    const gh_param *deny[2];
    char user[AUTHZ_VERSION_MAX], company[AUTHZ_VERSION_MAX];

    if (r != GH_OK || n != w->n)
        return NULL;
    for (size_t i = 0; i < w->nd; i++)
        deny[i] = &values[i];
    authz_version_of(&values[w->nd], user);
    authz_version_of(&values[w->nd + 1], company);
    if (denied_by(deny, w->nd) || !user[0] || !company[0])
        return NULL;
    memset(st, 0, sizeof *st);
    snprintf(st->row, sizeof st->row, "%s/%s", user, company);
    if (w->want_rbac) {
        authz_version_of(&values[w->nd + 2], st->rbac);
        st->rbac_known = 1;
    }
    return st;
}

static void mget_arrived(void *arg, gh_result r, const gh_param *values, size_t n)
{
    stamps_wait *w = arg;
    api_stamps st;
    const api_stamps *got = stamps_of(w, r, values, n, &st);

    w->cb(w->arg, got);
    free(w);
}

int stamps_read_async(gh_conn *c, gh_call *call, struct event_base *base, const gh_claims *cl,
                      int want_rbac, stamps_cb cb, void *arg)
{
    stamp_keys k;
    stamps_wait *w = malloc(sizeof *w);

    if (!w)
        return -1;
    keys_of(cl, want_rbac, &k);
    *w = (stamps_wait){ k.n, k.nd, want_rbac, cb, arg };
    if (store_kv_get_many_async(c, call, base, k.keys, k.n, mget_arrived, w) != GH_OK) {
        free(w);
        return -1;
    }
    return 0;
}
