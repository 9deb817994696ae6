/*
 * app.c - a thread's share of the daemon: its plugin instances and its
 * storage connection, opened together by workers, hashing threads and the
 * event loops that read (api/job.c), and closed together; and the cycles
 * (config and keys) that SIGHUP replaces, freed when no request uses them.
 */
#include <stdlib.h>
#include "app.h"
#include "auth/tokens.h"

gh_conn *app_thread_open(gh_app *app, char *err, size_t errlen)
{
    gh_conn *c;

    if (plugins_thread_init(&app->plugins, err, errlen) < 0)
        return NULL;
    if (!(c = store_thread_open(app->store, err, errlen)))
        plugins_thread_fini(&app->plugins);
    return c;
}

void app_thread_close(gh_app *app)
{
    /* the connection first: the driver's instance holds it */
    store_thread_close(store_current());
    plugins_thread_fini(&app->plugins);
}

/* ---------------------------------------------------------------- cycles */

/* A keyring shared by the cycles of reloads that kept it. */
struct gh_keys {
    _Atomic long refs;
    gh_keyring *kr;
};

static void keys_unref(gh_keys *k)
{
    if (k && atomic_fetch_sub_explicit(&k->refs, 1, memory_order_acq_rel) == 1) {
        keyring_free(k->kr);
        free(k);
    }
}

gh_cycle *cycle_new(gh_config *cfg, gh_keyring *kr, const gh_cycle *keys_from)
{
    static _Atomic uint64_t gens;
    gh_cycle *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (kr) {
        if (!(c->keys = calloc(1, sizeof *c->keys))) {
            free(c);
            return NULL;
        }
        c->keys->kr = kr;
        atomic_init(&c->keys->refs, 1);
    } else if (keys_from && keys_from->keys) {
        c->keys = keys_from->keys;
        atomic_fetch_add_explicit(&c->keys->refs, 1, memory_order_relaxed);
    }
    c->kr = c->keys ? c->keys->kr : NULL;
    c->cfg = cfg;
    c->gen = atomic_fetch_add(&gens, 1) + 1;
    atomic_init(&c->refs, 1);
    return c;
}

int cycle_give_keys(gh_cycle *c, gh_keyring *kr)
{
    gh_keys *k = calloc(1, sizeof *k);
    if (!k)
        return -1;
    k->kr = kr;
    atomic_init(&k->refs, 1);
    keys_unref(c->keys);
    c->keys = k;
    c->kr = kr;
    return 0;
}

void cycle_unref(gh_cycle *c)
{
    /* acq_rel: what the other holders wrote happens before the free */
    if (!c || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
        return;
    config_free(c->cfg);
    keys_unref(c->keys);
    free(c);
}

/*
 * Taking a reference to the live cycle races with a reload that drops the
 * app's reference to it: between loading the pointer and counting, the
 * cycle could be freed. So the reference is taken under cycle_mu, which
 * the reload holds while it replaces the pointer (the app's reference
 * keeps the cycle alive until then).
 *
 * The mutex would be taken for every request by every loop; instead each
 * thread keeps a reference of its own to the cycle it last saw (pinned),
 * and counts another on it while the app's pointer still equals it. The
 * comparison is sound because the pinned cycle cannot be freed, so no new
 * cycle can have its address. The mutex is taken once per thread per
 * reload. A pinned old cycle is let go at the thread's next request, when
 * it idles (app_cycle_unpin), or when it ends (pin_key's destructor: so
 * that any thread may acquire, hooks or none).
 */
static _Thread_local gh_cycle *pinned;
static pthread_key_t pin_key;
static pthread_once_t pin_once = PTHREAD_ONCE_INIT;

static void pin_drop(void *c)
{
    pinned = NULL;
    cycle_unref(c);
}

static void pin_key_make(void)
{
    if (pthread_key_create(&pin_key, pin_drop) != 0)
        abort(); /* at the first request, with the process out of keys */
}

gh_cycle *app_cycle_acquire(gh_app *app)
{
    if (atomic_load_explicit(&app->cycle, memory_order_acquire) != pinned) {
        pthread_mutex_lock(&app->cycle_mu);
        gh_cycle *cur = cycle_ref(atomic_load_explicit(&app->cycle, memory_order_acquire));
        pthread_mutex_unlock(&app->cycle_mu);
        pthread_once(&pin_once, pin_key_make);
        cycle_unref(pinned);
        pinned = cur;
        pthread_setspecific(pin_key, cur); /* cannot fail: the key's slot exists */
    }
    return cycle_ref(pinned);
}

void app_cycle_unpin(void)
{
    if (!pinned)
        return;
    cycle_unref(pinned);
    pinned = NULL;
    pthread_setspecific(pin_key, NULL);
}

void app_cycle_install(gh_app *app, gh_cycle *c)
{
    pthread_mutex_lock(&app->cycle_mu);
    gh_cycle *old = atomic_exchange_explicit(&app->cycle, c, memory_order_acq_rel);
    pthread_mutex_unlock(&app->cycle_mu);
    cycle_unref(old);
}
