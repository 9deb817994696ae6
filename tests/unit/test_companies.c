/*
 * test_companies.c - companies (auth/companies.c) on every SQL backend the
 * environment offers (store_backends.h): create, find, list, update,
 * settings, and deactivation, which ends every session of the company's
 * users and deny-lists them, and never touches another company.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/companies.h"
#include "auth/sessions.h"
#include "auth/users.h"
#include "clock.h"
#include "store_backends.h"

#define T(fn) cmocka_unit_test_setup_teardown(fn, sfx_setup, sfx_teardown)
#define DAY (24 * 3600 * 1000LL)
/* a well-formed argon2id hash (users_create checks the shape, not the password) */
#define HASH "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"

static gh_company make(fx *f, const char *slug, const char *name)
{
    gh_company co = { .settings = company_settings_default() };

    snprintf(co.slug, sizeof co.slug, "%s", slug);
    snprintf(co.name, sizeof co.name, "%s", name);
    if (companies_create(f->c, &f->call, &co) != GH_OK)
        fail_msg("companies_create %s: %s", slug, f->call.message);
    return co;
}

static void test_slugs(void **state)
{
    static const char *const good[] = { "a", "acme", "acme-2", "0", "x1-y2-z3" };
    static const char *const bad[] = { "", "-acme", "acme-", "Acme", "ac me", "acme_2",
                                       "acmé", "a/b", NULL };
    char long_slug[COMPANY_SLUG_MAX + 2];

    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!company_slug_valid(good[i]))
            fail_msg("'%s' refused", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (company_slug_valid(bad[i]))
            fail_msg("'%s' accepted", bad[i] ? bad[i] : "(null)");
    memset(long_slug, 'a', sizeof long_slug - 1);
    long_slug[sizeof long_slug - 1] = '\0';
    assert_false(company_slug_valid(long_slug));
    long_slug[COMPANY_SLUG_MAX] = '\0';
    assert_true(company_slug_valid(long_slug));
}

static void test_settings_json(void **state)
{
    gh_company_settings s = { .signup_allowed = 0, .mfa_required = 1, .pw_min_length = 14 }, t;
    char *text = company_settings_json(&s);

    (void)state;
    assert_string_equal(text,
                        "{\"mfa_required\":true,\"password_min_length\":14,\"signup_allowed\":false}");
    assert_int_equal(company_settings_parse(text, &t), 0);
    assert_memory_equal(&s, &t, sizeof s);
    free(text);
    /* missing members are defaults; unknown ones are ignored */
    assert_int_equal(company_settings_parse("{\"future\":1}", &t), 0);
    assert_int_equal(t.signup_allowed, 1);
    assert_int_equal(t.mfa_required, 0);
    assert_int_equal(t.pw_min_length, 0);
    assert_int_equal(company_settings_parse(NULL, &t), 0);
    /* ill-typed, out of range or not an object: refused */
    assert_int_equal(company_settings_parse("{\"signup_allowed\":1}", &t), -1);
    assert_int_equal(company_settings_parse("{\"password_min_length\":-1}", &t), -1);
    assert_int_equal(company_settings_parse("{\"password_min_length\":1000}", &t), -1);
    assert_int_equal(company_settings_parse("[]", &t), -1);
    assert_int_equal(company_settings_parse("{\"mfa_required\":true,\"mfa_required\":false}",
                                            &t), -1);
}

static void test_root_exists(void **state)
{
    fx *f = *state;
    gh_company co;

    assert_int_equal(companies_get(f->c, &f->call, ROOT_TENANT, &co), GH_OK);
    assert_string_equal(co.slug, "root");
    assert_true(co.is_root);
    assert_true(co.is_active);
    assert_int_equal(co.settings.signup_allowed, 1); /* no settings yet: defaults */
    assert_int_equal(companies_find_slug(f->c, &f->call, "root", &co), GH_OK);
    assert_string_equal(co.id, ROOT_TENANT);
}

