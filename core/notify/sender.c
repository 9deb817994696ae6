/*
 * sender.c - a notify sender thread's set-up and backoff. See sender.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <openssl/crypto.h>
#include "clock.h"
#include "notify/sender.h"
#include "out.h"
#include "plugin/host.h"
#include "store/store.h"

static int thread_setup(gh_sender *s)
{
    const gh_plugin *d = s->plugin->desc;
    if (s->setup.start) {
        char why[sizeof s->err - 32];
        if (s->setup.start(s->setup.ud, why, sizeof why) < 0) {
            snprintf(s->err, sizeof s->err, "sender thread: %s", why);
            return -1;
        }
        s->tinst = plugin_tinst(s->plugin); /* the hooks ran its thread_init */
        return 0;
    }
    if (d->thread_size && !(s->tinst = calloc(1, d->thread_size))) {
        snprintf(s->err, sizeof s->err, "out of memory");
        return -1;
    }
    if (!d->thread_init)
        return 0;
    gh_call call;
    call_init(&call, s->plugin, NULL, 30000);
    const gh_node *saved = host_cfg_scope(s->plugin->options);
    gh_result r = d->thread_init(s->plugin->inst, s->tinst, &call);
    host_cfg_scope(saved);
    if (r == GH_OK)
        return 0;
    free(s->tinst);
    s->tinst = NULL;
    snprintf(s->err, sizeof s->err, "plugin '%.64s': thread_init: %.100s", s->plugin->name,
             call.message[0] ? call.message : gh_result_str(r));
    return -1;
}

int sender_thread_start(gh_sender *s)
{
    int ok = thread_setup(s) == 0;
    pthread_mutex_lock(&s->mu);
    s->started = 1;
    s->start_failed = !ok;
    pthread_cond_broadcast(&s->cond);
    if (!ok)
        pthread_mutex_unlock(&s->mu);
    return ok ? 0 : -1;
}

static void lock_free(gh_sender *s)
{
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cond);
}

int sender_launch(gh_sender *s, void *(*main)(void *), void *arg)
{
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&s->thread, NULL, main, arg) != 0) {
        snprintf(s->err, sizeof s->err, "cannot start the sender thread");
        lock_free(s);
        return -1;
    }
    pthread_mutex_lock(&s->mu);
    while (!s->started)
        pthread_cond_wait(&s->cond, &s->mu);
    int failed = s->start_failed;
    pthread_mutex_unlock(&s->mu);
    if (failed) {
        pthread_join(s->thread, NULL);
        lock_free(s);
        return -1;
    }
    return 0;
}

void sender_join(gh_sender *s)
{
    pthread_join(s->thread, NULL);
    lock_free(s);
}

void sender_wait_until(gh_sender *s, int64_t until_ms)
{
    int64_t now = gh_monotonic_ms();
    if (until_ms <= now)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ns = ts.tv_nsec + ((until_ms - now) % 1000) * 1000000;
    ts.tv_sec += (time_t)((until_ms - now) / 1000 + ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    pthread_cond_timedwait(&s->cond, &s->mu, &ts);
}

void sender_thread_stop(gh_sender *s)
{
    const gh_plugin *d = s->plugin->desc;
    if (s->setup.start) {
        s->setup.stop(s->setup.ud);
        s->tinst = NULL;
        return;
    }
    if (d->thread_fini)
        d->thread_fini(s->plugin->inst, s->tinst);
    if (s->tinst)
        OPENSSL_cleanse(s->tinst, d->thread_size);
    free(s->tinst);
    s->tinst = NULL;
}

int64_t sender_backoff(const gh_outbox_conf *c, int attempts)
{
    int64_t d = c->retry_delay_ms;
    for (int i = 1; i < attempts && d < c->retry_max_delay_ms; i++)
        d = d > c->retry_max_delay_ms / 2 ? c->retry_max_delay_ms : d * 2;
    return d < c->retry_max_delay_ms ? d : c->retry_max_delay_ms;
}

gh_result sender_deliver(gh_sender *s, gh_call *call, const gh_param *in, gh_out **out)
{
    const gh_notify_ops *ops = s->plugin->desc->ops;
    if (!(*out = out_new()))
        return GH_ERR_NOMEM;
    return GH_OPS_HAS(gh_notify_ops, ops, deliver)
               ? ops->deliver(s->plugin->inst, s->tinst, call, in, *out)
               : GH_ERR_UNSUPPORTED;
}

/* ---------------------------------------------------------------- pollers */

#define WAKE_RECHECKS 5
#define WAKE_RECHECK_MS 100

static void *poller_main(void *arg)
{
    gh_poller *p = arg;
    if (sender_thread_start(&p->snd) < 0)
        return NULL;
    int64_t next = gh_monotonic_ms(); /* at once: what waited over a restart */
    int rechecks = 0;
    for (;;) {
        while (!p->stopping && !p->woken && gh_monotonic_ms() < next)
            sender_wait_until(&p->snd, next);
        if (p->stopping)
            break;
        int woken = p->woken;
        p->woken = 0;
        pthread_mutex_unlock(&p->snd.mu);
        gh_conn *c = store_current();
        int64_t due = 0;
        int n = c ? p->poll(p->arg, c, &due) : -1;
        if (woken)
            rechecks = WAKE_RECHECKS;
        int64_t now = gh_monotonic_ms(), wait = p->poll_ms;
        if (n == p->batch)
            wait = 0; /* more may be due */
        else if (n <= 0 && rechecks > 0 && rechecks--)
            wait = WAKE_RECHECK_MS;
        if (due > 0 && due - gh_now_ms() < wait)
            wait = due > gh_now_ms() ? due - gh_now_ms() : 0;
        next = now + wait;
        pthread_mutex_lock(&p->snd.mu);
    }
    pthread_mutex_unlock(&p->snd.mu);
    sender_thread_stop(&p->snd);
    return NULL;
}

int poller_launch(gh_poller *p, gh_poller_slot *slot)
{
    if (sender_launch(&p->snd, poller_main, p) < 0)
        return -1;
    pthread_mutex_lock(&slot->mu);
    slot->p = p;
    pthread_mutex_unlock(&slot->mu);
    return 0;
}

void poller_stop(gh_poller *p, gh_poller_slot *slot)
{
    pthread_mutex_lock(&slot->mu);
    slot->p = NULL;
    pthread_mutex_unlock(&slot->mu);
    pthread_mutex_lock(&p->snd.mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->snd.cond);
    pthread_mutex_unlock(&p->snd.mu);
    sender_join(&p->snd);
}

void poller_wake(gh_poller_slot *slot)
{
    pthread_mutex_lock(&slot->mu);
    gh_poller *p = slot->p;
    if (p) {
        pthread_mutex_lock(&p->snd.mu);
        p->woken = 1;
        pthread_cond_signal(&p->snd.cond);
        pthread_mutex_unlock(&p->snd.mu);
    }
    pthread_mutex_unlock(&slot->mu);
}
