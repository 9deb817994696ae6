/*
 * reencrypt.c - `gatehousectl reencrypt`: move every account's personal
 * data (email, username, names, phone, country) to the newest key of
 * `encryption.keys`, writing blind indexes for the address and username;
 * `--status` counts where the rows stand; `--decrypt` goes back to clear
 * text (before taking `encryption:` out of the config).
 *
 * This is how encryption is switched on for an existing database and how
 * a key is retired. The work is done in batches (auth/users_crypt.c), one
 * transaction each, beside a running daemon; interrupted, it simply runs
 * again and skips what is done.
 */
#include <stdlib.h>
#include <string.h>
#include "auth/users.h"
#include "auth/users_crypt.h"
#include "ctl/ctl.h"

#define BATCH_DEFAULT 100
#define PASSES_MAX 3     /* rows the daemon changed meanwhile get another go */

typedef struct re_args {
    int status, to_clear, batch;
    int64_t limit;       /* rows to move at most; 0: all */
} re_args;

static int help(const char *cmd)
{
    printf("Usage: %s [--status] [--batch N] [--limit N] [--decrypt]\n"
           "Move the personal data of every account (email, username, names, phone,\n"
           "country) to the newest key of encryption.keys, with blind indexes for\n"
           "lookups: switches encryption on for an existing database, and retires\n"
           "old keys. Safe beside a running gatehoused; run it again after an\n"
           "interruption: rows already on the newest key are skipped.\n"
           "  -s, --status     count rows in clear text, on old keys, on the newest\n"
           "  -b, --batch N    rows per transaction (1 to 1000, default %d)\n"
           "  -l, --limit N    stop after moving N rows (run again to go on)\n"
           "      --decrypt    back to clear text, before removing encryption:\n"
           "                   from the config (every key must still be there)\n",
           cmd, BATCH_DEFAULT);
    return CTL_OK;
}

static int parse(int argc, char **argv, re_args *a, int *done)
{
    static const struct option longopts[] = {
        { "status", no_argument, NULL, 's' },  { "batch", required_argument, NULL, 'b' },
        { "limit", required_argument, NULL, 'l' }, { "decrypt", no_argument, NULL, 'D' },
        { "help", no_argument, NULL, 'h' },    { NULL, 0, NULL, 0 },
    };
    int first = 1, o;
    char *end;

    *done = 0;
    memset(a, 0, sizeof(*a));
    a->batch = BATCH_DEFAULT;
    while ((o = ctl_getopt(argc, argv, "sb:l:h", longopts, &first)) != -1) {
        switch (o) {
        case 's': a->status = 1; break;
        case 'D': a->to_clear = 1; break;
        case 'b':
            a->batch = (int)strtol(optarg, &end, 10);
            if (*end || a->batch < 1 || a->batch > 1000)
                return ctl_usage_error(argv[0], "--batch: expected 1 to 1000");
            break;
        case 'l':
            a->limit = strtoll(optarg, &end, 10);
            if (*end || a->limit < 1)
                return ctl_usage_error(argv[0], "--limit: expected a positive number");
            break;
        case 'h': *done = 1; return help(argv[0]);
        default: return CTL_USAGE;
        }
    }
    if (optind < argc)
        return ctl_usage_error(argv[0], "unexpected argument '%.64s'", argv[optind]);
    return CTL_OK;
}

static int print_status(ctl *c, const gh_pii *p)
{
    users_pii_status st;
    gh_call call;
    gh_result r;

    ctl_call(&call);
    if ((r = users_pii_status_get(c->conn, &call, p, &st)) != GH_OK)
        return ctl_fail("reading the accounts: %s", ctl_why(&call, r));
    printf("accounts: %lld in clear text, %lld on older keys, %lld on the newest key%s%s%s, "
           "%lld erased\n", (long long)st.clear, (long long)st.old_key, (long long)st.newest,
           p ? " (" : "", p ? pii_newest_kid(p) : "", p ? ")" : "", (long long)st.erased);
    return CTL_OK;
}

typedef struct totals {
    int64_t moved, raced, failed;
} totals;

