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
 *    types, so each side may upgrade its libraries independently. The one
 *    exception is kv's get_many_async (1.3), which is handed the calling
 *    event loop's `struct event_base` (opaque here): a plugin that has
 *    that op links the libevent the host does (the same shared library).
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
 * Those threads are the workers. The exceptions: a storage plugin that
 * declares GH_STORAGE_LOCAL, with no kv plugin configured, whose short reads
 * may also run on event-loop threads, with a deadline that has already
 * passed; and a kv plugin's get_many (with a short deadline) and
 * get_many_async (1.3), which event-loop threads call with their own
 * per-thread instance. Ops may block, but not past gh_call's deadline
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
#define GH_ABI_MINOR 3

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

/* 1.1: what an option may hold, beyond its type (gh_plugin.option_rules).
 * The host checks every rule when it loads the plugin: a rule that names
 * no option, a range or choices its type cannot have, a bad range text,
 * or a default its own rule refuses, is the plugin's fault and stops it
 * loading; a value in the config outside the range or the choices is the
 * admin's, refused with the config's file:line:col. A default reaches the
 * plugin through the getters like a written value (cfg_str, cfg_int...
 * on its options see it), and `gatehoused -t` shows the same errors.
 * This record does not grow: a later minor adds an array of its own. */
typedef struct gh_option_rule {
    const char *key;            /* an option of gh_plugin.options */
    const char *dflt;           /* YAML text used when the option is absent
                                   or null ("30s", "10", "true", "safe");
                                   NULL: none (the getter's dflt applies).
                                   Not for a required option, nor for a
                                   secret (it would be in the binary). */
    const char *range;          /* INT, DURATION, DOUBLE: "MIN..MAX" in the
                                   option's own syntax ("1..65535",
                                   "1s..1h", "0.5.."), either end may be
                                   left out; NULL: any */
    const char *const *choices; /* STR: the values allowed, ends at NULL;
                                   NULL: any */
} gh_option_rule;

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

/* Digests for host->digest and host->hmac (1.1). SHA-1 is here for TOTP
 * (RFC 6238) and other protocols that fix it; do not choose it for new
 * designs. */
typedef enum gh_digest_alg {
    GH_SHA1 = 1,   /* 20 bytes */
    GH_SHA256 = 2, /* 32 bytes */
    GH_SHA384 = 3, /* 48 bytes */
    GH_SHA512 = 4  /* 64 bytes */
} gh_digest_alg;
#define GH_DIGEST_MAX 64 /* room for any gh_digest_alg */

/* Text encodings of bytes for host->encode and host->decode (1.1), RFC 4648.
 * Decoding is strict: a character outside the alphabet, whitespace, missing
 * or extra padding, or non-zero bits left over in the last character are
 * refused (GH_ERR_INVALID), so one byte string has exactly one text. */
typedef enum gh_encoding {
    GH_ENC_BASE64 = 1,    /* "+/", padded with '=' */
    GH_ENC_BASE64URL = 2, /* "-_", no padding (JOSE, RFC 7515 section 2) */
    GH_ENC_BASE32 = 3,    /* A-Z2-7, padded with '='; decode also takes it
                             unpadded (TOTP secrets are written without),
                             upper case only */
    GH_ENC_HEX = 4        /* lower case out; decode takes either case */
} gh_encoding;

