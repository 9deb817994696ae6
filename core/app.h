/*
 * app.h - what the running daemon is made of, in one place. There is one
 * gh_app per process; loop threads read `cfg` through an atomic pointer so
 * SIGHUP can swap in a new config without stopping them.
 */
#ifndef GH_APP_H
#define GH_APP_H

#include <stdatomic.h>
#include "config.h"
#include "http/pool.h"
#include "http/router.h"
#include "plugin/loader.h"
#include "store/store.h"

struct gh_server;

typedef struct gh_app {
    _Atomic(gh_config *) cfg;   /* the live config */
    gh_config **retired;        /* configs replaced by SIGHUP: a loop may
                                   still read one, so they are freed at exit */
    size_t n_retired;
    gh_router *router;
    gh_pool *pool;
    gh_plugins plugins;
    gh_store *store;
    struct gh_server *server;
    _Atomic int draining;       /* SIGTERM seen: new requests get 503 */
} gh_app;

static inline gh_config *app_config(const gh_app *app)
{
    return atomic_load_explicit(&((gh_app *)app)->cfg, memory_order_acquire);
}

#endif
