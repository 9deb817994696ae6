/*
 * test_store.c - the store over the real storage plugins, loaded through
 * the real loader, on real databases: migrations, statements and their
 * types, the statement cache, transactions and threads, claims with a
 * lease (store/claim.h), one conformance
 * suite run against every SQL backend the environment offers
 * (store_backends.h). The drivers' own behaviour is in test_sqlite.c and
 * test_postgres.c (and test_mysql.c), the SQL kv table in test_kv_sql.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "out.h"
#include "plugin/host.h"
#include "plugin/loader.h"
#include "store/claim.h"
#include "store/migrations.h"
#include "store/row.h"
#include "store/store.h"
#include "store_backends.h"

#define T(fn) cmocka_unit_test_setup_teardown(fn, sfx_setup, sfx_teardown)
#define T_RAW(fn) cmocka_unit_test_setup_teardown(fn, sfx_setup_raw, sfx_teardown)

/* ------------------------------------------------------------- migrations */

static void test_migrate_fresh(void **state)
{
    fx *f = *state;
    static const char *const tables[] = {
        "schema_migrations", "tenants", "users", "credentials", "sessions",
        "one_time_tokens", "audit_events", "kv", "refresh_tokens",
    };
    static const char *const indexes[] = {
        "credentials_user_type", "sessions_user", "sessions_family",
        "one_time_tokens_user_purpose", "audit_events_tenant_time",
        "audit_events_subject_time", "kv_expires", "refresh_tokens_session",
        "users_tenant_created",
    };
    char err[256];
    text_ud t;
    int applied = -1;

    assert_int_equal(version(f), 0);
    assert_false(table_exists(f, "tenants"));
    assert_int_equal(store_migrate(f->c, &applied, err, sizeof(err)), 0);
    assert_int_equal(applied, store_latest_version());
    assert_int_equal(version(f), store_latest_version());
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
        if (!table_exists(f, tables[i]))
            fail_msg("table %s missing", tables[i]);
    assert_string_equal(query_text(f, "SELECT slug FROM tenants WHERE id = '" ROOT_TENANT
                                   "' AND is_root = 1 AND is_active = 1", &t), "root");
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 1);
    assert_true(query_int(f, "SELECT created_at FROM tenants") > 1600000000000);
    assert_string_equal(query_text(f, "SELECT name FROM schema_migrations WHERE version = 1",
                                   &t), "initial");
    assert_true(query_int(f, "SELECT applied_at FROM schema_migrations") > 1600000000000);
    /* the indexes the queries rely on */
    for (size_t i = 0; i < sizeof(indexes) / sizeof(indexes[0]); i++)
        if (!index_exists(f, indexes[i]))
            fail_msg("index %s missing", indexes[i]);
}

static void test_migrate_again(void **state)
{
    fx *f = *state;
    char err[256];
    int applied = -1;

    assert_int_equal(store_migrate(f->c, &applied, err, sizeof(err)), 0);
    assert_int_equal(applied, 0);
    assert_int_equal(version(f), store_latest_version());
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM schema_migrations"),
                     store_latest_version());
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 1);
}

/* A test migration with the same (portable) SQL for every dialect. */
static gh_migration test_migration(int version, const char *name, const char *sql)
{
    return (gh_migration){ version, name, sql, sql, sql };
}

/* Room for the built-in migrations and the test's own after them. */
#define LIST_ROOM 32

/* The built-in list plus test versions appended, as a future release would. */
static void list_with(const gh_migration *extra, size_t n_extra, gh_migration *out)
{
    assert_true(gh_migrations_count + n_extra <= LIST_ROOM);
    memcpy(out, gh_migrations, gh_migrations_count * sizeof(*out));
    memcpy(out + gh_migrations_count, extra, n_extra * sizeof(*out));
}

