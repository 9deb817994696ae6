/*
 * store.h - Gatehouse's persistent state over the storage ABI: the schema,
 * its versioned migrations and every query. Nothing above this file knows
 * which database is behind it.
 *
 * Threading: a gh_store is shared; each worker thread opens its own
 * connection (store_thread_open), which caches its prepared statements.
 * Queries are written once with `?` placeholders; the store rewrites them
 * for the driver's dialect.
 */
#ifndef GH_STORE_H
#define GH_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <gatehouse/plugin.h>
#include "call.h"
#include "plugin/loader.h"

typedef struct gh_store gh_store;
typedef struct gh_conn gh_conn;

/* sql: the storage plugin; kv: a kv plugin, or NULL to serve kv from SQL */
gh_store *store_new(const gh_loaded *sql, const gh_loaded *kv);
void store_free(gh_store *st);

/* This thread's connection; plugins_thread_init must have run here first.
 * One per thread. Close it before plugins_thread_fini: closing finalizes
 * the cached statements and rolls back a transaction left open. */
gh_conn *store_thread_open(gh_store *st, char *err, size_t errlen);
void store_thread_close(gh_conn *c);
gh_conn *store_current(void); /* the calling thread's, or NULL */

/* Bring the schema to the newest version, each step in one transaction.
 * *applied gets how many ran. Safe to run by several instances at once. */
int store_migrate(gh_conn *c, int *applied, char *err, size_t errlen);
/* 0 for a fresh database (the empty bookkeeping table is created then). */
int store_schema_version(gh_conn *c, int *version);
int store_latest_version(void);

/* Give back what this connection caches, when its thread goes idle, if
 * the driver has a release_memory op. Only SQLite keeps a cache in our
 * memory (its page cache, and there is one per thread); a server database
 * keeps its own. */
void store_release_memory(gh_conn *c);

/* A cheap round trip, for /health/ready. */
gh_result store_ping(gh_conn *c, gh_call *call);
/* Plugin p's health op (GH_OK when it has none), on this thread's
 * connection: for the SQL and kv plugins, under the connection policy, so
 * readiness recovers with the server even without other traffic. */
gh_result store_health(gh_conn *c, const gh_loaded *p, gh_call *call);

/* Run one statement. For each row, row_cb (may be NULL) gets the columns,
 * valid during the callback only; a non-zero return from it stops the
 * iteration. *changes (may be NULL) gets the rows written. A unique or
 * foreign key violation is GH_ERR_CONFLICT; lock contention is
 * GH_ERR_UNAVAILABLE; call->message says why (it never holds bound values).
 *
 * In every store_* function `call` may be NULL: the store makes one up. */
typedef int (*gh_row_cb)(void *ud, const gh_param *cols, uint32_t ncols);
gh_result store_exec(gh_conn *c, gh_call *call, const char *sql,
                     const gh_param *args, size_t nargs,
                     gh_row_cb row_cb, void *ud, int64_t *changes);
/* A write inside a transaction whose rows and count the caller does not
 * need: with a driver that can (gh_storage_ops.defer), it is sent with the
 * transaction's next statement or its commit, in one round trip with it.
 * Its failure is then the answer of that statement or commit, and the
 * transaction can only roll back: use it for writes that fail only when
 * everything does (no unique key a caller could take). Outside a
 * transaction, or with a driver that cannot, it runs at once. */
gh_result store_exec_deferred(gh_conn *c, gh_call *call, const char *sql,
                              const gh_param *args, size_t nargs);
/* Transactions nest flatly: an inner begin/commit joins the outer
 * transaction; an inner rollback makes the outer commit roll back and
 * return GH_ERR_CONFLICT. Rollback outside a transaction is a no-op. */
gh_result store_begin(gh_conn *c, gh_call *call);
gh_result store_commit(gh_conn *c, gh_call *call);
gh_result store_rollback(gh_conn *c, gh_call *call);
/* A read snapshot (drivers that declare GH_STORAGE_SNAPSHOTS, SQLite;
 * elsewhere a no-op): the statements until
 * store_read_end see one state of the database and take its locks once.
 * Writes inside one are refused (store_begin fails). Joins a transaction
 * already open; ending one that is not open is a no-op. */
gh_result store_read_begin(gh_conn *c, gh_call *call);
void store_read_end(gh_conn *c, gh_call *call);
/* Shared snapshots, for an event loop's connection: with sharing on,
 * store_read_end leaves the snapshot open for the next reads, until
 * store_read_flush ends it (the loop does, after each pass over its ready
 * connections). A write this process may have committed since the
 * snapshot began ends it at the next store_read_begin, so nothing a
 * client was told through this process is ever read as undone. */
void store_read_share(gh_conn *c, int on);
void store_read_flush(gh_conn *c);

/* Version stamps: key (a kv key) gets a new random value once the
 * transaction in progress has committed, at once when none is open, and
 * never when it rolls back. A cache on any instance that keeps what it
 * read under the stamp's value as it was before the read then misses:
 * read the stamp, then the data; change the data, then the stamp. Only
 * with a kv server (store_kv_batched), where such caches live; a failure
 * is logged and the caches' own age limit covers it. */
void store_stamp_renew(gh_conn *c, gh_call *call, const char *key);
/* A reader that found no stamp under key puts one there, unless another
 * did first (GH_ERR_CONFLICT): GH_OK, and value is the stamp, under which
 * what it reads next may be cached. */
