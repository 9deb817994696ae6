/*
 * test_http.c - host->http, the outbound HTTP client plugins use, against
 * listeners of our own on 127.0.0.1: a plain HTTP/1.1 responder and a TLS
 * server that asks for a client certificate, both in threads, with a CA
 * and certificates made here.
 *
 * What it shows: requests and answers as the ABI says; never a redirect,
 * never past the deadline, never a secret in a message; and the 1.1
 * policy: https only and public addresses only unless allowed, checked on
 * the address connected to; unknown keys refused; a 1.0 plugin keeps 1.0's
 * rules; connections reused per thread but never across policies; a CA
 * file and a client certificate per request.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "asserts.h"
#include "call.h"
#include "clock.h"
#include "log.h"
#include "plugin/host.h"
#include "plugin/loader.h"
#include "yaml_tree.h"

static const gh_host *const h = &gh_host_table;
static char tmp_dir[64];

/* tmp_dir/name in buf */
static char *tmp_file(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", tmp_dir, name);
    return buf;
}

static int64_t out_int(const gh_out *out, const char *key)
{
    const gh_param *p = h->out_get(out, key, 0);

    assert_non_null(p);
    assert_int_equal(p->type, GH_T_INT);
    return *(const int64_t *)p->data;
}

static const int32_t yes = 1;
#define END {NULL, 0, NULL, 0}
#define STR(k, v) {(k), GH_T_STR, (v), strlen(v)}
#define YES(k) {(k), GH_T_BOOL, &yes, sizeof yes}
/* what a request to our listeners needs under the 1.1 policy */
#define LOCAL YES("allow_http"), YES("allow_private")

/* A listener on 127.0.0.1 in a thread, one connection at a time, handed
 * to on_conn (which closes or keeps it). */
typedef struct listener {
    int fd, stop[2];
    uint16_t port;
    pthread_t th;
    void (*on_conn)(int fd);
} listener;

static void *listener_run(void *arg)
{
    listener *l = arg;

    for (;;) {
        struct pollfd p[2] = {{l->fd, POLLIN, 0}, {l->stop[0], POLLIN, 0}};
        int fd;

        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        if (p[0].revents && (fd = accept(l->fd, NULL, NULL)) >= 0)
            l->on_conn(fd);
    }
    return NULL;
}

static void listener_start(listener *l, void (*on_conn)(int fd))
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;

    memset(l, 0, sizeof *l);
    l->on_conn = on_conn;
    l->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(l->fd >= 0);
    assert_int_equal(bind(l->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(l->fd, 16), 0);
    assert_int_equal(getsockname(l->fd, (struct sockaddr *)&a, &alen), 0);
    l->port = ntohs(a.sin_port);
    assert_int_equal(pipe(l->stop), 0);
    assert_int_equal(pthread_create(&l->th, NULL, listener_run, l), 0);
}

static void listener_stop(listener *l)
{
    assert_int_equal(write(l->stop[1], "x", 1), 1);
    pthread_join(l->th, NULL);
    close(l->fd);
    close(l->stop[0]);
    close(l->stop[1]);
}

/* A plain HTTP/1.1 responder. Paths:
 *   /keep      200 "kept", and the connection stays open for more
 *   /hello     200 with a header and "hi there"
 *   /echo      201 with the request body
 *   /redirect  302 to /hello
 *   /big       5 MiB without a Content-Length
 *   /slow      never answers (the connection is held until the end)
 * The last request's head and body, and the connections accepted, are
 * kept for assertions. */
typedef struct server {
    listener l;
    int accepted;
    pthread_mutex_t lock;
    char last[16384];
    int held[16];
    size_t n_held;
} server;

static server srv;

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* Read a request head and its Content-Length body into buf. */
static size_t read_request(int fd, char *buf, size_t cap)
{
    size_t len = 0, want = 0;
    char *end;

    while (len + 1 < cap) {
        ssize_t r = recv(fd, buf + len, cap - 1 - len, 0);

        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
        if ((end = strstr(buf, "\r\n\r\n")) != NULL) {
            const char *cl = strcasestr(buf, "\r\ncontent-length:");
            size_t head = (size_t)(end + 4 - buf);

            want = head + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
            if (len >= want)
                break;
        }
    }
    buf[len] = '\0';
    return len;
}

