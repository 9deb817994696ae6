/*
 * rate_algo.c - sliding window and token bucket decisions. See rate_algo.h.
 */
#include "auth/rate_algo.h"

/*
 * The estimate of the last window's requests is this window's count plus
 * the previous window's, weighted by how much of the previous window the
 * sliding one still covers: what Cloudflare and Redis's recipes do, two
 * counters instead of a log of every request. A refused request is
 * counted too, so a client that keeps hammering stays refused.
 */
void rl_sliding(const gh_rate_limit *l, int64_t now_ms, int64_t cur, int64_t prev, rl_verdict *v)
{
    int64_t w = l->window_ms, elapsed = now_ms % w;
    /* prev * (w - elapsed) / w, rounded up: never under-count */
    int64_t carried = (prev * (w - elapsed) + w - 1) / w;
    int64_t used = carried + cur;

    v->allowed = used <= l->limit;
    v->remaining = v->allowed ? l->limit - used : 0;
    if (v->allowed) {
        v->reset_ms = w - elapsed;
    } else if (cur + 1 <= l->limit) {
        /* the next request makes cur + 1: the previous window's weight
         * must fall to what is left beside it */
        v->reset_ms = w - elapsed - (l->limit - cur - 1) * w / prev;
    } else {
        /* into the next window, where the next request is its first and
         * this window's count the weight */
        v->reset_ms = w - elapsed + w - (l->limit - 1) * w / cur;
    }
    if (v->reset_ms < 1)
        v->reset_ms = 1;
}

/*
 * GCRA: each request moves tat on by the emission interval T; a request
 * is allowed while tat stays within burst * T of now. Equivalent to a
 * bucket of `burst` tokens refilled at limit per window, with one number
 * of state.
 */
void rl_bucket(const gh_rate_limit *l, int64_t now_ms, int64_t *tat, rl_verdict *v)
{
    int64_t burst = l->burst ? l->burst : l->limit;
    int64_t t = l->window_ms / l->limit > 0 ? l->window_ms / l->limit : 1;
    int64_t start = *tat > now_ms ? *tat : now_ms, next = start + t;

    v->allowed = next - now_ms <= burst * t;
    if (v->allowed) {
        *tat = next;
        v->remaining = (now_ms + burst * t - next) / t;
        v->reset_ms = next - now_ms;
    } else {
        v->remaining = 0;
        v->reset_ms = next - now_ms - burst * t;
    }
    if (v->reset_ms < 1)
        v->reset_ms = 1;
}
