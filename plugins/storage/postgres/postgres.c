/*
 * postgres.c - the PostgreSQL storage driver, over libpq.
 *
 * A thin driver over the storage ABI: the core owns the schema and every
 * query; this file only connects, prepares, binds, runs and reads columns.
 * Each worker thread gets its own connection, kept in the per-thread
 * instance, so nothing here locks.
 *
 * Everything goes through libpq's asynchronous API with the socket polled
 * here, so no wait outlives the call's deadline: a server that stops
 * answering costs a request its deadline, never a worker forever. A call
 * whose deadline passes drops the connection (the server then aborts the
 * query and any transaction) and the next call connects again.
 *
 * Reconnecting is the store's (core/store/store.c): this driver connects
 * when asked (pg_connect_op), closes when told (pg_disconnect), and says
 * whether its connection is lost (pg_lost): an idle connection is checked
 * for news from the server (a FATAL notice or EOF after a restart or
 * pg_terminate_backend) without a round trip, so one that died while idle
 * is replaced before a query is lost on it. Statements carry the
 * generation of the connection they were prepared on; the store prepares
 * them again after a reconnect, and one of an older connection is never
 * run or deallocated on a newer one.
 *
 * Transactions behave as on the other backends: a failed statement undoes
 * itself only (each statement in a transaction goes in one pipeline with a
 * savepoint and its release), where PostgreSQL would otherwise refuse
 * everything until the rollback.
 *
 * A transaction costs no round trip of its own: BEGIN opens a pipeline and
 * waits there, and so do deferred writes (pg_defer), until the next
 * statement or the COMMIT carries them to the server, in one round trip
 * with it. A deferred write has no savepoint: its failure is reported by
 * the statement or the COMMIT it travels with, and the transaction can
 * then only roll back.
 *
 * Values: parameters go as text, except bytes (and text bound for a bytea
 * parameter), which go in binary so no escaping is involved. Results come
 * back as text and are converted exactly: integers and booleans to INT
 * (booleans as 0/1, as SQLite returns them), float and numeric to DOUBLE
 * (a whole numeric that fits to INT), bytea to BYTES, the rest to STR.
 *
 * options:
 *   url: postgresql://user@host:5432/db   or a libpq "key=value" string
 *   password / password_file               overrides the URL's password
 *   connect_timeout: 5s                    for each connection attempt
 *   statement_timeout: 0                   server-side limit (0: none)
 *   query_timeout: 0                       how long to wait for the server's
 *                                          answer to one statement (0: only
 *                                          the call's deadline); a server
 *                                          that hangs (not one that is gone)
 *                                          then costs a request this long
 *   sslmode: prefer                        disable, allow, prefer, require,
 *                                          verify-ca, verify-full
 *   sslrootcert: /path/ca.pem              CA for verify-ca/verify-full
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libpq-fe.h>
#include <gatehouse/plugin.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

/* finalize has no call: DEALLOCATE gets at most this long */
#define FINALIZE_MAX_MS 1000

/* Type OIDs from pg_type.dat: fixed since PostgreSQL 7 (libpq-fe.h has no
 * catalog headers). */
enum {
    OID_BOOL = 16, OID_BYTEA = 17, OID_NAME = 19, OID_INT8 = 20, OID_INT2 = 21,
    OID_INT4 = 23, OID_TEXT = 25, OID_OID = 26, OID_FLOAT4 = 700, OID_FLOAT8 = 701,
    OID_UNKNOWN = 705, OID_BPCHAR = 1042, OID_VARCHAR = 1043, OID_NUMERIC = 1700
};

static const gh_host *host; /* valid for the life of the plugin */

/* Read-only after instantiate(); shared by every thread. Strings are our
 * copies: the config tree may be replaced by a reload. */
typedef struct pg_inst {
    char *url;
    char *password;     /* the option, or NULL: the URL's (host memory) */
    char *url_password; /* the URL's, only to keep it out of messages */
    char *sslmode;      /* NULL: libpq's default or the URL's */
    char *sslrootcert;
    int gss;            /* the URL asks for GSSAPI encryption: leave it be */
    int64_t connect_ms;
    int64_t statement_ms; /* 0: none */
    int64_t query_ms;     /* 0: none */
} pg_inst;

typedef struct pg_thread {
    const pg_inst *in;
    PGconn *conn;
    uint64_t gen;        /* bumped for every new connection */
    uint64_t next_id;    /* statement names, unique per thread */
    int in_tx;           /* a transaction is open (or was, on a lost connection) */
    int savepoint;       /* gh_stmt is set in this transaction */
    int piped;           /* queries sent in the open pipeline and not yet
                            synced (BEGIN, deferred writes); 0: none open */
    int fail_at;         /* the query of the last pipeline that failed first
                            (0-based), or -1 */
    int doomed;          /* the server said FATAL: it is closing the connection */
} pg_thread;

/* One column's converted value, valid until the next step or reset. */
typedef struct pg_cell {
    union {
        int64_t i;
        double d;
    } v;
    unsigned char *bytes; /* PQunescapeBytea's, freed with PQfreemem */
} pg_cell;

struct gh_stmt {
    pg_thread *t;
    char name[32];
    char *sql;
    uint64_t gen;      /* the connection it is prepared on; 0: none */
    int nparams;
    Oid *ptypes;       /* as the server inferred them */
    /* bound values: copies in buf */
    const char **vals;
    int *lens, *fmts;
    char *buf;
    size_t bufcap;
    int bound;
    /* the result: every row at once, so a row callback may run other
     * queries on the same connection */
    PGresult *res;
    int row, nrows;
    pg_cell *cells;
    int ncells;
};

static const gh_option pg_options[] = {
    { "url", GH_T_STR, 1, "postgresql:// URL or libpq connection string" },
    { "password", GH_T_SECRET, 0, "password (or password_file); overrides the URL's" },
    { "connect_timeout", GH_T_DURATION, 0, "limit for each connection attempt" },
    { "statement_timeout", GH_T_DURATION, 0, "server-side limit per statement (0: none)" },
    { "query_timeout", GH_T_DURATION, 0,
      "wait for one statement's answer at most this long (0: the call's deadline)" },
    { "sslmode", GH_T_STR, 0, "disable, allow, prefer, require, verify-ca or verify-full" },
    { "sslrootcert", GH_T_STR, 0, "CA certificates for verify-ca and verify-full" },
    { NULL, 0, 0, NULL }
};

