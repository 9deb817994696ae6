/*
 * main.c - gatehoused: start-up, signals, reload, shutdown.
 *
 * Start-up order matters and is the order of the code below: config, log,
 * state directory, plugins, schema migrations, signing keys, the bootstrap
 * admin, routes, workers, listeners.
 * Anything that fails stops start-up with one clear line before a single
 * connection is accepted. The main thread then only waits for signals:
 * SIGHUP re-reads the config and the keys (a broken one is refused and the
 * old one kept);
 * SIGTERM/SIGINT stop accepting, let requests in flight finish, and exit 0.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include "api/api.h"
#include "api/me_cache.h"
#include "api/present.h"
#include "app.h"
#include "auth/companies.h"
#include "auth/mail_outbox.h"
#include "auth/password.h"
#include "auth/pii.h"
#include "auth/rbac.h"
#include "auth/sessions.h"
#include "auth/tokens.h"
#include "auth/users.h"
#include "auth/webhooks.h"
#include "clock.h"
#include "http/metrics.h"
#include "http/server.h"
#include "http/tls.h"
#include "log.h"
#include "notify/mailer.h"
#include "notify/webhook_sender.h"
#include "notify/provisioner.h"
#include "plugin/host.h"
#include "privileges.h"
#include "store/store.h"

#define PURGE_INTERVAL_S 60

static gh_app app;
static char *config_path;
/* encryption.keys, read once at start-up (a new key needs a restart) */
static gh_pii *pii_keys;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: gatehoused [-c FILE] [-t] [-V] [-h]\n"
            "  -c, --config FILE  configuration file (default %s)\n"
            "  -t, --test         check the configuration and its plugins, then exit\n"
            "  -V, --version      print the version and exit\n"
            "  -h, --help         print this help and exit\n",
            GH_CONFIG_FILE);
}

static void apply_log(const gh_config *cfg)
{
    gh_log_conf lc = { cfg->log_level, cfg->log_json, cfg->log_syslog, cfg->access_log };
    log_configure(&lc);
}

/* Bound to its ports, the daemon leaves root for server.user before it
 * opens any file. As root without server.user, it says that it stays. */
static int leave_root(const gh_config *cfg)
{
    gh_account a;
    char err[512];
    int became = privileges_enter(cfg->run_user, cfg->run_group, cfg->state_dir, 1, &a, err,
                                  sizeof err);
    if (became < 0) {
        gh_log(GH_LOG_ERROR, "%s", err);
        return -1;
    }
    if (became)
        gh_log(GH_LOG_NOTICE, "running as %s (uid %lu, gid %lu)", a.name, (unsigned long)a.uid,
               (unsigned long)a.gid);
    else if (geteuid() == 0)
        gh_log(GH_LOG_WARNING, "running as root: set server.user to run as an account of "
               "its own (the systemd unit does this for you)");
    return 0;
}

/* ---------------------------------------------------------------- workers */

static int worker_start(void *ud)
{
    char err[512];
    if (!app_thread_open(&app, err, sizeof err)) {
        gh_log(GH_LOG_ERROR, "worker start: %s", err);
        return -1;
    }
    return 0;
}

/* The sender threads (notify/outbox.c, webhook_sender.c) are set up like workers. */
static int sender_start(void *ud, char *err, size_t errlen)
{
    return app_thread_open(&app, err, errlen) ? 0 : -1;
}

/* The mail sender composes each message with the live config. */
static gh_cycle *sender_cycle(void)
{
    return app_cycle_acquire(&app);
}

/* Hashing threads run at nice 10: they take every idle cycle, but the
 * scheduler gives loops and ordinary workers the CPU first, so a login
 * flood cannot raise the latency of token checks. Linux applies
 * setpriority(PRIO_PROCESS, tid) to the one thread. */
