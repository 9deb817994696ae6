/*
 * echo.c - the loader tests' good plugin: a notify plugin whose deliver puts
 * back "<greeting> <to>". It uses what real plugins use (options, a secret,
 * host memory, per-thread instances, host->count, host->fail, and kv with
 * kv_count) so the tests can watch each of them work.
 *
 * The environment variable GH_TEST_ECHO, read when the plugin is loaded,
 * swaps in a descriptor from a newer minor ABI ("future") or one broken in
 * a single way ("null", "small", "name", "kind", "noops", "smallops"), so
 * one file covers every descriptor check of the loader.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/plugin.h>

static const gh_host *host;
static atomic_int live_threads; /* per-thread instances alive right now */

typedef struct echo {
    char *greeting;
    int64_t repeat;
    char *token;
    int kv_count;
} echo;

typedef struct echo_thread {
    int64_t calls; /* delivers served by this thread's instance */
} echo_thread;

static const gh_option options[] = {
    {"greeting", GH_T_STR, 1, "the word put before the recipient"},
    {"repeat", GH_T_INT, 0, "how many times to echo, 1 to 10 (default 1)"},
    {"token", GH_T_SECRET, 0, "a secret, echoed back so tests see it was read"},
    {"kv_count", GH_T_BOOL, 0, "count deliveries in kv (key 'delivered'), put as kv_count"},
    {NULL, 0, 0, NULL},
};

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = host->alloc(n);

    if (d)
        memcpy(d, s, n);
    return d;
}

static gh_result echo_instantiate(void *inst, const gh_cfg *cfg, gh_call *call)
{
    echo *e = inst;
    const char *greeting = host->cfg_str(cfg, "greeting", "hello");

    e->repeat = host->cfg_int(cfg, "repeat", 1);
    if (e->repeat < 1 || e->repeat > 10)
        return host->cfg_fail(call, host->cfg_child(cfg, "repeat"),
                              "option 'repeat' must be 1 to 10");
    if (!(e->greeting = dup_str(greeting)))
        return host->fail(call, GH_ERR_NOMEM, "out of memory");
    e->token = host->cfg_secret(cfg, "token");
    e->kv_count = host->cfg_bool(cfg, "kv_count", 0);
    return GH_OK;
}

static void echo_detach(void *inst)
{
    echo *e = inst;

    host->free(e->greeting);
    if (e->token) {
        host->wipe(e->token, strlen(e->token));
        host->free(e->token);
    }
}

static gh_result echo_thread_init(const void *inst, void *tinst, gh_call *call)
{
    (void)inst;
    (void)call;
    ((echo_thread *)tinst)->calls = 0;
    atomic_fetch_add(&live_threads, 1);
    return GH_OK;
}

static void echo_thread_fini(const void *inst, void *tinst)
{
    (void)inst;
    (void)tinst;
    atomic_fetch_sub(&live_threads, 1);
}

static const gh_param *find(const gh_param *in, const char *key)
{
    for (; in && in->key; in++)
        if (strcmp(in->key, key) == 0)
            return in;
    return NULL;
}

static gh_result put_int(gh_out *out, const char *key, int64_t v)
{
    return host->put(out, &(gh_param){key, GH_T_INT, &v, sizeof v});
}

/* in: to (STR), fail?, fail_code? (INT: fail with that code and a
 * retry-after of 2.5 s); out: echo (repeat times), threads, calls, token?,
 * kv_count? */
