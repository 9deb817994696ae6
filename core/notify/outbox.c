/*
 * outbox.c - the mail outbox's sender thread. See outbox.h.
 *
 * A poll claims one due row at a time, composes its message, sends it
 * and settles the row before it claims the next: a lease then covers one
 * attempt, and an instance that dies leaves at most one row claimed.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include "auth/mail_outbox.h"
#include "clock.h"
#include "log.h"
#include "notify/mailer.h"
#include "notify/outbox.h"
#include "notify/sender.h"
#include "out.h"

/* Rows sent per poll before the poller looks again at once: the thread
 * checks for shutdown between rows. */
#define BATCH 16
/* When nothing wakes it: a row another instance wrote, or one whose
 * lease ran out, is found within this. */
#define POLL_MS 1000
/* A claim outlives the attempt's deadline by this much (the row's
 * composing is a few store round trips), so a row is never sent by two
 * senders at once. */
#define LEASE_MARGIN_MS 5000

struct gh_outbox {
    gh_poller pl;              /* the plugin, the thread, its polls */
    gh_outbox_conf conf;
    const gh_mailer *mailer;
    _Atomic int64_t pending;   /* as last counted */
    _Atomic uint64_t queued, sent, retried, failed, skipped;
};

/* The running sender, for wakes from the workers. */
static gh_poller_slot slot = POLLER_SLOT_INIT;

/* The domain part: what the log may say about a recipient. */
static const char *domain_of(const char *to)
{
    const char *at = strrchr(to, '@');
    return at ? at + 1 : "?";
}

/* ------------------------------------------------------------ delivery */

/* One attempt through the notify plugin; the plugin's reason into err. */
static gh_result deliver(gh_outbox *o, const gh_mail_msg *m, int attempt, char *msgid,
                         size_t idlen, char *err, size_t errlen)
{
    gh_param in[5];
    size_t n = 0;
    in[n++] = (gh_param){ "to", GH_T_STR, m->to, strlen(m->to) };
    in[n++] = (gh_param){ "subject", GH_T_STR, m->subject, strlen(m->subject) };
    in[n++] = (gh_param){ "text", GH_T_STR, m->text, strlen(m->text) };
    if (m->html)
        in[n++] = (gh_param){ "html", GH_T_STR, m->html, strlen(m->html) };
    in[n] = (gh_param){ NULL, 0, NULL, 0 };
    gh_call call;
    call_init(&call, o->pl.snd.plugin, NULL, o->conf.send_timeout_ms);
    call.attempt = attempt;
    gh_out *out;
    gh_result r = sender_deliver(&o->pl.snd, &call, in, &out);
    const gh_param *id = r == GH_OK ? out_get(out, "message_id", 0) : NULL;
    snprintf(msgid, idlen, "%.*s", id && id->type == GH_T_STR ? (int)id->len : 0,
             id && id->type == GH_T_STR ? (const char *)id->data : "");
    out_free(out);
    r = call_result(&call, r); /* logs the plugin's reason, counts the error */
    snprintf(err, errlen, "%s", r == GH_OK ? "" : call.message[0] ? call.message
                                                                   : gh_result_str(r));
    return r;
}

/* After a failed attempt on row: due again with backoff, or failed for
 * good when it was invalid or the last allowed. The next due time into
 * *due_ms (gh_now_ms's clock) when it is sooner. */
static void settle_failure(gh_outbox *o, gh_conn *c, const gh_mail_row *row, gh_result r,
                           const char *to, const char *err, int64_t *due_ms)
{
    gh_call call;
    call_init(&call, NULL, NULL, 30000);
    int last = r == GH_ERR_INVALID || row->attempts >= o->conf.max_attempts;
    int64_t wait = last ? 0 : sender_backoff(&o->conf, (int)row->attempts);
    int64_t next = last ? 0 : gh_now_ms() + wait;
    if (mail_outbox_failed(c, &call, row, next, err) != GH_OK)
        gh_log(GH_LOG_ERROR, "mail: row %s: cannot record the failed attempt: %s", row->id,
               call.message);
    if (last) {
        atomic_fetch_add(&o->failed, 1);
        gh_log(GH_LOG_ERROR, "mail: row %s: gave up on a message to a recipient at %s after "
               "%lld attempt(s): %s", row->id, domain_of(to), (long long)row->attempts, err);
        return;
    }
    atomic_fetch_add(&o->retried, 1);
    if (*due_ms == 0 || next < *due_ms)
        *due_ms = next;
    gh_log(GH_LOG_WARNING, "mail: row %s: attempt %lld of %d to a recipient at %s failed (%s); "
           "next in %lld ms", row->id, (long long)row->attempts, o->conf.max_attempts,
           domain_of(to), gh_result_str(r), (long long)wait);
}

