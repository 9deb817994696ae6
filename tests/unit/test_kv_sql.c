/*
 * test_kv_sql.c - the built-in kv backend (core/store/kv_sql.c) on the
 * SQL store of every backend the environment offers: values, TTLs and NX,
 * counters, purging, a get riding in another statement, and the store
 * handing kv to a plugin instead. The
 * kv conformance suite shared with Redis is test_kv.c.
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
#include "store/row.h"
#include "store/store.h"
#include "store_backends.h"

#define T(fn) cmocka_unit_test_setup_teardown(fn, sfx_setup, sfx_teardown)
#define T_RAW(fn) cmocka_unit_test_setup_teardown(fn, sfx_setup_raw, sfx_teardown)

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

/* the value store_kv_sql_value's subquery selects for key, as text
 * ("(null)" for SQL NULL) */
static const char *kv_in_select(fx *f, const char *key, text_ud *ud)
{
    const char *sub = store_kv_sql_value(f->c);
    int64_t now = gh_now_ms();
    gh_param args[2] = { p_str(key), p_int(&now) };
    cols_ud got = { 0 };
    char sql[256];

    assert_non_null(sub);
    snprintf(sql, sizeof sql, "SELECT %s, 1", sub);
    assert_int_equal(store_exec(f->c, &f->call, sql, args, 2, cols_row, &got, NULL), GH_OK);
    assert_int_equal(got.rows, 1);
    if (got.p[0].type == GH_T_NULL)
        snprintf(ud->buf, sizeof ud->buf, "(null)");
    else if (got.p[0].type == GH_T_STR)
        snprintf(ud->buf, sizeof ud->buf, "%s", got.str);
    else
        snprintf(ud->buf, sizeof ud->buf, "%.*s", (int)got.p[0].len, (const char *)got.bytes);
    return ud->buf;
}

/* A get as a subquery of another statement sees what store_kv_get sees:
 * the value, and nothing for an absent or expired key. */
static void test_kv_in_select(void **state)
{
    fx *f = *state;
    text_ud ud;

    assert_string_equal(kv_in_select(f, "k", &ud), "(null)");
    assert_int_equal(kv_set(f, "k", "v1", 1000, 0), GH_OK);
    assert_string_equal(kv_in_select(f, "k", &ud), "v1");
    assert_string_equal(kv_in_select(f, "other", &ud), "(null)");
    advance(f, 1000);
    assert_string_equal(kv_in_select(f, "k", &ud), "(null)");
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
    /* nothing went to the SQL kv table, and no SQL can read the plugin */
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM kv"), 0);
    assert_null(store_kv_sql_value(c));

    store_thread_close(c);
    store_free(st);
    assert_non_null(f->c = store_thread_open(f->st, err, sizeof(err)));
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        T(test_kv_basic),
        T(test_kv_ttl_and_nx),
        T(test_kv_in_select),
        T(test_kv_incr),
        T(test_kv_incr_concurrent),
        T(test_kv_purge),
        T(test_kv_plugin),
    };
    static const sfx_group groups[] = { SFX_GROUP(NULL, "kv-sql", tests) };

    return sfx_main(groups, 1);
}
