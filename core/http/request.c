/*
 * request.c - turns an evhttp request into a gh_req, routes it, and is the
 * one place answers leave from: security headers, CORS, X-Request-Id,
 * metrics and the access log are added here so no handler can forget them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/http_struct.h> /* the request line's version: no accessor */
#include <event2/keyvalq_struct.h>
#include <openssl/rand.h>
#include "app.h"
#include "clock.h"
#include "http/metrics.h"
#include "http/request.h"
#include "http/server.h"
#include "log.h"

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Accept a caller's X-Request-Id only if it is short and plain, so it can
 * go into logs and headers as it is. */
static int request_id_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= 36 || !(isalnum((unsigned char)s[n]) || s[n] == '-' || s[n] == '_' || s[n] == '.'))
            return 0;
    return n > 0;
}

/* Request ids must be unique, not secret: 16 random bytes per thread,
 * drawn once, the last six counting up from there (mod 2^48), in UUID v4
 * form. RAND_bytes for every request cost a getpid() and a lock in
 * OpenSSL's generator. */
static void new_request_id(char out[40])
{
    static _Thread_local unsigned char seed[16];
    static _Thread_local uint64_t counter; /* 0: not seeded yet */
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];

    if (counter == 0) {
        if (RAND_bytes(seed, sizeof seed) != 1)
            memset(seed, 0, sizeof seed); /* uniqueness is best effort */
        for (int i = 10; i < 16; i++)
            counter = counter << 8 | seed[i];
        counter |= 1ull << 48; /* never 0 again */
    }
    counter++;
    memcpy(b, seed, sizeof seed);
    for (int i = 0; i < 6; i++)
        b[10 + i] = (unsigned char)(counter >> (8 * (5 - i)));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[b[i] >> 4];
        *o++ = hex[b[i] & 15];
    }
    *o = '\0';
}

const char *req_param(const gh_req *req, const char *name)
{
    for (size_t i = 0; i < req->match.nparams; i++) {
        const char *n = req->match.params[i].name; /* "id}" inside the pattern */
        size_t len = strlen(name);
        if (strncmp(n, name, len) == 0 && n[len] == '}')
            return req->match.params[i].value;
    }
    return NULL;
}

const char *req_header(const gh_req *req, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(req->ev), name);
}

json_t *req_headers(const gh_req *req)
{
    json_t *all = json_array();
    for (struct evkeyval *h = evhttp_request_get_input_headers(req->ev)->tqh_first; all && h;
         h = h->next.tqe_next) {
        char *line = NULL;
        if (asprintf(&line, "%s: %s", h->key, h->value) < 0 ||
            json_array_append_new(all, json_string(line)) != 0) {
            json_decref(all);
            all = NULL;
        }
        free(line);
    }
    return all;
}

void req_set_header(gh_req *req, const char *name, const char *value)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req->ev);
    evhttp_remove_header(h, name);
    evhttp_add_header(h, name, value);
}

/* The configured origin that matches the request's Origin, or NULL. */
static const char *cors_origin(const gh_req *req, const gh_config *cfg)
{
    const char *origin = req_header(req, "Origin");
    if (!origin || cfg->n_cors_origins == 0)
        return NULL;
    for (size_t i = 0; i < cfg->n_cors_origins; i++) {
        if (strcmp(cfg->cors_origins[i], "*") == 0)
            return cfg->cors_credentials ? origin : "*";
        if (strcasecmp(cfg->cors_origins[i], origin) == 0)
            return origin;
    }
    return NULL;
}

static void add_common_headers(gh_req *req, const gh_config *cfg)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req->ev);
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "X-Frame-Options", "DENY");
    evhttp_add_header(h, "Referrer-Policy", "no-referrer");
    /* the one page the daemon serves (/docs) sets a policy of its own */
    if (!evhttp_find_header(h, "Content-Security-Policy"))
        evhttp_add_header(h, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    if (!evhttp_find_header(h, "Cache-Control"))
        evhttp_add_header(h, "Cache-Control", "no-store");
    /* over a TLS listener, or https by a proxy in front (public_url) */
    if (cfg->hsts || req->tls)
        evhttp_add_header(h, "Strict-Transport-Security", "max-age=31536000; includeSubDomains");
    evhttp_add_header(h, "X-Request-Id", req->request_id);
    const char *origin = cors_origin(req, cfg);
    if (origin) {
        evhttp_add_header(h, "Access-Control-Allow-Origin", origin);
        if (strcmp(origin, "*") != 0)
            evhttp_add_header(h, "Vary", "Origin");
        if (cfg->cors_credentials)
            evhttp_add_header(h, "Access-Control-Allow-Credentials", "true");
        evhttp_add_header(h, "Access-Control-Expose-Headers", "X-Request-Id, Retry-After");
    }
}

