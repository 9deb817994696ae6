/*
 * rbac.c - roles and permissions in the store (rbac.h).
 *
 * Evaluation reads a company's role graph whole (its edges and grants are
 * few next to its users) and walks it in memory: no recursive SQL, which
 * the three dialects would each write differently.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "auth/rbac.h"
#include "auth/tokens.h"
#include "auth/users.h"
#include "call.h"
#include "clock.h"
#include "store/row.h"

#define VISIBLE "(tenant_id = ? OR tenant_id IS NULL)"

int rbac_name_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > RBAC_NAME_MAX || !strchr("abcdefghijklmnopqrstuvwxyz0123456789", s[0]))
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-.") == n;
}

/* ------------------------------------------------------------ row helpers */

/* A growable array of fixed-size rows, filled by a row callback. */
typedef struct rows {
    void *v;
    size_t n, cap, size;
    gh_result r;
    void (*fill)(void *row, const gh_param *cols, uint32_t n);
    uint32_t ncols;
} rows;

static int rows_add(void *ud, const gh_param *cols, uint32_t n)
{
    rows *rs = ud;

    if (n < rs->ncols)
        return rs->r = GH_ERR_INTERNAL, 1;
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? 2 * rs->cap : 8;
        void *v = realloc(rs->v, cap * rs->size);

        if (!v)
            return rs->r = GH_ERR_NOMEM, 1;
        rs->v = v;
        rs->cap = cap;
    }
    memset((char *)rs->v + rs->n * rs->size, 0, rs->size);
    rs->fill((char *)rs->v + rs->n * rs->size, cols, n);
    rs->n++;
    return 0;
}

static gh_result rows_query(gh_conn *c, gh_call *call, rows *rs, const char *sql,
                            const gh_param *args, size_t nargs)
{
    gh_result r = store_exec(c, call, sql, args, nargs, rows_add, rs, NULL);

    if (r == GH_OK && rs->r != GH_OK)
        r = call_fail(call, rs->r, "rbac: reading rows failed");
    if (r != GH_OK) {
        free(rs->v);
        rs->v = NULL;
        rs->n = 0;
    }
    return r;
}

static gh_result count(gh_conn *c, gh_call *call, const char *sql, const gh_param *args,
                       size_t nargs, int64_t *out)
{
    *out = 0;
    return store_exec(c, call, sql, args, nargs, row_count, out, NULL);
}

/* One row's text column into a fixed buffer, or "" for NULL. */
static void text(const gh_param *p, char *buf, size_t len)
{
    col_copy(p, buf, len);
}

/* ------------------------------------------------------------ resource types */

#define RT_COLS "id, tenant_id, name, description, created_at, updated_at"

static void rt_fill(void *row, const gh_param *cols, uint32_t n)
{
    gh_resource_type *rt = row;

    (void)n;
    text(&cols[0], rt->id, sizeof rt->id);
    text(&cols[1], rt->tenant_id, sizeof rt->tenant_id);
    text(&cols[2], rt->name, sizeof rt->name);
    text(&cols[3], rt->description, sizeof rt->description);
    rt->created_at = col_int(&cols[4]);
    rt->updated_at = col_int(&cols[5]);
}

gh_result rbac_resource_get(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                            gh_resource_type *out)
{
    rows rs = { .size = sizeof *out, .fill = rt_fill, .ncols = 6 };
    gh_param args[2] = { p_str(id), p_str(tenant) };
    gh_result r;

    if (!uuid_valid(id))
        return GH_ERR_NOT_FOUND;
    r = rows_query(c, call, &rs, "SELECT " RT_COLS " FROM resource_types WHERE id = ? AND "
                   VISIBLE, args, 2);
    if (r == GH_OK && rs.n == 0)
        r = GH_ERR_NOT_FOUND;
    if (r == GH_OK)
        *out = *(gh_resource_type *)rs.v;
    free(rs.v);
    return r;
}

gh_result rbac_resource_list(gh_conn *c, gh_call *call, const char *tenant,
                             gh_resource_type **out, size_t *n)
{
    rows rs = { .size = sizeof **out, .fill = rt_fill, .ncols = 6 };
    gh_param arg = p_str(tenant);
    gh_result r = rows_query(c, call, &rs, "SELECT " RT_COLS " FROM resource_types WHERE "
                             VISIBLE " ORDER BY name, id", &arg, 1);

    *out = rs.v;
    *n = rs.n;
    return r;
}

