/*
 * users.h - accounts in the store: create, find, update, erase, list.
 * Runs on worker threads (every call takes this thread's gh_conn).
 * Email addresses are unique per tenant, case-insensitively: the store
 * keeps the address as given and a normalised copy that carries the
 * unique index; usernames likewise.
 */
#ifndef GH_USERS_H
#define GH_USERS_H

#include <stddef.h>
#include <stdint.h>
#include "auth/password.h"
#include "store/store.h"

#define GH_ROOT_TENANT "00000000-0000-4000-8000-000000000000"

typedef struct gh_user {
    char id[37];
    char tenant_id[37];
    char *email;            /* malloc'd; NULL once erased */
    char *username;         /* malloc'd or NULL */
    char *full_name;        /* malloc'd or NULL */
    char *phone;            /* malloc'd or NULL */
    char *given_name;       /* malloc'd or NULL (OIDC given_name) */
    char *family_name;      /* malloc'd or NULL (OIDC family_name) */
    char *country_code;     /* malloc'd or NULL: ISO 3166-1 alpha-2 */
    char *external_id;      /* malloc'd or NULL: its id in the service it was imported from */
    int64_t email_verified_at; /* ms, 0: not verified */
    int64_t phone_verified_at; /* ms, 0: not verified (or the phone changed) */
    int is_active;
    int is_admin;
    int64_t created_at, updated_at; /* ms */
} gh_user;

void user_clear(gh_user *u); /* frees the strings, zeroes the struct */

/* Lower-case, trimmed, syntax-checked address (local@domain, one @, no
 * spaces or control bytes, <= 254 bytes). 0 ok, -1 invalid. */
int email_normalize(const char *in, char *out, size_t outlen);
/* Usernames: 3..64 of [A-Za-z0-9._-], compared lower-cased. 0 or -1. */
int username_normalize(const char *in, char *out, size_t outlen);

/* Insert u (tenant_id, email, username?, the profile fields?, external_id?,
 * is_admin, is_active set by the caller) and its password credential in one
 * transaction; fills the timestamps, and the id unless the caller set one
 * (an import keeping a UUID: an insert never overwrites, so an id in use is
 * GH_ERR_CONFLICT). GH_ERR_CONFLICT: email, username, id or external_id
 * taken (or no such tenant). GH_ERR_INVALID: a bad email or username, neither of them, or an
 * unusable hash. password_hash NULL: an account without a password
 * (OAuth). The email and username are stored trimmed, case kept. */
gh_result users_create(gh_conn *c, gh_call *call, gh_user *u, const char *password_hash);

/* By email or username (whichever `login` looks like); with the password
 * hash into hash (may be NULL). GH_ERR_NOT_FOUND if none or erased. */
gh_result users_find_login(gh_conn *c, gh_call *call, const char *tenant, const char *login,
                           gh_user *out, char hash[GH_PW_HASH_MAX]);
/* *taken: an account of any company has this email or username
 * (whichever `login` looks like). */
gh_result users_login_taken(gh_conn *c, gh_call *call, const char *login, int *taken);
/* The kv keys of the version stamps (store_stamp_renew) of one user's row
 * and of all the rows of a company's users: every change to what
 * users_get reads renews the first, one to a whole company the second. */
#define USERS_STAMP_KEY_MAX 64
void users_stamp_key(char key[USERS_STAMP_KEY_MAX], const char *user_id);
void users_company_stamp_key(char key[USERS_STAMP_KEY_MAX], const char *tenant);
/* tenant NULL: in any tenant (then act on the user in its tenant_id). */
gh_result users_get(gh_conn *c, gh_call *call, const char *tenant, const char *id, gh_user *out);
/* What a caller reads with a user's row in the same statement, a round
 * trip fewer: cols, a select list that may name the row as u (its ?
 * bound to args, at most USERS_MORE_ARGS); cb gets those columns when
 * the user is found. */
#define USERS_MORE_ARGS 4
typedef struct users_more {
    const char *cols;
    const gh_param *args;
    size_t nargs;
    gh_row_cb cb;
    void *ud;
} users_more;
/* users_get of id in tenant (not NULL), with more. */
gh_result users_get_more(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                         const users_more *more, gh_user *out);
/* The row of id in any tenant, or of external_id in tenant (id NULL), erased
 * ones too when erased_too (an erased row has neither email nor username):
 * what an import needs to tell "imported before" from a collision. */
gh_result users_find_key(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                         const char *external_id, int erased_too, gh_user *out);
gh_result users_password_hash(gh_conn *c, gh_call *call, const char *user_id,
                              char hash[GH_PW_HASH_MAX]);
/* Replaces the password credential (or adds one). GH_ERR_NOT_FOUND: no
 * live account. Sessions are the caller's business (session_revoke_all). */
gh_result users_set_password(gh_conn *c, gh_call *call, const char *user_id, const char *hash);

/* Profile fields; NULL leaves a field as it is, "" clears it (not email).
 * GH_ERR_CONFLICT: username or email taken. A new address (by its
 * normalised form) clears email_verified_at. */
typedef struct gh_profile {
    const char *email, *username, *full_name, *phone, *given_name, *family_name, *country_code;
} gh_profile;
gh_result users_update_profile(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                               const gh_profile *p);
/* The same for the fields older callers set. */
gh_result users_update(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                       const char *email, const char *username, const char *full_name,
                       const char *phone);
gh_result users_set_flags(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                          int is_active /* -1 keep */, int is_admin /* -1 keep */);
gh_result users_mark_verified(gh_conn *c, gh_call *call, const char *id, int64_t at_ms);
/* The phone number of user id was proved (a code sent to it) at when.
 * GH_ERR_NOT_FOUND: no such user. */
gh_result users_mark_phone_verified(gh_conn *c, gh_call *call, const char *tenant,
                                   const char *id, int64_t when);

/* Erase personal data (email, names, phone, country, username to NULL;
 * external_id stays, like the id, so an import does not make it again), delete
 * credentials, revoke every session, mark deleted; one transaction. The
 * row stays so audit events keep a subject. */
gh_result users_erase(gh_conn *c, gh_call *call, const char *tenant, const char *id);

/* A page of live users ordered by created_at then id; email_filter is a
 * case-insensitive substring or NULL. With encryption at rest (auth/pii.h)
 * stored addresses are blind indexes, so the filter must then be a whole
 * address, matched exactly (case-insensitively); anything else is
 * GH_ERR_INVALID with USERS_FILTER_EXACT. limit <= 0: 50; at most 500. *total
 * (may be NULL) gets the number of all matches. *out is malloc'd (NULL
 * for none): free each with user_clear, then free(). */
#define USERS_FILTER_EXACT                                                    \
    "with encryption at rest the email filter must be a whole address"
gh_result users_list(gh_conn *c, gh_call *call, const char *tenant, const char *email_filter,
                     int limit, int offset, gh_user **out, size_t *n, int64_t *total);
/* Active, live admins of a tenant. */
gh_result users_count_admins(gh_conn *c, gh_call *call, const char *tenant, int64_t *n);

/* 1 when s is a UUID as text: 8-4-4-4-12 hex digits, any version (our
 * ids, and the ids an import keeps from the service it came from). */
int uuid_valid(const char *s);

#endif
