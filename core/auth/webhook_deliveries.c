/*
 * webhook_deliveries.c - the delivery rows: a subscription's log,
 * redelivery, and the sender's claim and settlement (webhooks.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "auth/users.h"
#include "auth/webhooks.h"
#include "call.h"
#include "clock.h"
#include "log.h"
#include "notify/sender.h"
#include "store/records.h"
#include "store/row.h"

/* ---------------------------------------------------------------- the log */

#define COLS "id, subscription_id, event_type, status, attempts, next_attempt_at, " \
             "last_status, last_error, created_at, updated_at"
#define NCOLS 10

static void delivery_fill(void *rec, const gh_param *col)
{
    gh_webhook_delivery *d = rec;
    col_copy(&col[0], d->id, sizeof d->id);
    col_copy(&col[1], d->subscription_id, sizeof d->subscription_id);
    col_copy(&col[2], d->event_type, sizeof d->event_type);
    col_copy(&col[3], d->status, sizeof d->status);
    d->attempts = col_int(&col[4]);
    d->next_attempt_at = col_int(&col[5]);
    d->last_status = col_int(&col[6]);
    col_copy(&col[7], d->last_error, sizeof d->last_error);
    d->created_at = col_int(&col[8]);
    d->updated_at = col_int(&col[9]);
}

gh_result webhook_delivery_list(gh_conn *c, gh_call *call, const char *tenant, const char *sub,
                                int64_t limit, int64_t offset, gh_webhook_delivery **out,
                                size_t *n, int64_t *total)
{
    gh_param args[] = { p_str(sub), p_str(tenant), p_int(&limit), p_int(&offset) };
    record_query q = { .sql = "SELECT " COLS " FROM webhook_deliveries WHERE "
                              "subscription_id = ? AND tenant_id = ? ORDER BY created_at DESC, "
                              "id DESC LIMIT ? OFFSET ?",
                       .args = args, .nargs = 4, .size = sizeof(gh_webhook_delivery),
                       .ncols = NCOLS, .fill = delivery_fill, .what = "webhook deliveries" };
    void *v = NULL;
    *out = NULL;
    *n = 0;
    gh_result r = store_exec(c, call, "SELECT COUNT(*) FROM webhook_deliveries WHERE "
                             "subscription_id = ? AND tenant_id = ?", args, 2, row_count, total,
                             NULL);
    if (r == GH_OK && (r = store_records(c, call, &q, &v, n)) == GH_OK)
        *out = v;
    return r;
}

gh_result webhook_delivery_redeliver(gh_conn *c, gh_call *call, const char *tenant,
                                     const char *sub, const char *id)
{
    int64_t now = gh_now_ms(), zero = 0, changed = 0;
    gh_param args[] = { p_int(&zero), p_int(&now), p_int(&now), p_str(id), p_str(sub),
                        p_str(tenant) };
    gh_result r = store_exec(c, call, "UPDATE webhook_deliveries SET status = 'pending', "
                             "attempts = ?, next_attempt_at = ?, updated_at = ? WHERE id = ? AND "
                             "subscription_id = ? AND tenant_id = ?", args, 6, NULL, NULL,
                             &changed);
    return r == GH_OK && changed == 0 ? GH_ERR_NOT_FOUND : r;
}

int64_t webhook_delivery_purge(gh_conn *c, gh_call *call, int64_t keep_ms)
{
    int64_t before = gh_now_ms() - (keep_ms > 0 ? keep_ms : 0), removed = 0;
    gh_param arg = p_int(&before);
    if (store_exec(c, call, "DELETE FROM webhook_deliveries WHERE status IN ('succeeded', "
                   "'failed') AND updated_at <= ?", &arg, 1, NULL, NULL, &removed) != GH_OK)
        return -1;
    return removed;
}

/* ---------------------------------------------------------------- the sender */

typedef struct due {
    char id[37];
    int64_t next_attempt_at, attempts;
} due;

