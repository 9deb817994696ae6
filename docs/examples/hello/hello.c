/*
 * hello.c - an example Gatehouse plugin: a notifier that delivers nothing
 * and logs each delivery instead. Copy it to start a plugin of your own.
 * Build:   make                 (needs gatehouse-plugin.pc: pkg-config)
 * Install: make install         (into pkg-config's plugindir)
 * Enable, in gatehouse.yaml:
 *   plugins:
 *     - name: hello
 *       options:
 *         greeting: Hi      # optional, default "Hello"
 *         quiet: false      # optional: log at debug level instead of info
 * Everything it needs from gatehoused arrives through the host table given
 * to gatehouse_plugin_v1(); it links against nothing else.
 */
#include <stdio.h>
#include <string.h>
#include <gatehouse/plugin.h>

static const gh_host *host; /* valid as long as the plugin is loaded */

/* Per configured instance; the host allocates it zeroed and frees it.
 * Read-only after instantiate(): ops on many threads share it. */
typedef struct hello { char greeting[64]; int level; } hello;

/* What the YAML `options:` block may hold. gatehoused refuses unknown keys, wrong
 * types and missing required keys before instantiate(), with their file:line:col. */
static const gh_option hello_options[] = {
    {"greeting", GH_T_STR, 0, "the word logged before each recipient (default \"Hello\")"},
    {"quiet", GH_T_BOOL, 0, "log deliveries at debug level instead of info"},
    {NULL, 0, 0, NULL},
};

/* Once, at start-up, on the main thread. Check what the option list cannot express
 * (lengths, ranges, URLs) here: a failure stops start-up, not a login at 3 a.m. */
static gh_result hello_instantiate(void *inst, const gh_cfg *options, gh_call *call)
{
    hello *h = inst;
    const char *greeting = host->cfg_str(options, "greeting", "Hello");

    if (strlen(greeting) >= sizeof h->greeting)
        return host->fail(call, GH_ERR_INVALID, "option 'greeting' is longer than %zu bytes",
                          sizeof h->greeting - 1);
    memcpy(h->greeting, greeting, strlen(greeting) + 1); /* options are only borrowed */
    h->level = host->cfg_bool(options, "quiet", 0) ? GH_LOG_DEBUG : GH_LOG_INFO;
    return GH_OK;
}

/* The value of a STR parameter, or NULL. Parameters are typed and carry
 * their length; they need not end in a NUL, hence the "%.*s" below. */
static const gh_param *find_str(const gh_param *in, const char *key)
{
    for (; in && in->key; in++)
        if (in->type == GH_T_STR && strcmp(in->key, key) == 0)
            return in;
    return NULL;
}

/* deliver  in: to, subject?, text, ...   out: message_id?
 * On a worker thread; may block, but not past the call's deadline. */
static gh_result hello_deliver(const void *inst, void *tinst, gh_call *call,
                               const gh_param *in, gh_out *out)
{
    const hello *h = inst;
    const gh_param *to = find_str(in, "to"), *subject = find_str(in, "subject");
    unsigned char id[8];
    char hex[2 * sizeof id + 1];

    (void)tinst; /* thread_size is 0: no per-thread instance */
    if (!to)
        return host->fail(call, GH_ERR_INVALID, "'to' is required");
    if (host->random(id, sizeof id) != GH_OK)
        return host->fail(call, GH_ERR_INTERNAL, "no randomness");
    for (size_t i = 0; i < sizeof id; i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);

    host->log(call, h->level, "%s %.*s: message %s%s%.*s", h->greeting, (int)to->len,
              (const char *)to->data, hex, subject ? ", subject: " : "",
              subject ? (int)subject->len : 0, subject ? (const char *)subject->data : "");
    host->count(call, "delivered", 1); /* gatehouse_plugin_events_total */
    /* the host copies what is put: hex may live on our stack */
    return host->put(out, &(gh_param){"message_id", GH_T_STR, hex, strlen(hex)});
}

static const gh_notify_ops hello_ops = {.size = sizeof(gh_notify_ops), .deliver = hello_deliver};
static const gh_plugin hello_plugin = {
    .size = sizeof(gh_plugin), .abi_major = GH_ABI_MAJOR, .abi_minor = GH_ABI_MINOR,
    .name = "hello", /* the file must be hello.so, the YAML name hello */
    .version = "1.0.0", .description = "logs notifications instead of sending them",
    .kind = GH_KIND_NOTIFY, .options = hello_options, .inst_size = sizeof(hello),
    .instantiate = hello_instantiate, .ops = &hello_ops,
};

/* The one exported symbol (GH_EXPORT, in the header, keeps it visible
 * under -fvisibility=hidden). */
const gh_plugin *gatehouse_plugin_v1(const gh_host *h)
{
    host = h;
    return &hello_plugin;
}
