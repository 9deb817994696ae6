/*
 * rate_batch.h - a sliding window shared through kv, counted in this
 * process first and added to kv in batches, so that a limit on a busy
 * route does not cost a kv round trip on every request.
 */
#ifndef GH_RATE_BATCH_H
#define GH_RATE_BATCH_H

#include <stdint.h>
#include "auth/rate_algo.h"
#include "store/store.h"

/* Count one request of subject under l (a sliding window). 0: decided,
 * in v; 1: kv must be asked and may_wait is 0 (nothing counted: ask
 * again where waiting is allowed); -1: kv failed. */
int rl_batch_hit(gh_conn *c, gh_call *call, const gh_rate_limit *l, const char *subject,
                 int64_t now_ms, int may_wait, rl_verdict *v);

#endif
