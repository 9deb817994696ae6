/*
 * host.c - the host table: everything a plugin may ask of gatehoused.
 *
 * Plugins see the daemon only through gh_host_table, so every function here
 * is a boundary: it checks its arguments, copies what it keeps, and never
 * hands out an internal type. Outbound HTTP is a module loaded at its first
 * use (host_http.c, see http_client.h); JSON lives in host_json.c; digests
 * and HMAC in host_crypto.c, encodings in host_encode.c, JWT verification
 * in host_jwks.c, the storage drivers' helpers in host_driver.c; the rest
 * (logging, errors, options, the call, time, randomness, memory, result
 * builders, kv, metrics) is here, as adaptors over the core's own
 * functions where the core has them (call.h, out.h, store.h).
 */
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dlfcn.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "out.h"
#include "plugin/host.h"
#include "plugin/http_client.h"
#include "store/store.h"

/* ------------------------------------------------------------ errors, log */

static const char *call_plugin_name(const gh_call *call)
{
    return call && call->plugin ? call->plugin->name : NULL;
}

static void host_log(gh_call *call, int level, const char *fmt, ...) GH_PRINTF(3, 4);
static void host_log(gh_call *call, int level, const char *fmt, ...)
{
    va_list ap;

    /* a plugin may not raise alerts above "error", nor invent levels */
    if (level < GH_LOG_ERROR)
        level = GH_LOG_ERROR;
    if (level > GH_LOG_DEBUG)
        level = GH_LOG_DEBUG;
    va_start(ap, fmt);
    call_vlog(call, call_plugin_name(call), level, fmt, ap);
    va_end(ap);
}

static const char *host_call_request_id(const gh_call *call)
{
    return call ? call->request_id : NULL;
}

static const char *host_call_tenant(const gh_call *call)
{
    return call ? call->tenant : NULL;
}

static gh_result host_call_get(const gh_call *call, const char *key, gh_param *out)
{
    static const struct { const char *key; size_t off; } strs[] = {
        {"request_id", offsetof(gh_call, request_id)},
        {"tenant", offsetof(gh_call, tenant)},
        {"user_id", offsetof(gh_call, user_id)},
        {"client_ip", offsetof(gh_call, client_ip)},
        {"user_agent", offsetof(gh_call, user_agent)},
        {"locale", offsetof(gh_call, locale)},
        {"public_url", offsetof(gh_call, public_url)},
    };

    if (!call || !key || !out)
        return GH_ERR_NOT_FOUND;
    if (strcmp(key, "instance") == 0 && call_plugin_name(call)) {
        const char *name = call_plugin_name(call);

        *out = (gh_param){"instance", GH_T_STR, name, strlen(name)};
        return GH_OK;
    }
    if (strcmp(key, "attempt") == 0) {
        if (call->attempt <= 0)
            return GH_ERR_NOT_FOUND;
        *out = (gh_param){"attempt", GH_T_INT, &call->attempt, sizeof call->attempt};
        return GH_OK;
    }
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        const char *v;

        if (strcmp(key, strs[i].key) != 0)
            continue;
        memcpy(&v, (const char *)call + strs[i].off, sizeof v);
        if (!v || !*v)
            return GH_ERR_NOT_FOUND;
        *out = (gh_param){strs[i].key, GH_T_STR, v, strlen(v)};
        return GH_OK;
    }
    return GH_ERR_NOT_FOUND;
}

/* ---------------------------------------------------------------- options */

/* Whose options cfg_*(NULL, ...) means, on this thread. */
static _Thread_local const gh_node *t_scope;

const gh_node *host_cfg_scope(const gh_node *options)
{
    const gh_node *old = t_scope;

    t_scope = options;
    return old;
}

static const gh_node *node_of(const gh_cfg *cfg)
{
    return cfg ? (const gh_node *)cfg : t_scope;
}

