/*
 * test_jwt_attacks.c - our access tokens against the attack classes of
 * RFC 8725 (JSON Web Token Best Current Practices, section 2) and the OWASP
 * JWT cheat sheet, one test per class, named after it. Each test first
 * shows its positive control (the well-formed token of the same shape is
 * accepted), so a refusal means the attack was caught, not that the token
 * was broken some other way. Tokens are made by hand (jwt_craft.c) and
 * signed with the ring's real key wherever a signature can be made, so
 * only the attacked part is wrong.
 *
 * What cannot be shown here - the other token types of ours (refresh,
 * reset, verification, MFA, OAuth state) presented as one another, and
 * revoked tokens re-encoded against the deny-list - is over HTTP in
 * tests/integration/token-attacks.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "auth/tokens.h"
#include "jwt_craft.h"

/* ---------------------------------------------------------------- helpers */

static void expect_accepted(const ring *r, const char *token, int64_t now)
{
    const char *why = NULL;

    if (verify_at(r, token, now, &why) != 0)
        fail_msg("positive control refused: %s", why);
}

/* A good payload as compact JSON text; malloc'd. */
static char *good_payload_text(int64_t now)
{
    json_t *pl = good_payload(now);
    char *p = json_dumps(pl, JSON_COMPACT);

    json_decref(pl);
    assert_non_null(p);
    return p;
}

/* A token of r with the header text h over a good payload, signed by r's
 * own key; malloc'd. */
static char *signed_over_good(const ring *r, const char *h, int64_t now)
{
    json_t *pl = good_payload(now);
    char *t = sign_as(r, h, pl);

    json_decref(pl);
    return t;
}

/* A token of r with the header text `header` (KID: r's kid) over a good
 * payload, signed by r's own key; malloc'd. */
static char *with_header(const ring *r, const char *header, int64_t now)
{
    char h[512];
    const char *at = strstr(header, "KID");

    if (at)
        snprintf(h, sizeof h, "%.*s%s%s", (int)(at - header), header,
                 keyring_signing_kid(r->kr), at + 3);
    else
        snprintf(h, sizeof h, "%s", header);
    return signed_over_good(r, h, now);
}

/* A token of r over a payload given as raw text (so it may be JSON that
 * jansson would never write), signed by r's key; malloc'd. */
static char *with_payload_text(const ring *r, const char *payload)
{
    char *h = header_for(keyring_alg_name(r->kr), keyring_signing_kid(r->kr)), *t;

    t = r->alg == GH_ALG_HS256 ? craft(h, payload, NULL, HS_SECRET, strlen(HS_SECRET))
                               : craft(h, payload, r->priv, NULL, 0);
    free(h);
    return t;
}

/* A good token of r, its signature segment replaced by the base64url of
 * sig; malloc'd. */
static char *with_signature(const ring *r, const unsigned char *sig, size_t sig_len,
                            int64_t now)
{
    char *t = sign_payload(r, good_payload(now)), *s = b64(sig, sig_len), *out;
    char *dot2 = strrchr(t, '.');

    out = malloc((size_t)(dot2 - t) + strlen(s) + 2);
    assert_non_null(out);
    sprintf(out, "%.*s.%s", (int)(dot2 - t), t, s);
    free(t);
    free(s);
    return out;
}

/* The signature bytes of a token. */
static size_t signature_of(const char *token, unsigned char *sig, size_t room)
{
    const char *s = strrchr(token, '.') + 1;
    size_t n;

    assert_int_equal(b64url_decode(s, strlen(s), sig, room, &n), 0);
    return n;
}

/* ------------------------------------------- RFC 8725 2.1: "none" and no signature */

static void alg_none_in_every_casing(void **state)
{
    static const char *const spellings[] = { "none", "None", "NONE", "nOnE", "none " };
    int64_t now = time(NULL);
    char *t, h[128];

    (void)state;
    for (size_t r = 0; r < 3; r++) {
        const ring *rg = r == 0 ? &es : r == 1 ? &rs : &hs;
        t = sign_payload(rg, good_payload(now));
        expect_accepted(rg, t, now);
        free(t);
        for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
            char *p = good_payload_text(now);
            snprintf(h, sizeof h, "{\"alg\":\"%s\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}",
                     spellings[i], keyring_signing_kid(rg->kr));
            t = craft(h, p, NULL, NULL, 0); /* "h.p." */
            expect_refused(rg, t, now, "algorithm not allowed");
            free(t);
            free(p);
        }
        /* the header names no alg at all */
        t = with_header(rg, "{\"typ\":\"at+jwt\",\"kid\":\"KID\"}", now);
        expect_refused(rg, t, now, "algorithm not allowed");
        free(t);
    }
}