/* Checked and defaulted by the host before instantiate (ABI 1.1); the
 * statement timeouts go to the server and libpq as ints of ms. No default
 * sslmode: libpq's, or the URL's, applies. */
static const char *const pg_sslmodes[] = {
    "disable", "allow", "prefer", "require", "verify-ca", "verify-full", NULL,
};
static const gh_option_rule pg_rules[] = {
    { "connect_timeout", "5s", "1ms..1h", NULL },
    { "statement_timeout", "0", "0..2147483647", NULL },
    { "query_timeout", "0", "0..2147483647", NULL },
    { "sslmode", NULL, NULL, pg_sslmodes },
    { NULL, NULL, NULL, NULL }
};

/* ------------------------------------------------------------------ errors */

/* SQLSTATE -> ABI result. Constraint violations are answers (CONFLICT);
 * what is worth retrying (serialization failures, deadlocks, a server
 * shutting down or out of resources) is UNAVAILABLE; a data exception is
 * a value the column cannot take; a syntax or catalog error is a bug in
 * the core's SQL. */
static gh_result pg_code(const char *state)
{
    if (state == NULL || strlen(state) != 5)
        return GH_ERR_INTERNAL;
    if (strcmp(state, "57014") == 0) /* query_canceled: statement_timeout */
        return GH_ERR_TIMEOUT;
    if (strncmp(state, "23", 2) == 0)
        return GH_ERR_CONFLICT;
    if (strncmp(state, "40", 2) == 0 || strncmp(state, "08", 2) == 0 ||
        strncmp(state, "53", 2) == 0 || strncmp(state, "57", 2) == 0 ||
        strcmp(state, "55P03") == 0) /* lock_not_available */
        return GH_ERR_UNAVAILABLE;
    if (strncmp(state, "22", 2) == 0 || strncmp(state, "54", 2) == 0)
        return GH_ERR_INVALID;
    if (strncmp(state, "0A", 2) == 0)
        return GH_ERR_UNSUPPORTED;
    return GH_ERR_INTERNAL;
}

/* Copy a libpq message into buf on one line, with any password replaced:
 * libpq does not print passwords, but a malformed URL is echoed back. */
static void pg_clean(const pg_inst *in, const char *msg, char *buf, size_t len)
{
    const char *secrets[2] = { in ? in->password : NULL, in ? in->url_password : NULL };
    size_t n;

    snprintf(buf, len, "%s", msg ? msg : "unknown error");
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    for (size_t k = 0; k < 2; k++) {
        char *hit;

        if (secrets[k] == NULL || secrets[k][0] == '\0')
            continue;
        while ((hit = strstr(buf, secrets[k])) != NULL)
            memset(hit, '*', strlen(secrets[k]));
    }
    n = strlen(buf);
    while (n > 0 && buf[n - 1] == ' ')
        buf[--n] = '\0';
}

/* A failed result. The primary message names tables, columns and
 * constraints, never bound values, so it is logged; the DETAIL field
 * ("Key (email)=(...) already exists") is not. Data exceptions may quote
 * the value ("invalid input syntax for type bigint: ..."): only their
 * SQLSTATE is given. */
static gh_result pg_fail_res(pg_thread *t, gh_call *call, const PGresult *res, const char *what)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    char msg[200];

    if (state == NULL) /* made up by libpq: the connection failed */
        return host->fail(call, GH_ERR_UNAVAILABLE, "%s: %s", what,
                          (pg_clean(t->in, PQerrorMessage(t->conn), msg, sizeof(msg)), msg));
    if (strncmp(state, "22", 2) == 0)
        snprintf(msg, sizeof(msg), "a value does not fit its column or type");
    else
        pg_clean(t->in, primary, msg, sizeof(msg));
    return host->fail(call, pg_code(state), "%s: %s (SQLSTATE %s)", what, msg, state);
}

/* ------------------------------------------------------------ connection */

static void pg_drop(pg_thread *t)
{
    PQfinish(t->conn);
    t->conn = NULL;
    t->piped = 0;
}

/* Wait for the socket; 1 ready, 0 timed out (left_ms: -1 none), -1 error */
static int pg_poll(PGconn *conn, short events, int64_t left_ms)
{
    struct pollfd pfd = { PQsocket(conn), events, 0 };
    int rc;

    if (pfd.fd < 0)
        return -1;
    do
        rc = poll(&pfd, 1, left_ms < 0 ? -1 : left_ms > INT_MAX ? INT_MAX : (int)left_ms);
    while (rc < 0 && errno == EINTR);
    return rc < 0 ? -1 : rc;
}

/* Server notices ("relation ... already exists, skipping") would go to
 * stderr by default: they are for a debugging admin, in the log. A FATAL
 * error that arrives while the connection is idle (a restart, or
 * pg_terminate_backend) comes this way too, before the server closes the
 * socket: the connection is then as good as lost. */
static void pg_notice(void *arg, const PGresult *res)
{
    const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    pg_thread *t = arg;
    char msg[200];

    if (severity && (strcmp(severity, "FATAL") == 0 || strcmp(severity, "PANIC") == 0))
        t->doomed = 1;
    pg_clean(t->in, PQresultErrorMessage(res), msg, sizeof(msg));
    host->log(NULL, GH_LOG_DEBUG, "postgres: %s", msg);
}

