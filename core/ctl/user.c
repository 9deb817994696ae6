/*
 * user.c - `gatehousectl user ...`: create (the first admin, above all),
 * list, set-admin, activate, deactivate; import is in import.c.
 *
 * Passwords never come from the command line (readpass.c). They are
 * checked against the configured policy and hashed with the configured
 * argon2id parameters, exactly as signup does, and the buffers are wiped
 * afterwards. Neither a password nor a hash is ever printed.
 *
 * Every change runs in one store transaction together with its audit
 * record (actor "cli"): an action that cannot be recorded does not happen.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "auth/authz.h"
#include "auth/credentials.h"
#include "auth/password.h"
#include "auth/rbac.h"
#include "auth/sessions.h"
#include "auth/users.h"
#include "clock.h"
#include "ctl/ctl.h"

#define LIST_PAGE 500          /* users_list's own cap per call */
#define LIST_DEFAULT 100

/* Options every user subcommand shares. */
#define TENANT_OPTION { "tenant", required_argument, NULL, 't' }
#define HELP_OPTION { "help", no_argument, NULL, 'h' }

static int help(const char *cmd, const char *args, const char *text)
{
    printf("Usage: %s %s\n%s", cmd, args, text);
    return CTL_OK;
}

/* ---------------------------------------------------------------- create */

static int create_usage(const char *cmd)
{
    return help(cmd, "--email ADDRESS [OPTIONS]",
        "Create an account. The password is read from FILE, from stdin, or asked\n"
        "for on the terminal; never from the command line.\n"
        "  -e, --email ADDRESS       the sign-in address (required)\n"
        "  -u, --username NAME       3 to 64 of A-Z a-z 0-9 . _ -\n"
        "  -n, --full-name NAME\n"
        "  -a, --admin               an administrator (the first one comes from here)\n"
        "      --verified            mark the address as verified\n"
        "  -p, --password-file FILE  read the password from FILE (one line)\n"
        "      --password-stdin      read the password from stdin\n"
        CTL_TENANT_HELP
        "Prints the new user's id.\n");
}

typedef struct create_args {
    const char *email, *username, *full_name, *tenant, *pw_file;
    int admin, verified;
} create_args;

/* Insert the user and its audit record in one transaction. */
static gh_result create_in_store(ctl *c, gh_call *call, gh_user *u, const char *hash,
                                 int verified)
{
    gh_result r = store_begin(c->conn, call);

    if (r != GH_OK)
        return r;
    if ((r = users_create(c->conn, call, u, hash)) == GH_OK && verified)
        r = users_mark_verified(c->conn, call, u->id, gh_now_ms());
    if (r == GH_OK)
        r = rbac_operator_grant(c->conn, call, u);
    if (r == GH_OK) {
        json_t *d = json_pack("{s:b, s:b}", "admin", u->is_admin, "email_verified", verified);
        r = ctl_audit(c, call, u->tenant_id, "user.create", u->id, d);
        json_decref(d);
    }
    if (r == GH_OK)
        return store_commit(c->conn, call);
    store_rollback(c->conn, call);
    return r;
}

