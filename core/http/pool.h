/*
 * pool.h - the worker pool: everything that may block (password hashing,
 * storage, outbound HTTP, mail) runs here, never on an event-loop thread.
 *
 * A job is queued on a bounded FIFO (full: pool_submit fails and the caller
 * answers 503). A worker runs work(arg); then done(arg) is posted back to the
 * loop thread that submitted it, which alone may touch its requests.
 */
#ifndef GH_POOL_H
#define GH_POOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct gh_pool gh_pool;
typedef struct gh_loop gh_loop;       /* an event-loop thread (server.h) */
typedef void (*gh_work_fn)(void *arg); /* on a worker thread */
typedef void (*gh_done_fn)(void *arg); /* back on the submitting loop */

/* Called on each worker thread when it starts and before it ends, e.g. to
 * open per-thread plugin instances and storage connections. A non-zero
 * return from thread_start makes pool_new fail. thread_idle (may be NULL)
 * runs once when the thread has had nothing to do for GH_IDLE_MS, e.g. to
 * give back caches; again only after it has worked since. */
#define GH_IDLE_MS 1000
typedef struct gh_pool_hooks {
    int (*thread_start)(void *ud);
    void (*thread_stop)(void *ud);
    void *ud;
    void (*thread_idle)(void *ud);
    /* event loops only: after each pass over the ready connections */
    void (*pass_end)(void *ud);
} gh_pool_hooks;

gh_pool *pool_new(int workers, int queue_max, const gh_pool_hooks *hooks);
/* 0 queued; -1 the queue is full or the pool is stopping */
int pool_submit(gh_pool *p, gh_loop *loop, gh_work_fn work, gh_done_fn done, void *arg);
size_t pool_depth(const gh_pool *p);   /* jobs waiting, for /metrics */
int pool_busy(const gh_pool *p);       /* workers running a job */
int pool_size(const gh_pool *p);
/* ms since the last job ended, or -1 while a job runs or waits */
int64_t pool_idle_ms(const gh_pool *p);
/* Finish every queued job, then join the workers. */
void pool_free(gh_pool *p);

#endif
