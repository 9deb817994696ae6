/*
 * webhook_subscriptions.c - outgoing event subscriptions over HTTP, in the caller's
 * company:
 *   GET POST /api/v1/webhooks/subscriptions
 *   GET PUT DELETE /api/v1/webhooks/subscriptions/{id}
 *   POST /api/v1/webhooks/subscriptions/{id}/secret          (rotate)
 *   GET /api/v1/webhooks/subscriptions/{id}/deliveries
 *   POST /api/v1/webhooks/subscriptions/{id}/deliveries/{delivery_id}/redeliver
 * Reading needs webhooks:read, the rest webhooks:write (the admin role
 * holds both); a superuser acts in another company by naming it
 * (?company=). One of another company answers 404 like a missing one.
 *
 *   subscription {id, url, event_types: [], enabled, disabled_reason,
 *                 consecutive_failures, created_at, updated_at}
 *   delivery {id, event_type, status, attempts, last_status, last_error,
 *             next_attempt_at, created_at, updated_at}
 * A body sets url, event_types (patterns: "user.created", "user.*", "*")
 * and enabled; enabling clears the failure count and the reason. The URL
 * is checked against webhooks.allow_http and allow_private_targets
 * (422 invalid_url) when it is set. The signing secret is in the answer
 * ("secret") of a creation and of a rotation: only then, never audited.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "api/api.h"
#include "api/input.h"
#include "api/job.h"
#include "api/present.h"
#include "auth/webhooks.h"
#include "notify/webhook_sender.h"

static const char *const known[] = { "url", "event_types", "enabled", NULL };

/* ---------------------------------------------------------------- shapes */

static json_t *present_sub(const gh_webhook_sub *s)
{
    return json_pack("{s:s, s:s, s:o, s:b, s:s?, s:I, s:o, s:o}", "id", s->id, "url", s->url,
                     "event_types", present_words(s->event_types), "enabled", !s->disabled,
                     "disabled_reason", s->disabled_reason[0] ? s->disabled_reason : NULL,
                     "consecutive_failures", (json_int_t)s->consecutive_failures,
                     "created_at", present_time(s->created_at),
                     "updated_at", present_time(s->updated_at));
}

/* The subscription with its new secret: the one answer that carries it. */
static json_t *present_with_secret(const gh_webhook_sub *s, const char *secret)
{
    json_t *o = present_sub(s);
    if (o)
        json_object_set_new(o, "secret", json_string(secret));
    return o;
}

static json_t *present_delivery(const gh_webhook_delivery *d)
{
    int pending = strcmp(d->status, "pending") == 0;
    return json_pack("{s:s, s:s, s:s, s:I, s:o, s:s?, s:o, s:o, s:o}", "id", d->id,
                     "event_type", d->event_type, "status", d->status,
                     "attempts", (json_int_t)d->attempts,
                     "last_status", d->last_status ? json_integer(d->last_status) : json_null(),
                     "last_error", d->last_error[0] ? d->last_error : NULL,
                     "next_attempt_at", present_time(pending ? d->next_attempt_at : 0),
                     "created_at", present_time(d->created_at),
                     "updated_at", present_time(d->updated_at));
}

/* ---------------------------------------------------------------- input */

/* in.event_types, an array of patterns, as a space-separated list in out;
 * absent leaves out alone. 0, or -1 answered. */
static int input_types(gh_req *req, json_t *in, char out[WEBHOOK_TYPES_MAX])
{
    json_t *a = json_object_get(in, "event_types"), *v;
    char buf[WEBHOOK_TYPES_MAX];
    size_t i, pos = 0;
    if (!a)
        return 0;
    if (!json_is_array(a) || json_array_size(a) == 0) {
        input_reject(req, "invalid_field", "event_types", "must be a non-empty array of strings.");
        return -1;
    }
    buf[0] = '\0';
    json_array_foreach(a, i, v) {
        const char *s = json_string_value(v);
        size_t n = s ? strlen(s) : 0;
        if (!s || !webhook_pattern_valid(s) || pos + n + 2 > sizeof buf) {
            input_reject(req, "invalid_field", "event_types",
                         "must be event types such as user.created, prefixes such as user.*, "
                         "or *.");
            return -1;
        }
        pos += (size_t)snprintf(buf + pos, sizeof buf - pos, "%s%s", pos ? " " : "", s);
    }
    memcpy(out, buf, pos + 1);
    return 0;
}

