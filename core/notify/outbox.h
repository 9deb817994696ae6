/*
 * outbox.h - mail waiting to be sent, off the request path.
 *
 * A request puts a finished message (recipient, subject, text, HTML) into
 * a bounded queue and answers at once; one sender thread of the outbox's
 * own hands each message to the notify plugin. The API workers never wait
 * on a mail server: with SQLite there is one worker, and a slow SMTP
 * server must not stall every request behind it.
 *
 * A failed delivery is tried again after retry_delay, doubling up to
 * retry_max_delay, at most max_attempts times in all; a message rejected
 * as invalid is not retried. A full queue refuses the message (the API
 * answers 503): nothing is dropped silently. At shutdown the sender keeps
 * going until the queue is empty or the drain time is up, and says how
 * many messages it had to drop. Log lines name the recipient's domain and
 * the attempt, never the address's local part, the subject or the body
 * (bodies hold one-time links).
 */
#ifndef GH_OUTBOX_H
#define GH_OUTBOX_H

#include <stddef.h>
#include <stdint.h>
#include "notify/outbox_conf.h"
#include "plugin/loader.h"

struct evbuffer;
typedef struct gh_outbox gh_outbox;

/* Run on the sender thread before its first delivery and after its last,
 * so that the notify plugin's ops have what ops on a worker have: every
 * plugin's thread instance (the notify plugin's among them), the store and
 * its kv. start returns 0, or -1 with err set (and nothing to stop); stop
 * is required with start. */
typedef struct gh_outbox_thread {
    int (*start)(void *ud, char *err, size_t errlen);
    void (*stop)(void *ud);
    void *ud;
} gh_outbox_thread;

/* Starts the sender thread, which runs thread->start on itself; with no
 * thread hooks (NULL) it runs only the notify plugin's thread_init, and
 * host services that need a worker's setup (kv) answer UNAVAILABLE to
 * the plugin. NULL with err set when it cannot. */
gh_outbox *outbox_new(const gh_loaded *notify, const gh_outbox_conf *conf,
                      const gh_outbox_thread *thread, char *err, size_t errlen);
/* Stop taking messages; send what is queued for up to drain_ms; drop and
 * log the rest; join the sender and free everything. NULL is a no-op. */
void outbox_free(gh_outbox *o, int64_t drain_ms);

/* Copies the message. 0 queued; -1 the queue is full or stopping. html
 * and subject may be NULL. */
int outbox_submit(gh_outbox *o, const char *to, const char *subject, const char *text,
                  const char *html);
/* 1 when a message would be taken now. */
int outbox_has_room(gh_outbox *o);

/* Prometheus lines: queued, sent, retried, failed, dropped, depth. */
void outbox_render(struct evbuffer *out, gh_outbox *o);

#endif
