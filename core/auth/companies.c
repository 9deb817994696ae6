/*
 * companies.c - companies in the tenants table (companies.h).
 *
 * Settings live in one JSON column rather than a column each: companies
 * gain settings as features arrive (MFA, password policy, sign-up), and a
 * new one then needs no migration; a missing member means the default.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "auth/audit.h"
#include "auth/companies.h"
#include "auth/sessions.h"
#include "auth/tokens.h"
#include "auth/users.h"
#include "call.h"
#include "clock.h"
#include "store/row.h"

#define LIST_DEFAULT 50
#define LIST_MAX 200
#define PW_MIN_LENGTH_MAX 128
#define ERASE_BATCH 4 /* companies erased per housekeeping run */

#define COMPANY_COLS                                                                \
    "id, slug, name, is_root, is_active, settings, created_at, updated_at, "        \
    "deactivated_at, erase_after, erased_at"
#define COMPANY_NCOLS 11

int company_slug_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > COMPANY_SLUG_MAX || s[0] == '-' || s[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return 1;
}

gh_company_settings company_settings_default(void)
{
    return (gh_company_settings){ .signup_allowed = 1, .mfa_required = 0, .pw_min_length = 0 };
}

char *company_settings_json(const gh_company_settings *s)
{
    json_t *o = json_pack("{s:b, s:b, s:I}", "signup_allowed", s->signup_allowed,
                          "mfa_required", s->mfa_required, "password_min_length",
                          (json_int_t)s->pw_min_length);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

    json_decref(o);
    return text;
}

