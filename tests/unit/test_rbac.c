/*
 * test_rbac.c - roles and permissions (auth/rbac.c) on every SQL backend
 * the environment offers: the system's catalog, a company's own resource
 * types, permissions and roles, parent roles and cycles, grants, users'
 * roles, the last admin, what a user holds and why, isolation between
 * companies, and migration 6 turning is_admin into the admin role.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "auth/companies.h"
#include "auth/rbac.h"
#include "auth/users.h"
#include "store/migrations.h"
#include "store_backends.h"

#define T(fn) cmocka_unit_test_setup_teardown(fn, sfx_setup, sfx_teardown)
#define T_RAW(fn) cmocka_unit_test_setup_teardown(fn, sfx_setup_raw, sfx_teardown)
#define USERS_READ "00000000-0000-4000-8002-000000000001"

static gh_company company(fx *f, const char *slug)
{
    gh_company co = { .settings = company_settings_default() };

    snprintf(co.slug, sizeof co.slug, "%s", slug);
    snprintf(co.name, sizeof co.name, "%s", slug);
    assert_int_equal(companies_create(f->c, &f->call, &co), GH_OK);
    return co;
}

static gh_user user(fx *f, const char *tenant, const char *email)
{
    gh_user u = { .is_active = 1 };

    snprintf(u.tenant_id, sizeof u.tenant_id, "%s", tenant);
    u.email = strdup(email);
    assert_int_equal(users_create(f->c, &f->call, &u, NULL), GH_OK);
    return u;
}

static gh_resource_type resource(fx *f, const char *tenant, const char *name)
{
    gh_resource_type rt = { 0 };

    snprintf(rt.name, sizeof rt.name, "%s", name);
    assert_int_equal(rbac_resource_create(f->c, &f->call, tenant, &rt), GH_OK);
    return rt;
}

static gh_permission permission(fx *f, const char *tenant, const char *rt, const char *action)
{
    gh_permission p = { 0 };

    snprintf(p.resource_type_id, sizeof p.resource_type_id, "%s", rt);
    snprintf(p.action, sizeof p.action, "%s", action);
    assert_int_equal(rbac_permission_create(f->c, &f->call, tenant, &p), GH_OK);
    return p;
}

static gh_role role(fx *f, const char *tenant, const char *name, const char *parent)
{
    gh_role r = { 0 };

    snprintf(r.name, sizeof r.name, "%s", name);
    if (parent) {
        snprintf(r.parents[0], sizeof r.parents[0], "%s", parent);
        r.n_parents = 1;
    }
    if (rbac_role_create(f->c, &f->call, tenant, &r) != GH_OK)
        fail_msg("role %s: %s", name, f->call.message);
    return r;
}

/* The user's permissions as "name<role<via,..." for one comparison. */
static char *effective(fx *f, const char *tenant, const char *uid, char *buf, size_t len)
{
    gh_grant *g;
    size_t n, used = 0;

    assert_int_equal(rbac_effective(f->c, &f->call, tenant, uid, &g, &n), GH_OK);
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s<%s<%s", i ? "," : "",
                                 g[i].permission, g[i].role_name, g[i].via_role_name);
    free(g);
    return buf;
}

/* authz.h's answer, fresh: the test changes the graph itself, so it
 * announces each change as the API does. */
static int holds(fx *f, const char *tenant, const char *uid, const char *perm)
{
    const authz_set *s;

    authz_changed(f->c, &f->call, tenant);
    assert_int_equal(authz_get(f->c, &f->call, tenant, uid, &s), GH_OK);
    return authz_has(s, perm);
}

/* The same, as the cache has it now: no change announced. */
static int cached_holds(fx *f, const char *tenant, const char *uid, const char *perm)
{
    const authz_set *s;

    assert_int_equal(authz_get(f->c, &f->call, tenant, uid, &s), GH_OK);
    return authz_has(s, perm);
}

