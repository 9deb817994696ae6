/*
 * password.h - password hashing and policy.
 *
 * New hashes are argon2id (libargon2) in the PHC string format. bcrypt
 * hashes ($2a$, $2b$, $2y$, as the seed services store them) still verify
 * (libcrypt) and are flagged for rehashing, as are argon2id hashes made
 * with weaker parameters than the configured ones. Hashing is slow by
 * design: call it on a worker thread, never on a loop thread.
 */
#ifndef GH_PASSWORD_H
#define GH_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

typedef struct gh_pw_params {
    uint32_t memory_kib;    /* OWASP: 19456 (19 MiB) */
    uint32_t iterations;    /* OWASP: 2 */
    uint32_t parallelism;   /* OWASP: 1 */
} gh_pw_params;

typedef struct gh_pw_policy {
    int min_length;         /* characters (code points), NIST: 8 */
    int max_length;         /* characters; NIST: at least 64 allowed */
    int require_upper, require_lower, require_digit, require_special;
    int check_common;       /* refuse the bundled common-password list */
} gh_pw_policy;

#define GH_PW_HASH_MAX 160  /* room for any PHC argon2id or bcrypt string */

/* argon2id PHC string of pw into out; 0 or -1 (out of memory, bad params) */
int password_hash(const char *pw, size_t len, const gh_pw_params *p, char out[GH_PW_HASH_MAX]);

/* 1 match, 0 mismatch, -1 unknown or malformed hash. *rehash (may be NULL)
 * is set when the hash is not argon2id with at least params p. Runs in time
 * independent of where a mismatch is. */
int password_verify(const char *pw, size_t len, const char *hash, const gh_pw_params *p,
                    int *rehash);

/* Spend the time of one verification against nothing: for unknown users,
 * so a login for an address that does not exist costs what a wrong
 * password costs. */
void password_verify_dummy(const char *pw, size_t len, const gh_pw_params *p);

/* How many verifications (dummy ones included) this process has run. */
uint64_t password_checks_total(void);

/* Each thread that hashes keeps argon2's working memory (m KiB) mapped for
 * its next hash. This hands the pages of every buffer not in use right now
 * back to the system (the mapping stays; the next hash on that thread
 * faults them in again). Safe to call from any thread at any time, also
 * while other threads hash: a buffer in use is skipped. A thread's buffer
 * is unmapped when the thread ends. */
void password_release_idle_memory(void);

/* NULL if pw meets the policy, else a stable problem code and a sentence:
 * "password_too_short", "password_too_long", "password_too_common" (a
 * common password or word, or the user's own email, name or username),
 * "password_too_weak" (a repeat, sequence, keyboard walk or date: zxcvbn
 * estimates it guessable; both only with check_common),
 * "password_needs_upper", ..._lower, ..._digit, ..._special,
 * "password_invalid_utf8". `context` strings (email, username; NULL-ended)
 * are refused as passwords too. *detail (detail may be NULL) is a sentence
 * for the API client, valid until this thread's next call. Lengths are in
 * code points; a zero or negative min/max length means no limit. */
const char *password_policy_check(const gh_pw_policy *pol, const char *pw, size_t len,
                                  const char *const *context, const char **detail);

/* the bundled list, lower-cased, for tests */
int password_is_common(const char *pw, size_t len);
/* how many distinct entries it holds (tests check it really loaded) */
size_t password_common_count(void);

#endif
