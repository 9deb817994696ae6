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

#endif
