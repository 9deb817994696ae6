/*
 * jwt.c - access tokens: issued and verified with OpenSSL, on the keys the
 * keyring parsed once.
 *
 * Both directions used to be libjwt's. libjwt 1.10 takes keys as PEM text
 * and parses it on every call, which costs more than the signature: that
 * held issuing short of what refresh grants need, and verifying - on every
 * authenticated request, on the event-loop threads - likewise. So neither goes through libjwt any more:
 * the keyring parses each key once and keeps the signer's private key and
 * every public key as EVP_PKEY (the HS256 secret as bytes), and this file
 * builds and checks the JWS itself with OpenSSL and jansson. libjwt stays
 * as the independent reference in tests/unit/test_tokens.c: its
 * jwt_decode must accept what we issue, and what its jwt_encode_str signs
 * with the same key must verify here.
 *
 * Issuing: header {"alg","typ","kid"} and the claims as compact JSON
 * (jansson), base64url, signed - ES256 as raw R||S (RFC 7518 3.4), RS256
 * RSASSA-PKCS1-v1_5 SHA-256, HS256 HMAC-SHA-256 - and joined with dots.
 *
 * Verifying:
 *
 *   1. split "header.payload.signature" (exactly two dots, bounded size)
 *      and base64url-decode strictly;
 *   2. the header pins everything before any crypto: alg must be the
 *      keyring's algorithm (so "none", and HS256 or RS256 against an EC
 *      key - algorithm confusion - never reach a verifier), kid must name
 *      a key of the ring, no "crit", no key of the token's own (jku, jwk,
 *      x5u, x5c), and a typ, if any, must be "JWT"
 *      (what we write, see TOKEN_TYP, and what libjwt writes) or "at+jwt"
 *      (RFC 9068) - other explicitly typed JWTs are not access tokens;
 *   3. the signature, with OpenSSL on the cached key;
 *   4. only then the payload: issuer, audience, times, required claims.
 *
 * Everything is on the stack or per call (a fresh EVP_MD_CTX each time),
 * and the keyring is only read, so any number of threads issue and verify
 * at once.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include "auth/tokens.h"

#define HEADER_MAX 1024               /* decoded header bytes */
#define PAYLOAD_MAX (GH_TOKEN_MAX / 4 * 3)
#define SIG_MAX 1024                  /* RSA up to 8192 bits */
#define JSON_FLAGS (JSON_REJECT_DUPLICATES)

/* The "typ" we write. RFC 9068 asks for "at+jwt", and we accept it, but
 * libjwt 1.x's jwt_decode refuses any typ but "JWT" (EINVAL), so relying
 * parties on it - and our reference test - would refuse our tokens. "JWT"
 * is also what every token issued so far carries. */
#define TOKEN_TYP "JWT"

/* ---------------------------------------------------------------- issuing */

/* The signature of input by pk with SHA-256 (RSA: PKCS#1 v1.5 padding,
 * spelt out rather than left to OpenSSL's default; EC: DER) into sig,
 * *sig_len its room on entry and length on return. */
static int sign_with_pkey(EVP_PKEY *pk, int rsa, const char *input, size_t input_len,
                          unsigned char *sig, size_t *sig_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = ctx && EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, pk) == 1 &&
             (!rsa || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1) &&
             EVP_DigestSign(ctx, sig, sig_len, (const unsigned char *)input, input_len) == 1;

    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}

/* ES256: OpenSSL signs a DER ECDSA-Sig-Value; JWS carries R||S, each
 * left-padded to 32 bytes (the reverse of jws_verify_ecdsa). */