static void signature_stripped(void **state)
{
    int64_t now = time(NULL);
    char *t = sign_payload(&es, good_payload(now));

    (void)state;
    expect_accepted(&es, t, now);
    strrchr(t, '.')[1] = '\0'; /* our header, no signature */
    expect_refused(&es, t, now, "bad signature");
    free(t);
}

/* --------------------- RFC 8725 2.1 / 3.1: algorithm confusion, the public key as an HMAC secret */

/* The ring's public key as an attacker finds it: PEM, DER, and the JWK
 * our /.well-known/jwks.json serves (compact JSON of that member). */
static void hs256_with_public_key(const ring *r, int64_t now)
{
    unsigned char *der = NULL;
    char *pem, *p = good_payload_text(now), h[128], *jwk, *t;
    BIO *bio = BIO_new(BIO_s_mem());
    json_t *set = keyring_jwks(r->kr);
    int der_len = i2d_PUBKEY(r->priv, &der);
    long pem_len;

    assert_true(der_len > 0);
    assert_int_equal(PEM_write_bio_PUBKEY(bio, r->priv), 1);
    pem_len = BIO_get_mem_data(bio, &pem);
    jwk = json_dumps(json_array_get(json_object_get(set, "keys"), 0), JSON_COMPACT);
    assert_non_null(jwk);
    snprintf(h, sizeof h, "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}",
             keyring_signing_kid(r->kr));
    const struct { const void *key; size_t len; } forms[] = {
        { pem, (size_t)pem_len },
        { pem, (size_t)pem_len - 1 }, /* without its final newline */
        { der, (size_t)der_len },
        { jwk, strlen(jwk) },
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        t = craft(h, p, NULL, forms[i].key, forms[i].len);
        expect_refused(r, t, now, "algorithm not allowed");
        free(t);
    }
    free(jwk);
    json_decref(set);
    OPENSSL_free(der);
    BIO_free(bio);
    free(p);
}

static void algorithm_confusion(void **state)
{
    int64_t now = time(NULL);
    char *t;

    (void)state;
    t = sign_payload(&es, good_payload(now));
    expect_accepted(&es, t, now);
    free(t);
    hs256_with_public_key(&es, now);
    hs256_with_public_key(&rs, now);
    /* an asymmetric alg on the HMAC ring, "signed" by any key at all */
    t = with_header(&es, "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"hs256\"}", now);
    expect_refused(&hs, t, now, "algorithm not allowed");
    free(t);
}

/* --------------------- OWASP: a key used with another algorithm of its family */

static void key_with_another_algorithm(void **state)
{
    static const char *const rsa_family[] = { "RS384", "RS512", "PS256", "PS384", "PS512" };
    static const char *const ec_family[] = { "ES384", "ES512", "ES256K", "EdDSA" };
    static const char *const hmac_family[] = { "HS384", "HS512" };
    int64_t now = time(NULL);
    char h[128], *t;

    (void)state;
#define EACH(ring, list)                                                                    \
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {                            \
        snprintf(h, sizeof h, "{\"alg\":\"%s\",\"typ\":\"at+jwt\",\"kid\":\"KID\"}", list[i]); \
        t = with_header(&ring, h, now);                                                     \
        expect_refused(&ring, t, now, "algorithm not allowed");                            \
        free(t);                                                                            \
    }
    EACH(rs, rsa_family)
    EACH(es, ec_family)
    EACH(hs, hmac_family)
#undef EACH
    t = with_header(&rs, "{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"KID\"}", now);
    expect_accepted(&rs, t, now);
    free(t);
}

/* --------------------- RFC 8725 2.2: weak symmetric keys */

static void weak_hmac_secret(void **state)
{
    char err[256];
    gh_keyring *kr;

    (void)state;
    kr = keyring_load(NULL, GH_ALG_HS256, "secret", err, sizeof err);
    assert_null(kr);
    kr = keyring_load(NULL, GH_ALG_HS256, "0123456789abcdef0123456789abcde", err, sizeof err);
    assert_null(kr); /* 31 bytes: shorter than the hash */
    kr = keyring_load(NULL, GH_ALG_HS256, HS_SECRET, err, sizeof err);
    assert_non_null(kr);
    keyring_free(kr);
}

