/*
 * authz.h - whether a user holds a permission: rbac.h's answer, cached.
 *
 * A user's permissions come from the company's whole role graph
 * (rbac_effective, several reads); a permission-guarded request must not
 * pay that each time. So each thread keeps the answers it computed, each
 * stamped with its company's RBAC version: a random value in kv under
 * "rbac:ver:<company>", shared by every instance. Every change to a
 * company's roles, grants, permissions or members writes a new version
 * once it has committed (authz_changed); the next check on any instance
 * reads a version its answer does not carry and computes again. A check
 * in the steady state costs one kv read, not the graph.
 *
 * Why it is correct: a check reads the version before the graph, and a
 * change writes the version after its commit, so an answer computed from
 * a graph older than some change always carries a version older than that
 * change's. The version is random rather than a counter because kv may
 * lose a key (a Redis restart or eviction): a counter would start again
 * and could come back to a value an old answer carries. While the key is
 * missing nothing is cached (authz_ensure puts it back at a sign-in, and
 * any change does). The version is per company rather than per user: a
 * role's change reaches every holder of it and of every role below it,
 * which only the graph knows. An answer also lives at most
 * AUTHZ_MAX_AGE_MS, which bounds the one case a version cannot cover: a
 * change committed while kv failed to take its new version.
 */
#ifndef GH_AUTHZ_H
#define GH_AUTHZ_H

#include <jansson.h>
#include "store/store.h"

#define AUTHZ_MAX_AGE_MS 60000

/* One user's permissions in one company. */
typedef struct authz_set authz_set;

/* The user's permissions in tenant: from this thread's cache, or computed
 * (and cached when the version is known). *out stays valid until this
 * thread's next authz_get. A user who is not an active member of tenant
 * holds nothing. GH_OK, or the failure (call says why): refuse, never
 * allow. */
gh_result authz_get(gh_conn *c, gh_call *call, const char *tenant, const char *user_id,
                    const authz_set **out);
/* The same with the company's version read already (authz_version_key,
 * with others in one kv round trip; "": kv has none, nothing is cached). */
gh_result authz_get_at(gh_conn *c, gh_call *call, const char *tenant, const char *user_id,
                       const char *version, const authz_set **out);
#define AUTHZ_VERSION_MAX 40 /* what another writer put is cut to fit */
void authz_version_key(char *key, size_t len, const char *tenant);
/* A version as kv gave it (a "value"; NULL or NULL-typed: none) into v. */
void authz_version_of(const gh_param *p, char v[AUTHZ_VERSION_MAX]);
/* 1 when the set holds permission ("invoice:read"), else 0. */
int authz_has(const authz_set *s, const char *permission);
/* 1 when the user holds the superuser role (root company only). */
int authz_superuser(const authz_set *s);
/* For the access token's claims, as new JSON arrays of strings (NULL
 * without memory): the permissions (sorted), and the roles the user holds
 * directly, by name. */
json_t *authz_permissions_json(const authz_set *s);
json_t *authz_roles_json(const authz_set *s);

/* After a committed change to tenant's roles, grants, permissions,
 * resource types or members: a new version, so every instance computes
 * again. A failure is logged (AUTHZ_MAX_AGE_MS then bounds it). */
void authz_changed(gh_conn *c, gh_call *call, const char *tenant);
/* Put tenant's version back if kv lost it (from a write job: a sign-in);
 * failures are left to the next check, which then just does not cache. */
void authz_ensure(gh_conn *c, gh_call *call, const char *tenant);

#endif
