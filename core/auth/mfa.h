/*
 * mfa.h - the second step of a password sign-in, as far as the password
 * issue goes: which second factors a user has, and the pending challenge a
 * login leaves when it needs one. Verifying a code (TOTP, SMS) and turning
 * the challenge into tokens belong to the MFA issue, which builds on this.
 *
 * The shape, fixed now so clients can be written against it:
 *
 *   POST /api/v1/auth/login  (password right, user has a factor)
 *   200 {"mfa_required": true,
 *        "mfa_token": "<opaque, 43 chars>",     single use, auth.mfa.token_ttl
 *        "methods": [{"id": "<credential id>", "type": "totp"|"sms",
 *                     "label": "<name or null>"}]}
 *   No session exists yet and no tokens are issued.
 *   POST /api/v1/auth/mfa/verify {mfa_token, method, code} (mfa_signin.h)
 *   reads the challenge (mfa_challenge_peek), checks the code, and takes
 *   the challenge (mfa_challenge_take) before it answers like a login; a
 *   wrong code counts against the token (mfa_challenge_fail).
 *   /oauth2/token's password grant answers 403 {"error": "mfa_required",
 *   "error_description", "mfa_token", "methods"} (as Auth0 does).
 *
 * The challenge lives in kv as "mfa:<sha256 hex of the token>" (the token
 * itself is never stored) holding JSON {"user_id", "tenant_id", "ip",
 * "user_agent", "created_at" (ms), "first" (the first proof's amr)}, auth.mfa.token_ttl its TTL; its wrong codes
 * are counted under "mfa-tries:<same digest>", which lives as long.
 */
#ifndef GH_MFA_H
#define GH_MFA_H

#include <jansson.h>
#include "auth/mfa_conf.h"
#include "auth/tokens.h"
#include "store/store.h"

/* The user's confirmed second factors (credentials of type totp or sms),
 * oldest first, as a JSON array of {id, type, label}; [] when none. */
gh_result mfa_methods(gh_conn *c, gh_call *call, const char *user_id, json_t **methods);

/* Leave a pending challenge for mc->token_ttl_ms, after a first proof
 * whose amr is first ("pwd", "ext"); its token into token. */
gh_result mfa_challenge_create(gh_conn *c, gh_call *call, const gh_mfa_conf *mc,
                               const char *first, const char *tenant_id,
                               const char *user_id, const char *ip, const char *user_agent,
                               char token[GH_SECRET_LEN]);

/* Take (read and delete, once) the challenge of token into *ctx (the JSON
 * above). GH_ERR_NOT_FOUND: unknown, expired or already taken. */
gh_result mfa_challenge_take(gh_conn *c, gh_call *call, const char *token, json_t **ctx);

/* *due = 1 when user_id must enrol a second factor before anything else:
 * required (by `required`, the config's auth.mfa_required, or by its
 * company's settings) and it has no confirmed factor. */
gh_result mfa_enrolment_due(gh_conn *c, gh_call *call, int required, const char *tenant_id,
                            const char *user_id, int *due);
/* The same when whether it is required is known already (the config's
 * and the company's word, read with something else). */
gh_result mfa_enrolment_due_known(gh_conn *c, gh_call *call, int required, const char *user_id,
                                  int *due);

/* Read the challenge of token into *ctx without taking it. NOT_FOUND:
 * unknown, expired or already taken. */
gh_result mfa_challenge_peek(gh_conn *c, gh_call *call, const char *token, json_t **ctx);

/* Count a wrong code against token; the mc->token_tries'th takes the
 * challenge, so the sign-in must start again. */
gh_result mfa_challenge_fail(gh_conn *c, gh_call *call, const gh_mfa_conf *mc,
                             const char *token);

#endif
