/*
 * rate_kv.c - limit state in kv. See rate_kv.h.
 *
 * The sliding window is two counters, "rlw:<limit>:<window number>", one
 * atomic increment (by a batch: rate_batch.c) and one read. The token
 * bucket is one number, its GCRA time, read then written: kv has no
 * compare-and-set, so two instances (or threads) serving the same
 * subject at the same moment may both pass on the last token. Where that
 * matters, a sliding window is the choice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "auth/rate_kv.h"
#include "auth/ratelimit.h" /* kv_subject_key */
#include "clock.h"
#include "out.h"

/* The decimal value at key into *n (0 when absent). */
static gh_result kv_number(gh_conn *c, gh_call *call, const char *key, int64_t *n)
{
    gh_out *out = out_new();
    const gh_param *p;
    char text[24];
    gh_result r;

    *n = 0;
    if (out == NULL)
        return GH_ERR_INTERNAL;
    r = store_kv_get(c, call, key, out);
    if (r == GH_OK && (p = out_get(out, "value", 0)) != NULL && p->len < sizeof text) {
        memcpy(text, p->data ? p->data : "", p->len);
        text[p->len] = '\0';
        *n = strtoll(text, NULL, 10);
    }
    out_free(out);
    return r == GH_ERR_NOT_FOUND ? GH_OK : r;
}

int rl_kv_window(gh_conn *c, gh_call *call, const gh_rate_limit *l, const char *subject,
                 int64_t n, int64_t delta, int64_t *cur, int64_t *prev)
{
    char base[64], key[GH_KV_KEY_MAX];
    int64_t w = l->window_ms;

    snprintf(base, sizeof base, "rlw:%s:%lld", l->name, (long long)n);
    kv_subject_key(key, base, subject);
    /* kept through the next window, where it is the previous one; the
     * expiry is a new counter's only: a live one keeps its own */
    if (store_kv_incr(c, call, key, delta, (n + 2) * w - gh_now_ms(), cur) != GH_OK)
        return -1;
    snprintf(base, sizeof base, "rlw:%s:%lld", l->name, (long long)(n - 1));
    kv_subject_key(key, base, subject);
    return kv_number(c, call, key, prev) == GH_OK ? 0 : -1;
}

int rl_kv_bucket(gh_conn *c, gh_call *call, const gh_rate_limit *l, const char *subject,
                 int64_t now_ms, rl_verdict *v)
{
    char base[64], key[GH_KV_KEY_MAX], text[24];
    int64_t tat = 0;

    snprintf(base, sizeof base, "rlb:%s", l->name);
    kv_subject_key(key, base, subject);
    if (kv_number(c, call, key, &tat) != GH_OK)
        return -1;
    rl_bucket(l, now_ms, &tat, v);
    if (!v->allowed)
        return 0;
    /* gone when the bucket is full again: a missing key is a full bucket */
    int len = snprintf(text, sizeof text, "%lld", (long long)tat);
    return store_kv_set(c, call, key, text, (size_t)len, tat - now_ms, 0) == GH_OK ? 0 : -1;
}