static void test_create_find_update(void **state)
{
    fx *f = *state;
    gh_company a = make(f, "acme", "Acme Inc."), got;

    assert_true(uuid_valid(a.id));
    assert_true(a.is_active);
    assert_false(a.is_root);
    assert_int_equal(companies_get(f->c, &f->call, a.id, &got), GH_OK);
    assert_string_equal(got.slug, "acme");
    assert_string_equal(got.name, "Acme Inc.");
    assert_int_equal(got.created_at, a.created_at);
    assert_int_equal(companies_find_slug(f->c, &f->call, "acme", &got), GH_OK);
    assert_string_equal(got.id, a.id);
    /* the CLI's lookup: an id, else a slug */
    assert_int_equal(companies_find(f->c, &f->call, a.id, &got), GH_OK);
    assert_string_equal(got.slug, "acme");
    assert_int_equal(companies_find(f->c, &f->call, "acme", &got), GH_OK);
    assert_string_equal(got.id, a.id);

    /* the slug is unique; bad ones and names are refused */
    gh_company dup = { .settings = company_settings_default() };
    strcpy(dup.slug, "acme");
    strcpy(dup.name, "Another");
    assert_int_equal(companies_create(f->c, &f->call, &dup), GH_ERR_CONFLICT);
    strcpy(dup.slug, "Bad Slug");
    assert_int_equal(companies_create(f->c, &f->call, &dup), GH_ERR_INVALID);
    strcpy(dup.slug, "fine");
    strcpy(dup.name, "line\nbreak");
    assert_int_equal(companies_create(f->c, &f->call, &dup), GH_ERR_INVALID);
    dup.name[0] = '\0';
    assert_int_equal(companies_create(f->c, &f->call, &dup), GH_ERR_INVALID);

    /* name and settings change; the slug stays */
    clock_advance_ms(1000);
    strcpy(got.name, "Acme Corporation");
    got.settings.signup_allowed = 0;
    got.settings.pw_min_length = 16;
    assert_int_equal(companies_update(f->c, &f->call, &got), GH_OK);
    assert_int_equal(companies_get(f->c, &f->call, a.id, &got), GH_OK);
    assert_string_equal(got.name, "Acme Corporation");
    assert_int_equal(got.settings.signup_allowed, 0);
    assert_int_equal(got.settings.pw_min_length, 16);
    assert_true(got.updated_at > got.created_at);

    /* unknown ids and slugs: not found, also when malformed */
    assert_int_equal(companies_get(f->c, &f->call, "00000000-0000-4000-8000-00000000ffff", &got),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(companies_get(f->c, &f->call, "' OR 1=1 --", &got), GH_ERR_NOT_FOUND);
    assert_int_equal(companies_find_slug(f->c, &f->call, "nope", &got), GH_ERR_NOT_FOUND);
    strcpy(got.id, "00000000-0000-4000-8000-00000000ffff");
    assert_int_equal(companies_update(f->c, &f->call, &got), GH_ERR_NOT_FOUND);
}

static void test_list(void **state)
{
    fx *f = *state;
    gh_company *v = NULL;
    size_t n = 0;
    int64_t total = 0;

    make(f, "one", "One");
    clock_advance_ms(10);
    make(f, "two", "Two");
    assert_int_equal(companies_list(f->c, &f->call, 2, 0, &v, &n, &total), GH_OK);
    assert_int_equal(total, 3); /* with root */
    assert_int_equal(n, 2);
    assert_string_equal(v[0].slug, "root");
    assert_string_equal(v[1].slug, "one");
    free(v);
    assert_int_equal(companies_list(f->c, &f->call, 2, 2, &v, &n, &total), GH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].slug, "two");
    free(v);
}

static void test_deactivate(void **state)
{
    fx *f = *state;
    gh_company a = make(f, "acme", "Acme"), b = make(f, "beta", "Beta"), got;
    gh_user ua = { .is_active = 1 }, ub = { .is_active = 1 };
    gh_session sa, sb;
    char ra[GH_SECRET_LEN], rb[GH_SECRET_LEN];
    int64_t revoked = -1, erase = gh_now_ms() + 30 * DAY;

    strcpy(ua.tenant_id, a.id);
    ua.email = strdup("ann@acme.example");
    strcpy(ub.tenant_id, b.id);
    ub.email = strdup("ann@acme.example"); /* the same address: another company */
    assert_int_equal(users_create(f->c, &f->call, &ua, NULL), GH_OK);
    assert_int_equal(users_create(f->c, &f->call, &ub, NULL), GH_OK);
    assert_int_equal(session_create(f->c, &f->call, a.id, ua.id, "agent", "192.0.2.1", DAY, &sa,
                                    ra), GH_OK);
    assert_int_equal(session_create(f->c, &f->call, b.id, ub.id, "agent", "192.0.2.1", DAY, &sb,
                                    rb), GH_OK);

    assert_int_equal(companies_deactivate(f->c, &f->call, a.id, erase, 900000, &revoked), GH_OK);
    assert_int_equal(revoked, 1);
    assert_int_equal(companies_get(f->c, &f->call, a.id, &got), GH_OK);
    assert_false(got.is_active);
    assert_int_equal(got.erase_after, erase);
    assert_true(got.deactivated_at > 0);
    /* its session's access tokens are refused on every instance */
    assert_int_equal(token_denied(f->c, &f->call, sa.id, "jti-a"), 1);
    /* the other company is untouched */
    assert_int_equal(token_denied(f->c, &f->call, sb.id, "jti-b"), 0);
    assert_int_equal(companies_get(f->c, &f->call, b.id, &got), GH_OK);
    assert_true(got.is_active);

    /* again: nothing new to revoke, the dates stay */
    assert_int_equal(companies_deactivate(f->c, &f->call, a.id, erase + DAY, 900000, &revoked),
                     GH_OK);
    assert_int_equal(revoked, 0);
    assert_int_equal(companies_get(f->c, &f->call, a.id, &got), GH_OK);
    assert_int_equal(got.erase_after, erase);

    /* never the root company; never one that is not there */
    assert_int_equal(companies_deactivate(f->c, &f->call, ROOT_TENANT, erase, 900000, &revoked),
                     GH_ERR_DENIED);
    assert_int_equal(companies_get(f->c, &f->call, ROOT_TENANT, &got), GH_OK);
    assert_true(got.is_active);
    assert_int_equal(companies_deactivate(f->c, &f->call, "00000000-0000-4000-8000-00000000ffff",
                                          erase, 900000, &revoked), GH_ERR_NOT_FOUND);
    user_clear(&ua);
    user_clear(&ub);
}

