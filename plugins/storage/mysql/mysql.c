/*
 * mysql.c - the MySQL / MariaDB storage driver (the libmysqlclient API, as
 * MariaDB Connector/C provides it on Debian; servers: MariaDB 10.11, MySQL 8).
 *
 * A thin driver over the storage ABI: the core owns the schema and every
 * query; this file only connects, prepares, binds, executes and reads
 * columns. Each worker thread has its own connection, kept in the
 * per-thread instance, so nothing here locks. Values only ever travel
 * through the binary prepared-statement protocol, never through SQL text.
 *
 * Every session is set up the same way, whatever the server's defaults:
 *  - utf8mb4 on the wire, and strict sql_mode, so a value that does not fit
 *    is an error instead of being truncated or turned into a zero date;
 *  - READ COMMITTED. The core's queries are written for single-statement
 *    atomicity (a conditional UPDATE ... WHERE used_at IS NULL, upserts),
 *    which InnoDB gives at either level, and PostgreSQL runs them at READ
 *    COMMITTED. REPEATABLE READ would add next-key (gap) locks to every
 *    locking read, upsert and delete of an absent key, which turns
 *    concurrent logins touching neighbouring keys into lock waits and
 *    deadlocks, and would let a transaction read a stale snapshot of a row
 *    it then updates. (MySQL needs binlog_format ROW or MIXED for it, the
 *    default of both servers.)
 *  - CLIENT_FOUND_ROWS, so "rows written" (changes) counts the rows an
 *    UPDATE matched, as SQLite and PostgreSQL do: the core reads 0 as "no
 *    such row", which MySQL's default (rows actually changed) would also
 *    report for an update that happens to store the same values.
 *
 * A connection that is gone (server restarted, killed, network cut) is
 * closed at once, so nothing waits on it again. When to connect again is
 * the store's policy (core/store/store.c: once per call, within its
 * deadline, never inside a transaction, which the server has rolled back;
 * statements prepared again on the new connection): this driver connects
 * when asked (my_connect), closes when told (my_disconnect) and says
 * whether its connection is gone (my_lost). MYSQL_OPT_RECONNECT stays off
 * for the same reason: it reconnects silently in the middle of a
 * transaction and leaves prepared statements dangling.
 *
 * options:
 *   url: mysql://user@host:3306/database   (required)
 *   password: ...  or password_file: /path  (never logged)
 *   connect_timeout: 5s   read_timeout: 30s   write_timeout: 30s
 *   tls: prefer           off, prefer, require or verify
 *   ca_file: /path        CA certificates for verify (default: the system's)
 */
#include <limits.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <gatehouse/plugin.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

/* MariaDB Connector/C keeps my_bool in MYSQL_BIND; MySQL 8's own client
 * library replaced it with bool. */
#ifdef MARIADB_PACKAGE_VERSION
typedef my_bool my_flag;
#else
#include <stdbool.h>
typedef bool my_flag;
#endif

/* Server errors one of the two servers lacks a name for. */
#ifndef ER_CONNECTION_KILLED
#define ER_CONNECTION_KILLED 1927 /* MariaDB */
#endif
#ifndef ER_STATEMENT_TIMEOUT
#define ER_STATEMENT_TIMEOUT 1969 /* MariaDB max_statement_time */
#endif
#define MY_ER_QUERY_TIMEOUT 3024        /* MySQL max_execution_time */
#define MY_ER_CLIENT_INTERACTION_TIMEOUT 4031 /* MySQL: idle connection closed */
#define MY_CR_SERVER_LOST_EXTENDED 2055

/* MySQL's binary collation id: a column in it holds bytes, not text. */
#define MY_BINARY_CHARSET 63
/* first size of a text column's buffer; longer values grow it */
#define COL_BUF_START 256

/* Every setting a session needs, in one round trip. The modes are the
 * strict set both servers know (NO_AUTO_CREATE_USER is gone from MySQL 8). */
static const char session_sql[] =
    "SET SESSION sql_mode = 'STRICT_ALL_TABLES,STRICT_TRANS_TABLES,NO_ZERO_DATE,"
    "NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION,ONLY_FULL_GROUP_BY',"
    " SESSION time_zone = '+00:00'";
/* A statement of its own: the session variable is tx_isolation on MariaDB
 * 10.11 and transaction_isolation on MySQL 8; the statement is the same. */
static const char isolation_sql[] = "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED";

static const gh_host *host; /* valid for the life of the plugin */
/* live instances: the client library is set up for the first and torn
 * down after the last, before the host unloads us (it would leak else) */
static atomic_int instances;

enum my_tls { TLS_OFF, TLS_PREFER, TLS_REQUIRE, TLS_VERIFY };

/* Read-only after instantiate(); shared by every thread. Copied out of the
 * config tree, which a reload may replace. */
typedef struct my_inst {
    char host[256];
    char user[128];
    char database[128];
    char ca_file[4096];
    char *password;        /* host->alloc'd or NULL; wiped at detach */
    unsigned port;
    unsigned connect_s, read_s, write_s;
    int tls;               /* enum my_tls */
} my_inst;

typedef struct my_thread {
    const my_inst *in;
    MYSQL *db;          /* NULL: none (never made, or lost and closed) */
    uint64_t gen;       /* bumped per connection; statements of an older
                           one are never run */
    int in_tx;          /* between begin and commit or rollback */
    int tx_lost;        /* the server ended that transaction (connection
                           lost, deadlock): only rollback may follow */
} my_thread;

/* A number read or bound, kept where a gh_param or MYSQL_BIND can point. */
typedef union my_cell {
    int64_t i;
    double d;
    signed char b;
} my_cell;

/* One result column: its fetch buffer and what the last fetch put there. */
typedef struct my_col {
    char *buf;          /* text and bytes; cap bytes, one kept for a NUL */
    unsigned long cap;
    unsigned long len;
    my_flag is_null, error;
    my_cell cell;
    uint32_t type;      /* gh_type handed to the core */
} my_col;

/* One bound value, copied: the statement may prepare again (reconnect)
 * between bind and execute, so MYSQL_BINDs are built at execute time. */
