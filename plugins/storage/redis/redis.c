/*
 * redis.c - the kv plugin on Redis (hiredis): deny-listed token ids, rate
 * limit counters and one-time codes, shared by every gatehoused instance.
 *
 * Each worker thread owns one synchronous connection in its per-thread
 * instance, so nothing here locks. Every command is bounded by
 * command_timeout and by the call's deadline, whichever ends first (socket
 * timeouts, set before each command). Redis gone is not a reason to hang a
 * worker: any I/O error or timeout drops the connection and answers
 * GH_ERR_UNAVAILABLE at once. When to connect again (once per call, within
 * its deadline, not again for a while after a failure) is the store's
 * policy (core/store/store.c): this plugin connects when asked
 * (rd_connect), closes when told (rd_disconnect) and says whether its
 * connection is gone (rd_lost).
 *
 * Semantics are those of core/store/store.h, which the SQL kv also keeps:
 *  get   GET (EXISTS when the caller wants no value); nil is NOT_FOUND
 *  set   SET key value [PX ttl] [NX]; nil under NX is CONFLICT
 *  incr  SET key 0 PX ttl NX, then INCRBY, in one MULTI/EXEC: atomic, and a
 *        new key gets the TTL while a live one keeps its expiry. MULTI/EXEC
 *        rather than a Lua script: no script cache to miss after a restart
 *        and no EVAL permission for an ACL user to lack
 *  del   DEL; 0 deleted is NOT_FOUND, so del is an atomic "take"
 *  get_many  MGET: a request's deny-list entries and version stamps in
 *        one round trip
 *  get_many_async  the same MGET from an event loop, which does not wait
 *        for it: see "asynchronous reads" below
 * Keys are key_prefix + key, so several deployments can share one Redis.
 *
 * Nothing logged or put in a message holds a value or the password: error
 * replies are cut where Redis starts quoting arguments, and the URL is
 * never echoed (it may hold the password).
 *
 * options:
 *   url: redis://[user[:password]@]host[:port][/db]   or
 *        unix://[user[:password]@]/path/to/redis.sock[?db=N]
 *   password / password_file   overrides a password in the URL
 *   connect_timeout: 1s        connect, AUTH and SELECT
 *   command_timeout: 1s        one command, reply included
 *   key_prefix: "gatehouse:"
 *   tls: false                 hiredis 0.14 cannot; true is refused
 *
 * A host name is resolved at every connect, so a failover by DNS is
 * followed; getaddrinfo has no timeout of its own, so where DNS may hang,
 * give an address. The daemon ignores SIGPIPE; hiredis writes with
 * write(2), so a process that loads this plugin must too.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>
#include <gatehouse/plugin.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

#define DEFAULT_PORT 6379
/* Redis refuses an expiry past LLONG_MAX ms from now; the SQL kv saturates.
 * A thousand years is "never" for every key we keep. */
#define MAX_TTL_MS (1000LL * 365 * 24 * 3600 * 1000)
#define KEY_BUF 512 /* prefix + key fit here; longer ones are allocated */

static const gh_host *host; /* valid for the life of the plugin */

/* Read-only after instantiate(); shared by every thread. Copied out of the
 * config, which a reload may replace. Holds the password: the loader wipes
 * it when the plugin is unloaded. */
typedef struct rd_inst {
    char host[256];       /* TCP host, or "" for a unix socket */
    char path[108];       /* unix socket path (sun_path's size) */
    int port;
    int db;
    char user[128];
    char password[512];
    char prefix[128];
    size_t prefix_len;
    int64_t connect_ms;
    int64_t command_ms;
    char where[300];      /* "127.0.0.1:6379" or the socket path, for messages */
} rd_inst;

typedef struct rd_thread {
    redisContext *ctx;
    int64_t timeout_ms;   /* what the socket's timeouts are set to now */
    char why[160];        /* why it failed (no secrets), for thread_init's log */
    /* an event-loop thread's second connection, for get_many_async */
    redisAsyncContext *actx;
    struct event_base *abase; /* the loop actx is attached to */
    int64_t aretry_ms;    /* after a failure: no new actx before (monotonic) */
} rd_thread;

static const gh_option rd_options[] = {
    { "url", GH_T_STR, 1,
      "redis://[user[:password]@]host[:port][/db] or unix:///path/to/redis.sock[?db=N]" },
    { "password", GH_T_SECRET, 0, "overrides a password in the url" },
    { "connect_timeout", GH_T_DURATION, 0, "connect, AUTH and SELECT" },
    { "command_timeout", GH_T_DURATION, 0, "one command and its reply" },
    { "key_prefix", GH_T_STR, 0, "put before every key (default \"gatehouse:\")" },
    { "tls", GH_T_BOOL, 0, "TLS to Redis (needs hiredis >= 1.0; not in this build)" },
    { NULL, 0, 0, NULL }
};

/* Checked and defaulted by the host before instantiate (ABI 1.1). */
static const gh_option_rule rd_rules[] = {
    { "connect_timeout", "1s", "1ms..10m", NULL },
    { "command_timeout", "1s", "1ms..10m", NULL },
    { NULL, NULL, NULL, NULL }
};

/* ------------------------------------------------------------------ time */

static struct timeval tv_ms(int64_t ms)
{
    struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };

    return tv;
}

/* ------------------------------------------------------------------- url */

/* A database number: digits only, at most INT_MAX. 0, or -1. */
static int parse_db(const char *s, int *out)
{
    long v = 0;

    if (*s == '\0' || strlen(s) > 10)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
    }
    if (v > INT_MAX)
        return -1;
    *out = (int)v;
    return 0;
}

#define URL_FORM "redis://[user[:password]@]host[:port][/db] or unix:///path[?db=N]"