#define STORE_STAMP_LEN 32
gh_result store_stamp_ensure(gh_conn *c, gh_call *call, const char *key,
                             char value[STORE_STAMP_LEN + 1]);

/* Key-value with TTL (ttl_ms <= 0: none): the kv plugin if configured,
 * else the kv table, a built-in backend behind the same gh_kv_ops. An expired key is absent to every operation.
 *  get   GH_ERR_NOT_FOUND when absent; else puts "value" (BYTES) into out
 *        (out may be NULL to ask only whether the key is there)
 *  set   GH_KV_NX: GH_ERR_CONFLICT when the key is there
 *  incr  atomic; an absent key starts at 0 with ttl_ms, a live one keeps
 *        its expiry; the value is kept as decimal text
 *  del   GH_ERR_NOT_FOUND when absent, so it doubles as an atomic "take" */
gh_result store_kv_get(gh_conn *c, gh_call *call, const char *key, gh_out *out);
/* GH_OK when key1 or key2 is there, else GH_ERR_NOT_FOUND */
gh_result store_kv_any(gh_conn *c, gh_call *call, const char *key1, const char *key2);
/* n keys: puts n "value"s into out, in order, BYTES or NULL (absent). One
 * round trip where the backend can (store_kv_batched), else n gets. */
gh_result store_kv_get_many(gh_conn *c, gh_call *call, const char *const *keys, size_t n,
                            gh_out *out);
/* Whether one of store_kv_get_many's values says its key is there: a
 * value, or no answer for it at all, which a deny-list check must take
 * as there (refuse rather than allow). */
static inline int store_kv_there(const gh_param *v)
{
    return v == NULL || v->type != GH_T_NULL;
}
/* A kv get as a scalar subquery, for the select list of another SQL
 * statement (its parameters: the key, then gh_now_ms(); NULL when the key
 * is absent), so that the read rides with a statement made anyway: when
 * kv is the SQL store's table. NULL when kv is a plugin: ask it. */
const char *store_kv_sql_value(gh_conn *c);
/* 1 when store_kv_get_many is one round trip of a shared kv server: a
 * check of several keys then costs what one does */
int store_kv_batched(gh_conn *c);
/* 1 when c's kv plugin can read many keys without blocking an event loop
 * (gh_kv_ops.get_many_async, ABI 1.3) */
int store_kv_async(gh_conn *c);
/* store_kv_get_many from an event loop, answered later on base's loop:
 * the op's contract (plugin.h). call names the kv plugin in the messages
 * the plugin fails it with, until cb has run. */
gh_result store_kv_get_many_async(gh_conn *c, gh_call *call, struct event_base *base,
                                  const char *const *keys, size_t n, gh_kv_many_cb cb,
                                  void *arg);
gh_result store_kv_set(gh_conn *c, gh_call *call, const char *key, const void *val,
                       size_t len, int64_t ttl_ms, uint32_t flags);
gh_result store_kv_incr(gh_conn *c, gh_call *call, const char *key, int64_t delta,
                        int64_t ttl_ms, int64_t *result);
gh_result store_kv_del(gh_conn *c, gh_call *call, const char *key);
/* Delete expired kv rows (SQL kv only; 0 for a kv plugin, which expires
 * keys itself); returns rows removed or -1. */
int64_t store_kv_purge(gh_conn *c, gh_call *call);

/* The driver's dialect: "sqlite", "postgres", "mysql". It only picks SQL
 * text (migrations, kv upserts); what a driver can do is in its flags. */
const char *store_dialect(const gh_conn *c);
/* 1 when no store call can wait on a network: a driver that declares
 * GH_STORAGE_LOCAL (SQLite), with kv served by SQL too. Then a short read
 * may run on an event loop (api/job.c). */
int store_is_local(const gh_store *st);
/* 1 when kv is a server that reads many keys in one round trip
 * (store_kv_batched, for a store rather than a connection). */
int store_kv_server(const gh_store *st);

/* Run SQL without parameters or rows (DDL; several statements allowed). */
gh_result store_exec_script(gh_conn *c, gh_call *call, const char *sql);

/* Statement cache counters: statements prepared, and lookups served from
 * the cache (for tests and /metrics). */
void store_cache_stats(const gh_conn *c, uint64_t *prepared, uint64_t *hits);

/* `?` -> $1, $2, ... outside quotes and comments, for GH_PH_DOLLAR drivers.
 * Returns malloc'd text or NULL (exposed for tests). */
char *store_sql_dollar(const char *sql);

/* ---- For core/store's own files only (kv.c, migrations.c). ---- */

/* The kv plugin, or NULL when kv is served by SQL. */
const gh_loaded *store_kv_plugin(const gh_conn *c);

/* The connection policy (store.c) for the kv plugin: store_kv_ready
 * before each of its ops (connects again when needed and allowed),
 * store_kv_check with each op's result (drops a connection found lost). */
gh_result store_kv_ready(gh_conn *c, gh_call *call);
void store_kv_check(gh_conn *c, gh_call *call, gh_result r);

/* A plugin op runs in that plugin's name: call_result() (plugin/loader.h)
 * counts its errors and logs them in its name. store_op_begin lends the caller's
 * call (or a local one when call is NULL) to p; store_op_end gives it back,
 * passing a failure through call_result() when `count` is set. */
typedef struct store_op {
    gh_call *call;
    const gh_loaded *saved;
    gh_call local;
} store_op;
gh_call *store_op_begin(store_op *op, gh_call *call, const gh_loaded *p);
gh_result store_op_end(store_op *op, gh_result r, int count);

#endif
