/*
 * mailer.c - templates in, a queued message out. See mailer.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "log.h"
#include "notify/mailer.h"

#ifndef GH_TEMPLATES_DIR
#error "GH_TEMPLATES_DIR must be defined by the build (see Makefile.am)"
#endif

/* The send deadline of one message: generous, the sender has time. */
#define SEND_TIMEOUT_MS 60000

static const char *const names[GH_MAIL_KINDS] = { "verify-email", "password-reset",
                                                   "invitation" };

static gh_mailer *fail(gh_mailer *m, char *err, size_t errlen, const char *what, const char *s)
{
    snprintf(err, errlen, "%s%s", what, s);
    mailer_free(m, 0);
    return NULL;
}

static const char *templates_dir(const gh_config *cfg)
{
    return cfg->mail_templates_dir ? cfg->mail_templates_dir : GH_TEMPLATES_DIR;
}

/* The plugin is a notify plugin, and every template loads. */
static gh_loaded *check(const gh_config *cfg, const gh_plugins *ps, gh_mail_template *tpl,
                        char *err, size_t errlen)
{
    char why[512];
    gh_loaded *p = plugins_find(ps, GH_KIND_NOTIFY, cfg->mail.name);
    if (!p) {
        snprintf(err, errlen, "mail.plugin: '%s' is not a notify plugin", cfg->mail.name);
        return NULL;
    }
    for (int k = 0; k < GH_MAIL_KINDS; k++) {
        int rc = template_load(&tpl[k], templates_dir(cfg), names[k], why, sizeof why);
        /* a templates_dir copied before invitations existed lacks theirs:
         * the installed one serves, rather than no mail at all */
        if (rc < 0 && k == GH_MAIL_INVITE && cfg->mail_templates_dir)
            rc = template_load(&tpl[k], GH_TEMPLATES_DIR, names[k], why, sizeof why);
        if (rc < 0) {
            snprintf(err, errlen, "mail templates: %s", why);
            return NULL;
        }
    }
    return p;
}

int mailer_check(const gh_config *cfg, const gh_plugins *ps, char *err, size_t errlen)
{
    gh_mail_template tpl[GH_MAIL_KINDS] = { 0 };
    int rc = !cfg->mail.name || check(cfg, ps, tpl, err, errlen) ? 0 : -1;
    for (int k = 0; k < GH_MAIL_KINDS; k++)
        template_clear(&tpl[k]);
    return rc;
}

gh_mailer *mailer_new(const gh_config *cfg, const gh_plugins *ps,
                      const gh_outbox_thread *thread, char *err, size_t errlen)
{
    err[0] = '\0';
    if (!cfg->mail.name)
        return NULL;
    gh_mailer *m = calloc(1, sizeof *m);
    if (!m)
        return fail(NULL, err, errlen, "mail: ", "out of memory");
    gh_loaded *p = check(cfg, ps, m->tpl, err, errlen);
    if (!p) {
        mailer_free(m, 0);
        return NULL;
    }
    const char *dir = templates_dir(cfg);
    char why[512];
    gh_outbox_conf oc = cfg->mail_outbox;
    oc.send_timeout_ms = SEND_TIMEOUT_MS; /* ours, not a setting */
    if (!(m->outbox = outbox_new(p, &oc, thread, why, sizeof why)))
        return fail(m, err, errlen, "", why);
    gh_log(GH_LOG_INFO, "mail: sending through plugin '%s', templates from %s", p->name, dir);
    return m;
}

void mailer_free(gh_mailer *m, int64_t drain_ms)
{
    if (!m)
        return;
    outbox_free(m->outbox, drain_ms);
    for (int k = 0; k < GH_MAIL_KINDS; k++)
        template_clear(&m->tpl[k]);
    free(m);
}

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

int mailer_send(gh_mailer *m, gh_mail_kind kind, const char *to, const gh_tvar *vars,
                size_t nvars)
{
    const gh_mail_template *t = &m->tpl[kind];
    char *subject = template_render(t->subject, strlen(t->subject), vars, nvars, 0);
    char *text = template_render(t->text, strlen(t->text), vars, nvars, 0);
    char *html = t->html ? template_render(t->html, strlen(t->html), vars, nvars, 1) : NULL;
    int rc = -2;
    if (subject && text && (html || !t->html)) {
        /* a subject is one line, whatever a variable held */
        for (char *c = subject; *c; c++)
            if (*c == '\r' || *c == '\n')
                *c = ' ';
        rc = outbox_submit(m->outbox, to, subject, text, html);
    }
    wipe_free(subject);
    wipe_free(text);
    wipe_free(html);
    return rc;
}
