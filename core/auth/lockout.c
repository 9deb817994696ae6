/*
 * lockout.c - brute-force limits on logins, per account and per address,
 * kept in kv (the kv API only, so Redis serves every instance alike).
 *
 * Keys (TTLs do the forgetting; nothing here ever sweeps):
 *   fail:acct:<account>  failures, counted over `window` from the first
 *   lock:acct:<account>  "<until ms>", lives as long as the lock
 *   fail:ip:<ip>         failures in the current `ip_window`
 *   lock:ip:<ip>         "<until ms>", to the end of that window
 * Subjects go through kv_subject_key (auth/ratelimit.h): with encryption at
 * rest an unknown login, keyed by what was typed (an address), is replaced
 * by its blind index, never kept in clear.
 *
 * Address windows are aligned to the clock (fixed windows, as Redis rate
 * limiters do), so "until the window ends" is known without asking kv for
 * a TTL: the counter's expiry and the lock's are the same instant.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "auth/lockout.h"
#include "auth/ratelimit.h"
#include "auth/tokens.h"
#include "clock.h"
#include "out.h"

static int present(const char *s)
{
    return s != NULL && *s != '\0';
}

/* --------------------------------------------------------------- check */

/* ms left on the lock under key: 0 none, -1 kv failed. A lock whose time
 * has passed on this clock but whose key still lives (clocks of instances
 * differ a little) counts as 1 ms: the key is the authority. */
static int64_t lock_left(gh_conn *c, gh_call *call, const char *base, const char *subject)
{
    char key[GH_KV_KEY_MAX], text[24];
    gh_out *out = out_new();
    const gh_param *v;
    int64_t until = 0, left;
    gh_result r;

    if (out == NULL)
        return -1;
    kv_subject_key(key, base, subject);
    r = store_kv_get(c, call, key, out);
    if (r == GH_OK && (v = out_get(out, "value", 0)) != NULL &&
        v->len < sizeof(text)) {
        memcpy(text, v->data ? v->data : "", v->len);
        text[v->len] = '\0';
        until = strtoll(text, NULL, 10);
    }
    out_free(out);
    if (r == GH_ERR_NOT_FOUND)
        return 0;
    if (r != GH_OK)
        return -1;
    left = until - gh_now_ms();
    return left >= 1 ? left : 1;
}

int64_t lockout_check(gh_conn *c, gh_call *call, const gh_lockout_conf *lc,
                      const char *account, const char *ip)
{
    int64_t acct = 0, addr = 0;

    (void)lc; /* a lock, once set, holds whatever the config says now */
    if (present(account) && (acct = lock_left(c, call, "lock:acct", account)) < 0)
        return -1;
    if (present(ip) && (addr = lock_left(c, call, "lock:ip", ip)) < 0)
        return -1;
    return acct > addr ? acct : addr;
}

/* ------------------------------------------------------------- failure */

/* base * 2^(count - failures), at most max: Keycloak's growing wait. */
static int64_t lock_delay(const gh_lockout_conf *lc, int64_t count)
{
    int64_t d = lc->base_delay_ms > 0 ? lc->base_delay_ms : 1000;
    int64_t max = lc->max_delay_ms > d ? lc->max_delay_ms : d;

    for (int64_t i = lc->account_failures; i < count && d < max; i++)
        d = d > max / 2 ? max : d * 2;
    return d;
}

static void set_lock(gh_conn *c, gh_call *call, const char *base, const char *subject,
                     int64_t until, int64_t ttl_ms)
{
    char key[GH_KV_KEY_MAX], text[24];
    int len = snprintf(text, sizeof(text), "%lld", (long long)until);

    kv_subject_key(key, base, subject);
    /* a failure is logged by the store; the login answer does not change */
    store_kv_set(c, call, key, text, (size_t)len, ttl_ms, 0);
}

static void account_failure(gh_conn *c, gh_call *call, const gh_lockout_conf *lc,
                            const char *account)
{
    /* never a counter without expiry: it would lock out forever */
    int64_t window = lc->window_ms > 0 ? lc->window_ms : 12 * 60 * 60 * 1000LL;
    char key[GH_KV_KEY_MAX];
    int64_t n = 0, delay;

    kv_subject_key(key, "fail:acct", account);
    if (store_kv_incr(c, call, key, 1, window, &n) != GH_OK || n < lc->account_failures)
        return;
    delay = lock_delay(lc, n);
    set_lock(c, call, "lock:acct", account, gh_now_ms() + delay, delay);
}

static void ip_failure(gh_conn *c, gh_call *call, const gh_lockout_conf *lc, const char *ip)
{
    int64_t window = lc->ip_window_ms > 0 ? lc->ip_window_ms : 15 * 60 * 1000;
    int64_t now = gh_now_ms(), end = (now / window + 1) * window, n = 0;
    char key[GH_KV_KEY_MAX];

    kv_subject_key(key, "fail:ip", ip);
    /* a new counter expires with the window; a live one keeps its expiry,
     * which is this same instant */
    if (store_kv_incr(c, call, key, 1, end - now, &n) != GH_OK || n <= lc->ip_failures)
        return;
    set_lock(c, call, "lock:ip", ip, end, end - now);
}

void lockout_failure(gh_conn *c, gh_call *call, const gh_lockout_conf *lc,
                     const char *account, const char *ip)
{
    if (lc == NULL)
        return;
    if (present(account) && lc->account_failures > 0)
        account_failure(c, call, lc, account);
    if (present(ip) && lc->ip_failures > 0)
        ip_failure(c, call, lc, ip);
}

/* ------------------------------------------------------------- success */

/* The account starts afresh; the address does not: one right password
 * must not reset a spray of guesses across many accounts. */
void lockout_success(gh_conn *c, gh_call *call, const char *account)
{
    char key[GH_KV_KEY_MAX];

    if (!present(account))
        return;
    kv_subject_key(key, "fail:acct", account);
    store_kv_del(c, call, key); /* NOT_FOUND is the common case */
    kv_subject_key(key, "lock:acct", account);
    store_kv_del(c, call, key);
}