static int hasher_start(void *ud)
{
    if (setpriority(PRIO_PROCESS, (id_t)gettid(), 10) < 0)
        gh_log(GH_LOG_WARNING, "hashing pool: cannot lower its priority: %s", strerror(errno));
    return worker_start(ud);
}

/* workers: 0 picks one for the embedded store: SQLite writes one
 * transaction at a time, so more workers only take turns at its lock, and
 * each one's page cache is thrown away whenever another writes (reads run
 * on the loops anyway; figures: bench/README.md). Else two per CPU, to
 * keep a database server busy. */
static int worker_count(const gh_config *cfg, long cpus)
{
    if (cfg->workers > 0)
        return cfg->workers;
    if (store_is_local(app.store))
        return 1;
    return cpus > 512 ? 1024 : (int)(2 * cpus);
}

/* A thread idle for a second gives back its storage cache, and wipes the
 * users it rendered. */
static void thread_idle(void *ud)
{
    store_release_memory(store_current());
    present_forget();
    me_cache_forget(GH_IDLE_MS);
    app_cycle_unpin(); /* a loop's: an old config goes once its requests do */
}

static void worker_stop(void *ud)
{
    app_thread_close(&app);
}

/* An event loop may have opened a storage connection of its own for its
 * reads (api/job.c: loop_conn). */
static void loop_stop(void *ud)
{
    if (store_current())
        worker_stop(ud);
}

/* The reads of one pass shared a snapshot (api/job.c): end it. */
static void loop_pass_end(void *ud)
{
    (void)ud;
    gh_conn *c = store_current();
    if (c)
        store_read_flush(c);
}

/* Schema migrations run once, on the main thread, before any worker. */
static int migrate(void)
{
    char err[512];
    int applied = 0, rc = -1;
    gh_conn *c = app_thread_open(&app, err, sizeof err);
    if (c) {
        if (store_migrate(c, &applied, err, sizeof err) == 0) {
            rc = 0;
            if (applied)
                gh_log(GH_LOG_NOTICE, "storage: applied %d migration(s), schema version %d",
                       applied, store_latest_version());
        }
        app_thread_close(&app);
    }
    if (rc < 0)
        gh_log(GH_LOG_ERROR, "storage: %s", err);
    return rc;
}

/* ---------------------------------------------------------------- keys */

/* keys_dir may be relative: we work inside the state directory. */
static gh_keyring *load_keys(const gh_config *cfg, char *err, size_t errlen)
{
    gh_alg alg = cfg->token_alg ? (gh_alg)cfg->token_alg : GH_ALG_ES256;
    return keyring_load(cfg->keys_dir ? cfg->keys_dir : "keys", alg, cfg->hs256_secret, err,
                        errlen);
}

/* ---------------------------------------------------------------- bootstrap */

/* The bootstrap password must meet the policy like any other. */
static int bootstrap_hash(const gh_config *cfg, char hash[GH_PW_HASH_MAX], char *err, size_t errlen)
{
    const char *pw = cfg->bootstrap_admin_password, *detail = NULL;
    const char *context[] = { cfg->bootstrap_admin_email, NULL };
    if (!pw) {
        snprintf(err, errlen, "bootstrap.admin_email needs bootstrap.admin_password");
        return -1;
    }
    if (password_policy_check(&cfg->pw, pw, strlen(pw), context, &detail)) {
        snprintf(err, errlen, "bootstrap.admin_password: %s", detail ? detail : "refused");
        return -1;
    }
    if (password_hash(pw, strlen(pw), &cfg->argon2, hash) != 0) {
        snprintf(err, errlen, "cannot hash bootstrap.admin_password");
        return -1;
    }
    return 0;
}

/* Create the admin, verified (the operator vouches for the address). An
 * existing account with that address is not promoted: anyone could have
 * signed up with it. */
