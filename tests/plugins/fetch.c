/*
 * fetch.c - a notify plugin that needs outbound HTTP (GH_PLUGIN_NEEDS_HTTP):
 * the loader must refuse it where host->http cannot work. Its deliver op
 * GETs the URL given as "to" under the policy its options allow, and
 * answers with the status and the call's context as host->call_get gives
 * it, so a test sees both through a real plugin.
 *
 *   allow_private  (BOOL): pass allow_http and allow_private on (a test's
 *                  listener is http on 127.0.0.1)
 */
#include <string.h>
#include <gatehouse/plugin.h>

static const gh_host *host;

typedef struct fetch {
    int32_t allow_private;
} fetch;

static const gh_option options[] = {
    {"allow_private", GH_T_BOOL, 0, "may reach http:// and private addresses"},
    {NULL, 0, 0, NULL},
};

static gh_result fetch_instantiate(void *inst, const gh_cfg *cfg, gh_call *call)
{
    fetch *f = inst;

    (void)call;
    f->allow_private = host->cfg_bool(cfg, "allow_private", 0);
    return GH_OK;
}

static gh_result fetch_deliver(const void *inst, void *tinst, gh_call *call,
                               const gh_param *in, gh_out *out)
{
    static const char *const context[] = {"request_id", "tenant", "user_id", "client_ip",
                                          "user_agent", "locale", "public_url", "instance",
                                          "attempt"};
    const fetch *f = inst;
    const gh_param *to = in;
    gh_param req[4] = {{NULL, 0, NULL, 0}}, v;
    gh_out *resp;
    gh_result r;

    (void)tinst;
    while (to && to->key && strcmp(to->key, "to") != 0)
        to++;
    if (!to || !to->key || to->type != GH_T_STR)
        return host->fail(call, GH_ERR_INVALID, "'to' (a URL) is required");
    req[0] = (gh_param){"url", GH_T_STR, to->data, to->len};
    if (f->allow_private) {
        req[1] = (gh_param){"allow_http", GH_T_BOOL, &f->allow_private, sizeof f->allow_private};
        req[2] = (gh_param){"allow_private", GH_T_BOOL, &f->allow_private,
                            sizeof f->allow_private};
    }
    if (!(resp = host->out_new()))
        return GH_ERR_NOMEM;
    r = host->http(call, req, resp);
    if (r == GH_OK)
        r = host->put(out, host->out_get(resp, "status", 0));
    host->out_free(resp);
    for (size_t i = 0; r == GH_OK && i < sizeof context / sizeof context[0]; i++)
        if (host->call_get(call, context[i], &v) == GH_OK)
            r = host->put(out, &v);
    return r;
}

static const gh_notify_ops ops = {
    .size = sizeof(gh_notify_ops),
    .deliver = fetch_deliver,
};

static const gh_plugin plugin = {
    .size = sizeof(gh_plugin),
    .abi_major = GH_ABI_MAJOR,
    .abi_minor = GH_ABI_MINOR,
    .name = "fetch",
    .version = "1.0.0",
    .description = "test plugin: needs outbound HTTP, reports the call context",
    .kind = GH_KIND_NOTIFY,
    .options = options,
    .inst_size = sizeof(fetch),
    .instantiate = fetch_instantiate,
    .ops = &ops,
    .flags = GH_PLUGIN_NEEDS_HTTP | GH_PLUGIN_MULTI_INSTANCE,
};

GH_EXPORT const gh_plugin *gatehouse_plugin_v1(const gh_host *h)
{
    host = h;
    return &plugin;
}
