/*
 * host_http.c - host->http: the blocking HTTP client plugins use to reach
 * OAuth providers, SMS gateways and cloud APIs, over libcurl.
 *
 * The client is deliberately narrow: http and https only, no redirects
 * (a redirect is the caller's decision, and following one to an internal
 * address is how SSRF starts), TLS always verified, a response body capped
 * at 4 MiB, and never a moment past the call's deadline. Messages name the
 * method and the origin only: URLs carry tokens in their queries and bodies
 * carry credentials, so neither is ever logged.
 *
 * Policy (ABI 1.1): https only, and only to public addresses, unless the
 * request allows http or private addresses. The address is checked in
 * curl's open-socket callback, so it is the address about to be connected
 * to, after DNS: a name that resolves to 127.0.0.1, or to a cloud's
 * metadata address, is refused like the address itself, and a DNS answer
 * that changes between a check and the connect cannot slip through.
 * Environment proxies are not used: through one, the address connected to
 * would be the proxy's, and the guard would check nothing.
 *
 * Each thread keeps two easy handles, so connections (and TLS sessions and
 * DNS answers) are reused across requests: one for requests that may reach
 * private addresses, one for those that may not. curl reuses a connection
 * without opening a socket, so a connection opened under the looser policy
 * must never be offered to a request under the stricter one.
 *
 * Built as its own module (gatehouse-http.so, next to the plugins), which
 * the host loads the first time a plugin asks for HTTP, or at start-up for
 * a plugin that declares GH_PLUGIN_NEEDS_HTTP (host.c): libcurl brings in
 * some thirty libraries (TLS, Kerberos, LDAP, SSH...) and their start-up
 * allocations, resident memory that a server without outbound HTTP never
 * needs. Like a plugin, it sees the host only through gh_host.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "plugin/addr_public.h"
#include "plugin/http_client.h"

#define DEFAULT_TIMEOUT_MS 10000

static const gh_host *gh; /* set by gatehouse_http_client_v1 */
#define MAX_BODY (4u << 20)
#define MAX_HEADERS 100

typedef struct http_req {
    const char *method, *url, *user, *password;
    const char *ca_file, *client_cert, *client_key;
    const char *body;
    size_t body_len;
    int has_body;
    int allow_http, allow_private;
    int64_t timeout_ms;
    struct curl_slist *headers;
} http_req;

typedef struct http_resp {
    char *body;
    size_t len, cap;
    int too_big;
    int allow_private;           /* the request's policy, for open_socket */
    char refused[INET6_ADDRSTRLEN]; /* an address open_socket refused */
    char *hdr[MAX_HEADERS]; /* the final response's header lines, trimmed */
    size_t n_hdr;
} http_resp;

/* A NUL-terminated copy of a STR param's bytes (params need not end in NUL). */
static char *str_param(const gh_param *p)
{
    char *s;

    if ((p->type != GH_T_STR && p->type != GH_T_BYTES) || (!p->data && p->len))
        return NULL;
    s = malloc(p->len + 1);
    if (s) {
        if (p->len)
            memcpy(s, p->data, p->len);
        s[p->len] = '\0';
    }
    return s;
}

/* A header line must not smuggle a second header or a second request. */
static int safe_header(const char *h)
{
    return strchr(h, ':') && !strpbrk(h, "\r\n");
}

static int safe_method(const char *m)
{
    if (!*m || strlen(m) > 16)
        return 0;
    for (; *m; m++)
        if (*m < 'A' || *m > 'Z')
            return 0;
    return 1;
}

static void req_free(http_req *rq, char **owned, size_t n_owned)
{
    curl_slist_free_all(rq->headers);
    for (size_t i = 0; i < n_owned; i++) {
        OPENSSL_cleanse(owned[i], strlen(owned[i])); /* the password is one of them */
        free(owned[i]);
    }
}

#define MAX_OWNED 8