typedef struct my_val {
    uint32_t type;      /* gh_type */
    my_cell cell;
    size_t off, len;    /* text and bytes: into the statement's arena */
    unsigned long wire_len;
} my_val;

struct gh_stmt {
    my_thread *t;
    char *sql;          /* our copy, to prepare again on a new connection */
    MYSQL_STMT *st;
    uint64_t gen;       /* t->gen when st was prepared */
    unsigned long nparams;
    my_val *vals;
    size_t nvals;
    char *arena;        /* the bound text and bytes */
    size_t arena_cap;
    MYSQL_BIND *pbind;
    MYSQL_RES *meta;    /* result columns (names, types); NULL: no rows */
    unsigned ncols;
    MYSQL_BIND *rbind;
    my_col *cols;
    enum { ST_IDLE, ST_ROWS, ST_DONE } state;
    int64_t changes;
};

static const gh_option my_options[] = {
    { "url", GH_T_STR, 1, "mysql://user@host:port/database (password: an option)" },
    { "password", GH_T_SECRET, 0, "the account's password (or password_file)" },
    { "connect_timeout", GH_T_DURATION, 0, "give up connecting after this long" },
    { "read_timeout", GH_T_DURATION, 0, "give up waiting for the server after this long" },
    { "write_timeout", GH_T_DURATION, 0, "give up sending to the server after this long" },
    { "tls", GH_T_STR, 0, "off, prefer, require or verify" },
    { "ca_file", GH_T_STR, 0, "CA certificates to verify the server with (tls: verify)" },
    { NULL, 0, 0, NULL }
};

/* Checked and defaulted by the host before instantiate (ABI 1.1). */
static const char *const my_tls_modes[] = { "off", "prefer", "require", "verify", NULL };
static const gh_option_rule my_rules[] = {
    { "connect_timeout", "5s", "1ms..24h", NULL },
    { "read_timeout", "30s", "1ms..24h", NULL },
    { "write_timeout", "30s", "1ms..24h", NULL },
    { "tls", "prefer", NULL, my_tls_modes },
    { NULL, NULL, NULL, NULL }
};

/* ------------------------------------------------------------------ errors */

/* The connection cannot be used again: the server or the network is gone,
 * or the protocol state is unknown. */
static int my_is_lost(unsigned err)
{
    switch (err) {
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case MY_CR_SERVER_LOST_EXTENDED:
    case CR_COMMANDS_OUT_OF_SYNC:
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case ER_CONNECTION_KILLED:
    case ER_SERVER_SHUTDOWN:
    case MY_ER_CLIENT_INTERACTION_TIMEOUT:
        return 1;
    default:
        return 0;
    }
}

/* MySQL error number -> ABI result. Client errors (2000+) are the network
 * or the library; server errors below that are ours or the data's. */
static gh_result my_code(unsigned err)
{
    if (my_is_lost(err))
        return GH_ERR_UNAVAILABLE;
    switch (err) {
    case 0:
        return GH_OK;
    case ER_DUP_ENTRY:
    case ER_DUP_KEY:
    case ER_DUP_ENTRY_WITH_KEY_NAME:
    case ER_ROW_IS_REFERENCED:
    case ER_NO_REFERENCED_ROW:
    case ER_ROW_IS_REFERENCED_2:
    case ER_NO_REFERENCED_ROW_2:
        return GH_ERR_CONFLICT;
    case ER_LOCK_WAIT_TIMEOUT:
    case ER_LOCK_DEADLOCK:
    case ER_CON_COUNT_ERROR:
    case ER_TOO_MANY_USER_CONNECTIONS:
    case ER_ACCESS_DENIED_ERROR:
    case ER_DBACCESS_DENIED_ERROR:
    case ER_BAD_DB_ERROR:
    case ER_QUERY_INTERRUPTED:
    case ER_OPTION_PREVENTS_STATEMENT: /* read_only: a replica, or failing over */
    case CR_UNKNOWN_HOST:
    case CR_SSL_CONNECTION_ERROR:
        return GH_ERR_UNAVAILABLE;
    case ER_STATEMENT_TIMEOUT:
    case MY_ER_QUERY_TIMEOUT:
        return GH_ERR_TIMEOUT;
    case ER_DATA_TOO_LONG:
    case ER_TRUNCATED_WRONG_VALUE:
    case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD:
    case ER_WARN_DATA_OUT_OF_RANGE:
    case ER_DATA_OUT_OF_RANGE:
    case ER_BAD_NULL_ERROR:
    case ER_DIVISION_BY_ZERO:
        return GH_ERR_INVALID;
    case CR_OUT_OF_MEMORY:
        return GH_ERR_NOMEM;
    default:
        return err >= CR_MIN_ERROR ? GH_ERR_UNAVAILABLE : GH_ERR_INTERNAL;
    }
}

/* Whether the quoted text after `word` is a name (kept) rather than a
 * value (hidden): server messages quote the rows' values too, as in
 * "Duplicate entry 'alice@example.com' for key 'users_email'". */
static int names_follow(const char *word, size_t len)
{
    static const char *const names[] = { "key", "column", "table", "constraint", "index",
                                         "database", "schema", "user", NULL };

    for (size_t i = 0; names[i] != NULL; i++)
        if (strlen(names[i]) == len && strncasecmp(word, names[i], len) == 0)
            return 1;
    return 0;
}

/* msg with every single-quoted value replaced by '...', so a log line never
 * holds a bound value (an address, a token hash). Names stay, and so does
 * everything when the message can only quote our own SQL (prepare). */
static void my_redact(const char *msg, int sql_only, char *out, size_t size)
{
    size_t o = 0;

    for (const char *p = msg; *p != '\0' && o + 1 < size; p++) {
        const char *end, *w = p, *word;

        out[o++] = *p;
        if (*p != '\'' || sql_only || (end = strchr(p + 1, '\'')) == NULL)
            continue;
        while (w > msg && w[-1] == ' ')
            w--;
        word = w;
        while (word > msg && ((word[-1] >= 'a' && word[-1] <= 'z') ||
                              (word[-1] >= 'A' && word[-1] <= 'Z')))
            word--;
        if (names_follow(word, (size_t)(w - word)))
            continue;
        for (const char *dots = "...'"; *dots != '\0' && o + 1 < size; dots++)
            out[o++] = *dots;
        p = end;
    }
    out[o] = '\0';
}

