/*
 * server.c - the event-loop threads.
 *
 * evhttp is not thread-safe, so each loop thread owns an event_base and,
 * for every listen address, an evhttp with its own SO_REUSEPORT socket: the
 * kernel spreads connections over the loops and no lock is ever taken on
 * the request path (a probe bind first keeps a second process out of
 * that group: address_in_use). Other threads reach a loop only through
 * loop_post(): a mutex-protected list plus an eventfd that wakes the loop
 * (memcached's hand-off). Only the loop thread touches its requests and
 * evbuffers.
 *
 * An evhttp per address, and not one per loop, because libevent 2.1 sets
 * the bufferevent maker (evhttp_set_bevcb: TLS or not) per evhttp, not per
 * socket. A TLS address's evhttp makes bufferevent_openssl connections
 * from its listener's SSL_CTX (tls.h), shared by the loops.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>
#include <openssl/ssl.h>
#include "app.h"
#include "clock.h"
#include "http/event_base.h"
#include "http/request.h"
#include "http/server.h"
#include "http/tls.h"
#include "log.h"

typedef struct posted {
    gh_done_fn fn;
    void *arg;
    struct posted *next;
} posted;

/* One listen address on one loop: what its requests are served by. */
typedef struct front {
    gh_loop *loop;
    struct evhttp *http;
    gh_tls *tls;        /* NULL: plain HTTP */
} front;

struct gh_loop {
    gh_server *srv;
    struct event_base *base;
    front *fronts;                      /* one per listen address */
    struct evhttp_bound_socket **bound; /* one per listen address */
    pthread_t thread;
    int started;
    int efd;
    struct event *wake;
    pthread_mutex_t mu;
    posted *head, *tail;
    _Atomic int wake_pending; /* an eventfd write is on its way: skip ours */
    _Atomic int inflight;
    uint64_t requests, requests_seen; /* for the idle check, loop thread only */
    int idled;
};

struct gh_server {
    gh_app *app;
    gh_pool_hooks hooks;
    gh_loop *loops;
    int nloops;
    size_t nlisten;
    uint16_t *ports;
    gh_tls **tls;       /* one per listen address; NULL: plain HTTP */
};

static _Thread_local gh_loop *this_loop;

gh_loop *loop_current(void)
{
    return this_loop;
}

struct event_base *loop_base(gh_loop *loop)
{
    return loop->base;
}

void loop_track(gh_loop *loop, int delta)
{
    if (!loop) /* a request made without a server (fuzz/fuzz_input.c) */
        return;
    atomic_fetch_add_explicit(&loop->inflight, delta, memory_order_relaxed);
    if (delta > 0)
        loop->requests++;
}

void loop_post(gh_loop *loop, gh_done_fn fn, void *arg)
{
    posted *p = malloc(sizeof *p);
    if (!p) {
        /* Without memory we cannot queue; running fn here would touch the
         * loop's requests from the wrong thread. Failing loudly is safer. */
        gh_log(GH_LOG_ERROR, "out of memory posting to an event loop");
        abort();
    }
    *p = (posted){ fn, arg, NULL };
    pthread_mutex_lock(&loop->mu);
    if (loop->tail)
        loop->tail->next = p;
    else
        loop->head = p;
    loop->tail = p;
    pthread_mutex_unlock(&loop->mu);
    /* Under load the loop is already awake with a wake-up pending: one
     * eventfd write per batch, not one per job (each is a syscall). */
    if (atomic_exchange_explicit(&loop->wake_pending, 1, memory_order_acq_rel))
        return;
    uint64_t one = 1;
    while (write(loop->efd, &one, sizeof one) < 0 && errno == EINTR)
        ;
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    gh_loop *loop = arg;
    uint64_t n;
    while (read(fd, &n, sizeof n) < 0 && errno == EINTR)
        ;
    /* cleared before taking the list: a post after this point writes again */
    atomic_store_explicit(&loop->wake_pending, 0, memory_order_release);
    pthread_mutex_lock(&loop->mu);
    posted *p = loop->head;
    loop->head = loop->tail = NULL;
    pthread_mutex_unlock(&loop->mu);
    while (p) {
        posted *next = p->next;
        p->fn(p->arg);
        free(p);
        p = next;
    }
}

static void on_request(struct evhttp_request *ev, void *arg)
{
    front *f = arg;
    req_dispatch(ev, f->loop, f->loop->srv->app, f->tls != NULL);
}