/* Open a connection within connect_timeout and the call's deadline. */
static gh_result pg_connect(pg_thread *t, gh_call *call)
{
    const pg_inst *in = t->in;
    const char *kw[10], *val[10];
    int64_t budget = host->call_left_ms(call, in->connect_ms), start = host->mono_ms();
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    size_t k = 0;
    char msg[200];
    PGconn *conn;

    /* dbname first, expanded: the options after it override the URL's */
    kw[k] = "dbname", val[k++] = in->url;
    if (in->password)
        kw[k] = "password", val[k++] = in->password;
    if (in->sslmode)
        kw[k] = "sslmode", val[k++] = in->sslmode;
    if (in->sslrootcert)
        kw[k] = "sslrootcert", val[k++] = in->sslrootcert;
    /* libpq would try Kerberos first wherever a credential cache exists:
     * a round trip per connect for a server that takes a password */
    if (!in->gss)
        kw[k] = "gssencmode", val[k++] = "disable";
    kw[k] = "client_encoding", val[k++] = "UTF8";
    kw[k] = "fallback_application_name", val[k++] = "gatehouse";
    kw[k] = NULL, val[k] = NULL;

    if ((conn = PQconnectStartParams(kw, val, 1)) == NULL)
        return host->fail(call, GH_ERR_NOMEM, "connect: out of memory");
    while (PQstatus(conn) != CONNECTION_BAD && st != PGRES_POLLING_OK &&
           st != PGRES_POLLING_FAILED) {
        int64_t remain = budget - (host->mono_ms() - start);
        int rc = remain > 0 ? pg_poll(conn, st == PGRES_POLLING_READING ? POLLIN : POLLOUT,
                                      remain) : 0;

        if (rc == 0) {
            PQfinish(conn);
            return host->fail(call, GH_ERR_UNAVAILABLE, "connect: no connection within %lld ms",
                              (long long)budget);
        }
        st = rc < 0 ? PGRES_POLLING_FAILED : PQconnectPoll(conn);
    }
    if (PQstatus(conn) != CONNECTION_OK || PQsetnonblocking(conn, 1) != 0) {
        pg_clean(in, PQerrorMessage(conn), msg, sizeof(msg));
        PQfinish(conn);
        return host->fail(call, GH_ERR_UNAVAILABLE, "connect: %s", msg);
    }
    PQsetNoticeReceiver(conn, pg_notice, t);
    t->conn = conn;
    t->doomed = 0;
    t->gen++;
    t->in_tx = 0;
    t->savepoint = 0;
    t->piped = 0;
    return GH_OK;
}

static gh_result pg_simple(pg_thread *t, gh_call *call, const char *sql, const char *what,
                           PGresult **keep);

/* A new connection, with the session settings the options ask for. */
static gh_result pg_open(pg_thread *t, gh_call *call)
{
    char sql[64];
    gh_result r = pg_connect(t, call);

    if (r == GH_OK && t->in->statement_ms > 0) {
        snprintf(sql, sizeof(sql), "SET statement_timeout = %lld",
                 (long long)t->in->statement_ms);
        if ((r = pg_simple(t, call, sql, "statement_timeout", NULL)) != GH_OK)
            pg_drop(t);
    }
    return r;
}

/* Did the server close an idle connection? It says so (a FATAL message,
 * then EOF) before a query would be lost on the connection. PQisBusy
 * parses what arrived, so the FATAL reaches pg_notice. A few rounds at
 * most: anything else arriving while idle is a notice or a parameter. */
static int pg_idle_lost(pg_thread *t)
{
    for (int round = 0; round < 4; round++) {
        if (PQstatus(t->conn) != CONNECTION_OK || t->doomed)
            return 1;
        if (pg_poll(t->conn, POLLIN, 0) <= 0)
            return 0;
        if (!PQconsumeInput(t->conn))
            return 1;
        PQisBusy(t->conn);
    }
    return PQstatus(t->conn) != CONNECTION_OK || t->doomed;
}

/* A connection to use, within the call's deadline, or why not. Making a
 * new one is the store's decision (pg_connect_op). */
static gh_result pg_ready(pg_thread *t, gh_call *call)
{
    if (host->call_left_ms(call, 0) == 0)
        return host->fail(call, GH_ERR_TIMEOUT, "the call's deadline has passed");
    if (t->conn == NULL)
        return host->fail(call, GH_ERR_UNAVAILABLE, "no database connection");
    return GH_OK;
}

/* Follow the transaction state after a round trip that reached the server. */
static void pg_track_tx(pg_thread *t)
{
    if (t->conn == NULL || PQstatus(t->conn) != CONNECTION_OK)
        return; /* unknown: keep what we knew */
    switch (PQtransactionStatus(t->conn)) {
    case PQTRANS_INTRANS:
    case PQTRANS_INERROR:
        t->in_tx = 1;
        break;
    case PQTRANS_IDLE:
        t->in_tx = 0;
        break;
    default:
        break;
    }
}

/* Collect every result of what was just sent. *keep (may be NULL) gets the
 * first failed result, else the last one; the caller PQclears it. A
 * deadline that passes drops the connection.
 *
 * A pipeline (pipeline >= 0: queries, then a Sync) ends at its Sync
 * instead; *keep gets the result of query number `pipeline` (counted from
 * 0; a number past the last: none), or the first failure, whose number
 * goes to t->fail_at; queries skipped after a failure are passed over. */
static gh_result pg_wait_for(pg_thread *t, gh_call *call, const char *what, PGresult **keep,
                             int pipeline)
{
    PGresult *res, *kept = NULL;
    int failed = 0, query = 0;
    int64_t until = t->in->query_ms > 0 ? host->mono_ms() + t->in->query_ms : 0;

    t->fail_at = -1;

    for (;;) {
        int flush = PQflush(t->conn), rc;
        int64_t left;

        if (flush < 0)
            break;
        if (flush == 0 && !PQisBusy(t->conn)) {
            ExecStatusType st;
            int bad;

            res = PQgetResult(t->conn);
            if (res == NULL && pipeline >= 0) { /* the end of one query's results */
                query++;
                continue;
            }
            st = res ? PQresultStatus(res) : PGRES_PIPELINE_SYNC;
            if (st == PGRES_PIPELINE_SYNC) {
                PQclear(res);
                t->piped = 0;
                if (pipeline >= 0 && !PQexitPipelineMode(t->conn))
                    break;
                pg_track_tx(t);
                if (keep)
                    *keep = kept;
                else
                    PQclear(kept);
                return GH_OK;
            }
            bad = st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
                  st != PGRES_EMPTY_QUERY && st != PGRES_PIPELINE_ABORTED;
            if (!failed && (pipeline < 0 || query == pipeline || bad)) {
                PQclear(kept);
                kept = res;
                failed = bad;
                if (bad)
                    t->fail_at = query;
            } else {
                PQclear(res);
            }
            continue;
        }
        left = host->call_left_ms(call, 0);
        if (until > 0) { /* query_timeout, when it comes first */
            int64_t q = until - host->mono_ms();
            if (q < 0)
                q = 0;
            if (left < 0 || q < left)
                left = q;
        }
        rc = left == 0 ? 0 : pg_poll(t->conn, flush ? POLLIN | POLLOUT : POLLIN, left);
        if (rc == 0) {
            PQclear(kept);
            pg_drop(t);
            return host->fail(call, GH_ERR_TIMEOUT,
                              "%s: no answer within query_timeout or the call's deadline; "
                              "connection closed", what);
        }
        if (rc < 0 || !PQconsumeInput(t->conn))
            break;
    }
    /* the connection failed under us */
    {
        char msg[200];

        pg_clean(t->in, PQerrorMessage(t->conn), msg, sizeof(msg));
        PQclear(kept);
        pg_drop(t); /* the store logs the loss */
        return host->fail(call, GH_ERR_UNAVAILABLE, "%s: connection lost: %s", what, msg);
    }
}

