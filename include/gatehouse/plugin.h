/*
 * gatehouse/plugin.h - the Gatehouse plugin ABI, version 1.
 *
 * This is the only header a plugin needs. A plugin is a shared object that
 * exports exactly one symbol, gatehouse_plugin_v1(), which receives the host
 * table and returns a static, const plugin descriptor.
 *
 * Stability rules (what "ABI 1" promises):
 *  - A plugin built against 1.x loads and works in every 1.y daemon.
 *  - Every struct crossing the boundary starts with `size` (its sizeof as the
 *    writer compiled it). Structs only grow at the end; a reader checks `size`
 *    (GH_HAS / GH_OPS_HAS) before touching a member newer than 1.0.
 *  - Enum values are frozen; new values are appended.
 *  - A result code the core does not know (one a newer plugin returns)
 *    counts as GH_ERR_INTERNAL: logged as the plugin's failure with its
 *    message, answered to a client as a 500.
 *  - A parameter key or flag a plugin does not know is ignored, unless the
 *    op's comment names it must-understand: those a plugin answers with
 *    GH_ERR_UNSUPPORTED rather than ignore (op tables grow the same way:
 *    a missing op is UNSUPPORTED).
 *  - Only fixed-width integers, UTF-8 `const char *`, opaque handles and the
 *    structs below cross the boundary: no libevent, jansson, libpq or OpenSSL
 *    types, so each side may upgrade its libraries independently.
 *
 * Ownership: borrowed in, copied out. Strings and buffers handed to a plugin
 * are valid for the duration of the call only. Results go back through a
 * gh_out builder (the host copies what is put). Memory the host gives a
 * plugin to keep (json_encode, cfg_secret) is released with host->free.
 * Nothing allocated by one side is freed by the other with its own allocator.
 *
 * Threading: the host allocates, zeroed, one instance (`inst_size` bytes) per
 * configured plugin and one per-thread instance (`thread_size` bytes) for each
 * thread that runs ops, and calls thread_init on that thread. Every op runs
 * on such a thread with that thread's own per-thread instance: a plugin
 * that keeps its connections in the per-thread instance needs no locks.
 * Those threads are the workers; the one exception is a storage plugin that
 * declares GH_STORAGE_LOCAL, with no kv plugin configured, whose short reads
 * may also run on event-loop threads, with a deadline that has already
 * passed. Ops may block, but not past gh_call's deadline
 * (host->call_deadline_ms): a call out of time answers GH_ERR_UNAVAILABLE or
 * GH_ERR_TIMEOUT rather than wait. The instance is read-only after
 * instantiate(), so every thread may read it without a lock. State that
 * threads share and change (a lock, a cache, a background thread) lives in
 * memory the plugin allocates in instantiate(), reaches through a pointer
 * kept in the instance, synchronises itself and frees in detach(): the
 * pointer is read-only, what it points at is the plugin's.
 *
 * Errors: every fallible function returns gh_result. To explain a failure,
 * return host->fail(call, code, "fmt", ...): the message goes to the log with
 * the plugin's name and request id; the HTTP client sees only a generic
 * problem+json derived from the code. Never put secrets in messages.
 */
#ifndef GATEHOUSE_PLUGIN_H
#define GATEHOUSE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GH_ABI_MAJOR 1
#define GH_ABI_MINOR 1

#if defined(__GNUC__) || defined(__clang__)
#define GH_EXPORT __attribute__((visibility("default")))
#define GH_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define GH_EXPORT
#define GH_PRINTF(fmt, args)
#endif

/* Result codes. Values are frozen; new codes are appended. What a client
 * sees is decided by the caller of the op, not by the code alone; where a
 * failure reaches a client unexplained, RATE_LIMITED answers 503 with
 * Retry-After, UPSTREAM 502, UNAVAILABLE and TIMEOUT 503, the rest 500. */
