/*
 * test_config.c - the config loader: the shipped etc/gatehouse.yaml, the
 * defaults, every schema key, ${VAR} expansion, the exact "file:line:col:"
 * of each kind of error, the scalar parsers and secret files.
 *
 * Fixtures are written to a fresh mkdtemp directory so each test states its
 * YAML next to what it expects; tests/configs/full.yaml is the one static
 * fixture, setting every key to something other than its default.
 * Secrets in fixtures contain "SECRET", so a test can tell that no error
 * message ever quotes one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gatehouse/plugin.h>
#include "config.h"
#include "auth/tokens.h"
#include "http/router.h" /* GH_GET ... */

static char tmpdir[] = "/tmp/gh-test-config-XXXXXX";
static int nfiles;
static char last_path[PATH_MAX];  /* the file load_text wrote last */
static char err[1024];

static int group_setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int group_teardown(void **state)
{
    (void)state;
    return nftw(tmpdir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* Writes len bytes to a new file in tmpdir; returns its path (last_path). */
static const char *write_bytes(const char *data, size_t len)
{
    snprintf(last_path, sizeof last_path, "%s/t%d.yaml", tmpdir, ++nfiles);
    FILE *f = fopen(last_path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return last_path;
}

static const char *write_text(const char *text)
{
    return write_bytes(text, strlen(text));
}

static gh_config *load_text(const char *yaml)
{
    err[0] = '\0';
    return config_load(write_text(yaml), err, sizeof err);
}

static gh_config *load_ok(const char *yaml)
{
    gh_config *cfg = load_text(yaml);
    if (!cfg)
        fail_msg("unexpected error: %s\nfor:\n%s", err, yaml);
    return cfg;
}

/* want is the error without the file name: "3:5: unknown key ..." */
static void expect_error(const char *yaml, const char *want)
{
    char full[PATH_MAX + 512];
    gh_config *cfg = load_text(yaml);
    if (cfg) {
        config_free(cfg);
        fail_msg("no error for:\n%s", yaml);
    }
    snprintf(full, sizeof full, "%s:%s", last_path, want);
    assert_string_equal(err, full);
}

static long cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n;
}

static void assert_defaults(const gh_config *cfg)
{
    assert_int_equal(cfg->n_listen, 1);
    assert_string_equal(cfg->listen[0].host, "127.0.0.1");
    assert_int_equal(cfg->listen[0].port, 8080);
    assert_non_null(cfg->listen[0].where);
    assert_int_equal(cfg->threads, cpus() > 256 ? 256 : cpus());
    assert_int_equal(cfg->workers, 0); /* the daemon picks, knowing the store */
    assert_int_equal(cfg->queue_size, 1024);
    assert_int_equal(cfg->max_body_size, 64 * 1024);
    assert_int_equal(cfg->max_header_size, 16 * 1024);
    assert_int_equal(cfg->max_json_depth, 32);
    assert_int_equal(cfg->request_timeout_ms, 30000);
    assert_int_equal(cfg->shutdown_timeout_ms, 10000);
    assert_string_equal(cfg->public_url, "http://127.0.0.1:8080");
    assert_int_equal(cfg->hsts, 0);
    assert_int_equal(cfg->n_cors_origins, 0);
    assert_int_equal(cfg->n_oauth_redirects, 0);
    assert_int_equal(cfg->oauth_link_verified, 0);
    assert_string_equal(cfg->cors_methods, "GET, POST, PUT, PATCH, DELETE");
    assert_string_equal(cfg->cors_headers, "Authorization, Content-Type, X-Request-Id");
    assert_int_equal(cfg->cors_credentials, 0);
    assert_int_equal(cfg->cors_max_age_s, 600);
    assert_null(cfg->metrics_token);
    assert_int_equal(cfg->metrics_public, 0);
    assert_int_equal(cfg->proxies.n, 0); /* no proxy trusted: the peer is the client */
    assert_int_equal(cfg->proxies.header, CLIENT_IP_HDR_XFF);
    assert_int_equal(cfg->log_level, GH_LOG_INFO);
    assert_int_equal(cfg->log_json, 0);
    assert_int_equal(cfg->log_syslog, 0);
    assert_int_equal(cfg->access_log, 1);
    assert_string_equal(cfg->state_dir, "./var");
    assert_null(cfg->plugin_dir);
    assert_null(cfg->data_dir);

    assert_string_equal(cfg->tokens.issuer, "http://127.0.0.1:8080");
    assert_string_equal(cfg->tokens.audience, "gatehouse");
    assert_int_equal(cfg->token_alg, GH_ALG_ES256);
    assert_int_equal(cfg->access_ttl_ms, 15 * 60 * 1000);
    assert_true(cfg->refresh_ttl_ms == 30LL * 86400 * 1000);
    assert_true(cfg->refresh_idle_ms == 15LL * 86400 * 1000);
    assert_string_equal(cfg->keys_dir, "keys");
    assert_null(cfg->hs256_secret);

    assert_int_equal(cfg->allow_signup, 1);
    assert_int_equal(cfg->require_verified_email, 0);
    assert_int_equal(cfg->pw.min_length, 8);
    assert_int_equal(cfg->pw.max_length, 128);
    assert_int_equal(cfg->pw.require_upper, 0);
    assert_int_equal(cfg->pw.require_lower, 0);
    assert_int_equal(cfg->pw.require_digit, 0);
    assert_int_equal(cfg->pw.require_special, 0);
    assert_int_equal(cfg->pw.check_common, 1);
    assert_int_equal(cfg->argon2.memory_kib, 19456);
    assert_int_equal(cfg->argon2.iterations, 2);
    assert_int_equal(cfg->argon2.parallelism, 1);
    assert_int_equal(cfg->lockout.account_failures, 5);
    assert_int_equal(cfg->lockout.base_delay_ms, 60 * 1000);
    assert_int_equal(cfg->lockout.max_delay_ms, 15 * 60 * 1000);
    assert_int_equal(cfg->lockout.window_ms, 12 * 3600 * 1000);
    assert_int_equal(cfg->lockout.ip_failures, 50);
    assert_int_equal(cfg->lockout.ip_window_ms, 15 * 60 * 1000);
    assert_int_equal(cfg->mfa.token_ttl_ms, 5 * 60 * 1000);
    assert_int_equal(cfg->mfa.token_tries, 5);
    assert_int_equal(cfg->mfa.sms_code_ttl_ms, 5 * 60 * 1000);
    assert_int_equal(cfg->mfa.sms_code_tries, 5);
    assert_int_equal(cfg->mfa.sms_send_limit, 3);
    assert_int_equal(cfg->mfa.sms_verify_limit, 5);
    assert_int_equal(cfg->mfa.recent_signin_ms, 5 * 60 * 1000);

    assert_null(cfg->bootstrap_admin_email);
    assert_null(cfg->bootstrap_admin_password);

    assert_string_equal(cfg->storage.name, "sqlite");
    assert_non_null(cfg->storage.where);
    assert_null(cfg->kv.name);
    assert_null(cfg->kv.options);
    assert_int_equal(cfg->n_plugins, 0);

    assert_null(cfg->mail.name);
    assert_string_equal(cfg->mail_frontend_url, "http://127.0.0.1:8080"); /* public_url */
    assert_string_equal(cfg->mail_product_name, "Gatehouse");
    assert_null(cfg->mail_templates_dir);
    assert_string_equal(cfg->mail_verify_path, "/verify-email");
    assert_string_equal(cfg->mail_reset_path, "/reset-password");
    assert_true(cfg->mail_verify_ttl_ms == 24LL * 3600 * 1000);
    assert_true(cfg->mail_reset_ttl_ms == 3600LL * 1000);
    assert_int_equal(cfg->mail_outbox.capacity, 1000);
    assert_int_equal(cfg->mail_outbox.max_attempts, 8);
    assert_int_equal(cfg->mail_outbox.retry_delay_ms, 5000);
    assert_int_equal(cfg->mail_outbox.retry_max_delay_ms, 600000);
    assert_int_equal(cfg->mail_address_limit, 5);
    assert_int_equal(cfg->mail_ip_limit, 50);
    assert_true(cfg->mail_limit_window_ms == 3600LL * 1000);
    /* the built-in rate limits; login's stands for them */
    assert_int_equal(cfg->rate_limits.n, 8);
    assert_string_equal(cfg->rate_limits.v[1].name, "login");
    assert_int_equal(cfg->rate_limits.v[1].n_routes, 1);
    assert_int_equal(cfg->rate_limits.v[1].routes[0].methods, GH_POST);
    assert_string_equal(cfg->rate_limits.v[1].routes[0].pattern, "/api/v1/auth/login");
    assert_int_equal(cfg->rate_limits.v[1].key, RL_KEY_IP);
    assert_int_equal(cfg->rate_limits.v[1].algorithm, RL_SLIDING_WINDOW);
    assert_int_equal(cfg->rate_limits.v[1].limit, 5);
    assert_int_equal(cfg->rate_limits.v[1].window_ms, 60000);
    assert_int_equal(cfg->rate_limits.v[1].fail_closed, 1);

    assert_null(cfg->webhooks.name);
    assert_int_equal(cfg->webhooks_retry.max_attempts, 12);
    assert_int_equal(cfg->webhooks_retry.retry_delay_ms, 30000);
    assert_true(cfg->webhooks_retry.retry_max_delay_ms == 6LL * 3600 * 1000);
    assert_int_equal(cfg->webhooks_retry.send_timeout_ms, 10000);
    assert_int_equal(cfg->webhooks_disable_after, 20);
    assert_int_equal(cfg->webhooks_poll_ms, 5000);
    assert_int_equal(cfg->webhooks_allow_private, 0);
    assert_int_equal(cfg->webhooks_allow_http, 0);

    assert_int_equal(cfg->onboarding_public, 0);
    assert_null(cfg->onboarding_cloud.name);
    assert_int_equal(cfg->onboarding_retry.max_attempts, 5);
    assert_int_equal(cfg->onboarding_retry.retry_delay_ms, 2000);
    assert_int_equal(cfg->onboarding_retry.retry_max_delay_ms, 300000);
    assert_int_equal(cfg->onboarding_keep, 0);
    assert_int_equal(cfg->onboarding_lease_ms, 300000);
    assert_int_equal(cfg->onboarding_poll_ms, 5000);
}

/* ------------------------------------------------------------ whole files */

static void etc_default_loads(void **state)
{
    (void)state;
    const char *top = getenv("top_srcdir");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/etc/gatehouse.yaml", top ? top : ".");
    gh_config *cfg = config_load(path, err, sizeof err);
    if (!cfg)
        fail_msg("%s", err);
    /* The shipped file says exactly what the built-in defaults say. */
    assert_defaults(cfg);
    assert_string_equal(cfg->path, path);
    assert_string_equal(cfg->storage.where->value, "sqlite");
    const gh_node *opt = cfg->storage.options;
    assert_non_null(opt);
    assert_int_equal(opt->type, GH_NODE_MAP);
    assert_string_equal(cfg_get(opt, "path")->value, "gatehouse.db");
    assert_string_equal(cfg_get(opt, "busy_timeout")->value, "5s");
    assert_null(cfg_get(cfg->root, "kv"));
    assert_null(cfg_get(cfg->root, "plugins"));
    config_free(cfg);
}

/* One default of the table against the shipped file: the key is there,
 * uncommented, with the same text. */
static void default_in_file(const char *key, const char *value, void *arg)
{
    const gh_node *n = arg;
    char part[64];
    for (const char *p = key; n && *p;) {
        size_t len = strcspn(p, ".");
        snprintf(part, sizeof part, "%.*s", (int)len, p);
        n = cfg_get(n, part);
        p += len + (p[len] == '.');
    }
    if (!value)
        return;
    if (!n)
        fail_msg("etc/gatehouse.yaml does not show '%s' (default %s)", key, value);
    if (n->type != GH_NODE_SCALAR || strcmp(n->value, value) != 0)
        fail_msg("etc/gatehouse.yaml: %s is '%s', the table's default is '%s'", key,
                 n->type == GH_NODE_SCALAR ? n->value : "(not a scalar)", value);
}

/* etc/gatehouse.yaml documents the defaults: every row's default is in it
 * with the same value, and loading it proves every key in it is a row. */
static void etc_file_matches_defaults(void **state)
{
    (void)state;
    const char *top = getenv("top_srcdir");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/etc/gatehouse.yaml", top ? top : ".");
    gh_config *cfg = config_load(path, err, sizeof err);
    if (!cfg)
        fail_msg("%s", err);
    config_each_setting(default_in_file, cfg->root);
    config_free(cfg);
}

/* The settings gatehouse.yaml(5) describes: each ".TP" tag line
 * ".B key", in order. */
typedef struct man_keys {
    char key[128][64];
    int n, seen[128];
} man_keys;

static void man_page_read(man_keys *m)
{
    const char *top = getenv("top_srcdir");
    char path[PATH_MAX], line[256];
    snprintf(path, sizeof path, "%s/docs/gatehouse.yaml.5", top ? top : ".");
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("%s: cannot open", path);
    int tag = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (tag && strncmp(line, ".B ", 3) == 0 && !strchr(line + 3, ' ')) {
            size_t len = strlen(line + 3);
            assert_true(m->n < 128 && len < sizeof m->key[0]);
            memcpy(m->key[m->n++], line + 3, len + 1);
        }
        tag = strcmp(line, ".TP") == 0;
    }
    fclose(f);
}

static void setting_in_man_page(const char *key, const char *value, void *arg)
{
    (void)value;
    man_keys *m = arg;
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->key[i], key) == 0) {
            m->seen[i] = 1;
            return;
        }
    fail_msg("docs/gatehouse.yaml.5 does not describe the setting '%s'", key);
}

