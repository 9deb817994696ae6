/*
 * test_tokens.c - the keyring, access tokens (issue and verify), secrets.
 *
 * Keys are generated into temporary directories and read back from disk,
 * as at a restart. Hostile tokens are crafted by hand (jwt_craft.c:
 * base64url + OpenSSL), so each refusal is tested on a token that is otherwise valid:
 * a correct signature over the bad part, where a signature can be made.
 * libjwt, which the daemon no longer uses, is the independent reference:
 * its jwt_decode must accept the tokens we issue (every algorithm, every
 * claim), and the tokens its jwt_encode_str signs with the same key must
 * pass our token_verify.
 * Assertions stay on the main thread (cmocka is not thread-safe).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "auth/tokens.h"
#include "jwt_craft.h"

/* An admin's extra claims, or none: token_issue's `extra`. */
static json_t *roles_for(int admin)
{
    return admin ? json_pack("{s:[s,s]}", "roles", "admin", "editor") : NULL;
}

/* The roles a token carries, space-separated. */
static void assert_roles(const char *token, const char *want)
{
    json_t *pl = token_payload(token), *v;
    char got[128] = "";
    size_t i, len = 0;

    assert_non_null(pl);
    json_array_foreach(json_object_get(pl, "roles"), i, v)
        len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", i ? " " : "",
                                json_string_value(v));
    json_decref(pl);
    assert_string_equal(got, want);
}

/* ---------------------------------------------------------------- round trips */

static void round_trip(const ring *r)
{
    int64_t now = time(NULL);
    gh_claims c = claims_for(), back;
    const char *why = NULL;
    json_t *extra = json_pack("{s:[s,s], s:[s,s]}", "roles", "admin", "editor", "permissions",
                              "invoice:read", "users:read");
    char *t = token_issue(r->kr, &tc, &c, extra, now);
    json_t *h;

    assert_non_null(t);
    assert_int_equal(strlen(c.jti), 36);
    assert_int_equal(c.iat, now);
    assert_int_equal(c.nbf, now);
    assert_int_equal(c.exp, now + 900);
    if (token_verify(r->kr, &tc, t, now, &back, &why) != 0)
        fail_msg("refused: %s", why);
    assert_string_equal(back.sub, USER_ID);
    assert_string_equal(back.sid, SESSION_ID);
    assert_string_equal(back.tenant, TENANT_ID);
    assert_string_equal(back.jti, c.jti);
    assert_int_equal(back.iat, now);
    assert_int_equal(back.nbf, now);
    assert_int_equal(back.exp, now + 900);
    assert_roles(t, "admin editor");
    h = segment_json(t, 1);
    assert_true(json_equal(json_object_get(h, "permissions"), json_object_get(extra, "permissions")));
    json_decref(h);
    json_decref(extra);
    h = segment_json(t, 0);
    assert_string_equal(json_string_value(json_object_get(h, "alg")), keyring_alg_name(r->kr));
    /* "JWT", not RFC 9068's "at+jwt": libjwt 1.x refuses any other typ */
    assert_string_equal(json_string_value(json_object_get(h, "typ")), "JWT");
    assert_string_equal(json_string_value(json_object_get(h, "kid")),
                        keyring_signing_kid(r->kr));
    json_decref(h);
    free(t);

    c = claims_for();
    t = token_issue(r->kr, &tc, &c, NULL, now);
    assert_int_equal(token_verify(r->kr, &tc, t, now, &back, &why), 0);
    assert_roles(t, "");
    h = segment_json(t, 1);
    assert_int_equal(json_array_size(json_object_get(h, "roles")), 0);
    assert_null(json_object_get(h, "permissions"));
    json_decref(h);
    free(t);
}

/* ---------------------------------------------------------------- libjwt, the reference */

static jwt_alg_t libjwt_alg(gh_alg alg)
{
    switch (alg) {
    case GH_ALG_ES256: return JWT_ALG_ES256;
    case GH_ALG_RS256: return JWT_ALG_RS256;
    case GH_ALG_HS256: return JWT_ALG_HS256;
    }
    return JWT_ALG_INVAL;
}

/* The whole of a text file, malloc'd; its length in *len. */
static char *read_text(const char *path, size_t *len)
{
    char *buf = malloc(65536);
    FILE *f = fopen(path, "rb");

    assert_non_null(buf);
    assert_non_null(f);
    *len = fread(buf, 1, 65535, f);
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

/* What libjwt signs with for r: the signer's key file as it is on disk
 * (PEM), or the HS256 secret. malloc'd. */
static char *signing_key_text(const ring *r, size_t *len)
{
    char path[512];

    if (r->alg == GH_ALG_HS256) {
        *len = strlen(HS_SECRET);
        return strdup(HS_SECRET);
    }
    snprintf(path, sizeof(path), "%s/%s.pem", r->dir, keyring_signing_kid(r->kr));
    return read_text(path, len);
}

/* What libjwt verifies with for r: the public key as PEM (the way a third
 * party gets it), or the HS256 secret. Valid while *bio lives. */
static const unsigned char *verifying_key(const ring *r, BIO **bio, int *len)
{
    char *pem;

    *bio = NULL;
    if (r->alg == GH_ALG_HS256) {
        *len = (int)strlen(HS_SECRET);
        return (const unsigned char *)HS_SECRET;
    }
    *bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PUBKEY(*bio, r->priv), 1);
    *len = (int)BIO_get_mem_data(*bio, &pem);
    return (const unsigned char *)pem;
}

/* A token for c made by libjwt (jwt_encode_str) under kid with key (PEM or
 * secret), the way the daemon used to make them; malloc'd. */
static char *libjwt_issue(gh_alg alg, const char *key, size_t key_len, const char *kid, int admin,
                          const gh_claims *c)
{
    jwt_t *jwt = NULL;
    char *t;

    assert_int_equal(jwt_new(&jwt), 0);
    assert_int_equal(jwt_set_alg(jwt, libjwt_alg(alg), (const unsigned char *)key,
                                 (int)key_len), 0);
    assert_int_equal(jwt_add_header(jwt, "kid", kid), 0);
    assert_int_equal(jwt_add_grant(jwt, "iss", ISSUER), 0);
    assert_int_equal(jwt_add_grant(jwt, "aud", AUDIENCE), 0);
    assert_int_equal(jwt_add_grant(jwt, "sub", c->sub), 0);
    assert_int_equal(jwt_add_grant(jwt, "sid", c->sid), 0);
    assert_int_equal(jwt_add_grant(jwt, "tenant", c->tenant), 0);
    assert_int_equal(jwt_add_grant(jwt, "jti", c->jti), 0);
    assert_int_equal(jwt_add_grant_int(jwt, "iat", (long)c->iat), 0);
    assert_int_equal(jwt_add_grant_int(jwt, "nbf", (long)c->nbf), 0);
    assert_int_equal(jwt_add_grant_int(jwt, "exp", (long)c->exp), 0);
    assert_int_equal(jwt_add_grants_json(jwt, admin ? "{\"roles\":[\"admin\",\"editor\"]}"
                                                     : "{\"roles\":[]}"), 0);
    t = jwt_encode_str(jwt);
    jwt_free(jwt);
    assert_non_null(t);
    return t;
}

