/*
 * fail_init.c - a plugin whose instantiate() refuses its options, as a real
 * one refuses a value its option list cannot express (a range, a URL). It
 * reads them through cfg_int(NULL, ...): NULL means "my own options".
 *
 *   x  (INT, 1 to 10): missing or out of range, instantiate fails.
 */
#include <gatehouse/plugin.h>

static const gh_host *host;

static const gh_option options[] = {
    {"x", GH_T_INT, 0, "a number from 1 to 10"},
    {NULL, 0, 0, NULL},
};

static gh_result fail_init_instantiate(void *inst, const gh_cfg *cfg, gh_call *call)
{
    int64_t x = host->cfg_int(NULL, "x", 0);

    (void)inst;
    (void)cfg;
    if (x < 1 || x > 10)
        return host->fail(call, GH_ERR_INVALID, "option 'x' must be 1 to 10, not %lld",
                          (long long)x);
    return GH_OK;
}

static gh_result fail_init_deliver(const void *inst, void *tinst, gh_call *call,
                                   const gh_param *in, gh_out *out)
{
    (void)inst, (void)tinst, (void)in, (void)out;
    return host->fail(call, GH_ERR_UNSUPPORTED, "not a real notifier");
}

static const gh_notify_ops ops = {
    .size = sizeof(gh_notify_ops),
    .deliver = fail_init_deliver,
};

static const gh_plugin plugin = {
    .size = sizeof(gh_plugin),
    .abi_major = GH_ABI_MAJOR,
    .abi_minor = GH_ABI_MINOR,
    .name = "fail_init",
    .version = "1.0.0",
    .description = "test plugin: instantiate refuses its options",
    .kind = GH_KIND_NOTIFY,
    .options = options,
    .instantiate = fail_init_instantiate,
    .ops = &ops,
};

const gh_plugin *gatehouse_plugin_v1(const gh_host *h)
{
    host = h;
    return &plugin;
}
