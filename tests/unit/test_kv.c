/*
 * test_kv.c - one kv conformance suite, run against every kv backend the
 * environment offers, through the real loader and the real store, whose
 * store_kv_* call the backend's gh_kv_ops (the SQL kv table is a built-in
 * backend behind the same table as the redis plugin):
 *
 *   sqlite    the SQL kv table on SQLite                       always
 *   redis     the redis plugin (SQLite as the SQL store)       GH_TEST_REDIS_URL
 *   postgres  the SQL kv table on PostgreSQL                   GH_TEST_POSTGRES_URL
 *   mysql     the SQL kv table on MySQL/MariaDB                GH_TEST_MYSQL_URL
 *
 * A backend whose plugin is not built is skipped; one whose URL is unset is
 * skipped too, unless GH_TEST_REQUIRE_SERVERS=1 makes that a failure.
 * Adding a backend is one row in `backends`.
 *
 * Servers are shared by tests running in parallel: every key a test uses
 * lives under a namespace unique to this process and test (and, on Redis,
 * under a key_prefix unique to this process), and is deleted at the end.
 * Expiry is checked in real time, as Redis keeps its own clock: the TTLs
 * are short and the sleeps a few hundred ms. Assertions stay on the main
 * thread (cmocka is not thread-safe): helper threads report a status.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "plugin/host.h"
#include "plugin/loader.h"
#include "store/store.h"
#include "fixture.h"

/*
 * LeakSanitizer (GCC 12's) misreads a thread's dynamic TLS once glibc has
 * grown its DTV: loading libpq, the MariaDB client and hiredis into one
 * process brings enough TLS modules, and its exit-time scan then follows a
 * bogus range and crashes ("Tracer caught signal 11", most runs here).
 * Not scanning TLS as a root can only report more leaks, never hide one.
 * Only this test loads every backend at once; without LSan this is unused.
 */
__attribute__((visibility("default"))) const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
    return "use_tls=0";
}

/* ---------------------------------------------------------------- backends */

typedef struct backend {
    const char *name;
    const char *sql_plugin;  /* the storage plugin */
    const char *sql_env;     /* its server's url; NULL: a local SQLite file */
    const char *admin_db;    /* on that server, where CREATE DATABASE runs */
    const char *kv_plugin;   /* NULL: kv served by the SQL store */
    const char *kv_env;      /* the kv plugin's url variable */
} backend;

/* SQL servers: this process makes its own database on the server named by
 * the variable (the url's path is replaced) and drops it at the end. */
static const backend backends[] = {
    { "sqlite", "sqlite", NULL, NULL, NULL, NULL },
    { "redis", "sqlite", NULL, NULL, "redis", "GH_TEST_REDIS_URL" },
    { "postgres", "postgres", "GH_TEST_POSTGRES_URL", "postgres", NULL, NULL },
    { "mysql", "mysql", "GH_TEST_MYSQL_URL", "mysql", NULL, NULL },
};
#define NBACKENDS (sizeof(backends) / sizeof(backends[0]))

static const backend *cur;     /* the backend the running group tests */
static char sql_url[1024];     /* cur's database, when on a server */
static char tmpdir[] = "/tmp/gh-kv-XXXXXX";
static char redis_prefix[64];  /* this process's key_prefix on Redis */
static int test_seq;

/* ---------------------------------------------------------------- fixture */

#define MAX_KEYS 256

/* A test's store (the shared fixture: its config read by the real loader)
 * and the keys it used, deleted at teardown. */
typedef struct kvfx {
    fx *base;
    gh_conn *c;              /* base->c */
    gh_call call;
    char ns[64];             /* this test's namespace: every key starts here */
    char *keys[MAX_KEYS];
    size_t nkeys;
} kvfx;

/* The current backend's config: its SQL store, plus the kv plugin with
 * these options (key, value, ..., NULL) when it has one. */
static void backend_yaml(char *yaml, size_t len, ...)
{
    char db[64];
    va_list ap;
    int rc;

    yaml[0] = '\0';
    if (cur->sql_env == NULL) {
        snprintf(db, sizeof(db), "kv%d.db", ++test_seq);
        rc = fx_block(yaml, len, "storage", cur->sql_plugin, "path", db, NULL);
    } else {
        rc = fx_block(yaml, len, "storage", cur->sql_plugin, "url", sql_url, NULL);
    }
    if (rc == 0 && cur->kv_plugin != NULL) {
        va_start(ap, len);
        rc = fx_block_v(yaml, len, "kv", cur->kv_plugin, ap);
        va_end(ap);
    }
    if (rc != 0)
        fail_msg("the test config does not fit");
}

static int setup(void **state)
{
    kvfx *f = calloc(1, sizeof(*f));
    char yaml[2048], err[512];
    int applied;

    assert_non_null(f);
    backend_yaml(yaml, sizeof(yaml), "url", cur->kv_env ? getenv(cur->kv_env) : "",
                 "key_prefix", redis_prefix, NULL);
    /* a server's database is the backend's, shared by its tests: migrated
     * by the first */
    f->base = fx_open_raw(yaml);
    if (fx_migrate(f->base, &applied, err, sizeof(err)) != 0) {
        fx_close(f->base);
        fail_msg("store_migrate: %s", err);
    }
    f->c = f->base->c;
    call_init(&f->call, NULL, "test", 10000);
    snprintf(f->ns, sizeof(f->ns), "t%ld-%d-%d:", (long)getpid(), ++test_seq, rand() % 100000);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    kvfx *f = *state;

    for (size_t i = 0; i < f->nkeys; i++) {
        call_init(&f->call, NULL, "test", 10000);
        store_kv_del(f->c, &f->call, f->keys[i]); /* NOT_FOUND: already gone */
        free(f->keys[i]);
    }
    fx_close(f->base);
    free(f);
    return 0;
}

/* ---------------------------------------------------------------- helpers */

/* This test's key for name, remembered for teardown. The string lives as
 * long as the fixture. */