/* name is free in the company: neither its own nor the system's. */
static gh_result name_free(gh_conn *c, gh_call *call, const char *table, const char *tenant,
                           const char *name)
{
    gh_param args[2] = { p_str(name), p_str(tenant) };
    char sql[128];
    int64_t n;
    gh_result r;

    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s WHERE name = ? AND " VISIBLE, table);
    r = count(c, call, sql, args, 2, &n);
    return r == GH_OK && n > 0 ? GH_ERR_CONFLICT : r;
}

gh_result rbac_resource_create(gh_conn *c, gh_call *call, const char *tenant,
                               gh_resource_type *rt)
{
    gh_param args[6];
    gh_result r;

    if (!rbac_name_valid(rt->name))
        return call_fail(call, GH_ERR_INVALID, "rbac: a name is 1 to %d of a-z, 0-9, _ - .",
                         RBAC_NAME_MAX);
    if ((r = name_free(c, call, "resource_types", tenant, rt->name)) != GH_OK)
        return r;
    uuid_new(rt->id);
    snprintf(rt->tenant_id, sizeof rt->tenant_id, "%s", tenant);
    rt->created_at = rt->updated_at = gh_now_ms();
    args[0] = p_str(rt->id);
    args[1] = p_str(tenant);
    args[2] = p_str(rt->name);
    args[3] = p_opt_empty(rt->description);
    args[4] = p_int(&rt->created_at);
    args[5] = p_int(&rt->updated_at);
    return store_exec(c, call, "INSERT INTO resource_types (id, tenant_id, name, description, "
                      "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)", args, 6, NULL, NULL,
                      NULL);
}

gh_result rbac_resource_update(gh_conn *c, gh_call *call, const char *tenant,
                               gh_resource_type *rt)
{
    gh_resource_type was;
    gh_permission *p = NULL;
    size_t n = 0;
    int64_t now = gh_now_ms();
    gh_result r;

    if (!rbac_name_valid(rt->name))
        return call_fail(call, GH_ERR_INVALID, "rbac: a name is 1 to %d of a-z, 0-9, _ - .",
                         RBAC_NAME_MAX);
    if ((r = rbac_resource_get(c, call, tenant, rt->id, &was)) != GH_OK)
        return r;
    if (!was.tenant_id[0])
        return call_fail(call, GH_ERR_DENIED, "rbac: the system's own cannot change");
    int renamed = strcmp(was.name, rt->name) != 0;
    if (renamed && (r = name_free(c, call, "resource_types", tenant, rt->name)) != GH_OK)
        return r;
    /* its permissions' names follow: "<type>:<action>" */
    if (renamed && (r = rbac_permission_list(c, call, tenant, &p, &n)) != GH_OK)
        return r;
    for (size_t i = 0; r == GH_OK && i < n; i++) {
        if (strcmp(p[i].resource_type_id, rt->id) != 0)
            continue;
        char name[RBAC_PERMISSION_MAX + 1];
        snprintf(name, sizeof name, "%s:%s", rt->name, p[i].action);
        gh_param args[3] = { p_str(name), p_int(&now), p_str(p[i].id) };
        if ((r = name_free(c, call, "permissions", tenant, name)) == GH_OK)
            r = store_exec(c, call, "UPDATE permissions SET name = ?, updated_at = ? WHERE id = ?",
                           args, 3, NULL, NULL, NULL);
    }
    free(p);
    if (r != GH_OK)
        return r;
    gh_param args[5] = { p_str(rt->name), p_opt_empty(rt->description), p_int(&now),
                         p_str(rt->id), p_str(tenant) };
    snprintf(rt->tenant_id, sizeof rt->tenant_id, "%s", tenant);
    rt->created_at = was.created_at;
    rt->updated_at = now;
    return store_exec(c, call, "UPDATE resource_types SET name = ?, description = ?, "
                      "updated_at = ? WHERE id = ? AND tenant_id = ?", args, 5, NULL, NULL, NULL);
}