static void test_migrate_partial(void **state)
{
    fx *f = *state;
    const gh_migration v2 = test_migration((int)gh_migrations_count + 1, "extra",
                                           "CREATE TABLE extra (a INTEGER);\n"
                                           "INSERT INTO extra VALUES (42);");
    gh_migration list[LIST_ROOM];
    size_t n = gh_migrations_count + 1;
    char err[256];
    int applied = -1;

    list_with(&v2, 1, list);
    /* the bookkeeping table exists but records nothing: version 0 */
    assert_int_equal(version(f), 0);
    assert_true(table_exists(f, "schema_migrations"));
    assert_int_equal(store_migrate_to(f->c, 0, &applied, err, sizeof(err)), 0);
    assert_int_equal(applied, 0);
    assert_false(table_exists(f, "tenants"));

    /* an older release: up to the built-in versions */
    assert_int_equal(migrations_apply(f->c, list, n, (int)n - 1, &applied, err, sizeof(err)), 0);
    assert_int_equal(applied, (int)n - 1);
    assert_false(table_exists(f, "extra"));

    /* the newer release applies only what is missing */
    assert_int_equal(migrations_apply(f->c, list, n, (int)n, &applied, err, sizeof(err)), 0);
    assert_int_equal(applied, 1);
    assert_int_equal(version(f), (int)n);
    assert_int_equal(query_int(f, "SELECT a FROM extra"), 42);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 1);
    assert_int_equal(migrations_apply(f->c, list, n, (int)n, &applied, err, sizeof(err)), 0);
    assert_int_equal(applied, 0);

    /* and the older release now refuses a database it does not know */
    assert_int_equal(store_migrate(f->c, &applied, err, sizeof(err)), -1);
    assert_int_equal(applied, 0);
    assert_non_null(strstr(err, "newer"));
}

static void test_migrate_failure_rolls_back(void **state)
{
    fx *f = *state;
    const gh_migration broken = test_migration((int)gh_migrations_count + 1, "broken",
                                               "CREATE TABLE half (a INTEGER);\n"
                                               "INSERT INTO half VALUES (1);\n"
                                               "INSERT INTO no_such_table VALUES (1);");
    gh_migration list[LIST_ROOM];
    size_t n = gh_migrations_count + 1;
    char err[256], want[64];
    int applied = -1;

    list_with(&broken, 1, list);
    assert_int_equal(migrations_apply(f->c, list, n, (int)n, &applied, err, sizeof(err)), -1);
    assert_int_equal(applied, 0);
    snprintf(want, sizeof(want), "migration %zu (broken): ", n);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "no_such_table"));
    if (be->ddl_rolls_back)
        assert_false(table_exists(f, "half"));
    assert_int_equal(version(f), (int)n - 1);
    /* the connection is still usable: not left inside a transaction */
    assert_int_equal(insert_tenant(f, "t-1", "after-failure"), GH_OK);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 2);
}

/* Migration 1 fails halfway on a database that already has a `kv` table:
 * none of the tables it created before failing may remain (where DDL can
 * roll back), and the version stays 0. */
static void test_migrate_initial_failure(void **state)
{
    fx *f = *state;
    char err[256];
    int applied = -1;

    assert_int_equal(store_exec_script(f->c, &f->call, "CREATE TABLE kv (x INTEGER)"), GH_OK);
    assert_int_equal(store_migrate(f->c, &applied, err, sizeof(err)), -1);
    assert_int_equal(applied, 0);
    assert_non_null(strstr(err, "migration 1 (initial): "));
    assert_non_null(strstr(err, "kv"));
    if (be->ddl_rolls_back) {
        assert_false(table_exists(f, "tenants"));
        assert_false(table_exists(f, "users"));
    }
    assert_int_equal(version(f), 0);
}

/* An entry with SQL for every dialect but this one. */
static void test_migrate_missing_dialect(void **state)
{
    fx *f = *state;
    gh_migration others = test_migration((int)gh_migrations_count + 1, "others",
                                         "CREATE TABLE x (a INTEGER)");
    gh_migration list[LIST_ROOM];
    size_t n = gh_migrations_count + 1;
    char err[256], want[64];
    int applied = -1;

    if (strcmp(be->name, "sqlite") == 0)
        others.sqlite = NULL;
    else if (strcmp(be->name, "postgres") == 0)
        others.postgres = NULL;
    else
        others.mysql = NULL;
    list_with(&others, 1, list);
    assert_int_equal(migrations_apply(f->c, list, n, (int)n, &applied, err, sizeof(err)), -1);
    assert_int_equal(applied, 0);
    assert_non_null(strstr(err, "others"));
    snprintf(want, sizeof(want), "no SQL for the %s dialect", be->name);
    assert_non_null(strstr(err, want));
    /* refused before anything ran, not after the first versions */
    assert_false(table_exists(f, "tenants"));
    /* nor does an out-of-order list get anywhere */
    list[n - 1] = test_migration((int)n + 1, "others", "SELECT 1");
    assert_int_equal(migrations_apply(f->c, list, n, (int)n, &applied, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "version %d", (int)n + 1);
    assert_non_null(strstr(err, want));
    assert_false(table_exists(f, "tenants"));
}

static int peer_migrate(peer *p, gh_conn *c)
{
    return store_migrate(c, &p->out, p->err, sizeof(p->err));
}

static void test_migrate_concurrent(void **state)
{
    fx *f = *state;
    peer a, b;
    char err[256];
    int applied = -1;

    peer_start(&a, f, peer_migrate, NULL);
    peer_start(&b, f, peer_migrate, NULL);
    peer_join(&a);
    peer_join(&b);
    /* each version applied exactly once between them */
    assert_int_equal(a.out + b.out, store_latest_version());
    assert_int_equal(store_migrate(f->c, &applied, err, sizeof(err)), 0);
    assert_int_equal(applied, 0);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM schema_migrations"),
                     store_latest_version());
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 1);
}