/* The parts of a split URL (host->url_parse) this plugin keeps. */
static gh_result take_url(rd_inst *in, gh_call *call, const gh_url *u)
{
    memcpy(in->user, u->user, sizeof(in->user));
    memcpy(in->password, u->password, sizeof(in->password));
    if (strcmp(u->scheme, "unix") == 0) {
        if (u->host[0] != '\0' || u->path[0] != '/')
            return host->fail(call, GH_ERR_INVALID, "url: a unix socket needs an absolute path "
                              "(unix:///path/to/redis.sock)");
        if (strlen(u->path) >= sizeof(in->path))
            return host->fail(call, GH_ERR_INVALID, "url: the socket path is longer than %zu "
                              "bytes", sizeof(in->path) - 1);
        memcpy(in->path, u->path, strlen(u->path) + 1);
        if (u->query[0] != '\0' &&
            (strncmp(u->query, "db=", 3) != 0 || parse_db(u->query + 3, &in->db) != 0))
            return host->fail(call, GH_ERR_INVALID, "url: after the socket path only "
                              "?db=N is understood");
        snprintf(in->where, sizeof(in->where), "%s", in->path);
        return GH_OK;
    }
    if (u->host[0] == '\0' || u->query[0] != '\0')
        return host->fail(call, GH_ERR_INVALID, "url: expected " URL_FORM);
    memcpy(in->host, u->host, sizeof(in->host));
    in->port = u->port ? u->port : DEFAULT_PORT;
    if (u->path[0] != '\0' && strcmp(u->path, "/") != 0 && parse_db(u->path + 1, &in->db) != 0)
        return host->fail(call, GH_ERR_INVALID, "url: the database must be a number "
                          "(redis://host:port/0)");
    snprintf(in->where, sizeof(in->where), strchr(in->host, ':') ? "[%s]:%d" : "%s:%d",
             in->host, in->port);
    return GH_OK;
}

/* Fill host/port/path/db/user/password from the URL. Messages never quote
 * the URL: it may hold the password. */
static gh_result parse_url(rd_inst *in, gh_call *call, const char *url)
{
    gh_url u = { .size = sizeof(gh_url) };
    gh_result r;

    if (strncmp(url, "rediss://", 9) == 0)
        return host->fail(call, GH_ERR_UNSUPPORTED,
                          "url: rediss:// (TLS) needs a plugin built with hiredis >= 1.0; "
                          "this one has hiredis %d.%d", HIREDIS_MAJOR, HIREDIS_MINOR);
    if (strncmp(url, "redis://", 8) != 0 && strncmp(url, "unix://", 7) != 0)
        return host->fail(call, GH_ERR_INVALID, "url: expected " URL_FORM);
    if ((r = host->url_parse(call, url, &u)) == GH_OK)
        r = take_url(in, call, &u);
    host->wipe(u.password, sizeof(u.password));
    return r;
}

/* ------------------------------------------------------------ lifecycle */

static gh_result rd_instantiate(void *vinst, const gh_cfg *cfg, gh_call *call)
{
    rd_inst *in = vinst;
    const char *url = host->cfg_str(cfg, "url", NULL);
    const char *prefix = host->cfg_str(cfg, "key_prefix", "gatehouse:");
    char *secret;
    gh_result r;

    if (host->cfg_bool(cfg, "tls", 0))
        return host->fail(call, GH_ERR_UNSUPPORTED,
                          "tls: this redis plugin is built with hiredis %d.%d, which has no "
                          "TLS; TLS needs hiredis >= 1.0 (or reach Redis through a local "
                          "TLS tunnel and set tls: false)", HIREDIS_MAJOR, HIREDIS_MINOR);
    if (url == NULL || *url == '\0')
        return host->fail(call, GH_ERR_INVALID, "url: required (" URL_FORM ")");
    if ((r = parse_url(in, call, url)) != GH_OK)
        return r;
    in->connect_ms = host->cfg_int(cfg, "connect_timeout", 0); /* rd_rules' default */
    in->command_ms = host->cfg_int(cfg, "command_timeout", 0);
    if (prefix == NULL)
        prefix = "";
    if (strlen(prefix) >= sizeof(in->prefix))
        return host->fail(call, GH_ERR_INVALID, "key_prefix: longer than %zu bytes",
                          sizeof(in->prefix) - 1);
    memcpy(in->prefix, prefix, strlen(prefix) + 1);
    in->prefix_len = strlen(prefix);

    /* the option wins over a password written in the url */
    secret = host->cfg_secret(cfg, "password");
    if (secret != NULL) {
        size_t n = strlen(secret);
        int fits = n < sizeof(in->password);

        if (fits)
            memcpy(in->password, secret, n + 1);
        host->wipe(secret, n);
        host->free(secret);
        if (!fits)
            return host->fail(call, GH_ERR_INVALID, "password: longer than %zu bytes",
                              sizeof(in->password) - 1);
    } else {
        /* password_file set but unreadable: the host has said why */
        const char *file = host->cfg_str(cfg, "password_file", NULL);

        if (file != NULL && *file != '\0')
            return host->fail(call, GH_ERR_INVALID, "password_file: cannot be read");
    }
    return GH_OK;
}

/* ---------------------------------------------------------- connection */

/* The text of an error reply, cut where Redis starts quoting what it was
 * sent ("ERR unknown command 'x', with args beginning with: 'secret'"), so
 * no key, value or password reaches a log. */
static void safe_error(const redisReply *rep, char *buf, size_t len)
{
    size_t n = rep->str ? strcspn(rep->str, "'\"\r\n") : 0;

    if (n >= len)
        n = len - 1;
    while (n > 0 && (rep->str[n - 1] == ' ' || rep->str[n - 1] == ',' || rep->str[n - 1] == ':'))
        n--;
    memcpy(buf, rep->str ? rep->str : "", n);
    buf[n] = '\0';
}

static int reply_error_is(const redisReply *rep, const char *prefix)
{
    return rep->type == REDIS_REPLY_ERROR && rep->str != NULL &&
           strncmp(rep->str, prefix, strlen(prefix)) == 0;
}

/* An error reply's ABI code: a server that is starting, failing over or
 * busy is worth retrying; a bad counter is the caller's; the rest is a
 * bug here or data under our prefix that is not ours. */