static int bootstrap_create(gh_conn *c, const gh_config *cfg, const char *hash, char *err,
                            size_t errlen)
{
    gh_user u = { .is_active = 1, .is_admin = 1 };
    snprintf(u.tenant_id, sizeof u.tenant_id, "%s", GH_ROOT_TENANT);
    u.email = strdup(cfg->bootstrap_admin_email);
    gh_result r = u.email ? store_begin(c, NULL) : GH_ERR_INTERNAL;
    if (r == GH_OK && (r = users_create(c, NULL, &u, hash)) == GH_OK)
        r = users_mark_verified(c, NULL, u.id, gh_now_ms());
    if (r == GH_OK)
        r = rbac_operator_grant(c, NULL, &u);
    if (r == GH_OK)
        r = store_commit(c, NULL);
    else
        store_rollback(c, NULL);
    if (r == GH_OK)
        /* by id: an address in the log would outlive encryption at rest */
        gh_log(GH_LOG_NOTICE, "bootstrap: created the admin (user %s)", u.id);
    else if (r == GH_ERR_CONFLICT)
        snprintf(err, errlen, "an account with bootstrap.admin_email exists and is not an "
                 "admin; it is not promoted (gatehousectl can make it one)");
    else
        snprintf(err, errlen, "cannot create the admin: %s", gh_result_str(r));
    user_clear(&u);
    return r == GH_OK ? 0 : -1;
}

static int bootstrap_in(gh_conn *c, const gh_config *cfg, char *err, size_t errlen)
{
    int64_t admins = 0;
    gh_result r = users_count_admins(c, NULL, GH_ROOT_TENANT, &admins);
    if (r != GH_OK) {
        snprintf(err, errlen, "cannot count admins: %s", gh_result_str(r));
        return -1;
    }
    if (admins > 0)
        return 0;
    char hash[GH_PW_HASH_MAX];
    int rc = bootstrap_hash(cfg, hash, err, errlen);
    if (rc == 0)
        rc = bootstrap_create(c, cfg, hash, err, errlen);
    OPENSSL_cleanse(hash, sizeof hash);
    return rc;
}

/* The first admin, when the config names one and the root tenant has
 * none; on the main thread with a connection of its own, like migrate(). */
static int bootstrap_admin(const gh_config *cfg)
{
    char err[512] = "";
    int rc = -1;
    if (!cfg->bootstrap_admin_email)
        return 0;
    gh_conn *c = app_thread_open(&app, err, sizeof err);
    if (c) {
        rc = bootstrap_in(c, cfg, err, sizeof err);
        app_thread_close(&app);
    }
    if (rc < 0)
        gh_log(GH_LOG_ERROR, "bootstrap: %s", err);
    return rc;
}

/* ---------------------------------------------------------------- reload */

/* A setting read only at start-up changed: say so (config.c's table marks
 * which settings those are). */
static void warn_restart_needed(const char *key, void *arg)
{
    (void)arg;
    gh_log(GH_LOG_WARNING, "reload: '%s' changed; it takes effect at the next restart", key);
}

/*
 * A new cycle: the new config, with keys loaded for it (refused: the
 * previous keys, shared). Requests already in flight finish with the cycle
 * they came in with; the old one is freed when the last of them ends
 * (app.h: gh_cycle), so a reload costs no memory for good.
 */
static void reload(void)
{
    char err[1024];
    gh_config *cur = config_load(config_path, err, sizeof err);
    if (!cur) {
        gh_log(GH_LOG_ERROR, "reload refused, still serving the previous configuration: %s", err);
        return;
    }
    config_restart_changes(app_config(&app), cur, warn_restart_needed, NULL);
    gh_keyring *kr = load_keys(cur, err, sizeof err);
    if (!kr)
        gh_log(GH_LOG_ERROR, "reload: keys refused, still signing with the previous ones: %s", err);
    gh_cycle *c = cycle_new(cur, kr, atomic_load(&app.cycle));
    if (!c) {
        gh_log(GH_LOG_ERROR, "reload refused: out of memory");
        keyring_free(kr);
        config_free(cur);
        return;
    }
    apply_log(cur);
    app_cycle_install(&app, c); /* may free the previous cycle: use neither now */
    gh_log(GH_LOG_NOTICE, "configuration reloaded from %s", config_path);
    if (kr)
        gh_log(GH_LOG_NOTICE, "signing keys reloaded (%s)", keyring_alg_name(kr));
}