typedef enum gh_result {
    GH_OK = 0,
    GH_ERR_INVALID = 1,     /* bad input or bad option value */
    GH_ERR_NOT_FOUND = 2,   /* no such row, key, user, resource */
    GH_ERR_CONFLICT = 3,    /* unique constraint, key exists, lost race */
    GH_ERR_DENIED = 4,      /* the remote side refused (bad code, bad secret) */
    GH_ERR_UNAVAILABLE = 5, /* backend down or unreachable: retry later */
    GH_ERR_TIMEOUT = 6,     /* the call's deadline passed */
    GH_ERR_UNSUPPORTED = 7, /* op or parameter not implemented */
    GH_ERR_INTERNAL = 8,    /* a bug or an impossible state */
    GH_ERR_NOMEM = 9,       /* allocation failed */
    /* 1.1 */
    GH_ERR_RATE_LIMITED = 10, /* the remote side rate-limited us: report when
                               * to retry with host->fail_retry */
    GH_ERR_UPSTREAM = 11      /* the remote side failed (a 5xx, a malformed
                               * answer): not our input, not our bug */
} gh_result;

/* The kinds of plugin; `ops` in the descriptor points at the matching table. */
typedef enum gh_kind {
    GH_KIND_STORAGE = 1, /* SQL driver:  gh_storage_ops */
    GH_KIND_KV = 2,      /* key-value:   gh_kv_ops */
    GH_KIND_OAUTH = 3,   /* social login: gh_oauth_ops */
    GH_KIND_MFA = 4,     /* second factor: gh_mfa_ops */
    GH_KIND_CLOUD = 5,   /* provisioner: gh_cloud_ops */
    GH_KIND_NOTIFY = 6   /* delivery:    gh_notify_ops */
} gh_kind;

/* Log levels; the numbers are syslog's. */
typedef enum gh_log_level {
    GH_LOG_ERROR = 3,
    GH_LOG_WARNING = 4,
    GH_LOG_NOTICE = 5,
    GH_LOG_INFO = 6,
    GH_LOG_DEBUG = 7
} gh_log_level;

/* Value types, for gh_param.type and gh_option.type. */
typedef enum gh_type {
    GH_T_NULL = 0,   /* no value */
    GH_T_STR = 1,    /* data: const char *, len: bytes (no NUL counted) */
    GH_T_INT = 2,    /* data: const int64_t * */
    GH_T_BOOL = 3,   /* data: const int32_t *, 0 or 1 */
    GH_T_BYTES = 4,  /* data: const void *, len: bytes */
    GH_T_DOUBLE = 5, /* data: const double * */
    GH_T_JSON = 6,   /* data: const char * holding a JSON text, len: bytes */
    /* option-only types */
    GH_T_SECRET = 7, /* a string that may instead come from `<key>_file`;
                        the host never logs it; read with cfg_secret */
    GH_T_LIST = 8,   /* a YAML sequence; walk with cfg_child/cfg_len/cfg_at */
    GH_T_MAP = 9,    /* a YAML mapping; walk with cfg_child */
    GH_T_DURATION = 10 /* "250ms", "30s", "5m", "1h", "7d" or an integer of
                          milliseconds; read with cfg_int (milliseconds) */
} gh_type;

/* Opaque handles owned by the host. */
typedef struct gh_call gh_call;   /* one invocation: deadline, tenant, request id */
typedef struct gh_cfg gh_cfg;     /* a node of this plugin's YAML options */
typedef struct gh_out gh_out;     /* a result builder: the host copies what is put */
typedef struct gh_json gh_json;   /* a decoded JSON value */

/* Opaque handle owned by a storage plugin. */
typedef struct gh_stmt gh_stmt;

/* An open-ended, typed value. In arrays the end is key == NULL unless a
 * count travels with the array. */
typedef struct gh_param {
    const char *key;
    uint32_t type; /* gh_type */
    const void *data;
    size_t len;
} gh_param;

/* One option a plugin accepts under its `options:` block. The host checks
 * the YAML against this list before instantiate(): unknown keys, wrong
 * types and missing required keys are refused with file:line:col. */
typedef struct gh_option {
    const char *key;
    uint32_t type;      /* gh_type: STR, INT, BOOL, DOUBLE, SECRET, LIST, MAP, DURATION */
    int32_t required;   /* 1: start-up fails without it */
    const char *help;   /* one line, shown in errors and docs */
} gh_option;

/* Flags for kv_set. Must-understand: a kv plugin answers a flag it does not
 * know with GH_ERR_UNSUPPORTED, since ignoring NX would break the locks and
 * one-time codes built on it. */
#define GH_KV_NX 0x1u /* set only if absent (or expired) */

/* A URL split by host->url_parse: scheme://[user[:password]@]host[:port][/path][?query].
 * user, password and path are percent-decoded (a NUL refused); host loses
 * the brackets of an [IPv6] address; query is kept as written. Fixed
 * buffers, so nothing is freed; wipe `password` when done with it. */