static void check_libjwt_grant(jwt_t *jwt, const char *name, const char *want)
{
    const char *v = jwt_get_grant(jwt, name);

    if (!v || strcmp(v, want) != 0)
        fail_msg("libjwt reads %s as \"%s\"; expected \"%s\"", name, v ? v : "(none)", want);
}

/* libjwt's jwt_decode accepts the token we issue for c, and reads every
 * claim and header we wrote. */
static void libjwt_reads_ours(const ring *r, int admin)
{
    int64_t now = time(NULL);
    gh_claims c = claims_for();
    json_t *extra = roles_for(admin);
    char *t = token_issue(r->kr, &tc, &c, extra, now), *roles_text;
    BIO *bio;
    int key_len, rc;
    const unsigned char *key = verifying_key(r, &bio, &key_len);
    const char *alg = keyring_alg_name(r->kr);
    jwt_t *jwt = NULL;
    json_t *roles;
    size_t mid;

    assert_non_null(t);
    if ((rc = jwt_decode(&jwt, t, key, key_len)) != 0)
        fail_msg("libjwt refuses our %s token: %s", alg, strerror(rc));
    assert_int_equal(jwt_get_alg(jwt), libjwt_alg(r->alg));
    assert_string_equal(jwt_get_header(jwt, "alg"), alg);
    assert_string_equal(jwt_get_header(jwt, "typ"), "JWT");
    assert_string_equal(jwt_get_header(jwt, "kid"), keyring_signing_kid(r->kr));
    check_libjwt_grant(jwt, "iss", ISSUER);
    check_libjwt_grant(jwt, "aud", AUDIENCE);
    check_libjwt_grant(jwt, "sub", USER_ID);
    check_libjwt_grant(jwt, "sid", SESSION_ID);
    check_libjwt_grant(jwt, "tenant", TENANT_ID);
    check_libjwt_grant(jwt, "jti", c.jti);
    assert_int_equal(jwt_get_grant_int(jwt, "iat"), now);
    assert_int_equal(jwt_get_grant_int(jwt, "nbf"), now);
    assert_int_equal(jwt_get_grant_int(jwt, "exp"), now + 900);
    roles_text = jwt_get_grants_json(jwt, "roles");
    assert_non_null(roles_text);
    roles = json_loads(roles_text, 0, NULL);
    assert_true(json_is_array(roles));
    assert_int_equal(json_array_size(roles), admin ? 2 : 0);
    if (admin) {
        assert_string_equal(json_string_value(json_array_get(roles, 0)), "admin");
        assert_string_equal(json_string_value(json_array_get(roles, 1)), "editor");
    }
    json_decref(roles);
    json_decref(extra);
    free(roles_text);
    jwt_free(jwt);
    /* and libjwt does check the signature: one character changed */
    mid = strlen(t) - 10;
    t[mid] = t[mid] == 'A' ? 'B' : 'A';
    jwt = NULL;
    assert_int_not_equal(jwt_decode(&jwt, t, key, key_len), 0);
    jwt_free(jwt);
    BIO_free(bio);
    free(t);
}

/* A key of r's kind that is not r's: PEM private key, or another secret. */
static char *other_key_text(const ring *r, size_t *len)
{
    BIO *bio;
    EVP_PKEY *pk;
    char *pem, *out;

    if (r->alg == GH_ALG_HS256) {
        *len = strlen(HS_SECRET "-other");
        return strdup(HS_SECRET "-other");
    }
    pk = r->alg == GH_ALG_ES256 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
                                : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    assert_non_null(pk);
    bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL), 1);
    *len = (size_t)BIO_get_mem_data(bio, &pem);
    out = strndup(pem, *len);
    BIO_free(bio);
    EVP_PKEY_free(pk);
    return out;
}

/* The tokens libjwt signs with the ring's own key file verify here, with
 * every claim read back; signed by another key under the ring's kid, not. */
static void ours_reads_libjwt(const ring *r, int admin)
{
    int64_t now = time(NULL);
    gh_claims c = claims_for(), back;
    const char *why = NULL;
    size_t key_len;
    char *key = signing_key_text(r, &key_len), *t;
    json_t *h;

    uuid_new(c.jti);
    c.iat = c.nbf = now - 5;
    c.exp = now + 600;
    t = libjwt_issue(r->alg, key, key_len, keyring_signing_kid(r->kr), admin, &c);
    if (token_verify(r->kr, &tc, t, now, &back, &why) != 0)
        fail_msg("libjwt's %s token refused: %s", keyring_alg_name(r->kr), why);
    assert_string_equal(back.sub, USER_ID);
    assert_string_equal(back.sid, SESSION_ID);
    assert_string_equal(back.tenant, TENANT_ID);
    assert_string_equal(back.jti, c.jti);
    assert_int_equal(back.iat, now - 5);
    assert_int_equal(back.nbf, now - 5);
    assert_int_equal(back.exp, now + 600);
    assert_roles(t, admin ? "admin editor" : ""); /* and token_payload reads them */
    h = segment_json(t, 0);
    assert_string_equal(json_string_value(json_object_get(h, "alg")), keyring_alg_name(r->kr));
    assert_string_equal(json_string_value(json_object_get(h, "kid")),
                        keyring_signing_kid(r->kr));
    json_decref(h);
    free(t);
    free(key);
    key = other_key_text(r, &key_len);
    t = libjwt_issue(r->alg, key, key_len, keyring_signing_kid(r->kr), admin, &c);
    expect_refused(r, t, now, "bad signature");
    free(t);
    free(key);
}

static void libjwt_reference(const ring *r)
{
    libjwt_reads_ours(r, 0);
    libjwt_reads_ours(r, 1);
    ours_reads_libjwt(r, 0);
    ours_reads_libjwt(r, 1);
}

