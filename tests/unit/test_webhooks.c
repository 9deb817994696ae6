/*
 * test_webhooks.c - the pure parts of outgoing events: which audited
 * actions raise which events, which patterns a subscription may hold and
 * what they match, which addresses are not public (the SSRF guard's
 * classes), and the URL check on literal addresses (no DNS needed).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "auth/webhooks.h"
#include "plugin/addr_public.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_types),
        cmocka_unit_test(test_patterns),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_address_classes),
        cmocka_unit_test(test_target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