/* A BOOL param's value into *out; -1 when it is not a BOOL. */
static int bool_param(const gh_param *p, int *out)
{
    int32_t v;

    if (p->type != GH_T_BOOL || !p->data)
        return -1;
    memcpy(&v, p->data, sizeof v);
    *out = v != 0;
    return 0;
}

/* The request's string keys, copied NUL-terminated into http_req. */
static const struct {
    const char *key;
    size_t off;
} str_keys[] = {
    {"method", offsetof(http_req, method)},
    {"url", offsetof(http_req, url)},
    {"user", offsetof(http_req, user)},
    {"password", offsetof(http_req, password)},
    {"ca_file", offsetof(http_req, ca_file)},
    {"client_cert", offsetof(http_req, client_cert)},
    {"client_key", offsetof(http_req, client_key)},
};

/* Read the request params. A 1.0 caller keeps 1.0's rules (unknown keys
 * ignored, http and any address allowed); for the others every key is
 * must-understand and the policy starts strict. */
static gh_result req_parse(gh_call *call, const gh_param *req, int v1_0, http_req *rq,
                           char **owned, size_t *n_owned)
{
    const gh_host *h = gh;

    memset(rq, 0, sizeof *rq);
    rq->allow_http = rq->allow_private = v1_0;
    for (const gh_param *p = req; p && p->key; p++) {
        const char **slot = NULL;
        int *flag = NULL;
        char *s;

        if (strcmp(p->key, "allow_http") == 0)
            flag = &rq->allow_http;
        else if (strcmp(p->key, "allow_private") == 0)
            flag = &rq->allow_private;
        if (flag) {
            if (bool_param(p, flag) != 0)
                return h->fail(call, GH_ERR_INVALID, "http: %s must be a BOOL", p->key);
            continue;
        }
        if (strcmp(p->key, "timeout_ms") == 0) {
            if (p->type != GH_T_INT || !p->data)
                return h->fail(call, GH_ERR_INVALID, "http: timeout_ms must be an INT");
            memcpy(&rq->timeout_ms, p->data, sizeof rq->timeout_ms);
            continue;
        }
        if (strcmp(p->key, "body") == 0) {
            if ((p->type != GH_T_STR && p->type != GH_T_BYTES && p->type != GH_T_JSON) ||
                (!p->data && p->len))
                return h->fail(call, GH_ERR_INVALID, "http: body must be STR, JSON or BYTES");
            rq->body = p->data ? p->data : "";
            rq->body_len = p->len;
            rq->has_body = 1;
            continue;
        }
        if (strcmp(p->key, "header") == 0) {
            struct curl_slist *l;

            if (!(s = str_param(p)))
                return h->fail(call, GH_ERR_INVALID, "http: header must be a STR");
            if (!safe_header(s)) {
                free(s);
                return h->fail(call, GH_ERR_INVALID, "http: a header is \"Name: value\" on one line");
            }
            l = curl_slist_append(rq->headers, s);
            free(s);
            if (!l)
                return h->fail(call, GH_ERR_NOMEM, "http: out of memory");
            rq->headers = l;
            continue;
        }
        for (size_t i = 0; !slot && i < sizeof str_keys / sizeof str_keys[0]; i++)
            if (strcmp(p->key, str_keys[i].key) == 0)
                slot = (const char **)((char *)rq + str_keys[i].off);
        if (!slot && v1_0)
            continue;
        if (!slot) /* a newer plugin's key: ignoring it could weaken the request */
            return h->fail(call, GH_ERR_UNSUPPORTED, "http: unknown request key '%.64s'",
                           p->key);
        if (*n_owned == MAX_OWNED)
            return h->fail(call, GH_ERR_INVALID, "http: '%s' given more than once", p->key);
        if (!(s = str_param(p)))
            return h->fail(call, GH_ERR_INVALID, "http: '%s' must be a STR", p->key);
        owned[(*n_owned)++] = s;
        *slot = s;
    }
    if (!rq->url || (strncmp(rq->url, "http://", 7) != 0 && strncmp(rq->url, "https://", 8) != 0))
        return h->fail(call, GH_ERR_INVALID, "http: url must start with http:// or https://");
    if (!rq->allow_http && strncmp(rq->url, "https://", 8) != 0)
        return h->fail(call, GH_ERR_INVALID, "http: url must be https:// (allow_http not set)");
    if (!rq->client_cert != !rq->client_key)
        return h->fail(call, GH_ERR_INVALID, "http: client_cert and client_key go together");
    if (!rq->method)
        rq->method = rq->has_body ? "POST" : "GET";
    if (!safe_method(rq->method))
        return h->fail(call, GH_ERR_INVALID, "http: method must be an upper-case token");
    return GH_OK;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    http_resp *rs = ud;
    size_t n = size * nmemb;

    if (n > MAX_BODY - rs->len) {
        rs->too_big = 1;
        return 0; /* curl aborts with CURLE_WRITE_ERROR */
    }
    if (rs->len + n > rs->cap) {
        size_t cap = rs->cap ? rs->cap : 4096;
        char *b;

        while (cap < rs->len + n)
            cap *= 2;
        if (cap > MAX_BODY)
            cap = MAX_BODY;
        if (!(b = realloc(rs->body, cap)))
            return 0;
        rs->body = b;
        rs->cap = cap;
    }
    memcpy(rs->body + rs->len, data, n);
    rs->len += n;
    return n;
}

