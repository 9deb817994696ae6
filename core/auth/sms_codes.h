/*
 * sms_codes.h - the one-time codes the core sends by SMS (issue 13: the
 * provider only sends). A code is 6 digits from the CSPRNG, kept in kv
 * only as a SHA-256 bound to what it is for, with a TTL; a new code for
 * the same purpose replaces the old one. Each code takes at most
 * auth.mfa.sms_code_tries guesses: the last wrong one deletes it.
 *
 *   kv "sms:<purpose>:<subject>"        the digest, auth.mfa.sms_code_ttl
 *   kv "sms-tries:<purpose>:<subject>"  wrong guesses, as long-lived
 *
 * purpose: "factor" (confirming an SMS factor, subject its id) or
 * "signin" (a sign-in's second step, subject the mfa_token's digest).
 */
#ifndef GH_AUTH_SMS_CODES_H
#define GH_AUTH_SMS_CODES_H

#include "auth/mfa_conf.h"
#include "store/store.h"

#define SMS_CODE_LEN 7 /* 6 digits + NUL */

/* A new code for purpose and subject into code. */
gh_result sms_code_new(gh_conn *c, gh_call *call, const gh_mfa_conf *mc, const char *purpose,
                       const char *subject, char code[SMS_CODE_LEN]);

/* Spend the code: GH_OK (it is gone), GH_ERR_DENIED (wrong; counted),
 * GH_ERR_NOT_FOUND (none, expired, or out of tries). */
gh_result sms_code_check(gh_conn *c, gh_call *call, const gh_mfa_conf *mc, const char *purpose,
                         const char *subject, const char *code);

/* Count one under scope ("sms-send", "sms-verify") for the account and
 * for the phone, a minute's window each, against limit: 0 within it, else
 * the ms until the fuller window ends, or -1 when kv failed. */
int64_t sms_limit_hit(gh_conn *c, gh_call *call, const char *scope, const char *user_id,
                      const char *phone, int limit);

#endif
