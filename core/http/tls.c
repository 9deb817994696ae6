/*
 * tls.c - TLS contexts for the HTTPS listeners (see tls.h).
 *
 * The settings follow Mozilla's "intermediate" profile: TLS 1.2 and 1.3,
 * forward-secret AEAD ciphers for 1.2 (1.3 keeps OpenSSL's suites and
 * lets the client pick among them), no compression (CRIME), no
 * renegotiation (a client could make us redo handshakes at will). ALPN
 * only ever selects http/1.1: evhttp speaks nothing else, and a client
 * told h2 would send frames it cannot read.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include "http/tls.h"

#define CIPHERS_TLS12                                                                  \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                       \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                       \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"                       \
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"

struct gh_tls {
    const gh_listen *l;  /* the start-up config's: paths and error positions */
    pthread_mutex_t mu;  /* ctx: read by every accept, swapped by a reload */
    SSL_CTX *ctx;
};

/* A key protected by a passphrase is refused, rather than OpenSSL asking
 * for it on a terminal a daemon does not have. */
static int no_passphrase(char *buf, int size, int rwflag, void *ud)
{
    return 0;
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    for (unsigned int i = 0; i < inlen; i += 1u + in[i]) {
        if (in[i] == 8 && i + 9 <= inlen && memcmp(in + i + 1, "http/1.1", 8) == 0) {
            *out = in + i + 1;
            *outlen = 8;
            return SSL_TLSEXT_ERR_OK;
        }
    }
    return SSL_TLSEXT_ERR_NOACK; /* the handshake goes on without ALPN */
}

static void format_time(const ASN1_TIME *t, char *buf, size_t len)
{
    struct tm tm;
    if (!ASN1_TIME_to_tm(t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(buf, len, "an unreadable date");
}

/* The file can be opened: OpenSSL's own errors do not say "permission
 * denied", which is what a wrong mode or owner gives. */
static int readable(const char *what, const char *path, char *why, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, len, "%s %s: %s", what, path, strerror(errno));
        return 0;
    }
    fclose(f);
    return 1;
}

static int leaf_valid_now(SSL_CTX *ctx, const char *path, char *why, size_t len)
{
    X509 *leaf = SSL_CTX_get0_certificate(ctx);
    char when[64];
    if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0) {
        format_time(X509_get0_notAfter(leaf), when, sizeof when);
        snprintf(why, len, "certificate %s expired on %s", path, when);
        return 0;
    }
    if (X509_cmp_current_time(X509_get0_notBefore(leaf)) >= 0) {
        format_time(X509_get0_notBefore(leaf), when, sizeof when);
        snprintf(why, len, "certificate %s is not valid before %s", path, when);
        return 0;
    }
    return 1;
}