/* The key files written at first start are read back with the same kid. */
static void reload_keeps_kid(const ring *r)
{
    char err[256] = "", kid[64], path[512];
    gh_keyring *again = keyring_load(r->dir, r->alg, NULL, err, sizeof(err));
    gh_claims c = claims_for(), back;
    struct stat st;
    char *t;

    assert_non_null(again);
    assert_int_equal(keyring_count(again), 1);
    snprintf(kid, sizeof(kid), "%s", keyring_signing_kid(r->kr));
    assert_int_equal(strlen(kid), 16);
    assert_string_equal(keyring_signing_kid(again), kid);
    /* a token from one load verifies with the other */
    t = token_issue(again, &tc, &c, NULL, time(NULL));
    assert_int_equal(token_verify(r->kr, &tc, t, time(NULL), &back, NULL), 0);
    free(t);
    keyring_free(again);
    snprintf(path, sizeof(path), "%s/%s.pem", r->dir, kid);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(r->dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
}

static void es256_round_trip(void **state)
{
    (void)state;
    assert_string_equal(keyring_alg_name(es.kr), "ES256");
    round_trip(&es);
    libjwt_reference(&es);
    reload_keeps_kid(&es);
}

static void rs256_round_trip(void **state)
{
    (void)state;
    assert_string_equal(keyring_alg_name(rs.kr), "RS256");
    assert_int_equal(EVP_PKEY_get_bits(rs.priv), 3072);
    round_trip(&rs);
    libjwt_reference(&rs);
    reload_keeps_kid(&rs);
}

static void hs256_round_trip(void **state)
{
    char err[256] = "";
    gh_keyring *other;
    gh_claims c = claims_for();
    json_t *jwks;
    char *t;

    (void)state;
    round_trip(&hs);
    libjwt_reference(&hs);
    assert_string_equal(keyring_signing_kid(hs.kr), "hs256");
    /* what signs: the secret, no EVP_PKEY; and no secret on key pairs */
    {
        size_t len = 0;
        const unsigned char *sec = key_hmac_secret(keyring_signer(hs.kr), &len);
        assert_int_equal(len, strlen(HS_SECRET));
        assert_memory_equal(sec, HS_SECRET, len);
        assert_null(key_private(keyring_signer(hs.kr)));
        assert_null(key_hmac_secret(keyring_signer(es.kr), &len));
        assert_int_equal(len, 0);
        assert_non_null(key_private(keyring_signer(es.kr)));
    }
    /* the secret never leaves: an empty JWKS */
    jwks = keyring_jwks(hs.kr);
    assert_int_equal(json_array_size(json_object_get(jwks, "keys")), 0);
    json_decref(jwks);
    /* too short a secret is refused; no secret at all too */
    assert_null(keyring_load(NULL, GH_ALG_HS256, "short", err, sizeof(err)));
    assert_non_null(strstr(err, "32"));
    assert_null(keyring_load(NULL, GH_ALG_HS256, NULL, err, sizeof(err)));
    /* a token from another secret does not verify */
    other = keyring_load(NULL, GH_ALG_HS256, HS_SECRET "-other", err, sizeof(err));
    assert_non_null(other);
    t = token_issue(other, &tc, &c, NULL, time(NULL));
    expect_refused(&hs, t, time(NULL), "bad signature");
    free(t);
    keyring_free(other);
    assert_int_equal(keyring_rotate("/nonexistent", GH_ALG_HS256, NULL, 0, err, sizeof(err)),
                     -1);
}

/* ---------------------------------------------------------------- header attacks */

/* Forged (an attack signal, audited) against merely aged or broken. */
static void classifies_refusals(void **state)
{
    static const char *const forged[] = { "algorithm not allowed", "not an access token",
                                          "unsupported critical header",
                                          "key named by the token", "unknown kid",
                                          "bad signature", "wrong issuer", "wrong audience" };
    static const char *const other[] = { "expired", "not yet valid", "malformed",
                                         "malformed payload", "too long", "no token" };
    (void)state;
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++)
        assert_true(token_refusal_forged(forged[i]));
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        assert_false(token_refusal_forged(other[i]));
    assert_false(token_refusal_forged(NULL));
}

static void refuses_alg_none(void **state)
{
    int64_t now = time(NULL);
    json_t *pl = good_payload(now);
    char *payload = json_dumps(pl, JSON_COMPACT), *h, *t;

    (void)state;
    h = header_for("none", keyring_signing_kid(es.kr));
    t = craft(h, payload, NULL, NULL, 0); /* "h.p." */
    assert_int_equal(t[strlen(t) - 1], '.');
    /* the header refuses it, so the refusal names the attack */
    expect_refused(&es, t, now, "algorithm not allowed");
    assert_true(token_refusal_forged("algorithm not allowed"));
    /* with something in the signature slot too */
    t = realloc(t, strlen(t) + 8);
    strcat(t, "AAAA");
    expect_refused(&es, t, now, "algorithm not allowed");
    free(t);
    free(h);
    /* our own header and an empty signature: no signature verifies */
    h = header_for("ES256", keyring_signing_kid(es.kr));
    t = craft(h, payload, NULL, NULL, 0);
    expect_refused(&es, t, now, "bad signature");
    free(t);
    free(h);
    /* any spelling of it */
    h = strdup("{\"alg\":\"None\",\"typ\":\"at+jwt\",\"kid\":\"hs256\"}");
    t = craft(h, payload, NULL, HS_SECRET, strlen(HS_SECRET));
    expect_refused(&hs, t, now, "algorithm not allowed");
    free(t);
    free(h);
    free(payload);
    json_decref(pl);
}

/* The classic confusion: HS256 "signed" with the public key as the secret. */
static void refuses_algorithm_confusion(void **state)
{
    int64_t now = time(NULL);
    json_t *pl = good_payload(now);
    char *payload = json_dumps(pl, JSON_COMPACT), *h, *t, *pem;
    BIO *bio = BIO_new(BIO_s_mem());
    long n;

    (void)state;
    assert_int_equal(PEM_write_bio_PUBKEY(bio, es.priv), 1);
    n = BIO_get_mem_data(bio, &pem);
    h = header_for("HS256", keyring_signing_kid(es.kr));
    t = craft(h, payload, NULL, pem, (size_t)n);
    expect_refused(&es, t, now, "algorithm not allowed");
    free(t);
    free(h);
    /* RS256 named on the EC kid, properly signed by an RSA key */
    h = header_for("RS256", keyring_signing_kid(es.kr));
    t = craft(h, payload, rs.priv, NULL, 0);
    expect_refused(&es, t, now, "algorithm not allowed");
    free(t);
    free(h);
    /* ES256 named on the RSA ring, signed by the EC key */
    h = header_for("ES256", keyring_signing_kid(rs.kr));
    t = craft(h, payload, es.priv, NULL, 0);
    expect_refused(&rs, t, now, "algorithm not allowed");
    free(t);
    free(h);
    BIO_free(bio);
    free(payload);
    json_decref(pl);
}

