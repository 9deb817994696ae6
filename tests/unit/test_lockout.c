/*
 * test_lockout.c - login lockout (core/auth/lockout.c): per account, per
 * address, the keys it uses, over the real SQLite plugin.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/present.h"
#include "auth/audit.h"
#include "auth/lockout.h"
#include "auth/pii.h"
#include "auth/sessions.h"
#include "auth/tokens.h"
#include "auth/users.h"
#include "auth/users_crypt.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "plugin/host.h"
#include "plugin/loader.h"
#include "store/migrations.h"
#include "store/store.h"

#include "accounts_fx.h"

/* --------------------------------------------------------------- lockout */

static void test_lockout_account(void **state)
{
    static const gh_lockout_conf lc = {
        .account_failures = 3, .base_delay_ms = 1000, .max_delay_ms = 4000,
        .window_ms = 60000, .ip_failures = 100, .ip_window_ms = 60000,
    };
    static const int64_t delays[] = { 1000, 2000, 4000, 4000 };
    fx *f = *state;
    const char *acct = ROOT ":alice@example.com";
    int64_t left;

    for (int i = 0; i < 2; i++) {
        lockout_failure(f->c, &f->call, &lc, acct, "192.0.2.1");
        assert_int_equal(lockout_check(f->c, &f->call, &lc, acct, "192.0.2.1"), 0);
    }
    /* the third locks for base, each one after for twice as long, capped */
    for (size_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
        lockout_failure(f->c, &f->call, &lc, acct, "192.0.2.1");
        left = lockout_check(f->c, &f->call, &lc, acct, NULL);
        assert_in_range(left, delays[i] - SLACK, delays[i]);
        clock_advance_ms(delays[i] - SLACK);
        assert_in_range(lockout_check(f->c, &f->call, &lc, acct, "192.0.2.1"), 1, SLACK);
        clock_advance_ms(SLACK);
        assert_int_equal(lockout_check(f->c, &f->call, &lc, acct, "192.0.2.1"), 0);
    }
    /* another account is not affected */
    assert_int_equal(lockout_check(f->c, &f->call, &lc, ROOT ":bob@example.com", NULL), 0);

    /* success starts the account afresh */
    lockout_failure(f->c, &f->call, &lc, acct, NULL);
    assert_true(lockout_check(f->c, &f->call, &lc, acct, NULL) > 0);
    lockout_success(f->c, &f->call, acct);
    assert_int_equal(lockout_check(f->c, &f->call, &lc, acct, NULL), 0);
    lockout_failure(f->c, &f->call, &lc, acct, NULL);
    lockout_failure(f->c, &f->call, &lc, acct, NULL);
    assert_int_equal(lockout_check(f->c, &f->call, &lc, acct, NULL), 0);

    /* failures further apart than the window are forgotten */
    clock_advance_ms(60000);
    lockout_failure(f->c, &f->call, &lc, acct, NULL);
    lockout_failure(f->c, &f->call, &lc, acct, NULL);
    assert_int_equal(lockout_check(f->c, &f->call, &lc, acct, NULL), 0);
    lockout_failure(f->c, &f->call, &lc, acct, NULL);
    assert_in_range(lockout_check(f->c, &f->call, &lc, acct, NULL), 1000 - SLACK, 1000);
    lockout_success(f->c, &f->call, acct);
}

static void test_lockout_ip_and_keys(void **state)
{
    static const gh_lockout_conf lc = {
        .account_failures = 100, .base_delay_ms = 1000, .max_delay_ms = 4000,
        .window_ms = 60000, .ip_failures = 5, .ip_window_ms = 60000,
    };
    static const gh_lockout_conf off = { 0 };
    fx *f = *state;
    char acct[32], huge[2000];
    int64_t left, now;

    /* start at the beginning of an address window, so all fall in one */
    now = gh_now_ms();
    clock_advance_ms(60000 - now % 60000);
    for (int i = 0; i < 5; i++) {
        snprintf(acct, sizeof(acct), "t:user%d", i); /* a spray across accounts */
        lockout_failure(f->c, &f->call, &lc, acct, "203.0.113.7");
    }
    assert_int_equal(lockout_check(f->c, &f->call, &lc, "t:new", "203.0.113.7"), 0);
    clock_advance_ms(10000);
    lockout_failure(f->c, &f->call, &lc, "t:user5", "203.0.113.7");
    /* blocked, for every account, until the window ends */
    left = lockout_check(f->c, &f->call, &lc, "t:new", "203.0.113.7");
    assert_in_range(left, 50000 - SLACK, 50000);
    assert_int_equal(lockout_check(f->c, &f->call, &lc, "t:new", "203.0.113.8"), 0);
    assert_int_equal(lockout_check(f->c, &f->call, &lc, "t:new", NULL), 0);
    /* a success does not lift an address block */
    lockout_success(f->c, &f->call, "t:user5");
    assert_in_range(lockout_check(f->c, &f->call, &lc, "t:user5", "203.0.113.7"),
                    50000 - SLACK, 50000);
    clock_advance_ms(50000);
    assert_int_equal(lockout_check(f->c, &f->call, &lc, "t:new", "203.0.113.7"), 0);
    lockout_failure(f->c, &f->call, &lc, "t:x", "203.0.113.7"); /* a new window */
    assert_int_equal(lockout_check(f->c, &f->call, &lc, "t:new", "203.0.113.7"), 0);

    /* a subject too long for a key is hashed, and still counted */
    memset(huge, 'a', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    for (int i = 0; i < 100; i++)
        lockout_failure(f->c, &f->call, &lc, huge, NULL);
    assert_in_range(lockout_check(f->c, &f->call, &lc, huge, NULL), 1000 - SLACK, 1000);
    assert_int_equal(query_int(f, "SELECT MAX(LENGTH(key)) FROM kv", NULL) < 512, 1);
    huge[1000] = 'b';
    assert_int_equal(lockout_check(f->c, &f->call, &lc, huge, NULL), 0);

    /* switched off: nothing counts, nothing locks */
    for (int i = 0; i < 10; i++)
        lockout_failure(f->c, &f->call, &off, "t:off", "198.51.100.1");
    assert_int_equal(lockout_check(f->c, &f->call, &off, "t:off", "198.51.100.1"), 0);
    lockout_failure(f->c, &f->call, NULL, "t:off", "198.51.100.1");
}


int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_lockout_account),
        T(test_lockout_ip_and_keys),
    };

    return RUN(tests);
}