/* The words other backends use for the commonest failures, so the log
 * reads the same whichever database is behind it (MySQL says "Duplicate
 * entry" and "an error in your SQL syntax"). */
static const char *my_kind(unsigned err)
{
    switch (err) {
    case ER_DUP_ENTRY:
    case ER_DUP_KEY:
    case ER_DUP_ENTRY_WITH_KEY_NAME:
        return "UNIQUE constraint failed: ";
    case ER_PARSE_ERROR:
        return "syntax error: ";
    default:
        return "";
    }
}

/* Forget a connection that cannot be used again. Statements prepared on
 * it are never run again; a transaction on it is over. */
static void my_drop(my_thread *t)
{
    if (t->db == NULL)
        return;
    mysql_close(t->db); /* detaches its statements: they may still be closed */
    t->db = NULL;
    if (t->in_tx)
        t->tx_lost = 1;
}

/* Report a failure. The connection is dropped when it is lost; a deadlock
 * has rolled the whole transaction back on the server, so only a rollback
 * may follow it. */
static gh_result my_fail(my_thread *t, gh_call *call, const char *what, unsigned err,
                         const char *sqlstate, const char *msg, int sql_only)
{
    char clean[200];

    my_redact(msg ? msg : "", sql_only, clean, sizeof(clean));
    if (my_is_lost(err))
        my_drop(t);
    else if (err == ER_LOCK_DEADLOCK && t->in_tx)
        t->tx_lost = 1;
    return host->fail(call, my_code(err), "%s: %s%s (%u, %s)", what, my_kind(err), clean, err,
                      sqlstate && *sqlstate ? sqlstate : "HY000");
}

static gh_result my_fail_db(my_thread *t, gh_call *call, const char *what)
{
    MYSQL *db = t->db;
    unsigned err = mysql_errno(db);
    char state[6], msg[200];

    /* copied: my_fail may close the connection they live in */
    snprintf(state, sizeof(state), "%s", mysql_sqlstate(db));
    snprintf(msg, sizeof(msg), "%s", mysql_error(db));
    return my_fail(t, call, what, err, state, msg, 0);
}

static gh_result my_fail_stmt(gh_stmt *s, gh_call *call, const char *what, int sql_only)
{
    unsigned err = mysql_stmt_errno(s->st);
    char state[6], msg[200];

    snprintf(state, sizeof(state), "%s", mysql_stmt_sqlstate(s->st));
    snprintf(msg, sizeof(msg), "%s", mysql_stmt_error(s->st));
    return my_fail(s->t, call, what, err, state, msg, sql_only);
}

/* ------------------------------------------------------------- options */

/* mysql://user[:password]@host[:port][/database] (host->url_parse). The
 * password, when the URL carries one, goes to *url_pw (host->alloc'd).
 * Errors name the part, never echo it: the URL may hold a password. */
static gh_result parse_url(my_inst *in, const char *url, char **url_pw, gh_call *call)
{
    gh_url u = { .size = sizeof(gh_url) };
    gh_result r = GH_OK;
    size_t pl;

    *url_pw = NULL;
    if (strncmp(url, "mysql://", 8) != 0 && strncmp(url, "mariadb://", 10) != 0)
        return host->fail(call, GH_ERR_INVALID, "url: must start with mysql:// or mariadb://");
    if (strchr(url, '?') != NULL || strchr(url, '#') != NULL)
        return host->fail(call, GH_ERR_INVALID,
                          "url: takes no parameters; set them as options "
                          "(write ?, # and / in a password as %%3F, %%23, %%2F)");
    if ((r = host->url_parse(call, url, &u)) != GH_OK)
        goto out;
    if (u.user[0] == '\0')
        r = host->fail(call, GH_ERR_INVALID, "url: names no user (mysql://user@host/database)");
    else if (u.host[0] == '\0')
        r = host->fail(call, GH_ERR_INVALID, "url: bad host");
    else if ((u.path[0] != '\0' && strlen(u.path) > sizeof(in->database)) ||
             strchr(u.path + (u.path[0] == '/'), '/') != NULL)
        r = host->fail(call, GH_ERR_INVALID, "url: bad database name");
    if (r != GH_OK)
        goto out;
    memcpy(in->user, u.user, sizeof(in->user));
    memcpy(in->host, u.host, sizeof(in->host));
    in->port = u.port ? (unsigned)u.port : 3306;
    if (u.path[0] != '\0') /* none (".../"): the server only, for tools that create one */
        memcpy(in->database, u.path + 1, strlen(u.path));
    if (u.password[0] != '\0') {
        pl = strlen(u.password);
        if ((*url_pw = host->alloc(pl + 1)) == NULL)
            r = host->fail(call, GH_ERR_NOMEM, "url: out of memory");
        else
            memcpy(*url_pw, u.password, pl + 1);
    }
out:
    host->wipe(u.password, sizeof(u.password));
    return r;
}

/* A duration option (1ms to 24h: my_rules) in whole seconds, what the
 * library takes, rounded up: 0 would mean "no timeout" to it. */
static unsigned seconds(const gh_cfg *cfg, const char *key)
{
    return (unsigned)((host->cfg_int(cfg, key, 0) + 999) / 1000);
}

static void my_release(my_inst *in)
{
    if (in->password != NULL) {
        host->wipe(in->password, strlen(in->password));
        host->free(in->password);
        in->password = NULL;
    }
    if (atomic_fetch_sub(&instances, 1) == 1)
        mysql_library_end();
}

/* ------------------------------------------------------------- lifecycle */