/* One pass over the table; stops early at the limit. */
static int one_pass(ctl *c, const gh_pii *p, const re_args *a, totals *t)
{
    users_pii_batch b = { .after = "", .to_clear = a->to_clear };
    gh_call call;
    gh_result r;

    t->raced = 0;
    do {
        b.size = a->batch;
        if (a->limit > 0 && a->limit - t->moved < b.size)
            b.size = (int)(a->limit - t->moved);
        ctl_call(&call);
        if ((r = users_pii_move(c->conn, &call, p, &b)) != GH_OK)
            return ctl_fail("after %lld rows moved: %s (run again to go on)",
                            (long long)t->moved, ctl_why(&call, r));
        t->moved += b.moved;
        t->raced += b.raced;
        t->failed += b.failed;
        if (b.moved > 0)
            printf("moved %lld rows so far\n", (long long)t->moved);
        fflush(stdout);
    } while (b.seen == b.size && (a->limit == 0 || t->moved < a->limit));
    return CTL_OK;
}

static int audit_run(ctl *c, const re_args *a, const gh_pii *p, const totals *t)
{
    json_t *d = json_pack("{s:s, s:I}", "to", a->to_clear ? "clear" : pii_newest_kid(p),
                          "moved", (json_int_t)t->moved);
    gh_call call;
    gh_result r;

    ctl_call(&call);
    r = ctl_audit(c, &call, GH_ROOT_TENANT, "pii.reencrypt", NULL, d);
    json_decref(d);
    return r == GH_OK ? CTL_OK : ctl_fail("recording the audit event: %s", ctl_why(&call, r));
}

/* An UPDATE leaves the old row's bytes in the page's free space and in
 * WAL frames until they are overwritten: on SQLite, rewrite the file
 * (VACUUM keeps live rows only) and empty the WAL, so the clear text is
 * gone from disk too. Servers keep old row versions in their own ways
 * (README: Encryption at rest). */
static void scrub_sqlite(ctl *c)
{
    gh_call call;
    gh_result r;

    if (strcmp(store_dialect(c->conn), "sqlite") != 0)
        return;
    ctl_call(&call);
    r = store_exec_script(c->conn, &call, "VACUUM; PRAGMA wal_checkpoint(TRUNCATE)");
    if (r != GH_OK)
        fprintf(stderr, "gatehousectl: warning: VACUUM failed (%s): old values may remain in "
                "the database file's free pages until it runs\n", ctl_why(&call, r));
    else
        printf("database file rewritten (VACUUM): no old values left in its free pages\n");
}

static int run(ctl *c, const gh_pii *p, const re_args *a)
{
    totals t = { 0, 0, 0 };
    int pass = 0, rc;

    do {
        if ((rc = one_pass(c, p, a, &t)) != CTL_OK)
            return rc;
    } while (t.raced > 0 && ++pass < PASSES_MAX && (a->limit == 0 || t.moved < a->limit));
    printf("moved %lld rows to %s%s%s\n", (long long)t.moved,
           a->to_clear ? "clear text" : "key '", a->to_clear ? "" : pii_newest_kid(p),
           a->to_clear ? "" : "'");
    if (t.moved > 0 && (rc = audit_run(c, a, p, &t)) != CTL_OK)
        return rc;
    if (t.moved > 0)
        scrub_sqlite(c);
    if ((rc = print_status(c, p)) != CTL_OK)
        return rc;
    if (t.failed > 0)
        return ctl_fail("%lld rows could not be moved (see the messages above)",
                        (long long)t.failed);
    if (t.raced > 0)
        return ctl_fail("%lld rows kept changing meanwhile: run again", (long long)t.raced);
    return CTL_OK;
}

int ctl_reencrypt(ctl *c, int argc, char **argv)
{
    re_args a;
    int done, rc = parse(argc, argv, &a, &done);

    if (rc != CTL_OK || done)
        return rc;
    if (ctl_open_store(c, 1) < 0)
        return CTL_FAIL;
    if (a.status)
        return print_status(c, pii_current());
    if (pii_current() == NULL)
        return ctl_fail("encryption.keys is not configured in %s: nothing to encrypt with",
                        c->config_path);
    return run(c, pii_current(), &a);
}
