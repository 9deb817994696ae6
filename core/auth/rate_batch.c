/*
 * rate_batch.c - a shared sliding window with a local stage. See
 * rate_batch.h.
 *
 * Each process keeps, per subject (rate_local.h's slots): the window's
 * count as kv last said it, the previous window's, and its own requests
 * not yet added to kv. A request is decided on those: kv's count can only
 * be higher, so a refusal needs no kv, and an allowance needs none while
 * it is far from the limit. kv is asked (the batch added, the counts read
 * back) when the batch reaches a 64th of the limit, a second after the
 * last time, or when the limit is near enough that the batch could cross
 * it. Each instance may so let through up to one batch more than the
 * limit; small limits (under 128: sign-in and the like) have batches of
 * one and are exact.
 */
#include "auth/rate_batch.h"
#include "auth/rate_kv.h"
#include "auth/rate_local.h"

#define BATCH_SHARE 64    /* a batch is this share of the limit */
#define REFRESH_MS 1000   /* kv's counts are at most this old */

/* Slot use: a = window number, b = its count in kv when last asked,
 * c = the previous window's, d = requests not yet in kv, e = when kv was
 * last asked. */
static void roll(rl_slot *s, int64_t n)
{
    if (s->a == n)
        return;
    /* the unsent requests of the window before stay here, in its count */
    s->c = s->a == n - 1 ? s->b + s->d : 0;
    s->b = s->d = s->e = 0;
    s->a = n;
}

int rl_batch_hit(gh_conn *c, gh_call *call, const gh_rate_limit *l, const char *subject,
                 int64_t now_ms, int may_wait, rl_verdict *v)
{
    int64_t w = l->window_ms, n = now_ms / w, batch = l->limit / BATCH_SHARE;
    int64_t take, cur, prev;

    batch = batch > 1 ? batch : 1;
    rl_held h = rl_slot_lock(l->name, subject, now_ms);
    rl_slot *s = h.slot;
    roll(s, n);
    s->d++;
    s->expires_ms = (n + 2) * w;
    rl_sliding(l, now_ms, s->b + s->d, s->c, v);
    if (!v->allowed ||
        (s->d < batch && now_ms - s->e < REFRESH_MS && v->remaining >= batch)) {
        rl_slot_unlock(h);
        return 0;
    }
    if (!may_wait) {
        s->d--;
        rl_slot_unlock(h);
        return 1;
    }
    take = s->d;
    s->d = 0;
    s->e = now_ms;
    rl_slot_unlock(h);

    if (rl_kv_window(c, call, l, subject, n, take, &cur, &prev) < 0)
        return -1;

    h = rl_slot_lock(l->name, subject, now_ms);
    s = h.slot;
    roll(s, n);
    /* another thread's answer may have come first, with a higher count */
    s->b = cur > s->b ? cur : s->b;
    s->c = prev > s->c ? prev : s->c;
    s->expires_ms = (n + 2) * w;
    rl_sliding(l, now_ms, s->b + s->d, s->c, v);
    rl_slot_unlock(h);
    return 0;
}
