/*
 * rbac.c - `gatehousectl role|permission|resource ...`: a company's roles,
 * permissions and resource types, and its users' roles, through
 * auth/rbac.h as the admin API (api/rbac.c) uses them.
 *
 * Each is named by id or by name (a permission by "type:action"), in the
 * company --tenant names (default: root); another company's are not found,
 * exactly as missing ones. Every change runs in one store transaction with
 * its audit record (actor "cli", the API's action names, before and after),
 * so the trail reads the same whichever door a change came through. The
 * API's rule that nobody grants what they do not hold is for admins
 * signed in; an operator with the database holds everything already.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "auth/authz.h"
#include "auth/rbac.h"
#include "auth/users.h"
#include "ctl/ctl.h"

#define TENANT_OPTION { "tenant", required_argument, NULL, 't' }
#define HELP_OPTION { "help", no_argument, NULL, 'h' }
#define DESCRIPTION_OPTION { "description", required_argument, NULL, 'd' }
#define TENANT_HELP "  -t, --tenant ID          the company, by id or slug (default: root)\n"
#define DESCRIPTION_MAX 255 /* the description members' size, less the NUL */
#define GO_ON (-1)          /* from a parser: no exit code yet, run the command */

/* ------------------------------------------------------------ the kinds */

/* A kind of row auth/rbac.h keeps: each struct starts with its id. */
typedef struct kind {
    const char *noun;       /* "role", for messages */
    const char *delete_action;
    size_t size, name_at;   /* a row's size, the offset of its name */
    gh_result (*list)(ctl *c, gh_call *call, const char *tenant, void **v, size_t *n);
    gh_result (*del)(gh_conn *c, gh_call *call, const char *tenant, const char *id);
    json_t *(*json)(const void *row); /* the audit's before and after */
    void (*print)(const void *v, size_t n); /* the list command's table */
} kind;

static gh_result list_resources(ctl *c, gh_call *call, const char *tenant, void **v, size_t *n)
{
    gh_resource_type *rt;
    gh_result r = rbac_resource_list(c->conn, call, tenant, &rt, n);

    *v = rt;
    return r;
}

static gh_result list_permissions(ctl *c, gh_call *call, const char *tenant, void **v, size_t *n)
{
    gh_permission *p;
    gh_result r = rbac_permission_list(c->conn, call, tenant, &p, n);

    *v = p;
    return r;
}

static gh_result list_roles(ctl *c, gh_call *call, const char *tenant, void **v, size_t *n)
{
    gh_role *ro;
    gh_result r = rbac_role_list(c->conn, call, tenant, &ro, n);

    *v = ro;
    return r;
}

static const char *or_dash(const char *s)
{
    return *s ? s : "-";
}

static json_t *resource_json(const void *row)
{
    const gh_resource_type *rt = row;

    return json_pack("{s:s, s:s, s:s}", "id", rt->id, "name", rt->name, "description",
                     rt->description);
}

static json_t *permission_json(const void *row)
{
    const gh_permission *p = row;

    return json_pack("{s:s, s:s, s:s, s:s}", "id", p->id, "name", p->name, "resource_type_id",
                     p->resource_type_id, "description", p->description);
}

static json_t *role_json(const void *row)
{
    const gh_role *ro = row;
    json_t *parents = json_array();

    for (size_t i = 0; parents && i < ro->n_parents; i++)
        json_array_append_new(parents, json_string(ro->parents[i]));
    return json_pack("{s:s, s:s, s:s, s:o*}", "id", ro->id, "name", ro->name, "description",
                     ro->description, "parent_ids", parents);
}

static void print_resources(const void *rows, size_t n)
{
    const gh_resource_type *v = rows;

    printf("%-36s  %-24s  %-6s  %s\n", "ID", "NAME", "SYSTEM", "DESCRIPTION");
    for (size_t i = 0; i < n; i++)
        printf("%-36s  %-24s  %-6s  %s\n", v[i].id, v[i].name, v[i].tenant_id[0] ? "no" : "yes",
               or_dash(v[i].description));
}

