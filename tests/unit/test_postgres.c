/*
 * test_postgres.c - the PostgreSQL driver's own behaviour through the
 * store, on the server tests/servers.sh starts: reconnects, a connection
 * killed inside a transaction or with writes waiting in its pipeline,
 * deadlines, values, statement timeouts and
 * its options.
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
#include "store/migrations.h"
#include "store/store.h"
#include "store_backends.h"

#define T(fn) cmocka_unit_test_setup_teardown(fn, sfx_setup, sfx_teardown)
#define T_RAW(fn) cmocka_unit_test_setup_teardown(fn, sfx_setup_raw, sfx_teardown)

/* ---------------------------------------------------- the PostgreSQL driver */

/* The server process behind this thread's connection. */
static int64_t backend_pid(fx *f)
{
    int64_t pid = query_int(f, "SELECT pg_backend_pid()");

    assert_true(pid > 0);
    return pid;
}

/* Kill another connection's server process, as an admin or a crash would,
 * and wait until it is gone. */
static int peer_terminate(peer *p, gh_conn *c)
{
    gh_call call;
    int64_t pid = *(const int64_t *)p->arg, n = -1;
    gh_param arg = { NULL, GH_T_INT, &pid, sizeof(pid) };

    call_init(&call, NULL, "peer", 10000);
    if (store_exec(c, &call, "SELECT pg_terminate_backend(?)", &arg, 1, NULL, NULL, NULL)
        != GH_OK) {
        snprintf(p->err, sizeof(p->err), "terminate: %s", call.message);
        return -1;
    }
    for (int i = 0; i < 100; i++) {
        if (store_exec(c, &call, "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ?", &arg,
                       1, int_row, &n, NULL) != GH_OK) {
            snprintf(p->err, sizeof(p->err), "pg_stat_activity: %s", call.message);
            return -1;
        }
        if (n == 0)
            return 0;
        usleep(20000);
    }
    snprintf(p->err, sizeof(p->err), "backend %lld still there", (long long)pid);
    return -1;
}

static void kill_connection(fx *f)
{
    int64_t pid = backend_pid(f);
    peer p;

    peer_start(&p, f, peer_terminate, &pid);
    peer_join(&p);
}

/* A connection killed while idle: the next call fails fast or (usually)
 * connects again first, and cached statements are prepared again. */
static void test_pg_reconnect(void **state)
{
    fx *f = *state;
    uint64_t prep0, prep;
    int64_t t0, pid = backend_pid(f);
    gh_result r;

    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 1);
    assert_int_equal(store_ping(f->c, &f->call), GH_OK);
    store_cache_stats(f->c, &prep0, NULL);
    for (int round = 0; round < 2; round++) {
        kill_connection(f);
        t0 = gh_monotonic_ms();
        f->call.message[0] = '\0';
        r = store_ping(f->c, &f->call);
        if (r != GH_OK && r != GH_ERR_UNAVAILABLE)
            fail_msg("after the kill: %d (%s)", r, f->call.message);
        assert_true(gh_monotonic_ms() - t0 < 2000);
        /* and then it works, on a new server process */
        assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 1);
        assert_int_not_equal(backend_pid(f), pid);
        pid = backend_pid(f);
    }
    /* the store dropped the statements with each lost connection and
     * prepared them again on the new one, as they were used */
    store_cache_stats(f->c, &prep, NULL);
    assert_true(prep > prep0);
}

/* Killed inside a multi-row transaction: nothing of it remains, and the
 * driver does not carry on silently on a new connection. */
static void test_pg_kill_in_transaction(void **state)
{
    fx *f = *state;

    assert_int_equal(store_begin(f->c, &f->call), GH_OK);
    assert_int_equal(insert_tenant(f, "t-1", "one"), GH_OK);
    assert_int_equal(insert_tenant(f, "t-2", "two"), GH_OK);
    kill_connection(f);
    assert_int_equal(insert_tenant(f, "t-3", "three"), GH_ERR_UNAVAILABLE);
    assert_int_equal(insert_tenant(f, "t-4", "four"), GH_ERR_UNAVAILABLE);
    assert_true(mentions(f->call.message, "transaction"));
    assert_int_not_equal(store_commit(f->c, &f->call), GH_OK);
    assert_int_equal(store_rollback(f->c, &f->call), GH_OK);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 1);

    /* the same with the core rolling back at once */
    assert_int_equal(store_begin(f->c, &f->call), GH_OK);
    assert_int_equal(insert_tenant(f, "t-5", "five"), GH_OK);
    kill_connection(f);
    assert_int_not_equal(insert_tenant(f, "t-6", "six"), GH_OK);
    assert_int_equal(store_rollback(f->c, &f->call), GH_OK);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 1);
    assert_int_equal(insert_tenant(f, "t-7", "seven"), GH_OK);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 2);
}

/* Killed while BEGIN and deferred writes wait in the pipeline, unsent:
 * the commit (or the next statement) reports the loss, nothing of the
 * transaction remains, and the next one runs on a new connection with its
 * statements prepared again. */