static gh_result pg_wait(pg_thread *t, gh_call *call, const char *what, PGresult **keep)
{
    return pg_wait_for(t, call, what, keep, -1);
}

/* libpq refused to send: the connection is broken (or busy, a bug). */
static gh_result pg_send_failed(pg_thread *t, gh_call *call, const char *what)
{
    char msg[200];

    pg_clean(t->in, PQerrorMessage(t->conn), msg, sizeof(msg));
    if (PQstatus(t->conn) != CONNECTION_OK) {
        pg_drop(t); /* the store logs the loss */
        return host->fail(call, GH_ERR_UNAVAILABLE, "%s: connection lost: %s", what, msg);
    }
    return host->fail(call, GH_ERR_INTERNAL, "%s: %s", what, msg);
}

/* Check what pg_wait kept: OK, or the failure reported. */
static gh_result pg_check(pg_thread *t, gh_call *call, PGresult *res, const char *what)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_COMMAND_OK;

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY)
        return GH_OK;
    return pg_fail_res(t, call, res, what);
}

/* Open a pipeline for what follows, unless one is open. 0: libpq refused. */
static int pg_pipe(pg_thread *t)
{
    return t->piped > 0 || PQenterPipelineMode(t->conn);
}

/* A pipeline that could not be sent whole: nothing to go on with. */
static gh_result pg_pipe_failed(pg_thread *t, gh_call *call, const char *what)
{
    gh_result r = pg_send_failed(t, call, what);

    pg_drop(t);
    return r;
}

/* Send what waits in the open pipeline (BEGIN, deferred writes) and read
 * its answers, before anything that does not join the pipeline. The first
 * failure among them is the answer. */
static gh_result pg_settle(pg_thread *t, gh_call *call)
{
    PGresult *res = NULL;
    gh_result r;

    if (t->piped == 0)
        return GH_OK;
    if (!PQpipelineSync(t->conn))
        return pg_pipe_failed(t, call, "pipeline");
    /* a query number past the last: only a failure is kept */
    if ((r = pg_wait_for(t, call, "deferred statement", &res, t->piped)) == GH_OK)
        r = pg_check(t, call, res, "deferred statement");
    PQclear(res);
    return r;
}

/* A simple-protocol query (no parameters; several statements allowed),
 * after what waits in the pipeline. */
static gh_result pg_simple(pg_thread *t, gh_call *call, const char *sql, const char *what,
                           PGresult **keep)
{
    PGresult *res = NULL;
    gh_result r;

    if ((r = pg_settle(t, call)) != GH_OK)
        return r;
    if (!PQsendQuery(t->conn, sql))
        return pg_send_failed(t, call, what);
    if ((r = pg_wait(t, call, what, &res)) == GH_OK)
        r = pg_check(t, call, res, what);
    if (keep != NULL && r == GH_OK)
        *keep = res;
    else
        PQclear(res);
    return r;
}

/* Inside a transaction PostgreSQL aborts the whole transaction on any
 * failed statement, where SQLite and MySQL undo just the statement; the
 * core relies on the latter (after a unique violation it asks which name
 * was taken, then decides). So a statement in a transaction runs between
 * a savepoint and its release, sent with it in one pipeline: no extra
 * round trip. Only a failure costs one, to roll back to the savepoint.
 * (A first prepare inside a transaction, rare, takes separate ones.)
 * What waits in the pipeline (BEGIN, deferred writes) goes first; when it
 * fails, the savepoint is never set and the transaction is lost. */
static gh_result pg_send_guarded(pg_thread *t, gh_call *call, gh_stmt *s, PGresult **res)
{
    PGconn *conn = t->conn;
    int at = t->piped; /* the SAVEPOINT's number in the pipeline */
    gh_result r;

    if (!pg_pipe(t) ||
        !PQsendQueryParams(conn, "SAVEPOINT gh_stmt", 0, NULL, NULL, NULL, NULL, 0) ||
        !PQsendQueryPrepared(conn, s->name, s->nparams, s->vals, s->lens, s->fmts, 0) ||
        !PQsendQueryParams(conn, "RELEASE SAVEPOINT gh_stmt", 0, NULL, NULL, NULL, NULL, 0) ||
        !PQpipelineSync(conn))
        return pg_pipe_failed(t, call, "step");
    t->savepoint = 1;
    r = pg_wait_for(t, call, "step", res, at + 1);
    if (t->fail_at >= 0 && t->fail_at < at)
        t->savepoint = 0;
    return r;
}

/* A savepoint before a first prepare inside a transaction. */
static gh_result pg_savepoint(pg_thread *t, gh_call *call)
{
    gh_result r;

    if (!t->in_tx)
        return GH_OK;
    if ((r = pg_simple(t, call, "SAVEPOINT gh_stmt", "savepoint", NULL)) == GH_OK)
        t->savepoint = 1;
    return r;
}

/* After the guarded work: release the savepoint, or on failure roll back
 * to it, so the transaction goes on. The statement's error stays in call
 * unless this fails too. */
static void pg_savepoint_end(pg_thread *t, gh_call *call, int ok)
{
    int usable = t->conn != NULL && PQstatus(t->conn) == CONNECTION_OK;

    if (!t->savepoint)
        return;
    t->savepoint = 0;
    if (usable && !ok && PQtransactionStatus(t->conn) == PQTRANS_INERROR)
        pg_simple(t, call, "ROLLBACK TO SAVEPOINT gh_stmt; RELEASE SAVEPOINT gh_stmt",
                  "rollback to savepoint", NULL);
    else if (usable && ok)
        pg_simple(t, call, "RELEASE SAVEPOINT gh_stmt", "release savepoint", NULL);
}

/* ------------------------------------------------------------- lifecycle */

static void pg_free_inst(pg_inst *in)
{
    free(in->url);
    if (in->password) {
        host->wipe(in->password, strlen(in->password));
        host->free(in->password);
    }
    if (in->url_password) {
        host->wipe(in->url_password, strlen(in->url_password));
        free(in->url_password);
    }
    free(in->sslmode);
    free(in->sslrootcert);
    memset(in, 0, sizeof(*in));
}

