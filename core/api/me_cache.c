/*
 * me_cache.c - rendered /users/me answers per thread, under their row's
 * stamps. See me_cache.h for when an entry answers.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "api/me_cache.h"
#include "api/stamps.h"
#include "clock.h"

/* Direct-mapped on (company, user): a collision just evicts. */
#define ME_SLOTS 64
#define ME_TEXT_MAX 2048

typedef struct me_slot {
    char tenant[64], user[64];
    char stamp[sizeof(((api_stamps *)0)->row)];
    int64_t fetched_ms;
    size_t len;
    char text[ME_TEXT_MAX];
} me_slot;

static pthread_key_t slots_key;
static pthread_once_t slots_once = PTHREAD_ONCE_INIT;
static int slots_ready;

static void slots_free(void *v)
{
    OPENSSL_cleanse(v, ME_SLOTS * sizeof(me_slot));
    free(v);
}

static void slots_init(void)
{
    slots_ready = pthread_key_create(&slots_key, slots_free) == 0;
}

/* This thread's slots (made when make), or NULL. */
static me_slot *slots(int make)
{
    pthread_once(&slots_once, slots_init);
    if (!slots_ready)
        return NULL;
    me_slot *m = pthread_getspecific(slots_key);
    if (!m && make && (m = calloc(ME_SLOTS, sizeof *m)) && pthread_setspecific(slots_key, m) != 0) {
        free(m);
        m = NULL;
    }
    return m;
}

static me_slot *slot_of(me_slot *m, const char *tenant, const char *user)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = tenant; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    for (const char *p = user; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return &m[h % ME_SLOTS];
}

char *me_cache_get(const char *tenant, const char *user, const char *stamp, size_t *len)
{
    me_slot *m = slots(0), *s;
    if (!m || !stamp[0])
        return NULL;
    s = slot_of(m, tenant, user);
    if (!s->len || strcmp(s->stamp, stamp) != 0 || strcmp(s->user, user) != 0 ||
        strcmp(s->tenant, tenant) != 0 || gh_now_ms() - s->fetched_ms >= ME_CACHE_MAX_AGE_MS)
        return NULL;
    *len = s->len;
    return strndup(s->text, s->len); /* JSON text holds no NUL */
}

void me_cache_put(const char *tenant, const char *user, const char *stamp, const char *text,
                  size_t len)
{
    me_slot *m = slots(1), *s;
    if (!m || !stamp[0] || len == 0 || len > ME_TEXT_MAX || strlen(tenant) >= sizeof s->tenant ||
        strlen(user) >= sizeof s->user || strlen(stamp) >= sizeof s->stamp)
        return;
    s = slot_of(m, tenant, user);
    OPENSSL_cleanse(s, sizeof *s);
    memcpy(s->tenant, tenant, strlen(tenant) + 1);
    memcpy(s->user, user, strlen(user) + 1);
    memcpy(s->stamp, stamp, strlen(stamp) + 1);
    memcpy(s->text, text, len);
    s->len = len;
    s->fetched_ms = gh_now_ms();
}

void me_cache_forget(void)
{
    me_slot *m = slots(0);
    if (m && pthread_setspecific(slots_key, NULL) == 0)
        slots_free(m);
}
