/*
 * cloudlog.c - an example cloud provisioner that creates nothing: it logs
 * what it would create and answers with ids derived from the tenant alone
 * ("compartment:<tenant_id>", ...), so provisioning a tenant twice, or again
 * after a crash, gives the same resources: what a real provisioner must
 * achieve by looking up before creating. A dry run for a new deployment.
 *   plugins:
 *     - name: cloudlog
 *       options: { prefix: gh }   # optional, prepended to bucket names
 */
#include <stdio.h>
#include <string.h>
#include <gatehouse/plugin.h>

static const gh_host *host;
typedef struct cloudlog { char prefix[32]; } cloudlog; /* read-only after instantiate */

static const gh_option cloudlog_options[] = {
    {"prefix", GH_T_STR, 0, "prepended to the names of buckets (default \"gh\")"}, {NULL, 0, 0, NULL}};

static gh_result cloudlog_instantiate(void *inst, const gh_cfg *options, gh_call *call)
{
    const char *prefix = host->cfg_str(options, "prefix", "gh");
    if (strlen(prefix) >= sizeof((cloudlog *)inst)->prefix)
        return host->fail(call, GH_ERR_INVALID, "option 'prefix' is too long");
    strcpy(((cloudlog *)inst)->prefix, prefix); /* options are only borrowed */
    return GH_OK;
}

/* The tenant id, checked: it becomes part of resource names. */
static gh_result tenant(gh_call *call, const gh_param *in, char id[65])
{
    for (; in && in->key; in++)
        if (in->type == GH_T_STR && strcmp(in->key, "tenant_id") == 0 && in->len > 0 && in->len < 65) {
            memcpy(id, in->data, in->len), id[in->len] = '\0'; /* parameters need not end in a NUL */
            if (strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-") == in->len)
                return GH_OK;
        }
    return host->fail(call, GH_ERR_INVALID, "'tenant_id' must be 1-64 of [a-z0-9-]");
}

static gh_result put_str(gh_out *out, const char *key, const char *value)
{
    return host->put(out, &(gh_param){key, GH_T_STR, value, strlen(value)});
}

/* provision  in: tenant_id, tenant_slug, tenant_name, resource...   out: resource..., state.
 * One step makes all three, since nothing is made: a real plugin makes one per step. */
static gh_result cloudlog_provision(const void *inst, void *tinst, gh_call *call, const gh_param *in, gh_out *out)
{
    const cloudlog *c = inst;
    char id[65], res[3][128];
    gh_result r = tenant(call, in, id);
    (void)tinst;
    if (r != GH_OK)
        return r;
    /* the same tenant always gets the same ids: nothing is created twice */
    snprintf(res[0], sizeof res[0], "compartment:%s", id);
    snprintf(res[1], sizeof res[1], "bucket:%s-%s", c->prefix, id);
    snprintf(res[2], sizeof res[2], "key:%s", id);
    for (int i = 0; i < 3 && r == GH_OK; i++) {
        host->log(call, GH_LOG_INFO, "dry run: would create %s", res[i]);
        r = put_str(out, "resource", res[i]);
    }
    return r != GH_OK ? r : put_str(out, "state", "active");
}

/* deprovision  in: tenant_id, resource (repeatable)   out: state (no resource left) */
static gh_result cloudlog_deprovision(const void *inst, void *tinst, gh_call *call, const gh_param *in, gh_out *out)
{
    char id[65];
    gh_result r = tenant(call, in, id);

    (void)inst, (void)tinst;
    for (; r == GH_OK && in && in->key; in++)
        if (in->type == GH_T_STR && strcmp(in->key, "resource") == 0)
            host->log(call, GH_LOG_INFO, "dry run: would delete %.*s", (int)in->len, (const char *)in->data);
    return r != GH_OK ? r : put_str(out, "state", "deleted");
}

/* status  in: tenant_id, resource (repeatable)   out: state. Nothing exists, so all is active. */
static gh_result cloudlog_status(const void *inst, void *tinst, gh_call *call, const gh_param *in, gh_out *out)
{
    char id[65];
    gh_result r = tenant(call, in, id);

    (void)inst, (void)tinst;
    return r != GH_OK ? r : put_str(out, "state", "active");
}

static const gh_cloud_ops cloudlog_ops = {.size = sizeof(gh_cloud_ops), .provision = cloudlog_provision,
                                          .deprovision = cloudlog_deprovision, .status = cloudlog_status};
static const gh_plugin cloudlog_plugin = { /* the file cloudlog.so, the YAML name cloudlog */
    .size = sizeof(gh_plugin), .abi_major = GH_ABI_MAJOR, .abi_minor = GH_ABI_MINOR,
    .name = "cloudlog", .version = "1.0.0", .description = "logs the resources it would provision",
    .kind = GH_KIND_CLOUD, .options = cloudlog_options, .inst_size = sizeof(cloudlog),
    .instantiate = cloudlog_instantiate, .ops = &cloudlog_ops};
const gh_plugin *gatehouse_plugin_v1(const gh_host *h) { return host = h, &cloudlog_plugin; }
