/*
 * secret.c - random secrets, their digests, random ids, and base64url.
 *
 * Refresh tokens and one-time tokens are 32 bytes from OpenSSL's CSPRNG,
 * sent as base64url. Only their SHA-256 digest is stored: a database leak
 * then hands out nothing that can be presented, and since the secret has
 * 256 bits of entropy a plain (unsalted, fast) hash is enough.
 *
 * base64url here is JOSE's (RFC 7515 section 2): the URL-safe alphabet and
 * no padding. The decoder is strict on purpose - no whitespace, no padding,
 * no stray bits in the last character - so that one byte string has exactly
 * one encoding and a token cannot be altered without changing its text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "auth/tokens.h"

size_t b64url_encode(const void *in, size_t len, char *out, size_t outlen)
{
    const unsigned char *src = in;
    size_t whole = len / 3 * 3, n;
    unsigned char tail[5];

    if (len > (size_t)INT32_MAX / 2 || outlen < GH_B64URL_LEN(len))
        return 0;
    /* EVP_EncodeBlock pads the last group: encode it apart, unpadded */
    n = (size_t)EVP_EncodeBlock((unsigned char *)out, src, (int)whole);
    if (len > whole) {
        EVP_EncodeBlock(tail, src + whole, (int)(len - whole));
        memcpy(out + n, tail, len - whole + 1);
        n += len - whole + 1;
    }
    out[n] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
    return n;
}

/* The 6-bit value of a base64url character, or -1. */
static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int b64url_decode(const char *in, size_t len, unsigned char *out, size_t outlen, size_t *written)
{
    size_t need = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    uint32_t acc = 0;
    size_t o = 0;
    int bits = 0;

    /* a lone character in the last group cannot carry a whole byte */
    if (len % 4 == 1 || need > outlen)
        return -1;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* non-canonical: the leftover bits must be zero */
        return -1;
    *written = o;
    return 0;
}

int secret_new(char out[GH_SECRET_LEN])
{
    unsigned char raw[32];

    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        out[0] = '\0';
        return -1;
    }
    b64url_encode(raw, sizeof(raw), out, GH_SECRET_LEN);
    OPENSSL_cleanse(raw, sizeof(raw));
    return 0;
}

void secret_digest(const char *secret, char out[GH_DIGEST_LEN])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdlen = 0;

    if (EVP_Digest(secret, strlen(secret), md, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen != sizeof(md)) {
        /* never return something that could match a stored digest */
        memset(out, 'x', GH_DIGEST_LEN - 1);
        out[GH_DIGEST_LEN - 1] = '\0';
        return;
    }
    for (size_t i = 0; i < sizeof(md); i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

void uuid_new(char out[37])
{
    unsigned char b[16];

    /* A predictable id is worse than no id; the CSPRNG failing once the
     * process is running means the system is broken. */
    if (RAND_bytes(b, sizeof(b)) != 1) {
        fputs("gatehouse: the random number generator failed\n", stderr);
        abort();
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
             b[12], b[13], b[14], b[15]);
}
