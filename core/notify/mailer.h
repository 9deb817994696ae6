/*
 * mailer.h - the mail the core sends: the verification, password-reset and
 * invitation messages. A request owes one (mailer_queue: a row in the
 * outbox); the outbox's sender composes it when it sends it
 * (mailer_compose: the user's current address, a new one-time token, the
 * templates).
 *
 * Built at start-up when the config names a mail plugin (mail.plugin): it
 * loads the templates (a missing or malformed one stops start-up) and
 * starts the outbox. Templates are read once; a restart picks up edits.
 * The links' settings (mail.frontend_url, the pages, the TTLs, the
 * product name) are the live config's when the message is composed.
 */
#ifndef GH_MAILER_H
#define GH_MAILER_H

#include <stddef.h>
#include "auth/mail_outbox.h"
#include "auth/onetime.h"
#include "auth/users.h"
#include "config.h"
#include "notify/outbox.h"
#include "notify/template.h"
#include "plugin/loader.h"

typedef enum gh_mail_kind {
    GH_MAIL_VERIFY = 0,
    GH_MAIL_RESET,
    GH_MAIL_INVITE,  /* an admin made the account: choose a password */
    GH_MAIL_KINDS
} gh_mail_kind;

struct gh_cycle;

typedef struct gh_mailer {
    gh_outbox *outbox;
    gh_mail_template tpl[GH_MAIL_KINDS];
    /* Any thread: a reference to the live cycle (cycle_unref it). */
    struct gh_cycle *(*cycle)(void);
} gh_mailer;

/* A composed message, and the token its link carries. */
typedef struct gh_mail_msg {
    char *to, *subject, *text, *html;  /* malloc'd; to NULL: nothing to send */
    gh_ot_purpose purpose;
    char secret[GH_SECRET_LEN];
} gh_mail_msg;

/* NULL with err empty: mail is not configured; NULL with err set: it is,
 * and cannot start. thread: the sender thread's setup (see outbox_new);
 * cycle: where the sender finds the live config. */
gh_mailer *mailer_new(const gh_config *cfg, const gh_plugins *ps,
                      const gh_outbox_thread *thread, struct gh_cycle *(*cycle)(void),
                      char *err, size_t errlen);
/* Stops the sender after the attempt in flight; pending mail stays. */
void mailer_free(gh_mailer *m);
/* What mailer_new checks, without starting anything (gatehoused -t):
 * 0, or -1 with err set. */
int mailer_check(const gh_config *cfg, const gh_plugins *ps, char *err, size_t errlen);

/* In a worker, after outbox_room: owe u the kind's mail (outbox_queue). */
gh_result mailer_queue(gh_mailer *m, gh_conn *c, gh_call *call, gh_mail_kind kind,
                       const gh_user *u);

/* In the sender: the message row asks for, composed now. GH_OK with
 * msg->to set: send it (a token was minted for it); GH_OK with msg->to
 * NULL: nothing is owed any more, *why says why; GH_ERR_INVALID: a row
 * this server cannot compose (an unknown purpose); else the store's
 * failure. mailer_msg_clear after, whatever it returned. */
gh_result mailer_compose(const gh_mailer *m, gh_conn *c, gh_call *call, const gh_mail_row *row,
                         gh_mail_msg *msg, const char **why);
/* The message was not sent: its token goes too (best effort). */
void mailer_msg_void(gh_conn *c, gh_call *call, const gh_mail_msg *msg);
void mailer_msg_clear(gh_mail_msg *msg);

#endif
