/*
 * webhook_sig.c - Standard Webhooks secrets and signatures
 * (webhook_sig.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "auth/tokens.h"
#include "auth/webhook_sig.h"

#define TAG_LEN (sizeof WEBHOOK_SECRET_TAG - 1)
#define MAC_LEN 32
/* at most 12 digits: past year 30000, and no overflow */
#define TIMESTAMP_DIGITS_MAX 12

int webhook_secret_new(char out[WEBHOOK_SECRET_LEN])
{
    unsigned char key[WEBHOOK_KEY_BYTES];
    if (RAND_bytes(key, sizeof key) != 1)
        return -1;
    memcpy(out, WEBHOOK_SECRET_TAG, TAG_LEN);
    EVP_EncodeBlock((unsigned char *)out + TAG_LEN, key, sizeof key);
    OPENSSL_cleanse(key, sizeof key);
    return 0;
}

/* Standard base64 (padding optional) of text[0..n) into out: its length,
 * or -1. Strict: the base64url decoder, after mapping the alphabet. */
static int base64_decode(const char *text, size_t n, unsigned char *out, size_t room)
{
    char url[4 * ((WEBHOOK_KEY_MAX + 2) / 3) + 1];
    size_t written = 0;
    for (int pad = 0; pad < 2 && n > 0 && text[n - 1] == '='; pad++)
        n--;
    if (n == 0 || n >= sizeof url)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char ch = text[i];
        if (ch == '-' || ch == '_' || ch == '=')
            return -1;
        url[i] = ch == '+' ? '-' : ch == '/' ? '_' : ch;
    }
    int rc = b64url_decode(url, n, out, room, &written) == 0 ? (int)written : -1;
    OPENSSL_cleanse(url, sizeof url);
    return rc;
}

int webhook_secret_key(const char *secret, unsigned char key[WEBHOOK_KEY_MAX])
{
    if (!secret || strncmp(secret, WEBHOOK_SECRET_TAG, TAG_LEN) != 0)
        return -1;
    return base64_decode(secret + TAG_LEN, strlen(secret + TAG_LEN), key, WEBHOOK_KEY_MAX);
}

int webhook_id_valid(const char *id)
{
    size_t n = 0;
    if (!id)
        return 0;
    for (; id[n]; n++)
        if ((unsigned char)id[n] <= ' ' || (unsigned char)id[n] >= 0x7f || n >= WEBHOOK_ID_MAX)
            return 0;
    return n > 0;
}

/* HMAC-SHA256 of "id.timestamp.body" under secret's key into mac. 0, or -1. */
static int webhook_mac(const char *secret, const char *id, const char *timestamp,
                       const void *body, size_t len, unsigned char mac[MAC_LEN])
{
    unsigned char key[WEBHOOK_KEY_MAX];
    int klen = webhook_secret_key(secret, key);
    EVP_MAC *hmac = klen > 0 ? EVP_MAC_fetch(NULL, "HMAC", NULL) : NULL;
    EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    size_t n = 0;
    int ok = ctx && EVP_MAC_init(ctx, key, (size_t)klen, params) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)id, strlen(id)) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)".", 1) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)timestamp, strlen(timestamp)) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)".", 1) == 1 &&
             (len == 0 || EVP_MAC_update(ctx, body, len) == 1) &&
             EVP_MAC_final(ctx, mac, &n, MAC_LEN) == 1 && n == MAC_LEN;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(hmac);
    OPENSSL_cleanse(key, sizeof key);
    return ok ? 0 : -1;
}

int webhook_sign(const char *secret, const char *id, int64_t timestamp, const void *body,
                 size_t len, char out[WEBHOOK_SIG_LEN])
{
    unsigned char mac[MAC_LEN];
    char ts[24];
    snprintf(ts, sizeof ts, "%lld", (long long)timestamp);
    if (!webhook_id_valid(id) || webhook_mac(secret, id, ts, body, len, mac) < 0)
        return -1;
    memcpy(out, "v1,", 3);
    EVP_EncodeBlock((unsigned char *)out + 3, mac, MAC_LEN);
    return 0;
}

/* The seconds of a webhook-timestamp: digits only. -1 if it is not. */
static int64_t timestamp_parse(const char *s)
{
    size_t n = strspn(s, "0123456789");
    if (n == 0 || n > TIMESTAMP_DIGITS_MAX || s[n] != '\0')
        return -1;
    return strtoll(s, NULL, 10);
}

/* 1 when one of the space-separated "v1,<base64>" in list is mac. Every
 * entry is looked at, so the time taken does not say which matched. */
static int signature_listed(const char *list, const unsigned char mac[MAC_LEN])
{
    int found = 0;
    while (*list) {
        size_t n = strcspn(list, " ");
        unsigned char got[WEBHOOK_KEY_MAX];
        /* other versions (v1a: asymmetric) are not ours to check */
        if (n > 3 && strncmp(list, "v1,", 3) == 0 &&
            base64_decode(list + 3, n - 3, got, sizeof got) == MAC_LEN)
            found |= CRYPTO_memcmp(got, mac, MAC_LEN) == 0;
        list += n;
        list += strspn(list, " ");
    }
    return found;
}

webhook_check webhook_verify(const char *secret, const char *id, const char *timestamp,
                             const char *signatures, const void *body, size_t len,
                             int64_t now_s)
{
    unsigned char mac[MAC_LEN];
    if (!webhook_id_valid(id) || !timestamp || !signatures)
        return WEBHOOK_SIG_MISSING;
    int64_t ts = timestamp_parse(timestamp);
    if (ts < 0)
        return WEBHOOK_SIG_TIMESTAMP;
    if (ts < now_s - WEBHOOK_TOLERANCE_S || ts > now_s + WEBHOOK_TOLERANCE_S)
        return WEBHOOK_SIG_STALE;
    if (webhook_mac(secret, id, timestamp, body, len, mac) < 0)
        return WEBHOOK_SIG_ERROR;
    int ok = signature_listed(signatures, mac);
    OPENSSL_cleanse(mac, sizeof mac);
    return ok ? WEBHOOK_SIG_OK : WEBHOOK_SIG_MISMATCH;
}