static void print_permissions(const void *rows, size_t n)
{
    const gh_permission *v = rows;

    printf("%-36s  %-32s  %-6s  %s\n", "ID", "NAME", "SYSTEM", "DESCRIPTION");
    for (size_t i = 0; i < n; i++)
        printf("%-36s  %-32s  %-6s  %s\n", v[i].id, v[i].name, v[i].tenant_id[0] ? "no" : "yes",
               or_dash(v[i].description));
}

/* ro's parents by name (they are roles of all), ", " between; "-": none. */
static void parent_names(const gh_role *all, size_t n, const gh_role *ro, char *out, size_t len)
{
    size_t used = 0;

    snprintf(out, len, "-");
    for (size_t i = 0; i < ro->n_parents && used < len; i++) {
        const char *name = ro->parents[i];

        for (size_t k = 0; k < n; k++)
            if (strcmp(all[k].id, ro->parents[i]) == 0)
                name = all[k].name;
        used += (size_t)snprintf(out + used, len - used, "%s%s", i ? ", " : "", name);
    }
}

static void print_roles(const void *rows, size_t n)
{
    const gh_role *v = rows;
    char parents[RBAC_PARENTS_MAX * (RBAC_NAME_MAX + 2)];

    printf("%-36s  %-24s  %-9s  %s\n", "ID", "NAME", "BUILTIN", "PARENTS");
    for (size_t i = 0; i < n; i++) {
        parent_names(v, n, &v[i], parents, sizeof parents);
        printf("%-36s  %-24s  %-9s  %s\n", v[i].id, v[i].name, or_dash(v[i].builtin), parents);
    }
}

static const kind RESOURCE = {
    "resource type", "rbac.resource.delete", sizeof(gh_resource_type),
    offsetof(gh_resource_type, name), list_resources, rbac_resource_delete, resource_json, print_resources,
};
static const kind PERMISSION = {
    "permission", "rbac.permission.delete", sizeof(gh_permission), offsetof(gh_permission, name),
    list_permissions, rbac_permission_delete, permission_json, print_permissions,
};
static const kind ROLE = {
    "role", "rbac.role.delete", sizeof(gh_role), offsetof(gh_role, name), list_roles,
    rbac_role_delete, role_json, print_roles,
};

/* The row of v (n of kind k) whose id, else whose name, is who. An id
 * first: a name may have the form of another row's id. */
static const void *pick(const kind *k, const void *v, size_t n, const char *who)
{
    for (int by_name = 0; by_name < 2; by_name++)
        for (size_t i = 0; i < n; i++) {
            const char *row = (const char *)v + i * k->size;

            if (strcmp(row + (by_name ? k->name_at : 0), who) == 0)
                return row;
        }
    return NULL;
}

/* The company's row of kind k named who, into out; -1 said why. */
static int find(ctl *c, const char *tenant, const kind *k, const char *who, void *out)
{
    const void *hit;
    void *v;
    size_t n;
    gh_call call;
    gh_result r;

    ctl_call(&call);
    if ((r = k->list(c, &call, tenant, &v, &n)) != GH_OK)
        return ctl_fail("looking up %s '%.64s' failed: %s", k->noun, who, ctl_why(&call, r)), -1;
    if ((hit = pick(k, v, n, who)))
        memcpy(out, hit, k->size);
    free(v);
    if (!hit)
        return ctl_fail("no %s '%.64s' in company %s", k->noun, who, tenant), -1;
    return 0;
}

/* ------------------------------------------------------------ shared */

/* The end of a change in the transaction the caller began: its audit
 * record, then commit, then a new RBAC version so that running daemons'
 * permission caches drop what they hold of the company; or roll back.
 * details (may be NULL) is ours. */
static gh_result finish(ctl *c, gh_call *call, gh_result r, const char *tenant,
                        const char *action, const char *subject, json_t *details)
{
    if (r == GH_OK)
        r = ctl_audit(c, call, tenant, action, subject, details);
    json_decref(details);
    if (r != GH_OK) {
        store_rollback(c->conn, call);
        return r;
    }
    if ((r = store_commit(c->conn, call)) == GH_OK)
        authz_changed(c->conn, call, tenant);
    return r;
}

/* One line for a change that failed: auth/rbac.c's own reason when it
 * gave one (a cycle, the last admin, a built-in role), else the store's. */
