/*
 * audit.h - the audit trail: who did what, when, from where. Every login
 * success and failure, logout, refresh-token reuse, password change,
 * session revocation and admin action is one row. Never a secret in it.
 */
#ifndef GH_AUDIT_H
#define GH_AUDIT_H

#include <stdint.h>
#include <jansson.h>
#include "store/store.h"

typedef struct gh_audit {
    const char *tenant_id;
    const char *actor_id;    /* who acted (NULL: anonymous) */
    const char *subject_id;  /* whom it concerns (user id) */
    const char *action;      /* "login.success", "login.failure", "logout", ... */
    const char *outcome;     /* "success", "failure", "denied" */
    const char *ip;
    const char *user_agent;
    json_t *details;         /* borrowed; may be NULL; never secrets */
} gh_audit;

/* GH_ERR_INVALID without action or outcome. Details members named like a
 * secret (password, token, secret, hash, ...) are stored as "[redacted]";
 * ip and user_agent are clipped as device_text_clip() does. */
gh_result audit_record(gh_conn *c, gh_call *call, const gh_audit *e);

typedef struct gh_audit_filter {
    const char *tenant_id;   /* NULL: every tenant (root admins) */
    const char *subject_id;  /* NULL: any */
    const char *actor_id;    /* NULL: any */
    const char *action_prefix; /* "login." ... NULL: any */
    int64_t since_ms, until_ms; /* [since, until); 0: open */
    int limit, offset;       /* limit <= 0: 50; at most 500 */
} gh_audit_filter;

/* Newest first, as a JSON array of objects (id, tenant_id, action, outcome,
 * actor_id, subject_id, ip, user_agent, details, created_at as RFC 3339
 * UTC with milliseconds); absent values are null. With total, also how
 * many the filter matches in all (for a page's envelope). */
gh_result audit_query(gh_conn *c, gh_call *call, const gh_audit_filter *f, json_t **out,
                      int64_t *total);

#endif
