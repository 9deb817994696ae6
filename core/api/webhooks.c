/*
 * webhooks.c - incoming webhooks over HTTP:
 *   POST /api/v1/webhooks/{integration_type}   an integration sends one
 *   GET  /api/v1/webhooks/events               the company's, newest first
 *   GET  /api/v1/webhooks/events/{id}
 *
 * A sender authenticates with its integration's API key alone (Bearer or
 * X-API-Key; guard.h, API_KEY), and names its integration's type in the
 * path (403 integration_type_mismatch otherwise). When the integration
 * has a signing secret, the body must carry a Standard Webhooks signature
 * (auth/webhook_sig.h) in webhook-id, webhook-timestamp and
 * webhook-signature:
 *   400 signature_required        a header is absent, or the id malformed
 *   400 invalid_timestamp         not a number of seconds
 *   400 timestamp_out_of_range    more than 5 minutes from our clock
 *   403 invalid_signature         no listed signature matches
 *   409 webhook_replayed          the integration sent this id before
 * The body is a JSON object (415, 400 and 413 as for every JSON body:
 * server.max_body_size bounds it). Accepted: 202 {id}, the event stored
 * with an audit row "webhook.received" in one transaction, which is how
 * it reaches subscribers of outgoing events.
 *
 *   event {id, integration_id, integration_type, webhook_id,
 *          webhook_timestamp, verified, source_ip, user_agent, payload,
 *          received_at}
 * Listing and reading need webhook_events:read; ?integration_id= and
 * ?type= filter the list. No header that is a credential is kept, and the
 * signing secret is never logged.
 */
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <openssl/crypto.h>
#include "api/api.h"
#include "api/input.h"
#include "api/job.h"
#include "api/present.h"
#include "auth/integrations.h"
#include "auth/users.h"
#include "auth/webhook_events.h"
#include "auth/webhook_sig.h"
#include "log.h"

/* What the loop read of a webhook for the worker: its three headers and
 * the body's bytes, as the signature covers them. One allocation
 * (j->data). */
typedef struct inbound {
    char id[WEBHOOK_ID_MAX + 2];      /* one more: a longer id stays invalid */
    char timestamp[32];
    int has_id, has_timestamp, has_signature;
    size_t body_len;
    char *signature;                  /* into text, after the body's NUL */
    char text[];                      /* the body, NUL, the signature, NUL */
} inbound;

/* ---------------------------------------------------------------- shapes */

static json_t *present_event(const gh_webhook_event *ev)
{
    json_t *payload = json_loads(ev->payload ? ev->payload : "null", JSON_DECODE_ANY, NULL);
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:b, s:o, s:o, s:o, s:o}", "id", ev->id,
                     "integration_id", ev->integration_id,
                     "integration_type", ev->integration_type,
                     "webhook_id", ev->webhook_id[0] ? json_string(ev->webhook_id) : json_null(),
                     "webhook_timestamp", ev->webhook_timestamp
                                              ? json_integer(ev->webhook_timestamp) : json_null(),
                     "verified", ev->verified,
                     "source_ip", ev->source_ip[0] ? json_string(ev->source_ip) : json_null(),
                     "user_agent", ev->user_agent[0] ? json_string(ev->user_agent) : json_null(),
                     "payload", payload ? payload : json_null(),
                     "received_at", present_time(ev->received_at));
}

/* ---------------------------------------------------------------- receive */

static void receive_fail(api_job *j, gh_result r, const char *what)
{
    if (r == GH_ERR_CONFLICT)
        api_fail(j, 409, "webhook_replayed", "This webhook-id has been received already.");
    else
        api_store_fail(j, r, what);
}

/* The signature check of integration in's webhook, when it has a signing
 * secret: 0 verified (*verified 1) or not needed, -1 answered. */
