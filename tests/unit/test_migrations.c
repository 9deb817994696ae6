/*
 * test_migrations.c - the schema migrations on the real SQLite plugin: a fresh
 * database, and one at version 1 brought to the latest.
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

#include "accounts_fx.h"

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

    assert_int_equal(store_latest_version(), 14);
    assert_int_equal(store_migrate(f->c, &applied, err, sizeof(err)), 0);
    assert_int_equal(applied, 14);
    assert_int_equal(store_schema_version(f->c, &version), 0);
    assert_int_equal(version, 14);
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


int main(void)
{
    const struct CMUnitTest tests[] = {
        T_RAW(test_migrate_fresh),
        T_RAW(test_migrate_from_v1),
    };

    return RUN(tests);
}
