/*
 * rate_kv.h - the per-route limits' state in kv, shared by every instance
 * on the same kv (Redis, or the kv table of a shared SQL store).
 */
#ifndef GH_RATE_KV_H
#define GH_RATE_KV_H

#include <stdint.h>
#include "auth/rate_algo.h"
#include "store/store.h"

/* Count one request of subject (already qualified by its kind) under l.
 * 0, or -1 when kv failed. */
int rl_kv_hit(gh_conn *c, gh_call *call, const gh_rate_limit *l, const char *subject,
              int64_t now_ms, rl_verdict *v);

#endif
