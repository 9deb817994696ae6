/*
 * pii.c - field encryption (AES-256-GCM) and blind indexes (HMAC-SHA-256)
 * for personal data, over OpenSSL EVP. See pii.h for the formats.
 *
 * Nonces are 96 random bits per value (RAND_bytes): with one key this is
 * safe for far more than 2^32 encryptions, more writes than an account
 * table sees; rotation (a new key) resets the count anyway.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include "auth/pii.h"

#define NONCE_LEN 12
#define TAG_LEN 16
#define MAX_KEYS 64
#define PLAIN_MAX 4096          /* a name or an address; more is not ours */

typedef struct pii_key {
    char kid[PII_KID_MAX + 1];
    uint8_t key[PII_KEY_LEN];
} pii_key;

struct gh_pii {
    uint8_t index_key[PII_KEY_LEN];
    pii_key keys[MAX_KEYS];
    size_t n;
};

static _Atomic(gh_pii *) installed;

/* ---------------------------------------------------------------- keyring */

gh_pii *pii_new(const uint8_t index_key[PII_KEY_LEN])
{
    gh_pii *p = calloc(1, sizeof(*p));

    if (p != NULL)
        memcpy(p->index_key, index_key, PII_KEY_LEN);
    return p;
}

int pii_kid_ok(const char *kid)
{
    size_t n = kid ? strlen(kid) : 0;

    if (n == 0 || n > PII_KID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = kid[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

static const pii_key *find_key(const gh_pii *p, const char *kid, size_t len)
{
    for (size_t i = 0; i < p->n; i++)
        if (strlen(p->keys[i].kid) == len && memcmp(p->keys[i].kid, kid, len) == 0)
            return &p->keys[i];
    return NULL;
}

int pii_add_key(gh_pii *p, const char *kid, const uint8_t key[PII_KEY_LEN])
{
    if (p == NULL || !pii_kid_ok(kid) || p->n == MAX_KEYS || find_key(p, kid, strlen(kid)))
        return -1;
    strcpy(p->keys[p->n].kid, kid);
    memcpy(p->keys[p->n].key, key, PII_KEY_LEN);
    p->n++;
    return 0;
}

void pii_free(gh_pii *p)
{
    if (p == NULL)
        return;
    OPENSSL_cleanse(p, sizeof(*p));
    free(p);
}

const char *pii_newest_kid(const gh_pii *p)
{
    return p != NULL && p->n > 0 ? p->keys[p->n - 1].kid : NULL;
}

void pii_install(gh_pii *p)
{
    atomic_store_explicit(&installed, p, memory_order_release);
}

gh_pii *pii_current(void)
{
    return atomic_load_explicit(&installed, memory_order_acquire);
}

/* ---------------------------------------------------------------- base64url */

/* Unpadded base64url of in[0..len) into a malloc'd string. */
static char *b64url_encode(const uint8_t *in, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    int n;

    if (out == NULL)
        return NULL;
    n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
    for (char *c = out; *c; c++)
        *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
    return out;
}

/* Base64, standard or url-safe, padded or not, into out (cap bytes):
 * the decoded length, or -1 for anything malformed or too long. */
static int b64_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
    size_t pad = 0, padded;
    char *tmp;
    int n;

    while (len > 0 && in[len - 1] == '=')
        len--, pad++;
    if (pad > 2 || len % 4 == 1 || (len * 3) / 4 > cap)
        return -1;
    padded = (len + 3) / 4 * 4;
    if ((tmp = malloc(padded + 1)) == NULL)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char ch = in[i];

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '+' || ch == '/' || ch == '-' || ch == '_')) {
            free(tmp);
            return -1;
        }
        tmp[i] = ch == '-' ? '+' : ch == '_' ? '/' : ch;
    }
    memset(tmp + len, '=', padded - len);
    tmp[padded] = '\0';
    /* EVP_DecodeBlock counts the bytes the padding stands for: take them off */
    uint8_t *buf = malloc(padded / 4 * 3 + 1);
    n = buf ? EVP_DecodeBlock(buf, (unsigned char *)tmp, (int)padded) : -1;
    if (n >= 0) {
        n -= (int)(padded - len);
        if ((size_t)n > cap)
            n = -1;
        else
            memcpy(out, buf, (size_t)n);
    }
    if (buf != NULL)
        OPENSSL_cleanse(buf, padded / 4 * 3 + 1);
    free(buf);
    OPENSSL_cleanse(tmp, padded);
    free(tmp);
    return n;
}

