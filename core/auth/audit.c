/*
 * audit.c - the audit trail: one audit_events row per security-relevant
 * event, and the queries users (login history) and admins run over it.
 *
 * A row never holds a secret. Callers are meant never to pass one, and as
 * a last line of defence any details member whose name says password,
 * secret, token, hash, cookie or authorization is replaced by "[redacted]"
 * before the row is written (and the slip logged, by name only). With
 * personal data encrypted at rest (auth/pii.h), string members named like
 * personal data (email, username, full_name, phone, login) are replaced
 * too: the audit trail must not keep in clear what the users table hides.
 *
 * Queries are assembled only from fixed fragments, each with its `?`: the
 * filter's values are bound, never spliced into the text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "auth/audit.h"
#include "auth/pii.h"
#include "auth/sessions.h"
#include "auth/tokens.h"
#include "auth/webhooks.h"
#include "clock.h"
#include "store/row.h"
#include "log.h"
#include "notify/webhook_sender.h"

#define QUERY_DEFAULT 50
#define QUERY_MAX 500
#define PREFIX_MAX 64        /* action names are short */

#define AUDIT_COLS                                                            \
    "id, tenant_id, actor_id, subject_id, action, outcome, ip, user_agent, "  \
    "details, created_at"
enum { A_ID, A_TENANT, A_ACTOR, A_SUBJECT, A_ACTION, A_OUTCOME, A_IP, A_UA, A_DETAILS,
       A_CREATED, A_NCOLS };

/* ------------------------------------------------------------- redaction */

static int secret_name(const char *key)
{
    static const char *const words[] = {
        "password", "passwd", "secret", "token", "hash", "cookie", "authorization",
    };
    size_t klen = strlen(key);

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        size_t wlen = strlen(words[i]);

        for (size_t j = 0; j + wlen <= klen; j++)
            if (strncasecmp(key + j, words[i], wlen) == 0)
                return 1;
    }
    return 0;
}

/* With encryption on: a string that names personal data. */
static int personal_name(const char *key, const json_t *value)
{
    static const char *const names[] = { "email",       "username",    "full_name",
                                         "phone",       "login",       "given_name",
                                         "family_name", "country_code" };
    size_t klen = strlen(key);

    if (pii_current() == NULL || !json_is_string(value))
        return 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(key, names[i]) == 0)
            return 1;
    return klen > 6 && strcasecmp(key + klen - 6, "_email") == 0;
}

/* Replace, in place, every member with a secret-sounding name, at any
 * depth. Returns how many were replaced. */
static int redact(json_t *v, const char *action)
{
    int n = 0;

    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            n += redact(json_array_get(v, i), action);
        return n;
    }
    if (!json_is_object(v))
        return 0;
    for (void *it = json_object_iter(v); it != NULL; it = json_object_iter_next(v, it)) {
        const char *key = json_object_iter_key(it);

        if (personal_name(key, json_object_iter_value(it))) {
            json_object_iter_set_new(v, it, json_string("[encrypted at rest: not audited]"));
            n++;
            continue;
        }
        if (!secret_name(key)) {
            n += redact(json_object_iter_value(it), action);
            continue;
        }
        gh_log(GH_LOG_WARNING, "audit: %s details: member '%s' redacted (a secret must "
               "never be audited)", action, key);
        json_object_iter_set_new(v, it, json_string("[redacted]"));
        n++;
    }
    return n;
}