/* ---------------------------------------------------------------- signals */

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct event_base *base = arg;
    if (sig == SIGHUP) {
        reload();
        server_tls_reload(app.server); /* whether or not the config was refused */
        return;
    }
    gh_log(GH_LOG_NOTICE, "%s: finishing requests in flight, then exiting",
           sig == SIGTERM ? "SIGTERM" : "SIGINT");
    atomic_store(&app.draining, 1);
    server_stop(app.server, app_config(&app)->shutdown_timeout_ms);
    event_base_loopbreak(base);
}

/* Housekeeping on a worker: expired kv rows (SQL kv only); rows that
 * ended a week ago - sessions with their spent refresh tokens (kept that
 * long so users and admins can still see recent devices), mail that
 * failed for good and webhook deliveries settled (kept as long for their
 * reasons and the subscriptions' logs); and the personal data of
 * companies deactivated longer ago than companies.erasure_delay. */
#define ENDED_KEEP_MS (7LL * 24 * 3600 * 1000)
static const struct {
    const char *what;
    int64_t (*purge)(gh_conn *c, gh_call *call, int64_t keep_ms);
} ended[] = {
    { "ended sessions", session_purge },
    { "failed outbox mail", mail_outbox_purge },
    { "settled webhook deliveries", webhook_delivery_purge },
};

static void purge_work(void *arg)
{
    gh_call call;
    call_init(&call, app.plugins.storage, NULL, 10000);
    int64_t n = app.plugins.kv ? 0 : store_kv_purge(store_current(), &call);
    if (n > 0)
        gh_log(GH_LOG_DEBUG, "kv: purged %lld expired keys", (long long)n);
    for (size_t i = 0; i < sizeof ended / sizeof ended[0]; i++) {
        call_init(&call, app.plugins.storage, NULL, 10000);
        n = ended[i].purge(store_current(), &call, ENDED_KEEP_MS);
        if (n > 0)
            gh_log(GH_LOG_DEBUG, "purged %lld %s", (long long)n, ended[i].what);
    }
    call_init(&call, app.plugins.storage, NULL, 10000);
    if (companies_erase_due(store_current(), &call, gh_now_ms(), &n) != GH_OK)
        gh_log(GH_LOG_ERROR, "companies: erasing a deactivated company failed: %s", call.message);
    else if (n > 0)
        gh_log(GH_LOG_NOTICE, "companies: erased the personal data of %lld deactivated "
               "compan%s", (long long)n, n == 1 ? "y" : "ies");
}

/* argon2 needs 19 MiB of working memory a hash. Each hashing thread keeps
 * one mapping for it and reuses it for every hash (no page faults while
 * busy; mmap and munmap per hash made hashing far slower, and
 * malloc'd blocks stayed in the threads' arenas, where malloc_trim cannot
 * reach them). Once the hashing pool has been idle a second,
 * password_release_idle_memory() drops those pages (MADV_DONTNEED), so
 * the process shrinks back after a login flood; the next hash faults them
 * in again. Never during a flood, at once after it. */
static void on_trim_timer(evutil_socket_t fd, short what, void *arg)
{
    static int trimmed = 1, malloc_trimmed = 1;
    int64_t idle = pool_idle_ms(app.hash_pool), work_idle = pool_idle_ms(app.pool);
    if (idle < 0 || idle < 1000) {
        trimmed = 0;
    } else if (!trimmed) {
        password_release_idle_memory();
        trimmed = 1;
    }
    /* Threads give back their caches after GH_IDLE_MS (thread_idle); what
     * they freed sits in malloc's arenas until malloc_trim returns it. */
    if (idle < 0 || idle < 2 * GH_IDLE_MS || work_idle < 0 || work_idle < 2 * GH_IDLE_MS) {
        malloc_trimmed = 0;
    } else if (!malloc_trimmed) {
        malloc_trim(0);
        malloc_trimmed = 1;
    }
}

