/*
 * sqlite.c - the embedded storage driver: Gatehouse on one SQLite file.
 *
 * A thin driver over the storage ABI: the core owns the schema and every
 * query; this file only opens connections, prepares, binds, steps and reads
 * columns. Each worker thread gets its own connection (opened NOMUTEX in
 * thread_init and kept in the per-thread instance), so nothing here locks:
 * SQLite's file locks serialise writers between threads and processes.
 *
 * WAL is the point of the defaults: readers never block the writer and the
 * writer never blocks readers, which is what a server with N workers needs.
 * Transactions start with BEGIN IMMEDIATE, so a writer waits for the write
 * lock up front instead of failing with SQLITE_BUSY halfway through when a
 * read lock cannot be upgraded. A lock wait ends at busy_timeout or at the
 * call's deadline, whichever comes first: a caller with no time to spare
 * (an event loop reading) gets UNAVAILABLE at once and can hand the work
 * to a thread that may wait.
 *
 * Within the process, writers queue on a mutex before they take SQLite's
 * write lock, and keep it until their transaction is over. SQLite has one
 * writer at a time anyway; the mutex wakes the next one the moment the
 * last is done, where the file lock is polled with sleeps; and the last
 * step of a checkpoint, made under it (see "checkpoints"), is one that no
 * writer overtakes, so it empties the WAL and the next writer starts it
 * over. Without that, under steady writes the WAL never restarted: it
 * grew, and every commit ran a checkpoint with two fsyncs. Other
 * processes (gatehousectl) still meet the file lock and busy_timeout.
 *
 * options:
 *   path: gatehouse.db      relative to the working (state) directory
 *   busy_timeout: 5s        how long to wait for a lock before UNAVAILABLE
 *   synchronous: normal     or full (normal is durable enough under WAL:
 *                           a power cut may lose the last commits, never
 *                           corrupt the file)
 *   journal: wal            or delete, for filesystems without shared memory
 *   checkpoint_pages: 4000  WAL pages that wake the checkpointer (see
 *                           "checkpoints" below; SQLite's own default is
 *                           1000). A refresh grant writes about 6 pages,
 *                           mostly the same hot ones (the session, index
 *                           roots); fewer, larger checkpoints write each
 *                           once and fsync less, so more grants go through
 *                           (figures: bench/README.md). The price is a
 *                           larger WAL file, and with synchronous: normal
 *                           more of the last commits a power cut can take
 *                           back.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <gatehouse/plugin.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

static const gh_host *host; /* valid for the life of the plugin */

typedef struct sq_inst sq_inst;

/* What the threads share and change: the writer lock and the checkpointer.
 * The ABI keeps the instance read-only after instantiate(), so it only
 * points here; allocated by instantiate(), freed by detach(). Plugin-level
 * statics would not do: each configured instance has its own file. */
typedef struct sq_shared {
    const sq_inst *in;       /* the checkpointer reads the path and settings */
    pthread_mutex_t writer;  /* see the top of the file */
    int writer_ready;
    /* the checkpointer, started by the first commit that needs it */
    pthread_mutex_t ck_mu;
    pthread_cond_t ck_cv;
    pthread_t ck_thread;
    int ck_ready, ck_started, ck_wanted, ck_stop;
    int ck_inline; /* no checkpointer after all: the hook checkpoints */
} sq_shared;

/* Read-only after instantiate(); shared by every thread. The path is copied
 * because the config tree it came from may be replaced by a reload. */
struct sq_inst {
    char path[4096];
    int busy_ms;
    int sync_full;
    int wal;
    int checkpoint_pages;
    sq_shared *sh;
};

typedef struct sq_thread {
    sqlite3 *db;
    sq_shared *sh;
    int writing;           /* holds sh->writer */
    int busy_ms;
    int64_t wait_until_ms; /* host->now_ms() clock: lock waits end here */
} sq_thread;

/* A cell keeps an INTEGER or FLOAT column's value so the gh_param handed to
 * the core can point at it until the next step or reset. */
typedef union sq_cell {
    int64_t i;
    double d;
} sq_cell;

struct gh_stmt {
    sq_thread *t;
    sqlite3_stmt *st;
    sq_cell *cells;
    uint32_t ncells;
};

