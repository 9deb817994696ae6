/*
 * present.c - service structs into the JSON the API answers with. See
 * present.h for the shapes.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "api/present.h"

/* n decimal digits of v (0 <= v < 10^n) at out, zero-padded */
static void digits(char *out, int v, int n)
{
    while (n-- > 0) {
        out[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

json_t *present_time(int64_t ms)
{
    if (ms <= 0)
        return json_null();
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999)
        return json_null();
    /* by hand, not strftime or snprintf: two of these go into every user
     * answer, and printf's machinery cost more than the rest of it */
    char buf[] = "YYYY-MM-DDTHH:MM:SS.mmmZ";
    digits(buf, tm.tm_year + 1900, 4);
    digits(buf + 5, tm.tm_mon + 1, 2);
    digits(buf + 8, tm.tm_mday, 2);
    digits(buf + 11, tm.tm_hour, 2);
    digits(buf + 14, tm.tm_min, 2);
    digits(buf + 17, tm.tm_sec, 2);
    digits(buf + 20, (int)(ms % 1000), 3);
    return json_stringn_nocheck(buf, sizeof buf - 1);
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

json_t *present_tokens(const char *refresh, int64_t expires_in_s)
{
    json_t *t = json_pack("{s:n, s:s, s:I}", "access_token", "token_type", "bearer",
                          "expires_in", (json_int_t)expires_in_s);
    if (t && refresh)
        json_object_set_new(t, "refresh_token", json_string(refresh));
    return t;
}