static int sign_es256(EVP_PKEY *pk, const char *input, size_t input_len, unsigned char sig[64])
{
    unsigned char der[80];
    const unsigned char *p = der;
    size_t der_len = sizeof(der);
    ECDSA_SIG *es;
    int ok;

    if (EVP_PKEY_get_size(pk) > (int)sizeof(der) ||
        sign_with_pkey(pk, 0, input, input_len, der, &der_len) != 0 ||
        !(es = d2i_ECDSA_SIG(NULL, &p, (long)der_len)))
        return -1;
    ok = BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32) == 32 &&
         BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32) == 32;
    ECDSA_SIG_free(es);
    return ok ? 0 : -1;
}

/* The JWS signature of input by the ring's signer; its length, or 0. */
static size_t sign_input(gh_alg alg, const gh_key *k, const char *input, size_t input_len,
                         unsigned char sig[SIG_MAX])
{
    EVP_PKEY *pk = key_private(k);
    const unsigned char *secret;
    unsigned int mac_len = 0;
    size_t len = SIG_MAX, secret_len;

    switch (alg) {
    case GH_ALG_ES256:
        return pk && sign_es256(pk, input, input_len, sig) == 0 ? 64 : 0;
    case GH_ALG_RS256: /* a bigger key's signature would not verify here */
        if (!pk || EVP_PKEY_get_size(pk) > SIG_MAX ||
            sign_with_pkey(pk, 1, input, input_len, sig, &len) != 0)
            return 0;
        return len;
    case GH_ALG_HS256:
        secret = key_hmac_secret(k, &secret_len);
        if (!secret || secret_len > (size_t)INT_MAX ||
            !HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)input, input_len,
                  sig, &mac_len) || mac_len != 32)
            return 0;
        return 32;
    }
    return 0;
}

/* The header and claims of a token, as compact JSON (malloc'd). */
static char *header_json(const gh_keyring *kr, const gh_key *k)
{
    json_t *h = json_pack("{s:s, s:s, s:s}", "alg", keyring_alg_name(kr), "typ", TOKEN_TYP,
                          "kid", key_kid(k));
    char *out = h ? json_dumps(h, JSON_COMPACT) : NULL;

    json_decref(h);
    return out;
}

static char *payload_json(const gh_token_conf *tc, const gh_claims *c, const json_t *extra)
{
    json_t *pl = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "iss", tc->issuer,
                           "aud", tc->audience, "sub", c->sub, "sid", c->sid, "tenant",
                           c->tenant, "jti", c->jti, "iat", (json_int_t)c->iat, "nbf",
                           (json_int_t)c->nbf, "exp", (json_int_t)c->exp);
    char *out = NULL;

    if (pl && json_object_set_new(pl, "roles", json_array()) == 0 &&
        (!extra || json_object_update(pl, (json_t *)extra) == 0))
        out = json_dumps(pl, JSON_COMPACT);
    json_decref(pl);
    return out;
}

/* base64url of len bytes at out + *pos, then sep (if not NUL); *pos
 * moves past them. */
static int put_b64(char *out, size_t size, size_t *pos, const void *in, size_t len, char sep)
{
    size_t n = b64url_encode(in, len, out + *pos, size - *pos);

    if (n == 0 || (sep && *pos + n + 1 >= size))
        return -1;
    *pos += n;
    if (sep) {
        out[(*pos)++] = sep;
        out[*pos] = '\0';
    }
    return 0;
}

