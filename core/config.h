/*
 * config.h - the config file (read by yaml_tree.h into a positioned tree)
 * checked against the core schema into a typed gh_config with a default
 * for everything.
 *
 * Every error is one line "file:line:col: message", ready for the log and
 * for `gatehoused -t`. Plugin options stay as a subtree: the loader checks
 * them against the plugin's own option list. Secrets come inline or from a
 * `*_file`, never both, and no error message quotes one.
 */
#ifndef GH_CONFIG_H
#define GH_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "auth/lockout_conf.h" /* the modules' settings; none includes config.h */
#include "auth/mfa_conf.h"
#include "auth/password.h"
#include "auth/token_conf.h"
#include "http/client_ip.h"
#include "http/rate_limits_conf.h"
#include "notify/outbox_conf.h"
#include "yaml_tree.h"

/* A listen address: "127.0.0.1:8080", "[::1]:8080", "*:8080" (all v4 and v6),
 * or ":8080" (the same); or a map { address, tls: { certificate, key,
 * client_ca } } for HTTPS (http/tls.h loads and checks the files). */
typedef struct gh_listen {
    char *host;         /* NULL: any address */
    uint16_t port;
    const gh_node *where;  /* the address's node, or the map's; the root
                              when defaulted */
    char *tls_cert;     /* absolute paths; NULL: plain HTTP */
    char *tls_key;
    char *tls_client_ca; /* NULL: no client certificate asked for */
} gh_listen;

/* A plugin named in the config, with its options subtree. */
typedef struct gh_plugin_conf {
    char *name;              /* NULL: not configured; first, so set_plugin_name's
                                default offset is it */
    char *plugin;            /* plugins: items: the plugin file, when `name`
                                is an instance of it; NULL: `name` */
    const gh_node *options;  /* the `options:` map, or NULL */
    const gh_node *where;    /* for error positions: the name's node, else the
                                block's, else the root (storage by default) */
} gh_plugin_conf;

/* One key of `encryption.keys` (auth/pii.h decodes and checks the text). */
typedef struct gh_enc_key {
    char *id;                /* key id, stored in every value it encrypts */
    char *key;               /* key text (key or key_file): base64 or hex */
    const gh_node *where;    /* the list item, for error positions */
} gh_enc_key;

/* One `companies.hosts` entry: requests to this Host sign in to that company. */
typedef struct gh_company_host {
    char *host;              /* lower case, without a port */
    char *slug;
} gh_company_host;

