/*
 * rate_kv.h - the per-route limits' state in kv, shared by every instance
 * on the same kv (Redis, or the kv table of a shared SQL store).
 */
#ifndef GH_RATE_KV_H
#define GH_RATE_KV_H

#include <stdint.h>
#include "auth/rate_algo.h"
#include "store/store.h"

/* Sliding window: add delta requests of subject to window n of l, then
 * *cur is that window's count in kv, *prev the window before's. 0, or -1
 * when kv failed. */
int rl_kv_window(gh_conn *c, gh_call *call, const gh_rate_limit *l, const char *subject,
                 int64_t n, int64_t delta, int64_t *cur, int64_t *prev);

/* Token bucket: count one request of subject under l. 0, or -1 when kv
 * failed. */
int rl_kv_bucket(gh_conn *c, gh_call *call, const gh_rate_limit *l, const char *subject,
                 int64_t now_ms, rl_verdict *v);

#endif
