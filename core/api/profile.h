/*
 * profile.h - changing an account's profile, shared by PUT /api/v1/users/me
 * and the admin's PUT /api/v1/users/{id}.
 *
 * Fields: username, full_name, given_name (or first_name), family_name (or
 * last_name), phone, country_code (ISO 3166-1 alpha-2, stored upper-case),
 * and (admins only) email. A field left out stays as it is; null or ""
 * clears it (email cannot be cleared). The phone is kept as written: a
 * country says nothing sure about how its national numbers are dialled
 * internationally (a leading 0 goes in the UK, stays in Italy), so it is
 * not folded into the number.
 *   422 invalid_email, invalid_username, invalid_phone, invalid_country_code,
 *       invalid_field, unknown_field (see PROFILE_FIELDS)
 *   409 email_taken, username_taken
 */
#ifndef GH_API_PROFILE_H
#define GH_API_PROFILE_H

#include <jansson.h>
#include "api/job.h"
#include "http/request.h"

/* The members a profile body may hold, for input_only() lists. */
#define PROFILE_FIELDS                                                        \
    "username", "full_name", "given_name", "first_name", "family_name", "last_name", "phone", \
        "country_code"

/* On the loop: check the fields in `in` (email only with allow_email).
 * 0, or -1 with the 422 sent. */
int profile_check(gh_req *req, json_t *in, int allow_email);
/* A new account's optional profile fields from j->in (checked by
 * profile_check; "" is none) into u: malloc'd strings. 0, or -1 when out
 * of memory. */
int profile_fill(const api_job *j, gh_user *u);
/* In the worker: apply j->in to the user `id`. 0, or -1 with the answer set. */
int profile_apply(api_job *j, gh_conn *c, const char *tenant, const char *id);
/* In the worker: answer with the user `id` (status), or 404 not_found. */
void profile_answer(api_job *j, gh_conn *c, const char *tenant, const char *id, int status);

#endif
