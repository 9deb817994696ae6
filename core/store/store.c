/*
 * store.c - per-thread connections over the storage ABI, the prepared
 * statement cache, and running one statement (store_exec).
 *
 * A gh_conn belongs to one worker thread: it holds that thread's instance of
 * the storage plugin and the statements prepared on it, so nothing here
 * locks. Queries are written once with `?` and rewritten to $1..$n for
 * drivers that want them. Every failed storage op goes through
 * call_result(), so /metrics counts the driver's errors and the log gets
 * its message (a constraint violation is an answer, and is not counted).
 *
 * Transactions nest flatly: an inner begin joins the outer transaction, an
 * inner rollback dooms it (the outer commit then rolls back and reports
 * CONFLICT). That lets a service wrap several store calls, some of which
 * (kv incr) open a transaction of their own, without savepoints.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "store/store.h"

/* Enough for every query the core writes; beyond it the least recently
 * used statement is finalized. */
#define STMT_CACHE_MAX 64
/* cols on the stack up to this many columns */
#define COLS_ON_STACK 32
/* deadline for calls the store makes up itself (call == NULL) */
#define LOCAL_CALL_TIMEOUT_MS 60000

typedef struct stmt_slot {
    const char *key;  /* the caller's pointer: the fast path */
    char *sql;        /* our copy of the text: what a hit is checked against */
    uint64_t hash;
    gh_stmt *stmt;
    uint64_t used;    /* LRU tick */
    int busy;         /* in use further up the stack (a row_cb re-entered) */
} stmt_slot;

struct gh_store {
    const gh_loaded *sql;
    const gh_loaded *kv;
};

struct gh_conn {
    gh_store *st;
    const gh_storage_ops *ops;
    void *tinst;
    stmt_slot cache[STMT_CACHE_MAX];
    size_t ncache;
    uint64_t tick, prepared, hits;
    int tx_depth;     /* 0: none; >1: nested begins joined the outer one */
    int tx_doomed;    /* an inner rollback: the outer commit must not */
    int reading;      /* in store_read_begin's transaction: no writes */
    int sharing;      /* store_read_share: snapshots outlive store_read_end */
    uint64_t read_gen; /* writes_gen when the snapshot began */
};

/* Bumped by every write that may have committed, on any connection of
 * this process: a shared snapshot older than the last bump is stale. */
static _Atomic uint64_t writes_gen;

static _Thread_local gh_conn *current;

static int set_err(char *err, size_t errlen, const char *fmt, ...) GH_PRINTF(3, 4);

static int set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* ------------------------------------------------------------ op scope */

gh_call *store_op_begin(store_op *op, gh_call *call, const gh_loaded *p)
{
    if (call == NULL) {
        call_init(&op->local, p, NULL, LOCAL_CALL_TIMEOUT_MS);
        call = &op->local;
    }
    op->call = call;
    op->saved = call->plugin;
    call->plugin = p;
    return call;
}

gh_result store_op_end(store_op *op, gh_result r, int count)
{
    if (r != GH_OK && count)
        r = call_result(op->call, r);
    op->call->plugin = op->saved;
    return r;
}

/* --------------------------------------------------------- open, close */

gh_store *store_new(const gh_loaded *sql, const gh_loaded *kv)
{
    gh_store *st;

    if (sql == NULL || (st = calloc(1, sizeof(*st))) == NULL)
        return NULL;
    st->sql = sql;
    st->kv = kv;
    return st;
}

void store_free(gh_store *st)
{
    free(st);
}

/* Every 1.0 method is required of a driver. Checking the table once here,
 * with GH_OPS_HAS, is the size discipline for all later calls: a table too
 * short or with a hole never gets a connection. */
