/*
 * jwt_craft.c - what the token tests share: a keyring per algorithm made
 * in a temporary directory, and tokens crafted by hand (base64url +
 * OpenSSL, never the daemon's own signer), so a test can sign exactly
 * the header and payload it means to attack with.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "jwt_craft.h"

const gh_token_conf tc = { .issuer = ISSUER, .audience = AUDIENCE, .ttl_s = 900 };
ring es, rs, hs;

void rm_rf(const char *dir)
{
    char path[512];
    struct dirent *de;
    DIR *d = opendir(dir);

    if (!d)
        return;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            unlink(path);
        }
    }
    closedir(d);
    rmdir(dir);
}

void make_tmpdir(char dir[64])
{
    snprintf(dir, 64, "/tmp/gh-keys-XXXXXX");
    assert_non_null(mkdtemp(dir));
}

EVP_PKEY *read_private(const char *dir, const char *kid)
{
    char path[512];
    EVP_PKEY *pk;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s.pem", dir, kid);
    f = fopen(path, "r");
    assert_non_null(f);
    pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(pk);
    return pk;
}

/* Keys go into dir/keys, which keyring_load must create. */
int ring_open(ring *r, gh_alg alg)
{
    char err[256] = "", keys[64];

    r->alg = alg;
    if (alg == GH_ALG_HS256) {
        r->kr = keyring_load(NULL, alg, HS_SECRET, err, sizeof(err));
        return r->kr ? 0 : -1;
    }
    make_tmpdir(keys);
    strcat(keys, "/keys");
    snprintf(r->dir, sizeof(r->dir), "%s", keys);
    r->kr = keyring_load(r->dir, alg, NULL, err, sizeof(err));
    if (!r->kr) {
        fprintf(stderr, "keyring_load: %s\n", err);
        return -1;
    }
    r->priv = read_private(r->dir, keyring_signing_kid(r->kr));
    return 0;
}

void ring_close(ring *r)
{
    char parent[128];

    keyring_free(r->kr);
    EVP_PKEY_free(r->priv);
    if (r->dir[0]) {
        rm_rf(r->dir);
        snprintf(parent, sizeof(parent), "%s", r->dir);
        *strrchr(parent, '/') = '\0';
        rmdir(parent);
    }
    memset(r, 0, sizeof(*r));
}

int rings_setup(void **state)
{
    (void)state;
    return ring_open(&es, GH_ALG_ES256) || ring_open(&rs, GH_ALG_RS256) ||
           ring_open(&hs, GH_ALG_HS256);
}

int rings_teardown(void **state)
{
    (void)state;
    ring_close(&es);
    ring_close(&rs);
    ring_close(&hs);
    return 0;
}

/* The claims of a token besides roles and permissions, which the caller
 * passes to token_issue (roles_for). */
gh_claims claims_for(void)
{
    gh_claims c;

    memset(&c, 0, sizeof(c));
    strcpy(c.sub, USER_ID);
    strcpy(c.sid, SESSION_ID);
    strcpy(c.tenant, TENANT_ID);
    return c;
}

char *b64(const void *data, size_t len)
{
    char *out = malloc(GH_B64URL_LEN(len));

    assert_non_null(out);
    b64url_encode(data, len, out, GH_B64URL_LEN(len));
    return out;
}

/* JWS signature bytes of input: by pk (ES256 as R||S), by HMAC key, or none */
size_t sign_input(const char *input, EVP_PKEY *pk, const void *hkey, size_t hkey_len,
                         unsigned char *sig)
{
    unsigned char der[600];
    size_t der_len = sizeof(der);
    unsigned int mac_len = 0;
    EVP_MD_CTX *ctx;

    if (hkey) {
        assert_non_null(HMAC(EVP_sha256(), hkey, (int)hkey_len, (const unsigned char *)input,
                             strlen(input), sig, &mac_len));
        return mac_len;
    }
    if (!pk)
        return 0;
    ctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pk), 1);
    assert_int_equal(EVP_DigestSign(ctx, der, &der_len, (const unsigned char *)input,
                                    strlen(input)), 1);
    EVP_MD_CTX_free(ctx);
    if (EVP_PKEY_is_a(pk, "EC")) {
        const unsigned char *p = der;
        ECDSA_SIG *es_sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
        assert_non_null(es_sig);
        BN_bn2binpad(ECDSA_SIG_get0_r(es_sig), sig, 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(es_sig), sig + 32, 32);
        ECDSA_SIG_free(es_sig);
        return 64;
    }
    memcpy(sig, der, der_len);
    return der_len;
}

