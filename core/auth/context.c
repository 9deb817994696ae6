/*
 * context.c - the context and outcome of an account decision: see context.h.
 */
#include <string.h>
#include <openssl/crypto.h>
#include "auth/audit.h"
#include "auth/context.h"
#include "log.h"

void auth_clear(auth_result *r)
{
    user_clear(&r->user);
    json_decref(r->methods);
    OPENSSL_cleanse(r, sizeof *r);
}

auth_outcome auth_failed(auth_result *r, gh_result error, const char *what)
{
    r->error = error;
    r->what = what;
    return AUTH_FAILED;
}

void auth_audit(const gh_auth_ctx *ax, const char *action, const char *outcome,
                const char *subject_id, json_t *details)
{
    const char *actor = ax->actor ? ax->actor
                        : strcmp(outcome, "success") == 0 ? subject_id : NULL;
    gh_audit e = { ax->tenant, actor, subject_id, action, outcome, ax->ip, ax->ua, details };
    gh_result r = audit_record(ax->conn, ax->call, &e);
    if (r != GH_OK)
        gh_log_tagged(GH_LOG_ERROR, "audit", ax->call->request_id, "cannot record %s: %s",
                      action, gh_result_str(r));
    json_decref(details);
}

void auth_pw_params(const gh_config *cfg, gh_pw_params *p)
{
    p->memory_kib = cfg->argon2_memory_kib;
    p->iterations = cfg->argon2_iterations;
    p->parallelism = cfg->argon2_parallelism;
}

void auth_pw_policy(const gh_config *cfg, gh_pw_policy *p)
{
    p->min_length = cfg->pw_min_length;
    p->max_length = cfg->pw_max_length;
    p->require_upper = cfg->pw_require_upper;
    p->require_lower = cfg->pw_require_lower;
    p->require_digit = cfg->pw_require_digit;
    p->require_special = cfg->pw_require_special;
    p->check_common = cfg->pw_check_common;
}

void auth_lockout_conf(const gh_config *cfg, gh_lockout_conf *lc)
{
    lc->account_failures = cfg->lockout_account_failures;
    lc->base_delay_ms = cfg->lockout_base_delay_ms;
    lc->max_delay_ms = cfg->lockout_max_delay_ms;
    lc->window_ms = cfg->lockout_window_ms;
    lc->ip_failures = cfg->lockout_ip_failures;
    lc->ip_window_ms = cfg->lockout_ip_window_ms;
}
