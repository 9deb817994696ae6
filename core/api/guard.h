/*
 * guard.h - bearer authentication for API routes.
 *
 * Two halves, because the loop must not block: the signature and claims of
 * the access token are checked on the loop thread (cheap, no I/O), and
 * whether its session or token id has been revoked is asked of kv on the
 * worker, before the work does anything else (api_conn() calls it).
 *
 *   no token            401 "unauthorized"   WWW-Authenticate: Bearer
 *   bad/expired token   401 "invalid_token"  WWW-Authenticate: Bearer error="invalid_token"
 *   revoked             401 "invalid_token"  (the same)
 *   kv unreachable      503 "unavailable"    Retry-After: 1 (never "valid")
 *   a token that may only enrol a second factor (mfa_enroll), on any
 *   route but /api/v1/users/me/mfa... and logout
 *                       403 "mfa_enrollment_required"
 *   a route's permission not held      403 "forbidden" (checked on the
 *                                      worker, every request: a role
 *                                      change counts at once)
 *
 * An API key (auth/integrations.h), as "Authorization: Bearer gh_..." or
 * "X-API-Key: gh_...", is the same two halves: its shape on the loop, its
 * integration on the worker (a store read, as revocation is a kv one).
 * The caller is then the integration, not a user: it holds exactly the
 * integration's permissions, in its company only, and opens only
 * permission-guarded routes (403 "forbidden" on /users/me and the like).
 *   malformed, unknown, wrong, disabled or expired key
 *                       401 "invalid_token"
 * A route flagged API_KEY (incoming webhooks) takes an API key only, with
 * no permission: anything else is 401 "unauthorized".
 */
#ifndef GH_GUARD_H
#define GH_GUARD_H

#include "api/job.h"
#include "auth/authz.h"
#include "http/request.h"

/* On the loop: fill j->claims from the Authorization header. 0, or -1 with
 * the 401 (or the 403 above) sent. */
int guard_bearer(gh_req *req, api_job *j);
/* In the worker: 0 when the token is still live (and for a route with a
 * permission, api_job_perm, the caller holds it), or -1 with the answer
 * set. */
int guard_live(api_job *j, gh_conn *c);

/* In the worker, after guard_live: the caller's permissions, under the
 * RBAC version guard_live read with the deny-list when it did (a kv
 * server, and a route with a permission or API_RBAC), else read now. */
gh_result guard_perms(api_job *j, gh_conn *c, const authz_set **s);
/* Whether guard_live's kv read brings the RBAC version too. */
static inline int guard_wants_rbac(const api_job *j)
{
    return j->perm != NULL || (j->flags & API_RBAC);
}

/* Nobody hands out more than they hold: 1 when the caller may give or
 * take role_id (of the company the request acts in), because they hold
 * every permission it carries (superuser: only a superuser), 0 when not,
 * -1 with the answer set when the store failed. A missing role is 1: the
 * change itself then answers 404. In the worker. */
int guard_role_allowed(api_job *j, gh_conn *c, const char *role_id);

/* After the work, on a worker: record the API key's use (guard_live asks
 * for it at most once a minute per key). A failure is only logged. */
void guard_key_touch(api_job *j, gh_conn *c);

/* The token in "Authorization: Bearer <token>", or NULL. */
const char *guard_token(gh_req *req);

#endif