static int change_failed(const char *what, const gh_call *call, gh_result r)
{
    if (strncmp(call->message, "rbac: ", 6) == 0)
        return ctl_fail("%s: %s", what, call->message + 6);
    return ctl_fail("%s: %s", what, ctl_why(call, r));
}

static int check_name(const char *cmd, const char *what, const char *name)
{
    if (rbac_name_valid(name))
        return GO_ON;
    return ctl_usage_error(cmd, "'%.64s' is not a valid %s: 1 to %d of a-z, 0-9, '_', '-' and "
                           "'.', starting with a letter or digit", name, what, RBAC_NAME_MAX);
}

static int check_description(const char *cmd, const char *d)
{
    if (strlen(d) <= DESCRIPTION_MAX)
        return GO_ON;
    return ctl_usage_error(cmd, "the description is longer than %d bytes", DESCRIPTION_MAX);
}

/* The options of most commands: --tenant, and --description when
 * description is not NULL; then `want` arguments. GO_ON with *tenant (and
 * *description) set, or the exit code (help shown, or a usage error). */
static int parse_common(int argc, char **argv, const char *args, const char *text, int want,
                        const char **tenant, const char **description)
{
    static const struct option longopts[] = {
        DESCRIPTION_OPTION, TENANT_OPTION, HELP_OPTION, { NULL, 0, NULL, 0 },
    };
    int first = 1, o;

    *tenant = GH_ROOT_TENANT;
    while ((o = ctl_getopt(argc, argv, description ? "d:t:h" : "t:h",
                           description ? longopts : longopts + 1, &first)) != -1) {
        switch (o) {
        case 'd':
            if (check_description(argv[0], optarg) != GO_ON)
                return CTL_USAGE;
            *description = optarg;
            break;
        case 't': *tenant = optarg; break;
        case 'h':
            printf("Usage: %s %s%s\n%s%s" TENANT_HELP, argv[0], args,
                   description ? " [OPTIONS]" : "", text,
                   description ? "  -d, --description TEXT\n" : "");
            return CTL_OK;
        default: return CTL_USAGE;
        }
    }
    if (argc - optind != want)
        return want ? ctl_usage_error(argv[0], "expected %s", args)
                    : ctl_usage_error(argv[0], "unexpected argument '%.64s'", argv[optind]);
    return GO_ON;
}

/* `delete` of any kind: the row as it was goes into the audit. */
static int delete_command(ctl *c, int argc, char **argv, const kind *k, const char *text)
{
    union { gh_resource_type rt; gh_permission p; gh_role ro; } row;
    char what[160];
    const char *tenant;
    int rc = parse_common(argc, argv, "ID|NAME", text, 1, &tenant, NULL);
    gh_call call;
    gh_result r;

    if (rc != GO_ON)
        return rc;
    if (ctl_open_tenant(c, &tenant) < 0 || find(c, tenant, k, argv[optind], &row) < 0)
        return CTL_FAIL;
    const char *id = (const char *)&row, *name = (const char *)&row + k->name_at;
    ctl_call(&call);
    if ((r = store_begin(c->conn, &call)) == GH_OK)
        r = k->del(c->conn, &call, tenant, id);
    r = finish(c, &call, r, tenant, k->delete_action, id,
               r == GH_OK ? json_pack("{s:o}", "before", k->json(&row)) : NULL);
    if (r == GH_ERR_DENIED)
        return ctl_fail("%s '%s' is built in: it cannot be deleted", k->noun, name);
    snprintf(what, sizeof what, "deleting %s '%s' failed", k->noun, name);
    if (r != GH_OK)
        return change_failed(what, &call, r);
    printf("%s %s deleted\n", k->noun, name);
    return CTL_OK;
}

/* `list` of any kind: the company's rows and the system's, by name. */
static int list_command(ctl *c, int argc, char **argv, const kind *k, const char *text)
{
    const char *tenant;
    int rc = parse_common(argc, argv, "", text, 0, &tenant, NULL);
    void *v;
    size_t n;
    gh_call call;
    gh_result r;

    if (rc != GO_ON)
        return rc;
    if (ctl_open_tenant(c, &tenant) < 0)
        return CTL_FAIL;
    ctl_call(&call);
    if ((r = k->list(c, &call, tenant, &v, &n)) != GH_OK)
        return ctl_fail("listing %ss failed: %s", k->noun, ctl_why(&call, r));
    k->print(v, n);
    free(v);
    return CTL_OK;
}