static int signature_ok(api_job *j, gh_conn *c, const gh_integration *in, int *verified)
{
    const inbound *m = j->data;
    char secret[WEBHOOK_SECRET_LEN];
    *verified = 0;
    gh_result r = in->has_signing_secret
                      ? integration_signing_secret(c, &j->call, in->id, secret) : GH_ERR_NOT_FOUND;
    if (r == GH_ERR_NOT_FOUND) {
        if (m->has_id && !webhook_id_valid(m->id)) {
            api_fail(j, 400, "invalid_webhook_id", "webhook-id must be 1 to 255 printable "
                     "ASCII characters.");
            return -1;
        }
        return 0;
    }
    if (r != GH_OK) {
        api_store_fail(j, r, "webhook signing secret");
        return -1;
    }
    webhook_check ck = webhook_verify(secret, m->has_id ? m->id : NULL,
                                      m->has_timestamp ? m->timestamp : NULL,
                                      m->has_signature ? m->signature : NULL, m->text,
                                      m->body_len, api_now_s());
    OPENSSL_cleanse(secret, sizeof secret);
    switch (ck) {
    case WEBHOOK_SIG_OK:
        *verified = 1;
        return 0;
    case WEBHOOK_SIG_MISSING:
        api_fail(j, 400, "signature_required", "This integration signs its webhooks: send "
                 "webhook-id, webhook-timestamp and webhook-signature.");
        break;
    case WEBHOOK_SIG_TIMESTAMP:
        api_fail(j, 400, "invalid_timestamp", "webhook-timestamp must be seconds since the "
                 "epoch.");
        break;
    case WEBHOOK_SIG_STALE:
        api_fail(j, 400, "timestamp_out_of_range", "webhook-timestamp is more than 5 minutes "
                 "from the server's clock.");
        break;
    case WEBHOOK_SIG_MISMATCH:
        api_fail(j, 403, "invalid_signature", "No webhook-signature matches the body.");
        break;
    default:
        gh_log_tagged(GH_LOG_ERROR, "webhooks", j->request_id,
                      "integration %s: its signing secret cannot sign", in->id);
        api_fail(j, 500, "internal_error", NULL);
    }
    return -1;
}

static void receive_work(api_job *j, gh_conn *c)
{
    const inbound *m = j->data;
    gh_integration in;
    gh_webhook_event ev = { 0 };
    int verified;
    gh_result r = integration_get(c, &j->call, j->claims.tenant, j->claims.sub, &in);
    if (r == GH_ERR_NOT_FOUND) { /* deleted since the guard read it: so is its key */
        j->www_auth = "Bearer error=\"invalid_token\"";
        api_fail(j, 401, "invalid_token", "The API key is invalid, disabled or expired.");
        return;
    }
    if (r != GH_OK) {
        api_store_fail(j, r, "webhook integration");
        return;
    }
    if (strcmp(in.type, j->target) != 0) {
        api_fail(j, 403, "integration_type_mismatch", "The path names another type than the "
                 "API key's integration has.");
        return;
    }
    if (signature_ok(j, c, &in, &verified) < 0)
        return;
    snprintf(ev.tenant_id, sizeof ev.tenant_id, "%s", in.tenant_id);
    snprintf(ev.integration_id, sizeof ev.integration_id, "%s", in.id);
    snprintf(ev.integration_type, sizeof ev.integration_type, "%s", in.type);
    if (m->has_id) /* valid (signature_ok): it fits */
        memcpy(ev.webhook_id, m->id, strlen(m->id) + 1);
    ev.webhook_timestamp = verified ? strtoll(m->timestamp, NULL, 10) : 0;
    ev.verified = verified;
    snprintf(ev.source_ip, sizeof ev.source_ip, "%s", j->ip);
    snprintf(ev.user_agent, sizeof ev.user_agent, "%s", j->ua);
    ev.payload = (char *)m->text;
    r = store_begin(c, &j->call);
    if (r == GH_OK)
        r = webhook_event_insert(c, &j->call, &ev);
    json_t *details = json_pack("{s:s, s:s, s:o}", "event_id", ev.id,
                                "integration_type", ev.integration_type, "webhook_id",
                                ev.webhook_id[0] ? json_string(ev.webhook_id) : json_null());
    api_change_done(j, c, r, "webhook.received", ev.id, details,
                    json_pack("{s:s}", "id", ev.id), 202, receive_fail);
}

