/*
 * company.c - `gatehousectl company create|list|show|deactivate|provisioning`:
 * companies (tenants) in the store, as auth/companies.h keeps them, and
 * their cloud provisioning (auth/provisioning.h). Every change is audited
 * in the company it changes, with the actor "cli".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "auth/companies.h"
#include "auth/provisioning.h"
#include "clock.h"
#include "ctl/ctl.h"
#include "yaml_tree.h"

#define HELP_OPTION { "help", no_argument, NULL, 'h' }
#define LIST_PAGE 200

static int help(const char *cmd, const char *args, const char *text)
{
    printf("Usage: %s %s\n%s", cmd, args, text);
    return CTL_OK;
}

/* The company named by id or slug, into *co; -1 said why. */
static int find(ctl *c, const char *who, gh_company *co)
{
    gh_call call;
    gh_result r;

    ctl_call(&call);
    r = companies_find(c->conn, &call, who, co);
    if (r == GH_ERR_NOT_FOUND)
        return ctl_fail("no company '%.64s'", who), -1;
    if (r != GH_OK)
        return ctl_fail("looking up '%.64s' failed: %s", who, ctl_why(&call, r)), -1;
    return 0;
}

static void print_one(const gh_company *co)
{
    char created[32], off[32], erase[32], erased[32];
    char *settings = company_settings_json(&co->settings);

    ctl_time(co->created_at, created, sizeof created);
    ctl_time(co->deactivated_at, off, sizeof off);
    ctl_time(co->erase_after, erase, sizeof erase);
    ctl_time(co->erased_at, erased, sizeof erased);
    printf("id:             %s\nslug:           %s\nname:           %s\nroot:           %s\n"
           "active:         %s\ncreated:        %s\ndeactivated:    %s\nerase after:    %s\n"
           "erased:         %s\nsettings:       %s\n", co->id, co->slug, co->name,
           co->is_root ? "yes" : "no", co->is_active ? "yes" : "no", created, off, erase, erased,
           settings ? settings : "?");
    free(settings);
}

/* ---------------------------------------------------------------- create */

static int company_create(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "no-signup", no_argument, NULL, 'n' },
        { "password-min-length", required_argument, NULL, 'p' },
        HELP_OPTION, { NULL, 0, NULL, 0 },
    };
    gh_company co = { .settings = company_settings_default() };
    int64_t min_len;
    int first = 1, o;
    gh_call call;
    gh_result r;

    while ((o = ctl_getopt(argc, argv, "np:h", longopts, &first)) != -1) {
        switch (o) {
        case 'n': co.settings.signup_allowed = 0; break;
        case 'p':
            if (cfg_parse_int(optarg, &min_len) < 0 || min_len < 0 || min_len > 128)
                return ctl_usage_error(argv[0], "--password-min-length wants 0 to 128");
            co.settings.pw_min_length = min_len;
            break;
        case 'h':
            return help(argv[0], "SLUG NAME [OPTIONS]",
                "Create a company. SLUG (a-z, 0-9 and '-') names it in sign-in bodies\n"
                "(\"company\") and in companies.hosts; NAME is shown to people.\n"
                "  -n, --no-signup               only admins create its accounts\n"
                "  -p, --password-min-length N   passwords at least N characters\n"
                "                                (more than the server's; 0: the server's)\n");
        default: return CTL_USAGE;
        }
    }
    if (argc - optind != 2)
        return ctl_usage_error(argv[0], "expected SLUG NAME");
    if (!company_slug_valid(argv[optind]))
        return ctl_usage_error(argv[0], "'%.64s' is not a slug: 1 to %d of a-z, 0-9 and '-', "
                               "not at either end", argv[optind], COMPANY_SLUG_MAX);
    if (strlen(argv[optind + 1]) > COMPANY_NAME_MAX)
        return ctl_usage_error(argv[0], "the name is longer than %d bytes", COMPANY_NAME_MAX);
    snprintf(co.slug, sizeof co.slug, "%s", argv[optind]);
    snprintf(co.name, sizeof co.name, "%s", argv[optind + 1]);
    if (ctl_open_store(c, 1) < 0)
        return CTL_FAIL;
    ctl_call(&call);
    if ((r = store_begin(c->conn, &call)) == GH_OK &&
        (r = companies_create(c->conn, &call, &co)) == GH_OK) {
        json_t *d = json_pack("{s:s, s:s}", "slug", co.slug, "name", co.name);
        r = ctl_audit(c, &call, co.id, "company.create", co.id, d);
        json_decref(d);
    }
    if (r == GH_OK)
        r = store_commit(c->conn, &call);
    else
        store_rollback(c->conn, &call);
    if (r == GH_ERR_CONFLICT)
        return ctl_fail("a company with the slug '%s' exists", co.slug);
    if (r != GH_OK)
        return ctl_fail("creating the company failed: %s", ctl_why(&call, r));
    printf("%s\n", co.id);
    return CTL_OK;
}

