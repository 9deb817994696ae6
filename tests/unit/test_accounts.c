/*
 * test_accounts.c - accounts, sessions, refresh tokens, the deny-list, the
 * audit trail and login lockout, over the real SQLite plugin loaded
 * through the real loader (as test_store.c does), on real database files.
 *
 * Needs GATEHOUSE_PLUGIN_DIR (make check sets it). Each test gets a fresh
 * database. Time moves with clock_advance_ms(), never by sleeping.
 * Password hashes are fixed strings: hashing is test_password.c's business.
 * Assertions stay on the main thread (cmocka is not thread-safe): the
 * threads of the concurrency test report what they saw.
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

#define ROOT GH_ROOT_TENANT
#define OTHER_TENANT "11111111-1111-4111-8111-111111111111"
#define HASH "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
#define HOUR (60 * 60 * 1000LL)
#define DAY (24 * HOUR)
/* The test clock is the real one plus an offset: real time passes between
 * two reads, so "ms left" is checked within this much. */
#define SLACK 500

static char tmpdir[] = "/tmp/gh-accounts-XXXXXX";
static int db_seq;

/* ---------------------------------------------------------------- fixture */

typedef struct fx {
    char db[64];
    gh_node opts;
    gh_node kids[2];
    gh_config cfg;
    gh_plugins ps;
    gh_store *st;
    gh_conn *c;
    gh_call call;
} fx;

static void scalar(gh_node *k, const char *key, const char *value, int line)
{
    memset(k, 0, sizeof(*k));
    k->type = GH_NODE_SCALAR;
    k->key = (char *)key;
    k->value = (char *)value;
    k->file = "test.yaml";
    k->line = k->key_line = line;
    k->col = k->key_col = 3;
}

static int setup_raw(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    char err[512];

    assert_non_null(f);
    snprintf(f->db, sizeof(f->db), "a%d.db", ++db_seq);
    f->opts.type = GH_NODE_MAP;
    f->opts.file = "test.yaml";
    f->opts.line = f->opts.col = 1;
    scalar(&f->kids[0], "path", f->db, 2);
    scalar(&f->kids[1], "busy_timeout", "2s", 3);
    f->kids[0].next = &f->kids[1];
    f->opts.child = f->kids;
    f->opts.n = 2;
    f->cfg.storage.name = "sqlite";
    f->cfg.storage.options = &f->opts;
    f->cfg.storage.where = &f->opts;
    f->cfg.plugin_dir = getenv("GATEHOUSE_PLUGIN_DIR");
    if (plugins_load(&f->ps, &f->cfg, err, sizeof(err)) != 0)
        fail_msg("plugins_load: %s", err);
    if (plugins_thread_init(&f->ps, err, sizeof(err)) != 0)
        fail_msg("plugins_thread_init: %s", err);
    assert_non_null(f->st = store_new(f->ps.storage, f->ps.kv));
    if ((f->c = store_thread_open(f->st, err, sizeof(err))) == NULL)
        fail_msg("store_thread_open: %s", err);
    call_init(&f->call, NULL, "test", 10000);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    char err[512];
    int applied = -1;

    setup_raw(state);
    if (store_migrate(((fx *)*state)->c, &applied, err, sizeof(err)) != 0)
        fail_msg("store_migrate: %s", err);
    assert_int_equal(applied, store_latest_version());
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;

    store_thread_close(f->c);
    store_free(f->st);
    plugins_thread_fini(&f->ps);
    plugins_unload(&f->ps);
    free(f);
    return 0;
}

/* ------------------------------------------------------ direct SQL reads */

static gh_param str_arg(const char *s)
{
    return (gh_param){ NULL, GH_T_STR, s, strlen(s) };
}

static int int_row(void *ud, const gh_param *cols, uint32_t n)
{
    *(int64_t *)ud = n > 0 && cols[0].type == GH_T_INT ? *(const int64_t *)cols[0].data : -1;
    return 1;
}

/* The integer a one-column query returns, with one text argument or none
 * (-1: NULL, -2: no row). */
static int64_t query_int(fx *f, const char *sql, const char *arg)
{
    gh_param p = arg ? str_arg(arg) : (gh_param){ 0 };
    int64_t v = -2;

    assert_int_equal(store_exec(f->c, &f->call, sql, arg ? &p : NULL, arg ? 1 : 0, int_row, &v,
                                NULL), GH_OK);
    return v;
}

typedef struct text_ud {
    char buf[512];
} text_ud;

static int text_row(void *vud, const gh_param *cols, uint32_t n)
{
    text_ud *ud = vud;

    strcpy(ud->buf, "(null)");
    if (n > 0 && (cols[0].type == GH_T_STR || cols[0].type == GH_T_BYTES) &&
        cols[0].len < sizeof(ud->buf)) {
        memcpy(ud->buf, cols[0].data, cols[0].len);
        ud->buf[cols[0].len] = '\0';
    }
    return 1;
}

static const char *query_text(fx *f, const char *sql, const char *arg, text_ud *ud)
{
    gh_param p = str_arg(arg);

    strcpy(ud->buf, "(no row)");
    assert_int_equal(store_exec(f->c, &f->call, sql, &p, 1, text_row, ud, NULL), GH_OK);
    return ud->buf;
}

static void add_tenant(fx *f, const char *id, const char *slug)
{
    char sql[256];

    snprintf(sql, sizeof(sql),
             "INSERT INTO tenants (id, slug, name, created_at, updated_at) "
             "VALUES ('%s', '%s', 'T', 1, 1)", id, slug);
    assert_int_equal(store_exec_script(f->c, &f->call, sql), GH_OK);
}

/* ---------------------------------------------------------- user helpers */

static gh_result try_user(fx *f, const char *tenant, const char *email, const char *username,
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

static void new_user(fx *f, const char *tenant, const char *email, const char *username,
                     gh_user *u)
{
    gh_result r = try_user(f, tenant, email, username, u);

    if (r != GH_OK)
        fail_msg("users_create %s: %s (%s)", email ? email : username, gh_result_str(r),
                 f->call.message);
}

static void new_session(fx *f, const gh_user *u, gh_session *s, char refresh[GH_SECRET_LEN])
{
    assert_int_equal(session_create(f->c, &f->call, u->tenant_id, u->id, "test-agent/1.0",
                                    "192.0.2.1", 30 * DAY, s, refresh), GH_OK);
}

static gh_refresh_outcome refresh(fx *f, const char *token, gh_session *s,
                                  char next[GH_SECRET_LEN])
{
    gh_refresh_outcome o = (gh_refresh_outcome)-1;

    assert_int_equal(session_refresh(f->c, &f->call, token, "agent/2", "198.51.100.7",
                                     15 * 60 * 1000, s, next, &o), GH_OK);
    return o;
}

/* ------------------------------------------------------------ migrations */

static int index_exists(fx *f, const char *name)
{
    return query_int(f, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?",
                     name) == 1;
}

static void test_migrate_fresh(void **state)
{
    fx *f = *state;
    char err[256];
    int applied = -1, version = -1;
    text_ud t;

    assert_int_equal(store_latest_version(), 4);
    assert_int_equal(store_migrate(f->c, &applied, err, sizeof(err)), 0);
    assert_int_equal(applied, 4);
    assert_int_equal(store_schema_version(f->c, &version), 0);
    assert_int_equal(version, 4);
    assert_string_equal(query_text(f, "SELECT name FROM schema_migrations WHERE version = "
                                      "CAST(? AS INTEGER)", "2", &t), "refresh_tokens");
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
                                  "AND name = ?", "refresh_tokens"), 1);
    assert_true(index_exists(f, "refresh_tokens_session"));
    assert_true(index_exists(f, "users_tenant_created"));
    assert_true(index_exists(f, "users_tenant_external"));
}

static void test_migrate_from_v1(void **state)
{
    fx *f = *state;
    char err[256];
    int applied = -1, version = -1;
    gh_user u;
    gh_session s;
    char tok[GH_SECRET_LEN];

    assert_int_equal(store_migrate_to(f->c, 1, &applied, err, sizeof(err)), 0);
    assert_int_equal(applied, 1);
    /* a v1 database in use: a user and a session with v1's refresh_hash */
    assert_int_equal(store_exec_script(f->c, &f->call,
        "INSERT INTO users (id, tenant_id, email, email_normalized, created_at, updated_at) "
        "VALUES ('u-old', '" ROOT "', 'Old@Example.com', 'old@example.com', 1, 1);"
        "INSERT INTO sessions (id, user_id, tenant_id, refresh_hash, family_id, created_at, "
        "expires_at) VALUES ('s-old', 'u-old', '" ROOT "', 'abc', 's-old', 1, 2)"), GH_OK);
    assert_int_equal(store_migrate(f->c, &applied, err, sizeof(err)), 0);
    assert_int_equal(applied, store_latest_version() - 1);
    assert_int_equal(store_schema_version(f->c, &version), 0);
    assert_int_equal(version, store_latest_version());
    /* what was there still is, and works with the new code */
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM sessions WHERE id = ?", "s-old"), 1);
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "OLD@example.com", &u, NULL), GH_OK);
    assert_string_equal(u.id, "u-old");
    user_clear(&u);
    new_user(f, ROOT, "new@example.com", NULL, &u);
    new_session(f, &u, &s, tok);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM refresh_tokens WHERE session_id = ?",
                               s.id), 1);
    /* the v1 column is not used any more */
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM sessions WHERE id = ? "
                                  "AND refresh_hash IS NULL", s.id), 1);
    user_clear(&u);
}

/* ----------------------------------------------------------- normalising */

