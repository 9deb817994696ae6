/*
 * oci.c - the `oci` cloud plugin: a tenant's own compartment, IAM group
 * and access policy in Oracle Cloud Infrastructure, made and removed one
 * step at a time through the Identity API (oci_identity.c), each request
 * signed with the API key (oci_sign.c).
 *
 *   plugins:
 *     - name: oci
 *       options:
 *         tenancy_ocid: ocid1.tenancy.oc1..aaaa...
 *         user_ocid: ocid1.user.oc1..aaaa...
 *         fingerprint: "73:61:a2:21:67:e0:df:be:7e:4b:93:1e:15:98:a5:b7"
 *         private_key_file: /etc/gatehouse/oci_api_key.pem
 *         region: us-ashburn-1
 *
 * The cloud contract (gatehouse/plugin.h): the core calls provision until
 * it answers "active", recording the resources of each step before the
 * next, so a step makes at most one resource and is safe to repeat:
 *   1. CreateCompartment <prefix><slug> under parent_compartment_ocid;
 *   2. GetCompartment until ACTIVE ("provisioning" with retry_after_ms
 *      while CREATING, and while a fresh one still answers 404), then
 *      CreateGroup <prefix><slug> in the tenancy;
 *   3. CreatePolicy <prefix><slug> in the parent, its statements the
 *      templates with {group} and {compartment} filled in: "active".
 * Each create sends an opc-retry-token derived from the tenant and the
 * type, so a create repeated after a crash returns the first one's
 * resource; past the token's life, a 409 Conflict on the name is resolved
 * by finding the resource tagged gatehouse-tenant=<tenant_id>.
 * deprovision deletes the policy, the group, then the compartment (its
 * asynchronous DELETING counts as deleted), one per step; a 404 is a
 * resource already gone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oci.h"

static const gh_host *host;

#define DEFAULT_STATEMENT "Allow group {group} to manage all-resources in compartment {compartment}"
#define TENANT_MAX 64
#define DESCRIPTION_MAX 400

static const gh_option oci_options[] = {
    {"tenancy_ocid", GH_T_STR, 1, "the tenancy's OCID (ocid1.tenancy...)"},
    {"user_ocid", GH_T_STR, 1, "the API user's OCID (ocid1.user...)"},
    {"fingerprint", GH_T_STR, 1, "the API key's fingerprint, as the console shows it"},
    {"private_key_file", GH_T_STR, 1, "the API key's private key (PEM, RSA)"},
    {"passphrase", GH_T_SECRET, 0, "the private key's passphrase (or passphrase_file)"},
    {"region", GH_T_STR, 1, "the tenancy's home region, e.g. us-ashburn-1"},
    {"identity_endpoint", GH_T_STR, 0, "the Identity API (default: the region's)"},
    {"parent_compartment_ocid", GH_T_STR, 0, "where compartments go (default: the tenancy)"},
    {"name_prefix", GH_T_STR, 0, "put before the tenant's slug in resource names"},
    {"policy_statements", GH_T_LIST, 0, "policy templates over {group} and {compartment}"},
    {"freeform_tags", GH_T_LIST, 0, "\"key=value\" tags put on every resource"},
    {"timeout", GH_T_DURATION, 0, "how long one Identity request may take"},
    {"poll_interval", GH_T_DURATION, 0, "how soon to look again at a CREATING compartment"},
    {"ca_file", GH_T_STR, 0, "CA certificates trusted for the endpoint (default: the system's)"},
    {"allow_http", GH_T_BOOL, 0, "identity_endpoint may be http:// (tests)"},
    {"allow_private", GH_T_BOOL, 0, "identity_endpoint may be a loopback or private address"},
    {NULL, 0, 0, NULL},
};

static const gh_option_rule oci_rules[] = {
    {"name_prefix", "gh-", NULL, NULL},
    {"timeout", "10s", "1s..60s", NULL},
    {"poll_interval", "2s", "100ms..1m", NULL},
    {"allow_http", "false", NULL, NULL},
    {"allow_private", "false", NULL, NULL},
    {NULL, NULL, NULL, NULL},
};

/* ------------------------------------------------------------ options */

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