static const char *status_title(int status)
{
    static const struct { int code; const char *title; } titles[] = {
        { 400, "Bad Request" }, { 401, "Unauthorized" }, { 403, "Forbidden" },
        { 404, "Not Found" }, { 405, "Method Not Allowed" }, { 408, "Request Timeout" },
        { 409, "Conflict" }, { 410, "Gone" }, { 413, "Content Too Large" },
        { 415, "Unsupported Media Type" }, { 422, "Unprocessable Content" },
        { 429, "Too Many Requests" }, { 431, "Request Header Fields Too Large" }, { 500, "Internal Server Error" },
        { 501, "Not Implemented" }, { 502, "Bad Gateway" }, { 503, "Service Unavailable" },
        { 504, "Gateway Timeout" },
    };
    for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++)
        if (titles[i].code == status)
            return titles[i].title;
    return status >= 500 ? "Server Error" : "Client Error";
}

static void req_free(gh_req *req)
{
    cycle_unref(req->cycle);
    match_clear(&req->match);
    free(req->path);
    free(req->query);
    free(req);
}

void req_send(gh_req *req, int status, const char *content_type, const char *body, size_t len)
{
    if (req->answered)
        return;
    req->answered = 1;
    req->status = status;
    const gh_config *cfg = req->cycle->cfg;
    struct evhttp_connection *evcon = evhttp_request_get_connection(req->ev);
    if (evcon)
        evhttp_connection_set_closecb(evcon, NULL, NULL);
    if (req->closed) {
        req->status = 499; /* nginx's "client closed request" */
        evhttp_send_reply(req->ev, 500, NULL, NULL); /* frees the detached request */
    } else {
        add_common_headers(req, cfg);
        struct evkeyvalq *h = evhttp_request_get_output_headers(req->ev);
        if (content_type)
            evhttp_add_header(h, "Content-Type", content_type);
        if (atomic_load(&req->app->draining) && !evhttp_find_header(h, "Connection"))
            evhttp_add_header(h, "Connection", "close");
        /* straight into the request's own buffer: no second one to copy */
        if (len && evbuffer_add(evhttp_request_get_output_buffer(req->ev), body, len) < 0)
            status = req->status = 500;
        evhttp_send_reply(req->ev, status, NULL, NULL);
    }
    int64_t us = now_us() - req->start_us;
    metrics_request(req->match.route ? req->match.route->index : router_count(req->app->router),
                    req->status, (double)us / 1e6);
    log_access(req->method_name, req->path, req->status, (double)us / 1000.0, req->request_id,
               req->client, req->peer);
    loop_track(req->loop, -1);
    if (!req->in_done)
        req_free(req);
}

/* Most answers fit a buffer on the stack; json_dumps would grow a heap
 * buffer and then copy it once more. */
#define JSON_STACK 2048

void req_json(gh_req *req, int status, json_t *body)
{
    char stack[JSON_STACK], *text = stack;
    size_t len = json_dumpb(body, stack, sizeof stack, JSON_COMPACT);
    if (len > sizeof stack) {
        text = malloc(len);
        if (text && json_dumpb(body, text, len, JSON_COMPACT) != len) {
            free(text);
            text = NULL;
        }
    }
    json_decref(body);
    if (!text || len == 0) {
        if (text != stack)
            free(text);
        req_problem(req, 500, "internal_error", "The response could not be encoded.");
        return;
    }
    req_send(req, status, "application/json", text, len);
    if (text != stack)
        free(text);
}

