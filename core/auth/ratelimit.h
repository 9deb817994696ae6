/*
 * ratelimit.h - "at most N in a window" counters in kv, shared by every
 * instance (mail requests per address and per client IP). Windows are
 * fixed and aligned to the clock, as lockout.c's address windows are, so
 * the wait until the next window is known without asking kv for a TTL.
 */
#ifndef GH_RATELIMIT_H
#define GH_RATELIMIT_H

#include <stdint.h>
#include "store/store.h"

/* Count one more under "rl:<scope>:<subject>" (a long subject is hashed).
 * 0: allowed; > 0: over the limit, ms until the window ends; -1: kv failed. */
int64_t ratelimit_hit(gh_conn *c, gh_call *call, const char *scope, const char *subject,
                      int limit, int64_t window_ms);

#endif
