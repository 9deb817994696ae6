/*
 * sender.h - what every notify sender thread shares: the mail outbox's
 * (outbox.c) and the webhook sender's (webhook_sender.c). Such a thread
 * calls a notify plugin off the request path, so it needs what a worker
 * has (the plugin's thread instance, the store, kv) and the same backoff
 * between attempts.
 */
#ifndef GH_SENDER_H
#define GH_SENDER_H

#include <stddef.h>
#include <stdint.h>
#include "notify/outbox.h"
#include "notify/outbox_conf.h"
#include "plugin/loader.h"

typedef struct gh_sender {
    const gh_loaded *plugin;   /* the notify plugin */
    gh_outbox_thread setup;    /* start NULL: none */
    void *tinst;               /* the plugin's on this thread */
    char err[200];             /* sender_thread_start's reason */
} gh_sender;

/* On the sender thread, before its first delivery: setup.start (which
 * runs every plugin's thread_init), or without hooks the notify plugin's
 * thread_init alone. 0, or -1 with s->err set. */
int sender_thread_start(gh_sender *s);
/* After its last delivery, on the same thread. */
void sender_thread_stop(gh_sender *s);

/* The wait before the next attempt after `attempts` failed ones:
 * retry_delay * 2^(attempts-1), at most retry_max_delay. */
int64_t sender_backoff(const gh_outbox_conf *c, int attempts);

#endif