/* An OCID option of the given type ("tenancy", ...; NULL any) into dst. */
static gh_result read_ocid(const gh_cfg *o, gh_call *call, const char *key, const char *type,
                           const char *dflt, char *dst)
{
    const char *v = host->cfg_str(o, key, dflt);
    char want[32];
    size_t n = strlen(v);

    snprintf(want, sizeof want, "ocid1.%s%s", type ? type : "", type ? "." : "");
    if (n == 0 || n >= OCI_OCID_MAX || strncmp(v, want, strlen(want)) != 0 ||
        strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
        return host->cfg_fail(call, host->cfg_child(o, key),
                              "option '%s' must be an OCID (%s...)", key, want);
    memcpy(dst, v, n + 1);
    return GH_OK;
}

/* The key, checked against the fingerprint the admin gave: what OCI
 * would refuse at the first request is refused at start-up. */
static gh_result read_key(oci *o, const gh_cfg *cfg, gh_call *call)
{
    const char *path = host->cfg_str(cfg, "private_key_file", "");
    const char *fp = host->cfg_str(cfg, "fingerprint", "");
    char *pass = host->cfg_secret(cfg, "passphrase"), got[OCI_FINGERPRINT_LEN], why[512];
    gh_result r = oci_key_load(path, pass, &o->key, why, sizeof why);

    if (pass) {
        host->wipe(pass, strlen(pass));
        host->free(pass);
    }
    if (r != GH_OK)
        return host->cfg_fail(call, host->cfg_child(cfg, "private_key_file"),
                              "option 'private_key_file': %s", why);
    if ((r = oci_key_fingerprint(host, call, o->key, got)) != GH_OK)
        return r;
    if (strcasecmp(fp, got) != 0)
        return host->cfg_fail(call, host->cfg_child(cfg, "fingerprint"),
                              "option 'fingerprint' is %.60s, but the key in %s has %s", fp, path,
                              got);
    memcpy(o->fingerprint, got, sizeof got);
    snprintf(o->key_id, sizeof o->key_id, "%s/%s/%s", o->tenancy, o->user, o->fingerprint);
    return GH_OK;
}

/* identity_endpoint: an origin, https unless allow_http. */
static gh_result read_endpoint(oci *o, const gh_cfg *cfg, gh_call *call)
{
    const char *region = host->cfg_str(cfg, "region", "");
    const char *given = host->cfg_str(cfg, "identity_endpoint", "");
    const gh_cfg *node = host->cfg_child(cfg, given[0] ? "identity_endpoint" : "region");
    char dflt[OCI_URL_MAX];
    const char *url = given;
    gh_url u = {.size = sizeof u};
    gh_result r;

    if (!region[0] || strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(region) ||
        strlen(region) > 64)
        return host->cfg_fail(call, host->cfg_child(cfg, "region"),
                              "option 'region' must be a region name such as us-ashburn-1");
    if (!given[0]) {
        snprintf(dflt, sizeof dflt, "https://identity.%s.oci.oraclecloud.com", region);
        url = dflt;
    }
    r = host->url_parse(call, url, &u);
    host->wipe(u.password, sizeof u.password);
    if (r != GH_OK || !u.host[0] || u.user[0] || u.query[0] || (u.path[0] && strcmp(u.path, "/")) ||
        (strcmp(u.scheme, "https") != 0 && strcmp(u.scheme, "http") != 0))
        return host->cfg_fail(call, node,
                              "option 'identity_endpoint' must be an https:// URL "
                              "without a path, credentials or a query");
    if (strcmp(u.scheme, "http") == 0 && !o->allow_http)
        return host->cfg_fail(call, node,
                              "option 'identity_endpoint' must be https:// "
                              "(http:// only with allow_http, for tests)");
    snprintf(o->host_header, sizeof o->host_header, "%s%s%s%s%.0d", strchr(u.host, ':') ? "[" : "",
             u.host, strchr(u.host, ':') ? "]" : "", u.port ? ":" : "", u.port);
    snprintf(o->endpoint, sizeof o->endpoint, "%s://%s", u.scheme, o->host_header);
    return GH_OK;
}

/* policy_statements: the templates, or the default one. */
static gh_result read_statements(oci *o, const gh_cfg *cfg, gh_call *call)
{
    const gh_cfg *list = host->cfg_child(cfg, "policy_statements");
    size_t n = list ? host->cfg_len(list) : 0;

    if (list && n == 0)
        return host->cfg_fail(call, list, "option 'policy_statements' must not be empty");
    if (n > 50)
        return host->cfg_fail(call, list, "option 'policy_statements' holds more than 50");
    if (!(o->statements = calloc(n ? n : 1, sizeof *o->statements)))
        return host->fail(call, GH_ERR_NOMEM, "out of memory");
    o->n_statements = n ? n : 1;
    if (!n)
        o->statements[0] = strdup(DEFAULT_STATEMENT);
    for (size_t i = 0; i < n; i++) {
        const char *v = host->cfg_value(host->cfg_at(list, i));

        if (!v || !v[0] || strlen(v) > 1000)
            return host->cfg_fail(call, host->cfg_at(list, i),
                                  "option 'policy_statements': "
                                  "each is a statement of 1 to 1000 characters");
        o->statements[i] = strdup(v);
    }
    for (size_t i = 0; i < o->n_statements; i++)
        if (!o->statements[i])
            return host->fail(call, GH_ERR_NOMEM, "out of memory");
    return GH_OK;
}

/* freeform_tags: "key=value" items. */
static gh_result read_tags(oci *o, const gh_cfg *cfg, gh_call *call)
{
    const gh_cfg *list = host->cfg_child(cfg, "freeform_tags");
    size_t n = list ? host->cfg_len(list) : 0;

    if (n > OCI_TAGS_MAX)
        return host->cfg_fail(call, list, "option 'freeform_tags' holds more than %d",
                              OCI_TAGS_MAX);
    for (size_t i = 0; i < n; i++) {
        const char *v = host->cfg_value(host->cfg_at(list, i)), *eq = v ? strchr(v, '=') : NULL;

        if (!eq || eq == v || (size_t)(eq - v) >= OCI_TAG_MAX || strlen(eq + 1) >= OCI_TAG_MAX ||
            strncmp(v, "gatehouse-tenant=", 17) == 0)
            return host->cfg_fail(call, host->cfg_at(list, i),
                                  "option 'freeform_tags': each "
                                  "is \"key=value\", under %d bytes each, and not "
                                  "gatehouse-tenant",
                                  OCI_TAG_MAX);
        memcpy(o->tag_key[i], v, (size_t)(eq - v));
        o->tag_key[i][eq - v] = '\0';
        memcpy(o->tag_value[i], eq + 1, strlen(eq + 1) + 1);
    }
    o->n_tags = n;
    return GH_OK;
}

static void oci_detach(void *inst)
{
    oci *o = inst;

    for (size_t i = 0; o->statements && i < o->n_statements; i++)
        free(o->statements[i]);
    free(o->statements);
    o->statements = NULL;
    EVP_PKEY_free(o->key);
    o->key = NULL;
}

static gh_result read_options(oci *o, const gh_cfg *cfg, gh_call *call)
{
    const char *prefix = host->cfg_str(cfg, "name_prefix", "gh-");
    const char *ca = host->cfg_str(cfg, "ca_file", "");
    gh_result r;

    o->allow_http = host->cfg_bool(cfg, "allow_http", 0);
    o->allow_private = host->cfg_bool(cfg, "allow_private", 0);
    o->timeout_ms = host->cfg_int(cfg, "timeout", 0);
    o->poll_ms = host->cfg_int(cfg, "poll_interval", 0);
    if ((r = read_ocid(cfg, call, "tenancy_ocid", "tenancy", "", o->tenancy)) != GH_OK ||
        (r = read_ocid(cfg, call, "user_ocid", "user", "", o->user)) != GH_OK ||
        (r = read_ocid(cfg, call, "parent_compartment_ocid", NULL, o->tenancy, o->parent)) !=
            GH_OK ||
        (r = read_endpoint(o, cfg, call)) != GH_OK ||
        (r = read_statements(o, cfg, call)) != GH_OK || (r = read_tags(o, cfg, call)) != GH_OK)
        return r;
    if (strlen(prefix) >= sizeof o->prefix || strspn(prefix, "abcdefghijklmnopqrstuvwxyz"
                                                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                                             "._-") != strlen(prefix))
        return host->cfg_fail(call, host->cfg_child(cfg, "name_prefix"),
                              "option 'name_prefix' "
                              "must be under %zu of A-Z a-z 0-9 . _ -",
                              sizeof o->prefix);
    memcpy(o->prefix, prefix, strlen(prefix) + 1);
    if (strlen(ca) >= sizeof o->ca_file)
        return host->cfg_fail(call, host->cfg_child(cfg, "ca_file"),
                              "option 'ca_file' is too long");
    memcpy(o->ca_file, ca, strlen(ca) + 1);
    return read_key(o, cfg, call);
}

static gh_result oci_instantiate(void *inst, const gh_cfg *cfg, gh_call *call)
{
    oci *o = inst;
    gh_result r;

    if (!GH_HAS(host, cfg_fail) || !GH_HAS(host, fail_retry) || !GH_HAS(host, url_parse) ||
        !GH_HAS(host, digest) || !GH_HAS(host, encode) || !GH_HAS(host, url_encode) ||
        !GH_HAS(host, json_encode_to))
        return host->fail(call, GH_ERR_UNSUPPORTED, "needs plugin ABI 1.1 host services");
    if ((r = read_options(o, cfg, call)) != GH_OK)
        oci_detach(o); /* detach runs only after a success */
    return r;
}

/* ------------------------------------------------------------ the input */

/* What a step knows: the tenant, and the ids recorded so far. */
typedef struct tenant {
    char id[TENANT_MAX + 1];
    char name[OCI_NAME_MAX + 1]; /* <prefix><slug>: all three resources */
    char description[DESCRIPTION_MAX + 1];
    char res[OCI_KINDS][OCI_OCID_MAX]; /* "" not made (or deleted) */
} tenant;

static const gh_param *find(const gh_param *in, const char *key)
{
    for (; in && in->key; in++)
        if (in->type == GH_T_STR && strcmp(in->key, key) == 0 && (in->data || !in->len))
            return in;
    return NULL;
}

/* description: "Gatehouse tenant <name>", cut whole characters to fit */
static void describe(tenant *t, const gh_param *name)
{
    size_t n = snprintf(t->description, sizeof t->description, "Gatehouse tenant ");
    size_t take = name ? name->len : 0;

    if (take > sizeof t->description - 1 - n)
        take = sizeof t->description - 1 - n;
    while (take > 0 && take < name->len &&
           (((const unsigned char *)name->data)[take] & 0xc0) == 0x80)
        take--;
    for (size_t i = 0; i < take; i++) {
        unsigned char c = ((const unsigned char *)name->data)[i];

        t->description[n++] = c < 0x20 ? ' ' : (char)c;
    }
    if (!take) /* no name: the id says which tenant */
        n += snprintf(t->description + n, sizeof t->description - n, "%s", t->id);
    t->description[n] = '\0';
}

/* tenant_id, and for provision tenant_slug and tenant_name; the resources
 * as "type:id", each type once. */
static gh_result read_input(const oci *o, gh_call *call, const gh_param *in, int names, tenant *t)
{
    const gh_param *id = find(in, "tenant_id"), *slug = find(in, "tenant_slug");

    memset(t, 0, sizeof *t);
    if (!id || id->len == 0 || id->len > TENANT_MAX)
        return host->fail(call, GH_ERR_INVALID, "oci: 'tenant_id' must be a UUID");
    memcpy(t->id, id->data, id->len); /* parameters need not end in a NUL */
    if (strspn(t->id, "abcdefABCDEF0123456789-") != id->len)
        return host->fail(call, GH_ERR_INVALID, "oci: 'tenant_id' must be a UUID");
    if (names) {
        size_t pn = strlen(o->prefix);

        if (!slug || slug->len == 0 || pn + slug->len > OCI_NAME_MAX)
            return host->fail(call, GH_ERR_INVALID,
                              "oci: 'tenant_slug' must be 1 to %zu "
                              "characters",
                              OCI_NAME_MAX - pn);
        for (size_t i = 0; i < slug->len; i++)
            if (!is_name_char(((const char *)slug->data)[i]))
                return host->fail(call, GH_ERR_INVALID,
                                  "oci: 'tenant_slug' may hold only "
                                  "A-Z a-z 0-9 . _ - (OCI's names)");
        snprintf(t->name, sizeof t->name, "%s%.*s", o->prefix, (int)slug->len,
                 (const char *)slug->data);
        describe(t, find(in, "tenant_name"));
    }
    for (; in && in->key; in++) {
        const char *v = in->data, *colon;
        oci_kind k;

        if (in->type != GH_T_STR || strcmp(in->key, "resource") != 0)
            continue;
        colon = v ? memchr(v, ':', in->len) : NULL;
        for (k = 0; colon && k < OCI_KINDS; k++)
            if ((size_t)(colon - v) == strlen(oci_kind_name(k)) &&
                memcmp(v, oci_kind_name(k), (size_t)(colon - v)) == 0)
                break;
        if (!colon || k == OCI_KINDS || in->len - (size_t)(colon + 1 - v) == 0 ||
            in->len - (size_t)(colon + 1 - v) >= OCI_OCID_MAX || t->res[k][0])
            return host->fail(call, GH_ERR_INVALID,
                              "oci: resource '%.*s' is not one of "
                              "this plugin's (compartment:, group:, policy:, each once)",
                              v ? (int)(in->len < 80 ? in->len : 80) : 0, v ? v : "");
        memcpy(t->res[k], colon + 1, in->len - (size_t)(colon + 1 - v));
    }
    return GH_OK;
}

/* ------------------------------------------------------------ the output */

static gh_result put_str(gh_out *out, const char *key, const char *v)
{
    return host->put(out, &(gh_param){key, GH_T_STR, v, strlen(v)});
}

/* The resources still recorded, in the order they were made, the state,
 * and when to come back. */
static gh_result answer(const tenant *t, gh_out *out, const char *state, int64_t retry_after_ms)
{
    gh_result r = GH_OK;

    for (oci_kind k = 0; r == GH_OK && k < OCI_KINDS; k++)
        if (t->res[k][0]) {
            char v[OCI_OCID_MAX + 16];

            snprintf(v, sizeof v, "%s:%s", oci_kind_name(k), t->res[k]);
            r = put_str(out, "resource", v);
        }
    if (r == GH_OK)
        r = put_str(out, "state", state);
    if (r == GH_OK && retry_after_ms > 0)
        r = host->put(
            out, &(gh_param){"retry_after_ms", GH_T_INT, &retry_after_ms, sizeof retry_after_ms});
    return r;
}

/* ------------------------------------------------------------ provision */

/* opc-retry-token: the same for the same tenant and type, so a create
 * repeated after a crash is answered with the first one's resource.
 * after ("" at first) names what an earlier token answered that cannot
 * be used (a resource deleted since, a token OCI invalidated), so the
 * next generation's token is as repeatable as the first. */
static gh_result retry_token(gh_call *call, const tenant *t, oci_kind k, const char *after,
                             char out[64])
{
    char text[TENANT_MAX + OCI_OCID_MAX + 32], hex[2 * GH_DIGEST_MAX + 1];
    unsigned char md[GH_DIGEST_MAX];
    size_t md_len, hex_len;
    gh_result r;

    snprintf(text, sizeof text, "gatehouse/%s/%s%s%s", t->id, oci_kind_name(k), after[0] ? "/" : "",
             after);
    if ((r = host->digest(call, GH_SHA256, text, strlen(text), md, sizeof md, &md_len)) != GH_OK ||
        (r = host->encode(call, GH_ENC_HEX, md, md_len, hex, sizeof hex, &hex_len)) != GH_OK)
        return r;
    snprintf(out, 64, "gatehouse-%.48s", hex);
    return GH_OK;
}

/* The policy's statements: the templates with the names filled in. */
static gh_result fill_statements(const oci *o, gh_call *call, const tenant *t, char ***out)
{
    char **s = calloc(o->n_statements, sizeof *s);

    if (!s)
        return host->fail(call, GH_ERR_NOMEM, "oci: out of memory");
    for (size_t i = 0; i < o->n_statements; i++) {
        const char *p = o->statements[i];
        size_t cap = strlen(p) + 1, n = 0;

        for (const char *q = p; (q = strchr(q, '{')) != NULL; q++)
            cap += strlen(t->name);
        if (!(s[i] = malloc(cap))) {
            for (size_t j = 0; j < i; j++)
                free(s[j]);
            free(s);
            return host->fail(call, GH_ERR_NOMEM, "oci: out of memory");
        }
        while (*p) {
            if (strncmp(p, "{group}", 7) == 0 || strncmp(p, "{compartment}", 13) == 0) {
                /* the three resources share the name */
                n += (size_t)sprintf(s[i] + n, "%s", t->name);
                p += p[1] == 'g' ? 7 : 13;
            } else {
                s[i][n++] = *p++;
            }
        }
        s[i][n] = '\0';
    }
    *out = s;
    return GH_OK;
}

/* Create the resource of type k, or find the one an earlier step made.
 * A token's answer that is gone (a tenant provisioned again after a
 * rollback, within the token's life) moves on to the next token. */
static gh_result create(const oci *o, gh_call *call, tenant *t, oci_kind k, char *state)
{
    char token[64], after[OCI_OCID_MAX] = "", **statements = NULL;
    oci_create c = {.kind = k,
                    .parent = k == OCI_GROUP ? o->tenancy : o->parent,
                    .name = t->name,
                    .description = t->description,
                    .tenant_id = t->id,
                    .retry_token = token};
    gh_result r = GH_OK;

    if (k == OCI_POLICY && (r = fill_statements(o, call, t, &statements)) == GH_OK) {
        c.statements = (const char *const *)statements;
        c.n_statements = o->n_statements;
    }
    for (int gen = 1; r == GH_OK; gen++) {
        if (gen > 8) {
            r = host->fail(call, GH_ERR_UPSTREAM,
                           "oci Create: retry tokens keep "
                           "answering with deleted resources");
            break;
        }
        if ((r = retry_token(call, t, k, after, token)) != GH_OK)
            break;
        r = oci_create_resource(o, call, &c, t->res[k], state);
        if (r == GH_ERR_NOT_FOUND) { /* the token was invalidated */
            snprintf(after, sizeof after, "invalidated-%d", gen);
            r = GH_OK;
        } else if (r == GH_OK &&
                   (strcmp(state, "DELETING") == 0 || strcmp(state, "DELETED") == 0)) {
            host->log(call, GH_LOG_NOTICE,
                      "oci: the retry token answered with %s %s, %s: "
                      "made anew",
                      oci_kind_name(k), t->res[k], state);
            snprintf(after, sizeof after, "%s", t->res[k]);
            t->res[k][0] = '\0';
        } else {
            break;
        }
    }
    for (size_t i = 0; statements && i < o->n_statements; i++)
        free(statements[i]);
    free(statements);
    return r;
}

/* provision  in: tenant_id, tenant_slug, tenant_name, resource...
 *            out: resource..., state, retry_after_ms? */
static gh_result oci_provision(const void *inst, void *tinst, gh_call *call, const gh_param *in,
                               gh_out *out)
{
    const oci *o = inst;
    char state[OCI_STATE_MAX];
    tenant t;
    gh_result r;

    (void)tinst;
    if ((r = read_input(o, call, in, 1, &t)) != GH_OK)
        return r;
    if (!t.res[OCI_COMPARTMENT][0]) {
        if ((r = create(o, call, &t, OCI_COMPARTMENT, state)) != GH_OK)
            return r;
        return answer(&t, out, "provisioning", strcmp(state, "ACTIVE") ? o->poll_ms : 0);
    }
    if (!t.res[OCI_GROUP][0]) {
        /* a group and a policy are useless until the compartment is ACTIVE */
        r = oci_get_state(o, call, OCI_COMPARTMENT, t.res[OCI_COMPARTMENT], state);
        if (r == GH_ERR_NOT_FOUND || (r == GH_OK && strcmp(state, "CREATING") == 0))
            return answer(&t, out, "provisioning", o->poll_ms); /* 404: not visible yet */
        if (r != GH_OK)
            return r;
        if (strcmp(state, "ACTIVE") != 0)
            return host->fail(call, GH_ERR_DENIED, "oci: compartment %s is %s, not ACTIVE",
                              t.res[OCI_COMPARTMENT], state);
        if ((r = create(o, call, &t, OCI_GROUP, state)) != GH_OK)
            return r;
        return answer(&t, out, "provisioning", 0);
    }
    if (!t.res[OCI_POLICY][0] && (r = create(o, call, &t, OCI_POLICY, state)) != GH_OK)
        return r;
    host->count(call, "provisioned", 1);
    return answer(&t, out, "active", 0);
}

/* ------------------------------------------------------------ deprovision */

/* deprovision  in: tenant_id, resource...
 *              out: resource... (those left), state, retry_after_ms? */
static gh_result oci_deprovision(const void *inst, void *tinst, gh_call *call, const gh_param *in,
                                 gh_out *out)
{
    static const oci_kind order[] = {OCI_POLICY, OCI_GROUP, OCI_COMPARTMENT};
    const oci *o = inst;
    tenant t;
    gh_result r;
    int left = 0;

    (void)tinst;
    if ((r = read_input(o, call, in, 0, &t)) != GH_OK)
        return r;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        oci_kind k = order[i];

        if (!t.res[k][0])
            continue;
        if (left++) /* one delete per step */
            continue;
        if ((r = oci_delete_resource(o, call, k, t.res[k])) != GH_OK)
            return r;
        t.res[k][0] = '\0';
    }
    if (left <= 1)
        host->count(call, "deprovisioned", 1);
    return answer(&t, out, left > 1 ? "deprovisioning" : "deleted", 0);
}

