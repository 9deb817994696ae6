/*
 * authz.c - permission checks against a per-thread cache of each user's
 * permissions, stamped with the company's RBAC version (authz.h says why
 * that is enough).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "auth/authz.h"
#include "auth/ratelimit.h"
#include "auth/rbac.h"
#include "auth/tokens.h"
#include "auth/users.h"
#include "clock.h"
#include "log.h"
#include "out.h"

#define AUTHZ_SLOTS 256
#define VERSION_MAX AUTHZ_VERSION_MAX

struct authz_set {
    char tenant[37], user[37];
    char version[VERSION_MAX]; /* "": not cached (the scratch set) */
    int64_t fetched_ms;
    int superuser;
    char *names;               /* n permissions, then n_roles role names,
                                  each NUL-ended, one after another */
    size_t n, n_roles;
};

/* Direct-mapped on (company, user): a collision just evicts. The scratch
 * set holds an answer computed while the version was unknown. */
typedef struct authz_cache {
    authz_set slot[AUTHZ_SLOTS];
    authz_set scratch;
} authz_cache;

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void set_clear(authz_set *s)
{
    free(s->names);
    memset(s, 0, sizeof *s);
}

static void cache_free(void *v)
{
    authz_cache *ca = v;
    for (size_t i = 0; i < AUTHZ_SLOTS; i++)
        set_clear(&ca->slot[i]);
    set_clear(&ca->scratch);
    free(ca);
}

static void cache_key_make(void)
{
    if (pthread_key_create(&cache_key, cache_free) != 0)
        abort(); /* only without memory at start-up */
}

static authz_cache *cache_get(void)
{
    pthread_once(&cache_once, cache_key_make);
    authz_cache *ca = pthread_getspecific(cache_key);
    if (!ca && (ca = calloc(1, sizeof *ca)) && pthread_setspecific(cache_key, ca) != 0) {
        free(ca);
        ca = NULL;
    }
    return ca;
}

void authz_version_key(char *key, size_t len, const char *tenant)
{
    snprintf(key, len, "rbac:ver:%s", tenant);
}

void authz_version_of(const gh_param *p, char v[AUTHZ_VERSION_MAX])
{
    size_t n = p && p->type != GH_T_NULL && p->data ? p->len : 0;
    if (n > AUTHZ_VERSION_MAX - 1)
        n = AUTHZ_VERSION_MAX - 1;
    if (n)
        memcpy(v, p->data, n);
    v[n] = '\0';
}

/* The company's version into v ("" when kv has none). */
static gh_result version_read(gh_conn *c, gh_call *call, const char *tenant, char v[VERSION_MAX])
{
    char key[GH_KV_KEY_MAX];
    gh_out *out = out_new();
    gh_result r;

    v[0] = '\0';
    if (!out)
        return call_fail(call, GH_ERR_NOMEM, "authz: out of memory");
    authz_version_key(key, sizeof key, tenant);
    r = store_kv_get(c, call, key, out);
    if (r == GH_OK)
        authz_version_of(out_get(out, "value", 0), v);
    out_free(out);
    return r == GH_ERR_NOT_FOUND ? GH_OK : r;
}

/* Append name to the packed names of s (len: bytes used so far). */
static void pack(authz_set *s, size_t *len, const char *name)
{
    size_t k = strlen(name) + 1;
    memcpy(s->names + *len, name, k);
    *len += k;
}

/* The user's permissions and roles into s, from the store: nothing for a
 * user who is not an active member of tenant. */
static gh_result compute(gh_conn *c, gh_call *call, const char *tenant, const char *user_id,
                         authz_set *s)
{
    gh_user u = { 0 };
    gh_role *roles = NULL;
    gh_grant *g = NULL;
    size_t nr = 0, ng = 0, len = 0;
    gh_result r = users_get(c, call, tenant, user_id, &u);
    int active = r == GH_OK && u.is_active;

    user_clear(&u);
    if (r == GH_ERR_NOT_FOUND || (r == GH_OK && !active))
        return GH_OK;
    if (r != GH_OK || (r = rbac_user_roles(c, call, tenant, user_id, &roles, &nr)) != GH_OK ||
        (r = rbac_effective(c, call, tenant, user_id, &g, &ng)) != GH_OK)
        goto done;
    for (size_t i = 0; i < ng; i++)
        len += strlen(g[i].permission) + 1;
    for (size_t i = 0; i < nr; i++)
        len += strlen(roles[i].name) + 1;
    if (len && !(s->names = malloc(len))) {
        r = call_fail(call, GH_ERR_NOMEM, "authz: out of memory");
        goto done;
    }
    len = 0;
    for (size_t i = 0; i < ng; i++)
        pack(s, &len, g[i].permission);
    for (size_t i = 0; i < nr; i++) {
        pack(s, &len, roles[i].name);
        s->superuser |= strcmp(roles[i].builtin, "superuser") == 0;
    }
    s->n = ng;
    s->n_roles = nr;
done:
    free(roles);
    free(g);
    return r;
}

