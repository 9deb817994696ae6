/*
 * test_rate_limits.c - the per-route limits' arithmetic (auth/rate_algo.c)
 * and their in-memory state (auth/rate_local.c): the sliding window's
 * weighted estimate and its Retry-After, the token bucket's burst and
 * refill, and subjects and limits kept apart.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>

#include "auth/rate_algo.h"
#include "auth/rate_local.h"

#define T0 1700000040000LL /* a whole minute on the clock: a window starts */

static gh_rate_limit sliding(int64_t limit, int64_t window_ms)
{
    return (gh_rate_limit){ .name = "s", .algorithm = RL_SLIDING_WINDOW, .limit = limit,
                            .window_ms = window_ms };
}

static void sliding_counts_this_window(void **state)
{
    (void)state;
    gh_rate_limit l = sliding(5, 60000);
    rl_verdict v;

    rl_sliding(&l, T0 + 1000, 5, 0, &v);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 0);
    assert_int_equal(v.reset_ms, 59000);
    rl_sliding(&l, T0 + 1000, 6, 0, &v);
    assert_false(v.allowed);
    /* into the next window, until 6 weighted fall to 4 beside the next
     * request: a third of it */
    assert_int_equal(v.reset_ms, 59000 + 20000);
}

static void sliding_weighs_the_previous_window(void **state)
{
    (void)state;
    gh_rate_limit l = sliding(10, 60000);
    rl_verdict v;

    /* a quarter into the window: 8 before count as 6 */
    rl_sliding(&l, T0 + 15000, 4, 8, &v);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 0);
    rl_sliding(&l, T0 + 15000, 5, 8, &v);
    assert_false(v.allowed);
    /* beside the next request (6), 8 weighted must fall to 4: half of the
     * window left, 15 s on */
    assert_int_equal(v.reset_ms, 60000 - 15000 - 30000);
    /* the weight rounds up: 1 before still counts as 1 until the end */
    rl_sliding(&l, T0 + 59999, 10, 1, &v);
    assert_false(v.allowed);
}

static void bucket_bursts_then_refills(void **state)
{
    (void)state;
    gh_rate_limit l = { .name = "b", .algorithm = RL_TOKEN_BUCKET, .limit = 1, .window_ms = 1000,
                        .burst = 3 };
    int64_t tat = 0;
    rl_verdict v;

    for (int i = 0; i < 3; i++) {
        rl_bucket(&l, T0, &tat, &v);
        assert_true(v.allowed);
        assert_int_equal(v.remaining, 2 - i);
    }
    rl_bucket(&l, T0 + 10, &tat, &v);
    assert_false(v.allowed);
    assert_int_equal(v.reset_ms, 990);
    assert_int_equal(tat, T0 + 3000); /* a refusal takes no token */
    rl_bucket(&l, T0 + 1000, &tat, &v);
    assert_true(v.allowed);
    rl_bucket(&l, T0 + 1000, &tat, &v);
    assert_false(v.allowed);
    /* idle long enough, the bucket is full again, never fuller */
    rl_bucket(&l, T0 + 60000, &tat, &v);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 2);
}

static void bucket_defaults_to_limit(void **state)
{
    (void)state;
    gh_rate_limit l = { .name = "b", .algorithm = RL_TOKEN_BUCKET, .limit = 2, .window_ms = 1000 };
    int64_t tat = 0;
    rl_verdict v;

    rl_bucket(&l, T0, &tat, &v);
    rl_bucket(&l, T0, &tat, &v);
    assert_true(v.allowed);
    rl_bucket(&l, T0, &tat, &v);
    assert_false(v.allowed);
}

static void local_keeps_subjects_apart(void **state)
{
    (void)state;
    gh_rate_limit a = sliding(2, 60000), b = sliding(2, 60000);
    rl_verdict v;

    snprintf(b.name, sizeof b.name, "other");
    for (int i = 0; i < 2; i++)
        rl_local_hit(&a, "ip:192.0.2.1", T0, &v);
    assert_true(v.allowed);
    rl_local_hit(&a, "ip:192.0.2.1", T0, &v);
    assert_false(v.allowed);
    rl_local_hit(&a, "ip:192.0.2.2", T0, &v);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 1);
    rl_local_hit(&b, "ip:192.0.2.1", T0, &v);
    assert_true(v.allowed);
    /* two windows later, nothing is left of the count */
    rl_local_hit(&a, "ip:192.0.2.1", T0 + 120000, &v);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 1);
}

static void local_carries_the_previous_window(void **state)
{
    (void)state;
    gh_rate_limit l = sliding(4, 10000);
    rl_verdict v;

    for (int i = 0; i < 4; i++)
        rl_local_hit(&l, "user:carry", T0 + 9000, &v);
    assert_true(v.allowed);
    /* the next window, a tenth in: 4 before weigh 4 (rounded up) */
    rl_local_hit(&l, "user:carry", T0 + 11000, &v);
    assert_false(v.allowed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sliding_counts_this_window),
        cmocka_unit_test(sliding_weighs_the_previous_window),
        cmocka_unit_test(bucket_bursts_then_refills),
        cmocka_unit_test(bucket_defaults_to_limit),
        cmocka_unit_test(local_keeps_subjects_apart),
        cmocka_unit_test(local_carries_the_previous_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
