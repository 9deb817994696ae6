/*
 * webhook_events.c - incoming webhooks in the store (webhook_events.h).
 */
#include <stdlib.h>
#include <string.h>
#include "auth/tokens.h"
#include "auth/users.h"
#include "auth/webhook_events.h"
#include "call.h"
#include "clock.h"
#include "store/row.h"

#define COLS "id, tenant_id, integration_id, integration_type, webhook_id, webhook_timestamp, " \
             "verified, source_ip, user_agent, payload, received_at"
#define NCOLS 11
/* f's conditions; "" matches any (a text comparison PostgreSQL can type) */
#define FILTER " FROM webhook_events WHERE tenant_id = ? AND (? = '' OR integration_id = ?) " \
               "AND (? = '' OR integration_type = ?)"

/* Not store_records (store/records.h): a row owns its payload, which a
 * read that fails halfway must free with the rows before it. */
typedef struct event_rows {
    gh_webhook_event *v;
    size_t n, cap;
    gh_result r;
} event_rows;

static int event_row(void *ud, const gh_param *col, uint32_t n)
{
    event_rows *rs = ud;
    if (n < NCOLS)
        return rs->r = GH_ERR_INTERNAL, 1;
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? 2 * rs->cap : 8;
        gh_webhook_event *v = realloc(rs->v, cap * sizeof *v);
        if (!v)
            return rs->r = GH_ERR_NOMEM, 1;
        rs->v = v;
        rs->cap = cap;
    }
    gh_webhook_event *ev = &rs->v[rs->n];
    memset(ev, 0, sizeof *ev);
    if (col_dup(&col[9], &ev->payload) < 0)
        return rs->r = GH_ERR_NOMEM, 1;
    rs->n++;
    col_copy(&col[0], ev->id, sizeof ev->id);
    col_copy(&col[1], ev->tenant_id, sizeof ev->tenant_id);
    col_copy(&col[2], ev->integration_id, sizeof ev->integration_id);
    col_copy(&col[3], ev->integration_type, sizeof ev->integration_type);
    col_copy(&col[4], ev->webhook_id, sizeof ev->webhook_id);
    ev->webhook_timestamp = col_int(&col[5]);
    ev->verified = col_int(&col[6]) != 0;
    col_copy(&col[7], ev->source_ip, sizeof ev->source_ip);
    col_copy(&col[8], ev->user_agent, sizeof ev->user_agent);
    ev->received_at = col_int(&col[10]);
    return 0;
}

void webhook_events_free(gh_webhook_event *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].payload);
        v[i].payload = NULL;
    }
}

static gh_result query(gh_conn *c, gh_call *call, const char *sql, const gh_param *args,
                       size_t nargs, event_rows *rs)
{
    gh_result r = store_exec(c, call, sql, args, nargs, event_row, rs, NULL);
    if (r == GH_OK && rs->r != GH_OK)
        r = call_fail(call, rs->r, "webhook events: reading rows failed");
    if (r != GH_OK) {
        webhook_events_free(rs->v, rs->n);
        free(rs->v);
        rs->v = NULL;
        rs->n = 0;
    }
    return r;
}

/* An optional value: 0 or "" is SQL NULL. */
static gh_param p_opt_int(const int64_t *v)
{
    return *v ? p_int(v) : (gh_param){ NULL, GH_T_NULL, NULL, 0 };
}

gh_result webhook_event_insert(gh_conn *c, gh_call *call, gh_webhook_event *ev)
{
    int64_t verified = ev->verified;
    uuid_new(ev->id);
    ev->received_at = gh_now_ms();
    gh_param args[] = {
        p_str(ev->id), p_str(ev->tenant_id), p_str(ev->integration_id),
        p_str(ev->integration_type), p_opt_empty(ev->webhook_id),
        p_opt_int(&ev->webhook_timestamp), p_int(&verified), p_opt_empty(ev->source_ip),
        p_opt_empty(ev->user_agent), p_str(ev->payload), p_int(&ev->received_at),
    };
    return store_exec(c, call, "INSERT INTO webhook_events (" COLS ") VALUES "
                      "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      args, sizeof args / sizeof args[0], NULL, NULL, NULL);
}

gh_result webhook_event_get(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                            gh_webhook_event *out)
{
    gh_param args[] = { p_str(id), p_str(tenant) };
    event_rows rs = { 0 };
    if (!uuid_valid(id))
        return GH_ERR_NOT_FOUND;
    gh_result r = query(c, call, "SELECT " COLS " FROM webhook_events WHERE id = ? AND "
                        "tenant_id = ?", args, 2, &rs);
    if (r == GH_OK && rs.n == 0)
        r = GH_ERR_NOT_FOUND;
    if (r == GH_OK)
        *out = rs.v[0];
    else
        webhook_events_free(rs.v, rs.n);
    free(rs.v);
    return r;
}

gh_result webhook_event_list(gh_conn *c, gh_call *call, const webhook_event_filter *f,
                             gh_webhook_event **out, size_t *n, int64_t *total)
{
    const char *in = f->integration_id ? f->integration_id : "";
    const char *type = f->integration_type ? f->integration_type : "";
    gh_param args[] = { p_str(f->tenant), p_str(in), p_str(in), p_str(type), p_str(type),
                        p_int(&f->limit), p_int(&f->offset) };
    event_rows rs = { 0 };
    gh_result r = store_exec(c, call, "SELECT COUNT(*)" FILTER, args, 5, row_count, total, NULL);
    if (r == GH_OK)
        r = query(c, call, "SELECT " COLS FILTER " ORDER BY received_at DESC, id DESC "
                  "LIMIT ? OFFSET ?", args, 7, &rs);
    *out = rs.v;
    *n = rs.n;
    return r;
}