/* An upgrade from every released version, each on a database of its own
 * that stopped there, as a field installation would have. */
static void test_migrate_from_each_version(void **state)
{
    char err[256];
    int applied = -1;

    (void)state;
    for (int v = 0; v < store_latest_version(); v++) {
        void *st = NULL;
        fx *f;

        sfx_setup_raw(&st);
        f = st;
        assert_int_equal(store_migrate_to(f->c, v, &applied, err, sizeof(err)), 0);
        assert_int_equal(applied, v);
        assert_int_equal(version(f), v);
        if (store_migrate(f->c, &applied, err, sizeof(err)) != 0)
            fail_msg("from version %d: %s", v, err);
        assert_int_equal(applied, store_latest_version() - v);
        assert_int_equal(version(f), store_latest_version());
        assert_true(table_exists(f, "refresh_tokens"));
        assert_true(index_exists(f, "users_tenant_created"));
        assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 1);
        sfx_teardown(&st);
    }
}

/* ------------------------------------------------------- exec and types */

static void test_constraints(void **state)
{
    fx *f = *state;

    static const unsigned char zero[] = { 0 };
    const gh_param cred[] = { { NULL, GH_T_BYTES, zero, 1 } };

    assert_int_equal(insert_tenant(f, "t-1", "acme"), GH_OK);
    assert_int_equal(insert_tenant(f, "t-2", "acme"), GH_ERR_CONFLICT);
    assert_true(mentions(f->call.message, "UNIQUE"));
    assert_null(strstr(f->call.message, "acme")); /* bound values stay out of logs */
    assert_int_equal(insert_tenant(f, "t-1", "other"), GH_ERR_CONFLICT);

    assert_int_equal(insert_user(f, "u-1", "t-1", "a@example.com"), GH_OK);
    assert_int_equal(insert_user(f, "u-2", "t-1", "a@example.com"), GH_ERR_CONFLICT);
    assert_null(strstr(f->call.message, "example"));
    assert_int_equal(insert_user(f, "u-3", ROOT_TENANT, "a@example.com"), GH_OK);
    assert_int_equal(insert_user(f, "u-4", "t-1", NULL), GH_OK);
    assert_int_equal(insert_user(f, "u-5", "t-1", NULL), GH_OK); /* NULLs are distinct */
    /* foreign keys are on */
    assert_int_equal(insert_user(f, "u-6", "no-such-tenant", "b@example.com"), GH_ERR_CONFLICT);
    assert_true(mentions(f->call.message, "FOREIGN KEY"));
    assert_null(strstr(f->call.message, "no-such-tenant"));

    /* and cascade */
    assert_int_equal(store_exec(f->c, &f->call,
                                "INSERT INTO credentials (id, user_id, type, secret, "
                                "created_at) VALUES ('c-1', 'u-1', 'password', ?, 1)",
                                cred, 1, NULL, NULL, NULL), GH_OK);
    assert_int_equal(store_exec_script(f->c, &f->call, "DELETE FROM tenants WHERE id = 't-1'"),
                     GH_OK);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM users"), 1);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM credentials"), 0);
}