/* ------------------------------------------------------------ resource */

static int resource_list(ctl *c, int argc, char **argv)
{
    return list_command(c, argc, argv, &RESOURCE,
                        "List the company's resource types and the system's, by name.\n");
}

static int resource_create(ctl *c, int argc, char **argv)
{
    const char *tenant, *description = "";
    int rc = parse_common(argc, argv, "NAME", "Create a resource type (a kind of thing "
                          "permissions are about: \"invoice\");\nprints its id.\n", 1,
                          &tenant, &description);
    gh_resource_type rt = { 0 };
    gh_call call;
    gh_result r;

    if (rc != GO_ON)
        return rc;
    if (check_name(argv[0], "resource type name", argv[optind]) != GO_ON)
        return CTL_USAGE;
    snprintf(rt.name, sizeof rt.name, "%s", argv[optind]);
    snprintf(rt.description, sizeof rt.description, "%s", description);
    if (ctl_open_tenant(c, &tenant) < 0)
        return CTL_FAIL;
    ctl_call(&call);
    if ((r = store_begin(c->conn, &call)) == GH_OK)
        r = rbac_resource_create(c->conn, &call, tenant, &rt);
    r = finish(c, &call, r, tenant, "rbac.resource.create", rt.id,
               r == GH_OK ? json_pack("{s:o}", "after", resource_json(&rt)) : NULL);
    if (r == GH_ERR_CONFLICT)
        return ctl_fail("a resource type named '%s' exists", rt.name);
    if (r != GH_OK)
        return change_failed("creating the resource type failed", &call, r);
    printf("%s\n", rt.id);
    return CTL_OK;
}

static int resource_delete(ctl *c, int argc, char **argv)
{
    return delete_command(c, argc, argv, &RESOURCE,
                          "Delete a resource type of the company, and its permissions.\n");
}

int ctl_resource(ctl *c, int argc, char **argv)
{
    static const ctl_cmd cmds[] = {
        { "list", resource_list, "", "list the resource types" },
        { "create", resource_create, "NAME [--description TEXT]", "create a resource type" },
        { "delete", resource_delete, "ID|NAME", "delete a resource type and its permissions" },
        { NULL, NULL, NULL, NULL },
    };
    return ctl_dispatch(c, cmds, argc, argv);
}

/* ------------------------------------------------------------ permission */

static int permission_list(ctl *c, int argc, char **argv)
{
    return list_command(c, argc, argv, &PERMISSION,
                        "List the company's permissions and the system's, by name.\n");
}

static int permission_create(ctl *c, int argc, char **argv)
{
    const char *tenant, *description = "";
    int rc = parse_common(argc, argv, "RESOURCE_TYPE ACTION", "Create the permission "
                          "RESOURCE_TYPE:ACTION (\"invoice:read\"), the resource type\nnamed "
                          "by id or name; prints its id.\n", 2, &tenant, &description);
    gh_permission p = { 0 };
    gh_resource_type rt;
    gh_call call;
    gh_result r;

    if (rc != GO_ON)
        return rc;
    if (check_name(argv[0], "action", argv[optind + 1]) != GO_ON)
        return CTL_USAGE;
    if (ctl_open_tenant(c, &tenant) < 0 || find(c, tenant, &RESOURCE, argv[optind], &rt) < 0)
        return CTL_FAIL;
    snprintf(p.description, sizeof p.description, "%s", description);
    snprintf(p.resource_type_id, sizeof p.resource_type_id, "%s", rt.id);
    snprintf(p.action, sizeof p.action, "%s", argv[optind + 1]);
    ctl_call(&call);
    if ((r = store_begin(c->conn, &call)) == GH_OK)
        r = rbac_permission_create(c->conn, &call, tenant, &p);
    r = finish(c, &call, r, tenant, "rbac.permission.create", p.id,
               r == GH_OK ? json_pack("{s:o}", "after", permission_json(&p)) : NULL);
    if (r == GH_ERR_CONFLICT)
        return ctl_fail("a permission named '%s:%s' exists", rt.name, p.action);
    if (r != GH_OK)
        return change_failed("creating the permission failed", &call, r);
    printf("%s\n", p.id);
    return CTL_OK;
}