/* Delete the company's own row of table; DENIED for the system's. */
static gh_result delete_own(gh_conn *c, gh_call *call, const char *table, const char *tenant,
                            const char *id)
{
    gh_param args[2] = { p_str(id), p_str(tenant) };
    char sql[128];
    int64_t changed = 0, system = 0;
    gh_result r;

    if (!uuid_valid(id))
        return GH_ERR_NOT_FOUND;
    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE id = ? AND tenant_id = ?", table);
    if ((r = store_exec(c, call, sql, args, 2, NULL, NULL, &changed)) != GH_OK || changed > 0)
        return r;
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s WHERE id = ? AND tenant_id IS NULL", table);
    if ((r = count(c, call, sql, args, 1, &system)) != GH_OK)
        return r;
    return system ? call_fail(call, GH_ERR_DENIED, "rbac: the system's own cannot change")
                  : GH_ERR_NOT_FOUND;
}

gh_result rbac_resource_delete(gh_conn *c, gh_call *call, const char *tenant, const char *id)
{
    return delete_own(c, call, "resource_types", tenant, id);
}

/* ------------------------------------------------------------- permissions */

#define P_COLS "id, tenant_id, resource_type_id, action, name, description, created_at, updated_at"

static void p_fill(void *row, const gh_param *cols, uint32_t n)
{
    gh_permission *p = row;

    (void)n;
    text(&cols[0], p->id, sizeof p->id);
    text(&cols[1], p->tenant_id, sizeof p->tenant_id);
    text(&cols[2], p->resource_type_id, sizeof p->resource_type_id);
    text(&cols[3], p->action, sizeof p->action);
    text(&cols[4], p->name, sizeof p->name);
    text(&cols[5], p->description, sizeof p->description);
    p->created_at = col_int(&cols[6]);
    p->updated_at = col_int(&cols[7]);
}

gh_result rbac_permission_get(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                              gh_permission *out)
{
    rows rs = { .size = sizeof *out, .fill = p_fill, .ncols = 8 };
    gh_param args[2] = { p_str(id), p_str(tenant) };
    gh_result r;

    if (!uuid_valid(id))
        return GH_ERR_NOT_FOUND;
    r = rows_query(c, call, &rs, "SELECT " P_COLS " FROM permissions WHERE id = ? AND " VISIBLE,
                   args, 2);
    if (r == GH_OK && rs.n == 0)
        r = GH_ERR_NOT_FOUND;
    if (r == GH_OK)
        *out = *(gh_permission *)rs.v;
    free(rs.v);
    return r;
}

gh_result rbac_permission_list(gh_conn *c, gh_call *call, const char *tenant, gh_permission **out,
                               size_t *n)
{
    rows rs = { .size = sizeof **out, .fill = p_fill, .ncols = 8 };
    gh_param arg = p_str(tenant);
    gh_result r = rows_query(c, call, &rs, "SELECT " P_COLS " FROM permissions WHERE " VISIBLE
                             " ORDER BY name, id", &arg, 1);

    *out = rs.v;
    *n = rs.n;
    return r;
}