static void test_exec_types(void **state)
{
    fx *f = *state;
    static const unsigned char blob[] = { 'a', 0, 'b', 0, 0xff };
    int64_t big = INT64_MAX, small = INT64_MIN, changes = -1;
    int32_t yes = 1;
    double pi = 3.25;
    const gh_param in[] = {
        { "n", GH_T_NULL, NULL, 0 },
        { "s", GH_T_STR, "h\xc3\xa9llo", 6 },
        { "i", GH_T_INT, &big, sizeof(big) },
        { "b", GH_T_BOOL, &yes, sizeof(yes) },
        { "y", GH_T_BYTES, blob, sizeof(blob) },
        { "d", GH_T_DOUBLE, &pi, sizeof(pi) },
        { "i2", GH_T_INT, &small, sizeof(small) },
    };
    const gh_param empties[] = {
        { "s", GH_T_STR, "", 0 },
        { "y", GH_T_BYTES, NULL, 0 },
    };
    cols_ud ud;

    assert_int_equal(store_exec_script(f->c, &f->call, be->types_table), GH_OK);
    assert_int_equal(store_exec(f->c, &f->call, "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)",
                                in, 7, NULL, NULL, &changes), GH_OK);
    assert_int_equal(changes, 1);

    memset(&ud, 0, sizeof(ud));
    assert_int_equal(store_exec(f->c, &f->call, "SELECT n, s, i, b, y, d, i2 FROM t", NULL, 0,
                                cols_row, &ud, &changes), GH_OK);
    assert_int_equal(changes, 0); /* a SELECT writes nothing */
    assert_int_equal(ud.rows, 1);
    assert_int_equal(ud.n, 7);
    assert_int_equal(ud.p[0].type, GH_T_NULL);
    assert_string_equal(ud.keys[0], "n");
    assert_int_equal(ud.p[1].type, GH_T_STR);
    assert_int_equal(ud.p[1].len, 6);
    assert_string_equal(ud.str, "h\xc3\xa9llo");
    assert_int_equal(ud.p[2].type, GH_T_INT);
    assert_true(ud.i[2] == INT64_MAX);
    assert_int_equal(ud.p[3].type, GH_T_INT);
    assert_int_equal(ud.i[3], 1);
    assert_int_equal(ud.p[4].type, GH_T_BYTES);
    assert_int_equal(ud.p[4].len, sizeof(blob));
    assert_memory_equal(ud.bytes, blob, sizeof(blob));
    assert_int_equal(ud.p[5].type, GH_T_DOUBLE);
    assert_true(ud.d == 3.25);
    assert_true(ud.i[6] == INT64_MIN);

    /* empty text and empty bytes stay values, not NULL */
    assert_int_equal(store_exec(f->c, &f->call, "DELETE FROM t", NULL, 0, NULL, NULL, &changes),
                     GH_OK);
    assert_int_equal(changes, 1);
    assert_int_equal(store_exec(f->c, &f->call, "INSERT INTO t (s, y) VALUES (?, ?)", empties,
                                2, NULL, NULL, NULL), GH_OK);
    memset(&ud, 0, sizeof(ud));
    assert_int_equal(store_exec(f->c, &f->call, "SELECT s, y FROM t", NULL, 0, cols_row, &ud,
                                NULL), GH_OK);
    assert_int_equal(ud.p[0].type, GH_T_STR);
    assert_int_equal(ud.p[0].len, 0);
    assert_int_equal(ud.p[1].type, GH_T_BYTES);
    assert_int_equal(ud.p[1].len, 0);
}

static int stop_after_first(void *ud, const gh_param *cols, uint32_t n)
{
    (void)cols;
    (void)n;
    ++*(int *)ud;
    return 1;
}