static gh_result my_instantiate(void *vinst, const gh_cfg *cfg, gh_call *call)
{
    my_inst *in = vinst;
    const char *url = host->cfg_str(cfg, "url", NULL);
    const char *tls = host->cfg_str(cfg, "tls", "prefer");
    const char *ca = host->cfg_str(cfg, "ca_file", NULL);
    char *url_pw = NULL, *opt_pw = NULL;
    gh_result r;

    /* not thread-safe, and mysql_init() would call it on a worker */
    if (mysql_library_init(0, NULL, NULL) != 0)
        return host->fail(call, GH_ERR_INTERNAL, "the MySQL client library did not initialise");
    atomic_fetch_add(&instances, 1); /* my_release gives it back */
    if (url == NULL || *url == '\0') {
        r = host->fail(call, GH_ERR_INVALID, "url: required (mysql://user@host/database)");
        goto fail;
    }
    if ((r = parse_url(in, url, &url_pw, call)) != GH_OK)
        goto fail;
    opt_pw = host->cfg_secret(cfg, "password");
    if (url_pw != NULL && opt_pw != NULL) {
        r = host->fail(call, GH_ERR_INVALID,
                       "password: given both in the url and as an option; keep one");
        goto fail;
    }
    in->password = opt_pw ? opt_pw : url_pw;
    opt_pw = url_pw = NULL;
    in->connect_s = seconds(cfg, "connect_timeout");
    in->read_s = seconds(cfg, "read_timeout");
    in->write_s = seconds(cfg, "write_timeout");
    in->tls = strcmp(tls, "off") == 0       ? TLS_OFF
              : strcmp(tls, "prefer") == 0  ? TLS_PREFER
              : strcmp(tls, "require") == 0 ? TLS_REQUIRE
                                            : TLS_VERIFY; /* one of my_tls_modes */
    if (ca != NULL && *ca != '\0') {
        if (strlen(ca) >= sizeof(in->ca_file)) {
            r = host->fail(call, GH_ERR_INVALID, "ca_file: longer than %zu bytes",
                           sizeof(in->ca_file) - 1);
            goto fail;
        }
        if (in->tls == TLS_OFF) {
            r = host->fail(call, GH_ERR_INVALID, "ca_file: set, but tls is off");
            goto fail;
        }
        memcpy(in->ca_file, ca, strlen(ca) + 1);
    }
    return GH_OK;
fail:
    if (url_pw != NULL) {
        host->wipe(url_pw, strlen(url_pw));
        host->free(url_pw);
    }
    if (opt_pw != NULL) {
        host->wipe(opt_pw, strlen(opt_pw));
        host->free(opt_pw);
    }
    my_release(in);
    return r;
}

static void my_detach(void *vinst)
{
    my_release(vinst);
}

/* TLS as asked. With Connector/C, any TLS setting asks for TLS; only
 * "require" and "verify" refuse a server that does not offer it. */
static int my_tls_options(MYSQL *db, const my_inst *in)
{
    my_flag yes = 1, no = 0;
    const char *ca = in->ca_file[0] ? in->ca_file : NULL;

    if (in->tls == TLS_OFF)
        return 0;
#ifdef MARIADB_PACKAGE_VERSION
    if (mysql_ssl_set(db, NULL, NULL, ca, NULL, NULL) != 0)
        return -1;
    if (in->tls >= TLS_REQUIRE && mysql_options(db, MYSQL_OPT_SSL_ENFORCE, &yes) != 0)
        return -1;
    return mysql_options(db, MYSQL_OPT_SSL_VERIFY_SERVER_CERT,
                         in->tls == TLS_VERIFY ? &yes : &no);
#else
    /* MySQL's own client library: one mode option instead */
    unsigned mode = in->tls == TLS_PREFER ? SSL_MODE_PREFERRED
                  : in->tls == TLS_REQUIRE ? SSL_MODE_REQUIRED : SSL_MODE_VERIFY_IDENTITY;

    (void)yes;
    (void)no;
    if (ca != NULL && mysql_options(db, MYSQL_OPT_SSL_CA, ca) != 0)
        return -1;
    return mysql_options(db, MYSQL_OPT_SSL_MODE, &mode);
#endif
}

/* Run one fixed statement (no values) through the text protocol and drop
 * whatever it returns. */
static gh_result my_query(my_thread *t, gh_call *call, const char *sql, const char *what)
{
    MYSQL_RES *res;

    if (mysql_real_query(t->db, sql, strlen(sql)) != 0)
        return my_fail_db(t, call, what);
    if ((res = mysql_store_result(t->db)) != NULL)
        mysql_free_result(res);
    else if (mysql_errno(t->db) != 0)
        return my_fail_db(t, call, what);
    return GH_OK;
}

/* Open a connection and set up its session. The wait is bounded by
 * connect_timeout and by what is left of the call's deadline. */
static gh_result my_connect(my_thread *t, gh_call *call)
{
    const my_inst *in = t->in;
    int64_t left_ms = host->call_left_ms(call, 0);
    unsigned connect_s = in->connect_s, zero = 0;
    my_flag no = 0;
    MYSQL *db;

    if (left_ms == 0)
        return host->fail(call, GH_ERR_UNAVAILABLE,
                          "not connected to %s:%u, and no time left to connect", in->host, in->port);
    if (left_ms > 0 && (int64_t)connect_s * 1000 > left_ms)
        connect_s = (unsigned)((left_ms + 999) / 1000);
    if ((db = mysql_init(NULL)) == NULL)
        return host->fail(call, GH_ERR_NOMEM, "connect: out of memory");
    if (mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s) != 0 ||
        mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &in->read_s) != 0 ||
        mysql_options(db, MYSQL_OPT_WRITE_TIMEOUT, &in->write_s) != 0 ||
        mysql_options(db, MYSQL_OPT_RECONNECT, &no) != 0 ||
        mysql_options(db, MYSQL_SET_CHARSET_NAME, "utf8mb4") != 0 ||
        /* LOAD DATA LOCAL would let a hostile server read our files */
        mysql_options(db, MYSQL_OPT_LOCAL_INFILE, &zero) != 0 ||
        my_tls_options(db, in) != 0) {
        mysql_close(db);
        return host->fail(call, GH_ERR_INTERNAL, "connect: the client library refused an option");
    }
    if (mysql_real_connect(db, in->host, in->user, in->password,
                           in->database[0] ? in->database : NULL, in->port, NULL,
                           CLIENT_FOUND_ROWS) == NULL) {
        unsigned err = mysql_errno(db);
        char msg[200];

        snprintf(msg, sizeof(msg), "%s", mysql_error(db));
        mysql_close(db);
        /* a refused or unreachable server is worth retrying later */
        return host->fail(call, my_code(err) == GH_ERR_INTERNAL ? GH_ERR_UNAVAILABLE : my_code(err),
                          "connect to %s:%u as %s: %s (%u)", in->host, in->port, in->user, msg, err);
    }
    t->db = db;
    t->gen++;
    {
        gh_result r = my_query(t, call, session_sql, "session setup");

        if (r == GH_OK)
            r = my_query(t, call, isolation_sql, "session setup");
        if (r != GH_OK) {
            my_drop(t);
            return r;
        }
    }
    if (in->tls >= TLS_REQUIRE && mysql_get_ssl_cipher(db) == NULL) { /* belt and braces */
        my_drop(t);
        return host->fail(call, GH_ERR_UNAVAILABLE, "connect: the server did not start TLS");
    }
    return GH_OK;
}

