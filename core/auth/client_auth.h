/*
 * client_auth.h - a client's authentication at the token and
 * introspection endpoints (RFC 6749 2.3, RFC 7523 2.2).
 *
 * The HTTP side (api/oauth2.c) says which credentials came and how; this
 * finds the client and checks them against the method it was registered
 * with: a secret for client_secret_basic or client_secret_post, a signed
 * assertion for private_key_jwt. Every failure looks the same to the
 * caller (invalid_client), and counts in the lockout machinery under
 * "client:<client_id>" and the caller's IP (auth/lockout.h), so a secret
 * cannot be guessed at the rate the endpoint answers.
 *
 * An assertion (RFC 7523 3) is a JWT signed by one of the client's keys,
 * its inline JWK Set or the one at its jwks_uri (plugin/host_jwks.c
 * verifies, and fetches and caches a set at a URI): iss and sub
 * the client_id, aud our token endpoint or our issuer, exp and iat
 * present, a lifetime of at most CLIENT_ASSERTION_MAX_S, and a jti never
 * seen before: each jti is kept in kv (shared by every instance) until
 * its assertion expires.
 */
#ifndef GH_CLIENT_AUTH_H
#define GH_CLIENT_AUTH_H

#include <stdint.h>
#include <jansson.h>
#include "auth/clients.h"
#include "config.h"
#include "store/store.h"

#define CLIENT_ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define CLIENT_ASSERTION_MAX_S 3600
#define CLIENT_ASSERTION_LEEWAY_S 30

/* What the request presented; method is one of the three names. */
typedef struct client_creds {
    const char *method;
    const char *client_id;  /* NULL for an assertion without client_id */
    const char *secret;     /* the secret methods */
    const char *assertion;  /* private_key_jwt */
} client_creds;

typedef enum client_auth_outcome {
    CLIENT_AUTH_OK = 0,
    CLIENT_AUTH_FAILED,     /* invalid_client: unknown, disabled, wrong
                               method, wrong secret, bad assertion */
    CLIENT_AUTH_LOCKED,     /* too many failures: *retry_ms */
    CLIENT_AUTH_ERROR,      /* the store or kv failed: call says why */
} client_auth_outcome;

/* Authenticate cr from ip; on OK the client into out. token_endpoint is
 * our token endpoint's URL (an assertion's aud). */
client_auth_outcome client_authenticate(gh_conn *c, gh_call *call, const gh_config *cfg,
                                        const char *token_endpoint, const client_creds *cr,
                                        const char *ip, gh_client *out, int64_t *retry_ms);

/* Pure: NULL when an assertion's verified claims pl suit client_id at
 * now_s, else why not (for the log). */
const char *client_assertion_refusal(const json_t *pl, const char *client_id,
                                     const char *token_endpoint, const char *issuer,
                                     int64_t now_s);
/* The audience to verify an assertion against: the issuer if its
 * (unverified) aud names it, else the token endpoint. */
const char *client_assertion_audience(const char *assertion, const char *token_endpoint,
                                      const char *issuer);

#endif
