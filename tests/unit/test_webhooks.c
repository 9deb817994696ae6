/*
 * test_webhooks.c - the pure parts of outgoing events: which audited
 * actions raise which events, which patterns a subscription may hold and
 * what they match, which addresses are not public (the SSRF guard's
 * classes), and the URL check on literal addresses (no DNS needed); and
 * the housekeeping purge of delivery rows, on the real SQLite store.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "auth/users.h"
#include "auth/webhooks.h"
#include "clock.h"
#include "fixture.h"
#include "plugin/addr_public.h"
#include "store/store.h"

#define DAY (24 * 3600 * 1000LL)
#define SUB "5ab5ab5a-b5ab-45ab-85ab-5ab5ab5ab5ab"

static void test_event_types(void **state)
{
    (void)state;
    assert_string_equal(webhook_event_type("user.signup", "success"), "user.created");
    assert_string_equal(webhook_event_type("admin.user.create", "success"), "user.created");
    assert_string_equal(webhook_event_type("login.success", "success"), "user.signed_in");
    assert_string_equal(webhook_event_type("login.failure", "failure"), "user.sign_in_failed");
    assert_string_equal(webhook_event_type("login.failure", "denied"), "user.sign_in_failed");
    assert_string_equal(webhook_event_type("login.lockout", "denied"), "user.locked");
    assert_string_equal(webhook_event_type("password.change", "success"),
                        "user.password_changed");
    assert_string_equal(webhook_event_type("session.revoke", "success"), "session.revoked");
    assert_string_equal(webhook_event_type("mfa.confirm", "success"), "mfa.enrolled");
    assert_string_equal(webhook_event_type("company.create", "success"), "company.created");
    assert_string_equal(webhook_event_type("rbac.user.assign", "success"), "role.changed");
    assert_string_equal(webhook_event_type("webhook.received", "success"), "webhook.received");
    /* a failed confirmation enrols nothing; a lockout is never a success */
    assert_null(webhook_event_type("mfa.confirm", "failure"));
    assert_null(webhook_event_type("login.lockout", "success"));
    /* actions that raise nothing, our own among them (no event loops) */
    assert_null(webhook_event_type("token.refresh_reused", "denied"));
    assert_null(webhook_event_type("webhook.subscription.create", "success"));
    assert_null(webhook_event_type(NULL, "success"));
}

static void test_patterns(void **state)
{
    (void)state;
    assert_true(webhook_pattern_valid("*"));
    assert_true(webhook_pattern_valid("user.created"));
    assert_true(webhook_pattern_valid("user.*"));
    assert_true(webhook_pattern_valid("mfa.enrolled"));
    assert_false(webhook_pattern_valid(""));
    assert_false(webhook_pattern_valid(NULL));
    assert_false(webhook_pattern_valid(".*"));
    assert_false(webhook_pattern_valid("user."));
    assert_false(webhook_pattern_valid("user..created"));
    assert_false(webhook_pattern_valid("User.Created"));
    assert_false(webhook_pattern_valid("user created"));
    assert_false(webhook_pattern_valid("us*er"));
    assert_false(webhook_pattern_valid("**"));
}

static void test_match(void **state)
{
    (void)state;
    assert_true(webhook_types_match("*", "user.created"));
    assert_true(webhook_types_match("user.created", "user.created"));
    assert_true(webhook_types_match("session.revoked user.*", "user.signed_in"));
    assert_true(webhook_types_match("company.created user.created", "user.created"));
    assert_false(webhook_types_match("user.created", "user.created_x"));
    assert_false(webhook_types_match("user.create", "user.created"));
    assert_false(webhook_types_match("user.*", "users.created"));  /* a prefix ends at a dot */
    assert_false(webhook_types_match("user.*", "session.revoked"));
    assert_false(webhook_types_match("", "user.created"));
}

static int v4(const char *s)
{
    struct in_addr a;
    assert_int_equal(inet_pton(AF_INET, s, &a), 1);
    return addr_v4_private(ntohl(a.s_addr));
}

static int v6(const char *s)
{
    unsigned char b[16];
    assert_int_equal(inet_pton(AF_INET6, s, b), 1);
    return addr_v6_private(b);
}

static void test_address_classes(void **state)
{
    (void)state;
    assert_true(v4("127.0.0.1"));        /* loopback */
    assert_true(v4("10.1.2.3"));         /* private */
    assert_true(v4("172.16.0.1"));
    assert_true(v4("192.168.1.1"));
    assert_true(v4("169.254.169.254"));  /* link-local: cloud metadata */
    assert_true(v4("100.64.0.1"));       /* CGNAT */
    assert_true(v4("0.0.0.0"));          /* unspecified */
    assert_false(v4("8.8.8.8"));
    assert_false(v4("172.32.0.1"));      /* just past 172.16/12 */
    assert_false(v4("100.128.0.1"));     /* just past 100.64/10 */
    assert_true(v6("::1"));
    assert_true(v6("::"));
    assert_true(v6("fe80::1"));          /* link-local */
    assert_true(v6("fd00::1"));          /* unique local */
    assert_true(v6("::ffff:127.0.0.1")); /* mapped: judged by its IPv4 address */
    assert_false(v6("::ffff:8.8.8.8"));
    assert_false(v6("2606:4700::1111"));
}