/* An idle connection has nothing to read. When its socket is readable the
 * server has closed it, or sent the error it sends before closing one it
 * killed or timed out: seen before the next command is sent, nothing is
 * lost by connecting again. One poll(), no round trip, so a server restart
 * costs no request its answer. */
static int my_stale(MYSQL *db)
{
    struct pollfd p = { .fd = (int)mysql_get_socket(db), .events = POLLIN };

    return p.fd >= 0 && poll(&p, 1, 0) > 0;
}

/* The connection for the next command, or why not: none (making one is
 * the store's decision), or a transaction the server has already ended. */
static gh_result my_ready(my_thread *t, gh_call *call)
{
    if (t->tx_lost)
        return host->fail(call, GH_ERR_UNAVAILABLE,
                          "the transaction was lost (connection gone or deadlock) "
                          "and must be rolled back");
    if (t->db == NULL)
        return host->fail(call, GH_ERR_UNAVAILABLE, "not connected to %s:%u", t->in->host,
                          t->in->port);
    return GH_OK;
}

/* The store's connection policy, through gh_storage_ops 1.1. */
static gh_result my_connect_op(void *vt, gh_call *call)
{
    return my_connect(vt, call);
}

static int my_lost(void *vt)
{
    my_thread *t = vt;

    return t->db == NULL || my_stale(t->db);
}

/* The store's statements on this connection are never run again, and a
 * transaction on it is over (the server rolls back a dead session's). */
static void my_disconnect(void *vt)
{
    my_thread *t = vt;

    my_drop(t);
    t->in_tx = 0;
    t->tx_lost = 0;
}

static gh_result my_thread_init(const void *vinst, void *vt, gh_call *call)
{
    my_thread *t = vt;

    t->in = vinst;
    if (mysql_thread_init() != 0)
        return host->fail(call, GH_ERR_INTERNAL, "mysql_thread_init failed");
    return my_connect(t, call);
}

/* Every statement is finalized by now (the core does so before closing). */
static void my_thread_fini(const void *vinst, void *vt)
{
    my_thread *t = vt;

    (void)vinst;
    t->in_tx = 0;
    my_drop(t);
    t->tx_lost = 0;
    mysql_thread_end();
}

/* A round trip (the store has connected again if it had to, so
 * /health/ready recovers with the server even without traffic). */
static gh_result my_health(const void *vinst, void *vt, gh_call *call)
{
    my_thread *t = vt;
    gh_result r;

    (void)vinst;
    if ((r = my_ready(t, call)) != GH_OK)
        return r;
    if (mysql_ping(t->db) == 0)
        return GH_OK;
    return my_fail_db(t, call, "health");
}

/* ------------------------------------------------------------------- ops */

/* The transaction state as the server reports it after a command: a script
 * may open or end one (BEGIN), and DDL ends one implicitly. */
static void my_sync_tx(my_thread *t)
{
    if (t->db != NULL)
        t->in_tx = (t->db->server_status & SERVER_STATUS_IN_TRANS) != 0;
}

/* Several statements, for migrations: multi-statement mode is on only for
 * the length of the script, so no other text can ever smuggle in a
 * second statement. A single statement (no ';') needs no switching, which
 * saves two round trips. */
static gh_result my_exec(void *vt, gh_call *call, const char *sql)
{
    my_thread *t = vt;
    int multi = strchr(sql, ';') != NULL;
    gh_result r;
    int status;

    if ((r = my_ready(t, call)) != GH_OK)
        return r;
    if (!multi) {
        r = my_query(t, call, sql, "exec");
        my_sync_tx(t);
        return r;
    }
    if (mysql_set_server_option(t->db, MYSQL_OPTION_MULTI_STATEMENTS_ON) != 0)
        return my_fail_db(t, call, "exec");
    status = mysql_real_query(t->db, sql, strlen(sql));
    while (status == 0) {
        MYSQL_RES *res = mysql_store_result(t->db);

        if (res != NULL)
            mysql_free_result(res);
        else if (mysql_field_count(t->db) != 0)
            break; /* a result that could not be read */
        if ((status = mysql_next_result(t->db)) == -1)
            break; /* no more results: done */
    }
    if (status > 0 || (status == 0 && mysql_errno(t->db) != 0))
        r = my_fail_db(t, call, "exec");
    if (t->db != NULL && mysql_set_server_option(t->db, MYSQL_OPTION_MULTI_STATEMENTS_OFF) != 0 &&
        r == GH_OK)
        r = my_fail_db(t, call, "exec");
    my_sync_tx(t);
    return r;
}

