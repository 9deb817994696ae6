/*
 * app.h - what the running daemon is made of, in one place. There is one
 * gh_app per process; loop threads read `cfg` and `keyring` through atomic
 * pointers so SIGHUP can swap in a new config and keys without stopping
 * them. What handlers need from the config they read through app_config().
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
typedef struct gh_keyring gh_keyring; /* auth/tokens.h */

typedef struct gh_app {
    _Atomic(gh_config *) cfg;   /* the live config */
    gh_config **retired;        /* configs replaced by SIGHUP: a loop may
                                   still read one, so they are freed at exit */
    size_t n_retired;
    _Atomic(gh_keyring *) keyring; /* signs and verifies access tokens */
    gh_keyring **retired_keys;  /* replaced by SIGHUP, freed at exit likewise */
    size_t n_retired_keys;
    gh_router *router;
    gh_pool *pool;
    gh_pool *hash_pool;         /* password hashing only, at a lower CPU
                                   priority: a login flood soaks up idle CPU
                                   but cannot starve the loops or the pool */
    gh_plugins plugins;
    gh_store *store;
    struct gh_server *server;
    struct gh_mailer *mailer;   /* notify/mailer.h; NULL: no mail plugin */
    _Atomic int draining;       /* SIGTERM seen: new requests get 503 */
} gh_app;

static inline gh_config *app_config(const gh_app *app)
{
    return atomic_load_explicit(&((gh_app *)app)->cfg, memory_order_acquire);
}

static inline gh_keyring *app_keyring(const gh_app *app)
{
    return atomic_load_explicit(&((gh_app *)app)->keyring, memory_order_acquire);
}

/* On the calling thread: its plugin instances and storage connection (the
 * thread's store_current()), or NULL with err set and nothing left open. */
gh_conn *app_thread_open(gh_app *app, char *err, size_t errlen);
/* Both closed again, on the same thread. */
void app_thread_close(gh_app *app);

#endif