static void test_catalog(void **state)
{
    fx *f = *state;
    gh_permission *p;
    gh_role *r;
    gh_resource_type *rt;
    size_t n;
    int seen = 0;

    assert_int_equal(rbac_permission_list(f->c, &f->call, ROOT_TENANT, &p, &n), GH_OK);
    assert_int_equal(n, 21);
    for (size_t i = 0; i < n; i++)
        seen += strcmp(p[i].name, "users:read") == 0 || strcmp(p[i].name, "sessions:revoke") == 0 ||
                strcmp(p[i].name, "clients:read") == 0 || strcmp(p[i].name, "clients:write") == 0 ||
                strcmp(p[i].name, "integrations:write") == 0 ||
                strcmp(p[i].name, "webhook_events:read") == 0 ||
                strcmp(p[i].name, "webhooks:read") == 0 || strcmp(p[i].name, "webhooks:write") == 0 ||
                strcmp(p[i].name, "companies:onboard") == 0;
    assert_int_equal(seen, 9);
    assert_string_equal(p[0].tenant_id, ""); /* the system's */
    free(p);
    assert_int_equal(rbac_resource_list(f->c, &f->call, ROOT_TENANT, &rt, &n), GH_OK);
    assert_int_equal(n, 11);
    free(rt);
    assert_int_equal(rbac_role_list(f->c, &f->call, ROOT_TENANT, &r, &n), GH_OK);
    assert_int_equal(n, 2);
    assert_string_equal(r[0].name, "admin");
    assert_string_equal(r[0].builtin, "admin");
    assert_string_equal(r[1].name, "superuser");
    free(r);
    /* the system's rows cannot be deleted */
    assert_int_equal(rbac_permission_delete(f->c, &f->call, ROOT_TENANT, USERS_READ),
                     GH_ERR_DENIED);
    assert_int_equal(rbac_role_delete(f->c, &f->call, ROOT_TENANT, RBAC_ROLE_ADMIN),
                     GH_ERR_DENIED);
}

static void test_definitions(void **state)
{
    fx *f = *state;
    gh_company a = company(f, "acme"), b = company(f, "beta");
    gh_resource_type inv = resource(f, a.id, "invoice"), got;
    gh_permission read = permission(f, a.id, inv.id, "read"), p = { 0 };
    gh_resource_type dup = { 0 };
    gh_role r = { 0 };

    assert_string_equal(read.name, "invoice:read");
    /* names: taken in the company, taken by the system, malformed */
    strcpy(dup.name, "invoice");
    assert_int_equal(rbac_resource_create(f->c, &f->call, a.id, &dup), GH_ERR_CONFLICT);
    strcpy(dup.name, "users");
    assert_int_equal(rbac_resource_create(f->c, &f->call, a.id, &dup), GH_ERR_CONFLICT);
    strcpy(dup.name, "Invoice");
    assert_int_equal(rbac_resource_create(f->c, &f->call, a.id, &dup), GH_ERR_INVALID);
    strcpy(p.resource_type_id, inv.id);
    strcpy(p.action, "read");
    assert_int_equal(rbac_permission_create(f->c, &f->call, a.id, &p), GH_ERR_CONFLICT);
    strcpy(r.name, "admin");
    assert_int_equal(rbac_role_create(f->c, &f->call, a.id, &r), GH_ERR_CONFLICT);
    /* another company: the same name is free, the other's rows unseen */
    resource(f, b.id, "invoice");
    assert_int_equal(rbac_resource_get(f->c, &f->call, b.id, inv.id, &got), GH_ERR_NOT_FOUND);
    strcpy(p.action, "write");
    assert_int_equal(rbac_permission_create(f->c, &f->call, b.id, &p), GH_ERR_NOT_FOUND);
    assert_int_equal(rbac_permission_delete(f->c, &f->call, b.id, read.id), GH_ERR_NOT_FOUND);
    /* a resource type goes with its permissions */
    assert_int_equal(rbac_resource_delete(f->c, &f->call, a.id, inv.id), GH_OK);
    assert_int_equal(rbac_permission_get(f->c, &f->call, a.id, read.id, &p), GH_ERR_NOT_FOUND);
}

