/*
 * mfa_sms.c - SMS codes over HTTP. The core makes each code, keeps its
 * hash (auth/sms_codes.h), counts tries and limits sends; the SMS plugin
 * (auth/mfa_plugin.h) only sends the text.
 *
 *   POST /api/v1/users/me/mfa/sms {phone}   -> 201 {factor_id}: a pending
 *        SMS factor, confirmed by .../mfa/{id}/confirm {code} (mfa.c)
 *   POST /api/v1/auth/mfa/challenge {mfa_token, method: "sms"} -> 200
 *        {sent: true}: a code for /auth/mfa/verify {method: "sms"}
 *   POST /api/v1/users/me/phone/verify      -> 200 {sent: true}: a code to
 *        the profile's phone; POST .../phone/confirm {code} -> 204, and
 *        the user's phone_verified is true until the number changes
 *   POST /api/v1/mfa/{name}/callback        the named plugin's inbound op
 *        (delivery reports), 404 when it has none
 *
 * Limits (auth.mfa, seed 003's by default): sms_send_limit sends and
 * sms_verify_limit tries a minute, per user and per phone: 429 too_many_requests with
 * Retry-After. The plugin's failures: INVALID 422 invalid_phone, DENIED
 * 422 phone_unsubscribed, UNAVAILABLE or RATE_LIMITED 503 with
 * Retry-After, TIMEOUT 504 sms_timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "api/api.h"
#include "api/input.h"
#include "api/mfa_sms.h"
#include "auth/mfa.h"
#include "auth/mfa_plugin.h"
#include "auth/mfa_signin.h"
#include "auth/sms_codes.h"
#include "auth/users.h"
#include "clock.h"

#define PHONE_MAX 16 /* "+" and at most 15 digits (E.164) */

static int e164(const char *s)
{
    size_t n = strlen(s);
    if (n < 8 || n > PHONE_MAX || s[0] != '+' || s[1] < '1' || s[1] > '9')
        return 0;
    return strspn(s + 1, "0123456789") == n - 1;
}

/* Count one under scope for the user and for the phone: 0, or -1 with
 * the 429 (or 503) set. */
static int limited(api_job *j, gh_conn *c, const char *scope, const char *user_id,
                   const char *phone, int limit)
{
    int64_t w = sms_limit_hit(c, &j->call, scope, user_id, phone, limit);
    if (w < 0) {
        api_store_fail(j, GH_ERR_UNAVAILABLE, "sms rate limit");
        return -1;
    }
    if (w > 0) {
        j->retry_after_s = (w + 999) / 1000;
        api_fail(j, 429, "too_many_requests", "Too many codes for this account or number; try later.");
        return -1;
    }
    return 0;
}

/* The SMS plugin's failure as the contract maps it. */
static void send_fail(api_job *j, gh_result r)
{
    if (r == GH_ERR_INVALID)
        api_fail(j, 422, "invalid_phone", "This number cannot receive text messages.");
    else if (r == GH_ERR_DENIED)
        api_fail(j, 422, "phone_unsubscribed", "This number has opted out of text messages.");
    else if (r == GH_ERR_TIMEOUT)
        api_fail(j, 504, "sms_timeout", "The text message service did not answer in time.");
    else
        api_store_fail(j, r, "sms send"); /* 503 with the provider's Retry-After */
}

/* Make a code for purpose/subject and text it to phone, within the send
 * limits: 0, or -1 with the answer set. */
static int send_code(api_job *j, gh_conn *c, const gh_loaded *p, const char *user_id,
                     const char *phone, const char *purpose, const char *subject)
{
    char code[SMS_CODE_LEN], text[128];
    if (limited(j, c, "sms-send", user_id, phone, j->cfg->mfa.sms_send_limit) < 0)
        return -1;
    gh_result r = sms_code_new(c, &j->call, &j->cfg->mfa, purpose, subject, code);
    if (r != GH_OK) {
        api_store_fail(j, r, "sms code");
        return -1;
    }
    snprintf(text, sizeof text, "Your verification code is %s. It expires in %d minutes.", code,
             (int)(j->cfg->mfa.sms_code_ttl_ms / 60000));
    r = mfa_plugin_challenge(p, &j->call, phone, text, code);
    OPENSSL_cleanse(code, sizeof code);
    OPENSSL_cleanse(text, sizeof text);
    if (r != GH_OK) {
        send_fail(j, r);
        return -1;
    }
    return 0;
}