/* Answer one request on fd: 1 when the connection stays open for the
 * next (/keep), else 0 (fd closed or held). */
static int respond(server *s, int fd)
{
    static const char kept[] = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nkept";
    static const char hello[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                "X-Test:  yes  \r\nContent-Length: 8\r\nConnection: close\r\n\r\n"
                                "hi there";
    static const char redirect[] = "HTTP/1.1 302 Found\r\nLocation: /hello\r\n"
                                   "Content-Length: 0\r\nConnection: close\r\n\r\n";
    static const char big_head[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
    char req[sizeof s->last], head[256], *body;
    struct timeval tv = {2, 0};

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (read_request(fd, req, sizeof req) == 0) { /* closed, or idle too long */
        close(fd);
        return 0;
    }
    pthread_mutex_lock(&s->lock);
    memcpy(s->last, req, sizeof req);
    pthread_mutex_unlock(&s->lock);
    body = strstr(req, "\r\n\r\n");
    body = body ? body + 4 : req + strlen(req);

    if (strncmp(strchr(req, ' ') ? strchr(req, ' ') + 1 : "", "/slow", 5) == 0 &&
        s->n_held < sizeof s->held / sizeof s->held[0]) {
        s->held[s->n_held++] = fd;
        return 0;
    }
    if (strstr(req, " /keep ")) {
        send_all(fd, kept, sizeof kept - 1);
        return 1;
    }
    if (strstr(req, " /hello "))
        send_all(fd, hello, sizeof hello - 1);
    else if (strstr(req, " /redirect "))
        send_all(fd, redirect, sizeof redirect - 1);
    else if (strstr(req, " /echo ")) {
        snprintf(head, sizeof head,
                 "HTTP/1.1 201 Created\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                 strlen(body));
        send_all(fd, head, strlen(head));
        send_all(fd, body, strlen(body));
    } else if (strstr(req, " /big ")) {
        static char chunk[65536];

        memset(chunk, 'b', sizeof chunk);
        send_all(fd, big_head, sizeof big_head - 1);
        for (int i = 0; i < 80; i++) /* 5 MiB */
            send_all(fd, chunk, sizeof chunk);
    } else {
        static const char nf[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";

        send_all(fd, nf, sizeof nf - 1);
    }
    close(fd);
    return 0;
}

static void serve(int fd)
{
    pthread_mutex_lock(&srv.lock);
    srv.accepted++;
    pthread_mutex_unlock(&srv.lock);
    while (respond(&srv, fd))
        ;
}

static void server_start(server *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    listener_start(&s->l, serve);
}

static void server_stop(server *s)
{
    listener_stop(&s->l);
    for (size_t i = 0; i < s->n_held; i++)
        close(s->held[i]);
    pthread_mutex_destroy(&s->lock);
}

static char *url(const char *path)
{
    static char buf[128];

    snprintf(buf, sizeof buf, "http://127.0.0.1:%u%s", srv.l.port, path);
    return buf;
}

#define STR(k, v) {(k), GH_T_STR, (v), strlen(v)}

static int has_header(const gh_out *out, const char *line)
{
    const gh_param *p;

    for (size_t i = 0; (p = h->out_get(out, "header", i)) != NULL; i++)
        if (strcmp(p->data, line) == 0)
            return 1;
    return 0;
}

static void test_http_get(void **state)
{
    gh_call call;
    gh_out *out = h->out_new();
    const gh_param *body;

    (void)state;
    call_init(&call, NULL, NULL, 5000);
    assert_int_equal(h->http(&call, (gh_param[]){STR("url", url("/hello")), LOCAL, END}, out), GH_OK);
    assert_int_equal(out_int(out, "status"), 200);
    assert_true(has_header(out, "X-Test:  yes")); /* trimmed at the end only */
    assert_true(has_header(out, "Content-Type: text/plain"));
    body = h->out_get(out, "body", 0);
    assert_int_equal(body->type, GH_T_BYTES);
    assert_int_equal(body->len, 8);
    assert_string_equal(body->data, "hi there");
    pthread_mutex_lock(&srv.lock);
    assert_contains(srv.last, "GET /hello HTTP/1.1");
    pthread_mutex_unlock(&srv.lock);
    h->out_free(out);
}

static void test_http_post(void **state)
{
    const char json[] = "{\"a\":1}";
    int64_t timeout = 3000;
    gh_call call;
    gh_out *out = h->out_new();

    (void)state;
    call_init(&call, NULL, NULL, 5000);
    assert_int_equal(h->http(&call, (gh_param[]){
                                 STR("method", "POST"),
                                 STR("url", url("/echo")),
                                 STR("header", "Content-Type: application/json"),
                                 STR("header", "X-Custom: 1"),
                                 {"body", GH_T_STR, json, sizeof json - 1},
                                 {"timeout_ms", GH_T_INT, &timeout, sizeof timeout},
                                 STR("user", "u"),
                                 STR("password", "p"),
                                 LOCAL,
                                 END,
                             }, out),
                     GH_OK);
    assert_int_equal(out_int(out, "status"), 201);
    assert_string_equal(h->out_get(out, "body", 0)->data, json);
    pthread_mutex_lock(&srv.lock);
    assert_contains(srv.last, "POST /echo HTTP/1.1");
    assert_contains(srv.last, "X-Custom: 1");
    assert_contains(srv.last, "Authorization: Basic dTpw");
    pthread_mutex_unlock(&srv.lock);
    h->out_free(out);

    /* other methods, with and without a body */
    out = h->out_new();
    assert_int_equal(h->http(&call, (gh_param[]){STR("method", "DELETE"), STR("url", url("/echo")),
                                                 LOCAL, END}, out), GH_OK);
    pthread_mutex_lock(&srv.lock);
    assert_contains(srv.last, "DELETE /echo HTTP/1.1");
    pthread_mutex_unlock(&srv.lock);
    h->out_free(out);
}

static void test_http_no_redirects(void **state)
{
    gh_call call;
    gh_out *out = h->out_new();

    (void)state;
    call_init(&call, NULL, NULL, 5000);
    assert_int_equal(h->http(&call, (gh_param[]){STR("url", url("/redirect")), LOCAL, END}, out), GH_OK);
    assert_int_equal(out_int(out, "status"), 302);
    assert_true(has_header(out, "Location: /hello"));
    assert_int_equal(h->out_get(out, "body", 0)->len, 0);
    h->out_free(out);
}

static void test_http_timeout(void **state)
{
    int64_t timeout = 300, start = gh_monotonic_ms();
    char want[128];
    gh_call call;
    gh_out *out = h->out_new();

    (void)state;
    call_init(&call, NULL, NULL, 5000);
    assert_int_equal(h->http(&call, (gh_param[]){STR("url", url("/slow?token=abc")),
                                                 {"timeout_ms", GH_T_INT, &timeout, sizeof timeout},
                                                 LOCAL, END}, out),
                     GH_ERR_TIMEOUT);
    snprintf(want, sizeof want, "GET http://127.0.0.1:%u: no answer within 300 ms", srv.l.port);
    assert_string_equal(call.message, want); /* the origin only: no path, no query */
    assert_true(gh_monotonic_ms() - start < 2000);
    assert_null(h->out_get(out, "status", 0));

    /* the call's deadline is shorter than timeout_ms: it wins */
    start = gh_monotonic_ms();
    call_init(&call, NULL, NULL, 200);
    assert_int_equal(h->http(&call, (gh_param[]){STR("url", url("/slow")), LOCAL, END}, out),
                     GH_ERR_TIMEOUT);
    assert_true(gh_monotonic_ms() - start < 1500);

    /* a deadline already past: nothing is sent */
    call_init(&call, NULL, NULL, 0);
    assert_int_equal(h->http(&call, (gh_param[]){STR("url", url("/hello")), LOCAL, END}, out),
                     GH_ERR_TIMEOUT);
    assert_contains(call.message, "deadline");
    h->out_free(out);
}

static void test_http_refused(void **state)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    char u[128];
    gh_call call;
    gh_out *out = h->out_new();
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    (void)state;
    /* a port that was just free: nobody listens there */
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    close(fd);
    snprintf(u, sizeof u, "http://127.0.0.1:%u/private/path?token=abc", ntohs(a.sin_port));
    call_init(&call, NULL, NULL, 5000);
    assert_int_equal(h->http(&call, (gh_param[]){STR("url", u), STR("user", "admin"),
                                                 STR("password", "p4ssw0rd"),
                                                 STR("body", "secret-body"), LOCAL, END}, out),
                     GH_ERR_UNAVAILABLE);
    assert_contains(call.message, "POST http://127.0.0.1:");
    assert_null(strstr(call.message, "token=abc"));
    assert_null(strstr(call.message, "private"));
    assert_null(strstr(call.message, "p4ssw0rd"));
    assert_null(strstr(call.message, "secret-body"));
    h->out_free(out);
}

static void test_http_limits(void **state)
{
    gh_call call;
    gh_out *out = h->out_new();

    (void)state;
    call_init(&call, NULL, NULL, 10000);
    assert_int_equal(h->http(&call, (gh_param[]){STR("url", url("/big")), LOCAL, END}, out),
                     GH_ERR_INVALID);
    assert_contains(call.message, "response body over 4 MiB");

    assert_int_equal(h->http(&call, (gh_param[]){STR("url", "ftp://127.0.0.1/x"), END}, out),
                     GH_ERR_INVALID);
    assert_contains(call.message, "http:// or https://");
    assert_int_equal(h->http(&call, (gh_param[]){END}, out), GH_ERR_INVALID);
    assert_int_equal(h->http(&call, (gh_param[]){STR("url", url("/hello")),
                                                 STR("header", "X-A: 1\r\nX-Injected: 2"), LOCAL,
                                                 END},
                             out),
                     GH_ERR_INVALID);
    assert_int_equal(h->http(&call, (gh_param[]){STR("url", url("/hello")),
                                                 STR("method", "GET /x HTTP/1.0\r\n"), LOCAL,
                                                 END},
                             out),
                     GH_ERR_INVALID);
    assert_null(h->out_get(out, "status", 0));
    h->out_free(out);
}

static int http_setup(void **state)
{
    (void)state;
    server_start(&srv);
    return 0;
}

static int http_teardown(void **state)
{
    (void)state;
    server_stop(&srv);
    return 0;
}


static int accepted(void)
{
    int n;

    pthread_mutex_lock(&srv.lock);
    n = srv.accepted;
    pthread_mutex_unlock(&srv.lock);
    return n;
}

/* ----------------------------------------------------------- 1.1 policy */

static void test_http_https_only(void **state)
{
    gh_call call;
    gh_out *out = h->out_new();

    (void)state;
    call_init(&call, NULL, NULL, 5000);
    assert_int_equal(h->http(&call, (gh_param[]){STR("url", url("/hello")),
                                                 YES("allow_private"), END}, out),
                     GH_ERR_INVALID);
    assert_contains(call.message, "https://");
    assert_contains(call.message, "allow_http");
    assert_int_equal(accepted(), 0); /* refused before any connection */
    assert_null(h->out_get(out, "status", 0));
    h->out_free(out);
}

/* Every address here is refused before a packet is sent to it, so none
 * needs to exist: the listener sees nothing. */
static void test_http_private_addresses(void **state)
{
    static const char *const hosts[] = {
        "127.0.0.1", "localhost", "127.1.2.3", "0.0.0.0", "2130706433" /* 127.0.0.1 */,
        "10.1.2.3", "172.16.0.1", "172.31.255.254", "192.168.1.1", "100.64.0.1",
        "169.254.169.254" /* cloud metadata */, "192.0.2.1", "198.18.0.1", "224.0.0.1",
        "255.255.255.255", "[::1]", "[::]", "[::ffff:127.0.0.1]", "[::ffff:10.0.0.1]",
        "[64:ff9b::a9fe:a9fe]" /* NAT64 of 169.254.169.254 */, "[2002:c0a8:0101::1]",
        "[fd00::1]", "[fe80::1]", "[ff02::1]", "[2001:db8::1]",
    };
    int64_t timeout = 2000;
    char u[128];
    gh_call call;
    gh_out *out = h->out_new();

    (void)state;
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        snprintf(u, sizeof u, "http://%s:%u/hello", hosts[i], srv.l.port);
        call_init(&call, NULL, NULL, 5000);
        if (h->http(&call, (gh_param[]){STR("url", u), YES("allow_http"),
                                        {"timeout_ms", GH_T_INT, &timeout, sizeof timeout},
                                        END}, out) != GH_ERR_INVALID)
            fail_msg("%s was not refused: %s", hosts[i], call.message);
        assert_contains(call.message, "is not a public address (allow_private not set)");
    }
    assert_int_equal(accepted(), 0);

    /* the same listener, allowed */
    call_init(&call, NULL, NULL, 5000);
    assert_int_equal(h->http(&call, (gh_param[]){STR("url", url("/hello")), LOCAL, END}, out),
                     GH_OK);
    assert_int_equal(out_int(out, "status"), 200);
    assert_int_equal(accepted(), 1);
    h->out_free(out);
}

/* A public address passes the guard: whatever happens next (no route
 * here, most likely) is not the guard's refusal. */
static void test_http_public_address_passes(void **state)
{
    int64_t timeout = 300;
    gh_call call;
    gh_out *out = h->out_new();
    gh_result r;

    (void)state;
    call_init(&call, NULL, NULL, 5000);
    r = h->http(&call, (gh_param[]){STR("url", "https://203.0.114.1:9/"),
                                    {"timeout_ms", GH_T_INT, &timeout, sizeof timeout}, END},
                out);
    assert_true(r == GH_ERR_UNAVAILABLE || r == GH_ERR_TIMEOUT);
    assert_null(strstr(call.message, "public address"));
    h->out_free(out);
}

static void test_http_unknown_key(void **state)
{
    gh_call call;
    gh_out *out = h->out_new();

    (void)state;
    call_init(&call, NULL, NULL, 5000);
    assert_int_equal(h->http(&call, (gh_param[]){STR("url", url("/hello")), LOCAL,
                                                 STR("pin_sha256", "abc"), END}, out),
                     GH_ERR_UNSUPPORTED);
    assert_contains(call.message, "unknown request key 'pin_sha256'");
    assert_int_equal(h->http(&call, (gh_param[]){STR("url", url("/hello")), LOCAL,
                                                 STR("allow_http", "yes"), END}, out),
                     GH_ERR_INVALID);
    assert_contains(call.message, "allow_http must be a BOOL");
    assert_int_equal(h->http(&call, (gh_param[]){STR("url", url("/hello")), LOCAL,
                                                 STR("client_cert", "/x.pem"), END}, out),
                     GH_ERR_INVALID);
    assert_contains(call.message, "client_cert and client_key go together");
    assert_int_equal(accepted(), 0);
    h->out_free(out);
}

/* A plugin built against 1.0 was promised 1.0's client: http, any
 * address, unknown keys ignored. */
static void test_http_v1_0_plugin(void **state)
{
    static const gh_plugin old = {.size = offsetof(gh_plugin, flags),
                                  .abi_major = 1, .abi_minor = 0, .name = "old"};
    gh_loaded p = {.name = "old", .desc = &old};
    gh_call call;
    gh_out *out = h->out_new();

    (void)state;
    call_init(&call, &p, NULL, 5000);
    assert_int_equal(h->http(&call, (gh_param[]){STR("url", url("/hello")),
                                                 STR("some_new_key", "x"), END}, out),
                     GH_OK);
    assert_int_equal(out_int(out, "status"), 200);
    h->out_free(out);
}

/* One connection for several requests of a thread; but a connection
 * opened for a request allowed to reach private addresses is never handed
 * to one that is not. */
static void test_http_reuse(void **state)
{
    gh_call call;
    gh_out *out = h->out_new();

    (void)state;
    call_init(&call, NULL, NULL, 5000);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(h->http(&call, (gh_param[]){STR("url", url("/keep")), LOCAL, END},
                                 out), GH_OK);
        assert_int_equal(out_int(out, "status"), 200);
        assert_string_equal(h->out_get(out, "body", 0)->data, "kept");
    }
    assert_int_equal(accepted(), 1);
    assert_int_equal(h->http(&call, (gh_param[]){STR("url", url("/keep")),
                                                 YES("allow_http"), END}, out),
                     GH_ERR_INVALID);
    assert_contains(call.message, "allow_private not set");
    assert_int_equal(accepted(), 1);
    h->out_free(out);
}

/* ------------------------------------------------- through a real plugin */

/* tests/plugins/fetch.c: declares GH_PLUGIN_NEEDS_HTTP, so it loads only
 * where the HTTP module does (it does here: main loaded it); its option
 * decides its policy; and it reports what host->call_get gives it. */
static void test_plugin_policy_and_context(void **state)
{
    char key[] = "allow_private", val[] = "true";
    gh_node opt = {.type = GH_NODE_SCALAR, .key = key, .value = val};
    gh_node opts = {.type = GH_NODE_MAP, .child = &opt, .n = 1};
    gh_plugin_conf pcs[2] = {{.name = "strict", .plugin = "fetch"},
                             {.name = "open", .plugin = "fetch", .options = &opts}};
    gh_config cfg = {.plugin_dir = getenv("GATEHOUSE_TEST_PLUGIN_DIR"), .plugins = pcs,
                     .n_plugins = 2};
    gh_plugins ps;
    char err[512], u[64];
    const gh_notify_ops *ops;
    gh_call call;
    gh_out *out;
    const gh_param *p;

    (void)state;
    if (plugins_load(&ps, &cfg, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(plugins_thread_init(&ps, err, sizeof err), 0);
    snprintf(u, sizeof u, "http://127.0.0.1:%u/hello", srv.l.port);

    /* "strict" has no allow_private: its request is refused */
    out = h->out_new();
    call_init(&call, plugins_find(&ps, GH_KIND_NOTIFY, "strict"), "req-1", 5000);
    ops = call.plugin->desc->ops;
    assert_int_equal(ops->deliver(call.plugin->inst, plugin_tinst(call.plugin), &call,
                                  (gh_param[]){STR("to", u), END}, out),
                     GH_ERR_INVALID);
    assert_contains(call.message, "allow_http not set");
    assert_int_equal(accepted(), 0);
    h->out_free(out);

    /* "open" allows it, and sees the call it serves */
    out = h->out_new();
    call_init(&call, plugins_find(&ps, GH_KIND_NOTIFY, "open"), "req-2", 5000);
    call.user_id = "u-42";
    call.client_ip = "203.0.113.9";
    call.locale = "de-CH";
    call.public_url = "https://id.example.com";
    call.attempt = 2;
    assert_int_equal(ops->deliver(call.plugin->inst, plugin_tinst(call.plugin), &call,
                                  (gh_param[]){STR("to", u), END}, out),
                     GH_OK);
    assert_int_equal(out_int(out, "status"), 200);
    assert_int_equal(out_int(out, "attempt"), 2);
    assert_string_equal(h->out_get(out, "request_id", 0)->data, "req-2");
    assert_string_equal(h->out_get(out, "user_id", 0)->data, "u-42");
    assert_string_equal(h->out_get(out, "client_ip", 0)->data, "203.0.113.9");
    assert_string_equal(h->out_get(out, "locale", 0)->data, "de-CH");
    assert_string_equal(h->out_get(out, "public_url", 0)->data, "https://id.example.com");
    assert_string_equal(h->out_get(out, "instance", 0)->data, "open"); /* not "fetch" */
    assert_null(h->out_get(out, "tenant", 0)); /* not set: not there */
    assert_null(h->out_get(out, "user_agent", 0));
    h->out_free(out);

    /* unknown keys and calls without a value */
    assert_int_equal(h->call_get(&call, "password", &(gh_param){0}), GH_ERR_NOT_FOUND);
    call_init(&call, NULL, NULL, 1000);
    p = &(gh_param){0};
    assert_int_equal(h->call_get(&call, "attempt", (gh_param *)p), GH_ERR_NOT_FOUND);
    assert_int_equal(h->call_get(NULL, "user_id", (gh_param *)p), GH_ERR_NOT_FOUND);

    plugins_thread_fini(&ps);
    plugins_unload(&ps);
}

/* ------------------------------------------------------------------ TLS */

/* A CA, a server certificate for 127.0.0.1 and a client certificate
 * signed by it, as PEM files in tmp_dir: ca.pem, server.pem/.key,
 * client.pem/.key. */
static EVP_PKEY *ca_key;
static X509 *ca_cert;

static X509 *make_cert(EVP_PKEY *key, const char *cn, EVP_PKEY *signer, X509 *issuer,
                       const char *ext_san, int is_ca)
{
    X509 *x = X509_new();
    X509V3_CTX ctx;
    X509_EXTENSION *e;

    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(gh_monotonic_ms() & 0x7fffffff));
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x));
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
                            is_ca ? "critical,CA:TRUE" : "CA:FALSE");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    if (ext_san) {
        e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, ext_san);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    assert_true(X509_sign(x, signer, EVP_sha256()) > 0);
    return x;
}

