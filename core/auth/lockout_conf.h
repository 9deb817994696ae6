/*
 * lockout_conf.h - auth.lockout's settings (auth/lockout.h applies them).
 * Apart from lockout.h so that config.h can hold them without the store.
 */
#ifndef GH_LOCKOUT_CONF_H
#define GH_LOCKOUT_CONF_H

#include <stdint.h>

typedef struct gh_lockout_conf {
    int account_failures;
    int64_t base_delay_ms, max_delay_ms, window_ms;
    int ip_failures;
    int64_t ip_window_ms;
} gh_lockout_conf;

#endif