static const gh_node *member(const gh_cfg *cfg, const char *key)
{
    const gh_node *map = node_of(cfg);

    if (!map || map->type != GH_NODE_MAP || !key)
        return NULL;
    return cfg_get(map, key);
}

/* YAML's null: unquoted ~, null or nothing at all. */
int host_cfg_is_null(const gh_node *n)
{
    if (n->type != GH_NODE_SCALAR || n->quoted)
        return 0;
    return !n->value || !n->value[0] || strcmp(n->value, "~") == 0 ||
           strcmp(n->value, "null") == 0 || strcmp(n->value, "Null") == 0 ||
           strcmp(n->value, "NULL") == 0;
}

/* The text of a scalar member, or NULL if it is absent, null or not a scalar. */
static const char *scalar(const gh_cfg *cfg, const char *key)
{
    const gh_node *n = member(cfg, key);

    return n && n->type == GH_NODE_SCALAR && !host_cfg_is_null(n) ? n->value : NULL;
}

static const char *host_cfg_str(const gh_cfg *node, const char *key, const char *dflt)
{
    const char *s = scalar(node, key);

    return s ? s : dflt;
}

/* Integers and durations both read as int64 (durations in milliseconds). */
static int64_t host_cfg_int(const gh_cfg *node, const char *key, int64_t dflt)
{
    const char *s = scalar(node, key);
    int64_t v;

    if (s && (cfg_parse_int(s, &v) == 0 || cfg_parse_duration(s, &v) == 0))
        return v;
    return dflt;
}

static int host_cfg_bool(const gh_cfg *node, const char *key, int dflt)
{
    const char *s = scalar(node, key);
    int v;

    return s && cfg_parse_bool(s, &v) == 0 ? v : dflt;
}

static double host_cfg_double(const gh_cfg *node, const char *key, double dflt)
{
    const char *s = scalar(node, key);
    char *end;
    double v;

    if (!s || !*s)
        return dflt;
    v = strtod(s, &end);
    return *end ? dflt : v;
}

/* `key`, else the file named by `key_file` (the loader checked that at most
 * one is set and that the file was readable at start-up). */
static char *host_cfg_secret(const gh_cfg *node, const char *key)
{
    char file_key[128], why[256];
    const char *s = scalar(node, key), *path;
    char *v;

    if (s)
        return strdup(s);
    if (!key || (size_t)snprintf(file_key, sizeof file_key, "%s_file", key) >= sizeof file_key)
        return NULL;
    path = scalar(node, file_key);
    if (!path)
        return NULL;
    v = cfg_read_secret_file(path, why, sizeof why);
    if (!v)
        gh_log(GH_LOG_ERROR, "option '%s': %s", file_key, why);
    return v;
}

static gh_result host_cfg_fail(gh_call *call, const gh_cfg *node, const char *fmt, ...)
    GH_PRINTF(3, 4);
static gh_result host_cfg_fail(gh_call *call, const gh_cfg *node, const char *fmt, ...)
{
    char msg[sizeof call->message];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (call)
        call->fail_at = node_of(node); /* the loader puts the position first */
    return call_fail(call, GH_ERR_INVALID, "%s", msg);
}

static const gh_cfg *host_cfg_child(const gh_cfg *node, const char *key)
{
    return (const gh_cfg *)member(node, key);
}

static size_t host_cfg_len(const gh_cfg *list)
{
    const gh_node *n = node_of(list);

    return n && (n->type == GH_NODE_SEQ || n->type == GH_NODE_MAP) ? n->n : 0;
}

static const gh_cfg *host_cfg_at(const gh_cfg *list, size_t i)
{
    const gh_node *n = node_of(list);

    if (!n || (n->type != GH_NODE_SEQ && n->type != GH_NODE_MAP))
        return NULL;
    for (n = n->child; n && i > 0; n = n->next)
        i--;
    return (const gh_cfg *)n;
}

static const char *host_cfg_value(const gh_cfg *node)
{
    const gh_node *n = (const gh_node *)node;

    return n && n->type == GH_NODE_SCALAR ? n->value : NULL;
}