static void write_pem(const char *name, X509 *x, EVP_PKEY *k)
{
    char path[128];
    FILE *f;

    assert_non_null(f = fopen(tmp_file(path, sizeof path, name), "w"));
    if (x)
        assert_int_equal(PEM_write_X509(f, x), 1);
    else
        assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
}

static void make_pki(void)
{
    EVP_PKEY *sk = EVP_EC_gen("P-256"), *ck = EVP_EC_gen("P-256");
    X509 *sc, *cc;

    assert_non_null(ca_key = EVP_EC_gen("P-256"));
    assert_non_null(sk);
    assert_non_null(ck);
    ca_cert = make_cert(ca_key, "Gatehouse test CA", ca_key, NULL, NULL, 1);
    sc = make_cert(sk, "127.0.0.1", ca_key, ca_cert, "IP:127.0.0.1", 0);
    cc = make_cert(ck, "plugin-client", ca_key, ca_cert, NULL, 0);
    write_pem("ca.pem", ca_cert, NULL);
    write_pem("server.pem", sc, NULL);
    write_pem("server.key", NULL, sk);
    write_pem("client.pem", cc, NULL);
    write_pem("client.key", NULL, ck);
    X509_free(sc);
    X509_free(cc);
    EVP_PKEY_free(sk);
    EVP_PKEY_free(ck);
}