/* What host->jwt_verify (1.1) accepts. Strings are borrowed for the call. */
typedef struct gh_jwt_policy {
    uint32_t size;           /* sizeof(gh_jwt_policy) as the plugin built it */
    const char *jwks_uri;    /* the provider's key set (https, fetched through
                                host->http and cached by the host) */
    const char *const *algs; /* allowed "alg"s, ends at NULL; NULL: RS256 and
                                ES256. Only RS256/384/512 and ES256/384 count:
                                "none" and HS* are refused whatever is listed */
    const char *issuer;      /* required: "iss" must equal it exactly */
    const char *audience;    /* required: the client id; "aud" must be it or
                                contain it, and an "azp", if present (needed
                                when "aud" names several), must be it */
    const char *nonce;       /* when set, "nonce" must equal it */
    int64_t leeway_s;        /* clock skew allowed on exp/nbf/iat; < 0: 30 */
    int64_t max_age_s;       /* > 0: "auth_time" is required and no older
                                (OpenID Connect max_age) */
    int32_t allow_private;   /* 1: jwks_uri may be http:// and a loopback
                                or private address (tests, in-house IdPs),
                                as host->http's keys of that name; default 0 */
} gh_jwt_policy;

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
     *   1.1:    "ca_file" (PEM bundle trusted instead of the system's),
     *           "client_cert" + "client_key" (PEM files: TLS client
     *           authentication; the key unencrypted), "allow_http" (BOOL:
     *           http:// URLs too), "allow_private" (BOOL: loopback, private,
     *           link-local and other non-public addresses too)
     * resp keys: "status" (INT), "header" (repeatable), "body" (BYTES)
     * A plugin ignores resp keys it does not know.
     * Policy for a plugin built against 1.1 or later (and for the core):
     * https only and public addresses only unless the keys above allow
     * more (let the admin decide, through your options); the address is
     * checked where the connection is made, after DNS, so a name that
     * resolves to 127.0.0.1 is refused like the address. A refused request
     * is GH_ERR_INVALID, naming the key that would allow it. req keys are
     * must-understand: one the host does not know is GH_ERR_UNSUPPORTED
     * (check abi_minor before using a key newer than your host). Redirects
     * are never followed; environment proxies are not used. A plugin built
     * against 1.0 keeps 1.0's rules: any scheme of the two, any address,
     * unknown keys ignored.
     * Connections are kept per thread and reused while the far side keeps
     * them open. */
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

    /* 1.1: crypto, encodings, JSON, JOSE. Every member that can fail
     * returns a gh_result and says why through call (as host->fail). */
    /* the digest of data into out (room out_size, >= the digest's length,
     * GH_DIGEST_MAX fits all); *out_len its length */
    gh_result (*digest)(gh_call *call, uint32_t alg /* gh_digest_alg */, const void *data,
                        size_t len, void *out, size_t out_size, size_t *out_len);
    /* HMAC (RFC 2104) of data under key, likewise */
    gh_result (*hmac)(gh_call *call, uint32_t alg /* gh_digest_alg */, const void *key,
                      size_t key_len, const void *data, size_t len, void *out,
                      size_t out_size, size_t *out_len);
    /* 1 when the len bytes at a and b are equal, in time that depends on
     * len only: compare MACs, codes and tokens with this, never memcmp */
    int (*equal_ct)(const void *a, const void *b, size_t len);
    /* bytes to text into out (room out_size, NUL added); *out_len the
     * length without the NUL. GH_ERR_INVALID when out is too small. */
    gh_result (*encode)(gh_call *call, uint32_t enc /* gh_encoding */, const void *data,
                        size_t len, char *out, size_t out_size, size_t *out_len);
    /* text (len bytes) to bytes, strictly (see gh_encoding) */
    gh_result (*decode)(gh_call *call, uint32_t enc /* gh_encoding */, const char *text,
                        size_t len, void *out, size_t out_size, size_t *out_len);
    /* percent-encoding (RFC 3986): everything but A-Z a-z 0-9 - . _ ~,
     * for a path segment or a query value; *out host memory, release with
     * free */
    gh_result (*url_encode)(gh_call *call, const char *text, size_t len, char **out);
    /* application/x-www-form-urlencoded from params (STR, INT or BOOL
     * values, keys in order, repeated keys kept): a token-endpoint body or
     * a query string; *out host memory, release with free */
    gh_result (*form_encode)(gh_call *call, const gh_param *fields, char **out);
    /* the i-th member of an object (in document order): its key, and its
     * value in *value if value is not NULL; NULL past the end or for a
     * non-object. json_len gives the count. */
    const char *(*json_key_at)(const gh_json *obj, size_t i, const gh_json **value);
    /* a number (integers too) as a double, else dflt */
    double (*json_double)(const gh_json *json, double dflt);
    /* json_encode with its result: an object from params, where a
     * GH_T_LIST value is an array (data: const gh_param *, len: count;
     * element keys are ignored) and a GH_T_MAP value a nested object
     * (data: const gh_param * ending at key == NULL); *out host memory */
    gh_result (*json_encode_to)(gh_call *call, const gh_param *fields, char **out);
    /* a value (a decoded document or any part of it) as compact JSON;
     * *out host memory, release with free */
    gh_result (*json_dump)(gh_call *call, const gh_json *json, char **out);
    /* Verify a JWS-signed JWT (an OpenID Connect ID token) against the key
     * set at policy->jwks_uri. The host caches each key set (per URI,
     * shared by all plugins and threads) for its Cache-Control max-age
     * (an hour when none, between a minute and a day), fetches it again
     * when a token names an unknown kid, but at most once in ten seconds,
     * and takes each key's algorithm from the key (its "alg", else its
     * kty and curve), so no token picks it. Then exp, nbf and iat (with
     * leeway), iss, aud/azp, nonce and auth_time are checked. GH_OK: *claims
     * holds the payload (release with json_free); GH_ERR_DENIED: the token
     * is refused (the reason is logged, never the token);
     * GH_ERR_UNAVAILABLE: the key set cannot be fetched. */
    gh_result (*jwt_verify)(gh_call *call, const char *token, const gh_jwt_policy *policy,
                            gh_json **claims);

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

    /* 1.1: the call's context. One value of what the call serves into *out
     * (borrowed for the call): STR "request_id", "tenant", "user_id"
     * (signed-in user), "client_ip", "user_agent", "locale" (the first
     * tag of the client's Accept-Language, "de-CH"), "public_url" (the
     * server's external base URL, no trailing '/'), "instance" (the
     * configured name of the plugin instance the call runs, as in its
     * log lines and its /api/v1/mfa/{name}/callback route); INT "attempt" (1 for a
     * first try, more on a retry: mail deliveries). GH_ERR_NOT_FOUND when
     * the call has no such value (a start-up call has no user, a request
     * without Accept-Language no locale) or the key is unknown. */
    gh_result (*call_get)(const gh_call *call, const char *key, gh_param *out);
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

    /* 1.2, appended (the host checks GH_OPS_HAS; NULL: the store steps the
     * statement at once instead). Run the bound statement, a write whose
     * rows and changes nobody reads, later: with the transaction's next
     * step or its commit, in one round trip with it. Called inside a
     * transaction only. A failure of the deferred write is reported by
     * that step or commit, and the transaction is then lost (only a
     * rollback may follow), so the core defers only writes that should
     * not fail (no unique key a caller could take). The statement may be
     * bound and run again at once: the driver has sent or copied the
     * values. */
    gh_result (*defer)(gh_stmt *stmt, gh_call *call);
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
struct event_base; /* libevent's, opaque here: see get_many_async */

/* get_many_async's answer: r, and for GH_OK the n values. */
typedef void (*gh_kv_many_cb)(void *arg, gh_result r, const gh_param *values, size_t n);

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

    /* 1.2: n keys in one round trip: puts n "value"s, in the keys' order,
     * each BYTES, or NULL for a key that is absent or expired. All or
     * nothing: a failure puts nothing the caller may read. NULL: the host
     * asks get for each key in turn */
    gh_result (*get_many)(const void *inst, void *tinst, gh_call *call, const char *const *keys,
                          size_t n, gh_out *out);

    /* 1.3: get_many without blocking, for an event-loop thread: sends the
     * read on that thread's own connection, watched by `base` (the loop's
     * event_base), and returns at once. GH_OK: cb runs exactly once, later,
     * on this thread, from base's loop, with r GH_OK and n params "value"
     * as get_many puts them (valid during cb only), or with r an error and
     * NULL; reads issued in one pass of the loop may share one write. Any
     * other return: cb never runs (call says why). The wait ends, with
     * GH_ERR_UNAVAILABLE or GH_ERR_TIMEOUT, at call's deadline; call stays
     * valid until cb has run, and the plugin may fail() into it from cb.
     * keys are borrowed for this call only. NULL: the host keeps using
     * get_many, on a worker. */
    gh_result (*get_many_async)(const void *inst, void *tinst, gh_call *call,
                                struct event_base *base, const char *const *keys, size_t n,
                                gh_kv_many_cb cb, void *arg);
} gh_kv_ops;