/* gatehouse.yaml(5) describes every setting of the table, and nothing
 * that is not one. */
static void man_page_matches_settings(void **state)
{
    (void)state;
    man_keys m = { .n = 0 };
    man_page_read(&m);
    config_each_setting(setting_in_man_page, &m);
    for (int i = 0; i < m.n; i++)
        if (!m.seen[i])
            fail_msg("docs/gatehouse.yaml.5 describes '%s', which is no setting", m.key[i]);
}

static void empty_means_defaults(void **state)
{
    (void)state;
    static const char *const empties[] = {
        "", "\n", "# only a comment\n", "---\n", "---\n...\n", "~\n", "null\n",
        "server:\nlog:\npaths:\nstorage:\nkv:\nplugins:\n",
        "server: {}\nlog: {}\npaths: {}\nstorage: {}\nplugins: []\n",
        "server:\n  threads: ~\n  listen:\n  cors:\n    allowed_methods: null\n",
        "tokens:\nauth:\nbootstrap:\n",
        "tokens: {}\nauth: {password: {argon2: {}}, lockout: {}}\nbootstrap: {}\n",
        "tokens:\n  algorithm: ~\n  hs256_secret:\nbootstrap:\n  admin_email: null\n",
    };
    for (size_t i = 0; i < sizeof empties / sizeof *empties; i++) {
        gh_config *cfg = load_ok(empties[i]);
        assert_defaults(cfg);
        assert_non_null(cfg->root);
        assert_int_equal(cfg->root->type, GH_NODE_MAP);
        config_free(cfg);
    }
}

static void every_key(void **state)
{
    (void)state;
    const char *top = getenv("top_srcdir");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/tests/configs/full.yaml", top ? top : ".");
    gh_config *cfg = config_load(path, err, sizeof err);
    if (!cfg)
        fail_msg("%s", err);

    assert_int_equal(cfg->n_listen, 3);
    assert_string_equal(cfg->listen[0].host, "0.0.0.0");
    assert_int_equal(cfg->listen[0].port, 80);
    assert_string_equal(cfg->listen[1].host, "::");
    assert_int_equal(cfg->listen[1].port, 443);
    assert_null(cfg->listen[2].host);
    assert_int_equal(cfg->listen[2].port, 9000);
    assert_int_equal(cfg->listen[2].where->line, 6);
    assert_int_equal(cfg->threads, 4);
    assert_int_equal(cfg->workers, 16);
    assert_int_equal(cfg->queue_size, 5000);
    assert_int_equal(cfg->max_body_size, 1024 * 1024);
    assert_int_equal(cfg->max_header_size, 8 * 1024);
    assert_int_equal(cfg->max_json_depth, 64);
    assert_int_equal(cfg->request_timeout_ms, 5000);
    assert_int_equal(cfg->shutdown_timeout_ms, 250);
    assert_string_equal(cfg->public_url, "https://auth.example.com");
    assert_int_equal(cfg->hsts, 1);
    assert_int_equal(cfg->n_cors_origins, 2);
    assert_string_equal(cfg->cors_origins[0], "https://app.example.com");
    assert_string_equal(cfg->cors_origins[1], "http://localhost:3000");
    assert_string_equal(cfg->cors_methods, "GET, POST");
    assert_string_equal(cfg->cors_headers, "Content-Type");
    assert_int_equal(cfg->cors_credentials, 1);
    assert_int_equal(cfg->cors_max_age_s, 3600);
    assert_string_equal(cfg->metrics_token, "scraper-token-0123456789");
    assert_int_equal(cfg->metrics_public, 0);
    assert_int_equal(cfg->proxies.n, 3);
    assert_int_equal(cfg->proxies.header, CLIENT_IP_HDR_FORWARDED);
    assert_true(client_ip_trusted(&cfg->proxies, "10.200.0.1"));
    assert_true(client_ip_trusted(&cfg->proxies, "2001:db8::9"));
    assert_true(client_ip_trusted(&cfg->proxies, "192.0.2.7"));
    assert_false(client_ip_trusted(&cfg->proxies, "192.0.2.8"));
    assert_int_equal(cfg->n_oauth_redirects, 2);
    assert_string_equal(cfg->oauth_redirects[1], "http://localhost:3000/cb?x=1");
    assert_int_equal(cfg->oauth_link_verified, 1);
    assert_string_equal(cfg->webhooks.name, "webhook");
    assert_int_equal(cfg->webhooks_retry.max_attempts, 5);
    assert_int_equal(cfg->webhooks_retry.retry_delay_ms, 1000);
    assert_int_equal(cfg->webhooks_retry.retry_max_delay_ms, 60000);
    assert_int_equal(cfg->webhooks_retry.send_timeout_ms, 3000);
    assert_int_equal(cfg->webhooks_disable_after, 7);
    assert_int_equal(cfg->webhooks_poll_ms, 250);
    assert_int_equal(cfg->webhooks_allow_private, 1);
    assert_int_equal(cfg->webhooks_allow_http, 1);
    assert_int_equal(cfg->onboarding_public, 1);
    assert_string_equal(cfg->onboarding_cloud.name, "oci");
    assert_int_equal(cfg->onboarding_retry.max_attempts, 3);
    assert_int_equal(cfg->onboarding_retry.retry_delay_ms, 500);
    assert_int_equal(cfg->onboarding_retry.retry_max_delay_ms, 10000);
    assert_int_equal(cfg->onboarding_keep, 1);
    assert_int_equal(cfg->onboarding_lease_ms, 30000);
    assert_int_equal(cfg->onboarding_poll_ms, 1000);
    assert_int_equal(cfg->log_level, GH_LOG_DEBUG);
    assert_int_equal(cfg->log_json, 1);
    assert_int_equal(cfg->log_syslog, 1);
    assert_int_equal(cfg->access_log, 0);
    assert_string_equal(cfg->state_dir, "/var/lib/gatehouse");
    assert_string_equal(cfg->plugin_dir, "/opt/gatehouse/plugins");
    assert_string_equal(cfg->data_dir, "/opt/gatehouse/share");

    assert_string_equal(cfg->storage.name, "postgres");
    assert_string_equal(cfg_get(cfg->storage.options, "dsn")->value, "postgresql://db/gatehouse");
    assert_string_equal(cfg->kv.name, "redis");
    assert_int_equal(cfg->kv.where->line, 47);
    assert_int_equal(cfg->kv.where->col, 14);
    assert_null(cfg->kv.options);

    assert_int_equal(cfg->n_plugins, 4);
    assert_string_equal(cfg->plugins[2].name, "webhook");
    assert_string_equal(cfg->plugins[3].name, "oci");
    assert_string_equal(cfg_get(cfg->plugins[3].options, "region")->value, "us-ashburn-1");
    assert_string_equal(cfg->plugins[0].name, "google");
    const gh_node *scopes = cfg_get(cfg->plugins[0].options, "scopes");
    assert_non_null(scopes);
    assert_int_equal(scopes->type, GH_NODE_SEQ);
    assert_int_equal(scopes->n, 2);
    assert_string_equal(scopes->child->next->value, "email");
    assert_string_equal(cfg->plugins[1].name, "totp");
    assert_null(cfg->plugins[1].options);

    assert_string_equal(cfg->tokens.issuer, "https://issuer.example.com/realm");
    assert_string_equal(cfg->tokens.audience, "api.example.com");
    assert_int_equal(cfg->token_alg, GH_ALG_HS256);
    assert_int_equal(cfg->access_ttl_ms, 5 * 60 * 1000);
    assert_int_equal(cfg->refresh_ttl_ms, 7 * 86400 * 1000);
    assert_int_equal(cfg->refresh_idle_ms, 2 * 86400 * 1000);
    assert_string_equal(cfg->keys_dir, "/etc/gatehouse/keys");
    assert_string_equal(cfg->hs256_secret, "uV3nE8qLz5Rk1Wd7Xa4Tc9Mh2Gp6Yj0B!");

    assert_int_equal(cfg->allow_signup, 0);
    assert_int_equal(cfg->require_verified_email, 1);
    assert_int_equal(cfg->pw.min_length, 12);
    assert_int_equal(cfg->pw.max_length, 256);
    assert_int_equal(cfg->pw.require_upper, 1);
    assert_int_equal(cfg->pw.require_lower, 1);
    assert_int_equal(cfg->pw.require_digit, 1);
    assert_int_equal(cfg->pw.require_special, 1);
    assert_int_equal(cfg->pw.check_common, 0);
    assert_int_equal(cfg->argon2.memory_kib, 65536);
    assert_int_equal(cfg->argon2.iterations, 3);
    assert_int_equal(cfg->argon2.parallelism, 4);
    assert_int_equal(cfg->lockout.account_failures, 10);
    assert_int_equal(cfg->lockout.base_delay_ms, 30 * 1000);
    assert_int_equal(cfg->lockout.max_delay_ms, 3600 * 1000);
    assert_int_equal(cfg->lockout.window_ms, 86400 * 1000);
    assert_int_equal(cfg->lockout.ip_failures, 500);
    assert_int_equal(cfg->lockout.ip_window_ms, 5 * 60 * 1000);
    assert_int_equal(cfg->mfa.token_ttl_ms, 10 * 60 * 1000);
    assert_int_equal(cfg->mfa.token_tries, 3);
    assert_int_equal(cfg->mfa.sms_code_ttl_ms, 2 * 60 * 1000);
    assert_int_equal(cfg->mfa.sms_code_tries, 4);
    assert_int_equal(cfg->mfa.sms_send_limit, 2);
    assert_int_equal(cfg->mfa.sms_verify_limit, 6);
    assert_int_equal(cfg->mfa.recent_signin_ms, 90 * 1000);

    assert_string_equal(cfg->bootstrap_admin_email, "root@example.com");
    assert_string_equal(cfg->bootstrap_admin_password, "correct horse battery staple");

    /* a list replaces the built-in limits */
    assert_int_equal(cfg->rate_limits.n, 1);
    const gh_rate_limit *rl = &cfg->rate_limits.v[0];
    assert_string_equal(rl->name, "reads");
    assert_int_equal(rl->n_routes, 3);
    assert_int_equal(rl->routes[0].methods, GH_GET);
    assert_int_equal(rl->routes[1].methods, GH_GET | GH_HEAD);
    assert_string_equal(rl->routes[1].pattern, "/api/v1/users/{id}");
    assert_int_equal(rl->routes[1].prefix, 0);
    assert_int_equal(rl->routes[2].methods, 0);
    assert_string_equal(rl->routes[2].pattern, "/api/v1/roles/");
    assert_int_equal(rl->routes[2].prefix, 1);
    assert_int_equal(rl->key, RL_KEY_KEY);
    assert_int_equal(rl->algorithm, RL_TOKEN_BUCKET);
    assert_int_equal(rl->limit, 100);
    assert_int_equal(rl->window_ms, 60000);
    assert_int_equal(rl->burst, 20);
    assert_int_equal(rl->fail_closed, 1);
    config_free(cfg);
}