static int hex_value(char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0'
         : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
         : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

int pii_key_decode(const char *text, uint8_t key[PII_KEY_LEN], const char **why)
{
    size_t len;
    int ok = 1;

    while (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n')
        text++;
    len = strlen(text);
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' ||
                       text[len - 1] == '\r' || text[len - 1] == '\n'))
        len--;
    if (len == 2 * PII_KEY_LEN) {
        for (size_t i = 0; ok && i < PII_KEY_LEN; i++) {
            int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);

            ok = hi >= 0 && lo >= 0;
            key[i] = (uint8_t)(hi << 4 | lo);
        }
        if (ok)
            return 0;
    }
    if (b64_decode(text, len, key, PII_KEY_LEN) == PII_KEY_LEN)
        return 0;
    OPENSSL_cleanse(key, PII_KEY_LEN);
    *why = "a key must be 32 bytes in base64 (e.g. `openssl rand -base64 32`) or 64 hex digits";
    return -1;
}

/* ---------------------------------------------------------------- AES-GCM */

/* "<col>:<row>", the AAD that binds a value to its place */
static char *make_aad(const char *col, const char *row, size_t *len)
{
    size_t lc = strlen(col), lr = strlen(row);
    char *aad = malloc(lc + lr + 2);

    if (aad == NULL)
        return NULL;
    memcpy(aad, col, lc);
    aad[lc] = ':';
    memcpy(aad + lc + 1, row, lr + 1);
    *len = lc + lr + 1;
    return aad;
}

/* One GCM pass: enc 1 encrypts in -> out and writes tag, enc 0 decrypts
 * and checks tag. 0, or -1 (for decryption: the value is not authentic). */
static int gcm(int enc, const uint8_t *key, const uint8_t *nonce, const char *aad, size_t aadlen,
               const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, ok;

    ok = ctx != NULL &&
         EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
         EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) == 1 &&
         EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)aadlen) == 1 &&
         EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1;
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1;
    ok = ok && EVP_CipherFinal_ex(ctx, out + n, &n) == 1;
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

static char *seal(const pii_key *k, const char *aad, size_t aadlen, const char *plain,
                  size_t len)
{
    size_t blen = NONCE_LEN + len + TAG_LEN;
    uint8_t *blob = malloc(blen);
    char *b64 = NULL, *out = NULL;

    if (blob != NULL && RAND_bytes(blob, NONCE_LEN) == 1 &&
        gcm(1, k->key, blob, aad, aadlen, (const uint8_t *)plain, len, blob + NONCE_LEN,
            blob + NONCE_LEN + len) == 0)
        b64 = b64url_encode(blob, blen);
    if (b64 != NULL && (out = malloc(strlen(PII_PREFIX) + strlen(k->kid) + strlen(b64) + 2)))
        strcat(strcat(strcat(strcpy(out, PII_PREFIX), k->kid), ":"), b64);
    free(b64);
    free(blob);
    return out;
}

char *pii_encrypt(const gh_pii *p, const char *col, const char *row, const char *plain,
                  size_t len, const char **why)
{
    size_t aadlen;
    char *aad, *out;

    if (p == NULL || p->n == 0) {
        *why = "no encryption key";
        return NULL;
    }
    if (len > PLAIN_MAX) {
        *why = "value too long to encrypt";
        return NULL;
    }
    if ((aad = make_aad(col, row, &aadlen)) == NULL) {
        *why = "out of memory";
        return NULL;
    }
    out = seal(&p->keys[p->n - 1], aad, aadlen, plain, len);
    free(aad);
    if (out == NULL)
        *why = "encryption failed";
    return out;
}

int pii_is_encrypted(const char *v)
{
    return v != NULL && strncmp(v, PII_PREFIX, strlen(PII_PREFIX)) == 0;
}

int pii_is_index(const char *v)
{
    return v != NULL && strncmp(v, PII_INDEX_PREFIX, strlen(PII_INDEX_PREFIX)) == 0;
}

/* "gh1:<kid>:<b64>": the kid's start and length and the base64's start. */
static int parse(const char *v, const char **kid, size_t *kidlen, const char **b64)
{
    const char *k, *colon;

    if (!pii_is_encrypted(v))
        return -1;
    k = v + strlen(PII_PREFIX);
    if ((colon = strchr(k, ':')) == NULL || colon == k || colon - k > PII_KID_MAX)
        return -1;
    *kid = k;
    *kidlen = (size_t)(colon - k);
    *b64 = colon + 1;
    return 0;
}