static const char *K(kvfx *f, const char *name)
{
    char buf[1024];

    snprintf(buf, sizeof(buf), "%s%s", f->ns, name);
    for (size_t i = 0; i < f->nkeys; i++)
        if (strcmp(f->keys[i], buf) == 0)
            return f->keys[i];
    assert_true(f->nkeys < MAX_KEYS);
    assert_non_null(f->keys[f->nkeys] = strdup(buf));
    return f->keys[f->nkeys++];
}

/* get: the value (up to len bytes), or the result code */
static gh_result get(kvfx *f, const char *name, void *buf, size_t len, size_t *vlen)
{
    gh_out *out = gh_host_table.out_new();
    const gh_param *v;
    gh_result r;

    assert_non_null(out);
    r = store_kv_get(f->c, &f->call, K(f, name), out);
    if (r == GH_OK) {
        v = gh_host_table.out_get(out, "value", 0);
        assert_non_null(v);
        assert_int_equal(v->type, GH_T_BYTES);
        assert_true(v->len <= len);
        if (v->len)
            memcpy(buf, v->data, v->len);
        if (vlen)
            *vlen = v->len;
    }
    gh_host_table.out_free(out);
    return r;
}

/* get as a C string */
static gh_result get_text(kvfx *f, const char *name, char *buf, size_t len)
{
    size_t n = 0;
    gh_result r;

    buf[0] = '\0';
    r = get(f, name, buf, len - 1, &n);
    if (r == GH_OK)
        buf[n] = '\0';
    return r;
}

static gh_result set(kvfx *f, const char *name, const char *val, int64_t ttl, uint32_t flags)
{
    return store_kv_set(f->c, &f->call, K(f, name), val, strlen(val), ttl, flags);
}

static gh_result incr(kvfx *f, const char *name, int64_t delta, int64_t ttl, int64_t *v)
{
    return store_kv_incr(f->c, &f->call, K(f, name), delta, ttl, v);
}

static gh_result del(kvfx *f, const char *name)
{
    return store_kv_del(f->c, &f->call, K(f, name));
}