/* --------------------- RFC 8725 2.3 / 2.8: JWE, nested and other-typed tokens */

static void jwe_and_nested_tokens(void **state)
{
    int64_t now = time(NULL);
    char *inner = sign_payload(&es, good_payload(now)), *t, *q, h[256];
    const char *jwe = "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.AAAA.BBBB.CCCC.DDDD";

    (void)state;
    expect_accepted(&es, inner, now);
    /* a JWE compact serialisation: five segments */
    expect_refused(&es, jwe, now, "malformed");
    /* our own token wrapped as the payload of another (cty "JWT"), the
     * outer one signed by our key too */
    q = malloc(strlen(inner) + 3);
    assert_non_null(q);
    sprintf(q, "\"%s\"", inner);
    snprintf(h, sizeof h, "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"cty\":\"JWT\",\"kid\":\"%s\"}",
             keyring_signing_kid(es.kr));
    t = craft(h, q, es.priv, NULL, 0);
    expect_refused(&es, t, now, "malformed payload");
    free(t);
    free(q);
    /* a JWT of another explicit type signed by our key: not an access token */
    t = with_header(&es, "{\"alg\":\"ES256\",\"typ\":\"dpop+jwt\",\"kid\":\"KID\"}", now);
    expect_refused(&es, t, now, "not an access token");
    free(t);
    t = with_header(&es, "{\"alg\":\"ES256\",\"typ\":\"JWE\",\"kid\":\"KID\"}", now);
    expect_refused(&es, t, now, "not an access token");
    free(t);
    free(inner);
}

/* --------------------- RFC 8725 2.5: ECDSA signatures that are not */

static void ecdsa_psychic_signature(void **state)
{
    static const char n_hex[] = /* the order of P-256 */
        "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551";
    unsigned char sig[64], good[72];
    int64_t now = time(NULL);
    BIGNUM *n = NULL;
    char *t = sign_payload(&es, good_payload(now));

    (void)state;
    expect_accepted(&es, t, now);
    free(t);
    /* r = s = 0: verifies for every message where the range check is missing */
    memset(sig, 0, sizeof sig);
    t = with_signature(&es, sig, sizeof sig, now);
    expect_refused(&es, t, now, "bad signature");
    free(t);
    /* r = s = n, which is 0 modulo n */
    assert_true(BN_hex2bn(&n, n_hex) > 0);
    BN_bn2binpad(n, sig, 32);
    BN_bn2binpad(n, sig + 32, 32);
    t = with_signature(&es, sig, sizeof sig, now);
    expect_refused(&es, t, now, "bad signature");
    free(t);
    /* r = 0 with the real s; the real r with s = 0 */
    t = sign_payload(&es, good_payload(now));
    assert_int_equal(signature_of(t, good, sizeof good), 64);
    free(t);
    memcpy(sig, good, 64);
    memset(sig, 0, 32);
    t = with_signature(&es, sig, sizeof sig, now);
    expect_refused(&es, t, now, "bad signature");
    free(t);
    memcpy(sig, good, 64);
    memset(sig + 32, 0, 32);
    t = with_signature(&es, sig, sizeof sig, now);
    expect_refused(&es, t, now, "bad signature");
    free(t);
    BN_free(n);
}

/* JWS carries R||S; the DER ECDSA-Sig-Value OpenSSL makes is not a JWS
 * signature, even when it is a valid signature of the same input. */
static void ecdsa_der_signature(void **state)
{
    int64_t now = time(NULL);
    char *t = sign_payload(&es, good_payload(now)), *dot2 = strrchr(t, '.');
    unsigned char der[80];
    size_t der_len = sizeof der;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    char *s, *forged;

    (void)state;
    expect_accepted(&es, t, now);
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, es.priv), 1);
    assert_int_equal(EVP_DigestSign(ctx, der, &der_len, (const unsigned char *)t,
                                    (size_t)(dot2 - t)), 1);
    EVP_MD_CTX_free(ctx);
    s = b64(der, der_len);
    forged = malloc((size_t)(dot2 - t) + strlen(s) + 2);
    sprintf(forged, "%.*s.%s", (int)(dot2 - t), t, s);
    expect_refused(&es, forged, now, "bad signature");
    free(forged);
    free(s);
    free(t);
}

/* --------------------- RFC 8725 2.6: several encodings of one token */