static struct bufferevent *tls_bufferevent(struct event_base *base, void *arg)
{
    SSL *ssl = tls_ssl_new(arg);
    struct bufferevent *bev = ssl ? bufferevent_openssl_socket_new(base, -1, ssl,
                                                                  BUFFEREVENT_SSL_ACCEPTING,
                                                                  BEV_OPT_CLOSE_ON_FREE)
                                  : NULL;
    if (!bev) {
        /* evhttp takes NULL for "make a plain one": it would speak clear
         * HTTP on a TLS address. Failing loudly is safer. */
        gh_log(GH_LOG_ERROR, "out of memory for a TLS connection");
        abort();
    }
    return bev;
}

/* A listening socket for addr, shared across loops with SO_REUSEPORT. */
static evutil_socket_t open_listener(const struct sockaddr *sa, socklen_t salen, int any6,
                                     char *err, size_t errlen)
{
    evutil_socket_t fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int on = 1, off = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) < 0) {
        snprintf(err, errlen, "SO_REUSEPORT: %s", strerror(errno));
        close(fd);
        return -1;
    }
    /* "*:port" listens on IPv6 and IPv4 at once through one v6 socket */
    if (sa->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, any6 ? &off : &on, sizeof on);
    if (bind(fd, sa, salen) < 0 || listen(fd, 1024) < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Whether another socket listens on addr. SO_REUSEPORT lets our loops
 * share a port, but it would as well let a second gatehoused (same user)
 * join them and take half the connections. A bind without it fails while
 * anyone listens there; SO_REUSEADDR only lets it past TIME_WAIT. */
static int address_in_use(const struct sockaddr *sa, socklen_t salen, int any6)
{
    evutil_socket_t fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0; /* open_listener says why */
    int on = 1, off = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (sa->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, any6 ? &off : &on, sizeof on);
    int busy = bind(fd, sa, salen) < 0 && errno == EADDRINUSE;
    close(fd);
    return busy;
}

static uint16_t bound_port(evutil_socket_t fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return 0;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Bind listen address li for loop; li's port becomes fixed after the first
 * loop binds it, so port 0 gives every loop the same ephemeral port. */
static int bind_one(gh_server *s, gh_loop *loop, size_t li, const gh_listen *l,
                    char *err, size_t errlen)
{
    char port[8], why[256] = "";
    snprintf(port, sizeof port, "%u", s->ports[li] ? s->ports[li] : l->port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    int any = l->host == NULL;
    int rc = getaddrinfo(any ? "::" : l->host, port, &hints, &res);
    if (rc != 0 && any) /* no IPv6 on this host: all of IPv4 then */
        rc = getaddrinfo("0.0.0.0", port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "listen %s:%s: %s", l->host ? l->host : "*", port, gai_strerror(rc));
        return -1;
    }
    /* Probed once, before the first loop binds a fixed port (so before
     * privileges are dropped, as every bind is); the other loops then join
     * our own socket. Port 0 needs no probe: the kernel picks a free one. */
    evutil_socket_t fd = -1;
    if (!s->ports[li] && l->port && address_in_use(res->ai_addr, res->ai_addrlen, any))
        snprintf(why, sizeof why, "address already in use (is another gatehoused running?)");
    else
        fd = open_listener(res->ai_addr, res->ai_addrlen, any, why, sizeof why);
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "listen %s:%s: %s", l->host ? l->host : "*", port, why);
        return -1;
    }
    loop->bound[li] = evhttp_accept_socket_with_handle(loop->fronts[li].http, fd);
    if (!loop->bound[li]) {
        close(fd);
        snprintf(err, errlen, "listen %s:%s: evhttp refused the socket", l->host ? l->host : "*", port);
        return -1;
    }
    if (!s->ports[li])
        s->ports[li] = bound_port(fd);
    return 0;
}

/* The evhttp for front f: every address's has the same limits and
 * callback, a TLS one makes its connections TLS. */