void req_problem(gh_req *req, int status, const char *code, const char *detail)
{
    char type[96];
    snprintf(type, sizeof type, "urn:gatehouse:problem:%s", code);
    json_t *p = json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", type, "title",
                          status_title(status), "status", status, "code",
                          code, "request_id", req->request_id);
    if (p && detail)
        json_object_set_new(p, "detail", json_string(detail));
    char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    if (!text) {
        static const char fallback[] = "{\"status\":500,\"code\":\"internal_error\"}";
        req_send(req, 500, "application/problem+json", fallback, sizeof fallback - 1);
        return;
    }
    req_send(req, status, "application/problem+json", text, strlen(text));
    free(text);
}

/* JSON nesting depth, counted outside strings, so a deeply nested body is
 * refused before jansson recurses into it. */
static int json_depth_ok(const char *s, size_t len, int max)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > max)
                return 0;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 1;
}

static int is_json_type(const char *ct)
{
    if (!ct)
        return 0;
    size_t n = strlen("application/json");
    return strncasecmp(ct, "application/json", n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

json_t *req_json_body(gh_req *req)
{
    const gh_config *cfg = req->cycle->cfg;
    if (!is_json_type(req_header(req, "Content-Type"))) {
        req_problem(req, 415, "unsupported_media_type", "Send the body as application/json.");
        return NULL;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req->ev);
    size_t len = evbuffer_get_length(in);
    if (len > cfg->max_body_size) {
        req_problem(req, 413, "body_too_large", "The request body is larger than allowed.");
        return NULL;
    }
    const char *text = (const char *)evbuffer_pullup(in, -1);
    if (len == 0 || !text) {
        req_problem(req, 400, "invalid_json", "The request body is empty.");
        return NULL;
    }
    if (!json_depth_ok(text, len, cfg->max_json_depth)) {
        req_problem(req, 400, "json_too_deep", "The JSON body is nested too deeply.");
        return NULL;
    }
    json_error_t jerr;
    /* jansson checks UTF-8; duplicate keys are refused as ambiguous */
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        char detail[200];
        snprintf(detail, sizeof detail, "Malformed JSON at line %d, column %d.", jerr.line, jerr.column);
        req_problem(req, 400, "invalid_json", detail);
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        req_problem(req, 400, "invalid_json", "The JSON body must be an object.");
        return NULL;
    }
    return doc;
}

static void on_client_close(struct evhttp_connection *evcon, void *arg)
{
    gh_req *req = arg;
    req->closed = 1;
}

static void job_work(void *arg)
{
    gh_req *req = arg;
    if (!req->closed)
        req->job_work(req);
}

static void job_done(void *arg)
{
    gh_req *req = arg;
    req->in_done = 1; /* req_send leaves the freeing to us */
    req->job_done(req); /* frees job_data; its answer is dropped if closed */
    req->in_done = 0;
    if (!req->answered)
        req_problem(req, 500, "internal_error", NULL);
    else
        req_free(req);
}

int req_defer(gh_req *req, void (*work)(gh_req *), void (*done)(gh_req *), void *data)
{
    return req_defer_on(req, req->app->pool, work, done, data);
}

int req_defer_on(gh_req *req, gh_pool *pool, void (*work)(gh_req *), void (*done)(gh_req *),
                 void *data)
{
    req->job_work = work;
    req->job_done = done;
    req->job_data = data;
    if (pool_submit(pool, req->loop, job_work, job_done, req) < 0) {
        req_set_header(req, "Retry-After", "1");
        req_problem(req, 503, "overloaded", "The server is busy; try again shortly.");
        return -1;
    }
    struct evhttp_connection *evcon = evhttp_request_get_connection(req->ev);
    if (evcon)
        evhttp_connection_set_closecb(evcon, on_client_close, req);
    return 0;
}

void req_hold(gh_req *req, void (*done)(gh_req *), void *data)
{
    req->job_work = NULL;
    req->job_done = done;
    req->job_data = data;
    struct evhttp_connection *evcon = evhttp_request_get_connection(req->ev);
    if (evcon)
        evhttp_connection_set_closecb(evcon, on_client_close, req);
}

void req_resume(gh_req *req)
{
    job_done(req);
}

static void answer_options(gh_req *req, const gh_config *cfg)
{
    char allow[96];
    methods_format(req->match.allow | GH_OPTIONS, allow, sizeof allow);
    req_set_header(req, "Allow", allow);
    const char *want = req_header(req, "Access-Control-Request-Method");
    if (want && req_header(req, "Origin")) { /* a CORS preflight */
        if (!cors_origin(req, cfg)) {
            req_problem(req, 403, "cors_origin_denied", "This origin may not call the API.");
            return;
        }
        char age[24];
        snprintf(age, sizeof age, "%lld", (long long)cfg->cors_max_age_s);
        req_set_header(req, "Access-Control-Allow-Methods", cfg->cors_methods);
        req_set_header(req, "Access-Control-Allow-Headers", cfg->cors_headers);
        req_set_header(req, "Access-Control-Max-Age", age);
    }
    req_send(req, 204, NULL, NULL, 0);
}

static const char *method_name(enum evhttp_cmd_type cmd)
{
    switch (cmd) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_PATCH: return "PATCH";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    default: return "OTHER";
    }
}

