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
 *
 * Connection policy, for a driver (SQL or kv) that declares connect, lost
 * and disconnect (ABI 1.1), is here once rather than in each driver, as
 * Dovecot's sql_db does it: a connection found lost is dropped with the
 * statements prepared on it; a store call connects again at most once,
 * within its deadline, and never inside a transaction (that one is gone:
 * only a rollback may follow); after a failed connect calls fail at once,
 * with that failure's reason, until RECONNECT_BACKOFF_MS has passed, so a
 * server that is down costs requests no wait; statements are prepared
 * again on the new connection as they are used. A 1.0 driver keeps its
 * own policy and is called as before.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>
#include "clock.h"
#include "log.h"
#include "store/store.h"

/* Enough for every query the core writes; beyond it the least recently
 * used statement is finalized. */
#define STMT_CACHE_MAX 64
/* cols on the stack up to this many columns */
#define COLS_ON_STACK 32
/* deadline for calls the store makes up itself (call == NULL) */
#define LOCAL_CALL_TIMEOUT_MS 60000
/* after a failed connect, no new attempt on that thread for this long */
#define RECONNECT_BACKOFF_MS 1000

typedef struct stmt_slot {
    const char *key;  /* the caller's pointer: the fast path */
    char *sql;        /* our copy of the text: what a hit is checked against */
    uint64_t hash;
    gh_stmt *stmt;
    uint64_t used;    /* LRU tick */
    int busy;         /* in use further up the stack (a row_cb re-entered) */
    int orphan;       /* its connection was dropped while busy: finalize at release */
} stmt_slot;

struct gh_store {
    const gh_loaded *sql;
    const gh_loaded *kv;
};

/* One thread's connection to a driver that leaves its policy to us. */
typedef struct store_link {
    const gh_loaded *p;
    int kv;             /* p is the kv plugin, else the SQL driver */
    int owned;          /* p declares connect, lost and disconnect */
    int up;             /* connected, as far as we know */
    int again;          /* one was lost or refused: say when one is made */
    int64_t retry_at;   /* gh_monotonic_ms: no connect attempt before this */
    char why[sizeof(((gh_call *)0)->message)]; /* the last failed attempt's reason,
                                                   repeated until retry_at */
} store_link;