/* The TLS listener: asks for a client certificate from the CA and
 * answers 200 with its subject's CN, or 200 "anonymous" without one. */
typedef struct tls_server {
    listener l;
    SSL_CTX *ctx;
} tls_server;

static tls_server tsrv;

static void tls_respond(int fd)
{
    char req[4096], head[128], cn[64] = "anonymous";
    SSL *ssl = SSL_new(tsrv.ctx);
    struct timeval tv = {2, 0};
    X509 *peer;
    int n;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1 && (n = SSL_read(ssl, req, sizeof req - 1)) > 0) {
        if ((peer = SSL_get1_peer_certificate(ssl))) {
            X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn,
                                      sizeof cn);
            X509_free(peer);
        }
        snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
                 "Connection: close\r\n\r\n", strlen(cn));
        SSL_write(ssl, head, (int)strlen(head));
        SSL_write(ssl, cn, (int)strlen(cn));
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    close(fd);
}

static int tls_setup(void **state)
{
    char cert[128], key[128], ca[128];
    tls_server *t = &tsrv;

    (void)state;
    make_pki();
    tmp_file(cert, sizeof cert, "server.pem");
    tmp_file(key, sizeof key, "server.key");
    tmp_file(ca, sizeof ca, "ca.pem");
    memset(t, 0, sizeof *t);
    assert_non_null(t->ctx = SSL_CTX_new(TLS_server_method()));
    assert_int_equal(SSL_CTX_use_certificate_file(t->ctx, cert, SSL_FILETYPE_PEM), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM), 1);
    assert_int_equal(SSL_CTX_load_verify_locations(t->ctx, ca, NULL), 1);
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL); /* asked for, not required */
    listener_start(&t->l, tls_respond);
    return 0;
}

