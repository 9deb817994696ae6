/*
 * test_factors.c - second factors and recovery codes in the credentials
 * table (core/auth/factors.c) over the real SQLite plugin: secrets sealed
 * and opened whole, pending until used, a time step accepted once,
 * recovery codes spent once, removal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "auth/factors.h"
#include "auth/mfa.h"
#include "auth/pii.h"
#include "auth/tokens.h"

#include "accounts_fx.h"

static int setup(void **state)
{
    *state = fx_open("");
    return 0;
}

/* a secret with a NUL in it, as TOTP keys may have */
static const unsigned char key[20] = { 1, 2, 0, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17 };

static void enrol(fx *f, const char *user, char id[37])
{
    assert_int_equal(factors_create(f->c, &f->call, user, "totp", "phone", key, sizeof key, id),
                     GH_OK);
}

static void test_secret_sealed(void **state)
{
    fx *f = *state;
    gh_user u;
    gh_factor g;
    char id[37];
    text_ud t;
    uint8_t idx[PII_KEY_LEN] = { 1 }, k1[PII_KEY_LEN] = { 2 };
    gh_pii *p = pii_new(idx);
    assert_non_null(p);
    assert_int_equal(pii_add_key(p, "k1", k1), 0);
    pii_install(p);
    new_user(f, ROOT, "ann@example.com", NULL, &u);
    enrol(f, u.id, id);
    assert_non_null(strstr(query_text(f, "SELECT CAST(secret AS TEXT) FROM credentials"
                                         " WHERE id = ?", id, &t), "gh1:"));
    assert_int_equal(factors_get(f->c, &f->call, u.id, id, &g), GH_OK);
    assert_int_equal(g.secret_len, sizeof key);
    assert_memory_equal(g.secret, key, sizeof key);
    assert_false(g.confirmed);
    assert_int_equal(g.last_counter, -1);
    factor_clear(&g);
    assert_int_equal(factors_get(f->c, &f->call, "someone-else", id, &g), GH_ERR_NOT_FOUND);
    pii_install(NULL);
    pii_free(p);
    user_clear(&u);
}

static void test_step_once(void **state)
{
    fx *f = *state;
    gh_user u;
    gh_factor g;
    json_t *methods = NULL;
    char id[37];
    new_user(f, ROOT, "ann@example.com", NULL, &u);
    enrol(f, u.id, id);
    assert_int_equal(mfa_methods(f->c, &f->call, u.id, &methods), GH_OK);
    assert_int_equal(json_array_size(methods), 0); /* pending */
    json_decref(methods);
    assert_int_equal(factors_use(f->c, &f->call, id, 100), GH_OK);
    assert_int_equal(factors_use(f->c, &f->call, id, 100), GH_ERR_DENIED);
    assert_int_equal(factors_use(f->c, &f->call, id, 99), GH_ERR_DENIED);
    assert_int_equal(factors_use(f->c, &f->call, id, 101), GH_OK);
    assert_int_equal(factors_get(f->c, &f->call, u.id, id, &g), GH_OK);
    assert_true(g.confirmed);
    assert_int_equal(g.last_counter, 101);
    factor_clear(&g);
    assert_int_equal(mfa_methods(f->c, &f->call, u.id, &methods), GH_OK);
    assert_int_equal(json_array_size(methods), 1);
    json_decref(methods);
    user_clear(&u);
}

