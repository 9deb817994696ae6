/*
 * claim.c - due rows taken with a lease. See claim.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "auth/tokens.h"
#include "call.h"
#include "store/claim.h"
#include "store/row.h"

#define SQL_MAX 512

typedef struct due {
    char key[37];
    int64_t lease_until;
} due;

static void due_fill(void *rec, const gh_param *col)
{
    due *d = rec;
    col_copy(&col[0], d->key, sizeof d->key);
    d->lease_until = col_int(&col[1]);
}

/* The due rows' keys and the leases they were read with. */
static gh_result read_due(gh_conn *c, gh_call *call, const claim_query *q, int64_t now_ms,
                          size_t max, due **v, size_t *n)
{
    char sql[SQL_MAX];
    int64_t limit = (int64_t)max;
    gh_param args[] = { p_int(&now_ms), p_int(&now_ms), p_int(&limit) };
    snprintf(sql, sizeof sql, "SELECT %s, lease_until FROM %s WHERE %s AND next_attempt_at <= ? "
             "AND lease_until <= ? ORDER BY next_attempt_at LIMIT ?", q->key, q->table, q->state);
    record_query rq = { .sql = sql, .args = args, .nargs = 3, .size = sizeof(due), .ncols = 2,
                        .fill = due_fill, .what = q->read.what };
    return store_records(c, call, &rq, (void **)v, n);
}

/* d under a new claim id, read back into out: only if its lease is still
 * the one read (CONFLICT otherwise: another instance has it). */
static gh_result claim_one(gh_conn *c, gh_call *call, const claim_query *q, const due *d,
                           int64_t now_ms, int64_t lease_ms, void *out)
{
    char sql[SQL_MAX], owner[37];
    int64_t until = now_ms + lease_ms, changed = 0;
    uuid_new(owner);
    gh_param args[] = { p_int(&until), p_str(owner), p_int(&now_ms), p_str(d->key),
                        p_int(&d->lease_until) };
    snprintf(sql, sizeof sql, "UPDATE %s SET lease_until = ?, lease_owner = ?, %s%supdated_at = ? "
             "WHERE %s = ? AND lease_until = ? AND %s", q->table, q->also ? q->also : "",
             q->also ? ", " : "", q->key, q->state);
    gh_result r = store_exec(c, call, sql, args, 5, NULL, NULL, &changed);
    if (r != GH_OK || changed == 0)
        return r == GH_OK ? GH_ERR_CONFLICT : r;
    gh_param key = p_str(d->key);
    record_query read = q->read;
    read.args = &key;
    read.nargs = 1;
    return store_record(c, call, &read, out);
}

gh_result store_claim(gh_conn *c, gh_call *call, const claim_query *q, int64_t now_ms,
                      int64_t lease_ms, size_t max, void **out, size_t *n)
{
    due *v = NULL;
    size_t nd = 0, got = 0;
    *out = NULL;
    *n = 0;
    gh_result r = read_due(c, call, q, now_ms, max, &v, &nd);
    char *recs = r == GH_OK && nd ? calloc(nd, q->read.size) : NULL;
    if (r == GH_OK && nd && !recs)
        r = call_fail(call, GH_ERR_NOMEM, "%s: out of memory", q->read.what);
    for (size_t i = 0; r == GH_OK && i < nd; i++) {
        gh_result cr = claim_one(c, call, q, &v[i], now_ms, lease_ms,
                                 recs + got * q->read.size);
        if (cr == GH_OK)
            got++;
        else if (cr != GH_ERR_CONFLICT)
            r = cr;
    }
    free(v);
    if (got == 0) {
        free(recs);
        return r;
    }
    *out = recs;
    *n = got;
    return GH_OK;
}
