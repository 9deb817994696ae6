/*
 * claim.h - due rows taken with a lease, for the tables worked by whichever
 * instance takes a row first (provisioning_jobs, mail_outbox). Such a table
 * has next_attempt_at, lease_until and lease_owner columns: a row is due
 * when both times have passed and it is in a state that is worked; it is
 * taken by a conditional UPDATE on the lease it was read with, under a new
 * claim id (lease_owner), so of two instances reading it one wins, and the
 * row of an instance that died is taken over once its lease runs out.
 */
#ifndef GH_STORE_CLAIM_H
#define GH_STORE_CLAIM_H

#include <stddef.h>
#include <stdint.h>
#include "store/records.h"

typedef struct claim_query {
    const char *table; /* "mail_outbox" */
    const char *key;   /* its primary key column, a uuid: "id" */
    const char *state; /* what else makes a row workable: "status = 'pending'" */
    const char *also;  /* more to SET on a claim, or NULL: "attempts = attempts + 1" */
    /* a claimed row read back: .sql has one '?', its key (.args is set here) */
    record_query read;
} claim_query;

/* Up to max due rows of q->table not leased by another instance, each
 * claimed for lease_ms from now_ms and read back: *out malloc'd records
 * of q->read.size (NULL when none), *n of them. A row another instance
 * takes between the read and the UPDATE is left to it. */
gh_result store_claim(gh_conn *c, gh_call *call, const claim_query *q, int64_t now_ms,
                      int64_t lease_ms, size_t max, void **out, size_t *n);

#endif