typedef struct gh_url {
    uint32_t size;      /* sizeof(gh_url) as the caller compiled it */
    char scheme[16];    /* lower case, without "://" */
    char user[128];
    char password[512];
    char host[256];     /* "" when the authority is empty (unix:///path) */
    int32_t port;       /* 0: none given */
    char path[1024];    /* after the authority, with its leading '/'; "" none */
    char query[512];    /* after '?', undecoded; "" none */
} gh_url;

/* Placeholder styles of a SQL dialect. */
typedef enum gh_placeholder {
    GH_PH_QMARK = 1, /* ?  (SQLite, MySQL) */
    GH_PH_DOLLAR = 2 /* $1 (PostgreSQL) */
} gh_placeholder;

/* ------------------------------------------------------------------------
 * The host table: host -> plugin. Append-only. Check with GH_HAS before using
 * a member added after 1.0 (members present in 1.0 are always set).
 * ------------------------------------------------------------------------ */
typedef struct gh_host {
    uint32_t size;
    uint16_t abi_major, abi_minor;

    /* logging and errors */
    void (*log)(gh_call *call, int level, const char *fmt, ...) GH_PRINTF(3, 4);
    gh_result (*fail)(gh_call *call, gh_result code, const char *fmt, ...) GH_PRINTF(3, 4);

    /* this plugin's options (node NULL = the top of its options block) */
    const char *(*cfg_str)(const gh_cfg *node, const char *key, const char *dflt);
    int64_t (*cfg_int)(const gh_cfg *node, const char *key, int64_t dflt);
    int (*cfg_bool)(const gh_cfg *node, const char *key, int dflt);
    double (*cfg_double)(const gh_cfg *node, const char *key, double dflt);
    /* a GH_T_SECRET option, from `key` or from the file named by `key_file`;
     * returns a host-allocated copy (release with wipe + free) or NULL */
    char *(*cfg_secret)(const gh_cfg *node, const char *key);
    const gh_cfg *(*cfg_child)(const gh_cfg *node, const char *key);
    size_t (*cfg_len)(const gh_cfg *list);
    const gh_cfg *(*cfg_at)(const gh_cfg *list, size_t i);
    const char *(*cfg_value)(const gh_cfg *scalar); /* a list item's text */

    /* the call */
    const char *(*call_request_id)(const gh_call *call);
    const char *(*call_tenant)(const gh_call *call);
    int64_t (*call_deadline_ms)(const gh_call *call); /* on now_ms's clock */

    /* time, randomness, memory */
    int64_t (*now_ms)(void);                    /* Unix ms; tests move it */
    gh_result (*random)(void *buf, size_t len); /* CSPRNG */
    void *(*alloc)(size_t len);
    void (*free)(void *ptr);
    void (*wipe)(void *ptr, size_t len);        /* not optimised away */

    /* result builders */
    gh_out *(*out_new)(void);
    void (*out_free)(gh_out *out);
    gh_result (*put)(gh_out *out, const gh_param *p);
    /* the idx-th value put under key (several may share a key), or NULL */
    const gh_param *(*out_get)(const gh_out *out, const char *key, size_t idx);

    /* key-value store with TTL: the configured kv plugin, or the SQL store */
    gh_result (*kv_get)(gh_call *call, const char *key, gh_out *out /* "value" */);
    gh_result (*kv_set)(gh_call *call, const char *key, const void *val, size_t len,
                        int64_t ttl_ms, uint32_t flags);
    gh_result (*kv_incr)(gh_call *call, const char *key, int64_t delta, int64_t ttl_ms,
                         int64_t *result);
    gh_result (*kv_del)(gh_call *call, const char *key);

    /* outbound HTTP (blocking, bounded by the call's deadline and timeout_ms).
     * req keys: "method", "url", "header" (repeatable, "Name: value"),
     *           "body", "timeout_ms" (INT), "user" + "password" (basic auth)
     * resp keys: "status" (INT), "header" (repeatable), "body" (BYTES)
     * A req key the host does not know is ignored; a plugin ignores resp
     * keys it does not know. */
    gh_result (*http)(gh_call *call, const gh_param *req, gh_out *resp);

    /* JSON */
    gh_result (*json_decode)(gh_call *call, const char *text, size_t len, gh_json **out);
    void (*json_free)(gh_json *json);
    const gh_json *(*json_get)(const gh_json *obj, const char *key);
    const gh_json *(*json_at)(const gh_json *arr, size_t i);
    size_t (*json_len)(const gh_json *arr);
    uint32_t (*json_type)(const gh_json *json); /* gh_type; objects: GH_T_MAP, arrays: GH_T_LIST */
    const char *(*json_str)(const gh_json *json); /* NULL unless a string */
    int64_t (*json_int)(const gh_json *json, int64_t dflt);
    int (*json_bool)(const gh_json *json, int dflt);
    /* an object from params (GH_T_JSON values are embedded as they are);
     * returns host memory, release with free */
    char *(*json_encode)(gh_call *call, const gh_param *fields);

    /* metrics: gatehouse_plugin_events_total{plugin="<name>",event="<event>"};
     * event is [a-z0-9_]{1,32} */
    void (*count)(gh_call *call, const char *event, uint64_t delta);

    /* 1.1: storage drivers. What every network driver needs and none should
     * write again. */
    /* a monotonic clock in ms, for intervals: it never jumps, where now_ms
     * is the wall clock that tests and admins move */
    int64_t (*mono_ms)(void);
    /* how long the next wait may take: limit_ms (<= 0: no limit of its
     * own) cut to what is left before call's deadline; 0 when the deadline
     * has passed, -1 when neither bounds the wait */
    int64_t (*call_left_ms)(const gh_call *call, int64_t limit_ms);
    /* split url into *out (out->size set by the caller); GH_ERR_INVALID
     * through fail(call) naming the part at fault, never quoting the URL */
    gh_result (*url_parse)(gh_call *call, const char *url, gh_url *out);
    /* url into buf (size len, always terminated), with its password
     * replaced by "***": a URL that may be logged */
    void (*url_redact)(const char *url, char *buf, size_t len);

    /* 1.1: errors and options. */
    /* fail() that also says when the remote side will take a retry:
     * retry_after_ms (0: unknown) becomes a client's Retry-After when the
     * failure reaches one; meant for GH_ERR_RATE_LIMITED and
     * GH_ERR_UNAVAILABLE */
    gh_result (*fail_retry)(gh_call *call, gh_result code, int64_t retry_after_ms,
                            const char *fmt, ...) GH_PRINTF(4, 5);
    /* fail(call, GH_ERR_INVALID, ...) for a bad option value found in
     * instantiate: start-up stops with the error at node's file:line:col
     * (node from cfg_child/cfg_at; NULL: the options block). Returns
     * GH_ERR_INVALID. */
    gh_result (*cfg_fail)(gh_call *call, const gh_cfg *node, const char *fmt, ...)
        GH_PRINTF(3, 4);
} gh_host;