static void test_email_normalize(void **state)
{
    static const char *const good[][2] = {
        { "Alice@Example.COM", "alice@example.com" },
        { "  bob@example.org\t", "bob@example.org" },
        { "a.b+tag@sub.example.co.uk", "a.b+tag@sub.example.co.uk" },
        { "J\xc3\xb6rg@EXAMPLE.de", "j\xc3\xb6rg@example.de" }, /* non-ASCII kept as is */
    };
    static const char *const bad[] = {
        "", "   ", "plain", "@example.com", "a@", "a@@example.com", "a@b@example.com",
        "a b@example.com", "a@exa mple.com", "a@localhost", "a@.example.com", "a@example.com.",
        "a@example..com", "a\x01@example.com", "a\x7f@example.com", "a@example.com\n@x.y",
        "\xff@example.com", "a@ex\xc3\x28.com", "\xc0\xaf@example.com", "\xed\xa0\x80@example.com",
    };
    char out[300], long_local[80], long_addr[300];

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (email_normalize(good[i][0], out, sizeof(out)) != 0)
            fail_msg("refused %s", good[i][0]);
        assert_string_equal(out, good[i][1]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (email_normalize(bad[i], out, sizeof(out)) != -1)
            fail_msg("accepted bad address #%zu", i);
    assert_int_equal(email_normalize(NULL, out, sizeof(out)), -1);
    /* 64 bytes of local part, 254 of address: no more */
    memset(long_local, 'x', 65);
    strcpy(long_local + 65, "@example.com");
    assert_int_equal(email_normalize(long_local, out, sizeof(out)), -1);
    strcpy(long_local + 64, "@example.com");
    assert_int_equal(email_normalize(long_local, out, sizeof(out)), 0);
    memset(long_addr, 'd', sizeof(long_addr));
    memcpy(long_addr, "x@", 2);
    strcpy(long_addr + 250, ".com"); /* 254 bytes */
    assert_int_equal(email_normalize(long_addr, out, sizeof(out)), 0);
    strcpy(long_addr + 251, ".com");
    assert_int_equal(email_normalize(long_addr, out, sizeof(out)), -1);
    /* the buffer too small is a refusal, not an overflow */
    assert_int_equal(email_normalize("alice@example.com", out, 10), -1);
}

static void test_username_normalize(void **state)
{
    static const char *const bad[] = {
        "ab", "", "with space", "a@b", "caf\xc3\xa9", "tab\tbed", "semi;colon",
        "0123456789012345678901234567890123456789012345678901234567890123x",
    };
    char out[80];

    (void)state;
    assert_int_equal(username_normalize("John_Doe-1.x", out, sizeof(out)), 0);
    assert_string_equal(out, "john_doe-1.x");
    assert_int_equal(username_normalize(" abc ", out, sizeof(out)), 0);
    assert_string_equal(out, "abc");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (username_normalize(bad[i], out, sizeof(out)) != -1)
            fail_msg("accepted %s", bad[i]);
}

/* ----------------------------------------------------------------- users */

static void test_users_create_find(void **state)
{
    fx *f = *state;
    char hash[GH_PW_HASH_MAX];
    gh_user u, got;
    int64_t t0 = gh_now_ms();

    new_user(f, ROOT, "  Alice@Example.COM ", "Alice_1", &u);
    assert_int_equal(strlen(u.id), 36);
    assert_true(u.created_at >= t0 && u.updated_at == u.created_at);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM credentials WHERE user_id = ? "
                                  "AND type = 'password'", u.id), 1);

    /* by email in any case, with the hash */
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "ALICE@example.com", &got, hash),
                     GH_OK);
    assert_string_equal(got.id, u.id);
    assert_string_equal(got.tenant_id, ROOT);
    assert_string_equal(got.email, "Alice@Example.COM"); /* as given, trimmed */
    assert_string_equal(got.username, "Alice_1");
    assert_string_equal(got.full_name, "Full Name");
    assert_null(got.phone);
    assert_true(got.is_active);
    assert_false(got.is_admin);
    assert_int_equal(got.email_verified_at, 0);
    assert_string_equal(hash, HASH);
    user_clear(&got);
    /* by username in any case; the hash is optional */
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "alice_1", &got, NULL), GH_OK);
    assert_string_equal(got.id, u.id);
    user_clear(&got);
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "ALICE_1", &got, hash), GH_OK);
    user_clear(&got);
    /* misses: unknown, wrong tenant, malformed */
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "bob@example.com", &got, hash),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(users_find_login(f->c, &f->call, OTHER_TENANT, "alice@example.com", &got,
                                      hash), GH_ERR_NOT_FOUND);
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "al", &got, hash), GH_ERR_NOT_FOUND);
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "@@", &got, hash), GH_ERR_NOT_FOUND);
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, NULL, &got, hash), GH_ERR_NOT_FOUND);

    /* by id, in its tenant or any */
    assert_int_equal(users_get(f->c, &f->call, ROOT, u.id, &got), GH_OK);
    assert_string_equal(got.email, "Alice@Example.COM");
    user_clear(&got);
    assert_int_equal(users_get(f->c, &f->call, NULL, u.id, &got), GH_OK);
    user_clear(&got);
    assert_int_equal(users_get(f->c, &f->call, OTHER_TENANT, u.id, &got), GH_ERR_NOT_FOUND);
    assert_int_equal(users_get(f->c, &f->call, ROOT, "nope", &got), GH_ERR_NOT_FOUND);

    assert_int_equal(users_password_hash(f->c, &f->call, u.id, hash), GH_OK);
    assert_string_equal(hash, HASH);
    assert_int_equal(users_password_hash(f->c, &f->call, "nope", hash), GH_ERR_NOT_FOUND);
    user_clear(&u);
}

static void test_users_conflicts(void **state)
{
    fx *f = *state;
    gh_user a, b;

    new_user(f, ROOT, "carol@example.com", "carol", &a);
    /* the same address in another case, the same username in another case */
    assert_int_equal(try_user(f, ROOT, "CAROL@Example.Com", NULL, &b), GH_ERR_CONFLICT);
    assert_null(strstr(f->call.message, "carol")); /* no personal data in messages */
    assert_null(strstr(f->call.message, "argon2"));
    user_clear(&b);
    assert_int_equal(try_user(f, ROOT, "other@example.com", "CAROL", &b), GH_ERR_CONFLICT);
    user_clear(&b);
    /* nothing of the refused accounts is left, credentials included */
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM users", NULL), 1);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM credentials", NULL), 1);

    /* the same address in another tenant is another account */
    add_tenant(f, OTHER_TENANT, "other");
    new_user(f, OTHER_TENANT, "Carol@example.com", "carol", &b);
    assert_string_not_equal(a.id, b.id);
    user_clear(&b);

    /* invalid input changes nothing */
    assert_int_equal(try_user(f, ROOT, "not-an-address", NULL, &b), GH_ERR_INVALID);
    user_clear(&b);
    assert_int_equal(try_user(f, ROOT, "ok@example.com", "x y", &b), GH_ERR_INVALID);
    user_clear(&b);
    assert_int_equal(try_user(f, ROOT, NULL, NULL, &b), GH_ERR_INVALID);
    user_clear(&b);
    memset(&b, 0, sizeof(b));
    strcpy(b.tenant_id, ROOT);
    b.email = strdup("hash@example.com");
    assert_int_equal(users_create(f->c, &f->call, &b, ""), GH_ERR_INVALID);
    user_clear(&b);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM users", NULL), 2);

    /* a username-only account, and one without a password (OAuth) */
    new_user(f, ROOT, NULL, "dave", &b);
    user_clear(&b);
    memset(&b, 0, sizeof(b));
    strcpy(b.tenant_id, ROOT);
    b.email = strdup("oauth@example.com");
    assert_int_equal(users_create(f->c, &f->call, &b, NULL), GH_OK);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM credentials WHERE user_id = ?", b.id), 0);
    user_clear(&b);
    user_clear(&a);
}

static void test_users_update(void **state)
{
    fx *f = *state;
    gh_user u, v, got;
    text_ud t;

    new_user(f, ROOT, "erin@example.com", "erin", &u);
    new_user(f, ROOT, "frank@example.com", "frank", &v);
    assert_int_equal(users_mark_verified(f->c, &f->call, u.id, 12345), GH_OK);
    clock_advance_ms(5);

    /* profile fields; NULL keeps, "" clears */
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, NULL, NULL, "Erin E.",
                                  "+1 555 0100"), GH_OK);
    assert_int_equal(users_get(f->c, &f->call, ROOT, u.id, &got), GH_OK);
    assert_string_equal(got.full_name, "Erin E.");
    assert_string_equal(got.phone, "+1 555 0100");
    assert_string_equal(got.username, "erin");
    assert_int_equal(got.email_verified_at, 12345);
    assert_true(got.updated_at > got.created_at);
    user_clear(&got);
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, NULL, "Erin_X", "", ""), GH_OK);
    assert_int_equal(users_get(f->c, &f->call, ROOT, u.id, &got), GH_OK);
    assert_null(got.full_name);
    assert_null(got.phone);
    assert_string_equal(got.username, "Erin_X");
    user_clear(&got);
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "erin_x", &got, NULL), GH_OK);
    user_clear(&got);

    /* the same address in another case stays verified; a new one is not */
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, "ERIN@example.com", NULL, NULL,
                                  NULL), GH_OK);
    assert_int_equal(users_get(f->c, &f->call, ROOT, u.id, &got), GH_OK);
    assert_string_equal(got.email, "ERIN@example.com");
    assert_int_equal(got.email_verified_at, 12345);
    user_clear(&got);
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, "erin2@example.com", NULL, NULL,
                                  NULL), GH_OK);
    assert_int_equal(users_get(f->c, &f->call, ROOT, u.id, &got), GH_OK);
    assert_int_equal(got.email_verified_at, 0);
    user_clear(&got);
    assert_string_equal(query_text(f, "SELECT email_normalized FROM users WHERE id = ?", u.id,
                                   &t), "erin2@example.com");

    /* taken, invalid, missing */
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, "Frank@Example.com", NULL, NULL,
                                  NULL), GH_ERR_CONFLICT);
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, NULL, "FRANK", NULL, NULL),
                     GH_ERR_CONFLICT);
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, "", NULL, NULL, NULL),
                     GH_ERR_INVALID);
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, NULL, "no", NULL, NULL),
                     GH_ERR_INVALID);
    assert_int_equal(users_update(f->c, &f->call, OTHER_TENANT, u.id, NULL, NULL, "x", NULL),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(users_update(f->c, &f->call, ROOT, "nope", NULL, NULL, "x", NULL),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "erin2@EXAMPLE.com", &got, NULL),
                     GH_OK);
    user_clear(&got);
    user_clear(&u);
    user_clear(&v);
}

