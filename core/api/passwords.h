/*
 * passwords.h - a new password for an account, shared by sign-up,
 * change-password and the password reset: the policy check, and the
 * transaction that replaces the hash and ends the account's sessions.
 * Runs on a worker.
 */
#ifndef GH_API_PASSWORDS_H
#define GH_API_PASSWORDS_H

#include "api/job.h"

/* 1 if pw passes the policy, the account's own email and username (either
 * may be NULL or "") refused too; else 0 with the 422 set. */
int passwords_policy_ok(api_job *j, const char *pw, const char *email, const char *username);

/* In one transaction: hash becomes user_id's password, every session of
 * it but keep_sid (may be NULL) ends with `reason`, and the audit row
 * `action` counts them. Answers 204, or the store failure. */
void passwords_replace(api_job *j, gh_conn *c, const char *user_id, const char *keep_sid,
                       const char *reason, const char *action, const char *hash);

#endif
