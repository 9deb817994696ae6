/*
 * provisioning.h - a company's cloud provisioning job (migration 13), the
 * durable state the provisioner thread (notify/provisioner.h) works
 * through, one step of the cloud plugin at a time.
 *
 *   pending -> provisioning -> active | failed
 *   active | failed -> deprovisioning -> deprovisioned
 *
 * A failure after the last retry rolls back (deprovisioning with undo set,
 * which ends in failed with nothing left) or keeps what was made
 * (onboarding.on_failure: keep) for an admin's retry. Resource ids are the
 * plugin's "type:id", one a line, in the order they were made, written
 * after every step. A job is run by whoever claims it: due, and its lease
 * run out; every write of the claimant's names its claim, so one whose
 * lease was taken over changes nothing.
 */
#ifndef GH_PROVISIONING_H
#define GH_PROVISIONING_H

#include <stddef.h>
#include <stdint.h>
#include "store/store.h"

#define PROV_STATE_MAX 16
#define PROV_RESOURCES_MAX 4096 /* a few ids of a few hundred bytes */
#define PROV_ERROR_MAX 512

typedef struct gh_provisioning {
    char tenant_id[37];
    char cloud[65];                 /* the plugin instance's name */
    char state[PROV_STATE_MAX];
    int undo;                       /* deprovisioning rolls a failure back */
    char resources[PROV_RESOURCES_MAX]; /* "type:id\n"..., "" none */
    int64_t attempts;               /* failed tries of the current step */
    int64_t next_attempt_at;        /* ms */
    int64_t lease_until;            /* ms; 0: nobody holds it */
    char lease_owner[37];           /* the claim's id, "" none */
    char last_error[PROV_ERROR_MAX];
    int64_t created_at, updated_at;
} gh_provisioning;

/* A pending job for tenant with plugin instance cloud, due now; in the
 * caller's transaction. */
gh_result provisioning_create(gh_conn *c, gh_call *call, const char *tenant, const char *cloud);
/* GH_ERR_NOT_FOUND: the company has none (no cloud was configured). */
gh_result provisioning_get(gh_conn *c, gh_call *call, const char *tenant, gh_provisioning *out);

/* Claim up to max due jobs (pending, provisioning or deprovisioning) for
 * lease_ms: each by a conditional UPDATE, so a job another instance took
 * between the read and the write is skipped. *out malloc'd (free). */
gh_result provisioning_claim(gh_conn *c, gh_call *call, int64_t now_ms, int64_t lease_ms,
                             size_t max, gh_provisioning **out, size_t *n);
/* Write j's state, undo, resources, attempts, next_attempt_at and
 * last_error, with lease_until (0 lets it go) and, when action is not
 * NULL, its audit row (the webhook event), in one transaction.
 * GH_ERR_CONFLICT when j's claim is no longer the job's (taken over). */
gh_result provisioning_record(gh_conn *c, gh_call *call, const gh_provisioning *j,
                              int64_t lease_until, const char *action);

/* An admin's: provision again a failed or deprovisioned job (its kept
 * resources are resumed), or deprovision an active or failed one.
 * GH_ERR_NOT_FOUND: no job; GH_ERR_CONFLICT: not in a state that allows
 * it (running). In the caller's transaction; *out the job after. */
gh_result provisioning_retry(gh_conn *c, gh_call *call, const char *tenant, gh_provisioning *out);
gh_result provisioning_deprovision(gh_conn *c, gh_call *call, const char *tenant,
                                   gh_provisioning *out);

#endif
