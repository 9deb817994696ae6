/*
 * kv_sql.c - the built-in kv backend: the kv table of the SQL store, behind
 * the same gh_kv_ops as a kv plugin (Redis). Its thread instance is the
 * thread's store connection; it has no instance of its own.
 *
 * Expiry is by the daemon's clock (gh_now_ms(), which tests move): an
 * expired row is treated as absent by every operation and removed later by
 * purge, so reads never write.
 *
 * Counters are stored as decimal text, as Redis stores them, so a value
 * read back with get looks the same whichever backend is configured.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "store/kv.h"
#include "store/row.h"
#include "clock.h"
#include "out.h"

/* The expiry of a key set now with ttl_ms; 0 for none. Saturates instead of
 * overflowing on absurd TTLs. */
static int64_t expiry(int64_t now, int64_t ttl_ms)
{
    if (ttl_ms <= 0)
        return 0;
    return ttl_ms > INT64_MAX - now ? INT64_MAX : now + ttl_ms;
}

/* an expiry column: NULL for none */
static gh_param p_expiry(const int64_t *at)
{
    return *at ? p_int(at) : (gh_param){ NULL, GH_T_NULL, NULL, 0 };
}

/* ------------------------------------------------------------------ get */

typedef struct kv_get_ud {
    gh_out *out;
    gh_result r;
    int found;
} kv_get_ud;

/* The value is only valid during the callback: put (which copies) here. */
static int kv_get_row(void *vud, const gh_param *cols, uint32_t n)
{
    kv_get_ud *ud = vud;
    gh_param v = { "value", GH_T_BYTES, "", 0 };

    ud->found = 1;
    if (n > 0 && cols[0].type != GH_T_NULL) {
        v.data = cols[0].data;
        v.len = cols[0].len;
    }
    if (ud->out != NULL)
        ud->r = out_put(ud->out, &v);
    return 1;
}

static gh_result kv_sql_get(const void *inst, void *tinst, gh_call *call, const char *key,
                            gh_out *out)
{
    gh_conn *c = tinst;
    int64_t now = gh_now_ms();
    kv_get_ud ud = { out, GH_OK, 0 };
    gh_param args[2];
    gh_result r;

    (void)inst;
    args[0] = p_str(key);
    args[1] = p_int(&now);
    r = store_exec(c, call, KV_SQL_GET, args, 2, kv_get_row, &ud, NULL);
    if (r != GH_OK)
        return r;
    if (ud.r != GH_OK)
        return ud.r;
    return ud.found ? GH_OK : GH_ERR_NOT_FOUND;
}

/* One statement for two keys on SQL: every authenticated request asks
 * whether its session or its token is deny-listed. Two lookups joined by
 * UNION ALL rather than `key IN (?, ?)`: SQLite builds a temporary b-tree
 * for an IN list (and for an OR of equalities) on every run, which was the
 * dearest part of a GET /users/me. */
static gh_result kv_sql_any(const void *inst, void *tinst, gh_call *call, const char *key1,
                            const char *key2)
{
    gh_conn *c = tinst;
    int64_t now = gh_now_ms();
    gh_param args[4];
    kv_get_ud ud = { NULL, GH_OK, 0 }; /* no out: only whether a row came */
    gh_result r;

    (void)inst;
    args[0] = p_str(key1);
    args[1] = p_int(&now);
    args[2] = p_str(key2);
    args[3] = p_int(&now);
    r = store_exec(c, call,
                   "SELECT 1 FROM kv WHERE kv.key = ? AND (expires_at IS NULL OR expires_at > ?) "
                   "UNION ALL "
                   "SELECT 1 FROM kv WHERE kv.key = ? AND (expires_at IS NULL OR expires_at > ?)",
                   args, 4, kv_get_row, &ud, NULL);
    if (r != GH_OK)
        return r;
    return ud.found ? GH_OK : GH_ERR_NOT_FOUND;
}

/* ------------------------------------------------------------------ set */

/* MySQL has no ON CONFLICT. ON DUPLICATE KEY UPDATE cannot make set-if-
 * absent report who won (with CLIENT_FOUND_ROWS, which the driver sets, a
 * row left as it was counts as written), so there NX is two statements,
 * each atomic: remove the key if it has expired, then a plain INSERT, which
 * the primary key lets exactly one racing caller win; the loser's duplicate
 * key is its CONFLICT. VALUES(col) is the row that was to be inserted
 * (MariaDB lacks MySQL 8's INSERT ... AS alias). args: key, value, expiry. */