static void test_users_flags_password(void **state)
{
    fx *f = *state;
    char hash[GH_PW_HASH_MAX], big[GH_PW_HASH_MAX + 1];
    gh_user u, got;
    int64_t n = -1;

    new_user(f, ROOT, "gina@example.com", NULL, &u);
    assert_int_equal(users_count_admins(f->c, &f->call, ROOT, &n), GH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(users_set_flags(f->c, &f->call, ROOT, u.id, -1, 1), GH_OK);
    assert_int_equal(users_get(f->c, &f->call, ROOT, u.id, &got), GH_OK);
    assert_true(got.is_admin && got.is_active);
    user_clear(&got);
    assert_int_equal(users_count_admins(f->c, &f->call, ROOT, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(users_set_flags(f->c, &f->call, ROOT, u.id, 0, -1), GH_OK);
    assert_int_equal(users_get(f->c, &f->call, ROOT, u.id, &got), GH_OK);
    assert_true(got.is_admin && !got.is_active);
    user_clear(&got);
    assert_int_equal(users_count_admins(f->c, &f->call, ROOT, &n), GH_OK);
    assert_int_equal(n, 0); /* an inactive admin does not count */
    assert_int_equal(users_set_flags(f->c, &f->call, ROOT, u.id, 7, 0), GH_OK);
    assert_int_equal(users_get(f->c, &f->call, ROOT, u.id, &got), GH_OK);
    assert_true(!got.is_admin && got.is_active == 1);
    user_clear(&got);
    assert_int_equal(users_set_flags(f->c, &f->call, OTHER_TENANT, u.id, 1, 1),
                     GH_ERR_NOT_FOUND);

    /* a new password replaces the old credential */
    assert_int_equal(users_set_password(f->c, &f->call, u.id, "$2b$12$newhashnewhash"), GH_OK);
    assert_int_equal(users_password_hash(f->c, &f->call, u.id, hash), GH_OK);
    assert_string_equal(hash, "$2b$12$newhashnewhash");
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM credentials WHERE user_id = ?", u.id),
                     1);
    assert_int_equal(users_set_password(f->c, &f->call, "nope", HASH), GH_ERR_NOT_FOUND);
    memset(big, 'h', GH_PW_HASH_MAX);
    big[GH_PW_HASH_MAX] = '\0';
    assert_int_equal(users_set_password(f->c, &f->call, u.id, big), GH_ERR_INVALID);
    assert_int_equal(users_set_password(f->c, &f->call, u.id, NULL), GH_ERR_INVALID);
    assert_int_equal(users_password_hash(f->c, &f->call, u.id, hash), GH_OK);
    assert_string_equal(hash, "$2b$12$newhashnewhash");

    assert_int_equal(users_mark_verified(f->c, &f->call, "nope", 1), GH_ERR_NOT_FOUND);
    user_clear(&u);
}

/* Ids an import keeps: a caller's UUID is the id, any other id the
 * external_id; neither can be taken over, and erasing keeps both. */
static void test_users_kept_ids(void **state)
{
    fx *f = *state;
    static const char kept[] = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
    const gh_profile names = { NULL, NULL, NULL, NULL, "Kay", "Kept", "NZ" };
    gh_user u, b, got;

    memset(&u, 0, sizeof(u));
    strcpy(u.id, kept);
    strcpy(u.tenant_id, ROOT);
    u.email = strdup("kept@example.com");
    u.external_id = strdup("usr_17");
    assert_int_equal(users_create(f->c, &f->call, &u, HASH), GH_OK);
    assert_string_equal(u.id, kept);

    /* the same id again, or the same external id in the tenant: refused */
    memset(&b, 0, sizeof(b));
    strcpy(b.id, kept);
    strcpy(b.tenant_id, ROOT);
    b.email = strdup("thief@example.com");
    assert_int_equal(users_create(f->c, &f->call, &b, HASH), GH_ERR_CONFLICT);
    user_clear(&b);
    memset(&b, 0, sizeof(b));
    strcpy(b.tenant_id, ROOT);
    b.email = strdup("thief@example.com");
    b.external_id = strdup("usr_17");
    assert_int_equal(users_create(f->c, &f->call, &b, HASH), GH_ERR_CONFLICT);
    user_clear(&b);
    /* another tenant has its own external ids */
    add_tenant(f, OTHER_TENANT, "other");
    memset(&b, 0, sizeof(b));
    strcpy(b.tenant_id, OTHER_TENANT);
    b.email = strdup("thief@example.com");
    b.external_id = strdup("usr_17");
    assert_int_equal(users_create(f->c, &f->call, &b, HASH), GH_OK);
    user_clear(&b);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM users WHERE email = ?",
                               "kept@example.com"), 1);

    /* found by either key; the names and country read back */
    assert_int_equal(users_update_profile(f->c, &f->call, ROOT, kept, &names), GH_OK);
    assert_int_equal(users_find_key(f->c, &f->call, ROOT, NULL, "usr_17", 0, &got), GH_OK);
    assert_string_equal(got.id, kept);
    assert_string_equal(got.given_name, "Kay");
    assert_string_equal(got.family_name, "Kept");
    assert_string_equal(got.country_code, "NZ");
    assert_string_equal(got.external_id, "usr_17");
    user_clear(&got);
    assert_int_equal(users_find_key(f->c, &f->call, NULL, kept, NULL, 0, &got), GH_OK);
    user_clear(&got);

    /* erased: the names go, the keys stay, seen only with erased_too */
    assert_int_equal(users_erase(f->c, &f->call, ROOT, kept), GH_OK);
    assert_int_equal(users_find_key(f->c, &f->call, ROOT, NULL, "usr_17", 0, &got),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(users_find_key(f->c, &f->call, ROOT, NULL, "usr_17", 1, &got), GH_OK);
    assert_string_equal(got.id, kept);
    assert_null(got.email);
    assert_null(got.given_name);
    assert_null(got.country_code);
    assert_string_equal(got.external_id, "usr_17");
    user_clear(&got);
    user_clear(&u);
}

static void test_users_erase(void **state)
{
    fx *f = *state;
    char tok1[GH_SECRET_LEN], tok2[GH_SECRET_LEN], next[GH_SECRET_LEN];
    gh_session s1, s2, got;
    gh_user u, other, again;
    text_ud t;

    new_user(f, ROOT, "hank@example.com", "hank", &u);
    new_user(f, ROOT, "ivy@example.com", "ivy", &other);
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, NULL, NULL, NULL, "+1 555 0101"),
                     GH_OK);
    assert_int_equal(users_mark_verified(f->c, &f->call, u.id, gh_now_ms()), GH_OK);
    new_session(f, &u, &s1, tok1);
    new_session(f, &u, &s2, tok2);
    assert_int_equal(store_exec_script(f->c, &f->call,
                                       "INSERT INTO one_time_tokens (id, user_id, purpose, "
                                       "token_hash, created_at, expires_at) SELECT 'ott', id, "
                                       "'reset', 'h', 1, 2 FROM users WHERE username = 'hank'"),
                     GH_OK);

    assert_int_equal(users_erase(f->c, &f->call, OTHER_TENANT, u.id), GH_ERR_NOT_FOUND);
    assert_int_equal(users_erase(f->c, &f->call, ROOT, u.id), GH_OK);

    /* the row stays, without a trace of the person */
    assert_int_equal(query_int(f, "SELECT email IS NULL AND email_normalized IS NULL "
                                  "AND username IS NULL AND username_normalized IS NULL "
                                  "AND full_name IS NULL AND phone IS NULL "
                                  "AND email_verified_at IS NULL AND is_active = 0 "
                                  "AND is_admin = 0 AND deleted_at IS NOT NULL "
                                  "FROM users WHERE id = ?", u.id), 1);
    assert_string_equal(query_text(f, "SELECT email FROM users WHERE id = ?", u.id, &t),
                        "(null)");
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM credentials WHERE user_id = ?", u.id),
                     0);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM one_time_tokens WHERE user_id = ?",
                               u.id), 0);
    /* every session revoked, with the reason, and deny-listed */
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM sessions WHERE user_id = ? "
                                  "AND revoked_at IS NOT NULL "
                                  "AND revoke_reason = 'account_deleted'", u.id), 2);
    assert_int_equal(token_denied(f->c, &f->call, s1.id, NULL), 1);
    assert_int_equal(token_denied(f->c, &f->call, s2.id, "some-jti"), 1);
    assert_int_equal(session_get(f->c, &f->call, s1.id, &got), GH_OK);
    assert_true(got.revoked_at > 0);
    assert_int_equal(refresh(f, tok1, &got, next), GH_REFRESH_REVOKED);

    /* gone for every lookup; the address and username are free again */
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "hank@example.com", &again, NULL),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(users_get(f->c, &f->call, NULL, u.id, &again), GH_ERR_NOT_FOUND);
    assert_int_equal(users_password_hash(f->c, &f->call, u.id, t.buf), GH_ERR_NOT_FOUND);
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, NULL, NULL, "x", NULL),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(users_erase(f->c, &f->call, ROOT, u.id), GH_ERR_NOT_FOUND);
    new_user(f, ROOT, "hank@example.com", "hank", &again);
    user_clear(&again);

    /* the others are untouched */
    assert_int_equal(users_get(f->c, &f->call, ROOT, other.id, &again), GH_OK);
    assert_string_equal(again.email, "ivy@example.com");
    user_clear(&again);

    /* the deny-list entries last as long as any access token can, with the
     * leeway every instance grants past exp */
    clock_advance_ms(GH_ACCESS_TTL_MAX_MS + GH_DENY_GRACE_MS - 1000);
    assert_int_equal(token_denied(f->c, &f->call, s1.id, NULL), 1);
    clock_advance_ms(2000);
    assert_int_equal(token_denied(f->c, &f->call, s1.id, NULL), 0);
    user_clear(&u);
    user_clear(&other);
}