static gh_result reply_error_code(const redisReply *rep)
{
    static const char *const transient[] = { "LOADING", "BUSY", "MASTERDOWN", "READONLY",
                                              "TRYAGAIN", "CLUSTERDOWN", "OOM", "NOAUTH",
                                              "NOREPLICAS", NULL };

    for (size_t i = 0; transient[i]; i++)
        if (reply_error_is(rep, transient[i]))
            return GH_ERR_UNAVAILABLE;
    if (reply_error_is(rep, "WRONGPASS") || reply_error_is(rep, "NOPERM"))
        return GH_ERR_DENIED;
    if (reply_error_is(rep, "WRONGTYPE") || (rep->str && (strstr(rep->str, "not an integer") ||
                                                          strstr(rep->str, "overflow"))))
        return GH_ERR_INVALID;
    return GH_ERR_INTERNAL;
}

static void drop(rd_thread *t)
{
    if (t->ctx != NULL)
        redisFree(t->ctx);
    t->ctx = NULL;
}

/* A server that now wants a password, or that became a replica in a
 * failover, will not change its mind on this connection: drop it, so the
 * next call connects (and authenticates) afresh. */
static gh_result reply_fail(const rd_inst *in, rd_thread *t, gh_call *call, const char *what,
                            const redisReply *rep)
{
    char text[160];

    safe_error(rep, text, sizeof(text));
    if (reply_error_is(rep, "NOAUTH") || reply_error_is(rep, "READONLY"))
        drop(t);
    return host->fail(call, reply_error_code(rep), "%s: %s: %s", in->where, what, text);
}

/* Set the socket's send and receive timeouts, unless they already are. */
static int arm(rd_thread *t, int64_t ms)
{
    if (ms == t->timeout_ms)
        return 0;
    if (redisSetTimeout(t->ctx, tv_ms(ms)) != REDIS_OK)
        return -1;
    t->timeout_ms = ms;
    return 0;
}

/* An I/O failure: the connection cannot be trusted to be in step any more. */
static gh_result io_fail(const rd_inst *in, rd_thread *t, gh_call *call, const char *what,
                         int64_t ms)
{
    const char *why = t->ctx ? t->ctx->errstr : "no connection";
    gh_result r;

    /* a socket timeout: hiredis keeps strerror(EAGAIN) as its message */
    if (t->ctx && t->ctx->err == REDIS_ERR_IO &&
        (errno == EAGAIN || errno == EWOULDBLOCK || strcmp(why, strerror(EAGAIN)) == 0))
        r = host->fail(call, GH_ERR_UNAVAILABLE, "%s: %s: no answer within %lld ms", in->where,
                       what, (long long)ms);
    else if (t->ctx && t->ctx->err == REDIS_ERR_OOM)
        r = host->fail(call, GH_ERR_NOMEM, "%s: %s: out of memory", in->where, what);
    else
        r = host->fail(call, GH_ERR_UNAVAILABLE, "%s: %s: %s", in->where, what,
                       why[0] ? why : "connection lost");
    drop(t);
    return r;
}

/* Send argc-argument commands as one pipeline and read every reply, all
 * within ms. replies[i] gets command i's reply (free with freeReplyObject).
 * On an I/O error the connection is dropped and nothing is returned. */
static gh_result pipeline(const rd_inst *in, rd_thread *t, gh_call *call, const char *what,
                          int64_t ms, size_t ncmd, const int *argc, const char *const *argv[],
                          const size_t *argvlen[], redisReply **replies)
{
    size_t got = 0;

    if (arm(t, ms) != 0)
        return io_fail(in, t, call, what, ms);
    for (size_t i = 0; i < ncmd; i++)
        if (redisAppendCommandArgv(t->ctx, argc[i], (const char **)argv[i], argvlen[i]) !=
            REDIS_OK)
            return io_fail(in, t, call, what, ms);
    for (; got < ncmd; got++) {
        void *rep = NULL;

        if (redisGetReply(t->ctx, &rep) != REDIS_OK || rep == NULL)
            break;
        replies[got] = rep;
    }
    if (got == ncmd)
        return GH_OK;
    while (got > 0)
        freeReplyObject(replies[--got]);
    return io_fail(in, t, call, what, ms);
}

/* One command, one reply. */
static gh_result command(const rd_inst *in, rd_thread *t, gh_call *call, const char *what,
                         int64_t ms, int argc, const char **argv, const size_t *argvlen,
                         redisReply **reply)
{
    const char *const *av[1] = { argv };
    const size_t *al[1] = { argvlen };

    return pipeline(in, t, call, what, ms, 1, &argc, av, al, reply);
}

/* AUTH and SELECT on a fresh connection. A refusal is a configuration
 * error (DENIED or INVALID), not an outage. */
static gh_result handshake(const rd_inst *in, rd_thread *t, gh_call *call, int64_t ms)
{
    redisReply *rep = NULL;
    gh_result r = GH_OK;

    if (in->password[0] != '\0' || (in->user[0] != '\0' && strcmp(in->user, "default") != 0)) {
        /* AUTH <password> is the default user's and works before Redis 6 */
        int with_user = in->user[0] != '\0' && strcmp(in->user, "default") != 0;
        const char *argv[3] = { "AUTH", with_user ? in->user : in->password, in->password };
        size_t len[3] = { 4, strlen(argv[1]), strlen(in->password) };

        if ((r = command(in, t, call, "AUTH", ms, with_user ? 3 : 2, argv, len, &rep)) != GH_OK)
            return r;
        if (rep->type == REDIS_REPLY_ERROR) {
            char text[160];

            safe_error(rep, text, sizeof(text));
            r = host->fail(call, GH_ERR_DENIED, "%s: AUTH%s%s refused: %s", in->where,
                           with_user ? " as " : "", with_user ? in->user : "", text);
        }
        freeReplyObject(rep);
        if (r != GH_OK)
            return r;
    }
    if (in->db != 0) {
        char db[16];
        const char *argv[2] = { "SELECT", db };
        size_t len[2] = { 6, (size_t)snprintf(db, sizeof(db), "%d", in->db) };

        if ((r = command(in, t, call, "SELECT", ms, 2, argv, len, &rep)) != GH_OK)
            return r;
        if (rep->type == REDIS_REPLY_ERROR) {
            char text[160];

            safe_error(rep, text, sizeof(text));
            r = host->fail(call, reply_error_is(rep, "NOAUTH") ? GH_ERR_DENIED : GH_ERR_INVALID,
                           "%s: SELECT %d refused: %s", in->where, in->db, text);
        }
        freeReplyObject(rep);
    }
    return r;
}