static void test_roles_and_holds(void **state)
{
    fx *f = *state;
    gh_company a = company(f, "acme"), b = company(f, "beta");
    gh_user ann = user(f, a.id, "ann@example.com"), bob = user(f, b.id, "bob@example.com");
    gh_resource_type inv = resource(f, a.id, "invoice");
    gh_permission read = permission(f, a.id, inv.id, "read"),
                  pay = permission(f, a.id, inv.id, "pay");
    gh_role viewer = role(f, a.id, "viewer", NULL), clerk = role(f, a.id, "clerk", viewer.id),
            boss = role(f, a.id, "boss", clerk.id), got;
    char buf[2048];

    assert_int_equal(rbac_role_grant(f->c, &f->call, a.id, viewer.id, read.id), GH_OK);
    assert_int_equal(rbac_role_grant(f->c, &f->call, a.id, viewer.id, read.id), GH_OK); /* again */
    assert_int_equal(rbac_role_grant(f->c, &f->call, a.id, boss.id, pay.id), GH_OK);
    assert_int_equal(rbac_role_grant(f->c, &f->call, a.id, clerk.id, USERS_READ), GH_OK);

    /* a cycle, a built-in parent, another company's role: refused */
    got = viewer;
    strcpy(got.parents[0], boss.id);
    got.n_parents = 1;
    assert_int_equal(rbac_role_update(f->c, &f->call, a.id, &got), GH_ERR_CONFLICT);
    strcpy(got.parents[0], viewer.id); /* itself */
    assert_int_equal(rbac_role_update(f->c, &f->call, a.id, &got), GH_ERR_CONFLICT);
    strcpy(got.parents[0], RBAC_ROLE_ADMIN);
    assert_int_equal(rbac_role_update(f->c, &f->call, a.id, &got), GH_ERR_INVALID);
    assert_int_equal(rbac_role_get(f->c, &f->call, a.id, viewer.id, &got), GH_OK);
    assert_int_equal(got.n_parents, 0); /* unchanged */
    assert_int_equal(rbac_role_get(f->c, &f->call, b.id, viewer.id, &got), GH_ERR_NOT_FOUND);
    assert_int_equal(rbac_role_get(f->c, &f->call, a.id, boss.id, &got), GH_OK);
    assert_string_equal(got.parents[0], clerk.id);

    /* what ann holds, and where from */
    assert_int_equal(rbac_user_assign(f->c, &f->call, a.id, ann.id, boss.id), GH_OK);
    assert_string_equal(effective(f, a.id, ann.id, buf, sizeof buf),
                        "invoice:pay<boss<boss,invoice:read<viewer<boss,users:read<clerk<boss");
    assert_int_equal(holds(f, a.id, ann.id, "invoice:read"), 1);
    assert_int_equal(holds(f, a.id, ann.id, "users:write"), 0);
    /* a change in the graph changes it at once */
    assert_int_equal(rbac_role_revoke(f->c, &f->call, a.id, viewer.id, read.id), GH_OK);
    assert_int_equal(rbac_role_revoke(f->c, &f->call, a.id, viewer.id, read.id), GH_ERR_NOT_FOUND);
    assert_int_equal(holds(f, a.id, ann.id, "invoice:read"), 0);

    /* another company's user or role: as missing ones */
    assert_int_equal(rbac_user_assign(f->c, &f->call, a.id, bob.id, boss.id), GH_ERR_NOT_FOUND);
    assert_int_equal(rbac_user_assign(f->c, &f->call, b.id, bob.id, boss.id), GH_ERR_NOT_FOUND);
    assert_int_equal(holds(f, b.id, ann.id, "invoice:pay"), 0);

    /* admin: every permission its company sees, none of another's */
    assert_int_equal(rbac_user_assign(f->c, &f->call, b.id, bob.id, RBAC_ROLE_ADMIN), GH_OK);
    assert_int_equal(holds(f, b.id, bob.id, "users:write"), 1);
    {   /* the admin role and the is_admin flag say the same, either way round */
        gh_user u = { 0 };
        gh_role *rs;
        size_t nr;

        assert_int_equal(users_get(f->c, &f->call, b.id, bob.id, &u), GH_OK);
        assert_true(u.is_admin);
        user_clear(&u);
        assert_int_equal(users_set_flags(f->c, &f->call, a.id, ann.id, -1, 1), GH_OK);
        assert_int_equal(rbac_user_roles(f->c, &f->call, a.id, ann.id, &rs, &nr), GH_OK);
        assert_int_equal(nr, 2); /* admin, boss */
        assert_string_equal(rs[0].id, RBAC_ROLE_ADMIN);
        free(rs);
        assert_int_equal(users_set_flags(f->c, &f->call, a.id, ann.id, -1, 0), GH_OK);
        assert_int_equal(rbac_user_roles(f->c, &f->call, a.id, ann.id, &rs, &nr), GH_OK);
        assert_int_equal(nr, 1);
        free(rs);
    }
    assert_int_equal(holds(f, b.id, bob.id, "invoice:pay"), 0);
    assert_int_equal(rbac_user_assign(f->c, &f->call, a.id, ann.id, RBAC_ROLE_ADMIN), GH_OK);
    assert_int_equal(holds(f, a.id, ann.id, "invoice:read"), 1);
    /* superuser: the root company's alone */
    assert_int_equal(rbac_user_assign(f->c, &f->call, b.id, bob.id, RBAC_ROLE_SUPERUSER),
                     GH_ERR_DENIED);
    /* the last admin stays one */
    assert_int_equal(rbac_user_unassign(f->c, &f->call, b.id, bob.id, RBAC_ROLE_ADMIN),
                     GH_ERR_CONFLICT);
    assert_int_equal(holds(f, b.id, bob.id, "users:write"), 1);
    /* a deleted role leaves its holders */
    assert_int_equal(rbac_role_delete(f->c, &f->call, a.id, boss.id), GH_OK);
    assert_int_equal(holds(f, a.id, ann.id, "invoice:pay"), 1); /* still admin */
    assert_int_equal(rbac_user_unassign(f->c, &f->call, a.id, ann.id, RBAC_ROLE_ADMIN),
                     GH_ERR_CONFLICT);
    user_clear(&ann);
    user_clear(&bob);
}

