/*
 * accounts_fx.h - what the account tests (users, sessions, audit, lockout,
 * migrations) share on top of fixture.h: a few direct SQL reads, tenants,
 * users and sessions made in one line. Password hashes are fixed strings:
 * hashing is test_password.c's business. Time moves with
 * clock_advance_ms(), never by sleeping.
 */
#ifndef GH_TEST_ACCOUNTS_FX_H
#define GH_TEST_ACCOUNTS_FX_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sessions.h"
#include "auth/users.h"
#include "fixture.h"

#define ROOT GH_ROOT_TENANT
#define OTHER_TENANT "11111111-1111-4111-8111-111111111111"
#define HASH "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
#define HOUR (60 * 60 * 1000LL)
#define DAY (24 * HOUR)
/* The test clock is the real one plus an offset: real time passes between
 * two reads, so "ms left" is checked within this much. */
#define SLACK 500

/* ------------------------------------------------------ direct SQL reads */

static inline gh_param str_arg(const char *s)
{
    return (gh_param){ NULL, GH_T_STR, s, strlen(s) };
}

static inline int int_row(void *ud, const gh_param *cols, uint32_t n)
{
    *(int64_t *)ud = n > 0 && cols[0].type == GH_T_INT ? *(const int64_t *)cols[0].data : -1;
    return 1;
}

static inline int64_t query_int(fx *f, const char *sql, const char *arg)
{
    return fx_query_int(f, sql, arg);
}

typedef struct text_ud {
    char buf[512];
} text_ud;

static inline const char *query_text(fx *f, const char *sql, const char *arg, text_ud *ud)
{
    return fx_query_text(f, sql, arg, ud->buf, sizeof(ud->buf));
}

static inline void add_tenant(fx *f, const char *id, const char *slug)
{
    char sql[256];

    snprintf(sql, sizeof(sql),
             "INSERT INTO tenants (id, slug, name, created_at, updated_at) "
             "VALUES ('%s', '%s', 'T', 1, 1)", id, slug);
    assert_int_equal(store_exec_script(f->c, &f->call, sql), GH_OK);
}

/* ---------------------------------------------------------- user helpers */

static inline gh_result try_user(fx *f, const char *tenant, const char *email, const char *username,
                          gh_user *u)
{
    memset(u, 0, sizeof(*u));
    strcpy(u->tenant_id, tenant);
    u->email = email ? strdup(email) : NULL;
    u->username = username ? strdup(username) : NULL;
    u->full_name = strdup("Full Name");
    u->is_active = 1;
    f->call.message[0] = '\0';
    return users_create(f->c, &f->call, u, HASH);
}

static inline void new_user(fx *f, const char *tenant, const char *email, const char *username,
                     gh_user *u)
{
    gh_result r = try_user(f, tenant, email, username, u);

    if (r != GH_OK)
        fail_msg("users_create %s: %s (%s)", email ? email : username, gh_result_str(r),
                 f->call.message);
}

static inline void new_session(fx *f, const gh_user *u, gh_session *s, char refresh[GH_SECRET_LEN])
{
    assert_int_equal(session_create(f->c, &f->call, u->tenant_id, u->id, "test-agent/1.0",
                                    "192.0.2.1", 30 * DAY, s, refresh), GH_OK);
}

static inline gh_refresh_outcome refresh(fx *f, const char *token, gh_session *s,
                                  char next[GH_SECRET_LEN])
{
    gh_refresh_outcome o = (gh_refresh_outcome)-1;

    assert_int_equal(session_refresh(f->c, &f->call, token, "agent/2", "198.51.100.7",
                                     15 * 60 * 1000, 0, s, next, &o), GH_OK);
    return o;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
#define T_RAW(fn) cmocka_unit_test_setup_teardown(fn, fx_setup_raw, fx_teardown)
#define RUN(tests) cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown)

#endif
