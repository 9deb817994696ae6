/*
 * companies.h - companies (tenants): every user, session, audit record and
 * mail belongs to exactly one. The root company exists from the first start
 * (migration 1, id GH_ROOT_TENANT) and can be neither deactivated nor
 * deleted.
 *
 * A company is found by id or by slug ([a-z0-9-], the name in URLs, host
 * names and sign-in bodies). Deactivating one stops it at once: no sign-in,
 * no sign-up, and every session of its users revoked and deny-listed, so
 * access tokens stop working on every instance; its personal data is due
 * for erasure after a grace period (erase_after).
 */
#ifndef GH_COMPANIES_H
#define GH_COMPANIES_H

#include <stddef.h>
#include <stdint.h>
#include "store/store.h"

#define COMPANY_SLUG_MAX 63
#define COMPANY_NAME_MAX 200

/* Settings a company may set for itself; the defaults are the server's. */
typedef struct gh_company_settings {
    int signup_allowed;     /* 1 (default): anyone may sign up in it */
    int mfa_required;       /* 1: a second factor is required of its users */
    int64_t pw_min_length;  /* 0 (default): auth.password.min_length */
} gh_company_settings;

typedef struct gh_company {
    char id[37];
    char slug[COMPANY_SLUG_MAX + 1];
    char name[COMPANY_NAME_MAX + 1];
    int is_root, is_active;
    gh_company_settings settings;
    int64_t created_at, updated_at; /* ms */
    int64_t deactivated_at;         /* ms, 0: active */
    int64_t erase_after;            /* ms, 0: nothing scheduled */
    int64_t erased_at;              /* ms, 0: its personal data is still there */
} gh_company;

/* 1 if s is a slug: 1..63 of a-z, 0-9 and '-', not starting or ending
 * with '-'. */
int company_slug_valid(const char *s);

/* What a company gets when it says nothing. */
gh_company_settings company_settings_default(void);

/* Settings as JSON text ({"signup_allowed":true,...}), malloc'd; and back
 * (unknown members ignored, ill-typed ones refused: -1). */
char *company_settings_json(const gh_company_settings *s);
int company_settings_parse(const char *json, gh_company_settings *out);

/* A slug made of a name: its ASCII letters (lowered) and digits, each run
 * of anything else one '-', cut short enough for companies_free_slug's
 * suffix; "company" when nothing is left. out: COMPANY_SLUG_MAX + 1. */
void company_slug_from(const char *name, char *out);
/* slug itself when no company has it, else slug-2, slug-3, ... (in place);
 * GH_ERR_CONFLICT when all are taken. */
gh_result companies_free_slug(gh_conn *c, gh_call *call, char *slug);
/* *taken: a company has this name, whatever the case of its ASCII letters. */
gh_result companies_name_taken(gh_conn *c, gh_call *call, const char *name, int *taken);
/* Insert co (slug, name, settings set by the caller; active, not root);
 * fills id and the times. GH_ERR_INVALID: a bad slug or name;
 * GH_ERR_CONFLICT: the slug is taken. */
gh_result companies_create(gh_conn *c, gh_call *call, gh_company *co);
/* GH_ERR_NOT_FOUND when there is no such company. */
gh_result companies_get(gh_conn *c, gh_call *call, const char *id, gh_company *out);
gh_result companies_find_slug(gh_conn *c, gh_call *call, const char *slug, gh_company *out);
/* By id, or by slug (the CLI takes either): an id is tried first. */
gh_result companies_find(gh_conn *c, gh_call *call, const char *id_or_slug, gh_company *out);
/* A page, the root company first, then by creation; *out malloc'd (free),
 * *total all of them. */
gh_result companies_list(gh_conn *c, gh_call *call, int limit, int offset, gh_company **out,
                         size_t *n, int64_t *total);
/* Name and settings of co->id. */
gh_result companies_update(gh_conn *c, gh_call *call, const gh_company *co);
/* Switch a company off (see the top); its data due for erasure at
 * erase_after_ms. GH_ERR_DENIED for the root company; GH_ERR_NOT_FOUND;
 * an inactive one stays as it is (no new date). *revoked: sessions ended. */
gh_result companies_deactivate(gh_conn *c, gh_call *call, const char *id, int64_t erase_after_ms,
                               int64_t deny_ttl_ms, int64_t *revoked);

/* Erase the personal data of deactivated companies whose erase_after has
 * passed (at most a few a call; the daemon's housekeeping calls it
 * periodically): every user's profile and credentials, their sessions and
 * one-time tokens, and the addresses and user agents in their audit
 * records. The rows stay (ids, so references keep working; the records,
 * without the person). *erased: companies done. */
gh_result companies_erase_due(gh_conn *c, gh_call *call, int64_t now_ms, int64_t *erased);

#endif