static const gh_loaded *sms_plugin(api_job *j)
{
    const gh_loaded *p = mfa_plugin_sms(&j->app->plugins);
    if (!p)
        api_fail(j, 404, "mfa_method_unavailable", "No SMS plugin is configured.");
    return p;
}

/* ---------------------------------------------------------------- enrol */

static void enrol_work(api_job *j, gh_conn *c)
{
    const gh_loaded *p = sms_plugin(j);
    const char *phone = api_in(j, "phone");
    char id[37], label[16];
    if (!p || mfa_recent_signin(j, c) < 0)
        return;
    snprintf(label, sizeof label, "***%s", phone + strlen(phone) - 4);
    gh_result r = factors_create(c, &j->call, j->claims.sub, "sms", label, phone, strlen(phone),
                                 id);
    if (r != GH_OK) {
        api_store_fail(j, r, "sms enroll");
        return;
    }
    if (send_code(j, c, p, j->claims.sub, phone, "factor", id) < 0) {
        int64_t left = 0; /* a factor whose code never left is no factor */
        factors_delete(c, &j->call, j->claims.sub, id, &left);
        return;
    }
    api_audit(j, c, "mfa.enroll", "success", j->claims.sub,
              json_pack("{s:s, s:s}", "factor_id", id, "type", "sms"));
    api_ok(j, 201, json_pack("{s:s, s:s}", "factor_id", id, "label", label));
}

static void enrol(gh_req *req)
{
    api_job *j = api_job_new(req, API_BEARER);
    static const char *const known[] = { "phone", NULL };
    const char *phone;
    if (j && (!(j->in = input_body(req, INPUT_JSON)) || input_only(req, j->in, known) < 0 ||
              input_string(req, j->in, "phone", INPUT_REQUIRED, PHONE_MAX + 8, &phone) < 0)) {
        api_job_free(j);
        return;
    }
    if (j && !e164(phone)) {
        input_reject(req, "invalid_phone", "phone", "must be an E.164 number (+15551234567).");
        api_job_free(j);
        return;
    }
    if (j)
        api_job_run(req, j, enrol_work);
}

gh_result mfa_sms_confirm(api_job *j, gh_conn *c, const gh_factor *f, const char *code,
                          int *answered)
{
    char phone[FACTOR_SECRET_MAX + 1];
    snprintf(phone, sizeof phone, "%.*s", (int)f->secret_len, (const char *)f->secret);
    *answered = limited(j, c, "sms-verify", j->claims.sub, phone, j->cfg->mfa.sms_verify_limit) < 0;
    gh_result r = *answered ? GH_OK
                            : sms_code_check(c, &j->call, &j->cfg->mfa, "factor", f->id, code);
    OPENSSL_cleanse(phone, sizeof phone);
    return r == GH_ERR_NOT_FOUND ? GH_ERR_DENIED : r;
}

/* ---------------------------------------------------------------- challenge */

static void challenge_work(api_job *j, gh_conn *c)
{
    const gh_loaded *p = sms_plugin(j);
    const char *token = api_in(j, "mfa_token");
    json_t *ctx = NULL;
    char phone[FACTOR_SECRET_MAX + 1], digest[GH_DIGEST_LEN];
    if (!p)
        return;
    gh_result r = mfa_challenge_peek(c, &j->call, token, &ctx);
    const char *user_id = json_string_value(json_object_get(ctx, "user_id"));
    if (r == GH_OK && !user_id)
        r = GH_ERR_INTERNAL;
    if (r == GH_OK)
        r = factors_first_phone(c, &j->call, user_id, phone, sizeof phone);
    if (r == GH_ERR_NOT_FOUND && !ctx) {
        api_fail(j, 401, "invalid_mfa_token",
                 "The sign-in expired or had too many wrong codes; sign in again.");
    } else if (r == GH_ERR_NOT_FOUND) {
        api_fail(j, 422, "invalid_method", "This account has no SMS factor.");
    } else if (r != GH_OK) {
        api_store_fail(j, r, "mfa challenge");
    } else {
        secret_digest(token, digest);
        if (send_code(j, c, p, user_id, phone, "signin", digest) == 0) {
            api_audit(j, c, "mfa.challenge", "success", user_id, json_pack("{s:s}", "method", "sms"));
            api_ok(j, 200, json_pack("{s:b}", "sent", 1));
        }
        OPENSSL_cleanse(phone, sizeof phone);
    }
    json_decref(ctx);
}

