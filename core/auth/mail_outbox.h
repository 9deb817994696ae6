/*
 * mail_outbox.h - the mail outbox's rows (table mail_outbox, migration
 * 14): the mail the server owes, as intents - a user and a purpose
 * (verify, reset, invite) - never as a message. The sender
 * (notify/outbox.h) claims due rows for a lease, composes each message
 * when it sends it, and settles the row: deleted once sent, due again
 * later after a failure, or "failed" with its reason, purged a week on.
 */
#ifndef GH_MAIL_OUTBOX_H
#define GH_MAIL_OUTBOX_H

#include <stddef.h>
#include <stdint.h>
#include "store/store.h"

#define MAIL_PURPOSE_MAX 16
#define MAIL_ERROR_MAX 256

/* A claimed row. attempts counts this one. */
typedef struct gh_mail_row {
    char id[37], tenant_id[37], user_id[37];
    char purpose[MAIL_PURPOSE_MAX];
    char lease_owner[37];
    int64_t attempts, created_at;
} gh_mail_row;

/* A pending row for user_id, due now: in the caller's transaction when
 * one is open, so it commits or rolls back with the change that mails. */
gh_result mail_outbox_add(gh_conn *c, gh_call *call, const char *tenant, const char *user_id,
                          const char *purpose);
/* Up to max due rows not leased by another sender, each claimed for
 * lease_ms with its attempt counted; *out malloc'd (NULL when none). */
gh_result mail_outbox_claim(gh_conn *c, gh_call *call, int64_t now_ms, int64_t lease_ms,
                            size_t max, gh_mail_row **out, size_t *n);
/* The claimed row is done: sent, or no longer wanted. Deleted. */
gh_result mail_outbox_done(gh_conn *c, gh_call *call, const gh_mail_row *row);
/* The attempt failed: due again at next_ms, or (next_ms 0) "failed" for
 * good; error says why (no secret). Only while the claim is still ours:
 * CONFLICT when another sender took the row over. */
gh_result mail_outbox_failed(gh_conn *c, gh_call *call, const gh_mail_row *row,
                             int64_t next_ms, const char *error);
/* Deletes the rows that failed for good longer than keep_ms ago (kept
 * that long so that an admin can still read why): how many, or -1. For
 * the daemon's periodic purge. */
int64_t mail_outbox_purge(gh_conn *c, gh_call *call, int64_t keep_ms);
/* A write to the table that changes nothing: what a request for an
 * unknown address does instead of mail_outbox_add, at the same cost. */
void mail_outbox_decoy(gh_conn *c, gh_call *call);
/* The rows still to send (pending), every sender's. */
gh_result mail_outbox_pending(gh_conn *c, gh_call *call, int64_t *n);

#endif
