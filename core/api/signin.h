/*
 * signin.h - the password sign-in and the refresh grant, decided once for
 * both doors that lead to them: /api/v1/auth/{login,refresh} and the OAuth
 * /oauth2/token grants. Each door maps the outcome to its own answer shape.
 * Runs on a worker thread.
 *
 * Password sign-in, in this order (the order is the security):
 *   1. find the user (a cheap indexed read, done for every login alike)
 *   2. lockout_check for the account and the IP: locked -> LOCKED; a known
 *      account is keyed by its id, so its email and username share one
 *      counter; an unknown login by the name typed
 *   3. verify the password, or spend the same time on a dummy verification
 *      when there is no such user: both -> BAD, with the same answer, so
 *      neither message nor timing tells them apart
 *   4. failure: lockout_failure + audit login.failure
 *   5. success: lockout_success; rehash a flagged hash (bcrypt -> argon2id)
 *   6. inactive -> DISABLED; unverified when required -> UNVERIFIED
 *   7. a second factor -> MFA challenge instead of tokens
 *   8. session + access token, audit login.success -> OK
 */
#ifndef GH_API_SIGNIN_H
#define GH_API_SIGNIN_H

#include <jansson.h>
#include "api/job.h"
#include "auth/sessions.h"
#include "auth/users.h"

typedef enum signin_outcome {
    SIGNIN_OK = 0,
    SIGNIN_MFA,            /* mfa_token and methods are set */
    SIGNIN_LOCKED,         /* retry_after_s is set */
    SIGNIN_BAD,            /* wrong login or password */
    SIGNIN_DISABLED,       /* right password, inactive account */
    SIGNIN_UNVERIFIED,     /* right password, email not verified (required) */
    SIGNIN_REUSED,         /* a rotated refresh token came back: session revoked */
    SIGNIN_INVALID_REFRESH,/* unknown, expired or revoked refresh token */
    SIGNIN_FAILED          /* store or kv trouble: the job's answer is set */
} signin_outcome;

typedef struct signin_result {
    gh_user user;                  /* OK, MFA */
    gh_session session;            /* OK (the access token is the job's:
                                      api_sign_later) */
    char refresh[GH_SECRET_LEN];   /* OK */
    char mfa_token[GH_SECRET_LEN]; /* MFA */
    json_t *methods;               /* MFA */
    int64_t retry_after_s;         /* LOCKED */
} signin_result;

signin_outcome signin_password(api_job *j, gh_conn *c, const char *login, const char *password,
                               signin_result *r);
signin_outcome signin_refresh(api_job *j, gh_conn *c, const char *refresh, signin_result *r);
/* Free and wipe what r holds. */
void signin_clear(signin_result *r);

/* Re-check the signed-in user's password before a sensitive change
 * (change-password, account deletion), counted by the lockout like a
 * login: OK, LOCKED, BAD or FAILED. */
signin_outcome signin_recheck(api_job *j, gh_conn *c, const gh_user *u, const char *password,
                              signin_result *r);

/* The API's problem answer for an outcome other than OK and MFA:
 * 429 too_many_attempts, 401 invalid_credentials, 403 account_disabled,
 * 403 email_not_verified, 401 refresh_token_reused, 401 invalid_refresh_token. */
void signin_problem(api_job *j, signin_outcome o, const signin_result *r);

/* Session + access token for u (signup and sign-in); into r. */
signin_outcome signin_issue(api_job *j, gh_conn *c, const gh_user *u, signin_result *r);

/* The lockout account key for a login name: "<tenant>:<normalised login>". */
void signin_account_key(const char *tenant, const char *login, char *out, size_t len);

#endif
