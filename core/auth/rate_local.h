/*
 * rate_local.h - the per-route limits' state in this process's memory, for
 * a daemon whose store no other instance shares (SQLite with kv in its
 * table): there a kv write per request would cost a write transaction on
 * the one writer, for a count nobody else reads. See docs/design.md.
 */
#ifndef GH_RATE_LOCAL_H
#define GH_RATE_LOCAL_H

#include <stdint.h>
#include "auth/rate_algo.h"

/* Count one request of subject (already qualified by its kind) under l. */
void rl_local_hit(const gh_rate_limit *l, const char *subject, int64_t now_ms, rl_verdict *v);

#endif