static gh_result exists(kvfx *f, const char *name)
{
    return store_kv_get(f->c, &f->call, K(f, name), NULL);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* A kv call's result, with the backend's message when it is not `want`. */
#define assert_kv(expr, want)                                                              \
    do {                                                                                   \
        gh_result r_ = (expr);                                                             \
        if (r_ != (want))                                                                  \
            fail_msg("%s: %s, expected %s (%s)", #expr, gh_result_str(r_),                 \
                     gh_result_str(want), f->call.message);                                \
    } while (0)

/* ------------------------------------------------------------ get, set, del */

static void test_get_set_del(void **state)
{
    kvfx *f = *state;
    char buf[64];

    assert_kv(get_text(f, "k", buf, sizeof(buf)), GH_ERR_NOT_FOUND);
    assert_kv(exists(f, "k"), GH_ERR_NOT_FOUND);
    assert_kv(set(f, "k", "v1", 0, 0), GH_OK);
    assert_kv(get_text(f, "k", buf, sizeof(buf)), GH_OK);
    assert_string_equal(buf, "v1");
    assert_kv(exists(f, "k"), GH_OK); /* no output: only "is it there" */
    assert_kv(set(f, "k", "value two", 0, 0), GH_OK);
    assert_kv(get_text(f, "k", buf, sizeof(buf)), GH_OK);
    assert_string_equal(buf, "value two");

    /* del is a take: the first one gets it, the second finds nothing */
    assert_kv(del(f, "k"), GH_OK);
    assert_kv(del(f, "k"), GH_ERR_NOT_FOUND);
    assert_kv(get_text(f, "k", buf, sizeof(buf)), GH_ERR_NOT_FOUND);
    assert_kv(del(f, "never-set"), GH_ERR_NOT_FOUND);
    assert_kv(store_kv_get(f->c, &f->call, NULL, NULL), GH_ERR_INVALID);
}

static void test_binary_values(void **state)
{
    kvfx *f = *state;
    static const unsigned char bin[] = { 'x', 0, 'y', 0xff, '\r', '\n', '$', '*', 0 };
    unsigned char buf[64];
    size_t len = 99;

    assert_kv(store_kv_set(f->c, &f->call, K(f, "bin"), bin, sizeof(bin), 0, 0), GH_OK);
    assert_kv(get(f, "bin", buf, sizeof(buf), &len), GH_OK);
    assert_int_equal(len, sizeof(bin));
    assert_memory_equal(buf, bin, sizeof(bin));

    /* an empty value is a value, not an absence */
    assert_kv(store_kv_set(f->c, &f->call, K(f, "empty"), NULL, 0, 0, 0), GH_OK);
    assert_kv(get(f, "empty", buf, sizeof(buf), &len), GH_OK);
    assert_int_equal(len, 0);
    assert_kv(exists(f, "empty"), GH_OK);

    /* keys are text of any byte but NUL, spaces and protocol characters too */
    assert_kv(set(f, "a key with spaces\r\n*1\r\n$4\r\nPING", "odd", 0, 0), GH_OK);
    assert_kv(get(f, "a key with spaces\r\n*1\r\n$4\r\nPING", buf, sizeof(buf), &len),
              GH_OK);
    assert_int_equal(len, 3);
    assert_kv(get(f, "a key with spaces", buf, sizeof(buf), &len), GH_ERR_NOT_FOUND);
}

static void test_large_values(void **state)
{
    kvfx *f = *state;
    const size_t n = 1024 * 1024;
    unsigned char *big = malloc(n), *back = malloc(n);
    char long_name[512];
    size_t len = 0;

    assert_non_null(big);
    assert_non_null(back);
    for (size_t i = 0; i < n; i++)
        big[i] = (unsigned char)(i * 131 + (i >> 8));
    assert_kv(store_kv_set(f->c, &f->call, K(f, "big"), big, n, 60000, 0), GH_OK);
    assert_kv(get(f, "big", back, n, &len), GH_OK);
    assert_int_equal(len, n);
    assert_memory_equal(back, big, n);
    free(big);
    free(back);

    /* the longest key the core makes: 511 bytes (lockout.c's KEY_MAX - 1;
     * the MySQL kv table's key is VARCHAR(512)), with Redis's prefix past
     * any fixed buffer a backend may keep for keys */
    memset(long_name, 'k', sizeof(long_name));
    long_name[511 - strlen(f->ns)] = '\0';
    assert_kv(set(f, long_name, "long", 0, 0), GH_OK);
    assert_kv(exists(f, long_name), GH_OK);
    assert_kv(del(f, long_name), GH_OK);
}

/* ----------------------------------------------------------- NX and expiry */

static void test_set_nx(void **state)
{
    kvfx *f = *state;
    char buf[64];

    assert_kv(set(f, "nx", "first", 0, GH_KV_NX), GH_OK);
    assert_kv(set(f, "nx", "second", 0, GH_KV_NX), GH_ERR_CONFLICT);
    assert_kv(get_text(f, "nx", buf, sizeof(buf)), GH_OK);
    assert_string_equal(buf, "first"); /* the loser changed nothing */
    assert_kv(del(f, "nx"), GH_OK);
    assert_kv(set(f, "nx", "third", 0, GH_KV_NX), GH_OK);
    assert_kv(get_text(f, "nx", buf, sizeof(buf)), GH_OK);
    assert_string_equal(buf, "third");
    /* a plain set always wins */
    assert_kv(set(f, "nx", "fourth", 0, 0), GH_OK);
    assert_kv(get_text(f, "nx", buf, sizeof(buf)), GH_OK);
    assert_string_equal(buf, "fourth");
}

static void test_ttl_expiry(void **state)
{
    kvfx *f = *state;
    char buf[64];

    assert_kv(set(f, "short", "v", 200, 0), GH_OK);
    assert_kv(set(f, "nx-short", "v", 200, GH_KV_NX), GH_OK);
    assert_kv(set(f, "forever", "v", 0, 0), GH_OK);
    assert_kv(set(f, "replaced", "v", 200, 0), GH_OK);
    /* a plain set replaces value and expiry: no TTL now */
    assert_kv(set(f, "replaced", "w", 0, 0), GH_OK);
    assert_kv(get_text(f, "short", buf, sizeof(buf)), GH_OK);
    assert_kv(set(f, "nx-short", "again", 200, GH_KV_NX), GH_ERR_CONFLICT);

    sleep_ms(450);
    /* expired: absent to every operation */
    assert_kv(get_text(f, "short", buf, sizeof(buf)), GH_ERR_NOT_FOUND);
    assert_kv(exists(f, "short"), GH_ERR_NOT_FOUND);
    assert_kv(del(f, "short"), GH_ERR_NOT_FOUND);
    assert_kv(set(f, "nx-short", "again", 0, GH_KV_NX), GH_OK);
    assert_kv(get_text(f, "nx-short", buf, sizeof(buf)), GH_OK);
    assert_string_equal(buf, "again");
    assert_kv(get_text(f, "forever", buf, sizeof(buf)), GH_OK);
    assert_kv(get_text(f, "replaced", buf, sizeof(buf)), GH_OK);
    assert_string_equal(buf, "w");
}

/* any: is one of two keys there (every authenticated request asks it of
 * its session and its token). The SQL backend asks in one statement, a
 * plugin with get_many (Redis) in one call, others with two gets: all
 * answer alike, expiry included. */
static void test_any(void **state)
{
    kvfx *f = *state;

    assert_kv(store_kv_any(f->c, &f->call, K(f, "a1"), K(f, "a2")), GH_ERR_NOT_FOUND);
    assert_kv(set(f, "a2", "v", 0, 0), GH_OK);
    assert_kv(store_kv_any(f->c, &f->call, K(f, "a1"), K(f, "a2")), GH_OK);
    assert_kv(store_kv_any(f->c, &f->call, K(f, "a2"), K(f, "a1")), GH_OK);
    assert_kv(set(f, "short", "v", 200, 0), GH_OK);
    assert_kv(store_kv_any(f->c, &f->call, K(f, "short"), K(f, "a1")), GH_OK);
    sleep_ms(450);
    assert_kv(store_kv_any(f->c, &f->call, K(f, "short"), K(f, "a1")), GH_ERR_NOT_FOUND);
    assert_kv(store_kv_any(f->c, &f->call, K(f, "a1"), NULL), GH_ERR_INVALID);
}

/* get_many: several keys' values in their order, absent (or expired) ones
 * as NULL; one round trip on Redis (MGET), one get per key elsewhere:
 * both answer alike. */
static void test_get_many(void **state)
{
    kvfx *f = *state;
    const char *keys[4] = { K(f, "m1"), K(f, "m2"), K(f, "short"), K(f, "m1") };
    gh_out *out = gh_host_table.out_new();
    const gh_param *v;

    assert_non_null(out);
    assert_kv(set(f, "m1", "one", 0, 0), GH_OK);
    assert_kv(set(f, "short", "gone", 200, 0), GH_OK);
    sleep_ms(450);
    assert_kv(store_kv_get_many(f->c, &f->call, keys, 4, out), GH_OK);
    for (size_t i = 0; i < 4; i++) {
        assert_non_null(v = gh_host_table.out_get(out, "value", i));
        if (i % 3 == 0) { /* m1, asked twice */
            assert_int_equal(v->type, GH_T_BYTES);
            assert_int_equal(v->len, 3);
            assert_memory_equal(v->data, "one", 3);
        } else {
            assert_int_equal(v->type, GH_T_NULL);
        }
    }
    assert_null(gh_host_table.out_get(out, "value", 4));
    gh_host_table.out_free(out);
    keys[1] = NULL;
    assert_non_null(out = gh_host_table.out_new());
    assert_kv(store_kv_get_many(f->c, &f->call, keys, 4, out), GH_ERR_INVALID);
    assert_null(gh_host_table.out_get(out, "value", 0));
    gh_host_table.out_free(out);
    /* a kv server answers in one round trip; the SQL table is no server */
    assert_int_equal(store_kv_batched(f->c), cur->kv_plugin != NULL);
}

/* Version stamps: renewed once the transaction commits, never after a
 * rollback, at once outside one; put back by a reader only where none is.
 * Only a kv server keeps them: elsewhere nothing is written. */
static void test_stamps(void **state)
{
    kvfx *f = *state;
    const char *key = K(f, "stamp");
    char v0[64], v1[64], v2[64], fresh[STORE_STAMP_LEN + 1];
    int server = cur->kv_plugin != NULL;

    store_stamp_renew(f->c, &f->call, key);
    assert_kv(get_text(f, "stamp", v0, sizeof v0), server ? GH_OK : GH_ERR_NOT_FOUND);
    if (!server) {
        assert_kv(store_stamp_ensure(f->c, &f->call, key, fresh), GH_OK);
        return; /* the SQL table: a reader's SET NX works, nothing renews */
    }
    assert_int_equal(strlen(v0), STORE_STAMP_LEN);
    assert_kv(store_begin(f->c, &f->call), GH_OK);
    store_stamp_renew(f->c, &f->call, key);
    store_stamp_renew(f->c, &f->call, key); /* twice: once */
    assert_kv(get_text(f, "stamp", v1, sizeof v1), GH_OK);
    assert_string_equal(v1, v0); /* not before the commit */
    assert_kv(store_commit(f->c, &f->call), GH_OK);
    assert_kv(get_text(f, "stamp", v1, sizeof v1), GH_OK);
    assert_string_not_equal(v1, v0);
    assert_kv(store_begin(f->c, &f->call), GH_OK);
    store_stamp_renew(f->c, &f->call, key);
    assert_kv(store_rollback(f->c, &f->call), GH_OK);
    assert_kv(get_text(f, "stamp", v2, sizeof v2), GH_OK);
    assert_string_equal(v2, v1); /* nothing committed, nothing renewed */
    assert_kv(store_stamp_ensure(f->c, &f->call, key, fresh), GH_ERR_CONFLICT);
    assert_kv(del(f, "stamp"), GH_OK);
    assert_kv(store_stamp_ensure(f->c, &f->call, key, fresh), GH_OK);
    assert_kv(get_text(f, "stamp", v2, sizeof v2), GH_OK);
    assert_string_equal(v2, fresh);
}

/* -------------------------------------------------------------------- incr */

static void test_incr(void **state)
{
    kvfx *f = *state;
    int64_t v = 0;
    char buf[64];

    assert_kv(incr(f, "n", 5, 0, &v), GH_OK);
    assert_int_equal(v, 5); /* a new key starts at 0 */
    assert_kv(incr(f, "n", -7, 0, &v), GH_OK);
    assert_int_equal(v, -2);
    assert_kv(incr(f, "n", 0, 0, &v), GH_OK);
    assert_int_equal(v, -2);
    assert_kv(get_text(f, "n", buf, sizeof(buf)), GH_OK);
    assert_string_equal(buf, "-2"); /* decimal text on every backend */
    assert_kv(incr(f, "n", 3, 0, NULL), GH_OK); /* no result wanted */
    assert_kv(get_text(f, "n", buf, sizeof(buf)), GH_OK);
    assert_string_equal(buf, "1");

    /* a counter set as text counts on from it */
    assert_kv(set(f, "t", "41", 0, 0), GH_OK);
    assert_kv(incr(f, "t", 1, 0, &v), GH_OK);
    assert_int_equal(v, 42);

    /* overflow is refused and changes nothing */
    assert_kv(set(f, "big", "9223372036854775807", 0, 0), GH_OK);
    assert_kv(incr(f, "big", 1, 0, &v), GH_ERR_INVALID);
    assert_kv(get_text(f, "big", buf, sizeof(buf)), GH_OK);
    assert_string_equal(buf, "9223372036854775807");
}

static void test_incr_ttl(void **state)
{
    kvfx *f = *state;
    int64_t v = 0;
    char buf[64];

    /* a new key gets the TTL; a live one keeps its expiry */
    assert_kv(incr(f, "rate", 1, 300, &v), GH_OK);
    assert_int_equal(v, 1);
    assert_kv(incr(f, "rate", 1, 60000, &v), GH_OK);
    assert_int_equal(v, 2);
    /* a key with no expiry keeps none, whatever TTL later calls bring */
    assert_kv(incr(f, "plain", 1, 0, &v), GH_OK);
    assert_kv(incr(f, "plain", 1, 300, &v), GH_OK);
    assert_int_equal(v, 2);

    sleep_ms(550);
    assert_kv(get_text(f, "rate", buf, sizeof(buf)), GH_ERR_NOT_FOUND);
    assert_kv(get_text(f, "plain", buf, sizeof(buf)), GH_OK);
    assert_string_equal(buf, "2");
    /* expired: starts again from 0, with the new TTL */
    assert_kv(incr(f, "rate", 1, 300, &v), GH_OK);
    assert_int_equal(v, 1);
    sleep_ms(550);
    assert_kv(exists(f, "rate"), GH_ERR_NOT_FOUND);
}

/* ---------------------------------------------------------------- threads */

#define NTHREADS 4
#define ROUNDS 100

typedef struct peer {
    kvfx *f;
    int idx;
    int rc;
    int wins;
    pthread_t tid;
    char err[512];
} peer;

typedef int (*peer_fn)(peer *p, gh_conn *c, gh_call *call);

typedef struct peer_run {
    peer p[NTHREADS];
    peer_fn fn;
    pthread_barrier_t go;
} peer_run;

static peer_run *run_of(peer *p)
{
    return (peer_run *)((char *)(p - p->idx) - offsetof(peer_run, p));
}

/* A worker thread: its own plugin instances and connection, as in the daemon. */
static void *peer_main(void *v)
{
    peer *p = v;
    peer_run *run = run_of(p);
    gh_conn *c = NULL;
    gh_call call;

    p->rc = -1;
    if (plugins_thread_init(&p->f->base->ps, p->err, sizeof(p->err)) == 0) {
        c = store_thread_open(p->f->base->st, p->err, sizeof(p->err));
        if (c == NULL)
            plugins_thread_fini(&p->f->base->ps);
    }
    pthread_barrier_wait(&run->go); /* all start together, to race */
    if (c == NULL)
        return NULL;
    call_init(&call, NULL, "peer", 30000);
    p->rc = run->fn(p, c, &call);
    store_thread_close(c);
    plugins_thread_fini(&p->f->base->ps);
    return NULL;
}

static void peers(kvfx *f, peer_fn fn, int *wins)
{
    peer_run *run = calloc(1, sizeof(*run));

    assert_non_null(run);
    run->fn = fn;
    assert_int_equal(pthread_barrier_init(&run->go, NULL, NTHREADS), 0);
    for (int i = 0; i < NTHREADS; i++) {
        run->p[i].f = f;
        run->p[i].idx = i;
        assert_int_equal(pthread_create(&run->p[i].tid, NULL, peer_main, &run->p[i]), 0);
    }
    *wins = 0;
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_join(run->p[i].tid, NULL), 0);
    pthread_barrier_destroy(&run->go);
    for (int i = 0; i < NTHREADS; i++) {
        if (run->p[i].rc != 0) {
            char msg[600];

            snprintf(msg, sizeof(msg), "%s", run->p[i].err);
            free(run);
            fail_msg("thread %d failed: %s", i, msg);
        }
        *wins += run->p[i].wins;
    }
    free(run);
}

