/*
 * integration.c - `gatehousectl integration create|list|delete`: a
 * company's integrations and their API keys through auth/integrations.h,
 * as the admin API (api/integrations.c) keeps them, each change audited
 * with the API's action names (actor "cli"). The key is printed once, by
 * create, and nowhere else; so is the signing secret of incoming webhooks
 * (--signing-secret), stored sealed as the API stores it. The operator may give any permission: the
 * no-escalation rule guards the API, whose callers are users.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "auth/clients.h"
#include "auth/integrations.h"
#include "clock.h"
#include "ctl/ctl.h"

#define TENANT_OPTION { "tenant", required_argument, NULL, 't' }
#define HELP_OPTION { "help", no_argument, NULL, 'h' }
#define TENANT_HELP "  -t, --tenant ID          the company, by id or slug (default: root)\n"
#define EXPIRES_MAX_S (10 * 366 * 86400LL)

static int help(const char *cmd, const char *args, const char *text)
{
    printf("usage: %s %s\n%s", cmd, args, text);
    return CTL_OK;
}

/* Write the change with its audit row (no key in it) in one transaction. */
static gh_result audited(ctl *c, gh_call *call, const char *tenant, const char *action,
                         const gh_integration *in, gh_result r)
{
    if (r == GH_OK) {
        json_t *d = json_pack("{s:s, s:s, s:s, s:s}", "name", in->name, "type", in->type,
                              "permissions", in->permissions, "key_prefix", in->key_prefix);
        r = ctl_audit(c, call, tenant, action, in->id, d);
        json_decref(d);
    }
    if (r == GH_OK)
        return store_commit(c->conn, call);
    store_rollback(c->conn, call);
    return r;
}

/* --permissions: space-separated permission names, each once. */
static int set_perms(const char *cmd, const char *v, char out[INTEGRATION_PERMS_MAX])
{
    char work[INTEGRATION_PERMS_MAX], *save = NULL;
    size_t pos = 0;
    if (strlen(v) >= sizeof work)
        return ctl_usage_error(cmd, "--permissions: too long");
    snprintf(work, sizeof work, "%s", v);
    out[0] = '\0';
    for (char *p = strtok_r(work, " ", &save); p; p = strtok_r(NULL, " ", &save)) {
        if (!integration_perm_valid(p) || client_list_has(out, p))
            return ctl_usage_error(cmd, "--permissions: names (resource:action), space-separated, "
                                   "each once");
        /* out is never longer than v: this fits */
        pos += (size_t)snprintf(out + pos, INTEGRATION_PERMS_MAX - pos, "%s%s", pos ? " " : "", p);
    }
    return CTL_OK;
}

static int integration_create_cmd(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        TENANT_OPTION, HELP_OPTION,
        { "permissions", required_argument, NULL, 'p' },
        { "type", required_argument, NULL, 'y' },
        { "expires-in", required_argument, NULL, 'e' },
        { "signing-secret", no_argument, NULL, 's' },
        { NULL, 0, NULL, 0 },
    };
    gh_integration in = { .type = "api_key" };
    const char *tenant = "root";
    char key[INTEGRATION_KEY_LEN], secret[WEBHOOK_SECRET_LEN] = "";
    int64_t expires_in = 0;
    int first = 1, o, rc, signing = 0;

    while ((o = ctl_getopt(argc, argv, "t:p:y:e:sh", longopts, &first)) != -1) {
        switch (o) {
        case 't': tenant = optarg; break;
        case 'p': if ((rc = set_perms(argv[0], optarg, in.permissions)) != CTL_OK) return rc; break;
        case 'y':
            if (!integration_type_valid(optarg))
                return ctl_usage_error(argv[0], "--type: api_key, oauth2 or custom");
            snprintf(in.type, sizeof in.type, "%s", optarg);
            break;
        case 'e':
            if (cfg_parse_int(optarg, &expires_in) < 0 || expires_in < 1 || expires_in > EXPIRES_MAX_S)
                return ctl_usage_error(argv[0], "--expires-in wants 1 to %lld seconds", EXPIRES_MAX_S);
            break;
        case 's': signing = 1; break;
        case 'h':
            return help(argv[0], "NAME [OPTIONS]",
                "Create an integration and print its API key (shown this once).\n" TENANT_HELP
                "  -p, --permissions 'A B'  the permissions its key carries (resource:action)\n"
                "  -y, --type T             api_key (default), oauth2 or custom\n"
                "  -e, --expires-in SECONDS the key stops then (default: never)\n"
                "  -s, --signing-secret     its incoming webhooks must be signed with a new\n"
                "                           secret (printed this once too)\n");
        default: return CTL_USAGE;
        }
    }
    if (argc - optind != 1 || !argv[optind][0] || strlen(argv[optind]) >= sizeof in.name)
        return ctl_usage_error(argv[0], "expected NAME (1 to %zu bytes)", sizeof in.name - 1);
    snprintf(in.name, sizeof in.name, "%s", argv[optind]);
    if (ctl_open_tenant(c, &tenant) < 0)
        return CTL_FAIL;
    in.expires_at = expires_in ? gh_now_ms() + expires_in * 1000 : 0;
    gh_call call;
    ctl_call(&call);
    gh_result r = store_begin(c->conn, &call);
    if (r == GH_OK)
        r = integration_create(c->conn, &call, tenant, &in, key);
    if (r == GH_OK && signing)
        r = integration_signing_secret_new(c->conn, &call, tenant, in.id, secret);
    if ((r = audited(c, &call, tenant, "integration.create", &in, r)) != GH_OK) {
        OPENSSL_cleanse(key, sizeof key);
        OPENSSL_cleanse(secret, sizeof secret);
        return ctl_fail("creating the integration failed: %s", ctl_why(&call, r));
    }
    printf("id:      %s\napi_key: %s\n", in.id, key);
    if (signing)
        printf("signing_secret: %s\n", secret);
    fprintf(stderr, signing ? "The key and the signing secret are shown this once: store them "
                              "now.\n" : "The key is shown this once: store it now.\n");
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(secret, sizeof secret);
    return CTL_OK;
}

