/*
 * webhook_sig.h - Standard Webhooks signatures (standardwebhooks.com),
 * for incoming webhooks (checked here) and outgoing ones (signed the same
 * way).
 *
 * A signing secret is "whsec_" + base64 of WEBHOOK_KEY_BYTES random
 * bytes; the key is those bytes. A message is signed over
 *   "<webhook-id>.<webhook-timestamp>.<body>"
 * with HMAC-SHA256, sent as "v1,<base64 of the MAC>" in webhook-signature,
 * which may list several such, space-separated (a sender rotating its
 * secret signs with both): one that matches is enough. The timestamp is
 * in seconds and must be within WEBHOOK_TOLERANCE_S of ours, so a
 * captured message cannot be replayed later; within that window the
 * receiver refuses an id it has seen.
 */
#ifndef GH_WEBHOOK_SIG_H
#define GH_WEBHOOK_SIG_H

#include <stddef.h>
#include <stdint.h>

#define WEBHOOK_SECRET_TAG "whsec_"
#define WEBHOOK_KEY_BYTES 24
/* "whsec_" + base64 of 24 bytes (32 characters) + NUL */
#define WEBHOOK_SECRET_LEN (sizeof WEBHOOK_SECRET_TAG - 1 + 32 + 1)
/* a secret's key may come from elsewhere (a sender's): up to 64 bytes */
#define WEBHOOK_KEY_MAX 64
/* "v1," + base64 of 32 bytes (44 characters) + NUL */
#define WEBHOOK_SIG_LEN (3 + 44 + 1)
#define WEBHOOK_TOLERANCE_S 300
/* webhook-id: 1 to this many printable ASCII characters, no space */
#define WEBHOOK_ID_MAX 255

typedef enum webhook_check {
    WEBHOOK_SIG_OK = 0,
    WEBHOOK_SIG_MISSING,    /* a header is absent, or the id malformed */
    WEBHOOK_SIG_TIMESTAMP,  /* not a number of seconds */
    WEBHOOK_SIG_STALE,      /* outside the tolerance, either way */
    WEBHOOK_SIG_MISMATCH,   /* no listed signature matches */
    WEBHOOK_SIG_ERROR,      /* the secret is unusable, or HMAC failed */
} webhook_check;

/* A new random secret into out. 0, or -1 (no random bytes). */
int webhook_secret_new(char out[WEBHOOK_SECRET_LEN]);
/* The key of secret ("whsec_<base64>") into key: its length, or -1 when
 * secret is not of that shape. */
int webhook_secret_key(const char *secret, unsigned char key[WEBHOOK_KEY_MAX]);
/* 1 when id is a usable webhook-id. */
int webhook_id_valid(const char *id);

/* The signature of (id, timestamp, body) under secret into out,
 * "v1,<base64>": what a sender puts in webhook-signature. 0, or -1. */
int webhook_sign(const char *secret, const char *id, int64_t timestamp, const void *body,
                 size_t len, char out[WEBHOOK_SIG_LEN]);
/* Check the three headers' values (NULL when absent) and body against
 * secret at now_s; MACs are compared in constant time. */
webhook_check webhook_verify(const char *secret, const char *id, const char *timestamp,
                             const char *signatures, const void *body, size_t len,
                             int64_t now_s);

#endif