char *token_issue(const gh_keyring *kr, const gh_token_conf *tc, gh_claims *c,
                  const json_t *extra, int64_t now_s)
{
    const gh_key *k = keyring_signer(kr);
    unsigned char sig[SIG_MAX];
    char *header = NULL, *payload = NULL, *out = NULL;
    size_t hlen, plen, size, pos = 0, sig_len;

    if (!tc->issuer || !tc->audience)
        return NULL;
    uuid_new(c->jti);
    c->iat = c->nbf = now_s;
    c->exp = now_s + tc->ttl_s;
    if (!(header = header_json(kr, k)) || !(payload = payload_json(tc, c, extra)))
        goto done;
    hlen = strlen(header);
    plen = strlen(payload);
    /* each GH_B64URL_LEN counts a NUL: room for both dots and the end */
    size = GH_B64URL_LEN(hlen) + GH_B64URL_LEN(plen) + GH_B64URL_LEN(SIG_MAX);
    if (!(out = malloc(size)))
        goto done;
    if (put_b64(out, size, &pos, header, hlen, '.') != 0 ||
        put_b64(out, size, &pos, payload, plen, '.') != 0 ||
        (sig_len = sign_input(keyring_alg(kr), k, out, pos - 1, sig)) == 0 ||
        put_b64(out, size, &pos, sig, sig_len, '\0') != 0 ||
        pos > GH_TOKEN_MAX) { /* token_verify would refuse it unread */
        free(out);
        out = NULL;
    }
done:
    free(header);
    free(payload);
    return out;
}

/* ---------------------------------------------------------------- signature */

int jws_verify_pkey(EVP_PKEY *pk, const EVP_MD *md, const unsigned char *sig, size_t sig_len,
                    const char *input, size_t input_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, pk) == 1 &&
             EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)input, input_len) == 1;

    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}

/* JWS ECDSA carries R||S, `half` bytes each (RFC 7518 3.4: 32 for ES256);
 * OpenSSL verifies the DER ECDSA-Sig-Value. */
int jws_verify_ecdsa(EVP_PKEY *pk, const EVP_MD *md, size_t half, const unsigned char *sig,
                     size_t sig_len, const char *input, size_t input_len)
{
    unsigned char der[160], *p = der;
    ECDSA_SIG *es;
    BIGNUM *r, *s;
    int der_len = -1;

    if (half > 66 || sig_len != 2 * half || !(es = ECDSA_SIG_new()))
        return -1;
    r = BN_bin2bn(sig, (int)half, NULL);
    s = BN_bin2bn(sig + half, (int)half, NULL);
    if (r && s && ECDSA_SIG_set0(es, r, s) == 1) {
        if (i2d_ECDSA_SIG(es, NULL) <= (int)sizeof(der))
            der_len = i2d_ECDSA_SIG(es, &p);
    } else {
        BN_free(r);
        BN_free(s);
    }
    ECDSA_SIG_free(es);
    if (der_len <= 0)
        return -1;
    return jws_verify_pkey(pk, md, der, (size_t)der_len, input, input_len);
}

static int verify_hs256(const gh_key *k, const unsigned char *sig, size_t sig_len,
                        const char *input, size_t input_len)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    size_t key_len;
    const unsigned char *key = key_hmac_secret(k, &key_len);

    if (!key || sig_len != 32 ||
        !HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)input, input_len, mac,
              &mac_len) || mac_len != 32)
        return -1;
    return CRYPTO_memcmp(mac, sig, 32) == 0 ? 0 : -1;
}

/* 0 if sig signs input with k under the ring's algorithm. */
static int check_signature(gh_alg alg, const gh_key *k, const char *input, size_t input_len,
                           const char *sig_b64, size_t sig_b64_len)
{
    unsigned char sig[SIG_MAX];
    size_t sig_len;

    if (b64url_decode(sig_b64, sig_b64_len, sig, sizeof(sig), &sig_len) != 0)
        return -1;
    switch (alg) {
    case GH_ALG_ES256:
        return jws_verify_ecdsa(key_pkey(k), EVP_sha256(), 32, sig, sig_len, input, input_len);
    case GH_ALG_RS256: /* RSASSA-PKCS1-v1_5: OpenSSL's default padding */
        if (sig_len != (size_t)EVP_PKEY_get_size(key_pkey(k)))
            return -1;
        return jws_verify_pkey(key_pkey(k), EVP_sha256(), sig, sig_len, input, input_len);
    case GH_ALG_HS256:
        return verify_hs256(k, sig, sig_len, input, input_len);
    }
    return -1;
}

/* ---------------------------------------------------------------- header */

