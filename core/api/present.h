/*
 * present.h - how accounts, sessions and tokens look in API answers. One
 * place, so /users/me, the admin routes and the sign-in answers agree.
 *
 *   user     {id, email, username, full_name, given_name, family_name, phone,
 *             country_code, external_id, email_verified, is_active,
 *             roles: ["admin"] | [], created_at, updated_at}
 *   session  {id, user_agent, ip, created_at, last_used_at, expires_at, current}
 *   tokens   {access_token, token_type: "bearer", expires_in, refresh_token}
 * Times are RFC 3339 in UTC with milliseconds, as in audit events;
 * absent values are null.
 */
#ifndef GH_API_PRESENT_H
#define GH_API_PRESENT_H

#include <stdint.h>
#include <jansson.h>
#include "auth/companies.h"
#include "auth/sessions.h"
#include "auth/users.h"

/* "2024-05-01T12:00:00.123Z" from ms since the epoch; null for 0. */
json_t *present_time(int64_t ms);
/* A space-separated list (scopes, permissions) as an array of strings. */
json_t *present_words(const char *list);
json_t *present_user(const gh_user *u);
/* The same user as compact JSON text, malloc'd (NULL: no memory), its
 * length in *len. Memoised per thread: the one to answer with. */
char *present_user_json(const gh_user *u, size_t *len);
/* Wipes and frees this thread's memo of rendered users (idle threads). */
void present_forget(void);
json_t *present_session(const gh_session *s, const char *current_sid);
/* The token answer; refresh may be NULL. "access_token" is null here: the
 * job signs it on the loop (api_sign_later). */
json_t *present_tokens(const char *refresh, int64_t expires_in_s);
/* {id, slug, name, is_root, is_active, settings, created_at, updated_at,
 * deactivated_at, erase_after, erased_at}: /api/v1/companies' and
 * onboarding's. */
json_t *present_company(const gh_company *co);

#endif