static int do_create(ctl *c, const create_args *a)
{
    static char pw[CTL_PW_MAX + 1];
    char email_n[256], user_n[80], hash[GH_PW_HASH_MAX];
    const char *code, *detail = NULL, *tenant = a->tenant;
    gh_user u = { 0 };
    gh_call call;
    size_t len;
    int rc = CTL_FAIL;

    if (email_normalize(a->email, email_n, sizeof email_n) < 0)
        return ctl_fail("'%.254s' is not a valid email address", a->email);
    if (a->username && username_normalize(a->username, user_n, sizeof user_n) < 0)
        return ctl_fail("'%.64s' is not a valid username: 3 to 64 of A-Z a-z 0-9 . _ -",
                        a->username);
    /* the store before the password: no typing a password only to learn
     * the config or the database is wrong */
    if (ctl_open_tenant(c, &tenant) < 0)
        return CTL_FAIL;
    if (ctl_read_password(a->pw_file, pw, sizeof pw, &len) < 0)
        goto out;
    if ((code = credentials_policy(&c->cfg->pw, pw, len, a->email, a->username, &detail))) {
        ctl_fail("password refused (%s): %s", code, detail ? detail : "it fails the policy");
        goto out;
    }
    if (password_hash(pw, len, &c->cfg->argon2, hash) < 0) {
        ctl_fail("hashing the password failed (argon2id: out of memory or bad parameters)");
        goto out;
    }
    snprintf(u.tenant_id, sizeof u.tenant_id, "%s", tenant);
    u.email = strdup(a->email);
    u.username = a->username ? strdup(a->username) : NULL;
    u.full_name = a->full_name ? strdup(a->full_name) : NULL;
    u.is_active = 1;
    u.is_admin = a->admin;
    if (!u.email || (a->username && !u.username) || (a->full_name && !u.full_name)) {
        ctl_fail("out of memory");
        goto out;
    }
    ctl_call(&call);
    gh_result r = create_in_store(c, &call, &u, hash, a->verified);
    if (r == GH_OK) {
        printf("%s\n", u.id);
        rc = CTL_OK;
    } else if (r == GH_ERR_CONFLICT) {
        ctl_fail("a user with this email%s already exists", a->username ? " or username" : "");
    } else {
        ctl_fail("creating the user failed: %s", ctl_why(&call, r));
    }
out:
    explicit_bzero(pw, sizeof pw);
    explicit_bzero(hash, sizeof hash);
    user_clear(&u);
    return rc;
}

static int user_create(ctl *c, int argc, char **argv)
{
    enum { O_VERIFIED = 256, O_STDIN };
    static const struct option longopts[] = {
        { "email", required_argument, NULL, 'e' },
        { "username", required_argument, NULL, 'u' },
        { "full-name", required_argument, NULL, 'n' },
        { "admin", no_argument, NULL, 'a' },
        { "verified", no_argument, NULL, O_VERIFIED },
        { "password-file", required_argument, NULL, 'p' },
        { "password-stdin", no_argument, NULL, O_STDIN },
        TENANT_OPTION, HELP_OPTION, { NULL, 0, NULL, 0 },
    };
    create_args a = { .tenant = GH_ROOT_TENANT };
    int first = 1, o, sources = 0;

    while ((o = ctl_getopt(argc, argv, "e:u:n:ap:t:h", longopts, &first)) != -1) {
        switch (o) {
        case 'e': a.email = optarg; break;
        case 'u': a.username = optarg; break;
        case 'n': a.full_name = optarg; break;
        case 'a': a.admin = 1; break;
        case O_VERIFIED: a.verified = 1; break;
        case 'p': a.pw_file = optarg; sources++; break;
        case O_STDIN: a.pw_file = "-"; sources++; break;
        case 't': a.tenant = optarg; break;
        case 'h': return create_usage(argv[0]);
        default: return CTL_USAGE;
        }
    }
    /* not echoed: a password typed here must not reach the terminal log */
    if (optind < argc)
        return ctl_usage_error(argv[0], "unexpected argument (the password is never an "
                               "argument: use --password-file or --password-stdin)");
    if (!a.email)
        return ctl_usage_error(argv[0], "--email is required");
    if (sources > 1)
        return ctl_usage_error(argv[0], "give one of --password-file and --password-stdin");
    if (!a.pw_file && !isatty(STDIN_FILENO))
        return ctl_usage_error(argv[0], "stdin is not a terminal: give the password with "
                               "--password-file FILE or --password-stdin");
    return do_create(c, &a);
}

/* ---------------------------------------------------------------- list */

typedef struct col_widths {
    int id, email, username;
} col_widths;

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