static void padded_and_non_base64url_segments(void **state)
{
    int64_t now = time(NULL);
    char *t = sign_payload(&es, good_payload(now)), *dot1 = strchr(t, '.'), *dot2 = strrchr(t, '.');
    char forged[2048];

    (void)state;
    expect_accepted(&es, t, now);
    /* '=' padding after each segment */
    snprintf(forged, sizeof forged, "%.*s==%s", (int)(dot1 - t), t, dot1);
    expect_refused(&es, forged, now, NULL);
    snprintf(forged, sizeof forged, "%.*s=%s", (int)(dot2 - t), t, dot2);
    expect_refused(&es, forged, now, NULL);
    snprintf(forged, sizeof forged, "%s=", t);
    expect_refused(&es, forged, now, NULL);
    /* the base64 alphabet instead of base64url, and stray whitespace */
    for (const char *bad = "+/ \n"; *bad; bad++) {
        snprintf(forged, sizeof forged, "%s", t);
        forged[(size_t)(dot2 - t) + 5] = *bad;
        expect_refused(&es, forged, now, NULL);
    }
    free(t);
}

/* The last character of a segment may carry bits the bytes do not use;
 * only the canonical text (those bits zero) is accepted, so one token has
 * exactly one spelling. */
static void non_canonical_base64url(void **state)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int64_t now = time(NULL);
    char *t = sign_payload(&es, good_payload(now));
    size_t len = strlen(t), pos;

    (void)state;
    expect_accepted(&es, t, now);
    /* 64 bytes of R||S: 86 characters, the last carrying 4 bits and 2 unused */
    assert_int_equal(len - (size_t)(strrchr(t, '.') + 1 - t), 86);
    pos = (size_t)(strchr(alphabet, t[len - 1]) - alphabet);
    assert_int_equal(pos & 3, 0);
    t[len - 1] = alphabet[pos | 1];
    expect_refused(&es, t, now, NULL);
    free(t);
}

static void duplicate_members(void **state)
{
    int64_t now = time(NULL);
    char p[1024], *t;

    (void)state;
    snprintf(p, sizeof p,
             "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"%s\",\"sid\":\"%s\",\"tenant\":\"%s\","
             "\"jti\":\"j1\",\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld%s}",
             ISSUER, AUDIENCE, USER_ID, SESSION_ID, TENANT_ID, (long long)now, (long long)now,
             (long long)now + 600, "");
    t = with_payload_text(&es, p);
    expect_accepted(&es, t, now);
    free(t);
    /* a second "sub": which one a reader takes depends on the reader */
    p[strlen(p) - 1] = '\0';
    strcat(p, ",\"sub\":\"00000000-0000-4000-8000-0000000000ad\"}");
    t = with_payload_text(&es, p);
    expect_refused(&es, t, now, "malformed payload");
    free(t);
    /* and in the header: a second alg */
    t = with_header(&es, "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"KID\",\"alg\":\"none\"}",
                    now);
    expect_refused(&es, t, now, NULL);
    free(t);
}

static void non_utf8_json(void **state)
{
    int64_t now = time(NULL);
    char p[1024], *t;
    const char *subs[] = { "caf\xc3\xa9", "caf\xe9", "\xc0\xaf", "\xed\xa0\x80" };

    (void)state;
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        snprintf(p, sizeof p,
                 "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"%s\",\"sid\":\"%s\",\"tenant\":\"%s\","
                 "\"jti\":\"j1\",\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld}",
                 ISSUER, AUDIENCE, subs[i], SESSION_ID, TENANT_ID, (long long)now,
                 (long long)now, (long long)now + 600);
        t = with_payload_text(&es, p);
        if (i == 0) /* valid UTF-8: the control */
            expect_accepted(&es, t, now);
        else /* Latin-1, an overlong '/', a lone surrogate */
            expect_refused(&es, t, now, "malformed payload");
        free(t);
    }
}

/* --------------------- RFC 8725 2.7: substitution (issuer, audience) */

static void substitution(void **state)
{
    int64_t now = time(NULL);
    json_t *pl;
    char *t;

    (void)state;
    t = sign_payload(&es, good_payload(now));
    expect_accepted(&es, t, now);
    free(t);
    pl = good_payload(now);
    json_object_set_new(pl, "aud", json_string("https://another-service.example.com"));
    t = sign_payload(&es, pl);
    expect_refused(&es, t, now, "wrong audience");
    free(t);
    pl = good_payload(now);
    json_object_set_new(pl, "iss", json_string("https://id.example.com.evil.example"));
    t = sign_payload(&es, pl);
    expect_refused(&es, t, now, "wrong issuer");
    free(t);
    pl = good_payload(now);
    json_object_del(pl, "aud");
    t = sign_payload(&es, pl);
    expect_refused(&es, t, now, "wrong audience");
    free(t);
}