static int count_of(fx *f, const char *sql, const char *arg)
{
    int64_t n = -1;
    gh_param p = { NULL, GH_T_STR, arg, strlen(arg) };

    assert_int_equal(store_exec(f->c, &f->call, sql, &p, 1, int_row, &n, NULL), GH_OK);
    return (int)n;
}

/* After the delay, a deactivated company's personal data goes; the rows
 * stay, another company's data stays, and nothing happens twice. */
static void test_erase_due(void **state)
{
    fx *f = *state;
    gh_company a = make(f, "acme", "Acme"), b = make(f, "beta", "Beta"), got;
    gh_user ua = { .is_active = 1 }, ub = { .is_active = 1 };
    gh_session sa;
    char ra[GH_SECRET_LEN];
    int64_t revoked, erased = -1, now = gh_now_ms();

    strcpy(ua.tenant_id, a.id);
    ua.email = strdup("ann@acme.example");
    ua.full_name = strdup("Ann Example");
    strcpy(ub.tenant_id, b.id);
    ub.email = strdup("bea@beta.example");
    assert_int_equal(users_create(f->c, &f->call, &ua, HASH), GH_OK);
    assert_int_equal(users_create(f->c, &f->call, &ub, HASH), GH_OK);
    assert_int_equal(session_create(f->c, &f->call, a.id, ua.id, "agent", "192.0.2.1", DAY, &sa,
                                    ra), GH_OK);
    assert_int_equal(companies_deactivate(f->c, &f->call, a.id, now + DAY, 900000, &revoked),
                     GH_OK);

    /* not yet due */
    assert_int_equal(companies_erase_due(f->c, &f->call, now, &erased), GH_OK);
    assert_int_equal(erased, 0);
    assert_int_equal(count_of(f, "SELECT COUNT(*) FROM users WHERE tenant_id = ? AND email "
                                 "IS NOT NULL", a.id), 1);
    /* due */
    assert_int_equal(companies_erase_due(f->c, &f->call, now + DAY, &erased), GH_OK);
    assert_int_equal(erased, 1);
    assert_int_equal(count_of(f, "SELECT COUNT(*) FROM users WHERE tenant_id = ? AND (email IS "
                                 "NOT NULL OR full_name IS NOT NULL OR deleted_at IS NULL)",
                              a.id), 0);
    assert_int_equal(count_of(f, "SELECT COUNT(*) FROM users WHERE tenant_id = ?", a.id), 1);
    assert_int_equal(count_of(f, "SELECT COUNT(*) FROM credentials WHERE user_id = ?", ua.id), 0);
    assert_int_equal(count_of(f, "SELECT COUNT(*) FROM sessions WHERE tenant_id = ?", a.id), 0);
    assert_int_equal(count_of(f, "SELECT COUNT(*) FROM audit_events WHERE tenant_id = ? AND "
                                 "action = 'company.erase'", a.id), 1);
    assert_int_equal(companies_get(f->c, &f->call, a.id, &got), GH_OK);
    assert_true(got.erased_at > 0);
    /* the other company keeps everything */
    assert_int_equal(count_of(f, "SELECT COUNT(*) FROM users WHERE tenant_id = ? AND email "
                                 "IS NOT NULL", b.id), 1);
    assert_int_equal(count_of(f, "SELECT COUNT(*) FROM credentials WHERE user_id = ?", ub.id), 1);
    /* once only */
    assert_int_equal(companies_erase_due(f->c, &f->call, now + 2 * DAY, &erased), GH_OK);
    assert_int_equal(erased, 0);
    user_clear(&ua);
    user_clear(&ub);
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        T(test_root_exists),
        T(test_create_find_update),
        T(test_list),
        T(test_deactivate),
        T(test_erase_due),
    };
    static const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_slugs),
        cmocka_unit_test(test_settings_json),
    };
    static const sfx_group groups[] = {
        SFX_GROUP(NULL, "companies", tests),
        SFX_GROUP("sqlite", "company-values", pure),
    };

    return sfx_main(groups, sizeof(groups) / sizeof(groups[0]));
}
