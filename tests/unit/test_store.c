/*
 * test_store.c - the store over the real storage plugins, loaded through
 * the real loader, on real databases: one conformance suite run against
 * every SQL backend the environment offers.
 *
 * SQLite always runs, on files in a temporary directory. PostgreSQL runs
 * when GH_TEST_POSTGRES_URL is set and MySQL/MariaDB when GH_TEST_MYSQL_URL
 * is (tests/servers.sh starts them and sets both); with
 * GH_TEST_REQUIRE_SERVERS=1 a missing URL is a failure, not a skip. On a
 * server each test creates its own database (gh_t_<pid>_<n>: tests run in
 * parallel) through the server URL, and drops it at the end. Tests of one
 * driver's own behaviour (SQLite's files and locks, PostgreSQL's
 * reconnects) run in that backend's group only.
 *
 * Needs GATEHOUSE_PLUGIN_DIR pointing at the built plugins (make check sets
 * it). Tests that need a second connection run it on a second thread, as
 * the daemon's workers do. Assertions stay on the main thread (cmocka is
 * not thread-safe): peers report a status.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
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
#include "plugin/host.h"
#include "plugin/loader.h"
#include "store/migrations.h"
#include "store/store.h"

#define ROOT_TENANT "00000000-0000-4000-8000-000000000000"

static char tmpdir[32];
static int db_seq;

/* What differs between the backends, for the tests themselves. */
typedef struct backend {
    const char *name;         /* plugin, dialect and group name */
    const char *url_env;      /* the server's URL; NULL: SQLite on files */
    const char *create_db;    /* followed by the database name */
    const char *drop_db;      /* followed by the name and drop_tail */
    const char *drop_tail;
    const char *table_exists; /* one ?: the table name */
    const char *index_exists; /* one ?: the index name */
    const char *types_table;  /* columns n, s, i, b, y, d, i2 */
    int ddl_rolls_back;       /* 0: DDL commits at once (MySQL), so a failed
                                 migration may leave its first tables */
} backend;

static const backend backends[] = {
    { "sqlite", NULL, NULL, NULL, NULL,
      "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
      "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?",
      "CREATE TABLE t (n, s TEXT, i INTEGER, b INTEGER, y BLOB, d REAL, i2 INTEGER)", 1 },
    { "postgres", "GH_TEST_POSTGRES_URL", "CREATE DATABASE ", "DROP DATABASE IF EXISTS ",
      " WITH (FORCE)", /* a failed test may leave a connection behind */
      "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?",
      "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ?",
      "CREATE TABLE t (n TEXT, s TEXT, i BIGINT, b INTEGER, y BYTEA, d DOUBLE PRECISION, "
      "i2 BIGINT)", 1 },
    { "mysql", "GH_TEST_MYSQL_URL", "CREATE DATABASE ", "DROP DATABASE IF EXISTS ", "",
      "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() "
      "AND table_name = ?",
      "SELECT COUNT(DISTINCT index_name) FROM information_schema.statistics "
      "WHERE table_schema = DATABASE() AND index_name = ?",
      "CREATE TABLE t (n TEXT, s TEXT, i BIGINT, b INTEGER, y BLOB, d DOUBLE, i2 BIGINT)", 0 },
};

static const backend *be;      /* the group running */
static const char *server_url; /* its server, as given (NULL for SQLite) */
static char server_bare[512];  /* the same without the password, */
static char server_pw[128];    /* which goes in the password option */

/* Split url's password out: scheme://user:pw@rest -> scheme://user@rest. */
static int url_split_password(const char *url)
{
    const char *user = strstr(url, "://"), *at, *colon;

    server_pw[0] = '\0';
    if (user == NULL || (at = strchr(user += 3, '@')) == NULL ||
        (colon = memchr(user, ':', (size_t)(at - user))) == NULL)
        return snprintf(server_bare, sizeof(server_bare), "%s", url) < (int)sizeof(server_bare)
                   ? 0 : -1;
    if ((size_t)(at - colon) > sizeof(server_pw))
        return -1;
    snprintf(server_pw, sizeof(server_pw), "%.*s", (int)(at - colon - 1), colon + 1);
    return snprintf(server_bare, sizeof(server_bare), "%.*s%s", (int)(colon - url), url, at)
                   < (int)sizeof(server_bare) ? 0 : -1;
}

/* url with its path (the database) replaced by db: URIs only, which is
 * what tests/servers.sh exports. 0, or -1 when it does not fit. */
