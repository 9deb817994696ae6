/*
 * test_mysql.c - what only the MySQL/MariaDB driver has to get right, on a
 * real server: a connection killed inside a multi-row transaction leaves
 * nothing behind and is never silently replaced mid-transaction; one
 * killed between calls is replaced and cached statements prepare again;
 * migrations re-run cleanly after a partial run (DDL commits as it goes);
 * long and binary values round-trip; error messages carry no values and
 * no password. The generic store suite (test_store.c) runs on MySQL too.
 *
 * Runs when GH_TEST_MYSQL_URL is set (tests/servers.sh sets it), else it
 * is skipped (77), or fails with GH_TEST_REQUIRE_SERVERS=1. Each test gets
 * a database of its own. A second, raw client connection plays the DBA
 * who kills our connection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <mysql.h>

#include "clock.h"
#include "config.h"
#include "fixture.h"
#include "log.h"
#include "plugin/host.h"
#include "plugin/loader.h"
#include "store/migrations.h"
#include "store/store.h"

static const char *server_url;
static int db_seq;

/* the server from GH_TEST_MYSQL_URL: mysql://user:password@host:port/ */
static struct {
    char user[64], password[128], host[128];
    unsigned port;
} srv;

/* The test running (one at a time): its database, and the raw second
 * connection that plays the DBA. */
static char db_name[64];
static char db_url[512];
static MYSQL *dba;

static int parse_server_url(const char *url)
{
    const char *p = strstr(url, "://"), *at, *colon, *port;

    if (p == NULL || (at = strrchr(p += 3, '@')) == NULL ||
        (colon = memchr(p, ':', (size_t)(at - p))) == NULL ||
        (port = strchr(at, ':')) == NULL)
        return -1;
    snprintf(srv.user, sizeof(srv.user), "%.*s", (int)(colon - p), p);
    snprintf(srv.password, sizeof(srv.password), "%.*s", (int)(at - colon - 1), colon + 1);
    snprintf(srv.host, sizeof(srv.host), "%.*s", (int)(port - at - 1), at + 1);
    srv.port = (unsigned)atoi(port + 1);
    return srv.port ? 0 : -1;
}

static void dba_query(fx *f, const char *fmt, ...)
{
    char sql[256];
    va_list ap;
    MYSQL_RES *res;

    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    if (mysql_query(dba, sql) != 0)
        fail_msg("%s: %s", sql, mysql_error(dba));
    if ((res = mysql_store_result(dba)) != NULL)
        mysql_free_result(res);
}

/* Load the plugin on url with one more option (key NULL: none). */
static fx *mysql_load(const char *url, const char *key, const char *value, char *err,
                      size_t errlen)
{
    char yaml[1024] = "";

    assert_int_equal(key ? fx_block(yaml, sizeof(yaml), "storage", "mysql", "url", url, key,
                                    value, NULL)
                         : fx_block(yaml, sizeof(yaml), "storage", "mysql", "url", url, NULL),
                     0);
    return fx_load(yaml, err, errlen);
}

static int setup(void **state)
{
    char yaml[1024] = "";

    assert_non_null(dba = mysql_init(NULL));
    if (mysql_real_connect(dba, srv.host, srv.user, srv.password, NULL, srv.port, NULL, 0) ==
        NULL)
        fail_msg("dba connect: %s", mysql_error(dba));
    snprintf(db_name, sizeof(db_name), "gh_my_%ld_%d", (long)getpid(), ++db_seq);
    dba_query(NULL, "CREATE DATABASE %s", db_name);
    snprintf(db_url, sizeof(db_url), "%s%s", server_url, db_name);
    assert_int_equal(fx_block(yaml, sizeof(yaml), "storage", "mysql", "url", db_url, NULL), 0);
    *state = fx_open_raw(yaml);
    return 0;
}

static int teardown(void **state)
{
    fx_close(*state);
    dba_query(NULL, "DROP DATABASE IF EXISTS %s", db_name);
    mysql_close(dba);
    dba = NULL;
    return 0;
}