/* The details as compact JSON, redacted; NULL for none. *oom on failure. */
static char *details_text(const json_t *details, const char *action, int *oom)
{
    json_t *copy;
    char *text;

    *oom = 0;
    if (details == NULL || json_is_null(details))
        return NULL;
    /* the caller's object is borrowed: redact a copy */
    if ((copy = json_deep_copy(details)) == NULL) {
        *oom = 1;
        return NULL;
    }
    redact(copy, action);
    text = json_dumps(copy, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(copy);
    *oom = text == NULL;
    return text;
}

/* ---------------------------------------------------------------- record */

gh_result audit_record(gh_conn *c, gh_call *call, const gh_audit *e)
{
    char id[37], ip[64], ua[256];
    int64_t now = gh_now_ms();
    gh_param args[10];
    char *details;
    gh_result r;
    int oom;

    if (e == NULL || e->action == NULL || *e->action == '\0' || e->outcome == NULL ||
        *e->outcome == '\0')
        return call_fail(call, GH_ERR_INVALID, "audit: an event needs an action "
                         "and an outcome");
    details = details_text(e->details, e->action, &oom);
    if (oom)
        return call_fail(call, GH_ERR_NOMEM, "audit: out of memory");
    uuid_new(id);
    /* device strings come from request headers: bounded and clean */
    device_text_clip(ip, sizeof(ip), e->ip);
    device_text_clip(ua, sizeof(ua), e->user_agent);
    args[0] = p_str(id);
    args[1] = p_opt_empty(e->tenant_id);
    args[2] = p_opt_empty(e->actor_id);
    args[3] = p_opt_empty(e->subject_id);
    args[4] = p_str(e->action);
    args[5] = p_str(e->outcome);
    args[6] = p_opt_empty(ip);
    args[7] = p_opt_empty(ua);
    args[8] = p_opt_empty(details);
    args[9] = p_int(&now);
    r = store_exec(c, call,
                   "INSERT INTO audit_events (" AUDIT_COLS ") "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", args, 10, NULL, NULL, NULL);
    /* the events it raises, in the same transaction: a delivery exists
     * exactly when the change it tells of committed */
    int queued = 0;
    if (r == GH_OK)
        r = webhook_events_record(c, call, e, details, now, &queued);
    free(details);
    if (queued)
        webhook_sender_wake();
    return r;
}

/* ----------------------------------------------------------------- query */

/* A WHERE clause grown from fixed fragments, each with one `?`. */
typedef struct query {
    char sql[768];
    size_t len;
    gh_param args[8];
    size_t n;
} query;

static void q_add(query *q, const char *fragment, gh_param arg)
{
    size_t flen = strlen(fragment);

    /* sized for every fragment at once: this cannot be hit */
    if (q->len + flen >= sizeof(q->sql) || q->n >= sizeof(q->args) / sizeof(q->args[0]))
        abort();
    memcpy(q->sql + q->len, fragment, flen + 1);
    q->len += flen;
    q->args[q->n++] = arg;
}

/* "prefix%" with LIKE's wildcards escaped by '!' (not a backslash, which
 * MySQL string literals treat as an escape of their own). */
static int like_prefix(const char *prefix, char *out, size_t outlen)
{
    size_t o = 0;

    for (const char *s = prefix; *s; s++) {
        if (o + 3 >= outlen)
            return -1;
        if (*s == '%' || *s == '_' || *s == '!')
            out[o++] = '!';
        out[o++] = *s;
    }
    out[o++] = '%';
    out[o] = '\0';
    return 0;
}

/* Unix ms as RFC 3339 UTC with milliseconds: 2024-05-01T12:00:00.123Z */
static void rfc3339(int64_t ms, char out[32])
{
    int64_t secs = ms / 1000, rem = ms % 1000;
    struct tm tm;
    time_t t;
    size_t n;

    if (rem < 0) { /* floor, for times before 1970 */
        rem += 1000;
        secs--;
    }
    t = (time_t)secs;
    if (gmtime_r(&t, &tm) == NULL || (n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm)) == 0) {
        strcpy(out, "1970-01-01T00:00:00.000Z");
        return;
    }
    out[n++] = '.';
    out[n++] = (char)('0' + rem / 100);
    out[n++] = (char)('0' + rem / 10 % 10);
    out[n++] = (char)('0' + rem % 10);
    out[n++] = 'Z';
    out[n] = '\0';
}

/* A text column as a JSON string; null for NULL (and for text that is not
 * UTF-8, which nothing here writes, rather than invalid JSON). */
static json_t *j_text(const gh_param *p)
{
    json_t *s;

    if (p->type != GH_T_STR && p->type != GH_T_BYTES)
        return json_null();
    s = json_stringn(p->data ? p->data : "", p->len);
    return s != NULL ? s : json_null();
}

/* The stored details: JSON we wrote, parsed back (null if unreadable). */
static json_t *j_details(const gh_param *p)
{
    json_t *v;

    if (p->type != GH_T_STR && p->type != GH_T_BYTES)
        return json_null();
    v = json_loadb(p->data ? p->data : "", p->len, JSON_DECODE_ANY, NULL);
    return v != NULL ? v : json_null();
}

typedef struct rows_ud {
    json_t *arr;
    int oom;
} rows_ud;

static int audit_row(void *vud, const gh_param *cols, uint32_t n)
{
    rows_ud *ud = vud;
    json_t *o;
    char when[32];

    if (n < A_NCOLS)
        return 1;
    rfc3339(cols[A_CREATED].type == GH_T_INT ? *(const int64_t *)cols[A_CREATED].data : 0,
            when);
    o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s}",
                  "id", j_text(&cols[A_ID]), "tenant_id", j_text(&cols[A_TENANT]),
                  "action", j_text(&cols[A_ACTION]), "outcome", j_text(&cols[A_OUTCOME]),
                  "actor_id", j_text(&cols[A_ACTOR]), "subject_id", j_text(&cols[A_SUBJECT]),
                  "ip", j_text(&cols[A_IP]), "user_agent", j_text(&cols[A_UA]),
                  "details", j_details(&cols[A_DETAILS]), "created_at", when);
    if (o == NULL || json_array_append_new(ud->arr, o) != 0) {
        ud->oom = 1;
        return 1;
    }
    return 0;
}