/* ------------------------------------------------ time, randomness, memory */

static gh_result host_random(void *buf, size_t len)
{
    unsigned char *p = buf;

    if (!p && len)
        return GH_ERR_INVALID;
    while (len > 0) {
        int n = len > INT_MAX ? INT_MAX : (int)len;

        if (RAND_bytes(p, n) != 1)
            return GH_ERR_INTERNAL;
        p += n;
        len -= (size_t)n;
    }
    return GH_OK;
}

/* Never NULL for 0 bytes, so NULL always means out of memory. */
static void *host_alloc(size_t len)
{
    return malloc(len ? len : 1);
}

static void host_free(void *ptr)
{
    free(ptr);
}

static void host_wipe(void *ptr, size_t len)
{
    if (ptr && len)
        OPENSSL_cleanse(ptr, len);
}

/* --------------------------------------------------------------------- kv */

/* Each plugin gets its own corner of the kv space, so no plugin can read or
 * overwrite the core's keys (revoked token ids, rate limits) or another's. */
#define KV_KEY_MAX 512

static gh_result kv_key(gh_call *call, const char *key, char *buf, size_t len)
{
    const char *owner = call_plugin_name(call);
    int n;

    if (!key || !*key)
        return call_fail(call, GH_ERR_INVALID, "kv: empty key");
    n = owner ? snprintf(buf, len, "plugin:%s:%s", owner, key) : snprintf(buf, len, "%s", key);
    if (n < 0 || (size_t)n >= len)
        return call_fail(call, GH_ERR_INVALID, "kv: key longer than %d bytes", KV_KEY_MAX);
    return GH_OK;
}

static gh_conn *kv_conn(gh_call *call)
{
    gh_conn *c = store_current();

    if (!c)
        call_fail(call, GH_ERR_UNAVAILABLE, "kv used outside a worker thread");
    return c;
}

static gh_result host_kv_get(gh_call *call, const char *key, gh_out *out)
{
    char k[KV_KEY_MAX + 80];
    gh_result r = kv_key(call, key, k, sizeof k);
    gh_conn *c;

    if (r != GH_OK)
        return r;
    if (!out)
        return call_fail(call, GH_ERR_INVALID, "kv_get: no output");
    if (!(c = kv_conn(call)))
        return GH_ERR_UNAVAILABLE;
    return store_kv_get(c, call, k, out);
}

static gh_result host_kv_set(gh_call *call, const char *key, const void *val, size_t len,
                             int64_t ttl_ms, uint32_t flags)
{
    char k[KV_KEY_MAX + 80];
    gh_result r = kv_key(call, key, k, sizeof k);
    gh_conn *c;

    if (r != GH_OK)
        return r;
    if (!val && len)
        return call_fail(call, GH_ERR_INVALID, "kv_set: no value");
    if (!(c = kv_conn(call)))
        return GH_ERR_UNAVAILABLE;
    return store_kv_set(c, call, k, val, len, ttl_ms, flags);
}

static gh_result host_kv_incr(gh_call *call, const char *key, int64_t delta, int64_t ttl_ms,
                              int64_t *result)
{
    char k[KV_KEY_MAX + 80];
    gh_result r = kv_key(call, key, k, sizeof k);
    gh_conn *c;

    if (r != GH_OK)
        return r;
    if (!(c = kv_conn(call)))
        return GH_ERR_UNAVAILABLE;
    return store_kv_incr(c, call, k, delta, ttl_ms, result);
}

static gh_result host_kv_del(gh_call *call, const char *key)
{
    char k[KV_KEY_MAX + 80];
    gh_result r = kv_key(call, key, k, sizeof k);
    gh_conn *c;

    if (r != GH_OK)
        return r;
    if (!(c = kv_conn(call)))
        return GH_ERR_UNAVAILABLE;
    return store_kv_del(c, call, k);
}

/* ---------------------------------------------------------------- metrics */