static int permission_delete(ctl *c, int argc, char **argv)
{
    return delete_command(c, argc, argv, &PERMISSION,
                          "Delete a permission of the company (named by id or \"type:action\"),\n"
                          "and take it from every role.\n");
}

int ctl_permission(ctl *c, int argc, char **argv)
{
    static const ctl_cmd cmds[] = {
        { "list", permission_list, "", "list the permissions" },
        { "create", permission_create, "RESOURCE_TYPE ACTION [--description TEXT]",
          "create a permission" },
        { "delete", permission_delete, "ID|TYPE:ACTION", "delete a permission" },
        { NULL, NULL, NULL, NULL },
    };
    return ctl_dispatch(c, cmds, argc, argv);
}

/* ------------------------------------------------------------ role: reading */

/* The company's roles, built in ones too; *v malloc'd. -1 said why. */
static int load_roles(ctl *c, const char *tenant, gh_role **v, size_t *n)
{
    gh_call call;
    gh_result r;

    ctl_call(&call);
    if ((r = rbac_role_list(c->conn, &call, tenant, v, n)) != GH_OK)
        return ctl_fail("listing roles failed: %s", ctl_why(&call, r)), -1;
    return 0;
}

static int role_list(ctl *c, int argc, char **argv)
{
    return list_command(c, argc, argv, &ROLE, "List the company's roles, the built-in ones too, "
                        "by name, with their parents.\n");
}

/* One line of role show: the permissions of g (n) the role grants itself
 * (own), or those it has from its ancestors, each with the one it comes
 * from; "-": none. */
static void print_grants(const char *label, const gh_grant *g, size_t n, const gh_role *ro,
                         int own)
{
    size_t shown = 0;

    printf("%-15s", label);
    for (size_t i = 0; i < n; i++) {
        if ((strcmp(g[i].role_id, ro->id) == 0) != own)
            continue;
        printf("%s%s", shown++ ? ", " : " ", g[i].permission);
        if (!own)
            printf(" (from %s)", g[i].role_name);
    }
    printf("%s\n", shown ? "" : " -");
}

static int role_show(ctl *c, int argc, char **argv)
{
    const char *tenant;
    int rc = parse_common(argc, argv, "ID|NAME", "Show a role: its parents, the permissions it "
                         "grants itself and those\nit has from its parents.\n", 1, &tenant, NULL);
    char parents[RBAC_PARENTS_MAX * (RBAC_NAME_MAX + 2)], created[32], updated[32];
    gh_grant *g = NULL;
    gh_role *v = NULL;
    const gh_role *ro;
    size_t n, ng = 0;
    gh_call call;
    gh_result r;

    if (rc != GO_ON)
        return rc;
    if (ctl_open_tenant(c, &tenant) < 0 || load_roles(c, tenant, &v, &n) < 0)
        return CTL_FAIL;
    if (!(ro = pick(&ROLE, v, n, argv[optind]))) {
        free(v);
        return ctl_fail("no role '%.64s' in company %s", argv[optind], tenant);
    }
    ctl_call(&call);
    if (!ro->builtin[0] &&
        (r = rbac_role_effective(c->conn, &call, tenant, ro->id, &g, &ng)) != GH_OK) {
        free(v);
        return ctl_fail("reading the role's permissions failed: %s", ctl_why(&call, r));
    }
    parent_names(v, n, ro, parents, sizeof parents);
    ctl_time(ro->created_at, created, sizeof created);
    ctl_time(ro->updated_at, updated, sizeof updated);
    printf("id:             %s\nname:           %s\ndescription:    %s\nbuilt in:       %s\n"
           "parents:        %s\ncreated:        %s\nupdated:        %s\n",
           ro->id, ro->name, or_dash(ro->description), ro->builtin[0] ? ro->builtin : "no",
           parents, created, updated);
    /* a built-in role holds by its mark, not by rows: no list to show */
    if (strcmp(ro->builtin, "superuser") == 0)
        printf("permissions:    (every permission, in every company)\n");
    else if (ro->builtin[0])
        printf("permissions:    (every permission of the company)\n");
    else {
        print_grants("permissions:", g, ng, ro, 1);
        print_grants("inherited:", g, ng, ro, 0);
    }
    free(g);
    free(v);
    return CTL_OK;
}

