/*
 * company.h - which company a request without an access token is for:
 * sign-up, sign-in, the password grant and password mail. A request with a
 * token is for its token's company, always.
 *
 * In order: the body's "company" (a slug), the company the Host header
 * maps to (companies.hosts), the configured default (companies.default).
 * A company that does not exist and one that is deactivated answer the
 * same: 404 company_not_found (invalid_grant for OAuth), so a deactivated
 * company cannot be told from a missing one.
 */
#ifndef GH_API_COMPANY_H
#define GH_API_COMPANY_H

#include "api/job.h"

/* On the loop, after the body is read: pick the slug (a bad "company" is
 * answered 400 and the job freed: -1). The worker resolves it before the
 * work runs (api_company_resolve); api_tenant() is then its id. */
int api_company_pick(gh_req *req, api_job *j);

/* In the worker, from job_conn: 0 with j->company filled, or -1 with the
 * answer set. Nothing to do (0) when no slug was picked. */
int api_company_resolve(api_job *j, gh_conn *c);

#endif