static int tls_teardown(void **state)
{
    tls_server *t = &tsrv;

    (void)state;
    listener_stop(&t->l);
    SSL_CTX_free(t->ctx);
    X509_free(ca_cert);
    EVP_PKEY_free(ca_key);
    return 0;
}

static void test_https_ca_file_and_client_cert(void **state)
{
    char u[64], ca[128], cert[128], key[128], missing[128];
    gh_call call;
    gh_out *out = h->out_new();
    const gh_param *body;

    (void)state;
    snprintf(u, sizeof u, "https://127.0.0.1:%u/whoami", tsrv.l.port);
    tmp_file(ca, sizeof ca, "ca.pem");
    tmp_file(cert, sizeof cert, "client.pem");
    tmp_file(key, sizeof key, "client.key");
    tmp_file(missing, sizeof missing, "missing.pem");

    /* the system's CAs do not know ours: TLS verification fails */
    call_init(&call, NULL, NULL, 5000);
    assert_int_equal(h->http(&call, (gh_param[]){STR("url", u), YES("allow_private"), END},
                             out), GH_ERR_UNAVAILABLE);
    assert_null(h->out_get(out, "status", 0));

    /* with our CA: verified, and no client certificate sent */
    assert_int_equal(h->http(&call, (gh_param[]){STR("url", u), YES("allow_private"),
                                                 STR("ca_file", ca), END},
                             out), GH_OK);
    assert_int_equal(out_int(out, "status"), 200);
    body = h->out_get(out, "body", 0);
    assert_int_equal(body->len, 9);
    assert_memory_equal(body->data, "anonymous", 9);
    h->out_free(out);

    /* with a client certificate: the server sees who we are */
    out = h->out_new();
    assert_int_equal(h->http(&call, (gh_param[]){STR("url", u), YES("allow_private"),
                                                 STR("ca_file", ca), STR("client_cert", cert),
                                                 STR("client_key", key), END},
                             out), GH_OK);
    assert_int_equal(out_int(out, "status"), 200);
    body = h->out_get(out, "body", 0);
    assert_int_equal(body->len, 13);
    assert_memory_equal(body->data, "plugin-client", 13);

    /* a CA file that is not there is the request's fault */
    assert_int_equal(h->http(&call, (gh_param[]){STR("url", u), YES("allow_private"),
                                                 STR("ca_file", missing), END},
                             out), GH_ERR_INVALID);
    assert_contains(call.message, "ca_file, client_cert or client_key");
    h->out_free(out);
}

