/*
 * profile.c - checking and applying profile changes. See profile.h.
 */
#include <string.h>
#include "api/input.h"
#include "api/present.h"
#include "api/profile.h"
#include "auth/users.h"

#define FULL_NAME_MAX 200
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

int profile_check(gh_req *req, json_t *in, int allow_email)
{
    const char *email = NULL, *username, *name, *phone;
    char norm[256];
    null_to_empty(in, "username");
    null_to_empty(in, "full_name");
    null_to_empty(in, "phone");
    if ((allow_email && input_string(req, in, "email", INPUT_OPTIONAL, 320, &email) < 0) ||
        input_string(req, in, "username", INPUT_OPTIONAL, 64, &username) < 0 ||
        input_string(req, in, "full_name", INPUT_OPTIONAL, FULL_NAME_MAX, &name) < 0 ||
        input_string(req, in, "phone", INPUT_OPTIONAL, PHONE_MAX, &phone) < 0)
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
    if (name && has_control(name)) {
        input_reject(req, "invalid_field", "full_name", "must not hold control characters.");
        return -1;
    }
    if (phone && *phone && !phone_ok(phone)) {
        input_reject(req, "invalid_phone", "phone", "is not a phone number.");
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
    const char *email = (j->flags & API_ADMIN) ? api_in(j, "email") : NULL;
    gh_result r = users_update(c, &j->call, tenant, id, email, api_in(j, "username"),
                               api_in(j, "full_name"), api_in(j, "phone"));
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