typedef struct due_rows {
    due *v;
    size_t n, max;
} due_rows;

static int due_row(void *ud, const gh_param *col, uint32_t n)
{
    due_rows *rs = ud;
    if (n < 3 || rs->n == rs->max)
        return 1;
    due *d = &rs->v[rs->n++];
    col_copy(&col[0], d->id, sizeof d->id);
    d->next_attempt_at = col_int(&col[1]);
    d->attempts = col_int(&col[2]);
    return 0;
}

static int job_row(void *ud, const gh_param *col, uint32_t n)
{
    gh_webhook_job *j = ud;
    char stored[1024];
    gh_call call;
    if (n < 4)
        return 1;
    col_copy(&col[0], j->subscription_id, sizeof j->subscription_id);
    col_copy(&col[1], j->url, sizeof j->url);
    col_copy(&col[2], stored, sizeof stored);
    if (col_dup(&col[3], &j->payload) < 0)
        return 1;
    call_init(&call, NULL, NULL, 0);
    if (webhook_secret_unseal(&call, j->subscription_id, stored, j->secret) != GH_OK) {
        gh_log(GH_LOG_ERROR, "%s", call.message);
        free(j->payload);
        j->payload = NULL;
    }
    OPENSSL_cleanse(stored, sizeof stored);
    return 0;
}

void webhook_jobs_free(gh_webhook_job *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].payload);
        OPENSSL_cleanse(v[i].secret, sizeof v[i].secret);
    }
    free(v);
}

/* Claim d for lease_ms: only if nobody else moved it since it was read. */
static gh_result claim_one(gh_conn *c, gh_call *call, const due *d, int64_t now_ms,
                           int64_t lease_ms, gh_webhook_job *j)
{
    int64_t until = now_ms + lease_ms, attempts = d->attempts + 1, changed = 0;
    gh_param args[] = { p_int(&until), p_int(&attempts), p_int(&now_ms), p_str(d->id),
                        p_int(&d->next_attempt_at), p_int(&d->attempts) };
    gh_result r = store_exec(c, call, "UPDATE webhook_deliveries SET next_attempt_at = ?, "
                             "attempts = ?, updated_at = ? WHERE id = ? AND status = 'pending' "
                             "AND next_attempt_at = ? AND attempts = ?", args, 6, NULL, NULL,
                             &changed);
    if (r != GH_OK || changed == 0)
        return r == GH_OK ? GH_ERR_CONFLICT : r;
    memset(j, 0, sizeof *j);
    snprintf(j->id, sizeof j->id, "%s", d->id);
    j->attempts = attempts;
    gh_param arg = p_str(d->id);
    r = store_exec(c, call, "SELECT s.id, s.url, s.secret, d.payload FROM webhook_deliveries d "
                   "JOIN webhook_subscriptions s ON s.id = d.subscription_id WHERE d.id = ?",
                   &arg, 1, job_row, j, NULL);
    if (r == GH_OK && !j->payload)
        r = call_fail(call, GH_ERR_INTERNAL, "webhooks: delivery %s: cannot read it", d->id);
    return r;
}

gh_result webhook_delivery_claim(gh_conn *c, gh_call *call, int64_t now_ms, int64_t lease_ms,
                                 size_t max, gh_webhook_job **out, size_t *n)
{
    due_rows rs = { calloc(max, sizeof(due)), 0, max };
    gh_webhook_job *jobs = calloc(max, sizeof *jobs);
    int64_t limit = (int64_t)max;
    gh_param args[] = { p_int(&now_ms), p_int(&limit) };
    *out = NULL;
    *n = 0;
    if (!rs.v || !jobs) {
        free(rs.v);
        free(jobs);
        return call_fail(call, GH_ERR_NOMEM, "webhooks: out of memory");
    }
    gh_result r = store_exec(c, call, "SELECT d.id, d.next_attempt_at, d.attempts FROM "
                             "webhook_deliveries d JOIN webhook_subscriptions s ON "
                             "s.id = d.subscription_id WHERE d.status = 'pending' AND "
                             "d.next_attempt_at <= ? AND s.disabled = 0 "
                             "ORDER BY d.next_attempt_at LIMIT ?", args, 2, due_row, &rs, NULL);
    size_t got = 0;
    for (size_t i = 0; r == GH_OK && i < rs.n; i++) {
        gh_result cr = claim_one(c, call, &rs.v[i], now_ms, lease_ms, &jobs[got]);
        if (cr == GH_OK)
            got++;
        else if (cr == GH_ERR_CONFLICT) /* another sender has it */
            continue;
        else {
            free(jobs[got].payload);
            jobs[got].payload = NULL;
            r = cr;
        }
    }
    free(rs.v);
    if (r != GH_OK && got == 0) {
        webhook_jobs_free(jobs, got);
        return r;
    }
    *out = jobs;
    *n = got;
    return GH_OK;
}