static gh_result kv_set_mysql(gh_conn *c, gh_call *call, const gh_param *args,
                              const int64_t *now, uint32_t flags)
{
    gh_param del[2];
    gh_result r;

    if (!(flags & GH_KV_NX))
        return store_exec(c, call,
                          "INSERT INTO kv (`key`, value, expires_at) VALUES (?, ?, ?) "
                          "ON DUPLICATE KEY UPDATE "
                          "value = VALUES(value), expires_at = VALUES(expires_at)",
                          args, 3, NULL, NULL, NULL);
    del[0] = args[0];
    del[1] = p_int(now);
    r = store_exec(c, call,
                   "DELETE FROM kv WHERE kv.key = ? "
                   "AND expires_at IS NOT NULL AND expires_at <= ?",
                   del, 2, NULL, NULL, NULL);
    if (r == GH_OK)
        r = store_exec(c, call, "INSERT INTO kv (`key`, value, expires_at) VALUES (?, ?, ?)",
                       args, 3, NULL, NULL, NULL);
    return r;
}

static gh_result kv_sql_set(const void *inst, void *tinst, gh_call *call, const char *key,
                            const void *val, size_t len, int64_t ttl_ms, uint32_t flags)
{
    gh_conn *c = tinst;
    int64_t now = gh_now_ms(), exp = expiry(now, ttl_ms), changed = 0;
    gh_param args[4];
    gh_result r;

    (void)inst;
    args[0] = p_str(key);
    args[1] = (gh_param){ NULL, GH_T_BYTES, val, len };
    args[2] = p_expiry(&exp);
    if (strcmp(store_dialect(c), "mysql") == 0)
        return kv_set_mysql(c, call, args, &now, flags);
    if (!(flags & GH_KV_NX))
        return store_exec(c, call,
                          "INSERT INTO kv (key, value, expires_at) VALUES (?, ?, ?) "
                          "ON CONFLICT (key) DO UPDATE SET "
                          "value = excluded.value, expires_at = excluded.expires_at",
                          args, 3, NULL, NULL, NULL);
    /* Set-if-absent in one statement, so two racing callers cannot both
     * win: the update only happens over an expired row, which counts as
     * absent. No row written means the key was there. */
    args[3] = p_int(&now);
    r = store_exec(c, call,
                   "INSERT INTO kv (key, value, expires_at) VALUES (?, ?, ?) "
                   "ON CONFLICT (key) DO UPDATE SET "
                   "value = excluded.value, expires_at = excluded.expires_at "
                   "WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= ?",
                   args, 4, NULL, NULL, &changed);
    if (r == GH_OK && changed == 0)
        r = GH_ERR_CONFLICT;
    return r;
}

/* ----------------------------------------------------------------- incr */

typedef struct kv_int_ud {
    int64_t value;
    int ok;
} kv_int_ud;

/* A counter reads back as decimal text; anything else (SQLite turns an
 * overflowing sum into a float) is refused. */
static int kv_int_row(void *vud, const gh_param *cols, uint32_t n)
{
    kv_int_ud *ud = vud;
    char buf[32], *end;

    if (n < 1)
        return 1;
    if (cols[0].type == GH_T_INT) {
        ud->value = *(const int64_t *)cols[0].data;
        ud->ok = 1;
    } else if ((cols[0].type == GH_T_STR || cols[0].type == GH_T_BYTES) &&
               cols[0].len > 0 && cols[0].len < sizeof(buf)) {
        memcpy(buf, cols[0].data, cols[0].len);
        buf[cols[0].len] = '\0';
        errno = 0;
        ud->value = strtoll(buf, &end, 10);
        ud->ok = errno == 0 && *end == '\0';
    }
    return 1;
}

/* PostgreSQL has no implicit casts between bytea and text, and its
 * INTEGER is 32 bits: the value goes through its digits (encode 'escape'
 * leaves ASCII digits as they are) into BIGINT and back. A sum that
 * overflows BIGINT is an error (INVALID), which rolls the increment back. */
static const char incr_postgres[] =
    "INSERT INTO kv (key, value, expires_at) "
    "VALUES (?, CAST(CAST(CAST(? AS BIGINT) AS TEXT) AS BYTEA), ?) "
    "ON CONFLICT (key) DO UPDATE SET "
    "value = CASE WHEN kv.expires_at IS NOT NULL AND kv.expires_at <= ? "
    "THEN excluded.value "
    "ELSE CAST(CAST((CASE WHEN encode(kv.value, 'escape') ~ '^[-+]?[0-9]{1,19}$' "
    "THEN CAST(encode(kv.value, 'escape') AS BIGINT) ELSE 0 END) + CAST(? AS BIGINT) "
    "AS TEXT) AS BYTEA) END, "
    "expires_at = CASE WHEN kv.expires_at IS NOT NULL AND kv.expires_at <= ? "
    "THEN excluded.expires_at ELSE kv.expires_at END";

/* MySQL: CAST AS SIGNED is BIGINT, and a sum that overflows it is an error
 * (INVALID), which rolls the increment back. Strict mode makes a cast of
 * anything but digits an error too, so the digits are checked first (as
 * utf8mb4 text: MySQL 8's REGEXP refuses binary strings). */
