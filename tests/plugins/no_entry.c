/*
 * no_entry.c - a shared object that is not a gatehouse plugin: it exports a
 * descriptor, but under another name than gatehouse_plugin_v1 (as a plugin
 * written against a draft of the ABI would). The loader must say which
 * symbol is missing from which file.
 */
#include <gatehouse/plugin.h>

static const gh_plugin plugin = {
    .size = sizeof(gh_plugin),
    .abi_major = GH_ABI_MAJOR,
    .abi_minor = GH_ABI_MINOR,
    .name = "no_entry",
    .kind = GH_KIND_NOTIFY,
};

GH_EXPORT const gh_plugin *gatehouse_plugin(const gh_host *host);

const gh_plugin *gatehouse_plugin(const gh_host *host)
{
    (void)host;
    return &plugin;
}
