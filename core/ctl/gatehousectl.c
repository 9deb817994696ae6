/*
 * gatehousectl.c - the admin CLI: global options, command dispatch, and
 * the plumbing every command shares (opening the daemon's config and
 * store, errors, audit).
 *
 * It talks to the database directly, not to a running gatehoused, so it
 * works before the first start (the first admin) and when the daemon is
 * down; it is safe beside a running daemon because every write is a store
 * transaction, as the daemon's own are.
 *
 * Output: results on stdout, one message per failure on stderr prefixed
 * "gatehousectl:"; exit 0 done, 1 failed, 2 usage. The core's log goes to
 * stderr at "error" (-v: "debug"), never to the daemon's syslog.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "auth/audit.h"
#include "auth/companies.h"
#include "ctl/ctl.h"
#include "log.h"
#include "privileges.h"

static const ctl_cmd groups[] = {
    { "user", ctl_user, "create|list|import|set-admin|activate|deactivate ...",
      "manage accounts" },
    { "company", ctl_company, "create|list|show|deactivate ...", "manage companies (tenants)" },
    { "role", ctl_role, "list|show|create|update|delete|grant|revoke|assign|unassign ...",
      "manage a company's roles and users' roles" },
    { "permission", ctl_permission, "list|create|delete ...", "manage a company's permissions" },
    { "resource", ctl_resource, "list|create|delete ...", "manage a company's resource types" },
    { "client", ctl_client, "create|list|rotate|delete ...", "manage a company's OAuth clients" },
    { "integration", ctl_integration, "create|list|delete ...",
      "manage a company's integrations and API keys" },
    { "keys", ctl_keys, "rotate|list", "manage the token signing keys" },
    { "migrate", ctl_migrate, "status|up", "show or apply database schema migrations" },
    { "reencrypt", ctl_reencrypt, "[--status] [--batch N] [--limit N] [--decrypt]",
      "move personal data to the newest encryption key" },
    { NULL, NULL, NULL, NULL },
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: gatehousectl [-c FILE] [-v] COMMAND [ARGS...]\n"
            "  -c, --config FILE  configuration file (default %s)\n"
            "  -v, --verbose      show the server's log messages\n"
            "  -V, --version      print the version and exit\n"
            "  -h, --help         print this help and exit\n"
            "\nCommands:\n",
            GH_CONFIG_FILE);
    for (const ctl_cmd *g = groups; g->name; g++)
        fprintf(out, "  %-10s %s\n             %s\n", g->name, g->args, g->help);
    fprintf(out, "\nRun 'gatehousectl COMMAND --help' for a command's options.\n");
}

/* ---------------------------------------------------------------- messages */

int ctl_fail(const char *fmt, ...)
{
    va_list ap;

    fputs("gatehousectl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CTL_FAIL;
}

int ctl_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help'.\n", cmd);
    return CTL_USAGE;
}

/* The option as typed, up to any "=value": what may be shown of it. */
static void option_name(const char *arg, char *out, size_t len)
{
    size_t n = strcspn(arg, "=");

    snprintf(out, len, "%.*s", (int)(n < 64 ? n : 64), arg);
}

int ctl_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
               int *first)
{
    char opts[64], name[80];
    int plus = shortopts[0] == '+', o;

    if (*first) {
        optind = 0;     /* GNU: reinitialise fully for a new argv */
        *first = 0;
    }
    /* ':' after any '+' makes a missing argument ':'; opterr 0 silences
     * getopt's own messages, which would print an "=value" */
    snprintf(opts, sizeof opts, "%s:%s", plus ? "+" : "", shortopts + plus);
    opterr = 0;
    o = getopt_long(argc, argv, opts, longopts, NULL);
    if (o != '?' && o != ':')
        return o;
    /* glibc: a bad long option leaves optopt 0 (or its val) and optind
     * past it; a bad short one leaves optopt the letter */
    const char *last = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    if (optopt == 0 || strncmp(last, "--", 2) == 0) {
        option_name(last, name, sizeof name);
        if (o == ':')
            ctl_usage_error(argv[0], "option '%s' needs an argument", name);
        else
            ctl_usage_error(argv[0], "option '%s' is unknown, ambiguous, or takes no value",
                            name);
    } else if (o == ':') {
        ctl_usage_error(argv[0], "option -%c needs an argument", optopt);
    } else {
        ctl_usage_error(argv[0], "unknown option -%c", optopt);
    }
    return '?';
}

/* ---------------------------------------------------------------- dispatch */