/* Parse the URL now, so a malformed one fails start-up. libpq's message
 * may quote the text around the mistake, so it is only shown for a URL
 * that carries no password. */
static gh_result pg_check_url(pg_inst *in, gh_call *call)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(in->url, &err);

    if (opts == NULL) {
        int secret = strchr(in->url, '@') != NULL || strstr(in->url, "password") != NULL;
        char msg[200];

        pg_clean(in, err ? err : "out of memory", msg, sizeof(msg));
        PQfreemem(err);
        if (secret) {
            host->url_redact(in->url, msg, sizeof(msg));
            return host->fail(call, GH_ERR_INVALID,
                              "url: not a valid postgresql:// URL or connection string: %s",
                              msg);
        }
        return host->fail(call, GH_ERR_INVALID, "url: %s", msg);
    }
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (strcmp(o->keyword, "gssencmode") == 0 && o->val && o->val[0])
            in->gss = 1;
        if (strcmp(o->keyword, "password") == 0 && o->val && o->val[0] &&
            (in->url_password = strdup(o->val)) == NULL) {
            PQconninfoFree(opts);
            return host->fail(call, GH_ERR_NOMEM, "url: out of memory");
        }
    }
    PQconninfoFree(opts);
    return GH_OK;
}

static gh_result pg_instantiate(void *vinst, const gh_cfg *cfg, gh_call *call)
{
    pg_inst *in = vinst;
    const char *url = host->cfg_str(cfg, "url", NULL);
    const char *sslmode = host->cfg_str(cfg, "sslmode", NULL);
    const char *ca = host->cfg_str(cfg, "sslrootcert", NULL);
    int64_t connect_ms = host->cfg_int(cfg, "connect_timeout", 5000);
    int64_t statement_ms = host->cfg_int(cfg, "statement_timeout", 0);
    int64_t query_ms = host->cfg_int(cfg, "query_timeout", 0);
    gh_result r;

    if (!PQisthreadsafe())
        return host->fail(call, GH_ERR_UNSUPPORTED, "libpq was built without thread support");
    if (url == NULL || url[0] == '\0')
        return host->fail(call, GH_ERR_INVALID, "url: must not be empty");
    if (ca && access(ca, R_OK) != 0)
        return host->fail(call, GH_ERR_INVALID, "sslrootcert: cannot read %s: %s", ca,
                          strerror(errno));

    memset(in, 0, sizeof(*in));
    in->connect_ms = connect_ms;
    in->statement_ms = statement_ms;
    in->query_ms = query_ms;
    if ((in->url = strdup(url)) == NULL || (sslmode && !(in->sslmode = strdup(sslmode))) ||
        (ca && !(in->sslrootcert = strdup(ca)))) {
        pg_free_inst(in);
        return host->fail(call, GH_ERR_NOMEM, "out of memory");
    }
    in->password = host->cfg_secret(cfg, "password");
    if (in->password == NULL && host->cfg_str(cfg, "password_file", NULL) != NULL) {
        pg_free_inst(in); /* the host has logged why the file was unusable */
        return host->fail(call, GH_ERR_INVALID, "password_file: cannot be read");
    }
    if ((r = pg_check_url(in, call)) != GH_OK)
        pg_free_inst(in);
    return r;
}

static void pg_detach(void *vinst)
{
    pg_free_inst(vinst);
}

static gh_result pg_thread_init(const void *vinst, void *vt, gh_call *call)
{
    pg_thread *t = vt;

    memset(t, 0, sizeof(*t));
    t->in = vinst;
    return pg_open(t, call);
}

/* The store's connection policy, through gh_storage_ops 1.1. */
static gh_result pg_connect_op(void *vt, gh_call *call)
{
    return pg_open(vt, call);
}

static int pg_lost(void *vt)
{
    pg_thread *t = vt;

    return t->conn == NULL || pg_idle_lost(t);
}

/* Closing the connection ends any transaction left open (the server rolls
 * it back); statements of this connection are never run again. */
static void pg_disconnect(void *vt)
{
    pg_thread *t = vt;

    pg_drop(t);
    t->in_tx = 0;
    t->savepoint = 0;
}

/* The core has finalized every statement by now; closing the connection
 * ends any transaction left open (the server rolls it back). */
static void pg_thread_fini(const void *vinst, void *vt)
{
    pg_thread *t = vt;

    (void)vinst;
    pg_drop(t);
}

static gh_result pg_health(const void *vinst, void *vt, gh_call *call)
{
    pg_thread *t = vt;
    gh_result r;

    (void)vinst;
    if ((r = pg_ready(t, call)) != GH_OK)
        return r;
    return pg_simple(t, call, "SELECT 1", "health", NULL);
}

/* ------------------------------------------------------------------- ops */

static gh_result pg_exec(void *vt, gh_call *call, const char *sql)
{
    pg_thread *t = vt;
    gh_result r;

    if ((r = pg_ready(t, call)) != GH_OK)
        return r;
    return pg_simple(t, call, sql, "exec", NULL);
}

/* Prepare s on the current connection and learn its parameter types. */
static gh_result pg_prepare_on_conn(pg_thread *t, gh_call *call, gh_stmt *s)
{
    PGresult *res = NULL;
    gh_result r;
    int n;

    if (!PQsendPrepare(t->conn, s->name, s->sql, 0, NULL))
        return pg_send_failed(t, call, "prepare");
    if ((r = pg_wait(t, call, "prepare", &res)) == GH_OK)
        r = pg_check(t, call, res, "prepare");
    PQclear(res);
    res = NULL;
    if (r != GH_OK)
        return r;
    if (!PQsendDescribePrepared(t->conn, s->name))
        return pg_send_failed(t, call, "describe");
    if ((r = pg_wait(t, call, "describe", &res)) == GH_OK)
        r = pg_check(t, call, res, "describe");
    if (r == GH_OK) {
        n = PQnparams(res);
        if (n > 0 && ((s->ptypes = calloc((size_t)n, sizeof(Oid))) == NULL ||
                      (s->vals = calloc((size_t)n, sizeof(char *))) == NULL ||
                      (s->lens = calloc((size_t)n, sizeof(int))) == NULL ||
                      (s->fmts = calloc((size_t)n, sizeof(int))) == NULL)) {
            r = host->fail(call, GH_ERR_NOMEM, "prepare: out of memory");
        } else {
            s->nparams = n;
            for (int i = 0; i < n; i++)
                s->ptypes[i] = PQparamtype(res, i);
            s->gen = t->gen;
        }
    }
    PQclear(res);
    return r;
}

