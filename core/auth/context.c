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
    json_decref(r->claims);
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