/* ----------------------------------------------------------------- main */

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/gh-test-http-XXXXXX");
    return mkdtemp(tmp_dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    static const char *const files[] = {"ca.pem", "server.pem", "server.key", "client.pem",
                                        "client.key"};

    (void)state;
    char path[128];

    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        unlink(tmp_file(path, sizeof path, files[i]));
    rmdir(tmp_dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_http_get, http_setup, http_teardown),
        cmocka_unit_test_setup_teardown(test_http_post, http_setup, http_teardown),
        cmocka_unit_test_setup_teardown(test_http_no_redirects, http_setup, http_teardown),
        cmocka_unit_test_setup_teardown(test_http_timeout, http_setup, http_teardown),
        cmocka_unit_test(test_http_refused),
        cmocka_unit_test_setup_teardown(test_http_limits, http_setup, http_teardown),
        cmocka_unit_test_setup_teardown(test_http_https_only, http_setup, http_teardown),
        cmocka_unit_test_setup_teardown(test_http_private_addresses, http_setup, http_teardown),
        cmocka_unit_test(test_http_public_address_passes),
        cmocka_unit_test_setup_teardown(test_http_unknown_key, http_setup, http_teardown),
        cmocka_unit_test_setup_teardown(test_http_v1_0_plugin, http_setup, http_teardown),
        cmocka_unit_test_setup_teardown(test_http_reuse, http_setup, http_teardown),
        cmocka_unit_test_setup_teardown(test_plugin_policy_and_context, http_setup,
                                        http_teardown),
        cmocka_unit_test_setup_teardown(test_https_ca_file_and_client_cert, tls_setup,
                                        tls_teardown),
    };
    gh_log_conf quiet = {.level = GH_LOG_ERROR};
    char err[512] = "";
    int failed;

    log_configure(&quiet);
    /* host->http's module is built with the real plugins: load it from
     * there now, since plugins_load points the host at the test plugins */
    if (getenv("GATEHOUSE_PLUGIN_DIR"))
        host_set_module_dir(getenv("GATEHOUSE_PLUGIN_DIR"));
    if (host_http_ready(err, sizeof err) != 0 || !getenv("GATEHOUSE_TEST_PLUGIN_DIR")) {
        fprintf(stderr, "test_http: no HTTP module (%s), or GATEHOUSE_TEST_PLUGIN_DIR unset\n",
                err);
        return 1;
    }
    /* the client must ignore the environment's proxies: one that is not
     * there would fail every request below */
    setenv("http_proxy", "http://127.0.0.1:9", 1);
    setenv("https_proxy", "http://127.0.0.1:9", 1);
    setenv("ALL_PROXY", "http://127.0.0.1:9", 1);
    signal(SIGPIPE, SIG_IGN); /* as gatehoused: the TLS listener writes to closed peers */
    failed = cmocka_run_group_tests(tests, group_setup, group_teardown);
    host_global_cleanup();
    return failed;
}