static void test_exec_rows_and_errors(void **state)
{
    fx *f = *state;
    int64_t one = 1;
    gh_param arg = { NULL, GH_T_INT, &one, sizeof(one) };
    int calls = 0;
    cols_ud ud;
    gh_result r;

    assert_int_equal(store_exec_script(f->c, &f->call,
                                       "CREATE TABLE r (a INTEGER);"
                                       "INSERT INTO r VALUES (1), (2), (3)"), GH_OK);
    memset(&ud, 0, sizeof(ud));
    assert_int_equal(store_exec(f->c, &f->call, "SELECT a FROM r ORDER BY a", NULL, 0,
                                cols_row, &ud, NULL), GH_OK);
    assert_int_equal(ud.rows, 3);
    assert_int_equal(ud.i[0], 3);
    /* a callback returning non-zero stops the rows; the statement is reusable */
    assert_int_equal(store_exec(f->c, &f->call, "SELECT a FROM r ORDER BY a", NULL, 0,
                                stop_after_first, &calls, NULL), GH_OK);
    assert_int_equal(calls, 1);
    memset(&ud, 0, sizeof(ud));
    assert_int_equal(store_exec(f->c, &f->call, "SELECT a FROM r ORDER BY a", NULL, 0,
                                cols_row, &ud, NULL), GH_OK);
    assert_int_equal(ud.rows, 3);

    /* wrong number of values, and SQL that does not compile */
    f->call.message[0] = '\0';
    assert_int_equal(store_exec(f->c, &f->call, "SELECT a FROM r WHERE a = ?", NULL, 0, NULL,
                                NULL, NULL), GH_ERR_INVALID);
    assert_non_null(strstr(f->call.message, "bind"));
    assert_int_equal(store_exec(f->c, &f->call, "SELECT a FROM r WHERE a = ?", &arg, 1, NULL,
                                NULL, NULL), GH_OK);
    f->call.message[0] = '\0';
    assert_int_equal(store_exec(f->c, &f->call, "SELEC nonsense", NULL, 0, NULL, NULL, NULL),
                     GH_ERR_INTERNAL);
    assert_true(mentions(f->call.message, "syntax error"));
    /* one statement only: a second would be silently dropped (SQLite says
     * INVALID; a server refuses it as a syntax error, INTERNAL) */
    r = store_exec(f->c, &f->call, "DELETE FROM r; DELETE FROM r", NULL, 0, NULL, NULL, NULL);
    assert_true(r == GH_ERR_INVALID || r == GH_ERR_INTERNAL);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM r;\n"), 3);
    assert_int_equal(store_ping(f->c, &f->call), GH_OK);
    assert_int_equal(store_ping(f->c, NULL), GH_OK); /* the store makes a call up */
    assert_ptr_equal(store_current(), f->c);
    assert_string_equal(store_dialect(f->c), be->name);
    assert_int_equal(f->ps.storage->desc->health(f->ps.storage->inst,
                                                 plugin_tinst(f->ps.storage), &f->call), GH_OK);
}

typedef struct nest_ud {
    fx *f;
    int inner_rows;
    gh_result inner;
} nest_ud;

/* Runs the outer query again from inside its own row callback. */
static int nest_row(void *vud, const gh_param *cols, uint32_t n)
{
    nest_ud *ud = vud;
    cols_ud inner;

    (void)cols;
    (void)n;
    memset(&inner, 0, sizeof(inner));
    ud->inner = store_exec(ud->f->c, &ud->f->call, "SELECT a FROM r ORDER BY a", NULL, 0,
                           cols_row, &inner, NULL);
    ud->inner_rows += inner.rows;
    return 0;
}

