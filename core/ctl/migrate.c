/*
 * migrate.c - `gatehousectl migrate status|up`: the schema version of the
 * configured database, and applying the migrations it lacks.
 *
 * gatehoused migrates at start-up by itself; these commands exist for
 * operators who upgrade deliberately (several instances on one database,
 * a change window, a backup first) and for the other gatehousectl commands,
 * which refuse a database whose schema is behind rather than migrate it
 * behind the operator's back.
 *
 * What ran is read back from schema_migrations, the database's own record,
 * so the output is what happened there and not what this binary believes.
 */
#include <stdlib.h>
#include <string.h>
#include "ctl/ctl.h"
#include "store/migrations.h"

/* A row of schema_migrations. */
typedef struct applied {
    int64_t version, at;
    char name[64];
} applied;

typedef struct applied_list {
    applied *v;
    size_t n;
    int oom;
} applied_list;

static int applied_row(void *ud, const gh_param *cols, uint32_t n)
{
    applied_list *l = ud;
    applied *grown, a = { 0 };

    if (n < 3)
        return 0;
    if (cols[0].type == GH_T_INT)
        a.version = *(const int64_t *)cols[0].data;
    if (cols[1].type == GH_T_STR)
        snprintf(a.name, sizeof a.name, "%.*s", (int)cols[1].len, (const char *)cols[1].data);
    if (cols[2].type == GH_T_INT)
        a.at = *(const int64_t *)cols[2].data;
    if (!(grown = realloc(l->v, (l->n + 1) * sizeof *grown))) {
        l->oom = 1;
        return 1;
    }
    l->v = grown;
    l->v[l->n++] = a;
    return 0;
}

/* Versions above `after`, oldest first. */
static int read_applied(ctl *c, int after, applied_list *l)
{
    gh_call call;
    int64_t floor = after;
    const gh_param arg = { "version", GH_T_INT, &floor, sizeof floor };

    ctl_call(&call);
    gh_result r = store_exec(c->conn, &call,
                             "SELECT version, name, applied_at FROM schema_migrations "
                             "WHERE version > ? ORDER BY version", &arg, 1,
                             applied_row, l, NULL);
    if (r != GH_OK)
        return ctl_fail("reading schema_migrations: %s", ctl_why(&call, r)), -1;
    if (l->oom)
        return ctl_fail("out of memory"), -1;
    return 0;
}

static int usage_of(const char *cmd, FILE *out, const char *what)
{
    fprintf(out, "Usage: %s\n%s", cmd, what);
    return out == stdout ? CTL_OK : CTL_USAGE;
}

/* No options but --help: shared by both subcommands. */
static int no_options(int argc, char **argv, const char *help, int *done)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    int first = 1, o;

    *done = 1;
    while ((o = ctl_getopt(argc, argv, "h", longopts, &first)) != -1) {
        if (o == 'h')
            return usage_of(argv[0], stdout, help);
        return CTL_USAGE;
    }
    if (optind < argc)
        return ctl_usage_error(argv[0], "unexpected argument '%.64s'", argv[optind]);
    *done = 0;
    return CTL_OK;
}

static int migrate_status(ctl *c, int argc, char **argv)
{
    int done, rc = no_options(argc, argv,
        "Show the schema version of the database, the latest this gatehousectl\n"
        "knows, and each migration: when it was applied, or that it is pending.\n",
        &done);
    int version = 0, latest = store_latest_version();
    applied_list l = { 0 };

    if (done)
        return rc;
    if (ctl_open_store(c, 0) < 0)
        return CTL_FAIL;
    if (store_schema_version(c->conn, &version) < 0)
        return ctl_fail("cannot read the schema version of the database");
    if (read_applied(c, 0, &l) < 0)
        return CTL_FAIL;

    printf("storage:  %s\n", c->plugins.storage->name);
    printf("current:  %d\n", version);
    printf("latest:   %d\n", latest);
    printf("pending:  %d\n", version < latest ? latest - version : 0);
    printf("\n%-8s %-24s %s\n", "VERSION", "NAME", "APPLIED");
    for (int v = 1; v <= latest; v++) {
        const applied *a = NULL;
        char when[32] = "pending";

        for (size_t i = 0; i < l.n; i++)
            if (l.v[i].version == v)
                a = &l.v[i];
        if (a)
            ctl_time(a->at, when, sizeof when);
        printf("%-8d %-24s %s\n", v, gh_migrations[v - 1].name, when);
    }
    /* written by a newer gatehouse: shown, since this binary must not
     * pretend the database is what it knows */
    for (size_t i = 0; i < l.n; i++) {
        char when[32];

        if (l.v[i].version <= latest)
            continue;
        ctl_time(l.v[i].at, when, sizeof when);
        printf("%-8lld %-24s %s (unknown to this gatehousectl)\n", (long long)l.v[i].version,
               l.v[i].name, when);
    }
    free(l.v);
    if (version > latest)
        return ctl_fail("the database is newer (%d) than this gatehousectl knows (%d)",
                        version, latest);
    return CTL_OK;
}

static int migrate_up(ctl *c, int argc, char **argv)
{
    int done, rc = no_options(argc, argv,
        "Apply every pending migration, each in its own transaction, and print\n"
        "what ran. Safe beside running gatehoused instances: one migrates, the\n"
        "others wait and then find nothing to do.\n",
        &done);
    int before = 0, ran = 0;
    char err[1024];
    applied_list l = { 0 };

    if (done)
        return rc;
    c->make_state = 1;   /* the first command of a fresh install */
    if (ctl_open_store(c, 0) < 0)
        return CTL_FAIL;
    if (store_schema_version(c->conn, &before) < 0)
        return ctl_fail("cannot read the schema version of the database");
    /* a failure part-way keeps the steps before it: report those too */
    rc = store_migrate(c->conn, &ran, err, sizeof err) == 0 ? CTL_OK : CTL_FAIL;
    if (ran > 0 && read_applied(c, before, &l) == 0)
        for (size_t i = 0; i < l.n; i++)
            printf("applied %lld %s\n", (long long)l.v[i].version, l.v[i].name);
    free(l.v);
    if (rc != CTL_OK)
        return ctl_fail("%s", err);
    if (ran == 0)
        printf("schema is up to date at version %d\n", before);
    else
        printf("schema is now at version %d\n", before + ran);
    return CTL_OK;
}

int ctl_migrate(ctl *c, int argc, char **argv)
{
    static const ctl_cmd cmds[] = {
        { "status", migrate_status, "", "show the schema version and pending migrations" },
        { "up", migrate_up, "", "apply the pending migrations" },
        { NULL, NULL, NULL, NULL },
    };
    return ctl_dispatch(c, cmds, argc, argv);
}