gh_result rbac_permission_create(gh_conn *c, gh_call *call, const char *tenant, gh_permission *p)
{
    gh_resource_type rt;
    gh_param args[8];
    gh_result r;

    if (!rbac_name_valid(p->action))
        return call_fail(call, GH_ERR_INVALID, "rbac: an action is 1 to %d of a-z, 0-9, _ - .",
                         RBAC_NAME_MAX);
    if ((r = rbac_resource_get(c, call, tenant, p->resource_type_id, &rt)) != GH_OK)
        return r;
    snprintf(p->name, sizeof p->name, "%s:%s", rt.name, p->action);
    if ((r = name_free(c, call, "permissions", tenant, p->name)) != GH_OK)
        return r;
    uuid_new(p->id);
    snprintf(p->tenant_id, sizeof p->tenant_id, "%s", tenant);
    p->created_at = p->updated_at = gh_now_ms();
    args[0] = p_str(p->id);
    args[1] = p_str(tenant);
    args[2] = p_str(p->resource_type_id);
    args[3] = p_str(p->action);
    args[4] = p_str(p->name);
    args[5] = p_opt_empty(p->description);
    args[6] = p_int(&p->created_at);
    args[7] = p_int(&p->updated_at);
    return store_exec(c, call, "INSERT INTO permissions (id, tenant_id, resource_type_id, action, "
                      "name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      args, 8, NULL, NULL, NULL);
}

gh_result rbac_permission_update(gh_conn *c, gh_call *call, const char *tenant, gh_permission *p)
{
    gh_permission was;
    gh_resource_type rt;
    int64_t now = gh_now_ms();
    gh_result r;

    if (!rbac_name_valid(p->action))
        return call_fail(call, GH_ERR_INVALID, "rbac: an action is 1 to %d of a-z, 0-9, _ - .",
                         RBAC_NAME_MAX);
    if ((r = rbac_permission_get(c, call, tenant, p->id, &was)) != GH_OK)
        return r;
    if (!was.tenant_id[0])
        return call_fail(call, GH_ERR_DENIED, "rbac: the system's own cannot change");
    if ((r = rbac_resource_get(c, call, tenant, was.resource_type_id, &rt)) != GH_OK)
        return r;
    snprintf(p->name, sizeof p->name, "%s:%s", rt.name, p->action);
    if (strcmp(p->name, was.name) != 0 &&
        (r = name_free(c, call, "permissions", tenant, p->name)) != GH_OK)
        return r;
    snprintf(p->tenant_id, sizeof p->tenant_id, "%s", tenant);
    snprintf(p->resource_type_id, sizeof p->resource_type_id, "%s", was.resource_type_id);
    p->created_at = was.created_at;
    p->updated_at = now;
    gh_param args[6] = { p_str(p->action), p_str(p->name), p_opt_empty(p->description),
                         p_int(&now), p_str(p->id), p_str(tenant) };
    return store_exec(c, call, "UPDATE permissions SET action = ?, name = ?, description = ?, "
                      "updated_at = ? WHERE id = ? AND tenant_id = ?", args, 6, NULL, NULL, NULL);
}

gh_result rbac_permission_delete(gh_conn *c, gh_call *call, const char *tenant, const char *id)
{
    return delete_own(c, call, "permissions", tenant, id);
}

/* ------------------------------------------------------------------ roles */

#define R_COLS "id, tenant_id, name, description, builtin, created_at, updated_at"

static void r_fill(void *row, const gh_param *cols, uint32_t n)
{
    gh_role *ro = row;

    (void)n;
    text(&cols[0], ro->id, sizeof ro->id);
    text(&cols[1], ro->tenant_id, sizeof ro->tenant_id);
    text(&cols[2], ro->name, sizeof ro->name);
    text(&cols[3], ro->description, sizeof ro->description);
    text(&cols[4], ro->builtin, sizeof ro->builtin);
    ro->created_at = col_int(&cols[5]);
    ro->updated_at = col_int(&cols[6]);
}

/* A parent edge of the company's role graph. */
typedef struct edge {
    char role[37], parent[37];
} edge;

static void e_fill(void *row, const gh_param *cols, uint32_t n)
{
    edge *e = row;

    (void)n;
    text(&cols[0], e->role, sizeof e->role);
    text(&cols[1], e->parent, sizeof e->parent);
}

/* Every parent edge of the company's roles (built-in roles have none). */
static gh_result edges(gh_conn *c, gh_call *call, const char *tenant, edge **out, size_t *n)
{
    rows rs = { .size = sizeof **out, .fill = e_fill, .ncols = 2 };
    gh_param arg = p_str(tenant);
    gh_result r = rows_query(c, call, &rs, "SELECT rp.role_id, rp.parent_id FROM role_parents rp "
                             "JOIN roles r ON r.id = rp.role_id WHERE r.tenant_id = ? "
                             "ORDER BY rp.role_id, rp.parent_id", &arg, 1);

    *out = rs.v;
    *n = rs.n;
    return r;
}

static void parents_of(gh_role *ro, const edge *e, size_t n)
{
    ro->n_parents = 0;
    for (size_t i = 0; i < n && ro->n_parents < RBAC_PARENTS_MAX; i++)
        if (strcmp(e[i].role, ro->id) == 0)
            memcpy(ro->parents[ro->n_parents++], e[i].parent, 37);
}

gh_result rbac_role_list(gh_conn *c, gh_call *call, const char *tenant, gh_role **out, size_t *n)
{
    rows rs = { .size = sizeof **out, .fill = r_fill, .ncols = 7 };
    gh_param arg = p_str(tenant);
    edge *e = NULL;
    size_t ne = 0;
    gh_result r = rows_query(c, call, &rs, "SELECT " R_COLS " FROM roles WHERE " VISIBLE
                             " ORDER BY name, id", &arg, 1);

    if (r == GH_OK)
        r = edges(c, call, tenant, &e, &ne);
    for (size_t i = 0; r == GH_OK && i < rs.n; i++)
        parents_of(&((gh_role *)rs.v)[i], e, ne);
    free(e);
    if (r != GH_OK) {
        free(rs.v);
        rs.v = NULL;
        rs.n = 0;
    }
    *out = rs.v;
    *n = rs.n;
    return r;
}

gh_result rbac_role_get(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                        gh_role *out)
{
    gh_role *v;
    size_t n;
    gh_result r;

    if (!uuid_valid(id))
        return GH_ERR_NOT_FOUND;
    if ((r = rbac_role_list(c, call, tenant, &v, &n)) != GH_OK)
        return r;
    r = GH_ERR_NOT_FOUND;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].id, id) == 0) {
            *out = v[i];
            r = GH_OK;
        }
    free(v);
    return r;
}

