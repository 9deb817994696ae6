/*
 * mailflow.h - email verification and password reset (mailflow.c), and
 * the verification mail signup sends.
 */
#ifndef GH_API_MAILFLOW_H
#define GH_API_MAILFLOW_H

#include "api/job.h"
#include "auth/users.h"

/* In the signup worker, after the account is committed: mail u its
 * verification link. 1 queued, 0 not needed (no mail plugin, or already
 * verified), -1 could not be queued (logged; the user can ask again).
 * With mail on, the answer gets "verification_email_sent": true/false. */
int mailflow_signup(api_job *j, gh_conn *c, const gh_user *u);

#endif