static void test_stmt_cache(void **state)
{
    fx *f = *state;
    static const char sql[] = "SELECT COUNT(*) FROM tenants";
    uint64_t prep0, hits0, prep, hits;
    char *copy = strdup(sql), buf[96];
    nest_ud nest = { f, 0, GH_ERR_INTERNAL };

    assert_non_null(copy);
    store_cache_stats(f->c, &prep0, &hits0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(query_int(f, sql), 1);
    store_cache_stats(f->c, &prep, &hits);
    assert_int_equal(prep - prep0, 1);
    assert_int_equal(hits - hits0, 2);

    /* the same text at another address is the same statement */
    assert_int_equal(query_int(f, copy), 1);
    free(copy);
    store_cache_stats(f->c, &prep, &hits);
    assert_int_equal(prep - prep0, 1);
    assert_int_equal(hits - hits0, 3);

    /* one buffer, different text: a different statement, never a stale one */
    snprintf(buf, sizeof(buf), "SELECT %d", 7);
    assert_int_equal(query_int(f, buf), 7);
    snprintf(buf, sizeof(buf), "SELECT %d", 8);
    assert_int_equal(query_int(f, buf), 8);
    store_cache_stats(f->c, &prep, &hits);
    assert_int_equal(prep - prep0, 3);

    /* more statements than the cache holds: older ones are evicted */
    for (int i = 0; i < 200; i++) {
        snprintf(buf, sizeof(buf), "SELECT %d + 0", i);
        assert_int_equal(query_int(f, buf), i);
    }
    assert_int_equal(query_int(f, sql), 1);

    /* a callback re-running the statement it is called from */
    assert_int_equal(store_exec_script(f->c, &f->call,
                                       "CREATE TABLE r (a INTEGER);"
                                       "INSERT INTO r VALUES (1), (2)"), GH_OK);
    assert_int_equal(store_exec(f->c, &f->call, "SELECT a FROM r ORDER BY a", NULL, 0,
                                nest_row, &nest, NULL), GH_OK);
    assert_int_equal(nest.inner, GH_OK);
    assert_int_equal(nest.inner_rows, 4);
}

static void test_transactions(void **state)
{
    fx *f = *state;

    assert_int_equal(store_begin(f->c, &f->call), GH_OK);
    assert_int_equal(insert_tenant(f, "t-1", "one"), GH_OK);
    assert_int_equal(store_rollback(f->c, &f->call), GH_OK);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 1);

    assert_int_equal(store_begin(f->c, &f->call), GH_OK);
    assert_int_equal(insert_tenant(f, "t-1", "one"), GH_OK);
    assert_int_equal(store_commit(f->c, &f->call), GH_OK);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 2);

    /* nested: the inner pair joins the outer transaction */
    assert_int_equal(store_begin(f->c, &f->call), GH_OK);
    assert_int_equal(insert_tenant(f, "t-2", "two"), GH_OK);
    assert_int_equal(store_begin(f->c, &f->call), GH_OK);
    assert_int_equal(insert_tenant(f, "t-3", "three"), GH_OK);
    assert_int_equal(store_commit(f->c, &f->call), GH_OK);
    assert_int_equal(store_commit(f->c, &f->call), GH_OK);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 4);

    /* an inner rollback dooms the outer transaction */
    assert_int_equal(store_begin(f->c, &f->call), GH_OK);
    assert_int_equal(insert_tenant(f, "t-4", "four"), GH_OK);
    assert_int_equal(store_begin(f->c, &f->call), GH_OK);
    assert_int_equal(store_rollback(f->c, &f->call), GH_OK);
    assert_int_equal(store_commit(f->c, &f->call), GH_ERR_CONFLICT);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 4);

    /* a failed statement undoes itself only: the transaction goes on (the
     * core asks which name was taken before it decides) */
    assert_int_equal(store_begin(f->c, &f->call), GH_OK);
    assert_int_equal(insert_tenant(f, "t-6", "six"), GH_OK);
    assert_int_equal(insert_tenant(f, "t-7", "six"), GH_ERR_CONFLICT);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants WHERE slug = 'six'"), 1);
    assert_int_equal(insert_tenant(f, "t-8", "eight"), GH_OK);
    assert_int_equal(store_commit(f->c, &f->call), GH_OK);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 6);
    assert_int_equal(store_exec_script(f->c, &f->call,
                                       "DELETE FROM tenants WHERE id IN ('t-6', 't-8')"), GH_OK);

    /* misuse is reported, and harmless */
    assert_int_equal(store_commit(f->c, &f->call), GH_ERR_INTERNAL);
    assert_int_equal(store_rollback(f->c, &f->call), GH_OK);
    assert_int_equal(store_begin(f->c, &f->call), GH_OK);
    assert_int_equal(insert_tenant(f, "t-5", "five"), GH_OK);
    assert_int_equal(store_commit(f->c, &f->call), GH_OK);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 5);
}

/* Deferred writes: seen by the transaction's next statement, committed
 * with it or undone with it; one that fails is reported by the deferring
 * call (a driver that runs it at once) or by the statement or commit it
 * travels with, and then nothing of the transaction remains. */