#define GH_HAS(h, m) \
    (offsetof(gh_host, m) + sizeof(((gh_host *)0)->m) <= (h)->size && (h)->m != NULL)

/* The host checks an ops table the same way before calling a newer method. */
#define GH_OPS_HAS(type, ops, m) \
    ((ops) != NULL && offsetof(type, m) + sizeof(((type *)0)->m) <= (ops)->size && (ops)->m != NULL)

/* A generic operation: named parameters in, results put into `out`.
 * `inst` is the plugin instance, `tinst` this worker thread's instance.
 * A plugin ignores `in` keys it does not know, and the core `out` keys. */
typedef gh_result (*gh_op)(const void *inst, void *tinst, gh_call *call,
                           const gh_param *in, gh_out *out);

/* ------------------------------------------------------------------------
 * Storage: a SQL driver. The core owns the schema, the migrations and every
 * query; a driver only connects, prepares, binds, steps and reads columns.
 * One connection per worker thread, kept in the per-thread instance.
 * ------------------------------------------------------------------------ */
typedef struct gh_storage_ops {
    uint32_t size;
    uint32_t placeholder;  /* gh_placeholder */
    const char *dialect;   /* "sqlite", "postgres", "mysql": picks migrations
                              SQL text; capabilities are in `flags` */

    /* run SQL without parameters or rows (DDL, several statements allowed) */
    gh_result (*exec)(void *tinst, gh_call *call, const char *sql);
    /* prepare once; the core caches statements per thread */
    gh_result (*prepare)(void *tinst, gh_call *call, const char *sql, gh_stmt **stmt);
    /* bind n positional values (GH_T_NULL/STR/INT/BOOL/BYTES/DOUBLE),
     * copied by the driver; keys are ignored */
    gh_result (*bind)(gh_stmt *stmt, gh_call *call, const gh_param *vals, size_t n);
    /* advance: *row = 1 with a row to read, 0 when done */
    gh_result (*step)(gh_stmt *stmt, gh_call *call, int *row);
    uint32_t (*column_count)(gh_stmt *stmt);
    /* column i of the current row; data valid until the next step/reset */
    gh_result (*column)(gh_stmt *stmt, uint32_t i, gh_param *val);
    int64_t (*changes)(gh_stmt *stmt); /* rows written by the last step */
    gh_result (*reset)(gh_stmt *stmt); /* ready to bind and step again */
    void (*finalize)(gh_stmt *stmt);
    gh_result (*begin)(void *tinst, gh_call *call);
    gh_result (*commit)(void *tinst, gh_call *call);
    gh_result (*rollback)(void *tinst, gh_call *call);

    /* 1.1 */
    uint32_t flags; /* GH_STORAGE_*; bits the host does not know are ignored */
    /* give back what the connection caches in our memory, when its thread
     * goes idle; NULL: nothing to give back */
    void (*release_memory)(void *tinst, gh_call *call);
    /*
     * The connection, when the store is to own its policy (all three set,
     * or the driver keeps its own as a 1.0 driver does). The store then
     * drops the connection (disconnect) when lost() says so, or when an op
     * answers UNAVAILABLE or TIMEOUT and lost() agrees; connects again at
     * most once per store call, within the call's deadline and never
     * inside a transaction; after a failed connect fails calls at once for
     * a while; and prepares its cached statements again on a new
     * connection. The driver: thread_init may connect, so that a refused
     * configuration stops start-up (the store starts from what lost() then
     * says); no other op connects: without a connection each answers
     * GH_ERR_UNAVAILABLE.
     *  connect     open the connection (and session settings) within the
     *              call's deadline
     *  lost        1 when there is no usable connection: none, failed, or
     *              closed by the server while idle (no round trip)
     *  disconnect  close it, ending any transaction on it; statements
     *              prepared on it are finalized by the store afterwards and
     *              must then only free their memory
     */
    gh_result (*connect)(void *tinst, gh_call *call);
    int (*lost)(void *tinst);
    void (*disconnect)(void *tinst);
} gh_storage_ops;

