/*
 * outbox_conf.h - the mail outbox's settings (mail.queue_size,
 * max_attempts, retry_delay, retry_max_delay), embedded in gh_config as
 * cfg->mail_outbox: the outbox reads them where the config put them.
 * Needs nothing but <stdint.h>, so config.h can include it.
 */
#ifndef GH_OUTBOX_CONF_H
#define GH_OUTBOX_CONF_H

#include <stdint.h>

typedef struct gh_outbox_conf {
    int capacity;              /* messages queued or in flight */
    int max_attempts;
    int64_t retry_delay_ms, retry_max_delay_ms;
    int64_t send_timeout_ms;   /* the deadline of one deliver call */
} gh_outbox_conf;

#endif
