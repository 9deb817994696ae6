/*
 * context.h - who asks auth/ for an account decision, and from where: the
 * sign-in pipeline (signin.h) and the password changes (credentials.h)
 * take this context instead of an HTTP request, and answer with an
 * outcome instead of a status. So the API, gatehousectl and the unit tests
 * run the very same decisions; only api/ knows HTTP (api/outcome.h maps an
 * outcome to its answer).
 */
#ifndef GH_AUTH_CONTEXT_H
#define GH_AUTH_CONTEXT_H

#include <jansson.h>
#include "auth/lockout.h"
#include "auth/password.h"
#include "auth/sessions.h"
#include "auth/tokens.h"
#include "auth/users.h"
#include "config.h"
#include "store/store.h"

typedef struct gh_auth_ctx {
    const gh_config *cfg;   /* hashing cost, policy, lockout, token lifetimes */
    gh_conn *conn;          /* this thread's store connection */
    gh_call *call;          /* deadline; its request id tags the log lines */
    const char *tenant;     /* the tenant acted in */
    const char *actor;      /* the authenticated caller; NULL: none (sign-in) */
    const char *ip;         /* the client's, for lockout, sessions, audit */
    const char *ua;         /* its User-Agent, already clipped; may be "" */
} gh_auth_ctx;

/* What a decision came to. Each caller maps it to its own answer. */
typedef enum auth_outcome {
    AUTH_OK = 0,
    AUTH_MFA,             /* right password, a second factor is due:
                             mfa_token and methods are set */
    AUTH_LOCKED,          /* retry_after_s is set */
    AUTH_BAD,             /* wrong login or password, one answer for both */
    AUTH_DISABLED,        /* right password, inactive account */
    AUTH_UNVERIFIED,      /* right password, email not verified (required) */
    AUTH_REUSED,          /* a rotated refresh token came back: session revoked */
    AUTH_INVALID_REFRESH, /* unknown, expired or revoked refresh token */
    AUTH_GONE,            /* the signed-in account no longer exists */
    AUTH_MFA_TOKEN,       /* unknown, expired, used or exhausted mfa_token */
    AUTH_REFUSED,         /* a new password fails the policy: refusal, detail */
    AUTH_FAILED           /* store, kv or hashing trouble: error, what */
} auth_outcome;

typedef struct auth_result {
    gh_user user;                  /* OK, MFA (sign-in) */
    gh_session session;            /* OK (sign-in, refresh) */
    char refresh[GH_SECRET_LEN];   /* OK (sign-in, refresh) */
    gh_claims access;              /* OK (sign-in, refresh): the access
                                      token to sign, which api/ does on the
                                      loop (api_sign_later) ... */
    json_t *claims;                /* ... with these claims: roles, and
                                      permissions (tokens.permissions_claim) */
    char mfa_token[GH_SECRET_LEN]; /* MFA */
    const char *amr;               /* the second factor proved (static), or
                                      NULL: the token's amr is ["pwd"] */
    const char *proof_amr;         /* the first proof's amr (static), or
                                      NULL: "pwd" */
    json_t *methods;               /* MFA */
    int64_t retry_after_s;         /* LOCKED */
    const char *refusal, *detail;  /* REFUSED: the policy's code and sentence */
    gh_result error;               /* FAILED: the cause (logged, not sent) ... */
    const char *what;              /* ... and what failed */
} auth_result;

/* Free and wipe what r holds. */
void auth_clear(auth_result *r);

/* FAILED, with the cause recorded in r. */
auth_outcome auth_failed(auth_result *r, gh_result error, const char *what);

/* One audit row from this context: actor = the caller when there is one;
 * without, the subject acted when it succeeded. A failure to record is
 * logged; it does not change the decision. details is stolen (may be NULL). */
void auth_audit(const gh_auth_ctx *ax, const char *action, const char *outcome,
                const char *subject_id, json_t *details);


#endif