static void clear_headers(http_resp *rs)
{
    for (size_t i = 0; i < rs->n_hdr; i++)
        free(rs->hdr[i]);
    rs->n_hdr = 0;
}

/* curl hands us every header line of every response (a 100 Continue, a
 * proxy's CONNECT); a status line starts a new set, so only the final
 * response's headers survive. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    http_resp *rs = ud;
    size_t n = size * nmemb, len = n;
    char *line;

    while (len > 0 && (data[len - 1] == '\r' || data[len - 1] == '\n' ||
                       data[len - 1] == ' ' || data[len - 1] == '\t'))
        len--;
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        clear_headers(rs);
        return n;
    }
    if (len == 0 || rs->n_hdr == MAX_HEADERS)
        return n;
    if (!(line = malloc(len + 1)))
        return 0;
    memcpy(line, data, len);
    line[len] = '\0';
    rs->hdr[rs->n_hdr++] = line;
    return n;
}

/* ---------------------------------------------------------- the SSRF guard */

/* curl's socket opener: refuse an address the request may not reach,
 * before any packet is sent to it; curl then tries the name's other
 * addresses, if it has any. */
static curl_socket_t open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *sa)
{
    http_resp *rs = ud;
    const void *ip = NULL;
    int private = 0;

    if (sa->family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&sa->addr;

        ip = &in->sin_addr;
        private = addr_v4_private(ntohl(in->sin_addr.s_addr));
    } else if (sa->family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&sa->addr;

        ip = &in6->sin6_addr;
        private = addr_v6_private(in6->sin6_addr.s6_addr);
    } else {
        private = 1; /* unix sockets and the like: never public */
    }
    if (purpose == CURLSOCKTYPE_IPCXN && private && !rs->allow_private) {
        if (!ip || !inet_ntop(sa->family, ip, rs->refused, sizeof rs->refused))
            snprintf(rs->refused, sizeof rs->refused, "a non-IP address");
        return CURL_SOCKET_BAD;
    }
    return socket(sa->family, sa->socktype, sa->protocol);
}

/* "POST https://api.example.com" - the origin only: no path, no query. */
static void describe(char *buf, size_t len, const char *method, const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;

    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
        curl_url_get(u, CURLUPART_HOST, &host, 0);
        curl_url_get(u, CURLUPART_PORT, &port, 0);
    }
    snprintf(buf, len, "%s %s://%s%s%s", method, scheme ? scheme : "?", host ? host : "?",
             port ? ":" : "", port ? port : "");
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
}