/* A connection that turned readable while idle has been closed by the
 * server (a restart, a timeout, CLIENT KILL): a synchronous client has
 * nothing else to read between commands. Found here, a restart costs no
 * request a failure. */
static int stale(const rd_thread *t)
{
    struct pollfd pfd = { .fd = t->ctx->fd, .events = POLLIN };

    return poll(&pfd, 1, 0) != 0;
}

static gh_result connect_now(const rd_inst *in, rd_thread *t, gh_call *call)
{
    int64_t ms = host->call_left_ms(call, in->connect_ms);
    gh_result r;

    if (ms <= 0)
        return host->fail(call, GH_ERR_TIMEOUT, "%s: no time left to connect", in->where);
    t->ctx = in->path[0] ? redisConnectUnixWithTimeout(in->path, tv_ms(ms))
                         : redisConnectWithTimeout(in->host, in->port, tv_ms(ms));
    t->timeout_ms = -1;
    if (t->ctx == NULL)
        return host->fail(call, GH_ERR_NOMEM, "%s: connect: out of memory", in->where);
    if (t->ctx->err) {
        snprintf(t->why, sizeof(t->why), "%s", t->ctx->errstr);
        r = host->fail(call, GH_ERR_UNAVAILABLE, "%s: cannot connect: %s", in->where, t->why);
        goto fail;
    }
    if (!in->path[0])
        redisEnableKeepAlive(t->ctx); /* a peer that vanished is noticed while idle */
    if ((r = handshake(in, t, call, ms)) != GH_OK) {
        snprintf(t->why, sizeof(t->why), "%s",
                 r == GH_ERR_UNAVAILABLE ? "no answer to AUTH or SELECT" : "refused");
        goto fail;
    }
    if (GH_HAS(host, count))
        host->count(call, "connect", 1);
    return GH_OK;
fail:
    drop(t);
    if (GH_HAS(host, count))
        host->count(call, "connect_failed", 1);
    return r;
}

/* The store's connection policy, through gh_kv_ops 1.1. */
static gh_result rd_connect(const void *vinst, void *vt, gh_call *call)
{
    return connect_now(vinst, vt, call);
}

static int rd_lost(const void *vinst, void *vt)
{
    rd_thread *t = vt;

    (void)vinst;
    return t->ctx == NULL || t->ctx->err || stale(t);
}

static void rd_disconnect(const void *vinst, void *vt)
{
    (void)vinst;
    drop(vt);
}

/* Run the pipeline within command_timeout and the call's deadline, on the
 * connection the store has made sure of. */
static gh_result run(const rd_inst *in, rd_thread *t, gh_call *call, const char *what,
                     size_t ncmd, const int *argc, const char *const *argv[],
                     const size_t *argvlen[], redisReply **replies)
{
    int64_t ms;

    if (t->ctx == NULL)
        return host->fail(call, GH_ERR_UNAVAILABLE, "%s: not connected", in->where);
    ms = host->call_left_ms(call, in->command_ms);
    if (ms <= 0)
        return host->fail(call, GH_ERR_TIMEOUT, "%s: %s: no time left", in->where, what);
    return pipeline(in, t, call, what, ms, ncmd, argc, argv, argvlen, replies);
}

static gh_result run1(const rd_inst *in, rd_thread *t, gh_call *call, const char *what,
                      int argc, const char **argv, const size_t *argvlen, redisReply **reply)
{
    const char *const *av[1] = { argv };
    const size_t *al[1] = { argvlen };

    return run(in, t, call, what, 1, &argc, av, al, reply);
}

/* Redis is reached lazily when it is down at start-up: the daemon serves
 * what needs no kv and the first call connects. A server that answers but
 * refuses our credentials or database is a configuration error, and stops
 * start-up here rather than at the first login. */
static gh_result rd_thread_init(const void *vinst, void *vt, gh_call *call)
{
    const rd_inst *in = vinst;
    rd_thread *t = vt;
    gh_result r;

    t->timeout_ms = -1;
    r = connect_now(in, t, call);
    if (r == GH_ERR_UNAVAILABLE || r == GH_ERR_TIMEOUT) {
        host->log(call, GH_LOG_WARNING, "%s: cannot connect (%s); kv calls fail until it "
                  "answers", in->where, t->why);
        return GH_OK;
    }
    return r;
}

static void async_free(rd_thread *t);

static void rd_thread_fini(const void *vinst, void *vt)
{
    (void)vinst;
    drop(vt);
    async_free(vt);
}

static gh_result rd_health(const void *vinst, void *vt, gh_call *call)
{
    const char *argv[1] = { "PING" };
    size_t len[1] = { 4 };
    redisReply *rep = NULL;
    gh_result r = run1(vinst, vt, call, "PING", 1, argv, len, &rep);

    if (r != GH_OK)
        return r;
    if (rep->type == REDIS_REPLY_ERROR)
        r = reply_fail(vinst, vt, call, "PING", rep);
    freeReplyObject(rep);
    return r;
}

/* ------------------------------------------------------------------- keys */

/* prefix + key, in buf when it fits, else allocated (free_key). */
typedef struct rd_key {
    char *s;
    size_t len;
    char buf[KEY_BUF];
} rd_key;