static uint32_t slot_of(const char *tenant, const char *user_id)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = tenant; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    for (const char *p = user_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % AUTHZ_SLOTS;
}

gh_result authz_get(gh_conn *c, gh_call *call, const char *tenant, const char *user_id,
                    const authz_set **out)
{
    char version[VERSION_MAX];
    gh_result r = version_read(c, call, tenant, version);

    *out = NULL;
    return r == GH_OK ? authz_get_at(c, call, tenant, user_id, version, out) : r;
}

gh_result authz_get_at(gh_conn *c, gh_call *call, const char *tenant, const char *user_id,
                       const char *version, const authz_set **out)
{
    authz_cache *ca = cache_get();
    int64_t now = gh_now_ms();
    gh_result r;

    *out = NULL;
    if (!ca)
        return call_fail(call, GH_ERR_NOMEM, "authz: out of memory");
    authz_set *s = version[0] ? &ca->slot[slot_of(tenant, user_id)] : &ca->scratch;
    if (version[0] && strcmp(s->version, version) == 0 && strcmp(s->tenant, tenant) == 0 &&
        strcmp(s->user, user_id) == 0 && now - s->fetched_ms < AUTHZ_MAX_AGE_MS) {
        *out = s;
        return GH_OK;
    }
    set_clear(s);
    if ((r = compute(c, call, tenant, user_id, s)) != GH_OK) {
        set_clear(s);
        return r;
    }
    snprintf(s->tenant, sizeof s->tenant, "%s", tenant);
    snprintf(s->user, sizeof s->user, "%s", user_id);
    snprintf(s->version, sizeof s->version, "%s", version);
    s->fetched_ms = now;
    *out = s;
    return GH_OK;
}

int authz_has(const authz_set *s, const char *permission)
{
    const char *p = s->names;
    for (size_t i = 0; i < s->n; i++, p += strlen(p) + 1)
        if (strcmp(p, permission) == 0)
            return 1;
    return 0;
}

int authz_superuser(const authz_set *s)
{
    return s->superuser;
}

json_t *authz_permissions_json(const authz_set *s)
{
    json_t *a = json_array();
    const char *p = s->names;
    for (size_t i = 0; a && i < s->n; i++, p += strlen(p) + 1)
        if (json_array_append_new(a, json_string(p)) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

json_t *authz_roles_json(const authz_set *s)
{
    json_t *a = json_array();
    const char *p = s->names;
    for (size_t i = 0; i < s->n; i++)
        p += strlen(p) + 1;
    for (size_t i = 0; a && i < s->n_roles; i++, p += strlen(p) + 1)
        if (json_array_append_new(a, json_string(p)) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static gh_result version_write(gh_conn *c, gh_call *call, const char *tenant, uint32_t flags)
{
    char key[GH_KV_KEY_MAX], v[37];
    authz_version_key(key, sizeof key, tenant);
    uuid_new(v);
    return store_kv_set(c, call, key, v, strlen(v), 0, flags);
}

void authz_changed(gh_conn *c, gh_call *call, const char *tenant)
{
    gh_result r = version_write(c, call, tenant, 0);
    if (r != GH_OK)
        gh_log(GH_LOG_ERROR, "authz: a role change in company %s is not yet seen by other "
               "instances' caches (up to %d s): %s", tenant, AUTHZ_MAX_AGE_MS / 1000,
               gh_result_str(r));
}

void authz_ensure(gh_conn *c, gh_call *call, const char *tenant)
{
    char version[VERSION_MAX];
    if (version_read(c, call, tenant, version) == GH_OK && !version[0])
        version_write(c, call, tenant, GH_KV_NX);
}