static void challenge(gh_req *req)
{
    api_job *j = api_job_new(req, 0);
    static const char *const known[] = { "mfa_token", "method", NULL };
    const char *token, *method;
    if (j && (!(j->in = input_body(req, INPUT_JSON)) || input_only(req, j->in, known) < 0 ||
              input_string(req, j->in, "mfa_token", INPUT_REQUIRED, 512, &token) < 0 ||
              input_string(req, j->in, "method", INPUT_REQUIRED, 32, &method) < 0)) {
        api_job_free(j);
        return;
    }
    if (j && strcmp(method, "sms") != 0) {
        input_reject(req, "invalid_method", "method", "must be \"sms\".");
        api_job_free(j);
        return;
    }
    if (j)
        api_job_run(req, j, challenge_work);
}

/* ---------------------------------------------------------------- phone */

/* The code proves the number it was sent to only while that is still the
 * profile's: its subject is the user and the number together. */
static void phone_subject(const gh_user *u, char *out, size_t len)
{
    char digest[GH_DIGEST_LEN];
    secret_digest(u->phone, digest);
    snprintf(out, len, "%s:%s", u->id, digest);
}

static void phone_verify_work(api_job *j, gh_conn *c)
{
    char subject[128];
    const gh_loaded *p = sms_plugin(j);
    gh_user u = { 0 };
    if (!p)
        return;
    gh_result r = users_get(c, &j->call, api_tenant(j), j->claims.sub, &u);
    if (r == GH_OK && (!u.phone || !e164(u.phone)))
        api_fail(j, 409, "no_phone", "Set an E.164 phone number in the profile first.");
    else if (r != GH_OK)
        api_store_fail(j, r, "phone verify");
    else if (phone_subject(&u, subject, sizeof subject),
             send_code(j, c, p, u.id, u.phone, "phone", subject) == 0)
        api_ok(j, 200, json_pack("{s:b}", "sent", 1));
    user_clear(&u);
}

static void phone_verify(gh_req *req)
{
    api_job *j = api_job_new(req, API_BEARER);
    if (j)
        api_job_run(req, j, phone_verify_work);
}

static void phone_confirm_work(api_job *j, gh_conn *c)
{
    gh_user u = { 0 };
    char subject[128];
    gh_result r = users_get(c, &j->call, api_tenant(j), j->claims.sub, &u);
    if (r == GH_OK && !u.phone)
        r = GH_ERR_DENIED;
    if (r == GH_OK && limited(j, c, "sms-verify", u.id, u.phone, j->cfg->mfa.sms_verify_limit) < 0) {
        user_clear(&u);
        return;
    }
    if (r == GH_OK) {
        phone_subject(&u, subject, sizeof subject);
        r = sms_code_check(c, &j->call, &j->cfg->mfa, "phone", subject, api_in(j, "code"));
    }
    if (r == GH_OK)
        r = users_mark_phone_verified(c, &j->call, api_tenant(j), u.id, gh_now_ms());
    if (r == GH_ERR_DENIED || r == GH_ERR_NOT_FOUND) {
        api_audit(j, c, "user.phone_verify", "failure", j->claims.sub, NULL);
        api_fail(j, 422, "invalid_code", "The code is wrong or expired.");
    } else if (r != GH_OK) {
        api_store_fail(j, r, "phone confirm");
    } else {
        api_audit(j, c, "user.phone_verify", "success", u.id, NULL);
        api_ok(j, 204, NULL);
    }
    user_clear(&u);
}

static void phone_confirm(gh_req *req)
{
    api_job *j = api_job_new(req, API_BEARER);
    const char *code;
    if (j && (!(j->in = input_body(req, INPUT_JSON)) ||
              input_string(req, j->in, "code", INPUT_REQUIRED, 16, &code) < 0)) {
        api_job_free(j);
        return;
    }
    if (j)
        api_job_run(req, j, phone_confirm_work);
}

/* ---------------------------------------------------------------- callback */

/* A decoded form field as the plugin gets it (*len bytes, from malloc).
 * From ABI 1.3: name, NUL, value. Neither can hold a NUL (input.c refuses
 * %00), while either may hold a '=' (sent as %3D): the NUL keeps the
 * split made on the raw '=' before decoding. A plugin built for 1.2 or
 * older reads "name=value", as it was promised; a name with a '=' is then
 * split in the wrong place, as it always was for it. */
