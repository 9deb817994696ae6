/*
 * client.c - `gatehousectl client create|list|rotate|delete`: a company's
 * OAuth clients through auth/clients.h, as the admin API (api/clients.c)
 * keeps them, each change audited with the API's action names (actor
 * "cli"). A secret is printed once, by create and rotate, and nowhere
 * else; a client is named by its id or its client_id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "auth/clients.h"
#include "ctl/ctl.h"

#define TENANT_OPTION { "tenant", required_argument, NULL, 't' }
#define HELP_OPTION { "help", no_argument, NULL, 'h' }
#define TENANT_HELP "  -t, --tenant ID          the company, by id or slug (default: root)\n"

static int help(const char *cmd, const char *args, const char *text)
{
    printf("usage: %s %s\n%s", cmd, args, text);
    return CTL_OK;
}

static json_t *client_json(const gh_client *cl)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "client_id", cl->client_id, "name", cl->name,
                     "scopes", cl->scopes, "audiences", cl->audiences, "token_endpoint_auth_method",
                     cl->auth_method);
}

/* Write the change with its audit row in one transaction. */
static gh_result audited(ctl *c, gh_call *call, const char *tenant, const char *action,
                         const gh_client *cl, gh_result r)
{
    if (r == GH_OK) {
        json_t *d = client_json(cl);
        r = ctl_audit(c, call, tenant, action, cl->id, d);
        json_decref(d);
    }
    if (r == GH_OK)
        return store_commit(c->conn, call);
    store_rollback(c->conn, call);
    return r;
}

static void print_secret(const gh_client *cl, char *secret)
{
    printf("id:            %s\nclient_id:     %s\nclient_secret: %s\n", cl->id, cl->client_id,
           secret[0] ? secret : "-");
    fprintf(stderr, "The secret is shown this once: store it now.\n");
    OPENSSL_cleanse(secret, CLIENT_SECRET_LEN);
}

/* The company's client named by id or client_id, into *cl; -1 said why. */
static int find(ctl *c, const char *tenant, const char *who, gh_client *cl)
{
    gh_call call;
    ctl_call(&call);
    gh_result r = client_get(c->conn, &call, tenant, who, cl);
    if (r == GH_ERR_NOT_FOUND) {
        r = client_by_client_id(c->conn, &call, who, cl);
        if (r == GH_OK && strcmp(cl->tenant_id, tenant) != 0)
            r = GH_ERR_NOT_FOUND;
    }
    if (r == GH_ERR_NOT_FOUND)
        return ctl_fail("no client '%.64s' in this company", who), -1;
    if (r != GH_OK)
        return ctl_fail("looking up '%.64s' failed: %s", who, ctl_why(&call, r)), -1;
    return 0;
}

static int set_list(const char *cmd, const char *opt, const char *v, int uris, char *out)
{
    if (!client_list_valid(v, uris))
        return ctl_usage_error(cmd, "--%s: %s, space-separated, each once", opt,
                               uris ? "absolute URIs without a fragment" : "OAuth scope tokens");
    snprintf(out, CLIENT_LIST_MAX, "%s", v);
    return CTL_OK;
}