/* A body's settings over s. 0, or -1 answered. */
static int sub_from(gh_req *req, json_t *body, gh_webhook_sub *s)
{
    const char *url;
    int enabled;
    if (input_string(req, body, "url", INPUT_OPTIONAL, sizeof s->url - 1, &url) < 0 ||
        input_bool(req, body, "enabled", &enabled) < 0 || input_types(req, body, s->event_types) < 0)
        return -1;
    if (url)
        snprintf(s->url, sizeof s->url, "%s", url);
    if (enabled == 1 && s->disabled) { /* a fresh start */
        s->disabled = 0;
        s->disabled_reason[0] = '\0';
        s->consecutive_failures = 0;
    } else if (enabled == 0 && !s->disabled) {
        s->disabled = 1;
        snprintf(s->disabled_reason, sizeof s->disabled_reason, "disabled through the API");
    }
    return 0;
}

/* The checks a whole subscription must pass, in the worker (DNS blocks):
 * a URL the config lets us reach, and event types. 0, or -1 answered. */
static int sub_complete(api_job *j, const gh_webhook_sub *s, int url_changed)
{
    char why[256];
    if (!s->url[0]) {
        api_fail(j, 422, "missing_field", "url is required.");
        return -1;
    }
    if (!s->event_types[0]) {
        api_fail(j, 422, "missing_field", "event_types is required.");
        return -1;
    }
    if (url_changed && webhook_target_check(s->url, j->cfg->webhooks_allow_http,
                                             j->cfg->webhooks_allow_private, why, sizeof why) < 0) {
        char detail[300];
        snprintf(detail, sizeof detail, "url %s", why);
        api_fail(j, 422, "invalid_url", detail);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- jobs */

static void sub_fail(api_job *j, gh_result r, const char *what)
{
    if (r == GH_ERR_NOT_FOUND)
        api_fail(j, 404, "not_found", "No such subscription.");
    else
        api_store_fail(j, r, what);
}

/* Commit with an audit row (the subscription before, stolen, and after),
 * or roll back; answer with body (stolen; the secret, if any, only here). */
static void finish(api_job *j, gh_conn *c, gh_result r, const char *action,
                   const gh_webhook_sub *s, json_t *before, json_t *body, int status)
{
    json_t *details = json_pack("{s:o*, s:o*}", "before", before,
                                "after", status == 204 || r != GH_OK ? NULL : present_sub(s));
    api_change_done(j, c, r, action, s->id, details, body, status, sub_fail);
}

static void list_work(api_job *j, gh_conn *c)
{
    gh_webhook_sub *v = NULL;
    size_t n = 0;
    gh_result r = webhook_sub_list(c, &j->call, api_tenant(j), &v, &n);
    size_t limit = (size_t)json_integer_value(json_object_get(j->in, "limit"));
    size_t offset = (size_t)json_integer_value(json_object_get(j->in, "offset"));
    json_t *items = r == GH_OK ? json_array() : NULL;
    for (size_t i = offset; items && i < n && i < offset + limit; i++)
        json_array_append_new(items, present_sub(&v[i]));
    if (r != GH_OK)
        api_store_fail(j, r, "subscription list");
    else
        api_ok_page(j, items, (int64_t)n);
    free(v);
}

static void list(gh_req *req)
{
    api_job *j = api_job_perm_page(req, "webhooks:read");
    if (j)
        api_job_run(req, j, list_work);
}

static void create_work(api_job *j, gh_conn *c)
{
    gh_webhook_sub *s = (gh_webhook_sub *)j->data;
    char secret[WEBHOOK_SECRET_LEN] = "";
    if (sub_complete(j, s, 1) < 0)
        return;
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK)
        r = webhook_sub_create(c, &j->call, api_tenant(j), s, secret);
    finish(j, c, r, "webhook.subscription.create", s, NULL,
           r == GH_OK ? present_with_secret(s, secret) : NULL, 201);
    OPENSSL_cleanse(secret, sizeof secret);
}

static void create(gh_req *req)
{
    api_job *j = api_job_perm(req, 0, "webhooks:write");
    gh_webhook_sub *s = j ? calloc(1, sizeof *s) : NULL;
    if (j && s)
        j->data = s;
    if (j && (!s || !(j->in = input_body(req, INPUT_JSON)) || input_only(req, j->in, known) < 0 ||
              sub_from(req, j->in, s) < 0)) {
        if (!s)
            req_problem(req, 500, "internal_error", NULL);
        api_job_free(j);
        return;
    }
    if (j)
        api_job_run(req, j, create_work);
}

/* A change's start: the transaction, and the subscription as it was
 * (before, for the audit row). */
static gh_result load(api_job *j, gh_conn *c, gh_webhook_sub *s, json_t **before)
{
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK && (r = webhook_sub_get(c, &j->call, api_tenant(j), j->target, s)) == GH_OK)
        *before = present_sub(s);
    return r;
}