static const gh_option sq_options[] = {
    { "path", GH_T_STR, 0, "database file (default gatehouse.db in the state directory)" },
    { "busy_timeout", GH_T_DURATION, 0, "wait this long for a lock" },
    { "synchronous", GH_T_STR, 0, "normal or full" },
    { "journal", GH_T_STR, 0, "wal or delete (no shared memory)" },
    { "checkpoint_pages", GH_T_INT, 0, "WAL pages before a checkpoint" },
    { NULL, 0, 0, NULL }
};

/* Checked and defaulted by the host before instantiate (ABI 1.1). */
static const char *const sq_syncs[] = { "normal", "full", NULL };
static const char *const sq_journals[] = { "wal", "delete", NULL };
static const gh_option_rule sq_rules[] = {
    { "busy_timeout", "5s", "0..2147483647", NULL }, /* SQLite takes an int of ms */
    { "synchronous", "normal", NULL, sq_syncs },
    { "journal", "wal", NULL, sq_journals },
    { "checkpoint_pages", "4000", "100..1000000", NULL },
    { NULL, NULL, NULL, NULL }
};

/* ------------------------------------------------------------------ errors */

/* SQLite result code -> ABI result. Lock contention is worth retrying, so it
 * is UNAVAILABLE; so is a full disk or an I/O error. A SQL error is ours: a
 * bug in the core's queries. */
static gh_result sq_code(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return GH_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
        return GH_ERR_UNAVAILABLE;
    case SQLITE_CONSTRAINT:
        return GH_ERR_CONFLICT;
    case SQLITE_NOMEM:
        return GH_ERR_NOMEM;
    case SQLITE_INTERRUPT:
        return GH_ERR_TIMEOUT;
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
        return GH_ERR_INVALID;
    default:
        return GH_ERR_INTERNAL;
    }
}

/* sqlite3_errmsg names tables, columns and constraints, never bound values,
 * so it is safe to log. */
