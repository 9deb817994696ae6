/*
 * users_crypt.h - moving the accounts' personal data between clear text
 * and encryption keys (auth/pii.h): what `gatehousectl reencrypt` runs.
 * Safe beside a running daemon: each batch is one transaction, and a row
 * changed meanwhile is left for the next run rather than overwritten.
 */
#ifndef GH_USERS_CRYPT_H
#define GH_USERS_CRYPT_H

#include <stdint.h>
#include "auth/pii.h"
#include "store/store.h"

/* Where the live rows' personal data stands. A row counts once: clear if
 * any field or index is in clear text, else old_key if any value is under
 * a key other than the newest, else newest. Erased rows hold nothing. */
typedef struct users_pii_status {
    int64_t clear, old_key, newest, erased;
} users_pii_status;

/* p NULL: every encrypted row counts as old_key. */
gh_result users_pii_status_get(gh_conn *c, gh_call *call, const gh_pii *p,
                               users_pii_status *st);

typedef struct users_pii_batch {
    char after[37];   /* in: the last id done ("" to start); out: advanced */
    int size;         /* rows to read (1..1000) */
    int to_clear;     /* 1: decrypt to clear text (going back), 0: newest key */
    int seen, moved, raced, failed; /* out */
} users_pii_batch;

/* The next b->size rows after b->after in id order, each not yet where
 * it should be rewritten, in one transaction. b->seen < b->size: the end.
 * raced: changed by someone else meanwhile (run again); failed: could not
 * be decrypted (logged by id). */
gh_result users_pii_move(gh_conn *c, gh_call *call, const gh_pii *p, users_pii_batch *b);

#endif
