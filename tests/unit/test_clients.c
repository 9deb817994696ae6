/*
 * test_clients.c - the pure parts of OAuth clients: their lists (scopes,
 * audiences) and the subset a grant may ask for, secrets with the grace
 * of a rotation, and the checks on a client assertion's claims.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <jansson.h>

#include "auth/client_auth.h"
#include "auth/clients.h"

#define ENDPOINT "https://id.example.com/oauth2/token"
#define ISSUER "https://id.example.com"
#define NOW 1700000000

static void test_lists(void **state)
{
    (void)state;
    assert_true(client_list_valid("", 0));
    assert_true(client_list_valid("read write invoices:read", 0));
    assert_false(client_list_valid("read read", 0));
    assert_false(client_list_valid("a\"b", 0));
    assert_false(client_list_valid("a\\b", 0));
    assert_false(client_list_valid("caf\xc3\xa9", 0));
    assert_true(client_list_valid("https://api.example.com urn://x/y", 1));
    assert_false(client_list_valid("api.example.com", 1));
    assert_false(client_list_valid("https://api.example.com#frag", 1));
    assert_false(client_list_valid("https://a.example https://a.example", 1));
    assert_true(client_list_has("read write", "write"));
    assert_false(client_list_has("read write", "wri"));
    assert_false(client_list_has("read write", ""));
    assert_true(client_list_subset("read", "read write"));
    assert_true(client_list_subset("write read", "read write"));
    assert_true(client_list_subset("", "read"));
    assert_false(client_list_subset("read admin", "read write"));
    assert_false(client_list_subset("rea", "read"));
    assert_true(client_jwks_uri_allowed("https://keys.example/jwks", 0));
    assert_false(client_jwks_uri_allowed("http://127.0.0.1/jwks", 0));
    assert_true(client_jwks_uri_allowed("http://127.0.0.1/jwks", 1));
    assert_false(client_jwks_uri_allowed("file:///etc/passwd", 1));
    assert_true(client_auth_method_valid("private_key_jwt"));
    assert_false(client_auth_method_valid("none"));
}

static void test_secret_grace(void **state)
{
    gh_client cl = { 0 };
    (void)state;
    secret_digest("ghcs_new", cl.secret_hash);
    secret_digest("ghcs_old", cl.old_secret_hash);
    cl.old_secret_expires_at = 5000;
    assert_true(client_secret_matches(&cl, "ghcs_new", 9999));
    assert_true(client_secret_matches(&cl, "ghcs_old", 4999));
    assert_false(client_secret_matches(&cl, "ghcs_old", 5000));
    assert_false(client_secret_matches(&cl, "ghcs_other", 0));
    assert_false(client_secret_matches(&cl, "", 0));
    assert_false(client_secret_matches(&cl, NULL, 0));
    /* a client without a secret (private_key_jwt) matches nothing */
    memset(&cl, 0, sizeof cl);
    assert_false(client_secret_matches(&cl, "", 0));
}

static json_t *claims(const char *iss, const char *sub, const char *aud, json_int_t exp,
                      const char *jti)
{
    json_t *pl = json_pack("{s:s, s:s, s:s, s:I}", "iss", iss, "sub", sub, "aud", aud, "exp", exp);
    if (jti)
        json_object_set_new(pl, "jti", json_string(jti));
    return pl;
}

static const char *refusal(json_t *pl)
{
    const char *why = client_assertion_refusal(pl, "ghc_a", ENDPOINT, ISSUER, NOW);
    json_decref(pl);
    return why;
}

static void test_assertion_claims(void **state)
{
    (void)state;
    assert_null(refusal(claims("ghc_a", "ghc_a", ENDPOINT, NOW + 60, "j1")));
    assert_null(refusal(claims("ghc_a", "ghc_a", ISSUER, NOW + 60, "j1")));
    assert_non_null(refusal(claims("ghc_b", "ghc_a", ENDPOINT, NOW + 60, "j1")));
    assert_non_null(refusal(claims("ghc_a", "ghc_b", ENDPOINT, NOW + 60, "j1")));
    assert_non_null(refusal(claims("ghc_a", "ghc_a", "https://other.example/token", NOW + 60, "j1")));
    /* within the leeway an expired assertion still counts; past it, not */
    assert_null(refusal(claims("ghc_a", "ghc_a", ENDPOINT, NOW - 10, "j1")));
    assert_non_null(refusal(claims("ghc_a", "ghc_a", ENDPOINT, NOW - 31, "j1")));
    assert_non_null(refusal(claims("ghc_a", "ghc_a", ENDPOINT, NOW + 7200, "j1")));
    assert_non_null(refusal(claims("ghc_a", "ghc_a", ENDPOINT, NOW + 60, NULL)));
    assert_non_null(refusal(claims("ghc_a", "ghc_a", ENDPOINT, NOW + 60, "")));
    json_t *arr = json_pack("{s:s, s:s, s:[s,s], s:I, s:s}", "iss", "ghc_a", "sub", "ghc_a", "aud",
                            "https://x.example", ENDPOINT, "exp", (json_int_t)NOW + 60, "jti", "j");
    assert_null(refusal(arr));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_secret_grace),
        cmocka_unit_test(test_assertion_claims),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
