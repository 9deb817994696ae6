/*
 * rbac.h - roles and permissions, per company (migration 6).
 *
 * A resource type names a kind of thing ("invoice"); a permission is a
 * resource type and an action ("invoice:read"); a role holds permissions
 * and parent roles, and has its parents' permissions too (cycles are
 * refused); a user holds roles. Each company has its own, and sees the
 * system's as well: the resource types and permissions that guard
 * Gatehouse's own routes (users:read, roles:write, ...) and the built-in
 * roles, `admin` (every permission of its holder's company) and
 * `superuser` (every company's; root company users only). The system's
 * rows have no company and fixed ids; they can be neither changed nor
 * deleted.
 *
 * Every function takes the company it acts in: a row of another company
 * is GH_ERR_NOT_FOUND, exactly as a missing one.
 */
#ifndef GH_RBAC_H
#define GH_RBAC_H

#include <stddef.h>
#include <stdint.h>
#include "auth/users.h"
#include "store/store.h"

#define RBAC_ROLE_ADMIN "00000000-0000-4000-8003-000000000001"
#define RBAC_ROLE_SUPERUSER "00000000-0000-4000-8003-000000000002"
#define RBAC_NAME_MAX 64      /* a resource type, an action, a role */
#define RBAC_PERMISSION_MAX (2 * RBAC_NAME_MAX + 1)
#define RBAC_PARENTS_MAX 16   /* parents one role may name */

typedef struct gh_resource_type {
    char id[37];
    char tenant_id[37];       /* "": the system's */
    char name[RBAC_NAME_MAX + 1];
    char description[256];
    int64_t created_at, updated_at;
} gh_resource_type;

typedef struct gh_permission {
    char id[37];
    char tenant_id[37];       /* "": the system's */
    char resource_type_id[37];
    char action[RBAC_NAME_MAX + 1];
    char name[RBAC_PERMISSION_MAX + 1]; /* "<resource type>:<action>" */
    char description[256];
    int64_t created_at, updated_at;
} gh_permission;

typedef struct gh_role {
    char id[37];
    char tenant_id[37];       /* "": built in */
    char name[RBAC_NAME_MAX + 1];
    char description[256];
    char builtin[16];         /* "admin", "superuser" or "" */
    char parents[RBAC_PARENTS_MAX][37];
    size_t n_parents;
    int64_t created_at, updated_at;
} gh_role;

/* One permission a user holds: the role that grants it and the role the
 * user holds that leads there (the same role, or one of its
 * descendants); the first found when several do. */
typedef struct gh_grant {
    char permission[RBAC_PERMISSION_MAX + 1];
    char role_id[37];
    char role_name[RBAC_NAME_MAX + 1];
    char via_role_name[RBAC_NAME_MAX + 1];
} gh_grant;

/* 1 for a name of a resource type, an action or a role: 1..64 of a-z,
 * 0-9, '_', '-' and '.', starting with a letter or digit. */
int rbac_name_valid(const char *s);

/* Resource types: GH_ERR_INVALID (a bad name), GH_ERR_CONFLICT (taken in
 * the company or by the system), GH_ERR_NOT_FOUND, GH_ERR_DENIED (the
 * system's). Lists are the company's and the system's, by name. */
gh_result rbac_resource_create(gh_conn *c, gh_call *call, const char *tenant,
                               gh_resource_type *rt);
gh_result rbac_resource_get(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                            gh_resource_type *out);
gh_result rbac_resource_list(gh_conn *c, gh_call *call, const char *tenant,
                             gh_resource_type **out, size_t *n);
/* Name and description of rt->id; its permissions are renamed with it. */
gh_result rbac_resource_update(gh_conn *c, gh_call *call, const char *tenant,
                               gh_resource_type *rt);
gh_result rbac_resource_delete(gh_conn *c, gh_call *call, const char *tenant, const char *id);

/* Permissions likewise; create takes resource_type_id and action and
 * makes the name. Deleting a resource type deletes its permissions. */
gh_result rbac_permission_create(gh_conn *c, gh_call *call, const char *tenant,
                                 gh_permission *p);
gh_result rbac_permission_get(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                              gh_permission *out);
gh_result rbac_permission_list(gh_conn *c, gh_call *call, const char *tenant, gh_permission **out,
                               size_t *n);
/* Action (and so name) and description of p->id; roles keep it. */
gh_result rbac_permission_update(gh_conn *c, gh_call *call, const char *tenant, gh_permission *p);
gh_result rbac_permission_delete(gh_conn *c, gh_call *call, const char *tenant, const char *id);

/* Roles likewise, with their parents (ids of roles the company sees);
 * update sets name, description and parents, refusing a cycle
 * (GH_ERR_CONFLICT). Built-in roles cannot be created, changed or deleted,
 * nor named as parents. */
gh_result rbac_role_create(gh_conn *c, gh_call *call, const char *tenant, gh_role *r);
gh_result rbac_role_get(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                        gh_role *out);
gh_result rbac_role_list(gh_conn *c, gh_call *call, const char *tenant, gh_role **out, size_t *n);
gh_result rbac_role_update(gh_conn *c, gh_call *call, const char *tenant, const gh_role *r);
gh_result rbac_role_delete(gh_conn *c, gh_call *call, const char *tenant, const char *id);

/* A role's own permissions (not its parents'): grant is idempotent,
 * revoke GH_ERR_NOT_FOUND when it did not have it. */
gh_result rbac_role_grant(gh_conn *c, gh_call *call, const char *tenant, const char *role_id,
                          const char *permission_id);
gh_result rbac_role_revoke(gh_conn *c, gh_call *call, const char *tenant, const char *role_id,
                           const char *permission_id);

/* A user's roles: the user must be of the company; superuser only in the
 * root company (GH_ERR_DENIED). Removing the admin role from the last
 * active admin of a company is GH_ERR_CONFLICT. */
gh_result rbac_user_assign(gh_conn *c, gh_call *call, const char *tenant, const char *user_id,
                           const char *role_id);
gh_result rbac_user_unassign(gh_conn *c, gh_call *call, const char *tenant, const char *user_id,
                             const char *role_id);
/* The user's roles (direct), by name. */
gh_result rbac_user_roles(gh_conn *c, gh_call *call, const char *tenant, const char *user_id,
                          gh_role **out, size_t *n);

/* Every permission the user holds in the company, with where each comes
 * from, by name; *out malloc'd. The admin role gives every permission the
 * company sees, superuser too. */
gh_result rbac_effective(gh_conn *c, gh_call *call, const char *tenant, const char *user_id,
                         gh_grant **out, size_t *n);
/* The same for a role: its own permissions and its parents', as a user
 * holding only it would have them. */
gh_result rbac_role_effective(gh_conn *c, gh_call *call, const char *tenant, const char *role_id,
                              gh_grant **out, size_t *n);

/* An admin the operator made (the bootstrap admin, gatehousectl's): in
 * the root company also a superuser, as migration 6 made the root
 * company's admins; an admin made through the API is given superuser only
 * by name. GH_OK and nothing done for anyone else. */
gh_result rbac_operator_grant(gh_conn *c, gh_call *call, const gh_user *u);

#endif