static void free_users(gh_user *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        user_clear(&v[i]);
    free(v);
}

static void test_users_list(void **state)
{
    fx *f = *state;
    static const char *const emails[] = {
        "a1@example.com", "b2@example.com", "c3@test.org", "d4@example.com", "e5@test.org",
        "f_6@example.com", "g%7@example.com",
    };
    gh_user u, *v;
    size_t n;
    int64_t total;
    char ids[7][37];

    add_tenant(f, OTHER_TENANT, "other");
    for (size_t i = 0; i < 7; i++) {
        new_user(f, ROOT, emails[i], NULL, &u);
        strcpy(ids[i], u.id);
        user_clear(&u);
        clock_advance_ms(1); /* created_at orders the list */
    }
    new_user(f, OTHER_TENANT, "zed@example.com", NULL, &u);
    user_clear(&u);
    assert_int_equal(users_erase(f->c, &f->call, ROOT, ids[3]), GH_OK);

    /* everything live in the tenant, oldest first */
    assert_int_equal(users_list(f->c, &f->call, ROOT, NULL, 0, 0, &v, &n, &total), GH_OK);
    assert_int_equal(total, 6);
    assert_int_equal(n, 6);
    assert_string_equal(v[0].id, ids[0]);
    assert_string_equal(v[2].id, ids[2]);
    assert_string_equal(v[3].id, ids[4]); /* the erased one is skipped */
    assert_string_equal(v[5].email, "g%7@example.com");
    free_users(v, n);

    /* pages: total is the whole match, n the page */
    assert_int_equal(users_list(f->c, &f->call, ROOT, NULL, 2, 2, &v, &n, &total), GH_OK);
    assert_int_equal(total, 6);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].id, ids[2]);
    assert_string_equal(v[1].id, ids[4]);
    free_users(v, n);
    assert_int_equal(users_list(f->c, &f->call, ROOT, NULL, 10, 100, &v, &n, &total), GH_OK);
    assert_int_equal(n, 0);
    assert_null(v);
    assert_int_equal(total, 6);

    /* case-insensitive substring; LIKE's wildcards are plain characters */
    assert_int_equal(users_list(f->c, &f->call, ROOT, "EXAMPLE", 50, 0, &v, &n, &total), GH_OK);
    assert_int_equal(total, 4);
    assert_int_equal(n, 4);
    free_users(v, n);
    assert_int_equal(users_list(f->c, &f->call, ROOT, "test.org", 1, 1, &v, &n, &total), GH_OK);
    assert_int_equal(total, 2);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].email, "e5@test.org");
    free_users(v, n);
    assert_int_equal(users_list(f->c, &f->call, ROOT, "%", 50, 0, &v, &n, &total), GH_OK);
    assert_int_equal(total, 1);
    assert_string_equal(v[0].email, "g%7@example.com");
    free_users(v, n);
    assert_int_equal(users_list(f->c, &f->call, ROOT, "_", 50, 0, &v, &n, &total), GH_OK);
    assert_int_equal(total, 1);
    assert_string_equal(v[0].email, "f_6@example.com");
    free_users(v, n);
    assert_int_equal(users_list(f->c, &f->call, ROOT, "nobody", 50, 0, &v, &n, &total), GH_OK);
    assert_int_equal(total, 0);
    assert_int_equal(n, 0);
    assert_int_equal(users_list(f->c, &f->call, ROOT, "\xff", 50, 0, &v, &n, &total),
                     GH_ERR_INVALID);

    /* the other tenant sees its own */
    assert_int_equal(users_list(f->c, &f->call, OTHER_TENANT, NULL, 50, 0, &v, &n, &total),
                     GH_OK);
    assert_int_equal(total, 1);
    assert_string_equal(v[0].email, "zed@example.com");
    free_users(v, n);
}

/* -------------------------------------------------------------- sessions */

static void test_session_create_rotate_reuse(void **state)
{
    fx *f = *state;
    char t1[GH_SECRET_LEN], t2[GH_SECRET_LEN], t3[GH_SECRET_LEN], t4[GH_SECRET_LEN];
    char digest[GH_DIGEST_LEN];
    gh_session s, r, got;
    gh_user u;
    text_ud t;
    int64_t t0;

    new_user(f, ROOT, "jack@example.com", NULL, &u);
    t0 = gh_now_ms();
    new_session(f, &u, &s, t1);
    assert_int_equal(strlen(t1), GH_SECRET_LEN - 1);
    assert_string_equal(s.user_id, u.id);
    assert_string_equal(s.tenant_id, ROOT);
    assert_string_equal(s.user_agent, "test-agent/1.0");
    assert_string_equal(s.ip, "192.0.2.1");
    assert_true(s.created_at >= t0);
    assert_int_equal(s.expires_at, s.created_at + 30 * DAY);
    assert_int_equal(s.revoked_at, 0);
    /* a session is its own family; the token is stored only as its digest */
    assert_string_equal(query_text(f, "SELECT family_id FROM sessions WHERE id = ?", s.id, &t),
                        s.id);
    secret_digest(t1, digest);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM refresh_tokens WHERE token_hash = ?",
                               digest), 1);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM refresh_tokens WHERE token_hash = ?",
                               t1), 0);

    /* rotation: a new token each time, the device follows the client */
    clock_advance_ms(1000);
    assert_int_equal(refresh(f, t1, &r, t2), GH_REFRESH_OK);
    assert_string_not_equal(t1, t2);
    assert_string_equal(r.id, s.id);
    assert_string_equal(r.user_id, u.id);
    assert_string_equal(r.user_agent, "agent/2");
    assert_string_equal(r.ip, "198.51.100.7");
    assert_true(r.last_used_at >= s.created_at + 1000);
    assert_int_equal(r.expires_at, s.expires_at); /* rotation does not extend the session */
    assert_int_equal(session_get(f->c, &f->call, s.id, &got), GH_OK);
    assert_string_equal(got.user_agent, "agent/2");
    assert_int_equal(got.last_used_at, r.last_used_at);
    assert_int_equal(session_by_refresh(f->c, &f->call, t2, &got), GH_OK);
    assert_string_equal(got.id, s.id);
    assert_int_equal(session_by_refresh(f->c, &f->call, t1, &got), GH_ERR_NOT_FOUND);
    assert_int_equal(refresh(f, t2, &r, t3), GH_REFRESH_OK);
    assert_int_equal(token_denied(f->c, &f->call, s.id, NULL), 0);

    /* the first token again: stolen. The whole session goes. */
    assert_int_equal(refresh(f, t1, &r, t4), GH_REFRESH_REUSED);
    assert_string_equal(t4, "");
    assert_string_equal(r.id, s.id); /* for the audit record */
    assert_true(r.revoked_at > 0);
    assert_string_equal(query_text(f, "SELECT revoke_reason FROM sessions WHERE id = ?", s.id,
                                   &t), "refresh_token_reused");
    assert_int_equal(token_denied(f->c, &f->call, s.id, NULL), 1);
    /* and the newest token, never used, is dead with it */
    assert_int_equal(refresh(f, t3, &r, t4), GH_REFRESH_REVOKED);
    assert_int_equal(session_by_refresh(f->c, &f->call, t3, &got), GH_ERR_NOT_FOUND);
    /* the deny-list lasts deny_ttl_ms (15 min here), and the leeway */
    clock_advance_ms(15 * 60 * 1000 + GH_TOKEN_LEEWAY_S * 1000);
    assert_int_equal(token_denied(f->c, &f->call, s.id, NULL), 1);
    clock_advance_ms(GH_DENY_GRACE_MS - GH_TOKEN_LEEWAY_S * 1000 + 1);
    assert_int_equal(token_denied(f->c, &f->call, s.id, NULL), 0);
    user_clear(&u);
}

