/*
 * clock.c - wall and monotonic time. The wall clock carries an offset that
 * only tests move, so expiry can be tested without sleeping.
 */
#include <stdatomic.h>
#include <time.h>
#include "clock.h"

static _Atomic int64_t test_offset_ms;

static int64_t read_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gh_now_ms(void)
{
    return read_ms(CLOCK_REALTIME) + atomic_load_explicit(&test_offset_ms, memory_order_relaxed);
}

int64_t gh_monotonic_ms(void)
{
    return read_ms(CLOCK_MONOTONIC);
}

void clock_advance_ms(int64_t ms)
{
    atomic_fetch_add(&test_offset_ms, ms);
}
