/*
 * lockout.h - brute-force protection for logins, kept in kv so every
 * instance shares it. Per account: the `account_failures`-th failure
 * within `window` locks the account for `base_delay`, and each failure
 * after that for twice as long as the one before, up to `max_delay`
 * (Keycloak's scheme); a success starts the account afresh. Per IP:
 * more than `ip_failures` failures within `ip_window` blocks that address
 * until the window ends.
 */
#ifndef GH_LOCKOUT_H
#define GH_LOCKOUT_H

#include <stdint.h>
#include "auth/lockout_conf.h"
#include "store/store.h"

/* 0: may try; >0: ms until it may (answer 429 with Retry-After); -1: kv
 * unavailable (answer 503). account is tenant + normalised login. */
int64_t lockout_check(gh_conn *c, gh_call *call, const gh_lockout_conf *lc,
                      const char *account, const char *ip);
void lockout_failure(gh_conn *c, gh_call *call, const gh_lockout_conf *lc,
                     const char *account, const char *ip);
void lockout_success(gh_conn *c, gh_call *call, const char *account);

#endif