static void test_pg_kill_in_pipeline(void **state)
{
    fx *f = *state;
    uint64_t prep0, prep;
    int64_t pid;
    peer p;

    /* prepared on the first connection */
    assert_int_equal(store_begin(f->c, &f->call), GH_OK);
    assert_int_equal(defer_tenant(f, "t-1", "one"), GH_OK);
    assert_int_equal(store_commit(f->c, &f->call), GH_OK);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 2);
    store_cache_stats(f->c, &prep0, NULL);

    for (int round = 0; round < 2; round++) {
        pid = backend_pid(f); /* asked before: the question would send the pipeline */
        assert_int_equal(store_begin(f->c, &f->call), GH_OK);
        assert_int_equal(defer_tenant(f, "t-2", "two"), GH_OK);
        assert_int_equal(defer_tenant(f, "t-3", "three"), GH_OK);
        peer_start(&p, f, peer_terminate, &pid);
        peer_join(&p);
        if (round == 0)
            assert_int_equal(store_commit(f->c, &f->call), GH_ERR_UNAVAILABLE);
        else
            assert_int_equal(insert_tenant(f, "t-4", "four"), GH_ERR_UNAVAILABLE);
        assert_int_equal(store_rollback(f->c, &f->call), GH_OK);
        assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 2);
    }
    /* on the new connection, the deferred insert is prepared again */
    assert_int_equal(store_begin(f->c, &f->call), GH_OK);
    assert_int_equal(defer_tenant(f, "t-5", "five"), GH_OK);
    assert_int_equal(store_commit(f->c, &f->call), GH_OK);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 3);
    store_cache_stats(f->c, &prep, NULL);
    assert_true(prep > prep0);
}

/* A call never outlives its deadline, however long the server takes. */
static void test_pg_deadline(void **state)
{
    fx *f = *state;
    gh_call call;
    int64_t t0;

    call_init(&call, NULL, "short", 300);
    t0 = gh_monotonic_ms();
    assert_int_equal(store_exec(f->c, &call, "SELECT pg_sleep(5)", NULL, 0, NULL, NULL, NULL),
                     GH_ERR_TIMEOUT);
    assert_true(gh_monotonic_ms() - t0 < 1500);
    /* the connection was given up; the next call has a new one */
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM tenants"), 1);
    /* a deadline already past: refused before anything is sent */
    call_init(&call, NULL, "late", 1);
    usleep(5000);
    assert_int_equal(store_ping(f->c, &call), GH_ERR_TIMEOUT);
}

/* Values the SQLite suite cannot tell apart: text bound for a bytea column
 * is stored as its bytes (never read as escapes), booleans, numerics. */
static void test_pg_values(void **state)
{
    fx *f = *state;
    static const char tricky[] = "\\x41\\\\ '$1' \xc3\xa9";
    gh_param arg = { NULL, GH_T_STR, tricky, sizeof(tricky) - 1 };
    int32_t yes = 1;
    gh_param flag = { NULL, GH_T_BOOL, &yes, sizeof(yes) };
    cols_ud ud;

    assert_int_equal(store_exec(f->c, &f->call, "INSERT INTO kv (key, value) VALUES ('k', ?)",
                                &arg, 1, NULL, NULL, NULL), GH_OK);
    memset(&ud, 0, sizeof(ud));
    assert_int_equal(store_exec(f->c, &f->call, "SELECT value FROM kv WHERE key = 'k'", NULL, 0,
                                cols_row, &ud, NULL), GH_OK);
    assert_int_equal(ud.p[0].type, GH_T_BYTES);
    assert_int_equal(ud.p[0].len, sizeof(tricky) - 1);
    assert_memory_equal(ud.bytes, tricky, sizeof(tricky) - 1);

    memset(&ud, 0, sizeof(ud));
    assert_int_equal(store_exec(f->c, &f->call,
                                "SELECT ? AND TRUE, FALSE, SUM(x), AVG(x), CAST(1.5 AS NUMERIC) "
                                "FROM (VALUES (CAST(1 AS BIGINT)), (2)) AS v (x)",
                                &flag, 1, cols_row, &ud, NULL), GH_OK);
    assert_int_equal(ud.p[0].type, GH_T_INT);
    assert_int_equal(ud.i[0], 1);
    assert_int_equal(ud.i[1], 0);
    assert_int_equal(ud.p[2].type, GH_T_INT);
    assert_int_equal(ud.i[2], 3);
    assert_int_equal(ud.p[4].type, GH_T_DOUBLE);
    assert_true(ud.d == 1.5);

    /* text with a NUL cannot be sent: refused, not cut short */
    arg.data = "a\0b";
    arg.len = 3;
    assert_int_equal(store_exec(f->c, &f->call, "SELECT CAST(? AS TEXT)", &arg, 1, NULL, NULL,
                                NULL), GH_ERR_INVALID);
    /* a data error does not echo the value */
    arg.data = "not-a-number-secret";
    arg.len = strlen(arg.data);
    assert_int_equal(store_exec(f->c, &f->call, "SELECT CAST(? AS BIGINT)", &arg, 1, NULL, NULL,
                                NULL), GH_ERR_INVALID);
    assert_null(strstr(f->call.message, "secret"));
}

