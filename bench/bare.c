/*
 * bare.c - the ceiling: the least an evhttp server can do per request.
 *
 * Every request gets 200 and the fixed body {"status":"ok"}. The threads
 * are set up the way gatehoused sets up its loops (core/http/server.c):
 * each has its own event_base and evhttp on its own SO_REUSEPORT socket,
 * so the kernel spreads connections and the loops share nothing (and need
 * no libevent locking). Whatever gatehoused does on top of this - routing,
 * headers, JSON, token checks - shows up as the gap between the two.
 *
 * Usage: bare PORT [THREADS]   (THREADS default: 1; runs until killed)
 * Built by bench/run.sh; not part of the installed programs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

/* the daemon's own event-base setup, so the ceiling uses evhttp as well */
#include "../core/http/event_base.h"

static const char body[] = "{\"status\":\"ok\"}";

static void on_request(struct evhttp_request *req, void *arg)
{
    (void)arg;
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/json");
    /* by reference: the body is static, so there is nothing to copy */
    evbuffer_add_reference(evhttp_request_get_output_buffer(req), body, sizeof body - 1,
                           NULL, NULL);
    evhttp_send_reply(req, 200, "OK", NULL);
}

/* One socket per loop, all on the same port: SO_REUSEPORT lets the
 * kernel balance accepts between them without a shared accept lock. */
static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1;
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) < 0 ||
        bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(fd, 1024) < 0) {
        fprintf(stderr, "bare: listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

typedef struct loop {
    pthread_t thread;
    struct event_base *base;
    struct evhttp *http;
} loop;

static void *run(void *arg)
{
    loop *l = arg;
    event_base_dispatch(l->base);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: bare PORT [THREADS]\n");
        return 2;
    }
    int port = atoi(argv[1]), n = argc > 2 ? atoi(argv[2]) : 1;
    if (port <= 0 || port > 65535 || n < 1 || n > 256) {
        fprintf(stderr, "bare: bad port or thread count\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN); /* a client gone mid-reply is not our death */

    loop *loops = calloc((size_t)n, sizeof *loops);
    if (!loops)
        return 1;
    for (int i = 0; i < n; i++) {
        int fd = listen_on(port);
        if (fd < 0)
            return 1;
        if (!(loops[i].base = gh_event_base_new()) || !(loops[i].http = evhttp_new(loops[i].base)) ||
            !evhttp_accept_socket_with_handle(loops[i].http, fd)) {
            fprintf(stderr, "bare: libevent setup failed\n");
            return 1;
        }
        evhttp_set_gencb(loops[i].http, on_request, NULL);
    }
    /* All sockets bound before any loop runs, so the first request can go
     * to any of them. */
    for (int i = 0; i < n; i++) {
        if (pthread_create(&loops[i].thread, NULL, run, &loops[i]) != 0) {
            fprintf(stderr, "bare: cannot start thread %d\n", i);
            return 1;
        }
    }
    fprintf(stderr, "bare: listening on 127.0.0.1:%d with %d threads\n", port, n);
    for (int i = 0; i < n; i++)
        pthread_join(loops[i].thread, NULL);
    return 0;
}