static void test_session_unknown_expired_revoked(void **state)
{
    fx *f = *state;
    char tok[GH_SECRET_LEN], next[GH_SECRET_LEN], fake[GH_SECRET_LEN];
    gh_session s, r;
    gh_refresh_outcome o;
    gh_user u;

    new_user(f, ROOT, "kim@example.com", NULL, &u);
    assert_int_equal(secret_new(fake), 0);
    assert_int_equal(refresh(f, fake, &r, next), GH_REFRESH_UNKNOWN);
    assert_string_equal(r.id, "");
    assert_int_equal(refresh(f, "", &r, next), GH_REFRESH_UNKNOWN);
    assert_int_equal(session_refresh(f->c, &f->call, NULL, NULL, NULL, 1000, &r, next, &o),
                     GH_OK);
    assert_int_equal(o, GH_REFRESH_UNKNOWN);

    /* expired: by the clock, not by a sweep */
    assert_int_equal(session_create(f->c, &f->call, ROOT, u.id, NULL, NULL, 60000, &s, tok),
                     GH_OK);
    assert_string_equal(s.user_agent, "");
    clock_advance_ms(60000);
    assert_int_equal(refresh(f, tok, &r, next), GH_REFRESH_EXPIRED);
    assert_string_equal(r.id, s.id);
    assert_string_equal(next, "");

    /* revoked (logout) */
    new_session(f, &u, &s, tok);
    assert_int_equal(session_revoke(f->c, &f->call, u.id, s.id, "logout", 900000), GH_OK);
    assert_int_equal(refresh(f, tok, &r, next), GH_REFRESH_REVOKED);
    assert_int_equal(token_denied(f->c, &f->call, s.id, NULL), 1);

    /* bad parameters */
    assert_int_equal(session_create(f->c, &f->call, ROOT, u.id, NULL, NULL, 0, &s, tok),
                     GH_ERR_INVALID);
    assert_int_equal(session_create(f->c, &f->call, ROOT, NULL, NULL, NULL, 1, &s, tok),
                     GH_ERR_INVALID);
    /* a session for nobody breaks the foreign key, and leaves nothing */
    assert_int_equal(session_create(f->c, &f->call, ROOT, "no-such-user", NULL, NULL, 1000, &s,
                                    tok), GH_ERR_CONFLICT);
    assert_string_equal(tok, "");
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM sessions WHERE user_id = ?",
                               "no-such-user"), 0);
    user_clear(&u);
}

static void test_session_revoke_list(void **state)
{
    fx *f = *state;
    char tok[4][GH_SECRET_LEN], long_ua[1000];
    gh_session s[4], *v, got;
    gh_user u, other;
    int64_t count = -1;
    size_t n;

    new_user(f, ROOT, "lee@example.com", NULL, &u);
    new_user(f, ROOT, "mo@example.com", NULL, &other);
    for (int i = 0; i < 3; i++) {
        new_session(f, &u, &s[i], tok[i]);
        clock_advance_ms(10);
    }
    new_session(f, &other, &s[3], tok[3]);

    /* live sessions, newest first */
    assert_int_equal(session_list(f->c, &f->call, u.id, &v, &n), GH_OK);
    assert_int_equal(n, 3);
    assert_string_equal(v[0].id, s[2].id);
    assert_string_equal(v[2].id, s[0].id);
    assert_string_equal(v[1].ip, "192.0.2.1");
    free(v);

    /* one: only the owner's, only once */
    assert_int_equal(session_revoke(f->c, &f->call, other.id, s[0].id, "logout", 60000),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(token_denied(f->c, &f->call, s[0].id, NULL), 0);
    assert_int_equal(session_revoke(f->c, &f->call, u.id, s[0].id, "logout", 60000), GH_OK);
    assert_int_equal(session_revoke(f->c, &f->call, u.id, s[0].id, "logout", 60000),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(token_denied(f->c, &f->call, s[0].id, NULL), 1);
    assert_int_equal(session_get(f->c, &f->call, s[0].id, &got), GH_OK);
    assert_true(got.revoked_at > 0);
    /* an admin (no user) may revoke anyone's */
    assert_int_equal(session_revoke(f->c, &f->call, NULL, s[3].id, "admin", 60000), GH_OK);
    assert_int_equal(session_revoke(f->c, &f->call, NULL, "nope", "admin", 60000),
                     GH_ERR_NOT_FOUND);

    /* all but this one */
    new_session(f, &u, &s[0], tok[0]);
    assert_int_equal(session_revoke_all(f->c, &f->call, u.id, s[2].id, "password_changed",
                                        60000, &count), GH_OK);
    assert_int_equal(count, 2);
    assert_int_equal(token_denied(f->c, &f->call, s[0].id, NULL), 1);
    assert_int_equal(token_denied(f->c, &f->call, s[1].id, NULL), 1);
    assert_int_equal(token_denied(f->c, &f->call, s[2].id, NULL), 0);
    assert_int_equal(session_list(f->c, &f->call, u.id, &v, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].id, s[2].id);
    free(v);
    assert_int_equal(session_revoke_all(f->c, &f->call, u.id, NULL, "admin", 60000, &count),
                     GH_OK);
    assert_int_equal(count, 1);
    assert_int_equal(session_list(f->c, &f->call, u.id, &v, &n), GH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(session_revoke_all(f->c, &f->call, u.id, NULL, "admin", 60000, &count),
                     GH_OK);
    assert_int_equal(count, 0);

    /* expired sessions are not listed; device strings are clipped and clean */
    memset(long_ua, 'x', sizeof(long_ua) - 1);
    long_ua[sizeof(long_ua) - 1] = '\0';
    memcpy(long_ua + 254, "\xc3\xa9", 2); /* a character across the cut goes whole */
    assert_int_equal(session_create(f->c, &f->call, ROOT, u.id, long_ua, "10.0.0.1\r\n\x01",
                                    1000, &s[0], tok[0]), GH_OK);
    assert_int_equal(session_create(f->c, &f->call, ROOT, u.id, "bad \xff\xfe utf8", "::1",
                                    DAY, &s[1], tok[1]), GH_OK);
    assert_int_equal(strlen(s[0].user_agent), 254);
    assert_int_equal(s[0].user_agent[253], 'x');
    assert_string_equal(s[0].ip, "10.0.0.1???");
    clock_advance_ms(1000);
    assert_int_equal(session_list(f->c, &f->call, u.id, &v, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].user_agent, "bad ?? utf8");
    assert_string_equal(v[0].ip, "::1");
    free(v);
    user_clear(&u);
    user_clear(&other);
}

static void test_session_purge(void **state)
{
    fx *f = *state;
    char tok[3][GH_SECRET_LEN], next[GH_SECRET_LEN];
    gh_session s[3], r;
    gh_user u;

    new_user(f, ROOT, "pat@example.com", NULL, &u);
    assert_int_equal(session_create(f->c, &f->call, ROOT, u.id, NULL, NULL, HOUR, &s[0], tok[0]),
                     GH_OK);                           /* will expire */
    new_session(f, &u, &s[1], tok[1]);                 /* will be revoked */
    new_session(f, &u, &s[2], tok[2]);                 /* stays live */
    assert_int_equal(refresh(f, tok[2], &r, next), GH_REFRESH_OK);
    assert_int_equal(session_revoke(f->c, &f->call, u.id, s[1].id, "logout", 60000), GH_OK);
    clock_advance_ms(HOUR);
    /* ended, but not long enough ago */
    assert_int_equal(session_purge(f->c, &f->call, DAY), 0);
    clock_advance_ms(DAY);
    assert_int_equal(session_purge(f->c, &f->call, DAY), 2);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM sessions WHERE user_id = ?", u.id), 1);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM refresh_tokens", NULL), 2);
    /* the live session's used token still tells reuse */
    assert_int_equal(refresh(f, tok[2], &r, next), GH_REFRESH_REUSED);
    assert_int_equal(refresh(f, tok[0], &r, next), GH_REFRESH_UNKNOWN);
    user_clear(&u);
}

/* Two workers present the same refresh token at the same instant. */
typedef struct racer {
    fx *f;
    const char *token;
    pthread_barrier_t *start;
    gh_refresh_outcome outcome;
    gh_result r;
    char next[GH_SECRET_LEN];
    char err[256];
    pthread_t tid;
} racer;

static void *racer_main(void *v)
{
    racer *p = v;
    gh_conn *c = NULL;
    gh_session s;
    gh_call call;
    int ready;

    p->r = GH_ERR_INTERNAL;
    ready = plugins_thread_init(&p->f->ps, p->err, sizeof(p->err)) == 0;
    if (ready && (c = store_thread_open(p->f->st, p->err, sizeof(p->err))) == NULL)
        plugins_thread_fini(&p->f->ps);
    pthread_barrier_wait(p->start); /* even when not ready: never strand the other */
    if (c == NULL)
        return NULL;
    call_init(&call, NULL, "racer", 10000);
    p->r = session_refresh(c, &call, p->token, "racer", "203.0.113.9", 60000, &s, p->next,
                           &p->outcome);
    if (p->r != GH_OK)
        snprintf(p->err, sizeof(p->err), "%s", call.message);
    store_thread_close(c);
    plugins_thread_fini(&p->f->ps);
    return NULL;
}

static void test_refresh_concurrent(void **state)
{
    fx *f = *state;
    char tok[GH_SECRET_LEN];
    pthread_barrier_t start;
    gh_session s;
    gh_user u;

    new_user(f, ROOT, "nina@example.com", NULL, &u);
    for (int round = 0; round < 8; round++) {
        racer a = { .f = f, .token = tok, .start = &start };
        racer b = { .f = f, .token = tok, .start = &start };
        int ok;

        new_session(f, &u, &s, tok);
        assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
        assert_int_equal(pthread_create(&a.tid, NULL, racer_main, &a), 0);
        assert_int_equal(pthread_create(&b.tid, NULL, racer_main, &b), 0);
        assert_int_equal(pthread_join(a.tid, NULL), 0);
        assert_int_equal(pthread_join(b.tid, NULL), 0);
        pthread_barrier_destroy(&start);
        if (a.r != GH_OK || b.r != GH_OK)
            fail_msg("round %d: %s / %s", round, a.err, b.err);
        ok = (a.outcome == GH_REFRESH_OK) + (b.outcome == GH_REFRESH_OK);
        assert_int_equal(ok, 1);
        /* the loser presented a used token: that is reuse, and it counts */
        assert_int_equal(a.outcome == GH_REFRESH_REUSED || b.outcome == GH_REFRESH_REUSED, 1);
        assert_int_equal(token_denied(f->c, &f->call, s.id, NULL), 1);
    }
    user_clear(&u);
}

static void test_token_deny(void **state)
{
    fx *f = *state;
    char long_id[200];
    int64_t exp = gh_now_ms() / 1000 + 5;

    assert_int_equal(token_denied(f->c, &f->call, NULL, NULL), 0);
    assert_int_equal(token_denied(f->c, &f->call, "sid-1", "jti-1"), 0);
    assert_int_equal(token_deny(f->c, &f->call, "jti-1", exp), GH_OK);
    assert_int_equal(token_denied(f->c, &f->call, "sid-1", "jti-1"), 1);
    assert_int_equal(token_denied(f->c, &f->call, NULL, "jti-1"), 1);
    assert_int_equal(token_denied(f->c, &f->call, "jti-1", NULL), 0); /* separate namespaces */
    assert_int_equal(token_denied(f->c, &f->call, "sid-1", "jti-2"), 0);
    /* past exp, the token is still accepted for the leeway: so it is denied */
    clock_advance_ms(exp * 1000 - gh_now_ms() + GH_TOKEN_LEEWAY_S * 1000);
    assert_int_equal(token_denied(f->c, &f->call, NULL, "jti-1"), 1);
    clock_advance_ms(GH_DENY_GRACE_MS - GH_TOKEN_LEEWAY_S * 1000 + 1);
    assert_int_equal(token_denied(f->c, &f->call, NULL, "jti-1"), 0);

    assert_int_equal(token_deny(f->c, &f->call, "", exp), GH_ERR_INVALID);
    assert_int_equal(token_deny(f->c, &f->call, NULL, exp), GH_ERR_INVALID);
    memset(long_id, 'j', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    assert_int_equal(token_deny(f->c, &f->call, long_id, exp), GH_ERR_INVALID);
    assert_int_equal(token_denied(f->c, &f->call, long_id, long_id), 0);
    /* a token revoked after its exp, inside the leeway, is denied too */
    exp = gh_now_ms() / 1000 - 10;
    assert_int_equal(token_deny(f->c, &f->call, "jti-3", exp), GH_OK);
    clock_advance_ms(GH_TOKEN_LEEWAY_S * 1000);
    assert_int_equal(token_denied(f->c, &f->call, NULL, "jti-3"), 1);
    clock_advance_ms(GH_DENY_GRACE_MS);
    assert_int_equal(token_denied(f->c, &f->call, NULL, "jti-3"), 0);
}

/* A kv plugin that is down: every check answers "unavailable", never "ok". */
static gh_loaded down_kv;

static gh_result down_get(const void *inst, void *tinst, gh_call *call, const char *key,
                          gh_out *out)
{
    (void)inst, (void)tinst, (void)key, (void)out;
    return (gh_host_table.fail)(call, GH_ERR_UNAVAILABLE, "kv is down");
}

static gh_result down_set(const void *inst, void *tinst, gh_call *call, const char *key,
                          const void *val, size_t len, int64_t ttl_ms, uint32_t flags)
{
    (void)inst, (void)tinst, (void)key, (void)val, (void)len, (void)ttl_ms, (void)flags;
    return (gh_host_table.fail)(call, GH_ERR_UNAVAILABLE, "kv is down");
}

static gh_result down_incr(const void *inst, void *tinst, gh_call *call, const char *key,
                           int64_t delta, int64_t ttl_ms, int64_t *result)
{
    (void)inst, (void)tinst, (void)key, (void)delta, (void)ttl_ms, (void)result;
    return (gh_host_table.fail)(call, GH_ERR_UNAVAILABLE, "kv is down");
}

static gh_result down_del(const void *inst, void *tinst, gh_call *call, const char *key)
{
    (void)inst, (void)tinst, (void)key;
    return (gh_host_table.fail)(call, GH_ERR_UNAVAILABLE, "kv is down");
}

static void test_kv_down(void **state)
{
    static const gh_kv_ops ops = { sizeof(gh_kv_ops), down_get, down_set, down_incr, down_del };
    static const gh_plugin desc = {
        .size = sizeof(gh_plugin), .abi_major = GH_ABI_MAJOR, .name = "downkv",
        .kind = GH_KIND_KV, .ops = &ops,
    };
    static const gh_lockout_conf lc = { 3, 1000, 4000, 60000, 5, 60000 };
    fx *f = *state;
    char tok[GH_SECRET_LEN], err[256];
    gh_session s, got;
    gh_store *st;
    gh_user u;

    new_user(f, ROOT, "omar@example.com", NULL, &u);
    new_session(f, &u, &s, tok);
    memset(&down_kv, 0, sizeof(down_kv));
    down_kv.name = "downkv";
    down_kv.desc = &desc;
    store_thread_close(f->c);
    assert_non_null(st = store_new(f->ps.storage, &down_kv));
    assert_non_null(f->c = store_thread_open(st, err, sizeof(err)));

    assert_int_equal(token_denied(f->c, &f->call, s.id, "jti"), -1);
    assert_int_equal(lockout_check(f->c, &f->call, &lc, "acct", "192.0.2.1"), -1);
    lockout_failure(f->c, &f->call, &lc, "acct", "192.0.2.1"); /* no crash, no answer */
    lockout_success(f->c, &f->call, "acct");
    /* a revocation that cannot be deny-listed does not half-happen */
    assert_int_equal(session_revoke(f->c, &f->call, u.id, s.id, "logout", 60000),
                     GH_ERR_UNAVAILABLE);
    assert_int_equal(session_get(f->c, &f->call, s.id, &got), GH_OK);
    assert_int_equal(got.revoked_at, 0);
    assert_int_equal(users_erase(f->c, &f->call, ROOT, u.id), GH_ERR_UNAVAILABLE);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM users WHERE id = ? "
                                  "AND deleted_at IS NULL AND email IS NOT NULL", u.id), 1);

    store_thread_close(f->c);
    store_free(st);
    assert_non_null(f->c = store_thread_open(f->st, err, sizeof(err)));
    user_clear(&u);
}