static void pg_free_stmt(gh_stmt *s)
{
    free(s->sql);
    free(s->ptypes);
    free(s->vals);
    free(s->lens);
    free(s->fmts);
    free(s->buf);
    free(s->cells);
    free(s);
}

static gh_result pg_prepare(void *vt, gh_call *call, const char *sql, gh_stmt **out)
{
    pg_thread *t = vt;
    gh_stmt *s;
    gh_result r;

    *out = NULL;
    if ((r = pg_ready(t, call)) != GH_OK || (r = pg_settle(t, call)) != GH_OK)
        return r;
    if ((s = calloc(1, sizeof(*s))) == NULL || (s->sql = strdup(sql)) == NULL) {
        free(s);
        return host->fail(call, GH_ERR_NOMEM, "prepare: out of memory");
    }
    s->t = t;
    snprintf(s->name, sizeof(s->name), "gh_%llu", (unsigned long long)++t->next_id);
    if ((r = pg_savepoint(t, call)) == GH_OK)
        r = pg_prepare_on_conn(t, call, s);
    pg_savepoint_end(t, call, r == GH_OK);
    if (r != GH_OK) {
        pg_free_stmt(s);
        return r;
    }
    *out = s;
    return GH_OK;
}

/* Drop the current result and the row's converted cells. */
static void pg_clear_row(gh_stmt *s)
{
    for (int i = 0; i < s->ncells; i++) {
        PQfreemem(s->cells[i].bytes);
        s->cells[i].bytes = NULL;
    }
}

static void pg_clear_result(gh_stmt *s)
{
    pg_clear_row(s);
    PQclear(s->res);
    s->res = NULL;
    s->row = s->nrows = 0;
}

/* Only NULL, and empty strings or bytes, may come without a pointer. */
static int pg_has_data(const gh_param *v)
{
    if (v->data != NULL || v->type == GH_T_NULL)
        return 1;
    return v->len == 0 && (v->type == GH_T_STR || v->type == GH_T_JSON ||
                           v->type == GH_T_BYTES);
}

static int pg_texty(Oid type)
{
    return type == OID_TEXT || type == OID_VARCHAR || type == OID_BPCHAR ||
           type == OID_NAME || type == OID_UNKNOWN;
}

/* Bytes this value needs in buf (numbers as text fit 32). */
static size_t pg_need(const gh_param *v)
{
    return v->type == GH_T_STR || v->type == GH_T_JSON || v->type == GH_T_BYTES ? v->len + 1
                                                                                  : 32;
}

/* Convert value i into text (or binary) at *at. */
static gh_result pg_bind_one(gh_stmt *s, gh_call *call, int i, const gh_param *v, char *at)
{
    Oid type = s->ptypes[i];
    int64_t n;
    double d;

    s->vals[i] = at;
    s->fmts[i] = 0;
    s->lens[i] = 0;
    switch (v->type) {
    case GH_T_NULL:
        s->vals[i] = NULL;
        return GH_OK;
    case GH_T_INT:
    case GH_T_BOOL:
        n = v->type == GH_T_INT ? *(const int64_t *)v->data : *(const int32_t *)v->data != 0;
        if (type == OID_BOOL && n != 0 && n != 1)
            return host->fail(call, GH_ERR_INVALID,
                              "bind: value %d is %lld, not 0 or 1, for a boolean", i + 1,
                              (long long)n);
        if (type == OID_BOOL)
            strcpy(at, n ? "true" : "false");
        else
            snprintf(at, 32, "%lld", (long long)n);
        return GH_OK;
    case GH_T_DOUBLE:
        d = *(const double *)v->data;
        if (isnan(d))
            strcpy(at, "NaN");
        else if (isinf(d))
            strcpy(at, d > 0 ? "Infinity" : "-Infinity");
        else
            snprintf(at, 32, "%.17g", d); /* round-trips exactly */
        return GH_OK;
    case GH_T_STR:
    case GH_T_JSON:
        if (v->len > 0 && memchr(v->data, '\0', v->len) != NULL)
            return host->fail(call, GH_ERR_INVALID, "bind: value %d: text holds a NUL byte",
                              i + 1);
        if (v->len > 0)
            memcpy(at, v->data, v->len);
        at[v->len] = '\0';
        if (type == OID_BYTEA) { /* binary: the bytes as they are, no escapes */
            s->fmts[i] = 1;
            s->lens[i] = (int)v->len;
        }
        return GH_OK;
    case GH_T_BYTES:
        if (type != OID_BYTEA && !pg_texty(type))
            return host->fail(call, GH_ERR_INVALID,
                              "bind: value %d: bytes for a parameter of type %u", i + 1,
                              (unsigned)type);
        if (v->len > 0)
            memcpy(at, v->data, v->len);
        s->fmts[i] = 1;
        s->lens[i] = (int)v->len;
        return GH_OK;
    default:
        return host->fail(call, GH_ERR_INVALID, "bind: value %d has unsupported type %u",
                          i + 1, (unsigned)v->type);
    }
}

static gh_result pg_bind(gh_stmt *s, gh_call *call, const gh_param *vals, size_t n)
{
    size_t need = 0;
    char *at;
    gh_result r;

    pg_clear_result(s);
    s->bound = 0;
    if (n != (size_t)s->nparams)
        return host->fail(call, GH_ERR_INVALID, "bind: %zu values for %d placeholders", n,
                          s->nparams);
    for (size_t i = 0; i < n; i++) {
        if (!pg_has_data(&vals[i]))
            return host->fail(call, GH_ERR_INVALID, "bind: value %zu has no data", i + 1);
        if (vals[i].len > INT_MAX - 1)
            return host->fail(call, GH_ERR_INVALID, "bind: value %zu is too long", i + 1);
        need += pg_need(&vals[i]);
    }
    if (need > s->bufcap) {
        char *buf = realloc(s->buf, need);

        if (buf == NULL)
            return host->fail(call, GH_ERR_NOMEM, "bind: out of memory");
        s->buf = buf;
        s->bufcap = need;
    }
    at = s->buf;
    for (size_t i = 0; i < n; i++) {
        if ((r = pg_bind_one(s, call, (int)i, &vals[i], at)) != GH_OK)
            return r;
        at += pg_need(&vals[i]);
    }
    s->bound = 1;
    return GH_OK;
}