/* --------------------- dates: ill-typed and overflowing */

/* A payload text with exp written as given. */
static char *with_exp(int64_t now, const char *exp)
{
    char p[1024];

    snprintf(p, sizeof p,
             "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"%s\",\"sid\":\"%s\",\"tenant\":\"%s\","
             "\"jti\":\"j1\",\"iat\":%lld,\"nbf\":%lld,\"exp\":%s}",
             ISSUER, AUDIENCE, USER_ID, SESSION_ID, TENANT_ID, (long long)now, (long long)now,
             exp);
    return with_payload_text(&es, p);
}

static void ill_typed_and_overflowing_dates(void **state)
{
    static const char *const exps[] = {
        "\"2099-01-01\"", "1e300", "4102444800.5", "true", "null", "[4102444800]",
        "99999999999999999999", "-99999999999999999999", "-1",
    };
    int64_t now = time(NULL);
    char exp[32], *t;

    (void)state;
    snprintf(exp, sizeof exp, "%lld", (long long)now + 600);
    t = with_exp(now, exp);
    expect_accepted(&es, t, now);
    free(t);
    for (size_t i = 0; i < sizeof exps / sizeof exps[0]; i++) {
        t = with_exp(now, exps[i]);
        expect_refused(&es, t, now, NULL);
        free(t);
    }
    /* nbf and iat at the far end of the range never wrap into the past */
    {
        json_t *pl = good_payload(now);
        json_object_set_new(pl, "nbf", json_integer(INT64_MAX));
        t = sign_payload(&es, pl);
        expect_refused(&es, t, now, "not yet valid");
        free(t);
        pl = good_payload(now);
        json_object_set_new(pl, "iat", json_integer(INT64_MAX));
        t = sign_payload(&es, pl);
        expect_refused(&es, t, now, "issued in the future");
        free(t);
        pl = good_payload(now);
        json_object_set_new(pl, "exp", json_integer(INT64_MIN));
        t = sign_payload(&es, pl);
        expect_refused(&es, t, now, "expired");
        free(t);
    }
}

/* --------------------- RFC 8725 2.9 / OWASP: header injection (kid, jku, x5u, jwk, x5c) */

