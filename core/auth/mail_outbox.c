/*
 * mail_outbox.c - the mail_outbox rows (mail_outbox.h). A row is claimed
 * as provisioning jobs are (store/claim.h), its attempt counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "auth/mail_outbox.h"
#include "auth/tokens.h"
#include "call.h"
#include "clock.h"
#include "store/claim.h"
#include "store/row.h"

gh_result mail_outbox_add(gh_conn *c, gh_call *call, const char *tenant, const char *user_id,
                          const char *purpose)
{
    char id[37];
    int64_t now = gh_now_ms(), zero = 0;
    uuid_new(id);
    gh_param args[] = { p_str(id), p_str(tenant), p_str(user_id), p_str(purpose), p_int(&zero),
                        p_int(&now), p_int(&zero), p_int(&now), p_int(&now) };
    return store_exec(c, call, "INSERT INTO mail_outbox (id, tenant_id, user_id, purpose, "
                      "status, attempts, next_attempt_at, lease_until, created_at, updated_at) "
                      "VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)",
                      args, sizeof args / sizeof args[0], NULL, NULL, NULL);
}

/* ---------------------------------------------------------------- claims */

static void row_fill(void *rec, const gh_param *col)
{
    gh_mail_row *r = rec;
    col_copy(&col[0], r->id, sizeof r->id);
    col_copy(&col[1], r->tenant_id, sizeof r->tenant_id);
    col_copy(&col[2], r->user_id, sizeof r->user_id);
    col_copy(&col[3], r->purpose, sizeof r->purpose);
    col_copy(&col[4], r->lease_owner, sizeof r->lease_owner);
    r->attempts = col_int(&col[5]);
    r->created_at = col_int(&col[6]);
}

gh_result mail_outbox_claim(gh_conn *c, gh_call *call, int64_t now_ms, int64_t lease_ms,
                            size_t max, gh_mail_row **out, size_t *n)
{
    static const claim_query q = {
        .table = "mail_outbox", .key = "id", .state = "status = 'pending'",
        .also = "attempts = attempts + 1",
        .read = { .sql = "SELECT id, tenant_id, user_id, purpose, lease_owner, attempts, "
                         "created_at FROM mail_outbox WHERE id = ?",
                  .size = sizeof(gh_mail_row), .ncols = 7, .fill = row_fill,
                  .what = "mail outbox" },
    };
    void *v = NULL;
    gh_result r = store_claim(c, call, &q, now_ms, lease_ms, max, &v, n);
    *out = v;
    return r;
}

/* ---------------------------------------------------------------- settling */

gh_result mail_outbox_done(gh_conn *c, gh_call *call, const gh_mail_row *row)
{
    gh_param args[] = { p_str(row->id), p_str(row->lease_owner) };
    return store_exec(c, call, "DELETE FROM mail_outbox WHERE id = ? AND lease_owner = ?",
                      args, 2, NULL, NULL, NULL);
}

gh_result mail_outbox_failed(gh_conn *c, gh_call *call, const gh_mail_row *row,
                             int64_t next_ms, const char *error)
{
    char err[MAIL_ERROR_MAX];
    int64_t now = gh_now_ms(), zero = 0, changed = 0;
    snprintf(err, sizeof err, "%s", error ? error : "");
    gh_param args[] = { p_str(next_ms ? "pending" : "failed"), p_int(next_ms ? &next_ms : &now),
                        p_int(&zero), p_opt_empty(err), p_int(&now), p_str(row->id),
                        p_str(row->lease_owner) };
    gh_result r = store_exec(c, call, "UPDATE mail_outbox SET status = ?, next_attempt_at = ?, "
                             "lease_until = ?, last_error = ?, updated_at = ? WHERE id = ? AND "
                             "lease_owner = ?", args, 7, NULL, NULL, &changed);
    if (r == GH_OK && changed == 0)
        r = call_fail(call, GH_ERR_CONFLICT, "mail: row %s was taken over", row->id);
    return r;
}

int64_t mail_outbox_purge(gh_conn *c, gh_call *call, int64_t keep_ms)
{
    int64_t before = gh_now_ms() - (keep_ms > 0 ? keep_ms : 0), removed = 0;
    gh_param arg = p_int(&before);
    if (store_exec(c, call, "DELETE FROM mail_outbox WHERE status = 'failed' AND updated_at <= ?",
                   &arg, 1, NULL, NULL, &removed) != GH_OK)
        return -1;
    return removed;
}

void mail_outbox_decoy(gh_conn *c, gh_call *call)
{
    char id[37];
    int64_t now = gh_now_ms();
    uuid_new(id); /* no row has it */
    gh_param args[] = { p_int(&now), p_str(id) };
    store_exec(c, call, "UPDATE mail_outbox SET updated_at = ? WHERE id = ?", args, 2, NULL,
               NULL, NULL);
}

gh_result mail_outbox_pending(gh_conn *c, gh_call *call, int64_t *n)
{
    *n = 0;
    return store_exec(c, call, "SELECT COUNT(*) FROM mail_outbox WHERE status = 'pending'",
                      NULL, 0, row_count, n, NULL);
}
