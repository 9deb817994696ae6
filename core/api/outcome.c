/*
 * outcome.c - see outcome.h.
 */
#include "api/outcome.h"
#include "api/present.h"

void api_outcome_fail(api_job *j, auth_outcome o, const auth_result *r)
{
    switch (o) {
    case AUTH_LOCKED:
        j->retry_after_s = r->retry_after_s;
        api_fail(j, 429, "too_many_attempts", "Too many failed attempts; try again later.");
        break;
    case AUTH_BAD:
        api_fail(j, 401, "invalid_credentials", "The login or the password is wrong.");
        break;
    case AUTH_DISABLED:
        api_fail(j, 403, "account_disabled", "This account is disabled.");
        break;
    case AUTH_UNVERIFIED:
        api_fail(j, 403, "email_not_verified", "Verify the email address before signing in.");
        break;
    case AUTH_REUSED:
        api_fail(j, 401, "refresh_token_reused",
                 "This refresh token was already used; the session has been ended.");
        break;
    case AUTH_INVALID_REFRESH:
        api_fail(j, 401, "invalid_refresh_token", "The refresh token is invalid or expired.");
        break;
    case AUTH_MFA_TOKEN:
        api_fail(j, 401, "invalid_mfa_token",
                 "The sign-in expired or had too many wrong codes; sign in again.");
        break;
    case AUTH_GONE:
        api_fail(j, 404, "not_found", "The account no longer exists.");
        break;
    case AUTH_REFUSED:
        api_fail(j, 422, r->refusal, r->detail);
        break;
    case AUTH_FAILED:
        api_store_fail(j, r->error, r->what);
        break;
    case AUTH_OK:
    case AUTH_MFA:
        break;
    }
}

json_t *api_outcome_tokens(api_job *j, const auth_result *r)
{
    api_sign_later(j, &r->access, r->claims);
    return present_tokens(r->refresh, j->cfg->access_ttl_ms / 1000);
}