/* Capabilities of a storage driver (gh_storage_ops.flags). */
#define GH_STORAGE_LOCAL 0x1u     /* no network: no call can wait on a server,
                                     so a short read may run on an event loop */
#define GH_STORAGE_SNAPSHOTS 0x2u /* reads gain from one BEGIN..COMMIT around
                                     them (locks taken once) */

/* ------------------------------------------------------------------------
 * Key-value with TTL (ttl_ms <= 0: no expiry). Shared, short-lived state:
 * deny-listed token ids, rate-limit counters, one-time codes.
 * ------------------------------------------------------------------------ */
typedef struct gh_kv_ops {
    uint32_t size;
    /* GH_ERR_NOT_FOUND when absent; else puts "value" (GH_T_BYTES) */
    gh_result (*get)(const void *inst, void *tinst, gh_call *call, const char *key, gh_out *out);
    /* GH_ERR_CONFLICT when GH_KV_NX and the key exists */
    gh_result (*set)(const void *inst, void *tinst, gh_call *call, const char *key,
                     const void *val, size_t len, int64_t ttl_ms, uint32_t flags);
    /* atomic add; a new key starts at 0 and gets ttl_ms; an existing one
     * keeps its expiry */
    gh_result (*incr)(const void *inst, void *tinst, gh_call *call, const char *key,
                      int64_t delta, int64_t ttl_ms, int64_t *result);
    /* GH_ERR_NOT_FOUND when absent or expired: del doubles as an atomic
     * "take" for one-time codes */
    gh_result (*del)(const void *inst, void *tinst, gh_call *call, const char *key);

    /* 1.1: the connection, with the same contract as gh_storage_ops'
     * connect, lost and disconnect (all three, or none) */
    gh_result (*connect)(const void *inst, void *tinst, gh_call *call);
    int (*lost)(const void *inst, void *tinst);
    void (*disconnect)(const void *inst, void *tinst);
} gh_kv_ops;