/* tmpl with its "KID" replaced by kid; malloc'd */
static char *with_kid(const char *tmpl, const char *kid)
{
    const char *at = strstr(tmpl, "KID");
    char *out = malloc(strlen(tmpl) + strlen(kid) + 1);

    if (!out)
        abort();
    if (!at)
        return strcpy(out, tmpl);
    sprintf(out, "%.*s%s%s", (int)(at - tmpl), tmpl, kid, at + 3);
    return out;
}

static void refuses_bad_headers(void **state)
{
    static const char *const headers[] = {
        "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"no-such-kid\"}",
        "{\"alg\":\"ES256\",\"typ\":\"at+jwt\"}",                      /* no kid */
        "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":7}",
        "{\"typ\":\"at+jwt\",\"kid\":\"KID\"}",                         /* no alg */
        "{\"alg\":[\"ES256\"],\"typ\":\"at+jwt\",\"kid\":\"KID\"}",
        "{\"alg\":\"ES256\",\"typ\":\"dpop+jwt\",\"kid\":\"KID\"}",     /* another kind */
        "{\"alg\":\"ES256\",\"typ\":7,\"kid\":\"KID\"}",
        "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"KID\",\"crit\":[\"exp\"]}",
        "{\"alg\":\"ES256\",\"alg\":\"none\",\"typ\":\"at+jwt\",\"kid\":\"KID\"}",
        "[\"ES256\"]",
        "not json",
    };
    int64_t now = time(NULL);
    json_t *pl = good_payload(now);
    char *payload = json_dumps(pl, JSON_COMPACT);

    (void)state;
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        char *h = with_kid(headers[i], keyring_signing_kid(es.kr)), *t;
        const char *why = NULL;
        t = craft(h, payload, es.priv, NULL, 0);
        if (verify_at(&es, t, now, &why) != -1)
            fail_msg("header %zu accepted: %s", i, h);
        free(t);
        free(h);
    }
    /* the well-formed control is accepted */
    {
        char *h = header_for("ES256", keyring_signing_kid(es.kr));
        char *t = craft(h, payload, es.priv, NULL, 0);
        const char *why = NULL;
        if (verify_at(&es, t, now, &why) != 0)
            fail_msg("control refused: %s", why);
        free(t);
        free(h);
    }
    free(payload);
    json_decref(pl);
}

/* ---------------------------------------------------------------- tampering */

static void refuses_tampering(void **state)
{
    int64_t now = time(NULL);
    gh_claims c = claims_for();
    char *t = token_issue(es.kr, &tc, &c, NULL, now), *forged, *pl_b64, *dot1, *dot2;
    json_t *pl = segment_json(t, 1);
    char *payload;
    size_t i;

    (void)state;
    /* payload: make ourselves admin, keep the signature */
    json_object_set_new(pl, "roles", json_pack("[s]", "admin"));
    payload = json_dumps(pl, JSON_COMPACT);
    pl_b64 = b64(payload, strlen(payload));
    dot1 = strchr(t, '.');
    dot2 = strchr(dot1 + 1, '.');
    forged = malloc(strlen(t) + strlen(pl_b64) + 1);
    sprintf(forged, "%.*s.%s%s", (int)(dot1 - t), t, pl_b64, dot2);
    expect_refused(&es, forged, now, "bad signature");
    free(forged);
    /* signature: change one character in the middle */
    forged = strdup(t);
    i = (size_t)(dot2 - t) + 20;
    forged[i] = forged[i] == 'A' ? 'B' : 'A';
    expect_refused(&es, forged, now, "bad signature");
    /* signature cut short, or one byte longer */
    strcpy(forged, t);
    forged[strlen(forged) - 4] = '\0';
    expect_refused(&es, forged, now, "bad signature");
    free(forged);
    forged = malloc(strlen(t) + 8);
    sprintf(forged, "%sAAA", t);
    expect_refused(&es, forged, now, "bad signature");
    free(forged);
    /* the same for RSA and HMAC rings */
    free(t);
    t = token_issue(rs.kr, &tc, &c, NULL, now);
    t[strlen(t) - 10] = t[strlen(t) - 10] == 'A' ? 'B' : 'A';
    expect_refused(&rs, t, now, "bad signature");
    free(t);
    t = token_issue(hs.kr, &tc, &c, NULL, now);
    t[strlen(t) - 10] = t[strlen(t) - 10] == 'A' ? 'B' : 'A';
    expect_refused(&hs, t, now, "bad signature");
    free(t);
    free(pl_b64);
    free(payload);
    json_decref(pl);
}

/* ---------------------------------------------------------------- claims */

static void refuses_expired_and_early(void **state)
{
    int64_t now = 1700000000;
    gh_claims c = claims_for();
    char *t = token_issue(es.kr, &tc, &c, NULL, now);
    const char *why = NULL;

    (void)state;
    /* exp = now + 900, with GH_TOKEN_LEEWAY_S of skew either way */
    assert_int_equal(verify_at(&es, t, now + 900 + GH_TOKEN_LEEWAY_S - 1, &why), 0);
    expect_refused(&es, t, now + 900 + GH_TOKEN_LEEWAY_S, "expired");
    expect_refused(&es, t, now + 86400, "expired");
    assert_int_equal(verify_at(&es, t, now - GH_TOKEN_LEEWAY_S, &why), 0);
    expect_refused(&es, t, now - GH_TOKEN_LEEWAY_S - 1, "not yet valid");
    expect_refused(&es, t, now - 3600, "not yet valid");
    free(t);
    /* iat in the future on its own */
    {
        json_t *pl = good_payload(now);
        json_object_set_new(pl, "iat", json_integer(now + 3600));
        t = sign_payload(&es, pl);
        expect_refused(&es, t, now, "issued in the future");
        free(t);
    }
}

static void refuses_wrong_issuer_audience(void **state)
{
    int64_t now = time(NULL);
    gh_token_conf other_iss = { .issuer = "https://evil.example.com", .audience = AUDIENCE, .ttl_s = 900 };
    gh_token_conf other_aud = { .issuer = ISSUER, .audience = "billing", .ttl_s = 900 };
    gh_claims c = claims_for(), back;
    const char *why = NULL;
    char *t = token_issue(es.kr, &other_iss, &c, NULL, now);
    json_t *pl;

    (void)state;
    expect_refused(&es, t, now, "wrong issuer");
    free(t);
    t = token_issue(es.kr, &other_aud, &c, NULL, now);
    expect_refused(&es, t, now, "wrong audience");
    assert_int_equal(token_verify(es.kr, &other_aud, t, now, &back, &why), 0);
    free(t);
    /* aud may be an array that contains ours */
    pl = good_payload(now);
    json_object_set_new(pl, "aud", json_pack("[s,s]", "billing", AUDIENCE));
    t = sign_payload(&es, pl);
    if (verify_at(&es, t, now, &why) != 0)
        fail_msg("aud array refused: %s", why);
    free(t);
    pl = good_payload(now);
    json_object_set_new(pl, "aud", json_pack("[s,s]", "billing", "gatehouse2"));
    t = sign_payload(&es, pl);
    expect_refused(&es, t, now, "wrong audience");
    free(t);
}