/* A bound on label pairs, so a plugin counting per-user events cannot grow
 * /metrics (and our memory) without limit. */
#define MAX_EVENTS 512
#define MAX_EVENT_LEN 32

typedef struct event_count {
    char plugin[72];
    char event[MAX_EVENT_LEN + 1];
    uint64_t n;
} event_count;

static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static event_count *ev;
static size_t ev_n, ev_cap;
static int ev_full_logged;

static int valid_event(const char *e)
{
    size_t n = 0;

    for (; e[n]; n++)
        if (n == MAX_EVENT_LEN ||
            !((e[n] >= 'a' && e[n] <= 'z') || (e[n] >= '0' && e[n] <= '9') || e[n] == '_'))
            return 0;
    return n > 0;
}

/* The counter for (plugin, event), created if there is room; lock held. */
static event_count *event_slot(const char *plugin, const char *event)
{
    for (size_t i = 0; i < ev_n; i++)
        if (strcmp(ev[i].plugin, plugin) == 0 && strcmp(ev[i].event, event) == 0)
            return &ev[i];
    if (ev_n == MAX_EVENTS)
        return NULL;
    if (ev_n == ev_cap) {
        size_t cap = ev_cap ? ev_cap * 2 : 16;
        event_count *v = realloc(ev, cap * sizeof *v);

        if (!v)
            return NULL;
        ev = v;
        ev_cap = cap;
    }
    memset(&ev[ev_n], 0, sizeof ev[ev_n]);
    snprintf(ev[ev_n].plugin, sizeof ev[ev_n].plugin, "%s", plugin);
    snprintf(ev[ev_n].event, sizeof ev[ev_n].event, "%s", event);
    return &ev[ev_n++];
}

static void host_count(gh_call *call, const char *event, uint64_t delta)
{
    const char *plugin = call_plugin_name(call);
    event_count *c;
    int dropped = 0;

    if (!plugin)
        return;
    if (!event || !valid_event(event)) {
        /* the name is not echoed: it failed validation, so it may be anything */
        gh_log_tagged(GH_LOG_WARNING, plugin, call->request_id,
                      "count: event names are 1 to %d of a-z, 0-9 and _", MAX_EVENT_LEN);
        return;
    }
    pthread_mutex_lock(&ev_lock);
    c = event_slot(plugin, event);
    if (c)
        c->n += delta;
    else if (!ev_full_logged)
        dropped = ev_full_logged = 1;
    pthread_mutex_unlock(&ev_lock);
    if (dropped)
        gh_log_tagged(GH_LOG_WARNING, plugin, call->request_id,
                      "count: more than %d distinct events; new ones are dropped", MAX_EVENTS);
}

void host_events_foreach(gh_event_visit visit, void *ud)
{
    pthread_mutex_lock(&ev_lock);
    for (size_t i = 0; i < ev_n; i++)
        visit(ud, ev[i].plugin, ev[i].event, ev[i].n);
    pthread_mutex_unlock(&ev_lock);
}

/* ------------------------------------------------------------------- http */

static char module_dir[PATH_MAX] = GH_PLUGIN_DIR;
static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static void *http_handle;
static const gh_http_client *http_client;
static char http_error[PATH_MAX + 256];

void host_set_module_dir(const char *dir)
{
    snprintf(module_dir, sizeof module_dir, "%s", dir);
}

static void http_load(void)
{
    char path[PATH_MAX + 32];
    gh_http_entry_fn entry;

    snprintf(path, sizeof path, "%s/%s", module_dir, GH_HTTP_MODULE);
    http_handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!http_handle) {
        snprintf(http_error, sizeof http_error, "%s", dlerror());
    } else if (!(entry = (gh_http_entry_fn)dlsym(http_handle, GH_HTTP_ENTRY))) {
        snprintf(http_error, sizeof http_error, "%s: no %s", path, GH_HTTP_ENTRY);
    } else if ((http_client = entry(&gh_host_table, http_error, sizeof http_error))) {
        gh_log(GH_LOG_INFO, "outbound HTTP: loaded %s", path);
        return;
    }
    gh_log(GH_LOG_ERROR, "outbound HTTP is unavailable: %s", http_error);
}

