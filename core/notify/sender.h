/*
 * sender.h - what every notify sender thread shares: the mail outbox's
 * (outbox.c) and the webhook sender's (webhook_sender.c). Such a thread
 * calls a notify plugin off the request path, so it needs what a worker
 * has (the plugin's thread instance, the store, kv) and the same backoff
 * between attempts.
 */
#ifndef GH_SENDER_H
#define GH_SENDER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include "notify/outbox.h"
#include "notify/outbox_conf.h"
#include "plugin/loader.h"

typedef struct gh_sender {
    const gh_loaded *plugin;   /* the notify plugin */
    gh_outbox_thread setup;    /* start NULL: none */
    void *tinst;               /* the plugin's on this thread */
    pthread_t thread;
    pthread_mutex_t mu;        /* the sender's own state, and ... */
    pthread_cond_t cond;       /* ... its wake-up (CLOCK_MONOTONIC) */
    int started, start_failed;
    char err[200];             /* why it did not start */
} gh_sender;

/* Start main(arg) on the sender thread (s->plugin and s->setup set); it
 * must call sender_thread_start first. 0 once that succeeded; -1 with
 * s->err set when it did not (the thread is gone, nothing to free). */
int sender_launch(gh_sender *s, void *(*main)(void *), void *arg);
/* On the sender thread, before its first delivery: setup.start (which
 * runs every plugin's thread_init), or without hooks the notify plugin's
 * thread_init alone; then sender_launch learns how it went. 0 with s->mu
 * held, or -1 (mu not held): return at once. */
int sender_thread_start(gh_sender *s);
/* After its last delivery, on the same thread, without s->mu. */
void sender_thread_stop(gh_sender *s);
/* Wait on s->cond (mu held) until woken or until_ms (monotonic). */
void sender_wait_until(gh_sender *s, int64_t until_ms);
/* Once the thread has been told to stop: wait for it, free the lock. */
void sender_join(gh_sender *s);

/* The notify plugin's deliver, on the sender thread, with in; its results
 * into *out (out_new'd: out_free it, NULL or not). */
gh_result sender_deliver(gh_sender *s, gh_call *call, const gh_param *in, gh_out **out);

/* The wait before the next attempt after `attempts` failed ones:
 * retry_delay * 2^(attempts-1), at most retry_max_delay. */
int64_t sender_backoff(const gh_outbox_conf *c, int attempts);

#endif
