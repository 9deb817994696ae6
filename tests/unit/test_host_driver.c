/*
 * test_host_driver.c - the host table's services for storage drivers
 * (core/plugin/host_driver.c): URLs split and percent-decoded as the
 * postgres://, mysql:// and redis:// drivers need them, refused without
 * being quoted, and redacted for logs; the deadline budget of one wait.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "plugin/host.h"

static gh_result parse(const char *url, gh_url *u, gh_call *call)
{
    memset(u, 0, sizeof(*u));
    u->size = sizeof(*u);
    call_init(call, NULL, "test", 1000);
    return gh_host_table.url_parse(call, url, u);
}

static void test_url_parts(void **state)
{
    gh_url u;
    gh_call call;

    (void)state;
    assert_int_equal(parse("MySQL://app:p%40ss:w@rd@db.example:3307/gate%2Dhouse", &u, &call),
                     GH_OK);
    assert_string_equal(u.scheme, "mysql");
    assert_string_equal(u.user, "app");
    assert_string_equal(u.password, "p@ss:w@rd"); /* the last '@' ends the userinfo */
    assert_string_equal(u.host, "db.example");
    assert_int_equal(u.port, 3307);
    assert_string_equal(u.path, "/gate-house");
    assert_string_equal(u.query, "");

    assert_int_equal(parse("redis://[::1]:6380/2", &u, &call), GH_OK);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 6380);
    assert_string_equal(u.path, "/2");
    assert_string_equal(u.user, "");

    assert_int_equal(parse("unix://:s%20cret@/run/redis.sock?db=3", &u, &call), GH_OK);
    assert_string_equal(u.host, "");
    assert_string_equal(u.password, "s cret");
    assert_string_equal(u.path, "/run/redis.sock");
    assert_string_equal(u.query, "db=3");

    assert_int_equal(parse("postgresql://h", &u, &call), GH_OK);
    assert_string_equal(u.host, "h");
    assert_int_equal(u.port, 0);
    assert_string_equal(u.path, "");
}

/* Refused with the part named and nothing of the URL quoted. */
static void test_url_refused(void **state)
{
    static const struct {
        const char *url, *says;
    } bad[] = {
        { "no-scheme", "scheme" },
        { "redis://u:Secret-1@h:0/1", "port" },
        { "redis://u:Secret-1@h:99999", "port" },
        { "redis://u:Secret-1@h:12x", "port" },
        { "redis://u:Secret%zz@h", "password" },
        { "redis://u:Secret%00@h", "password" },
        { "redis://u:Secret-1@[::1/0", "IPv6" },
        { "redis://u:Secret-1@h/0#frag", "fragment" },
    };
    gh_url u;
    gh_call call;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse(bad[i].url, &u, &call), GH_ERR_INVALID);
        if (strstr(call.message, bad[i].says) == NULL)
            fail_msg("%s: %s", bad[i].url, call.message);
        assert_null(strstr(call.message, "Secret"));
    }
    /* a caller compiled against a smaller gh_url is refused, not overrun */
    memset(&u, 0, sizeof(u));
    u.size = offsetof(gh_url, query);
    call_init(&call, NULL, "test", 1000);
    assert_int_equal(gh_host_table.url_parse(&call, "redis://h", &u), GH_ERR_INTERNAL);
}

static void test_url_redact(void **state)
{
    char buf[128];

    (void)state;
    gh_host_table.url_redact("mysql://app:p@ss@db:3306/gh", buf, sizeof(buf));
    assert_string_equal(buf, "mysql://app:***@db:3306/gh");
    gh_host_table.url_redact("redis://db:6379/0", buf, sizeof(buf));
    assert_string_equal(buf, "redis://db:6379/0");
    gh_host_table.url_redact("redis://user@db", buf, sizeof(buf));
    assert_string_equal(buf, "redis://user@db");
    /* a libpq key=value string may hold password=...: nothing of it */
    gh_host_table.url_redact("host=db password=Secret-2", buf, sizeof(buf));
    assert_null(strstr(buf, "Secret"));
    gh_host_table.url_redact("mysql://app:Secret-3@db", buf, 12);
    assert_null(strstr(buf, "Secret"));
}

static void test_call_left(void **state)
{
    gh_call call;
    int64_t left;

    (void)state;
    assert_int_equal(gh_host_table.call_left_ms(NULL, 0), -1);
    assert_int_equal(gh_host_table.call_left_ms(NULL, 250), 250);
    call_init(&call, NULL, "test", 10000);
    assert_int_equal(gh_host_table.call_left_ms(&call, 250), 250);
    left = gh_host_table.call_left_ms(&call, 0);
    assert_true(left > 5000 && left <= 10000);
    call_init(&call, NULL, "test", 0); /* the deadline is now */
    assert_int_equal(gh_host_table.call_left_ms(&call, 250), 0);
    assert_true(gh_host_table.mono_ms() <= gh_host_table.mono_ms());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_parts),
        cmocka_unit_test(test_url_refused),
        cmocka_unit_test(test_url_redact),
        cmocka_unit_test(test_call_left),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
