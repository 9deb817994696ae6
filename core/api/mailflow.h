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

/* In the signup's transaction, after the account is written: owe u its
 * verification mail (a row in the outbox, which commits or rolls back
 * with the account). *sent: 1 owed, 0 not (the outbox is full: logged),
 * -1 no mail is due (no mail plugin, no address, verified already). Else
 * the store's failure: roll back. With mail on, the answer then says
 * "verification_email_sent": *sent == 1. */
gh_result mailflow_signup(api_job *j, gh_conn *c, const gh_user *u, int *sent);

/* Likewise the invitation of an account made without a password (an
 * admin's, onboarding's): a link to choose the password, which also
 * verifies the address. *sent 1 owed, 0 not (no mail plugin, no address,
 * or a full outbox: logged; a reset request sends a link too). */
gh_result mailflow_invite(api_job *j, gh_conn *c, const gh_user *u, int *sent);

#endif