/* Size the result buffers for the statement's columns. */
static gh_result my_columns(gh_stmt *s)
{
    unsigned n = s->meta ? mysql_num_fields(s->meta) : 0;
    MYSQL_FIELD *f = s->meta ? mysql_fetch_fields(s->meta) : NULL;

    if (n != s->ncols) {
        for (unsigned i = 0; i < s->ncols; i++)
            free(s->cols[i].buf);
        free(s->cols);
        free(s->rbind);
        s->cols = n ? calloc(n, sizeof(*s->cols)) : NULL;
        s->rbind = n ? calloc(n, sizeof(*s->rbind)) : NULL;
        s->ncols = 0;
        if (n > 0 && (s->cols == NULL || s->rbind == NULL))
            return GH_ERR_NOMEM;
        s->ncols = n;
    }
    for (unsigned i = 0; i < n; i++) {
        my_col *c = &s->cols[i];
        MYSQL_BIND *b = &s->rbind[i];

        memset(b, 0, sizeof(*b));
        b->is_null = &c->is_null;
        b->error = &c->error;
        b->length = &c->len;
        switch (f[i].type) {
        case MYSQL_TYPE_TINY:
        case MYSQL_TYPE_SHORT:
        case MYSQL_TYPE_INT24:
        case MYSQL_TYPE_LONG:
        case MYSQL_TYPE_LONGLONG:
        case MYSQL_TYPE_YEAR:
            c->type = GH_T_INT;
            break;
        case MYSQL_TYPE_DECIMAL:
        case MYSQL_TYPE_NEWDECIMAL:
            /* SUM() and the like: whole numbers stay integers */
            c->type = f[i].decimals == 0 ? GH_T_INT : GH_T_DOUBLE;
            break;
        case MYSQL_TYPE_FLOAT:
        case MYSQL_TYPE_DOUBLE:
            c->type = GH_T_DOUBLE;
            break;
        default:
            /* text in a binary collation is bytes (BLOB, VARBINARY) */
            c->type = f[i].charsetnr == MY_BINARY_CHARSET &&
                              (f[i].type == MYSQL_TYPE_BLOB || f[i].type == MYSQL_TYPE_TINY_BLOB ||
                               f[i].type == MYSQL_TYPE_MEDIUM_BLOB ||
                               f[i].type == MYSQL_TYPE_LONG_BLOB ||
                               f[i].type == MYSQL_TYPE_STRING ||
                               f[i].type == MYSQL_TYPE_VAR_STRING ||
                               f[i].type == MYSQL_TYPE_VARCHAR)
                          ? GH_T_BYTES
                          : GH_T_STR;
            break;
        }
        if (c->type == GH_T_INT) {
            b->buffer_type = MYSQL_TYPE_LONGLONG;
            b->buffer = &c->cell.i;
        } else if (c->type == GH_T_DOUBLE) {
            b->buffer_type = MYSQL_TYPE_DOUBLE;
            b->buffer = &c->cell.d;
        } else {
            if (c->buf == NULL) {
                if ((c->buf = malloc(COL_BUF_START)) == NULL)
                    return GH_ERR_NOMEM;
                c->cap = COL_BUF_START;
            }
            b->buffer_type = c->type == GH_T_BYTES ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
            b->buffer = c->buf;
            b->buffer_length = c->cap - 1; /* room for a NUL */
        }
    }
    return GH_OK;
}

/* Prepare s->sql on the thread's current connection. */
static gh_result my_prepare_now(gh_stmt *s, gh_call *call)
{
    my_thread *t = s->t;
    gh_result r;

    if ((r = my_ready(t, call)) != GH_OK)
        return r;
    if ((s->st = mysql_stmt_init(t->db)) == NULL)
        return host->fail(call, GH_ERR_NOMEM, "prepare: out of memory");
    if (mysql_stmt_prepare(s->st, s->sql, strlen(s->sql)) != 0)
        return my_fail_stmt(s, call, "prepare", 1);
    s->nparams = mysql_stmt_param_count(s->st);
    s->meta = mysql_stmt_result_metadata(s->st);
    if (s->meta == NULL && mysql_stmt_errno(s->st) != 0)
        return my_fail_stmt(s, call, "prepare", 1);
    if ((r = my_columns(s)) != GH_OK)
        return host->fail(call, r, "prepare: out of memory");
    s->gen = t->gen;
    return GH_OK;
}

/* s may run: the connection is there and is the one s was prepared on
 * (the store prepares again after a reconnect). */
static gh_result my_usable(gh_stmt *s, gh_call *call)
{
    my_thread *t = s->t;
    gh_result r;

    if ((r = my_ready(t, call)) != GH_OK)
        return r;
    if (s->gen != t->gen)
        return host->fail(call, GH_ERR_UNAVAILABLE, "the statement's connection was closed");
    return GH_OK;
}

static void my_stmt_free(gh_stmt *s)
{
    if (s->st != NULL)
        mysql_stmt_close(s->st);
    if (s->meta != NULL)
        mysql_free_result(s->meta);
    for (unsigned i = 0; i < s->ncols; i++)
        free(s->cols[i].buf);
    free(s->cols);
    free(s->rbind);
    free(s->pbind);
    free(s->vals);
    free(s->arena);
    free(s->sql);
    free(s);
}

static gh_result my_prepare(void *vt, gh_call *call, const char *sql, gh_stmt **out)
{
    gh_stmt *s = calloc(1, sizeof(*s));
    gh_result r;

    *out = NULL;
    if (s == NULL || (s->sql = strdup(sql)) == NULL) {
        free(s);
        return host->fail(call, GH_ERR_NOMEM, "prepare: out of memory");
    }
    s->t = vt;
    if ((r = my_prepare_now(s, call)) != GH_OK) {
        my_stmt_free(s);
        return r;
    }
    *out = s;
    return GH_OK;
}

/* Only NULL, and empty strings or blobs, may come without a pointer. */
static int my_has_data(const gh_param *v)
{
    if (v->data != NULL || v->type == GH_T_NULL)
        return 1;
    return v->len == 0 && (v->type == GH_T_STR || v->type == GH_T_JSON || v->type == GH_T_BYTES);
}