/* ------------------------------------------------------------------------
 * OAuth 2.0 / OpenID Connect login.
 *  authorize_url  in: redirect_uri, state, nonce, code_challenge, scope?
 *                 out: url
 *  exchange       in: code, redirect_uri, code_verifier, nonce
 *                 out: subject, email, email_verified (BOOL), name,
 *                      given_name, family_name, picture, claims (JSON)
 * ------------------------------------------------------------------------ */
typedef struct gh_oauth_ops {
    uint32_t size;
    gh_op authorize_url;
    gh_op exchange;
} gh_oauth_ops;

/* ------------------------------------------------------------------------
 * Second factors.
 *  enroll     in: user_id, account_name, destination? (phone)
 *             out: secret (BYTES, stored encrypted by the core), uri?, ...
 *  challenge  in: user_id, secret?, destination?  (send a code, if the
 *             factor sends codes) out: expires_in (INT)?
 *  verify     in: user_id, secret?, code, last_counter? (INT)
 *             out: counter (INT) to refuse replays; DENIED when wrong
 * ------------------------------------------------------------------------ */
typedef struct gh_mfa_ops {
    uint32_t size;
    gh_op enroll;
    gh_op challenge;
    gh_op verify;
} gh_mfa_ops;

/* ------------------------------------------------------------------------
 * Cloud provisioners: idempotent; the core records the ids returned.
 *  provision    in: tenant_id, tenant_name, resource (repeatable, prior ids)
 *               out: resource (repeatable, "type:id"), state
 *  deprovision  in: tenant_id, resource (repeatable)
 *  status       in: tenant_id, resource (repeatable)  out: state
 * ------------------------------------------------------------------------ */
typedef struct gh_cloud_ops {
    uint32_t size;
    gh_op provision;
    gh_op deprovision;
    gh_op status;
} gh_cloud_ops;

/* ------------------------------------------------------------------------
 * Notification delivery (mail, SMS).
 *  deliver  in: to, subject?, text, html?, template?, locale?
 *           out: message_id?
 * ------------------------------------------------------------------------ */
typedef struct gh_notify_ops {
    uint32_t size;
    gh_op deliver;
} gh_notify_ops;

/* ------------------------------------------------------------------------
 * The plugin descriptor: plugin -> host. Static const in the plugin.
 * ------------------------------------------------------------------------ */
typedef struct gh_plugin {
    uint32_t size;
    uint16_t abi_major, abi_minor; /* GH_ABI_MAJOR, GH_ABI_MINOR as built */
    const char *name;              /* [a-z0-9_-]+, matches the YAML name */
    const char *version;
    const char *description;
    uint32_t kind;                 /* gh_kind */
    const gh_option *options;      /* ends at key == NULL; NULL: none */
    size_t inst_size, thread_size; /* host allocates, zeroed */

    /* read and check options (the host has checked names and types);
     * runs once on the main thread at start-up */
    gh_result (*instantiate)(void *inst, const gh_cfg *options, gh_call *call);
    /* per worker thread, on that thread: open connections */
    gh_result (*thread_init)(const void *inst, void *tinst, gh_call *call);
    void (*thread_fini)(const void *inst, void *tinst);
    void (*detach)(void *inst);
    /* readiness for /health/ready, on a worker thread; NULL: always ready */
    gh_result (*health)(const void *inst, void *tinst, gh_call *call);

    const void *ops; /* the gh_*_ops table of `kind` */

    /* 1.1: errors and options. */
    uint32_t flags; /* GH_PLUGIN_*; bits the host does not know are ignored */
} gh_plugin;

/* Flags of a plugin (gh_plugin.flags). */
/* It keeps all its state in its instances, so the config may list it more
 * than once (`- name: okta` with `plugin: oidc`); without it a second
 * instance is refused, since a 1.0 plugin may keep statics. */
#define GH_PLUGIN_MULTI_INSTANCE 0x1u

/* The one symbol a plugin exports. The host pointer stays valid for the
 * life of the plugin; keep it in a static. */
#define GH_ENTRY_SYMBOL "gatehouse_plugin_v1"
typedef const gh_plugin *(*gh_entry_fn)(const gh_host *host);
GH_EXPORT const gh_plugin *gatehouse_plugin_v1(const gh_host *host);

#ifdef __cplusplus
}
#endif

#endif /* GATEHOUSE_PLUGIN_H */