/* ----------------------------------------------------------------- audit */

static void record(fx *f, const char *tenant, const char *actor, const char *subject,
                   const char *action, const char *outcome, json_t *details)
{
    gh_audit e = { tenant, actor, subject, action, outcome, "192.0.2.5", "curl/8", details };

    assert_int_equal(audit_record(f->c, &f->call, &e), GH_OK);
    clock_advance_ms(1); /* newest first needs distinct times */
}

static json_t *query(fx *f, const gh_audit_filter *flt)
{
    json_t *arr = NULL;

    assert_int_equal(audit_query(f->c, &f->call, flt, &arr), GH_OK);
    assert_non_null(arr);
    return arr;
}

static const char *member(json_t *arr, size_t i, const char *key)
{
    return json_string_value(json_object_get(json_array_get(arr, i), key));
}

static void test_audit(void **state)
{
    fx *f = *state;
    gh_audit_filter flt;
    json_t *arr, *d, *o;
    gh_audit bad = { ROOT, NULL, NULL, NULL, "success", NULL, NULL, NULL };
    const char *when;
    int64_t mid, until;
    text_ud t;

    d = json_pack("{s:s, s:i}", "method", "password", "attempt", 1);
    record(f, ROOT, "u1", "u1", "login.success", "success", d);
    json_decref(d); /* borrowed by audit_record */
    record(f, ROOT, NULL, "u1", "login.failure", "failure", NULL);
    mid = gh_now_ms();
    record(f, ROOT, "u1", "u1", "logout", "success", NULL);
    record(f, ROOT, "admin", "u2", "user.deactivate", "success", NULL);
    until = gh_now_ms(); /* after that one (record() moved the clock), before the next */
    record(f, OTHER_TENANT, "u9", "u9", "login.success", "success", NULL);
    record(f, ROOT, "u2", "u2", "login%odd", "success", NULL);

    /* a tenant's events, newest first, every field */
    memset(&flt, 0, sizeof(flt));
    flt.tenant_id = ROOT;
    arr = query(f, &flt);
    assert_int_equal(json_array_size(arr), 5);
    assert_string_equal(member(arr, 0, "action"), "login%odd");
    assert_string_equal(member(arr, 4, "action"), "login.success");
    o = json_array_get(arr, 4);
    assert_string_equal(member(arr, 4, "outcome"), "success");
    assert_string_equal(member(arr, 4, "actor_id"), "u1");
    assert_string_equal(member(arr, 4, "subject_id"), "u1");
    assert_string_equal(member(arr, 4, "tenant_id"), ROOT);
    assert_string_equal(member(arr, 4, "ip"), "192.0.2.5");
    assert_string_equal(member(arr, 4, "user_agent"), "curl/8");
    assert_int_equal(strlen(member(arr, 4, "id")), 36);
    d = json_object_get(o, "details");
    assert_string_equal(json_string_value(json_object_get(d, "method")), "password");
    assert_int_equal(json_integer_value(json_object_get(d, "attempt")), 1);
    assert_true(json_is_null(json_object_get(json_array_get(arr, 3), "details")));
    assert_true(json_is_null(json_object_get(json_array_get(arr, 3), "actor_id")));
    /* RFC 3339, UTC, milliseconds */
    when = member(arr, 0, "created_at");
    assert_non_null(when);
    assert_int_equal(strlen(when), 24);
    assert_int_equal(when[4], '-');
    assert_int_equal(when[10], 'T');
    assert_int_equal(when[19], '.');
    assert_int_equal(when[23], 'Z');
    assert_true(strcmp(when, member(arr, 1, "created_at")) > 0);
    json_decref(arr);

    /* one user's login history: subject and action prefix */
    flt.subject_id = "u1";
    flt.action_prefix = "login.";
    arr = query(f, &flt);
    assert_int_equal(json_array_size(arr), 2);
    assert_string_equal(member(arr, 0, "action"), "login.failure");
    assert_string_equal(member(arr, 1, "action"), "login.success");
    json_decref(arr);
    /* LIKE's wildcards in the prefix are literal */
    memset(&flt, 0, sizeof(flt));
    flt.action_prefix = "login%";
    arr = query(f, &flt);
    assert_int_equal(json_array_size(arr), 1);
    assert_string_equal(member(arr, 0, "action"), "login%odd");
    json_decref(arr);
    flt.action_prefix = "login_";
    arr = query(f, &flt);
    assert_int_equal(json_array_size(arr), 0);
    json_decref(arr);

    /* actor; time range [since, until); every tenant when none is given */
    memset(&flt, 0, sizeof(flt));
    flt.actor_id = "admin";
    arr = query(f, &flt);
    assert_int_equal(json_array_size(arr), 1);
    assert_string_equal(member(arr, 0, "subject_id"), "u2");
    json_decref(arr);
    memset(&flt, 0, sizeof(flt));
    flt.since_ms = mid;
    flt.until_ms = until;
    arr = query(f, &flt);
    assert_int_equal(json_array_size(arr), 2);
    assert_string_equal(member(arr, 0, "action"), "user.deactivate");
    assert_string_equal(member(arr, 1, "action"), "logout");
    json_decref(arr);
    memset(&flt, 0, sizeof(flt));
    arr = query(f, &flt);
    assert_int_equal(json_array_size(arr), 6);
    json_decref(arr);

    /* limit and offset */
    flt.limit = 2;
    flt.offset = 1;
    arr = query(f, &flt);
    assert_int_equal(json_array_size(arr), 2);
    assert_string_equal(member(arr, 0, "action"), "login.success"); /* the other tenant's */
    assert_string_equal(member(arr, 1, "action"), "user.deactivate");
    json_decref(arr);
    flt.limit = 100000; /* clamped, not refused */
    flt.offset = -5;
    arr = query(f, &flt);
    assert_int_equal(json_array_size(arr), 6);
    json_decref(arr);

    /* secrets never reach the row, whatever a caller passes */
    d = json_pack("{s:s, s:s, s:{s:s}, s:s}", "password", "hunter2", "reason", "ok",
                  "nested", "refresh_token", "tok-abc", "Password_Hash", "$argon2id$x");
    record(f, ROOT, "u3", "u3", "password.change", "success", d);
    assert_string_equal(json_string_value(json_object_get(d, "password")), "hunter2");
    json_decref(d); /* the caller's object was not touched */
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM audit_events WHERE details LIKE ? ",
                               "%hunter2%"), 0);
    assert_string_equal(query_text(f, "SELECT details FROM audit_events WHERE action = ?",
                                   "password.change", &t),
                        "{\"password\":\"[redacted]\",\"reason\":\"ok\",\"nested\":"
                        "{\"refresh_token\":\"[redacted]\"},\"Password_Hash\":\"[redacted]\"}");

    /* an event needs an action and an outcome */
    assert_int_equal(audit_record(f->c, &f->call, &bad), GH_ERR_INVALID);
    bad.action = "x";
    bad.outcome = NULL;
    assert_int_equal(audit_record(f->c, &f->call, &bad), GH_ERR_INVALID);
    assert_int_equal(audit_record(f->c, &f->call, NULL), GH_ERR_INVALID);
}