static void on_purge_timer(evutil_socket_t fd, short what, void *arg)
{
    pool_submit(app.pool, NULL, purge_work, NULL, NULL);
}

/* ---------------------------------------------------------------- start-up */

static int start(void)
{
    char err[1024];
    const gh_config *cfg = app_config(&app);
    /* sockets first, while a port below 1024 can still be bound; then
     * nothing more as root */
    app.server = server_new(&app, err, sizeof err);
    if (!app.server) {
        gh_log(GH_LOG_ERROR, "%s", err);
        return -1;
    }
    if (leave_root(cfg) < 0)
        return -1;
    if (chdir(cfg->state_dir) < 0) {
        gh_log(GH_LOG_ERROR, "state directory %s: %s", cfg->state_dir, strerror(errno));
        return -1;
    }
    if (plugins_load(&app.plugins, cfg, err, sizeof err) < 0) {
        gh_log(GH_LOG_ERROR, "%s", err);
        return -1;
    }
    if (pii_from_config(cfg, &pii_keys, err, sizeof err) < 0) {
        gh_log(GH_LOG_ERROR, "%s", err);
        return -1;
    }
    pii_install(pii_keys); /* before any thread that reads accounts */
    if (pii_keys)
        gh_log(GH_LOG_NOTICE, "personal data encrypted at rest with key '%s'",
               pii_newest_kid(pii_keys));
    app.store = store_new(app.plugins.storage, app.plugins.kv);
    if (!app.store || migrate() < 0)
        return -1;
    gh_keyring *kr = load_keys(cfg, err, sizeof err);
    if (!kr) {
        gh_log(GH_LOG_ERROR, "signing keys: %s", err);
        return -1;
    }
    if (cycle_give_keys(app.boot, kr) < 0) { /* no other thread runs yet */
        keyring_free(kr);
        gh_log(GH_LOG_ERROR, "signing keys: out of memory");
        return -1;
    }
    if (bootstrap_admin(cfg) < 0)
        return -1;
    app.router = router_new();
    if (!app.router || api_register(app.router) != 0 || metrics_init(router_count(app.router)) < 0) {
        gh_log(GH_LOG_ERROR, "cannot set up routes");
        return -1;
    }
    gh_pool_hooks hooks = { worker_start, worker_stop, NULL, thread_idle, NULL };
    gh_pool_hooks hasher_hooks = { hasher_start, worker_stop, NULL, thread_idle, NULL };
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    app.pool = pool_new(worker_count(cfg, cpus > 0 ? cpus : 1), cfg->queue_size, &hooks);
    app.hash_pool = pool_new(cpus > 0 ? (int)cpus : 1, cfg->queue_size, &hasher_hooks);
    if (!app.pool || !app.hash_pool)
        return -1;
    /* mail goes out from its own thread, never from the workers; set up
     * like one, so the outbox's rows, the one-time tokens (kv) and the
     * notify plugin's ops work there */
    gh_outbox_thread sender_thread = { sender_start, worker_stop, NULL };
    app.mailer = mailer_new(cfg, &app.plugins, &sender_thread, sender_cycle, err, sizeof err);
    if (!app.mailer && err[0]) {
        gh_log(GH_LOG_ERROR, "%s", err);
        return -1;
    }
    /* outgoing events likewise, from a thread of their own */
    app.webhooks = webhook_sender_new(cfg, &app.plugins, &sender_thread, err, sizeof err);
    if (!app.webhooks && err[0]) {
        gh_log(GH_LOG_ERROR, "%s", err);
        return -1;
    }
    /* and cloud provisioning, whose steps may take a while */
    app.provisioner = provisioner_new(cfg, &app.plugins, &sender_thread, err, sizeof err);
    if (!app.provisioner && err[0]) {
        gh_log(GH_LOG_ERROR, "%s", err);
        return -1;
    }
    gh_pool_hooks loop_hooks = { NULL, loop_stop, NULL, thread_idle, loop_pass_end };
    if (server_start(app.server, &loop_hooks, err, sizeof err) < 0) {
        gh_log(GH_LOG_ERROR, "%s", err);
        return -1;
    }
    for (size_t i = 0; i < cfg->n_listen; i++)
        gh_log(GH_LOG_NOTICE, "listening on %s%s%s:%u%s", cfg->listen[i].host && strchr(cfg->listen[i].host, ':') ? "[" : "",
               cfg->listen[i].host ? cfg->listen[i].host : "*",
               cfg->listen[i].host && strchr(cfg->listen[i].host, ':') ? "]" : "",
               server_port(app.server, i), cfg->listen[i].tls_cert ? " (TLS)" : "");
    int workers = pool_size(app.pool);
    gh_log(GH_LOG_NOTICE, "gatehoused %s ready: %d event loop%s, %d worker%s, storage %s",
           PACKAGE_VERSION, cfg->threads, cfg->threads == 1 ? "" : "s", workers,
           workers == 1 ? "" : "s", app.plugins.storage->name);
    return 0;
}

