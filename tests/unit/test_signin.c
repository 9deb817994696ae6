/*
 * test_signin.c - the sign-in pipeline (core/auth/signin.c) without HTTP:
 * the outcomes a door maps, over the real SQLite plugin.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "auth/signin.h"
#include "clock.h"
#include "config.h"

#include "accounts_fx.h"

#define PASSWORD "correct horse battery"

/* Cheap argon2id (the cost is test_password.c's business) and a lockout
 * after three failures, read from YAML like the daemon's. */
#define CONFIG "auth:\n  password:\n    argon2: { memory_kib: 1024, iterations: 1 }\n" \
               "  lockout: { account_failures: 3, base_delay: 1m, max_delay: 1m }\n"

static int setup(void **state)
{
    *state = fx_open(CONFIG);
    return 0;
}

static void context(fx *f, gh_auth_ctx *x)
{
    *x = (gh_auth_ctx){
        .cfg = f->cfg, .conn = f->c, .call = &f->call, .tenant = ROOT, .ip = "192.0.2.1",
        .ua = "test-agent/1.0",
    };
}

/* alice, active, verified unless told, with PASSWORD as her password. */
static void alice(fx *f, const gh_auth_ctx *x, int verified, gh_user *u)
{
    char hash[GH_PW_HASH_MAX];
    new_user(f, ROOT, "alice@example.com", "alice", u);
    assert_int_equal(password_hash(PASSWORD, strlen(PASSWORD), &x->cfg->argon2, hash), 0);
    assert_int_equal(users_set_password(f->c, &f->call, u->id, hash), GH_OK);
    if (verified)
        assert_int_equal(users_mark_verified(f->c, &f->call, u->id, gh_now_ms()), GH_OK);
}

static auth_outcome try_login(const gh_auth_ctx *x, const char *login, const char *pw,
                              auth_result *r)
{
    memset(r, 0, sizeof *r);
    return signin_password(x, login, pw, r);
}

static auth_outcome acted(const gh_auth_ctx *x, const gh_user *u, void *arg, auth_result *r)
{
    (void)x, (void)u, (void)r;
    *(int *)arg = 1;
    return AUTH_OK;
}

static void test_signin_ok(void **state)
{
    fx *f = *state;
    gh_auth_ctx x;
    gh_user u;
    auth_result r;
    context(f, &x);
    alice(f, &x, 1, &u);

    assert_int_equal(try_login(&x, "Alice@Example.com", PASSWORD, &r), AUTH_OK);
    assert_string_equal(r.user.id, u.id);
    assert_string_equal(r.session.user_id, u.id);
    assert_int_not_equal(r.refresh[0], '\0');
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM audit_events WHERE action = ?",
                               "login.success"), 1);
    auth_clear(&r);
    user_clear(&u);
}

/* A wrong password and an unknown login look the same to the caller. */
static void test_signin_bad_same_as_unknown(void **state)
{
    fx *f = *state;
    gh_auth_ctx x;
    gh_user u;
    auth_result wrong, unknown;
    context(f, &x);
    alice(f, &x, 1, &u);

    assert_int_equal(try_login(&x, "alice", "not the password", &wrong), AUTH_BAD);
    assert_int_equal(try_login(&x, "nobody@example.com", PASSWORD, &unknown), AUTH_BAD);
    assert_int_equal(wrong.refresh[0], '\0');
    assert_int_equal(unknown.refresh[0], '\0');
    assert_int_equal(wrong.retry_after_s, unknown.retry_after_s);
    assert_null(wrong.methods);
    assert_null(unknown.methods);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM audit_events WHERE action = ?",
                               "login.failure"), 2);
    auth_clear(&wrong);
    auth_clear(&unknown);
    user_clear(&u);
}

/* After N failures even the right password is refused, by email or name. */
static void test_signin_lockout(void **state)
{
    fx *f = *state;
    gh_auth_ctx x;
    gh_user u;
    auth_result r;
    context(f, &x);
    alice(f, &x, 1, &u);

    for (int i = 0; i < x.cfg->lockout.account_failures; i++) {
        assert_int_equal(try_login(&x, i % 2 ? "alice" : "alice@example.com", "wrong", &r),
                         AUTH_BAD);
        auth_clear(&r);
    }
    assert_int_equal(try_login(&x, "alice", PASSWORD, &r), AUTH_LOCKED);
    assert_in_range(r.retry_after_s, 1, 60);
    auth_clear(&r);
    /* the re-check before a sensitive change counts on the same account,
     * and does not act */
    int did = 0;
    memset(&r, 0, sizeof r);
    assert_int_equal(signin_recheck(&x, u.id, PASSWORD, "password.change", acted, &did, &r),
                     AUTH_LOCKED);
    assert_int_equal(did, 0);
    auth_clear(&r);
    user_clear(&u);
}

static void test_signin_unverified(void **state)
{
    fx *f = *state;
    gh_auth_ctx x;
    gh_user u;
    auth_result r;
    context(f, &x);
    f->cfg->require_verified_email = 1;
    alice(f, &x, 0, &u);

    assert_int_equal(try_login(&x, "alice", PASSWORD, &r), AUTH_UNVERIFIED);
    assert_int_equal(r.refresh[0], '\0');
    auth_clear(&r);
    assert_int_equal(users_mark_verified(f->c, &f->call, u.id, gh_now_ms()), GH_OK);
    assert_int_equal(try_login(&x, "alice", PASSWORD, &r), AUTH_OK);
    auth_clear(&r);
    user_clear(&u);
}

static void test_signin_mfa(void **state)
{
    fx *f = *state;
    gh_auth_ctx x;
    gh_user u;
    auth_result r;
    context(f, &x);
    alice(f, &x, 1, &u);
    char sql[256];
    /* a factor not yet confirmed asks for nothing */
    snprintf(sql, sizeof sql,
             "INSERT INTO credentials (id, user_id, type, secret, label, created_at) "
             "VALUES ('c0', '%s', 'totp', 'x', 'pending', 1)", u.id);
    assert_int_equal(store_exec_script(f->c, &f->call, sql), GH_OK);
    assert_int_equal(try_login(&x, "alice", PASSWORD, &r), AUTH_OK);
    auth_clear(&r);
    snprintf(sql, sizeof sql,
             "INSERT INTO credentials (id, user_id, type, secret, label, created_at, confirmed_at) "
             "VALUES ('c1', '%s', 'totp', 'x', 'phone', 1, 1)", u.id);
    assert_int_equal(store_exec_script(f->c, &f->call, sql), GH_OK);

    assert_int_equal(try_login(&x, "alice", PASSWORD, &r), AUTH_MFA);
    assert_int_equal(json_array_size(r.methods), 1);
    assert_int_not_equal(r.mfa_token[0], '\0');
    assert_int_equal(r.refresh[0], '\0');
    auth_clear(&r);
    user_clear(&u);
}

#undef T
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_signin_ok),
        T(test_signin_bad_same_as_unknown),
        T(test_signin_lockout),
        T(test_signin_unverified),
        T(test_signin_mfa),
    };
    return RUN(tests);
}