static void test_deferred(void **state)
{
    fx *f = *state;
    gh_result r;

    assert_int_equal(store_begin(f->c, &f->call), GH_OK);
    assert_int_equal(defer_tenant(f, "t-1", "one"), GH_OK);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 2);
    assert_int_equal(defer_tenant(f, "t-2", "two"), GH_OK);
    assert_int_equal(defer_tenant(f, "t-3", "three"), GH_OK);
    assert_int_equal(store_commit(f->c, &f->call), GH_OK);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 4);

    /* rolled back before anything carried them to the server */
    assert_int_equal(store_begin(f->c, &f->call), GH_OK);
    assert_int_equal(defer_tenant(f, "t-4", "four"), GH_OK);
    assert_int_equal(store_rollback(f->c, &f->call), GH_OK);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 4);

    /* a failure found by the next statement */
    assert_int_equal(store_begin(f->c, &f->call), GH_OK);
    assert_int_equal(insert_tenant(f, "t-5", "five"), GH_OK);
    r = defer_tenant(f, "t-6", "one");
    if (r == GH_OK)
        r = insert_tenant(f, "t-7", "seven");
    assert_int_equal(r, GH_ERR_CONFLICT);
    assert_int_equal(store_rollback(f->c, &f->call), GH_OK);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 4);

    /* a failure found by the commit: nothing committed */
    assert_int_equal(store_begin(f->c, &f->call), GH_OK);
    assert_int_equal(insert_tenant(f, "t-8", "eight"), GH_OK);
    r = defer_tenant(f, "t-9", "two");
    if (r == GH_OK)
        r = store_commit(f->c, &f->call);
    else
        store_rollback(f->c, &f->call);
    assert_int_equal(r, GH_ERR_CONFLICT);
    assert_int_equal(store_rollback(f->c, &f->call), GH_OK);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 4);

    /* outside a transaction it runs at once; the connection is as good as
     * before */
    assert_int_equal(defer_tenant(f, "t-10", "ten"), GH_OK);
    assert_int_equal(defer_tenant(f, "t-11", "ten"), GH_ERR_CONFLICT);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 5);
}

/* ---------------------------------------------------------------- threads */

static int peer_sees_and_writes(peer *p, gh_conn *c)
{
    gh_call call;
    int64_t n = -1;

    call_init(&call, NULL, "peer", 10000);
    if (store_exec(c, &call, "SELECT COUNT(*) FROM tenants WHERE slug = 'main'", NULL, 0,
                   int_row, &n, NULL) != GH_OK || n != 1) {
        snprintf(p->err, sizeof(p->err), "peer does not see main's row (%lld)", (long long)n);
        return -1;
    }
    if (tenant_row(c, &call, "t-peer", "peer", 0) != GH_OK) {
        snprintf(p->err, sizeof(p->err), "peer insert: %s", call.message);
        return -1;
    }
    return 0;
}

static void test_two_threads(void **state)
{
    fx *f = *state;
    peer p;

    assert_int_equal(insert_tenant(f, "t-main", "main"), GH_OK);
    peer_start(&p, f, peer_sees_and_writes, NULL);
    peer_join(&p);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants WHERE slug = 'peer'"), 1);
}

static void test_thread_open_twice(void **state)
{
    fx *f = *state;
    char err[128] = "";

    assert_null(store_thread_open(f->st, err, sizeof(err)));
    assert_non_null(strstr(err, "already"));
    assert_ptr_equal(store_current(), f->c);
}

/* -------------------------------------------------------- claims */

typedef struct claimed {
    char tenant[37], owner[37];
    int64_t lease_until, attempts;
} claimed;

static void claimed_fill(void *rec, const gh_param *col)
{
    claimed *j = rec;

    col_copy(&col[0], j->tenant, sizeof(j->tenant));
    col_copy(&col[1], j->owner, sizeof(j->owner));
    j->lease_until = col_int(&col[2]);
    j->attempts = col_int(&col[3]);
}

/* A provisioning job of a new tenant, in state, due at due. */
static void add_job(fx *f, const char *tenant, const char *state, int64_t due)
{
    gh_param p[] = {
        { NULL, GH_T_STR, tenant, strlen(tenant) },
        { NULL, GH_T_STR, state, strlen(state) },
        { NULL, GH_T_INT, &due, sizeof(due) },
    };

    assert_int_equal(insert_tenant(f, tenant, tenant), GH_OK);
    assert_int_equal(store_exec(f->c, &f->call, "INSERT INTO provisioning_jobs (tenant_id, cloud, "
                                "state, rolling_back, resources, attempts, next_attempt_at, "
                                "lease_until, created_at, updated_at) VALUES (?, 'c', ?, 0, '', 0, "
                                "?, 0, 0, 0)", p, 3, NULL, NULL, NULL), GH_OK);
}