/* header.payload.signature from JSON texts; malloc'd */
char *craft(const char *header, const char *payload, EVP_PKEY *pk, const void *hkey,
                   size_t hkey_len)
{
    char *h = b64(header, strlen(header)), *p = b64(payload, strlen(payload));
    unsigned char sig[1024];
    size_t input_len = strlen(h) + 1 + strlen(p), sig_len;
    char *out = malloc(input_len + 2 + GH_B64URL_LEN(sizeof(sig))), *s;

    if (!out)
        abort();
    sprintf(out, "%s.%s", h, p);
    sig_len = sign_input(out, pk, hkey, hkey_len, sig);
    s = b64(sig, sig_len);
    strcat(out, ".");
    strcat(out, s);
    free(h);
    free(p);
    free(s);
    return out;
}

/* A payload with every claim right for now_s, to be spoilt by a test. */
json_t *good_payload(int64_t now_s)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:[s]}", "iss", ISSUER,
                     "aud", AUDIENCE, "sub", USER_ID, "sid", SESSION_ID, "tenant", TENANT_ID,
                     "jti", "3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a99", "iat", (json_int_t)now_s,
                     "nbf", (json_int_t)now_s, "exp", (json_int_t)(now_s + 600), "roles",
                     "admin");
}

char *header_for(const char *alg, const char *kid)
{
    char *h = malloc(256);

    assert_non_null(h);
    snprintf(h, 256, "{\"alg\":\"%s\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}", alg, kid);
    return h;
}

/* A token signed correctly by r's own key, with the given header/payload. */
char *sign_as(const ring *r, const char *header, json_t *payload)
{
    char *pl = json_dumps(payload, JSON_COMPACT), *t;

    assert_non_null(pl);
    t = r->alg == GH_ALG_HS256 ? craft(header, pl, NULL, HS_SECRET, strlen(HS_SECRET))
                               : craft(header, pl, r->priv, NULL, 0);
    free(pl);
    return t;
}

/* sign_as with the ring's own header, then free the payload */
char *sign_payload(const ring *r, json_t *payload)
{
    char *h = header_for(keyring_alg_name(r->kr), keyring_signing_kid(r->kr));
    char *t = sign_as(r, h, payload);

    free(h);
    json_decref(payload);
    return t;
}

int verify_at(const ring *r, const char *token, int64_t now_s, const char **why)
{
    gh_claims c;

    return token_verify(r->kr, &tc, token, now_s, &c, why);
}

void expect_refused(const ring *r, const char *token, int64_t now_s, const char *why_want)
{
    const char *why = NULL;
    gh_claims c;

    memset(&c, 0x5a, sizeof(c));
    if (token_verify(r->kr, &tc, token, now_s, &c, &why) != -1)
        fail_msg("token accepted; expected \"%s\"", why_want);
    assert_non_null(why);
    if (why_want && strcmp(why, why_want) != 0)
        fail_msg("refused as \"%s\"; expected \"%s\"", why, why_want);
    assert_int_equal(c.sub[0], 0); /* no half-checked claims left behind */
}

/* The decoded JSON of segment i (0 header, 1 payload) of a token. */
json_t *segment_json(const char *token, int i)
{
    const char *start = token, *end;
    unsigned char buf[4096];
    size_t n;

    while (i-- > 0)
        start = strchr(start, '.') + 1;
    end = strchr(start, '.');
    assert_int_equal(b64url_decode(start, (size_t)(end - start), buf, sizeof(buf), &n), 0);
    return json_loadb((const char *)buf, n, 0, NULL);
}
