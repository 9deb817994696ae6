/*
 * test_integrations.c - the pure parts of integrations: an API key's
 * shape (gh_<prefix>_<secret>), and its check against the stored digest,
 * the disabled flag and the expiry.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "auth/integrations.h"

/* 43 characters of base64url, '_' and '-' among them */
#define SECRET "Ab_-0123456789abcdefghijklmnopqrstuvwxyzAB_"
#define KEY "gh_abcd2345_" SECRET

static void test_parse(void **state)
{
    char prefix[INTEGRATION_PREFIX_LEN + 1];
    (void)state;
    assert_int_equal(strlen(SECRET), GH_SECRET_LEN - 1);
    assert_true(integration_key_parse(KEY, prefix));
    assert_string_equal(prefix, "abcd2345");
    assert_false(integration_key_parse(NULL, prefix));
    assert_false(integration_key_parse("", prefix));
    assert_false(integration_key_parse("gh_", prefix));
    assert_false(integration_key_parse("gx_abcd2345_" SECRET, prefix));     /* not the tag */
    assert_false(integration_key_parse("gh_ABCD2345_" SECRET, prefix));     /* upper case */
    assert_false(integration_key_parse("gh_abcd2341_" SECRET, prefix));     /* 1 is no base32 */
    assert_false(integration_key_parse("gh_abcd234_5" SECRET, prefix));     /* short prefix */
    assert_false(integration_key_parse("gh_abcd2345-" SECRET, prefix));     /* no separator */
    assert_false(integration_key_parse(KEY "A", prefix));                   /* long */
    assert_false(integration_key_parse("gh_abcd2345_" "Ab_-0123456789abcdefghijklmnopqrstuvwxyzAB", prefix));
    assert_false(integration_key_parse("gh_abcd2345_" "Ab_-0123456789abcdefghijklmnopqrstuvwxyzA=B", prefix));
    assert_false(integration_key_parse("gh_abcd2345_" "Ab_-0123456789abcdefghij\xc3\xa9mnopqrstuvwxyzA", prefix));
}

static void test_accepts(void **state)
{
    gh_integration in = { 0 };
    (void)state;
    secret_digest(KEY, in.key_hash);
    assert_true(integration_key_accepts(&in, KEY, 1000));
    assert_false(integration_key_accepts(&in, "gh_abcd2345_" "Ab_-0123456789abcdefghijklmnopqrstuvwxyzAC", 1000));
    in.expires_at = 5000;
    assert_true(integration_key_accepts(&in, KEY, 4999));
    assert_false(integration_key_accepts(&in, KEY, 5000));
    in.expires_at = 0;
    in.disabled = 1;
    assert_false(integration_key_accepts(&in, KEY, 1000));
    in.disabled = 0;
    in.key_hash[0] = '\0';
    assert_false(integration_key_accepts(&in, KEY, 1000));
}

static void test_types(void **state)
{
    (void)state;
    assert_true(integration_type_valid("api_key"));
    assert_true(integration_type_valid("oauth2"));
    assert_true(integration_type_valid("custom"));
    assert_false(integration_type_valid("webhook"));
    assert_false(integration_type_valid(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_accepts),
        cmocka_unit_test(test_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