int company_settings_parse(const char *text, gh_company_settings *out)
{
    json_t *o, *v;
    int rc = -1;

    *out = company_settings_default();
    if (!text || !*text)
        return 0;
    if (!(o = json_loads(text, JSON_REJECT_DUPLICATES, NULL)) || !json_is_object(o))
        goto done;
    if ((v = json_object_get(o, "signup_allowed"))) {
        if (!json_is_boolean(v))
            goto done;
        out->signup_allowed = json_is_true(v);
    }
    if ((v = json_object_get(o, "mfa_required"))) {
        if (!json_is_boolean(v))
            goto done;
        out->mfa_required = json_is_true(v);
    }
    if ((v = json_object_get(o, "password_min_length"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > PW_MIN_LENGTH_MAX)
            goto done;
        out->pw_min_length = json_integer_value(v);
    }
    rc = 0;
done:
    json_decref(o);
    return rc;
}

/* ------------------------------------------------------------------ rows */

typedef struct list_ud {
    gh_company *v;
    size_t n, cap;
    gh_result r;
} list_ud;

static gh_result from_row(gh_company *co, const gh_param *cols)
{
    char *settings = NULL;
    int bad;

    memset(co, 0, sizeof *co);
    col_copy(&cols[0], co->id, sizeof co->id);
    col_copy(&cols[1], co->slug, sizeof co->slug);
    col_copy(&cols[2], co->name, sizeof co->name);
    co->is_root = col_int(&cols[3]) != 0;
    co->is_active = col_int(&cols[4]) != 0;
    if (col_dup(&cols[5], &settings) < 0)
        return GH_ERR_NOMEM;
    bad = company_settings_parse(settings, &co->settings);
    free(settings);
    co->created_at = col_int(&cols[6]);
    co->updated_at = col_int(&cols[7]);
    co->deactivated_at = col_int(&cols[8]);
    co->erase_after = col_int(&cols[9]);
    co->erased_at = col_int(&cols[10]);
    /* a column only this module writes: a bad one is a bug or tampering */
    return bad ? GH_ERR_INTERNAL : GH_OK;
}

static int list_row(void *vud, const gh_param *cols, uint32_t n)
{
    list_ud *ud = vud;

    if (n < COMPANY_NCOLS)
        return ud->r = GH_ERR_INTERNAL, 1;
    if (ud->n == ud->cap) {
        size_t cap = ud->cap ? 2 * ud->cap : 8;
        gh_company *v = realloc(ud->v, cap * sizeof *v);

        if (!v)
            return ud->r = GH_ERR_NOMEM, 1;
        ud->v = v;
        ud->cap = cap;
    }
    if ((ud->r = from_row(&ud->v[ud->n], cols)) != GH_OK)
        return 1;
    ud->n++;
    return 0;
}

/* The one company `where` (with args) selects. */
static gh_result query_one(gh_conn *c, gh_call *call, const char *where, const gh_param *arg,
                           gh_company *out)
{
    char sql[256];
    list_ud ud = { 0 };
    gh_result r;

    snprintf(sql, sizeof sql, "SELECT " COMPANY_COLS " FROM tenants WHERE %s", where);
    r = store_exec(c, call, sql, arg, 1, list_row, &ud, NULL);
    if (r == GH_OK && ud.r != GH_OK)
        r = call_fail(call, ud.r, "companies: reading a company failed");
    if (r == GH_OK && ud.n == 0)
        r = GH_ERR_NOT_FOUND;
    if (r == GH_OK)
        *out = ud.v[0];
    free(ud.v);
    return r;
}

gh_result companies_get(gh_conn *c, gh_call *call, const char *id, gh_company *out)
{
    gh_param arg;

    if (!id || !uuid_valid(id))
        return GH_ERR_NOT_FOUND;
    arg = p_str(id);
    return query_one(c, call, "id = ?", &arg, out);
}

gh_result companies_find_slug(gh_conn *c, gh_call *call, const char *slug, gh_company *out)
{
    gh_param arg;

    if (!company_slug_valid(slug))
        return GH_ERR_NOT_FOUND;
    arg = p_str(slug);
    return query_one(c, call, "slug = ?", &arg, out);
}

gh_result companies_find(gh_conn *c, gh_call *call, const char *id_or_slug, gh_company *out)
{
    gh_result r = companies_get(c, call, id_or_slug, out);

    return r == GH_ERR_NOT_FOUND ? companies_find_slug(c, call, id_or_slug, out) : r;
}

gh_result companies_list(gh_conn *c, gh_call *call, int limit, int offset, gh_company **out,
                         size_t *n, int64_t *total)
{
    int64_t lim = limit <= 0 ? LIST_DEFAULT : limit > LIST_MAX ? LIST_MAX : limit;
    int64_t off = offset < 0 ? 0 : offset;
    gh_param args[2] = { p_int(&lim), p_int(&off) };
    list_ud ud = { 0 };
    gh_result r;

    *out = NULL;
    *n = 0;
    *total = 0;
    r = store_exec(c, call, "SELECT COUNT(*) FROM tenants", NULL, 0, row_count, total, NULL);
    if (r == GH_OK)
        r = store_exec(c, call,
                       /* root first: PostgreSQL's migration 1 rounded its
                        * creation time to the second, perhaps upwards */
                       "SELECT " COMPANY_COLS " FROM tenants ORDER BY is_root DESC, "
                       "created_at, id "
                       "LIMIT ? OFFSET ?", args, 2, list_row, &ud, NULL);
    if (r == GH_OK && ud.r != GH_OK)
        r = call_fail(call, ud.r, "companies: reading the list failed");
    if (r != GH_OK) {
        free(ud.v);
        return r;
    }
    *out = ud.v;
    *n = ud.n;
    return GH_OK;
}

/* ---------------------------------------------------------------- writes */

static int name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;

    if (n == 0 || n > COMPANY_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return 0;
    return 1;
}

/* Room left at the end of a slug for "-99", the most a free one takes. */
#define SLUG_SUFFIX_MAX 3
#define SLUG_TRIES 99

void company_slug_from(const char *name, char *out)
{
    size_t n = 0;
    for (const char *p = name; *p && n < COMPANY_SLUG_MAX - SLUG_SUFFIX_MAX; p++) {
        char ch = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
            out[n++] = ch;
        else if (n > 0 && out[n - 1] != '-')
            out[n++] = '-';
    }
    while (n > 0 && out[n - 1] == '-')
        n--;
    out[n] = '\0';
    if (n == 0)
        strcpy(out, "company"); /* a name of no ASCII letter or digit */
}

gh_result companies_free_slug(gh_conn *c, gh_call *call, char *slug)
{
    char base[COMPANY_SLUG_MAX - SLUG_SUFFIX_MAX + 1];
    gh_company co;
    gh_result r = GH_OK;

    snprintf(base, sizeof base, "%s", slug);
    for (int i = 1; i <= SLUG_TRIES; i++) {
        if (i > 1)
            snprintf(slug, COMPANY_SLUG_MAX + 1, "%s-%d", base, i);
        if ((r = companies_find_slug(c, call, slug, &co)) == GH_ERR_NOT_FOUND)
            return GH_OK;
        if (r != GH_OK)
            return r;
    }
    return call_fail(call, GH_ERR_CONFLICT, "companies: no free slug after %s-%d", base,
                     SLUG_TRIES);
}

gh_result companies_name_taken(gh_conn *c, gh_call *call, const char *name, int *taken)
{
    gh_param arg = p_str(name);
    int64_t n = 0;
    gh_result r = store_exec(c, call, "SELECT COUNT(*) FROM tenants WHERE LOWER(name) = LOWER(?)",
                             &arg, 1, row_count, &n, NULL);
    *taken = n > 0;
    return r;
}

gh_result companies_create(gh_conn *c, gh_call *call, gh_company *co)
{
    char *settings;
    gh_param args[6];
    gh_result r;

    if (!company_slug_valid(co->slug))
        return call_fail(call, GH_ERR_INVALID, "companies: a slug is 1 to %d of a-z, 0-9 and "
                         "'-', not at either end", COMPANY_SLUG_MAX);
    if (!name_valid(co->name))
        return call_fail(call, GH_ERR_INVALID, "companies: a name is 1 to %d bytes of text",
                         COMPANY_NAME_MAX);
    if (!(settings = company_settings_json(&co->settings)))
        return call_fail(call, GH_ERR_NOMEM, "companies: out of memory");
    uuid_new(co->id);
    co->is_root = 0;
    co->is_active = 1;
    co->created_at = co->updated_at = gh_now_ms();
    co->deactivated_at = co->erase_after = co->erased_at = 0;
    args[0] = p_str(co->id);
    args[1] = p_str(co->slug);
    args[2] = p_str(co->name);
    args[3] = p_str(settings);
    args[4] = p_int(&co->created_at);
    args[5] = p_int(&co->updated_at);
    r = store_exec(c, call,
                   "INSERT INTO tenants (id, slug, name, is_root, is_active, settings, "
                   "created_at, updated_at) VALUES (?, ?, ?, 0, 1, ?, ?, ?)",
                   args, 6, NULL, NULL, NULL);
    free(settings);
    return r;
}

gh_result companies_update(gh_conn *c, gh_call *call, const gh_company *co)
{
    int64_t now = gh_now_ms(), changed = 0;
    char *settings;
    gh_param args[4];
    gh_result r;

    if (!name_valid(co->name))
        return call_fail(call, GH_ERR_INVALID, "companies: a name is 1 to %d bytes of text",
                         COMPANY_NAME_MAX);
    if (!uuid_valid(co->id))
        return GH_ERR_NOT_FOUND;
    if (!(settings = company_settings_json(&co->settings)))
        return call_fail(call, GH_ERR_NOMEM, "companies: out of memory");
    args[0] = p_str(co->name);
    args[1] = p_str(settings);
    args[2] = p_int(&now);
    args[3] = p_str(co->id);
    r = store_exec(c, call, "UPDATE tenants SET name = ?, settings = ?, updated_at = ? "
                            "WHERE id = ?", args, 4, NULL, NULL, &changed);
    free(settings);
    return r == GH_OK && changed == 0 ? GH_ERR_NOT_FOUND : r;
}

gh_result companies_deactivate(gh_conn *c, gh_call *call, const char *id, int64_t erase_after_ms,
                               int64_t deny_ttl_ms, int64_t *revoked)
{
    int64_t now = gh_now_ms();
    gh_company co;
    gh_param args[4];
    gh_result r;

    *revoked = 0;
    if ((r = store_begin(c, call)) != GH_OK)
        return r;
    if ((r = companies_get(c, call, id, &co)) == GH_OK && co.is_root)
        r = call_fail(call, GH_ERR_DENIED, "companies: the root company cannot be deactivated");
    if (r == GH_OK && co.is_active) {
        args[0] = p_int(&now);
        args[1] = p_int(&erase_after_ms);
        args[2] = p_int(&now);
        args[3] = p_str(id);
        r = store_exec(c, call, "UPDATE tenants SET is_active = 0, deactivated_at = ?, "
                                "erase_after = ?, updated_at = ? WHERE id = ?",
                       args, 4, NULL, NULL, NULL);
    }
    /* again for an inactive one: a revocation that failed before completes */
    if (r == GH_OK)
        r = session_revoke_tenant(c, call, id, "company deactivated", deny_ttl_ms, revoked);
    if (r == GH_OK)
        return store_commit(c, call);
    store_rollback(c, call);
    return r;
}

/* ----------------------------------------------------------------- erase */

/* What erasing a company's personal data takes, in order; each has one ?:
 * the company's id. */
static const char *const erase_sql[] = {
    "DELETE FROM credentials WHERE user_id IN (SELECT id FROM users WHERE tenant_id = ?)",
    "DELETE FROM one_time_tokens WHERE user_id IN (SELECT id FROM users WHERE tenant_id = ?)",
    "DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE tenant_id = ?)",
    "DELETE FROM sessions WHERE tenant_id = ?",
    "UPDATE audit_events SET ip = NULL, user_agent = NULL WHERE tenant_id = ?",
    /* as users_erase does for one account; external_id stays, so that an
     * import run again does not bring the accounts back */
    "UPDATE users SET email = NULL, email_normalized = NULL, username = NULL, "
    "username_normalized = NULL, full_name = NULL, phone = NULL, given_name = NULL, "
    "family_name = NULL, country_code = NULL, email_verified_at = NULL, is_active = 0, "
    "is_admin = 0 WHERE tenant_id = ?",
};

static gh_result erase_one(gh_conn *c, gh_call *call, const char *id, int64_t now)
{
    gh_param arg = p_str(id), args[3] = { p_int(&now), p_int(&now), p_str(id) };
    gh_audit e = { .tenant_id = id, .subject_id = id, .action = "company.erase",
                   .outcome = "success" };
    gh_result r = store_begin(c, call);

    for (size_t i = 0; r == GH_OK && i < sizeof erase_sql / sizeof erase_sql[0]; i++)
        r = store_exec(c, call, erase_sql[i], &arg, 1, NULL, NULL, NULL);
    if (r == GH_OK)
        r = store_exec(c, call, "UPDATE users SET deleted_at = ?, updated_at = ? "
                                "WHERE tenant_id = ? AND deleted_at IS NULL",
                       args, 3, NULL, NULL, NULL);
    if (r == GH_OK)
        r = store_exec(c, call, "UPDATE tenants SET erased_at = ?, updated_at = ? WHERE id = ?",
                       args, 3, NULL, NULL, NULL);
    if (r == GH_OK)
        r = audit_record(c, call, &e);
    if (r == GH_OK) {
        char key[USERS_STAMP_KEY_MAX];
        users_company_stamp_key(key, id);
        store_stamp_renew(c, call, key);
        return store_commit(c, call);
    }
    store_rollback(c, call);
    return r;
}

static int id_row(void *vud, const gh_param *cols, uint32_t n)
{
    char (*ids)[37] = vud;
    size_t i = 0;

    while (i < ERASE_BATCH && ids[i][0])
        i++;
    if (n > 0 && i < ERASE_BATCH)
        col_copy(&cols[0], ids[i], sizeof ids[i]);
    return 0;
}

gh_result companies_erase_due(gh_conn *c, gh_call *call, int64_t now_ms, int64_t *erased)
{
    char ids[ERASE_BATCH][37] = { { 0 } };
    int64_t limit = ERASE_BATCH;
    gh_param args[2] = { p_int(&now_ms), p_int(&limit) };
    gh_result r;

    *erased = 0;
    r = store_exec(c, call, "SELECT id FROM tenants WHERE is_active = 0 AND is_root = 0 "
                            "AND erased_at IS NULL AND erase_after IS NOT NULL "
                            "AND erase_after <= ? ORDER BY erase_after LIMIT ?",
                   args, 2, id_row, ids, NULL);
    for (size_t i = 0; r == GH_OK && i < ERASE_BATCH && ids[i][0]; i++)
        if ((r = erase_one(c, call, ids[i], now_ms)) == GH_OK)
            (*erased)++;
    return r;
}