static void get_work(api_job *j, gh_conn *c)
{
    gh_webhook_sub s = { 0 };
    gh_result r = webhook_sub_get(c, &j->call, api_tenant(j), j->target, &s);
    if (r == GH_OK)
        api_ok(j, 200, present_sub(&s));
    else
        sub_fail(j, r, "subscription get");
}

static void get(gh_req *req)
{
    api_job_run_id(req, API_READ, "webhooks:read", get_work);
}

/* The body is checked on the loop against an empty subscription and
 * applied in the worker over the stored one. */
static void put_work(api_job *j, gh_conn *c)
{
    gh_webhook_sub s = { 0 };
    json_t *before = NULL;
    gh_result r = load(j, c, &s, &before);
    if (r == GH_OK) {
        char old_url[WEBHOOK_URL_MAX];
        memcpy(old_url, s.url, sizeof old_url);
        /* checked on the loop already: this cannot fail */
        sub_from(NULL, j->in, &s);
        if (sub_complete(j, &s, strcmp(old_url, s.url) != 0) < 0) {
            store_rollback(c, &j->call);
            json_decref(before);
            return;
        }
        r = webhook_sub_update(c, &j->call, api_tenant(j), &s);
    }
    finish(j, c, r, "webhook.subscription.update", &s, before,
           r == GH_OK ? present_sub(&s) : NULL, 200);
    if (r == GH_OK && !s.disabled)
        webhook_sender_wake(); /* enabled again: what waited is due */
}

static void put(gh_req *req)
{
    api_job *j = api_job_perm_id(req, 0, "webhooks:write");
    gh_webhook_sub probe = { 0 };
    if (j && (!(j->in = input_body(req, INPUT_JSON)) || input_only(req, j->in, known) < 0 ||
              sub_from(req, j->in, &probe) < 0)) {
        api_job_free(j);
        return;
    }
    if (j)
        api_job_run(req, j, put_work);
}

static void delete_work(api_job *j, gh_conn *c)
{
    gh_webhook_sub s = { 0 };
    json_t *before = NULL;
    gh_result r = load(j, c, &s, &before);
    if (r == GH_OK)
        r = webhook_sub_delete(c, &j->call, api_tenant(j), j->target);
    finish(j, c, r, "webhook.subscription.delete", &s, before, NULL, 204);
}

static void delete(gh_req *req)
{
    api_job_run_id(req, 0, "webhooks:write", delete_work);
}

