/*
 * ratelimit.c - fixed-window counters in kv. See ratelimit.h.
 */
#include <stdio.h>
#include <string.h>
#include "auth/pii.h"
#include "auth/ratelimit.h"
#include "auth/tokens.h"
#include "clock.h"

#define SUBJECT_MAX 400 /* longer subjects are hashed */

void kv_subject_key(char key[GH_KV_KEY_MAX], const char *base, const char *subject)
{
    char idx[PII_INDEX_LEN];

    /* "lockout": the index domain of the first keys made so, kept so that
     * an upgrade does not forget the locks in force */
    if (pii_blind_index(pii_current(), "lockout", subject, idx) == 0) {
        snprintf(key, GH_KV_KEY_MAX, "%s#%s", base, idx);
    } else if (strlen(subject) > SUBJECT_MAX) {
        char digest[GH_DIGEST_LEN];

        secret_digest(subject, digest);
        snprintf(key, GH_KV_KEY_MAX, "%s#%s", base, digest);
    } else {
        snprintf(key, GH_KV_KEY_MAX, "%s:%s", base, subject);
    }
}

int64_t ratelimit_hit(gh_conn *c, gh_call *call, const char *scope, const char *subject,
                      int limit, int64_t window_ms)
{
    char key[GH_KV_KEY_MAX], base[64];

    snprintf(base, sizeof base, "rl:%s", scope);
    kv_subject_key(key, base, subject);
    int64_t w = window_ms > 0 ? window_ms : 3600000, now = gh_now_ms();
    int64_t end = (now / w + 1) * w, n = 0;
    /* a new counter expires with its window; a live one keeps that expiry */
    if (store_kv_incr(c, call, key, 1, end - now, &n) != GH_OK)
        return -1;
    return n > limit ? end - now : 0;
}