typedef struct gh_config {
    char *path;
    gh_node *root;

    /* server: */
    gh_listen *listen;
    size_t n_listen;
    int threads;               /* event loops; 0 in YAML = one per core */
    int workers;               /* worker pool threads; 0: one on a local store
                                  (SQLite), else 2 x cores (main.c) */
    int queue_size;            /* jobs waiting for a worker before 503 */
    size_t max_body_size;      /* bytes; bigger bodies get 413 */
    size_t max_header_size;    /* bytes, all headers together */
    int max_json_depth;        /* deeper JSON gets 400 */
    int64_t request_timeout_ms;
    int64_t shutdown_timeout_ms; /* SIGTERM: time given to in-flight work */
    char *public_url;          /* how clients reach us; https -> HSTS */
    char *run_user;            /* server.user: root leaves for it after binding */
    char *run_group;           /* server.group; NULL: the user's own */
    int hsts;                  /* derived: public_url is https */

    /* server.cors: */
    /* companies: which one a request without a token is for (a
     * `company` in its body wins over both) */
    char *company_default;     /* slug; "root" by default */
    gh_company_host *company_hosts;
    size_t n_company_hosts;
    int64_t company_erasure_delay_ms; /* a deactivated company's data is kept this long */

    /* oauth: social sign-in (api/oauth.c) */
    char **oauth_redirects;    /* redirect_allowlist: exact URLs */
    size_t n_oauth_redirects;
    int oauth_link_verified;   /* link_by_verified_email, default false */

    char **cors_origins;       /* exact origins, or "*" */
    size_t n_cors_origins;
    char *cors_methods;        /* "GET, POST, ..." */
    char *cors_headers;        /* "Authorization, Content-Type, ..." */
    int cors_credentials;
    int64_t cors_max_age_s;

    /* server.metrics: who may read /metrics (api/health.c) */
    char *metrics_token;       /* secret: a scraper's Bearer token; NULL: none */
    int metrics_public;        /* 1: anyone, without a token */

    /* server.trusted_proxies and client_ip_header: whose forwarding
     * header names the client (http/client_ip.h) */
    gh_trusted_proxies proxies;

    /* log: */
    int log_level;             /* gh_log_level */
    int log_json;
    int log_syslog;
    int access_log;

    /* paths: */
    char *state_dir;           /* created at start if missing */
    char *plugin_dir;          /* NULL: $GATEHOUSE_PLUGIN_DIR or the built-in */
    char *data_dir;            /* NULL: the installed one (openapi.json, docs/) */

    /* tokens: */
    gh_token_conf tokens;      /* issuer (default: public_url), audience, ttl_s */
    int token_alg;             /* gh_alg (auth/tokens.h); default ES256 */
    int64_t access_ttl_ms;     /* default 15m */
    int64_t refresh_ttl_ms;    /* session lifetime, default 30d */
    int64_t refresh_idle_ms;   /* a session unused this long ends; 0: never */
    char *keys_dir;            /* default "keys", inside state_dir */
    char *hs256_secret;        /* tokens.hs256_secret(_file); HS256 only */

    /* auth: */
    int allow_signup;          /* default true */
    int require_verified_email; /* default false: unverified users may log in */
    int mfa_required;          /* default false: a second factor is every
                                  company's choice (its settings) */
    gh_pw_policy pw;           /* auth.password: callers pass &cfg->pw */
    gh_pw_params argon2;       /* auth.password.argon2 */
    gh_lockout_conf lockout;   /* auth.lockout */
    gh_mfa_conf mfa;           /* auth.mfa */

    /* oauth2: the OAuth clients (auth/clients.h) */
    int64_t client_secret_grace_ms; /* a rotated-out secret works this long */
    int client_jwks_allow_private;  /* private_key_jwt's jwks_uri may be
                                       http:// on loopback or a private net */

    /* bootstrap: the first admin, created at start if no admin exists */
    char *bootstrap_admin_email;
    char *bootstrap_admin_password; /* bootstrap.admin_password(_file) */

    /* encryption: personal data at rest; off when n_enc_keys is 0 */
    char *enc_index_key;       /* encryption.index_key(_file): key text */
    gh_enc_key *enc_keys;      /* oldest first: the last one encrypts */
    size_t n_enc_keys;

    /* plugins: */
    gh_plugin_conf storage;    /* storage: { plugin: sqlite, options: {...} } */
    gh_plugin_conf kv;         /* kv: { plugin: redis, ... } or absent: SQL */
    gh_plugin_conf *plugins;   /* plugins: [ { name: x, options: {...} } ] */
    size_t n_plugins;

    /* mail: verification and password-reset mail (core/notify/) */
    gh_plugin_conf mail;       /* mail.plugin: a notify plugin listed in
                                  plugins:; name NULL: mail is off */
    char *mail_frontend_url;   /* links start here; default public_url */
    char *mail_product_name;   /* {{product}} in templates; "Gatehouse" */
    char *mail_templates_dir;  /* NULL: the installed templates */
    char *mail_verify_path;    /* "/verify-email" */
    char *mail_reset_path;     /* "/reset-password" */
    char *mail_invite_path;    /* "/accept-invitation" */
    int64_t mail_verify_ttl_ms;  /* default 24h */
    int64_t mail_reset_ttl_ms;   /* default 1h */
    int64_t mail_invite_ttl_ms;  /* default 7d */
    gh_outbox_conf mail_outbox;  /* queue_size, max_attempts, retry delays */
    int mail_address_limit;      /* requests per address and window; 5 */
    int mail_ip_limit;           /* requests per client address; 50 */
    int64_t mail_limit_window_ms; /* 1h */

    /* rate_limits: per route (http/rate_limits.h); built-in ones unless
     * the config says otherwise, none after `rate_limits: []` */
    gh_rate_limits rate_limits;
    /* webhooks: outgoing events (auth/webhooks.h, notify/webhook_sender.h) */
    gh_plugin_conf webhooks;     /* webhooks.plugin: a notify plugin listed in
                                    plugins:; name NULL: events wait unsent */
    gh_outbox_conf webhooks_retry; /* max_attempts, retry delays, timeout */
    int webhooks_disable_after;  /* failures in a row that disable; 20 */
    int64_t webhooks_poll_ms;    /* how often the store is polled; 5s */
    int webhooks_allow_private;  /* allow_private_targets; default false */
    int webhooks_allow_http;     /* allow_http; default false */
    /* onboarding: POST /api/v1/onboard and provisioning (auth/provisioning.h) */
    int onboarding_public;       /* anyone may onboard; default false */
    gh_plugin_conf onboarding_cloud; /* onboarding.cloud: a cloud plugin listed
                                    in plugins:; name NULL: no provisioning */
    gh_outbox_conf onboarding_retry; /* max_attempts: retries after the first
                                    try; backoff, backoff_max */
    int onboarding_keep;         /* on_failure: keep (1) or rollback (0) */
    int64_t onboarding_lease_ms; /* a claimed job's lease; 5m */
    int64_t onboarding_poll_ms;  /* how often the store is polled; 5s */
} gh_config;

/* Read, expand and check `path`. On error returns NULL and writes
 * "file:line:col: message" (or "file: message") into err. */
gh_config *config_load(const char *path, char *err, size_t errlen);
void config_free(gh_config *cfg);
/* Each setting a reload does not apply (the table's restart rows) whose
 * text differs between old and cur, as its dotted key, in table order. */
void config_restart_changes(const gh_config *old, const gh_config *cur,
                            void (*each)(const char *key, void *arg), void *arg);
/* Every setting, as its dotted key and its default's YAML text (NULL: it
 * has none), in table order: for the tests that keep etc/gatehouse.yaml
 * and gatehouse.yaml(5) in step with the table. A section is not a
 * setting; a block (storage, kv) or a list (plugins) is one. */
void config_each_setting(void (*each)(const char *key, const char *value, void *arg), void *arg);

#endif