/* ------------------------------------------------------------------------
 * OAuth 2.0 / OpenID Connect login.
 *  authorize_url  in: redirect_uri, state, nonce, code_challenge, scope?
 *                 out: url
 *  exchange       in: code, redirect_uri, code_verifier, nonce, iss?
 *                 out: subject, email, email_verified (BOOL), name,
 *                      given_name, family_name, picture, claims (JSON)
 *                 1.1: iss is the authorization response's `iss`
 *                 parameter (RFC 9207) when it had one: a plugin whose
 *                 provider has an issuer refuses (DENIED) one that is not
 *                 it, and a missing one when the provider says it sends
 *                 it, so a code from another provider is never redeemed.
 *                 DENIED: the provider or the plugin refused the answer
 *                 (a used code, a bad ID token, the wrong domain);
 *                 UNAVAILABLE, UPSTREAM, TIMEOUT: the provider failed.
 * The core names the instance in its routes (/api/v1/oauth/{name}, the
 * redirect_uri it passes is server.public_url +
 * /api/v1/oauth/{name}/callback) and owns state, nonce, PKCE verifier and
 * the accounts; a plugin may offer a redirect_uri option that replaces it.
 * ------------------------------------------------------------------------ */
typedef struct gh_oauth_ops {
    uint32_t size;
    gh_op authorize_url;
    gh_op exchange;
} gh_oauth_ops;