static void rotate_work(api_job *j, gh_conn *c)
{
    gh_webhook_sub s = { 0 };
    char secret[WEBHOOK_SECRET_LEN] = "";
    json_t *before = NULL;
    gh_result r = load(j, c, &s, &before);
    if (r == GH_OK)
        r = webhook_sub_rotate(c, &j->call, api_tenant(j), &s, secret);
    finish(j, c, r, "webhook.subscription.secret.rotate", &s, before,
           r == GH_OK ? present_with_secret(&s, secret) : NULL, 200);
    OPENSSL_cleanse(secret, sizeof secret);
}

static void rotate(gh_req *req)
{
    api_job_run_id(req, 0, "webhooks:write", rotate_work);
}

static void deliveries_work(api_job *j, gh_conn *c)
{
    gh_webhook_sub s;
    gh_webhook_delivery *v = NULL;
    size_t n = 0;
    int64_t total = 0;
    gh_result r = webhook_sub_get(c, &j->call, api_tenant(j), j->target, &s);
    if (r == GH_OK)
        r = webhook_delivery_list(c, &j->call, api_tenant(j), j->target,
                                  json_integer_value(json_object_get(j->in, "limit")),
                                  json_integer_value(json_object_get(j->in, "offset")), &v, &n,
                                  &total);
    json_t *items = r == GH_OK ? json_array() : NULL;
    for (size_t i = 0; items && i < n; i++)
        json_array_append_new(items, present_delivery(&v[i]));
    if (r != GH_OK)
        sub_fail(j, r, "delivery list");
    else
        api_ok_page(j, items, total);
    free(v);
}

static void deliveries(gh_req *req)
{
    api_job *j = api_job_perm_page(req, "webhooks:read");
    if (j && input_path_id(req, "id", j->target) < 0) {
        api_job_free(j);
        return;
    }
    if (j)
        api_job_run(req, j, deliveries_work);
}

static void redeliver_work(api_job *j, gh_conn *c)
{
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK)
        r = webhook_delivery_redeliver(c, &j->call, api_tenant(j), j->target, j->target2);
    if (r == GH_ERR_NOT_FOUND) {
        store_rollback(c, &j->call);
        api_fail(j, 404, "not_found", "No such delivery.");
        return;
    }
    api_change_done(j, c, r, "webhook.delivery.redeliver", j->target2,
                    json_pack("{s:s}", "subscription_id", j->target),
                    json_pack("{s:s, s:s}", "id", j->target2, "status", "pending"), 202, sub_fail);
    if (r == GH_OK)
        webhook_sender_wake();
}

static void redeliver(gh_req *req)
{
    api_job *j = api_job_perm(req, 0, "webhooks:write");
    if (j && (input_path_id(req, "id", j->target) < 0 ||
              input_path_id(req, "delivery_id", j->target2) < 0)) {
        api_job_free(j);
        return;
    }
    if (j)
        api_job_run(req, j, redeliver_work);
}

int webhook_subscriptions_register(gh_router *r)
{
    return router_add(r, GH_GET, "/api/v1/webhooks/subscriptions", list) |
           router_add(r, GH_POST, "/api/v1/webhooks/subscriptions", create) |
           router_add(r, GH_GET, "/api/v1/webhooks/subscriptions/{id}", get) |
           router_add(r, GH_PUT, "/api/v1/webhooks/subscriptions/{id}", put) |
           router_add(r, GH_DELETE, "/api/v1/webhooks/subscriptions/{id}", delete) |
           router_add(r, GH_POST, "/api/v1/webhooks/subscriptions/{id}/secret", rotate) |
           router_add(r, GH_GET, "/api/v1/webhooks/subscriptions/{id}/deliveries", deliveries) |
           router_add(r, GH_POST,
                      "/api/v1/webhooks/subscriptions/{id}/deliveries/{delivery_id}/redeliver",
                      redeliver);
}