/* The row is done: sent (msgid set) or not owed any more (why set). */
static void settle_done(gh_outbox *o, gh_conn *c, const gh_mail_row *row, const char *to,
                        const char *msgid, const char *why)
{
    gh_call call;
    call_init(&call, NULL, NULL, 30000);
    /* on failure the lease runs out and the row is sent again: the
     * at-least-once window of outbox.h */
    if (mail_outbox_done(c, &call, row) != GH_OK)
        gh_log(GH_LOG_ERROR, "mail: row %s: cannot record it done: %s", row->id, call.message);
    if (why) {
        atomic_fetch_add(&o->skipped, 1);
        gh_log(GH_LOG_INFO, "mail: row %s (%s) not sent: %s", row->id, row->purpose, why);
        return;
    }
    atomic_fetch_add(&o->sent, 1);
    gh_log(GH_LOG_INFO, "mail: sent to a recipient at %s (row %s, message %s, attempt %lld)",
           domain_of(to), row->id, msgid[0] ? msgid : "-", (long long)row->attempts);
}

/* Compose, send and settle one claimed row. */
static void send_row(gh_outbox *o, gh_conn *c, const gh_mail_row *row, int64_t *due_ms)
{
    gh_mail_msg msg;
    const char *why;
    char msgid[128] = "", err[MAIL_ERROR_MAX];
    gh_call call;
    call_init(&call, NULL, NULL, 30000);
    gh_result r = mailer_compose(o->mailer, c, &call, row, &msg, &why);
    if (r != GH_OK)
        snprintf(err, sizeof err, "composing: %.200s", call.message[0] ? call.message
                                                                     : gh_result_str(r));
    else if (msg.to)
        r = deliver(o, &msg, (int)row->attempts, msgid, sizeof msgid, err, sizeof err);
    if (r == GH_OK) {
        settle_done(o, c, row, msg.to ? msg.to : "?", msgid, msg.to ? NULL : why);
    } else {
        call_init(&call, NULL, NULL, 30000);
        mailer_msg_void(c, &call, &msg); /* its link goes: the next attempt mints anew */
        settle_failure(o, c, row, r, msg.to ? msg.to : "?", err, due_ms);
    }
    mailer_msg_clear(&msg);
}

static int stopping(gh_outbox *o)
{
    pthread_mutex_lock(&o->pl.snd.mu);
    int s = o->pl.stopping;
    pthread_mutex_unlock(&o->pl.snd.mu);
    return s;
}

/* Count what is pending, for outbox_has_room and the depth gauge. */
static void count_pending(gh_outbox *o, gh_conn *c)
{
    gh_call call;
    int64_t n;
    call_init(&call, NULL, NULL, 30000);
    if (mail_outbox_pending(c, &call, &n) == GH_OK)
        atomic_store(&o->pending, n);
}

/* The poller's poll: claim, send and settle due rows one by one. */
static int poll_once(void *arg, gh_conn *c, int64_t *due_ms)
{
    gh_outbox *o = arg;
    int64_t lease = o->conf.send_timeout_ms + LEASE_MARGIN_MS;
    int done = 0;
    *due_ms = 0;
    while (done < BATCH && !stopping(o)) {
        gh_mail_row *rows = NULL;
        size_t n = 0;
        gh_call call;
        call_init(&call, NULL, NULL, 30000);
        if (mail_outbox_claim(c, &call, gh_now_ms(), lease, 1, &rows, &n) != GH_OK) {
            gh_log(GH_LOG_ERROR, "mail: cannot read the mail due: %s", call.message);
            free(rows);
            return -1;
        }
        if (n == 0)
            break;
        send_row(o, c, &rows[0], due_ms);
        free(rows);
        done++;
    }
    count_pending(o, c);
    return done;
}