/* ------------------------------------------------------------ status */

/* status  in: tenant_id, resource...   out: state */
static gh_result oci_status(const void *inst, void *tinst, gh_call *call, const gh_param *in,
                            gh_out *out)
{
    const oci *o = inst;
    char state[OCI_STATE_MAX];
    const char *says = "active";
    tenant t;
    gh_result r;

    (void)tinst;
    if ((r = read_input(o, call, in, 0, &t)) != GH_OK)
        return r;
    for (oci_kind k = 0; k < OCI_KINDS && strcmp(says, "active") == 0; k++) {
        if (!t.res[k][0]) {
            says = k == OCI_COMPARTMENT ? "missing" : "provisioning";
            continue;
        }
        r = oci_get_state(o, call, k, t.res[k], state);
        if (r == GH_ERR_NOT_FOUND || (r == GH_OK && strcmp(state, "DELETED") == 0))
            says = "missing";
        else if (r != GH_OK)
            return r;
        else if (strcmp(state, "DELETING") == 0)
            says = "deleting";
        else if (strcmp(state, "ACTIVE") != 0)
            says = "provisioning";
    }
    return put_str(out, "state", says);
}

static const gh_cloud_ops oci_ops = {
    .size = sizeof(gh_cloud_ops),
    .provision = oci_provision,
    .deprovision = oci_deprovision,
    .status = oci_status,
};

static const gh_plugin oci_plugin = {
    .size = sizeof(gh_plugin),
    .abi_major = GH_ABI_MAJOR,
    .abi_minor = GH_ABI_MINOR,
    .name = "oci",
    .version = "1.0.0",
    .description = "a compartment, group and policy per tenant in Oracle Cloud",
    .kind = GH_KIND_CLOUD,
    .options = oci_options,
    .option_rules = oci_rules,
    .inst_size = sizeof(oci),
    .instantiate = oci_instantiate,
    .detach = oci_detach,
    .ops = &oci_ops,
    .flags = GH_PLUGIN_NEEDS_HTTP | GH_PLUGIN_MULTI_INSTANCE,
};

const gh_plugin *gatehouse_plugin_v1(const gh_host *h)
{
    host = h;
    oci_identity_use(h);
    return &oci_plugin;
}
