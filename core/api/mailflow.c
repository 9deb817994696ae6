/*
 * mailflow.c - the flows that go through the user's mailbox:
 *
 *   POST /api/v1/auth/verify-email          {token}  -> 200 {email_verified, user}
 *   POST /api/v1/auth/verify-email/resend   {email}  -> 202
 *   POST /api/v1/auth/password-reset-request {email} -> 202
 *   POST /api/v1/auth/password-reset        {token, new_password} -> 204
 *   POST /api/v1/auth/accept-invitation     {token, new_password} -> 204
 *
 * and the verification mail sent at signup (mailflow_signup) and the
 * invitation an admin's new account gets (mailflow_invite).
 *
 * Tokens are auth/onetime.h's. A request only owes the mail: a row in
 * the outbox (notify/outbox.h), whose sender mints the token and sends
 * the message later, so no request waits on a mail server and no link is
 * kept. The two requests that take an address answer 202 with the same
 * body whether or not it has an account, after the same work (look-up, a
 * write to the outbox table, an audit row); only a real account's mail is
 * queued. They are limited per client address and per email address (429
 * with Retry-After), and answer 501 mail_not_configured without a mail
 * plugin, or 503 mail_queue_full (Retry-After) when the outbox is full,
 * both before anything is looked up, so neither tells whether an address
 * is known.
 *
 *   400 invalid_token  unknown, expired, spent, superseded, of the other
 *                      purpose, sent to an address the account no longer
 *                      has, or (with a bearer token) another user's
 *   422 the password policy's codes (the reset token stays usable)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "api/api.h"
#include "api/company.h"
#include "api/input.h"
#include "api/job.h"
#include "api/mailflow.h"
#include "api/outcome.h"
#include "api/present.h"
#include "auth/credentials.h"
#include "auth/mail_outbox.h"
#include "auth/onetime.h"
#include "auth/ratelimit.h"
#include "auth/sessions.h"
#include "auth/users.h"
#include "clock.h"
#include "log.h"
#include "notify/mailer.h"

#define EMAIL_MAX 320
#define TOKEN_MAX 512
#define PASSWORD_MAX 16384
#define QUEUE_RETRY_S 30

/* ---------------------------------------------------------------- on the loop */

/* Mail is on and the outbox has room, or the answer is sent: the same for
 * every address, before any look-up. */
int mailflow_ready(gh_req *req)
{
    gh_mailer *m = req->app->mailer;
    if (!m) {
        req_problem(req, 501, "mail_not_configured",
                    "This server sends no mail: no mail plugin is configured.");
        return -1;
    }
    if (!outbox_has_room(m->outbox)) {
        char s[16];
        snprintf(s, sizeof s, "%d", QUEUE_RETRY_S);
        req_set_header(req, "Retry-After", s);
        req_problem(req, 503, "mail_queue_full", "Too much mail is waiting; try again shortly.");
        return -1;
    }
    return 0;
}

/* A job with a JSON body whose `key` is a well-formed address. */
static api_job *job_with_email(gh_req *req)
{
    const char *email;
    char norm[EMAIL_MAX];
    if (mailflow_ready(req) < 0)
        return NULL;
    api_job *j = api_job_new(req, 0);
    if (!j)
        return NULL;
    if (!(j->in = input_body(req, INPUT_JSON)) ||
        input_string(req, j->in, "email", INPUT_REQUIRED, EMAIL_MAX, &email) < 0) {
        api_job_free(j);
        return NULL;
    }
    if (email_normalize(email, norm, sizeof norm) != 0) {
        input_reject(req, "invalid_email", "email", "is not an email address.");
        api_job_free(j);
        return NULL;
    }
    return api_company_pick(req, j) == 0 ? j : NULL; /* the address is unique per company */
}

/* ---------------------------------------------------------------- in the worker */

