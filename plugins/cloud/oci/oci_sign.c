/*
 * oci_sign.c - Oracle Cloud's request signature (oci_sign.h), as its SDKs
 * make it: the listed headers as "name: value" lines, RSA-SHA256 over them
 * (PKCS#1 v1.5, deterministic, so Oracle's published vectors are matched
 * byte for byte by tests/unit/test_oci_sign.c), and the Authorization
 * header with its parameters in the Go SDK's order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "oci_sign.h"

/* OpenSSL's reason for the last failure, its queue then emptied so the
 * host's own OpenSSL calls do not see it. */
static const char *openssl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_peek_last_error();

    if (e)
        ERR_error_string_n(e, buf, len);
    else
        snprintf(buf, len, "unknown error");
    ERR_clear_error();
    return buf;
}

/* The passphrase of an encrypted key; none (-1) makes OpenSSL fail rather
 * than ask a terminal. */
static int passphrase_cb(char *buf, int size, int rwflag, void *u)
{
    const char *pass = u;
    size_t n;

    (void)rwflag;
    if (!pass)
        return -1;
    n = strlen(pass);
    if (n > (size_t)size)
        return -1;
    memcpy(buf, pass, n);
    return (int)n;
}

gh_result oci_key_load(const char *path, const char *passphrase, EVP_PKEY **key, char *why,
                       size_t len)
{
    char reason[256];
    FILE *f = fopen(path, "r");
    EVP_PKEY *k;

    *key = NULL;
    if (!f) {
        snprintf(why, len, "cannot read the private key %s", path);
        return GH_ERR_INVALID;
    }
    k = PEM_read_PrivateKey(f, NULL, passphrase_cb, (void *)passphrase);
    fclose(f);
    if (!k) {
        snprintf(why, len, "the private key %s cannot be read%s: %s", path,
                 passphrase ? " with the passphrase" : " (encrypted? give passphrase_file)",
                 openssl_reason(reason, sizeof reason));
        return GH_ERR_INVALID;
    }
    if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) {
        EVP_PKEY_free(k);
        snprintf(why, len, "the private key %s is not an RSA key", path);
        return GH_ERR_INVALID;
    }
    *key = k;
    return GH_OK;
}

gh_result oci_key_fingerprint(const gh_host *h, gh_call *call, EVP_PKEY *key,
                              char out[OCI_FINGERPRINT_LEN])
{
    unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    char why[256];
    int n = i2d_PUBKEY(key, &der);
    int ok = n > 0 && EVP_Digest(der, (size_t)n, md, &md_len, EVP_md5(), NULL) == 1 && md_len == 16;

    OPENSSL_free(der);
    if (!ok)
        return h->fail(call, GH_ERR_INTERNAL, "cannot compute the key's fingerprint: %s",
                       openssl_reason(why, sizeof why));
    for (unsigned int i = 0; i < md_len; i++)
        snprintf(out + 3 * i, 4, i + 1 < md_len ? "%02x:" : "%02x", md[i]);
    return GH_OK;
}

void oci_http_date(int64_t now_ms, char out[OCI_DATE_LEN])
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm); /* names spelt here: strftime's follow the locale */
    snprintf(out, OCI_DATE_LEN, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

gh_result oci_body_sha256(const gh_host *h, gh_call *call, const void *body, size_t len,
                          char out[OCI_SHA256_B64_LEN])
{
    unsigned char md[GH_DIGEST_MAX];
    size_t md_len, out_len;
    gh_result r = h->digest(call, GH_SHA256, body, len, md, sizeof md, &md_len);

    return r != GH_OK
               ? r
               : h->encode(call, GH_ENC_BASE64, md, md_len, out, OCI_SHA256_B64_LEN, &out_len);
}

/* Printable ASCII without spaces: what a request line or a Host header
 * may carry. A CR or LF would start a line of its own in the signing
 * string (and in the request), a space would split the request line. */
static int is_visible(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

static int is_method(const char *s)
{
    size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    return n > 0 && s[n] == '\0';
}

gh_result oci_signing_string(const gh_host *h, gh_call *call, const oci_sig_input *in, char **out)
{
    char method[16];
    size_t n = strlen(in->method), cap;
    char *s;
    int len;

    if (n >= sizeof method)
        return h->fail(call, GH_ERR_INVALID, "oci: method '%.16s' too long", in->method);
    /* what is signed must be what is sent, one header a line: refuse
     * rather than sign text that the request line or a header would
     * carry differently (their values are not logged: they may be hostile) */
    if (!is_method(in->method))
        return h->fail(call, GH_ERR_INVALID, "oci: the method is not a word of letters");
    if (in->target[0] != '/' || !is_visible(in->target))
        return h->fail(call, GH_ERR_INVALID,
                       "oci: the request target is not a path of visible ASCII characters");
    if (!in->host[0] || !is_visible(in->host))
        return h->fail(call, GH_ERR_INVALID, "oci: the host is not visible ASCII characters");
    for (size_t i = 0; i <= n; i++)
        method[i] =
            in->method[i] >= 'A' && in->method[i] <= 'Z' ? in->method[i] + 32 : in->method[i];
    cap = strlen(in->target) + strlen(in->host) + strlen(in->date) + 256;
    if (!(s = malloc(cap)))
        return h->fail(call, GH_ERR_NOMEM, "oci: out of memory");
    len = snprintf(s, cap, "date: %s\n(request-target): %s %s\nhost: %s", in->date, method,
                   in->target, in->host);
    if (in->body_sha256)
        snprintf(s + len, cap - (size_t)len,
                 "\ncontent-length: %zu\ncontent-type: application/json\nx-content-sha256: %s",
                 in->body_len, in->body_sha256);
    *out = s;
    return GH_OK;
}

/* base64(RSA-SHA256(text)) under key, from malloc. */
static gh_result rsa_sha256(const gh_host *h, gh_call *call, EVP_PKEY *key, const char *text,
                            char **out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *sig = NULL;
    size_t sig_len = 0, b64_len;
    char why[256], *b64 = NULL;
    gh_result r = GH_OK;

    if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(ctx, NULL, &sig_len, (const unsigned char *)text, strlen(text)) != 1 ||
        !(sig = malloc(sig_len)) ||
        EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)text, strlen(text)) != 1)
        r = h->fail(call, GH_ERR_INTERNAL, "oci: cannot sign the request: %s",
                    openssl_reason(why, sizeof why));
    else if (!(b64 = malloc(sig_len * 4 / 3 + 8)))
        r = h->fail(call, GH_ERR_NOMEM, "oci: out of memory");
    else
        r = h->encode(call, GH_ENC_BASE64, sig, sig_len, b64, sig_len * 4 / 3 + 8, &b64_len);
    EVP_MD_CTX_free(ctx);
    free(sig);
    if (r != GH_OK) {
        free(b64);
        return r;
    }
    *out = b64;
    return GH_OK;
}