static gh_result echo_deliver(const void *inst, void *tinst, gh_call *call,
                              const gh_param *in, gh_out *out)
{
    const echo *e = inst;
    echo_thread *t = tinst;
    const gh_param *to = find(in, "to");
    const gh_param *code = find(in, "fail_code");
    size_t glen = strlen(e->greeting), len;
    gh_result r = GH_OK;
    char *text;

    if (find(in, "fail"))
        return host->fail(call, GH_ERR_DENIED, "asked to fail");
    if (code && code->type == GH_T_INT && GH_HAS(host, fail_retry))
        return host->fail_retry(call, (gh_result)*(const int64_t *)code->data, 2500,
                                "asked to fail with a code");
    if (!t)
        return host->fail(call, GH_ERR_INTERNAL, "no per-thread instance");
    if (!to || to->type != GH_T_STR)
        return host->fail(call, GH_ERR_INVALID, "'to' (STR) is required");

    len = glen + 1 + to->len;
    if (!(text = host->alloc(len)))
        return host->fail(call, GH_ERR_NOMEM, "out of memory");
    memcpy(text, e->greeting, glen);
    text[glen] = ' ';
    memcpy(text + glen + 1, to->data, to->len);
    for (int64_t i = 0; r == GH_OK && i < e->repeat; i++)
        r = host->put(out, &(gh_param){"echo", GH_T_STR, text, len});
    host->free(text);

    t->calls++;
    if (r == GH_OK)
        r = put_int(out, "threads", atomic_load(&live_threads));
    if (r == GH_OK)
        r = put_int(out, "calls", t->calls);
    if (r == GH_OK && e->token)
        r = host->put(out, &(gh_param){"token", GH_T_STR, e->token, strlen(e->token)});
    if (r != GH_OK)
        return host->fail(call, r, "cannot put results");
    if (e->kv_count) {
        int64_t n = 0;

        /* host->kv_incr has set the message when it fails */
        if ((r = host->kv_incr(call, "delivered", 1, 0, &n)) != GH_OK)
            return r;
        if ((r = put_int(out, "kv_count", n)) != GH_OK)
            return host->fail(call, r, "cannot put results");
    }
    host->count(call, "delivered", 1);
    host->log(call, GH_LOG_DEBUG, "echoed %zu bytes", len);
    return GH_OK;
}

static const gh_notify_ops echo_ops = {
    .size = sizeof(gh_notify_ops),
    .deliver = echo_deliver,
};

static const gh_plugin echo_plugin = {
    .size = sizeof(gh_plugin),
    .abi_major = GH_ABI_MAJOR,
    .abi_minor = GH_ABI_MINOR,
    .name = "echo",
    .version = "1.0.0",
    .description = "test plugin: echoes deliveries back",
    .kind = GH_KIND_NOTIFY,
    .options = options,
    .inst_size = sizeof(echo),
    .thread_size = sizeof(echo_thread),
    .instantiate = echo_instantiate,
    .thread_init = echo_thread_init,
    .thread_fini = echo_thread_fini,
    .detach = echo_detach,
    .ops = &echo_ops,
    .flags = GH_PLUGIN_MULTI_INSTANCE, /* its state is all in its instances */
};

/* What a plugin built against a later 1.x header looks like: bigger
 * structs, members this host has never heard of, which it must not read. */
typedef struct echo_ops_1_1 {
    gh_notify_ops v1_0;
    gh_op preview;
} echo_ops_1_1;

typedef struct echo_plugin_1_1 {
    gh_plugin v1_0;
    const char *homepage;
} echo_plugin_1_1;

static const echo_ops_1_1 future_ops = {
    .v1_0 = {.size = sizeof(echo_ops_1_1), .deliver = echo_deliver},
    .preview = echo_deliver,
};

static gh_plugin variant; /* a copy of echo_plugin, spoiled on request */
static echo_plugin_1_1 future;
static const gh_notify_ops small_ops = {.size = sizeof(uint32_t)};

const gh_plugin *gatehouse_plugin_v1(const gh_host *h)
{
    const char *v = getenv("GH_TEST_ECHO");

    host = h;
    if (!v || !*v)
        return &echo_plugin;
    if (strcmp(v, "null") == 0)
        return NULL;
    if (strcmp(v, "future") == 0) {
        future.v1_0 = echo_plugin;
        future.v1_0.size = sizeof future;
        future.v1_0.abi_minor = GH_ABI_MINOR + 1;
        future.v1_0.ops = &future_ops;
        future.homepage = "https://example.org/echo";
        return &future.v1_0;
    }
    variant = echo_plugin;
    if (strcmp(v, "small") == 0)
        variant.size = offsetof(gh_plugin, ops);
    else if (strcmp(v, "name") == 0)
        variant.name = "ohce";
    else if (strcmp(v, "kind") == 0)
        variant.kind = 42;
    else if (strcmp(v, "noops") == 0)
        variant.ops = NULL;
    else if (strcmp(v, "smallops") == 0)
        variant.ops = &small_ops;
    return &variant;
}