/* Per client address, then per email address; 0 go on, -1 answered. */
static int limited(api_job *j, gh_conn *c, const char *scope, const char *email)
{
    char norm[EMAIL_MAX], subject[EMAIL_MAX + 64], ip_scope[32];
    if (email_normalize(email, norm, sizeof norm) != 0)
        norm[0] = '\0';
    snprintf(subject, sizeof subject, "%s:%s", api_tenant(j), norm);
    snprintf(ip_scope, sizeof ip_scope, "%s-ip", scope);
    const gh_config *cfg = j->cfg;
    int64_t w = ratelimit_hit(c, &j->call, ip_scope, j->ip, cfg->mail_ip_limit,
                              cfg->mail_limit_window_ms);
    if (w == 0)
        w = ratelimit_hit(c, &j->call, scope, subject, cfg->mail_address_limit,
                          cfg->mail_limit_window_ms);
    if (w < 0) {
        api_store_fail(j, GH_ERR_UNAVAILABLE, "mail rate limit");
        return -1;
    }
    if (w > 0) {
        j->retry_after_s = (w + 999) / 1000;
        api_fail(j, 429, "too_many_requests", "Too many requests for this address; try later.");
        return -1;
    }
    return 0;
}

/* Owe u the kind's mail: a row in the outbox, on c (in the caller's
 * transaction when one is open), if it has room. GH_OK with *sent 1, or
 * 0 when the outbox is full (logged); else the store's failure. */
static gh_result owe_mail(api_job *j, gh_conn *c, const gh_user *u, gh_mail_kind kind, int *sent)
{
    static const char *const what[GH_MAIL_KINDS] = { "verification", "reset", "invitation" };
    gh_mailer *m = j->app->mailer;
    gh_result r = outbox_room(m->outbox, c, &j->call);
    if (r == GH_OK)
        r = mailer_queue(m, c, &j->call, kind, u);
    *sent = r == GH_OK;
    if (r != GH_ERR_UNAVAILABLE)
        return r;
    gh_log_tagged(GH_LOG_WARNING, "mail", j->request_id, "mail queue full: no %s mail for user %s",
                  what[kind], u->id);
    return GH_OK;
}

/* The outbox has room, counted (503 mail_queue_full otherwise), before an
 * address is looked up: the answer is the same for every address. 0, or
 * -1 answered. */
static int request_room(api_job *j, gh_conn *c)
{
    gh_result r = outbox_room(j->app->mailer->outbox, c, &j->call);
    if (r == GH_ERR_UNAVAILABLE) {
        j->retry_after_s = QUEUE_RETRY_S;
        api_fail(j, 503, "mail_queue_full", "Too much mail is waiting; try again shortly.");
    } else if (r != GH_OK) {
        api_store_fail(j, r, "mail");
    }
    return r == GH_OK ? 0 : -1;
}

/* Resend and reset-request: find the account, mail it if `wanted` says
 * so, and answer 202 either way. */
static void address_request(api_job *j, gh_conn *c, gh_mail_kind kind, const char *scope, const char *action,
                            int (*wanted)(const api_job *, const gh_user *))
{
    const char *email = api_in(j, "email");
    if (limited(j, c, scope, email) < 0 || request_room(j, c) < 0)
        return;
    gh_user u = { 0 };
    gh_result r = users_find_login(c, &j->call, api_tenant(j), email, &u, NULL);
    if (r != GH_OK && r != GH_ERR_NOT_FOUND) {
        api_store_fail(j, r, "user lookup");
        return;
    }
    int send = r == GH_OK && u.email && wanted(j, &u);
    /* for an address without an account, the same store work (a write to
     * the outbox table, changing nothing): the timing tells nothing */
    r = send ? mailer_queue(j->app->mailer, c, &j->call, kind, &u) : GH_OK;
    if (!send)
        mail_outbox_decoy(c, &j->call);
    if (r != GH_OK) {
        api_store_fail(j, r, "mail");
        user_clear(&u);
        return;
    }
    api_audit(j, c, action, send ? "success" : "failure", send ? u.id : NULL,
              send ? NULL : json_pack("{s:s}", "reason", r == GH_OK ? "not_eligible"
                                                                     : "unknown_address"));
    user_clear(&u);
    api_ok(j, 202, json_pack("{s:s}", "status", "accepted"));
}

static int wants_verification(const api_job *j, const gh_user *u)
{
    return u->is_active && u->email_verified_at <= 0;
}