static void print_users(const gh_user *v, size_t n)
{
    col_widths w = { 2, 5, 8 };

    for (size_t i = 0; i < n; i++) {
        int le = (int)strlen(or_dash(v[i].email)), lu = (int)strlen(or_dash(v[i].username));
        w.id = (int)strlen(v[i].id) > w.id ? (int)strlen(v[i].id) : w.id;
        w.email = le > w.email ? le : w.email;
        w.username = lu > w.username ? lu : w.username;
    }
    printf("%-*s  %-*s  %-*s  %-5s  %-6s  %s\n", w.id, "ID", w.email, "EMAIL", w.username,
           "USERNAME", "ADMIN", "ACTIVE", "CREATED");
    for (size_t i = 0; i < n; i++) {
        char when[32];

        ctl_time(v[i].created_at, when, sizeof when);
        printf("%-*s  %-*s  %-*s  %-5s  %-6s  %s\n", w.id, v[i].id, w.email,
               or_dash(v[i].email), w.username, or_dash(v[i].username),
               v[i].is_admin ? "yes" : "no", v[i].is_active ? "yes" : "no", when);
    }
}

static void free_users(gh_user *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        user_clear(&v[i]);
    free(v);
}

/* Page through users_list (which caps a page) up to `limit` (0: all). */
static int list_users(ctl *c, const char *tenant, const char *filter, long limit, long offset)
{
    gh_user *all = NULL, *page;
    size_t n = 0, got;
    int64_t total = 0;
    gh_call call;

    for (;;) {
        long want = limit == 0 ? LIST_PAGE : limit - (long)n;
        gh_user *grown;

        if (want <= 0)
            break;
        ctl_call(&call);
        gh_result r = users_list(c->conn, &call, tenant, filter,
                                 (int)(want > LIST_PAGE ? LIST_PAGE : want),
                                 (int)(offset + (long)n), &page, &got, &total);
        if (r != GH_OK) {
            free_users(all, n);
            return ctl_fail("listing users failed: %s", ctl_why(&call, r));
        }
        if (got == 0) {
            free(page);
            break;
        }
        if (!(grown = realloc(all, (n + got) * sizeof *grown))) {
            free_users(page, got);
            free_users(all, n);
            return ctl_fail("out of memory");
        }
        all = grown;
        memcpy(all + n, page, got * sizeof *page);
        n += got;
        free(page);
    }
    print_users(all, n);
    /* the table stays pure for scripts; the hint goes to stderr */
    if ((int64_t)(offset + (long)n) < total || (offset > 0 && n > 0))
        fprintf(stderr, "(users %ld to %ld of %lld shown; see --limit and --offset)\n",
                offset + 1, offset + (long)n, (long long)total);
    free_users(all, n);
    return CTL_OK;
}

static int parse_count(const char *cmd, const char *opt, const char *s, long *out)
{
    char *end;

    errno = 0;
    *out = strtol(s, &end, 10);
    if (errno || end == s || *end || *out < 0 || *out > 100000000)
        return ctl_usage_error(cmd, "%s wants a number from 0 up, not '%.32s'", opt, s);
    return CTL_OK;
}

static int user_list(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "email", required_argument, NULL, 'e' }, { "limit", required_argument, NULL, 'l' },
        { "offset", required_argument, NULL, 'o' }, TENANT_OPTION, HELP_OPTION,
        { NULL, 0, NULL, 0 },
    };
    const char *tenant = GH_ROOT_TENANT, *filter = NULL;
    long limit = LIST_DEFAULT, offset = 0;
    int first = 1, o;

    while ((o = ctl_getopt(argc, argv, "e:l:o:t:h", longopts, &first)) != -1) {
        switch (o) {
        case 'e': filter = optarg; break;
        case 'l':
            if (parse_count(argv[0], "--limit", optarg, &limit) != CTL_OK)
                return CTL_USAGE;
            break;
        case 'o':
            if (parse_count(argv[0], "--offset", optarg, &offset) != CTL_OK)
                return CTL_USAGE;
            break;
        case 't': tenant = optarg; break;
        case 'h':
            return help(argv[0], "[OPTIONS]",
                "List accounts, oldest first: id, email, username, admin, active, created.\n"
                "  -e, --email TEXT   only addresses containing TEXT (any case)\n"
                "  -l, --limit N      at most N users (default 100; 0: all)\n"
                "  -o, --offset N     skip the first N\n"
                CTL_TENANT_HELP);
        default: return CTL_USAGE;
        }
    }
    if (optind < argc)
        return ctl_usage_error(argv[0], "unexpected argument '%.64s'", argv[optind]);
    if (ctl_open_tenant(c, &tenant) < 0)
        return CTL_FAIL;
    return list_users(c, tenant, filter, limit, offset);
}

