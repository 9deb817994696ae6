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

#define GH_KV_KEY_MAX 512

/* The kv key of subject (an account, an email address, an IP) under base:
 * "<base>:<subject>" in clear only while encryption at rest is off. With
 * it on, "<base>#bi1:..." (the subject's keyed blind index): an address
 * typed by anyone, user or not, must not sit in kv in clear. A subject
 * too long for a sane key is replaced by its SHA-256 ("<base>#<hex>"), a
 * namespace no plain key reaches. */
void kv_subject_key(char key[GH_KV_KEY_MAX], const char *base, const char *subject);

/* Count one more under kv_subject_key("rl:<scope>", subject).
 * 0: allowed; > 0: over the limit, ms until the window ends; -1: kv failed. */
int64_t ratelimit_hit(gh_conn *c, gh_call *call, const char *scope, const char *subject,
                      int limit, int64_t window_ms);

#endif