static int wants_reset(const api_job *j, const gh_user *u)
{
    return u->is_active;
}

static void resend_work(api_job *j, gh_conn *c)
{
    address_request(j, c, GH_MAIL_VERIFY, "verify", "email.verify_request",
                    wants_verification);
}

static void reset_request_work(api_job *j, gh_conn *c)
{
    address_request(j, c, GH_MAIL_RESET, "reset", "password.reset_request", wants_reset);
}

static void resend(gh_req *req)
{
    api_job *j = job_with_email(req);
    if (j)
        api_job_run(req, j, resend_work);
}

static void reset_request(gh_req *req)
{
    api_job *j = job_with_email(req);
    if (j)
        api_job_run(req, j, reset_request_work);
}

/* ---------------------------------------------------------------- tokens in */

static void invalid_token(api_job *j, gh_conn *c, const char *action, const char *subject)
{
    api_audit(j, c, action, "failure", subject, json_pack("{s:s}", "reason", "invalid_token"));
    api_fail(j, 400, "invalid_token", "The link is invalid, expired or already used.");
}

/* The account a token of this purpose names, checked: live, still at the
 * address the token went to, and (with a bearer token) the caller. On
 * failure the answer is set and -1 returned; the token is not spent. */
static int token_user(api_job *j, gh_conn *c, gh_ot_purpose p, const char *action, gh_user *u)
{
    gh_ot_claim cl;
    gh_result r = onetime_peek(c, &j->call, p, api_in(j, "token"), &cl);
    if (r == GH_OK && (j->flags & API_BEARER) && strcmp(cl.user_id, j->claims.sub) != 0)
        r = GH_ERR_NOT_FOUND; /* another user's token: refused, not spent */
    if (r == GH_OK)
        r = users_get(c, &j->call, NULL, cl.user_id, u);
    if (r == GH_OK && (!u->is_active || !onetime_address_is(&cl, u->email)))
        r = GH_ERR_NOT_FOUND;
    /* the request is for the user's company (api_tenant), which must be active */
    if (r == GH_OK && (r = companies_get(c, &j->call, u->tenant_id, &j->company)) == GH_OK &&
        !j->company.is_active)
        r = GH_ERR_NOT_FOUND;
    if (r == GH_ERR_NOT_FOUND)
        invalid_token(j, c, action, cl.user_id[0] ? cl.user_id : NULL);
    else if (r != GH_OK)
        api_store_fail(j, r, "token lookup");
    return r == GH_OK ? 0 : -1;
}

/* Spend the token, now that the request will succeed. */
static int spend(api_job *j, gh_conn *c, gh_ot_purpose p, const char *action, const gh_user *u)
{
    gh_ot_claim cl;
    gh_result r = onetime_take(c, &j->call, p, api_in(j, "token"), &cl);
    if (r == GH_OK && strcmp(cl.user_id, u->id) != 0)
        r = GH_ERR_NOT_FOUND; /* replaced between the look and the take */
    if (r == GH_ERR_NOT_FOUND)
        invalid_token(j, c, action, u->id);
    else if (r != GH_OK)
        api_store_fail(j, r, "token take");
    return r == GH_OK ? 0 : -1;
}

static void verify_work(api_job *j, gh_conn *c)
{
    gh_user u = { 0 };
    if (token_user(j, c, GH_OT_VERIFY, "email.verify", &u) < 0 ||
        spend(j, c, GH_OT_VERIFY, "email.verify", &u) < 0) {
        user_clear(&u);
        return;
    }
    gh_result r = GH_OK;
    if (u.email_verified_at <= 0) {
        u.email_verified_at = gh_now_ms();
        r = users_mark_verified(c, &j->call, u.id, u.email_verified_at);
    }
    if (r == GH_OK) {
        api_audit(j, c, "email.verify", "success", u.id, NULL);
        api_ok(j, 200, json_pack("{s:b, s:o}", "email_verified", 1, "user", present_user(&u)));
    } else {
        api_store_fail(j, r, "mark verified");
    }
    user_clear(&u);
}