/* rate_limits: as a map, each name changes a built-in limit (its other
 * fields kept), drops it, or adds one; [] drops them all. */
static void rate_limit_forms(void **state)
{
    (void)state;
    gh_config *cfg = load_ok("rate_limits:\n"
                             "  login: { limit: 10, window: 30s }\n"
                             "  sms_send: false\n"
                             "  webhooks: { enabled: false }\n"
                             "  everything: { routes: \"*\", key: user, limit: 1000 }\n");
    assert_int_equal(cfg->rate_limits.n, 7);
    const gh_rate_limit *login = &cfg->rate_limits.v[1];
    assert_string_equal(login->name, "login");
    assert_int_equal(login->limit, 10);
    assert_int_equal(login->window_ms, 30000);
    assert_string_equal(login->routes[0].pattern, "/api/v1/auth/login");
    assert_int_equal(login->fail_closed, 1);
    for (size_t i = 0; i < cfg->rate_limits.n; i++) {
        assert_string_not_equal(cfg->rate_limits.v[i].name, "sms_send");
        assert_string_not_equal(cfg->rate_limits.v[i].name, "webhooks");
    }
    const gh_rate_limit *all = &cfg->rate_limits.v[cfg->rate_limits.n - 1];
    assert_string_equal(all->name, "everything");
    assert_string_equal(all->routes[0].pattern, "/");
    assert_int_equal(all->routes[0].prefix, 1);
    assert_int_equal(all->key, RL_KEY_USER);
    assert_int_equal(all->window_ms, 60000); /* a minute unless said */
    config_free(cfg);

    cfg = load_ok("rate_limits: []\n");
    assert_int_equal(cfg->rate_limits.n, 0);
    config_free(cfg);
}

