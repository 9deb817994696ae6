/*
 * tokens.h - signing keys and access tokens (JWT), refresh-token secrets.
 *
 * Access tokens are JWTs (JWS compact): ES256 by default, RS256, or HS256
 * when configured. The keyring holds every key still valid for
 * verification; the newest signs. Keys are parsed once, at load: the
 * signer's private key and every public key are kept as EVP_PKEY (HS256:
 * the secret), and no PEM text is kept. Tokens are signed and verified
 * with OpenSSL directly on those, not with libjwt: libjwt 1.10 takes keys
 * as PEM text and parses it on every call, which costs more than the
 * signature and held issuing short of what refresh grants need, and
 * verification (every request) likewise. libjwt is only the
 * independent reference of the unit tests: it must read our tokens, and
 * we must read its. Verification pins the algorithm to the key named by
 * `kid`, checks the signature, then the claims. alg "none", an algorithm
 * other than the key's, an unknown kid, a bad signature, expired, not yet
 * valid, wrong issuer or audience: refused. A keyring is read-only after
 * load, so loops may issue and verify concurrently.
 */
#ifndef GH_TOKENS_H
#define GH_TOKENS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <openssl/types.h>
#include "auth/token_conf.h"

typedef enum gh_alg { GH_ALG_ES256 = 1, GH_ALG_RS256, GH_ALG_HS256 } gh_alg;

typedef struct gh_keyring gh_keyring;

/* Load every key in dir (PEM files "<kid>.pem", the newest by mtime signs);
 * with none there, generate one of alg (ES256: P-256, RS256: 3072 bits)
 * into dir, mode 0600. HS256 uses `secret` (at least 32 bytes) instead and
 * ignores dir. Returns NULL with err set. */
gh_keyring *keyring_load(const char *dir, gh_alg alg, const char *secret, char *err, size_t errlen);
/* The same, generating nothing: an empty dir gives a ring of no keys
 * (gatehoused -t checks the keys without writing). */
gh_keyring *keyring_open(const char *dir, gh_alg alg, const char *secret, int generate,
                         char *err, size_t errlen);
void keyring_free(gh_keyring *kr);
/* Why secret is no HS256 key (too short, or guessable: a password or a
 * phrase rather than random bytes), or NULL when it is one. */
const char *keyring_secret_weak(const char *secret);
/* Add a new key to dir that signs from now on (gatehousectl keys rotate);
 * writes its kid into kid_out. */
int keyring_rotate(const char *dir, gh_alg alg, char *kid_out, size_t kid_len, char *err, size_t errlen);
/* {"keys":[...]} public JWKs (no HS256 secret ever) */
json_t *keyring_jwks(const gh_keyring *kr);
const char *keyring_alg_name(const gh_keyring *kr); /* "ES256", ... */
size_t keyring_count(const gh_keyring *kr);
const char *keyring_signing_kid(const gh_keyring *kr);

/* One key of a ring, for jwt.c (valid while the ring lives). */
typedef struct gh_key gh_key;
gh_alg keyring_alg(const gh_keyring *kr);
const gh_key *keyring_signer(const gh_keyring *kr);
const gh_key *keyring_find(const gh_keyring *kr, const char *kid, size_t kid_len);
const char *key_kid(const gh_key *k);
/* The HS256 secret (signs and verifies); NULL, *len 0, for ES256/RS256 */
const unsigned char *key_hmac_secret(const gh_key *k, size_t *len);
/* The parsed public key (verification only); NULL for HS256 */
EVP_PKEY *key_pkey(const gh_key *k);
/* The parsed private key (signing): the signer's only; NULL for HS256 and
 * for keys that only verify */
EVP_PKEY *key_private(const gh_key *k);

/* A JWS signature over input on a parsed public key, shared with the
 * plugin host's jwt_verify (plugin/host_jwks.c): RSASSA-PKCS1-v1_5 (or a
 * DER ECDSA signature) with md, or ECDSA from JWS's R||S of `half` bytes
 * each. 0 when it verifies. */
int jws_verify_pkey(EVP_PKEY *pk, const EVP_MD *md, const unsigned char *sig, size_t sig_len,
                    const char *input, size_t input_len);
int jws_verify_ecdsa(EVP_PKEY *pk, const EVP_MD *md, size_t half, const unsigned char *sig,
                     size_t sig_len, const char *input, size_t input_len);
/* 1 when a JWT "aud" (a string, or an array of strings) names want. */
int jwt_audience_has(const json_t *aud, const char *want);

/* What an access token says. Strings are owned by the struct. */
typedef struct gh_claims {
    char sub[64];          /* user id */
    char sid[64];          /* session id */
    char jti[64];          /* token id */
    char tenant[64];       /* tenant id */
    int64_t iat, nbf, exp; /* seconds since the epoch */
    int mfa_enroll;        /* "mfa_enroll": true: the token may only enrol
                              a second factor (the guard refuses the rest) */
} gh_claims;


#define GH_TOKEN_MAX 8192     /* longer bearer strings are refused unread */
#define GH_TOKEN_LEEWAY_S 30  /* clock skew allowed on exp, nbf and iat */
/* How much longer than a token's life a deny-list entry lasts: the leeway,
 * and a second more since exp counts whole seconds. */
#define GH_DENY_GRACE_MS ((GH_TOKEN_LEEWAY_S + 1) * 1000LL)

/* Sign an access token for c (iat/nbf/exp/jti are filled in here from now_s
 * and ttl), with the claims of `extra` besides ("roles", "permissions": the
 * caller's; NULL: "roles" empty); malloc'd string or NULL. The server
 * never reads them back to decide anything: checks ask auth/authz.h. */
char *token_issue(const gh_keyring *kr, const gh_token_conf *tc, gh_claims *c,
                  const json_t *extra, int64_t now_s);

/* 0 valid (claims filled), -1 refused with *why a short reason for the log
 * ("bad signature", "expired", "unknown kid", ...). Never logs the token. */
int token_verify(const gh_keyring *kr, const gh_token_conf *tc, const char *token, int64_t now_s,
                 gh_claims *out, const char **why);
/* The payload of a token token_verify accepted, as JSON (introspection
 * shows its roles), or NULL. */
json_t *token_payload(const char *token);
/* 1 when token_verify's *why says the token is forged (a bad signature, a
 * key, algorithm, type, issuer or audience not ours): an attack signal,
 * unlike an expired or garbled one. */
int token_refusal_forged(const char *why);

/* Opaque secrets: refresh tokens, one-time tokens. 32 random bytes,
 * base64url (43 chars); and the SHA-256 hex digest stored in their place. */
#define GH_SECRET_LEN 44   /* 43 + NUL */
#define GH_DIGEST_LEN 65   /* 64 hex + NUL */
int secret_new(char out[GH_SECRET_LEN]);
void secret_digest(const char *secret, char out[GH_DIGEST_LEN]);
/* A random UUID v4 (ids for rows), 37 bytes with NUL. */
void uuid_new(char out[37]);

/* base64url without padding (RFC 7515 section 2). encode: the length
 * written (NUL added), 0 if outlen < GH_B64URL_LEN(len). decode: strict
 * (URL alphabet only, no padding or whitespace, canonical last character);
 * 0 with *written set, or -1. */
#define GH_B64URL_LEN(n) ((4 * (n) + 2) / 3 + 1)
size_t b64url_encode(const void *in, size_t len, char *out, size_t outlen);
int b64url_decode(const char *in, size_t len, unsigned char *out, size_t outlen, size_t *written);

#endif
