/*
 * profile.c - checking and applying profile changes. See profile.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "api/input.h"
#include "api/present.h"
#include "api/profile.h"
#include "auth/users.h"

#define FULL_NAME_MAX 200
#define PART_NAME_MAX 100 /* a given or a family name */
#define PHONE_MAX 32

/* E.164 with the usual separators: "+1 (555) 010-9999". */
static int phone_ok(const char *s)
{
    int digits = 0;
    for (const char *p = s; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (!(*p == '+' && p == s) && !strchr(" -().", *p))
            return 0;
    }
    return digits >= 4 && digits <= 15;
}

static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* null means "clear": make it "" so the worker passes it on as such */
static void null_to_empty(json_t *in, const char *key)
{
    if (json_is_null(json_object_get(in, key)))
        json_object_set_new(in, key, json_string(""));
}

/* The seed services' name for a field (first_name) becomes ours
 * (given_name); both at once is refused rather than one picked. */
static int alias(gh_req *req, json_t *in, const char *theirs, const char *ours)
{
    json_t *v = json_object_get(in, theirs);
    if (!v)
        return 0;
    if (json_object_get(in, ours)) {
        char why[96];
        snprintf(why, sizeof why, "is another name for '%s': send one of them.", ours);
        input_reject(req, "invalid_field", theirs, why);
        return -1;
    }
    json_object_set(in, ours, v);
    json_object_del(in, theirs);
    return 0;
}

/* "" (clear) or ISO 3166-1 alpha-2, kept upper-case; put back so. */
static int country_ok(json_t *in, const char *s)
{
    if (!*s)
        return 1;
    if (strlen(s) != 2 || !isalpha((unsigned char)s[0]) || !isalpha((unsigned char)s[1]))
        return 0;
    char up[3] = { (char)toupper((unsigned char)s[0]), (char)toupper((unsigned char)s[1]), 0 };
    return json_object_set_new(in, "country_code", json_string(up)) == 0;
}

int profile_check(gh_req *req, json_t *in, int allow_email)
{
    const char *email = NULL, *username, *name, *phone, *given, *family, *country;
    char norm[256];
    if (alias(req, in, "first_name", "given_name") < 0 ||
        alias(req, in, "last_name", "family_name") < 0)
        return -1;
    null_to_empty(in, "username");
    null_to_empty(in, "full_name");
    null_to_empty(in, "given_name");
    null_to_empty(in, "family_name");
    null_to_empty(in, "phone");
    null_to_empty(in, "country_code");
    if ((allow_email && input_string(req, in, "email", INPUT_OPTIONAL, 320, &email) < 0) ||
        input_string(req, in, "username", INPUT_OPTIONAL, 64, &username) < 0 ||
        input_string(req, in, "full_name", INPUT_OPTIONAL, FULL_NAME_MAX, &name) < 0 ||
        input_string(req, in, "given_name", INPUT_OPTIONAL, PART_NAME_MAX, &given) < 0 ||
        input_string(req, in, "family_name", INPUT_OPTIONAL, PART_NAME_MAX, &family) < 0 ||
        input_string(req, in, "phone", INPUT_OPTIONAL, PHONE_MAX, &phone) < 0 ||
        input_string(req, in, "country_code", INPUT_OPTIONAL, 8, &country) < 0)
        return -1;
    if (email && email_normalize(email, norm, sizeof norm) != 0) {
        input_reject(req, "invalid_email", "email", "is not a valid email address.");
        return -1;
    }
    if (username && *username && username_normalize(username, norm, sizeof norm) != 0) {
        input_reject(req, "invalid_username", "username",
                     "must be 3 to 64 of letters, digits, '.', '_' and '-'.");
        return -1;
    }
    const char *names[][2] = { { "full_name", name }, { "given_name", given },
                               { "family_name", family } };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i][1] && has_control(names[i][1])) {
            input_reject(req, "invalid_field", names[i][0], "must not hold control characters.");
            return -1;
        }
    if (phone && *phone && !phone_ok(phone)) {
        input_reject(req, "invalid_phone", "phone", "is not a phone number.");
        return -1;
    }
    if (country && !country_ok(in, country)) {
        input_reject(req, "invalid_country_code", "country_code",
                     "must be an ISO 3166-1 alpha-2 country code, such as \"US\".");
        return -1;
    }
    return 0;
}

/* users_update says only "taken": find out which of the two it was. */
static void taken(api_job *j, gh_conn *c, const char *tenant, const char *id, const char *email)
{
    gh_user u = { 0 };
    int by_email = email && users_find_login(c, &j->call, tenant, email, &u, NULL) == GH_OK &&
                   strcmp(u.id, id) != 0;
    user_clear(&u);
    if (by_email)
        api_fail(j, 409, "email_taken", "An account with this email address exists.");
    else
        api_fail(j, 409, "username_taken", "This username is taken.");
}

int profile_apply(api_job *j, gh_conn *c, const char *tenant, const char *id)
{
    const char *email = j->perm ? api_in(j, "email") : NULL; /* an admin route */
    const gh_profile p = { email,
                           api_in(j, "username"),
                           api_in(j, "full_name"),
                           api_in(j, "phone"),
                           api_in(j, "given_name"),
                           api_in(j, "family_name"),
                           api_in(j, "country_code") };
    gh_result r = users_update_profile(c, &j->call, tenant, id, &p);
    if (r == GH_OK)
        return 0;
    if (r == GH_ERR_CONFLICT)
        taken(j, c, tenant, id, email);
    else if (r == GH_ERR_NOT_FOUND)
        api_fail(j, 404, "not_found", "No such user.");
    else
        api_store_fail(j, r, "profile update");
    return -1;
}

void profile_answer(api_job *j, gh_conn *c, const char *tenant, const char *id, int status)
{
    gh_user u = { 0 };
    gh_result r = users_get(c, &j->call, tenant, id, &u);
    if (r == GH_OK) {
        size_t len;
        char *text = present_user_json(&u, &len);
        api_ok_text(j, status, text, len);
    } else if (r == GH_ERR_NOT_FOUND)
        api_fail(j, 404, "not_found", "No such user.");
    else
        api_store_fail(j, r, "user lookup");
    user_clear(&u);
}

int profile_fill(const api_job *j, gh_user *u)
{
    struct {
        const char *key;
        char **to;
    } f[] = { { "full_name", &u->full_name },     { "given_name", &u->given_name },
              { "family_name", &u->family_name }, { "phone", &u->phone },
              { "country_code", &u->country_code } };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        const char *v = api_in(j, f[i].key);
        if (v && *v && !(*f[i].to = strdup(v)))
            return -1;
    }
    return 0;
}