static void rate_limit_errors(void **state)
{
    (void)state;
    static const struct { const char *yaml, *want; } cases[] = {
        { "rate_limits:\n  x: { routes: /a, limit: 1, key: cookie }\n",
          "2:35: rate_limits.x.key: expected ip, user, key or client" },
        { "rate_limits:\n  login: { window: 500ms }\n",
          "2:20: rate_limits.login.window: expected a duration in 1s..1d" },
        { "rate_limits:\n  login: { window: soon }\n",
          "2:20: rate_limits.login.window: expected a duration in 1s..1d" },
        { "rate_limits:\n  login: { window: 2d }\n",
          "2:20: rate_limits.login.window: expected a duration in 1s..1d" },
        { "rate_limits:\n  login: { algorithm: leaky }\n",
          "2:23: rate_limits.login.algorithm: expected sliding_window or token_bucket" },
        { "rate_limits:\n  login: { limit: 0 }\n",
          "2:19: rate_limits.login.limit: expected an integer in 1..1000000000" },
        { "rate_limits:\n  login: { burst: 9 }\n",
          "2:19: rate_limits.login.burst: only a token_bucket has one" },
        { "rate_limits:\n  login: { on_kv_error: maybe }\n",
          "2:25: rate_limits.login.on_kv_error: expected open or closed" },
        { "rate_limits:\n  login: { routes: \"FETCH /a\" }\n",
          "2:20: rate_limits.login.routes: unknown method" },
        { "rate_limits:\n  login: { routes: \"/a/*/b\" }\n",
          "2:20: rate_limits.login.routes: '*' may only end a path, after a '/'" },
        { "rate_limits:\n  login: { rate: 5 }\n",
          "2:12: unknown key 'rate' in 'rate_limits.login'" },
        { "rate_limits:\n  x: { limit: 1 }\n",
          "2:6: rate_limits.x: needs routes and limit" },
        { "rate_limits:\n  x: false\n",
          "2:6: rate_limits.x: no built-in limit has that name" },
        { "rate_limits:\n  Login: { limit: 1 }\n",
          "2:3: rate_limits.Login: a limit's name is 1 to 32 of a-z, 0-9, '_' and '-'" },
        { "rate_limits:\n  - { routes: /a, limit: 1 }\n",
          "2:5: rate_limits[0].name: required, 1 to 32 of a-z, 0-9, '_' and '-'" },
        { "rate_limits:\n  - { name: a, routes: /a, limit: 1 }\n  - { name: a, routes: /b, limit: 1 }\n",
          "3:13: rate_limits[1].name: 'a' is listed twice" },
        { "rate_limits: 5\n", "1:14: rate_limits: expected a list or a map of limits" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        expect_error(cases[i].yaml, cases[i].want);
}

static void log_choices(void **state)
{
    (void)state;
    static const struct { const char *name; int level; } levels[] = {
        { "debug", GH_LOG_DEBUG }, { "info", GH_LOG_INFO }, { "notice", GH_LOG_NOTICE },
        { "warning", GH_LOG_WARNING }, { "error", GH_LOG_ERROR }, { "WARNING", GH_LOG_WARNING },
    };
    char yaml[128];
    for (size_t i = 0; i < sizeof levels / sizeof *levels; i++) {
        snprintf(yaml, sizeof yaml, "log:\n  level: %s\n", levels[i].name);
        gh_config *cfg = load_ok(yaml);
        assert_int_equal(cfg->log_level, levels[i].level);
        config_free(cfg);
    }
    gh_config *cfg = load_ok("log: {format: json, output: stderr, access_log: off}\n");
    assert_int_equal(cfg->log_json, 1);
    assert_int_equal(cfg->log_syslog, 0);
    assert_int_equal(cfg->access_log, 0);
    config_free(cfg);
}

static void plugin_blocks(void **state)
{
    (void)state;
    gh_config *cfg = load_ok("storage:\n  options:\n    path: /tmp/x.db\n"
                             "kv:\n  plugin: sqlite\n"
                             "plugins:\n  - name: a_b-1\n  - {name: oidc, options: {issuer: x}}\n");
    /* plugin: left out of storage: still sqlite, with the options given */
    assert_string_equal(cfg->storage.name, "sqlite");
    assert_int_equal(cfg->storage.where->line, 2); /* the block: no plugin: to point at */
    assert_string_equal(cfg_get(cfg->storage.options, "path")->value, "/tmp/x.db");
    assert_string_equal(cfg->kv.name, "sqlite");
    assert_int_equal(cfg->n_plugins, 2);
    assert_string_equal(cfg->plugins[0].name, "a_b-1");
    assert_null(cfg->plugins[0].options);
    assert_int_equal(cfg->plugins[0].where->line, 7);
    assert_int_equal(cfg->plugins[0].where->col, 11);
    assert_string_equal(cfg->plugins[1].name, "oidc");
    assert_string_equal(cfg_get(cfg->plugins[1].options, "issuer")->value, "x");
    config_free(cfg);

    /* Options are the plugin's business: any keys, any depth. */
    cfg = load_ok("storage:\n  plugin: x\n  options:\n    anything: [1, {a: b}]\n    nested: {deep: {er: 1}}\n");
    assert_string_equal(cfg->storage.name, "x");
    assert_int_equal(cfg->storage.options->n, 2);
    config_free(cfg);

    /* a null options: is no options */
    cfg = load_ok("storage:\n  plugin: x\n  options:\n");
    assert_null(cfg->storage.options);
    config_free(cfg);
}

static void public_url_forms(void **state)
{
    (void)state;
    gh_config *cfg = load_ok("server:\n  public_url: https://a.example/auth/\n");
    assert_string_equal(cfg->public_url, "https://a.example/auth");
    assert_int_equal(cfg->hsts, 1);
    config_free(cfg);
    cfg = load_ok("server:\n  public_url: http://10.0.0.1:9000\n");
    assert_string_equal(cfg->public_url, "http://10.0.0.1:9000");
    assert_int_equal(cfg->hsts, 0);
    config_free(cfg);
}

static void cors_forms(void **state)
{
    (void)state;
    gh_config *cfg = load_ok("server:\n  cors:\n"
                             "    allowed_origins: ['*', HTTPS://App.Example.COM:8443, 'http://[::1]:3000']\n"
                             "    allowed_methods: [GET]\n    allowed_headers: []\n    max_age: 90s\n");
    assert_int_equal(cfg->n_cors_origins, 3);
    assert_string_equal(cfg->cors_origins[0], "*");
    /* browsers send origins lowercased: stored that way */
    assert_string_equal(cfg->cors_origins[1], "https://app.example.com:8443");
    assert_string_equal(cfg->cors_origins[2], "http://[::1]:3000");
    assert_string_equal(cfg->cors_methods, "GET");
    assert_string_equal(cfg->cors_headers, "");
    assert_int_equal(cfg->cors_max_age_s, 90);
    config_free(cfg);

    /* credentials are fine with named origins */
    cfg = load_ok("server:\n  cors:\n    allowed_origins: [https://a.example]\n    allow_credentials: yes\n");
    assert_int_equal(cfg->cors_credentials, 1);
    config_free(cfg);
}

static void metrics_forms(void **state)
{
    (void)state;
    gh_config *cfg = load_ok("server:\n  metrics: { public: yes }\n");
    assert_int_equal(cfg->metrics_public, 1);
    assert_null(cfg->metrics_token);
    config_free(cfg);

    expect_error("server:\n  metrics:\n    token: short-kQ9vZ2x\n",
                 "3:12: server.metrics.token: at least 16 characters (openssl rand -hex 32 "
                 "makes one)");
    assert_null(strstr(err, "kQ9vZ2x"));
    expect_error("server:\n  metrics:\n    token: 0123456789abcdef\n    public: true\n",
                 "4:13: server.metrics.public: true and a token: choose one");
}

/* ------------------------------------------------------------ tokens, auth, bootstrap */

/* Fixture secrets say SECRET; no message may. 32 and 31 bytes: */
#define SECRET32 "kQ9vZ2xR7mLp4Tn8Wc3Yb6Hd1Fs5Jg0E"
#define SECRET31 "kQ9vZ2xR7mLp4Tn8Wc3Yb6Hd1Fs5Jg0"

/* expect_error, and the message quotes no secret */
static void expect_secret_error(const char *yaml, const char *want)
{
    expect_error(yaml, want);
    assert_null(strstr(err, "kQ9vZ2xR7m"));
}

/* A secret refused as no key: the message starts with want, tells how to
 * make a key, and never quotes the secret (shown: its first 12 bytes). */
static void expect_weak_secret(const char *secret, const char *want)
{
    char yaml[256], full[PATH_MAX + 512], head[13];
    snprintf(yaml, sizeof yaml, "tokens:\n  algorithm: HS256\n  hs256_secret: %s\n", secret);
    gh_config *cfg = load_text(yaml);
    if (cfg) {
        config_free(cfg);
        fail_msg("no error for:\n%s", yaml);
    }
    snprintf(full, sizeof full, "%s:3:17: tokens.hs256_secret: %s", last_path, want);
    assert_memory_equal(err, full, strlen(full));
    assert_non_null(strstr(err, "openssl rand -base64 32"));
    snprintf(head, sizeof head, "%s", secret);
    assert_null(strstr(err, head));
}

/* A secret file in tmpdir holding text; its path goes in `path`. */
static void secret_file(char *path, size_t len, const char *text)
{
    snprintf(path, len, "%s", write_text(text));
}

static void token_forms(void **state)
{
    (void)state;
    /* the issuer follows public_url, after its slash is stripped */
    gh_config *cfg = load_ok("server:\n  public_url: https://a.example/auth/\n");
    assert_string_equal(cfg->tokens.issuer, "https://a.example/auth");
    config_free(cfg);
    /* ...unless given: then it is taken exactly, as `iss` is compared exactly */
    cfg = load_ok("server:\n  public_url: https://a.example/\ntokens:\n  issuer: https://b.example/\n");
    assert_string_equal(cfg->public_url, "https://a.example");
    assert_string_equal(cfg->tokens.issuer, "https://b.example/");
    config_free(cfg);

    static const struct { const char *name; int alg; } algs[] = {
        { "ES256", GH_ALG_ES256 }, { "RS256", GH_ALG_RS256 }, { "'ES256'", GH_ALG_ES256 },
    };
    char yaml[128];
    for (size_t i = 0; i < sizeof algs / sizeof *algs; i++) {
        snprintf(yaml, sizeof yaml, "tokens:\n  algorithm: %s\n", algs[i].name);
        cfg = load_ok(yaml);
        assert_int_equal(cfg->token_alg, algs[i].alg);
        assert_null(cfg->hs256_secret);
        config_free(cfg);
    }

    /* the edges of each range are inside it */
    cfg = load_ok("tokens: {access_ttl: 30s, refresh_ttl: 1m, keys_dir: k2}\n");
    assert_int_equal(cfg->access_ttl_ms, 30000);
    assert_int_equal(cfg->refresh_ttl_ms, 60000);
    assert_string_equal(cfg->keys_dir, "k2");
    config_free(cfg);
    cfg = load_ok("tokens: {access_ttl: 24h, refresh_ttl: 365d}\n");
    assert_int_equal(cfg->access_ttl_ms, 86400000);
    assert_true(cfg->refresh_ttl_ms == 365LL * 86400000);
    config_free(cfg);
}

static void hs256_secret_rules(void **state)
{
    (void)state;
    char yaml[PATH_MAX + 128], want[PATH_MAX + 256], path[PATH_MAX];

    /* inline, exactly 32 bytes */
    gh_config *cfg = load_ok("tokens:\n  algorithm: HS256\n  hs256_secret: " SECRET32 "\n");
    assert_int_equal(cfg->token_alg, GH_ALG_HS256);
    assert_string_equal(cfg->hs256_secret, SECRET32);
    config_free(cfg);

    /* from the environment */
    setenv("GH_TEST_SECRET", SECRET32, 1);
    cfg = load_ok("tokens:\n  algorithm: HS256\n  hs256_secret: ${GH_TEST_SECRET}\n");
    assert_string_equal(cfg->hs256_secret, SECRET32);
    config_free(cfg);
    unsetenv("GH_TEST_SECRET");

    /* from a file, its newline dropped; the order of the keys does not matter */
    secret_file(path, sizeof path, SECRET32 "\n");
    snprintf(yaml, sizeof yaml, "tokens:\n  hs256_secret_file: %s\n  algorithm: HS256\n", path);
    cfg = load_ok(yaml);
    assert_string_equal(cfg->hs256_secret, SECRET32);
    config_free(cfg);

    /* HS256 without a secret, or with a short one */
    expect_secret_error("tokens:\n  algorithm: HS256\n",
                        "2:14: tokens.algorithm: HS256 needs tokens.hs256_secret or "
                        "tokens.hs256_secret_file");
    expect_secret_error("tokens:\n  algorithm: HS256\n  hs256_secret: " SECRET31 "\n",
                        "3:17: tokens.hs256_secret: HS256 needs a secret of at least 32 bytes; make one "
                        "with `openssl rand -base64 32`");
    secret_file(path, sizeof path, SECRET31 "\n");
    snprintf(yaml, sizeof yaml, "tokens:\n  algorithm: HS256\n  hs256_secret_file: %s\n", path);
    expect_secret_error(yaml, "3:22: tokens.hs256_secret_file: HS256 needs a secret of at least 32 "
                              "bytes; make one with `openssl rand -base64 32`");

    /* long enough, but a password, a repeat, a sequence or a phrase: not a
     * key (RFC 8725 3.5) */
    static const char *const weak[] = {
        "passwordpasswordpasswordpassword", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "0123456789abcdef0123456789abcdef", "qwertyuiopasdfghjklzxcvbnm123456",
        "ThisIsMyVerySecretKeyForSigningJWTs2024", "my dog likes to eat pizza on tuesdays and fridays",
        "the quick brown fox jumps over the lazy dog",
    };
    for (size_t i = 0; i < sizeof weak / sizeof weak[0]; i++)
        expect_weak_secret(weak[i], "the secret looks like a password or a phrase");
    expect_weak_secret("short", "HS256 needs a secret of at least 32 bytes");

    /* a secret with another algorithm, chosen or by default */
    expect_secret_error("tokens:\n  hs256_secret: " SECRET32 "\n",
                        "2:17: tokens.hs256_secret: only used with algorithm HS256, not ES256 (the default)");
    secret_file(path, sizeof path, SECRET32);
    snprintf(yaml, sizeof yaml, "tokens:\n  algorithm: RS256\n  hs256_secret_file: %s\n", path);
    expect_secret_error(yaml, "3:22: tokens.hs256_secret_file: only used with algorithm HS256, not RS256");

    /* both forms: at the second, whichever it is */
    snprintf(yaml, sizeof yaml, "tokens:\n  algorithm: HS256\n  hs256_secret: " SECRET32
             "\n  hs256_secret_file: %s\n", path);
    expect_secret_error(yaml, "4:22: tokens.hs256_secret_file: give either hs256_secret or "
                              "hs256_secret_file, not both");
    snprintf(yaml, sizeof yaml, "tokens:\n  hs256_secret_file: %s\n  algorithm: HS256\n"
             "  hs256_secret: " SECRET32 "\n", path);
    expect_secret_error(yaml, "4:17: tokens.hs256_secret: give either hs256_secret or "
                              "hs256_secret_file, not both");

    /* the file: missing, empty */
    snprintf(path, sizeof path, "%s/no-such-secret", tmpdir);
    snprintf(yaml, sizeof yaml, "tokens:\n  algorithm: HS256\n  hs256_secret_file: %s\n", path);
    snprintf(want, sizeof want, "3:22: tokens.hs256_secret_file: %s: cannot open: No such file or directory", path);
    expect_secret_error(yaml, want);
    secret_file(path, sizeof path, "\n");
    snprintf(yaml, sizeof yaml, "tokens:\n  algorithm: HS256\n  hs256_secret_file: %s\n", path);
    snprintf(want, sizeof want, "3:22: tokens.hs256_secret_file: %s: secret file is empty", path);
    expect_secret_error(yaml, want);
    expect_secret_error("tokens:\n  hs256_secret_file: ''\n",
                        "2:22: tokens.hs256_secret_file: must not be empty");

    /* bad values: named, never quoted */
    expect_secret_error("tokens:\n  hs256_secret: [" SECRET32 "]\n",
                        "2:17: tokens.hs256_secret: expected a string, got a list");
    expect_secret_error("tokens:\n  hs256_secret: ''\n", "2:17: tokens.hs256_secret: must not be empty");
    expect_secret_error("tokens:\n  hs256_secret: \"${SECRET x}\"\n",
                        "2:17: tokens.hs256_secret: bad '${...}': expected ${NAME} or ${NAME:-default}");
    expect_secret_error("bootstrap:\n  admin_password: SECRET${1SECRET}\n",
                        "2:19: bootstrap.admin_password: bad '${...}': expected ${NAME} or ${NAME:-default}");
    /* a file name is no secret: quoted as any other value */
    expect_error("tokens:\n  hs256_secret_file: a${x y}\n",
                 "2:22: tokens.hs256_secret_file: bad '${x y}': expected ${NAME} or ${NAME:-default}");
}

static void bootstrap_pairing(void **state)
{
    (void)state;
    char yaml[PATH_MAX + 128], path[PATH_MAX];

    gh_config *cfg = load_ok("bootstrap:\n  admin_email: Admin@Example.com\n  admin_password: SECRET-pw\n");
    assert_string_equal(cfg->bootstrap_admin_email, "Admin@Example.com"); /* accounts normalise */
    assert_string_equal(cfg->bootstrap_admin_password, "SECRET-pw");
    config_free(cfg);

    secret_file(path, sizeof path, "SECRET-from-file\n");
    snprintf(yaml, sizeof yaml, "bootstrap:\n  admin_password_file: %s\n  admin_email: a@b\n", path);
    cfg = load_ok(yaml);
    assert_string_equal(cfg->bootstrap_admin_email, "a@b");
    assert_string_equal(cfg->bootstrap_admin_password, "SECRET-from-file");
    config_free(cfg);

    /* one without the other */
    expect_secret_error("bootstrap:\n  admin_email: a@b\n",
                        "2:16: bootstrap.admin_email: needs bootstrap.admin_password or "
                        "bootstrap.admin_password_file");
    expect_secret_error("bootstrap:\n  admin_email: a@b\n  admin_password:\n",
                        "2:16: bootstrap.admin_email: needs bootstrap.admin_password or "
                        "bootstrap.admin_password_file");
    expect_secret_error("bootstrap:\n  admin_password: SECRET\n",
                        "2:19: bootstrap.admin_password: needs bootstrap.admin_email");
    snprintf(yaml, sizeof yaml, "bootstrap:\n  admin_email: ~\n  admin_password_file: %s\n", path);
    expect_secret_error(yaml, "3:24: bootstrap.admin_password_file: needs bootstrap.admin_email");

    /* both password forms */
    snprintf(yaml, sizeof yaml, "bootstrap:\n  admin_email: a@b\n  admin_password: SECRET\n"
             "  admin_password_file: %s\n", path);
    expect_secret_error(yaml, "4:24: bootstrap.admin_password_file: give either admin_password "
                              "or admin_password_file, not both");

    /* the address: only its shape is checked here */
    static const char *const bad[] = { "nobody", "'@example.com'", "a@", "'a b@c'", "[a@b]" };
    static const char *const why[] = {
        "2:16: bootstrap.admin_email: expected an email address, got 'nobody'",
        "2:16: bootstrap.admin_email: expected an email address, got '@example.com'",
        "2:16: bootstrap.admin_email: expected an email address, got 'a@'",
        "2:16: bootstrap.admin_email: expected an email address, got 'a b@c'",
        "2:16: bootstrap.admin_email: expected an email address, got a list",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(yaml, sizeof yaml, "bootstrap:\n  admin_email: %s\n  admin_password: SECRET\n",
                 bad[i]);
        expect_secret_error(yaml, why[i]);
    }
}

static void auth_forms(void **state)
{
    (void)state;
    /* every range's edges are inside it; equal delays are fine */
    gh_config *cfg = load_ok("auth:\n"
                             "  password:\n"
                             "    min_length: 1\n"
                             "    max_length: 64\n"
                             "    argon2: {memory_kib: 1024, iterations: 1, parallelism: 64}\n"
                             "  lockout:\n"
                             "    account_failures: 1\n"
                             "    base_delay: 1s\n"
                             "    max_delay: 1s\n"
                             "    window: 1m\n"
                             "    ip_failures: 1\n"
                             "    ip_window: 1s\n");
    assert_int_equal(cfg->pw.min_length, 1);
    assert_int_equal(cfg->pw.max_length, 64);
    assert_int_equal(cfg->argon2.memory_kib, 1024);
    assert_int_equal(cfg->argon2.iterations, 1);
    assert_int_equal(cfg->argon2.parallelism, 64);
    assert_int_equal(cfg->lockout.account_failures, 1);
    assert_int_equal(cfg->lockout.base_delay_ms, 1000);
    assert_int_equal(cfg->lockout.max_delay_ms, 1000);
    assert_int_equal(cfg->lockout.window_ms, 60000);
    assert_int_equal(cfg->lockout.ip_failures, 1);
    assert_int_equal(cfg->lockout.ip_window_ms, 1000);
    config_free(cfg);

    cfg = load_ok("auth:\n"
                  "  password:\n"
                  "    min_length: 1024\n"
                  "    max_length: 4096\n"
                  "    argon2: {memory_kib: 4194304, iterations: 100, parallelism: 1}\n"
                  "  lockout:\n"
                  "    account_failures: 1000\n"
                  "    base_delay: 1d\n"
                  "    max_delay: 1d\n"
                  "    window: 365d\n"
                  "    ip_failures: 1000000\n"
                  "    ip_window: 1d\n");
    assert_int_equal(cfg->pw.min_length, 1024);
    assert_int_equal(cfg->pw.max_length, 4096);
    assert_int_equal(cfg->argon2.memory_kib, 4194304);
    assert_int_equal(cfg->argon2.iterations, 100);
    assert_int_equal(cfg->lockout.account_failures, 1000);
    assert_int_equal(cfg->lockout.base_delay_ms, 86400000);
    assert_true(cfg->lockout.window_ms == 365LL * 86400000);
    assert_int_equal(cfg->lockout.ip_failures, 1000000);
    config_free(cfg);

    /* min_length may equal max_length */
    cfg = load_ok("auth: {password: {min_length: 100, max_length: 100}}\n");
    assert_int_equal(cfg->pw.min_length, 100);
    config_free(cfg);
}

static void auth_token_errors(void **state)
{
    (void)state;
    static const struct { const char *yaml, *want; } cases[] = {
        /* tokens */
        { "tokens:\n  algorithm: es256\n",
          "2:14: tokens.algorithm: expected one of ES256, RS256, HS256, got 'es256'" },
        { "tokens:\n  algorithm: none\n",
          "2:14: tokens.algorithm: expected one of ES256, RS256, HS256, got 'none'" },
        { "tokens:\n  access_ttl: 29s\n", "2:15: tokens.access_ttl: 29s is out of range 30s..1d" },
        { "tokens:\n  access_ttl: 25h\n", "2:15: tokens.access_ttl: 25h is out of range 30s..1d" },
        { "tokens:\n  refresh_ttl: 59s\n", "2:16: tokens.refresh_ttl: 59s is out of range 1m..365d" },
        { "tokens:\n  refresh_ttl: 366d\n", "2:16: tokens.refresh_ttl: 366d is out of range 1m..365d" },
        { "tokens:\n  refresh_ttl: forever\n",
          "2:16: tokens.refresh_ttl: expected a duration (250ms, 30s, 5m, 1h, 7d), got 'forever'" },
        { "tokens:\n  issuer: ''\n", "2:11: tokens.issuer: must not be empty" },
        { "tokens:\n  audience: [a, b]\n", "2:13: tokens.audience: expected a string, got a list" },
        { "tokens:\n  keys_dir: {}\n", "2:13: tokens.keys_dir: expected a string, got a map" },
        { "tokens:\n  kid: x\n", "2:3: unknown key 'kid' in 'tokens'" },
        { "tokens: ES256\n", "1:9: tokens: expected a map, got 'ES256'" },
        /* auth */
        { "auth:\n  allow_signup: 1\n",
          "2:17: auth.allow_signup: expected a boolean (true/false, yes/no, on/off), got '1'" },
        { "auth:\n  require_verified_email: 'yes'\n",
          "2:27: auth.require_verified_email: expected a boolean (true/false, yes/no, on/off), "
          "got the quoted string 'yes'" },
        { "auth:\n  signup: true\n", "2:3: unknown key 'signup' in 'auth'" },
        { "auth:\n  password: 8\n", "2:13: auth.password: expected a map, got '8'" },
        { "auth:\n  password:\n    min_length: 0\n",
          "3:17: auth.password.min_length: 0 is out of range 1..1024" },
        { "auth:\n  password:\n    min_length: 1025\n",
          "3:17: auth.password.min_length: 1025 is out of range 1..1024" },
        { "auth:\n  password:\n    max_length: 63\n",
          "3:17: auth.password.max_length: 63 is out of range 64..4096" },
        { "auth:\n  password:\n    max_length: 4097\n",
          "3:17: auth.password.max_length: 4097 is out of range 64..4096" },
        { "auth:\n  password:\n    min_length: 200\n",
          "3:17: auth.password.min_length: 200 is more than max_length (128)" },
        { "auth:\n  password:\n    max_length: 100\n    min_length: 101\n",
          "4:17: auth.password.min_length: 101 is more than max_length (100)" },
        { "auth:\n  password:\n    require_upper: sometimes\n",
          "3:20: auth.password.require_upper: expected a boolean (true/false, yes/no, on/off), got 'sometimes'" },
        { "auth:\n  password:\n    require_lower: []\n",
          "3:20: auth.password.require_lower: expected a boolean (true/false, yes/no, on/off), got a list" },
        { "auth:\n  password:\n    require_digit: 2\n",
          "3:20: auth.password.require_digit: expected a boolean (true/false, yes/no, on/off), got '2'" },
        { "auth:\n  password:\n    require_special: y\n",
          "3:22: auth.password.require_special: expected a boolean (true/false, yes/no, on/off), got 'y'" },
        { "auth:\n  password:\n    check_common: \"no\"\n",
          "3:19: auth.password.check_common: expected a boolean (true/false, yes/no, on/off), "
          "got the quoted string 'no'" },
        { "auth:\n  password:\n    max: 64\n", "3:5: unknown key 'max' in 'auth.password'" },
        { "auth:\n  password:\n    argon2:\n      memory_kib: 1023\n",
          "4:19: auth.password.argon2.memory_kib: 1023 is out of range 1024..4194304" },
        { "auth:\n  password:\n    argon2:\n      memory_kib: 4194305\n",
          "4:19: auth.password.argon2.memory_kib: 4194305 is out of range 1024..4194304" },
        { "auth:\n  password:\n    argon2:\n      memory_kib: 19m\n",
          "4:19: auth.password.argon2.memory_kib: expected an integer, got '19m'" },
        { "auth:\n  password:\n    argon2:\n      iterations: 0\n",
          "4:19: auth.password.argon2.iterations: 0 is out of range 1..100" },
        { "auth:\n  password:\n    argon2:\n      iterations: 101\n",
          "4:19: auth.password.argon2.iterations: 101 is out of range 1..100" },
        { "auth:\n  password:\n    argon2:\n      parallelism: 0\n",
          "4:20: auth.password.argon2.parallelism: 0 is out of range 1..64" },
        { "auth:\n  password:\n    argon2:\n      parallelism: 65\n",
          "4:20: auth.password.argon2.parallelism: 65 is out of range 1..64" },
        { "auth:\n  password:\n    argon2:\n      parallelism: -1\n",
          "4:20: auth.password.argon2.parallelism: -1 is out of range 1..64" },
        { "auth:\n  password:\n    argon2:\n      memory: 1\n",
          "4:7: unknown key 'memory' in 'auth.password.argon2'" },
        { "webhooks:\n  max_attempts: 0\n",
          "2:17: webhooks.max_attempts: 0 is out of range 1..100" },
        { "webhooks:\n  disable_after: 100001\n",
          "2:18: webhooks.disable_after: 100001 is out of range 1..100000" },
        { "webhooks:\n  timeout: 50ms\n",
          "2:12: webhooks.timeout: 50ms is out of range 100ms..5m" },
        { "webhooks:\n  retry_delay: 1h\n  retry_max_delay: 1m\n",
          "2:16: webhooks.retry_delay: more than retry_max_delay" },
        { "webhooks:\n  plugin: nosuch\n",
          "2:11: webhooks.plugin: 'nosuch' is not in the plugins: list" },
        { "auth:\n  lockout:\n    account_failures: 0\n",
          "3:23: auth.lockout.account_failures: 0 is out of range 1..1000" },
        { "auth:\n  lockout:\n    account_failures: 1001\n",
          "3:23: auth.lockout.account_failures: 1001 is out of range 1..1000" },
        { "auth:\n  lockout:\n    base_delay: 500ms\n",
          "3:17: auth.lockout.base_delay: 500ms is out of range 1s..1d" },
        { "auth:\n  lockout:\n    max_delay: 2d\n",
          "3:16: auth.lockout.max_delay: 2d is out of range 1s..1d" },
        { "auth:\n  lockout:\n    window: 30s\n",
          "3:13: auth.lockout.window: 30s is out of range 1m..365d" },
        { "auth:\n  lockout:\n    window: 366d\n",
          "3:13: auth.lockout.window: 366d is out of range 1m..365d" },
        { "auth:\n  lockout:\n    ip_failures: 0\n",
          "3:18: auth.lockout.ip_failures: 0 is out of range 1..1000000" },
        { "auth:\n  lockout:\n    ip_failures: 1000001\n",
          "3:18: auth.lockout.ip_failures: 1000001 is out of range 1..1000000" },
        { "auth:\n  mfa:\n    sms_send_limit: 0\n",
          "3:21: auth.mfa.sms_send_limit: 0 is out of range 1..100" },
        { "auth:\n  mfa:\n    token_ttl: 2h\n",
          "3:16: auth.mfa.token_ttl: 2h is out of range 1m..1h" },
        { "auth:\n  lockout:\n    ip_window: 0\n",
          "3:16: auth.lockout.ip_window: 0 is out of range 1s..1d" },
        { "auth:\n  lockout:\n    ip_window: 2d\n",
          "3:16: auth.lockout.ip_window: 2d is out of range 1s..1d" },
        { "auth:\n  lockout:\n    ip_window: soon\n",
          "3:16: auth.lockout.ip_window: expected a duration (250ms, 30s, 5m, 1h, 7d), got 'soon'" },
        { "auth:\n  lockout:\n    base_delay: 1h\n",
          "3:17: auth.lockout.base_delay: 1h is more than max_delay (15m)" },
        { "auth:\n  lockout:\n    max_delay: 30s\n",
          "3:16: auth.lockout.max_delay: 30s is less than base_delay (1m)" },
        { "auth:\n  lockout:\n    max_delay: 5m\n    base_delay: 10m\n",
          "3:16: auth.lockout.max_delay: 5m is less than base_delay (10m)" },
        { "auth:\n  lockout:\n    delay: 1m\n", "3:5: unknown key 'delay' in 'auth.lockout'" },
        /* bootstrap */
        { "bootstrap: []\n", "1:12: bootstrap: expected a map, got a list" },
        { "bootstrap:\n  admin: x\n", "2:3: unknown key 'admin' in 'bootstrap'" },
        { "bootstrap:\n  admin_password: {a: b}\n",
          "2:19: bootstrap.admin_password: expected a string, got a map" },
        { "bootstrap:\n  admin_password_file: [a]\n",
          "2:24: bootstrap.admin_password_file: expected a file name, got a list" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        expect_error(cases[i].yaml, cases[i].want);
}

/* ------------------------------------------------------------ listen */

static void listen_forms(void **state)
{
    (void)state;
    static const struct { const char *yaml; const char *host; int port; } ok[] = {
        { "127.0.0.1:8080", "127.0.0.1", 8080 },
        { "'[::1]:8080'", "::1", 8080 },
        { "\"[fe80::1:2]:1\"", "fe80::1:2", 1 },
        { "'*:8080'", NULL, 8080 },
        { ":8080", NULL, 8080 },
        { "localhost:65535", "localhost", 65535 },
        { "127.0.0.1:0", "127.0.0.1", 0 },
        { "[\"0.0.0.0:443\"]", "0.0.0.0", 443 },
    };
    char yaml[128];
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        snprintf(yaml, sizeof yaml, "server:\n  listen: %s\n", ok[i].yaml);
        gh_config *cfg = load_ok(yaml);
        assert_int_equal(cfg->n_listen, 1);
        if (ok[i].host)
            assert_string_equal(cfg->listen[0].host, ok[i].host);
        else
            assert_null(cfg->listen[0].host);
        assert_int_equal(cfg->listen[0].port, ok[i].port);
        assert_int_equal(cfg->listen[0].where->line, 2);
        config_free(cfg);
    }

    gh_config *cfg = load_ok("server:\n  listen:\n    - 127.0.0.1:1\n    - '[::]:1'\n    - ':2'\n");
    assert_int_equal(cfg->n_listen, 3);
    assert_string_equal(cfg->listen[1].host, "::");
    assert_int_equal(cfg->listen[2].port, 2);
    assert_int_equal(cfg->listen[2].where->line, 5);
    assert_int_equal(cfg->listen[2].where->col, 7);
    config_free(cfg);

    /* the map form: an address with TLS beside a plain one */
    cfg = load_ok("server:\n  listen:\n    - 127.0.0.1:1\n"
                  "    - address: '*:2'\n      tls: { certificate: /c.pem, key: /k.pem }\n"
                  "    - { address: ':3', tls: { certificate: /c, key: /k, client_ca: /ca } }\n");
    assert_int_equal(cfg->n_listen, 3);
    assert_null(cfg->listen[0].tls_cert);
    assert_null(cfg->listen[1].host);
    assert_int_equal(cfg->listen[1].port, 2);
    assert_string_equal(cfg->listen[1].tls_cert, "/c.pem");
    assert_string_equal(cfg->listen[1].tls_key, "/k.pem");
    assert_null(cfg->listen[1].tls_client_ca);
    assert_int_equal(cfg->listen[1].where->line, 4);
    assert_string_equal(cfg->listen[2].tls_client_ca, "/ca");
    config_free(cfg);
}

static void listen_errors(void **state)
{
    (void)state;
    static const struct { const char *value, *want; } bad[] = {
        { "8080", "2:11: server.listen: bad address '8080': expected host:port, [ipv6]:port, *:port or :port" },
        { "1.2.3.4:65536", "2:11: server.listen: bad address '1.2.3.4:65536': the port must be 0..65535" },
        { "'1.2.3.4:'", "2:11: server.listen: bad address '1.2.3.4:': the port must be 0..65535" },
        { "1.2.3.4:-1", "2:11: server.listen: bad address '1.2.3.4:-1': the port must be 0..65535" },
        { "::1:80", "2:11: server.listen: bad address '::1:80': IPv6 addresses go in brackets: [::1]:port" },
        { "'[::g]:80'", "2:11: server.listen: bad address '[::g]:80': bad IPv6 address" },
        { "'[::1]80'", "2:11: server.listen: bad address '[::1]80': expected [ipv6]:port" },
        { "'a b:80'", "2:11: server.listen: bad address 'a b:80': bad host name" },
        { "[]", "2:11: server.listen: needs at least one address" },
        { "{a: b}", "2:12: unknown key 'a' in 'server.listen'" },
        { "{tls: {certificate: /c, key: /k}}", "2:11: server.listen.address is required" },
        { "{address: ~}", "2:11: server.listen.address is required" },
        { "{address: ':1', tls: {certificate: /c}}", "2:32: server.listen.tls: needs certificate and key" },
        { "{address: ':1', tls: {certificate: c, key: /k}}",
          "2:46: server.listen.tls.certificate: expected an absolute file path, got 'c'" },
        { "{address: 8080}", "2:21: server.listen.address: bad address '8080': expected host:port, [ipv6]:port, *:port or :port" },
        { "[':1', {address: ':1'}]", "2:18: server.listen: ':1' is listed twice" },
        { "[':1', ':1']", "2:18: server.listen: ':1' is listed twice" },
        { "[[a]]", "2:12: server.listen: expected an address like 127.0.0.1:8080, got a list" },
    };
    char yaml[128];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(yaml, sizeof yaml, "server:\n  listen: %s\n", bad[i].value);
        expect_error(yaml, bad[i].want);
    }
}

/* ------------------------------------------------------------ ${VAR} */

static void env_expansion(void **state)
{
    (void)state;
    setenv("GH_TEST_PORT", "9123", 1);
    setenv("GH_TEST_EMPTY", "", 1);
    unsetenv("GH_TEST_UNSET");
    gh_config *cfg = load_ok(
        "server:\n"
        "  listen: 127.0.0.1:${GH_TEST_PORT}\n"
        "  threads: ${GH_TEST_UNSET:-3}\n"
        "  workers: ${GH_TEST_EMPTY:-5}\n"        /* empty counts as unset */
        "  queue_size: ${GH_TEST_UNSET:-}\n"      /* expands to nothing: the default */
        "  public_url: \"https://h:${GH_TEST_PORT}/p$$x$y\"\n"
        "paths:\n"
        "  state_dir: ${GH_TEST_UNSET:-/a b}/$${HOME}/$\n"
        "storage:\n"
        "  options:\n"
        "    $key: ${GH_TEST_PORT}${GH_TEST_PORT}\n"
        "    empty: \"${GH_TEST_EMPTY}\"\n");
    assert_int_equal(cfg->listen[0].port, 9123);
    assert_int_equal(cfg->threads, 3);
    assert_int_equal(cfg->workers, 5);
    assert_int_equal(cfg->queue_size, 1024);
    assert_string_equal(cfg->public_url, "https://h:9123/p$x$y");
    assert_string_equal(cfg->state_dir, "/a b/${HOME}/$");
    /* keys are never expanded; values in options are */
    const gh_node *k = cfg_get(cfg->storage.options, "$key");
    assert_non_null(k);
    assert_string_equal(k->value, "91239123");
    assert_string_equal(cfg_get(cfg->storage.options, "empty")->value, "");
    assert_false(cfg_is_null(cfg_get(cfg->storage.options, "empty")));
    config_free(cfg);
    unsetenv("GH_TEST_PORT");
    unsetenv("GH_TEST_EMPTY");
}

static void env_errors(void **state)
{
    (void)state;
    unsetenv("GH_TEST_UNSET");
    expect_error("server:\n  public_url: http://${GH_TEST_UNSET}\n",
                 "2:15: server.public_url: environment variable 'GH_TEST_UNSET' is not set");
    expect_error("plugins:\n  - name: x\n    options:\n      list: [a, '${GH_TEST_UNSET}']\n",
                 "4:17: plugins[0].options.list[1]: environment variable 'GH_TEST_UNSET' is not set");
    expect_error("paths:\n  state_dir: a${HOME\n",
                 "2:14: paths.state_dir: unterminated '${' (write $$ for a literal $)");
    expect_error("paths:\n  state_dir: ${}\n",
                 "2:14: paths.state_dir: bad '${}': expected ${NAME} or ${NAME:-default}");
    expect_error("paths:\n  state_dir: ${1X}\n",
                 "2:14: paths.state_dir: bad '${1X}': expected ${NAME} or ${NAME:-default}");
    expect_error("paths:\n  state_dir: ${X:default}\n",
                 "2:14: paths.state_dir: bad '${X:default}': expected ${NAME} or ${NAME:-default}");
    expect_error("paths:\n  state_dir: ${:-x}\n",
                 "2:14: paths.state_dir: bad '${:-x}': expected ${NAME} or ${NAME:-default}");
    expect_error("paths:\n  state_dir: ${X-default}\n",
                 "2:14: paths.state_dir: bad '${X-default}': expected ${NAME} or ${NAME:-default}");
}

/* ------------------------------------------------------------ errors */

static void error_positions(void **state)
{
    (void)state;
    static const struct { const char *yaml, *want; } cases[] = {
        /* misspelt keys: at the key */
        { "server:\n  lisen: x\n", "2:3: unknown key 'lisen' in 'server'" },
        { "server:\n  cors:\n    max_agee: 1\n", "3:5: unknown key 'max_agee' in 'server.cors'" },
        { "# c\nserverr: {}\n", "2:1: unknown key 'serverr'" },
        { "plugins:\n  - name: x\n    option: {}\n", "3:5: unknown key 'option' in 'plugins[0]'" },
        { "storage:\n  name: x\n", "2:3: unknown key 'name' in 'storage'" },
        /* wrong types: at the value */
        { "server:\n  threads: abc\n", "2:12: server.threads: expected an integer, got 'abc'" },
        { "server:\n  threads: \"4\"\n",
          "2:12: server.threads: expected an integer, got the quoted string '4'" },
        { "server:\n  threads: [1]\n", "2:12: server.threads: expected an integer, got a list" },
        { "server:\n  queue_size: 1.5\n", "2:15: server.queue_size: expected an integer, got '1.5'" },
        { "server: [a]\n", "1:9: server: expected a map, got a list" },
        { "server: x\n", "1:9: server: expected a map, got 'x'" },
        { "log:\n  access_log: maybe\n",
          "2:15: log.access_log: expected a boolean (true/false, yes/no, on/off), got 'maybe'" },
        { "log:\n  access_log: 'true'\n",
          "2:15: log.access_log: expected a boolean (true/false, yes/no, on/off), got the quoted string 'true'" },
        { "log:\n  level: loud\n",
          "2:10: log.level: expected one of debug, info, notice, warning, error, got 'loud'" },
        { "log:\n  format: xml\n", "2:11: log.format: expected one of plain, json, got 'xml'" },
        { "log:\n  output: file\n", "2:11: log.output: expected one of stderr, syslog, got 'file'" },
        { "server:\n  max_body_size: 10x\n",
          "2:18: server.max_body_size: expected a size (512, 64k, 1m), got '10x'" },
        { "server:\n  request_timeout: 1.5s\n",
          "2:20: server.request_timeout: expected a duration (250ms, 30s, 5m, 1h, 7d), got '1.5s'" },
        { "server:\n  public_url: ftp://x\n",
          "2:15: server.public_url: expected an http:// or https:// URL, got 'ftp://x'" },
        { "server:\n  public_url: https://\n",
          "2:15: server.public_url: expected an http:// or https:// URL, got 'https://'" },
        { "paths:\n  state_dir: \"\"\n", "2:14: paths.state_dir: must not be empty" },
        { "paths:\n  plugin_dir: {}\n", "2:15: paths.plugin_dir: expected a string, got a map" },
        { "server:\n  trusted_proxies: 10.0.0.0/8\n",
          "2:20: server.trusted_proxies: expected a list of addresses or ranges (10.0.0.0/8), "
          "got '10.0.0.0/8'" },
        { "server:\n  trusted_proxies: [10.0.0.0/8, 10.0.0.1/8]\n",
          "2:33: server.trusted_proxies: bad address or range '10.0.0.1/8': the address has "
          "bits set after the prefix length: give the range's first address (10.0.0.0/8, not "
          "10.0.0.1/8)" },
        { "server:\n  trusted_proxies: ['::/129']\n",
          "2:21: server.trusted_proxies: bad address or range '::/129': the prefix length "
          "must be 0..128" },
        { "server:\n  trusted_proxies: [lb.example]\n",
          "2:21: server.trusted_proxies: bad address or range 'lb.example': expected an IPv4 "
          "or IPv6 address, optionally with a /prefix length" },
        { "server:\n  client_ip_header: x-real-ip\n",
          "2:21: server.client_ip_header: expected one of x-forwarded-for, forwarded, got "
          "'x-real-ip'" },
        { "server:\n  cors:\n    allowed_methods: GET\n",
          "3:22: server.cors.allowed_methods: expected a list, got 'GET'" },
        { "server:\n  cors:\n    allowed_headers: [X-Ok, 'Bad: x']\n",
          "3:29: server.cors.allowed_headers: 'Bad: x' is not a valid name" },
        { "server:\n  cors:\n    allowed_origins: [https://a.example/]\n",
          "3:23: server.cors.allowed_origins: bad origin 'https://a.example/': "
          "expected \"*\" or scheme://host[:port], no path" },
        { "server:\n  cors:\n    allowed_origins: [a.example]\n",
          "3:23: server.cors.allowed_origins: bad origin 'a.example': "
          "expected \"*\" or scheme://host[:port], no path" },
        { "server:\n  cors:\n    allowed_origins: ['http://a:0']\n",
          "3:23: server.cors.allowed_origins: bad origin 'http://a:0': "
          "expected \"*\" or scheme://host[:port], no path" },
        /* out of range: at the value */
        { "server:\n  threads: 257\n", "2:12: server.threads: 257 is out of range 0..256" },
        { "server:\n  workers: -1\n", "2:12: server.workers: -1 is out of range 0..1024" },
        { "server:\n  queue_size: 0\n", "2:15: server.queue_size: 0 is out of range 1..1000000" },
        { "server:\n  max_json_depth: 513\n", "2:19: server.max_json_depth: 513 is out of range 1..512" },
        { "server:\n  threads: 99999999999999999999\n",
          "2:12: server.threads: expected an integer, got '99999999999999999999'" },
        { "server:\n  max_body_size: 65m\n", "2:18: server.max_body_size: 65m is out of range 1k..64m" },
        { "server:\n  max_body_size: 1023\n", "2:18: server.max_body_size: 1023 is out of range 1k..64m" },
        { "server:\n  max_header_size: 2m\n", "2:20: server.max_header_size: 2m is out of range 1k..1m" },
        { "server:\n  request_timeout: 0\n", "2:20: server.request_timeout: 0 is out of range 1ms..1d" },
        { "server:\n  shutdown_timeout: 2d\n", "2:21: server.shutdown_timeout: 2d is out of range 0ms..1d" },
        /* plugins */
        { "storage:\n  plugin: SQLite\n",
          "2:11: storage.plugin: bad plugin name 'SQLite': use 1 to 64 of a-z, 0-9, '_' and '-'" },
        { "storage:\n  plugin: ../evil\n",
          "2:11: storage.plugin: bad plugin name '../evil': use 1 to 64 of a-z, 0-9, '_' and '-'" },
        { "storage:\n  plugin: sqlite\n  options: [a]\n", "3:12: storage.options: expected a map, got a list" },
        { "kv:\n  options: {}\n", "2:3: kv.plugin is required" },
        { "kv: {}\n", "1:5: kv.plugin is required" },
        { "plugins:\n  - name: a\n  - options: {}\n", "3:5: plugins[1].name is required" },
        { "plugins:\n  - name: a\n  - name: b\n  - name: a\n",
          "4:11: plugins[2].name: plugin 'a' is listed twice (first at line 2)" },
        { "plugins:\n  -\n", "2:4: plugins[0]: expected a map, got nothing" },
        { "plugins: {name: a}\n", "1:10: plugins: expected a list of plugins, got a map" },
        /* constraints across keys */
        { "server:\n  cors:\n    allowed_origins: ['*']\n    allow_credentials: true\n",
          "4:24: server.cors.allow_credentials: cannot be true when allowed_origins has \"*\" "
          "(browsers refuse it; list the origins)" },
        /* the tree: duplicates, YAML features we refuse, the top level */
        { "server:\n  threads: 1\n  threads: 2\n",
          "3:3: duplicate key 'threads' in 'server' (first at line 2)" },
        { "log: {}\nlog: {}\n", "2:1: duplicate key 'log' (first at line 1)" },
        { "storage:\n  options: {a: 1, a: 2}\n",
          "2:19: duplicate key 'a' in 'storage.options' (first at line 2)" },
        { "server: &s {}\nlog: *s\n", "1:9: anchors and aliases are not supported" },
        { "server:\n  threads: !!int 3\n", "2:12: YAML tags are not supported" },
        { "server: {}\n---\nlog: {}\n", "2:1: only one YAML document is allowed" },
        { "- server\n", "1:1: expected a map of sections at the top level, got a list" },
        { "just text\n", "1:1: expected a map of sections at the top level, got a scalar" },
        { "? [a]\n: b\n", "1:3: top level: keys must be scalars, not a list" },
        { "server:\n  listen: \"a\\0b\"\n", "2:11: server.listen: NUL characters are not allowed" },
        /* YAML syntax errors: libyaml's own mark */
        { "server:\n  threads: 1\n   listen: x\n", "3:10: mapping values are not allowed in this context" },
        { "server:\n  listen: [a\n",
          "3:1: did not find expected ',' or ']' while parsing a flow sequence started at 2:11" },
        { "a: 'unterminated\n",
          "2:1: found unexpected end of stream while scanning a quoted scalar started at 1:4" },
        { "server:\n\tthreads: 1\n",
          "2:1: found character that cannot start any token while scanning for the next token started at 2:1" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        expect_error(cases[i].yaml, cases[i].want);
}

static void error_nesting_and_encoding(void **state)
{
    (void)state;
    char yaml[512] = "storage:\n  options:\n    a: ";
    for (int i = 0; i < 70; i++)
        strcat(yaml, "[");
    /* the root and two maps, then the 62nd '[' is level 65 */
    expect_error(yaml, "3:69: nested deeper than 64 levels");

    /* invalid UTF-8 in a value: placed by byte offset */
    const char bad[] = "log:\n  level: \"\xc3\x28\"\n";
    gh_config *cfg = config_load(write_bytes(bad, sizeof bad - 1), err, sizeof err);
    assert_null(cfg);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "%s:2:12: invalid trailing UTF-8 octet", last_path);
    assert_string_equal(err, want);

    /* a control character must not split the one-line error */
    expect_error("server:\n  threads: \"a\\nb\"\n",
                 "2:12: server.threads: expected an integer, got the quoted string 'a b'");
}

static void error_files(void **state)
{
    (void)state;
    char path[PATH_MAX], want[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/does-not-exist.yaml", tmpdir);
    assert_null(config_load(path, err, sizeof err));
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
    assert_string_equal(err, want);

    assert_null(config_load(tmpdir, err, sizeof err));
    snprintf(want, sizeof want, "%s: cannot open: Is a directory", tmpdir);
    assert_string_equal(err, want);

    /* a config is small; a huge file is a mistake (or an attack) */
    size_t big = 1024 * 1024 + 1;
    char *text = malloc(big);
    assert_non_null(text);
    memset(text, '#', big);
    config_load(write_bytes(text, big), err, sizeof err);
    free(text);
    snprintf(want, sizeof want, "%s: file is larger than 1024 KiB", last_path);
    assert_string_equal(err, want);

    /* errors are cut to the buffer, never overrun it */
    char small[16];
    memset(small, 'x', sizeof small);
    assert_null(config_load(path, small, 8));
    assert_int_equal(strlen(small), 7);
    assert_int_equal(small[8], 'x');
}

/* ------------------------------------------------------------ the tree */

static void tree_positions(void **state)
{
    (void)state;
    gh_config *cfg = load_ok("# header\n"
                             "storage:\n"
                             "  plugin: x\n"
                             "  options:\n"
                             "    s: 'quoted'\n"
                             "    n:\n"
                             "    t: ~\n"
                             "    l:\n"
                             "      - 1\n"
                             "      - two\n"
                             "    b: |\n"
                             "      block\n");
    const gh_node *storage = cfg_get(cfg->root, "storage");
    assert_non_null(storage);
    assert_int_equal(storage->type, GH_NODE_MAP);
    assert_string_equal(storage->key, "storage");
    assert_int_equal(storage->key_line, 2);
    assert_int_equal(storage->key_col, 1);
    assert_int_equal(storage->line, 3);
    assert_int_equal(storage->col, 3);
    assert_int_equal(storage->n, 2);
    assert_string_equal(storage->file, cfg->path);
    assert_null(cfg_get(storage, "nope"));
    assert_null(cfg_get(NULL, "x"));

    const gh_node *opt = cfg->storage.options;
    assert_ptr_equal(opt, cfg_get(storage, "options"));
    const gh_node *s = cfg_get(opt, "s");
    assert_int_equal(s->type, GH_NODE_SCALAR);
    assert_string_equal(s->value, "quoted");
    assert_true(s->quoted);
    assert_int_equal(s->key_line, 5);
    assert_int_equal(s->key_col, 5);
    assert_int_equal(s->line, 5);
    assert_int_equal(s->col, 8);
    assert_false(cfg_is_null(s));
    assert_true(cfg_is_null(cfg_get(opt, "n")));
    assert_true(cfg_is_null(cfg_get(opt, "t")));
    assert_string_equal(cfg_get(opt, "t")->value, "~");

    const gh_node *l = cfg_get(opt, "l");
    assert_int_equal(l->type, GH_NODE_SEQ);
    assert_int_equal(l->n, 2);
    assert_null(l->value);
    assert_null(l->child->key);
    assert_string_equal(l->child->value, "1");
    assert_false(l->child->quoted);
    assert_int_equal(l->child->next->line, 10);
    assert_int_equal(l->child->next->col, 9);
    assert_null(l->child->next->next);
    assert_false(cfg_is_null(l));

    const gh_node *b = cfg_get(opt, "b");
    assert_string_equal(b->value, "block\n");
    assert_true(b->quoted); /* block scalars are strings, never null */
    config_free(cfg);
}

static void cfg_error_format(void **state)
{
    (void)state;
    gh_node at = { .type = GH_NODE_SCALAR, .file = "f.yaml", .line = 3, .col = 7 };
    char buf[64];
    assert_int_equal(cfg_error(buf, sizeof buf, &at, "%s: bad %d", "k", 42), -1);
    assert_string_equal(buf, "f.yaml:3:7: k: bad 42");
    assert_int_equal(cfg_error(buf, sizeof buf, NULL, "plain"), -1);
    assert_string_equal(buf, "plain");
    assert_int_equal(cfg_error(buf, 10, &at, "long message"), -1);
    assert_string_equal(buf, "f.yaml:3:");
}

static void quoted_and_null(void **state)
{
    (void)state;
    /* quoted: a string, even when it reads "null" */
    gh_config *cfg = load_ok("paths:\n  state_dir: 'null'\n  plugin_dir: \"~\"\n");
    assert_string_equal(cfg->state_dir, "null");
    assert_string_equal(cfg->plugin_dir, "~");
    config_free(cfg);
    /* sizes and durations are text anyway: quotes are fine */
    cfg = load_ok("server:\n  max_body_size: '1m'\n  request_timeout: \"250ms\"\n");
    assert_int_equal(cfg->max_body_size, 1024 * 1024);
    assert_int_equal(cfg->request_timeout_ms, 250);
    config_free(cfg);
    /* unquoted null words mean "the default" */
    cfg = load_ok("server:\n  threads: null\n  max_json_depth: NULL\n  public_url: ~\n");
    assert_int_equal(cfg->max_json_depth, 32);
    assert_string_equal(cfg->public_url, "http://127.0.0.1:8080");
    config_free(cfg);
}

/* ------------------------------------------------------------ parsers */

static void parse_int(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(cfg_parse_int("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(cfg_parse_int("-42", &v), 0);
    assert_int_equal(v, -42);
    assert_int_equal(cfg_parse_int("+7", &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(cfg_parse_int("007", &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(cfg_parse_int("9223372036854775807", &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(cfg_parse_int("-9223372036854775808", &v), 0);
    assert_true(v == INT64_MIN);
    static const char *const bad[] = {
        "", "-", "+", " 1", "1 ", "1a", "0x10", "1e3", "1.0", "--1", "9223372036854775808",
        "-9223372036854775809", "99999999999999999999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        v = 12345;
        assert_int_equal(cfg_parse_int(bad[i], &v), -1);
        assert_int_equal(v, 12345);
    }
    assert_int_equal(cfg_parse_int(NULL, &v), -1);
}

static void parse_duration(void **state)
{
    (void)state;
    static const struct { const char *s; int64_t ms; } ok[] = {
        { "0", 0 }, { "250", 250 }, { "250ms", 250 }, { "30s", 30000 }, { "5m", 300000 },
        { "1h", 3600000 }, { "7d", 604800000 }, { "9223372036854775807", INT64_MAX },
        { "106751991167d", 106751991167LL * 86400000 },
    };
    int64_t ms;
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        assert_int_equal(cfg_parse_duration(ok[i].s, &ms), 0);
        assert_true(ms == ok[i].ms);
    }
    static const char *const bad[] = {
        "", "s", "-1s", "1.5s", "1 s", "1S", "1sec", "1w", "10mss", "106751991168d",
        "9223372036854775808", "9223372036854776s",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(cfg_parse_duration(bad[i], &ms), -1);
}

static void parse_size(void **state)
{
    (void)state;
    static const struct { const char *s; size_t n; } ok[] = {
        { "0", 0 }, { "512", 512 }, { "64k", 65536 }, { "64K", 65536 }, { "1m", 1048576 },
        { "2M", 2097152 },
    };
    size_t n;
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        assert_int_equal(cfg_parse_size(ok[i].s, &n), 0);
        assert_int_equal(n, ok[i].n);
    }
    char huge[64];
    snprintf(huge, sizeof huge, "%zuk", SIZE_MAX / 1024 + 1);
    static const char *const bad[] = { "", "k", "-1", "1kb", "1 k", "1.5m", "1g", "1km",
                                       "99999999999999999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(cfg_parse_size(bad[i], &n), -1);
    assert_int_equal(cfg_parse_size(huge, &n), -1);
}

static void parse_bool(void **state)
{
    (void)state;
    static const char *const yes[] = { "true", "yes", "on", "True", "YES", "On" };
    static const char *const no[] = { "false", "no", "off", "False", "NO", "Off" };
    int b;
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        b = -1;
        assert_int_equal(cfg_parse_bool(yes[i], &b), 0);
        assert_int_equal(b, 1);
        assert_int_equal(cfg_parse_bool(no[i], &b), 0);
        assert_int_equal(b, 0);
    }
    static const char *const bad[] = { "", "1", "0", "y", "n", "truee", "t", "enabled" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(cfg_parse_bool(bad[i], &b), -1);
}

/* ------------------------------------------------------------ secrets */

static void secret_files(void **state)
{
    (void)state;
    static const struct { const char *data; size_t len; const char *want; } ok[] = {
        { "s3cret", 6, "s3cret" },
        { "s3cret\n", 7, "s3cret" },
        { "s3cret\r\n", 8, "s3cret" },
        { "s3cret\n\n", 8, "s3cret\n" },       /* only one newline goes */
        { "  spaced \n", 10, "  spaced " },   /* nothing else is trimmed */
        { "a\rb", 3, "a\rb" },
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        char *s = cfg_read_secret_file(write_bytes(ok[i].data, ok[i].len), err, sizeof err);
        if (!s)
            fail_msg("%s", err);
        assert_string_equal(s, ok[i].want);
        free(s);
    }

    char want[PATH_MAX + 64];
    static const struct { const char *data; size_t len; const char *why; } bad[] = {
        { "", 0, "secret file is empty" },
        { "\n", 1, "secret file is empty" },
        { "\r\n", 2, "secret file is empty" },
        { "a\0b", 3, "secret file contains a NUL byte" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_null(cfg_read_secret_file(write_bytes(bad[i].data, bad[i].len), err, sizeof err));
        snprintf(want, sizeof want, "%s: %s", last_path, bad[i].why);
        assert_string_equal(err, want);
    }

    /* 64 KiB is the limit: exactly that is fine, one more byte is not */
    char *big = malloc(64 * 1024 + 1);
    assert_non_null(big);
    memset(big, 'k', 64 * 1024 + 1);
    char *s = cfg_read_secret_file(write_bytes(big, 64 * 1024), err, sizeof err);
    assert_non_null(s);
    assert_int_equal(strlen(s), 64 * 1024);
    free(s);
    assert_null(cfg_read_secret_file(write_bytes(big, 64 * 1024 + 1), err, sizeof err));
    snprintf(want, sizeof want, "%s: file is larger than 64 KiB", last_path);
    assert_string_equal(err, want);
    free(big);

    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/no-secret", tmpdir);
    assert_null(cfg_read_secret_file(path, err, sizeof err));
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
    assert_string_equal(err, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(etc_default_loads),
        cmocka_unit_test(etc_file_matches_defaults),
        cmocka_unit_test(man_page_matches_settings),
        cmocka_unit_test(empty_means_defaults),
        cmocka_unit_test(every_key),
        cmocka_unit_test(metrics_forms),
        cmocka_unit_test(log_choices),
        cmocka_unit_test(plugin_blocks),
        cmocka_unit_test(public_url_forms),
        cmocka_unit_test(cors_forms),
        cmocka_unit_test(token_forms),
        cmocka_unit_test(hs256_secret_rules),
        cmocka_unit_test(bootstrap_pairing),
        cmocka_unit_test(auth_forms),
        cmocka_unit_test(auth_token_errors),
        cmocka_unit_test(listen_forms),
        cmocka_unit_test(listen_errors),
        cmocka_unit_test(env_expansion),
        cmocka_unit_test(env_errors),
        cmocka_unit_test(error_positions),
        cmocka_unit_test(error_nesting_and_encoding),
        cmocka_unit_test(error_files),
        cmocka_unit_test(rate_limit_forms),
        cmocka_unit_test(rate_limit_errors),
        cmocka_unit_test(tree_positions),
        cmocka_unit_test(cfg_error_format),
        cmocka_unit_test(quoted_and_null),
        cmocka_unit_test(parse_int),
        cmocka_unit_test(parse_duration),
        cmocka_unit_test(parse_size),
        cmocka_unit_test(parse_bool),
        cmocka_unit_test(secret_files),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
