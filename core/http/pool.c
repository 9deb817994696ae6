/*
 * pool.c - a fixed set of worker threads behind one bounded FIFO.
 *
 * The queue is bounded on purpose: when the workers cannot keep up, the
 * right answer is a fast 503, not a queue that grows until every request
 * times out. A mutex and a condition variable are enough at this rate (a
 * job is hundreds of microseconds of work at least).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "http/pool.h"
#include "http/server.h"
#include "clock.h"
#include "log.h"

typedef struct job {
    gh_loop *loop;
    gh_work_fn work;
    gh_done_fn done;
    void *arg;
} job;

struct gh_pool {
    pthread_mutex_t mu;
    pthread_cond_t wake;
    job *ring;              /* queue_max slots */
    size_t head, count, cap;
    int stopping;
    pthread_t *threads;
    int nthreads;
    _Atomic int busy;
    _Atomic size_t depth;   /* mirror of count, read without the lock */
    _Atomic int64_t last_done_ms; /* monotonic time the last job ended */
    gh_pool_hooks hooks;
    /* start-up handshake: each worker reports its thread_start result */
    int started, start_failed;
    pthread_cond_t started_cv;
};

static void *worker_main(void *p_)
{
    gh_pool *p = p_;
    int ok = !p->hooks.thread_start || p->hooks.thread_start(p->hooks.ud) == 0;
    pthread_mutex_lock(&p->mu);
    p->started++;
    if (!ok)
        p->start_failed = 1;
    pthread_cond_broadcast(&p->started_cv);
    pthread_mutex_unlock(&p->mu);
    if (!ok)
        return NULL;

    int idled = 1; /* nothing to give back before the first job */
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->count == 0 && !p->stopping) {
            if (idled || !p->hooks.thread_idle) {
                pthread_cond_wait(&p->wake, &p->mu);
                continue;
            }
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_sec += GH_IDLE_MS / 1000;
            until.tv_nsec += (GH_IDLE_MS % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            if (pthread_cond_timedwait(&p->wake, &p->mu, &until) == ETIMEDOUT &&
                p->count == 0 && !p->stopping) {
                pthread_mutex_unlock(&p->mu);
                p->hooks.thread_idle(p->hooks.ud);
                idled = 1;
                pthread_mutex_lock(&p->mu);
            }
        }
        if (p->count == 0) { /* stopping and drained */
            pthread_mutex_unlock(&p->mu);
            break;
        }
        job j = p->ring[p->head];
        p->head = (p->head + 1) % p->cap;
        p->count--;
        atomic_store_explicit(&p->depth, p->count, memory_order_relaxed);
        pthread_mutex_unlock(&p->mu);

        atomic_fetch_add_explicit(&p->busy, 1, memory_order_relaxed);
        idled = 0;
        j.work(j.arg);
        atomic_store_explicit(&p->last_done_ms, gh_monotonic_ms(), memory_order_relaxed);
        atomic_fetch_sub_explicit(&p->busy, 1, memory_order_relaxed);
        if (j.loop)
            loop_post(j.loop, j.done, j.arg);
        else if (j.done)
            j.done(j.arg);
    }
    if (p->hooks.thread_stop)
        p->hooks.thread_stop(p->hooks.ud);
    return NULL;
}

static void stop_and_join(gh_pool *p, int n)
{
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < n; i++)
        pthread_join(p->threads[i], NULL);
}

static void destroy(gh_pool *p)
{
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->started_cv);
    free(p->ring);
    free(p->threads);
    free(p);
}

gh_pool *pool_new(int workers, int queue_max, const gh_pool_hooks *hooks)
{
    if (workers < 1 || queue_max < 1)
        return NULL;
    gh_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t attr; /* the idle wait is on the monotonic clock */
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_cond_init(&p->started_cv, NULL);
    p->cap = (size_t)queue_max;
    p->last_done_ms = gh_monotonic_ms();
    p->ring = calloc(p->cap, sizeof *p->ring);
    p->threads = calloc((size_t)workers, sizeof *p->threads);
    if (hooks)
        p->hooks = *hooks;
    if (!p->ring || !p->threads) {
        destroy(p);
        return NULL;
    }
    /* workers leave signals to the main thread */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int n = 0;
    for (; n < workers; n++)
        if (pthread_create(&p->threads[n], NULL, worker_main, p) != 0)
            break;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_mutex_lock(&p->mu);
    while (p->started < n)
        pthread_cond_wait(&p->started_cv, &p->mu);
    int failed = p->start_failed || n < workers;
    pthread_mutex_unlock(&p->mu);
    p->nthreads = n;
    if (failed) {
        gh_log(GH_LOG_ERROR, "worker pool: %s", n < workers ? "cannot create threads"
                                                            : "a worker failed to start");
        stop_and_join(p, n);
        destroy(p);
        return NULL;
    }
    return p;
}

int pool_submit(gh_pool *p, gh_loop *loop, gh_work_fn work, gh_done_fn done, void *arg)
{
    pthread_mutex_lock(&p->mu);
    if (p->stopping || p->count == p->cap) {
        pthread_mutex_unlock(&p->mu);
        return -1;
    }
    p->ring[(p->head + p->count) % p->cap] = (job){ loop, work, done, arg };
    p->count++;
    atomic_store_explicit(&p->depth, p->count, memory_order_relaxed);
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

size_t pool_depth(const gh_pool *p)
{
    return atomic_load_explicit(&((gh_pool *)p)->depth, memory_order_relaxed);
}

int pool_busy(const gh_pool *p)
{
    return atomic_load_explicit(&((gh_pool *)p)->busy, memory_order_relaxed);
}

int64_t pool_idle_ms(const gh_pool *p)
{
    gh_pool *q = (gh_pool *)p;
    if (atomic_load_explicit(&q->busy, memory_order_relaxed) ||
        atomic_load_explicit(&q->depth, memory_order_relaxed))
        return -1;
    return gh_monotonic_ms() - atomic_load_explicit(&q->last_done_ms, memory_order_relaxed);
}

int pool_size(const gh_pool *p)
{
    return p->nthreads;
}

void pool_free(gh_pool *p)
{
    if (!p)
        return;
    stop_and_join(p, p->nthreads);
    destroy(p);
}