/* 1 if `from` reaches `to` following parent edges (from itself counts). */
static int reaches(const edge *e, size_t n, const char *from, const char *to, int depth)
{
    if (strcmp(from, to) == 0)
        return 1;
    if (depth > 64) /* deeper than any graph the checks below let through */
        return 1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(e[i].role, from) == 0 && reaches(e, n, e[i].parent, to, depth + 1))
            return 1;
    return 0;
}

/* r's parents: roles of the company (not built in), none twice, and no
 * cycle through r. Then they replace r's. */
static gh_result set_parents(gh_conn *c, gh_call *call, const char *tenant, const gh_role *r)
{
    edge *e = NULL;
    size_t ne = 0;
    gh_param args[2];
    gh_result res;

    if (r->n_parents > RBAC_PARENTS_MAX)
        return call_fail(call, GH_ERR_INVALID, "rbac: at most %d parents", RBAC_PARENTS_MAX);
    if ((res = edges(c, call, tenant, &e, &ne)) != GH_OK)
        return res;
    for (size_t i = 0; res == GH_OK && i < r->n_parents; i++) {
        gh_role p;

        if ((res = rbac_role_get(c, call, tenant, r->parents[i], &p)) == GH_OK &&
            (p.builtin[0] || !p.tenant_id[0]))
            res = call_fail(call, GH_ERR_INVALID, "rbac: a built-in role cannot be a parent");
        for (size_t k = 0; res == GH_OK && k < i; k++)
            if (strcmp(r->parents[k], r->parents[i]) == 0)
                res = call_fail(call, GH_ERR_INVALID, "rbac: a parent named twice");
        if (res == GH_OK && reaches(e, ne, r->parents[i], r->id, 0))
            res = call_fail(call, GH_ERR_CONFLICT, "rbac: that parent would make a cycle");
    }
    free(e);
    args[0] = p_str(r->id);
    if (res == GH_OK)
        res = store_exec(c, call, "DELETE FROM role_parents WHERE role_id = ?", args, 1, NULL,
                         NULL, NULL);
    for (size_t i = 0; res == GH_OK && i < r->n_parents; i++) {
        args[1] = p_str(r->parents[i]);
        res = store_exec(c, call, "INSERT INTO role_parents (role_id, parent_id) VALUES (?, ?)",
                         args, 2, NULL, NULL, NULL);
    }
    return res;
}

static gh_result finish(gh_conn *c, gh_call *call, gh_result r)
{
    if (r == GH_OK)
        return store_commit(c, call);
    store_rollback(c, call);
    return r;
}

gh_result rbac_role_create(gh_conn *c, gh_call *call, const char *tenant, gh_role *ro)
{
    gh_param args[6];
    gh_result r;

    if (!rbac_name_valid(ro->name))
        return call_fail(call, GH_ERR_INVALID, "rbac: a name is 1 to %d of a-z, 0-9, _ - .",
                         RBAC_NAME_MAX);
    uuid_new(ro->id);
    snprintf(ro->tenant_id, sizeof ro->tenant_id, "%s", tenant);
    ro->builtin[0] = '\0';
    ro->created_at = ro->updated_at = gh_now_ms();
    args[0] = p_str(ro->id);
    args[1] = p_str(tenant);
    args[2] = p_str(ro->name);
    args[3] = p_opt_empty(ro->description);
    args[4] = p_int(&ro->created_at);
    args[5] = p_int(&ro->updated_at);
    if ((r = store_begin(c, call)) != GH_OK)
        return r;
    if ((r = name_free(c, call, "roles", tenant, ro->name)) == GH_OK)
        r = store_exec(c, call, "INSERT INTO roles (id, tenant_id, name, description, created_at, "
                       "updated_at) VALUES (?, ?, ?, ?, ?, ?)", args, 6, NULL, NULL, NULL);
    if (r == GH_OK)
        r = set_parents(c, call, tenant, ro);
    return finish(c, call, r);
}

