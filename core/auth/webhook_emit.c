/*
 * webhook_emit.c - an audited change to the events it raises, and their
 * deliveries written in the change's own transaction (webhooks.h).
 *
 * Most audited actions raise nothing (token refreshes, reads, RBAC
 * catalog edits): those cost one table lookup here and no store call. One
 * that raises an event costs one indexed read of its company's enabled
 * subscriptions (webhook_subscriptions_tenant), and one insert per match.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "auth/tokens.h"
#include "auth/users.h"
#include "auth/webhooks.h"
#include "call.h"
#include "store/row.h"

/* Which audited actions raise which event; outcome NULL: "success" only,
 * else exactly that outcome. */
static const struct {
    const char *action, *outcome, *type;
} events[] = {
    { "user.signup", NULL, "user.created" },
    { "user.create", NULL, "user.created" },
    { "admin.user.create", NULL, "user.created" },
    { "user.import", NULL, "user.created" },
    { "user.update", NULL, "user.updated" },
    { "admin.user.update", NULL, "user.updated" },
    { "user.activate", NULL, "user.updated" },
    { "user.deactivate", NULL, "user.updated" },
    { "admin.user.activate", NULL, "user.updated" },
    { "admin.user.deactivate", NULL, "user.updated" },
    { "email.verify", NULL, "user.updated" },
    { "user.erase", NULL, "user.deleted" },
    { "admin.user.erase", NULL, "user.deleted" },
    { "login.success", NULL, "user.signed_in" },
    { "login.oauth", NULL, "user.signed_in" },
    { "mfa.success", NULL, "user.signed_in" },
    { "login.failure", "failure", "user.sign_in_failed" },
    { "login.failure", "denied", "user.sign_in_failed" },
    { "login.lockout", "denied", "user.locked" },
    { "password.change", NULL, "user.password_changed" },
    { "password.reset", NULL, "user.password_changed" },
    { "session.revoke", NULL, "session.revoked" },
    { "admin.session.revoke", NULL, "session.revoked" },
    { "mfa.confirm", NULL, "mfa.enrolled" },
    { "company.create", NULL, "company.created" },
    { "rbac.user.assign", NULL, "role.changed" },
    { "rbac.user.unassign", NULL, "role.changed" },
    { "rbac.role.grant", NULL, "role.changed" },
    { "rbac.role.revoke", NULL, "role.changed" },
    { "rbac.role.delete", NULL, "role.changed" },
    { "webhook.received", NULL, "webhook.received" },
    { "provisioning.started", NULL, "provisioning.started" },
    { "provisioning.active", NULL, "provisioning.active" },
    { "provisioning.failed", NULL, "provisioning.failed" },
    { "provisioning.deprovisioned", NULL, "provisioning.deprovisioned" },
};

const char *webhook_event_type(const char *action, const char *outcome)
{
    if (!action || !outcome)
        return NULL;
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
        if (strcmp(events[i].action, action) == 0 &&
            strcmp(events[i].outcome ? events[i].outcome : "success", outcome) == 0)
            return events[i].type;
    return NULL;
}

/* Unix ms as RFC 3339 UTC with milliseconds. */
static void rfc3339(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    size_t n = gmtime_r(&t, &tm) ? strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm) : 0;
    if (!n) {
        strcpy(out, "1970-01-01T00:00:00.000Z");
        return;
    }
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

/* The body every subscriber gets: {type, timestamp, data}. data names the
 * company, whom it concerns and who acted, and carries the audit row's
 * details (already redacted: no secret, no personal data under
 * encryption). malloc'd JSON text, or NULL. */
static char *payload(const gh_audit *e, const char *type, const char *details, int64_t now_ms)
{
    char when[32];
    rfc3339(now_ms, when);
    json_t *d = details ? json_loads(details, JSON_DECODE_ANY, NULL) : NULL;
    json_t *o = json_pack("{s:s, s:s, s:{s:s*, s:s*, s:s*, s:s, s:s, s:o*}}", "type", type,
                          "timestamp", when, "data", "company_id", e->tenant_id,
                          "subject_id", e->subject_id, "actor_id", e->actor_id, "action",
                          e->action, "outcome", e->outcome, "details", d);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return text;
}

typedef struct matches {
    char (*ids)[37];
    size_t n, cap;
    const char *type;
    int oom;
} matches;

static int match_row(void *ud, const gh_param *col, uint32_t n)
{
    matches *m = ud;
    char types[WEBHOOK_TYPES_MAX];
    if (n < 2)
        return 1;
    col_copy(&col[1], types, sizeof types);
    if (!webhook_types_match(types, m->type))
        return 0;
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 4;
        char(*v)[37] = realloc(m->ids, cap * sizeof *v);
        if (!v)
            return m->oom = 1, 1;
        m->ids = v;
        m->cap = cap;
    }
    col_copy(&col[0], m->ids[m->n++], 37);
    return 0;
}

/* One delivery of body to each subscription of tenant that wants type. */
static gh_result queue_for(gh_conn *c, gh_call *call, const char *tenant, const char *type,
                           const char *body, int64_t now_ms, int *queued)
{
    matches m = { .type = type };
    gh_param arg = p_str(tenant);
    gh_result r = store_exec(c, call, "SELECT id, event_types FROM webhook_subscriptions "
                             "WHERE tenant_id = ? AND disabled = 0", &arg, 1, match_row, &m,
                             NULL);
    if (r == GH_OK && m.oom)
        r = call_fail(call, GH_ERR_NOMEM, "webhooks: out of memory");
    for (size_t i = 0; r == GH_OK && i < m.n; i++) {
        char id[37];
        int64_t zero = 0;
        uuid_new(id);
        gh_param args[] = {
            p_str(id), p_str(m.ids[i]), p_str(tenant), p_str(type), p_str(body),
            p_str("pending"), p_int(&zero), p_int(&now_ms), p_int(&now_ms), p_int(&now_ms),
        };
        r = store_exec(c, call, "INSERT INTO webhook_deliveries (id, subscription_id, tenant_id, "
                       "event_type, payload, status, attempts, next_attempt_at, created_at, "
                       "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       args, sizeof args / sizeof args[0], NULL, NULL, NULL);
        if (r == GH_OK)
            (*queued)++;
    }
    free(m.ids);
    return r;
}

gh_result webhook_events_record(gh_conn *c, gh_call *call, const gh_audit *e,
                                const char *details, int64_t now_ms, int *queued)
{
    const char *type = webhook_event_type(e->action, e->outcome);
    *queued = 0;
    if (!type || !e->tenant_id || !e->tenant_id[0])
        return GH_OK;
    char *body = payload(e, type, details, now_ms);
    if (!body)
        return call_fail(call, GH_ERR_NOMEM, "webhooks: out of memory");
    gh_result r = queue_for(c, call, e->tenant_id, type, body, now_ms, queued);
    /* a new company is audited in itself, which has no subscriptions yet:
     * the root company, whose superusers make companies, hears of it, and
     * of its provisioning likewise */
    if (r == GH_OK && (strcmp(type, "company.created") == 0 ||
                       strncmp(type, "provisioning.", 13) == 0) &&
        strcmp(e->tenant_id, GH_ROOT_TENANT) != 0)
        r = queue_for(c, call, GH_ROOT_TENANT, type, body, now_ms, queued);
    free(body);
    return r;
}
