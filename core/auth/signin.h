/*
 * signin.h - the sign-in pipeline, the refresh grant and the password
 * re-check, decided once for every door that leads to them: the API's
 * /auth/{login,refresh}, the OAuth /oauth2/token grants, gatehousectl and
 * the tests. Each door maps the outcome (context.h) to its own answer.
 * Runs on a worker thread: it may hash.
 *
 * Every sign-in runs one pipeline (the order is the security):
 *   1. identify: the method finds the account its proof names (a cheap
 *      indexed read, done for every attempt alike)
 *   2. lockout_check for the account and the IP: locked -> LOCKED; a known
 *      account is keyed by its id, so its email and username share one
 *      counter; an unknown one by the name typed, normalised
 *   3. check the proof, or spend the same time on a dummy check when there
 *      is no such account: both -> BAD, with the same answer, so neither
 *      message nor timing tells them apart
 *   4. failure: lockout_failure + audit login.failure
 *   5. success: lockout_success; the method's upgrade (rehash a flagged
 *      hash, bcrypt -> argon2id)
 *   6. gates: inactive -> DISABLED; unverified when required -> UNVERIFIED;
 *      a second factor -> MFA challenge (unless the proof was the factor)
 *   7. session + access token, audit login.success -> OK
 *
 * A login path is a signin_method: steps 1, 3 and 5 are its own, the rest
 * is the pipeline's. Passwords are signin_password_method; an MFA code, a
 * federated identity or an API key are methods to add, not pipelines.
 */
#ifndef GH_AUTH_SIGNIN_H
#define GH_AUTH_SIGNIN_H

#include "auth/context.h"

/* One attempt to sign in: the method, what the client sent, and what the
 * method keeps between its steps (wiped when the pipeline ends). */
typedef struct signin_attempt signin_attempt;

enum {
    SIGNIN_SECOND_FACTOR = 1 << 0, /* the proof is the second factor: no
                                      MFA challenge after it */
};

typedef struct signin_method {
    /* Find the account a names, into *u: GH_OK, GH_ERR_NOT_FOUND (no such
     * account: check still runs, with u NULL), or a failure. */
    gh_result (*identify)(const gh_auth_ctx *ax, signin_attempt *a, gh_user *u);
    /* 1: the proof is right for u; 0: not. u NULL: no such account, spend
     * the time a real check takes and answer 0. */
    int (*check)(const gh_auth_ctx *ax, signin_attempt *a, const gh_user *u);
    /* After a right proof, when check asked for it (a->upgrade); NULL:
     * never. Failing is not the user's problem: it logs. */
    void (*upgrade)(const gh_auth_ctx *ax, signin_attempt *a, const gh_user *u);
    unsigned flags;                /* SIGNIN_SECOND_FACTOR */
    const char *failure;           /* the audit action of a wrong proof;
                                      NULL: "login.failure" */
    const char *amr;               /* the proof in the token's "amr" (RFC
                                      8176); NULL: "pwd" */
} signin_method;

struct signin_attempt {
    const signin_method *method;
    const char *login;             /* the name sent: an unknown account's
                                      lockout key; may be NULL when the
                                      proof names the account itself */
    const char *secret;            /* the password, code or key sent */
    char verifier[GH_PW_HASH_MAX]; /* the method's stored proof, if any */
    int upgrade;                   /* check asks for upgrade */
};

/* Passwords: the account by email or username, the proof an argon2id or
 * bcrypt hash, upgraded when weaker than configured. */
extern const signin_method signin_password_method;

/* An identity at an OAuth provider: a->login is the id of the account the
 * identity belongs to (api/oauth.c found or made it), the proof the
 * provider's answer its plugin checked. The token's amr is ["ext"]: RFC
 * 8176 has no value for "another party authenticated the user". */
extern const signin_method signin_identity_method;

/* Run the pipeline for a: OK (r->session, refresh, access, user), MFA,
 * LOCKED, BAD, DISABLED, UNVERIFIED or FAILED. */
auth_outcome signin_run(const gh_auth_ctx *ax, signin_attempt *a, auth_result *r);

/* signin_run with the password method. */
auth_outcome signin_password(const gh_auth_ctx *ax, const char *login, const char *password,
                             auth_result *r);

/* Rotate a refresh token: OK (r->session, refresh, access), REUSED,
 * INVALID_REFRESH or FAILED. */
auth_outcome signin_refresh(const gh_auth_ctx *ax, const char *refresh, auth_result *r);

/* Step 7 alone, for u (sign-up too): OK or FAILED, into r. The token's
 * "amr" (RFC 8176) is r->proof_amr (NULL: "pwd"), with r->amr after it
 * when a second factor was proved. */
auth_outcome signin_issue(const gh_auth_ctx *ax, const gh_user *u, auth_result *r);

/* "Re-check the password, then act", for every sensitive change a
 * signed-in user makes (change-password, account deletion): the account
 * user_id (GONE when it went), its password checked and counted by the
 * lockout like a sign-in (LOCKED, BAD: audited as `action` failure), then
 * act's outcome. act runs with the account read into u. */
typedef auth_outcome (*signin_act)(const gh_auth_ctx *ax, const gh_user *u, void *arg,
                                   auth_result *r);
auth_outcome signin_recheck(const gh_auth_ctx *ax, const char *user_id, const char *password,
                            const char *action, signin_act act, void *arg, auth_result *r);

#endif