/* ------------------------------------------------------------------------
 * Second factors. A factor that computes codes (TOTP) enrolls and
 * verifies; one that sends them (SMS) only sends: the core makes the
 * code, stores its hash, counts tries and limits sends, so another
 * provider needs only its sending part.
 *  enroll     in: user_id, account_name, issuer?
 *             out: secret (BYTES, stored encrypted by the core), uri?,
 *                  qr_svg? (an SVG image of uri)
 *  challenge  in: destination (E.164), text (the whole message), code
 *             out: message_id?; INVALID: a number that cannot receive,
 *             DENIED: the recipient opted out, UNAVAILABLE or
 *             RATE_LIMITED (retry_after): the provider, TIMEOUT
 *  verify     in: secret, code, last_counter? (INT)
 *             out: counter (INT) to refuse replays; DENIED when wrong
 *             or not past last_counter
 *  inbound    (1.1) a request to the plugin's own route, POST
 *             /api/v1/mfa/{name}/callback (delivery reports):
 *             in: url (the full public URL it was sent to), header
 *             (repeatable, "Name: value"), param (repeatable, a form
 *             field: name, NUL, value, each decoded, so either may hold
 *             a '='; a plugin built for 1.2 or older gets "name=value")
 *             out: status (INT, the HTTP answer; 204 when absent);
 *             DENIED: not from the provider (403)
 * ------------------------------------------------------------------------ */
typedef struct gh_mfa_ops {
    uint32_t size;
    gh_op enroll;
    gh_op challenge;
    gh_op verify;
    gh_op inbound;      /* 1.1; NULL: no route */
} gh_mfa_ops;

/* ------------------------------------------------------------------------
 * Cloud provisioners: a tenant's (a company's) own resources in a cloud,
 * made and removed in steps. Ops run on the core's provisioning worker
 * thread, never on a request path; each call is ONE STEP, bounded by the
 * call's deadline. The core records what a step returns before it calls
 * the next, so a crash loses at most the id of the one resource being
 * made at that moment. Resources are "type:id", the type the plugin's
 * word ("compartment", "group", "policy" for OCI); the core stores and
 * shows them opaquely.
 *  provision    in: tenant_id (the company id, a UUID), tenant_slug,
 *                   tenant_name, resource (repeatable: every resource
 *                   recorded so far, in the order they were made)
 *               out: resource (repeatable: the full list after this step,
 *                    a resource made by this step in it), state
 *                    "provisioning" (call again) or "active" (done),
 *                    retry_after_ms (INT, optional: wait this long before
 *                    the next step, e.g. while a compartment is CREATING)
 *               A step makes at most one resource, and is safe to repeat
 *               after a crash: the same (tenant, type) sends the same
 *               idempotency key (OCI: opc-retry-token), and a "name
 *               already exists" conflict is resolved by finding the
 *               resource this tenant made earlier (OCI: by name and the
 *               freeform tag gatehouse-tenant=<tenant_id>), never by
 *               failing or making a second one.
 *  deprovision  in: tenant_id, resource (repeatable)
 *               out: resource (repeatable: those still there), state
 *                    "deprovisioning" (call again; retry_after_ms
 *                    optional) or "deleted". A resource already gone
 *                    counts as deleted; the order is the plugin's.
 *  status       in: tenant_id, resource (repeatable)
 *               out: state "active" | "provisioning" | "deleting" |
 *                    "missing"
 * GH_ERR_RATE_LIMITED (with retry_after_ms, through fail_retry),
 * GH_ERR_UNAVAILABLE, GH_ERR_TIMEOUT and GH_ERR_UPSTREAM are transient:
 * the core retries the step with backoff. GH_ERR_INVALID and
 * GH_ERR_DENIED are permanent (bad credentials, a policy the cloud
 * refuses): the core stops retrying. The message given to host->fail is
 * shown to the admin as the job's last error: it names the operation and
 * the provider's code and request id, never a key or a signature.
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
    const gh_option_rule *option_rules; /* ends at key == NULL; NULL: none */
} gh_plugin;

/* Flags of a plugin (gh_plugin.flags). */
/* It keeps all its state in its instances, so the config may list it more
 * than once (`- name: okta` with `plugin: oidc`); without it a second
 * instance is refused, since a 1.0 plugin may keep statics. */
#define GH_PLUGIN_MULTI_INSTANCE 0x1u
/* It cannot work without host->http: the host makes sure outbound HTTP is
 * there (its module loads, libcurl has TLS) when it loads the plugin, so
 * start-up and `gatehoused -t` fail, not the plugin's first request. */
#define GH_PLUGIN_NEEDS_HTTP 0x2u

/* The one symbol a plugin exports. The host pointer stays valid for the
 * life of the plugin; keep it in a static. */
#define GH_ENTRY_SYMBOL "gatehouse_plugin_v1"
typedef const gh_plugin *(*gh_entry_fn)(const gh_host *host);
GH_EXPORT const gh_plugin *gatehouse_plugin_v1(const gh_host *host);

#ifdef __cplusplus
}
#endif

#endif /* GATEHOUSE_PLUGIN_H */