/* An RFC 9110 token: what a header name must be. */
static int is_token(const char *s)
{
    static const char tchar[] = "!#$%&'*+-.^_`|~";
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr(tchar, *s))
            return 0;
    return 1;
}

/* evhttp 2.1 has framed the request before we see it, and forgives what
 * RFC 9112 says must be refused: of two Content-Length it reads the first,
 * "Content-Length :" is another name to it (so no body), "+5" is a number,
 * and a Transfer-Encoding other than "chunked" is ignored. A proxy in front
 * may have framed the same bytes otherwise, so what we took for the next
 * request may be the tail of this one: the caller answers 400 and closes.
 * (Content-Length with Transfer-Encoding, and a Content-Length strtoll
 * cannot read, evhttp refuses itself.) NULL when the framing is sound. */
static const char *framing_error(struct evhttp_request *ev, size_t *head_size)
{
    const char *cl = NULL, *te = NULL;
    int ncl = 0, nte = 0;
    *head_size = strlen(evhttp_request_get_uri(ev));
    for (struct evkeyval *h = evhttp_request_get_input_headers(ev)->tqh_first; h;
         h = h->next.tqe_next) {
        *head_size += strlen(h->key) + strlen(h->value) + 2;
        if (!is_token(h->key))
            return "A header name is not a token (no spaces, no space before the colon).";
        if (strcasecmp(h->key, "Content-Length") == 0) {
            cl = h->value;
            ncl++;
        } else if (strcasecmp(h->key, "Transfer-Encoding") == 0) {
            te = h->value;
            nte++;
        }
    }
    if (ncl > 1)
        return "More than one Content-Length.";
    if (cl && (!*cl || cl[strspn(cl, "0123456789")] != '\0'))
        return "Content-Length must be digits only.";
    /* an obs-fold evhttp has already replaced by a space (RFC 9112 5.2
     * allows that), so a folded framing header fails here or above */
    if (nte > 1 || (te && strcasecmp(te, "chunked") != 0))
        return "Only Transfer-Encoding: chunked is accepted.";
    if (cl && te)
        return "Content-Length and Transfer-Encoding together.";
    return NULL;
}

static void fill_peer(gh_req *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req->ev);
    const char *addr = NULL;
    ev_uint16_t port = 0;
    if (evcon)
        evhttp_connection_get_peer(evcon, (char **)&addr, &port);
    snprintf(req->peer, sizeof req->peer, "%s", addr ? addr : "-");
}

/* The client behind trusted proxies (http/client_ip.h). A header that
 * cannot be read is not the client's fault to pay for with a 500, nor a
 * reason to believe part of it: the peer is used, counted and logged. */
static void fill_client(gh_req *req, const gh_config *cfg)
{
    const gh_trusted_proxies *tp = &cfg->proxies;
    snprintf(req->client, sizeof req->client, "%s", req->peer);
    if (tp->n == 0)
        return;
    const char *name = tp->header == CLIENT_IP_HDR_FORWARDED ? "Forwarded" : "X-Forwarded-For";
    /* the last lines: the walk starts at the right, and lines a client
     * wrote before our proxies' may be as many as it likes */
    const char *lines[CLIENT_IP_MAX_HOPS];
    size_t n = 0;
    for (struct evkeyval *h = evhttp_request_get_input_headers(req->ev)->tqh_first; h;
         h = h->next.tqe_next) {
        if (strcasecmp(h->key, name) != 0)
            continue;
        if (n == CLIENT_IP_MAX_HOPS)
            memmove(lines, lines + 1, (CLIENT_IP_MAX_HOPS - 1) * sizeof *lines), n--;
        lines[n++] = h->value;
    }
    const char *why = NULL;
    client_ip_how how = client_ip_derive(tp, req->peer, lines, n, req->client, &why);
    if (how == CLIENT_IP_MALFORMED) {
        metrics_forwarded_refused();
        gh_log_tagged(GH_LOG_DEBUG, NULL, req->request_id,
                      "%s from trusted proxy %s not used (%s): the client is the peer", name,
                      req->peer, why);
    } else if (how == CLIENT_IP_HIDDEN) {
        gh_log_tagged(GH_LOG_DEBUG, NULL, req->request_id,
                      "%s names no address (unknown or obfuscated): the client is the hop "
                      "that wrote it, %s", name, req->client);
    }
}

