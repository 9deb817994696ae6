/*
 * identities.h - a user's accounts at OAuth / OpenID Connect providers: the
 * provider instance's configured name and the subject it gave, unique in
 * a company, so one provider account leads to one user. The address the
 * provider gave at link time is kept for the user's list, sealed with
 * encryption at rest like the users' own.
 */
#ifndef GH_AUTH_IDENTITIES_H
#define GH_AUTH_IDENTITIES_H

#include <jansson.h>
#include "store/store.h"

/* The user (and the identity's id) that provider's subject signs in to,
 * in tenant. GH_ERR_NOT_FOUND: none. */
gh_result identities_find(gh_conn *c, gh_call *call, const char *tenant, const char *provider,
                          const char *subject, char user_id[37], char id[37]);

/* Link provider's subject to user_id; email may be NULL. The new row's id
 * into id. GH_ERR_CONFLICT: that subject is linked already. */
gh_result identities_create(gh_conn *c, gh_call *call, const char *tenant, const char *user_id,
                            const char *provider, const char *subject, const char *email,
                            char id[37]);

/* A sign-in through identity id: its last_used_at. */
gh_result identities_touch(gh_conn *c, gh_call *call, const char *id);

/* The user's identities, oldest first: [{id, provider, subject, email,
 * created_at, last_used_at}]. */
gh_result identities_list(gh_conn *c, gh_call *call, const char *user_id, json_t **out);

/* How many identities the user has. */
gh_result identities_count(gh_conn *c, gh_call *call, const char *user_id, int64_t *n);

/* Unlink the user's identity id; its provider name into provider (room
 * 64). GH_ERR_NOT_FOUND: not the user's. */
gh_result identities_delete(gh_conn *c, gh_call *call, const char *user_id, const char *id,
                            char provider[64]);

#endif
