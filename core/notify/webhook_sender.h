/*
 * webhook_sender.h - the thread that delivers outgoing events.
 *
 * The deliveries wait in the store (auth/webhooks.h), not in memory: they
 * survive a restart, and several instances share them (each claims a row
 * for the length of one attempt before it sends). The thread polls for
 * due rows every webhooks.poll_interval, and at once when a request has
 * just written one (webhook_sender_wake); it hands each to the notify
 * plugin (webhooks.plugin, normally `webhook`) with the URL, the body,
 * the signing secret and the delivery's id, and records the outcome: a
 * 2xx is delivered; anything else is tried again with backoff, up to
 * webhooks.max_attempts, and counts towards disabling the subscription.
 * Log lines name the delivery and subscription ids, never the secret or
 * the body.
 */
#ifndef GH_WEBHOOK_SENDER_H
#define GH_WEBHOOK_SENDER_H

#include <stddef.h>
#include "config.h"
#include "notify/outbox.h"
#include "plugin/loader.h"

typedef struct gh_webhook_sender gh_webhook_sender;

/* NULL with err empty: webhooks.plugin is not set (events are still
 * recorded, and wait); NULL with err set: it is, and cannot start.
 * thread: the thread's setup, as for the mail outbox (outbox_new). */
gh_webhook_sender *webhook_sender_new(const gh_config *cfg, const gh_plugins *ps,
                                      const gh_outbox_thread *thread, char *err, size_t errlen);
/* Stop after the attempt in flight; what is pending stays in the store. */
void webhook_sender_free(gh_webhook_sender *s);
/* What webhook_sender_new checks, without starting anything (-t). */
int webhook_sender_check(const gh_config *cfg, const gh_plugins *ps, char *err, size_t errlen);

/* Any thread: a delivery was just written; poll soon. No sender: no-op. */
void webhook_sender_wake(void);

#endif
