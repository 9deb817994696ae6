/*
 * test_jwt_verify.c - host->jwt_verify, the ID-token check the OAuth
 * plugins use, against a key set served over HTTP on 127.0.0.1 by a thread
 * of this test, with tokens made here with OpenSSL alone (an independent
 * signer, not the daemon's keyring): a good token, then one refusal per
 * attack or mistake, and the key-set cache's refetch on an unknown kid,
 * at most once in ten seconds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "call.h"
#include "clock.h"
#include "log.h"
#include "plugin/host.h"

#define ISS "https://idp.example"
#define AUD "client-1"

static const gh_host *h = &gh_host_table;
static EVP_PKEY *key;
static char jwks[1024];
static char jwks_url[64];
static atomic_int fetches;
static int srv_fd, stop_pipe[2];
static pthread_t srv_th;

static void b64url(const void *data, size_t len, char *out, size_t size)
{
    gh_call call;
    size_t n;

    call_init(&call, NULL, "test", 1000);
    assert_int_equal(h->encode(&call, GH_ENC_BASE64URL, data, len, out, size, &n), GH_OK);
}

/* The P-256 key's public JWK, as a provider publishes it. */
static void make_jwks(void)
{
    BIGNUM *x = NULL, *y = NULL;
    unsigned char xb[32], yb[32];
    char xs[64], ys[64];

    assert_non_null(key = EVP_EC_gen("P-256"));
    assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x), 1);
    assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y), 1);
    assert_int_equal(BN_bn2binpad(x, xb, 32), 32);
    assert_int_equal(BN_bn2binpad(y, yb, 32), 32);
    BN_free(x);
    BN_free(y);
    b64url(xb, 32, xs, sizeof xs);
    b64url(yb, 32, ys, sizeof ys);
    snprintf(jwks, sizeof jwks,
             "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k1\",\"use\":\"sig\","
             "\"alg\":\"ES256\",\"x\":\"%s\",\"y\":\"%s\"}]}", xs, ys);
}

/* header.payload.signature, ES256 over the given JSON texts. */
static char *sign_es256(const char *header, const char *payload)
{
    char h64[512], p64[1024], s64[128], *tok;
    unsigned char der[128], rs[64];
    const unsigned char *dp = der;
    size_t der_len = sizeof der;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ECDSA_SIG *sig;
    size_t n;

    b64url(header, strlen(header), h64, sizeof h64);
    b64url(payload, strlen(payload), p64, sizeof p64);
    n = strlen(h64) + strlen(p64) + 2;
    assert_non_null(tok = malloc(n + sizeof s64));
    snprintf(tok, n, "%s.%s", h64, p64);
    assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
    assert_int_equal(EVP_DigestSign(md, der, &der_len, (unsigned char *)tok, strlen(tok)), 1);
    EVP_MD_CTX_free(md);
    assert_non_null(sig = d2i_ECDSA_SIG(NULL, &dp, (long)der_len));
    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(sig), rs, 32), 32);
    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(sig), rs + 32, 32), 32);
    ECDSA_SIG_free(sig);
    b64url(rs, 64, s64, sizeof s64);
    strcat(tok, ".");
    strcat(tok, s64);
    return tok;
}

/* A token of kid with these claims: iss, aud, nonce and exp are ours
 * unless the test says otherwise. */
