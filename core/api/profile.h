/*
 * profile.h - changing an account's profile, shared by PUT /api/v1/users/me
 * and the admin's PUT /api/v1/users/{id}.
 *
 * Fields: username, full_name, phone, and (admins only) email. A field
 * left out stays as it is; null or "" clears it (email cannot be cleared).
 *   422 invalid_email, invalid_username, invalid_phone, invalid_field
 *   409 email_taken, username_taken
 */
#ifndef GH_API_PROFILE_H
#define GH_API_PROFILE_H

#include <jansson.h>
#include "api/job.h"
#include "http/request.h"

/* On the loop: check the fields in `in` (email only with allow_email).
 * 0, or -1 with the 422 sent. */
int profile_check(gh_req *req, json_t *in, int allow_email);
/* In the worker: apply j->in to the user `id`. 0, or -1 with the answer set. */
int profile_apply(api_job *j, gh_conn *c, const char *tenant, const char *id);
/* In the worker: answer with the user `id` (status), or 404 not_found. */
void profile_answer(api_job *j, gh_conn *c, const char *tenant, const char *id, int status);

#endif