static const char incr_mysql[] =
    "INSERT INTO kv (`key`, value, expires_at) VALUES (?, CAST(? AS CHAR), ?) "
    "ON DUPLICATE KEY UPDATE "
    "value = CASE WHEN kv.expires_at IS NOT NULL AND kv.expires_at <= ? "
    "THEN VALUES(value) "
    "ELSE CAST((CASE WHEN CONVERT(kv.value USING utf8mb4) REGEXP '^[-+]?[0-9]{1,19}$' "
    "THEN CAST(kv.value AS SIGNED) ELSE 0 END) + ? AS CHAR) END, "
    "expires_at = CASE WHEN kv.expires_at IS NOT NULL AND kv.expires_at <= ? "
    "THEN VALUES(expires_at) ELSE kv.expires_at END";

/* Upsert, then read back, in one transaction. In the upsert the value is
 * assigned before expires_at, so its CASE sees the old expiry on every
 * backend (MySQL evaluates SET left to right with new values). A key that
 * is absent or expired starts from 0 with the new TTL; a live one keeps
 * its expiry. A value that is not a number counts as 0. */
static gh_result kv_incr_sql(gh_conn *c, gh_call *call, const char *key, int64_t delta,
                             int64_t ttl_ms, int64_t *result)
{
    int64_t now = gh_now_ms(), exp = expiry(now, ttl_ms);
    gh_param args[6] = {
        p_str(key), p_int(&delta), p_expiry(&exp), p_int(&now), p_int(&delta), p_int(&now),
    };
    kv_int_ud ud = { 0, 0 };
    gh_result r;

    r = store_exec(c, call, strcmp(store_dialect(c), "postgres") == 0 ? incr_postgres :
                            strcmp(store_dialect(c), "mysql") == 0 ? incr_mysql :
                   "INSERT INTO kv (key, value, expires_at) VALUES (?, CAST(? AS TEXT), ?) "
                   "ON CONFLICT (key) DO UPDATE SET "
                   "value = CASE WHEN kv.expires_at IS NOT NULL AND kv.expires_at <= ? "
                   "THEN excluded.value "
                   "ELSE CAST(CAST(kv.value AS INTEGER) + ? AS TEXT) END, "
                   "expires_at = CASE WHEN kv.expires_at IS NOT NULL AND kv.expires_at <= ? "
                   "THEN excluded.expires_at ELSE kv.expires_at END",
                   args, 6, NULL, NULL, NULL);
    if (r != GH_OK)
        return r;
    r = store_exec(c, call, "SELECT value FROM kv WHERE kv.key = ?", args, 1, kv_int_row, &ud,
                   NULL);
    if (r == GH_OK && !ud.ok)
        r = call_fail(call, GH_ERR_INVALID, "kv incr: the counter overflowed");
    if (r == GH_OK)
        *result = ud.value;
    return r;
}

static gh_result kv_sql_incr(const void *inst, void *tinst, gh_call *call, const char *key,
                             int64_t delta, int64_t ttl_ms, int64_t *result)
{
    gh_conn *c = tinst;
    int64_t value = 0;
    gh_result r;

    (void)inst;
    if ((r = store_begin(c, call)) != GH_OK)
        return r;
    if ((r = kv_incr_sql(c, call, key, delta, ttl_ms, &value)) != GH_OK) {
        store_rollback(c, call);
        return r;
    }
    if ((r = store_commit(c, call)) == GH_OK && result != NULL)
        *result = value;
    return r;
}

/* ------------------------------------------------------------ del, purge */

static gh_result kv_sql_del(const void *inst, void *tinst, gh_call *call, const char *key)
{
    gh_conn *c = tinst;
    int64_t now = gh_now_ms(), changed = 0;
    gh_param args[2];
    gh_result r;

    (void)inst;
    /* an expired row is left to purge: deleting it would report a key
     * that, to every reader, was already gone */
    args[0] = p_str(key);
    args[1] = p_int(&now);
    r = store_exec(c, call,
                   "DELETE FROM kv WHERE kv.key = ? AND (expires_at IS NULL OR expires_at > ?)",
                   args, 2, NULL, NULL, &changed);
    if (r == GH_OK && changed == 0)
        r = GH_ERR_NOT_FOUND;
    return r;
}

static int64_t kv_sql_purge(const void *inst, void *tinst, gh_call *call)
{
    gh_conn *c = tinst;
    int64_t now = gh_now_ms(), removed = 0;
    gh_param arg = p_int(&now);

    (void)inst;
    if (store_exec(c, call, "DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?",
                   &arg, 1, NULL, NULL, &removed) != GH_OK)
        return -1;
    return removed;
}

/* ------------------------------------------------------------ the table */

static const gh_kv_ops kv_sql_ops = {
    .size = sizeof(gh_kv_ops),
    .get = kv_sql_get,
    .set = kv_sql_set,
    .incr = kv_sql_incr,
    .del = kv_sql_del,
};

const kv_driver kv_sql_driver = {
    .ops = &kv_sql_ops,
    .any = kv_sql_any,
    .purge = kv_sql_purge,
};