/* ------------------------------------------------- set-admin, (de)activate */

/* A user named by id, email address or username: whatever the operator
 * has at hand (an id from `user list`, an address from a support ticket). */
int ctl_find_user(ctl *c, const char *tenant, const char *who, gh_user *u)
{
    gh_call call;
    gh_result r;

    ctl_call(&call);
    r = users_get(c->conn, &call, tenant, who, u);
    if (r == GH_ERR_NOT_FOUND) {
        ctl_call(&call);
        r = users_find_login(c->conn, &call, tenant, who, u, NULL);
    }
    if (r == GH_ERR_NOT_FOUND)
        return ctl_fail("no user '%.254s' in tenant %s", who, tenant), -1;
    if (r != GH_OK)
        return ctl_fail("looking up '%.254s' failed: %s", who, ctl_why(&call, r)), -1;
    return 0;
}

typedef enum flag_op { SET_ADMIN, ACTIVATE, DEACTIVATE } flag_op;

static gh_result apply_flag(ctl *c, gh_call *call, const gh_user *u, flag_op op, int on,
                            int64_t *revoked)
{
    int64_t deny_ms = c->cfg->access_ttl_ms; /* <= 0: the longest life allowed */
    json_t *d = NULL;
    const char *action;
    gh_result r;

    if ((r = store_begin(c->conn, call)) != GH_OK)
        return r;
    switch (op) {
    case SET_ADMIN:
        action = "user.set_admin";
        r = users_set_flags(c->conn, call, u->tenant_id, u->id, -1, on);
        d = json_pack("{s:b}", "admin", on);
        break;
    case ACTIVATE:
        action = "user.activate";
        r = users_set_flags(c->conn, call, u->tenant_id, u->id, 1, -1);
        break;
    default:
        action = "user.deactivate";
        r = users_set_flags(c->conn, call, u->tenant_id, u->id, 0, -1);
        /* a deactivated user's tokens must stop now, not when they expire */
        if (r == GH_OK)
            r = session_revoke_all(c->conn, call, u->id, NULL, "deactivated", deny_ms, revoked);
        if (r == GH_OK)
            d = json_pack("{s:I}", "sessions_revoked", (json_int_t)*revoked);
        break;
    }
    if (r == GH_OK)
        r = ctl_audit(c, call, u->tenant_id, action, u->id, d);
    json_decref(d);
    if (r != GH_OK) {
        store_rollback(c->conn, call);
        return r;
    }
    if ((r = store_commit(c->conn, call)) == GH_OK) /* the daemons' caches learn of it */
        authz_changed(c->conn, call, u->tenant_id);
    return r;
}