static int url_with_db(const char *url, const char *db, char *out, size_t len)
{
    const char *auth = strstr(url, "://"), *path, *query;
    int n;

    if (auth == NULL)
        return -1;
    auth += 3;
    path = auth + strcspn(auth, "/?");
    query = strchr(path, '?');
    n = snprintf(out, len, "%.*s/%s%s", (int)(path - url), url, db, query ? query : "");
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* ---------------------------------------------------------------- fixture */

typedef struct fx {
    char db[64];        /* SQLite: the file; a server: the database name */
    char url[512];      /* a server: the URL of that database */
    gh_node opts;
    gh_node kids[4];
    gh_config cfg;
    gh_plugins ps;
    gh_store *st;
    gh_conn *c;
    gh_call call;
} fx;

/* Load the backend's plugin with options given as key, value, ..., NULL
 * (no pairs at all: no options block, so every default applies). */
static int fx_load(fx *f, char *err, size_t errlen, ...)
{
    va_list ap;
    const char *key;
    size_t n = 0;

    memset(&f->opts, 0, sizeof(f->opts));
    f->opts.type = GH_NODE_MAP;
    f->opts.file = "test.yaml";
    f->opts.line = f->opts.col = 1;
    va_start(ap, errlen);
    while ((key = va_arg(ap, const char *)) != NULL && n < 4) {
        gh_node *k = &f->kids[n];

        memset(k, 0, sizeof(*k));
        k->type = GH_NODE_SCALAR;
        k->key = (char *)key;
        k->value = va_arg(ap, char *);
        k->quoted = k->value[0] == '\0'; /* as YAML writes "": else it is null */
        k->file = "test.yaml";
        k->line = k->key_line = (int)n + 2;
        k->col = k->key_col = 3;
        if (n > 0)
            f->kids[n - 1].next = k;
        n++;
    }
    va_end(ap);
    f->opts.child = n ? f->kids : NULL;
    f->opts.n = n;

    memset(&f->cfg, 0, sizeof(f->cfg));
    f->cfg.storage.name = (char *)be->name;
    f->cfg.storage.options = n ? &f->opts : NULL;
    f->cfg.storage.where = &f->opts;
    f->cfg.plugin_dir = getenv("GATEHOUSE_PLUGIN_DIR");
    return plugins_load(&f->ps, &f->cfg, err, errlen);
}

/* Connect the loaded plugin on this thread and open a store on it, with a
 * call named who that may take ms. */
static void fx_open(fx *f, const char *who, int64_t ms)
{
    char err[512];

    if (plugins_thread_init(&f->ps, err, sizeof(err)) != 0)
        fail_msg("plugins_thread_init (%s): %s", be->name, err);
    assert_non_null(f->st = store_new(f->ps.storage, f->ps.kv));
    if ((f->c = store_thread_open(f->st, err, sizeof(err))) == NULL)
        fail_msg("store_thread_open: %s", err);
    call_init(&f->call, NULL, who, ms);
}

/* Undo fx_open and fx_load: nothing of the store is left on this thread. */
static void fx_close(fx *f)
{
    store_thread_close(f->c);
    assert_null(store_current());
    store_free(f->st);
    plugins_thread_fini(&f->ps);
    plugins_unload(&f->ps);
}

/* Run one statement on the server's own database (CREATE/DROP DATABASE),
 * with a connection of its own: this thread must have no other open. */
static void server_admin(const char *head, const char *db, const char *tail)
{
    fx *a = calloc(1, sizeof(*a));
    char err[512], sql[256];

    assert_non_null(a);
    snprintf(sql, sizeof(sql), "%s%s%s", head, db, tail);
    if (fx_load(a, err, sizeof(err), "url", server_bare, "password", server_pw, NULL) != 0)
        fail_msg("plugins_load (%s): %s", be->name, err);
    fx_open(a, "admin", 30000);
    if (store_exec_script(a->c, &a->call, sql) != GH_OK)
        fail_msg("%s: %s", sql, a->call.message);
    fx_close(a);
    free(a);
}

/* A fresh database for f, and the backend's plugin loaded on it. */
static int fx_load_fresh(fx *f, char *err, size_t errlen)
{
    if (server_url == NULL) {
        snprintf(f->db, sizeof(f->db), "t%d.db", ++db_seq);
        return fx_load(f, err, errlen, "path", f->db, "busy_timeout", "200ms", NULL);
    }
    snprintf(f->db, sizeof(f->db), "gh_t_%ld_%d", (long)getpid(), ++db_seq);
    if (url_with_db(server_bare, f->db, f->url, sizeof(f->url)) != 0)
        fail_msg("%s: the URL is too long or not a URL", be->url_env);
    server_admin(be->create_db, f->db, "");
    return fx_load(f, err, errlen, "url", f->url, "password", server_pw, NULL);
}

static int setup_raw(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    char err[512];

    assert_non_null(f);
    if (fx_load_fresh(f, err, sizeof(err)) != 0)
        fail_msg("plugins_load: %s", err);
    fx_open(f, "test", 10000);
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

    fx_close(f);
    if (server_url != NULL)
        server_admin(be->drop_db, f->db, be->drop_tail);
    free(f);
    return 0;
}

/* ---------------------------------------------------------------- helpers */

static int int_row(void *ud, const gh_param *cols, uint32_t n)
{
    int64_t *v = ud;

    *v = n > 0 && cols[0].type == GH_T_INT ? *(const int64_t *)cols[0].data : -1;
    return 1;
}

/* The integer a one-column query returns (-1: NULL or not an integer). */
static int64_t query_int(fx *f, const char *sql)
{
    int64_t v = -2;

    assert_int_equal(store_exec(f->c, &f->call, sql, NULL, 0, int_row, &v, NULL), GH_OK);
    return v;
}

typedef struct text_ud {
    char buf[256];
} text_ud;

static int text_row(void *vud, const gh_param *cols, uint32_t n)
{
    text_ud *ud = vud;

    if (n > 0 && (cols[0].type == GH_T_STR || cols[0].type == GH_T_BYTES) &&
        cols[0].len < sizeof(ud->buf)) {
        memcpy(ud->buf, cols[0].data, cols[0].len);
        ud->buf[cols[0].len] = '\0';
    }
    return 1;
}

static const char *query_text(fx *f, const char *sql, text_ud *ud)
{
    ud->buf[0] = '\0';
    assert_int_equal(store_exec(f->c, &f->call, sql, NULL, 0, text_row, ud, NULL), GH_OK);
    return ud->buf;
}

static int table_exists(fx *f, const char *name)
{
    gh_param p = { NULL, GH_T_STR, name, strlen(name) };
    int64_t n = -1;

    assert_int_equal(store_exec(f->c, &f->call, be->table_exists, &p, 1, int_row, &n, NULL),
                     GH_OK);
    return n == 1;
}

static int index_exists(fx *f, const char *name)
{
    gh_param p = { NULL, GH_T_STR, name, strlen(name) };
    int64_t n = -1;

    assert_int_equal(store_exec(f->c, &f->call, be->index_exists, &p, 1, int_row, &n, NULL),
                     GH_OK);
    return n == 1;
}

/* Moving the clock also moves past the deadline of a call made before:
 * the next calls get a fresh one, as a new request would. */
static void advance(fx *f, int64_t ms)
{
    clock_advance_ms(ms);
    call_init(&f->call, NULL, "test", 10000);
}

/* case-insensitive strstr: backends word their messages differently */
static int mentions(const char *msg, const char *word)
{
    return strcasestr(msg, word) != NULL;
}

static int version(fx *f)
{
    int v = -1;

    assert_int_equal(store_schema_version(f->c, &v), 0);
    return v;
}

static gh_result insert_tenant(fx *f, const char *id, const char *slug)
{
    int64_t now = gh_now_ms();
    gh_param p[] = {
        { NULL, GH_T_STR, id, strlen(id) },
        { NULL, GH_T_STR, slug, strlen(slug) },
        { NULL, GH_T_INT, &now, sizeof(now) },
        { NULL, GH_T_INT, &now, sizeof(now) },
    };

    f->call.message[0] = '\0';
    return store_exec(f->c, &f->call,
                      "INSERT INTO tenants (id, slug, name, created_at, updated_at) "
                      "VALUES (?, ?, 'T', ?, ?)", p, 4, NULL, NULL, NULL);
}

static gh_result insert_user(fx *f, const char *id, const char *tenant, const char *email)
{
    int64_t now = gh_now_ms();
    gh_param mail = email ? (gh_param){ NULL, GH_T_STR, email, strlen(email) }
                          : (gh_param){ NULL, GH_T_NULL, NULL, 0 };
    gh_param p[] = {
        { NULL, GH_T_STR, id, strlen(id) },
        { NULL, GH_T_STR, tenant, strlen(tenant) },
        mail,
        mail,
        { NULL, GH_T_INT, &now, sizeof(now) },
        { NULL, GH_T_INT, &now, sizeof(now) },
    };

    f->call.message[0] = '\0';
    return store_exec(f->c, &f->call,
                      "INSERT INTO users (id, tenant_id, email, email_normalized, "
                      "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                      p, 6, NULL, NULL, NULL);
}

/* A second worker thread with its own plugin instance and connection. */
typedef struct peer {
    fx *f;
    int (*fn)(struct peer *p, gh_conn *c);
    void *arg;
    int rc;
    int out;
    pthread_t tid;
    char err[512];
} peer;

static void *peer_main(void *v)
{
    peer *p = v;
    gh_conn *c;

    p->rc = -1;
    if (plugins_thread_init(&p->f->ps, p->err, sizeof(p->err)) != 0)
        return NULL;
    if ((c = store_thread_open(p->f->st, p->err, sizeof(p->err))) != NULL) {
        p->rc = p->fn(p, c);
        store_thread_close(c);
    }
    plugins_thread_fini(&p->f->ps);
    return NULL;
}

static void peer_start(peer *p, fx *f, int (*fn)(peer *, gh_conn *), void *arg)
{
    memset(p, 0, sizeof(*p));
    p->f = f;
    p->fn = fn;
    p->arg = arg;
    assert_int_equal(pthread_create(&p->tid, NULL, peer_main, p), 0);
}

static void peer_join(peer *p)
{
    assert_int_equal(pthread_join(p->tid, NULL), 0);
    if (p->rc != 0)
        fail_msg("peer failed (%d): %s", p->rc, p->err);
}

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

/* The built-in list plus test versions appended, as a future release would. */
static void list_with(const gh_migration *extra, size_t n_extra, gh_migration *out)
{
    memcpy(out, gh_migrations, gh_migrations_count * sizeof(*out));
    memcpy(out + gh_migrations_count, extra, n_extra * sizeof(*out));
}

static void test_migrate_partial(void **state)
{
    fx *f = *state;
    const gh_migration v2 = test_migration((int)gh_migrations_count + 1, "extra",
                                           "CREATE TABLE extra (a INTEGER);\n"
                                           "INSERT INTO extra VALUES (42);");
    gh_migration list[8];
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
    gh_migration list[8];
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
    gh_migration list[8];
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
    list[n - 1] = test_migration(7, "others", "SELECT 1");
    assert_int_equal(migrations_apply(f->c, list, n, (int)n, &applied, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "version 7"));
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

        setup_raw(&st);
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
        teardown(&st);
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

typedef struct cols_ud {
    int rows;
    gh_param p[8];
    uint32_t n;
    unsigned char bytes[16];
    char str[16];
    int64_t i[8];
    double d;
    char keys[8][16]; /* column names: valid only in the callback too */
} cols_ud;

/* Copy what is needed: the columns are only valid during the callback. */
static int cols_row(void *vud, const gh_param *cols, uint32_t n)
{
    cols_ud *ud = vud;

    ud->rows++;
    ud->n = n;
    for (uint32_t k = 0; k < n && k < 8; k++) {
        ud->p[k] = cols[k];
        snprintf(ud->keys[k], sizeof(ud->keys[k]), "%s", cols[k].key ? cols[k].key : "");
        if (cols[k].type == GH_T_INT)
            ud->i[k] = *(const int64_t *)cols[k].data;
        if (cols[k].type == GH_T_DOUBLE)
            ud->d = *(const double *)cols[k].data;
        if (cols[k].type == GH_T_BYTES && cols[k].len > 0 && cols[k].len <= sizeof(ud->bytes))
            memcpy(ud->bytes, cols[k].data, cols[k].len);
        if (cols[k].type == GH_T_STR && cols[k].len < sizeof(ud->str)) {
            memcpy(ud->str, cols[k].data, cols[k].len);
            ud->str[cols[k].len] = '\0';
        }
    }
    return 0;
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

/* --------------------------------------------------------------------- kv */

/* get: the value as text, or the result code */
static gh_result kv_text(fx *f, const char *key, char *buf, size_t len, size_t *vlen)
{
    gh_out *out = gh_host_table.out_new();
    const gh_param *v;
    gh_result r;

    assert_non_null(out);
    buf[0] = '\0';
    r = store_kv_get(f->c, &f->call, key, out);
    if (r == GH_OK) {
        v = gh_host_table.out_get(out, "value", 0);
        assert_non_null(v);
        assert_int_equal(v->type, GH_T_BYTES);
        assert_true(v->len < len);
        memcpy(buf, v->data, v->len);
        buf[v->len] = '\0';
        if (vlen)
            *vlen = v->len;
    }
    gh_host_table.out_free(out);
    return r;
}

static gh_result kv_set(fx *f, const char *key, const char *val, int64_t ttl, uint32_t flags)
{
    return store_kv_set(f->c, &f->call, key, val, strlen(val), ttl, flags);
}

static void test_kv_basic(void **state)
{
    fx *f = *state;
    static const char bin[] = { 'x', 0, 'y' };
    char buf[64];
    size_t len = 0;

    assert_int_equal(kv_text(f, "k", buf, sizeof(buf), NULL), GH_ERR_NOT_FOUND);
    assert_int_equal(kv_set(f, "k", "v1", 0, 0), GH_OK);
    assert_int_equal(kv_text(f, "k", buf, sizeof(buf), NULL), GH_OK);
    assert_string_equal(buf, "v1");
    assert_int_equal(kv_set(f, "k", "v2", 0, 0), GH_OK);
    assert_int_equal(kv_text(f, "k", buf, sizeof(buf), NULL), GH_OK);
    assert_string_equal(buf, "v2");

    assert_int_equal(store_kv_set(f->c, &f->call, "bin", bin, sizeof(bin), 0, 0), GH_OK);
    assert_int_equal(kv_text(f, "bin", buf, sizeof(buf), &len), GH_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(buf, bin, 3);
    assert_int_equal(store_kv_set(f->c, &f->call, "empty", NULL, 0, 0, 0), GH_OK);
    assert_int_equal(kv_text(f, "empty", buf, sizeof(buf), &len), GH_OK);
    assert_int_equal(len, 0);

    /* get with no output just answers whether the key is there */
    assert_int_equal(store_kv_get(f->c, &f->call, "k", NULL), GH_OK);

    assert_int_equal(store_kv_del(f->c, &f->call, "k"), GH_OK);
    assert_int_equal(store_kv_del(f->c, &f->call, "k"), GH_ERR_NOT_FOUND);
    assert_int_equal(kv_text(f, "k", buf, sizeof(buf), NULL), GH_ERR_NOT_FOUND);
    assert_int_equal(store_kv_get(f->c, &f->call, NULL, NULL), GH_ERR_INVALID);
}

static void test_kv_ttl_and_nx(void **state)
{
    fx *f = *state;
    char buf[64];

    assert_int_equal(kv_set(f, "nx", "first", 1000, GH_KV_NX), GH_OK);
    assert_int_equal(kv_set(f, "nx", "second", 1000, GH_KV_NX), GH_ERR_CONFLICT);
    assert_int_equal(kv_text(f, "nx", buf, sizeof(buf), NULL), GH_OK);
    assert_string_equal(buf, "first");

    /* real time passes too: probe well inside the TTL, then at its end */
    advance(f, 500);
    assert_int_equal(kv_text(f, "nx", buf, sizeof(buf), NULL), GH_OK);
    advance(f, 500);
    /* expired: absent to every operation */
    assert_int_equal(kv_text(f, "nx", buf, sizeof(buf), NULL), GH_ERR_NOT_FOUND);
    assert_int_equal(store_kv_del(f->c, &f->call, "nx"), GH_ERR_NOT_FOUND);
    assert_int_equal(kv_set(f, "nx", "third", 0, GH_KV_NX), GH_OK);
    assert_int_equal(kv_text(f, "nx", buf, sizeof(buf), NULL), GH_OK);
    assert_string_equal(buf, "third");
    /* no TTL: it stays */
    advance(f, 365LL * 24 * 3600 * 1000);
    assert_int_equal(kv_text(f, "nx", buf, sizeof(buf), NULL), GH_OK);
    /* a plain set over a live key replaces value and expiry */
    assert_int_equal(kv_set(f, "nx", "fourth", 10, 0), GH_OK);
    advance(f, 10);
    assert_int_equal(kv_text(f, "nx", buf, sizeof(buf), NULL), GH_ERR_NOT_FOUND);
}

static void test_kv_incr(void **state)
{
    fx *f = *state;
    int64_t v = 0;
    char buf[64];

    assert_int_equal(store_kv_incr(f->c, &f->call, "n", 5, 0, &v), GH_OK);
    assert_int_equal(v, 5);
    assert_int_equal(store_kv_incr(f->c, &f->call, "n", -2, 0, &v), GH_OK);
    assert_int_equal(v, 3);
    assert_int_equal(kv_text(f, "n", buf, sizeof(buf), NULL), GH_OK);
    assert_string_equal(buf, "3"); /* decimal text, as Redis keeps counters */

    /* a live key keeps its expiry; an expired one restarts with the new TTL */
    assert_int_equal(store_kv_incr(f->c, &f->call, "rate", 1, 1000, &v), GH_OK);
    assert_int_equal(v, 1);
    advance(f, 500);
    assert_int_equal(store_kv_incr(f->c, &f->call, "rate", 1, 5000, &v), GH_OK);
    assert_int_equal(v, 2);
    advance(f, 500);
    assert_int_equal(kv_text(f, "rate", buf, sizeof(buf), NULL), GH_ERR_NOT_FOUND);
    assert_int_equal(store_kv_incr(f->c, &f->call, "rate", 1, 5000, &v), GH_OK);
    assert_int_equal(v, 1);
    advance(f, 4000);
    assert_int_equal(kv_text(f, "rate", buf, sizeof(buf), NULL), GH_OK);
    assert_string_equal(buf, "1");
    advance(f, 1000);
    assert_int_equal(kv_text(f, "rate", buf, sizeof(buf), NULL), GH_ERR_NOT_FOUND);

    /* overflow is refused and changes nothing */
    assert_int_equal(kv_set(f, "big", "9223372036854775807", 0, 0), GH_OK);
    assert_int_equal(store_kv_incr(f->c, &f->call, "big", 1, 0, &v), GH_ERR_INVALID);
    assert_int_equal(kv_text(f, "big", buf, sizeof(buf), NULL), GH_OK);
    assert_string_equal(buf, "9223372036854775807");

    /* inside a caller's transaction it joins it */
    assert_int_equal(store_begin(f->c, &f->call), GH_OK);
    assert_int_equal(store_kv_incr(f->c, &f->call, "n", 10, 0, &v), GH_OK);
    assert_int_equal(v, 13);
    assert_int_equal(store_rollback(f->c, &f->call), GH_OK);
    assert_int_equal(kv_text(f, "n", buf, sizeof(buf), NULL), GH_OK);
    assert_string_equal(buf, "3");
}

static int peer_incr(peer *p, gh_conn *c)
{
    gh_call call;
    int64_t v;

    call_init(&call, NULL, "peer", 10000);
    for (int i = 0; i < 200; i++)
        if (store_kv_incr(c, &call, "shared", 1, 0, &v) != GH_OK) {
            snprintf(p->err, sizeof(p->err), "incr %d: %s", i, call.message);
            return -1;
        }
    return 0;
}

static void test_kv_incr_concurrent(void **state)
{
    fx *f = *state;
    peer a, b;
    char buf[64];

    peer_start(&a, f, peer_incr, NULL);
    peer_start(&b, f, peer_incr, NULL);
    peer_join(&a);
    peer_join(&b);
    assert_int_equal(kv_text(f, "shared", buf, sizeof(buf), NULL), GH_OK);
    assert_string_equal(buf, "400");
}

static void test_kv_purge(void **state)
{
    fx *f = *state;
    char buf[64];

    assert_int_equal(kv_set(f, "a", "1", 100, 0), GH_OK);
    assert_int_equal(kv_set(f, "b", "1", 100, 0), GH_OK);
    assert_int_equal(kv_set(f, "c", "1", 10000, 0), GH_OK);
    assert_int_equal(kv_set(f, "d", "1", 0, 0), GH_OK);
    assert_int_equal(store_kv_purge(f->c, &f->call), 0);
    advance(f, 100);
    assert_int_equal(store_kv_purge(f->c, &f->call), 2);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM kv"), 2);
    assert_int_equal(store_kv_purge(f->c, &f->call), 0);
    assert_int_equal(kv_text(f, "c", buf, sizeof(buf), NULL), GH_OK);
    assert_int_equal(kv_text(f, "d", buf, sizeof(buf), NULL), GH_OK);
}

/* A kv "plugin" made up here: the store must hand kv to it, in its name,
 * and count only its real failures. */
static gh_loaded fake_kv;
static int fake_calls;
static int fake_wrong_plugin;

static void fake_seen(const gh_call *call)
{
    fake_calls++;
    fake_wrong_plugin += call->plugin != &fake_kv;
}

static gh_result fake_get(const void *inst, void *tinst, gh_call *call, const char *key,
                          gh_out *out)
{
    gh_param v = { "value", GH_T_BYTES, "from-plugin", 11 };

    (void)inst;
    (void)tinst;
    fake_seen(call);
    if (strcmp(key, "missing") == 0)
        return GH_ERR_NOT_FOUND;
    return gh_host_table.put(out, &v);
}

static gh_result fake_set(const void *inst, void *tinst, gh_call *call, const char *key,
                          const void *val, size_t len, int64_t ttl_ms, uint32_t flags)
{
    (void)inst, (void)tinst, (void)key, (void)val, (void)len, (void)ttl_ms;
    fake_seen(call);
    return flags & GH_KV_NX ? GH_ERR_CONFLICT : GH_OK;
}

static gh_result fake_incr(const void *inst, void *tinst, gh_call *call, const char *key,
                           int64_t delta, int64_t ttl_ms, int64_t *result)
{
    (void)inst, (void)tinst, (void)key, (void)ttl_ms;
    fake_seen(call);
    *result = delta * 10;
    return GH_OK;
}

static gh_result fake_del(const void *inst, void *tinst, gh_call *call, const char *key)
{
    (void)inst, (void)tinst, (void)key;
    fake_seen(call);
    return (gh_host_table.fail)(call, GH_ERR_UNAVAILABLE, "redis is down"); /* not cmocka's fail() */
}

static void test_kv_plugin(void **state)
{
    /* a 1.0 table: it ends before the connection ops, and keeps working */
    static const gh_kv_ops ops = {
        .size = offsetof(gh_kv_ops, connect), .get = fake_get, .set = fake_set,
        .incr = fake_incr, .del = fake_del,
    };
    static const gh_plugin desc = {
        .size = sizeof(gh_plugin), .abi_major = GH_ABI_MAJOR, .name = "fakekv",
        .kind = GH_KIND_KV, .ops = &ops,
    };
    fx *f = *state;
    gh_store *st;
    gh_conn *c;
    char err[256], buf[64];
    int64_t v = 0;

    memset(&fake_kv, 0, sizeof(fake_kv));
    fake_kv.name = "fakekv";
    fake_kv.desc = &desc;
    fake_calls = fake_wrong_plugin = 0;
    /* this thread's connection is swapped for one whose store has the plugin */
    store_thread_close(f->c);
    assert_non_null(st = store_new(f->ps.storage, &fake_kv));
    assert_non_null(c = store_thread_open(st, err, sizeof(err)));
    f->c = c;

    assert_int_equal(kv_text(f, "k", buf, sizeof(buf), NULL), GH_OK);
    assert_string_equal(buf, "from-plugin");
    assert_int_equal(kv_text(f, "missing", buf, sizeof(buf), NULL), GH_ERR_NOT_FOUND);
    assert_int_equal(kv_set(f, "k", "v", 0, GH_KV_NX), GH_ERR_CONFLICT);
    assert_int_equal(kv_set(f, "k", "v", 0, 0), GH_OK);
    assert_int_equal(store_kv_incr(c, &f->call, "n", 4, 0, &v), GH_OK);
    assert_int_equal(v, 40);
    /* answers are not failures; a real failure is counted, in its name */
    assert_int_equal(atomic_load(&fake_kv.errors), 0);
    assert_int_equal(store_kv_del(c, &f->call, "k"), GH_ERR_UNAVAILABLE);
    assert_int_equal(atomic_load(&fake_kv.errors), 1);
    assert_string_equal(f->call.message, "redis is down");
    assert_null(f->call.plugin); /* the caller's call is given back as it was */
    assert_int_equal(store_kv_purge(c, &f->call), 0);
    assert_int_equal(fake_calls, 6);
    assert_int_equal(fake_wrong_plugin, 0);
    /* nothing went to the SQL kv table */
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM kv"), 0);

    store_thread_close(c);
    store_free(st);
    assert_non_null(f->c = store_thread_open(f->st, err, sizeof(err)));
}

/* ------------------------------------------------------ the SQLite driver */

static void test_pragmas(void **state)
{
    fx *f = *state;
    text_ud t;

    assert_string_equal(query_text(f, "PRAGMA journal_mode", &t), "wal");
    assert_int_equal(query_int(f, "PRAGMA foreign_keys"), 1);
    assert_int_equal(query_int(f, "PRAGMA synchronous"), 1); /* NORMAL */
    assert_int_equal(access(f->db, F_OK), 0);
}

static int peer_sees_and_writes(peer *p, gh_conn *c)
{
    gh_call call;
    int64_t n = -1;
    int64_t now = gh_now_ms();
    gh_param args[] = {
        { NULL, GH_T_STR, "t-peer", 6 },
        { NULL, GH_T_INT, &now, sizeof(now) },
        { NULL, GH_T_INT, &now, sizeof(now) },
    };

    call_init(&call, NULL, "peer", 10000);
    if (store_exec(c, &call, "SELECT COUNT(*) FROM tenants WHERE slug = 'main'", NULL, 0,
                   int_row, &n, NULL) != GH_OK || n != 1) {
        snprintf(p->err, sizeof(p->err), "peer does not see main's row (%lld)", (long long)n);
        return -1;
    }
    if (store_exec(c, &call,
                   "INSERT INTO tenants (id, slug, name, created_at, updated_at) "
                   "VALUES (?, 'peer', 'P', ?, ?)", args, 3, NULL, NULL, NULL) != GH_OK) {
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

static int peer_begin(peer *p, gh_conn *c)
{
    gh_call call;
    int64_t t0 = gh_monotonic_ms();

    call_init(&call, NULL, "peer", 10000);
    p->out = store_begin(c, &call);
    if (p->out == GH_OK)
        store_rollback(c, &call);
    /* it waited for busy_timeout (200ms) before giving up */
    if (p->out != GH_OK && gh_monotonic_ms() - t0 < 150) {
        snprintf(p->err, sizeof(p->err), "gave up after %lld ms",
                 (long long)(gh_monotonic_ms() - t0));
        return -1;
    }
    return 0;
}

/* A call with no time left (an event loop's) does not wait for a lock. */
static int peer_begin_now(peer *p, gh_conn *c)
{
    gh_call call;
    int64_t t0 = gh_monotonic_ms();

    call_init(&call, NULL, "peer", 0);
    p->out = store_begin(c, &call);
    if (p->out == GH_OK)
        store_rollback(c, &call);
    if (gh_monotonic_ms() - t0 >= 150) {
        snprintf(p->err, sizeof(p->err), "waited %lld ms for the lock, past its deadline",
                 (long long)(gh_monotonic_ms() - t0));
        return -1;
    }
    return 0;
}

static void test_busy_is_unavailable(void **state)
{
    fx *f = *state;
    peer p;

    assert_int_equal(store_begin(f->c, &f->call), GH_OK);
    peer_start(&p, f, peer_begin, NULL);
    peer_join(&p);
    assert_int_equal(p.out, GH_ERR_UNAVAILABLE);
    peer_start(&p, f, peer_begin_now, NULL);
    peer_join(&p);
    assert_int_equal(p.out, GH_ERR_UNAVAILABLE);
    assert_int_equal(store_commit(f->c, &f->call), GH_OK);

    peer_start(&p, f, peer_begin, NULL);
    peer_join(&p);
    assert_int_equal(p.out, GH_OK);
}

static int peer_adds_tenant(peer *p, gh_conn *c)
{
    gh_call call;
    int64_t now = gh_now_ms();
    gh_param args[] = {
        { NULL, GH_T_STR, "t-late", 6 },
        { NULL, GH_T_INT, &now, sizeof(now) },
        { NULL, GH_T_INT, &now, sizeof(now) },
    };

    call_init(&call, NULL, "peer", 10000);
    if (store_exec(c, &call,
                   "INSERT INTO tenants (id, slug, name, created_at, updated_at) "
                   "VALUES (?, 'late', 'L', ?, ?)", args, 3, NULL, NULL, NULL) != GH_OK) {
        snprintf(p->err, sizeof(p->err), "peer insert: %s", call.message);
        return -1;
    }
    return 0;
}

/* An event loop's connection shares one snapshot between the reads of a
 * pass: store_read_end keeps it, store_read_flush ends it, and a write
 * this process committed since it began ends it at the next begin. */
static void test_shared_snapshot(void **state)
{
    fx *f = *state;
    const char *count = "SELECT COUNT(*) FROM tenants";
    peer p;

    store_read_share(f->c, 1);
    assert_int_equal(store_read_begin(f->c, &f->call), GH_OK);
    int64_t before = query_int(f, count);
    store_read_end(f->c, &f->call);

    peer_start(&p, f, peer_adds_tenant, NULL);
    peer_join(&p);
    /* still the snapshot from before the write: read_end kept it */
    assert_int_equal(query_int(f, count), before);
    /* the next read job begins after a write of this process: it sees it */
    assert_int_equal(store_read_begin(f->c, &f->call), GH_OK);
    assert_int_equal(query_int(f, count), before + 1);
    store_read_end(f->c, &f->call);

    /* a flush ends the snapshot; writes are refused inside one */
    assert_int_equal(store_begin(f->c, &f->call), GH_ERR_INTERNAL);
    store_read_flush(f->c);
    assert_int_equal(store_begin(f->c, &f->call), GH_OK);
    assert_int_equal(store_commit(f->c, &f->call), GH_OK);

    /* without sharing, read_end ends it as before */
    store_read_share(f->c, 0);
    assert_int_equal(store_read_begin(f->c, &f->call), GH_OK);
    store_read_end(f->c, &f->call);
    assert_int_equal(store_begin(f->c, &f->call), GH_OK);
    assert_int_equal(store_rollback(f->c, &f->call), GH_OK);
}

static void test_thread_open_twice(void **state)
{
    fx *f = *state;
    char err[128] = "";

    assert_null(store_thread_open(f->st, err, sizeof(err)));
    assert_non_null(strstr(err, "already"));
    assert_ptr_equal(store_current(), f->c);
}

/* n rows of 16 KB into the table blobs, one transaction each: about 4
 * pages of WAL a row. */
static void insert_blobs(fx *f, int n)
{
    for (int i = 0; i < n; i++)
        assert_int_equal(store_exec(f->c, &f->call,
                                    "INSERT INTO blobs (b) VALUES (zeroblob(16384))", NULL, 0,
                                    NULL, NULL, NULL), GH_OK);
}

/* Options are checked at load, with the option named in the message. */
static void test_options(void **state)
{
    static const char *const bad[][2] = {
        { "synchronous", "sometimes" },
        { "journal", "memory" },
        { "path", "" },
        { "busy_timeout", "soon" },
        { "checkpoint_pages", "10" },
        { "checkpoint_pages", "many" },
        { "no_such_option", "1" },
    };
    fx f;
    char err[512];
    text_ud t;

    (void)state;
    memset(&f, 0, sizeof(f));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (fx_load(&f, err, sizeof(err), bad[i][0], bad[i][1], NULL) != -1)
            fail_msg("%s: %s was accepted", bad[i][0], bad[i][1]);
        if (strstr(err, bad[i][0]) == NULL)
            fail_msg("error for %s does not name it: %s", bad[i][0], err);
    }

    /* no options at all: gatehouse.db in the working directory, WAL */
    assert_int_equal(fx_load(&f, err, sizeof(err), NULL), 0);
    fx_open(&f, "test", 10000);
    assert_string_equal(query_text(&f, "PRAGMA journal_mode", &t), "wal");
    assert_int_equal(access("gatehouse.db", F_OK), 0);
    fx_close(&f);

    /* checkpoint_pages: once the WAL holds that many pages the checkpointer
     * copies them into the database file (no automatic checkpoint is left to
     * do it), and nothing is lost. How far the file grows depends on when the
     * checkpointer runs, but not below this: each round copies the whole WAL,
     * the next commit starts it over, and a commit that leaves it at 100
     * pages or more asks for another round. So once the checkpointer is idle
     * fewer than 100 pages (400 KB) of the 1.6 MB written are still only in
     * the WAL, which puts the file above 1.2 MB. */
    assert_int_equal(fx_load(&f, err, sizeof(err), "path", "ckpt.db", "checkpoint_pages", "100",
                             NULL), 0);
    fx_open(&f, "test", 10000);
    assert_int_equal(store_exec(f.c, &f.call, "CREATE TABLE blobs (b BLOB)", NULL, 0, NULL, NULL,
                                NULL), GH_OK);
    insert_blobs(&f, 100);
    struct stat sb = { 0 };
    for (int i = 0; i < 1000 && (stat("ckpt.db", &sb) != 0 || sb.st_size < 1100 * 1024); i++)
        usleep(10000);
    if (sb.st_size < 1100 * 1024)
        fail_msg("no checkpoint: ckpt.db is %lld bytes after 1.6 MB of writes",
                 (long long)sb.st_size);
    assert_int_equal(query_int(&f, "SELECT COUNT(*) FROM blobs"), 100);
    fx_close(&f);

    /* a checkpointer that cannot open the database leaves the commits to
     * checkpoint it themselves: the file is renamed away before the first
     * wake-up, so the open of its old name fails (this connection goes on
     * with the file it has). 100 rows committed after the failure are 400
     * pages: the renamed file must grow by all but the 100 the WAL may
     * keep. */
    assert_int_equal(fx_load(&f, err, sizeof(err), "path", "fallback.db", "checkpoint_pages",
                             "100", NULL), 0);
    fx_open(&f, "test", 10000);
    assert_int_equal(store_exec(f.c, &f.call, "CREATE TABLE blobs (b BLOB)", NULL, 0, NULL, NULL,
                                NULL), GH_OK);
    assert_int_equal(rename("fallback.db", "fallback-moved.db"), 0);
    insert_blobs(&f, 40); /* past 100 pages: the checkpointer starts, and fails */
    assert_int_equal(stat("fallback-moved.db", &sb), 0);
    off_t before = sb.st_size;
    /* rounds of 100 rows until the thread has failed (at once, but a
     * loaded machine may not run it for a while); without the fallback
     * the file never grows and all rounds fail */
    int rounds = 0;
    do {
        usleep(100000);
        insert_blobs(&f, 100);
        rounds++;
        assert_int_equal(stat("fallback-moved.db", &sb), 0);
    } while (sb.st_size - before < 1100 * 1024 && rounds < 20);
    if (sb.st_size - before < 1100 * 1024)
        fail_msg("no inline checkpoint: the file grew by %lld bytes with %d MB written",
                 (long long)(sb.st_size - before), rounds * 16 / 10);
    assert_int_equal(query_int(&f, "SELECT COUNT(*) FROM blobs"), 40 + 100 * rounds);
    fx_close(&f);

    /* journal: delete and synchronous: full are honoured */
    assert_int_equal(fx_load(&f, err, sizeof(err), "path", "delete.db", "journal", "delete",
                             "synchronous", "full", NULL), 0);
    fx_open(&f, "test", 10000);
    assert_string_equal(query_text(&f, "PRAGMA journal_mode", &t), "delete");
    assert_int_equal(query_int(&f, "PRAGMA synchronous"), 2);
    fx_close(&f);

    /* a file that cannot be opened fails thread_init, naming it */
    assert_int_equal(fx_load(&f, err, sizeof(err), "path", "no/such/dir/x.db", NULL), 0);
    assert_int_equal(plugins_thread_init(&f.ps, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no/such/dir/x.db"));
    plugins_unload(&f.ps);
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
    fx g;
    int64_t pid;

    (void)state;
    memset(&g, 0, sizeof(g));
    if (fx_load(&g, err, sizeof(err), "url", f->url, "password", server_pw,
                "statement_timeout", "100ms", NULL) != 0)
        fail_msg("load: %s", err);
    /* this thread's connection is swapped for one with the timeout */
    store_thread_close(f->c);
    plugins_thread_fini(&f->ps);
    fx_open(&g, "test", 10000);
    pid = backend_pid(&g);
    assert_int_equal(store_exec(g.c, &g.call, "SELECT pg_sleep(2)", NULL, 0, NULL, NULL, NULL),
                     GH_ERR_TIMEOUT);
    assert_non_null(strstr(g.call.message, "57014"));
    assert_int_equal(backend_pid(&g), pid);
    fx_close(&g);
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
    fx *f = *state, g;
    char err[512], url[600], path[64];
    FILE *fp;

    memset(&g, 0, sizeof(g));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        int rc = strcmp(bad[i][0], "url") == 0
                     ? fx_load(&g, err, sizeof(err), bad[i][0], bad[i][1], NULL)
                     : fx_load(&g, err, sizeof(err), "url", f->url, bad[i][0], bad[i][1], NULL);

        if (rc != -1) {
            plugins_unload(&g.ps);
            fail_msg("%s: %s was accepted", bad[i][0], bad[i][1]);
        }
        if (strstr(err, bad[i][0]) == NULL)
            fail_msg("error for %s does not name it: %s", bad[i][0], err);
    }
    /* url is required */
    assert_int_equal(fx_load(&g, err, sizeof(err), "sslmode", "disable", NULL), -1);
    assert_non_null(strstr(err, "url"));

    /* a malformed URL with a password: the message does not repeat it */
    assert_int_equal(fx_load(&g, err, sizeof(err), "url",
                             "postgresql://u:hunter2%zz@host/db", NULL), -1);
    assert_null(strstr(err, "hunter2"));

    /* this thread's connection makes way for the ones tried below */
    store_thread_close(f->c);
    plugins_thread_fini(&f->ps);

    /* a wrong password fails the connection, and stays out of the message */
    assert_int_equal(fx_load(&g, err, sizeof(err), "url", f->url, "password", "wrong-pw-1234",
                             NULL), 0);
    assert_int_equal(plugins_thread_init(&g.ps, err, sizeof(err)), -1);
    if (!mentions(err, "password") || strstr(err, "wrong-pw-1234") != NULL)
        fail_msg("wrong password: %s", err);
    plugins_unload(&g.ps);

    /* the password from a file */
    snprintf(path, sizeof(path), "pw-%ld", (long)getpid());
    assert_non_null(fp = fopen(path, "w"));
    fprintf(fp, "%s\n", server_pw);
    fclose(fp);
    assert_int_equal(fx_load(&g, err, sizeof(err), "url", f->url, "password_file", path,
                             "sslmode", "disable", NULL), 0);
    if (plugins_thread_init(&g.ps, err, sizeof(err)) != 0)
        fail_msg("password_file: %s", err);
    plugins_thread_fini(&g.ps);
    plugins_unload(&g.ps);
    unlink(path);

    /* or in the URL, as tests/servers.sh gives it */
    assert_int_equal(url_with_db(server_url, f->db, url, sizeof(url)), 0);
    assert_int_equal(fx_load(&g, err, sizeof(err), "url", url, NULL), 0);
    if (plugins_thread_init(&g.ps, err, sizeof(err)) != 0)
        fail_msg("password in the URL: %s", err);
    plugins_thread_fini(&g.ps);
    plugins_unload(&g.ps);

    /* nobody listening: thread_init fails at once, naming no secret */
    assert_int_equal(fx_load(&g, err, sizeof(err), "url", "postgresql://u:pw-xyz@127.0.0.1:1/db",
                             "connect_timeout", "2s", NULL), 0);
    assert_int_equal(plugins_thread_init(&g.ps, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "connect"));
    assert_null(strstr(err, "pw-xyz"));
    plugins_unload(&g.ps);

    assert_int_equal(plugins_thread_init(&f->ps, err, sizeof(err)), 0);
    assert_non_null(f->c = store_thread_open(f->st, err, sizeof(err)));
}

/* ------------------------------------------------------------------ main */

/* Each group runs in a temporary directory of its own (SQLite's files,
 * the password file of test_pg_options). */
static int group_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/gh-store-XXXXXX");
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
    return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define T_RAW(fn) cmocka_unit_test_setup_teardown(fn, setup_raw, teardown)

/* The suite every SQL backend must pass. */
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
    T(test_kv_basic),
    T(test_kv_ttl_and_nx),
    T(test_kv_incr),
    T(test_kv_incr_concurrent),
    T(test_kv_purge),
    T(test_kv_plugin),
    T(test_two_threads),
    T(test_thread_open_twice),
};

static const struct CMUnitTest sqlite_only[] = {
    T(test_pragmas),
    T(test_busy_is_unavailable),
    T(test_shared_snapshot),
    cmocka_unit_test(test_options),
    cmocka_unit_test(test_sql_dollar),
};

static const struct CMUnitTest postgres_only[] = {
    T(test_pg_reconnect),
    T(test_pg_kill_in_transaction),
    T(test_pg_deadline),
    T(test_pg_values),
    T(test_pg_statement_timeout),
    T(test_pg_options),
};

#define RUN(name, tests) cmocka_run_group_tests_name(name, tests, group_setup, group_teardown)

/* The backend's groups, or why they cannot run: a server without its URL
 * is skipped (a failure when GH_TEST_REQUIRE_SERVERS=1), and a URL
 * without the plugin built is a failure. */
static int run_backend(const backend *b)
{
    const char *dir = getenv("GATEHOUSE_PLUGIN_DIR");
    const char *require = getenv("GH_TEST_REQUIRE_SERVERS");
    char so[4096], name[64];
    int failed = 0;

    be = b;
    server_url = b->url_env ? getenv(b->url_env) : NULL;
    if (b->url_env != NULL && (server_url == NULL || server_url[0] == '\0')) {
        if (require != NULL && strcmp(require, "1") == 0) {
            fprintf(stderr, "%s: %s is not set, and GH_TEST_REQUIRE_SERVERS=1 (run the tests "
                    "under tests/servers.sh)\n", b->name, b->url_env);
            return 1;
        }
        printf("# %s: skipped (%s is not set; tests/servers.sh sets it)\n", b->name,
               b->url_env);
        return 0;
    }
    if (server_url != NULL && url_split_password(server_url) != 0) {
        fprintf(stderr, "%s: %s is too long or not a URL\n", b->name, b->url_env);
        return 1;
    }
    snprintf(so, sizeof(so), "%s/%s.so", dir, b->name);
    if (access(so, R_OK) != 0) {
        fprintf(stderr, "%s: %s is set but the %s plugin is not built (%s): configure found "
                "no client library for it\n", b->name, b->url_env, b->name, so);
        return 1;
    }
    snprintf(name, sizeof(name), "store/%s", b->name);
    failed += RUN(name, conformance);
    if (strcmp(b->name, "sqlite") == 0)
        failed += RUN("store/sqlite-only", sqlite_only);
    else if (strcmp(b->name, "postgres") == 0)
        failed += RUN("store/postgres-only", postgres_only);
    return failed;
}

int main(void)
{
    gh_log_conf quiet = { .level = GH_LOG_ERROR };
    int failed = 0;

    if (getenv("GATEHOUSE_PLUGIN_DIR") == NULL) {
        fprintf(stderr, "GATEHOUSE_PLUGIN_DIR is not set (make check sets it)\n");
        return 1;
    }
    /* expected failures log warnings; keep the output to test results */
    log_configure(&quiet);
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        failed += run_backend(&backends[i]);
    host_global_cleanup();
    return failed ? 1 : 0;
}
