/*
 * mfa_sms.h - the SMS side of second factors over HTTP (mfa_sms.c), and
 * what mfa.c's confirm borrows from it.
 */
#ifndef GH_API_MFA_SMS_H
#define GH_API_MFA_SMS_H

#include "api/job.h"
#include "auth/factors.h"

/* Check the code sent to confirm SMS factor f, within the verify limits
 * (per user and per phone). GH_OK, GH_ERR_DENIED (wrong, expired or out of
 * tries), or -1 in *answered with the 429/503 set. */
gh_result mfa_sms_confirm(api_job *j, gh_conn *c, const gh_factor *f, const char *code,
                          int *answered);

/* Enrolling a second factor needs a sign-in (password or provider) at most
 * auth.mfa.recent_signin ago, the start of the token's session, so that a
 * stolen access token cannot add the thief's authenticator. 0, or -1 with
 * 401 insufficient_user_authentication set (RFC 9470's step-up
 * challenge, with max_age): the client signs in again and retries. */
int mfa_recent_signin(api_job *j, gh_conn *c);

#endif