gh_result rbac_role_update(gh_conn *c, gh_call *call, const char *tenant, const gh_role *ro)
{
    int64_t now = gh_now_ms(), taken = 0, changed = 0;
    gh_param args[5];
    gh_role cur;
    gh_result r;

    if (!rbac_name_valid(ro->name))
        return call_fail(call, GH_ERR_INVALID, "rbac: a name is 1 to %d of a-z, 0-9, _ - .",
                         RBAC_NAME_MAX);
    if ((r = store_begin(c, call)) != GH_OK)
        return r;
    if ((r = rbac_role_get(c, call, tenant, ro->id, &cur)) == GH_OK && !cur.tenant_id[0])
        r = call_fail(call, GH_ERR_DENIED, "rbac: a built-in role cannot change");
    args[0] = p_str(ro->name);
    args[1] = p_str(tenant);
    args[2] = p_str(ro->id);
    if (r == GH_OK && strcmp(cur.name, ro->name) != 0 &&
        (r = count(c, call, "SELECT COUNT(*) FROM roles WHERE name = ? AND " VISIBLE
                   " AND id <> ?", args, 3, &taken)) == GH_OK && taken > 0)
        r = GH_ERR_CONFLICT;
    args[1] = p_opt_empty(ro->description);
    args[2] = p_int(&now);
    args[3] = p_str(ro->id);
    args[4] = p_str(tenant);
    if (r == GH_OK)
        r = store_exec(c, call, "UPDATE roles SET name = ?, description = ?, updated_at = ? "
                       "WHERE id = ? AND tenant_id = ?", args, 5, NULL, NULL, &changed);
    if (r == GH_OK)
        r = set_parents(c, call, tenant, ro);
    return finish(c, call, r);
}

gh_result rbac_role_delete(gh_conn *c, gh_call *call, const char *tenant, const char *id)
{
    return delete_own(c, call, "roles", tenant, id);
}

gh_result rbac_role_grant(gh_conn *c, gh_call *call, const char *tenant, const char *role_id,
                          const char *permission_id)
{
    gh_param args[2] = { p_str(role_id), p_str(permission_id) };
    gh_permission p;
    gh_role ro;
    int64_t have = 0;
    gh_result r;

    if ((r = rbac_role_get(c, call, tenant, role_id, &ro)) != GH_OK ||
        (r = rbac_permission_get(c, call, tenant, permission_id, &p)) != GH_OK)
        return r;
    if (!ro.tenant_id[0])
        return call_fail(call, GH_ERR_DENIED, "rbac: a built-in role's permissions are fixed");
    if ((r = count(c, call, "SELECT COUNT(*) FROM role_permissions WHERE role_id = ? AND "
                   "permission_id = ?", args, 2, &have)) != GH_OK || have)
        return r;
    return store_exec(c, call, "INSERT INTO role_permissions (role_id, permission_id) "
                      "VALUES (?, ?)", args, 2, NULL, NULL, NULL);
}

gh_result rbac_role_revoke(gh_conn *c, gh_call *call, const char *tenant, const char *role_id,
                           const char *permission_id)
{
    gh_param args[2] = { p_str(role_id), p_str(permission_id) };
    gh_role ro;
    int64_t changed = 0;
    gh_result r;

    if ((r = rbac_role_get(c, call, tenant, role_id, &ro)) != GH_OK)
        return r;
    if (!ro.tenant_id[0])
        return call_fail(call, GH_ERR_DENIED, "rbac: a built-in role's permissions are fixed");
    r = store_exec(c, call, "DELETE FROM role_permissions WHERE role_id = ? AND permission_id = ?",
                   args, 2, NULL, NULL, &changed);
    return r == GH_OK && changed == 0 ? GH_ERR_NOT_FOUND : r;
}

/* ------------------------------------------------------------ user roles */

gh_result rbac_user_roles(gh_conn *c, gh_call *call, const char *tenant, const char *user_id,
                          gh_role **out, size_t *n)
{
    rows rs = { .size = sizeof **out, .fill = r_fill, .ncols = 7 };
    gh_param args[2] = { p_str(user_id), p_str(tenant) };
    gh_result r = rows_query(c, call, &rs, "SELECT r.id, r.tenant_id, r.name, r.description, "
                             "r.builtin, r.created_at, r.updated_at FROM user_roles ur "
                             "JOIN roles r ON r.id = ur.role_id JOIN users u ON u.id = ur.user_id "
                             "WHERE ur.user_id = ? AND u.tenant_id = ? ORDER BY r.name, r.id",
                             args, 2);

    *out = rs.v;
    *n = rs.n;
    return r;
}