/* ------------------------------------------------------------ role: changing */

typedef struct role_args {
    const char *tenant, *name, *description;
    const char *parents[RBAC_PARENTS_MAX];
    size_t n_parents;
    int set_parents;          /* --parent or --no-parents: replace them */
} role_args;

/* The options of role create (update 0) or role update: GO_ON, or the
 * exit code. */
static int parse_role(int argc, char **argv, int update, role_args *a)
{
    static const struct option create_opts[] = {
        DESCRIPTION_OPTION, { "parent", required_argument, NULL, 'p' }, TENANT_OPTION,
        HELP_OPTION, { NULL, 0, NULL, 0 },
    };
    static const struct option update_opts[] = {
        { "name", required_argument, NULL, 'n' }, DESCRIPTION_OPTION,
        { "parent", required_argument, NULL, 'p' }, { "no-parents", no_argument, NULL, 'P' },
        TENANT_OPTION, HELP_OPTION, { NULL, 0, NULL, 0 },
    };
    int first = 1, o;

    a->tenant = GH_ROOT_TENANT;
    while ((o = ctl_getopt(argc, argv, update ? "n:d:p:Pt:h" : "d:p:t:h",
                           update ? update_opts : create_opts, &first)) != -1) {
        switch (o) {
        case 'n':
            if (check_name(argv[0], "role name", optarg) != GO_ON)
                return CTL_USAGE;
            a->name = optarg;
            break;
        case 'd':
            if (check_description(argv[0], optarg) != GO_ON)
                return CTL_USAGE;
            a->description = optarg;
            break;
        case 'p':
            if (a->n_parents == RBAC_PARENTS_MAX)
                return ctl_usage_error(argv[0], "at most %d parents", RBAC_PARENTS_MAX);
            a->parents[a->n_parents++] = optarg;
            a->set_parents = 1;
            break;
        case 'P': a->set_parents = 1; break;
        case 't': a->tenant = optarg; break;
        case 'h':
            if (update)
                printf("Usage: %s ROLE [OPTIONS]\n"
                       "Change a role of the company (not a built-in one). What is not given\n"
                       "stays; parents given replace its parents, and a cycle is refused.\n"
                       "  -n, --name NAME          rename it\n"
                       "  -d, --description TEXT   ('' clears it)\n"
                       "  -p, --parent ROLE        a parent, by id or name; repeat for more\n"
                       "  -P, --no-parents         no parents any more\n" TENANT_HELP, argv[0]);
            else
                printf("Usage: %s NAME [OPTIONS]\n"
                       "Create a role in the company. It has its parents' permissions too.\n"
                       "  -d, --description TEXT\n"
                       "  -p, --parent ROLE        a parent, by id or name; repeat for more\n"
                       TENANT_HELP "Prints its id.\n", argv[0]);
            return CTL_OK;
        default: return CTL_USAGE;
        }
    }
    if (argc - optind != 1)
        return ctl_usage_error(argv[0], update ? "expected ROLE" : "expected NAME");
    if (!update && check_name(argv[0], "role name", argv[optind]) != GO_ON)
        return CTL_USAGE;
    return GO_ON;
}

/* The parents a names, by id, into ro; -1 said why. */
static int resolve_parents(ctl *c, const char *tenant, const role_args *a, gh_role *ro)
{
    gh_role p;

    ro->n_parents = 0;
    for (size_t i = 0; i < a->n_parents; i++) {
        if (find(c, tenant, &ROLE, a->parents[i], &p) < 0)
            return -1;
        memcpy(ro->parents[ro->n_parents++], p.id, sizeof p.id);
    }
    return 0;
}