/* A failure on sub: counted while it is enabled (an attempt claimed
 * before it was disabled may end after), and the subscription disabled
 * at the limit. */
static gh_result count_failure(gh_conn *c, gh_call *call, const char *sub, int64_t now_ms,
                               const gh_webhook_policy *p)
{
    char reason[WEBHOOK_REASON_MAX];
    snprintf(reason, sizeof reason, "disabled after %lld consecutive failed deliveries",
             (long long)p->disable_after);
    gh_param args[] = { p_int(&now_ms), p_str(sub) };
    gh_result r = store_exec(c, call, "UPDATE webhook_subscriptions SET consecutive_failures = "
                             "consecutive_failures + 1, updated_at = ? WHERE id = ? AND disabled = 0", args, 2,
                             NULL, NULL, NULL);
    gh_param dis[] = { p_str(reason), p_int(&now_ms), p_str(sub), p_int(&p->disable_after) };
    if (r == GH_OK)
        r = store_exec(c, call, "UPDATE webhook_subscriptions SET disabled = 1, "
                       "disabled_reason = ?, updated_at = ? WHERE id = ? AND disabled = 0 AND "
                       "consecutive_failures >= ?", dis, 4, NULL, NULL, NULL);
    return r;
}

gh_result webhook_delivery_settle(gh_conn *c, gh_call *call, const gh_webhook_job *job,
                                  int64_t http_status, const char *error, int64_t now_ms,
                                  const gh_webhook_policy *p)
{
    int ok = !error;
    int gave_up = !ok && job->attempts >= p->retry.max_attempts;
    int64_t next = ok || gave_up ? now_ms
                                 : now_ms + sender_backoff(&p->retry, (int)job->attempts);
    char err[WEBHOOK_ERROR_MAX];
    snprintf(err, sizeof err, "%s", error ? error : "");
    gh_param args[] = {
        p_str(ok ? "succeeded" : gave_up ? "failed" : "pending"), p_int(&next),
        http_status ? p_int(&http_status) : (gh_param){ NULL, GH_T_NULL, NULL, 0 },
        p_opt_empty(err), p_int(&now_ms), p_str(job->id),
    };
    gh_result r = store_begin(c, call);
    if (r == GH_OK)
        r = store_exec(c, call, "UPDATE webhook_deliveries SET status = ?, next_attempt_at = ?, "
                       "last_status = ?, last_error = ?, updated_at = ? WHERE id = ?", args, 6,
                       NULL, NULL, NULL);
    gh_param sub[] = { p_int(&now_ms), p_str(job->subscription_id) };
    if (r == GH_OK && ok)
        r = store_exec(c, call, "UPDATE webhook_subscriptions SET consecutive_failures = 0, "
                       "updated_at = ? WHERE id = ? AND consecutive_failures <> 0", sub, 2,
                       NULL, NULL, NULL);
    else if (r == GH_OK)
        r = count_failure(c, call, job->subscription_id, now_ms, p);
    if (r == GH_OK)
        return store_commit(c, call);
    store_rollback(c, call);
    return r;
}