gh_result rbac_user_assign(gh_conn *c, gh_call *call, const char *tenant, const char *user_id,
                           const char *role_id)
{
    gh_param args[3];
    int64_t now = gh_now_ms(), have = 0;
    gh_user u = { 0 };
    gh_role ro;
    gh_result r;

    if ((r = users_get(c, call, tenant, user_id, &u)) != GH_OK ||
        (r = rbac_role_get(c, call, tenant, role_id, &ro)) != GH_OK) {
        user_clear(&u);
        return r;
    }
    user_clear(&u);
    if (strcmp(ro.builtin, "superuser") == 0 && strcmp(tenant, GH_ROOT_TENANT) != 0)
        return call_fail(call, GH_ERR_DENIED, "rbac: superuser is for the root company only");
    args[0] = p_str(user_id);
    args[1] = p_str(role_id);
    args[2] = p_int(&now);
    if ((r = count(c, call, "SELECT COUNT(*) FROM user_roles WHERE user_id = ? AND role_id = ?",
                   args, 2, &have)) != GH_OK || have)
        return r;
    if (strcmp(role_id, RBAC_ROLE_ADMIN) == 0) /* sets the flag and the row */
        return users_set_flags(c, call, tenant, user_id, -1, 1);
    return store_exec(c, call, "INSERT INTO user_roles (user_id, role_id, created_at) "
                      "VALUES (?, ?, ?)", args, 3, NULL, NULL, NULL);
}

gh_result rbac_user_unassign(gh_conn *c, gh_call *call, const char *tenant, const char *user_id,
                             const char *role_id)
{
    gh_param args[3] = { p_str(user_id), p_str(role_id), p_str(tenant) };
    int64_t changed = 0, admins = 0;
    gh_result r;

    if ((r = store_begin(c, call)) != GH_OK)
        return r;
    /* the user must be the company's: the join names the company */
    r = store_exec(c, call, "DELETE FROM user_roles WHERE user_id = ? AND role_id = ? AND "
                   "user_id IN (SELECT id FROM users WHERE tenant_id = ?)", args, 3, NULL, NULL,
                   &changed);
    if (r == GH_OK && changed == 0)
        r = GH_ERR_NOT_FOUND;
    if (r == GH_OK && strcmp(role_id, RBAC_ROLE_ADMIN) == 0) {
        gh_param a[2] = { p_str(RBAC_ROLE_ADMIN), p_str(tenant) };

        r = users_set_flags(c, call, tenant, user_id, -1, 0); /* the flag too */
        if (r == GH_OK)
            r = count(c, call, "SELECT COUNT(*) FROM user_roles ur JOIN users u ON "
                      "u.id = ur.user_id WHERE ur.role_id = ? AND u.tenant_id = ? AND "
                      "u.is_active = 1 AND u.deleted_at IS NULL", a, 2, &admins);
        if (r == GH_OK && admins == 0)
            r = call_fail(call, GH_ERR_CONFLICT, "rbac: the company's last admin stays one");
    }
    return finish(c, call, r);
}

/* --------------------------------------------------------------- evaluate */

typedef struct held {
    char id[37];
    char name[RBAC_PERMISSION_MAX + 1];
} held;

static void h_fill(void *row, const gh_param *cols, uint32_t n)
{
    held *h = row;

    (void)n;
    text(&cols[0], h->id, sizeof h->id);
    text(&cols[1], h->name, sizeof h->name);
}

/* Add perm from role ro, reached through the user's role via, unless held
 * already: the first found wins. */
static int grant_add(gh_grant **v, size_t *n, size_t *cap, const char *perm, const gh_role *ro,
                     const gh_role *via)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i].permission, perm) == 0)
            return 0;
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 16;
        gh_grant *g = realloc(*v, c * sizeof *g);

        if (!g)
            return -1;
        *v = g;
        *cap = c;
    }
    memset(&(*v)[*n], 0, sizeof **v);
    snprintf((*v)[*n].permission, sizeof (*v)[*n].permission, "%s", perm);
    snprintf((*v)[*n].role_id, sizeof (*v)[*n].role_id, "%s", ro->id);
    snprintf((*v)[*n].role_name, sizeof (*v)[*n].role_name, "%s", ro->name);
    snprintf((*v)[*n].via_role_name, sizeof (*v)[*n].via_role_name, "%s", via->name);
    (*n)++;
    return 0;
}