/* The cache (auth/authz.h): an answer lasts until the company's version
 * changes; without a version nothing is cached; a deactivated user holds
 * nothing; the token's roles and permissions come from the same set. */
static void test_cache(void **state)
{
    fx *f = *state;
    gh_company a = company(f, "cache-a");
    gh_user ann = user(f, a.id, "ann@cache.example");
    gh_resource_type inv = resource(f, a.id, "invoice");
    gh_permission read = permission(f, a.id, inv.id, "read");
    gh_role viewer = role(f, a.id, "viewer", NULL);
    const authz_set *s;
    char key[128];
    json_t *perms;

    assert_int_equal(rbac_role_grant(f->c, &f->call, a.id, viewer.id, read.id), GH_OK);
    assert_int_equal(rbac_user_assign(f->c, &f->call, a.id, ann.id, viewer.id), GH_OK);
    assert_int_equal(holds(f, a.id, ann.id, "invoice:read"), 1);
    assert_int_equal(holds(f, a.id, ann.id, "invoice:write"), 0);

    /* a change not announced is not seen: the answer is cached ... */
    assert_int_equal(rbac_role_revoke(f->c, &f->call, a.id, viewer.id, read.id), GH_OK);
    assert_int_equal(cached_holds(f, a.id, ann.id, "invoice:read"), 1);
    /* ... until the version changes, as every API change does */
    authz_changed(f->c, &f->call, a.id);
    assert_int_equal(cached_holds(f, a.id, ann.id, "invoice:read"), 0);

    /* kv lost the version: every check computes, nothing stale */
    snprintf(key, sizeof key, "rbac:ver:%s", a.id);
    assert_int_equal(store_kv_del(f->c, &f->call, key), GH_OK);
    assert_int_equal(rbac_role_grant(f->c, &f->call, a.id, viewer.id, read.id), GH_OK);
    assert_int_equal(cached_holds(f, a.id, ann.id, "invoice:read"), 1);
    assert_int_equal(rbac_role_revoke(f->c, &f->call, a.id, viewer.id, read.id), GH_OK);
    assert_int_equal(cached_holds(f, a.id, ann.id, "invoice:read"), 0);
    /* a sign-in puts it back; an existing one is kept */
    authz_ensure(f->c, &f->call, a.id);
    assert_int_equal(store_kv_get(f->c, &f->call, key, NULL), GH_OK);
    assert_int_equal(rbac_role_grant(f->c, &f->call, a.id, viewer.id, read.id), GH_OK);
    assert_int_equal(holds(f, a.id, ann.id, "invoice:read"), 1);
    authz_ensure(f->c, &f->call, a.id);
    assert_int_equal(cached_holds(f, a.id, ann.id, "invoice:read"), 1);

    /* the token's claims (amy: another admin, so that ann may go) */
    gh_user amy = user(f, a.id, "amy@cache.example");
    assert_int_equal(rbac_user_assign(f->c, &f->call, a.id, amy.id, RBAC_ROLE_ADMIN), GH_OK);
    user_clear(&amy);
    assert_int_equal(rbac_user_assign(f->c, &f->call, a.id, ann.id, RBAC_ROLE_ADMIN), GH_OK);
    authz_changed(f->c, &f->call, a.id);
    assert_int_equal(authz_get(f->c, &f->call, a.id, ann.id, &s), GH_OK);
    assert_non_null(perms = authz_roles_json(s));
    assert_int_equal(json_array_size(perms), 2);
    assert_string_equal(json_string_value(json_array_get(perms, 0)), "admin");
    assert_string_equal(json_string_value(json_array_get(perms, 1)), "viewer");
    json_decref(perms);
    assert_int_equal(authz_superuser(s), 0);
    assert_non_null(perms = authz_permissions_json(s));
    assert_true(json_array_size(perms) > 10); /* the system's and invoice:read */
    json_decref(perms);

    /* a deactivated user, or one of another company, holds nothing */
    assert_int_equal(users_set_flags(f->c, &f->call, a.id, ann.id, 0, -1), GH_OK);
    assert_int_equal(holds(f, a.id, ann.id, "invoice:read"), 0);
    assert_int_equal(holds(f, GH_ROOT_TENANT, ann.id, "invoice:read"), 0);
    user_clear(&ann);
}

