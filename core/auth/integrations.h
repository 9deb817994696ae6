/*
 * integrations.h - a company's integrations and their API keys.
 *
 * An integration (type api_key, oauth2 or custom) carries a list of RBAC
 * permissions, each held by whoever granted it, and one API key:
 *   gh_<prefix>_<secret>
 * prefix: INTEGRATION_PREFIX_LEN characters of lowercase base32, public,
 * unique, how the key's integration is found (and what secret scanners
 * match on); secret: 32 random bytes in base64url (43 characters, which
 * may hold '_': the parts are found by position, never by splitting).
 * The key is shown once, at creation and at regeneration, and stored as
 * the SHA-256 of the whole key: 256 random bits need neither a slow hash
 * nor a server key. Regenerating replaces the digest and the prefix: the
 * old key stops at once.
 *
 * An integration may also have a signing secret (auth/webhook_sig.h) that
 * its incoming webhooks are signed with. It is needed in clear to check
 * a MAC, so it is stored sealed under the newest personal-data key when
 * encryption at rest is on (auth/pii.h), shown once when made, and read
 * back only by integration_signing_secret.
 */
#ifndef GH_INTEGRATIONS_H
#define GH_INTEGRATIONS_H

#include <stdint.h>
#include "auth/tokens.h"
#include "auth/webhook_sig.h"
#include "store/store.h"

#define INTEGRATION_KEY_TAG "gh_"
#define INTEGRATION_PREFIX_LEN 8
/* "gh_", the prefix, "_", the secret (GH_SECRET_LEN counts its NUL) */
#define INTEGRATION_KEY_LEN (sizeof INTEGRATION_KEY_TAG - 1 + INTEGRATION_PREFIX_LEN + 1 + \
                             GH_SECRET_LEN)
#define INTEGRATION_PERMS_MAX 2048
/* last_used_at is written at most this often per key */
#define INTEGRATION_TOUCH_MS 60000

typedef struct gh_integration {
    char id[37];
    char tenant_id[37];
    char name[256];
    char type[16];                          /* api_key, oauth2, custom */
    char permissions[INTEGRATION_PERMS_MAX]; /* space-separated names */
    char key_prefix[INTEGRATION_PREFIX_LEN + 1];
    char key_hash[GH_DIGEST_LEN];
    int64_t expires_at;                     /* ms; 0: never */
    int64_t last_used_at;                   /* ms; 0: never used */
    int disabled;
    int has_signing_secret;                 /* read only: see the _signing_ calls */
    int64_t created_at, updated_at;
} gh_integration;

/* ---- pure: no store */

/* 1 for api_key, oauth2 or custom. */
int integration_type_valid(const char *type);
/* 1 for a permission's name, "<resource type>:<action>", both RBAC
 * names (auth/rbac.h). */
int integration_perm_valid(const char *name);
/* 1 when key has the shape gh_<prefix>_<secret>; the prefix into prefix. */
int integration_key_parse(const char *key, char prefix[INTEGRATION_PREFIX_LEN + 1]);
/* 1 when key is in of's digest, of is enabled and not expired at now_ms;
 * compared in constant time. */
int integration_key_accepts(const gh_integration *in, const char *key, int64_t now_ms);

/* ---- the store. tenant scopes every call but integration_by_prefix. */

gh_result integration_get(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                          gh_integration *out);
gh_result integration_by_prefix(gh_conn *c, gh_call *call, const char *prefix,
                                gh_integration *out);
/* Every integration of tenant, by name; *out malloc'd. */
gh_result integration_list(gh_conn *c, gh_call *call, const char *tenant, gh_integration **out,
                           size_t *n);
/* Insert in (its fields checked by the caller) into tenant with a new id
 * and key, the key into key. */
gh_result integration_create(gh_conn *c, gh_call *call, const char *tenant, gh_integration *in,
                             char key[INTEGRATION_KEY_LEN]);
/* Write in's settings (name, type, permissions, expiry, disabled). */
gh_result integration_update(gh_conn *c, gh_call *call, const char *tenant, gh_integration *in);
gh_result integration_delete(gh_conn *c, gh_call *call, const char *tenant, const char *id);
/* A new key into key; the old one stops now. */
gh_result integration_regenerate(gh_conn *c, gh_call *call, const char *tenant,
                                 gh_integration *in, char key[INTEGRATION_KEY_LEN]);
/* Record a use at now_ms unless one was recorded in the last
 * INTEGRATION_TOUCH_MS (the condition is in the UPDATE: instances race
 * harmlessly). */
gh_result integration_touch(gh_conn *c, gh_call *call, const char *id, int64_t now_ms);

/* A new signing secret for tenant's integration id into secret, stored
 * sealed; the previous one stops at once. */
gh_result integration_signing_secret_new(gh_conn *c, gh_call *call, const char *tenant,
                                         const char *id, char secret[WEBHOOK_SECRET_LEN]);
/* Remove the signing secret: its webhooks go unsigned. */
gh_result integration_signing_secret_drop(gh_conn *c, gh_call *call, const char *tenant,
                                          const char *id);
/* The signing secret of integration id into secret; GH_ERR_NOT_FOUND when
 * it has none. */
gh_result integration_signing_secret(gh_conn *c, gh_call *call, const char *id,
                                     char secret[WEBHOOK_SECRET_LEN]);

#endif