static gh_result map_error(gh_call *call, CURLcode rc, const http_resp *rs, const char *what,
                           const char *errbuf, long timeout_ms)
{
    const gh_host *h = gh;
    const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);

    if (rs->refused[0])
        return h->fail(call, GH_ERR_INVALID,
                       "%s: refused: %s is not a public address (allow_private not set)",
                       what, rs->refused);
    switch (rc) {
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        return h->fail(call, GH_ERR_INVALID, "%s: ca_file, client_cert or client_key: %s",
                       what, why);
    case CURLE_OPERATION_TIMEDOUT:
        return h->fail(call, GH_ERR_TIMEOUT, "%s: no answer within %ld ms", what, timeout_ms);
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        if (rs->too_big || rc == CURLE_FILESIZE_EXCEEDED)
            return h->fail(call, GH_ERR_INVALID, "%s: response body over %u MiB", what,
                           MAX_BODY >> 20);
        return h->fail(call, GH_ERR_NOMEM, "%s: out of memory", what);
    case CURLE_OUT_OF_MEMORY:
        return h->fail(call, GH_ERR_NOMEM, "%s: out of memory", what);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return h->fail(call, GH_ERR_INVALID, "%s: %s", what, why);
    default: /* resolve, connect, TLS, reset, empty reply: the far side is not there */
        return h->fail(call, GH_ERR_UNAVAILABLE, "%s: %s", what, why);
    }
}

static gh_result put_response(gh_call *call, CURL *c, const http_resp *rs, gh_out *resp)
{
    const gh_host *h = gh;
    long code = 0;
    int64_t status;
    gh_result r = GH_OK;

    if (!resp)
        return GH_OK;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    status = code;
    r = h->put(resp, &(gh_param){"status", GH_T_INT, &status, sizeof status});
    for (size_t i = 0; r == GH_OK && i < rs->n_hdr; i++)
        r = h->put(resp, &(gh_param){"header", GH_T_STR, rs->hdr[i], strlen(rs->hdr[i])});
    if (r == GH_OK)
        r = h->put(resp, &(gh_param){"body", GH_T_BYTES, rs->body, rs->len});
    return r == GH_OK ? GH_OK : h->fail(call, r, "http: cannot store the response");
}

static int set_method(CURL *c, const http_req *rq)
{
    int rc = CURLE_OK;

    if (rq->has_body) {
        rc |= curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
        rc |= curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
        if (strcmp(rq->method, "POST") != 0)
            rc |= curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
    } else if (strcmp(rq->method, "HEAD") == 0) {
        rc |= curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(rq->method, "GET") != 0) {
        rc |= curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
    }
    return rc;
}

/* ------------------------------------------------------ per-thread handles */

typedef struct thread_handles {
    CURL *easy[2]; /* [allow_private]: see the top of the file */
} thread_handles;

static pthread_key_t handles_key;

static void handles_free(void *p)
{
    thread_handles *th = p;

    for (size_t i = 0; i < 2; i++)
        curl_easy_cleanup(th->easy[i]);
    free(th);
}

/* This thread's handle for the policy, without options: each request
 * resets its handle when done, keeping its connections, TLS sessions and
 * DNS answers. NULL when out of memory. */
static CURL *thread_handle(int allow_private)
{
    thread_handles *th = pthread_getspecific(handles_key);

    if (!th) {
        if (!(th = calloc(1, sizeof *th)))
            return NULL;
        if (pthread_setspecific(handles_key, th) != 0) {
            free(th);
            return NULL;
        }
    }
    if (!th->easy[allow_private])
        th->easy[allow_private] = curl_easy_init();
    return th->easy[allow_private];
}