static char *token(const char *kid, const char *iss, const char *aud, long exp_in,
                   const char *nonce)
{
    char header[128], payload[512];
    long now = (long)(gh_now_ms() / 1000);

    snprintf(header, sizeof header, "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kid);
    snprintf(payload, sizeof payload,
             "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"user-42\",\"iat\":%ld,\"exp\":%ld,"
             "\"nonce\":\"%s\",\"email\":\"a@example.com\"}", iss, aud, now, now + exp_in, nonce);
    return sign_es256(header, payload);
}

static gh_result verify(const char *tok, const char *nonce)
{
    gh_jwt_policy pol = {
        .size = sizeof pol, .jwks_uri = jwks_url, .issuer = ISS, .audience = AUD,
        .nonce = nonce, .leeway_s = 30, .allow_private = 1,
    };
    gh_json *claims = NULL;
    gh_call call;
    gh_result r;

    call_init(&call, NULL, "test", 5000);
    r = h->jwt_verify(&call, tok, &pol, &claims);
    if (r == GH_OK) {
        assert_string_equal(h->json_str(h->json_get(claims, "sub")), "user-42");
        h->json_free(claims);
    } else {
        assert_null(claims);
    }
    return r;
}

/* ------------------------------------------------------------ the provider */

static void *serve(void *arg)
{
    char req[2048], head[256];

    (void)arg;
    for (;;) {
        struct pollfd p[2] = { { srv_fd, POLLIN, 0 }, { stop_pipe[0], POLLIN, 0 } };
        int fd;

        if (poll(p, 2, -1) < 0 || p[1].revents)
            break;
        if ((fd = accept(srv_fd, NULL, NULL)) < 0)
            continue;
        if (read(fd, req, sizeof req - 1) > 0) {
            atomic_fetch_add(&fetches, 1);
            snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Cache-Control: max-age=3600\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n", strlen(jwks));
            if (write(fd, head, strlen(head)) < 0 || write(fd, jwks, strlen(jwks)) < 0)
                perror("serve");
        }
        close(fd);
    }
    return NULL;
}

static int group_setup(void **state)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;

    (void)state;
    make_jwks();
    srv_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (srv_fd < 0 || bind(srv_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(srv_fd, 16) != 0 || getsockname(srv_fd, (struct sockaddr *)&a, &alen) != 0 ||
        pipe(stop_pipe) != 0 || pthread_create(&srv_th, NULL, serve, NULL) != 0)
        return -1;
    snprintf(jwks_url, sizeof jwks_url, "http://127.0.0.1:%u/jwks", ntohs(a.sin_port));
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (write(stop_pipe[1], "x", 1) != 1)
        return -1;
    pthread_join(srv_th, NULL);
    close(srv_fd);
    EVP_PKEY_free(key);
    host_global_cleanup();
    return 0;
}

/* ------------------------------------------------------------ tests */

static void test_good_token(void **state)
{
    char *t = token("k1", ISS, AUD, 300, "n-1");

    (void)state;
    assert_int_equal(verify(t, "n-1"), GH_OK);
    assert_int_equal(verify(t, NULL), GH_OK); /* no nonce asked: not checked */
    free(t);
}

static void test_claims_refused(void **state)
{
    char *t;

    (void)state;
    t = token("k1", "https://idp.example.evil", AUD, 300, "n-1");
    assert_int_equal(verify(t, "n-1"), GH_ERR_DENIED);
    free(t);
    t = token("k1", ISS, "another-client", 300, "n-1");
    assert_int_equal(verify(t, "n-1"), GH_ERR_DENIED);
    free(t);
    t = token("k1", ISS, AUD, -120, "n-1"); /* expired past the leeway */
    assert_int_equal(verify(t, "n-1"), GH_ERR_DENIED);
    free(t);
    t = token("k1", ISS, AUD, 300, "n-1");
    assert_int_equal(verify(t, "n-2"), GH_ERR_DENIED); /* a replayed ID token */
    free(t);
}

static void test_forgeries_refused(void **state)
{
    char *t = token("k1", ISS, AUD, 300, "n"), *dot = strrchr(t, '.');
    char pem[1024], none[1024], h64[128], mac64[64], *hs;
    unsigned char mac[32];
    unsigned int mac_len = 0;
    BIO *bio;
    int n;

    (void)state;
    /* a flipped signature byte */
    dot[5] = dot[5] == 'A' ? 'B' : 'A';
    assert_int_equal(verify(t, "n"), GH_ERR_DENIED);
    /* alg "none": the payload with an empty signature */
    dot[1] = '\0';
    b64url("{\"alg\":\"none\"}", 14, h64, sizeof h64);
    snprintf(none, sizeof none, "%s%s", h64, strchr(t, '.'));
    assert_int_equal(verify(none, "n"), GH_ERR_DENIED);
    /* HS256 keyed with the public key's PEM (algorithm confusion) */
    assert_non_null(bio = BIO_new(BIO_s_mem()));
    assert_int_equal(PEM_write_bio_PUBKEY(bio, key), 1);
    n = BIO_read(bio, pem, sizeof pem - 1);
    assert_true(n > 0);
    BIO_free(bio);
    b64url("{\"alg\":\"HS256\",\"kid\":\"k1\"}", 26, h64, sizeof h64);
    *dot = '\0';
    assert_non_null(hs = malloc(strlen(t) + 128));
    sprintf(hs, "%s%s", h64, strchr(t, '.'));
    assert_non_null(HMAC(EVP_sha256(), pem, n, (unsigned char *)hs, strlen(hs), mac, &mac_len));
    b64url(mac, mac_len, mac64, sizeof mac64);
    strcat(hs, ".");
    strcat(hs, mac64);
    assert_int_equal(verify(hs, "n"), GH_ERR_DENIED);
    free(hs);
    free(t);
    /* not a JWT at all */
    assert_int_equal(verify("a.b", "n"), GH_ERR_DENIED);
}

static void test_policy_refused(void **state)
{
    gh_jwt_policy pol = {
        .size = sizeof pol, .jwks_uri = jwks_url, .issuer = ISS, .audience = AUD,
    };
    char *t = token("k1", ISS, AUD, 300, "n");
    gh_json *claims = NULL;
    gh_call call;

    (void)state;
    call_init(&call, NULL, "test", 5000);
    /* a key set over plain http on loopback needs the policy to allow it */
    assert_int_equal(h->jwt_verify(&call, t, &pol, &claims), GH_ERR_INVALID);
    pol.allow_private = 1;
    pol.audience = NULL;
    assert_int_equal(h->jwt_verify(&call, t, &pol, &claims), GH_ERR_INVALID);
    free(t);
}

/* An unknown kid fetches the key set again (a provider rotated), but not
 * again within ten seconds, however many bogus kids come. */
static void test_unknown_kid_refetch(void **state)
{
    char *good = token("k1", ISS, AUD, 300, "n"), *bogus = token("k9", ISS, AUD, 300, "n");
    int before;

    (void)state;
    assert_int_equal(verify(good, "n"), GH_OK); /* the set is cached */
    before = atomic_load(&fetches);
    assert_int_equal(verify(good, "n"), GH_OK);
    assert_int_equal(atomic_load(&fetches), before); /* served from the cache */
    clock_advance_ms(11000);
    assert_int_equal(verify(bogus, "n"), GH_ERR_DENIED);
    assert_int_equal(atomic_load(&fetches), before + 1);
    for (int i = 0; i < 20; i++)
        assert_int_equal(verify(bogus, "n"), GH_ERR_DENIED);
    assert_int_equal(atomic_load(&fetches), before + 1);
    free(good);
    free(bogus);
}

int main(void)
{
    gh_log_conf quiet = { .level = GH_LOG_ERROR };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_token),
        cmocka_unit_test(test_claims_refused),
        cmocka_unit_test(test_forgeries_refused),
        cmocka_unit_test(test_policy_refused),
        cmocka_unit_test(test_unknown_kid_refetch),
    };

    if (getenv("GATEHOUSE_PLUGIN_DIR") == NULL) {
        fprintf(stderr, "GATEHOUSE_PLUGIN_DIR is not set (make check sets it)\n");
        return 1;
    }
    host_set_module_dir(getenv("GATEHOUSE_PLUGIN_DIR")); /* host->http's module */
    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    unsetenv("all_proxy");
    unsetenv("ALL_PROXY");
    log_configure(&quiet); /* refusals are logged; keep the output to results */
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
