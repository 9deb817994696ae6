/*
 * clients.h - OAuth clients: a company's machines, which authenticate to
 * the token endpoint and get access tokens by the client_credentials
 * grant (RFC 6749 4.4).
 *
 * A client is found by its client_id (public, unique across companies)
 * and authenticates the one way it was registered with:
 *   client_secret_basic  HTTP Basic, id and secret form-urlencoded (2.3.1)
 *   client_secret_post   client_id and client_secret in the body
 *   private_key_jwt      a JWT signed by one of its keys (RFC 7523), given
 *                        inline (a JWK Set) or at its jwks_uri
 * A secret is generated here, shown once, and stored as its SHA-256: 256
 * random bits need no slow hash, and a grant must not cost an argon2 run.
 * Rotating keeps the previous secret's digest, accepted until its grace
 * ends. Lists (grant types, scopes, audiences) are space-separated, as
 * OAuth writes scopes.
 */
#ifndef GH_CLIENTS_H
#define GH_CLIENTS_H

#include <stdint.h>
#include "auth/tokens.h"
#include "store/store.h"

#define CLIENT_ID_MAX 48
#define CLIENT_LIST_MAX 1024
#define CLIENT_URI_MAX 512
#define CLIENT_JWKS_MAX 8192 /* a JWK Set given inline, as JSON text */
/* "ghcs_" and 43 base64url characters: the prefix lets secret scanners
 * recognise a leaked one. */
#define CLIENT_SECRET_PREFIX "ghcs_"
#define CLIENT_SECRET_LEN (sizeof CLIENT_SECRET_PREFIX - 1 + GH_SECRET_LEN)

#define CLIENT_SECRET_BASIC "client_secret_basic"
#define CLIENT_SECRET_POST "client_secret_post"
#define CLIENT_PRIVATE_KEY_JWT "private_key_jwt"
#define CLIENT_GRANT "client_credentials" /* the one grant a client may hold */

typedef struct gh_client {
    char id[37];
    char tenant_id[37];
    char client_id[CLIENT_ID_MAX];
    char name[256];
    char grant_types[64];          /* "client_credentials" or "" */
    char scopes[CLIENT_LIST_MAX];  /* the scopes it may ask for */
    char audiences[CLIENT_LIST_MAX]; /* the RFC 8707 resources it may ask for */
    int64_t token_ttl_s;           /* its access tokens' lifetime */
    char auth_method[32];
    char secret_hash[GH_DIGEST_LEN];     /* "" for private_key_jwt */
    char old_secret_hash[GH_DIGEST_LEN]; /* the rotated-out one, or "" */
    int64_t old_secret_expires_at;       /* ms: it works until then */
    char jwks_uri[CLIENT_URI_MAX]; /* private_key_jwt's keys: at a URL ... */
    char jwks[CLIENT_JWKS_MAX];    /* ... or inline, a JWK Set's JSON */
    int may_introspect;            /* may call /oauth2/introspect */
    int disabled;
    int64_t created_at, updated_at;
} gh_client;

/* ---- pure: no store */

/* 1 for one of the three method names. */
int client_auth_method_valid(const char *m);
/* 1 when list is space-separated items, each a scope-token (RFC 6749
 * 3.3: printable ASCII but '"' and '\'), or with uris an absolute URI
 * without a fragment (RFC 8707 2); no item twice; "" is the empty list. */
int client_list_valid(const char *list, int uris);
/* 1 when uri may be a jwks_uri: https://, or http:// when the config
 * allows private ones (oauth2.jwks_allow_private). */
int client_jwks_uri_allowed(const char *uri, int allow_private);
/* 1 when the space-separated list holds item. */
int client_list_has(const char *list, const char *item);
/* 1 when every item of want is in allowed. */
int client_list_subset(const char *want, const char *allowed);
/* 1 when secret is the client's current secret, or its previous one
 * before now_ms passes the grace; compared in constant time. */
int client_secret_matches(const gh_client *cl, const char *secret, int64_t now_ms);

/* ---- the store. tenant scopes every call but client_by_client_id. */

gh_result client_get(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                     gh_client *out);
gh_result client_by_client_id(gh_conn *c, gh_call *call, const char *client_id, gh_client *out);
/* Every client of tenant, by name; *out malloc'd. */
gh_result client_list(gh_conn *c, gh_call *call, const char *tenant, gh_client **out, size_t *n);
/* Insert cl (its fields checked by the caller) into tenant with a new id
 * and client_id; for a secret method, a new secret into secret (else ""). */
gh_result client_create(gh_conn *c, gh_call *call, const char *tenant, gh_client *cl,
                        char secret[CLIENT_SECRET_LEN]);
/* Write cl's settings (name, lists, ttl, method, keys, flags). A
 * client moved to a secret method without one gets one into secret. */
gh_result client_update(gh_conn *c, gh_call *call, const char *tenant, gh_client *cl,
                        char secret[CLIENT_SECRET_LEN]);
gh_result client_delete(gh_conn *c, gh_call *call, const char *tenant, const char *id);
/* A new secret into secret; the current one keeps working grace_ms more.
 * GH_ERR_INVALID for a private_key_jwt client (it has none). */
gh_result client_rotate(gh_conn *c, gh_call *call, const char *tenant, gh_client *cl,
                        int64_t grace_ms, char secret[CLIENT_SECRET_LEN]);

#endif