static int check_storage(const gh_loaded *p, char *err, size_t errlen)
{
    const gh_storage_ops *o = p->desc->ops;

    if (p->desc->kind != GH_KIND_STORAGE || o == NULL)
        return set_err(err, errlen, "plugin '%s' is not a storage driver", p->name);
#define NEED(m)                                                                         \
    if (!GH_OPS_HAS(gh_storage_ops, o, m))                                              \
        return set_err(err, errlen, "storage plugin '%s' lacks the %s method", p->name, #m)
    NEED(exec); NEED(prepare); NEED(bind); NEED(step); NEED(column_count);
    NEED(column); NEED(changes); NEED(reset); NEED(finalize);
    NEED(begin); NEED(commit); NEED(rollback);
#undef NEED
    if (o->dialect == NULL)
        return set_err(err, errlen, "storage plugin '%s' names no dialect", p->name);
    if (o->placeholder != GH_PH_QMARK && o->placeholder != GH_PH_DOLLAR)
        return set_err(err, errlen, "storage plugin '%s': unknown placeholder style %u",
                       p->name, (unsigned)o->placeholder);
    return 0;
}

static int check_kv(const gh_loaded *p, char *err, size_t errlen)
{
    const gh_kv_ops *o = p->desc->ops;

    if (p->desc->kind != GH_KIND_KV || o == NULL)
        return set_err(err, errlen, "plugin '%s' is not a kv plugin", p->name);
#define NEED(m)                                                                         \
    if (!GH_OPS_HAS(gh_kv_ops, o, m))                                                   \
        return set_err(err, errlen, "kv plugin '%s' lacks the %s method", p->name, #m)
    NEED(get); NEED(set); NEED(incr); NEED(del);
#undef NEED
    return 0;
}

gh_conn *store_thread_open(gh_store *st, char *err, size_t errlen)
{
    gh_conn *c;
    void *tinst;

    if (current != NULL) {
        set_err(err, errlen, "store: this thread already has a connection");
        return NULL;
    }
    if (check_storage(st->sql, err, errlen) < 0 ||
        (st->kv != NULL && check_kv(st->kv, err, errlen) < 0))
        return NULL;
    tinst = plugin_tinst(st->sql);
    if (tinst == NULL && st->sql->desc->thread_size > 0) {
        set_err(err, errlen, "storage plugin '%s' is not initialised on this thread",
                st->sql->name);
        return NULL;
    }
    if (st->kv != NULL && st->kv->desc->thread_size > 0 && plugin_tinst(st->kv) == NULL) {
        set_err(err, errlen, "kv plugin '%s' is not initialised on this thread", st->kv->name);
        return NULL;
    }
    if ((c = calloc(1, sizeof(*c))) == NULL) {
        set_err(err, errlen, "store: out of memory");
        return NULL;
    }
    c->st = st;
    c->ops = st->sql->desc->ops;
    c->tinst = tinst;
    current = c;
    return c;
}

/* Must run before plugins_thread_fini closes the driver's connection. */
void store_thread_close(gh_conn *c)
{
    if (c == NULL)
        return;
    store_read_flush(c);
    if (c->tx_depth > 0) {
        c->tx_depth = 1; /* roll all the way back: nobody will commit */
        store_rollback(c, NULL);
    }
    for (size_t i = 0; i < c->ncache; i++) {
        if (c->cache[i].stmt != NULL)
            c->ops->finalize(c->cache[i].stmt);
        free(c->cache[i].sql);
    }
    if (current == c)
        current = NULL;
    free(c);
}

gh_conn *store_current(void)
{
    return current;
}

const char *store_dialect(const gh_conn *c)
{
    return c->ops->dialect;
}

void store_release_memory(gh_conn *c)
{
    gh_call call;

    if (c == NULL || c->tx_depth > 0 || c->reading || strcmp(c->ops->dialect, "sqlite") != 0)
        return;
    call_init(&call, c->st->sql, NULL, LOCAL_CALL_TIMEOUT_MS);
    c->ops->exec(c->tinst, &call, "PRAGMA shrink_memory");
}

int store_is_local(const gh_store *st)
{
    const gh_storage_ops *ops = st->sql->desc->ops;
    return st->kv == NULL && strcmp(ops->dialect, "sqlite") == 0;
}

const gh_loaded *store_kv_plugin(const gh_conn *c)
{
    return c->st->kv;
}

void store_cache_stats(const gh_conn *c, uint64_t *prepared, uint64_t *hits)
{
    if (prepared)
        *prepared = c->prepared;
    if (hits)
        *hits = c->hits;
}

/* ------------------------------------------------------- placeholders */

char *store_sql_dollar(const char *sql)
{
    enum { CODE, QUOTE, IDENT, LINE, BLOCK } state = CODE;
    size_t len = strlen(sql), marks = 0, k = 0;
    char *out, *o;

    for (const char *p = sql; *p; p++)
        marks += *p == '?';
    /* each one-byte `?` becomes `$` and at most 20 digits */
    if ((out = malloc(len + marks * 20 + 1)) == NULL)
        return NULL;
    o = out;
    for (const char *p = sql; *p; p++) {
        switch (state) {
        case CODE:
            if (*p == '?') {
                o += sprintf(o, "$%zu", ++k);
                continue;
            }
            if (*p == '\'')
                state = QUOTE;
            else if (*p == '"')
                state = IDENT;
            else if (p[0] == '-' && p[1] == '-')
                state = LINE;
            else if (p[0] == '/' && p[1] == '*') {
                *o++ = *p++; /* so the `*` cannot also close the comment */
                state = BLOCK;
            }
            break;
        case QUOTE: /* '' inside a string leaves and re-enters: still right */
            if (*p == '\'')
                state = CODE;
            break;
        case IDENT:
            if (*p == '"')
                state = CODE;
            break;
        case LINE:
            if (*p == '\n')
                state = CODE;
            break;
        case BLOCK:
            if (p[0] == '*' && p[1] == '/') {
                *o++ = *p++;
                state = CODE;
            }
            break;
        }
        *o++ = *p;
    }
    *o = '\0';
    return out;
}

/* ----------------------------------------------------- statement cache */

static uint64_t hash_sql(const char *s)
{
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */

    while (*s)
        h = (h ^ (unsigned char)*s++) * 0x100000001b3u;
    return h;
}

/* Callers pass string literals, so the pointer finds the slot without
 * hashing; the text is still compared, because a caller may reuse one
 * buffer for different SQL. *hash is set when the slow path ran (or 0). */
static stmt_slot *cache_find(gh_conn *c, const char *sql, uint64_t *hash)
{
    *hash = 0;
    for (size_t i = 0; i < c->ncache; i++)
        if (c->cache[i].key == sql && c->cache[i].sql && strcmp(c->cache[i].sql, sql) == 0)
            return &c->cache[i];
    *hash = hash_sql(sql);
    for (size_t i = 0; i < c->ncache; i++)
        if (c->cache[i].hash == *hash && c->cache[i].sql && strcmp(c->cache[i].sql, sql) == 0) {
            c->cache[i].key = sql;
            return &c->cache[i];
        }
    return NULL;
}

/* An empty slot, or the least recently used idle one, emptied; NULL when
 * every slot is busy. */
static stmt_slot *cache_slot(gh_conn *c)
{
    stmt_slot *victim = NULL;

    for (size_t i = 0; i < c->ncache; i++)
        if (c->cache[i].sql == NULL) /* left by a failed prepare */
            return &c->cache[i];
    if (c->ncache < STMT_CACHE_MAX)
        return &c->cache[c->ncache++];
    for (size_t i = 0; i < c->ncache; i++)
        if (!c->cache[i].busy && (victim == NULL || c->cache[i].used < victim->used))
            victim = &c->cache[i];
    if (victim != NULL) {
        c->ops->finalize(victim->stmt);
        free(victim->sql);
        memset(victim, 0, sizeof(*victim));
    }
    return victim;
}

static gh_result prepare(gh_conn *c, gh_call *call, const char *sql, gh_stmt **stmt)
{
    char *text = NULL;
    gh_result r;

    if (c->ops->placeholder == GH_PH_DOLLAR && (text = store_sql_dollar(sql)) == NULL)
        return call_fail(call, GH_ERR_NOMEM, "store: out of memory");
    r = c->ops->prepare(c->tinst, call, text ? text : sql, stmt);
    free(text);
    if (r == GH_OK)
        c->prepared++;
    return r;
}

/* The statement for sql, marked busy in its cache slot (*slot), or a
 * one-off (*slot NULL) when the cached one is already running further up
 * the stack: a row_cb may run the same query again. */
static gh_result stmt_acquire(gh_conn *c, gh_call *call, const char *sql,
                              stmt_slot **slot, gh_stmt **stmt)
{
    uint64_t hash;
    stmt_slot *s = cache_find(c, sql, &hash);
    gh_result r;

    *slot = NULL;
    if (s != NULL && !s->busy) {
        c->hits++;
    } else if (s != NULL || (s = cache_slot(c)) == NULL) {
        return prepare(c, call, sql, stmt); /* one-off */
    } else {
        char *copy = strdup(sql);

        if (copy == NULL || (r = prepare(c, call, sql, &s->stmt)) != GH_OK) {
            free(copy);
            memset(s, 0, sizeof(*s)); /* an empty slot, reused next time */
            return copy == NULL ? call_fail(call, GH_ERR_NOMEM, "store: out of memory") : r;
        }
        s->key = sql;
        s->sql = copy;
        s->hash = hash;
    }
    s->busy = 1;
    s->used = ++c->tick;
    *slot = s;
    *stmt = s->stmt;
    return GH_OK;
}

static void stmt_release(gh_conn *c, stmt_slot *slot, gh_stmt *stmt)
{
    c->ops->reset(stmt);
    if (slot != NULL)
        slot->busy = 0;
    else
        c->ops->finalize(stmt);
}

/* --------------------------------------------------------------- exec */

/* Step through the rows, handing each to row_cb until it says stop. */
static gh_result run_rows(gh_conn *c, gh_call *call, gh_stmt *stmt, gh_row_cb row_cb, void *ud)
{
    gh_param small[COLS_ON_STACK], *cols = small;
    uint32_t cap = COLS_ON_STACK;
    gh_result r;
    int row;

    while ((r = c->ops->step(stmt, call, &row)) == GH_OK && row && row_cb != NULL) {
        uint32_t n = c->ops->column_count(stmt);

        if (n > cap) {
            gh_param *more = cols == small ? malloc(n * sizeof(*more))
                                           : realloc(cols, n * sizeof(*more));
            if (more == NULL) {
                r = call_fail(call, GH_ERR_NOMEM, "store: out of memory");
                break;
            }
            cols = more;
            cap = n;
        }
        for (uint32_t i = 0; i < n && r == GH_OK; i++)
            if ((r = c->ops->column(stmt, i, &cols[i])) != GH_OK)
                r = call_fail(call, r, "store: reading column %u failed", i);
        if (r != GH_OK || row_cb(ud, cols, n) != 0)
            break;
    }
    if (cols != small)
        free(cols);
    return r;
}

gh_result store_exec(gh_conn *c, gh_call *call, const char *sql,
                     const gh_param *args, size_t nargs,
                     gh_row_cb row_cb, void *ud, int64_t *changes)
{
    store_op op;
    stmt_slot *slot;
    gh_stmt *stmt;
    gh_result r;

    if (changes != NULL)
        *changes = 0;
    call = store_op_begin(&op, call, c->st->sql);
    if ((r = stmt_acquire(c, call, sql, &slot, &stmt)) != GH_OK)
        return store_op_end(&op, r, 1);
    /* bind even with no values: the driver checks the count matches */
    r = c->ops->bind(stmt, call, args, nargs);
    if (r == GH_OK)
        r = run_rows(c, call, stmt, row_cb, ud);
    if (r == GH_OK && changes != NULL)
        *changes = c->ops->changes(stmt);
    stmt_release(c, slot, stmt);
    if (c->tx_depth == 0 && !c->reading) /* it committed itself, perhaps a write */
        atomic_fetch_add(&writes_gen, 1);
    /* a constraint violation is an answer (the name is taken), not a
     * failure of the driver: it is not counted */
    return store_op_end(&op, r, r != GH_ERR_CONFLICT);
}

gh_result store_exec_script(gh_conn *c, gh_call *call, const char *sql)
{
    store_op op;

    call = store_op_begin(&op, call, c->st->sql);
    return store_op_end(&op, c->ops->exec(c->tinst, call, sql), 1);
}

gh_result store_ping(gh_conn *c, gh_call *call)
{
    return store_exec(c, call, "SELECT 1", NULL, 0, NULL, NULL, NULL);
}

/* ------------------------------------------------------- transactions */

gh_result store_begin(gh_conn *c, gh_call *call)
{
    store_op op;
    gh_result r;

    if (c->reading)
        return call_fail(call, GH_ERR_INTERNAL,
                         "store: a write transaction inside a read snapshot");
    if (c->tx_depth > 0) {
        c->tx_depth++;
        return GH_OK;
    }
    call = store_op_begin(&op, call, c->st->sql);
    r = c->ops->begin(c->tinst, call);
    if (r == GH_OK) {
        c->tx_depth = 1;
        c->tx_doomed = 0;
    }
    return store_op_end(&op, r, 1);
}

gh_result store_commit(gh_conn *c, gh_call *call)
{
    store_op op;
    gh_result r;

    if (c->tx_depth > 1) {
        c->tx_depth--;
        return GH_OK;
    }
    call = store_op_begin(&op, call, c->st->sql);
    if (c->tx_depth == 0) {
        r = call_fail(call, GH_ERR_INTERNAL, "store: commit without begin");
    } else if (c->tx_doomed) {
        c->ops->rollback(c->tinst, call);
        r = call_fail(call, GH_ERR_CONFLICT,
                      "store: an inner transaction rolled back; nothing committed");
    } else if ((r = c->ops->commit(c->tinst, call)) != GH_OK) {
        /* a failed COMMIT may leave the transaction open: close it, so the
         * outcome is "nothing happened" and the connection stays usable */
        c->ops->rollback(c->tinst, call);
    }
    c->tx_depth = 0;
    atomic_fetch_add(&writes_gen, 1);
    return store_op_end(&op, r, 1);
}

/*
 * Only SQLite gains from a read snapshot: it then takes its file and WAL
 * read locks once for all the reads instead of once per statement (two
 * fcntl calls each). To a server database it would be two more round
 * trips, and each statement there already reads one consistent state; so
 * elsewhere this is a no-op. BEGIN (deferred) takes no write lock; both
 * statements go through the statement cache, parsed once per connection.
 */
gh_result store_read_begin(gh_conn *c, gh_call *call)
{
    gh_result r;

    if (c->reading && c->sharing && c->read_gen != atomic_load(&writes_gen))
        store_read_flush(c); /* this process wrote since: see it */
    if (c->tx_depth > 0 || c->reading || strcmp(c->ops->dialect, "sqlite") != 0)
        return GH_OK; /* already in one, the reads join it; or no gain */
    /* read before BEGIN: a write that lands in between only makes the
     * snapshot look older than it is, never newer */
    c->read_gen = atomic_load(&writes_gen);
    c->reading = 1; /* set around BEGIN and COMMIT: neither is a write */
    r = store_exec(c, call, "BEGIN", NULL, 0, NULL, NULL, NULL);
    c->reading = r == GH_OK;
    return r;
}

void store_read_end(gh_conn *c, gh_call *call)
{
    if (!c->reading || c->sharing)
        return;
    /* nothing was written: if COMMIT fails, ROLLBACK ends it just as well */
    if (store_exec(c, call, "COMMIT", NULL, 0, NULL, NULL, NULL) != GH_OK)
        store_exec(c, call, "ROLLBACK", NULL, 0, NULL, NULL, NULL);
    c->reading = 0;
}

void store_read_share(gh_conn *c, int on)
{
    c->sharing = on;
}

void store_read_flush(gh_conn *c)
{
    int sharing = c->sharing;

    c->sharing = 0;
    store_read_end(c, NULL);
    c->sharing = sharing;
}

/* Lenient outside a transaction, so error paths can always call it. */
gh_result store_rollback(gh_conn *c, gh_call *call)
{
    store_op op;
    gh_result r;

    if (c->tx_depth == 0)
        return GH_OK;
    if (c->tx_depth > 1) {
        c->tx_depth--;
        c->tx_doomed = 1;
        return GH_OK;
    }
    c->tx_depth = 0;
    call = store_op_begin(&op, call, c->st->sql);
    r = c->ops->rollback(c->tinst, call);
    return store_op_end(&op, r, 1);
}
