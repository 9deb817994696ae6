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
 *   admin route, not an active admin   403 "forbidden"
 */
#ifndef GH_GUARD_H
#define GH_GUARD_H

#include "api/job.h"
#include "http/request.h"

/* On the loop: fill j->claims from the Authorization header. 0, or -1 with
 * the 401 sent. */
int guard_bearer(gh_req *req, api_job *j);
/* On the loop: the token says admin, or -1 with the 403 sent. */
int guard_admin(gh_req *req, const api_job *j);
/* In the worker: 0 when the token is still live (and for API_ADMIN jobs
 * the caller is still an active admin), or -1 with the answer set. */
int guard_live(api_job *j, gh_conn *c);

/* The token in "Authorization: Bearer <token>", or NULL. */
const char *guard_token(gh_req *req);

#endif