static void refuses_missing_claims(void **state)
{
    static const char *const required[] = {
        "iss", "aud", "sub", "sid", "jti", "tenant", "exp", "nbf", "iat",
    };
    char long_id[80];
    int64_t now = time(NULL);
    json_t *pl;
    char *t;

    (void)state;
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        const char *why = NULL;
        pl = good_payload(now);
        json_object_del(pl, required[i]);
        t = sign_payload(&es, pl);
        if (verify_at(&es, t, now, &why) != -1)
            fail_msg("accepted without %s", required[i]);
        free(t);
    }
    /* wrong types, and values too long for gh_claims */
    memset(long_id, 'a', 64);
    long_id[64] = '\0';
    json_t *spoilt[] = {
        json_pack("{s:s}", "exp", "tomorrow"),
        json_pack("{s:f}", "exp", 1e12),
        json_pack("{s:i}", "sub", 42),
        json_pack("{s:s}", "sub", ""),
        json_pack("{s:s}", "sub", long_id),
        json_pack("{s:s}", "tenant", long_id),
        json_pack("{s:s}", "roles", "admin"),
        json_pack("{s:[i]}", "roles", 1),
        json_pack("{s:i}", "iss", 1),
        json_pack("{s:i}", "aud", 1),
    };
    for (size_t i = 0; i < sizeof(spoilt) / sizeof(spoilt[0]); i++) {
        const char *why = NULL;
        pl = good_payload(now);
        json_object_update(pl, spoilt[i]);
        t = sign_payload(&es, pl);
        if (verify_at(&es, t, now, &why) != -1)
            fail_msg("spoilt payload %zu accepted", i);
        free(t);
        json_decref(spoilt[i]);
    }
    /* the longest id that fits is fine, and roles may be absent */
    long_id[63] = '\0';
    pl = good_payload(now);
    json_object_set_new(pl, "sub", json_string(long_id));
    json_object_del(pl, "roles");
    t = sign_payload(&es, pl);
    assert_int_equal(verify_at(&es, t, now, NULL), 0);
    free(t);
}

/* ---------------------------------------------------------------- garbage */

static void refuses_garbage(void **state)
{
    static const char *const junk[] = {
        "", ".", "..", "...", "abc", "a.b", "a.b.c.d", "a..c", ".b.c", "a.b.",
        "eyJhbGciOiJFUzI1NiJ9", "eyJhbGciOiJFUzI1NiJ9.e30.AAAA.AAAA", "\xff\xfe.\x01.\x02",
    };
    char *big = malloc(GH_TOKEN_MAX + 2), *t, *mangled;
    gh_claims c = claims_for();
    int64_t now = time(NULL);
    const char *why = NULL;

    (void)state;
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        expect_refused(&es, junk[i], now, NULL);
    expect_refused(&es, NULL, now, NULL);
    assert_int_equal(token_verify(es.kr, &tc, "a.b", now, &c, NULL), -1); /* why optional */
    memset(big, 'A', GH_TOKEN_MAX + 1);
    big[100] = big[200] = '.';
    big[GH_TOKEN_MAX + 1] = '\0';
    expect_refused(&es, big, now, "too long");
    free(big);
    /* a valid token made invalid base64url in each segment */
    c = claims_for();
    t = token_issue(es.kr, &tc, &c, NULL, now);
    assert_int_equal(verify_at(&es, t, now, &why), 0);
    mangled = malloc(strlen(t) + 4);
    for (int seg = 0; seg < 3; seg++) {
        const char *bad[] = { "=", "+", " " };
        for (int b = 0; b < 3; b++) {
            const char *at = t;
            for (int s = 0; s < seg; s++)
                at = strchr(at, '.') + 1;
            sprintf(mangled, "%.*s%s%s", (int)(at - t + 2), t, bad[b], at + 2);
            expect_refused(&es, mangled, now, NULL);
        }
    }
    free(mangled);
    free(t);
}

/* ---------------------------------------------------------------- keys on disk */

