/*
 * undef.c - a plugin linked against a function that exists nowhere, as one
 * built against a newer libfoo than the one installed would be. libltdl on
 * its own binds lazily and would load it, leaving the crash for its first
 * call; the loader must refuse it at start-up, naming the missing symbol.
 */
#include <gatehouse/plugin.h>

int gh_test_no_such_function(void); /* deliberately defined nowhere */

static gh_result undef_deliver(const void *inst, void *tinst, gh_call *call,
                               const gh_param *in, gh_out *out)
{
    (void)inst, (void)tinst, (void)call, (void)in, (void)out;
    return gh_test_no_such_function() ? GH_ERR_INTERNAL : GH_OK;
}

static const gh_notify_ops ops = {
    .size = sizeof(gh_notify_ops),
    .deliver = undef_deliver,
};

static const gh_plugin plugin = {
    .size = sizeof(gh_plugin),
    .abi_major = GH_ABI_MAJOR,
    .abi_minor = GH_ABI_MINOR,
    .name = "undef",
    .version = "1.0.0",
    .description = "test plugin: needs a symbol nobody has",
    .kind = GH_KIND_NOTIFY,
    .ops = &ops,
};

const gh_plugin *gatehouse_plugin_v1(const gh_host *host)
{
    (void)host;
    return &plugin;
}
