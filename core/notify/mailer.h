/*
 * mailer.h - the mail the core sends: the verification, password-reset and
 * invitation messages, rendered from their templates and put in the outbox.
 *
 * Built at start-up when the config names a mail plugin (mail.plugin): it
 * loads the templates (a missing or malformed one stops start-up) and
 * starts the outbox. Templates are read once; a restart picks up edits.
 */
#ifndef GH_MAILER_H
#define GH_MAILER_H

#include <stddef.h>
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

typedef struct gh_mailer {
    gh_outbox *outbox;
    gh_mail_template tpl[GH_MAIL_KINDS];
} gh_mailer;

/* NULL with err empty: mail is not configured; NULL with err set: it is,
 * and cannot start. thread: the sender thread's setup (see outbox_new). */
gh_mailer *mailer_new(const gh_config *cfg, const gh_plugins *ps,
                      const gh_outbox_thread *thread, char *err, size_t errlen);
void mailer_free(gh_mailer *m, int64_t drain_ms);
/* What mailer_new checks, without starting anything (gatehoused -t):
 * 0, or -1 with err set. */
int mailer_check(const gh_config *cfg, const gh_plugins *ps, char *err, size_t errlen);

/* Render the kind's templates with vars and queue the message for `to`.
 * 0 queued; -1 the queue is full; -2 out of memory. */
int mailer_send(gh_mailer *m, gh_mail_kind kind, const char *to, const gh_tvar *vars,
                size_t nvars);

#endif