static int role_create(ctl *c, int argc, char **argv)
{
    role_args a = { 0 };
    int rc = parse_role(argc, argv, 0, &a);
    gh_role ro = { 0 };
    gh_call call;
    gh_result r;

    if (rc != GO_ON)
        return rc;
    snprintf(ro.name, sizeof ro.name, "%s", argv[optind]);
    snprintf(ro.description, sizeof ro.description, "%s", a.description ? a.description : "");
    if (ctl_open_tenant(c, &a.tenant) < 0 || resolve_parents(c, a.tenant, &a, &ro) < 0)
        return CTL_FAIL;
    ctl_call(&call);
    if ((r = store_begin(c->conn, &call)) == GH_OK)
        r = rbac_role_create(c->conn, &call, a.tenant, &ro);
    r = finish(c, &call, r, a.tenant, "rbac.role.create", ro.id,
               r == GH_OK ? json_pack("{s:o}", "after", role_json(&ro)) : NULL);
    if (r == GH_ERR_CONFLICT && !call.message[0])
        return ctl_fail("a role named '%s' exists", ro.name);
    if (r != GH_OK)
        return change_failed("creating the role failed", &call, r);
    printf("%s\n", ro.id);
    return CTL_OK;
}

static int role_update(ctl *c, int argc, char **argv)
{
    role_args a = { 0 };
    int rc = parse_role(argc, argv, 1, &a);
    char what[128];
    gh_role before, after;
    gh_call call;
    gh_result r;

    if (rc != GO_ON)
        return rc;
    if (ctl_open_tenant(c, &a.tenant) < 0 || find(c, a.tenant, &ROLE, argv[optind], &before) < 0)
        return CTL_FAIL;
    after = before;
    if (a.name)
        snprintf(after.name, sizeof after.name, "%s", a.name);
    if (a.description)
        snprintf(after.description, sizeof after.description, "%s", a.description);
    if (a.set_parents && resolve_parents(c, a.tenant, &a, &after) < 0)
        return CTL_FAIL;
    ctl_call(&call);
    if ((r = store_begin(c->conn, &call)) == GH_OK)
        r = rbac_role_update(c->conn, &call, a.tenant, &after);
    r = finish(c, &call, r, a.tenant, "rbac.role.update", before.id,
               r == GH_OK ? json_pack("{s:o, s:o}", "before", role_json(&before), "after",
                                      role_json(&after)) : NULL);
    if (r == GH_ERR_CONFLICT && !call.message[0])
        return ctl_fail("a role named '%s' exists", after.name);
    snprintf(what, sizeof what, "changing role '%s' failed", before.name);
    if (r != GH_OK)
        return change_failed(what, &call, r);
    printf("role %s updated\n", after.name);
    return CTL_OK;
}

static int role_delete(ctl *c, int argc, char **argv)
{
    return delete_command(c, argc, argv, &ROLE,
                          "Delete a role of the company (not a built-in one). Its holders and its\n"
                          "child roles lose it, and what it gave them.\n");
}

/* grant (1) or revoke (0) a role's own permission. */
static int grant_command(ctl *c, int argc, char **argv, int grant)
{
    const char *tenant;
    int rc = parse_common(argc, argv, "ROLE PERMISSION",
                         grant ? "Give a role a permission of its own (named by id or \"type:action\").\n"
                               : "Take a permission of its own from a role.\n", 2, &tenant, NULL);
    char what[256];
    gh_permission p;
    gh_role ro;
    gh_call call;
    gh_result r;

    if (rc != GO_ON)
        return rc;
    if (ctl_open_tenant(c, &tenant) < 0 || find(c, tenant, &ROLE, argv[optind], &ro) < 0 ||
        find(c, tenant, &PERMISSION, argv[optind + 1], &p) < 0)
        return CTL_FAIL;
    ctl_call(&call);
    if ((r = store_begin(c->conn, &call)) == GH_OK)
        r = grant ? rbac_role_grant(c->conn, &call, tenant, ro.id, p.id)
                  : rbac_role_revoke(c->conn, &call, tenant, ro.id, p.id);
    r = finish(c, &call, r, tenant, grant ? "rbac.role.grant" : "rbac.role.revoke", ro.id,
               r == GH_OK ? json_pack("{s:s, s:s, s:s, s:s}", "role_id", ro.id, "role", ro.name,
                                      "permission_id", p.id, "permission", p.name) : NULL);
    if (!grant && r == GH_ERR_NOT_FOUND)
        return ctl_fail("role '%s' does not grant itself '%s'", ro.name, p.name);
    snprintf(what, sizeof what, "%s '%s' %s role '%s' failed", grant ? "granting" : "revoking",
             p.name, grant ? "to" : "from", ro.name);
    if (r != GH_OK)
        return change_failed(what, &call, r);
    printf("role %s: %s %s\n", ro.name, grant ? "granted" : "revoked", p.name);
    return CTL_OK;
}

