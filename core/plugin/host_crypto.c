/*
 * host_crypto.c - host->digest, host->hmac, host->equal_ct: the primitives
 * TOTP, webhook signatures, Facebook's appsecret_proof and request signing
 * need, over the daemon's own OpenSSL, so that no plugin links libcrypto.
 *
 * The output goes into the plugin's buffer, checked for room first: a
 * digest never writes past out_size, and a failure leaves *out_len 0.
 */
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "plugin/host.h"

/* The OpenSSL digest of a gh_digest_alg, or NULL. */
static const EVP_MD *digest_md(uint32_t alg)
{
    switch (alg) {
    case GH_SHA1:
        return EVP_sha1();
    case GH_SHA256:
        return EVP_sha256();
    case GH_SHA384:
        return EVP_sha384();
    case GH_SHA512:
        return EVP_sha512();
    default:
        return NULL;
    }
}

/* The checks digest and hmac share; on GH_OK *md is the digest to use. */
static gh_result digest_args(gh_call *call, const char *who, uint32_t alg, const void *data,
                             size_t len, const void *out, size_t out_size, size_t *out_len,
                             const EVP_MD **md)
{
    const gh_host *h = &gh_host_table;

    if (out_len)
        *out_len = 0;
    if (!(*md = digest_md(alg)))
        return h->fail(call, GH_ERR_UNSUPPORTED, "%s: unknown algorithm %u", who, alg);
    if ((!data && len) || !out || !out_len)
        return h->fail(call, GH_ERR_INVALID, "%s: no data or no output", who);
    if (out_size < (size_t)EVP_MD_get_size(*md))
        return h->fail(call, GH_ERR_INVALID, "%s: output needs %d bytes, has %zu", who,
                       EVP_MD_get_size(*md), out_size);
    return GH_OK;
}

gh_result host_digest(gh_call *call, uint32_t alg, const void *data, size_t len, void *out,
                      size_t out_size, size_t *out_len)
{
    const EVP_MD *md;
    unsigned int n = 0;
    gh_result r = digest_args(call, "digest", alg, data, len, out, out_size, out_len, &md);

    if (r != GH_OK)
        return r;
    if (EVP_Digest(data ? data : "", len, out, &n, md, NULL) != 1)
        return gh_host_table.fail(call, GH_ERR_INTERNAL, "digest: OpenSSL failed");
    *out_len = n;
    return GH_OK;
}

gh_result host_hmac(gh_call *call, uint32_t alg, const void *key, size_t key_len, const void *data,
                    size_t len, void *out, size_t out_size, size_t *out_len)
{
    const EVP_MD *md;
    unsigned int n = 0;
    gh_result r = digest_args(call, "hmac", alg, data, len, out, out_size, out_len, &md);

    if (r != GH_OK)
        return r;
    if ((!key && key_len) || key_len > INT_MAX)
        return gh_host_table.fail(call, GH_ERR_INVALID, "hmac: no key");
    if (!HMAC(md, key ? key : "", (int)key_len, data ? data : (const void *)"", len, out, &n))
        return gh_host_table.fail(call, GH_ERR_INTERNAL, "hmac: OpenSSL failed");
    *out_len = n;
    return GH_OK;
}

int host_equal_ct(const void *a, const void *b, size_t len)
{
    if (!len)
        return 1;
    return a && b && CRYPTO_memcmp(a, b, len) == 0;
}