static gh_result make_key(const rd_inst *in, gh_call *call, const char *key, rd_key *k)
{
    size_t n = strlen(key);

    k->len = in->prefix_len + n;
    k->s = k->len < sizeof(k->buf) ? k->buf : malloc(k->len + 1);
    if (k->s == NULL)
        return host->fail(call, GH_ERR_NOMEM, "key: out of memory");
    memcpy(k->s, in->prefix, in->prefix_len);
    memcpy(k->s + in->prefix_len, key, n + 1);
    return GH_OK;
}

static void free_key(rd_key *k)
{
    if (k->s != k->buf)
        free(k->s);
}

static size_t ttl_text(char buf[24], int64_t ttl_ms)
{
    return (size_t)snprintf(buf, 24, "%lld",
                            (long long)(ttl_ms > MAX_TTL_MS ? MAX_TTL_MS : ttl_ms));
}

/* -------------------------------------------------------------------- ops */

static gh_result rd_get(const void *vinst, void *vt, gh_call *call, const char *key,
                        gh_out *out)
{
    const rd_inst *in = vinst;
    redisReply *rep = NULL;
    rd_key k;
    gh_result r;

    if ((r = make_key(in, call, key, &k)) != GH_OK)
        return r;
    {
        /* no output wanted: ask whether it is there, without the value */
        const char *argv[2] = { out ? "GET" : "EXISTS", k.s };
        size_t len[2] = { out ? 3 : 6, k.len };

        r = run1(in, vt, call, argv[0], 2, argv, len, &rep);
    }
    free_key(&k);
    if (r != GH_OK)
        return r;
    if (rep->type == REDIS_REPLY_NIL || (rep->type == REDIS_REPLY_INTEGER && rep->integer == 0))
        r = GH_ERR_NOT_FOUND;
    else if (rep->type == REDIS_REPLY_INTEGER)
        r = GH_OK;
    else if (rep->type == REDIS_REPLY_STRING) {
        gh_param v = { "value", GH_T_BYTES, rep->str, rep->len };

        r = host->put(out, &v);
    } else if (rep->type == REDIS_REPLY_ERROR)
        r = reply_fail(in, vt, call, "GET", rep);
    else
        r = host->fail(call, GH_ERR_INTERNAL, "%s: GET: unexpected reply type %d", in->where,
                       rep->type);
    freeReplyObject(rep);
    return r;
}

/* The MGET reply's values, in order; nothing on a reply of another shape. */
static gh_result many_values(const rd_inst *in, rd_thread *t, gh_call *call,
                             const redisReply *rep, size_t n, gh_out *out)
{
    if (rep->type == REDIS_REPLY_ERROR)
        return reply_fail(in, t, call, "MGET", rep);
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != n)
        return host->fail(call, GH_ERR_INTERNAL, "%s: MGET: unexpected reply", in->where);
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = rep->element[i];

        if (e->type != REDIS_REPLY_NIL && e->type != REDIS_REPLY_STRING)
            return host->fail(call, GH_ERR_INTERNAL, "%s: MGET: unexpected reply type %d",
                              in->where, e->type);
    }
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = rep->element[i];
        gh_param v = { "value", e->type == REDIS_REPLY_NIL ? GH_T_NULL : GH_T_BYTES,
                       e->type == REDIS_REPLY_NIL ? NULL : e->str,
                       e->type == REDIS_REPLY_NIL ? 0 : e->len };
        gh_result r = host->put(out, &v);

        if (r != GH_OK)
            return r;
    }
    return GH_OK;
}

/* An MGET's arguments: "MGET" and n keys, made with the key prefix. */
typedef struct mget_args {
    rd_key *k;
    const char **argv;
    size_t *len, made;
} mget_args;

static void mget_free(mget_args *a)
{
    for (size_t i = 0; i < a->made; i++)
        free_key(&a->k[i]);
    free(a->k);
    free(a->argv);
    free(a->len);
}

/* GH_OK with a->argv, a->len ready (n + 1 of each); else a->made keys to
 * free with mget_free. */
static gh_result mget_make(const rd_inst *in, gh_call *call, const char *const *keys, size_t n,
                           mget_args *a)
{
    gh_result r = GH_OK;

    *a = (mget_args){ calloc(n, sizeof(*a->k)), calloc(n + 1, sizeof(*a->argv)),
                      calloc(n + 1, sizeof(*a->len)), 0 };
    if (!a->k || !a->argv || !a->len || n >= INT_MAX)
        return host->fail(call, GH_ERR_NOMEM, "MGET: out of memory");
    for (; r == GH_OK && a->made < n; a->made++) {
        if ((r = make_key(in, call, keys[a->made], &a->k[a->made])) != GH_OK)
            break;
        a->argv[a->made + 1] = a->k[a->made].s;
        a->len[a->made + 1] = a->k[a->made].len;
    }
    a->argv[0] = "MGET";
    a->len[0] = 4;
    return r;
}

/* MGET: every key a request needs (deny-list entries, version stamps) in
 * one round trip. */
static gh_result rd_get_many(const void *vinst, void *vt, gh_call *call, const char *const *keys,
                             size_t n, gh_out *out)
{
    const rd_inst *in = vinst;
    redisReply *rep = NULL;
    mget_args a;
    gh_result r = mget_make(in, call, keys, n, &a);

    if (r == GH_OK)
        r = run1(in, vt, call, "MGET", (int)n + 1, a.argv, a.len, &rep);
    if (r == GH_OK)
        r = many_values(in, vt, call, rep, n, out);
    if (rep)
        freeReplyObject(rep);
    mget_free(&a);
    return r;
}

/* ---------------------------------------------------- asynchronous reads */

/*
 * get_many_async: an event loop's MGET, which the loop does not wait for.
 * The loop thread keeps a second, hiredis-async connection in its thread
 * instance, attached to its event_base; hiredis queues the commands of
 * one pass of the loop and writes them together, and answers callbacks in
 * order. No lock: only that thread touches it. The wait is bounded with
 * a timer of our own (hiredis 0.14 has no command timeout), twice: at the
 * call's deadline its caller is answered GH_ERR_UNAVAILABLE and moves on
 * (a loop that was not scheduled for a while, on a busy machine, finds
 * its reads late; the connection is fine, and the late answer is
 * dropped); at command_timeout the connection is taken for hung and
 * freed, which answers every read still on it with NULL. After a failed
 * connect or a hung connection no new one is tried for ASYNC_BACKOFF_MS:
 * meanwhile the op answers UNAVAILABLE at once and the host reads on a
 * worker.
 */