static gh_result http_request(gh_call *call, const gh_param *req, int v1_0, gh_out *resp)
{
    const gh_host *h = gh;
    char *owned[MAX_OWNED], errbuf[CURL_ERROR_SIZE] = "", what[300];
    size_t n_owned = 0;
    http_req rq;
    http_resp rs = {0};
    gh_result r;
    int64_t timeout, left;
    CURL *c = NULL;
    CURLcode rc;
    int bad = 0;

    r = req_parse(call, req, v1_0, &rq, owned, &n_owned);
    if (r != GH_OK)
        goto done;
    describe(what, sizeof what, rq.method, rq.url);

    timeout = rq.timeout_ms > 0 ? rq.timeout_ms : DEFAULT_TIMEOUT_MS;
    if (call) {
        left = h->call_deadline_ms(call) - h->now_ms();
        if (left < timeout)
            timeout = left;
    }
    if (timeout <= 0) {
        r = h->fail(call, GH_ERR_TIMEOUT, "%s: the call's deadline passed before sending", what);
        goto done;
    }

    if (!(c = thread_handle(rq.allow_private))) {
        r = h->fail(call, GH_ERR_NOMEM, "%s: cannot create a curl handle", what);
        goto done;
    }
    rs.allow_private = rq.allow_private;
    bad |= curl_easy_setopt(c, CURLOPT_URL, rq.url);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: the string form; the bitmask is deprecated */
    bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    bad |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    bad |= curl_easy_setopt(c, CURLOPT_PROXY, ""); /* not the environment's: see the top */
    bad |= curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    bad |= curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &rs);
    if (rq.ca_file)
        bad |= curl_easy_setopt(c, CURLOPT_CAINFO, rq.ca_file);
    if (rq.client_cert) {
        bad |= curl_easy_setopt(c, CURLOPT_SSLCERT, rq.client_cert);
        bad |= curl_easy_setopt(c, CURLOPT_SSLKEY, rq.client_key);
    }
    bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* we are on a worker thread */
    bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout);
    bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout);
    bad |= curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MAX_BODY);
    bad |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, &rs);
    bad |= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    bad |= curl_easy_setopt(c, CURLOPT_HEADERDATA, &rs);
#ifdef PACKAGE_VERSION
    bad |= curl_easy_setopt(c, CURLOPT_USERAGENT, "gatehouse/" PACKAGE_VERSION);
#endif
    if (rq.headers)
        bad |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, rq.headers);
    if (rq.user) {
        bad |= curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        bad |= curl_easy_setopt(c, CURLOPT_USERNAME, rq.user);
        bad |= curl_easy_setopt(c, CURLOPT_PASSWORD, rq.password ? rq.password : "");
    }
    bad |= set_method(c, &rq);
    if (bad) {
        r = h->fail(call, GH_ERR_INTERNAL, "%s: libcurl refused an option", what);
        goto done;
    }

    rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        r = map_error(call, rc, &rs, what, errbuf, (long)timeout);
    else
        r = put_response(call, c, &rs, resp);
done:
    if (c) /* the handle stays with the thread; what pointed into this call goes */
        curl_easy_reset(c);
    req_free(&rq, owned, n_owned);
    clear_headers(&rs);
    free(rs.body);
    return r;
}

static void http_cleanup(void)
{
    thread_handles *th = pthread_getspecific(handles_key);

    /* other threads freed theirs as they ended; this one (main) is ending */
    if (th)
        handles_free(th);
    pthread_key_delete(handles_key);
    curl_global_cleanup();
}

static const gh_http_client client = { http_request, http_cleanup };

GH_EXPORT const gh_http_client *gatehouse_http_client_v1(const gh_host *h, char *err,
                                                         size_t errlen)
{
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

    if (rc != CURLE_OK) {
        snprintf(err, errlen, "curl_global_init: %s", curl_easy_strerror(rc));
        return NULL;
    }
    if (!(curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_SSL)) {
        snprintf(err, errlen, "libcurl was built without TLS: https is impossible");
        curl_global_cleanup();
        return NULL;
    }
    if (pthread_key_create(&handles_key, handles_free) != 0) {
        snprintf(err, errlen, "pthread_key_create failed");
        curl_global_cleanup();
        return NULL;
    }
    gh = h;
    return &client;
}
