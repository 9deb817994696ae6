/*
 * present.c - service structs into the JSON the API answers with. See
 * present.h for the shapes.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "api/present.h"

json_t *present_time(int64_t ms)
{
    if (ms <= 0)
        return json_null();
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char buf[40];
    size_t n = gmtime_r(&t, &tm) ? strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm) : 0;
    if (n == 0)
        return json_null();
    snprintf(buf + n, sizeof buf - n, ".%03dZ", (int)(ms % 1000));
    return json_string(buf);
}

/* NULL strings become null */
static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *present_user(const gh_user *u)
{
    json_t *roles = json_array();
    if (roles && u->is_admin)
        json_array_append_new(roles, json_string("admin"));
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:b, s:b, s:o*, s:o, s:o}",
                     "id", u->id,
                     "email", str_or_null(u->email),
                     "username", str_or_null(u->username),
                     "full_name", str_or_null(u->full_name),
                     "phone", str_or_null(u->phone),
                     "email_verified", u->email_verified_at > 0,
                     "is_active", u->is_active != 0,
                     "roles", roles,
                     "created_at", present_time(u->created_at),
                     "updated_at", present_time(u->updated_at));
}

json_t *present_session(const gh_session *s, const char *current_sid)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:b}",
                     "id", s->id,
                     "user_agent", s->user_agent,
                     "ip", s->ip,
                     "created_at", present_time(s->created_at),
                     "last_used_at", present_time(s->last_used_at),
                     "expires_at", present_time(s->expires_at),
                     "current", current_sid && strcmp(s->id, current_sid) == 0);
}

json_t *present_tokens(const char *access, const char *refresh, int64_t expires_in_s)
{
    json_t *t = json_pack("{s:s, s:s, s:I}", "access_token", access, "token_type", "bearer",
                          "expires_in", (json_int_t)expires_in_s);
    if (t && refresh)
        json_object_set_new(t, "refresh_token", json_string(refresh));
    return t;
}
