/*
 * jwt_craft.h - the token tests' keyrings and hand-made tokens
 * (jwt_craft.c). Include after <cmocka.h>.
 */
#ifndef GH_JWT_CRAFT_H
#define GH_JWT_CRAFT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <openssl/evp.h>
#include "auth/tokens.h"

#define ISSUER "https://id.example.com"
#define AUDIENCE "gatehouse"
#define HS_SECRET "fJ2mW9xQ4rT7vN1cK8bZ5hL3sD6gP0yA-test-only"
#define USER_ID "0b1e4c5a-6f2d-4e8b-9a7c-3d2e1f0a9b8c"
#define SESSION_ID "5f9c2d1e-8a7b-4c6d-9e0f-1a2b3c4d5e6f"
#define TENANT_ID "00000000-0000-4000-8000-000000000000"

/* One keyring per algorithm, made once for the whole run. */
typedef struct ring {
    gh_alg alg;
    char dir[128];
    gh_keyring *kr;
    EVP_PKEY *priv; /* the signing key, read from its file, to craft tokens */
} ring;

extern const gh_token_conf tc; /* ISSUER, AUDIENCE, 900 s */
extern ring es, rs, hs;        /* ES256, RS256, HS256 (HS_SECRET) */

/* cmocka group setup and teardown: open and close the three rings */
int rings_setup(void **state);
int rings_teardown(void **state);
int ring_open(ring *r, gh_alg alg);
void ring_close(ring *r);

void rm_rf(const char *dir);           /* a directory of plain files */
void make_tmpdir(char dir[64]);        /* a new /tmp/gh-keys-XXXXXX */
EVP_PKEY *read_private(const char *dir, const char *kid);

/* USER_ID, SESSION_ID, TENANT_ID: the claims token_issue takes */
gh_claims claims_for(void);
/* base64url of data; malloc'd */
char *b64(const void *data, size_t len);
/* JWS signature bytes of input into sig: by pk (ES256 as R||S), by the
 * HMAC key hkey, or none (0 bytes); their length */
size_t sign_input(const char *input, EVP_PKEY *pk, const void *hkey, size_t hkey_len,
                  unsigned char *sig);
/* header.payload.signature from JSON texts, signed as sign_input; malloc'd */
char *craft(const char *header, const char *payload, EVP_PKEY *pk, const void *hkey,
            size_t hkey_len);
/* a payload with every claim right for now_s, to be spoilt by a test */
json_t *good_payload(int64_t now_s);
/* {"alg","typ":"at+jwt","kid"}; malloc'd */
char *header_for(const char *alg, const char *kid);
/* a token signed correctly by r's own key, with the given header/payload */
char *sign_as(const ring *r, const char *header, json_t *payload);
/* sign_as with r's own header, then json_decref(payload) */
char *sign_payload(const ring *r, json_t *payload);
int verify_at(const ring *r, const char *token, int64_t now_s, const char **why);
/* token_verify refuses token (why_want: the reason, NULL: any) and leaves
 * no claims behind */
void expect_refused(const ring *r, const char *token, int64_t now_s, const char *why_want);
/* the decoded JSON of segment i (0 header, 1 payload) of a token */
json_t *segment_json(const char *token, int i);

#endif
