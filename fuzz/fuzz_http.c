/*
 * fuzz_http.c - the whole request path: each input is sent as raw bytes
 * over TCP to a real gatehoused running in this process (core/main.c,
 * built in with its main() renamed), on SQLite in a temporary state
 * directory. So evhttp's parsing, our request handling (headers, query,
 * body limits, JSON and form input), the router and every handler an
 * unauthenticated caller reaches are fuzzed together, as a client meets
 * them. The answer must come (no hang), must be HTTP/1.x when there is
 * one, and must never be a 500: that is an internal error a client made.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "fuzz.h"

int gatehoused_main(int argc, char **argv); /* core/main.c's main */

#define ANSWER_WITHIN_MS 30000

static int port;
static char state[64] = "/tmp/gh-fuzz-http-XXXXXX", cfg_path[128];

static void remove_state(void)
{
    fuzz_rmtree(state);
}

static void *daemon_thread(void *arg)
{
    char *argv[] = { "gatehoused", "-c", cfg_path, NULL };

    (void)arg;
    exit(gatehoused_main(3, argv)); /* it only returns if it failed to start */
}

/* Thousands of connections a second leave as many in TIME_WAIT on the
 * daemon's side, and a new connection from a local port still in one
 * stalls: so each comes from another of the 127/8 loopback addresses. */
static int connect_once(void)
{
    static uint32_t next;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct sockaddr_in from = { .sin_family = AF_INET,
                                .sin_addr.s_addr = htonl(0x7f010000u | (next++ & 0xffffu)) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        abort();
    if (bind(fd, (struct sockaddr *)&from, sizeof from) != 0)
        abort();
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
        return fd;
    close(fd);
    return -1;
}

/* A port nothing listens on now, for the daemon to take. */
static int free_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), p;

    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        abort();
    p = ntohs(a.sin_port);
    close(fd);
    return p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *plugins = getenv("GATEHOUSE_PLUGIN_DIR");
    pthread_t t;
    FILE *f;
    int fd = -1;

    (void)argc;
    (void)argv;
    if (!mkdtemp(state))
        abort();
    atexit(remove_state);
    port = free_port();
    snprintf(cfg_path, sizeof cfg_path, "%s/gatehouse.yaml", state);
    if (!(f = fopen(cfg_path, "w")))
        abort();
    fprintf(f,
            "server:\n  listen: [\"127.0.0.1:%d\"]\n  threads: 1\n  workers: 2\n"
            "  request_timeout: 5s\n  public_url: http://127.0.0.1:%d\n"
            "log:\n  level: error\n  access_log: no\n"
            "paths:\n  state_dir: %s\n%s%s%s"
            "auth:\n  password:\n    argon2: { memory_kib: 1024, iterations: 1 }\n"
            "rate_limits: []\n",
            port, port, state, plugins ? "  plugin_dir: " : "", plugins ? plugins : "",
            plugins ? "\n" : "");
    fclose(f);
    if (pthread_create(&t, NULL, daemon_thread, NULL) != 0)
        abort();
    for (int i = 0; i < 600 && fd < 0; i++) { /* up to 30 s */
        if ((fd = connect_once()) < 0)
            usleep(50000);
    }
    if (fd < 0) {
        fprintf(stderr, "fuzz_http: the daemon did not start\n");
        abort();
    }
    close(fd);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char answer[4096];
    size_t got = 0, sent = 0;
    int fd = connect_once();

    if (fd < 0)
        abort(); /* the daemon stopped listening */
    while (sent < size) {
        ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* it closed early: a refusal, fine */
        sent += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        char sink[4096];
        ssize_t n;

        if (poll(&p, 1, ANSWER_WITHIN_MS) != 1) {
            fprintf(stderr, "fuzz_http: no answer within %d ms\n", ANSWER_WITHIN_MS);
            abort();
        }
        n = recv(fd, got < sizeof answer - 1 ? answer + got : sink,
                 got < sizeof answer - 1 ? sizeof answer - 1 - got : sizeof sink, 0);
        if (n <= 0)
            break;
        if (got < sizeof answer - 1)
            got += (size_t)n;
    }
    close(fd);
    answer[got] = '\0';
    /* evhttp answers what it refuses itself (a request it cannot parse:
     * 400; a method it does not know: 501) with its HTML page, in the
     * version the request line claimed, even a nonsense one ("HTTP/-1.1",
     * a version number past INT_MAX): 2.1 has no hook to stop it. So only
     * "HTTP/" is asked of those; what reaches us is 1.x (request.c) */
    if (got && strncmp(answer, "HTTP/", 5) != 0)
        abort();
    if (got && strncmp(answer, "HTTP/1.", 7) != 0 &&
        !strstr(answer, "\r\n\r\n<HTML><HEAD>\n<TITLE>"))
        abort();
    if (strstr(answer, "HTTP/1.1 500 ") == answer || strstr(answer, "\nHTTP/1.1 500 ")) {
        fprintf(stderr, "fuzz_http: a 500:\n%s\n", answer);
        abort();
    }
    return 0;
}