static struct evhttp *front_http(front *f, const gh_config *cfg)
{
    struct evhttp *http = evhttp_new(f->loop->base);
    if (!http)
        return NULL;
    /* evhttp answers what it refuses itself with an HTML page, and 2.1
     * has no hook between the headers and the body (evhttp_set_newreqcb,
     * which lets a header callback refuse early, came in 2.2). So its caps
     * sit above ours and req_dispatch answers 413/431 as problem+json: a
     * body up to 16 times max_body_size (at most 64 MiB over it) or headers
     * up to 4 times max_header_size are read, and refused by us. Beyond
     * that evhttp refuses, from the Content-Length before reading the body,
     * so a body far over the limit is never buffered. */
    size_t body_cap = cfg->max_body_size + (cfg->max_body_size * 15 < 64u << 20
                                            ? cfg->max_body_size * 15 : 64u << 20);
    evhttp_set_max_body_size(http, (ev_ssize_t)body_cap);
    evhttp_set_max_headers_size(http, (ev_ssize_t)cfg->max_header_size * 4);
    evhttp_set_timeout(http, (int)((cfg->request_timeout_ms + 999) / 1000));
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                               EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH | EVHTTP_REQ_HEAD |
                               EVHTTP_REQ_OPTIONS);
    evhttp_set_gencb(http, on_request, f);
    if (f->tls)
        evhttp_set_bevcb(http, tls_bufferevent, f->tls);
    return http;
}

static int loop_init(gh_server *s, gh_loop *loop, const gh_config *cfg, char *err, size_t errlen)
{
    loop->srv = s;
    loop->efd = -1;
    pthread_mutex_init(&loop->mu, NULL);
    loop->base = gh_event_base_new();
    loop->fronts = calloc(s->nlisten, sizeof *loop->fronts);
    loop->bound = calloc(s->nlisten, sizeof *loop->bound);
    loop->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!loop->base || !loop->fronts || !loop->bound || loop->efd < 0) {
        snprintf(err, errlen, "cannot create an event loop");
        return -1;
    }
    loop->wake = event_new(loop->base, loop->efd, EV_READ | EV_PERSIST, on_wake, loop);
    if (!loop->wake || event_add(loop->wake, NULL) < 0) {
        snprintf(err, errlen, "cannot create an event loop");
        return -1;
    }
    for (size_t i = 0; i < s->nlisten; i++) {
        loop->fronts[i] = (front){ loop, NULL, s->tls[i] };
        if (!(loop->fronts[i].http = front_http(&loop->fronts[i], cfg))) {
            snprintf(err, errlen, "cannot create an event loop");
            return -1;
        }
        if (bind_one(s, loop, i, &cfg->listen[i], err, errlen) < 0)
            return -1;
    }
    return 0;
}

static void loop_destroy(gh_loop *loop)
{
    for (size_t i = 0; loop->fronts && i < loop->srv->nlisten; i++)
        if (loop->fronts[i].http)
            evhttp_free(loop->fronts[i].http); /* closes listeners and connections */
    if (loop->wake)
        event_free(loop->wake);
    if (loop->base)
        event_base_free(loop->base);
    if (loop->efd >= 0)
        close(loop->efd);
    for (posted *p = loop->head, *n; p; p = n) {
        n = p->next;
        free(p);
    }
    free(loop->bound);
    free(loop->fronts);
    pthread_mutex_destroy(&loop->mu);
}

gh_server *server_new(gh_app *app, char *err, size_t errlen)
{
    const gh_config *cfg = app_config(app);
    gh_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->app = app;
    s->nlisten = cfg->n_listen;
    s->nloops = cfg->threads;
    s->ports = calloc(s->nlisten, sizeof *s->ports);
    s->loops = calloc((size_t)s->nloops, sizeof *s->loops);
    s->tls = calloc(s->nlisten, sizeof *s->tls);
    if (!s->ports || !s->loops || !s->tls) {
        snprintf(err, errlen, "out of memory");
        s->nloops = 0;
        server_free(s);
        return NULL;
    }
    /* here, as root still when started so: certbot's keys are root's */
    for (size_t i = 0; i < s->nlisten; i++) {
        if (cfg->listen[i].tls_cert && !(s->tls[i] = tls_new(&cfg->listen[i], err, errlen))) {
            s->nloops = 0;
            server_free(s);
            return NULL;
        }
    }
    for (int i = 0; i < s->nloops; i++) {
        if (loop_init(s, &s->loops[i], cfg, err, errlen) < 0) {
            s->nloops = i + 1;
            server_free(s);
            return NULL;
        }
    }
    return s;
}

uint16_t server_port(const gh_server *s, size_t listen_index)
{
    return listen_index < s->nlisten ? s->ports[listen_index] : 0;
}

/* Once a loop has served nothing for GH_IDLE_MS, thread_idle gives back
 * what it cached (see gh_pool_hooks); once, until it serves again. */