/* Keys for helper threads: made before they start (K is not thread-safe). */
static const char *round_key[ROUNDS];

static int peer_incr(peer *p, gh_conn *c, gh_call *call)
{
    for (int i = 0; i < ROUNDS; i++) {
        /* half the threads bring a TTL: a live key must keep counting */
        int64_t ttl = p->idx % 2 ? 60000 : 0;
        gh_result r = store_kv_incr(c, call, round_key[0], 1, ttl, NULL);

        if (r != GH_OK) {
            snprintf(p->err, sizeof(p->err), "incr %d: %s", i, call->message);
            return -1;
        }
    }
    return 0;
}

static void test_incr_concurrent(void **state)
{
    kvfx *f = *state;
    char buf[64];
    int wins;

    round_key[0] = K(f, "shared");
    peers(f, peer_incr, &wins);
    assert_kv(get_text(f, "shared", buf, sizeof(buf)), GH_OK);
    assert_int_equal(atoi(buf), NTHREADS * ROUNDS);
}

static int peer_set_nx(peer *p, gh_conn *c, gh_call *call)
{
    char val[8];

    snprintf(val, sizeof(val), "%d", p->idx);
    for (int i = 0; i < ROUNDS; i++) {
        gh_result r = store_kv_set(c, call, round_key[i], val, strlen(val), 60000, GH_KV_NX);

        if (r == GH_OK)
            p->wins++;
        else if (r != GH_ERR_CONFLICT) {
            snprintf(p->err, sizeof(p->err), "set NX %d: %s", i, call->message);
            return -1;
        }
    }
    return 0;
}