/* ------------------------------------------------------------ list, show */

static int company_list(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = { HELP_OPTION, { NULL, 0, NULL, 0 } };
    int first = 1, o, rc = CTL_OK;
    size_t shown = 0;
    int64_t total = 0;

    while ((o = ctl_getopt(argc, argv, "h", longopts, &first)) != -1) {
        if (o == 'h')
            return help(argv[0], "", "List the companies, oldest first.\n");
        return CTL_USAGE;
    }
    if (optind < argc)
        return ctl_usage_error(argv[0], "unexpected argument '%.64s'", argv[optind]);
    if (ctl_open_store(c, 1) < 0)
        return CTL_FAIL;
    printf("%-36s  %-24s  %-6s  %s\n", "ID", "SLUG", "ACTIVE", "NAME");
    do {
        gh_company *v;
        size_t n;
        gh_call call;
        gh_result r;

        ctl_call(&call);
        if ((r = companies_list(c->conn, &call, LIST_PAGE, (int)shown, &v, &n, &total)) != GH_OK) {
            rc = ctl_fail("listing companies failed: %s", ctl_why(&call, r));
            break;
        }
        for (size_t i = 0; i < n; i++)
            printf("%-36s  %-24s  %-6s  %s\n", v[i].id, v[i].slug, v[i].is_active ? "yes" : "no",
                   v[i].name);
        free(v);
        shown += n;
        if (n == 0)
            break;
    } while ((int64_t)shown < total);
    return rc;
}

static int company_show(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = { HELP_OPTION, { NULL, 0, NULL, 0 } };
    gh_company co;
    int first = 1, o;

    while ((o = ctl_getopt(argc, argv, "h", longopts, &first)) != -1) {
        if (o == 'h')
            return help(argv[0], "ID|SLUG", "Show a company and its settings.\n");
        return CTL_USAGE;
    }
    if (argc - optind != 1)
        return ctl_usage_error(argv[0], "expected ID or SLUG");
    if (ctl_open_store(c, 1) < 0 || find(c, argv[optind], &co) < 0)
        return CTL_FAIL;
    print_one(&co);
    return CTL_OK;
}

/* ------------------------------------------------------------ deactivate */

static int company_deactivate(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = { HELP_OPTION, { NULL, 0, NULL, 0 } };
    int64_t revoked = 0, erase_at;
    gh_company co;
    int first = 1, o;
    gh_call call;
    gh_result r;

    while ((o = ctl_getopt(argc, argv, "h", longopts, &first)) != -1) {
        if (o == 'h')
            return help(argv[0], "ID|SLUG",
                "Deactivate a company at once: its users can no longer sign in or sign up,\n"
                "and every session of theirs ends, on every instance. Its personal data is\n"
                "due for erasure after companies.erasure_delay. The root company cannot be\n"
                "deactivated.\n");
        return CTL_USAGE;
    }
    if (argc - optind != 1)
        return ctl_usage_error(argv[0], "expected ID or SLUG");
    if (ctl_open_store(c, 1) < 0 || find(c, argv[optind], &co) < 0)
        return CTL_FAIL;
    if (co.is_root)
        return ctl_fail("the root company cannot be deactivated");
    erase_at = gh_now_ms() + c->cfg->company_erasure_delay_ms;
    ctl_call(&call);
    if ((r = store_begin(c->conn, &call)) == GH_OK &&
        (r = companies_deactivate(c->conn, &call, co.id, erase_at, c->cfg->access_ttl_ms,
                                  &revoked)) == GH_OK) {
        json_t *d = json_pack("{s:I}", "sessions_revoked", (json_int_t)revoked);
        r = ctl_audit(c, &call, co.id, "company.deactivate", co.id, d);
        json_decref(d);
    }
    if (r == GH_OK)
        r = store_commit(c->conn, &call);
    else
        store_rollback(c->conn, &call);
    if (r != GH_OK)
        return ctl_fail("deactivating '%s' failed: %s", co.slug, ctl_why(&call, r));
    printf("company %s deactivated; %lld session(s) ended\n", co.slug, (long long)revoked);
    return CTL_OK;
}