static size_t claim(fx *f, int64_t now, size_t max, claimed **out)
{
    static const claim_query q = {
        .table = "provisioning_jobs", .key = "tenant_id",
        .state = "state IN ('pending', 'provisioning')", .also = "attempts = attempts + 1",
        .read = { .sql = "SELECT tenant_id, lease_owner, lease_until, attempts FROM "
                         "provisioning_jobs WHERE tenant_id = ?",
                  .size = sizeof(claimed), .ncols = 4, .fill = claimed_fill, .what = "jobs" },
    };
    void *v = NULL;
    size_t n = 0;

    assert_int_equal(store_claim(f->c, &f->call, &q, now, 1000, max, &v, &n), GH_OK);
    assert_true(n <= max && (n == 0) == (v == NULL));
    *out = v;
    return n;
}

/* Due rows in a workable state are taken in the order they fell due, at
 * most max at once, each under a new claim id for the lease; a leased
 * one is nobody else's until its lease runs out, then it is taken over. */
static void test_claim(void **state)
{
    fx *f = *state;
    int64_t now = gh_now_ms();
    claimed *a, *b;

    add_job(f, "t-2", "provisioning", now - 5);
    add_job(f, "t-1", "pending", now - 10);
    add_job(f, "t-3", "active", 0);           /* not workable */
    add_job(f, "t-4", "pending", now + 60000); /* not due */
    assert_int_equal(claim(f, now, 1, &a), 1);
    assert_string_equal(a[0].tenant, "t-1");
    assert_int_equal(a[0].lease_until, now + 1000);
    assert_int_equal(a[0].attempts, 1);
    assert_int_equal(strlen(a[0].owner), 36);
    assert_int_equal(claim(f, now, 4, &b), 1);
    assert_string_equal(b[0].tenant, "t-2");
    assert_string_not_equal(b[0].owner, a[0].owner);
    free(b);
    assert_int_equal(claim(f, now + 999, 4, &b), 0); /* leased */
    assert_int_equal(claim(f, now + 1000, 4, &b), 2); /* the leases ran out */
    assert_string_equal(b[0].tenant, "t-1");
    assert_string_not_equal(b[0].owner, a[0].owner);
    assert_int_equal(b[0].attempts, 2);
    assert_string_equal(b[1].tenant, "t-2");
    free(a);
    free(b);
}

/* -------------------------------------------------------- placeholders */

static void test_sql_dollar(void **state)
{
    static const char *const cases[][2] = {
        { "SELECT 1", "SELECT 1" },
        { "a = ? AND b = ?", "a = $1 AND b = $2" },
        { "s = '?' AND t = ?", "s = '?' AND t = $1" },
        { "s = 'it''s ?' AND t = ?", "s = 'it''s ?' AND t = $1" },
        { "\"we?ird\" = ?", "\"we?ird\" = $1" },
        { "x = ? -- why?\n AND y = ?", "x = $1 -- why?\n AND y = $2" },
        { "x = ? /* a?b */ AND y = ?", "x = $1 /* a?b */ AND y = $2" },
        { "/*/ ? */ ?", "/*/ ? */ $1" },
        { "?,?,?,?,?,?,?,?,?,?,?", "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = store_sql_dollar(cases[i][0]);

        assert_non_null(got);
        assert_string_equal(got, cases[i][1]);
        free(got);
    }
}

int main(void)
{
    static const struct CMUnitTest conformance[] = {
        T_RAW(test_migrate_fresh),
        T(test_migrate_again),
        T_RAW(test_migrate_partial),
        T(test_migrate_failure_rolls_back),
        T_RAW(test_migrate_initial_failure),
        T_RAW(test_migrate_missing_dialect),
        T_RAW(test_migrate_concurrent),
        cmocka_unit_test(test_migrate_from_each_version),
        T(test_constraints),
        T(test_exec_types),
        T(test_exec_rows_and_errors),
        T(test_stmt_cache),
        T(test_transactions),
        T(test_deferred),
        T(test_two_threads),
        T(test_thread_open_twice),
        T(test_claim),
    };
    static const struct CMUnitTest placeholders[] = {
        cmocka_unit_test(test_sql_dollar),
    };
    static const sfx_group groups[] = {
        SFX_GROUP(NULL, "store", conformance),
        SFX_GROUP("sqlite", "store-placeholders", placeholders),
    };

    return sfx_main(groups, sizeof(groups) / sizeof(groups[0]));
}