static int peer_take(peer *p, gh_conn *c, gh_call *call)
{
    for (int i = 0; i < ROUNDS; i++) {
        gh_result r = store_kv_del(c, call, round_key[i]);

        if (r == GH_OK)
            p->wins++;
        else if (r != GH_ERR_NOT_FOUND) {
            snprintf(p->err, sizeof(p->err), "del %d: %s", i, call->message);
            return -1;
        }
    }
    return 0;
}

/* One winner per key, however many race: set-if-absent, and del as take. */
static void test_nx_and_take_race(void **state)
{
    kvfx *f = *state;
    char name[32];
    int wins;

    for (int i = 0; i < ROUNDS; i++) {
        snprintf(name, sizeof(name), "race%d", i);
        round_key[i] = K(f, name);
    }
    peers(f, peer_set_nx, &wins);
    assert_int_equal(wins, ROUNDS);
    peers(f, peer_take, &wins);
    assert_int_equal(wins, ROUNDS);
    for (int i = 0; i < ROUNDS; i++)
        assert_kv(store_kv_get(f->c, &f->call, round_key[i], NULL), GH_ERR_NOT_FOUND);
}

/* ------------------------------------------------------ Redis plugin only */

/* Load the redis plugin with these options (key, value, ..., NULL): 0, or
 * -1 with err set. */
static int redis_load(char *err, size_t errlen, ...)
{
    char yaml[2048] = "";
    va_list ap;
    fx *f;
    int rc;

    va_start(ap, errlen);
    rc = fx_block_v(yaml, sizeof(yaml), "kv", "redis", ap);
    va_end(ap);
    if (rc != 0)
        fail_msg("the test config does not fit");
    if ((f = fx_load(yaml, err, errlen)) == NULL)
        return -1;
    fx_close(f);
    return 0;
}

/* The test URL with its password replaced by `pw`; *real gets the real
 * one. 0, or -1 when the URL has no user:password@ (servers.sh's have). */
static int url_with_password(char *out, size_t len, const char *pw, char *real, size_t rlen)
{
    const char *url = getenv("GH_TEST_REDIS_URL");
    const char *at = strrchr(url, '@'), *auth = strstr(url, "://");
    const char *colon = auth ? strchr(auth + 3, ':') : NULL;

    if (at == NULL || colon == NULL || colon > at)
        return -1;
    snprintf(out, len, "%.*s:%s%s", (int)(colon - url), url, pw, at);
    snprintf(real, rlen, "%.*s", (int)(at - colon - 1), colon + 1);
    return 0;
}

static void test_redis_options(void **state)
{
    char err[512];

    (void)state;
    assert_int_equal(redis_load(err, sizeof(err), "url", "redis://127.0.0.1:1/0",
                                "tls", "true", NULL), -1);
    assert_non_null(strstr(err, "hiredis >= 1.0"));
    assert_int_equal(redis_load(err, sizeof(err), "url", "rediss://127.0.0.1:1/0", NULL),
                     -1);
    assert_non_null(strstr(err, "hiredis >= 1.0"));
    assert_int_equal(redis_load(err, sizeof(err), "url",
                                "redis://u:Secret-In-Url@127.0.0.1:99999/0", NULL), -1);
    assert_non_null(strstr(err, "port"));
    assert_null(strstr(err, "Secret-In-Url")); /* the url is never echoed */
    assert_int_equal(redis_load(err, sizeof(err), "url", "http://x", NULL), -1);
    assert_int_equal(redis_load(err, sizeof(err), "url", "redis://h/notadb", NULL), -1);
    assert_int_equal(redis_load(err, sizeof(err), "url", "redis://h:6379/0",
                                "command_timeout", "0ms", NULL), -1);
    assert_int_equal(redis_load(err, sizeof(err), NULL), -1);
    assert_non_null(strstr(err, "url"));
    /* good ones */
    assert_int_equal(redis_load(err, sizeof(err), "url", "redis://[::1]:6380/2",
                                "connect_timeout", "250ms", "key_prefix", "", NULL), 0);
    assert_int_equal(redis_load(err, sizeof(err), "url",
                                "unix://:p%40ss@/run/redis/redis.sock?db=3", NULL), 0);
    assert_int_equal(redis_load(err, sizeof(err), "url", "redis://localhost", NULL), 0);
}