static int client_create_cmd(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        TENANT_OPTION, HELP_OPTION,
        { "scopes", required_argument, NULL, 's' },
        { "audiences", required_argument, NULL, 'a' },
        { "method", required_argument, NULL, 'm' },
        { "jwks-uri", required_argument, NULL, 'j' },
        { "ttl", required_argument, NULL, 'l' },
        { "introspect", no_argument, NULL, 'i' },
        { NULL, 0, NULL, 0 },
    };
    gh_client cl = { .grant_types = CLIENT_GRANT, .auth_method = CLIENT_SECRET_BASIC };
    const char *tenant = "root";
    char secret[CLIENT_SECRET_LEN];
    int64_t ttl = 0;
    int first = 1, o, rc;

    while ((o = ctl_getopt(argc, argv, "t:s:a:m:j:l:ih", longopts, &first)) != -1) {
        switch (o) {
        case 't': tenant = optarg; break;
        case 's': if ((rc = set_list(argv[0], "scopes", optarg, 0, cl.scopes)) != CTL_OK) return rc; break;
        case 'a': if ((rc = set_list(argv[0], "audiences", optarg, 1, cl.audiences)) != CTL_OK) return rc; break;
        case 'm':
            if (!client_auth_method_valid(optarg))
                return ctl_usage_error(argv[0], "--method: " CLIENT_SECRET_BASIC ", "
                                       CLIENT_SECRET_POST " or " CLIENT_PRIVATE_KEY_JWT);
            snprintf(cl.auth_method, sizeof cl.auth_method, "%s", optarg);
            break;
        case 'j': snprintf(cl.jwks_uri, sizeof cl.jwks_uri, "%s", optarg); break;
        case 'l':
            if (cfg_parse_int(optarg, &ttl) < 0 || ttl < 30 || ttl > 86400)
                return ctl_usage_error(argv[0], "--ttl wants 30 to 86400 seconds");
            break;
        case 'i': cl.may_introspect = 1; break;
        case 'h':
            return help(argv[0], "NAME [OPTIONS]",
                "Create an OAuth client for the client_credentials grant and print its\n"
                "client_id and, for a secret method, its secret (shown this once).\n" TENANT_HELP
                "  -s, --scopes 'A B'       the scopes it may ask for\n"
                "  -a, --audiences 'U V'    the resources (RFC 8707) it may ask for\n"
                "  -m, --method M           client_secret_basic (default), client_secret_post,\n"
                "                           private_key_jwt (needs --jwks-uri)\n"
                "  -j, --jwks-uri URL       its public keys, for private_key_jwt\n"
                "  -l, --ttl SECONDS        its tokens' lifetime (default tokens.access_ttl)\n"
                "  -i, --introspect         it may call /oauth2/introspect\n");
        default: return CTL_USAGE;
        }
    }
    if (argc - optind != 1 || !argv[optind][0] || strlen(argv[optind]) >= sizeof cl.name)
        return ctl_usage_error(argv[0], "expected NAME (1 to %zu bytes)", sizeof cl.name - 1);
    if (strcmp(cl.auth_method, CLIENT_PRIVATE_KEY_JWT) == 0 && !cl.jwks_uri[0])
        return ctl_usage_error(argv[0], "private_key_jwt needs --jwks-uri");
    snprintf(cl.name, sizeof cl.name, "%s", argv[optind]);
    if (ctl_open_tenant(c, &tenant) < 0)
        return CTL_FAIL;
    /* the API's rule: keys come over TLS unless the config allows otherwise */
    if (cl.jwks_uri[0] && !client_jwks_uri_allowed(cl.jwks_uri, c->cfg->client_jwks_allow_private))
        return ctl_fail("--jwks-uri must be an https:// URL (oauth2.jwks_allow_private allows http://)");
    cl.token_ttl_s = ttl ? ttl : c->cfg->tokens.ttl_s;
    gh_call call;
    ctl_call(&call);
    gh_result r = store_begin(c->conn, &call);
    if (r == GH_OK)
        r = client_create(c->conn, &call, tenant, &cl, secret);
    if ((r = audited(c, &call, tenant, "client.create", &cl, r)) != GH_OK)
        return ctl_fail("creating the client failed: %s", ctl_why(&call, r));
    print_secret(&cl, secret);
    return CTL_OK;
}

