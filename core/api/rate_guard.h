/*
 * rate_guard.h - the config's per-route limits (rate_limits:), applied to
 * an API job before its work, and their RateLimit headers on the answer
 * (draft-ietf-httpapi-ratelimit-headers).
 */
#ifndef GH_RATE_GUARD_H
#define GH_RATE_GUARD_H

#include "api/job.h"

/* In the worker (or on the loop), once the caller is known (guard_live):
 * counts the request under every limit of its route. 0: go on; -1: the
 * answer is set (429 rate_limited; 503 when kv failed on a limit that
 * fails closed, or on the loop, when the count must wait for a worker). */
int rate_guard(api_job *j, gh_conn *c);

/* On the loop: the RateLimit-Policy and RateLimit headers rate_guard left. */
void rate_guard_headers(gh_req *req, const api_job *j);

#endif