static void copy_file(const char *from, const char *to)
{
    char buf[16384];
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    size_t n;

    assert_non_null(in);
    assert_non_null(out);
    n = fread(buf, 1, sizeof(buf), in);
    assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void refuses_wrong_key_files(void **state)
{
    char dir[64], from[512], to[512], err[512] = "";
    gh_keyring *kr;

    (void)state;
    make_tmpdir(dir);
    /* an RSA key where ES256 is configured: the error names the file */
    snprintf(from, sizeof(from), "%s/%s.pem", rs.dir, keyring_signing_kid(rs.kr));
    snprintf(to, sizeof(to), "%s/old-rsa.pem", dir);
    copy_file(from, to);
    assert_null(keyring_load(dir, GH_ALG_ES256, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "old-rsa.pem"));
    assert_non_null(strstr(err, "RSA"));
    /* ... and the EC key where RS256 is */
    unlink(to);
    snprintf(from, sizeof(from), "%s/%s.pem", es.dir, keyring_signing_kid(es.kr));
    snprintf(to, sizeof(to), "%s/ec.pem", dir);
    copy_file(from, to);
    assert_null(keyring_load(dir, GH_ALG_RS256, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "ec.pem"));
    /* other files are ignored: the EC key loads alone under its file name */
    snprintf(to, sizeof(to), "%s/README", dir);
    write_text(to, "keys live here\n");
    snprintf(to, sizeof(to), "%s/.half-written.pem.tmp", dir);
    write_text(to, "-----BEGIN PRIV");
    kr = keyring_load(dir, GH_ALG_ES256, NULL, err, sizeof(err));
    assert_non_null(kr);
    assert_int_equal(keyring_count(kr), 1);
    assert_string_equal(keyring_signing_kid(kr), "ec");
    keyring_free(kr);
    /* a .pem that is not a key */
    snprintf(to, sizeof(to), "%s/broken.pem", dir);
    write_text(to, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    assert_null(keyring_load(dir, GH_ALG_ES256, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "broken.pem"));
    rm_rf(dir);
}

/* ---------------------------------------------------------------- rotation */

static int has_kid(const json_t *keys, const char *kid)
{
    size_t i;
    const json_t *k;

    json_array_foreach(keys, i, k) {
        if (strcmp(json_string_value(json_object_get(k, "kid")), kid) == 0)
            return 1;
    }
    return 0;
}

static void check_jwk_public(const json_t *k, gh_alg alg)
{
    static const char *const private_members[] = { "d", "p", "q", "dp", "dq", "qi", "k" };

    for (size_t i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++)
        assert_null(json_object_get(k, private_members[i]));
    assert_string_equal(json_string_value(json_object_get(k, "use")), "sig");
    if (alg == GH_ALG_ES256) {
        assert_string_equal(json_string_value(json_object_get(k, "kty")), "EC");
        assert_string_equal(json_string_value(json_object_get(k, "crv")), "P-256");
        assert_string_equal(json_string_value(json_object_get(k, "alg")), "ES256");
        assert_int_equal(strlen(json_string_value(json_object_get(k, "x"))), 43);
        assert_int_equal(strlen(json_string_value(json_object_get(k, "y"))), 43);
    } else {
        assert_string_equal(json_string_value(json_object_get(k, "kty")), "RSA");
        assert_string_equal(json_string_value(json_object_get(k, "alg")), "RS256");
        assert_string_equal(json_string_value(json_object_get(k, "e")), "AQAB");
        assert_int_equal(strlen(json_string_value(json_object_get(k, "n"))), 512); /* 384 B */
    }
}

/* member of a JWK, base64url-decoded into buf; its length */
static size_t jwk_bytes(const json_t *k, const char *member, unsigned char *buf, size_t len)
{
    const char *v = json_string_value(json_object_get(k, member));
    size_t n = 0;

    assert_non_null(v);
    assert_int_equal(b64url_decode(v, strlen(v), buf, len, &n), 0);
    return n;
}

/* The public key a JWK describes, built the way a relying party would. */
static EVP_PKEY *key_from_jwk(const json_t *k)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY_CTX *ctx;
    OSSL_PARAM *params;
    EVP_PKEY *pk = NULL;
    unsigned char a[512], b[512];
    BIGNUM *n = NULL, *e = NULL;
    int ec = strcmp(json_string_value(json_object_get(k, "kty")), "EC") == 0;

    if (ec) {
        /* uncompressed point: 04 || x || y */
        a[0] = 4;
        assert_int_equal(jwk_bytes(k, "x", a + 1, 32), 32);
        assert_int_equal(jwk_bytes(k, "y", a + 33, 32), 32);
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, a, 65);
    } else {
        n = BN_bin2bn(a, (int)jwk_bytes(k, "n", a, sizeof(a)), NULL);
        e = BN_bin2bn(b, (int)jwk_bytes(k, "e", b, sizeof(b)), NULL);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, ec ? "EC" : "RSA", NULL);
    assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params), 1);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return pk;
}

/* The JWKS describes exactly the ring's signing key: same public key. */
static void jwks_matches_keys(void **state)
{
    const ring *rings[] = { &es, &rs };

    (void)state;
    for (int r = 0; r < 2; r++) {
        json_t *jwks = keyring_jwks(rings[r]->kr);
        json_t *k = json_array_get(json_object_get(jwks, "keys"), 0);
        EVP_PKEY *pk = key_from_jwk(k);
        assert_string_equal(json_string_value(json_object_get(k, "kid")),
                            keyring_signing_kid(rings[r]->kr));
        assert_int_equal(EVP_PKEY_eq(pk, rings[r]->priv), 1);
        assert_int_not_equal(EVP_PKEY_eq(pk, rings[1 - r]->priv), 1); /* the check bites */
        EVP_PKEY_free(pk);
        json_decref(jwks);
    }
}

static void rotation(void **state)
{
    char dir[64], err[256] = "", kid1[32], kid2[32];
    gh_keyring *kr1, *kr2;
    gh_claims c = claims_for(), back;
    int64_t now = time(NULL);
    const char *why = NULL;
    char *t1, *t2;
    json_t *jwks, *keys, *h;

    (void)state;
    make_tmpdir(dir);
    kr1 = keyring_load(dir, GH_ALG_ES256, NULL, err, sizeof(err));
    assert_non_null(kr1);
    snprintf(kid1, sizeof(kid1), "%s", keyring_signing_kid(kr1));
    t1 = token_issue(kr1, &tc, &c, NULL, now);
    assert_int_equal(keyring_rotate(dir, GH_ALG_ES256, kid2, sizeof(kid2), err, sizeof(err)), 0);
    assert_int_equal(strlen(kid2), 16);
    assert_string_not_equal(kid1, kid2);
    /* the running ring is untouched until the reload */
    assert_string_equal(keyring_signing_kid(kr1), kid1);
    kr2 = keyring_load(dir, GH_ALG_ES256, NULL, err, sizeof(err));
    assert_non_null(kr2);
    assert_int_equal(keyring_count(kr2), 2);
    assert_string_equal(keyring_signing_kid(kr2), kid2);
    /* only the signer keeps its private key; every key its public one */
    assert_non_null(key_private(keyring_signer(kr2)));
    assert_non_null(key_pkey(keyring_signer(kr2)));
    assert_null(key_private(keyring_find(kr2, kid1, strlen(kid1))));
    assert_non_null(key_pkey(keyring_find(kr2, kid1, strlen(kid1))));
    t2 = token_issue(kr2, &tc, &c, NULL, now);
    h = segment_json(t2, 0);
    assert_string_equal(json_string_value(json_object_get(h, "kid")), kid2);
    json_decref(h);
    /* old tokens still verify after the rotation; new ones everywhere
     * that has reloaded, and not where the new key is unknown */
    assert_int_equal(token_verify(kr2, &tc, t1, now, &back, &why), 0);
    assert_int_equal(token_verify(kr2, &tc, t2, now, &back, &why), 0);
    expect_refused(&(ring){ .kr = kr1 }, t2, now, "unknown kid");
    /* both public keys are published, and nothing private */
    jwks = keyring_jwks(kr2);
    keys = json_object_get(jwks, "keys");
    assert_int_equal(json_array_size(keys), 2);
    assert_true(has_kid(keys, kid1));
    assert_true(has_kid(keys, kid2));
    check_jwk_public(json_array_get(keys, 0), GH_ALG_ES256);
    check_jwk_public(json_array_get(keys, 1), GH_ALG_ES256);
    json_decref(jwks);
    /* a second rotation in the same instant still wins */
    assert_int_equal(keyring_rotate(dir, GH_ALG_ES256, kid1, sizeof(kid1), err, sizeof(err)), 0);
    keyring_free(kr2);
    kr2 = keyring_load(dir, GH_ALG_ES256, NULL, err, sizeof(err));
    assert_string_equal(keyring_signing_kid(kr2), kid1);
    assert_int_equal(keyring_count(kr2), 3);
    free(t1);
    free(t2);
    keyring_free(kr1);
    keyring_free(kr2);
    rm_rf(dir);
}