#define ASYNC_BACKOFF_MS 1000

/* One read on its way: freed by its reply callback, which always runs. */
typedef struct rd_wait {
    const rd_inst *in;
    rd_thread *t;
    redisAsyncContext *ac; /* the connection it went out on, alive while it is */
    gh_call *call;
    size_t n;
    gh_kv_many_cb cb;
    void *arg;
    struct event *timer;
    int64_t ms;           /* its budget: the call's time left */
    int answered;         /* cb has run (late): call and arg are gone */
} rd_wait;

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Forget t's async connection (it is being freed or is gone); back off
 * when it failed rather than closed. */
static void async_forget(rd_thread *t, const redisAsyncContext *ac, int failed)
{
    if (t->actx != ac)
        return;
    t->actx = NULL;
    if (failed)
        t->aretry_ms = mono_ms() + ASYNC_BACKOFF_MS;
}

static void async_free(rd_thread *t)
{
    redisAsyncContext *ac = t->actx;

    if (ac == NULL)
        return;
    async_forget(t, ac, 1);
    redisAsyncFree(ac); /* every pending callback runs, with NULL */
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    if (status != REDIS_OK) /* hiredis frees it next */
        async_forget(ac->data, ac, 1);
}

/* Closed by the server (a restart, CLIENT KILL, its idle timeout): the
 * next read connects again, and backs off only if that fails. */
static void on_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    async_forget(ac->data, ac, 0);
}

/* AUTH or SELECT refused: the MGETs queued behind fail too (their callers
 * read on a worker, whose connection logs why); close and back off. */
static void on_handshake(redisAsyncContext *ac, void *reply, void *privdata)
{
    const redisReply *rep = reply;

    (void)privdata;
    if (rep != NULL && rep->type == REDIS_REPLY_ERROR) {
        async_forget(ac->data, ac, 1);
        redisAsyncDisconnect(ac);
    }
}

/* AUTH and SELECT, queued ahead of everything else on a new connection. */
static int async_handshake(const rd_inst *in, redisAsyncContext *ac)
{
    int rc = REDIS_OK;

    if (in->password[0] != '\0' || (in->user[0] != '\0' && strcmp(in->user, "default") != 0)) {
        int with_user = in->user[0] != '\0' && strcmp(in->user, "default") != 0;
        const char *argv[3] = { "AUTH", with_user ? in->user : in->password, in->password };
        size_t len[3] = { 4, strlen(argv[1]), strlen(in->password) };

        rc = redisAsyncCommandArgv(ac, on_handshake, NULL, with_user ? 3 : 2, argv, len);
    }
    if (rc == REDIS_OK && in->db != 0) {
        char db[16];
        const char *argv[2] = { "SELECT", db };
        size_t len[2] = { 6, (size_t)snprintf(db, sizeof(db), "%d", in->db) };

        rc = redisAsyncCommandArgv(ac, on_handshake, NULL, 2, argv, len);
    }
    return rc;
}

/* t's async connection on base, connecting (without waiting) when there
 * is none and the back-off allows. */
static gh_result async_ready(const rd_inst *in, rd_thread *t, gh_call *call,
                             struct event_base *base)
{
    redisAsyncContext *ac;

    if (t->actx != NULL && t->abase == base)
        return GH_OK;
    if (t->actx != NULL)
        return host->fail(call, GH_ERR_INVALID, "%s: MGET: another event loop's connection",
                          in->where);
    if (mono_ms() < t->aretry_ms)
        return host->fail(call, GH_ERR_UNAVAILABLE, "%s: MGET: connecting again shortly",
                          in->where);
    ac = in->path[0] ? redisAsyncConnectUnix(in->path) : redisAsyncConnect(in->host, in->port);
    if (ac == NULL)
        return host->fail(call, GH_ERR_NOMEM, "%s: connect: out of memory", in->where);
    if (ac->err || redisLibeventAttach(ac, base) != REDIS_OK) {
        gh_result r = host->fail(call, GH_ERR_UNAVAILABLE, "%s: cannot connect: %s", in->where,
                                 ac->err ? ac->errstr : "cannot watch the socket");

        redisAsyncFree(ac);
        t->aretry_ms = mono_ms() + ASYNC_BACKOFF_MS;
        return r;
    }
    ac->data = t;
    t->actx = ac;
    t->abase = base;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    if (async_handshake(in, ac) != REDIS_OK) {
        async_free(t);
        return host->fail(call, GH_ERR_UNAVAILABLE, "%s: cannot send AUTH or SELECT", in->where);
    }
    if (GH_HAS(host, count))
        host->count(call, "connect", 1);
    return GH_OK;
}

/* The reply's values, as get_many puts them, into v (w->n of them). */
static gh_result async_values(rd_wait *w, const redisReply *rep, gh_param *v)
{
    const rd_inst *in = w->in;
    char text[160];

    if (rep == NULL)
        return host->fail(w->call, GH_ERR_UNAVAILABLE, "%s: MGET: connection lost", in->where);
    if (rep->type == REDIS_REPLY_ERROR) {
        safe_error(rep, text, sizeof(text));
        return host->fail(w->call, reply_error_code(rep), "%s: MGET: %s", in->where, text);
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != w->n)
        return host->fail(w->call, GH_ERR_INTERNAL, "%s: MGET: unexpected reply", in->where);
    for (size_t i = 0; i < w->n; i++) {
        const redisReply *e = rep->element[i];

        if (e->type != REDIS_REPLY_NIL && e->type != REDIS_REPLY_STRING)
            return host->fail(w->call, GH_ERR_INTERNAL, "%s: MGET: unexpected reply type %d",
                              in->where, e->type);
        v[i] = (gh_param){ "value", e->type == REDIS_REPLY_NIL ? GH_T_NULL : GH_T_BYTES,
                           e->type == REDIS_REPLY_NIL ? NULL : e->str,
                           e->type == REDIS_REPLY_NIL ? 0 : e->len };
    }
    return GH_OK;
}