static gh_result sq_fail(gh_call *call, sqlite3 *db, int rc, const char *what)
{
    return host->fail(call, sq_code(rc), "%s: %s", what,
                      db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

/* ------------------------------------------------------------- lifecycle */

static sq_shared *sq_shared_new(const sq_inst *in)
{
    sq_shared *sh = calloc(1, sizeof(*sh));

    if (sh == NULL)
        return NULL;
    sh->in = in;
    if (pthread_mutex_init(&sh->writer, NULL) != 0)
        goto fail;
    sh->writer_ready = 1;
    if (pthread_mutex_init(&sh->ck_mu, NULL) != 0)
        goto fail;
    if (pthread_cond_init(&sh->ck_cv, NULL) != 0) {
        pthread_mutex_destroy(&sh->ck_mu);
        goto fail;
    }
    sh->ck_ready = 1;
    return sh;
fail:
    if (sh->writer_ready)
        pthread_mutex_destroy(&sh->writer);
    free(sh);
    return NULL;
}

static gh_result sq_instantiate(void *vinst, const gh_cfg *cfg, gh_call *call)
{
    sq_inst *in = vinst;
    const char *path = host->cfg_str(cfg, "path", "gatehouse.db");
    const char *sync = host->cfg_str(cfg, "synchronous", "normal");
    const char *journal = host->cfg_str(cfg, "journal", "wal");
    int64_t busy = host->cfg_int(cfg, "busy_timeout", 5000);
    int64_t ckpt = host->cfg_int(cfg, "checkpoint_pages", 4000);

    /* Memory statistics take one global mutex on every allocation, which
     * every connection's thread then contends for; nothing reads them. Only
     * possible before SQLite initialises: SQLITE_MISUSE after is harmless. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    /* one connection per thread still needs a library built thread-safe */
    if (!sqlite3_threadsafe())
        return host->fail(call, GH_ERR_UNSUPPORTED,
                          "libsqlite3 was built without thread support");
    if (path == NULL || path[0] == '\0')
        return host->fail(call, GH_ERR_INVALID, "path: must not be empty");
    if (strlen(path) >= sizeof(in->path))
        return host->fail(call, GH_ERR_INVALID, "path: longer than %zu bytes",
                          sizeof(in->path) - 1);

    if ((in->sh = sq_shared_new(in)) == NULL)
        return host->fail(call, GH_ERR_INTERNAL, "cannot create the writer and checkpoint locks");
    memcpy(in->path, path, strlen(path) + 1);
    in->busy_ms = (int)busy;
    in->sync_full = strcmp(sync, "full") == 0;
    in->wal = strcmp(journal, "wal") == 0;
    in->checkpoint_pages = (int)ckpt;
    return GH_OK;
}

/* Set the journal mode and check what SQLite actually chose: it silently
 * keeps another mode where WAL is impossible (e.g. an in-memory database). */
static gh_result sq_journal(const sq_inst *in, sq_thread *t, gh_call *call)
{
    const char *sql = in->wal ? "PRAGMA journal_mode=WAL" : "PRAGMA journal_mode=DELETE";
    const char *want = in->wal ? "wal" : "delete";
    sqlite3_stmt *st = NULL;
    const char *got;
    int rc = sqlite3_prepare_v2(t->db, sql, -1, &st, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        gh_result r = sq_fail(call, t->db, rc, "journal_mode");
        sqlite3_finalize(st);
        return r;
    }
    got = (const char *)sqlite3_column_text(st, 0);
    if (got == NULL || sqlite3_stricmp(got, want) != 0)
        host->log(call, GH_LOG_WARNING, "%s: journal_mode is %s, not %s", in->path,
                  got ? got : "unknown", want);
    sqlite3_finalize(st);
    return GH_OK;
}

/* Take the process's writer lock, waiting no longer than a lock wait may
 * (sq_arm's mark). 0, or -1 when out of time. */
static int sq_writer_lock(sq_thread *t)
{
    int64_t left_ms = t->wait_until_ms - host->now_ms();
    struct timespec until;

    if (t->writing || pthread_mutex_trylock(&t->sh->writer) == 0) {
        t->writing = 1;
        return 0;
    }
    if (left_ms <= 0)
        return -1;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += left_ms / 1000;
    until.tv_nsec += (left_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    if (pthread_mutex_timedlock(&t->sh->writer, &until) != 0)
        return -1;
    t->writing = 1;
    return 0;
}

/* Once the connection is back in autocommit mode, nothing of ours is left
 * to write. */
static void sq_writer_unlock(sq_thread *t)
{
    if (t->writing && sqlite3_get_autocommit(t->db)) {
        t->writing = 0;
        pthread_mutex_unlock(&t->sh->writer);
    }
}

/* Set before anything that may wait for a lock: the wait ends at
 * busy_timeout or at the call's deadline (0: none), whichever is first. */
static void sq_arm(sq_thread *t, gh_call *call)
{
    int64_t now = host->now_ms(), until = now + t->busy_ms;
    int64_t deadline = call ? host->call_deadline_ms(call) : 0;

    if (deadline > 0 && deadline < until)
        until = deadline;
    t->wait_until_ms = until;
}

/* SQLite's own busy_timeout sleeps a millisecond or more from the first
 * retry; a write lock here is usually held for tens of microseconds, so the
 * first retries come sooner. */
static int sq_busy(void *vt, int count)
{
    static const long wait_us[] = { 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000 };
    const size_t nwait = sizeof(wait_us) / sizeof(wait_us[0]);
    sq_thread *t = vt;
    int64_t left_ms = t->wait_until_ms - host->now_ms();
    long us = wait_us[(size_t)count < nwait ? (size_t)count : nwait - 1];
    struct timespec ts;

    if (left_ms <= 0)
        return 0;
    if (us > left_ms * 1000)
        us = (long)(left_ms * 1000);
    ts.tv_sec = us / 1000000;
    ts.tv_nsec = (us % 1000000) * 1000;
    nanosleep(&ts, NULL);
    return 1;
}

/* Every connection of ours, the checkpointer's too, syncs as configured. */
static int sq_sync_pragma(const sq_inst *in, sqlite3 *db)
{
    return sqlite3_exec(db, in->sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
                        NULL, NULL, NULL);
}

/* ------------------------------------------------------------ checkpoints */

/*
 * WAL checkpoints run on a thread of their own, in two steps. SQLite's
 * automatic checkpoint runs inside the COMMIT that crosses its threshold,
 * so that writer, and every writer queued behind it, waited for the whole
 * copy and both fsyncs: at 4000 pages, the refresh grants' p99. Now such a
 * commit only wakes the checkpointer. It copies what it can while writers
 * go on (a PASSIVE checkpoint never blocks them), then takes the writer
 * lock and copies the few frames written meanwhile: the whole WAL is then
 * in the database, and the next writer starts it over, which is what the
 * writer lock is for (top of the file).
 */
static void sq_checkpoint(sqlite3 *db)
{
    int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);

    /* BUSY: another process is checkpointing; the next wake-up retries */
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        host->log(NULL, GH_LOG_WARNING, "sqlite: checkpoint: %s", sqlite3_errmsg(db));
}

static void *sq_checkpointer(void *vsh)
{
    sq_shared *sh = vsh;
    const sq_inst *in = sh->in;
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(in->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

    if (rc == SQLITE_OK)
        rc = sq_sync_pragma(in, db);
    pthread_mutex_lock(&sh->ck_mu);
    if (rc != SQLITE_OK) {
        host->log(NULL, GH_LOG_ERROR, "sqlite: the checkpointer cannot open %s: %s; commits "
                  "checkpoint themselves", in->path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sh->ck_inline = 1;
    }
    while (rc == SQLITE_OK && !sh->ck_stop) {
        if (!sh->ck_wanted) {
            pthread_cond_wait(&sh->ck_cv, &sh->ck_mu);
            continue;
        }
        sh->ck_wanted = 0;
        pthread_mutex_unlock(&sh->ck_mu);
        sq_checkpoint(db);
        pthread_mutex_lock(&sh->writer);
        sq_checkpoint(db);
        pthread_mutex_unlock(&sh->writer);
        pthread_mutex_lock(&sh->ck_mu);
    }
    pthread_mutex_unlock(&sh->ck_mu);
    sqlite3_close(db);
    return NULL;
}

/* SQLite's WAL hook: after each commit, with the WAL's length in pages.
 * Runs while the committing thread still holds the writer lock. */
static int sq_wal_hook(void *vsh, sqlite3 *db, const char *name, int pages)
{
    sq_shared *sh = vsh;
    int inline_checkpoint;

    (void)name;
    if (pages < sh->in->checkpoint_pages)
        return SQLITE_OK;
    pthread_mutex_lock(&sh->ck_mu);
    if (!sh->ck_started && !sh->ck_stop)
        sh->ck_started = pthread_create(&sh->ck_thread, NULL, sq_checkpointer, sh) == 0;
    sh->ck_wanted = 1;
    pthread_cond_signal(&sh->ck_cv);
    inline_checkpoint = !sh->ck_started || sh->ck_inline; /* as SQLite would */
    pthread_mutex_unlock(&sh->ck_mu);
    if (inline_checkpoint)
        sq_checkpoint(db);
    return SQLITE_OK;
}

static gh_result sq_thread_init(const void *vinst, void *vt, gh_call *call)
{
    const sq_inst *in = vinst;
    sq_thread *t = vt;

    t->sh = in->sh; /* the writer lock, the one thing threads share */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(in->path, &t->db, flags, NULL);
    gh_result r;

    if (rc != SQLITE_OK) {
        r = host->fail(call, sq_code(rc), "%s: %s", in->path,
                       t->db ? sqlite3_errmsg(t->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(t->db, 1);
    t->busy_ms = in->busy_ms;
    t->wait_until_ms = 0;
    sqlite3_busy_handler(t->db, sq_busy, t);
    sq_arm(t, call);
    if ((r = sq_journal(in, t, call)) != GH_OK)
        goto fail;
    rc = sq_sync_pragma(in, t->db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(t->db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
    if (rc == SQLITE_OK && in->wal)
        sqlite3_wal_hook(t->db, sq_wal_hook, t->sh); /* and no automatic checkpoint */
    if (rc != SQLITE_OK) {
        r = sq_fail(call, t->db, rc, in->path);
        goto fail;
    }
    return GH_OK;
fail:
    sqlite3_close(t->db); /* a failed open still allocates a handle */
    t->db = NULL;
    return r;
}

/* Every statement must be finalized by now (the core does so before
 * closing); sqlite3_close_v2 still frees the connection if one leaked. */
static void sq_thread_fini(const void *vinst, void *vt)
{
    sq_thread *t = vt;

    (void)vinst;
    sqlite3_close_v2(t->db);
    t->db = NULL;
}

static gh_result sq_health(const void *vinst, void *vt, gh_call *call)
{
    sq_thread *t = vt;
    int rc;

    (void)vinst;
    if (t->db == NULL)
        return host->fail(call, GH_ERR_UNAVAILABLE, "no connection on this thread");
    sq_arm(t, call);
    rc = sqlite3_exec(t->db, "SELECT 1", NULL, NULL, NULL);
    return rc == SQLITE_OK ? GH_OK : sq_fail(call, t->db, rc, "health");
}

/* ------------------------------------------------------------------- ops */

static gh_result sq_exec(void *vt, gh_call *call, const char *sql)
{
    sq_thread *t = vt;
    char *msg = NULL;
    int rc;
    gh_result r = GH_OK;

    sq_arm(t, call);
    rc = sqlite3_exec(t->db, sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK)
        r = host->fail(call, sq_code(sqlite3_extended_errcode(t->db)), "exec: %s",
                       msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return r;
}

static gh_result sq_prepare(void *vt, gh_call *call, const char *sql, gh_stmt **out)
{
    sq_thread *t = vt;
    gh_stmt *s = calloc(1, sizeof(*s));
    const char *tail = NULL;
    gh_result r;
    int rc;

    *out = NULL;
    if (s == NULL)
        return host->fail(call, GH_ERR_NOMEM, "prepare: out of memory");
    /* PERSISTENT: the core caches statements for the life of the thread */
    rc = sqlite3_prepare_v3(t->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st, &tail);
    if (rc != SQLITE_OK)
        r = sq_fail(call, t->db, rc, "prepare");
    else if (s->st == NULL)
        r = host->fail(call, GH_ERR_INVALID, "prepare: no statement");
    else if (tail[strspn(tail, " \t\r\n")] != '\0') /* the rest would be ignored */
        r = host->fail(call, GH_ERR_INVALID, "prepare: more than one statement");
    else {
        s->t = t;
        *out = s;
        return GH_OK;
    }
    sqlite3_finalize(s->st);
    free(s);
    return r;
}

static int sq_bind_one(sqlite3_stmt *st, int i, const gh_param *v)
{
    switch (v->type) {
    case GH_T_NULL:
        return sqlite3_bind_null(st, i);
    case GH_T_INT:
        return sqlite3_bind_int64(st, i, *(const int64_t *)v->data);
    case GH_T_BOOL:
        return sqlite3_bind_int(st, i, *(const int32_t *)v->data != 0);
    case GH_T_DOUBLE:
        return sqlite3_bind_double(st, i, *(const double *)v->data);
    case GH_T_STR:
    case GH_T_JSON:
        /* a NULL pointer would bind SQL NULL: an empty string is still text */
        return sqlite3_bind_text64(st, i, v->data ? v->data : "", v->len,
                                   SQLITE_TRANSIENT, SQLITE_UTF8);
    case GH_T_BYTES:
        if (v->len == 0)
            return sqlite3_bind_zeroblob(st, i, 0);
        return sqlite3_bind_blob64(st, i, v->data, v->len, SQLITE_TRANSIENT);
    default:
        return SQLITE_MISMATCH;
    }
}

/* Only NULL, and empty strings or blobs, may come without a pointer. */
static int sq_has_data(const gh_param *v)
{
    if (v->data != NULL || v->type == GH_T_NULL)
        return 1;
    return v->len == 0 && (v->type == GH_T_STR || v->type == GH_T_JSON ||
                           v->type == GH_T_BYTES);
}

static gh_result sq_bind(gh_stmt *s, gh_call *call, const gh_param *vals, size_t n)
{
    int want = sqlite3_bind_parameter_count(s->st);

    if (n != (size_t)want)
        return host->fail(call, GH_ERR_INVALID, "bind: %zu values for %d placeholders",
                          n, want);
    for (size_t i = 0; i < n; i++) {
        int rc;

        if (!sq_has_data(&vals[i]))
            return host->fail(call, GH_ERR_INVALID, "bind: value %zu has no data", i + 1);
        rc = sq_bind_one(s->st, (int)i + 1, &vals[i]);
        if (rc == SQLITE_MISMATCH)
            return host->fail(call, GH_ERR_INVALID, "bind: value %zu has unsupported type %u",
                              i + 1, (unsigned)vals[i].type);
        if (rc != SQLITE_OK)
            return sq_fail(call, sqlite3_db_handle(s->st), rc, "bind");
    }
    return GH_OK;
}

static gh_result sq_step(gh_stmt *s, gh_call *call, int *row)
{
    /* a write outside a transaction commits within this step */
    int lone_write = sqlite3_get_autocommit(s->t->db) && !sqlite3_stmt_readonly(s->st);
    int rc;

    sq_arm(s->t, call);
    if (lone_write && sq_writer_lock(s->t) < 0)
        return host->fail(call, GH_ERR_UNAVAILABLE, "step: the database is busy");
    rc = sqlite3_step(s->st);
    if (lone_write)
        sq_writer_unlock(s->t);

    *row = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return GH_OK;
    return sq_fail(call, sqlite3_db_handle(s->st), rc, "step");
}

static uint32_t sq_column_count(gh_stmt *s)
{
    return (uint32_t)sqlite3_column_count(s->st);
}

static gh_result sq_column(gh_stmt *s, uint32_t i, gh_param *val)
{
    int col = (int)i;

    if (i >= (uint32_t)sqlite3_data_count(s->st))
        return GH_ERR_INVALID;
    /* The column count can change when SQLite re-prepares after a schema
     * change, so cells grow on demand rather than being sized at prepare. */
    if (i >= s->ncells) {
        uint32_t n = (uint32_t)sqlite3_column_count(s->st);
        sq_cell *c = realloc(s->cells, n * sizeof(*c));

        if (c == NULL)
            return GH_ERR_NOMEM;
        s->cells = c;
        s->ncells = n;
    }
    *val = (gh_param){ sqlite3_column_name(s->st, col), GH_T_NULL, NULL, 0 };
    switch (sqlite3_column_type(s->st, col)) {
    case SQLITE_INTEGER:
        s->cells[i].i = sqlite3_column_int64(s->st, col);
        val->type = GH_T_INT;
        val->data = &s->cells[i].i;
        val->len = sizeof(int64_t);
        break;
    case SQLITE_FLOAT:
        s->cells[i].d = sqlite3_column_double(s->st, col);
        val->type = GH_T_DOUBLE;
        val->data = &s->cells[i].d;
        val->len = sizeof(double);
        break;
    case SQLITE_TEXT:
        /* text before bytes: the documented order that avoids a conversion */
        val->type = GH_T_STR;
        val->data = sqlite3_column_text(s->st, col);
        val->len = (size_t)sqlite3_column_bytes(s->st, col);
        if (val->data == NULL)
            return GH_ERR_NOMEM;
        break;
    case SQLITE_BLOB:
        val->type = GH_T_BYTES;
        val->data = sqlite3_column_blob(s->st, col);
        val->len = (size_t)sqlite3_column_bytes(s->st, col);
        if (val->data == NULL)
            val->data = ""; /* an empty blob: never hand out NULL with a type */
        break;
    default:
        break;
    }
    return GH_OK;
}

static int64_t sq_changes(gh_stmt *s)
{
    /* sqlite3_changes() reports the connection's last write, which would be
     * stale after a SELECT */
    if (sqlite3_stmt_readonly(s->st))
        return 0;
    return sqlite3_changes(sqlite3_db_handle(s->st));
}

/* sqlite3_reset() repeats the error of a failed step, which the core has
 * already seen; resetting itself cannot fail. */
static gh_result sq_reset(gh_stmt *s)
{
    sqlite3_reset(s->st);
    sqlite3_clear_bindings(s->st);
    return GH_OK;
}

static void sq_finalize(gh_stmt *s)
{
    if (s == NULL)
        return;
    sqlite3_finalize(s->st);
    free(s->cells);
    free(s);
}

static gh_result sq_tx(sq_thread *t, gh_call *call, const char *sql)
{
    int rc;

    sq_arm(t, call);
    rc = sqlite3_exec(t->db, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? GH_OK : sq_fail(call, t->db, rc, sql);
}

static gh_result sq_begin(void *vt, gh_call *call)
{
    sq_thread *t = vt;
    gh_result r;

    sq_arm(t, call);
    if (sq_writer_lock(t) < 0)
        return host->fail(call, GH_ERR_UNAVAILABLE, "BEGIN IMMEDIATE: the database is busy");
    r = sq_tx(t, call, "BEGIN IMMEDIATE");
    sq_writer_unlock(t); /* only if BEGIN failed */
    return r;
}

/* SQLite's automatic checkpoint runs inside COMMIT, so still under the
 * writer lock: the next writer finds the WAL copied and starts it over. */
static gh_result sq_commit(void *vt, gh_call *call)
{
    sq_thread *t = vt;
    gh_result r = sq_tx(t, call, "COMMIT");

    sq_writer_unlock(t);
    return r;
}

/* Some errors (SQLITE_FULL, IOERR, NOMEM, BUSY on commit) roll the
 * transaction back by themselves; rolling back again is not a failure. */
static gh_result sq_rollback(void *vt, gh_call *call)
{
    sq_thread *t = vt;
    gh_result r = GH_OK;

    if (!sqlite3_get_autocommit(t->db))
        r = sq_tx(t, call, "ROLLBACK");
    sq_writer_unlock(t);
    return r;
}

/* The page cache is ours, one per thread: give it back while idle. */
static void sq_release_memory(void *vt, gh_call *call)
{
    sq_thread *t = vt;

    (void)call;
    sqlite3_db_release_memory(t->db);
}

static void sq_detach(void *vinst)
{
    sq_inst *in = vinst;
    sq_shared *sh = in->sh;

    if (sh == NULL)
        return;
    if (sh->ck_ready) {
        pthread_mutex_lock(&sh->ck_mu);
        sh->ck_stop = 1;
        pthread_cond_signal(&sh->ck_cv);
        pthread_mutex_unlock(&sh->ck_mu);
        if (sh->ck_started)
            pthread_join(sh->ck_thread, NULL);
        sh->ck_started = 0;
        pthread_cond_destroy(&sh->ck_cv);
        pthread_mutex_destroy(&sh->ck_mu);
        sh->ck_ready = 0;
    }
    if (sh->writer_ready)
        pthread_mutex_destroy(&sh->writer);
    free(sh);
    in->sh = NULL;
}

/* ------------------------------------------------------------ descriptor */

static const gh_storage_ops sq_ops = {
    .size = sizeof(gh_storage_ops),
    .placeholder = GH_PH_QMARK,
    .dialect = "sqlite",
    .exec = sq_exec,
    .prepare = sq_prepare,
    .bind = sq_bind,
    .step = sq_step,
    .column_count = sq_column_count,
    .column = sq_column,
    .changes = sq_changes,
    .reset = sq_reset,
    .finalize = sq_finalize,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    /* a file, no server: nothing waits on a network, and a read snapshot
     * takes the file and WAL locks once for all its reads */
    .flags = GH_STORAGE_LOCAL | GH_STORAGE_SNAPSHOTS,
    .release_memory = sq_release_memory,
};

static const gh_plugin sq_plugin = {
    .size = sizeof(gh_plugin),
    .abi_major = GH_ABI_MAJOR,
    .abi_minor = GH_ABI_MINOR,
    .name = "sqlite",
    .version = PACKAGE_VERSION,
    .description = "SQLite storage (embedded, WAL)",
    .kind = GH_KIND_STORAGE,
    .options = sq_options,
    .option_rules = sq_rules,
    .inst_size = sizeof(sq_inst),
    .thread_size = sizeof(sq_thread),
    .instantiate = sq_instantiate,
    .thread_init = sq_thread_init,
    .thread_fini = sq_thread_fini,
    .detach = sq_detach,
    .health = sq_health,
    .ops = &sq_ops,
};

GH_EXPORT const gh_plugin *gatehouse_plugin_v1(const gh_host *h)
{
    /* every member we call is 1.0, always set by any 1.x host */
    if (h == NULL || h->abi_major != GH_ABI_MAJOR)
        return NULL;
    host = h;
    return &sq_plugin;
}
