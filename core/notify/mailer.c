/*
 * mailer.c - what a mail says: an intent in, a composed message out. See
 * mailer.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "app.h"
#include "log.h"
#include "notify/mailer.h"

#ifndef GH_TEMPLATES_DIR
#error "GH_TEMPLATES_DIR must be defined by the build (see Makefile.am)"
#endif

/* The send deadline of one message: generous, the sender has time. A
 * row's claim outlives it a little (outbox.c), so this is also how long
 * the row an instance died with waits before another sends it. */
#define SEND_TIMEOUT_MS 30000

static const char *const names[GH_MAIL_KINDS] = { "verify-email", "password-reset",
                                                   "invitation" };
/* The rows' purposes, which are also the one-time tokens' (onetime.h). */
static const char *const purposes[GH_MAIL_KINDS] = { "verify", "reset", "invite" };
_Static_assert(GH_MAIL_VERIFY == (int)GH_OT_VERIFY && GH_MAIL_RESET == (int)GH_OT_RESET &&
                   GH_MAIL_INVITE == (int)GH_OT_INVITE, "a mail's kind is its token's purpose");

static gh_mailer *fail(gh_mailer *m, char *err, size_t errlen, const char *what, const char *s)
{
    snprintf(err, errlen, "%s%s", what, s);
    mailer_free(m);
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
                      const gh_outbox_thread *thread, struct gh_cycle *(*cycle)(void),
                      char *err, size_t errlen)
{
    err[0] = '\0';
    if (!cfg->mail.name)
        return NULL;
    gh_mailer *m = calloc(1, sizeof *m);
    if (!m)
        return fail(m, err, errlen, "mail: ", "out of memory");
    m->cycle = cycle;
    gh_loaded *p = check(cfg, ps, m->tpl, err, errlen);
    if (!p) {
        mailer_free(m);
        return NULL;
    }
    char why[512];
    gh_outbox_conf oc = cfg->mail_outbox;
    oc.send_timeout_ms = SEND_TIMEOUT_MS; /* ours, not a setting */
    if (!(m->outbox = outbox_new(p, &oc, thread, m, why, sizeof why)))
        return fail(m, err, errlen, "", why);
    gh_log(GH_LOG_INFO, "mail: sending through plugin '%s', templates from %s", p->name,
           templates_dir(cfg));
    return m;
}

void mailer_free(gh_mailer *m)
{
    if (!m)
        return;
    outbox_free(m->outbox);
    for (int k = 0; k < GH_MAIL_KINDS; k++)
        template_clear(&m->tpl[k]);
    free(m);
}

gh_result mailer_queue(gh_mailer *m, gh_conn *c, gh_call *call, gh_mail_kind kind,
                       const gh_user *u)
{
    return outbox_queue(m->outbox, c, call, u->tenant_id, u->id, purposes[kind]);
}

/* ---------------------------------------------------------------- composing */

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void mailer_msg_clear(gh_mail_msg *msg)
{
    wipe_free(msg->to);
    wipe_free(msg->subject);
    wipe_free(msg->text);
    wipe_free(msg->html);
    OPENSSL_cleanse(msg, sizeof *msg);
}

void mailer_msg_void(gh_conn *c, gh_call *call, const gh_mail_msg *msg)
{
    if (msg->secret[0])
        onetime_forget(c, call, msg->purpose, msg->secret);
}

/* "24 hours", "60 minutes", "30 seconds": for {{expires_in}}. */
static void ttl_text(int64_t ms, char *out, size_t len)
{
    int64_t s = ms / 1000;
    if (s >= 7200 && s % 3600 == 0)
        snprintf(out, len, "%lld hours", (long long)(s / 3600));
    else if (s >= 120)
        snprintf(out, len, "%lld minutes", (long long)(s / 60));
    else
        snprintf(out, len, "%lld seconds", (long long)s);
}

/* Whether u is still owed the kind's mail; NULL yes, else why not. */
static const char *not_owed(gh_mail_kind kind, const gh_user *u)
{
    if (!u->is_active)
        return "the account is inactive";
    if (!u->email)
        return "the account has no address";
    if (kind == GH_MAIL_VERIFY && u->email_verified_at > 0)
        return "the address is verified already";
    return NULL;
}