/* f's conditions onto q, after its "WHERE 1 = 1" (prefix: f's action
 * prefix made a LIKE pattern). */
static void filter_where(query *q, const gh_audit_filter *f, const char *prefix)
{
    if (f->tenant_id != NULL)
        q_add(q, " AND tenant_id = ?", p_str(f->tenant_id));
    if (f->subject_id != NULL)
        q_add(q, " AND subject_id = ?", p_str(f->subject_id));
    if (f->actor_id != NULL)
        q_add(q, " AND actor_id = ?", p_str(f->actor_id));
    if (f->action_prefix != NULL && *f->action_prefix != '\0')
        q_add(q, " AND action LIKE ? ESCAPE '!'", p_str(prefix));
    if (f->since_ms > 0)
        q_add(q, " AND created_at >= ?", p_int(&f->since_ms));
    if (f->until_ms > 0)
        q_add(q, " AND created_at < ?", p_int(&f->until_ms));
}

static void query_start(query *q, const char *select)
{
    memset(q, 0, sizeof(*q));
    snprintf(q->sql, sizeof q->sql, "%s FROM audit_events WHERE 1 = 1", select);
    q->len = strlen(q->sql);
}

gh_result audit_query(gh_conn *c, gh_call *call, const gh_audit_filter *f, json_t **out,
                      int64_t *total)
{
    int64_t limit, offset;
    char prefix[2 * PREFIX_MAX + 2];
    rows_ud ud = { NULL, 0 };
    query q;
    gh_result r;

    *out = NULL;
    if (f == NULL)
        return GH_ERR_INVALID;
    if (f->action_prefix != NULL && *f->action_prefix != '\0' &&
        (strlen(f->action_prefix) > PREFIX_MAX ||
         like_prefix(f->action_prefix, prefix, sizeof(prefix)) < 0))
        return call_fail(call, GH_ERR_INVALID, "audit: action prefix too long");
    limit = f->limit <= 0 ? QUERY_DEFAULT : f->limit > QUERY_MAX ? QUERY_MAX : f->limit;
    offset = f->offset < 0 ? 0 : f->offset;

    if (total) {
        query_start(&q, "SELECT COUNT(*)");
        filter_where(&q, f, prefix);
        if ((r = store_exec(c, call, q.sql, q.args, q.n, row_count, total, NULL)) != GH_OK)
            return r;
    }
    query_start(&q, "SELECT " AUDIT_COLS);
    filter_where(&q, f, prefix);
    q_add(&q, " ORDER BY created_at DESC, id DESC LIMIT ?", p_int(&limit));
    q_add(&q, " OFFSET ?", p_int(&offset));

    if ((ud.arr = json_array()) == NULL)
        return call_fail(call, GH_ERR_NOMEM, "audit: out of memory");
    r = store_exec(c, call, q.sql, q.args, q.n, audit_row, &ud, NULL);
    if (r == GH_OK && ud.oom)
        r = call_fail(call, GH_ERR_NOMEM, "audit: out of memory");
    if (r != GH_OK) {
        json_decref(ud.arr);
        return r;
    }
    *out = ud.arr;
    return GH_OK;
}
