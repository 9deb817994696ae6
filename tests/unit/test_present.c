/*
 * test_present.c - the user JSON (core/api/present.c) and its per-thread memo.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/present.h"
#include "auth/audit.h"
#include "auth/lockout.h"
#include "auth/pii.h"
#include "auth/sessions.h"
#include "auth/tokens.h"
#include "auth/users.h"
#include "auth/users_crypt.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "plugin/host.h"
#include "plugin/loader.h"
#include "store/migrations.h"
#include "store/store.h"

/* ------------------------------------------------------------ rendering */

/* present_user_json must give what dumping present_user gives, whatever
 * its memo holds: checked against a fresh rendering after each change. */
static void expect_rendering(const gh_user *u)
{
    json_t *o = present_user(u);
    char *want = json_dumps(o, JSON_COMPACT);
    size_t len = 0;
    char *got = present_user_json(u, &len);

    assert_non_null(want);
    assert_non_null(got);
    assert_string_equal(got, want);
    assert_int_equal(len, strlen(want));
    free(got);
    free(want);
    json_decref(o);
}

static void *render_elsewhere(void *u)
{
    expect_rendering(u);
    return NULL;
}

static void test_present_user_json(void **state)
{
    char email[] = "memo@example.com", name[] = "Ann Memo", long_name[3000];
    gh_user u = { .email = email, .full_name = name, .is_active = 1,
                  .created_at = 1700000000123, .updated_at = 1700000000123 };
    gh_user other = u;
    pthread_t t;

    (void)state;
    strcpy(u.id, "11111111-2222-3333-4444-555555555555");
    expect_rendering(&u);
    expect_rendering(&u); /* from the memo now */
    /* a change in the same millisecond, of the same length */
    name[0] = 'B';
    expect_rendering(&u);
    /* NULL and "" render differently: null and "" */
    u.full_name = NULL;
    expect_rendering(&u);
    u.full_name = "";
    expect_rendering(&u);
    /* every other field read */
    u.username = "annmemo";
    expect_rendering(&u);
    u.phone = "+15550001111";
    expect_rendering(&u);
    u.email_verified_at = 1700000000999;
    expect_rendering(&u);
    u.is_admin = 1;
    expect_rendering(&u);
    u.is_active = 0;
    expect_rendering(&u);
    u.updated_at++;
    expect_rendering(&u);
    u.email = NULL; /* erased */
    expect_rendering(&u);
    /* more users than slots, then the first again */
    for (int i = 0; i < 100; i++) {
        snprintf(other.id, sizeof other.id, "00000000-0000-0000-0000-%012d", i);
        expect_rendering(&other);
    }
    expect_rendering(&u);
    /* too long for a slot (escaped quotes double it) */
    memset(long_name, '"', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    u.full_name = long_name;
    expect_rendering(&u);
    expect_rendering(&u);
    /* an idle thread's memo is dropped, and made again on the next call */
    present_forget();
    present_forget();
    expect_rendering(&u);
    expect_rendering(&u);
    /* another thread has its own memo */
    assert_int_equal(pthread_create(&t, NULL, render_elsewhere, &u), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
}


int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_present_user_json),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