static const ctl_cmd *find(const ctl_cmd *cmds, const char *name)
{
    for (const ctl_cmd *c = cmds; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static void list_cmds(FILE *out, const char *group, const ctl_cmd *cmds)
{
    fprintf(out, "Usage: %s SUBCOMMAND [ARGS...]\n\nSubcommands:\n", group);
    for (const ctl_cmd *c = cmds; c->name; c++)
        fprintf(out, "  %s%s%s\n      %s\n", c->name, *c->args ? " " : "", c->args, c->help);
    fprintf(out, "\nRun '%s SUBCOMMAND --help' for details.\n", group);
}

int ctl_dispatch(ctl *c, const ctl_cmd *cmds, int argc, char **argv)
{
    const ctl_cmd *cmd;
    char name[128];
    int rc;

    if (argc < 2) {
        list_cmds(stderr, argv[0], cmds);
        return CTL_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        list_cmds(stdout, argv[0], cmds);
        return CTL_OK;
    }
    if (!(cmd = find(cmds, argv[1])))
        return ctl_usage_error(argv[0], "unknown subcommand '%.64s'", argv[1]);
    /* the subcommand sees itself as argv[0], with its whole name */
    snprintf(name, sizeof name, "%s %s", argv[0], cmd->name);
    char *saved = argv[1];
    argv[1] = name;
    rc = cmd->fn(c, argc - 1, argv + 1);
    argv[1] = saved;
    return rc;
}

/* ---------------------------------------------------------------- opening */

/* mkdir -p, 0700 like the daemon's: the state holds keys and data. */
/* root writing into a state directory the daemon owns leaves files (the
 * database's -wal and -shm, a new key) the daemon cannot open later;
 * with server.user set, gatehousectl becomes that user instead */
static void warn_if_root(const char *dir)
{
    struct stat st;

    if (geteuid() == 0 && stat(".", &st) == 0 && st.st_uid != 0)
        fprintf(stderr, "gatehousectl: warning: running as root in %s, which belongs to "
                        "uid %u: files made now will be root's; run gatehousectl as the "
                        "daemon's user\n", dir, (unsigned)st.st_uid);
}

int ctl_open_config(ctl *c)
{
    char err[1024];

    if (c->cfg)
        return 0;
    const char *path = c->config_arg ? c->config_arg : GH_CONFIG_FILE;
    /* absolute, as the daemon makes it, because we chdir below */
    if (!(c->config_path = realpath(path, NULL)))
        return ctl_fail("%s: %s", path, strerror(errno)), -1;
    if (!(c->cfg = config_load(c->config_path, err, sizeof err))) {
        ctl_fail("%s", err);
        return -1;
    }
    /* every command that writes accounts encrypts them as the daemon does */
    if (pii_from_config(c->cfg, &c->pii, err, sizeof err) < 0) {
        ctl_fail("%s", err);
        return -1;
    }
    pii_install(c->pii);
    /* Only `migrate up` creates state_dir, as the daemon does at start:
     * for any other command a missing one means a typo in -c or in the
     * config, better an error than a new empty database. */
    gh_account a;
    if (privileges_enter(c->cfg->run_user, c->cfg->run_group, c->cfg->state_dir, c->make_state,
                         &a, err, sizeof err) < 0) {
        ctl_fail("%s", err);
        return -1;
    }
    if (chdir(c->cfg->state_dir) < 0) {
        ctl_fail("state directory %s: %s", c->cfg->state_dir, strerror(errno));
        return -1;
    }
    warn_if_root(c->cfg->state_dir);
    return 0;
}

static int check_schema_version(ctl *c)
{
    int version = 0, latest = store_latest_version();

    if (store_schema_version(c->conn, &version) < 0) {
        ctl_fail("cannot read the schema version of the database");
        return -1;
    }
    if (version < latest) {
        ctl_fail("the database is at schema version %d, this gatehousectl needs %d: "
                 "run 'gatehousectl%s%s migrate up' first",
                 version, latest, c->config_arg ? " -c " : "",
                 c->config_arg ? c->config_arg : "");
        return -1;
    }
    if (version > latest) {
        ctl_fail("the database is at schema version %d, newer than this gatehousectl "
                 "knows (%d): use the gatehousectl of the running gatehoused", version, latest);
        return -1;
    }
    return 0;
}

int ctl_open_store(ctl *c, int check_schema)
{
    char err[1024];

    if (c->conn)
        return 0;
    if (ctl_open_config(c) < 0)
        return -1;
    /* Storage and kv only: the CLI needs nothing else, and an OAuth or
     * MFA plugin that cannot start (its provider down, its options wrong)
     * must not stand between an operator and the accounts. */
    gh_config data_only = *c->cfg;
    data_only.plugins = NULL;
    data_only.n_plugins = 0;
    if (plugins_load(&c->plugins, &data_only, err, sizeof err) < 0) {
        ctl_fail("%s", err);
        return -1;
    }
    c->plugins_loaded = 1;
    if (!(c->store = store_new(c->plugins.storage, c->plugins.kv))) {
        ctl_fail("out of memory");
        return -1;
    }
    if (plugins_thread_init(&c->plugins, err, sizeof err) < 0) {
        ctl_fail("%s", err);
        return -1;
    }
    c->thread_ready = 1;
    if (!(c->conn = store_thread_open(c->store, err, sizeof err))) {
        ctl_fail("storage: %s", err);
        return -1;
    }
    return check_schema ? check_schema_version(c) : 0;
}

/* The store, and a company that exists, named by id or slug: otherwise a
 * typo in --tenant would come back as "already exists" (a foreign key
 * conflict) on every user. *tenant then points at its id (in c). */
int ctl_open_tenant(ctl *c, const char **tenant)
{
    gh_company co;
    gh_call call;
    gh_result r;

    if (ctl_open_store(c, 1) < 0)
        return -1;
    ctl_call(&call);
    r = companies_find(c->conn, &call, *tenant, &co);
    if (r == GH_ERR_NOT_FOUND)
        return ctl_fail("no company %.64s", *tenant), -1;
    if (r != GH_OK)
        return ctl_fail("looking up company %.64s: %s", *tenant, ctl_why(&call, r)), -1;
    snprintf(c->tenant, sizeof c->tenant, "%s", co.id);
    *tenant = c->tenant;
    return 0;
}

void ctl_close(ctl *c)
{
    /* the order store.h asks for: connection, thread instances, store */
    if (c->conn)
        store_thread_close(c->conn);
    if (c->thread_ready)
        plugins_thread_fini(&c->plugins);
    store_free(c->store);
    if (c->plugins_loaded)
        plugins_unload(&c->plugins);
    config_free(c->cfg);
    pii_install(NULL);
    pii_free(c->pii);
    free(c->config_path);
    memset(c, 0, sizeof *c);
}

/* ---------------------------------------------------------------- helpers */

void ctl_call(gh_call *call)
{
    call_init(call, NULL, NULL, CTL_CALL_TIMEOUT_MS);
}

const char *ctl_why(const gh_call *call, gh_result r)
{
    return call->message[0] ? call->message : gh_result_str(r);
}

gh_result ctl_audit(ctl *c, gh_call *call, const char *tenant, const char *action,
                    const char *subject, json_t *details)
{
    /* who ran it, as far as this machine knows: the audit row of a CLI
     * action otherwise names no person */
    struct passwd *pw = getpwuid(geteuid());
    json_t *d = details ? json_incref(details) : json_object();
    char agent[64];

    if (!d)
        return GH_ERR_NOMEM;
    if (pw && pw->pw_name)
        json_object_set_new(d, "os_user", json_string(pw->pw_name));
    snprintf(agent, sizeof agent, "gatehousectl/%s", PACKAGE_VERSION);
    gh_audit e = {
        .tenant_id = tenant, .actor_id = "cli", .subject_id = subject, .action = action,
        .outcome = "success", .ip = NULL, .user_agent = agent, .details = d,
    };
    gh_result r = audit_record(c->conn, call, &e);
    json_decref(d);
    return r;
}

void ctl_time(int64_t ms, char *out, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (ms <= 0 || !gmtime_r(&t, &tm) || strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, len, "-");
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' }, { "verbose", no_argument, NULL, 'v' },
        { "version", no_argument, NULL, 'V' },      { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    ctl c = { 0 };
    int first = 1, o, rc;

    static char prog[] = "gatehousectl";
    argv[0] = prog;
    /* '+': options end at the command, whose own options come after it */
    while ((o = ctl_getopt(argc, argv, "+c:vVh", longopts, &first)) != -1) {
        switch (o) {
        case 'c': c.config_arg = optarg; break;
        case 'v': c.verbose = 1; break;
        case 'V':
            printf("gatehousectl %s (plugin ABI %d.%d)\n", PACKAGE_VERSION, GH_ABI_MAJOR,
                   GH_ABI_MINOR);
            return CTL_OK;
        case 'h': usage(stdout); return CTL_OK;
        default: return CTL_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return CTL_USAGE;
    }
    const ctl_cmd *g = find(groups, argv[optind]);
    if (!g) {
        if (strcmp(argv[optind], "help") == 0) {
            usage(stdout);
            return CTL_OK;
        }
        return ctl_usage_error("gatehousectl", "unknown command '%.64s'", argv[optind]);
    }

    gh_log_conf lc = { c.verbose ? GH_LOG_DEBUG : GH_LOG_ERROR, 0, 0, 0 };
    log_configure(&lc);
    /* a storage or kv server closing its socket must give an error, not
     * kill us halfway through a command */
    signal(SIGPIPE, SIG_IGN);

    char name[64];
    snprintf(name, sizeof name, "gatehousectl %s", g->name);
    argv[optind] = name;
    rc = g->fn(&c, argc - optind, argv + optind);
    ctl_close(&c);
    host_global_cleanup();
    /* a reader that went away (`| head`) is not our failure to report */
    if (fflush(stdout) != 0 && errno != EPIPE && rc == CTL_OK)
        rc = ctl_fail("writing the output: %s", strerror(errno));
    return rc;
}
