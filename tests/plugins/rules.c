/*
 * rules.c - the loader tests' plugin with option rules (ABI 1.1): a notify
 * plugin whose deliver puts back, as one line, the options it read in
 * instantiate, so the tests see defaults arrive through every getter.
 *
 * The environment variable GH_TEST_RULES, read when the plugin is loaded,
 * swaps in rules broken in a single way ("nokey", "badrange", "rangetype",
 * "choicetype", "baddefault", "outdefault", "required"), so one file
 * covers every rule the loader refuses as the plugin's fault.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/plugin.h>

static const gh_host *host;

typedef struct rules {
    char seen[256];
} rules;

static const gh_option options[] = {
    {"port", GH_T_INT, 0, "a port, 1 to 65535 (default 8080)"},
    {"timeout", GH_T_DURATION, 0, "1s to 1h (default 30s)"},
    {"ratio", GH_T_DOUBLE, 0, "at least 0.5 (default 1.5)"},
    {"mode", GH_T_STR, 0, "fast or safe (default safe)"},
    {"loud", GH_T_BOOL, 0, "default true"},
    {"limit", GH_T_INT, 0, "at most 100, no default"},
    {"must", GH_T_STR, 0, "no rule; required in the 'required' variant's eyes"},
    {"token", GH_T_SECRET, 0, "a secret, never echoed"},
    {NULL, 0, 0, NULL},
};

static const char *const modes[] = {"fast", "safe", NULL};

static const gh_option_rule good[] = {
    {"port", "8080", "1..65535", NULL},
    {"timeout", "30s", "1s..1h", NULL},
    {"ratio", "1.5", "0.5..", NULL},
    {"mode", "safe", NULL, modes},
    {"loud", "true", NULL, NULL},
    {"limit", NULL, "..100", NULL},
    {NULL, NULL, NULL, NULL},
};

static const struct variant {
    const char *name;
    gh_option_rule rules[2];
} variants[] = {
    {"nokey", {{"nosuch", "1", NULL, NULL}}},
    {"badrange", {{"port", NULL, "1-10", NULL}}},
    {"rangetype", {{"mode", NULL, "1..2", NULL}}},
    {"choicetype", {{"port", NULL, NULL, modes}}},
    {"baddefault", {{"timeout", "soon", NULL, NULL}}},
    {"outdefault", {{"mode", "slow", NULL, modes}}},
};

static gh_result rules_instantiate(void *inst, const gh_cfg *cfg, gh_call *call)
{
    rules *r = inst;
    const gh_cfg *mode = host->cfg_child(cfg, "mode");

    (void)call;
    /* the plugin's own fallbacks differ from the rules' defaults, so the
     * tests can tell which one arrived */
    snprintf(r->seen, sizeof r->seen, "port=%lld timeout=%lld ratio=%g mode=%s loud=%d child=%s",
             (long long)host->cfg_int(cfg, "port", -1),
             (long long)host->cfg_int(cfg, "timeout", -1), host->cfg_double(cfg, "ratio", -1),
             host->cfg_str(cfg, "mode", "none"), host->cfg_bool(cfg, "loud", 0),
             mode ? host->cfg_value(mode) : "none");
    return GH_OK;
}

static gh_result rules_deliver(const void *inst, void *tinst, gh_call *call,
                               const gh_param *in, gh_out *out)
{
    const rules *r = inst;

    (void)tinst;
    (void)call;
    (void)in;
    return host->put(out, &(gh_param){"seen", GH_T_STR, r->seen, strlen(r->seen)});
}

static const gh_notify_ops ops = {
    .size = sizeof(gh_notify_ops),
    .deliver = rules_deliver,
};

static gh_plugin desc = {
    .size = sizeof(gh_plugin),
    .abi_major = GH_ABI_MAJOR,
    .abi_minor = GH_ABI_MINOR,
    .name = "rules",
    .version = "1.0",
    .description = "loader tests: option rules",
    .kind = GH_KIND_NOTIFY,
    .options = options,
    .inst_size = sizeof(rules),
    .instantiate = rules_instantiate,
    .ops = &ops,
    .option_rules = good,
};

GH_EXPORT const gh_plugin *gatehouse_plugin_v1(const gh_host *h)
{
    const char *v = getenv("GH_TEST_RULES");
    static gh_option required[sizeof options / sizeof options[0]];
    static const gh_option_rule must_default[] = {{"must", "x", NULL, NULL}, {NULL, NULL, NULL, NULL}};

    host = h;
    desc.options = options;
    desc.option_rules = good;
    for (size_t i = 0; v && i < sizeof variants / sizeof variants[0]; i++)
        if (strcmp(v, variants[i].name) == 0)
            desc.option_rules = variants[i].rules;
    if (v && strcmp(v, "required") == 0) {
        memcpy(required, options, sizeof options);
        required[6].required = 1;
        desc.options = required;
        desc.option_rules = must_default;
    }
    return &desc;
}
