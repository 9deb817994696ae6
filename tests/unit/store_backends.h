/*
 * store_backends.h - the store on every SQL backend the environment offers,
 * for the unit tests of the store, its migrations, the SQL kv table and
 * the drivers. Each test gets a fresh database (SQLite: a new file in the
 * group's directory; a server: gh_t_<pid>_<n>, made through the server URL
 * and dropped after) and its config read by the real loader through the
 * shared fixture (fixture.h): only the backends and the databases are
 * this file's.
 *
 * PostgreSQL runs when GH_TEST_POSTGRES_URL is set and MySQL/MariaDB when
 * GH_TEST_MYSQL_URL is (tests/servers.sh sets both); with
 * GH_TEST_REQUIRE_SERVERS=1 a missing URL is a failure, not a skip. Tests
 * that need a second connection run it on a peer thread, as the daemon's
 * workers do; assertions stay on the main thread (cmocka is not
 * thread-safe): peers report a status.
 */
#ifndef GH_TEST_STORE_BACKENDS_H
#define GH_TEST_STORE_BACKENDS_H

#include <pthread.h>
#include "fixture.h"

#define ROOT_TENANT "00000000-0000-4000-8000-000000000000"

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

extern const backend *be;         /* the backend whose group runs */
extern const char *server_url;    /* its server, as given (NULL for SQLite) */
extern char server_pw[128];       /* the password from server_url */

/* url with its path (the database) replaced by db. 0, or -1 when it does
 * not fit. */
int url_with_db(const char *url, const char *db, char *out, size_t len);

/* The backend's plugin loaded with storage options given as key, value,
 * ..., NULL (none: no options block, so every default applies), through
 * the real config loader. NULL with err set when the loader refuses. */
fx *sfx_load(char *err, size_t errlen, ...);
/* f connected on this thread with a call named who that may take ms, or
 * the test fails. */
void sfx_connect(fx *f, const char *who, int64_t ms);

/* cmocka callbacks: *state is an fx on a fresh database, connected
 * (sfx_setup_raw) and migrated (sfx_setup); sfx_teardown closes it and
 * drops the database. */
int sfx_setup_raw(void **state);
int sfx_setup(void **state);
int sfx_teardown(void **state);

/* A group of tests, for every backend (only: NULL) or for one. */
typedef struct sfx_group {
    const char *only;
    const char *name;
    const struct CMUnitTest *tests;
    size_t n;
} sfx_group;
#define SFX_GROUP(only, name, tests) { only, name, tests, sizeof(tests) / sizeof(tests[0]) }
/* Run the groups on each backend the environment offers; the exit status. */
int sfx_main(const sfx_group *groups, size_t n);

/* ------------------------------------------------------------ helpers */

int int_row(void *ud, const gh_param *cols, uint32_t n);
/* A row's columns, copied: they are only valid during the callback. */
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
int cols_row(void *vud, const gh_param *cols, uint32_t n);
/* The integer a one-column query returns (-1: NULL or not an integer). */
int64_t query_int(fx *f, const char *sql);
typedef struct text_ud {
    char buf[256];
} text_ud;
const char *query_text(fx *f, const char *sql, text_ud *ud);
int table_exists(fx *f, const char *name);
int index_exists(fx *f, const char *name);
/* Move the clock; the next calls get a fresh deadline, as a new request. */
void advance(fx *f, int64_t ms);
/* case-insensitive strstr: backends word their messages differently */
int mentions(const char *msg, const char *word);
int version(fx *f);
/* A tenant row (id, slug) on c with call: run at once, or deferred
 * (store_exec_deferred: it waits in a pipelining driver's queue). */
gh_result tenant_row(gh_conn *c, gh_call *call, const char *id, const char *slug, int deferred);
/* The same on f's connection. */
gh_result insert_tenant(fx *f, const char *id, const char *slug);
gh_result defer_tenant(fx *f, const char *id, const char *slug);
gh_result insert_user(fx *f, const char *id, const char *tenant, const char *email);

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
void peer_start(peer *p, fx *f, int (*fn)(peer *, gh_conn *), void *arg);
void peer_join(peer *p);

#endif
