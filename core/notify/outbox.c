/*
 * outbox.c - the mail queue and its sender thread. See outbox.h.
 *
 * The queue is an unordered array of at most `capacity` messages, each
 * with the time of its next attempt; the sender takes the one due first.
 * Capacities are hundreds to thousands, and a delivery costs a network
 * round trip, so a linear scan is the simple and sufficient choice.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <openssl/crypto.h>
#include "clock.h"
#include "log.h"
#include "notify/outbox.h"
#include "notify/sender.h"
#include "out.h"
#include "plugin/host.h"

typedef struct msg {
    char *to, *subject, *text, *html;
    int attempts;
    int64_t due_ms; /* monotonic */
} msg;

struct gh_outbox {
    msg **v;
    size_t n;
    int inflight;          /* taken by the sender, counted against capacity */
    int stopping;
    int64_t drain_until;   /* monotonic, once stopping */
    gh_outbox_conf conf;
    gh_sender snd;             /* the notify plugin, the thread, the lock */
    _Atomic uint64_t queued, sent, retried, failed, dropped;
};

/* ------------------------------------------------------------ messages */

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

static void msg_free(msg *m)
{
    if (!m)
        return;
    wipe_free(m->to);
    wipe_free(m->subject);
    wipe_free(m->text);
    wipe_free(m->html);
    free(m);
}

static msg *msg_new(const char *to, const char *subject, const char *text, const char *html)
{
    msg *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->to = strdup(to);
    m->text = strdup(text);
    m->subject = subject ? strdup(subject) : NULL;
    m->html = html ? strdup(html) : NULL;
    if (!m->to || !m->text || (subject && !m->subject) || (html && !m->html)) {
        msg_free(m);
        return NULL;
    }
    return m;
}

/* The domain part: what the log may say about a recipient. */
static const char *domain_of(const char *to)
{
    const char *at = strrchr(to, '@');
    return at ? at + 1 : "?";
}

/* ------------------------------------------------------------ delivery */

/* left_ms >= 0: the drain time left at shutdown, a tighter deadline. */
static gh_result deliver(gh_outbox *o, const msg *m, int64_t left_ms, char *msgid, size_t idlen)
{
    gh_param in[5];
    size_t n = 0;
    in[n++] = (gh_param){ "to", GH_T_STR, m->to, strlen(m->to) };
    if (m->subject)
        in[n++] = (gh_param){ "subject", GH_T_STR, m->subject, strlen(m->subject) };
    in[n++] = (gh_param){ "text", GH_T_STR, m->text, strlen(m->text) };
    if (m->html)
        in[n++] = (gh_param){ "html", GH_T_STR, m->html, strlen(m->html) };
    in[n] = (gh_param){ NULL, 0, NULL, 0 };
    gh_call call;
    call_init(&call, o->snd.plugin, NULL, o->conf.send_timeout_ms);
    if (left_ms >= 0)
        call_limit_ms(&call, left_ms);
    call.attempt = m->attempts;
    gh_out *out;
    gh_result r = sender_deliver(&o->snd, &call, in, &out);
    const gh_param *id = r == GH_OK ? out_get(out, "message_id", 0) : NULL;
    snprintf(msgid, idlen, "%.*s", id && id->type == GH_T_STR ? (int)id->len : 0,
             id && id->type == GH_T_STR ? (const char *)id->data : "");
    out_free(out);
    return call_result(&call, r); /* logs the plugin's reason, counts the error */
}

/* After an attempt, with the lock held: done with m, or back in the queue. */
static void settle(gh_outbox *o, msg *m, gh_result r, const char *msgid)
{
    o->inflight--;
    if (r == GH_OK) {
        atomic_fetch_add(&o->sent, 1);
        gh_log(GH_LOG_INFO, "mail: sent to a recipient at %s (message %s, attempt %d)",
               domain_of(m->to), msgid[0] ? msgid : "-", m->attempts);
        msg_free(m);
        return;
    }
    if (r == GH_ERR_INVALID || m->attempts >= o->conf.max_attempts) {
        atomic_fetch_add(&o->failed, 1);
        gh_log(GH_LOG_ERROR, "mail: gave up on a message to a recipient at %s after %d "
               "attempt(s): %s", domain_of(m->to), m->attempts, gh_result_str(r));
        msg_free(m);
        return;
    }
    int64_t wait = sender_backoff(&o->conf, m->attempts);
    m->due_ms = gh_monotonic_ms() + wait;
    o->v[o->n++] = m;
    atomic_fetch_add(&o->retried, 1);
    gh_log(GH_LOG_WARNING, "mail: attempt %d of %d to a recipient at %s failed (%s); "
           "next in %lld ms", m->attempts, o->conf.max_attempts, domain_of(m->to),
           gh_result_str(r), (long long)wait);
}

/* ------------------------------------------------------------ the sender */

static size_t earliest(const gh_outbox *o)
{
    size_t best = 0;
    for (size_t i = 1; i < o->n; i++)
        if (o->v[i]->due_ms < o->v[best]->due_ms)
            best = i;
    return best;
}

/* The next message due now, taken out of the queue; NULL to stop. Lock held. */
static msg *next_due(gh_outbox *o)
{
    for (;;) {
        int64_t now = gh_monotonic_ms();
        if (o->stopping && (o->n == 0 || now >= o->drain_until))
            return NULL;
        if (o->n == 0) {
            pthread_cond_wait(&o->snd.cond, &o->snd.mu);
            continue;
        }
        size_t i = earliest(o);
        msg *m = o->v[i];
        int64_t due = m->due_ms;
        if (o->stopping && due >= o->drain_until)
            return NULL; /* what is left cannot be tried in time */
        if (due > now) {
            sender_wait_until(&o->snd, o->stopping && o->drain_until < due ? o->drain_until : due);
            continue;
        }
        o->v[i] = o->v[--o->n];
        o->inflight++;
        return m;
    }
}

