/* kvmem.c - an example kv plugin: a hash table with TTLs in this process's memory,
 * behind one mutex. It suits one gatehoused only: daemons behind a balancer would
 * each keep their own deny-list and rate limits. YAML: `kv: {plugin: kvmem}` */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gatehouse/plugin.h>
static const gh_host *host;
enum { BUCKETS = 4096 };
typedef struct entry { struct entry *next; int64_t expires; size_t len; char data[]; } entry; /* key NUL value */
/* The instance, read-only, is a pointer to this, allocated in instantiate, freed in detach. */
typedef struct table { pthread_mutex_t lock; entry *bucket[BUCKETS]; } table;
#define T(inst) (*(table *const *)(inst))
#define VALUE(e) ((e)->data + strlen((e)->data) + 1)

static gh_result kv_instantiate(void *inst, const gh_cfg *options, gh_call *call)
{
    table *t = calloc(1, sizeof *t);
    if (!t || pthread_mutex_init(&t->lock, NULL) != 0)
        return free(t), host->fail(call, GH_ERR_NOMEM, "no memory for the table");
    return (void)options, *(table **)inst = t, GH_OK;
}

static void kv_detach(void *inst)
{
    for (size_t i = 0; T(inst) && i < BUCKETS; i++)
        for (entry *e = T(inst)->bucket[i], *next; e; e = next)
            next = e->next, free(e);
    if (T(inst))
        pthread_mutex_destroy(&T(inst)->lock), free(T(inst));
}

/* Lock; return the link to key's live entry, else the NULL ending its chain; drop expired ones met. */
static entry **lookup(const void *inst, const char *key)
{
    size_t h = 5381; /* djb2 */
    for (const char *k = key; *k; k++) h = h * 33 + (unsigned char)*k;
    pthread_mutex_lock(&T(inst)->lock);
    entry **at = &T(inst)->bucket[h % BUCKETS], *e;
    while ((e = *at) != NULL)
        if (e->expires && e->expires <= host->now_ms())
            *at = e->next, free(e);
        else if (strcmp(e->data, key) == 0)
            break;
        else
            at = &e->next;
    return at;
}
/* Put a new entry for key at *at, replacing the one there. */
static gh_result store(entry **at, const char *key, const void *val, size_t len, int64_t expires)
{
    size_t klen = strlen(key) + 1;
    entry *e = malloc(sizeof *e + klen + len);
    if (!e)
        return GH_ERR_NOMEM;
    *e = (entry){*at ? (*at)->next : NULL, expires, len};
    memcpy(e->data, key, klen), memcpy(e->data + klen, val, len);
    return free(*at), *at = e, GH_OK;
}
/* get, set, incr and del each take the lock in lookup() and drop it on return */
static gh_result kv_get(const void *inst, void *tinst, gh_call *call, const char *key, gh_out *out)
{
    entry *e = *lookup(inst, key); /* the host copies the value before we unlock */
    gh_result r = e ? host->put(out, &(gh_param){"value", GH_T_BYTES, VALUE(e), e->len}) : GH_ERR_NOT_FOUND;
    return pthread_mutex_unlock(&T(inst)->lock), (void)tinst, (void)call, r;
}
static gh_result kv_set(const void *inst, void *tinst, gh_call *call, const char *key, const void *val,
                        size_t len, int64_t ttl_ms, uint32_t flags)
{
    entry **at = lookup(inst, key);
    int64_t expires = ttl_ms > 0 ? host->now_ms() + ttl_ms : 0;
    gh_result r = *at && (flags & GH_KV_NX) ? GH_ERR_CONFLICT : store(at, key, val, len, expires);
    return pthread_mutex_unlock(&T(inst)->lock), (void)tinst, (void)call, r;
}
/* Counters are decimal text, as in redis, so get reads them; a non-number counts from 0. */
static gh_result kv_incr(const void *inst, void *tinst, gh_call *call, const char *key, int64_t delta,
                         int64_t ttl_ms, int64_t *result)
{
    char text[24] = "0";
    entry **at = lookup(inst, key), *e = *at;
    if (e && e->len < sizeof text)
        memcpy(text, VALUE(e), e->len), text[e->len] = '\0';
    int n = snprintf(text, sizeof text, "%lld", (long long)(*result = strtoll(text, NULL, 10) + delta));
    gh_result r = store(at, key, text, (size_t)n, e ? e->expires : ttl_ms > 0 ? host->now_ms() + ttl_ms : 0);
    return pthread_mutex_unlock(&T(inst)->lock), (void)tinst, (void)call, r;
}
static gh_result kv_del(const void *inst, void *tinst, gh_call *call, const char *key)
{
    entry **at = lookup(inst, key), *e = *at;
    if (e) *at = e->next, free(e); /* under the lock: del is an atomic "take" */
    return pthread_mutex_unlock(&T(inst)->lock), (void)tinst, (void)call, e ? GH_OK : GH_ERR_NOT_FOUND;
}
static const gh_kv_ops kv_ops = {.size = sizeof(gh_kv_ops), .get = kv_get, .set = kv_set, .incr = kv_incr, .del = kv_del};
static const gh_plugin kv_plugin = { /* the file kvmem.so, the YAML name kvmem */
    .size = sizeof(gh_plugin), .abi_major = GH_ABI_MAJOR, .abi_minor = GH_ABI_MINOR,
    .name = "kvmem", .version = "1.0.0", .description = "process-local key-value store with TTLs",
    .kind = GH_KIND_KV, .inst_size = sizeof(table *), .instantiate = kv_instantiate, .detach = kv_detach, .ops = &kv_ops};
const gh_plugin *gatehouse_plugin_v1(const gh_host *h) { return host = h, &kv_plugin; }