static char *form_pair(const gh_loaded *p, const char *name, const json_t *value, size_t *len)
{
    size_t nlen = strlen(name), vlen = json_string_length(value);
    char *s = malloc(nlen + vlen + 2);
    if (!s)
        return NULL;
    memcpy(s, name, nlen + 1);
    if (p->desc->abi_minor < 3)
        s[nlen] = '=';
    memcpy(s + nlen + 1, json_string_value(value) ? json_string_value(value) : "", vlen);
    s[nlen + 1 + vlen] = '\0';
    *len = nlen + 1 + vlen;
    return s;
}

static void callback_work(api_job *j, gh_conn *c)
{
    const gh_loaded *p = mfa_plugin_inbound_of(&j->app->plugins, j->target);
    json_t *headers = json_object_get(j->in, "headers"), *form = json_object_get(j->in, "form");
    const char *url = json_string_value(json_object_get(j->in, "url"));
    size_t n = json_array_size(headers) + json_object_size(form) + 2, k = 0;
    gh_param *in = calloc(n, sizeof *in);
    char **params = calloc(n, sizeof *params);
    int status = 204;
    (void)c;
    if (!p) {
        api_fail(j, 404, "not_found", "No such callback.");
        free(in), free(params);
        return;
    }
    gh_result r = in && params ? GH_OK : GH_ERR_NOMEM;
    if (r == GH_OK) {
        in[k++] = (gh_param){ "url", GH_T_STR, url, strlen(url) };
        for (size_t i = 0; i < json_array_size(headers); i++) {
            const char *h = json_string_value(json_array_get(headers, i));
            in[k++] = (gh_param){ "header", GH_T_STR, h, strlen(h) };
        }
        const char *key;
        json_t *v;
        size_t np = 0;
        json_object_foreach(form, key, v) {
            size_t len;
            if (!(params[np] = form_pair(p, key, v, &len))) {
                r = GH_ERR_NOMEM;
                break;
            }
            in[k++] = (gh_param){ "param", GH_T_STR, params[np], len };
            np++;
        }
        if (r == GH_OK)
            r = mfa_plugin_inbound(p, &j->call, in, &status);
    }
    for (size_t i = 0; params && i < n; i++)
        free(params[i]);
    free(params);
    free(in);
    if (r == GH_ERR_DENIED)
        api_fail(j, 403, "forbidden", "This request is not the provider's.");
    else if (r != GH_OK)
        api_store_fail(j, r, "mfa callback");
    else
        api_empty(j, status);
}

/* The plugin checks the request (a provider's signature covers the public
 * URL, the headers and the form), so it gets them as they came. */
static void callback(gh_req *req)
{
    api_job *j = api_job_new(req, 0);
    const char *name = req_param(req, "name");
    json_t *form = NULL, *headers = NULL;
    char *url = NULL;
    if (!j)
        return;
    if (!name || strlen(name) >= sizeof j->target || !j->cfg->public_url) {
        req_problem(req, 404, "not_found", "No such callback.");
        api_job_free(j);
        return;
    }
    if (!(form = input_body(req, INPUT_FORM))) {
        api_job_free(j);
        return;
    }
    snprintf(j->target, sizeof j->target, "%s", name);
    headers = req_headers(req);
    if (asprintf(&url, "%s%s%s%s", j->cfg->public_url, req->path, req->query ? "?" : "",
                 req->query ? req->query : "") < 0)
        url = NULL;
    int whole = headers && url;
    /* json_pack takes form and headers, even when it fails */
    j->in = whole ? json_pack("{s:o, s:o, s:s}", "form", form, "headers", headers, "url", url)
                  : NULL;
    if (!whole) {
        json_decref(form);
        json_decref(headers);
    }
    free(url);
    if (!j->in) {
        req_problem(req, 500, "internal_error", NULL);
        api_job_free(j);
        return;
    }
    api_job_run(req, j, callback_work);
}

int mfa_sms_register(gh_router *r)
{
    return router_add(r, GH_POST, "/api/v1/users/me/mfa/sms", enrol) |
           router_add(r, GH_POST, "/api/v1/auth/mfa/challenge", challenge) |
           router_add(r, GH_POST, "/api/v1/users/me/phone/verify", phone_verify) |
           router_add(r, GH_POST, "/api/v1/users/me/phone/confirm", phone_confirm) |
           router_add(r, GH_POST, "/api/v1/mfa/{name}/callback", callback);
}