gh_result oci_authorization(const gh_host *h, gh_call *call, EVP_PKEY *key, const char *key_id,
                            const oci_sig_input *in, char **out, char **signature)
{
    const char *headers = in->body_sha256 ? OCI_HEADERS_BODY : OCI_HEADERS_NO_BODY;
    char *text = NULL, *sig = NULL, *auth;
    size_t cap;
    gh_result r;

    if ((r = oci_signing_string(h, call, in, &text)) != GH_OK)
        return r;
    r = rsa_sha256(h, call, key, text, &sig);
    free(text);
    if (r != GH_OK)
        return r;
    cap = strlen(headers) + strlen(key_id) + strlen(sig) + 96;
    if (!(auth = malloc(cap))) {
        free(sig);
        return h->fail(call, GH_ERR_NOMEM, "oci: out of memory");
    }
    snprintf(auth, cap,
             "Signature version=\"1\",headers=\"%s\",keyId=\"%s\",algorithm=\"rsa-sha256\","
             "signature=\"%s\"",
             headers, key_id, sig);
    *out = auth;
    if (signature)
        *signature = sig;
    else
        free(sig);
    return GH_OK;
}

gh_result oci_sign_request(const gh_host *h, gh_call *call, EVP_PKEY *key, const char *key_id,
                           const char *method, const char *target, const char *host, int64_t now_ms,
                           const char *body, oci_signed_headers *out)
{
    char date[OCI_DATE_LEN], sha[OCI_SHA256_B64_LEN], *auth = NULL;
    oci_sig_input in = {method, target, host, date, body ? strlen(body) : 0, NULL};
    gh_result r;

    memset(out, 0, sizeof *out);
    /* the Host header must carry all of what the signature covers */
    if (strlen(host) > sizeof out->host - sizeof "Host: ")
        return h->fail(call, GH_ERR_INVALID, "oci: the host is longer than %zu bytes",
                       sizeof out->host - sizeof "Host: ");
    oci_http_date(now_ms, date);
    if (body && (r = oci_body_sha256(h, call, body, strlen(body), sha)) != GH_OK)
        return r;
    if (body) {
        in.body_sha256 = sha;
        snprintf(out->content_type, sizeof out->content_type, "Content-Type: application/json");
        snprintf(out->content_length, sizeof out->content_length, "Content-Length: %zu",
                 strlen(body));
        snprintf(out->content_sha256, sizeof out->content_sha256, "x-content-sha256: %s", sha);
    }
    if ((r = oci_authorization(h, call, key, key_id, &in, &auth, NULL)) != GH_OK)
        return r;
    if (!(out->authorization = malloc(strlen(auth) + sizeof "Authorization: "))) {
        free(auth);
        return h->fail(call, GH_ERR_NOMEM, "oci: out of memory");
    }
    sprintf(out->authorization, "Authorization: %s", auth);
    free(auth);
    snprintf(out->date, sizeof out->date, "Date: %s", date);
    snprintf(out->host, sizeof out->host, "Host: %s", host);
    return GH_OK;
}

size_t oci_signed_header_params(const oci_signed_headers *hd, gh_param *req)
{
    const char *lines[OCI_SIGNED_HEADERS] = {hd->date,           hd->host,
                                             hd->authorization,  hd->content_type,
                                             hd->content_length, hd->content_sha256};
    size_t n = 0;

    for (size_t i = 0; i < OCI_SIGNED_HEADERS; i++)
        if (lines[i] && lines[i][0])
            req[n++] = (gh_param){"header", GH_T_STR, lines[i], strlen(lines[i])};
    return n;
}

void oci_signed_headers_free(oci_signed_headers *hd)
{
    free(hd->authorization); /* a signature, not a secret: nothing to wipe */
    hd->authorization = NULL;
}