static int int_row(void *ud, const gh_param *cols, uint32_t n)
{
    *(int64_t *)ud = n > 0 && cols[0].type == GH_T_INT ? *(const int64_t *)cols[0].data : -1;
    return 1;
}

static int64_t query_int(fx *f, const char *sql)
{
    int64_t v = -2;
    gh_result r = store_exec(f->c, &f->call, sql, NULL, 0, int_row, &v, NULL);

    if (r != GH_OK)
        fail_msg("%s: %s", sql, f->call.message);
    return v;
}

static void migrate(fx *f, int expect_applied)
{
    char err[512];
    int applied = -1;

    if (store_migrate(f->c, &applied, err, sizeof(err)) != 0)
        fail_msg("store_migrate: %s", err);
    assert_int_equal(applied, expect_applied);
}

static gh_result insert_tenant(fx *f, const char *id, const char *slug)
{
    int64_t now = gh_now_ms();
    const gh_param p[] = {
        { NULL, GH_T_STR, id, strlen(id) },
        { NULL, GH_T_STR, slug, strlen(slug) },
        { NULL, GH_T_INT, &now, sizeof(now) },
    };

    f->call.message[0] = '\0';
    return store_exec(f->c, &f->call,
                      "INSERT INTO tenants (id, slug, name, created_at, updated_at) "
                      "VALUES (?, ?, 'T', ?, ?)",
                      (const gh_param[]){ p[0], p[1], p[2], p[2] }, 4, NULL, NULL, NULL);
}

static void kill_our_connection(fx *f)
{
    int64_t id = query_int(f, "SELECT CONNECTION_ID()");

    dba_query(f, "KILL CONNECTION %lld", (long long)id);
    usleep(50 * 1000); /* let the server close the socket */
}

/* ------------------------------------------------------------------ tests */

/* DDL commits at once in MySQL: a migration cut short cannot roll back,
 * so running it again must finish the job. Forgetting the record of what
 * ran is the worst case of that: every step runs again over a complete
 * schema. */
static void test_migrations_rerun(void **state)
{
    fx *f = *state;
    int v = -1;

    assert_int_equal(store_migrate_to(f->c, 1, NULL, (char[128]){ 0 }, 128), 0);
    migrate(f, store_latest_version() - 1); /* from every earlier version */
    assert_int_equal(store_exec(f->c, &f->call, "DELETE FROM schema_migrations", NULL, 0,
                                NULL, NULL, NULL), GH_OK);
    migrate(f, store_latest_version());
    assert_int_equal(store_schema_version(f->c, &v), 0);
    assert_int_equal(v, store_latest_version());
    /* the root tenant was not inserted twice, and the index exists once */
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 1);
    assert_int_equal(query_int(f, "SELECT COUNT(DISTINCT index_name) FROM "
                                  "information_schema.statistics WHERE table_schema = DATABASE() "
                                  "AND index_name = 'users_tenant_created'"), 1);
    migrate(f, 0);
}

typedef struct row_ud {
    gh_param cols[6];
    char *copies[6];
    int rows;
} row_ud;

static int keep_row(void *vud, const gh_param *cols, uint32_t n)
{
    row_ud *ud = vud;

    ud->rows++;
    for (uint32_t i = 0; i < n && i < 6; i++) {
        ud->cols[i] = cols[i];
        free(ud->copies[i]);
        ud->copies[i] = NULL;
        if (cols[i].data != NULL && (ud->copies[i] = malloc(cols[i].len + 1)) != NULL) {
            memcpy(ud->copies[i], cols[i].data, cols[i].len);
            ud->copies[i][cols[i].len] = '\0';
        }
        ud->cols[i].data = ud->copies[i];
    }
    return 0;
}

