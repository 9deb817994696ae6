/*
 * passwords.c - see passwords.h.
 */
#include <string.h>
#include "api/passwords.h"
#include "auth/password.h"
#include "auth/sessions.h"
#include "auth/users.h"

int passwords_policy_ok(api_job *j, const char *pw, const char *email, const char *username)
{
    const char *context[3] = { NULL, NULL, NULL };
    size_t n = 0;
    if (email && *email)
        context[n++] = email;
    if (username && *username)
        context[n++] = username;
    const char *detail = NULL;
    const char *code = password_policy_check(&j->cfg->pw, pw, strlen(pw), context, &detail);
    if (code)
        api_fail(j, 422, code, detail);
    return code == NULL;
}

void passwords_replace(api_job *j, gh_conn *c, const char *user_id, const char *keep_sid,
                       const char *reason, const char *action, const char *hash)
{
    int64_t n = 0;
    gh_result r = store_begin(c, &j->call);
    if (r == GH_OK)
        r = users_set_password(c, &j->call, user_id, hash);
    if (r == GH_OK)
        r = session_revoke_all(c, &j->call, user_id, keep_sid, reason, j->cfg->access_ttl_ms,
                               &n);
    if (r == GH_OK)
        api_audit(j, c, action, "success", user_id,
                  json_pack("{s:I}", "sessions_revoked", (json_int_t)n));
    if (r == GH_OK)
        r = store_commit(c, &j->call);
    else
        store_rollback(c, &j->call);
    if (r != GH_OK)
        api_store_fail(j, r, action);
    else
        api_ok(j, 204, NULL);
}