/* The options of list and delete, --tenant and --help, then nargs
 * arguments, and the company opened: -1 to go on, else the exit code. */
static int tenant_args(ctl *c, int argc, char **argv, int nargs, const char *usage,
                       const char *text, const char **tenant)
{
    static const struct option longopts[] = { TENANT_OPTION, HELP_OPTION, { NULL, 0, NULL, 0 } };
    int first = 1, o;

    while ((o = ctl_getopt(argc, argv, "t:h", longopts, &first)) != -1) {
        if (o == 't')
            *tenant = optarg;
        else if (o == 'h')
            return help(argv[0], usage, text);
        else
            return CTL_USAGE;
    }
    if (argc - optind != nargs)
        return ctl_usage_error(argv[0], "expected %s", usage);
    return ctl_open_tenant(c, tenant) < 0 ? CTL_FAIL : -1;
}

static int integration_list_cmd(ctl *c, int argc, char **argv)
{
    const char *tenant = "root";
    int rc = tenant_args(c, argc, argv, 0, "[--tenant ID]",
                         "List a company's integrations.\n" TENANT_HELP, &tenant);
    if (rc != -1)
        return rc;
    gh_integration *v;
    size_t n;
    gh_call call;
    ctl_call(&call);
    gh_result r = integration_list(c->conn, &call, tenant, &v, &n);
    if (r != GH_OK)
        return ctl_fail("listing integrations failed: %s", ctl_why(&call, r));
    printf("%-36s  %-8s  %-7s  %-8s  %-20s  %s\n", "ID", "PREFIX", "TYPE", "ENABLED", "NAME",
           "PERMISSIONS");
    for (size_t i = 0; i < n; i++)
        printf("%-36s  %-8s  %-7s  %-8s  %-20s  %s\n", v[i].id, v[i].key_prefix, v[i].type,
               v[i].disabled ? "no" : "yes", v[i].name, v[i].permissions);
    free(v);
    return CTL_OK;
}

static int integration_delete_cmd(ctl *c, int argc, char **argv)
{
    const char *tenant = "root";
    int rc = tenant_args(c, argc, argv, 1, "ID [--tenant ID]",
                         "Delete an integration: its key stops at once.\n" TENANT_HELP, &tenant);
    if (rc != -1)
        return rc;
    gh_integration in;
    gh_call call;
    ctl_call(&call);
    gh_result r = store_begin(c->conn, &call);
    if (r == GH_OK && (r = integration_get(c->conn, &call, tenant, argv[optind], &in)) == GH_OK)
        r = integration_delete(c->conn, &call, tenant, in.id);
    if (r == GH_ERR_NOT_FOUND) {
        store_rollback(c->conn, &call);
        return ctl_fail("no integration '%.64s' in this company", argv[optind]);
    }
    if ((r = audited(c, &call, tenant, "integration.delete", &in, r)) != GH_OK)
        return ctl_fail("deleting the integration failed: %s", ctl_why(&call, r));
    printf("deleted %s\n", in.id);
    return CTL_OK;
}

int ctl_integration(ctl *c, int argc, char **argv)
{
    static const ctl_cmd cmds[] = {
        { "create", integration_create_cmd,
          "NAME [--permissions P] [--type T] [--expires-in S] [--signing-secret]",
          "create an integration and print its API key once" },
        { "list", integration_list_cmd, "[--tenant ID]", "list a company's integrations" },
        { "delete", integration_delete_cmd, "ID", "delete an integration" },
        { NULL, NULL, NULL, NULL },
    };
    return ctl_dispatch(c, cmds, argc, argv);
}