int host_http_ready(char *err, size_t errlen)
{
    pthread_once(&http_once, http_load);
    if (http_client)
        return 0;
    snprintf(err, errlen, "%s", http_error);
    return -1;
}

static gh_result host_http(gh_call *call, const gh_param *req, gh_out *resp)
{
    const gh_plugin *d = call && call->plugin ? call->plugin->desc : NULL;

    pthread_once(&http_once, http_load);
    if (!http_client)
        return call_fail(call, GH_ERR_UNAVAILABLE, "outbound HTTP is unavailable: %s",
                         http_error);
    /* a plugin built against 1.0 keeps the rules it was written for */
    return http_client->request(call, req, d && d->abi_minor == 0, resp);
}

/* ----------------------------------------------------------------- global */

void host_global_cleanup(void)
{
    host_jwks_cleanup();
    if (http_client)
        http_client->cleanup();
    http_client = NULL;
    if (http_handle)
        dlclose(http_handle);
    http_handle = NULL;
    pthread_mutex_lock(&ev_lock);
    free(ev);
    ev = NULL;
    ev_n = ev_cap = 0;
    ev_full_logged = 0;
    pthread_mutex_unlock(&ev_lock);
}

/* --------------------------------------------------------------- the table */

const gh_host gh_host_table = {
    .size = sizeof(gh_host),
    .abi_major = GH_ABI_MAJOR,
    .abi_minor = GH_ABI_MINOR,

    .log = host_log,
    .fail = call_fail,

    .cfg_str = host_cfg_str,
    .cfg_int = host_cfg_int,
    .cfg_bool = host_cfg_bool,
    .cfg_double = host_cfg_double,
    .cfg_secret = host_cfg_secret,
    .cfg_child = host_cfg_child,
    .cfg_len = host_cfg_len,
    .cfg_at = host_cfg_at,
    .cfg_value = host_cfg_value,

    .call_request_id = host_call_request_id,
    .call_tenant = host_call_tenant,
    .call_deadline_ms = call_deadline_ms,

    .now_ms = gh_now_ms,
    .random = host_random,
    .alloc = host_alloc,
    .free = host_free,
    .wipe = host_wipe,

    .out_new = out_new,
    .out_free = out_free,
    .put = out_put,
    .out_get = out_get,

    .kv_get = host_kv_get,
    .kv_set = host_kv_set,
    .kv_incr = host_kv_incr,
    .kv_del = host_kv_del,

    .http = host_http,

    .json_decode = host_json_decode,
    .json_free = host_json_free,
    .json_get = host_json_get,
    .json_at = host_json_at,
    .json_len = host_json_len,
    .json_type = host_json_type,
    .json_str = host_json_str,
    .json_int = host_json_int,
    .json_bool = host_json_bool,
    .json_encode = host_json_encode,

    .count = host_count,

    /* 1.1: storage drivers */
    .mono_ms = host_mono_ms,
    .call_left_ms = call_left_ms,
    .url_parse = host_url_parse,
    .url_redact = host_url_redact,

    /* 1.1: crypto, encodings, JSON, JOSE */
    .digest = host_digest,
    .hmac = host_hmac,
    .equal_ct = host_equal_ct,
    .encode = host_encode,
    .decode = host_decode,
    .url_encode = host_url_encode,
    .form_encode = host_form_encode,
    .json_key_at = host_json_key_at,
    .json_double = host_json_double,
    .json_encode_to = host_json_encode_to,
    .json_dump = host_json_dump,
    .jwt_verify = host_jwt_verify,
    /* 1.1: errors and options */
    .fail_retry = call_fail_retry,
    .cfg_fail = host_cfg_fail,
    /* 1.1: the call's context */
    .call_get = host_call_get,
};
