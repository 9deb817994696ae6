/*
 * webhooks.h - outgoing events: a company's subscriptions, the events its
 * audited changes raise, and their deliveries.
 *
 * A subscription has an https URL (http and private addresses only when
 * the config allows them: webhook_target_check), a list of event type
 * patterns (an exact type, "*", or a prefix "user.*") and a signing
 * secret, whsec_<base64 of 24 random bytes> as Standard Webhooks writes
 * them: shown once, at creation and at rotation, sealed at rest like a
 * second factor's secret.
 *
 * Events come from the audit trail: audit_record() calls
 * webhook_events_record() with its row, in the same transaction, so a
 * delivery row exists exactly when the change committed (a transactional
 * outbox). The sender thread (notify/webhook_sender.h) claims due rows,
 * hands each to the notify plugin and records the outcome here: backoff
 * between attempts, `failed` after max_attempts, and the subscription
 * disabled, with its reason, after disable_after failures in a row.
 */
#ifndef GH_WEBHOOKS_H
#define GH_WEBHOOKS_H

#include <stddef.h>
#include <stdint.h>
#include "auth/audit.h"
#include "auth/webhook_sig.h" /* WEBHOOK_SECRET_TAG, _LEN: one secret format both ways */
#include "notify/outbox_conf.h"
#include "store/store.h"

#define WEBHOOK_URL_MAX 2048
#define WEBHOOK_TYPES_MAX 1024
#define WEBHOOK_TYPE_MAX 64
#define WEBHOOK_REASON_MAX 256
#define WEBHOOK_ERROR_MAX 256

typedef struct gh_webhook_sub {
    char id[37];
    char tenant_id[37];
    char url[WEBHOOK_URL_MAX];
    char event_types[WEBHOOK_TYPES_MAX];   /* space-separated patterns */
    int disabled;
    char disabled_reason[WEBHOOK_REASON_MAX]; /* "" while enabled */
    int64_t consecutive_failures;
    int64_t created_at, updated_at;
} gh_webhook_sub;

typedef struct gh_webhook_delivery {
    char id[37];
    char subscription_id[37];
    char event_type[WEBHOOK_TYPE_MAX];
    char status[16];                       /* pending, succeeded, failed */
    int64_t attempts;
    int64_t next_attempt_at;               /* ms; pending only */
    int64_t last_status;                   /* HTTP status; 0: none yet */
    char last_error[WEBHOOK_ERROR_MAX];
    int64_t created_at, updated_at;
} gh_webhook_delivery;

/* A claimed delivery, for the sender: what the plugin needs. */
typedef struct gh_webhook_job {
    char id[37];
    char subscription_id[37];
    char url[WEBHOOK_URL_MAX];
    char *payload;                         /* malloc'd */
    char secret[WEBHOOK_SECRET_LEN];       /* unsealed; wiped by job_clear */
    int64_t attempts;                      /* counting this one */
} gh_webhook_job;

/* How the sender retries and gives up. */
typedef struct gh_webhook_policy {
    gh_outbox_conf retry;                  /* max_attempts, retry delays */
    int64_t disable_after;                 /* failures in a row */
} gh_webhook_policy;

/* ---- pure */

/* The event type an audited action raises, or NULL: user.created,
 * user.signed_in, ... (docs/design.md lists them). */
const char *webhook_event_type(const char *action, const char *outcome);
/* 1 for a pattern a subscription may hold: "*", a type, or "<prefix>.*";
 * lowercase letters, digits, '_' and '.' only. */
int webhook_pattern_valid(const char *p);
/* 1 when a pattern of the space-separated list matches type. */
int webhook_types_match(const char *list, const char *type);

/* The URL may be a target: http(s) (http only with allow_http), a host,
 * and every address the host resolves to public (unless allow_private).
 * 0, or -1 with why set (names the setting that would allow it). Blocks
 * on DNS. */
int webhook_target_check(const char *url, int allow_http, int allow_private, char *why,
                         size_t whylen);

/* ---- subscriptions. tenant scopes every call. */

gh_result webhook_sub_get(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                          gh_webhook_sub *out);
/* Every subscription of tenant, oldest first; *out malloc'd. */
gh_result webhook_sub_list(gh_conn *c, gh_call *call, const char *tenant, gh_webhook_sub **out,
                           size_t *n);
/* Insert s (url and event_types checked by the caller) with a new id and
 * secret, the secret into secret. */
gh_result webhook_sub_create(gh_conn *c, gh_call *call, const char *tenant, gh_webhook_sub *s,
                             char secret[WEBHOOK_SECRET_LEN]);
/* Write s's url, event_types, disabled, reason and failure count. */
gh_result webhook_sub_update(gh_conn *c, gh_call *call, const char *tenant, gh_webhook_sub *s);
gh_result webhook_sub_delete(gh_conn *c, gh_call *call, const char *tenant, const char *id);
/* A new secret into secret; the old one stops signing now. */
gh_result webhook_sub_rotate(gh_conn *c, gh_call *call, const char *tenant, gh_webhook_sub *s,
                             char secret[WEBHOOK_SECRET_LEN]);

/* A secret as stored back to its text (for the sender). */
gh_result webhook_secret_unseal(gh_call *call, const char *id, const char *stored,
                                char secret[WEBHOOK_SECRET_LEN]);

/* ---- events */

/* For audit_record, in its transaction: the event e raises, if any, as a
 * pending delivery to each enabled subscription of its company that
 * matches (company.created to the root company's too). details: the row's
 * details as stored (redacted JSON text) or NULL. *queued: how many
 * deliveries were written. */
gh_result webhook_events_record(gh_conn *c, gh_call *call, const gh_audit *e,
                                const char *details, int64_t now_ms, int *queued);

/* ---- deliveries */

/* A page of sub's deliveries, newest first; *out malloc'd, *total all. */
gh_result webhook_delivery_list(gh_conn *c, gh_call *call, const char *tenant, const char *sub,
                                int64_t limit, int64_t offset, gh_webhook_delivery **out,
                                size_t *n, int64_t *total);
/* The delivery pending again, due now, with its attempts counted afresh. */
gh_result webhook_delivery_redeliver(gh_conn *c, gh_call *call, const char *tenant,
                                     const char *sub, const char *id);
/* Deletes the deliveries settled (succeeded, or failed for good) longer
 * than keep_ms ago: how many, or -1. Pending ones stay. For the daemon's
 * periodic purge. */
int64_t webhook_delivery_purge(gh_conn *c, gh_call *call, int64_t keep_ms);
/* Up to max due deliveries of enabled subscriptions, each claimed for
 * lease_ms (its next_attempt_at moved on, so another sender, or this one
 * after a crash, takes it only once the lease is over) with its attempt
 * counted; *out malloc'd (webhook_jobs_free). */
gh_result webhook_delivery_claim(gh_conn *c, gh_call *call, int64_t now_ms, int64_t lease_ms,
                                 size_t max, gh_webhook_job **out, size_t *n);
/* The outcome of job's attempt: http_status (0: no answer) and error
 * (NULL on success). Success settles the row and clears the
 * subscription's failure count; a failure schedules the next attempt or
 * gives up, and may disable the subscription. */
gh_result webhook_delivery_settle(gh_conn *c, gh_call *call, const gh_webhook_job *job,
                                  int64_t http_status, const char *error, int64_t now_ms,
                                  const gh_webhook_policy *p);
void webhook_jobs_free(gh_webhook_job *v, size_t n);

#endif
