/*
 * mailflow.h - email verification and password reset (mailflow.c), and
 * the verification mail signup sends.
 */
#ifndef GH_API_MAILFLOW_H
#define GH_API_MAILFLOW_H

#include "api/job.h"
#include "auth/users.h"

/* On the loop, before a request that mails: 0, or -1 with 501
 * mail_not_configured or 503 mail_queue_full (Retry-After) sent. */
int mailflow_ready(gh_req *req);

/* In the signup worker, after the account is committed: mail u its
 * verification link. 1 queued, 0 not needed (no mail plugin, or already
 * verified), -1 could not be queued (logged; the user can ask again).
 * With mail on, the answer gets "verification_email_sent": true/false. */
int mailflow_signup(api_job *j, gh_conn *c, const gh_user *u);

/* In the admin's worker, after an account without a password is
 * committed: mail u its invitation (a link to choose the password, which
 * also verifies the address). 1 queued, -1 not (no mail plugin, no
 * address, or a full queue: logged; a reset request sends a link too). */
int mailflow_invite(api_job *j, gh_conn *c, const gh_user *u);

#endif