static void on_idle_tick(evutil_socket_t fd, short what, void *arg)
{
    gh_loop *loop = arg;
    const gh_pool_hooks *h = &loop->srv->hooks;
    if (loop->requests != loop->requests_seen) {
        loop->requests_seen = loop->requests;
        loop->idled = 0;
    } else if (!loop->idled && atomic_load(&loop->inflight) == 0) {
        h->thread_idle(h->ud);
        loop->idled = 1;
    }
}

static void *loop_main(void *arg)
{
    gh_loop *loop = arg;
    const gh_pool_hooks *h = &loop->srv->hooks;
    struct event *idle = NULL;
    this_loop = loop;
    if (h->thread_start)
        h->thread_start(h->ud);
    if (h->thread_idle) {
        struct timeval every = { GH_IDLE_MS / 1000, (GH_IDLE_MS % 1000) * 1000 };
        idle = event_new(loop->base, -1, EV_PERSIST, on_idle_tick, loop);
        if (idle)
            event_add(idle, &every);
    }
    loop->idled = 1;
    if (!h->pass_end) {
        event_base_dispatch(loop->base);
    } else {
        /* one pass at a time, so that what a pass shares ends with it;
         * loop_stop's loopexit ends the loop from within a pass */
        while (!event_base_got_exit(loop->base) && !event_base_got_break(loop->base)) {
            int r = event_base_loop(loop->base, EVLOOP_ONCE);
            h->pass_end(h->ud);
            if (r != 0)
                break;
        }
    }
    if (idle)
        event_free(idle);
    if (h->thread_stop)
        h->thread_stop(h->ud);
    return NULL;
}

int server_start(gh_server *s, const gh_pool_hooks *hooks, char *err, size_t errlen)
{
    if (hooks)
        s->hooks = *hooks;
    /* Loops and workers leave signals to the main thread. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = 0;
    for (int i = 0; i < s->nloops; i++) {
        if (pthread_create(&s->loops[i].thread, NULL, loop_main, &s->loops[i]) != 0) {
            snprintf(err, errlen, "cannot start event-loop thread: %s", strerror(errno));
            rc = -1;
            break;
        }
        s->loops[i].started = 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

static void stop_accepting(void *arg)
{
    gh_loop *loop = arg;
    for (size_t i = 0; i < loop->srv->nlisten; i++) {
        if (loop->bound[i])
            evhttp_del_accept_socket(loop->fronts[i].http, loop->bound[i]);
        loop->bound[i] = NULL;
    }
}

static void exit_loop(void *arg)
{
    gh_loop *loop = arg;
    event_base_loopexit(loop->base, NULL);
}

static int inflight(const gh_server *s)
{
    int n = 0;
    for (int i = 0; i < s->nloops; i++)
        n += atomic_load(&s->loops[i].inflight);
    return n;
}

void server_stop(gh_server *s, int64_t timeout_ms)
{
    for (int i = 0; i < s->nloops; i++)
        if (s->loops[i].started)
            loop_post(&s->loops[i], stop_accepting, &s->loops[i]);
    int64_t until = gh_monotonic_ms() + timeout_ms;
    while (inflight(s) > 0 && gh_monotonic_ms() < until)
        usleep(10 * 1000);
    if (inflight(s) > 0)
        gh_log(GH_LOG_WARNING, "shutdown: %d request(s) still in flight after %lld ms",
               inflight(s), (long long)timeout_ms);
    for (int i = 0; i < s->nloops; i++) {
        if (!s->loops[i].started)
            continue;
        loop_post(&s->loops[i], exit_loop, &s->loops[i]);
        pthread_join(s->loops[i].thread, NULL);
        s->loops[i].started = 0;
    }
}

void server_free(gh_server *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->nloops; i++)
        loop_destroy(&s->loops[i]);
    for (size_t i = 0; s->tls && i < s->nlisten; i++)
        tls_free(s->tls[i]); /* after the loops: their evhttps use them */
    free(s->tls);
    free(s->loops);
    free(s->ports);
    free(s);
}

void server_tls_reload(gh_server *s)
{
    for (size_t i = 0; i < s->nlisten; i++) {
        char err[1024], what[192];
        if (!s->tls[i])
            continue;
        if (tls_reload(s->tls[i], err, sizeof err) < 0) {
            gh_log(GH_LOG_ERROR, "reload: TLS on port %u refused, still serving the previous "
                   "certificate: %s", s->ports[i], err);
            continue;
        }
        tls_describe(s->tls[i], what, sizeof what);
        gh_log(GH_LOG_NOTICE, "reload: TLS on port %u reloaded (%s)", s->ports[i], what);
    }
}
