/*
 * ruled.c - a notify plugin with option rules (ABI 1.1): defaults, ranges
 * and choices, which the loader checks and whose defaults reach the plugin
 * through the getters. deliver answers what instantiate read, so a test
 * sees the values the plugin got.
 *
 *   port    INT, 1..65535, default 8080
 *   timeout DURATION, 1s..1h, default 30s
 *   ratio   DOUBLE, 0..1 (no default)
 *   mode    STR, "fast" or "safe", default safe
 *   retries INT, ..5 (at most 5), default 2
 *   label   STR, no rule
 *   loud    BOOL, default true; scale DOUBLE, 0.5.., default 1.5 (read
 *           only by the tests, through the getters, after instantiate)
 *   big     INT, ..9007199254740992 (2^53: past it doubles skip integers)
 *
 * GH_TEST_RULED, read when the plugin is loaded, picks a descriptor whose
 * rules are wrong in one way (the plugin's fault): unknown-key, bad-range,
 * bad-default, required-default and secret-default (with options of their
 * own), choices-on-int.
 */
#include <stdlib.h>
#include <string.h>
#include <gatehouse/plugin.h>

static const gh_host *host;

typedef struct ruled {
    int64_t port, timeout_ms, retries;
    double ratio;
    char mode[16];
} ruled;

static const gh_option options[] = {
    {"port", GH_T_INT, 0, "a TCP port"},
    {"timeout", GH_T_DURATION, 0, "how long to wait"},
    {"ratio", GH_T_DOUBLE, 0, "a share"},
    {"mode", GH_T_STR, 0, "fast or safe"},
    {"retries", GH_T_INT, 0, "how often to try again"},
    {"label", GH_T_STR, 0, "any text"},
    {"loud", GH_T_BOOL, 0, "log more"},
    {"scale", GH_T_DOUBLE, 0, "a factor"},
    {"big", GH_T_INT, 0, "a large count"},
    {NULL, 0, 0, NULL},
};
/* for required-default and secret-default: neither a required option
 * nor a secret can have a default */
static const gh_option required_options[] = {
    {"secret", GH_T_SECRET, 1, "required"},
    {"token", GH_T_SECRET, 0, "optional"},
    {NULL, 0, 0, NULL},
};

static const char *const modes[] = {"fast", "safe", NULL};

static const gh_option_rule rules[] = {
    {"port", "8080", "1..65535", NULL},
    {"timeout", "30s", "1s..1h", NULL},
    {"ratio", NULL, "0..1", NULL},
    {"mode", "safe", NULL, modes},
    {"retries", "2", "..5", NULL},
    {"loud", "true", NULL, NULL},
    {"scale", "1.5", "0.5..", NULL},
    {"big", NULL, "..9007199254740992", NULL},
    {NULL, NULL, NULL, NULL},
};

/* One wrong rule each, for the loader to refuse. */
static const gh_option_rule unknown_key[] = {{"colour", "red", NULL, NULL}, {0}};
static const gh_option_rule bad_range[] = {{"port", NULL, "10", NULL}, {0}};
static const gh_option_rule bad_default[] = {{"port", "70000", "1..65535", NULL}, {0}};
static const gh_option_rule required_default[] = {{"secret", "x", NULL, NULL}, {0}};
static const gh_option_rule secret_default[] = {{"token", "s3cret", NULL, NULL}, {0}};
static const gh_option_rule choices_on_int[] = {{"port", NULL, NULL, modes}, {0}};

static gh_result ruled_instantiate(void *inst, const gh_cfg *cfg, gh_call *call)
{
    ruled *r = inst;
    const char *mode = host->cfg_str(cfg, "mode", "unset");

    (void)call;
    /* the getters' own defaults are never what the rules give */
    r->port = host->cfg_int(cfg, "port", -1);
    r->timeout_ms = host->cfg_int(cfg, "timeout", -1);
    r->retries = host->cfg_int(cfg, "retries", -1);
    r->ratio = host->cfg_double(cfg, "ratio", -1);
    strncpy(r->mode, mode, sizeof r->mode - 1);
    return GH_OK;
}

static gh_result ruled_deliver(const void *inst, void *tinst, gh_call *call, const gh_param *in,
                               gh_out *out)
{
    const ruled *r = inst;
    gh_result res;

    (void)tinst, (void)call, (void)in;
    if ((res = host->put(out, &(gh_param){"port", GH_T_INT, &r->port, sizeof r->port})) ||
        (res = host->put(out, &(gh_param){"timeout", GH_T_INT, &r->timeout_ms,
                                          sizeof r->timeout_ms})) ||
        (res = host->put(out, &(gh_param){"retries", GH_T_INT, &r->retries,
                                          sizeof r->retries})) ||
        (res = host->put(out, &(gh_param){"ratio", GH_T_DOUBLE, &r->ratio, sizeof r->ratio})))
        return res;
    return host->put(out, &(gh_param){"mode", GH_T_STR, r->mode, strlen(r->mode)});
}

static const gh_notify_ops ops = {
    .size = sizeof(gh_notify_ops),
    .deliver = ruled_deliver,
};

static gh_plugin plugin = {
    .size = sizeof(gh_plugin),
    .abi_major = GH_ABI_MAJOR,
    .abi_minor = GH_ABI_MINOR,
    .name = "ruled",
    .version = "1.0.0",
    .description = "test plugin: option rules",
    .kind = GH_KIND_NOTIFY,
    .options = options,
    .inst_size = sizeof(ruled),
    .instantiate = ruled_instantiate,
    .ops = &ops,
    .option_rules = rules,
};

GH_EXPORT const gh_plugin *gatehouse_plugin_v1(const gh_host *h)
{
    static const struct {
        const char *name;
        const gh_option_rule *rules;
    } variants[] = {
        {"unknown-key", unknown_key},       {"bad-range", bad_range},
        {"bad-default", bad_default},       {"required-default", required_default},
        {"choices-on-int", choices_on_int}, {"secret-default", secret_default},
    };
    const char *v = getenv("GH_TEST_RULED");

    host = h;
    plugin.option_rules = rules;
    plugin.options = options;
    for (size_t i = 0; v && i < sizeof variants / sizeof variants[0]; i++)
        if (strcmp(v, variants[i].name) == 0)
            plugin.option_rules = variants[i].rules;
    if (v && (strcmp(v, "required-default") == 0 || strcmp(v, "secret-default") == 0))
        plugin.options = required_options;
    return &plugin;
}
