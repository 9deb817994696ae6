/*
 * pii.h - personal data encrypted at rest: AES-256-GCM field encryption
 * with the key id inside each value, and a keyed blind index (HMAC-SHA-256
 * of the normalised value) so that encrypted addresses and usernames can
 * still be looked up and kept unique.
 *
 *   ciphertext   "gh1:<kid>:<base64url(nonce 12 | ciphertext | tag 16)>"
 *   blind index  "bi1:<hex HMAC-SHA-256(index key, "<domain>:" + value)>"
 *
 * The AAD of each value is "<column>:<row id>", so a value copied to
 * another row or column does not decrypt. The index key is separate from
 * the encryption keys and never rotates: rotating it would change every
 * index, and lookups would stop finding rows until all were rewritten.
 *
 * One keyring per process, installed at start-up (pii_install) and read
 * by any thread; NULL means encryption is off. Values without the "gh1:"
 * prefix are clear text and are read as they are, so a database can be
 * switched on while `gatehousectl reencrypt` moves its rows.
 */
#ifndef GH_PII_H
#define GH_PII_H

#include <stddef.h>
#include <stdint.h>

struct gh_config; /* config.h; config.c checks key text with this header */

#define PII_KEY_LEN 32          /* AES-256 and the HMAC key alike */
#define PII_KID_MAX 32          /* key ids: 1..32 of [A-Za-z0-9._-] */
#define PII_INDEX_LEN (4 + 64 + 1) /* "bi1:" + hex digest + NUL */
#define PII_PREFIX "gh1:"
#define PII_INDEX_PREFIX "bi1:"

typedef struct gh_pii gh_pii;

/* An empty keyring with its index key; add encryption keys oldest first. */
gh_pii *pii_new(const uint8_t index_key[PII_KEY_LEN]);
/* 0, or -1: a bad or repeated kid, or out of memory. The last one added
 * encrypts. */
int pii_add_key(gh_pii *p, const char *kid, const uint8_t key[PII_KEY_LEN]);
void pii_free(gh_pii *p); /* wipes the keys */

/* Key material as written in a key file or the config: 32 bytes in base64
 * (standard or url-safe, padding optional) or in 64 hex digits; ASCII
 * whitespace around it is ignored. 0, or -1 with *why set. */
int pii_key_decode(const char *text, uint8_t key[PII_KEY_LEN], const char **why);
/* 1 if kid is a usable key id. */
int pii_kid_ok(const char *kid);

/* The keyring of cfg's `encryption:` block: *out NULL when there is none.
 * 0, or -1 with "file:line:col: message" in err (never quoting a key). */
int pii_from_config(const struct gh_config *cfg, gh_pii **out, char *err, size_t errlen);

/* The process's keyring (NULL: encryption off). Install once at start-up,
 * before any thread reads it; the caller frees it after the last reader. */
void pii_install(gh_pii *p);
gh_pii *pii_current(void);

/* kid of the key that encrypts now. */
const char *pii_newest_kid(const gh_pii *p);

/* 1 if v is one of our ciphertexts (by its prefix), else 0: clear text. */
int pii_is_encrypted(const char *v);
/* 1 if v is a blind index. */
int pii_is_index(const char *v);
/* The kid of ciphertext v into kid (PII_KID_MAX + 1 bytes); -1 if v is
 * not a well-formed ciphertext. */
int pii_kid_of(const char *v, char *kid);

/* Encrypt plain (len bytes) under the newest key for column `col` of row
 * `row`: a malloc'd "gh1:..." string, or NULL (out of memory, or no key:
 * *why says which). */
char *pii_encrypt(const gh_pii *p, const char *col, const char *row, const char *plain,
                  size_t len, const char **why);
/* The clear text of v (malloc'd, NUL-terminated) into *out. A value
 * without the prefix is copied as it is. 0, or -1 with *why: unknown key
 * id, damaged or moved value, or no keyring for an encrypted value. */
int pii_decrypt(const gh_pii *p, const char *col, const char *row, const char *v, char **out,
                const char **why);

/* The blind index of a normalised value in a domain ("email",
 * "username") into out. 0, or -1 (p NULL, or HMAC failed). */
int pii_blind_index(const gh_pii *p, const char *domain, const char *norm,
                    char out[PII_INDEX_LEN]);

#endif