struct gh_conn {
    gh_store *st;
    const gh_storage_ops *ops;
    void *tinst;
    store_link sql, kv;
    stmt_slot cache[STMT_CACHE_MAX];
    size_t ncache;
    uint64_t tick, prepared, hits;
    int tx_depth;     /* 0: none; >1: nested begins joined the outer one */
    int tx_doomed;    /* an inner rollback: the outer commit must not */
    int reading;      /* in store_read_begin's transaction: no writes */
    int sharing;      /* store_read_share: snapshots outlive store_read_end */
    uint64_t read_gen; /* writes_gen when the snapshot began */
    char **stamps;    /* kv keys to renew when the transaction commits */
    size_t nstamps;
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

/* ---------------------------------------------------- connection policy */

static int link_lost(const store_link *l)
{
    if (l->kv) {
        const gh_kv_ops *o = l->p->desc->ops;
        return o->lost(l->p->inst, plugin_tinst(l->p));
    }
    return ((const gh_storage_ops *)l->p->desc->ops)->lost(plugin_tinst(l->p));
}

static gh_result link_connect(store_link *l, gh_call *call)
{
    if (l->kv) {
        const gh_kv_ops *o = l->p->desc->ops;
        return o->connect(l->p->inst, plugin_tinst(l->p), call);
    }
    return ((const gh_storage_ops *)l->p->desc->ops)->connect(plugin_tinst(l->p), call);
}

static void link_init(store_link *l, const gh_loaded *p, int kv)
{
    memset(l, 0, sizeof(*l));
    if (p == NULL)
        return;
    l->p = p;
    l->kv = kv;
    if (kv) {
        const gh_kv_ops *o = p->desc->ops;
        l->owned = GH_OPS_HAS(gh_kv_ops, o, connect) && GH_OPS_HAS(gh_kv_ops, o, lost) &&
                   GH_OPS_HAS(gh_kv_ops, o, disconnect);
    } else {
        const gh_storage_ops *o = p->desc->ops;
        l->owned = GH_OPS_HAS(gh_storage_ops, o, connect) &&
                   GH_OPS_HAS(gh_storage_ops, o, lost) &&
                   GH_OPS_HAS(gh_storage_ops, o, disconnect);
    }
    /* thread_init may have connected (to refuse a bad configuration at
     * start-up); whatever it left is where the policy starts */
    l->up = l->owned && !link_lost(l);
}

/* Forget the statements prepared on the SQL connection: the idle ones now,
 * the ones running further up the stack when they are released. */
static void cache_drop(gh_conn *c)
{
    for (size_t i = 0; i < c->ncache; i++) {
        stmt_slot *s = &c->cache[i];

        if (s->sql == NULL)
            continue;
        if (s->busy) {
            s->orphan = 1;
            continue;
        }
        c->ops->finalize(s->stmt);
        free(s->sql);
        memset(s, 0, sizeof(*s));
    }
}

/* Close l's connection; `lost`: because it was found gone (logged). */
static void link_close(gh_conn *c, store_link *l, gh_call *call, int lost)
{
    if (lost) {
        call_log(call, l->p->name, GH_LOG_WARNING, "store: the connection to %s was lost",
                 l->kv ? l->p->name : "the database");
        l->again = 1;
    }
    if (l->kv) {
        const gh_kv_ops *o = l->p->desc->ops;
        o->disconnect(l->p->inst, plugin_tinst(l->p));
    } else {
        c->ops->disconnect(c->tinst);
        cache_drop(c);
        c->reading = 0; /* a read snapshot ends with its connection */
    }
    l->up = 0;
}

/* Ready for one store call on l: the connection there is, or a new one
 * when it is gone and policy allows one attempt now. */
static gh_result link_ready(gh_conn *c, store_link *l, gh_call *call)
{
    int64_t now;
    gh_result r;

    if (!l->owned || (l->up && !link_lost(l)))
        return GH_OK;
    if (l->up)
        link_close(c, l, call, 1);
    if (!l->kv && c->tx_depth > 0)
        return call_fail(call, GH_ERR_UNAVAILABLE,
                         "store: the connection was lost inside a transaction; "
                         "nothing of it was committed");
    now = gh_monotonic_ms();
    if (now < l->retry_at)
        return call_fail(call, GH_ERR_UNAVAILABLE, "%s (next attempt in %lld ms)",
                         l->why, (long long)(l->retry_at - now));
    if (call_left_ms(call, 0) == 0)
        return call_fail(call, GH_ERR_TIMEOUT, "store: no time left to connect");
    if ((r = link_connect(l, call)) != GH_OK) {
        snprintf(l->why, sizeof(l->why), "%s",
                 call->message[0] ? call->message : "cannot connect");
        l->retry_at = gh_monotonic_ms() + RECONNECT_BACKOFF_MS;
        l->again = 1;
        return r;
    }
    if (l->again)
        call_log(call, l->p->name, GH_LOG_NOTICE, "store: %s: connected again",
                 l->kv ? l->p->name : "the database");
    l->up = 1;
    l->again = 0;
    l->retry_at = 0;
    l->why[0] = '\0';
    return GH_OK;
}

/* After an op on l failed: a connection it found gone is dropped now,
 * so the next store call connects again. */
static void link_check(gh_conn *c, store_link *l, gh_call *call, gh_result r)
{
    if (l->owned && l->up && (r == GH_ERR_UNAVAILABLE || r == GH_ERR_TIMEOUT) && link_lost(l))
        link_close(c, l, call, 1);
}

gh_result store_kv_ready(gh_conn *c, gh_call *call)
{
    return link_ready(c, &c->kv, call);
}

void store_kv_check(gh_conn *c, gh_call *call, gh_result r)
{
    link_check(c, &c->kv, call, r);
}

gh_result store_health(gh_conn *c, const gh_loaded *p, gh_call *call)
{
    store_link *l = p == c->st->sql ? &c->sql : p == c->st->kv ? &c->kv : NULL;
    gh_result r;

    if (p->desc->health == NULL)
        return GH_OK;
    if (l != NULL && (r = link_ready(c, l, call)) != GH_OK)
        return r;
    r = p->desc->health(p->inst, plugin_tinst(p), call);
    if (l != NULL)
        link_check(c, l, call, r);
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
    link_init(&c->sql, st->sql, 0);
    link_init(&c->kv, st->kv, 1);
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
    c->ncache = 0;
    if (c->sql.up)
        link_close(c, &c->sql, NULL, 0);
    if (c->kv.up)
        link_close(c, &c->kv, NULL, 0);
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

/* A capability the driver declares (ABI 1.1); a 1.0 driver declares none. */
static int has_flag(const gh_storage_ops *ops, uint32_t flag)
{
    return offsetof(gh_storage_ops, flags) + sizeof(ops->flags) <= ops->size &&
           (ops->flags & flag) != 0;
}

void store_release_memory(gh_conn *c)
{
    gh_call call;

    if (c == NULL || c->tx_depth > 0 || c->reading ||
        !GH_OPS_HAS(gh_storage_ops, c->ops, release_memory))
        return;
    call_init(&call, c->st->sql, NULL, LOCAL_CALL_TIMEOUT_MS);
    c->ops->release_memory(c->tinst, &call);
}

int store_is_local(const gh_store *st)
{
    return st->kv == NULL && has_flag(st->sql->desc->ops, GH_STORAGE_LOCAL);
}

int store_kv_server(const gh_store *st)
{
    return st->kv != NULL && GH_OPS_HAS(gh_kv_ops, (const gh_kv_ops *)st->kv->desc->ops, get_many);
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
    if (slot != NULL && !slot->orphan) {
        slot->busy = 0;
        return;
    }
    c->ops->finalize(stmt);
    if (slot != NULL) { /* its connection was dropped under it */
        free(slot->sql);
        memset(slot, 0, sizeof(*slot));
    }
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
    if ((r = link_ready(c, &c->sql, call)) != GH_OK ||
        (r = stmt_acquire(c, call, sql, &slot, &stmt)) != GH_OK) {
        link_check(c, &c->sql, call, r);
        return store_op_end(&op, r, 1);
    }
    /* bind even with no values: the driver checks the count matches */
    r = c->ops->bind(stmt, call, args, nargs);
    if (r == GH_OK)
        r = run_rows(c, call, stmt, row_cb, ud);
    if (r == GH_OK && changes != NULL)
        *changes = c->ops->changes(stmt);
    stmt_release(c, slot, stmt);
    if (c->tx_depth == 0 && !c->reading) /* it committed itself, perhaps a write */
        atomic_fetch_add(&writes_gen, 1);
    link_check(c, &c->sql, call, r);
    /* a constraint violation is an answer (the name is taken), not a
     * failure of the driver: it is not counted */
    return store_op_end(&op, r, r != GH_ERR_CONFLICT);
}

gh_result store_exec_deferred(gh_conn *c, gh_call *call, const char *sql,
                              const gh_param *args, size_t nargs)
{
    store_op op;
    stmt_slot *slot;
    gh_stmt *stmt;
    gh_result r;

    if (c->tx_depth == 0 || !GH_OPS_HAS(gh_storage_ops, c->ops, defer))
        return store_exec(c, call, sql, args, nargs, NULL, NULL, NULL);
    call = store_op_begin(&op, call, c->st->sql);
    if ((r = link_ready(c, &c->sql, call)) != GH_OK ||
        (r = stmt_acquire(c, call, sql, &slot, &stmt)) != GH_OK) {
        link_check(c, &c->sql, call, r);
        return store_op_end(&op, r, 1);
    }
    if ((r = c->ops->bind(stmt, call, args, nargs)) == GH_OK)
        r = c->ops->defer(stmt, call);
    stmt_release(c, slot, stmt);
    link_check(c, &c->sql, call, r);
    return store_op_end(&op, r, 1);
}

gh_result store_exec_script(gh_conn *c, gh_call *call, const char *sql)
{
    store_op op;
    gh_result r;

    call = store_op_begin(&op, call, c->st->sql);
    if ((r = link_ready(c, &c->sql, call)) == GH_OK)
        r = c->ops->exec(c->tinst, call, sql);
    link_check(c, &c->sql, call, r);
    return store_op_end(&op, r, 1);
}

gh_result store_ping(gh_conn *c, gh_call *call)
{
    return store_exec(c, call, "SELECT 1", NULL, 0, NULL, NULL, NULL);
}

/* ------------------------------------------------------- transactions */

/* A new stamp: random rather than a counter, because kv may lose a key (a
 * restart, an eviction) and a counter would come back to values that old
 * cached copies carry. */
static gh_result stamp_set(gh_conn *c, gh_call *call, const char *key, uint32_t flags,
                           char v[STORE_STAMP_LEN + 1])
{
    unsigned char b[STORE_STAMP_LEN / 2];

    if (RAND_bytes(b, sizeof b) != 1)
        return call_fail(call, GH_ERR_INTERNAL, "store: no random bytes for a stamp");
    for (size_t i = 0; i < sizeof b; i++)
        snprintf(v + 2 * i, 3, "%02x", b[i]);
    return store_kv_set(c, call, key, v, STORE_STAMP_LEN, 0, flags);
}

gh_result store_stamp_ensure(gh_conn *c, gh_call *call, const char *key,
                             char value[STORE_STAMP_LEN + 1])
{
    return stamp_set(c, call, key, GH_KV_NX, value);
}

static void stamp_write(gh_conn *c, gh_call *call, const char *key)
{
    char v[STORE_STAMP_LEN + 1];
    gh_result r = stamp_set(c, call, key, 0, v);

    if (r != GH_OK)
        gh_log(GH_LOG_ERROR, "store: a committed change is not yet seen by other instances' "
               "caches (stamp %s: %s)", key, gh_result_str(r));
}

/* After the outermost commit (written) or rollback (dropped). */
static void stamps_end(gh_conn *c, gh_call *call, int committed)
{
    for (size_t i = 0; i < c->nstamps; i++) {
        if (committed)
            stamp_write(c, call, c->stamps[i]);
        free(c->stamps[i]);
    }
    free(c->stamps);
    c->stamps = NULL;
    c->nstamps = 0;
}

void store_stamp_renew(gh_conn *c, gh_call *call, const char *key)
{
    char **more, *k;

    if (!store_kv_batched(c))
        return;
    if (c->tx_depth == 0) {
        stamp_write(c, call, key);
        return;
    }
    for (size_t i = 0; i < c->nstamps; i++)
        if (strcmp(c->stamps[i], key) == 0)
            return;
    if (!(more = realloc(c->stamps, (c->nstamps + 1) * sizeof *more)) || !(k = strdup(key))) {
        if (more)
            c->stamps = more;
        /* cannot wait for the commit: now, and the caches' age limit
         * covers a read in between */
        stamp_write(c, call, key);
        return;
    }
    c->stamps = more;
    c->stamps[c->nstamps++] = k;
}

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
    if ((r = link_ready(c, &c->sql, call)) == GH_OK)
        r = c->ops->begin(c->tinst, call);
    if (r == GH_OK) {
        c->tx_depth = 1;
        c->tx_doomed = 0;
    }
    link_check(c, &c->sql, call, r);
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
    } else if (c->sql.owned && (!c->sql.up || link_lost(&c->sql))) {
        if (c->sql.up)
            link_close(c, &c->sql, call, 1);
        r = call_fail(call, GH_ERR_UNAVAILABLE,
                      "store: the connection was lost; nothing was committed");
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
    link_check(c, &c->sql, call, r);
    r = store_op_end(&op, r, 1);
    stamps_end(c, call, r == GH_OK);
    return r;
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
    if (c->tx_depth > 0 || c->reading || !has_flag(c->ops, GH_STORAGE_SNAPSHOTS))
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
    stamps_end(c, call, 0);
    /* a lost connection took its transaction with it: nothing to undo */
    if (c->sql.owned && !c->sql.up)
        return GH_OK;
    call = store_op_begin(&op, call, c->st->sql);
    r = c->ops->rollback(c->tinst, call);
    link_check(c, &c->sql, call, r);
    return store_op_end(&op, r, 1);
}
