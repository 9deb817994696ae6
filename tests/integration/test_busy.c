/*
 * test_busy.c - the loops never wait for the workers.
 *
 * Runs the real server in-process on an ephemeral port, with one extra route
 * whose job sleeps on the worker pool. With every worker asleep, /health
 * must still be answered, and before any slow job has finished; with the
 * queue full too, the next slow request must get a 503 problem at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "api/api.h"
#include "app.h"
#include "clock.h"
#include "http/metrics.h"
#include "http/request.h"
#include "http/server.h"

#define WORKERS 2
#define QUEUE 2
#define SLOW_MS 3000

static gh_app app;
static _Atomic int slow_started, slow_finished;

static void slow_work(gh_req *req)
{
    atomic_fetch_add(&slow_started, 1);
    usleep(SLOW_MS * 1000);
    atomic_fetch_add(&slow_finished, 1);
}

static void slow_done(gh_req *req)
{
    req_json(req, 200, json_pack("{s:b}", "slow", 1));
}

static void slow(gh_req *req)
{
    req_defer(req, slow_work, slow_done, NULL);
}

static int connect_to(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

static void send_get(int fd, const char *path)
{
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
    assert_int_equal(write(fd, req, (size_t)n), n);
}

/* Read the whole answer; returns the status and copies the text. */
static int read_answer(int fd, char *buf, size_t len)
{
    size_t used = 0;
    ssize_t r;
    while (used + 1 < len && (r = read(fd, buf + used, len - 1 - used)) > 0)
        used += (size_t)r;
    buf[used] = '\0';
    int status = 0;
    sscanf(buf, "HTTP/1.1 %d", &status);
    return status;
}

static int setup(void **state)
{
    char dir[] = "/tmp/gh-busy-XXXXXX", path[64], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/busy.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "server:\n  listen: \"127.0.0.1:0\"\n  threads: 2\n  workers: %d\n  queue_size: %d\n"
               "log:\n  level: warning\n",
            WORKERS, QUEUE);
    fclose(f);
    gh_config *cfg = config_load(path, err, sizeof err);
    if (!cfg)
        fail_msg("%s", err);
    unlink(path);
    rmdir(dir);
    app_cycle_install(&app, cycle_new(cfg, NULL, NULL));
    app.router = router_new();
    assert_int_equal(health_register(app.router), 0);
    assert_int_equal(router_add(app.router, GH_GET, "/slow", slow), 0);
    assert_int_equal(metrics_init(router_count(app.router)), 0);
    app.pool = pool_new(cfg->workers, cfg->queue_size, NULL);
    assert_non_null(app.pool);
    app.server = server_new(&app, err, sizeof err);
    if (!app.server)
        fail_msg("%s", err);
    assert_int_equal(server_start(app.server, NULL, err, sizeof err), 0);
    return 0;
}

static int teardown(void **state)
{
    server_stop(app.server, 10000);
    pool_free(app.pool);
    server_free(app.server);
    router_free(app.router);
    metrics_free();
    app_cycle_install(&app, NULL); /* frees the config */
    return 0;
}

static void health_answers_while_workers_are_busy(void **state)
{
    uint16_t port = server_port(app.server, 0);
    assert_true(port > 0);
    int slow_fds[WORKERS + QUEUE];
    /* one at a time: a job must be taken by a worker before the next is
     * sent, or the queue would fill before the workers do */
    for (int i = 0; i < WORKERS + QUEUE; i++) {
        slow_fds[i] = connect_to(port);
        send_get(slow_fds[i], "/slow");
        int64_t until = gh_monotonic_ms() + 20000;
        while ((i < WORKERS ? atomic_load(&slow_started) < i + 1
                            : pool_depth(app.pool) < (size_t)(i + 1 - WORKERS)) &&
               gh_monotonic_ms() < until)
            usleep(1000);
    }
    assert_int_equal(atomic_load(&slow_started), WORKERS);
    assert_int_equal(pool_busy(app.pool), WORKERS);
    assert_int_equal(pool_depth(app.pool), QUEUE);

    char buf[4096];
    int64_t t0 = gh_monotonic_ms();
    int fd = connect_to(port);
    send_get(fd, "/health");
    assert_int_equal(read_answer(fd, buf, sizeof buf), 200);
    close(fd);
    int64_t health_ms = gh_monotonic_ms() - t0;
    /* answered while the workers still sleep: no slow job has finished */
    assert_int_equal(atomic_load(&slow_finished), 0);
    print_message("/health answered in %lld ms with %d workers busy and %zu jobs queued\n",
                  (long long)health_ms, pool_busy(app.pool), pool_depth(app.pool));

    /* queue full: the next job is refused at once with a 503 problem */
    fd = connect_to(port);
    send_get(fd, "/slow");
    assert_int_equal(read_answer(fd, buf, sizeof buf), 503);
    assert_non_null(strstr(buf, "application/problem+json"));
    assert_non_null(strstr(buf, "\"code\":\"overloaded\""));
    assert_non_null(strstr(buf, "Retry-After: 1"));
    close(fd);
    assert_int_equal(atomic_load(&slow_finished), 0);

    /* and every slow job is answered in the end */
    for (int i = 0; i < WORKERS + QUEUE; i++) {
        assert_int_equal(read_answer(slow_fds[i], buf, sizeof buf), 200);
        assert_non_null(strstr(buf, "{\"slow\":true}"));
        close(slow_fds[i]);
    }
    assert_int_equal(atomic_load(&slow_finished), WORKERS + QUEUE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(health_answers_while_workers_are_busy, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