static api_job *job_with_token(gh_req *req, unsigned flags)
{
    const char *token;
    api_job *j = api_job_new(req, flags);
    if (j && (!(j->in = input_body(req, INPUT_JSON)) ||
              input_string(req, j->in, "token", INPUT_REQUIRED, TOKEN_MAX, &token) < 0)) {
        api_job_free(j);
        return NULL;
    }
    return j;
}

/* A bearer token is optional here; given, the mail token must be its user's. */
static void verify(gh_req *req)
{
    api_job *j = job_with_token(req, req_header(req, "Authorization") ? API_BEARER : 0);
    if (j)
        api_job_run(req, j, verify_work);
}

/* ---------------------------------------------------------------- reset */

/* The new password is checked and hashed before the token is spent: a
 * refused one leaves the link usable. */
/* A new password from a link: a reset, or an invitation accepted (which
 * also proves the address, the link having gone there). */
static void set_password_work(api_job *j, gh_conn *c, gh_ot_purpose p, const char *action)
{
    gh_user u = { 0 };
    if (token_user(j, c, p, action, &u) < 0) {
        user_clear(&u);
        return;
    }
    gh_auth_ctx ax;
    api_auth_ctx(j, c, &ax);
    char hash[GH_PW_HASH_MAX];
    auth_result r = { 0 };
    auth_outcome o = credentials_new(&ax, api_in(j, "new_password"), u.email, u.username, hash,
                                     &r);
    if (o == AUTH_OK && spend(j, c, p, action, &u) == 0) {
        o = credentials_replace(&ax, u.id, NULL, p == GH_OT_RESET ? "password reset" : "invited",
                                action, hash, &r);
        gh_result res = GH_OK;
        if (o == AUTH_OK && p == GH_OT_INVITE && u.email_verified_at <= 0)
            res = users_mark_verified(c, &j->call, u.id, gh_now_ms());
        if (res != GH_OK)
            api_store_fail(j, res, "mark verified");
        else if (o == AUTH_OK)
            api_ok(j, 204, NULL);
    }
    if (o != AUTH_OK)
        api_outcome_fail(j, o, &r);
    OPENSSL_cleanse(hash, sizeof hash);
    auth_clear(&r);
    user_clear(&u);
}

static void reset_work(api_job *j, gh_conn *c)
{
    set_password_work(j, c, GH_OT_RESET, "password.reset");
}

static void accept_work(api_job *j, gh_conn *c)
{
    set_password_work(j, c, GH_OT_INVITE, "user.invitation.accept");
}

static void new_password(gh_req *req, api_work work)
{
    const char *pw;
    api_job *j = job_with_token(req, API_HASH);
    if (j && input_string(req, j->in, "new_password", INPUT_REQUIRED, PASSWORD_MAX, &pw) < 0) {
        api_job_free(j);
        return;
    }
    if (j)
        api_job_run(req, j, work);
}

static void reset(gh_req *req)
{
    new_password(req, reset_work);
}

static void accept_invitation(gh_req *req)
{
    new_password(req, accept_work);
}

/* ---------------------------------------------------------------- signup */

gh_result mailflow_signup(api_job *j, gh_conn *c, const gh_user *u, int *sent)
{
    *sent = -1;
    if (!j->app->mailer || !u->email || u->email_verified_at > 0)
        return GH_OK;
    return owe_mail(j, c, u, GH_MAIL_VERIFY, sent);
}

gh_result mailflow_invite(api_job *j, gh_conn *c, const gh_user *u, int *sent)
{
    *sent = 0;
    if (!j->app->mailer || !u->email)
        return GH_OK;
    return owe_mail(j, c, u, GH_MAIL_INVITE, sent);
}

int mailflow_register(gh_router *r)
{
    return router_add(r, GH_POST, "/api/v1/auth/verify-email", verify) |
           router_add(r, GH_POST, "/api/v1/auth/verify-email/resend", resend) |
           router_add(r, GH_POST, "/api/v1/auth/password-reset-request", reset_request) |
           router_add(r, GH_POST, "/api/v1/auth/password-reset", reset) |
           router_add(r, GH_POST, "/api/v1/auth/accept-invitation", accept_invitation);
}
