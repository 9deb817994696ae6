/*
 * ctl.h - what the gatehousectl commands share: the open config, plugins
 * and store connection, option parsing that never echoes a value, the
 * audit record of an admin action, and the exit codes.
 *
 * gatehousectl works on the daemon's own config and store, the way the
 * daemon does: config_load, chdir into state_dir (so relative paths name
 * the same files), plugins_load (storage and kv only), then one store
 * connection on the main thread. Each command opens only what it needs, after its arguments
 * parsed, so `--help` and usage errors work without a config file.
 */
#ifndef GH_CTL_H
#define GH_CTL_H

#include <getopt.h>
#include <stdio.h>
#include <jansson.h>
#include "config.h"
#include "auth/pii.h"
#include "plugin/host.h"
#include "plugin/loader.h"
#include "store/store.h"

/* The longest password read; any policy's max_length is far below. */
#define CTL_PW_MAX 4096

/* The help line of the --tenant option every user command takes. */
#define CTL_TENANT_HELP "  -t, --tenant ID    the user's company, by id or slug (default: root)\n"

/* Exit codes, as in most Unix tools: 2 is the caller's mistake. */
enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2 };

/* Store calls from the CLI may wait on a daemon's write lock; give them
 * far longer than a request gets. */
#define CTL_CALL_TIMEOUT_MS (60 * 1000)

typedef struct ctl {
    const char *config_arg;   /* -c as given (for hints), NULL: default */
    char *config_path;        /* absolute: we chdir into state_dir */
    gh_config *cfg;
    gh_pii *pii;              /* encryption.keys, installed (pii_install) */
    gh_plugins plugins;
    int plugins_loaded, thread_ready;
    gh_store *store;
    gh_conn *conn;
    int verbose;
    int make_state;           /* create state_dir if missing (migrate up) */
    char tenant[37];          /* the company ctl_open_tenant found */
} ctl;

/* One subcommand: `name` runs fn(ctl, argc, argv) with argv[0] its full
 * name ("gatehousectl user create"), for messages and getopt. */
typedef int (*ctl_fn)(ctl *c, int argc, char **argv);
typedef struct ctl_cmd {
    const char *name;
    ctl_fn fn;
    const char *args;         /* synopsis after the name */
    const char *help;         /* one line */
} ctl_cmd;

/* Run the subcommand named by argv[1] from the table; `group` is argv[0]. */
int ctl_dispatch(ctl *c, const ctl_cmd *cmds, int argc, char **argv);

/* The command groups (user.c, keys.c, migrate.c). */
int ctl_user(ctl *c, int argc, char **argv);
int ctl_keys(ctl *c, int argc, char **argv);
int ctl_migrate(ctl *c, int argc, char **argv);
int ctl_company(ctl *c, int argc, char **argv);
/* `role`, `permission` and `resource` (rbac.c): a company's roles and
 * permissions. */
int ctl_role(ctl *c, int argc, char **argv);
int ctl_permission(ctl *c, int argc, char **argv);
int ctl_resource(ctl *c, int argc, char **argv);
/* `client` (client.c): a company's OAuth clients. */
int ctl_client(ctl *c, int argc, char **argv);
/* `integration` (integration.c): a company's integrations and API keys. */
int ctl_integration(ctl *c, int argc, char **argv);
/* `reencrypt` (reencrypt.c): personal data to the newest key. */
int ctl_reencrypt(ctl *c, int argc, char **argv);

/* "gatehousectl: <message>" on stderr; returns CTL_FAIL. */
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "<cmd>: <message>" and a pointer to --help on stderr; returns CTL_USAGE. */
int ctl_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* getopt_long that reports errors itself without ever printing an
 * option's value (a password pasted after the wrong option stays off the
 * terminal and out of logs): returns the option, -1 at the end, or '?'
 * after printing the error. Call with *first = 1 to start a new argv. */
int ctl_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
               int *first);

/* Load the config and chdir into its state_dir. */
int ctl_open_config(ctl *c);
/* ctl_open_config, then plugins and a store connection on this thread.
 * check_schema: refuse a database whose schema is not the latest. */
int ctl_open_store(ctl *c, int check_schema);
/* ctl_open_store(c, 1), and the company *tenant names (an id or a slug)
 * must exist; *tenant then points at its id. */
int ctl_open_tenant(ctl *c, const char **tenant);
void ctl_close(ctl *c);

/* A password from file, "-" (stdin) or, file NULL, the terminal; into buf
 * (cap bytes with the NUL) without its line ending. 0, or -1 said why. */
int ctl_read_password(const char *file, char *buf, size_t cap, size_t *len);

/* `user import` (import.c). */
int ctl_import_usage(const char *cmd);
int ctl_import_users(ctl *c, const char *tenant, const char *path);

/* The company's user named by id, email address or username, into *u
 * (user_clear it); -1 said why (user.c). */
struct gh_user;
int ctl_find_user(ctl *c, const char *tenant, const char *who, struct gh_user *u);

/* A call for one store operation, and why it failed, for messages. */
void ctl_call(gh_call *call);
const char *ctl_why(const gh_call *call, gh_result r);

/* Record an admin action done from the CLI (actor "cli"); details is
 * borrowed, may be NULL, and gets "os_user" added. */
gh_result ctl_audit(ctl *c, gh_call *call, const char *tenant, const char *action,
                    const char *subject, json_t *details);

/* "2025-01-31T12:00:00Z" for a time in Unix ms (0: "-"). */
void ctl_time(int64_t ms, char *out, size_t len);

#endif
