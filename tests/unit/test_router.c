/*
 * test_router.c - routing: literals, parameters, precedence, 404/405 with
 * Allow, percent-decoding, and patterns the router must refuse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "http/router.h"

static void h_a(struct gh_req *r) { (void)r; }
static void h_b(struct gh_req *r) { (void)r; }
static void h_c(struct gh_req *r) { (void)r; }

static int setup(void **state)
{
    gh_router *r = router_new();
    assert_non_null(r);
    assert_int_equal(router_add(r, GH_GET, "/health", h_a), 0);
    assert_int_equal(router_add(r, GH_GET | GH_PUT | GH_DELETE, "/api/v1/users/{id}", h_b), 0);
    assert_int_equal(router_add(r, GH_GET, "/api/v1/users/me", h_c), 0);
    assert_int_equal(router_add(r, GH_DELETE, "/api/v1/users/me/sessions/{sid}", h_a), 0);
    assert_int_equal(router_add(r, GH_POST, "/t/{tenant}/u/{user}", h_c), 0);
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    router_free(*state);
    return 0;
}

static void literal_route(void **state)
{
    gh_match m;
    assert_int_equal(router_match(*state, GH_GET, "/health", &m), 200);
    assert_ptr_equal(m.route->handler, h_a);
    assert_string_equal(m.route->pattern, "/health");
    assert_int_equal(m.nparams, 0);
    match_clear(&m);
}

static void param_route(void **state)
{
    gh_match m;
    assert_int_equal(router_match(*state, GH_PUT, "/api/v1/users/42", &m), 200);
    assert_ptr_equal(m.route->handler, h_b);
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.params[0].value, "42");
    assert_int_equal(strncmp(m.params[0].name, "id}", 3), 0);
    match_clear(&m);
}

static void literal_beats_param(void **state)
{
    gh_match m;
    assert_int_equal(router_match(*state, GH_GET, "/api/v1/users/me", &m), 200);
    assert_ptr_equal(m.route->handler, h_c);
    match_clear(&m);
    /* DELETE is only on {id}: the param route answers /users/me for it */
    assert_int_equal(router_match(*state, GH_DELETE, "/api/v1/users/me", &m), 200);
    assert_ptr_equal(m.route->handler, h_b);
    match_clear(&m);
}

static void two_params(void **state)
{
    gh_match m;
    assert_int_equal(router_match(*state, GH_POST, "/t/acme/u/bob", &m), 200);
    assert_int_equal(m.nparams, 2);
    assert_string_equal(m.params[0].value, "acme");
    assert_string_equal(m.params[1].value, "bob");
    match_clear(&m);
}

static void not_found(void **state)
{
    gh_match m;
    assert_int_equal(router_match(*state, GH_GET, "/nope", &m), 404);
    assert_null(m.route);
    assert_int_equal(router_match(*state, GH_GET, "/health/extra", &m), 404);
    assert_int_equal(router_match(*state, GH_GET, "/api/v1/users", &m), 404);
    /* "users/" is "users", which is not a route here; an empty id is none */
    assert_int_equal(router_match(*state, GH_GET, "/api/v1/users/", &m), 404);
    assert_int_equal(router_match(*state, GH_GET, "/api/v1/users//", &m), 404);
    assert_int_equal(router_match(*state, GH_GET, "/api/v1//me", &m), 404);
    assert_int_equal(router_match(*state, GH_GET, "health", &m), 404);
}

/* One trailing slash reaches the same route, with the same parameters. */
static void trailing_slash(void **state)
{
    gh_match m;
    assert_int_equal(router_match(*state, GH_GET, "/health/", &m), 200);
    assert_ptr_equal(m.route->handler, h_a);
    match_clear(&m);
    assert_int_equal(router_match(*state, GH_PUT, "/api/v1/users/42/", &m), 200);
    assert_ptr_equal(m.route->handler, h_b);
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.params[0].value, "42");
    match_clear(&m);
    assert_int_equal(router_match(*state, GH_POST, "/api/v1/users/me/", &m), 405);
}

static void method_not_allowed(void **state)
{
    gh_match m;
    char allow[64];
    assert_int_equal(router_match(*state, GH_POST, "/api/v1/users/7", &m), 405);
    assert_null(m.route);
    methods_format(m.allow, allow, sizeof allow);
    assert_string_equal(allow, "GET, PUT, DELETE");
    assert_int_equal(router_match(*state, GH_POST, "/api/v1/users/me", &m), 405);
    methods_format(m.allow, allow, sizeof allow);
    assert_string_equal(allow, "GET, PUT, DELETE"); /* union of both patterns */
}

static void percent_decoding(void **state)
{
    gh_match m;
    assert_int_equal(router_match(*state, GH_GET, "/api/v1/users/a%20b%C3%A9", &m), 200);
    assert_string_equal(m.params[0].value, "a b\xc3\xa9");
    match_clear(&m);
    /* an encoded slash or NUL, or a broken escape, never reaches a handler */
    assert_int_equal(router_match(*state, GH_GET, "/api/v1/users/a%2Fb", &m), 404);
    assert_int_equal(router_match(*state, GH_GET, "/api/v1/users/a%00", &m), 404);
    assert_int_equal(router_match(*state, GH_GET, "/api/v1/users/a%4", &m), 404);
    assert_int_equal(router_match(*state, GH_GET, "/api/v1/users/%zz", &m), 404);
}

static void bad_patterns(void **state)
{
    gh_router *r = *state;
    size_t before = router_count(r);
    assert_int_equal(router_add(r, GH_GET, "no-slash", h_a), -1);
    assert_int_equal(router_add(r, GH_GET, "/a//b", h_a), -1);
    assert_int_equal(router_add(r, GH_GET, "/a/{b", h_a), -1);
    assert_int_equal(router_add(r, GH_GET, "/a/{b-c}", h_a), -1);
    assert_int_equal(router_add(r, 0, "/zero-methods", h_a), -1);
    /* same shape and an overlapping method: ambiguous, refused */
    assert_int_equal(router_add(r, GH_GET, "/api/v1/users/{other}", h_a), -1);
    assert_int_equal(router_count(r), before);
    /* same shape, new method: fine */
    assert_int_equal(router_add(r, GH_PATCH, "/api/v1/users/{other}", h_a), 0);
}

static void indexes(void **state)
{
    gh_router *r = *state;
    for (size_t i = 0; i < router_count(r); i++)
        assert_int_equal(router_at(r, i)->index, i);
    assert_null(router_at(r, router_count(r)));
    assert_int_equal(method_from_name("DELETE"), GH_DELETE);
    assert_int_equal(method_from_name("BREW"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(literal_route, setup, teardown),
        cmocka_unit_test_setup_teardown(param_route, setup, teardown),
        cmocka_unit_test_setup_teardown(literal_beats_param, setup, teardown),
        cmocka_unit_test_setup_teardown(two_params, setup, teardown),
        cmocka_unit_test_setup_teardown(not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(trailing_slash, setup, teardown),
        cmocka_unit_test_setup_teardown(method_not_allowed, setup, teardown),
        cmocka_unit_test_setup_teardown(percent_decoding, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_patterns, setup, teardown),
        cmocka_unit_test_setup_teardown(indexes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