static void *sender_main(void *arg)
{
    gh_outbox *o = arg;
    if (sender_thread_start(&o->snd) < 0)
        return NULL;
    msg *m;
    while ((m = next_due(o))) {
        int64_t left = -1;
        if (o->stopping)
            left = o->drain_until > gh_monotonic_ms() ? o->drain_until - gh_monotonic_ms() : 0;
        pthread_mutex_unlock(&o->snd.mu);
        char msgid[128];
        m->attempts++;
        gh_result r = deliver(o, m, left, msgid, sizeof msgid);
        pthread_mutex_lock(&o->snd.mu);
        settle(o, m, r, msgid);
    }
    pthread_mutex_unlock(&o->snd.mu);
    sender_thread_stop(&o->snd);
    return NULL;
}

/* ------------------------------------------------------------ the API */

static void destroy(gh_outbox *o)
{
    for (size_t i = 0; i < o->n; i++)
        msg_free(o->v[i]);
    free(o->v);
    free(o);
}

gh_outbox *outbox_new(const gh_loaded *notify, const gh_outbox_conf *conf,
                      const gh_outbox_thread *thread, char *err, size_t errlen)
{
    gh_outbox *o = calloc(1, sizeof *o);
    if (!o || !(o->v = calloc((size_t)conf->capacity, sizeof *o->v))) {
        free(o);
        snprintf(err, errlen, "mail: out of memory");
        return NULL;
    }
    o->conf = *conf;
    o->snd.plugin = notify;
    if (thread)
        o->snd.setup = *thread;
    if (sender_launch(&o->snd, sender_main, o) < 0) {
        snprintf(err, errlen, "mail: %.200s", o->snd.err);
        destroy(o);
        return NULL;
    }
    return o;
}

void outbox_free(gh_outbox *o, int64_t drain_ms)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->snd.mu);
    o->stopping = 1;
    o->drain_until = gh_monotonic_ms() + (drain_ms > 0 ? drain_ms : 0);
    size_t waiting = o->n + (size_t)o->inflight;
    pthread_cond_broadcast(&o->snd.cond);
    pthread_mutex_unlock(&o->snd.mu);
    if (waiting)
        gh_log(GH_LOG_NOTICE, "mail: %zu message(s) still to send; waiting up to %lld ms",
               waiting, (long long)drain_ms);
    sender_join(&o->snd);
    if (o->n) {
        atomic_fetch_add(&o->dropped, o->n);
        gh_log(GH_LOG_WARNING, "mail: shutting down: dropped %zu unsent message(s)", o->n);
    }
    destroy(o);
}

int outbox_submit(gh_outbox *o, const char *to, const char *subject, const char *text,
                  const char *html)
{
    msg *m = msg_new(to, subject, text, html);
    if (!m)
        return -1;
    m->due_ms = gh_monotonic_ms();
    pthread_mutex_lock(&o->snd.mu);
    int ok = !o->stopping && o->n + (size_t)o->inflight < (size_t)o->conf.capacity;
    if (ok) {
        o->v[o->n++] = m;
        pthread_cond_signal(&o->snd.cond);
    }
    pthread_mutex_unlock(&o->snd.mu);
    if (!ok) {
        msg_free(m);
        return -1;
    }
    atomic_fetch_add(&o->queued, 1);
    return 0;
}

int outbox_has_room(gh_outbox *o)
{
    pthread_mutex_lock(&o->snd.mu);
    int room = !o->stopping && o->n + (size_t)o->inflight < (size_t)o->conf.capacity;
    pthread_mutex_unlock(&o->snd.mu);
    return room;
}

void outbox_render(struct evbuffer *out, gh_outbox *o)
{
    pthread_mutex_lock(&o->snd.mu);
    size_t depth = o->n + (size_t)o->inflight;
    pthread_mutex_unlock(&o->snd.mu);
    evbuffer_add_printf(out,
        "# HELP gatehouse_mail_total Mail messages, by what became of them: queued, sent, "
        "retried (an attempt failed, another is scheduled), failed (gave up), dropped (at "
        "shutdown).\n"
        "# TYPE gatehouse_mail_total counter\n"
        "gatehouse_mail_total{event=\"queued\"} %llu\n"
        "gatehouse_mail_total{event=\"sent\"} %llu\n"
        "gatehouse_mail_total{event=\"retried\"} %llu\n"
        "gatehouse_mail_total{event=\"failed\"} %llu\n"
        "gatehouse_mail_total{event=\"dropped\"} %llu\n"
        "# HELP gatehouse_mail_queue_depth Mail messages waiting or being sent.\n"
        "# TYPE gatehouse_mail_queue_depth gauge\n"
        "gatehouse_mail_queue_depth %zu\n"
        "# HELP gatehouse_mail_queue_capacity Mail messages the queue holds at most.\n"
        "# TYPE gatehouse_mail_queue_capacity gauge\n"
        "gatehouse_mail_queue_capacity %d\n",
        (unsigned long long)atomic_load(&o->queued), (unsigned long long)atomic_load(&o->sent),
        (unsigned long long)atomic_load(&o->retried), (unsigned long long)atomic_load(&o->failed),
        (unsigned long long)atomic_load(&o->dropped), depth, o->conf.capacity);
}