/* ------------------------------------------------------------ the API */

gh_outbox *outbox_new(const gh_loaded *notify, const gh_outbox_conf *conf,
                      const gh_outbox_thread *thread, const gh_mailer *m, char *err,
                      size_t errlen)
{
    gh_outbox *o = calloc(1, sizeof *o);
    if (!o) {
        snprintf(err, errlen, "mail: out of memory");
        return NULL;
    }
    o->conf = *conf;
    o->mailer = m;
    o->pl.snd.plugin = notify;
    if (thread)
        o->pl.snd.setup = *thread;
    o->pl.poll_ms = POLL_MS;
    o->pl.batch = BATCH;
    o->pl.poll = poll_once;
    o->pl.arg = o;
    if (poller_launch(&o->pl, &slot) < 0) {
        snprintf(err, errlen, "mail: %.200s", o->pl.snd.err);
        free(o);
        return NULL;
    }
    return o;
}

void outbox_free(gh_outbox *o)
{
    if (!o)
        return;
    poller_stop(&o->pl, &slot);
    free(o);
}

int outbox_has_room(gh_outbox *o)
{
    return atomic_load(&o->pending) < o->conf.capacity;
}

gh_result outbox_room(gh_outbox *o, gh_conn *c, gh_call *call)
{
    int64_t n;
    gh_result r = mail_outbox_pending(c, call, &n);
    if (r != GH_OK)
        return r;
    atomic_store(&o->pending, n);
    return n < o->conf.capacity ? GH_OK : GH_ERR_UNAVAILABLE;
}

gh_result outbox_queue(gh_outbox *o, gh_conn *c, gh_call *call, const char *tenant,
                       const char *user_id, const char *purpose)
{
    gh_result r = mail_outbox_add(c, call, tenant, user_id, purpose);
    if (r != GH_OK)
        return r;
    atomic_fetch_add(&o->pending, 1);
    atomic_fetch_add(&o->queued, 1);
    poller_wake(&slot); /* it rechecks shortly: the row may not be committed yet */
    return GH_OK;
}

void outbox_render(struct evbuffer *out, gh_outbox *o)
{
    evbuffer_add_printf(out,
        "# HELP gatehouse_mail_total Mail messages, by what became of them: queued, sent, "
        "retried (an attempt failed, another is scheduled), failed (gave up), skipped (no "
        "longer owed when its turn came: the account gone, inactive or verified).\n"
        "# TYPE gatehouse_mail_total counter\n"
        "gatehouse_mail_total{event=\"queued\"} %llu\n"
        "gatehouse_mail_total{event=\"sent\"} %llu\n"
        "gatehouse_mail_total{event=\"retried\"} %llu\n"
        "gatehouse_mail_total{event=\"failed\"} %llu\n"
        "gatehouse_mail_total{event=\"skipped\"} %llu\n"
        "# HELP gatehouse_mail_queue_depth Mail messages waiting or being sent, every "
        "instance's, as this one last counted them.\n"
        "# TYPE gatehouse_mail_queue_depth gauge\n"
        "gatehouse_mail_queue_depth %lld\n"
        "# HELP gatehouse_mail_queue_capacity Mail messages the outbox holds at most.\n"
        "# TYPE gatehouse_mail_queue_capacity gauge\n"
        "gatehouse_mail_queue_capacity %d\n",
        (unsigned long long)atomic_load(&o->queued), (unsigned long long)atomic_load(&o->sent),
        (unsigned long long)atomic_load(&o->retried), (unsigned long long)atomic_load(&o->failed),
        (unsigned long long)atomic_load(&o->skipped),
        (long long)atomic_load(&o->pending), o->conf.capacity);
}