/* Migration 6 turns is_admin into the admin role (and superuser in root). */
static void test_migrate_admins(void **state)
{
    fx *f = *state;
    char err[256];
    int applied;
    gh_role *r;
    size_t n;

    assert_int_equal(store_migrate_to(f->c, 5, &applied, err, sizeof err), 0);
    assert_int_equal(store_exec_script(f->c, &f->call,
        "INSERT INTO users (id, tenant_id, email, email_normalized, is_admin, created_at, "
        "updated_at) VALUES ('00000000-0000-4000-8000-0000000000a1', '" ROOT_TENANT "', "
        "'a@example.com', 'a@example.com', 1, 1, 1);"
        "INSERT INTO users (id, tenant_id, email, email_normalized, is_admin, created_at, "
        "updated_at) VALUES ('00000000-0000-4000-8000-0000000000a2', '" ROOT_TENANT "', "
        "'b@example.com', 'b@example.com', 0, 1, 1)"), GH_OK);
    assert_int_equal(store_migrate(f->c, &applied, err, sizeof err), 0);
    assert_int_equal(rbac_user_roles(f->c, &f->call, ROOT_TENANT,
                                     "00000000-0000-4000-8000-0000000000a1", &r, &n), GH_OK);
    assert_int_equal(n, 2);
    assert_string_equal(r[0].name, "admin");
    assert_string_equal(r[1].name, "superuser");
    free(r);
    assert_int_equal(rbac_user_roles(f->c, &f->call, ROOT_TENANT,
                                     "00000000-0000-4000-8000-0000000000a2", &r, &n), GH_OK);
    assert_int_equal(n, 0);
    free(r);
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        T(test_catalog),
        T(test_definitions),
        T(test_roles_and_holds),
        T(test_cache),
        T_RAW(test_migrate_admins),
    };
    static const sfx_group groups[] = {
        SFX_GROUP(NULL, "rbac", tests),
    };

    return sfx_main(groups, sizeof(groups) / sizeof(groups[0]));
}