/* A loopback listener; a token pointing at it must never make us connect. */
static int listener(int *port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void header_injection(void **state)
{
    int64_t now = time(NULL);
    int port, fd = listener(&port);
    char h[2048], *t, *jwk;
    json_t *set = keyring_jwks(es.kr);

    (void)state;
    t = with_header(&es, "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"KID\"}", now);
    expect_accepted(&es, t, now);
    free(t);
    /* kid as a path, a query, or far too long: looked up in the ring alone */
    const char *kids[] = { "../../../../dev/null", "/etc/passwd", "x' OR '1'='1",
                           "es\"; DROP TABLE sessions; --", "" };
    for (size_t i = 0; i < sizeof kids / sizeof kids[0]; i++) {
        json_t *hj = json_pack("{s:s, s:s, s:s}", "alg", "ES256", "typ", "at+jwt", "kid", kids[i]);
        char *ht = json_dumps(hj, JSON_COMPACT);
        t = signed_over_good(&es, ht, now);
        expect_refused(&es, t, now, "unknown kid");
        free(t);
        free(ht);
        json_decref(hj);
    }
    {
        char long_kid[4096 + 1];
        memset(long_kid, 'k', 4096);
        long_kid[4096] = '\0';
        snprintf(h, sizeof h, "{\"alg\":\"ES256\",\"kid\":\"%.1000s\"}", long_kid);
        t = signed_over_good(&es, h, now);
        expect_refused(&es, t, now, NULL);
        free(t);
    }
    /* jku / x5u pointing at the listener, jwk / x5c carrying a key: even
     * with our own key inside and our own signature, the token is refused,
     * and nothing connects */
    jwk = json_dumps(json_array_get(json_object_get(set, "keys"), 0), JSON_COMPACT);
    const char *urls[] = { "jku", "x5u" };
    for (size_t i = 0; i < 2; i++) {
        snprintf(h, sizeof h,
                 "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"%s\",\"%s\":"
                 "\"http://127.0.0.1:%d/keys\"}",
                 keyring_signing_kid(es.kr), urls[i], port);
        t = signed_over_good(&es, h, now);
        expect_refused(&es, t, now, "key named by the token");
        assert_true(token_refusal_forged("key named by the token"));
        free(t);
    }
    snprintf(h, sizeof h, "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"%s\",\"jwk\":%s}",
             keyring_signing_kid(es.kr), jwk);
    t = signed_over_good(&es, h, now);
    expect_refused(&es, t, now, "key named by the token");
    free(t);
    snprintf(h, sizeof h, "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"%s\",\"x5c\":[\"MIIB\"]}",
             keyring_signing_kid(es.kr));
    t = signed_over_good(&es, h, now);
    expect_refused(&es, t, now, "key named by the token");
    free(t);
    /* an attacker's own key in jwk, signing with it: refused the same way */
    {
        EVP_PKEY *mine = EVP_EC_gen("P-256");
        assert_non_null(mine);
        char *p = good_payload_text(now);
        t = craft(h, p, mine, NULL, 0);
        expect_refused(&es, t, now, "key named by the token");
        free(t);
        free(p);
        EVP_PKEY_free(mine);
    }
    assert_int_equal(accept(fd, NULL, NULL), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    close(fd);
    free(jwk);
    json_decref(set);
}

static void unknown_critical_header(void **state)
{
    int64_t now = time(NULL);
    char *t;

    (void)state;
    t = with_header(&es, "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"KID\",\"x-note\":1}", now);
    expect_accepted(&es, t, now); /* an unknown, non-critical member is harmless */
    free(t);
    t = with_header(&es,
                    "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"KID\",\"crit\":[\"x-note\"],"
                    "\"x-note\":1}",
                    now);
    expect_refused(&es, t, now, "unsupported critical header");
    free(t);
    t = with_header(&es, "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"KID\",\"crit\":[]}", now);
    expect_refused(&es, t, now, "unsupported critical header");
    free(t);
}

/* --------------------- a revoked token re-encoded: the deny-list's keys survive */

/* ECDSA signatures are malleable: (r, n - s) verifies too, so one token
 * has two valid spellings. The deny-list keys on the session and token
 * ids inside the signed payload, never on the token's text, so both
 * spellings carry the same ids and a revocation holds for either. */
static void ecdsa_malleability_keeps_ids(void **state)
{
    int64_t now = time(NULL);
    gh_claims c = claims_for(), a, b;
    char *t = token_issue(es.kr, &tc, &c, NULL, now), *t2;
    unsigned char sig[64];
    BIGNUM *n = NULL, *s;

    (void)state;
    assert_int_equal(token_verify(es.kr, &tc, t, now, &a, NULL), 0);
    assert_int_equal(signature_of(t, sig, sizeof sig), 64);
    assert_true(BN_hex2bn(&n, "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551") > 0);
    s = BN_bin2bn(sig + 32, 32, NULL);
    assert_int_equal(BN_sub(s, n, s), 1);
    BN_bn2binpad(s, sig + 32, 32);
    {
        char *dot2 = strrchr(t, '.'), *enc = b64(sig, 64);
        t2 = malloc((size_t)(dot2 - t) + strlen(enc) + 2);
        sprintf(t2, "%.*s.%s", (int)(dot2 - t), t, enc);
        free(enc);
    }
    assert_string_not_equal(t, t2);
    assert_int_equal(token_verify(es.kr, &tc, t2, now, &b, NULL), 0);
    assert_string_equal(a.sid, b.sid);
    assert_string_equal(a.jti, b.jti);
    BN_free(s);
    BN_free(n);
    free(t2);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alg_none_in_every_casing),
        cmocka_unit_test(signature_stripped),
        cmocka_unit_test(algorithm_confusion),
        cmocka_unit_test(key_with_another_algorithm),
        cmocka_unit_test(weak_hmac_secret),
        cmocka_unit_test(jwe_and_nested_tokens),
        cmocka_unit_test(ecdsa_psychic_signature),
        cmocka_unit_test(ecdsa_der_signature),
        cmocka_unit_test(padded_and_non_base64url_segments),
        cmocka_unit_test(non_canonical_base64url),
        cmocka_unit_test(duplicate_members),
        cmocka_unit_test(non_utf8_json),
        cmocka_unit_test(substitution),
        cmocka_unit_test(ill_typed_and_overflowing_dates),
        cmocka_unit_test(header_injection),
        cmocka_unit_test(unknown_critical_header),
        cmocka_unit_test(ecdsa_malleability_keeps_ids),
    };
    return cmocka_run_group_tests(tests, rings_setup, rings_teardown);
}
