/*
 * rate_local.c - in-memory limit state. See rate_local.h.
 *
 * A fixed table, sharded by hash with a mutex per shard so the loops and
 * workers rarely meet on one lock. Each subject has one slot (direct
 * mapped); a subject that lands on a slot held by a live other one takes
 * it over, and the other starts afresh. That bounds memory whatever the
 * number of client addresses, at the price of forgetting counts only
 * when there are more live subjects than slots. Subjects are hashed with
 * a key drawn at start, so nobody can aim at another's slot.
 */
#include <pthread.h>
#include <string.h>
#include <openssl/rand.h>
#include "auth/rate_local.h"

#define SHARDS 64
#define SLOTS 1024 /* per shard */

struct shard {
    pthread_mutex_t mu;
    rl_slot s[SLOTS];
};
static struct shard shards[SHARDS];

static uint64_t seed;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void)
{
    for (size_t i = 0; i < SHARDS; i++)
        pthread_mutex_init(&shards[i].mu, NULL);
    if (RAND_bytes((unsigned char *)&seed, sizeof seed) != 1)
        seed = (uint64_t)(uintptr_t)&seed; /* still unknown to a client */
}

/* FNV-1a over the seed, the limit's name and the subject, then mixed. */
static uint64_t subject_id(const char *name, const char *subject)
{
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (const char *s = name; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
    for (const char *s = subject; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h ? h : 1;
}

rl_held rl_slot_lock(const char *name, const char *subject, int64_t now_ms)
{
    pthread_once(&once, init);
    uint64_t id = subject_id(name, subject);
    struct shard *sh = &shards[id % SHARDS];
    rl_slot *s = &sh->s[(id / SHARDS) % SLOTS];

    pthread_mutex_lock(&sh->mu);
    if (s->id != id || s->expires_ms <= now_ms)
        *s = (rl_slot){ .id = id };
    return (rl_held){ s, sh };
}

void rl_slot_unlock(rl_held h)
{
    pthread_mutex_unlock(&((struct shard *)h.shard)->mu);
}

/* Sliding window: a = window number, b = its count, c = the previous
 * window's; token bucket: a = tat. */
void rl_local_hit(const gh_rate_limit *l, const char *subject, int64_t now_ms, rl_verdict *v)
{
    rl_held h = rl_slot_lock(l->name, subject, now_ms);
    rl_slot *s = h.slot;

    if (l->algorithm == RL_TOKEN_BUCKET) {
        rl_bucket(l, now_ms, &s->a, v);
        s->expires_ms = s->a;
    } else {
        int64_t w = l->window_ms, n = now_ms / w;
        if (s->a != n) {
            s->c = s->a == n - 1 ? s->b : 0;
            s->b = 0;
            s->a = n;
        }
        rl_sliding(l, now_ms, ++s->b, s->c, v);
        s->expires_ms = (n + 2) * w;
    }
    rl_slot_unlock(h);
}