/* Values longer than the first fetch buffer grow it; bytes stay bytes. */
static void test_values_roundtrip(void **state)
{
    fx *f = *state;
    size_t big_len = 300 * 1000;
    char *big = malloc(big_len);
    const unsigned char bytes[] = { 0, 1, 0xff, '\'', 0, 'x' };
    int64_t i = INT64_MIN;
    double d = 0.25;
    row_ud ud = { 0 };

    assert_non_null(big);
    for (size_t k = 0; k < big_len; k++)
        big[k] = (char)('a' + k % 26);
    assert_int_equal(store_exec_script(f->c, &f->call,
                                       "CREATE TABLE t (k INT PRIMARY KEY, s LONGTEXT, "
                                       "y LONGBLOB, i BIGINT, d DOUBLE, n TEXT) "
                                       "DEFAULT CHARSET=utf8mb4"), GH_OK);
    for (int k = 1; k <= 2; k++) {
        int64_t key = k;
        const gh_param p[] = {
            { NULL, GH_T_INT, &key, sizeof(key) },
            { NULL, GH_T_STR, k == 1 ? "short" : big, k == 1 ? 5 : big_len },
            { NULL, GH_T_BYTES, bytes, sizeof(bytes) },
            { NULL, GH_T_INT, &i, sizeof(i) },
            { NULL, GH_T_DOUBLE, &d, sizeof(d) },
            { NULL, GH_T_NULL, NULL, 0 },
        };

        assert_int_equal(store_exec(f->c, &f->call, "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
                                    p, 6, NULL, NULL, NULL), GH_OK);
    }
    /* short row first: the long one grows the buffer mid-result */
    assert_int_equal(store_exec(f->c, &f->call, "SELECT s, y, i, d, n FROM t ORDER BY k", NULL,
                                0, keep_row, &ud, NULL), GH_OK);
    assert_int_equal(ud.rows, 2);
    assert_int_equal(ud.cols[0].type, GH_T_STR);
    assert_int_equal(ud.cols[0].len, big_len);
    assert_memory_equal(ud.cols[0].data, big, big_len);
    assert_int_equal(ud.cols[1].type, GH_T_BYTES);
    assert_int_equal(ud.cols[1].len, sizeof(bytes));
    assert_memory_equal(ud.cols[1].data, bytes, sizeof(bytes));
    assert_int_equal(ud.cols[2].type, GH_T_INT);
    assert_true(*(const int64_t *)ud.cols[2].data == INT64_MIN);
    assert_int_equal(ud.cols[3].type, GH_T_DOUBLE);
    assert_true(*(const double *)ud.cols[3].data == 0.25);
    assert_int_equal(ud.cols[4].type, GH_T_NULL);
    for (int k = 0; k < 6; k++)
        free(ud.copies[k]);
    free(big);
}

/* A duplicate is CONFLICT, and the server's message, which quotes the
 * duplicate value, reaches the log without it. */
static void test_conflict_hides_values(void **state)
{
    fx *f = *state;

    migrate(f, store_latest_version());
    assert_int_equal(insert_tenant(f, "11111111-1111-4111-8111-111111111111", "secret-slug-42"),
                     GH_OK);
    assert_int_equal(insert_tenant(f, "22222222-2222-4222-8222-222222222222", "secret-slug-42"),
                     GH_ERR_CONFLICT);
    assert_null(strstr(f->call.message, "secret-slug-42"));
    assert_non_null(strstr(f->call.message, "tenants_slug")); /* the key's name stays */
    assert_non_null(strstr(f->call.message, "1062"));
}

/* The DBA kills our connection halfway through a multi-row write: the
 * server rolls it back, the driver does not reconnect under the
 * transaction's feet, and after the rollback the next call reconnects. */
