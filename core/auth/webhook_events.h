/*
 * webhook_events.h - incoming webhooks as received, in the store: one row
 * per accepted POST /api/v1/webhooks/{type}, the company's record of what
 * its integrations sent. A Standard Webhooks id is taken once per
 * integration (a unique index): a replay is GH_ERR_CONFLICT.
 */
#ifndef GH_WEBHOOK_EVENTS_H
#define GH_WEBHOOK_EVENTS_H

#include <stdint.h>
#include "auth/webhook_sig.h"
#include "store/store.h"

typedef struct gh_webhook_event {
    char id[37];
    char tenant_id[37];
    char integration_id[37];
    char integration_type[16];
    char webhook_id[WEBHOOK_ID_MAX + 1]; /* "" when the sender gave none */
    int64_t webhook_timestamp;           /* seconds; 0: none given */
    int verified;                        /* its signature was checked */
    char source_ip[64];
    char user_agent[256];
    char *payload;                       /* the body as received (JSON), malloc'd */
    int64_t received_at;                 /* ms */
} gh_webhook_event;

typedef struct webhook_event_filter {
    const char *tenant;
    const char *integration_id;          /* "" or NULL: any */
    const char *integration_type;        /* "" or NULL: any */
    int64_t limit, offset;
} webhook_event_filter;

/* Store ev (all but id and received_at, which it sets) with a new id.
 * GH_ERR_CONFLICT: the integration has had this webhook id already. */
gh_result webhook_event_insert(gh_conn *c, gh_call *call, gh_webhook_event *ev);
/* tenant's event id into out (webhook_events_free(out, 1) after). */
gh_result webhook_event_get(gh_conn *c, gh_call *call, const char *tenant, const char *id,
                            gh_webhook_event *out);
/* A page of f's events, newest first (*out malloc'd, *n of them), and how
 * many match in all. */
gh_result webhook_event_list(gh_conn *c, gh_call *call, const webhook_event_filter *f,
                             gh_webhook_event **out, size_t *n, int64_t *total);
/* Free the payloads of v[0..n) (not v). */
void webhook_events_free(gh_webhook_event *v, size_t n);

#endif