static int client_list_cmd(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = { TENANT_OPTION, HELP_OPTION, { NULL, 0, NULL, 0 } };
    const char *tenant = "root";
    int first = 1, o;

    while ((o = ctl_getopt(argc, argv, "t:h", longopts, &first)) != -1) {
        if (o == 't')
            tenant = optarg;
        else if (o == 'h')
            return help(argv[0], "[--tenant ID]", "List a company's OAuth clients.\n" TENANT_HELP);
        else
            return CTL_USAGE;
    }
    if (optind < argc)
        return ctl_usage_error(argv[0], "unexpected argument '%.64s'", argv[optind]);
    if (ctl_open_tenant(c, &tenant) < 0)
        return CTL_FAIL;
    gh_client *v;
    size_t n;
    gh_call call;
    ctl_call(&call);
    gh_result r = client_list(c->conn, &call, tenant, &v, &n);
    if (r != GH_OK)
        return ctl_fail("listing clients failed: %s", ctl_why(&call, r));
    printf("%-36s  %-26s  %-19s  %-8s  %s\n", "ID", "CLIENT_ID", "METHOD", "ENABLED", "NAME");
    for (size_t i = 0; i < n; i++)
        printf("%-36s  %-26s  %-19s  %-8s  %s\n", v[i].id, v[i].client_id, v[i].auth_method,
               v[i].disabled ? "no" : "yes", v[i].name);
    free(v);
    return CTL_OK;
}

/* rotate and delete: one client named, in a company. */
static int one_client(ctl *c, int argc, char **argv, const char *what, const char **tenant,
                      gh_client *cl)
{
    static const struct option longopts[] = { TENANT_OPTION, HELP_OPTION, { NULL, 0, NULL, 0 } };
    int first = 1, o;

    while ((o = ctl_getopt(argc, argv, "t:h", longopts, &first)) != -1) {
        if (o == 't')
            *tenant = optarg;
        else if (o == 'h')
            return help(argv[0], "ID|CLIENT_ID [--tenant ID]", what), CTL_OK;
        else
            return CTL_USAGE;
    }
    if (argc - optind != 1)
        return ctl_usage_error(argv[0], "expected ID or CLIENT_ID");
    if (ctl_open_tenant(c, tenant) < 0 || find(c, *tenant, argv[optind], cl) < 0)
        return CTL_FAIL;
    return -1;
}

/* rotate (a new secret, printed) or delete one client, audited. */
static int change_one(ctl *c, int argc, char **argv, int rotate)
{
    const char *tenant = "root";
    gh_client cl;
    char secret[CLIENT_SECRET_LEN];
    int rc = one_client(c, argc, argv, rotate
                        ? "Give a client a new secret, printed this once; the old one works\n"
                          "for oauth2.client_secret_grace more.\n" TENANT_HELP
                        : "Delete a client: its tokens stop introspecting as active.\n" TENANT_HELP,
                        &tenant, &cl);
    if (rc != -1)
        return rc;
    gh_call call;
    ctl_call(&call);
    gh_result r = store_begin(c->conn, &call);
    if (r == GH_OK)
        r = rotate ? client_rotate(c->conn, &call, tenant, &cl, c->cfg->client_secret_grace_ms, secret)
                   : client_delete(c->conn, &call, tenant, cl.id);
    r = audited(c, &call, tenant, rotate ? "client.secret.rotate" : "client.delete", &cl, r);
    if (r != GH_OK)
        return ctl_fail("%s failed: %s", rotate ? "rotating the secret" : "deleting the client",
                        ctl_why(&call, r));
    if (rotate)
        print_secret(&cl, secret);
    else
        printf("deleted %s\n", cl.client_id);
    return CTL_OK;
}

static int client_rotate_cmd(ctl *c, int argc, char **argv)
{
    return change_one(c, argc, argv, 1);
}

static int client_delete_cmd(ctl *c, int argc, char **argv)
{
    return change_one(c, argc, argv, 0);
}

int ctl_client(ctl *c, int argc, char **argv)
{
    static const ctl_cmd cmds[] = {
        { "create", client_create_cmd, "NAME [--scopes S] [--audiences U] [--method M] ...",
          "create an OAuth client and print its secret once" },
        { "list", client_list_cmd, "[--tenant ID]", "list a company's OAuth clients" },
        { "rotate", client_rotate_cmd, "ID|CLIENT_ID", "give a client a new secret" },
        { "delete", client_delete_cmd, "ID|CLIENT_ID", "delete a client" },
        { NULL, NULL, NULL, NULL },
    };
    return ctl_dispatch(c, cmds, argc, argv);
}
