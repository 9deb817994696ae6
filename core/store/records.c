/*
 * records.c - a query's rows as an array of records. See records.h.
 */
#include <stdlib.h>
#include <string.h>
#include "call.h"
#include "store/records.h"

typedef struct records {
    const record_query *q;
    char *v;
    size_t n, cap;
    gh_result r;
} records;

static int record_row(void *ud, const gh_param *cols, uint32_t n)
{
    records *rs = ud;
    if (n < rs->q->ncols)
        return rs->r = GH_ERR_INTERNAL, 1;
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? 2 * rs->cap : 4;
        char *v = realloc(rs->v, cap * rs->q->size);
        if (!v)
            return rs->r = GH_ERR_NOMEM, 1;
        rs->v = v;
        rs->cap = cap;
    }
    void *rec = rs->v + rs->n++ * rs->q->size;
    memset(rec, 0, rs->q->size);
    rs->q->fill(rec, cols);
    return 0;
}

gh_result store_records(gh_conn *c, gh_call *call, const record_query *q, void **out, size_t *n)
{
    records rs = { .q = q };
    gh_result r = store_exec(c, call, q->sql, q->args, q->nargs, record_row, &rs, NULL);
    if (r == GH_OK && rs.r != GH_OK)
        r = call_fail(call, rs.r, "%s: reading rows failed", q->what);
    if (r != GH_OK) {
        free(rs.v);
        rs.v = NULL;
        rs.n = 0;
    }
    *out = rs.v;
    *n = rs.n;
    return r;
}

gh_result store_record(gh_conn *c, gh_call *call, const record_query *q, void *out)
{
    void *v;
    size_t n;
    gh_result r = store_records(c, call, q, &v, &n);
    if (r == GH_OK && n == 0)
        r = GH_ERR_NOT_FOUND;
    if (r == GH_OK)
        memcpy(out, v, q->size);
    free(v);
    return r;
}
