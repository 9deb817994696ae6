/*
 * stamps.h - what a bearer request must learn fresh from a shared kv
 * server on every instance, in one round trip: whether its token or
 * session is deny-listed, and the version stamps under which this
 * instance's caches may answer for it. A cache keyed on a stamp read in
 * the same round trip as the deny-list can only miss after a change:
 * store_stamp_renew writes a new stamp once the change has committed, and
 * a request reads the stamp before it reads any data.
 */
#ifndef GH_API_STAMPS_H
#define GH_API_STAMPS_H

#include "auth/authz.h"
#include "auth/tokens.h"
#include "store/store.h"

typedef struct api_stamps {
    /* the caller's row: its user's stamp and its company's, "user/company";
     * "": unknown (no kv server, or a stamp that could not be put back),
     * then nothing is cached under it */
    char row[2 * AUTHZ_VERSION_MAX + 2];
    int rbac_known;                  /* rbac was read (a permission route) */
    char rbac[AUTHZ_VERSION_MAX];    /* the company's RBAC version, "": none */
} api_stamps;

/* With a kv server (store_kv_batched) only. 1: the token is deny-listed,
 * 0: it is not (*st filled), -1: kv failed (call says why: refuse). The
 * RBAC version is read too when want_rbac. */
int stamps_read(gh_conn *c, gh_call *call, const gh_claims *cl, int want_rbac, api_stamps *st);

/* stamps_read from an event loop that does not wait (store_kv_async): the
 * read goes out on base and cb(arg, st) runs later on this thread, with
 * the fresh stamps of a token that is not deny-listed, or with NULL when
 * the loop cannot answer alone: kv failed or was late, the token is
 * deny-listed, or a stamp is missing (putting one back is a write), all
 * of which a worker's stamps_read reads again and answers. 0: cb will
 * run; -1: it will not (the read could not start). call stays valid
 * until cb. */
typedef void (*stamps_cb)(void *arg, const api_stamps *st);
int stamps_read_async(gh_conn *c, gh_call *call, struct event_base *base, const gh_claims *cl,
                      int want_rbac, stamps_cb cb, void *arg);

#endif