int pii_kid_of(const char *v, char *kid)
{
    const char *k, *b64;
    size_t n;

    if (parse(v, &k, &n, &b64) < 0)
        return -1;
    memcpy(kid, k, n);
    kid[n] = '\0';
    return 0;
}

static int open_blob(const pii_key *k, const char *aad, size_t aadlen, const uint8_t *blob,
                     size_t blen, char **out)
{
    size_t len = blen - NONCE_LEN - TAG_LEN;
    uint8_t tag[TAG_LEN];
    char *plain = malloc(len + 1);

    if (plain == NULL)
        return -1;
    memcpy(tag, blob + NONCE_LEN + len, TAG_LEN);
    if (gcm(0, k->key, blob, aad, aadlen, blob + NONCE_LEN, len, (uint8_t *)plain, tag) < 0) {
        OPENSSL_cleanse(plain, len + 1);
        free(plain);
        return -1;
    }
    plain[len] = '\0';
    *out = plain;
    return 0;
}

/* The checks before any key is used; the AEAD does the rest. */
static int decrypt_parsed(const pii_key *k, const char *col, const char *row, const char *b64,
                          char **out, const char **why)
{
    size_t b64len = strlen(b64), cap = b64len / 4 * 3 + 3, aadlen = 0;
    uint8_t *blob = malloc(cap);
    char *aad = make_aad(col, row, &aadlen);
    int n = blob ? b64_decode(b64, b64len, blob, cap) : -1, rc = -1;

    /* one spelling per value: the last character's unused bits may not
     * vary (a decoder that ignores them reads two texts as one) */
    if (n > 0) {
        char *again = b64url_encode(blob, (size_t)n);
        if (again == NULL || strcmp(again, b64) != 0)
            n = -1;
        free(again);
    }
    *why = "damaged value";
    if (blob == NULL || aad == NULL)
        *why = "out of memory";
    else if (n >= NONCE_LEN + TAG_LEN && (size_t)n - NONCE_LEN - TAG_LEN <= PLAIN_MAX)
        rc = open_blob(k, aad, aadlen, blob, (size_t)n, out);
    if (rc < 0 && n >= NONCE_LEN + TAG_LEN && blob && aad)
        *why = "value does not authenticate (damaged, or moved from another row or column)";
    free(aad);
    free(blob);
    return rc;
}

int pii_decrypt(const gh_pii *p, const char *col, const char *row, const char *v, char **out,
                const char **why)
{
    const char *kid, *b64;
    const pii_key *k;
    size_t kidlen;

    *out = NULL;
    if (!pii_is_encrypted(v)) {
        if ((*out = strdup(v)) == NULL)
            *why = "out of memory";
        return *out ? 0 : -1;
    }
    if (parse(v, &kid, &kidlen, &b64) < 0) {
        *why = "malformed encrypted value";
        return -1;
    }
    if (p == NULL) {
        *why = "value is encrypted but encryption.keys is not configured";
        return -1;
    }
    if ((k = find_key(p, kid, kidlen)) == NULL) {
        *why = "value is encrypted with a key id that encryption.keys does not have";
        return -1;
    }
    return decrypt_parsed(k, col, row, b64, out, why);
}

/* ---------------------------------------------------------------- index */

int pii_blind_index(const gh_pii *p, const char *domain, const char *norm,
                    char out[PII_INDEX_LEN])
{
    static const char hex[] = "0123456789abcdef";
    size_t ld = strlen(domain), ln = strlen(norm);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char *msg;

    out[0] = '\0';
    if (p == NULL || (msg = malloc(ld + ln + 1)) == NULL)
        return -1;
    /* the domain keeps an address and a username that are the same text
     * from having the same index */
    memcpy(msg, domain, ld);
    msg[ld] = ':';
    memcpy(msg + ld + 1, norm, ln);
    if (HMAC(EVP_sha256(), p->index_key, PII_KEY_LEN, (const unsigned char *)msg, ld + 1 + ln,
             md, &mdlen) == NULL || mdlen != 32) {
        free(msg);
        return -1;
    }
    OPENSSL_cleanse(msg, ld + ln + 1);
    free(msg);
    memcpy(out, PII_INDEX_PREFIX, 4);
    for (unsigned int i = 0; i < mdlen; i++) {
        out[4 + 2 * i] = hex[md[i] >> 4];
        out[4 + 2 * i + 1] = hex[md[i] & 15];
    }
    out[4 + 2 * mdlen] = '\0';
    return 0;
}
