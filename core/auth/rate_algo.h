/*
 * rate_algo.h - the arithmetic of the per-route limits (http/rate_limits_conf.h),
 * apart from where their state lives: the same decision whether it was
 * read from kv (rate_kv.h) or from this process's memory (rate_local.h).
 */
#ifndef GH_RATE_ALGO_H
#define GH_RATE_ALGO_H

#include <stdint.h>
#include "http/rate_limits_conf.h"

typedef struct rl_verdict {
    int allowed;
    int64_t remaining;   /* requests left now (RateLimit's r) */
    int64_t reset_ms;    /* allowed: until the quota is whole again; refused:
                            until a request would pass (Retry-After) */
} rl_verdict;

/* Sliding window: the two-fixed-window estimate. cur counts this window's
 * requests, this one included; prev the window before's. */
void rl_sliding(const gh_rate_limit *l, int64_t now_ms, int64_t cur, int64_t prev, rl_verdict *v);

/* Token bucket as GCRA: *tat is the bucket's theoretical arrival time
 * (0: never used), moved on when the request is allowed. */
void rl_bucket(const gh_rate_limit *l, int64_t now_ms, int64_t *tat, rl_verdict *v);

#endif