static int role_grant(ctl *c, int argc, char **argv)
{
    return grant_command(c, argc, argv, 1);
}

static int role_revoke(ctl *c, int argc, char **argv)
{
    return grant_command(c, argc, argv, 0);
}

/* assign (1) or unassign (0) a user's role. */
static int assign_command(ctl *c, int argc, char **argv, int assign)
{
    const char *tenant;
    int rc = parse_common(argc, argv, "USER ROLE",
                         assign ? "Give a user a role. The user is named by id, email address or "
                                  "username.\n"
                                : "Take a role from a user; the company's last admin stays one.\n"
                                  "The user is named by id, email address or username.\n",
                         2, &tenant, NULL);
    char what[256];
    gh_user u = { 0 };
    gh_role ro;
    gh_call call;
    gh_result r;

    if (rc != GO_ON)
        return rc;
    if (ctl_open_tenant(c, &tenant) < 0 || ctl_find_user(c, tenant, argv[optind], &u) < 0 ||
        find(c, tenant, &ROLE, argv[optind + 1], &ro) < 0) {
        user_clear(&u);
        return CTL_FAIL;
    }
    ctl_call(&call);
    if ((r = store_begin(c->conn, &call)) == GH_OK)
        r = assign ? rbac_user_assign(c->conn, &call, tenant, u.id, ro.id)
                   : rbac_user_unassign(c->conn, &call, tenant, u.id, ro.id);
    r = finish(c, &call, r, tenant, assign ? "rbac.user.assign" : "rbac.user.unassign", u.id,
               r == GH_OK ? json_pack("{s:s, s:s}", "role_id", ro.id, "role", ro.name) : NULL);
    if (!assign && r == GH_ERR_NOT_FOUND)
        rc = ctl_fail("user %s does not hold role '%s'", u.id, ro.name);
    else if (r != GH_OK) {
        snprintf(what, sizeof what, "%s role '%s' %s user %s failed",
                 assign ? "assigning" : "unassigning", ro.name, assign ? "to" : "from", u.id);
        rc = change_failed(what, &call, r);
    } else {
        printf("%s (%s): %s %s\n", u.id, or_dash(u.email ? u.email : ""),
               assign ? "assigned" : "unassigned", ro.name);
        rc = CTL_OK;
    }
    user_clear(&u);
    return rc;
}

static int role_assign(ctl *c, int argc, char **argv)
{
    return assign_command(c, argc, argv, 1);
}

static int role_unassign(ctl *c, int argc, char **argv)
{
    return assign_command(c, argc, argv, 0);
}

int ctl_role(ctl *c, int argc, char **argv)
{
    static const ctl_cmd cmds[] = {
        { "list", role_list, "", "list the roles, with their parents" },
        { "show", role_show, "ID|NAME", "show a role, its parents and its own permissions" },
        { "create", role_create, "NAME [--description TEXT] [--parent ROLE]...",
          "create a role" },
        { "update", role_update, "ROLE [--name NAME] [--description TEXT] [--parent ROLE]... "
          "[--no-parents]", "rename a role or change its parents" },
        { "delete", role_delete, "ID|NAME", "delete a role" },
        { "grant", role_grant, "ROLE PERMISSION", "give a role a permission" },
        { "revoke", role_revoke, "ROLE PERMISSION", "take a permission from a role" },
        { "assign", role_assign, "USER ROLE", "give a user a role" },
        { "unassign", role_unassign, "USER ROLE", "take a role from a user" },
        { NULL, NULL, NULL, NULL },
    };
    return ctl_dispatch(c, cmds, argc, argv);
}