/* --------------------------------------------------------------- lockout */

static void test_lockout_account(void **state)
{
    static const gh_lockout_conf lc = {
        .account_failures = 3, .base_delay_ms = 1000, .max_delay_ms = 4000,
        .window_ms = 60000, .ip_failures = 100, .ip_window_ms = 60000,
    };
    static const int64_t delays[] = { 1000, 2000, 4000, 4000 };
    fx *f = *state;
    const char *acct = ROOT ":alice@example.com";
    int64_t left;

    for (int i = 0; i < 2; i++) {
        lockout_failure(f->c, &f->call, &lc, acct, "192.0.2.1");
        assert_int_equal(lockout_check(f->c, &f->call, &lc, acct, "192.0.2.1"), 0);
    }
    /* the third locks for base, each one after for twice as long, capped */
    for (size_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
        lockout_failure(f->c, &f->call, &lc, acct, "192.0.2.1");
        left = lockout_check(f->c, &f->call, &lc, acct, NULL);
        assert_in_range(left, delays[i] - SLACK, delays[i]);
        clock_advance_ms(delays[i] - SLACK);
        assert_in_range(lockout_check(f->c, &f->call, &lc, acct, "192.0.2.1"), 1, SLACK);
        clock_advance_ms(SLACK);
        assert_int_equal(lockout_check(f->c, &f->call, &lc, acct, "192.0.2.1"), 0);
    }
    /* another account is not affected */
    assert_int_equal(lockout_check(f->c, &f->call, &lc, ROOT ":bob@example.com", NULL), 0);

    /* success starts the account afresh */
    lockout_failure(f->c, &f->call, &lc, acct, NULL);
    assert_true(lockout_check(f->c, &f->call, &lc, acct, NULL) > 0);
    lockout_success(f->c, &f->call, acct);
    assert_int_equal(lockout_check(f->c, &f->call, &lc, acct, NULL), 0);
    lockout_failure(f->c, &f->call, &lc, acct, NULL);
    lockout_failure(f->c, &f->call, &lc, acct, NULL);
    assert_int_equal(lockout_check(f->c, &f->call, &lc, acct, NULL), 0);

    /* failures further apart than the window are forgotten */
    clock_advance_ms(60000);
    lockout_failure(f->c, &f->call, &lc, acct, NULL);
    lockout_failure(f->c, &f->call, &lc, acct, NULL);
    assert_int_equal(lockout_check(f->c, &f->call, &lc, acct, NULL), 0);
    lockout_failure(f->c, &f->call, &lc, acct, NULL);
    assert_in_range(lockout_check(f->c, &f->call, &lc, acct, NULL), 1000 - SLACK, 1000);
    lockout_success(f->c, &f->call, acct);
}