static void shutdown_all(void)
{
    pool_free(app.hash_pool);
    pool_free(app.pool);
    /* after the pools (their last jobs may wake it), before the plugins;
     * what it has not sent waits in the store */
    mailer_free(app.mailer);
    webhook_sender_free(app.webhooks); /* what it has not sent waits in the store */
    provisioner_free(app.provisioner); /* its jobs wait in the store likewise */
    server_free(app.server);
    store_free(app.store);
    plugins_unload(&app.plugins);
    router_free(app.router);
    metrics_free();
    /* after the plugins, which read the start-up config's options; every
     * request and loop has let go of its cycle by now */
    app_cycle_install(&app, NULL);
    cycle_unref(app.boot);
    app.boot = NULL;
    pii_install(NULL);
    pii_free(pii_keys);
    host_global_cleanup();
}

/* -t: the signing keys load (none yet is fine: the first start makes
 * one). keys_dir is relative to the state directory, where the daemon
 * works; -t writes nothing, so it does not go there. */
static int check_keys(const gh_config *cfg, char *err, size_t errlen)
{
    const char *dir = cfg->keys_dir ? cfg->keys_dir : "keys";
    char path[PATH_MAX];
    if (dir[0] != '/' && (size_t)snprintf(path, sizeof path, "%s/%s", cfg->state_dir, dir) >= sizeof path) {
        snprintf(err, errlen, "tokens.keys_dir: path too long");
        return -1;
    }
    gh_alg alg = cfg->token_alg ? (gh_alg)cfg->token_alg : GH_ALG_ES256;
    gh_keyring *kr = keyring_open(dir[0] == '/' ? dir : path, alg, cfg->hs256_secret, 0, err,
                                  errlen);
    keyring_free(kr);
    return kr ? 0 : -1;
}