/* Run the statement: the first step after bind. */
static gh_result pg_run(gh_stmt *s, gh_call *call)
{
    pg_thread *t = s->t;
    PGresult *res = NULL;
    gh_result r;

    if (!s->bound)
        return host->fail(call, GH_ERR_INVALID, "step: values not bound");
    if ((r = pg_ready(t, call)) != GH_OK)
        return r;
    if (s->gen != t->gen) /* the store prepares again after a reconnect */
        return host->fail(call, GH_ERR_UNAVAILABLE,
                          "step: the statement's connection was closed");
    if (t->in_tx)
        r = pg_send_guarded(t, call, s, &res);
    else if (!PQsendQueryPrepared(t->conn, s->name, s->nparams, s->vals, s->lens, s->fmts, 0))
        return pg_send_failed(t, call, "step");
    else
        r = pg_wait(t, call, "step", &res);
    if (r == GH_OK)
        r = pg_check(t, call, res, "step");
    if (r != GH_OK) {
        PQclear(res);
        pg_savepoint_end(t, call, 0);
        return r;
    }
    t->savepoint = 0; /* released in the pipeline */
    s->bound = 0; /* run once per bind */
    s->res = res;
    s->row = -1;
    s->nrows = res ? PQntuples(res) : 0;
    if (res && PQnfields(res) > s->ncells) {
        pg_cell *cells = realloc(s->cells, (size_t)PQnfields(res) * sizeof(*cells));

        if (cells == NULL) {
            pg_clear_result(s);
            return host->fail(call, GH_ERR_NOMEM, "step: out of memory");
        }
        memset(cells + s->ncells, 0, (size_t)(PQnfields(res) - s->ncells) * sizeof(*cells));
        s->cells = cells;
        s->ncells = PQnfields(res);
    }
    return GH_OK;
}

static gh_result pg_step(gh_stmt *s, gh_call *call, int *row)
{
    gh_result r;

    *row = 0;
    if (s->res == NULL && (r = pg_run(s, call)) != GH_OK)
        return r;
    pg_clear_row(s);
    if (s->row < s->nrows)
        s->row++;
    *row = s->row < s->nrows;
    return GH_OK;
}

static uint32_t pg_column_count(gh_stmt *s)
{
    return s->res ? (uint32_t)PQnfields(s->res) : 0;
}

