/*
 * mail_outbox.c - the mail_outbox rows (mail_outbox.h). The claim is
 * provisioning's: a row is taken by a conditional UPDATE on the lease it
 * was read with, so of two senders reading it one wins.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "auth/mail_outbox.h"
#include "auth/tokens.h"
#include "call.h"
#include "clock.h"
#include "store/records.h"
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

typedef struct due {
    char id[37];
    int64_t lease_until;
} due;

static void due_fill(void *rec, const gh_param *col)
{
    due *d = rec;
    col_copy(&col[0], d->id, sizeof d->id);
    d->lease_until = col_int(&col[1]);
}

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

/* d for lease_ms under a new claim id, its attempt counted: only if its
 * lease is still the one read. */
static gh_result claim_one(gh_conn *c, gh_call *call, const due *d, int64_t now_ms,
                           int64_t lease_ms, gh_mail_row *out)
{
    char owner[37];
    int64_t until = now_ms + lease_ms, changed = 0;
    uuid_new(owner);
    gh_param args[] = { p_int(&until), p_str(owner), p_int(&now_ms), p_str(d->id),
                        p_int(&d->lease_until) };
    gh_result r = store_exec(c, call, "UPDATE mail_outbox SET lease_until = ?, lease_owner = ?, "
                             "attempts = attempts + 1, updated_at = ? WHERE id = ? AND "
                             "lease_until = ? AND status = 'pending'", args, 5, NULL, NULL,
                             &changed);
    if (r != GH_OK || changed == 0)
        return r == GH_OK ? GH_ERR_CONFLICT : r;
    gh_param arg = p_str(d->id);
    record_query q = { .sql = "SELECT id, tenant_id, user_id, purpose, lease_owner, attempts, "
                              "created_at FROM mail_outbox WHERE id = ?",
                       .args = &arg, .nargs = 1, .size = sizeof *out, .ncols = 7,
                       .fill = row_fill, .what = "mail outbox row" };
    return store_record(c, call, &q, out);
}

gh_result mail_outbox_claim(gh_conn *c, gh_call *call, int64_t now_ms, int64_t lease_ms,
                            size_t max, gh_mail_row **out, size_t *n)
{
    int64_t limit = (int64_t)max;
    gh_param args[] = { p_int(&now_ms), p_int(&now_ms), p_int(&limit) };
    record_query q = { .sql = "SELECT id, lease_until FROM mail_outbox WHERE status = 'pending' "
                              "AND next_attempt_at <= ? AND lease_until <= ? "
                              "ORDER BY next_attempt_at LIMIT ?",
                       .args = args, .nargs = 3, .size = sizeof(due), .ncols = 2,
                       .fill = due_fill, .what = "due mail" };
    void *v = NULL;
    size_t nd = 0, got = 0;
    *out = NULL;
    *n = 0;
    gh_result r = store_records(c, call, &q, &v, &nd);
    gh_mail_row *rows = r == GH_OK && nd ? calloc(nd, sizeof *rows) : NULL;
    if (r == GH_OK && nd && !rows)
        r = call_fail(call, GH_ERR_NOMEM, "mail: out of memory");
    for (size_t i = 0; r == GH_OK && i < nd; i++) {
        gh_result cr = claim_one(c, call, &((due *)v)[i], now_ms, lease_ms, &rows[got]);
        if (cr == GH_OK)
            got++;
        else if (cr != GH_ERR_CONFLICT) /* CONFLICT: another sender has it */
            r = cr;
    }
    free(v);
    if (got == 0) {
        free(rows);
        return r;
    }
    *out = rows;
    *n = got;
    return GH_OK;
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
