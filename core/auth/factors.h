/*
 * factors.h - a user's second factors and recovery codes, as rows of the
 * credentials table (migration 7 adds confirmed_at and last_counter).
 *
 * A factor (type "totp" or "sms") is pending until a first code confirms
 * it; only confirmed ones are offered at sign-in (mfa_methods). Its secret
 * (a TOTP key, a phone number) is sealed like personal data (pii.h), bound
 * to the column and the row, when encryption at rest is on.
 *
 * Recovery codes are rows of type "recovery", one per code, each holding
 * the SHA-256 of the code: 80 random bits, so no dictionary finds them,
 * and a fast hash is enough. Using one deletes its row, and the DELETE
 * decides: two sign-ins racing with the same code cannot both win.
 */
#ifndef GH_AUTH_FACTORS_H
#define GH_AUTH_FACTORS_H

#include <stdint.h>
#include <jansson.h>
#include "store/store.h"

#define FACTOR_SECRET_MAX 128   /* bytes of a clear secret */
#define RECOVERY_CODES 10
/* Six groups of four base32 letters: 120 random bits, above the 112 at
 * which a plain digest is enough storage (ASVS 6.5.2); a salted password
 * hash would make checking ten codes cost ten argon2 runs. */
#define RECOVERY_CODE_CHARS 24
#define RECOVERY_CODE_LEN 30    /* "xxxx-xxxx-xxxx-xxxx-xxxx-xxxx" + NUL */

typedef struct gh_factor {
    char id[37];
    char type[16];
    int confirmed;
    int64_t last_counter;       /* -1: no code accepted yet */
    unsigned char secret[FACTOR_SECRET_MAX];
    size_t secret_len;
} gh_factor;

/* The user's factors, oldest first: [{id, type, label, created_at,
 * last_used_at, pending}] (recovery codes are not factors). */
gh_result factors_list(gh_conn *c, gh_call *call, const char *user_id, json_t **out);

/* A new pending factor holding secret (sealed); its id into id. */
gh_result factors_create(gh_conn *c, gh_call *call, const char *user_id, const char *type,
                         const char *label, const void *secret, size_t len, char id[37]);

/* Factor id of user_id, its secret opened, into *f (wipe it with
 * factor_clear). NOT_FOUND: no such factor of this user. */
gh_result factors_get(gh_conn *c, gh_call *call, const char *user_id, const char *id,
                      gh_factor *f);

/* The ids of user_id's confirmed factors of type, into a JSON array. */
gh_result factors_ids(gh_conn *c, gh_call *call, const char *user_id, const char *type,
                      json_t **ids);

/* The phone of user_id's first confirmed SMS factor (where a sign-in's
 * codes go) into phone (room len). NOT_FOUND: none. */
gh_result factors_first_phone(gh_conn *c, gh_call *call, const char *user_id, char *phone,
                              size_t len);

/* Accept a code of time step counter on factor id: confirms a pending
 * factor, records the use, and only when counter is past the last one
 * accepted (in the same UPDATE, so concurrent sign-ins cannot both use
 * one step). GH_ERR_DENIED: a replay. */
gh_result factors_use(gh_conn *c, gh_call *call, const char *id, int64_t counter);

/* Remove factor id of user_id (NOT_FOUND: none); with id NULL every factor
 * and recovery code of the user. *left: confirmed factors that remain. */
gh_result factors_delete(gh_conn *c, gh_call *call, const char *user_id, const char *id,
                         int64_t *left);

/* Replace user_id's recovery codes with RECOVERY_CODES new ones, into a
 * JSON array of strings (shown once, never stored in clear). */
gh_result recovery_codes_new(gh_conn *c, gh_call *call, const char *user_id, json_t **codes);

/* Spend one: GH_OK, or GH_ERR_DENIED when it is not one of user_id's
 * (dashes, spaces and case do not matter). */
gh_result recovery_code_use(gh_conn *c, gh_call *call, const char *user_id, const char *code);

void factor_clear(gh_factor *f);

#endif
