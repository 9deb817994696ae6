/*
 * credentials.h - a new password for an account, decided once for
 * sign-up, change-password, the password reset and `gatehousectl user
 * create`: the policy check with the account's own names as context, the
 * hash, and the transaction that replaces the hash and ends the account's
 * sessions. Runs on a worker: it hashes.
 */
#ifndef GH_AUTH_CREDENTIALS_H
#define GH_AUTH_CREDENTIALS_H

#include "auth/context.h"

/* NULL if pw (len bytes) passes pol, the account's own email and username
 * (either may be NULL or "") refused too; else the policy's code, with
 * *detail its sentence (password_policy_check). */
const char *credentials_policy(const gh_pw_policy *pol, const char *pw, size_t len,
                               const char *email, const char *username, const char **detail);

/* pw checked (credentials_policy) and hashed into hash: OK, REFUSED or
 * FAILED. The caller wipes hash. */
auth_outcome credentials_new(const gh_auth_ctx *ax, const char *pw, const char *email,
                             const char *username, char hash[GH_PW_HASH_MAX], auth_result *r);

/* In one transaction: hash becomes user_id's password, every session of
 * it but keep_sid (may be NULL) ends with `reason`, and the audit row
 * `action` counts them. OK or FAILED. */
auth_outcome credentials_replace(const gh_auth_ctx *ax, const char *user_id, const char *keep_sid,
                                 const char *reason, const char *action, const char *hash,
                                 auth_result *r);

/* credentials_new for u, then credentials_replace as "password changed",
 * audited password.change. */
auth_outcome credentials_change(const gh_auth_ctx *ax, const gh_user *u, const char *pw,
                                const char *keep_sid, auth_result *r);

#endif