static int by_permission(const void *a, const void *b)
{
    return strcmp(((const gh_grant *)a)->permission, ((const gh_grant *)b)->permission);
}

/* Every permission the roles `direct` lead to, by name, into *out. */
static gh_result walk(gh_conn *c, gh_call *call, const char *tenant, const gh_role *direct,
                      size_t nd, gh_grant **out, size_t *n)
{
    gh_role *all = NULL;
    size_t na = 0, ne = 0, cap = 0;
    edge *e = NULL;
    rows grants = { .size = sizeof(held), .fill = h_fill, .ncols = 2 };
    rows every = { .size = sizeof(held), .fill = h_fill, .ncols = 2 };
    gh_param arg = p_str(tenant);
    gh_result r;

    *out = NULL;
    *n = 0;
    /* the graph and the grants: three reads, then memory */
    if ((r = rbac_role_list(c, call, tenant, &all, &na)) != GH_OK ||
        (r = edges(c, call, tenant, &e, &ne)) != GH_OK ||
        (r = rows_query(c, call, &grants, "SELECT rp.role_id, p.name FROM role_permissions rp "
                        "JOIN permissions p ON p.id = rp.permission_id JOIN roles r ON "
                        "r.id = rp.role_id WHERE r.tenant_id = ? ORDER BY p.name", &arg, 1)) !=
            GH_OK)
        goto done;
    for (size_t d = 0; r == GH_OK && d < nd; d++) {
        if (direct[d].builtin[0]) { /* admin, superuser: all the company sees */
            if (!every.v && (r = rows_query(c, call, &every, "SELECT id, name FROM permissions "
                                            "WHERE " VISIBLE " ORDER BY name", &arg, 1)) != GH_OK)
                break;
            for (size_t i = 0; r == GH_OK && i < every.n; i++)
                if (grant_add(out, n, &cap, ((held *)every.v)[i].name, &direct[d], &direct[d]) < 0)
                    r = GH_ERR_NOMEM;
            continue;
        }
        /* this role and every role it reaches through its parents */
        for (size_t a = 0; r == GH_OK && a < na; a++) {
            if (!reaches(e, ne, direct[d].id, all[a].id, 0))
                continue;
            for (size_t g = 0; r == GH_OK && g < grants.n; g++)
                if (strcmp(((held *)grants.v)[g].id, all[a].id) == 0 &&
                    grant_add(out, n, &cap, ((held *)grants.v)[g].name, &all[a], &direct[d]) < 0)
                    r = GH_ERR_NOMEM;
        }
    }
    if (r == GH_ERR_NOMEM)
        call_fail(call, r, "rbac: out of memory");
    if (r == GH_OK && *n > 1)
        qsort(*out, *n, sizeof **out, by_permission);
done:
    free(all);
    free(e);
    free(grants.v);
    free(every.v);
    if (r != GH_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return r;
}

gh_result rbac_effective(gh_conn *c, gh_call *call, const char *tenant, const char *user_id,
                         gh_grant **out, size_t *n)
{
    gh_role *direct = NULL;
    size_t nd = 0;
    gh_result r = rbac_user_roles(c, call, tenant, user_id, &direct, &nd);

    *out = NULL;
    *n = 0;
    if (r == GH_OK)
        r = walk(c, call, tenant, direct, nd, out, n);
    free(direct);
    return r;
}

gh_result rbac_role_effective(gh_conn *c, gh_call *call, const char *tenant, const char *role_id,
                              gh_grant **out, size_t *n)
{
    gh_role ro;
    gh_result r = rbac_role_get(c, call, tenant, role_id, &ro);

    *out = NULL;
    *n = 0;
    return r == GH_OK ? walk(c, call, tenant, &ro, 1, out, n) : r;
}

gh_result rbac_operator_grant(gh_conn *c, gh_call *call, const gh_user *u)
{
    if (!u->is_admin || strcmp(u->tenant_id, GH_ROOT_TENANT) != 0)
        return GH_OK;
    return rbac_user_assign(c, call, GH_ROOT_TENANT, u->id, RBAC_ROLE_SUPERUSER);
}
