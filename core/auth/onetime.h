/*
 * onetime.h - one-time tokens sent by mail: email verification and
 * password reset. Kept in kv (so every instance sees them, and no schema
 * change is needed), only as SHA-256 digests:
 *
 *   ot:<purpose>:<digest>      "<user id> <digest of the address>", TTL
 *   ot:<purpose>-user:<user>   the digest of that user's current token, TTL
 *
 * A token is random (32 bytes, base64url), good for one purpose, one user
 * and the address it was sent to, until its TTL, and only while it is the
 * user's newest of its purpose: issuing a new one makes the older useless
 * (and deletes it). Taking a token deletes its key, an atomic "take" in kv,
 * so of two requests with one token only one succeeds.
 */
#ifndef GH_ONETIME_H
#define GH_ONETIME_H

#include <stdint.h>
#include "auth/tokens.h"
#include "store/store.h"

typedef enum gh_ot_purpose { GH_OT_VERIFY = 0, GH_OT_RESET = 1, GH_OT_INVITE = 2 } gh_ot_purpose;

/* What a live token says. */
typedef struct gh_ot_claim {
    char user_id[37];
    char address[GH_DIGEST_LEN]; /* digest of the normalised address */
} gh_ot_claim;

/* A new token for user_id at address email (compared normalised), into
 * secret. */
gh_result onetime_issue(gh_conn *c, gh_call *call, gh_ot_purpose purpose, const char *user_id,
                        const char *email, int64_t ttl_ms, char secret[GH_SECRET_LEN]);
/* What a valid token says, without spending it. NOT_FOUND: not a live
 * token of this purpose (unknown, expired, spent or superseded). */
gh_result onetime_peek(gh_conn *c, gh_call *call, gh_ot_purpose purpose, const char *secret,
                       gh_ot_claim *out);
/* The same, and spend it: NOT_FOUND as above or when another request took
 * it first. */
gh_result onetime_take(gh_conn *c, gh_call *call, gh_ot_purpose purpose, const char *secret,
                       gh_ot_claim *out);
/* 1 when the token was sent to this address (as the user's is now). */
int onetime_address_is(const gh_ot_claim *cl, const char *email);
/* Delete a token that could not be sent (best effort). */
void onetime_forget(gh_conn *c, gh_call *call, gh_ot_purpose purpose, const char *secret);

#endif