static void test_killed_inside_transaction(void **state)
{
    fx *f = *state;

    migrate(f, store_latest_version());
    assert_int_equal(store_begin(f->c, &f->call), GH_OK);
    assert_int_equal(insert_tenant(f, "33333333-3333-4333-8333-333333333333", "first"), GH_OK);
    kill_our_connection(f);
    assert_int_equal(insert_tenant(f, "44444444-4444-4444-8444-444444444444", "second"),
                     GH_ERR_UNAVAILABLE);
    /* still refused: a new connection now would commit "second" alone */
    assert_int_equal(insert_tenant(f, "55555555-5555-4555-8555-555555555555", "third"),
                     GH_ERR_UNAVAILABLE);
    assert_int_equal(store_commit(f->c, &f->call), GH_ERR_UNAVAILABLE);
    assert_int_equal(store_rollback(f->c, &f->call), GH_OK);
    /* nothing of it is left, and the store works again */
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants WHERE slug <> 'root'"), 0);
    assert_int_equal(insert_tenant(f, "66666666-6666-4666-8666-666666666666", "after"), GH_OK);
}

/* Between calls a killed connection is replaced, unseen: reads and writes
 * both go through, on statements the core had cached, which prepare again. */
static void test_killed_between_calls(void **state)
{
    fx *f = *state;
    uint64_t prepared, hits;

    migrate(f, store_latest_version());
    assert_int_equal(insert_tenant(f, "77777777-7777-4777-8777-777777777777", "a"), GH_OK);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 2);
    kill_our_connection(f);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 2);
    kill_our_connection(f);
    assert_int_equal(insert_tenant(f, "88888888-8888-4888-8888-888888888888", "b"), GH_OK);
    kill_our_connection(f);
    assert_int_equal(store_begin(f->c, &f->call), GH_OK);
    assert_int_equal(insert_tenant(f, "99999999-9999-4999-8999-999999999999", "c"), GH_OK);
    assert_int_equal(store_commit(f->c, &f->call), GH_OK);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 4);
    /* the core's cache was served throughout: the driver re-prepared */
    store_cache_stats(f->c, &prepared, &hits);
    assert_true(hits > 0);
}

/* A wrong password: a clear error that does not contain the password.
 * (No fixture: a thread connects to one store only.) */
static void test_bad_password_not_logged(void **state)
{
    char url[512], err[512];
    fx *g;

    (void)state;
    snprintf(url, sizeof(url), "mysql://%s@%s:%u/", srv.user, srv.host, srv.port);
    if ((g = mysql_load(url, "password", "Wrong-Pw-7781", err, sizeof(err))) == NULL)
        fail_msg("fx_load: %s", err);
    assert_int_not_equal(fx_connect(g, "test", 10000, err, sizeof(err)), 0);
    if (strstr(err, "1045") == NULL) /* access denied */
        fail_msg("%s", err);
    assert_null(strstr(err, "Wrong-Pw-7781"));
    fx_close(g);
}

/* Options are checked at load, with the option named. */
static void test_bad_options(void **state)
{
    char err[512];

    (void)state;
    assert_null(mysql_load("postgres://x@h/db", NULL, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "url"));
    assert_null(mysql_load(server_url, "tls", "maybe", err, sizeof(err)));
    assert_non_null(strstr(err, "tls"));
    assert_null(mysql_load("mysql://u:pw@h:99999/db", NULL, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "port"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations_rerun, setup, teardown),
        cmocka_unit_test_setup_teardown(test_values_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_hides_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_inside_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_between_calls, setup, teardown),
        cmocka_unit_test(test_bad_password_not_logged),
        cmocka_unit_test(test_bad_options),
    };
    const char *require = getenv("GH_TEST_REQUIRE_SERVERS");

    server_url = getenv("GH_TEST_MYSQL_URL");
    if (server_url == NULL || *server_url == '\0') {
        fprintf(stderr, "GH_TEST_MYSQL_URL is not set (tests/servers.sh run ...)\n");
        return require && strcmp(require, "1") == 0 ? 1 : 77;
    }
    if (parse_server_url(server_url) != 0 || server_url[strlen(server_url) - 1] != '/') {
        fprintf(stderr, "GH_TEST_MYSQL_URL: expected mysql://user:password@host:port/\n");
        return 1;
    }
    log_configure(&(gh_log_conf){ .level = GH_LOG_ERROR });
    return cmocka_run_group_tests_name("mysql", tests, NULL, NULL);
}