/* hiredis' callback: runs once per read, with NULL when the connection
 * went (or was freed as hung); a read answered late is only forgotten. */
static void on_mget(redisAsyncContext *ac, void *reply, void *privdata)
{
    rd_wait *w = privdata;
    const redisReply *rep = reply;

    /* a server that wants a password or went read-only will not change
     * its mind on this connection */
    if (rep != NULL && (reply_error_is(rep, "NOAUTH") || reply_error_is(rep, "READONLY"))) {
        async_forget(w->t, ac, 1);
        redisAsyncDisconnect(ac);
    }
    event_free(w->timer);
    if (!w->answered) {
        gh_param *v = calloc(w->n, sizeof(*v));
        gh_result r = v ? async_values(w, rep, v)
                        : host->fail(w->call, GH_ERR_NOMEM, "MGET: out of memory");

        w->cb(w->arg, r, r == GH_OK ? v : NULL, r == GH_OK ? w->n : 0);
        free(v);
    }
    free(w);
}

/* First at the call's deadline: the caller moves on, the read stays on the
 * connection; then, at command_timeout, the connection is hung: freed,
 * with every read on it (this one's callback frees it). */
static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    rd_wait *w = arg;
    int64_t rest = w->in->command_ms - w->ms;

    (void)fd;
    (void)what;
    if (!w->answered) {
        struct timeval tv = tv_ms(rest);

        w->answered = 1;
        host->fail(w->call, GH_ERR_UNAVAILABLE, "%s: MGET: no answer within %lld ms",
                   w->in->where, (long long)w->ms);
        w->cb(w->arg, GH_ERR_UNAVAILABLE, NULL, 0);
        if (rest > 0 && evtimer_add(w->timer, &tv) == 0)
            return;
    }
    if (w->t->actx == w->ac)
        async_free(w->t);
    else /* one already forgotten, closing once its replies are in */
        redisAsyncFree(w->ac);
}

static gh_result rd_get_many_async(const void *vinst, void *vt, gh_call *call,
                                   struct event_base *base, const char *const *keys, size_t n,
                                   gh_kv_many_cb cb, void *arg)
{
    const rd_inst *in = vinst;
    rd_thread *t = vt;
    int64_t ms = host->call_left_ms(call, in->command_ms);
    mget_args a = { 0 };
    rd_wait *w = calloc(1, sizeof(*w));
    gh_result r = w ? GH_OK : host->fail(call, GH_ERR_NOMEM, "MGET: out of memory");

    if (r == GH_OK && n == 0)
        r = host->fail(call, GH_ERR_INVALID, "MGET: no keys");
    if (r == GH_OK && ms <= 0)
        r = host->fail(call, GH_ERR_TIMEOUT, "%s: MGET: no time left", in->where);
    if (r == GH_OK)
        r = async_ready(in, t, call, base);
    if (r == GH_OK)
        r = mget_make(in, call, keys, n, &a);
    if (r == GH_OK) {
        struct timeval tv = tv_ms(ms);

        *w = (rd_wait){ in, t, t->actx, call, n, cb, arg, evtimer_new(base, on_timeout, w), ms, 0 };
        /* from now, not from when this pass of the loop began: libevent
         * adds a timer to the time it read last, which a long pass (a
         * loop's first storage connect) leaves far behind */
        event_base_update_cache_time(base);
        if (w->timer == NULL || evtimer_add(w->timer, &tv) != 0)
            r = host->fail(call, GH_ERR_NOMEM, "MGET: out of memory");
        else if (redisAsyncCommandArgv(t->actx, on_mget, w, (int)n + 1, a.argv, a.len) != REDIS_OK)
            r = host->fail(call, GH_ERR_UNAVAILABLE, "%s: MGET: the connection is closing",
                           in->where);
        if (r != GH_OK && w->timer)
            event_free(w->timer);
    }
    mget_free(&a);
    if (r != GH_OK)
        free(w);
    return r;
}

static gh_result rd_set(const void *vinst, void *vt, gh_call *call, const char *key,
                        const void *val, size_t vlen, int64_t ttl_ms, uint32_t flags)
{
    const rd_inst *in = vinst;
    redisReply *rep = NULL;
    char ttl[24];
    const char *argv[6] = { "SET", NULL, val ? val : "", NULL, NULL, NULL };
    size_t len[6] = { 3, 0, vlen, 0, 0, 0 };
    int argc = 3;
    rd_key k;
    gh_result r;

    if (val == NULL && vlen != 0)
        return host->fail(call, GH_ERR_INVALID, "set: a value of %zu bytes without data", vlen);
    if ((r = make_key(in, call, key, &k)) != GH_OK)
        return r;
    argv[1] = k.s;
    len[1] = k.len;
    if (ttl_ms > 0) {
        argv[argc] = "PX";
        len[argc++] = 2;
        len[argc] = ttl_text(ttl, ttl_ms);
        argv[argc++] = ttl;
    }
    if (flags & GH_KV_NX) {
        argv[argc] = "NX";
        len[argc++] = 2;
    }
    r = run1(in, vt, call, "SET", argc, argv, len, &rep);
    free_key(&k);
    if (r != GH_OK)
        return r;
    if (rep->type == REDIS_REPLY_STATUS)
        r = GH_OK;
    else if (rep->type == REDIS_REPLY_NIL)
        r = (flags & GH_KV_NX) ? GH_ERR_CONFLICT
                               : host->fail(call, GH_ERR_INTERNAL, "%s: SET: no answer", in->where);
    else if (rep->type == REDIS_REPLY_ERROR)
        r = reply_fail(in, vt, call, "SET", rep);
    else
        r = host->fail(call, GH_ERR_INTERNAL, "%s: SET: unexpected reply type %d", in->where,
                       rep->type);
    freeReplyObject(rep);
    return r;
}