/* Copy the values: the caller's are valid for this call only. */
static gh_result my_bind(gh_stmt *s, gh_call *call, const gh_param *vals, size_t n)
{
    size_t bytes = 0, off = 0;

    if (n != s->nparams)
        return host->fail(call, GH_ERR_INVALID, "bind: %zu values for %lu placeholders", n,
                          s->nparams);
    for (size_t i = 0; i < n; i++) {
        if (!my_has_data(&vals[i]))
            return host->fail(call, GH_ERR_INVALID, "bind: value %zu has no data", i + 1);
        switch (vals[i].type) {
        case GH_T_NULL:
        case GH_T_INT:
        case GH_T_BOOL:
        case GH_T_DOUBLE:
            break;
        case GH_T_STR:
        case GH_T_JSON:
        case GH_T_BYTES:
            if (vals[i].len > ULONG_MAX || vals[i].len > SIZE_MAX - bytes)
                return host->fail(call, GH_ERR_INVALID, "bind: value %zu is too long", i + 1);
            bytes += vals[i].len;
            break;
        default:
            return host->fail(call, GH_ERR_INVALID, "bind: value %zu has unsupported type %u",
                              i + 1, (unsigned)vals[i].type);
        }
    }
    if (n > s->nvals) {
        my_val *v = realloc(s->vals, n * sizeof(*v));
        MYSQL_BIND *b = realloc(s->pbind, n * sizeof(*b));

        if (v != NULL)
            s->vals = v;
        if (b != NULL)
            s->pbind = b;
        if (v == NULL || b == NULL)
            return host->fail(call, GH_ERR_NOMEM, "bind: out of memory");
        s->nvals = n;
    }
    if (bytes > s->arena_cap) {
        char *a = realloc(s->arena, bytes);

        if (a == NULL)
            return host->fail(call, GH_ERR_NOMEM, "bind: out of memory");
        s->arena = a;
        s->arena_cap = bytes;
    }
    for (size_t i = 0; i < n; i++) {
        my_val *v = &s->vals[i];

        memset(v, 0, sizeof(*v));
        v->type = vals[i].type;
        switch (v->type) {
        case GH_T_INT:
            v->cell.i = *(const int64_t *)vals[i].data;
            break;
        case GH_T_BOOL:
            v->cell.b = *(const int32_t *)vals[i].data != 0;
            break;
        case GH_T_DOUBLE:
            v->cell.d = *(const double *)vals[i].data;
            break;
        case GH_T_STR:
        case GH_T_JSON:
        case GH_T_BYTES:
            if (vals[i].len > 0)
                memcpy(s->arena + off, vals[i].data, vals[i].len);
            v->off = off;
            v->len = vals[i].len;
            off += vals[i].len;
            break;
        default:
            break;
        }
    }
    return GH_OK;
}

/* MYSQL_BINDs over the copied values, for the statement as prepared now. */
static int my_bind_params(gh_stmt *s)
{
    static char empty[1];

    if (s->nparams == 0)
        return 0;
    memset(s->pbind, 0, s->nparams * sizeof(*s->pbind));
    for (unsigned long i = 0; i < s->nparams; i++) {
        my_val *v = &s->vals[i];
        MYSQL_BIND *b = &s->pbind[i];

        switch (v->type) {
        case GH_T_NULL:
            b->buffer_type = MYSQL_TYPE_NULL;
            break;
        case GH_T_INT:
            b->buffer_type = MYSQL_TYPE_LONGLONG;
            b->buffer = &v->cell.i;
            break;
        case GH_T_BOOL:
            b->buffer_type = MYSQL_TYPE_TINY;
            b->buffer = &v->cell.b;
            break;
        case GH_T_DOUBLE:
            b->buffer_type = MYSQL_TYPE_DOUBLE;
            b->buffer = &v->cell.d;
            break;
        default: /* text and bytes */
            b->buffer_type = v->type == GH_T_BYTES ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
            b->buffer = v->len ? s->arena + v->off : empty;
            v->wire_len = (unsigned long)v->len;
            b->buffer_length = v->wire_len;
            b->length = &v->wire_len;
            break;
        }
    }
    return mysql_stmt_bind_param(s->st, s->pbind) ? -1 : 0;
}

/* Execute, and buffer the rows on our side: a row callback may run other
 * statements on this connection before the last row is read, which an
 * unbuffered result would forbid (commands out of sync). */
static gh_result my_execute(gh_stmt *s, gh_call *call)
{
    gh_result r;

    if ((r = my_usable(s, call)) != GH_OK)
        return r;
    if (s->nvals < s->nparams)
        return host->fail(call, GH_ERR_INVALID, "step: the statement was not bound");
    if (my_bind_params(s) != 0)
        return my_fail_stmt(s, call, "bind", 0);
    /* lost while running: a write may have been committed, so the caller
     * hears UNAVAILABLE and decides */
    if (mysql_stmt_execute(s->st) != 0)
        return my_fail_stmt(s, call, "execute", 0);
    if (s->ncols == 0) {
        s->changes = (int64_t)mysql_stmt_affected_rows(s->st);
        s->state = ST_DONE;
        return GH_OK;
    }
    s->changes = 0;
    if (mysql_stmt_bind_result(s->st, s->rbind) != 0 || mysql_stmt_store_result(s->st) != 0)
        return my_fail_stmt(s, call, "execute", 0);
    s->state = ST_ROWS;
    return GH_OK;
}

/* Columns that did not fit their buffer: grow it and read them again. */
static gh_result my_refetch(gh_stmt *s, gh_call *call)
{
    int grown = 0;

    for (unsigned i = 0; i < s->ncols; i++) {
        my_col *c = &s->cols[i];
        MYSQL_BIND *b = &s->rbind[i];
        char *buf;

        if (!c->error || (c->type != GH_T_STR && c->type != GH_T_BYTES))
            continue;
        if (c->len >= ULONG_MAX - 1 || (buf = realloc(c->buf, c->len + 1)) == NULL)
            return host->fail(call, GH_ERR_NOMEM, "fetch: column %u: out of memory", i);
        c->buf = buf;
        c->cap = c->len + 1;
        b->buffer = c->buf;
        b->buffer_length = c->cap - 1;
        if (mysql_stmt_fetch_column(s->st, b, i, 0) != 0)
            return my_fail_stmt(s, call, "fetch", 0);
        c->error = 0;
        grown = 1;
    }
    /* later rows are fetched into the grown buffers */
    if (grown && mysql_stmt_bind_result(s->st, s->rbind) != 0)
        return my_fail_stmt(s, call, "fetch", 0);
    return GH_OK;
}

