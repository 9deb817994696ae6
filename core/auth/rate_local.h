/*
 * rate_local.h - the per-route limits' state in this process's memory.
 *
 * On its own for a daemon whose store no other instance shares (SQLite
 * with kv in its table): there a kv write per request would cost a write
 * transaction on the one writer, for a count nobody else reads. In front
 * of kv otherwise (rate_batch.h). See docs/design.md.
 */
#ifndef GH_RATE_LOCAL_H
#define GH_RATE_LOCAL_H

#include <stdint.h>
#include "auth/rate_algo.h"

/* One subject's state under one limit; what a, b, c, d and e hold is the
 * user's (rl_local_hit, rate_batch.c). Zeroes when new. */
typedef struct rl_slot {
    uint64_t id;        /* the subject's hash; 0: free */
    int64_t expires_ms; /* past it, the slot holds nothing worth keeping */
    int64_t a, b, c, d, e;
} rl_slot;

typedef struct rl_held {
    rl_slot *slot;
    void *shard;
} rl_held;

/* The slot of subject under the limit called name, locked, zeroed when it
 * was another subject's or expired at now_ms. Release with rl_slot_unlock
 * soon: the lock is shared with other subjects. */
rl_held rl_slot_lock(const char *name, const char *subject, int64_t now_ms);
void rl_slot_unlock(rl_held h);

/* Count one request of subject (already qualified by its kind) under l,
 * in memory only. */
void rl_local_hit(const gh_rate_limit *l, const char *subject, int64_t now_ms, rl_verdict *v);

#endif