/* A database-side statement_timeout is TIMEOUT, and the connection stays. */
static void test_pg_statement_timeout(void **state)
{
    fx *f = *state;
    char err[512];
    fx *g;
    int64_t pid;

    if ((g = sfx_load(err, sizeof(err), "url", f->url, "password", server_pw,
                      "statement_timeout", "100ms", NULL)) == NULL)
        fail_msg("load: %s", err);
    /* this thread's connection is swapped for one with the timeout */
    store_thread_close(f->c);
    plugins_thread_fini(&f->ps);
    sfx_connect(g, "test", 10000);
    pid = backend_pid(g);
    assert_int_equal(store_exec(g->c, &g->call, "SELECT pg_sleep(2)", NULL, 0, NULL, NULL, NULL),
                     GH_ERR_TIMEOUT);
    assert_non_null(strstr(g->call.message, "57014"));
    assert_int_equal(backend_pid(g), pid);
    fx_close(g);
    assert_int_equal(plugins_thread_init(&f->ps, err, sizeof(err)), 0);
    assert_non_null(f->c = store_thread_open(f->st, err, sizeof(err)));
}

static void test_pg_options(void **state)
{
    static const char *const bad[][2] = {
        { "sslmode", "sometimes" },
        { "url", "" },
        { "connect_timeout", "soon" },
        { "statement_timeout", "-1" },
        { "sslrootcert", "/no/such/ca.pem" },
        { "no_such_option", "1" },
    };
    fx *f = *state, *g;
    char err[512], url[600], path[64];
    FILE *fp;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        g = strcmp(bad[i][0], "url") == 0
                ? sfx_load(err, sizeof(err), bad[i][0], bad[i][1], NULL)
                : sfx_load(err, sizeof(err), "url", f->url, bad[i][0], bad[i][1], NULL);

        if (g != NULL) {
            fx_close(g);
            fail_msg("%s: %s was accepted", bad[i][0], bad[i][1]);
        }
        if (strstr(err, bad[i][0]) == NULL)
            fail_msg("error for %s does not name it: %s", bad[i][0], err);
    }
    /* url is required */
    assert_null(g = sfx_load(err, sizeof(err), "sslmode", "disable", NULL));
    assert_non_null(strstr(err, "url"));

    /* a malformed URL with a password: the message does not repeat it */
    assert_null(g = sfx_load(err, sizeof(err), "url", "postgresql://u:hunter2%zz@host/db", NULL));
    assert_null(strstr(err, "hunter2"));

    /* this thread's connection makes way for the ones tried below */
    store_thread_close(f->c);
    plugins_thread_fini(&f->ps);

    /* a wrong password fails the connection, and stays out of the message */
    assert_non_null(g = sfx_load(err, sizeof(err), "url", f->url, "password", "wrong-pw-1234",
                                 NULL));
    assert_int_equal(plugins_thread_init(&g->ps, err, sizeof(err)), -1);
    if (!mentions(err, "password") || strstr(err, "wrong-pw-1234") != NULL)
        fail_msg("wrong password: %s", err);
    fx_close(g);

    /* the password from a file */
    snprintf(path, sizeof(path), "pw-%ld", (long)getpid());
    assert_non_null(fp = fopen(path, "w"));
    fprintf(fp, "%s\n", server_pw);
    fclose(fp);
    assert_non_null(g = sfx_load(err, sizeof(err), "url", f->url, "password_file", path,
                                 "sslmode", "disable", NULL));
    if (plugins_thread_init(&g->ps, err, sizeof(err)) != 0)
        fail_msg("password_file: %s", err);
    plugins_thread_fini(&g->ps);
    fx_close(g);
    unlink(path);

    /* or in the URL, as tests/servers.sh gives it */
    assert_int_equal(url_with_db(server_url, f->db, url, sizeof(url)), 0);
    assert_non_null(g = sfx_load(err, sizeof(err), "url", url, NULL));
    if (plugins_thread_init(&g->ps, err, sizeof(err)) != 0)
        fail_msg("password in the URL: %s", err);
    plugins_thread_fini(&g->ps);
    fx_close(g);

    /* nobody listening: thread_init fails at once, naming no secret */
    assert_non_null(g = sfx_load(err, sizeof(err), "url",
                                 "postgresql://u:pw-xyz@127.0.0.1:1/db", "connect_timeout", "2s",
                                 NULL));
    assert_int_equal(plugins_thread_init(&g->ps, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "connect"));
    assert_null(strstr(err, "pw-xyz"));
    fx_close(g);

    assert_int_equal(plugins_thread_init(&f->ps, err, sizeof(err)), 0);
    assert_non_null(f->c = store_thread_open(f->st, err, sizeof(err)));
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        T(test_pg_reconnect),
        T(test_pg_kill_in_transaction),
        T(test_pg_kill_in_pipeline),
        T(test_pg_deadline),
        T(test_pg_values),
        T(test_pg_statement_timeout),
        T(test_pg_options),
    };
    static const sfx_group groups[] = { SFX_GROUP("postgres", "postgres", tests) };

    return sfx_main(groups, 1);
}
