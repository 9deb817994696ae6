/*
 * test_sqlite.c - the SQLite driver's own behaviour through the store:
 * pragmas, a busy database, shared read snapshots, its options and its
 * checkpointer.
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

    call_init(&call, NULL, "peer", 10000);
    if (tenant_row(c, &call, "t-late", "late", 0) != GH_OK) {
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
    fx *f;
    char err[512];
    text_ud t;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if ((f = sfx_load(err, sizeof(err), bad[i][0], bad[i][1], NULL)) != NULL)
            fail_msg("%s: %s was accepted", bad[i][0], bad[i][1]);
        if (strstr(err, bad[i][0]) == NULL)
            fail_msg("error for %s does not name it: %s", bad[i][0], err);
    }

    /* no options at all: gatehouse.db in the working directory, WAL */
    assert_non_null(f = sfx_load(err, sizeof(err), NULL));
    sfx_connect(f, "test", 10000);
    assert_string_equal(query_text(f, "PRAGMA journal_mode", &t), "wal");
    assert_int_equal(access("gatehouse.db", F_OK), 0);
    fx_close(f);

    /* checkpoint_pages: once the WAL holds that many pages the checkpointer
     * copies them into the database file (no automatic checkpoint is left to
     * do it), and nothing is lost. How far the file grows depends on when the
     * checkpointer runs, but not below this: each round copies the whole WAL,
     * the next commit starts it over, and a commit that leaves it at 100
     * pages or more asks for another round. So once the checkpointer is idle
     * fewer than 100 pages (400 KB) of the 1.6 MB written are still only in
     * the WAL, which puts the file above 1.2 MB. */
    assert_non_null(f = sfx_load(err, sizeof(err), "path", "ckpt.db", "checkpoint_pages", "100",
                                 NULL));
    sfx_connect(f, "test", 10000);
    assert_int_equal(store_exec(f->c, &f->call, "CREATE TABLE blobs (b BLOB)", NULL, 0, NULL, NULL,
                                NULL), GH_OK);
    insert_blobs(f, 100);
    struct stat sb = { 0 };
    for (int i = 0; i < 1000 && (stat("ckpt.db", &sb) != 0 || sb.st_size < 1100 * 1024); i++)
        usleep(10000);
    if (sb.st_size < 1100 * 1024)
        fail_msg("no checkpoint: ckpt.db is %lld bytes after 1.6 MB of writes",
                 (long long)sb.st_size);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM blobs"), 100);
    fx_close(f);

    /* a checkpointer that cannot open the database leaves the commits to
     * checkpoint it themselves: the file is renamed away before the first
     * wake-up, so the open of its old name fails (this connection goes on
     * with the file it has). 100 rows committed after the failure are 400
     * pages: the renamed file must grow by all but the 100 the WAL may
     * keep. */
    assert_non_null(f = sfx_load(err, sizeof(err), "path", "fallback.db", "checkpoint_pages",
                                 "100", NULL));
    sfx_connect(f, "test", 10000);
    assert_int_equal(store_exec(f->c, &f->call, "CREATE TABLE blobs (b BLOB)", NULL, 0, NULL, NULL,
                                NULL), GH_OK);
    assert_int_equal(rename("fallback.db", "fallback-moved.db"), 0);
    insert_blobs(f, 40); /* past 100 pages: the checkpointer starts, and fails */
    assert_int_equal(stat("fallback-moved.db", &sb), 0);
    off_t before = sb.st_size;
    /* rounds of 100 rows until the thread has failed (at once, but a
     * loaded machine may not run it for a while); without the fallback
     * the file never grows and all rounds fail */
    int rounds = 0;
    do {
        usleep(100000);
        insert_blobs(f, 100);
        rounds++;
        assert_int_equal(stat("fallback-moved.db", &sb), 0);
    } while (sb.st_size - before < 1100 * 1024 && rounds < 20);
    if (sb.st_size - before < 1100 * 1024)
        fail_msg("no inline checkpoint: the file grew by %lld bytes with %d MB written",
                 (long long)(sb.st_size - before), rounds * 16 / 10);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM blobs"), 40 + 100 * rounds);
    fx_close(f);

    /* journal: delete and synchronous: full are honoured */
    assert_non_null(f = sfx_load(err, sizeof(err), "path", "delete.db", "journal", "delete",
                                 "synchronous", "full", NULL));
    sfx_connect(f, "test", 10000);
    assert_string_equal(query_text(f, "PRAGMA journal_mode", &t), "delete");
    assert_int_equal(query_int(f, "PRAGMA synchronous"), 2);
    fx_close(f);

    /* a file that cannot be opened fails thread_init, naming it */
    assert_non_null(f = sfx_load(err, sizeof(err), "path", "no/such/dir/x.db", NULL));
    assert_int_equal(plugins_thread_init(&f->ps, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no/such/dir/x.db"));
    fx_close(f);
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        T(test_pragmas),
        T(test_busy_is_unavailable),
        T(test_shared_snapshot),
        cmocka_unit_test(test_options),
    };
    static const sfx_group groups[] = { SFX_GROUP("sqlite", "sqlite", tests) };

    return sfx_main(groups, 1);
}