/* A whole number in text that fits int64: *out. */
static int pg_parse_int(const char *text, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

/* An INT column value from cell->v.i. */
static gh_result pg_int_value(pg_cell *cell, gh_param *val)
{
    val->type = GH_T_INT;
    val->data = &cell->v.i;
    val->len = sizeof(int64_t);
    return GH_OK;
}

static gh_result pg_column(gh_stmt *s, uint32_t i, gh_param *val)
{
    int col = (int)i;
    const char *text;
    pg_cell *cell;
    Oid type;
    size_t n;

    if (s->res == NULL || s->row < 0 || s->row >= s->nrows || col >= PQnfields(s->res))
        return GH_ERR_INVALID;
    cell = &s->cells[col];
    *val = (gh_param){ PQfname(s->res, col), GH_T_NULL, NULL, 0 };
    if (PQgetisnull(s->res, s->row, col))
        return GH_OK;
    text = PQgetvalue(s->res, s->row, col);
    type = PQftype(s->res, col);
    switch (type) {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID:
        return pg_parse_int(text, &cell->v.i) == 0 ? pg_int_value(cell, val) : GH_ERR_INTERNAL;
    case OID_BOOL:
        cell->v.i = text[0] == 't';
        return pg_int_value(cell, val);
    case OID_NUMERIC:
    case OID_FLOAT4:
    case OID_FLOAT8:
        /* SUM() of integers is a whole NUMERIC: INT when it fits */
        if (type == OID_NUMERIC && pg_parse_int(text, &cell->v.i) == 0)
            return pg_int_value(cell, val);
        cell->v.d = strtod(text, NULL); /* also reads NaN and Infinity */
        val->type = GH_T_DOUBLE;
        val->data = &cell->v.d;
        val->len = sizeof(double);
        return GH_OK;
    case OID_BYTEA:
        if ((cell->bytes = PQunescapeBytea((const unsigned char *)text, &n)) == NULL)
            return GH_ERR_NOMEM;
        val->type = GH_T_BYTES;
        val->data = cell->bytes;
        val->len = n;
        return GH_OK;
    default:
        val->type = GH_T_STR;
        val->data = text;
        val->len = (size_t)PQgetlength(s->res, s->row, col);
        return GH_OK;
    }
}

/* Rows written: the count in the command tag (INSERT 0 n, UPDATE n,
 * DELETE n, MERGE n). A SELECT's tag counts rows read: not changes. */
static int64_t pg_changes(gh_stmt *s)
{
    const char *tag, *n;

    if (s->res == NULL)
        return 0;
    tag = PQcmdStatus(s->res);
    if (strncmp(tag, "SELECT", 6) == 0)
        return 0;
    n = PQcmdTuples(s->res);
    return n[0] ? strtoll(n, NULL, 10) : 0;
}

static gh_result pg_reset(gh_stmt *s)
{
    pg_clear_result(s);
    s->bound = 0;
    return GH_OK;
}

/* Free the server's copy too, when it lives on this connection and the
 * connection is healthy (a dead or newer connection has none). There is
 * no call to report to, nor a deadline: FINALIZE_MAX_MS bounds each wait,
 * and a connection that does not answer in time is dropped, since a
 * half-read answer would confuse the next call. A failed DEALLOCATE only
 * costs the server a little memory until the connection closes. */
static void pg_finalize(gh_stmt *s)
{
    pg_thread *t;
    char sql[64];
    PGresult *res;

    if (s == NULL)
        return;
    t = s->t;
    pg_clear_result(s);
    /* not while a pipeline is open: DEALLOCATE cannot join it (the server
     * keeps the statement until the connection closes) */
    if (t->conn != NULL && s->gen == t->gen && t->piped == 0 &&
        PQstatus(t->conn) == CONNECTION_OK && PQtransactionStatus(t->conn) != PQTRANS_INERROR) {
        snprintf(sql, sizeof(sql), "DEALLOCATE %s", s->name);
        if (PQsendQuery(t->conn, sql)) {
            int flush;

            while ((flush = PQflush(t->conn)) != 0 || PQisBusy(t->conn)) {
                if (flush < 0 ||
                    pg_poll(t->conn, flush ? POLLIN | POLLOUT : POLLIN, FINALIZE_MAX_MS) <= 0 ||
                    !PQconsumeInput(t->conn)) {
                    pg_drop(t);
                    break;
                }
            }
            while (t->conn != NULL && (res = PQgetResult(t->conn)) != NULL)
                PQclear(res);
            pg_track_tx(t);
        }
    }
    pg_free_stmt(s);
}

/* BEGIN waits in a pipeline for the transaction's first statement. */
static gh_result pg_begin(void *vt, gh_call *call)
{
    pg_thread *t = vt;
    gh_result r;

    if ((r = pg_ready(t, call)) != GH_OK || (r = pg_settle(t, call)) != GH_OK)
        return r;
    if (!pg_pipe(t) || !PQsendQueryParams(t->conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
        return pg_pipe_failed(t, call, "begin");
    t->piped++;
    t->in_tx = 1;
    t->savepoint = 0;
    return GH_OK;
}

/* A write whose rows and count nobody reads: it waits in the pipeline for
 * the transaction's next statement or COMMIT, without a savepoint. */
static gh_result pg_defer(gh_stmt *s, gh_call *call)
{
    pg_thread *t = s->t;
    gh_result r;

    if (!s->bound)
        return host->fail(call, GH_ERR_INVALID, "defer: values not bound");
    if (!t->in_tx)
        return host->fail(call, GH_ERR_INVALID, "defer: outside a transaction");
    if ((r = pg_ready(t, call)) != GH_OK)
        return r;
    if (s->gen != t->gen) /* the store prepares again after a reconnect */
        return host->fail(call, GH_ERR_UNAVAILABLE,
                          "defer: the statement's connection was closed");
    if (!pg_pipe(t) ||
        !PQsendQueryPrepared(t->conn, s->name, s->nparams, s->vals, s->lens, s->fmts, 0))
        return pg_pipe_failed(t, call, "defer");
    t->piped++;
    s->bound = 0; /* sent once per bind */
    return GH_OK;
}

/* COMMIT after what waits in the pipeline, in the same round trip. When
 * one of those failed, COMMIT is skipped and the transaction left open
 * (failed): the store rolls it back. */
static gh_result pg_pipe_commit(pg_thread *t, gh_call *call, PGresult **res)
{
    int at = t->piped;
    gh_result r;

    if (!PQsendQueryParams(t->conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) ||
        !PQpipelineSync(t->conn))
        return pg_pipe_failed(t, call, "commit");
    if ((r = pg_wait_for(t, call, "commit", res, at)) == GH_OK)
        r = pg_check(t, call, *res, "commit");
    return r;
}

/* COMMIT of a transaction that had failed answers ROLLBACK, not an error:
 * that must not pass for a commit. */
static gh_result pg_commit(void *vt, gh_call *call)
{
    pg_thread *t = vt;
    PGresult *res = NULL;
    gh_result r;

    if (t->conn == NULL || PQstatus(t->conn) != CONNECTION_OK) {
        pg_drop(t);
        t->in_tx = 0;
        return host->fail(call, GH_ERR_UNAVAILABLE,
                          "commit: the connection was lost; nothing was committed");
    }
    if (t->piped > 0)
        r = pg_pipe_commit(t, call, &res);
    else
        r = pg_simple(t, call, "COMMIT", "commit", &res);
    if (r == GH_OK && res && strcmp(PQcmdStatus(res), "ROLLBACK") == 0)
        r = host->fail(call, GH_ERR_CONFLICT, "commit: the transaction had failed; rolled back");
    PQclear(res);
    t->in_tx = 0; /* committed, rolled back, or lost with the connection */
    t->savepoint = 0;
    return r;
}

/* On a lost connection the server has rolled back already: that is done,
 * not a failure, and the next call may connect again. */
static gh_result pg_rollback(void *vt, gh_call *call)
{
    pg_thread *t = vt;
    gh_result r = GH_OK;

    if (t->conn != NULL && PQstatus(t->conn) == CONNECTION_OK)
        pg_settle(t, call); /* whatever it answers, it is undone next */
    if (t->conn == NULL || PQstatus(t->conn) != CONNECTION_OK) {
        pg_drop(t);
    } else if (PQtransactionStatus(t->conn) != PQTRANS_IDLE) {
        r = pg_simple(t, call, "ROLLBACK", "rollback", NULL);
        if (r != GH_OK && (t->conn == NULL || PQstatus(t->conn) != CONNECTION_OK))
            r = GH_OK; /* lost on the way: rolled back all the same */
    }
    t->in_tx = 0;
    t->savepoint = 0;
    return r;
}

/* ------------------------------------------------------------ descriptor */

static const gh_storage_ops pg_ops = {
    .size = sizeof(gh_storage_ops),
    .placeholder = GH_PH_DOLLAR,
    .dialect = "postgres",
    .exec = pg_exec,
    .prepare = pg_prepare,
    .bind = pg_bind,
    .step = pg_step,
    .column_count = pg_column_count,
    .column = pg_column,
    .changes = pg_changes,
    .reset = pg_reset,
    .finalize = pg_finalize,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .connect = pg_connect_op,
    .lost = pg_lost,
    .disconnect = pg_disconnect,
    .defer = pg_defer,
};

static const gh_plugin pg_plugin = {
    .size = sizeof(gh_plugin),
    .abi_major = GH_ABI_MAJOR,
    .abi_minor = GH_ABI_MINOR,
    .name = "postgres",
    .version = PACKAGE_VERSION,
    .description = "PostgreSQL storage (libpq)",
    .kind = GH_KIND_STORAGE,
    .options = pg_options,
    .option_rules = pg_rules,
    .inst_size = sizeof(pg_inst),
    .thread_size = sizeof(pg_thread),
    .instantiate = pg_instantiate,
    .thread_init = pg_thread_init,
    .thread_fini = pg_thread_fini,
    .detach = pg_detach,
    .health = pg_health,
    .ops = &pg_ops,
};

GH_EXPORT const gh_plugin *gatehouse_plugin_v1(const gh_host *h)
{
    /* the 1.1 members for drivers; the rest is 1.0, set by any 1.x host */
    if (h == NULL || h->abi_major != GH_ABI_MAJOR || !GH_HAS(h, mono_ms) ||
        !GH_HAS(h, call_left_ms) || !GH_HAS(h, url_redact))
        return NULL;
    host = h;
    return &pg_plugin;
}
