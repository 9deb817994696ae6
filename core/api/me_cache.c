/*
 * me_cache.c - rendered /users/me answers under their row's stamps. See
 * me_cache.h for when an entry answers.
 */
#include <pthread.h>
#include <stdatomic.h>
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
    pthread_mutex_t lock;
    char tenant[64], user[64];
    char stamp[sizeof(((api_stamps *)0)->row)];
    int64_t fetched_ms, used_ms;
    size_t len;                 /* 0: empty */
    char text[ME_TEXT_MAX];
} me_slot;

static me_slot slots[ME_SLOTS];
static pthread_once_t slots_once = PTHREAD_ONCE_INIT;
static atomic_int ever_put; /* else forget touches no page (SQLite) */

static void slots_init(void)
{
    for (size_t i = 0; i < ME_SLOTS; i++)
        pthread_mutex_init(&slots[i].lock, NULL);
}

static me_slot *slot_of(const char *tenant, const char *user)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = tenant; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    for (const char *p = user; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    pthread_once(&slots_once, slots_init);
    return &slots[h % ME_SLOTS];
}

/* Wipes everything but the lock; the caller holds it. */
static void slot_wipe(me_slot *s)
{
    OPENSSL_cleanse((char *)s + sizeof s->lock, sizeof *s - sizeof s->lock);
}

char *me_cache_get(const char *tenant, const char *user, const char *stamp, size_t *len)
{
    char *text = NULL;
    int64_t now = gh_now_ms();
    me_slot *s;

    if (!stamp[0])
        return NULL;
    s = slot_of(tenant, user);
    pthread_mutex_lock(&s->lock);
    if (s->len && strcmp(s->stamp, stamp) == 0 && strcmp(s->user, user) == 0 &&
        strcmp(s->tenant, tenant) == 0 && now - s->fetched_ms < ME_CACHE_MAX_AGE_MS &&
        (text = strndup(s->text, s->len)) != NULL) { /* JSON text holds no NUL */
        *len = s->len;
        s->used_ms = now;
    }
    pthread_mutex_unlock(&s->lock);
    return text;
}

void me_cache_put(const char *tenant, const char *user, const char *stamp, const char *text,
                  size_t len)
{
    me_slot *s;

    if (!stamp[0] || len == 0 || len > ME_TEXT_MAX || strlen(tenant) >= sizeof s->tenant ||
        strlen(user) >= sizeof s->user || strlen(stamp) >= sizeof s->stamp)
        return;
    s = slot_of(tenant, user);
    pthread_mutex_lock(&s->lock);
    slot_wipe(s);
    memcpy(s->tenant, tenant, strlen(tenant) + 1);
    memcpy(s->user, user, strlen(user) + 1);
    memcpy(s->stamp, stamp, strlen(stamp) + 1);
    memcpy(s->text, text, len);
    s->len = len;
    s->fetched_ms = s->used_ms = gh_now_ms();
    pthread_mutex_unlock(&s->lock);
    atomic_store(&ever_put, 1);
}

void me_cache_forget(int64_t idle_ms)
{
    int64_t now = gh_now_ms();

    if (!atomic_load(&ever_put))
        return;
    pthread_once(&slots_once, slots_init);
    for (size_t i = 0; i < ME_SLOTS; i++) {
        me_slot *s = &slots[i];
        pthread_mutex_lock(&s->lock);
        if (s->len && now - s->used_ms >= idle_ms)
            slot_wipe(s);
        pthread_mutex_unlock(&s->lock);
    }
}