/* The INCRBY reply, wherever it sits (alone, or last in EXEC's array). */
static gh_result incr_result(const rd_inst *in, rd_thread *t, gh_call *call,
                             const redisReply *rep, int64_t *result)
{
    if (rep->type == REDIS_REPLY_INTEGER) {
        if (result != NULL)
            *result = rep->integer;
        return GH_OK;
    }
    if (rep->type == REDIS_REPLY_ERROR)
        return reply_fail(in, t, call, "INCRBY", rep);
    return host->fail(call, GH_ERR_INTERNAL, "%s: INCRBY: unexpected reply type %d", in->where,
                      rep->type);
}

static gh_result rd_incr(const void *vinst, void *vt, gh_call *call, const char *key,
                         int64_t delta, int64_t ttl_ms, int64_t *result)
{
    const rd_inst *in = vinst;
    char ttl[24], by[24];
    rd_key k;
    gh_result r;

    if ((r = make_key(in, call, key, &k)) != GH_OK)
        return r;
    {
        const char *multi[1] = { "MULTI" }, *exec[1] = { "EXEC" };
        const char *init[6] = { "SET", k.s, "0", "PX", ttl, "NX" };
        const char *incr[3] = { "INCRBY", k.s, by };
        size_t multi_len[1] = { 5 }, exec_len[1] = { 4 };
        size_t init_len[6] = { 3, k.len, 1, 2, ttl_text(ttl, ttl_ms), 2 };
        size_t incr_len[3] = { 6, k.len, (size_t)snprintf(by, sizeof(by), "%lld",
                                                           (long long)delta) };
        redisReply *reps[4] = { NULL, NULL, NULL, NULL };

        if (ttl_ms <= 0) {
            /* no expiry to give a new key: INCRBY alone is atomic */
            r = run1(in, vt, call, "INCRBY", 3, incr, incr_len, &reps[0]);
            if (r == GH_OK)
                r = incr_result(in, vt, call, reps[0], result);
            if (reps[0])
                freeReplyObject(reps[0]);
        } else {
            /* SET NX gives only a new key its TTL; both run as one, so no
             * other client's INCRBY can create the key between them */
            const int argc[4] = { 1, 6, 3, 1 };
            const char *const *argv[4] = { multi, init, incr, exec };
            const size_t *lens[4] = { multi_len, init_len, incr_len, exec_len };

            r = run(in, vt, call, "MULTI/EXEC", 4, argc, argv, lens, reps);
            if (r == GH_OK) {
                const redisReply *ex = reps[3];

                /* refused MULTI (an ACL without it): say so, not EXEC's
                 * "without MULTI" */
                if (reps[0]->type == REDIS_REPLY_ERROR)
                    r = reply_fail(in, vt, call, "MULTI", reps[0]);
                else if (ex->type == REDIS_REPLY_ARRAY && ex->elements == 2)
                    r = incr_result(in, vt, call, ex->element[1], result);
                else if (ex->type == REDIS_REPLY_ERROR)
                    r = reply_fail(in, vt, call, "EXEC", ex);
                else
                    r = host->fail(call, GH_ERR_INTERNAL, "%s: EXEC: unexpected reply",
                                   in->where);
            }
            for (size_t i = 0; i < 4; i++)
                if (reps[i])
                    freeReplyObject(reps[i]);
        }
    }
    free_key(&k);
    return r;
}

static gh_result rd_del(const void *vinst, void *vt, gh_call *call, const char *key)
{
    const rd_inst *in = vinst;
    redisReply *rep = NULL;
    rd_key k;
    gh_result r;

    if ((r = make_key(in, call, key, &k)) != GH_OK)
        return r;
    {
        const char *argv[2] = { "DEL", k.s };
        size_t len[2] = { 3, k.len };

        r = run1(in, vt, call, "DEL", 2, argv, len, &rep);
    }
    free_key(&k);
    if (r != GH_OK)
        return r;
    if (rep->type == REDIS_REPLY_INTEGER)
        r = rep->integer > 0 ? GH_OK : GH_ERR_NOT_FOUND;
    else if (rep->type == REDIS_REPLY_ERROR)
        r = reply_fail(in, vt, call, "DEL", rep);
    else
        r = host->fail(call, GH_ERR_INTERNAL, "%s: DEL: unexpected reply type %d", in->where,
                       rep->type);
    freeReplyObject(rep);
    return r;
}

/* ------------------------------------------------------------ descriptor */

static const gh_kv_ops rd_ops = {
    .size = sizeof(gh_kv_ops),
    .get = rd_get,
    .set = rd_set,
    .incr = rd_incr,
    .del = rd_del,
    .connect = rd_connect,
    .lost = rd_lost,
    .disconnect = rd_disconnect,
    .get_many = rd_get_many,
    .get_many_async = rd_get_many_async,
};

static const gh_plugin rd_plugin = {
    .size = sizeof(gh_plugin),
    .abi_major = GH_ABI_MAJOR,
    .abi_minor = GH_ABI_MINOR,
    .name = "redis",
    .version = PACKAGE_VERSION,
    .description = "Redis key-value store (hiredis)",
    .kind = GH_KIND_KV,
    .options = rd_options,
    .option_rules = rd_rules,
    .inst_size = sizeof(rd_inst),
    .thread_size = sizeof(rd_thread),
    .instantiate = rd_instantiate,
    .thread_init = rd_thread_init,
    .thread_fini = rd_thread_fini,
    .detach = NULL,
    .health = rd_health,
    .ops = &rd_ops,
};

GH_EXPORT const gh_plugin *gatehouse_plugin_v1(const gh_host *h)
{
    /* the 1.1 members for drivers; the rest is 1.0, set by any 1.x host */
    if (h == NULL || h->abi_major != GH_ABI_MAJOR || !GH_HAS(h, call_left_ms) ||
        !GH_HAS(h, url_parse))
        return NULL;
    host = h;
    return &rd_plugin;
}
