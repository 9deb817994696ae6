/*
 * oci_sign.h - Oracle Cloud's request signature (draft-cavage-http-
 * signatures-08, "version 1", RSA-SHA256): the signing string, the
 * signature, the Authorization header, and the API key with its
 * fingerprint. No state: the key is the caller's.
 */
#ifndef GH_OCI_SIGN_H
#define GH_OCI_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <gatehouse/plugin.h>

#define OCI_FINGERPRINT_LEN 48 /* 16 bytes as colon-hex, and the NUL */
#define OCI_SHA256_B64_LEN 45  /* base64 of 32 bytes, and the NUL */
#define OCI_DATE_LEN 40        /* "Thu, 05 Jan 2014 21:31:40 GMT", room for any year */

/* The headers signed, in order, without and with a body (POST, PUT, PATCH). */
#define OCI_HEADERS_NO_BODY "date (request-target) host"
#define OCI_HEADERS_BODY "date (request-target) host content-length content-type x-content-sha256"

/* What one request signs. body_sha256 NULL: a request without a body. */
typedef struct oci_sig_input {
    const char *method; /* "GET", "POST": lower-cased in the string */
    const char *target; /* path and query as sent: "/20160918/groups?name=x" */
    const char *host;   /* the Host header: "identity.x.oraclecloud.com[:port]" */
    const char *date;   /* IMF-fixdate */
    size_t body_len;
    const char *body_sha256; /* base64 SHA-256 of the body */
} oci_sig_input;

/* The key at path (PEM, PKCS#1 or PKCS#8, encrypted when passphrase is
 * not NULL), which must be RSA. GH_ERR_INVALID with why (len bytes)
 * naming the path and the cause, never the key. */
gh_result oci_key_load(const char *path, const char *passphrase, EVP_PKEY **key, char *why,
                       size_t len);
/* The colon-hex MD5 of the key's DER SubjectPublicKeyInfo, as OCI shows it. */
gh_result oci_key_fingerprint(const gh_host *h, gh_call *call, EVP_PKEY *key,
                              char out[OCI_FINGERPRINT_LEN]);
/* now_ms (Unix ms) as an HTTP date. */
void oci_http_date(int64_t now_ms, char out[OCI_DATE_LEN]);
/* base64(SHA-256(body)): x-content-sha256. */
gh_result oci_body_sha256(const gh_host *h, gh_call *call, const void *body, size_t len,
                          char out[OCI_SHA256_B64_LEN]);
/* The signing string, lines joined by "\n" without a last one; from malloc. */
gh_result oci_signing_string(const gh_host *h, gh_call *call, const oci_sig_input *in, char **out);
/* The Authorization header's value, `Signature version="1",keyId=...`,
 * for in under key; from malloc. signature (may be NULL) gets the
 * base64 signature alone, from malloc. */
gh_result oci_authorization(const gh_host *h, gh_call *call, EVP_PKEY *key, const char *key_id,
                            const oci_sig_input *in, char **out, char **signature);

/* The headers of a signed request, each "Name: value" as host->http's
 * "header" takes it; the body's three only for a request with a body. */
typedef struct oci_signed_headers {
    char date[64];
    char host[320];
    char content_type[40];
    char content_length[48];
    char content_sha256[80];
    char *authorization; /* from malloc; the header with the signature */
} oci_signed_headers;

/* Sign method target (path and query as sent) for host, at now_ms, with
 * body (NULL: none) into *out (release with oci_signed_headers_free). */
gh_result oci_sign_request(const gh_host *h, gh_call *call, EVP_PKEY *key, const char *key_id,
                           const char *method, const char *target, const char *host, int64_t now_ms,
                           const char *body, oci_signed_headers *out);
/* Put out's headers into req as "header" params; how many were put (at
 * most OCI_SIGNED_HEADERS). */
#define OCI_SIGNED_HEADERS 6
size_t oci_signed_header_params(const oci_signed_headers *hd, gh_param *req);
void oci_signed_headers_free(oci_signed_headers *hd);

#endif