static void test_recovery_codes(void **state)
{
    fx *f = *state;
    gh_user u;
    json_t *codes = NULL, *again = NULL;
    new_user(f, ROOT, "ann@example.com", NULL, &u);
    assert_int_equal(recovery_codes_new(f->c, &f->call, u.id, &codes), GH_OK);
    assert_int_equal(json_array_size(codes), RECOVERY_CODES);
    const char *first = json_string_value(json_array_get(codes, 0));
    assert_int_equal(strlen(first), RECOVERY_CODE_LEN - 1);
    /* six groups of four base32 letters: 120 bits */
    for (int i = 0; i < RECOVERY_CODE_LEN - 1; i++)
        assert_true(i % 5 == 4 ? first[i] == '-' : strchr("abcdefghijklmnopqrstuvwxyz234567",
                                                           first[i]) != NULL);
    /* stored as its digest, never as the code */
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM credentials WHERE type = 'recovery'"
                                  " AND secret LIKE '%-%'", NULL), 0);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM credentials WHERE type = 'recovery'"
                                  " AND user_id = ?", u.id), RECOVERY_CODES);
    assert_int_equal(recovery_code_use(f->c, &f->call, "someone-else", first), GH_ERR_DENIED);
    assert_int_equal(recovery_code_use(f->c, &f->call, u.id, first), GH_OK);
    assert_int_equal(recovery_code_use(f->c, &f->call, u.id, first), GH_ERR_DENIED);
    assert_int_equal(recovery_code_use(f->c, &f->call, u.id, "not-a-code"), GH_ERR_DENIED);
    /* a code cut short by one group is no code */
    char cut[RECOVERY_CODE_LEN];
    snprintf(cut, sizeof cut, "%.*s", RECOVERY_CODE_LEN - 6,
             json_string_value(json_array_get(codes, 3)));
    assert_int_equal(recovery_code_use(f->c, &f->call, u.id, cut), GH_ERR_DENIED);
    /* new codes replace the old ones */
    assert_int_equal(recovery_codes_new(f->c, &f->call, u.id, &again), GH_OK);
    assert_int_equal(recovery_code_use(f->c, &f->call, u.id,
                                       json_string_value(json_array_get(codes, 1))),
                     GH_ERR_DENIED);
    assert_int_equal(recovery_code_use(f->c, &f->call, u.id,
                                       json_string_value(json_array_get(again, 1))),
                     GH_OK);
    json_decref(codes);
    json_decref(again);
    user_clear(&u);
}

/* A 16-letter code from before codes grew to 120 bits still signs in
 * once, until the user makes new ones. */
static void test_recovery_code_of_80_bits(void **state)
{
    fx *f = *state;
    gh_user u;
    char digest[GH_DIGEST_LEN];
    int64_t now = 1;
    new_user(f, ROOT, "old@example.com", NULL, &u);
    secret_digest("abcdefgh234567yz", digest);
    gh_param args[] = { str_arg("00000000-0000-4000-8000-0000000000a1"), str_arg(u.id),
                        { NULL, GH_T_BYTES, digest, strlen(digest) },
                        { NULL, GH_T_INT, &now, sizeof now }, { NULL, GH_T_INT, &now, sizeof now } };
    assert_int_equal(store_exec(f->c, &f->call,
                                "INSERT INTO credentials (id, user_id, type, secret, created_at,"
                                " confirmed_at) VALUES (?, ?, 'recovery', ?, ?, ?)",
                                args, 5, NULL, NULL, NULL),
                     GH_OK);
    assert_int_equal(recovery_code_use(f->c, &f->call, u.id, "ABCD-EFGH-2345-67YZ"), GH_OK);
    assert_int_equal(recovery_code_use(f->c, &f->call, u.id, "abcd-efgh-2345-67yz"), GH_ERR_DENIED);
    user_clear(&u);
}

static void test_delete(void **state)
{
    fx *f = *state;
    gh_user u;
    json_t *codes = NULL;
    char a[37], b[37];
    int64_t left = -1;
    new_user(f, ROOT, "ann@example.com", NULL, &u);
    enrol(f, u.id, a);
    enrol(f, u.id, b);
    assert_int_equal(factors_use(f->c, &f->call, a, 1), GH_OK);
    assert_int_equal(factors_use(f->c, &f->call, b, 1), GH_OK);
    assert_int_equal(recovery_codes_new(f->c, &f->call, u.id, &codes), GH_OK);
    assert_int_equal(factors_delete(f->c, &f->call, "someone-else", a, &left), GH_ERR_NOT_FOUND);
    assert_int_equal(factors_delete(f->c, &f->call, u.id, a, &left), GH_OK);
    assert_int_equal(left, 1);
    assert_int_equal(factors_delete(f->c, &f->call, u.id, a, &left), GH_ERR_NOT_FOUND);
    assert_int_equal(factors_delete(f->c, &f->call, u.id, NULL, &left), GH_OK);
    assert_int_equal(left, 0);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM credentials WHERE user_id = ?"
                                  " AND type <> 'password'", u.id), 0);
    json_decref(codes);
    user_clear(&u);
}

#undef T
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_secret_sealed),
        T(test_step_once),
        T(test_recovery_codes),
        T(test_recovery_code_of_80_bits),
        T(test_delete),
    };
    return RUN(tests);
}