static gh_result my_step(gh_stmt *s, gh_call *call, int *row)
{
    gh_result r;
    int rc;

    *row = 0;
    if (s->state == ST_IDLE && (r = my_execute(s, call)) != GH_OK)
        return r;
    if (s->state != ST_ROWS)
        return GH_OK;
    rc = mysql_stmt_fetch(s->st);
    if (rc == MYSQL_NO_DATA) {
        s->state = ST_DONE;
        return GH_OK;
    }
    if (rc == 1)
        return my_fail_stmt(s, call, "fetch", 0);
    if (rc == MYSQL_DATA_TRUNCATED && (r = my_refetch(s, call)) != GH_OK)
        return r;
    *row = 1;
    return GH_OK;
}

static uint32_t my_column_count(gh_stmt *s)
{
    return s->ncols;
}

static gh_result my_column(gh_stmt *s, uint32_t i, gh_param *val)
{
    my_col *c;

    if (s->state != ST_ROWS || i >= s->ncols)
        return GH_ERR_INVALID;
    c = &s->cols[i];
    *val = (gh_param){ mysql_fetch_fields(s->meta)[i].name, GH_T_NULL, NULL, 0 };
    if (c->is_null)
        return GH_OK;
    val->type = c->type;
    switch (c->type) {
    case GH_T_INT:
        val->data = &c->cell.i;
        val->len = sizeof(int64_t);
        break;
    case GH_T_DOUBLE:
        val->data = &c->cell.d;
        val->len = sizeof(double);
        break;
    default:
        if (c->len >= c->cap) /* cannot happen after my_refetch */
            return GH_ERR_INTERNAL;
        c->buf[c->len] = '\0';
        val->data = c->buf;
        val->len = c->len;
        break;
    }
    return GH_OK;
}

static int64_t my_changes(gh_stmt *s)
{
    return s->changes;
}

/* Frees the buffered rows; no round trip (mysql_stmt_reset would make one,
 * and executing again resets the statement on the server anyway). */
static gh_result my_reset(gh_stmt *s)
{
    if (s->st != NULL && s->gen == s->t->gen && s->t->db != NULL)
        mysql_stmt_free_result(s->st);
    s->state = ST_IDLE;
    return GH_OK;
}

static void my_finalize(gh_stmt *s)
{
    if (s != NULL)
        my_stmt_free(s);
}

/* ---------------------------------------------------------- transactions */

static gh_result my_begin(void *vt, gh_call *call)
{
    my_thread *t = vt;
    gh_result r;

    if (t->in_tx)
        return host->fail(call, GH_ERR_INTERNAL, "begin: a transaction is already open");
    if ((r = my_ready(t, call)) != GH_OK)
        return r;
    if ((r = my_query(t, call, "START TRANSACTION", "begin")) == GH_OK) {
        t->in_tx = 1;
        t->tx_lost = 0;
    }
    return r;
}

static gh_result my_commit(void *vt, gh_call *call)
{
    my_thread *t = vt;
    gh_result r;

    /* Not open as far as we know: DDL committed it implicitly (migrations),
     * and COMMIT is then a harmless no-op on the server. */
    if ((r = my_ready(t, call)) != GH_OK)
        return r; /* the core rolls back, which ends it */
    if ((r = my_query(t, call, "COMMIT", "commit")) != GH_OK)
        return r;
    t->in_tx = 0;
    return GH_OK;
}

/* Always ends the transaction here. A connection lost meanwhile took the
 * transaction with it (the server rolls back what a dead session left), so
 * that is not a failure of the rollback. */
static gh_result my_rollback(void *vt, gh_call *call)
{
    my_thread *t = vt;
    gh_result r = GH_OK;

    if (t->db != NULL) {
        r = my_query(t, call, "ROLLBACK", "rollback");
        /* lost just now, or ended by a deadlock: nothing is left to undo */
        if (t->db == NULL || t->tx_lost)
            r = GH_OK;
    }
    t->in_tx = 0;
    t->tx_lost = 0;
    return r;
}

/* ------------------------------------------------------------ descriptor */

static const gh_storage_ops my_ops = {
    .size = sizeof(gh_storage_ops),
    .placeholder = GH_PH_QMARK,
    .dialect = "mysql",
    .exec = my_exec,
    .prepare = my_prepare,
    .bind = my_bind,
    .step = my_step,
    .column_count = my_column_count,
    .column = my_column,
    .changes = my_changes,
    .reset = my_reset,
    .finalize = my_finalize,
    .begin = my_begin,
    .commit = my_commit,
    .rollback = my_rollback,
    .connect = my_connect_op,
    .lost = my_lost,
    .disconnect = my_disconnect,
};

static const gh_plugin my_plugin = {
    .size = sizeof(gh_plugin),
    .abi_major = GH_ABI_MAJOR,
    .abi_minor = GH_ABI_MINOR,
    .name = "mysql",
    .version = PACKAGE_VERSION,
    .description = "MySQL / MariaDB storage (libmysqlclient)",
    .kind = GH_KIND_STORAGE,
    .options = my_options,
    .option_rules = my_rules,
    .inst_size = sizeof(my_inst),
    .thread_size = sizeof(my_thread),
    .instantiate = my_instantiate,
    .thread_init = my_thread_init,
    .thread_fini = my_thread_fini,
    .detach = my_detach,
    .health = my_health,
    .ops = &my_ops,
};

GH_EXPORT const gh_plugin *gatehouse_plugin_v1(const gh_host *h)
{
    /* the 1.1 members for drivers; the rest is 1.0, set by any 1.x host */
    if (h == NULL || h->abi_major != GH_ABI_MAJOR || !GH_HAS(h, call_left_ms) ||
        !GH_HAS(h, url_parse))
        return NULL;
    host = h;
    return &my_plugin;
}