/* ---------------------------------------------------------- provisioning */

static void print_provisioning(const gh_provisioning *p)
{
    char next[32], updated[32];

    ctl_time(p->next_attempt_at, next, sizeof next);
    ctl_time(p->updated_at, updated, sizeof updated);
    printf("state:          %s\ncloud:          %s\nattempts:       %lld\nnext attempt:   %s\n"
           "updated:        %s\nlast error:     %s\nresources:\n", p->state, p->cloud,
           (long long)p->attempts, next, updated, p->last_error[0] ? p->last_error : "-");
    for (const char *r = p->resources; *r;) {
        size_t n = strcspn(r, "\n");
        printf("  %.*s\n", (int)n, r);
        r += n + (r[n] == '\n');
    }
}

static int company_provisioning(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = { { "retry", no_argument, NULL, 'r' }, HELP_OPTION,
                                              { NULL, 0, NULL, 0 } };
    gh_provisioning p;
    gh_company co;
    int first = 1, o, retry = 0;
    gh_call call;
    gh_result r;

    while ((o = ctl_getopt(argc, argv, "h", longopts, &first)) != -1) {
        if (o == 'r')
            retry = 1;
        else if (o == 'h')
            return help(argv[0], "ID|SLUG [--retry]",
                "Show a company's cloud provisioning: its state, the resources made, the\n"
                "last error. --retry provisions a failed or deprovisioned one again,\n"
                "resuming what it kept; a running daemon takes it up at its next poll.\n");
        else
            return CTL_USAGE;
    }
    if (argc - optind != 1)
        return ctl_usage_error(argv[0], "expected ID or SLUG");
    if (ctl_open_store(c, 1) < 0 || find(c, argv[optind], &co) < 0)
        return CTL_FAIL;
    ctl_call(&call);
    if (!retry)
        r = provisioning_get(c->conn, &call, co.id, &p);
    else if ((r = store_begin(c->conn, &call)) == GH_OK &&
             (r = provisioning_retry(c->conn, &call, co.id, &p)) == GH_OK)
        r = ctl_audit(c, &call, co.id, "provisioning.retry", co.id, NULL);
    if (retry && r == GH_OK)
        r = store_commit(c->conn, &call);
    else if (retry)
        store_rollback(c->conn, &call);
    if (r == GH_ERR_NOT_FOUND)
        return ctl_fail("company %s has no provisioning (no cloud when it was made)", co.slug);
    if (r == GH_ERR_CONFLICT)
        return ctl_fail("company %s: provisioning is %s: only a failed or deprovisioned one is "
                        "retried", co.slug, p.state);
    if (r != GH_OK)
        return ctl_fail("provisioning of '%s': %s", co.slug, ctl_why(&call, r));
    print_provisioning(&p);
    return CTL_OK;
}

int ctl_company(ctl *c, int argc, char **argv)
{
    static const ctl_cmd cmds[] = {
        { "create", company_create, "SLUG NAME [--no-signup] [--password-min-length N]",
          "create a company" },
        { "list", company_list, "", "list the companies" },
        { "show", company_show, "ID|SLUG", "show a company and its settings" },
        { "deactivate", company_deactivate, "ID|SLUG",
          "stop a company's sign-ins and sessions at once" },
        { "provisioning", company_provisioning, "ID|SLUG [--retry]",
          "show a company's cloud provisioning, or retry it" },
        { NULL, NULL, NULL, NULL },
    };
    return ctl_dispatch(c, cmds, argc, argv);
}