/* A wrong password is a configuration error: refused at start-up, and the
 * message names no password. */
static void test_redis_wrong_password(void **state)
{
    char err[512], url[512], real[256], yaml[2048] = "";
    fx *f;

    (void)state;
    if (url_with_password(url, sizeof(url), "Wrong-Password-123", real, sizeof(real)) != 0)
        skip(); /* a Redis without a password */
    assert_int_equal(fx_block(yaml, sizeof(yaml), "kv", "redis", "url", url, NULL), 0);
    if ((f = fx_load(yaml, err, sizeof(err))) == NULL)
        fail_msg("load: %s", err);
    assert_int_equal(fx_connect(f, "test", 10000, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "AUTH"));
    assert_null(strstr(err, "Wrong-Password-123"));
    fx_close(f);

    /* the password option wins over the url's */
    yaml[0] = '\0';
    assert_int_equal(fx_block(yaml, sizeof(yaml), "kv", "redis", "url", url, "password", real,
                              NULL), 0);
    fx_close(fx_open_raw(yaml));
}

/* Nothing listening: start-up goes on, and calls fail at once with
 * UNAVAILABLE instead of waiting. */
static void test_redis_unreachable(void **state)
{
    char yaml[512] = "";
    gh_call call;
    int64_t t0;
    fx *f;

    (void)state;
    assert_int_equal(fx_block(yaml, sizeof(yaml), "kv", "redis", "url", "redis://127.0.0.1:1/0",
                              NULL), 0);
    f = fx_open_raw(yaml);
    t0 = gh_monotonic_ms();
    for (int i = 0; i < 20; i++) {
        call_init(&call, NULL, "test", 10000);
        assert_int_equal(store_kv_set(f->c, &call, "k", "v", 1, 0, 0), GH_ERR_UNAVAILABLE);
        assert_non_null(strstr(call.message, "127.0.0.1:1"));
    }
    assert_true(gh_monotonic_ms() - t0 < 1000);
    fx_close(f);
}

/* A call with no time left does not wait on the network: TIMEOUT at once,
 * and the connection stays usable for the next call. */
static void test_redis_deadline(void **state)
{
    kvfx *f = *state;
    gh_call now;

    assert_kv(set(f, "d", "v", 0, 0), GH_OK);
    call_init(&now, NULL, "test", 0); /* deadline: now */
    assert_int_equal(store_kv_get(f->c, &now, K(f, "d"), NULL), GH_ERR_TIMEOUT);
    assert_non_null(strstr(now.message, "no time left"));
    assert_kv(exists(f, "d"), GH_OK);
}

/* ------------------------------------------------------ asynchronous reads */

/* What get_many_async's callbacks were given, in the order they ran. */
#define ASYNC_MAX 4
typedef struct async_got {
    int calls;
    gh_result r[ASYNC_MAX];
    size_t n[ASYNC_MAX];
    int type[ASYNC_MAX][3];
    char val[ASYNC_MAX][3][16];
} async_got;

static void async_cb(void *arg, gh_result r, const gh_param *v, size_t n)
{
    async_got *g = arg;
    int i = g->calls++;

    assert_true(i < ASYNC_MAX);
    g->r[i] = r;
    g->n[i] = n;
    if (r != GH_OK)
        assert_null(v);
    for (size_t k = 0; r == GH_OK && k < n && k < 3; k++) {
        g->type[i][k] = (int)v[k].type;
        snprintf(g->val[i][k], sizeof g->val[i][k], "%.*s", (int)v[k].len,
                 v[k].data ? (const char *)v[k].data : "");
    }
}

/* One loop for every test: a fixture's connection stays attached to it
 * until the fixture closes, after the test. */
static struct event_base *async_loop;

static struct event_base *async_base(void)
{
    if (async_loop == NULL)
        async_loop = event_base_new();
    assert_non_null(async_loop);
    return async_loop;
}

static void async_guard(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    *(int *)arg = 1;
}

/* Run base until want callbacks have run, or max_ms have passed. */
static void async_wait(struct event_base *base, const async_got *g, int want, long max_ms)
{
    int expired = 0;
    struct timeval tv = { max_ms / 1000, (max_ms % 1000) * 1000 };
    struct event *guard = evtimer_new(base, async_guard, &expired);

    assert_non_null(guard);
    evtimer_add(guard, &tv);
    while (g->calls < want && !expired)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(guard);
}

/* redis-cli with these arguments on the test's Redis; 0 when it ran. */
static int redis_cli(const char *args)
{
    char cmd[1024];
    const char *url = getenv("GH_TEST_REDIS_URL");

    if (snprintf(cmd, sizeof cmd, "redis-cli -u '%s' --no-auth-warning %s >/dev/null", url,
                 args) >= (int)sizeof cmd)
        return -1;
    return system(cmd) == 0 ? 0 : -1;
}

/* Three reads sent in one pass of the loop: each answered, in order, with
 * its values (an absent key NULL); keys are the caller's only during the
 * call. */
