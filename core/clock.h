/*
 * clock.h - the one wall clock of the daemon. Tests move it forward with
 * clock_advance_ms() to expire tokens and TTLs without sleeping.
 */
#ifndef GH_CLOCK_H
#define GH_CLOCK_H

#include <stdint.h>

int64_t gh_now_ms(void);          /* Unix time in ms, plus the test offset */
int64_t gh_monotonic_ms(void);    /* for durations and timeouts */
void clock_advance_ms(int64_t ms); /* tests only */

#endif
