/*
 * ratelimit.c - fixed-window counters in kv. See ratelimit.h.
 */
#include <stdio.h>
#include <string.h>
#include "auth/ratelimit.h"
#include "auth/tokens.h"
#include "clock.h"

#define KEY_MAX 512
#define SUBJECT_MAX 300

int64_t ratelimit_hit(gh_conn *c, gh_call *call, const char *scope, const char *subject,
                      int limit, int64_t window_ms)
{
    char key[KEY_MAX];
    if (strlen(subject) > SUBJECT_MAX) {
        char digest[GH_DIGEST_LEN];
        secret_digest(subject, digest);
        snprintf(key, sizeof key, "rl:%s#%s", scope, digest);
    } else {
        snprintf(key, sizeof key, "rl:%s:%s", scope, subject);
    }
    int64_t w = window_ms > 0 ? window_ms : 3600000, now = gh_now_ms();
    int64_t end = (now / w + 1) * w, n = 0;
    /* a new counter expires with its window; a live one keeps that expiry */
    if (store_kv_incr(c, call, key, 1, end - now, &n) != GH_OK)
        return -1;
    return n > limit ? end - now : 0;
}