void req_dispatch(struct evhttp_request *ev, gh_loop *loop, gh_app *app, int tls)
{
    gh_req *req = calloc(1, sizeof *req);
    if (!req) {
        evhttp_send_error(ev, 503, NULL);
        return;
    }
    req->ev = ev;
    req->loop = loop;
    req->app = app;
    req->tls = tls;
    req->cycle = app_cycle_acquire(app);
    req->start_us = now_us();
    loop_track(loop, 1);
    const gh_config *cfg = req->cycle->cfg;

    const char *rid = req_header(req, "X-Request-Id");
    if (rid && request_id_ok(rid))
        snprintf(req->request_id, sizeof req->request_id, "%s", rid);
    else
        new_request_id(req->request_id);
    fill_peer(req);
    fill_client(req, cfg);
    req->method_name = method_name(evhttp_request_get_command(ev));
    req->method = method_from_name(req->method_name);

    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    req->path = strdup(path && *path ? path : "/");
    req->query = query ? strdup(query) : NULL;
    if (!req->path || (query && !req->query)) {
        req_problem(req, 503, "overloaded", NULL);
        return;
    }
    /* evhttp takes any "HTTP/0.x" or "HTTP/1.x" and answers in the same
     * version, so "HTTP/0.1" would get an "HTTP/0.1 200" no client can
     * read (found by fuzz/fuzz_http.c). We speak 1.0 and 1.1: a later 1.x
     * is answered as 1.1 (RFC 9110 2.5), anything else refused. */
    if (ev->major != 1) {
        ev->major = 1;
        ev->minor = 1;
        req_set_header(req, "Connection", "close");
        req_problem(req, 505, "http_version_not_supported", "Only HTTP/1.0 and HTTP/1.1 are served.");
        return;
    }
    if (ev->minor > 1)
        ev->minor = 1;
    size_t head_size;
    const char *framing = framing_error(ev, &head_size);
    if (framing) {
        /* evhttp reads no more of a connection whose answer says close */
        req_set_header(req, "Connection", "close");
        req_problem(req, 400, "invalid_framing", framing);
        return;
    }
    /* evhttp's own caps sit above ours (server.c), so that over-size
     * headers and bodies get these answers and not its HTML page */
    if (head_size > cfg->max_header_size) {
        req_problem(req, 431, "headers_too_large", "The request headers are larger than allowed.");
        return;
    }
    if (evbuffer_get_length(evhttp_request_get_input_buffer(ev)) > cfg->max_body_size) {
        req_problem(req, 413, "body_too_large", "The request body is larger than allowed.");
        return;
    }
    if (atomic_load(&app->draining)) {
        req_set_header(req, "Retry-After", "1");
        req_problem(req, 503, "shutting_down", "The server is shutting down.");
        return;
    }
    /* HEAD is answered as GET; evhttp leaves the body out */
    unsigned m = req->method == GH_HEAD ? GH_GET : req->method;
    int found = router_match(app->router, m, req->path, &req->match);
    if (found == 404) {
        req_problem(req, 404, "not_found", "No such resource.");
    } else if (req->method == GH_OPTIONS) {
        answer_options(req, cfg);
    } else if (found == 405) {
        char allow[96];
        methods_format(req->match.allow, allow, sizeof allow);
        req_set_header(req, "Allow", allow);
        req_problem(req, 405, "method_not_allowed", "This resource does not accept that method.");
    } else {
        req->match.route->handler(req);
    }
}
