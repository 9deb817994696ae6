/*
 * outbox.h - the mail the server owes, kept in the store, and the thread
 * that sends it.
 *
 * A request that mails writes an intent row (auth/mail_outbox.h: a user
 * and a purpose) - for a sign-up or an invited account in the same
 * transaction as the account, so an answered 201 always has its mail and
 * a rolled-back one never mails - and answers at once. The sender thread
 * (a gh_poller, like the webhook sender) claims due rows one at a time
 * with a lease, so several instances on one PostgreSQL store share them
 * and a row whose instance died is taken over when its lease runs out.
 * For each it composes the message then (notify/mailer.h: the user's
 * current address, a freshly minted one-time token, the template) and
 * hands it to the notify plugin; no message and no live link is ever at
 * rest. The API workers never wait on a mail server.
 *
 * Sent at most once in the common case, at least once at worst: the row
 * is deleted right after the plugin says the server took the message.
 * An instance that dies between the two (the SMTP server accepted, the
 * DELETE did not run) leaves the row claimed; when the lease runs out it
 * is sent again, with a new link that supersedes the first (onetime.h):
 * at most the one message in flight per instance at the moment it died
 * goes out twice, and only its second link works. Keeping the first
 * link sealed in the row to resend it unchanged would need the sealing
 * key, which is optional (pii.encryption); and a plugin cannot take a
 * message back, so no scheme closes the window entirely.
 *
 * A failed attempt is tried again after retry_delay, doubling up to
 * retry_max_delay, at most max_attempts times in all (attempts are
 * counted when a row is claimed, so one that killed its instance counts);
 * a message the plugin rejects as invalid is not retried. Either way the
 * row ends "failed" with the reason, and no secret. A row whose user is
 * gone, inactive, without an address, or (a verification) already
 * verified is deleted unsent.
 *
 * mail.queue_size bounds the pending rows, all instances' together,
 * counted by the request that would add one (outbox_room): past it, that
 * request is answered 503 mail_queue_full, and a sign-up says
 * "verification_email_sent": false. Two requests counting at once may
 * both pass: the bound is as exact as the store's isolation makes it. At shutdown the sender
 * stops after the attempt in flight; what is pending waits in the store
 * for the next start. Log lines name the row and the recipient's domain,
 * never the address's local part, the subject, the body or the link.
 */
#ifndef GH_OUTBOX_H
#define GH_OUTBOX_H

#include <stddef.h>
#include <stdint.h>
#include "notify/outbox_conf.h"
#include "plugin/loader.h"
#include "store/store.h"

struct evbuffer;
struct gh_mailer;
typedef struct gh_outbox gh_outbox;

/* Run on the sender thread before its first delivery and after its last,
 * so that it has what a worker has: every plugin's thread instance (the
 * notify plugin's among them), the store and its kv, which the rows and
 * the one-time tokens need. start returns 0, or -1 with err set (and
 * nothing to stop); stop is required with start. */
typedef struct gh_outbox_thread {
    int (*start)(void *ud, char *err, size_t errlen);
    void (*stop)(void *ud);
    void *ud;
} gh_outbox_thread;

/* Starts the sender thread, which composes each message with m (read,
 * never changed, until outbox_free). NULL with err set when it cannot. */
gh_outbox *outbox_new(const gh_loaded *notify, const gh_outbox_conf *conf,
                      const gh_outbox_thread *thread, const struct gh_mailer *m, char *err,
                      size_t errlen);
/* Stop after the attempt in flight and free everything; what is pending
 * stays in the store. NULL is a no-op. */
void outbox_free(gh_outbox *o);

/* In a worker, before outbox_queue: GH_OK when the outbox has room (the
 * pending rows counted on c), GH_ERR_UNAVAILABLE when it is full, or the
 * store's failure. */
gh_result outbox_room(gh_outbox *o, gh_conn *c, gh_call *call);
/* In a worker: the mail of `purpose` (verify, reset, invite) owed to
 * user_id, as a row written on c - in the caller's transaction when one
 * is open - and the sender woken. */
gh_result outbox_queue(gh_outbox *o, gh_conn *c, gh_call *call, const char *tenant,
                       const char *user_id, const char *purpose);
/* Any thread, without the store: 0 when the outbox was full when last
 * counted (by the sender's poll or a worker's outbox_room), else 1. A
 * cheap first answer; outbox_room is the one that counts. */
int outbox_has_room(gh_outbox *o);

/* Prometheus lines: queued, sent, retried, failed, skipped, depth. */
void outbox_render(struct evbuffer *out, gh_outbox *o);

#endif