static const char *kind_path(const gh_config *cfg, gh_mail_kind kind)
{
    return kind == GH_MAIL_VERIFY ? cfg->mail_verify_path
           : kind == GH_MAIL_RESET ? cfg->mail_reset_path
                                   : cfg->mail_invite_path;
}

static int64_t kind_ttl(const gh_config *cfg, gh_mail_kind kind)
{
    return kind == GH_MAIL_VERIFY ? cfg->mail_verify_ttl_ms
           : kind == GH_MAIL_RESET ? cfg->mail_reset_ttl_ms
                                   : cfg->mail_invite_ttl_ms;
}

/* Render the kind's templates for u with the token in msg. 0 or -1. */
static int render(const gh_mailer *m, const gh_config *cfg, gh_mail_kind kind, const gh_user *u,
                  gh_mail_msg *msg)
{
    char link[2048], expires[32];
    snprintf(link, sizeof link, "%s%s?token=%s", cfg->mail_frontend_url, kind_path(cfg, kind),
             msg->secret);
    ttl_text(kind_ttl(cfg, kind), expires, sizeof expires);
    const char *name = u->full_name ? u->full_name : u->username ? u->username : "";
    gh_tvar vars[] = {
        { "product", cfg->mail_product_name }, { "link", link },   { "token", msg->secret },
        { "name", name },                      { "email", u->email }, { "expires_in", expires },
    };
    size_t nv = sizeof vars / sizeof vars[0];
    const gh_mail_template *t = &m->tpl[kind];
    msg->subject = template_render(t->subject, strlen(t->subject), vars, nv, 0);
    msg->text = template_render(t->text, strlen(t->text), vars, nv, 0);
    msg->html = t->html ? template_render(t->html, strlen(t->html), vars, nv, 1) : NULL;
    msg->to = strdup(u->email);
    OPENSSL_cleanse(link, sizeof link);
    if (!msg->subject || !msg->text || (t->html && !msg->html) || !msg->to)
        return -1;
    /* a subject is one line, whatever a variable held */
    for (char *c = msg->subject; *c; c++)
        if (*c == '\r' || *c == '\n')
            *c = ' ';
    return 0;
}

static int kind_of(const char *purpose)
{
    for (int k = 0; k < GH_MAIL_KINDS; k++)
        if (strcmp(purpose, purposes[k]) == 0)
            return k;
    return -1;
}

gh_result mailer_compose(const gh_mailer *m, gh_conn *c, gh_call *call, const gh_mail_row *row,
                         gh_mail_msg *msg, const char **why)
{
    memset(msg, 0, sizeof *msg);
    *why = NULL;
    int kind = kind_of(row->purpose);
    if (kind < 0)
        return call_fail(call, GH_ERR_INVALID, "unknown purpose '%.16s'", row->purpose);
    gh_user u = { 0 };
    gh_result r = users_get(c, call, row->tenant_id, row->user_id, &u);
    if (r == GH_ERR_NOT_FOUND)
        *why = "the account is gone";
    else if (r == GH_OK)
        *why = not_owed(kind, &u);
    if (r == GH_ERR_NOT_FOUND || (r == GH_OK && *why)) {
        user_clear(&u);
        return GH_OK;
    }
    msg->purpose = (gh_ot_purpose)kind; /* the same order (onetime.h) */
    gh_cycle *cy = r == GH_OK ? m->cycle() : NULL;
    if (r == GH_OK)
        r = onetime_issue(c, call, msg->purpose, u.id, u.email, kind_ttl(cy->cfg, kind),
                          msg->secret);
    if (r == GH_OK && render(m, cy->cfg, kind, &u, msg) < 0) {
        r = call_fail(call, GH_ERR_NOMEM, "out of memory");
        mailer_msg_void(c, call, msg);
    }
    if (r != GH_OK) { /* nothing to send after all */
        wipe_free(msg->to);
        msg->to = NULL;
    }
    cycle_unref(cy);
    user_clear(&u);
    return r;
}