static int check_only(gh_config *cfg)
{
    char err[1024];
    int rc = plugins_load(&app.plugins, cfg, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "gatehoused: %s\n", err);
    else if ((rc = mailer_check(cfg, &app.plugins, err, sizeof err)) < 0)
        fprintf(stderr, "gatehoused: %s\n", err);
    else if ((rc = webhook_sender_check(cfg, &app.plugins, err, sizeof err)) < 0)
        fprintf(stderr, "gatehoused: %s\n", err);
    else if ((rc = provisioner_check(cfg, &app.plugins, err, sizeof err)) < 0)
        fprintf(stderr, "gatehoused: %s\n", err);
    else if ((rc = check_keys(cfg, err, sizeof err)) < 0)
        fprintf(stderr, "gatehoused: signing keys: %s\n", err);
    else if ((rc = tls_check(cfg, err, sizeof err)) < 0)
        fprintf(stderr, "gatehoused: %s\n", err);
    if (app.plugins.v)
        plugins_unload(&app.plugins);
    printf("gatehoused: configuration file %s test %s\n", config_path, rc < 0 ? "failed" : "is successful");
    return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' }, { "test", no_argument, NULL, 't' },
        { "version", no_argument, NULL, 'V' },      { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *path = GH_CONFIG_FILE;
    int test = 0, opt;
    /* glibc gives each thread its own malloc arena, up to 8 per core, and
     * each keeps what it freed: one per core is plenty for threads that
     * allocate little. An
     * administrator's MALLOC_ARENA_MAX still wins. */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (!getenv("MALLOC_ARENA_MAX"))
        mallopt(M_ARENA_MAX, ncpu > 0 ? (int)ncpu : 1);
    while ((opt = getopt_long(argc, argv, "c:tVh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': path = optarg; break;
        case 't': test = 1; break;
        case 'V': printf("gatehoused %s (plugin ABI %d.%d)\n", PACKAGE_VERSION, GH_ABI_MAJOR, GH_ABI_MINOR); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }
    /* absolute, because the daemon works inside its state directory */
    config_path = realpath(path, NULL);
    if (!config_path) {
        fprintf(stderr, "gatehoused: %s: %s\n", path, strerror(errno));
        return 1;
    }
    char err[1024];
    gh_config *cfg = config_load(config_path, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "gatehoused: %s\n", err);
        if (test)
            printf("gatehoused: configuration file %s test failed\n", config_path);
        free(config_path);
        return 1;
    }
    apply_log(cfg);
    signal(SIGPIPE, SIG_IGN);
    if (test) {
        int rc = check_only(cfg);
        config_free(cfg);
        host_global_cleanup();
        free(config_path);
        return rc;
    }
    /* the start-up cycle, live and kept as app.boot (app.h); the signing
     * keys join it in start() */
    pthread_mutex_init(&app.cycle_mu, NULL);
    if (!(app.boot = cycle_new(cfg, NULL, NULL))) {
        fprintf(stderr, "gatehoused: out of memory\n");
        config_free(cfg);
        free(config_path);
        return 1;
    }
    app_cycle_install(&app, cycle_ref(app.boot));

    int rc = 1;
    struct event_base *base = NULL;
    struct event *sigs[3] = { 0 }, *purge = NULL, *trim = NULL;
    if (start() == 0 && (base = event_base_new())) {
        int signums[3] = { SIGTERM, SIGINT, SIGHUP };
        for (int i = 0; i < 3; i++) {
            sigs[i] = evsignal_new(base, signums[i], on_signal, base);
            evsignal_add(sigs[i], NULL);
        }
        struct timeval second = { 1, 0 };
        trim = event_new(base, -1, EV_PERSIST, on_trim_timer, NULL);
        event_add(trim, &second);
        struct timeval every = { PURGE_INTERVAL_S, 0 };
        purge = event_new(base, -1, EV_PERSIST, on_purge_timer, NULL);
        event_add(purge, &every);
        event_base_dispatch(base);
        rc = 0;
        gh_log(GH_LOG_NOTICE, "stopped");
    } else if (app.server) {
        server_stop(app.server, 0);
    }
    for (int i = 0; i < 3; i++)
        if (sigs[i])
            event_free(sigs[i]);
    if (purge)
        event_free(purge);
    if (trim)
        event_free(trim);
    if (base)
        event_base_free(base);
    shutdown_all();
    free(config_path);
    return rc;
}