static void test_redis_async_values(void **state)
{
    kvfx *f = *state;
    struct event_base *base = async_base();
    char k0[128];
    const char *keys[3] = { k0, K(f, "a2"), K(f, "a1") };
    async_got g = { 0 };

    assert_true(store_kv_async(f->c));
    assert_kv(set(f, "a1", "one", 0, 0), GH_OK);
    assert_kv(set(f, "a2", "two", 0, 0), GH_OK);
    snprintf(k0, sizeof k0, "%s", K(f, "a1"));
    for (int i = 0; i < 3; i++) {
        assert_kv(store_kv_get_many_async(f->c, &f->call, base, keys, 3, async_cb, &g), GH_OK);
        snprintf(k0, sizeof k0, "%s", K(f, i == 0 ? "absent" : "a2")); /* borrowed: reuse */
    }
    assert_int_equal(g.calls, 0); /* never from the call itself */
    async_wait(base, &g, 3, 5000);
    assert_int_equal(g.calls, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(g.r[i], GH_OK);
        assert_int_equal(g.n[i], 3);
        assert_int_equal(g.type[i][1], GH_T_BYTES);
        assert_string_equal(g.val[i][1], "two");
        assert_string_equal(g.val[i][2], "one");
    }
    assert_string_equal(g.val[0][0], "one");
    assert_int_equal(g.type[1][0], GH_T_NULL);
    assert_string_equal(g.val[2][0], "two");
    keys[0] = NULL;
    assert_kv(store_kv_get_many_async(f->c, &f->call, base, keys, 3, async_cb, &g),
              GH_ERR_INVALID);
}

/* A connection the server closes (CLIENT KILL) fails nothing that is not
 * on its way, and the next read connects again at once. */
static void test_redis_async_killed(void **state)
{
    kvfx *f = *state;
    struct event_base *base = async_base();
    const char *keys[1] = { K(f, "k1") };
    async_got g = { 0 };

    assert_kv(set(f, "k1", "v", 0, 0), GH_OK);
    assert_kv(store_kv_get_many_async(f->c, &f->call, base, keys, 1, async_cb, &g), GH_OK);
    async_wait(base, &g, 1, 5000);
    assert_int_equal(g.r[0], GH_OK);
    if (redis_cli("CLIENT KILL TYPE normal") != 0)
        skip();
    async_wait(base, &g, 2, 200); /* the loop sees the close */
    assert_int_equal(g.calls, 1);
    assert_kv(store_kv_get_many_async(f->c, &f->call, base, keys, 1, async_cb, &g), GH_OK);
    async_wait(base, &g, 2, 5000);
    assert_int_equal(g.r[1], GH_OK);
    assert_string_equal(g.val[1][0], "v");
}

/* A Redis that answers late (CLIENT PAUSE): the read fails at the call's
 * deadline, not the server's pace, and the connection stays: a read sent
 * next is answered once the server is back, the late answer dropped. */
static void test_redis_async_late(void **state)
{
    kvfx *f = *state;
    struct event_base *base = async_base();
    const char *keys[1] = { K(f, "t1") };
    async_got g = { 0 };
    gh_call soon;
    int64_t t0;

    assert_kv(set(f, "t1", "v", 0, 0), GH_OK);
    if (redis_cli("CLIENT PAUSE 600") != 0)
        skip();
    call_init(&soon, NULL, "test", 100);
    t0 = gh_monotonic_ms();
    assert_int_equal(store_kv_get_many_async(f->c, &soon, base, keys, 1, async_cb, &g), GH_OK);
    async_wait(base, &g, 1, 5000);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.r[0], GH_ERR_UNAVAILABLE);
    assert_non_null(strstr(soon.message, "no answer within"));
    assert_true(gh_monotonic_ms() - t0 < 500);
    assert_kv(store_kv_get_many_async(f->c, &f->call, base, keys, 1, async_cb, &g), GH_OK);
    async_wait(base, &g, 2, 5000);
    assert_int_equal(g.calls, 2);
    assert_int_equal(g.r[1], GH_OK);
    assert_string_equal(g.val[1][0], "v");
}

/* A Redis that does not answer within command_timeout (1 s here): the
 * connection is taken for hung and closed, the op backs off, failing at
 * once without a callback, and later reads again. */
static void test_redis_async_hung(void **state)
{
    kvfx *f = *state;
    struct event_base *base = async_base();
    const char *keys[1] = { K(f, "h1") };
    async_got g = { 0 };
    gh_call soon;

    assert_kv(set(f, "h1", "v", 0, 0), GH_OK);
    if (redis_cli("CLIENT PAUSE 1500") != 0)
        skip();
    call_init(&soon, NULL, "test", 100);
    assert_int_equal(store_kv_get_many_async(f->c, &soon, base, keys, 1, async_cb, &g), GH_OK);
    async_wait(base, &g, 2, 1200); /* one callback, then the connection closes */
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.r[0], GH_ERR_UNAVAILABLE);
    call_init(&soon, NULL, "test", 100);
    assert_int_equal(store_kv_get_many_async(f->c, &soon, base, keys, 1, async_cb, &g),
                     GH_ERR_UNAVAILABLE);
    assert_non_null(strstr(soon.message, "connecting again shortly"));
    sleep_ms(1300); /* the pause and the back-off are over */
    assert_kv(store_kv_get_many_async(f->c, &f->call, base, keys, 1, async_cb, &g), GH_OK);
    async_wait(base, &g, 2, 5000);
    assert_int_equal(g.calls, 2);
    assert_int_equal(g.r[1], GH_OK);
}

/* Nothing listening: the read fails (at once, or in its callback, with
 * UNAVAILABLE), and the next ones fail at once while the op backs off. */
static void test_redis_async_gone(void **state)
{
    char yaml[512] = "";
    struct event_base *base = async_base();
    const char *keys[1] = { "k" };
    async_got g = { 0 };
    gh_call call;
    gh_result r;
    fx *f;

    (void)state;
    assert_int_equal(fx_block(yaml, sizeof(yaml), "kv", "redis", "url", "redis://127.0.0.1:1/0",
                              NULL), 0);
    f = fx_open_raw(yaml);
    call_init(&call, NULL, "test", 1000);
    r = store_kv_get_many_async(f->c, &call, base, keys, 1, async_cb, &g);
    if (r == GH_OK) {
        async_wait(base, &g, 1, 5000);
        assert_int_equal(g.calls, 1);
        assert_int_equal(g.r[0], GH_ERR_UNAVAILABLE);
    } else {
        assert_int_equal(r, GH_ERR_UNAVAILABLE);
    }
    assert_non_null(strstr(call.message, "127.0.0.1:1"));
    call_init(&call, NULL, "test", 1000);
    assert_int_equal(store_kv_get_many_async(f->c, &call, base, keys, 1, async_cb, &g),
                     GH_ERR_UNAVAILABLE);
    assert_int_equal(g.calls, r == GH_OK ? 1 : 0);
    fx_close(f);
}

