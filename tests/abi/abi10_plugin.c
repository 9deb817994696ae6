/*
 * abi10_plugin.c - the drift test. Built against tests/abi/gatehouse/plugin.h,
 * a frozen copy of the 1.0 header, this notify plugin must keep loading and
 * working in every 1.y gatehoused. If a change to include/gatehouse/plugin.h
 * moves a member, resizes a struct or renumbers an enum, this plugin calls
 * the wrong function or reads the wrong field, and test_loader fails.
 *
 * It touches a broad slice of the 1.0 host table on purpose.
 *
 * deliver  in: to (STR)   out: reply (STR), json (JSON), now (INT)
 */
#include <string.h>

#include <gatehouse/plugin.h>

#if GH_ABI_MAJOR != 1 || GH_ABI_MINOR != 0
#error "abi10_plugin.c must be built against the frozen 1.0 header in tests/abi"
#endif

static const gh_host *host;

typedef struct abi10 {
    char prefix[32];
    int64_t limit;
    int loud;
} abi10;

static const gh_option options[] = {
    {"prefix", GH_T_STR, 0, "put before each reply (default \"abi10\")"},
    {"limit", GH_T_DURATION, 0, "a duration, read with cfg_int"},
    {"loud", GH_T_BOOL, 0, "log each delivery at notice level"},
    {NULL, 0, 0, NULL},
};

static gh_result abi10_instantiate(void *inst, const gh_cfg *cfg, gh_call *call)
{
    abi10 *a = inst;
    const char *prefix = host->cfg_str(cfg, "prefix", "abi10");

    if (strlen(prefix) >= sizeof a->prefix)
        return host->fail(call, GH_ERR_INVALID, "option 'prefix' is too long");
    memcpy(a->prefix, prefix, strlen(prefix) + 1);
    a->limit = host->cfg_int(cfg, "limit", 1000);
    a->loud = host->cfg_bool(cfg, "loud", 0);
    return GH_OK;
}

static gh_result abi10_deliver(const void *inst, void *tinst, gh_call *call,
                               const gh_param *in, gh_out *out)
{
    const abi10 *a = inst;
    const char *to = NULL;
    size_t to_len = 0, plen = strlen(a->prefix);
    unsigned char nonce[16] = {0}, zero[16] = {0};
    int64_t now = host->now_ms();
    gh_json *doc = NULL;
    char *reply, *json;
    gh_result r;

    (void)tinst;
    for (; in && in->key; in++)
        if (strcmp(in->key, "to") == 0 && in->type == GH_T_STR) {
            to = in->data;
            to_len = in->len;
        }
    if (!to)
        return host->fail(call, GH_ERR_INVALID, "'to' is required");
    if (host->random(nonce, sizeof nonce) != GH_OK || memcmp(nonce, zero, sizeof nonce) == 0)
        return host->fail(call, GH_ERR_INTERNAL, "no randomness");

    if (!(reply = host->alloc(plen + 1 + to_len)))
        return host->fail(call, GH_ERR_NOMEM, "out of memory");
    memcpy(reply, a->prefix, plen);
    reply[plen] = ' ';
    memcpy(reply + plen + 1, to, to_len);
    r = host->put(out, &(gh_param){"reply", GH_T_STR, reply, plen + 1 + to_len});
    host->wipe(reply, plen + 1 + to_len);
    host->free(reply);
    if (r != GH_OK)
        return host->fail(call, r, "cannot put the reply");

    json = host->json_encode(call, (const gh_param[]){
        {"to", GH_T_STR, to, to_len},
        {"limit", GH_T_INT, &a->limit, sizeof a->limit},
        {NULL, 0, NULL, 0},
    });
    if (!json)
        return GH_ERR_INTERNAL; /* json_encode already called fail */
    r = host->json_decode(call, json, strlen(json), &doc);
    if (r == GH_OK && host->json_int(host->json_get(doc, "limit"), -1) != a->limit)
        r = host->fail(call, GH_ERR_INTERNAL, "json round trip lost 'limit'");
    if (r == GH_OK)
        r = host->put(out, &(gh_param){"json", GH_T_JSON, json, strlen(json)});
    host->json_free(doc);
    host->free(json);
    if (r == GH_OK)
        r = host->put(out, &(gh_param){"now", GH_T_INT, &now, sizeof now});
    if (r != GH_OK)
        return r;

    host->count(call, "delivered", 1);
    host->log(call, a->loud ? GH_LOG_NOTICE : GH_LOG_DEBUG, "delivered to %.*s",
              (int)to_len, to);
    return GH_OK;
}

static const gh_notify_ops ops = {
    .size = sizeof(gh_notify_ops),
    .deliver = abi10_deliver,
};

static const gh_plugin plugin = {
    .size = sizeof(gh_plugin),
    .abi_major = GH_ABI_MAJOR,
    .abi_minor = GH_ABI_MINOR,
    .name = "abi10",
    .version = "1.0.0",
    .description = "test plugin: built against the frozen 1.0 header",
    .kind = GH_KIND_NOTIFY,
    .options = options,
    .inst_size = sizeof(abi10),
    .instantiate = abi10_instantiate,
    .ops = &ops,
};

const gh_plugin *gatehouse_plugin_v1(const gh_host *h)
{
    host = h;
    return &plugin;
}