static void rsa_jwks(void **state)
{
    json_t *jwks = keyring_jwks(rs.kr);
    json_t *keys = json_object_get(jwks, "keys");

    (void)state;
    assert_int_equal(json_array_size(keys), 1);
    check_jwk_public(json_array_get(keys, 0), GH_ALG_RS256);
    assert_true(has_kid(keys, keyring_signing_kid(rs.kr)));
    json_decref(jwks);
}

/* ---------------------------------------------------------------- threads, rate */

typedef struct verifier {
    const ring *r;
    const char *token;
    int64_t now;
    int n, ok;
} verifier;

static void *verify_loop(void *arg)
{
    verifier *v = arg;
    gh_claims c;

    for (int i = 0; i < v->n; i++)
        v->ok += token_verify(v->r->kr, &tc, v->token, v->now, &c, NULL) == 0 &&
                 strcmp(c.sub, USER_ID) == 0;
    return NULL;
}

/* Seconds on clock since t0 (CPU time: on a shared machine wall time
 * measures the neighbours as much as the code). */
static double seconds_since(clockid_t clock, const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(clock, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void threads_verify(void **state)
{
    gh_claims c = claims_for();
    int64_t now = time(NULL);
    char *t = token_issue(es.kr, &tc, &c, NULL, now);
    verifier v[4];
    pthread_t th[4];
    struct timespec t0;
    double s;

    (void)state;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 4; i++) {
        v[i] = (verifier){ &es, t, now, 1000, 0 };
        assert_int_equal(pthread_create(&th[i], NULL, verify_loop, &v[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    s = seconds_since(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(v[i].ok, 1000);
    print_message("ES256: 4 threads x 1000 verifies in %.2f s wall (%.0f/s on %ld cores)\n", s,
                  4000 / s, sysconf(_SC_NPROCESSORS_ONLN));
    free(t);
}

typedef struct issuer {
    const ring *r;
    int n;
    char **tokens;
    gh_claims *claims;
} issuer;

static void *issue_loop(void *arg)
{
    issuer *is = arg;

    for (int i = 0; i < is->n; i++) {
        is->claims[i] = claims_for();
        is->tokens[i] = token_issue(is->r->kr, &tc, &is->claims[i], NULL, time(NULL));
    }
    return NULL;
}

/* Several threads sign with one ring at once (each its own EVP_MD_CTX on
 * the shared EVP_PKEY); every token verifies, with its own claims. */
static void threads_issue(void **state)
{
    const ring *rings[] = { &es, &rs, &hs };
    issuer is[4];
    pthread_t th[4];

    (void)state;
    for (int r = 0; r < 3; r++) {
        int n = rings[r]->alg == GH_ALG_RS256 ? 10 : 200;
        for (int i = 0; i < 4; i++) {
            is[i] = (issuer){ rings[r], n, calloc((size_t)n, sizeof(char *)),
                              calloc((size_t)n, sizeof(gh_claims)) };
            assert_non_null(is[i].tokens);
            assert_non_null(is[i].claims);
            assert_int_equal(pthread_create(&th[i], NULL, issue_loop, &is[i]), 0);
        }
        for (int i = 0; i < 4; i++)
            pthread_join(th[i], NULL);
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < n; j++) {
                gh_claims back;
                const char *why = NULL;
                assert_non_null(is[i].tokens[j]);
                if (token_verify(rings[r]->kr, &tc, is[i].tokens[j], is[i].claims[j].iat, &back,
                                 &why) != 0)
                    fail_msg("%s token from thread %d refused: %s",
                             keyring_alg_name(rings[r]->kr), i, why);
                assert_string_equal(back.jti, is[i].claims[j].jti);
                free(is[i].tokens[j]);
            }
            free(is[i].tokens);
            free(is[i].claims);
        }
    }
}

/* ES256 R and S are left-padded to 32 bytes: about one signature in 128
 * has a leading zero byte in one of them. Issue enough to meet some; each
 * verifies here, and the padded ones with libjwt too. */
static void es256_padding(void **state)
{
    gh_claims c = claims_for();
    int64_t now = time(NULL);
    BIO *bio;
    int key_len, padded = 0;
    const unsigned char *key = verifying_key(&es, &bio, &key_len);

    (void)state;
    for (int i = 0; i < 1000; i++) {
        char *t = token_issue(es.kr, &tc, &c, NULL, now);
        const char *sig_b64 = strrchr(t, '.') + 1;
        unsigned char sig[64];
        size_t n = 0;
        gh_claims back;

        assert_int_equal(strlen(sig_b64), 86);
        assert_int_equal(b64url_decode(sig_b64, 86, sig, sizeof(sig), &n), 0);
        assert_int_equal(n, 64);
        assert_int_equal(token_verify(es.kr, &tc, t, now, &back, NULL), 0);
        if (sig[0] == 0 || sig[32] == 0) {
            jwt_t *jwt = NULL;
            padded++;
            assert_int_equal(jwt_decode(&jwt, t, key, key_len), 0);
            jwt_free(jwt);
        }
        free(t);
    }
    print_message("ES256: %d of 1000 signatures had R or S padded (about 8 expected)\n",
                  padded);
    BIO_free(bio);
}

/* Informational: why our tokens say typ "JWT" and not RFC 9068's "at+jwt"
 * (which token_verify accepts too). Says so if libjwt ever changes. */
static void libjwt_typ_note(void **state)
{
    int64_t now = time(NULL);
    char *t = sign_payload(&hs, good_payload(now)); /* typ "at+jwt" */
    jwt_t *jwt = NULL;
    int rc;

    (void)state;
    assert_int_equal(verify_at(&hs, t, now, NULL), 0);
    rc = jwt_decode(&jwt, t, (const unsigned char *)HS_SECRET, (int)strlen(HS_SECRET));
    jwt_free(jwt);
    if (rc == 0)
        print_message("libjwt now accepts typ \"at+jwt\": TOKEN_TYP in jwt.c could be it\n");
    else
        print_message("libjwt refuses typ \"at+jwt\" (%s): tokens keep typ \"JWT\"\n",
                      strerror(rc));
    free(t);
}

/* Informational: issuing, ours (OpenSSL on the key parsed at load)
 * against libjwt's jwt_encode_str (which parses the PEM on every call). */
static void issue_rates(void **state)
{
    const ring *rings[] = { &es, &rs, &hs };
    gh_claims c = claims_for();
    struct timespec t0;

    (void)state;
    for (int r = 0; r < 3; r++) {
        int rsa = rings[r]->alg == GH_ALG_RS256, n = rsa ? 200 : 2000, m = rsa ? 30 : 300;
        size_t key_len;
        char *key = signing_key_text(rings[r], &key_len);

        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
        for (int i = 0; i < n; i++) {
            char *t = token_issue(rings[r]->kr, &tc, &c, NULL, time(NULL));
            assert_non_null(t);
            free(t);
        }
        print_message("%s: token_issue %.0f/s per core (CPU time)\n",
                      keyring_alg_name(rings[r]->kr),
                      n / seconds_since(CLOCK_THREAD_CPUTIME_ID, &t0));
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
        for (int i = 0; i < m; i++)
            free(libjwt_issue(rings[r]->alg, key, key_len, keyring_signing_kid(rings[r]->kr), 0,
                              &c));
        print_message("%s: libjwt jwt_encode_str %.0f/s per core (for comparison)\n",
                      keyring_alg_name(rings[r]->kr),
                      m / seconds_since(CLOCK_THREAD_CPUTIME_ID, &t0));
        free(key);
    }
}

/* Informational: our verifier against libjwt's jwt_decode, one thread. */
static void verify_rates(void **state)
{
    const ring *rings[] = { &es, &rs, &hs };
    gh_claims c = claims_for();
    int64_t now = time(NULL);
    struct timespec t0;

    (void)state;
    for (int r = 0; r < 3; r++) {
        char *t = token_issue(rings[r]->kr, &tc, &c, NULL, now);
        verifier v = { rings[r], t, now, 2000, 0 };
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
        verify_loop(&v);
        assert_int_equal(v.ok, 2000);
        print_message("%s: token_verify %.0f/s per core (CPU time)\n",
                      keyring_alg_name(rings[r]->kr),
                      2000 / seconds_since(CLOCK_THREAD_CPUTIME_ID, &t0));
        if (rings[r]->priv) {
            BIO *bio = BIO_new(BIO_s_mem());
            char *pem;
            long n;
            PEM_write_bio_PUBKEY(bio, rings[r]->priv);
            n = BIO_get_mem_data(bio, &pem);
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
            for (int i = 0; i < 300; i++) {
                jwt_t *jwt = NULL;
                assert_int_equal(jwt_decode(&jwt, t, (const unsigned char *)pem, (int)n), 0);
                jwt_free(jwt);
            }
            print_message("%s: libjwt jwt_decode %.0f/s per core (for comparison)\n",
                          keyring_alg_name(rings[r]->kr),
                          300 / seconds_since(CLOCK_THREAD_CPUTIME_ID, &t0));
            BIO_free(bio);
        }
        free(t);
    }
}

/* ---------------------------------------------------------------- secrets */

static void secrets_and_ids(void **state)
{
    char a[GH_SECRET_LEN], b[GH_SECRET_LEN], d[GH_DIGEST_LEN], u[37];

    (void)state;
    assert_int_equal(secret_new(a), 0);
    assert_int_equal(secret_new(b), 0);
    assert_int_equal(strlen(a), 43);
    assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                     43);
    assert_string_not_equal(a, b);
    secret_digest("abc", d); /* FIPS 180-2 test vector */
    assert_string_equal(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    secret_digest(a, d);
    assert_int_equal(strlen(d), 64);
    uuid_new(u);
    assert_int_equal(strlen(u), 36);
    assert_int_equal(u[8], '-');
    assert_int_equal(u[14], '4');
    assert_non_null(strchr("89ab", u[19]));
    uuid_new(b);
    assert_string_not_equal(u, b);
}

static void base64url_strict(void **state)
{
    unsigned char out[16];
    char enc[GH_B64URL_LEN(16)];
    size_t n = 0;

    (void)state;
    /* RFC 4648 section 10 vectors, unpadded */
    assert_int_equal(b64url_encode("f", 1, enc, sizeof(enc)), 2);
    assert_string_equal(enc, "Zg");
    assert_int_equal(b64url_encode("foob", 4, enc, sizeof(enc)), 6);
    assert_string_equal(enc, "Zm9vYg");
    assert_int_equal(b64url_encode("\xfb\xff", 2, enc, sizeof(enc)), 3);
    assert_string_equal(enc, "-_8"); /* the URL alphabet */
    assert_int_equal(b64url_encode("", 0, enc, sizeof(enc)), 0);
    assert_int_equal(b64url_encode("foobar", 6, enc, 8), 0); /* too small */
    assert_int_equal(b64url_decode("Zm9vYg", 6, out, sizeof(out), &n), 0);
    assert_int_equal(n, 4);
    assert_memory_equal(out, "foob", 4);
    assert_int_equal(b64url_decode("-_8", 3, out, sizeof(out), &n), 0);
    assert_memory_equal(out, "\xfb\xff", 2);
    assert_int_equal(b64url_decode("", 0, out, sizeof(out), &n), 0);
    assert_int_equal(n, 0);
    /* refused: padding, the standard alphabet, whitespace, a lone final
     * character, stray bits, too small an output */
    assert_int_equal(b64url_decode("Zg==", 4, out, sizeof(out), &n), -1);
    assert_int_equal(b64url_decode("+/8", 3, out, sizeof(out), &n), -1);
    assert_int_equal(b64url_decode("Zm9v Yg", 7, out, sizeof(out), &n), -1);
    assert_int_equal(b64url_decode("Zm9vY", 5, out, sizeof(out), &n), -1);
    assert_int_equal(b64url_decode("Zh", 2, out, sizeof(out), &n), -1);
    assert_int_equal(b64url_decode("Zm9vYg", 6, out, 3, &n), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(es256_round_trip),
        cmocka_unit_test(rs256_round_trip),
        cmocka_unit_test(hs256_round_trip),
        cmocka_unit_test(refuses_alg_none),
        cmocka_unit_test(classifies_refusals),
        cmocka_unit_test(refuses_algorithm_confusion),
        cmocka_unit_test(refuses_bad_headers),
        cmocka_unit_test(refuses_tampering),
        cmocka_unit_test(refuses_expired_and_early),
        cmocka_unit_test(refuses_wrong_issuer_audience),
        cmocka_unit_test(refuses_missing_claims),
        cmocka_unit_test(refuses_garbage),
        cmocka_unit_test(refuses_wrong_key_files),
        cmocka_unit_test(rotation),
        cmocka_unit_test(rsa_jwks),
        cmocka_unit_test(jwks_matches_keys),
        cmocka_unit_test(threads_verify),
        cmocka_unit_test(threads_issue),
        cmocka_unit_test(es256_padding),
        cmocka_unit_test(libjwt_typ_note),
        cmocka_unit_test(verify_rates),
        cmocka_unit_test(issue_rates),
        cmocka_unit_test(secrets_and_ids),
        cmocka_unit_test(base64url_strict),
    };
    return cmocka_run_group_tests(tests, rings_setup, rings_teardown);
}