static void test_lockout_ip_and_keys(void **state)
{
    static const gh_lockout_conf lc = {
        .account_failures = 100, .base_delay_ms = 1000, .max_delay_ms = 4000,
        .window_ms = 60000, .ip_failures = 5, .ip_window_ms = 60000,
    };
    static const gh_lockout_conf off = { 0 };
    fx *f = *state;
    char acct[32], huge[2000];
    int64_t left, now;

    /* start at the beginning of an address window, so all fall in one */
    now = gh_now_ms();
    clock_advance_ms(60000 - now % 60000);
    for (int i = 0; i < 5; i++) {
        snprintf(acct, sizeof(acct), "t:user%d", i); /* a spray across accounts */
        lockout_failure(f->c, &f->call, &lc, acct, "203.0.113.7");
    }
    assert_int_equal(lockout_check(f->c, &f->call, &lc, "t:new", "203.0.113.7"), 0);
    clock_advance_ms(10000);
    lockout_failure(f->c, &f->call, &lc, "t:user5", "203.0.113.7");
    /* blocked, for every account, until the window ends */
    left = lockout_check(f->c, &f->call, &lc, "t:new", "203.0.113.7");
    assert_in_range(left, 50000 - SLACK, 50000);
    assert_int_equal(lockout_check(f->c, &f->call, &lc, "t:new", "203.0.113.8"), 0);
    assert_int_equal(lockout_check(f->c, &f->call, &lc, "t:new", NULL), 0);
    /* a success does not lift an address block */
    lockout_success(f->c, &f->call, "t:user5");
    assert_in_range(lockout_check(f->c, &f->call, &lc, "t:user5", "203.0.113.7"),
                    50000 - SLACK, 50000);
    clock_advance_ms(50000);
    assert_int_equal(lockout_check(f->c, &f->call, &lc, "t:new", "203.0.113.7"), 0);
    lockout_failure(f->c, &f->call, &lc, "t:x", "203.0.113.7"); /* a new window */
    assert_int_equal(lockout_check(f->c, &f->call, &lc, "t:new", "203.0.113.7"), 0);

    /* a subject too long for a key is hashed, and still counted */
    memset(huge, 'a', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    for (int i = 0; i < 100; i++)
        lockout_failure(f->c, &f->call, &lc, huge, NULL);
    assert_in_range(lockout_check(f->c, &f->call, &lc, huge, NULL), 1000 - SLACK, 1000);
    assert_int_equal(query_int(f, "SELECT MAX(LENGTH(key)) FROM kv", NULL) < 512, 1);
    huge[1000] = 'b';
    assert_int_equal(lockout_check(f->c, &f->call, &lc, huge, NULL), 0);

    /* switched off: nothing counts, nothing locks */
    for (int i = 0; i < 10; i++)
        lockout_failure(f->c, &f->call, &off, "t:off", "198.51.100.1");
    assert_int_equal(lockout_check(f->c, &f->call, &off, "t:off", "198.51.100.1"), 0);
    lockout_failure(f->c, &f->call, NULL, "t:off", "198.51.100.1");
}

/* ------------------------------------------------------------------ main */

static int group_setup(void **state)
{
    gh_log_conf quiet = { .level = GH_LOG_ERROR };

    (void)state;
    if (getenv("GATEHOUSE_PLUGIN_DIR") == NULL) {
        fprintf(stderr, "GATEHOUSE_PLUGIN_DIR is not set (make check sets it)\n");
        return -1;
    }
    log_configure(&quiet); /* expected failures log warnings */
    if (mkdtemp(tmpdir) == NULL || chdir(tmpdir) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    DIR *d = opendir(".");
    struct dirent *e;

    (void)state;
    while (d != NULL && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            unlink(e->d_name);
    if (d != NULL)
        closedir(d);
    if (chdir("/") == 0)
        rmdir(tmpdir);
    host_global_cleanup();
    return 0;
}

/* ------------------------------------------------- encryption at rest */

static int64_t sealed_count(fx *f, const char *col, const char *prefix)
{
    char sql[160];

    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM users WHERE substr(%s, 1, length(?)) = ?",
             col);
    gh_param p[2] = { str_arg(prefix), str_arg(prefix) };
    int64_t v = -2;
    assert_int_equal(store_exec(f->c, &f->call, sql, p, 2, int_row, &v, NULL), GH_OK);
    return v;
}

/* With encryption on (auth/pii.h) the table holds ciphertext and blind
 * indexes only, and every lookup, update, list and erase works on them;
 * a row still in clear text is found and keeps its names taken; a value
 * moved to another row does not decrypt; users_pii_move moves rows to a
 * new key and status counts them. */
static void test_users_encrypted(void **state)
{
    fx *f = *state;
    static const uint8_t idx[PII_KEY_LEN] = { 7 }, k1[PII_KEY_LEN] = { 1 },
                         k2[PII_KEY_LEN] = { 2 };
    gh_pii *p = pii_new(idx);
    gh_user old, u, v = { 0 }, *list = NULL;
    users_pii_status st;
    size_t n = 0;
    int64_t total = 0;
    text_ud t;

    new_user(f, ROOT, "Old.Clear@Example.com", "OldClear", &old);  /* before the switch */
    assert_int_equal(pii_add_key(p, "k1", k1), 0);
    pii_install(p);
    new_user(f, ROOT, "Enc.User@Example.com", "EncUser", &u);
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, NULL, NULL, NULL, "+15550009999"),
                     GH_OK);
    assert_int_equal(users_update_profile(f->c, &f->call, ROOT, u.id,
                                          &(const gh_profile){ .given_name = "Encgiven",
                                                               .family_name = "Encfamily",
                                                               .country_code = "NZ" }),
                     GH_OK);
    assert_int_equal(sealed_count(f, "given_name", "gh1:k1:"), 1);
    assert_int_equal(sealed_count(f, "family_name", "gh1:k1:"), 1);
    assert_int_equal(sealed_count(f, "country_code", "gh1:k1:"), 1);
    assert_int_equal(sealed_count(f, "email", "gh1:k1:"), 1);
    assert_int_equal(sealed_count(f, "username", "gh1:k1:"), 1);
    assert_int_equal(sealed_count(f, "full_name", "gh1:k1:"), 1);
    assert_int_equal(sealed_count(f, "phone", "gh1:k1:"), 1);
    assert_int_equal(sealed_count(f, "email_normalized", "bi1:"), 1);
    assert_int_equal(sealed_count(f, "username_normalized", "bi1:"), 1);
    /* No value in clear, in any column. Case-sensitive whole values: a
     * short or case-folded pattern ("%enc%") also matches random base64
     * now and then, and did fail CI once. */
    static const char *const clear[] = { "Enc.User@Example.com", "enc.user@example.com",
                                         "EncUser", "encuser", "Full Name", "+15550009999" };
    for (size_t i = 0; i < sizeof clear / sizeof *clear; i++)
        assert_int_equal(query_int(f, "SELECT COUNT(*) FROM users WHERE instr(email || "
                                      "email_normalized || username || username_normalized || "
                                      "full_name || phone, ?) > 0", clear[i]), 0);

    /* reads and lookups, sealed and clear alike */
    user_clear(&u);
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "ENC.user@example.com", &u, NULL),
                     GH_OK);
    assert_string_equal(u.email, "Enc.User@Example.com");
    assert_string_equal(u.username, "EncUser");
    assert_string_equal(u.full_name, "Full Name");
    assert_string_equal(u.phone, "+15550009999");
    user_clear(&v);
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "encuser", &v, NULL), GH_OK);
    assert_string_equal(v.id, u.id);
    user_clear(&v);
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "old.clear@EXAMPLE.com", &v, NULL),
                     GH_OK);
    assert_string_equal(v.id, old.id);
    user_clear(&v);

    /* names stay unique across both forms */
    assert_int_equal(try_user(f, ROOT, "enc.USER@example.com", NULL, &v), GH_ERR_CONFLICT);
    user_clear(&v);
    assert_int_equal(try_user(f, ROOT, "OLD.CLEAR@example.com", NULL, &v), GH_ERR_CONFLICT);
    user_clear(&v);
    assert_int_equal(try_user(f, ROOT, "new@example.com", "oldclear", &v), GH_ERR_CONFLICT);
    user_clear(&v);
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, "old.clear@example.com", NULL,
                                  NULL, NULL), GH_ERR_CONFLICT);
    /* the same address in another case keeps the verification */
    assert_int_equal(users_mark_verified(f->c, &f->call, u.id, 1234), GH_OK);
    assert_int_equal(users_update(f->c, &f->call, ROOT, u.id, "ENC.User@Example.com", NULL,
                                  NULL, NULL), GH_OK);
    assert_int_equal(query_int(f, "SELECT email_verified_at FROM users WHERE id = ?", u.id),
                     1234);

    /* the list filter: whole addresses only */
    assert_int_equal(users_list(f->c, &f->call, ROOT, "enc.user@EXAMPLE.com", 10, 0, &list, &n,
                                &total), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(total, 1);
    assert_string_equal(list[0].id, u.id);
    user_clear(&list[0]);
    free(list);
    assert_int_equal(users_list(f->c, &f->call, ROOT, "old.clear@example.com", 10, 0, &list, &n,
                                &total), GH_OK);
    assert_int_equal(n, 1);
    user_clear(&list[0]);
    free(list);
    assert_int_equal(users_list(f->c, &f->call, ROOT, "enc", 10, 0, &list, &n, &total),
                     GH_ERR_INVALID);
    assert_non_null(strstr(f->call.message, "whole address"));

    /* a value copied into another row does not decrypt: an error, not a crash */
    gh_param ids[2] = { str_arg(u.id), str_arg(old.id) };
    assert_int_equal(store_exec(f->c, &f->call, "UPDATE users SET phone = (SELECT phone FROM "
                                "users WHERE id = ?) WHERE id = ?", ids, 2, NULL, NULL, NULL),
                     GH_OK);
    assert_int_equal(users_get(f->c, &f->call, ROOT, old.id, &v), GH_ERR_INTERNAL);
    assert_null(v.email);
    assert_int_equal(store_exec(f->c, &f->call, "UPDATE users SET phone = NULL WHERE id = ?",
                                &ids[1], 1, NULL, NULL, NULL), GH_OK);

    /* status, then rotation to k2 in batches of one */
    assert_int_equal(users_pii_status_get(f->c, &f->call, p, &st), GH_OK);
    assert_int_equal(st.clear, 1);
    assert_int_equal(st.newest, 1);
    assert_int_equal(pii_add_key(p, "k2", k2), 0);
    users_pii_batch b = { .after = "", .size = 1 };
    int moved = 0;
    do {
        assert_int_equal(users_pii_move(f->c, &f->call, p, &b), GH_OK);
        assert_int_equal(b.failed + b.raced, 0);
        moved += b.moved;
    } while (b.seen == b.size);
    assert_int_equal(moved, 2);
    assert_int_equal(users_pii_status_get(f->c, &f->call, p, &st), GH_OK);
    assert_int_equal(st.newest, 2);
    assert_int_equal(st.clear + st.old_key, 0);
    assert_int_equal(sealed_count(f, "email", "gh1:k1:"), 0);
    assert_int_equal(sealed_count(f, "email", "gh1:k2:"), 2);
    assert_int_equal(users_get(f->c, &f->call, ROOT, old.id, &v), GH_OK);
    assert_string_equal(v.email, "Old.Clear@Example.com");
    assert_string_equal(v.username, "OldClear");
    user_clear(&v);
    assert_int_equal(users_find_login(f->c, &f->call, ROOT, "oldclear", &v, NULL), GH_OK);
    user_clear(&v);

    /* erasure leaves NULLs, whatever was sealed */
    assert_int_equal(users_erase(f->c, &f->call, ROOT, u.id), GH_OK);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM users WHERE id = ? AND email IS NULL "
                                  "AND email_normalized IS NULL AND username IS NULL AND "
                                  "username_normalized IS NULL AND full_name IS NULL AND "
                                  "phone IS NULL", u.id), 1);
    assert_int_equal(users_pii_status_get(f->c, &f->call, p, &st), GH_OK);
    assert_int_equal(st.erased, 1);

    /* without the keys an encrypted row is a clear error */
    pii_install(NULL);
    assert_int_equal(users_get(f->c, &f->call, ROOT, old.id, &v), GH_ERR_INTERNAL);
    (void)query_text;
    (void)t;
    user_clear(&old);
    user_clear(&u);
    pii_free(p);
}

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

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define T_RAW(fn) cmocka_unit_test_setup_teardown(fn, setup_raw, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T_RAW(test_migrate_fresh),
        T_RAW(test_migrate_from_v1),
        cmocka_unit_test(test_email_normalize),
        cmocka_unit_test(test_username_normalize),
        cmocka_unit_test(test_present_user_json),
        T(test_users_create_find),
        T(test_users_conflicts),
        T(test_users_update),
        T(test_users_flags_password),
        T(test_users_kept_ids),
        T(test_users_erase),
        T(test_users_list),
        T(test_users_encrypted),
        T(test_session_create_rotate_reuse),
        T(test_session_unknown_expired_revoked),
        T(test_session_revoke_list),
        T(test_session_purge),
        T(test_refresh_concurrent),
        T(test_token_deny),
        T(test_kv_down),
        T(test_audit),
        T(test_lockout_account),
        T(test_lockout_ip_and_keys),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