static json_t *decode_json(const char *b64, size_t b64_len, unsigned char *buf, size_t buf_len)
{
    size_t n;
    json_t *j;

    if (b64url_decode(b64, b64_len, buf, buf_len, &n) != 0)
        return NULL;
    j = json_loadb((const char *)buf, n, JSON_FLAGS, NULL);
    if (j && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* A header that brings or points at its own key (RFC 7515 4.1.2-4.1.6).
 * We never write one and verify only with the ring's keys, so such a
 * header can only be an attempt to make us trust - or fetch, or open - a
 * key of the sender's choosing: refused before anything reads it. */
static int key_header(const json_t *h)
{
    static const char *const names[] = { "jku", "jwk", "x5u", "x5c" };

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (json_object_get(h, names[i]))
            return 1;
    return 0;
}

/* The key the header names, if the header is one we accept. */
static const gh_key *check_header(const gh_keyring *kr, const char *b64, size_t b64_len,
                                  const char **why)
{
    unsigned char buf[HEADER_MAX];
    json_t *h = decode_json(b64, b64_len, buf, sizeof(buf));
    const char *alg, *typ;
    const gh_key *k = NULL;
    json_t *kid, *typ_j;

    if (!h) {
        *why = "malformed header";
        return NULL;
    }
    alg = json_string_value(json_object_get(h, "alg"));
    typ_j = json_object_get(h, "typ");
    typ = json_string_value(typ_j);
    kid = json_object_get(h, "kid");
    if (!alg || strcmp(alg, keyring_alg_name(kr)) != 0)
        *why = "algorithm not allowed";
    else if (typ_j && (!typ || (strcasecmp(typ, "JWT") != 0 && strcasecmp(typ, "at+jwt") != 0)))
        *why = "not an access token";
    else if (json_object_get(h, "crit"))
        *why = "unsupported critical header";
    else if (key_header(h))
        *why = "key named by the token";
    else if (!json_is_string(kid) ||
             !(k = keyring_find(kr, json_string_value(kid), json_string_length(kid))))
        *why = "unknown kid";
    json_decref(h);
    return k;
}

/* ---------------------------------------------------------------- claims */

/* A required string claim that fits dst (non-empty). */
static int claim_str(const json_t *pl, const char *name, char *dst, size_t dst_len)
{
    const json_t *v = json_object_get(pl, name);
    size_t n;

    if (!json_is_string(v) || (n = json_string_length(v)) == 0 || n >= dst_len)
        return -1;
    memcpy(dst, json_string_value(v), n + 1);
    return 0;
}

static int claim_int(const json_t *pl, const char *name, int64_t *dst)
{
    const json_t *v = json_object_get(pl, name);

    if (!json_is_integer(v))
        return -1;
    *dst = (int64_t)json_integer_value(v);
    return 0;
}

int jwt_audience_has(const json_t *aud, const char *want)
{
    size_t i;
    const json_t *v;

    if (json_is_string(aud))
        return strcmp(json_string_value(aud), want) == 0;
    json_array_foreach(aud, i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
            return 1;
    }
    return 0;
}

/* roles: an array of strings; absent means none */
static int roles_valid(const json_t *roles)
{
    size_t i;
    const json_t *v;

    if (!roles)
        return 1;
    if (!json_is_array(roles))
        return 0;
    json_array_foreach(roles, i, v)
        if (!json_is_string(v))
            return 0;
    return 1;
}

static int check_claims(const json_t *pl, const gh_token_conf *tc, int64_t now_s, gh_claims *c,
                        const char **why)
{
    const char *iss = json_string_value(json_object_get(pl, "iss"));

    if (!iss || !tc->issuer || strcmp(iss, tc->issuer) != 0)
        *why = "wrong issuer";
    else if (!tc->audience || !jwt_audience_has(json_object_get(pl, "aud"), tc->audience))
        *why = "wrong audience";
    else if (claim_int(pl, "exp", &c->exp) || claim_int(pl, "nbf", &c->nbf) ||
             claim_int(pl, "iat", &c->iat))
        *why = "missing time claim";
    else if (c->exp <= now_s - GH_TOKEN_LEEWAY_S)
        *why = "expired";
    else if (c->nbf > now_s + GH_TOKEN_LEEWAY_S)
        *why = "not yet valid";
    else if (c->iat > now_s + GH_TOKEN_LEEWAY_S)
        *why = "issued in the future";
    else if (claim_str(pl, "sub", c->sub, sizeof(c->sub)) ||
             claim_str(pl, "sid", c->sid, sizeof(c->sid)) ||
             claim_str(pl, "jti", c->jti, sizeof(c->jti)) ||
             claim_str(pl, "tenant", c->tenant, sizeof(c->tenant)))
        *why = "missing or oversized claim";
    else if (!roles_valid(json_object_get(pl, "roles")))
        *why = "malformed roles";
    else {
        c->mfa_enroll = json_is_true(json_object_get(pl, "mfa_enroll"));
        return 0;
    }
    return -1;
}

/* ---------------------------------------------------------------- verify */

int token_refusal_forged(const char *why)
{
    /* what check_header, the signature and check_claims's first two say:
     * a token we did not issue for ourselves, not one that aged or broke */
    static const char *const forged[] = {
        "algorithm not allowed", "not an access token", "unsupported critical header",
        "key named by the token", "unknown kid", "bad signature", "wrong issuer",
        "wrong audience",
    };
    for (size_t i = 0; why && i < sizeof forged / sizeof forged[0]; i++)
        if (strcmp(why, forged[i]) == 0)
            return 1;
    return 0;
}

static int refuse(gh_claims *out, const char **why, const char *reason)
{
    memset(out, 0, sizeof(*out)); /* never leave half-checked claims behind */
    *why = reason;
    return -1;
}

int token_verify(const gh_keyring *kr, const gh_token_conf *tc, const char *token, int64_t now_s,
                 gh_claims *out, const char **why)
{
    unsigned char buf[PAYLOAD_MAX];
    const char *dot1, *dot2, *reason = "malformed";
    const gh_key *k;
    json_t *pl;
    size_t len;
    int rc;

    if (!why)
        why = &reason;
    if (!token)
        return refuse(out, why, "no token");
    len = strnlen(token, GH_TOKEN_MAX + 1);
    if (len > GH_TOKEN_MAX)
        return refuse(out, why, "too long");
    dot1 = memchr(token, '.', len);
    dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    /* an empty signature (alg "none") goes on: the header check names
     * the attack, and no empty signature verifies */
    if (!dot2 || dot1 == token || dot2 == dot1 + 1 ||
        memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
        return refuse(out, why, "malformed");
    if (!(k = check_header(kr, token, (size_t)(dot1 - token), why)))
        return refuse(out, why, *why);
    if (check_signature(keyring_alg(kr), k, token, (size_t)(dot2 - token), dot2 + 1,
                        len - (size_t)(dot2 + 1 - token)) != 0)
        return refuse(out, why, "bad signature");
    pl = decode_json(dot1 + 1, (size_t)(dot2 - dot1 - 1), buf, sizeof(buf));
    if (!pl)
        return refuse(out, why, "malformed payload");
    memset(out, 0, sizeof(*out));
    rc = check_claims(pl, tc, now_s, out, why);
    json_decref(pl);
    return rc == 0 ? 0 : refuse(out, why, *why);
}

json_t *token_payload(const char *token)
{
    unsigned char buf[PAYLOAD_MAX];
    const char *dot1 = token ? strchr(token, '.') : NULL;
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;

    return dot2 ? decode_json(dot1 + 1, (size_t)(dot2 - dot1 - 1), buf, sizeof buf) : NULL;
}
