/*
 * provisioning.c - the provisioning_jobs rows (provisioning.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "auth/audit.h"
#include "auth/provisioning.h"
#include "call.h"
#include "clock.h"
#include "store/claim.h"
#include "store/records.h"
#include "store/row.h"

#define COLS "tenant_id, cloud, state, rolling_back, resources, attempts, next_attempt_at, " \
             "lease_until, lease_owner, last_error, created_at, updated_at"
#define NCOLS 12
/* The states a claim takes: the others wait for an admin. */
#define RUNNING "('pending', 'provisioning', 'deprovisioning')"

static void job_fill(void *rec, const gh_param *col)
{
    gh_provisioning *j = rec;
    col_copy(&col[0], j->tenant_id, sizeof j->tenant_id);
    col_copy(&col[1], j->cloud, sizeof j->cloud);
    col_copy(&col[2], j->state, sizeof j->state);
    j->undo = col_int(&col[3]) != 0;
    col_copy(&col[4], j->resources, sizeof j->resources);
    j->attempts = col_int(&col[5]);
    j->next_attempt_at = col_int(&col[6]);
    j->lease_until = col_int(&col[7]);
    col_copy(&col[8], j->lease_owner, sizeof j->lease_owner);
    col_copy(&col[9], j->last_error, sizeof j->last_error);
    j->created_at = col_int(&col[10]);
    j->updated_at = col_int(&col[11]);
}

gh_result provisioning_create(gh_conn *c, gh_call *call, const char *tenant, const char *cloud)
{
    int64_t now = gh_now_ms(), zero = 0;
    gh_param args[] = { p_str(tenant), p_str(cloud), p_int(&zero), p_int(&zero), p_int(&now),
                        p_int(&zero), p_int(&now), p_int(&now) };
    return store_exec(c, call, "INSERT INTO provisioning_jobs (tenant_id, cloud, state, rolling_back, "
                      "resources, attempts, next_attempt_at, lease_until, created_at, "
                      "updated_at) VALUES (?, ?, 'pending', ?, '', ?, ?, ?, ?, ?)",
                      args, sizeof args / sizeof args[0], NULL, NULL, NULL);
}

gh_result provisioning_get(gh_conn *c, gh_call *call, const char *tenant, gh_provisioning *out)
{
    gh_param arg = p_str(tenant);
    record_query q = { .sql = "SELECT " COLS " FROM provisioning_jobs WHERE tenant_id = ?",
                       .args = &arg, .nargs = 1, .size = sizeof *out, .ncols = NCOLS,
                       .fill = job_fill, .what = "provisioning job" };
    return store_record(c, call, &q, out);
}

/* ---------------------------------------------------------------- claims */

gh_result provisioning_claim(gh_conn *c, gh_call *call, int64_t now_ms, int64_t lease_ms,
                             size_t max, gh_provisioning **out, size_t *n)
{
    static const claim_query q = {
        .table = "provisioning_jobs", .key = "tenant_id", .state = "state IN " RUNNING,
        .read = { .sql = "SELECT " COLS " FROM provisioning_jobs WHERE tenant_id = ?",
                  .size = sizeof(gh_provisioning), .ncols = NCOLS, .fill = job_fill,
                  .what = "provisioning job" },
    };
    void *v = NULL;
    gh_result r = store_claim(c, call, &q, now_ms, lease_ms, max, &v, n);
    *out = v;
    return r;
}

/* ---------------------------------------------------------------- writes */

/* The audit row of a state change: the company is its subject; details
 * say the state, the resources as a list, and the last error. */
static gh_result audit_change(gh_conn *c, gh_call *call, const gh_provisioning *j,
                              const char *action)
{
    json_t *res = json_array();
    char copy[PROV_RESOURCES_MAX], *save = NULL;
    snprintf(copy, sizeof copy, "%s", j->resources);
    for (char *t = strtok_r(copy, "\n", &save); res && t; t = strtok_r(NULL, "\n", &save))
        json_array_append_new(res, json_string(t));
    json_t *d = json_pack("{s:s, s:s, s:o*, s:s*}", "cloud", j->cloud, "state", j->state,
                          "resources", res, "error", j->last_error[0] ? j->last_error : NULL);
    gh_audit e = { .tenant_id = j->tenant_id, .subject_id = j->tenant_id, .action = action,
                   .outcome = "success", .details = d };
    gh_result r = d ? audit_record(c, call, &e)
                    : call_fail(call, GH_ERR_NOMEM, "provisioning: out of memory");
    json_decref(d);
    return r;
}

gh_result provisioning_record(gh_conn *c, gh_call *call, const gh_provisioning *j,
                              int64_t lease_until, const char *action)
{
    int64_t now = gh_now_ms(), undo = j->undo, changed = 0;
    gh_param args[] = { p_str(j->state), p_int(&undo), p_str(j->resources),
                        p_int(&j->attempts), p_int(&j->next_attempt_at), p_int(&lease_until),
                        p_opt_empty(j->last_error), p_int(&now), p_str(j->tenant_id),
                        p_str(j->lease_owner) };
    gh_result r = store_begin(c, call);
    if (r == GH_OK)
        r = store_exec(c, call, "UPDATE provisioning_jobs SET state = ?, rolling_back = ?, resources = ?, "
                       "attempts = ?, next_attempt_at = ?, lease_until = ?, last_error = ?, "
                       "updated_at = ? WHERE tenant_id = ? AND lease_owner = ?", args, 10, NULL,
                       NULL, &changed);
    if (r == GH_OK && changed == 0)
        r = call_fail(call, GH_ERR_CONFLICT, "provisioning: company %s: the job was taken over",
                      j->tenant_id);
    if (r == GH_OK && action)
        r = audit_change(c, call, j, action);
    if (r == GH_OK)
        return store_commit(c, call);
    store_rollback(c, call);
    return r;
}

/* An admin's move of tenant's job from one of `from` to state `to`, due
 * now with no retries counted and no claim. */
static gh_result admin_move(gh_conn *c, gh_call *call, const char *tenant, const char *from,
                            const char *to, gh_provisioning *out)
{
    char sql[256];
    int64_t now = gh_now_ms(), changed = 0;
    gh_param args[] = { p_str(to), p_int(&now), p_int(&now), p_str(tenant) };
    gh_result r = provisioning_get(c, call, tenant, out);
    if (r != GH_OK)
        return r;
    snprintf(sql, sizeof sql, "UPDATE provisioning_jobs SET state = ?, rolling_back = 0, attempts = 0, "
             "next_attempt_at = ?, lease_until = 0, lease_owner = NULL, updated_at = ? "
             "WHERE tenant_id = ? AND state IN %s", from);
    r = store_exec(c, call, sql, args, 4, NULL, NULL, &changed);
    if (r == GH_OK && changed == 0)
        return GH_ERR_CONFLICT;
    return r == GH_OK ? provisioning_get(c, call, tenant, out) : r;
}

gh_result provisioning_retry(gh_conn *c, gh_call *call, const char *tenant, gh_provisioning *out)
{
    return admin_move(c, call, tenant, "('failed', 'deprovisioned')", "pending", out);
}

gh_result provisioning_deprovision(gh_conn *c, gh_call *call, const char *tenant,
                                   gh_provisioning *out)
{
    return admin_move(c, call, tenant, "('active', 'failed')", "deprovisioning", out);
}
