/*
 * outcome.h - auth/'s decisions (auth/context.h) as the API's answers.
 * auth/ decides and never sees a request; these map what it decided to a
 * status and a problem+json code. The OAuth doors map the sign-in
 * outcomes their own way (oauth2.c).
 */
#ifndef GH_API_OUTCOME_H
#define GH_API_OUTCOME_H

#include "api/job.h"
#include "auth/context.h"

/* The problem answer for an outcome other than OK and MFA:
 * 429 too_many_attempts, 401 invalid_credentials, 403 account_disabled,
 * 403 email_not_verified, 401 refresh_token_reused, 401
 * invalid_refresh_token, 401 invalid_mfa_token, 404 not_found, 422 with
 * the policy's code, or the store failure's 503/500. */
void api_outcome_fail(api_job *j, auth_outcome o, const auth_result *r);

/* The token answer of an OK sign-in or refresh: {refresh_token, ...} with
 * the access token signed on the loop (api_sign_later). */
json_t *api_outcome_tokens(api_job *j, const auth_result *r);

#endif