static void test_target(void **state)
{
    char why[256];
    (void)state;
    assert_int_equal(webhook_target_check("https://127.0.0.1/hook", 0, 1, why, sizeof why), 0);
    assert_int_equal(webhook_target_check("https://127.0.0.1/hook", 0, 0, why, sizeof why), -1);
    assert_non_null(strstr(why, "allow_private_targets"));
    assert_int_equal(webhook_target_check("https://[::1]:8443/x", 0, 0, why, sizeof why), -1);
    assert_int_equal(webhook_target_check("https://10.0.0.1/x", 0, 0, why, sizeof why), -1);
    assert_int_equal(webhook_target_check("https://8.8.8.8/x", 0, 0, why, sizeof why), 0);
    assert_int_equal(webhook_target_check("http://8.8.8.8/x", 0, 0, why, sizeof why), -1);
    assert_non_null(strstr(why, "allow_http"));
    assert_int_equal(webhook_target_check("http://8.8.8.8/x", 1, 0, why, sizeof why), 0);
    assert_int_equal(webhook_target_check("ftp://8.8.8.8/x", 1, 1, why, sizeof why), -1);
    assert_int_equal(webhook_target_check("https://user:pw@8.8.8.8/x", 0, 0, why, sizeof why),
                     -1);
    assert_int_equal(webhook_target_check("https:///x", 0, 0, why, sizeof why), -1);
    assert_int_equal(webhook_target_check("https://8.8.8.8/a b", 0, 0, why, sizeof why), -1);
}

/* A delivery of SUB in status, last updated at updated_at. */
static void delivery(fx *f, const char *id, const char *status, int64_t updated_at)
{
    int64_t zero = 0;
    gh_param args[] = { { NULL, GH_T_STR, id, strlen(id) },
                        { NULL, GH_T_STR, status, strlen(status) },
                        { NULL, GH_T_INT, &zero, sizeof zero },
                        { NULL, GH_T_INT, &updated_at, sizeof updated_at },
                        { NULL, GH_T_INT, &updated_at, sizeof updated_at } };
    assert_int_equal(store_exec(f->c, &f->call, "INSERT INTO webhook_deliveries (id, "
                                "subscription_id, tenant_id, event_type, payload, status, attempts, "
                                "next_attempt_at, created_at, updated_at) VALUES (?, '" SUB "', '"
                                GH_ROOT_TENANT "', 'user.created', '{}', ?, 1, ?, ?, ?)", args, 5,
                                NULL, NULL, NULL), GH_OK);
}

/* The purge takes the deliveries settled longer ago than it keeps them,
 * succeeded or failed, and no other: not a recent one, not a pending one
 * however old. */
static void test_delivery_purge(void **state)
{
    fx *f = *state;
    int64_t now = gh_now_ms(), old = now - 2 * DAY;
    assert_int_equal(store_exec_script(f->c, &f->call, "INSERT INTO webhook_subscriptions (id, "
                                       "tenant_id, url, event_types, secret, disabled, "
                                       "consecutive_failures, created_at, updated_at) VALUES ('"
                                       SUB "', '" GH_ROOT_TENANT "', 'https://a.example/h', '*', "
                                       "'s', 0, 0, 0, 0)"), GH_OK);
    delivery(f, "d-old-ok", "succeeded", old);
    delivery(f, "d-old-failed", "failed", old);
    delivery(f, "d-old-pending", "pending", old);
    delivery(f, "d-new-ok", "succeeded", now);
    delivery(f, "d-new-failed", "failed", now);
    assert_int_equal(webhook_delivery_purge(f->c, &f->call, DAY), 2);
    assert_int_equal(fx_query_int(f, "SELECT COUNT(*) FROM webhook_deliveries WHERE id LIKE "
                                  "'d-old-%'", NULL), 1);
    assert_int_equal(fx_query_int(f, "SELECT COUNT(*) FROM webhook_deliveries WHERE status = ?",
                                  "pending"), 1);
    assert_int_equal(fx_query_int(f, "SELECT COUNT(*) FROM webhook_deliveries", NULL), 3);
    assert_int_equal(webhook_delivery_purge(f->c, &f->call, DAY), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_types),
        cmocka_unit_test(test_patterns),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_address_classes),
        cmocka_unit_test(test_target),
        cmocka_unit_test_setup_teardown(test_delivery_purge, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}
