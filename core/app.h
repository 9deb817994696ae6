/*
 * app.h - what the running daemon is made of, in one place. There is one
 * gh_app per process. The config and the signing keys a request is served
 * with come as one "cycle" (nginx's word), which SIGHUP replaces without
 * stopping the loops; see gh_cycle below.
 */
#ifndef GH_APP_H
#define GH_APP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "config.h"
#include "http/pool.h"
#include "http/router.h"
#include "plugin/loader.h"
#include "store/store.h"

struct gh_server;
typedef struct gh_keyring gh_keyring; /* auth/tokens.h */

/*
 * A cycle: one config and the keyring that goes with it, reference
 * counted. Why: SIGHUP makes a new config and keyring, but a request that
 * came in under the old ones goes on reading them, on its loop, on a
 * worker and back on its loop, for as long as it runs. Before cycles the
 * old ones were kept until exit, so every reload leaked both. Now each
 * request (gh_req.cycle) and each job (api_job.cycle) holds a reference
 * from the moment it is made until it is freed; the app holds one on the
 * current cycle. A reload installs a new cycle and drops the app's
 * reference to the old one; whoever drops the last reference frees it,
 * so an old config lives exactly as long as the last request that uses it.
 *
 * Reference counting rather than an epoch scheme because the readers are
 * few and known: only loop threads take a cycle (req_dispatch), everything
 * later (handlers, jobs on workers, the answer back on the loop) reads the
 * one its request or job holds. Nothing else reads the config after
 * start-up: workers, the hashing pool, the mailer's thread, idle hooks,
 * /metrics and /health do not, and the main thread, which alone replaces
 * the cycle, may read the app's (app_config()).
 *
 * The keyring is shared between cycles when a reload keeps the old keys
 * (new keys refused): so it has a count of its own (gh_keys in app.c).
 */
typedef struct gh_keys gh_keys;
typedef struct gh_cycle {
    _Atomic long refs;
    uint64_t gen;               /* 1, 2, ...: never reused, unlike an address
                                   (the guard's token cache is keyed on it) */
    gh_config *cfg;
    gh_keyring *kr;             /* keys->kr, or NULL: no keys loaded */
    gh_keys *keys;
} gh_cycle;

typedef struct gh_app {
    _Atomic(gh_cycle *) cycle;  /* the live cycle; the app holds a reference */
    pthread_mutex_t cycle_mu;   /* taking a reference to `cycle` vs. replacing
                                   it (see app_cycle_acquire) */
    gh_cycle *boot;             /* the start-up cycle, held until exit: the
                                   plugins (and the mailer's outbox) keep
                                   pointers into its config's options */
    gh_router *router;
    gh_pool *pool;
    gh_pool *hash_pool;         /* password hashing only, at a lower CPU
                                   priority: a login flood soaks up idle CPU
                                   but cannot starve the loops or the pool */
    gh_plugins plugins;
    gh_store *store;
    struct gh_server *server;
    struct gh_mailer *mailer;   /* notify/mailer.h; NULL: no mail plugin */
    struct gh_webhook_sender *webhooks; /* notify/webhook_sender.h; NULL: none */
    struct gh_provisioner *provisioner; /* notify/provisioner.h; NULL: no cloud */
    _Atomic int draining;       /* SIGTERM seen: new requests get 503 */
} gh_app;

/* A cycle of cfg (owned from now on) and kr (owned; NULL: share the keys
 * of `keys_from`, which may be NULL too), with one reference for the
 * caller. NULL when out of memory, and then nothing is owned. */
gh_cycle *cycle_new(gh_config *cfg, gh_keyring *kr, const gh_cycle *keys_from);
/* Start-up only, before another thread can see c: c's keys are kr (owned
 * from now on). 0, or -1 when out of memory (kr not taken). */
int cycle_give_keys(gh_cycle *c, gh_keyring *kr);
/* Another reference to c, which the caller must already hold one on. */
static inline gh_cycle *cycle_ref(gh_cycle *c)
{
    if (c)
        atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}
/* Drop a reference; the last one frees the config and (if no other cycle
 * shares it) the keyring. NULL is ignored. Any thread. */
void cycle_unref(gh_cycle *c);

/* Main thread: make c (its reference passes to the app) the live cycle,
 * and drop the app's reference to the one before. NULL at exit. */
void app_cycle_install(gh_app *app, gh_cycle *c);
/* Any thread: a reference to the live cycle (cycle_unref it). */
gh_cycle *app_cycle_acquire(gh_app *app);
/* The calling thread lets go of the cycle app_cycle_acquire keeps for it
 * (when idle; a thread that ends lets go of it by itself). */
void app_cycle_unpin(void);

/* The live config and keys, for the main thread only: it alone replaces
 * the cycle, so what these return stays valid until it does. Every other
 * thread reads the cycle its request or job holds. */
static inline gh_config *app_config(const gh_app *app)
{
    gh_cycle *c = atomic_load_explicit(&((gh_app *)app)->cycle, memory_order_acquire);
    return c ? c->cfg : NULL;
}

static inline gh_keyring *app_keyring(const gh_app *app)
{
    gh_cycle *c = atomic_load_explicit(&((gh_app *)app)->cycle, memory_order_acquire);
    return c ? c->kr : NULL;
}

/* On the calling thread: its plugin instances and storage connection (the
 * thread's store_current()), or NULL with err set and nothing left open. */
gh_conn *app_thread_open(gh_app *app, char *err, size_t errlen);
/* Both closed again, on the same thread. */
void app_thread_close(gh_app *app);

#endif
