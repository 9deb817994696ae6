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
#include "store/store.h"

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

/*
 * A sender thread that works through rows waiting in the store (the
 * webhook deliveries, the provisioning jobs, the mail outbox) rather
 * than a queue in memory: it polls every poll_ms, at once when woken,
 * and after a wake that found nothing looks again a few times shortly
 * after: a wake comes from inside the writer's transaction, before its
 * commit, so a poll at once may not see the row yet. One poller of a kind
 * runs at a time; its slot lets any thread wake it.
 */
typedef struct gh_poller {
    gh_sender snd;             /* the plugin, the thread, the lock */
    int stopping, woken;       /* under snd.mu */
    int64_t poll_ms;
    int batch;                 /* a poll that handled this many: more may be due */
    /* One poll on c: the rows it handled, or -1 when the store failed
     * (logged); *due_ms: when a row it left is due again (gh_now_ms's
     * clock), or 0. */
    int (*poll)(void *arg, gh_conn *c, int64_t *due_ms);
    void *arg;
} gh_poller;

typedef struct gh_poller_slot {
    pthread_mutex_t mu;
    gh_poller *p;              /* the running one, or NULL */
} gh_poller_slot;
#define POLLER_SLOT_INIT { PTHREAD_MUTEX_INITIALIZER, NULL }

/* Start p's thread (p->snd.plugin and setup, poll_ms, batch, poll and arg
 * set) and put it in slot: sender_launch's 0 or -1 (p->snd.err). */
int poller_launch(gh_poller *p, gh_poller_slot *slot);
/* Take it out of slot, stop it after the poll in flight, and join it. */
void poller_stop(gh_poller *p, gh_poller_slot *slot);
/* Any thread: poll soon. An empty slot: no-op. */
void poller_wake(gh_poller_slot *slot);

/* The wait before the next attempt after `attempts` failed ones:
 * retry_delay * 2^(attempts-1), at most retry_max_delay. */
int64_t sender_backoff(const gh_outbox_conf *c, int attempts);

#endif
