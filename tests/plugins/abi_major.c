/*
 * abi_major.c - a plugin from a future, incompatible ABI (2.0). The loader
 * must refuse it with a message naming the plugin and both versions, and
 * must not read anything past the descriptor's head: a 2.x layout may differ.
 */
#include <gatehouse/plugin.h>

static gh_result never_called(const void *inst, void *tinst, gh_call *call,
                              const gh_param *in, gh_out *out)
{
    (void)inst, (void)tinst, (void)call, (void)in, (void)out;
    return GH_ERR_UNSUPPORTED;
}

static const gh_notify_ops ops = {
    .size = sizeof(gh_notify_ops),
    .deliver = never_called,
};

static const gh_plugin plugin = {
    .size = sizeof(gh_plugin),
    .abi_major = 2,
    .abi_minor = 0,
    .name = "abi_major",
    .version = "2.0.0",
    .description = "test plugin: built for plugin ABI 2.0",
    .kind = GH_KIND_NOTIFY,
    .ops = &ops,
};

const gh_plugin *gatehouse_plugin_v1(const gh_host *host)
{
    (void)host;
    return &plugin;
}