static int flag_command(ctl *c, int argc, char **argv, flag_op op)
{
    static const struct option longopts[] = { TENANT_OPTION, HELP_OPTION, { NULL, 0, NULL, 0 } };
    const char *tenant = GH_ROOT_TENANT, *args = op == SET_ADMIN ? "USER on|off" : "USER";
    static const char *const helps[] = {
        [SET_ADMIN] = "Make a user an administrator (on) or not (off).\n",
        [ACTIVATE] = "Let a deactivated user sign in again.\n",
        [DEACTIVATE] = ("Stop a user from signing in, and end their sessions at once:\n"
                        "their access tokens stop working on every instance.\n"),
    };
    int first = 1, o, on = 1, want = op == SET_ADMIN ? 2 : 1;
    int64_t revoked = 0;
    gh_user u = { 0 };
    gh_call call;

    while ((o = ctl_getopt(argc, argv, "t:h", longopts, &first)) != -1) {
        switch (o) {
        case 't': tenant = optarg; break;
        case 'h':
            printf("Usage: %s %s\n%sThe user is named by id, or by email address.\n" CTL_TENANT_HELP,
                   argv[0], args, helps[op]);
            return CTL_OK;
        default: return CTL_USAGE;
        }
    }
    if (argc - optind != want)
        return ctl_usage_error(argv[0], "expected %s", args);
    if (op == SET_ADMIN && cfg_parse_bool(argv[optind + 1], &on) < 0)
        return ctl_usage_error(argv[0], "'%.16s' is neither on nor off", argv[optind + 1]);
    if (ctl_open_tenant(c, &tenant) < 0 || ctl_find_user(c, tenant, argv[optind], &u) < 0) {
        user_clear(&u);
        return CTL_FAIL;
    }
    ctl_call(&call);
    gh_result r = apply_flag(c, &call, &u, op, on, &revoked);
    if (r != GH_OK) {
        ctl_fail("changing %s failed: %s", u.id, ctl_why(&call, r));
        user_clear(&u);
        return CTL_FAIL;
    }
    if (op == SET_ADMIN)
        printf("%s (%s): admin %s\n", u.id, or_dash(u.email), on ? "on" : "off");
    else if (op == ACTIVATE)
        printf("%s (%s): active\n", u.id, or_dash(u.email));
    else
        printf("%s (%s): deactivated, %lld session(s) revoked\n", u.id, or_dash(u.email),
               (long long)revoked);
    int64_t admins = 1;
    ctl_call(&call);
    if (op != ACTIVATE && users_count_admins(c->conn, &call, u.tenant_id, &admins) == GH_OK &&
        admins == 0)
        fprintf(stderr, "gatehousectl: note: tenant %s has no active admin left; "
                        "'gatehousectl user set-admin ID on' makes one\n", u.tenant_id);
    user_clear(&u);
    return CTL_OK;
}

static int user_set_admin(ctl *c, int argc, char **argv)
{
    return flag_command(c, argc, argv, SET_ADMIN);
}

static int user_activate(ctl *c, int argc, char **argv)
{
    return flag_command(c, argc, argv, ACTIVATE);
}

static int user_deactivate(ctl *c, int argc, char **argv)
{
    return flag_command(c, argc, argv, DEACTIVATE);
}

static int user_import(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = { TENANT_OPTION, HELP_OPTION, { NULL, 0, NULL, 0 } };
    const char *tenant = GH_ROOT_TENANT;
    int first = 1, o;

    while ((o = ctl_getopt(argc, argv, "t:h", longopts, &first)) != -1) {
        switch (o) {
        case 't': tenant = optarg; break;
        case 'h': return ctl_import_usage(argv[0]);
        default: return CTL_USAGE;
        }
    }
    if (argc - optind != 1)
        return ctl_usage_error(argv[0], "expected one FILE (or - for stdin)");
    return ctl_import_users(c, tenant, argv[optind]);
}

int ctl_user(ctl *c, int argc, char **argv)
{
    static const ctl_cmd cmds[] = {
        { "create", user_create, "--email ADDRESS [--admin] [--password-file FILE|--password-stdin]",
          "create an account (the first admin comes from here)" },
        { "list", user_list, "[--email TEXT] [--limit N]", "list accounts" },
        { "import", user_import, "FILE|-", "import users exported from another service" },
        { "set-admin", user_set_admin, "USER on|off", "grant or take administrator rights" },
        { "activate", user_activate, "USER", "let a user sign in again" },
        { "deactivate", user_deactivate, "USER", "stop a user and end their sessions" },
        { NULL, NULL, NULL, NULL },
    };
    return ctl_dispatch(c, cmds, argc, argv);
}