/* The headers and body into a new inbound: NULL when out of memory. */
static inbound *inbound_read(gh_req *req)
{
    struct evbuffer *buf = evhttp_request_get_input_buffer(req->ev);
    size_t len = evbuffer_get_length(buf);
    const char *body = (const char *)evbuffer_pullup(buf, -1);
    const char *id = req_header(req, "webhook-id"), *ts = req_header(req, "webhook-timestamp");
    const char *sig = req_header(req, "webhook-signature");
    size_t sig_len = sig ? strlen(sig) : 0;
    inbound *m = body ? calloc(1, sizeof *m + len + 1 + sig_len + 1) : NULL;
    if (!m)
        return NULL;
    m->has_id = id != NULL;
    m->has_timestamp = ts != NULL;
    m->has_signature = sig != NULL;
    snprintf(m->id, sizeof m->id, "%s", id ? id : "");
    snprintf(m->timestamp, sizeof m->timestamp, "%s", ts ? ts : "");
    memcpy(m->text, body, len);
    m->body_len = len;
    m->signature = m->text + len + 1;
    if (sig_len)
        memcpy(m->signature, sig, sig_len);
    return m;
}

static void receive(gh_req *req)
{
    api_job *j = api_job_new(req, API_BEARER | API_KEY);
    if (!j) /* answered, and req with it */
        return;
    json_t *doc = req_json_body(req); /* the checks of any JSON body */
    if (!doc) {
        api_job_free(j);
        return;
    }
    json_decref(doc);
    const char *type = req_param(req, "integration_type");
    if (!(j->data = inbound_read(req))) {
        req_problem(req, 500, "internal_error", NULL);
        api_job_free(j);
        return;
    }
    /* a longer one is no type: it stays "" and cannot match */
    if (type && strlen(type) < sizeof j->target)
        snprintf(j->target, sizeof j->target, "%s", type);
    api_job_run(req, j, receive_work);
}

/* ---------------------------------------------------------------- read */

static void event_fail(api_job *j, gh_result r, const char *what)
{
    if (r == GH_ERR_NOT_FOUND)
        api_fail(j, 404, "not_found", "No such webhook event.");
    else
        api_store_fail(j, r, what);
}

static void list_work(api_job *j, gh_conn *c)
{
    webhook_event_filter f = {
        .tenant = api_tenant(j), .integration_id = api_in(j, "integration_id"),
        .integration_type = api_in(j, "type"),
        .limit = json_integer_value(json_object_get(j->in, "limit")),
        .offset = json_integer_value(json_object_get(j->in, "offset")),
    };
    gh_webhook_event *v = NULL;
    size_t n = 0;
    int64_t total = 0;
    gh_result r = webhook_event_list(c, &j->call, &f, &v, &n, &total);
    json_t *items = r == GH_OK ? json_array() : NULL;
    for (size_t i = 0; items && i < n; i++)
        json_array_append_new(items, present_event(&v[i]));
    if (r != GH_OK)
        event_fail(j, r, "webhook event list");
    else
        api_ok_page(j, items, total);
    webhook_events_free(v, n);
    free(v);
}

static void list(gh_req *req)
{
    api_job *j = api_job_perm_page(req, "webhook_events:read");
    const char *in = NULL, *type = NULL;
    if (j && (input_string(req, j->in, "integration_id", INPUT_OPTIONAL, 36, &in) < 0 ||
              input_string(req, j->in, "type", INPUT_OPTIONAL, 15, &type) < 0)) {
        api_job_free(j);
        return;
    }
    if (j && ((in && !uuid_valid(in)) || (type && !integration_type_valid(type)))) {
        input_reject(req, "invalid_field", in && !uuid_valid(in) ? "integration_id" : "type",
                     in && !uuid_valid(in) ? "must be an integration's id."
                                           : "must be api_key, oauth2 or custom.");
        api_job_free(j);
        return;
    }
    if (j)
        api_job_run(req, j, list_work);
}

static void get_work(api_job *j, gh_conn *c)
{
    gh_webhook_event ev = { 0 };
    gh_result r = webhook_event_get(c, &j->call, api_tenant(j), j->target, &ev);
    if (r == GH_OK)
        api_ok(j, 200, present_event(&ev));
    else
        event_fail(j, r, "webhook event get");
    webhook_events_free(&ev, 1);
}

static void get(gh_req *req)
{
    api_job_run_id(req, API_READ, "webhook_events:read", get_work);
}

int webhooks_register(gh_router *r)
{
    return router_add(r, GH_POST, "/api/v1/webhooks/{integration_type}", receive) |
           router_add(r, GH_GET, "/api/v1/webhooks/events", list) |
           router_add(r, GH_GET, "/api/v1/webhooks/events/{id}", get);
}
