/*
 * identities.c - users' accounts at OAuth providers. See identities.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "auth/identities.h"
#include "auth/pii.h"
#include "auth/tokens.h"
#include "clock.h"
#include "log.h"
#include "store/row.h"

#define COL_EMAIL "identities.email"

typedef struct find_ud {
    char *user_id, *id;
    int found;
} find_ud;

static int find_row(void *ud, const gh_param *cols, uint32_t n)
{
    find_ud *f = ud;
    if (n < 2)
        return 1;
    col_copy(&cols[0], f->user_id, 37);
    col_copy(&cols[1], f->id, 37);
    f->found = 1;
    return 1;
}

gh_result identities_find(gh_conn *c, gh_call *call, const char *tenant, const char *provider,
                          const char *subject, char user_id[37], char id[37])
{
    static const char sql[] = "SELECT user_id, id FROM identities"
                              " WHERE tenant_id = ? AND provider = ? AND subject = ?";
    gh_param args[] = { p_str(tenant), p_str(provider), p_str(subject) };
    find_ud f = { user_id, id, 0 };
    gh_result r = store_exec(c, call, sql, args, 3, find_row, &f, NULL);
    return r == GH_OK && !f.found ? GH_ERR_NOT_FOUND : r;
}

gh_result identities_create(gh_conn *c, gh_call *call, const char *tenant, const char *user_id,
                            const char *provider, const char *subject, const char *email,
                            char id[37])
{
    static const char sql[] =
        "INSERT INTO identities (id, tenant_id, user_id, provider, subject, email, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)";
    const gh_pii *p = pii_current();
    const char *why = "";
    char *sealed = NULL;
    uuid_new(id);
    if (email && p && !(sealed = pii_encrypt(p, COL_EMAIL, id, email, strlen(email), &why))) {
        gh_log(GH_LOG_ERROR, "identities: email of identity %s: %s", id, why);
        return GH_ERR_INTERNAL;
    }
    int64_t now = gh_now_ms();
    gh_param args[] = { p_str(id), p_str(tenant), p_str(user_id), p_str(provider),
                        p_str(subject), p_opt(sealed ? sealed : email), p_int(&now) };
    gh_result r = store_exec(c, call, sql, args, 7, NULL, NULL, NULL);
    free(sealed);
    return r;
}

gh_result identities_touch(gh_conn *c, gh_call *call, const char *id)
{
    int64_t now = gh_now_ms();
    gh_param args[] = { p_int(&now), p_str(id) };
    return store_exec(c, call, "UPDATE identities SET last_used_at = ? WHERE id = ?", args, 2,
                      NULL, NULL, NULL);
}

static json_t *col_json(const gh_param *col)
{
    if (col_is_text(col))
        return json_stringn(col->data, col->len);
    return col->type == GH_T_INT ? json_integer(col_int(col)) : json_null();
}

/* The address as stored, opened; null when it cannot be (logged). */
static json_t *email_json(const gh_param *col, const char *id)
{
    if (!col_is_text(col))
        return json_null();
    char *stored = strndup(col->data, col->len), *clear = NULL;
    const char *why = "";
    json_t *v = NULL;
    if (stored && pii_decrypt(pii_current(), COL_EMAIL, id, stored, &clear, &why) == 0)
        v = json_string(clear);
    else if (stored)
        gh_log(GH_LOG_ERROR, "identities: email of identity %s: %s", id, why);
    free(clear);
    free(stored);
    return v ? v : json_null();
}

static int list_row(void *ud, const gh_param *cols, uint32_t n)
{
    char id[37];
    if (n < 6)
        return 1;
    col_copy(&cols[0], id, sizeof id);
    json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "id", id, "provider",
                          col_json(&cols[1]), "subject", col_json(&cols[2]), "email",
                          email_json(&cols[3], id), "created_at", col_json(&cols[4]),
                          "last_used_at", col_json(&cols[5]));
    return !o || json_array_append_new(ud, o) != 0;
}

gh_result identities_list(gh_conn *c, gh_call *call, const char *user_id, json_t **out)
{
    static const char sql[] =
        "SELECT id, provider, subject, email, created_at, last_used_at FROM identities"
        " WHERE user_id = ? ORDER BY created_at, id";
    gh_param arg = p_str(user_id);
    if (!(*out = json_array()))
        return GH_ERR_NOMEM;
    gh_result r = store_exec(c, call, sql, &arg, 1, list_row, *out, NULL);
    if (r != GH_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return r;
}

gh_result identities_count(gh_conn *c, gh_call *call, const char *user_id, int64_t *n)
{
    gh_param arg = p_str(user_id);
    *n = 0;
    return store_exec(c, call, "SELECT COUNT(*) FROM identities WHERE user_id = ?", &arg, 1,
                      row_count, n, NULL);
}

static int provider_row(void *ud, const gh_param *cols, uint32_t n)
{
    if (n > 0)
        col_copy(&cols[0], ud, 64);
    return 1;
}

gh_result identities_delete(gh_conn *c, gh_call *call, const char *user_id, const char *id,
                            char provider[64])
{
    gh_param args[] = { p_str(id), p_str(user_id) };
    int64_t changed = 0;
    provider[0] = '\0';
    gh_result r = store_exec(c, call, "SELECT provider FROM identities WHERE id = ? AND user_id = ?",
                             args, 2, provider_row, provider, NULL);
    if (r == GH_OK && !provider[0])
        return GH_ERR_NOT_FOUND;
    if (r == GH_OK)
        r = store_exec(c, call, "DELETE FROM identities WHERE id = ? AND user_id = ?", args, 2,
                       NULL, NULL, &changed);
    return r == GH_OK && changed == 0 ? GH_ERR_NOT_FOUND : r;
}