/* ------------------------------------------------------------------ main */

/* The server url of b with its path replaced by /db. */
static int server_url(const backend *b, const char *db, char *out, size_t len)
{
    const char *url = getenv(b->sql_env), *auth = strstr(url, "://");
    size_t base;

    if (auth == NULL)
        return -1;
    base = (size_t)(auth + 3 - url) + strcspn(auth + 3, "/?");
    return (size_t)snprintf(out, len, "%.*s/%s", (int)base, url, db) < len ? 0 : -1;
}

/* Run one statement on b's admin database (CREATE or DROP DATABASE). */
static int on_server(const backend *b, const char *sql)
{
    char url[1024], err[512] = "", yaml[2048] = "";
    fx *f;
    int rc = -1;

    if (server_url(b, b->admin_db, url, sizeof(url)) != 0 ||
        fx_block(yaml, sizeof(yaml), "storage", b->sql_plugin, "url", url, NULL) != 0)
        return -1;
    if ((f = fx_load(yaml, err, sizeof(err))) != NULL &&
        fx_connect(f, "test", 30000, err, sizeof(err)) == 0) {
        rc = store_exec_script(f->c, &f->call, sql) == GH_OK ? 0 : -1;
        if (rc != 0)
            snprintf(err, sizeof(err), "%s", f->call.message);
    }
    if (rc != 0)
        fprintf(stderr, "%s: %s: %s\n", b->name, sql, err);
    fx_close(f);
    return rc;
}

/* Run the suite on b; the number of failures. */
static int run_backend(const backend *b, const struct CMUnitTest *tests, size_t n)
{
    char db[64], sql[128];
    int failed;

    cur = b;
    printf("# kv on %s\n", b->name);
    fflush(stdout);
    if (b->sql_env == NULL)
        return _cmocka_run_group_tests(b->name, tests, n, NULL, NULL);
    snprintf(db, sizeof(db), "ghkv_%ld_%d", (long)getpid(), rand() % 1000000);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
    if (server_url(b, db, sql_url, sizeof(sql_url)) != 0 || on_server(b, sql) != 0) {
        printf("FAIL %s: cannot make a test database\n", b->name);
        return 1;
    }
    failed = _cmocka_run_group_tests(b->name, tests, n, NULL, NULL);
    snprintf(sql, sizeof(sql), "DROP DATABASE %s", db);
    if (on_server(b, sql) != 0)
        failed++;
    return failed;
}

static int plugin_built(const char *name)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/%s.so", getenv("GATEHOUSE_PLUGIN_DIR"), name);
    return access(path, R_OK) == 0;
}

/* 1 run, 0 skip, -1 fail (a server the environment must have is missing) */
static int available(const backend *b)
{
    const char *env = b->kv_env ? b->kv_env : b->sql_env;
    const char *require = getenv("GH_TEST_REQUIRE_SERVERS");
    const char *plugin = b->kv_plugin ? b->kv_plugin : b->sql_plugin;

    if (!plugin_built(plugin)) {
        printf("SKIP %s: the %s plugin is not built\n", b->name, plugin);
        fflush(stdout);
        return 0;
    }
    if (env != NULL && (getenv(env) == NULL || *getenv(env) == '\0')) {
        if (require != NULL && strcmp(require, "1") == 0) {
            printf("FAIL %s: %s is not set and GH_TEST_REQUIRE_SERVERS=1\n", b->name, env);
            fflush(stdout);
            return -1;
        }
        printf("SKIP %s: %s is not set\n", b->name, env);
        fflush(stdout);
        return 0;
    }
    return 1;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest conformance[] = {
        T(test_get_set_del),
        T(test_binary_values),
        T(test_large_values),
        T(test_set_nx),
        T(test_ttl_expiry),
        T(test_any),
        T(test_get_many),
        T(test_stamps),
        T(test_incr),
        T(test_incr_ttl),
        T(test_incr_concurrent),
        T(test_nx_and_take_race),
    };
    const struct CMUnitTest redis_only[] = {
        cmocka_unit_test(test_redis_options),
        cmocka_unit_test(test_redis_wrong_password),
        cmocka_unit_test(test_redis_unreachable),
        T(test_redis_deadline),
        T(test_redis_async_values),
        T(test_redis_async_killed),
        T(test_redis_async_late),
        T(test_redis_async_hung),
        cmocka_unit_test(test_redis_async_gone),
    };
    gh_log_conf quiet = { .level = GH_LOG_ERROR };
    int failed = 0;
    DIR *d;
    struct dirent *e;

    if (getenv("GATEHOUSE_PLUGIN_DIR") == NULL) {
        fprintf(stderr, "GATEHOUSE_PLUGIN_DIR is not set (make check sets it)\n");
        return 1;
    }
    /* a Redis that goes away mid-write must not kill the test (the daemon
     * ignores SIGPIPE the same way) */
    signal(SIGPIPE, SIG_IGN);
    log_configure(&quiet); /* expected failures log warnings */
    srand((unsigned)(time(NULL) ^ getpid()));
    snprintf(redis_prefix, sizeof(redis_prefix), "gatehouse-test-%ld-%d:", (long)getpid(),
             rand() % 1000000);
    if (mkdtemp(tmpdir) == NULL || chdir(tmpdir) != 0)
        return 1;

    for (size_t i = 0; i < NBACKENDS; i++) {
        int a = available(&backends[i]);

        if (a < 0)
            failed++;
        if (a <= 0)
            continue;
        failed += run_backend(&backends[i], conformance,
                              sizeof(conformance) / sizeof(conformance[0]));
        if (cur->kv_plugin && strcmp(cur->kv_plugin, "redis") == 0)
            failed += cmocka_run_group_tests_name("redis plugin", redis_only, NULL, NULL);
    }

    d = opendir(".");
    while (d != NULL && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            unlink(e->d_name);
    if (d != NULL)
        closedir(d);
    if (chdir("/") == 0)
        rmdir(tmpdir);
    if (async_loop != NULL)
        event_base_free(async_loop);
    host_global_cleanup();
    return failed ? 1 : 0;
}