static int ctx_setup(SSL_CTX *ctx, const gh_listen *l, const char **key, char *why, size_t len)
{
    *key = "certificate";
    if (!readable("certificate", l->tls_cert, why, len))
        return -1;
    if (SSL_CTX_use_certificate_chain_file(ctx, l->tls_cert) != 1) {
        snprintf(why, len, "certificate %s: no PEM certificate chain in it", l->tls_cert);
        return -1;
    }
    if (!leaf_valid_now(ctx, l->tls_cert, why, len))
        return -1;
    *key = "key";
    /* read apart from using it, to tell a bad file from a wrong key */
    FILE *f = fopen(l->tls_key, "r");
    if (!f) {
        snprintf(why, len, "key %s: %s", l->tls_key, strerror(errno));
        return -1;
    }
    EVP_PKEY *pkey = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
    fclose(f);
    if (!pkey) {
        snprintf(why, len, "key %s: no PEM private key in it (or one with a passphrase)",
                 l->tls_key);
        return -1;
    }
    /* with the certificate set, this checks the key is its pair */
    int paired = SSL_CTX_use_PrivateKey(ctx, pkey) == 1;
    EVP_PKEY_free(pkey);
    if (!paired) {
        snprintf(why, len, "key %s does not match certificate %s", l->tls_key, l->tls_cert);
        return -1;
    }
    if (l->tls_client_ca) {
        *key = "client_ca";
        if (!readable("client_ca", l->tls_client_ca, why, len))
            return -1;
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(l->tls_client_ca);
        if (!names || SSL_CTX_load_verify_locations(ctx, l->tls_client_ca, NULL) != 1) {
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            snprintf(why, len, "client_ca %s: no PEM certificate in it", l->tls_client_ca);
            return -1;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    *key = NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    /* with client certificates asked for, OpenSSL fails the handshake of
     * a client resuming a TLS 1.2 session unless the context has an id */
    static const unsigned char sid[] = "gatehouse";
    SSL_CTX_set_session_id_context(ctx, sid, sizeof sid - 1);
    SSL_CTX_set_dh_auto(ctx, 1);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    if (SSL_CTX_set_cipher_list(ctx, CIPHERS_TLS12) != 1) {
        snprintf(why, len, "OpenSSL knows none of the TLS 1.2 ciphers");
        return -1;
    }
    return 0;
}

/* A checked context for l, or NULL with why and the key of l's `tls:`
 * the failure is about (NULL: none in particular). */
static SSL_CTX *ctx_build(const gh_listen *l, const char **key, char *why, size_t len)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    *key = NULL;
    if (!ctx) {
        snprintf(why, len, "out of memory");
    } else if (ctx_setup(ctx, l, key, why, len) < 0) {
        SSL_CTX_free(ctx);
        ctx = NULL;
    }
    ERR_clear_error(); /* left on this thread, they would show up in an unrelated check */
    return ctx;
}

static int build_error(const gh_listen *l, const char *key, const char *why, char *err,
                       size_t errlen)
{
    const gh_node *tls = cfg_get(l->where, "tls");
    const gh_node *at = key && tls ? cfg_get(tls, key) : NULL;
    return cfg_error(err, errlen, at ? at : l->where, "server.listen: %s", why);
}

gh_tls *tls_new(const gh_listen *l, char *err, size_t errlen)
{
    char why[768];
    const char *key;
    SSL_CTX *ctx = ctx_build(l, &key, why, sizeof why);
    if (!ctx) {
        build_error(l, key, why, err, errlen);
        return NULL;
    }
    gh_tls *t = calloc(1, sizeof *t);
    if (!t) {
        SSL_CTX_free(ctx);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->l = l;
    t->ctx = ctx;
    pthread_mutex_init(&t->mu, NULL);
    return t;
}

int tls_reload(gh_tls *t, char *err, size_t errlen)
{
    const char *key;
    SSL_CTX *ctx = ctx_build(t->l, &key, err, errlen);
    if (!ctx)
        return -1;
    pthread_mutex_lock(&t->mu);
    SSL_CTX *old = t->ctx;
    t->ctx = ctx;
    pthread_mutex_unlock(&t->mu);
    SSL_CTX_free(old); /* open connections' SSLs hold their own references */
    return 0;
}

SSL *tls_ssl_new(gh_tls *t)
{
    pthread_mutex_lock(&t->mu);
    SSL *ssl = SSL_new(t->ctx);
    pthread_mutex_unlock(&t->mu);
    return ssl;
}

void tls_describe(gh_tls *t, char *buf, size_t len)
{
    pthread_mutex_lock(&t->mu);
    X509 *leaf = SSL_CTX_get0_certificate(t->ctx);
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    char until[64];
    format_time(X509_get0_notAfter(leaf), until, sizeof until);
    pthread_mutex_unlock(&t->mu);
    snprintf(buf, len, "serial %s, valid until %s", hex ? hex : "?", until);
    OPENSSL_free(hex);
    BN_free(bn);
}

void tls_free(gh_tls *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

int tls_check(const gh_config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < cfg->n_listen; i++) {
        if (!cfg->listen[i].tls_cert)
            continue;
        gh_tls *t = tls_new(&cfg->listen[i], err, errlen);
        if (!t)
            return -1;
        tls_free(t);
    }
    return 0;
}
