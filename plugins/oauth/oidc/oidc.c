/*
 * oidc.c - the `oidc` oauth plugin: sign-in at any OpenID Connect provider
 * (authorization code flow with PKCE S256), and, built a second time with
 * OIDC_PRESET_GOOGLE, the `google` preset.
 *
 *   plugins:
 *     - name: okta                 # the instance's name: /api/v1/oauth/okta
 *       plugin: oidc
 *       options:
 *         issuer: https://example.okta.com
 *         client_id: 0oa1...
 *         client_secret_file: /etc/gatehouse/okta.secret
 *     - name: google
 *       options:
 *         client_id: 1234.apps.googleusercontent.com
 *         client_secret_file: /etc/gatehouse/google.secret
 *         hosted_domain: example.com   # only this Workspace domain
 *
 * The endpoints come from discovery (issuer + /.well-known/openid-
 * configuration, whose "issuer" must be the configured one exactly),
 * fetched on first use and kept for DISCOVERY_TTL_MS; each one can be set
 * instead. exchange: the RFC 9207 `iss` the provider sent with the code
 * must be our issuer (and must be there when the provider says it sends
 * it), so a code from another provider is refused; the code goes to the
 * token endpoint with the PKCE verifier; the ID token is checked by
 * host->jwt_verify (signature against the provider's key set, iss, aud,
 * azp, exp/iat with leeway, nonce); userinfo must be about the same
 * subject. The google preset checks the ID token's `hd` claim against
 * hosted_domain: sending `hd` as a hint only narrows Google's account
 * chooser, anyone can remove it from the URL.
 *
 * One source for both plugins, so the preset cannot drift from the
 * protocol code it relies on: only the descriptor, the issuer's default and
 * the hosted_domain option differ.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/plugin.h>

static const gh_host *host;

#define URL_MAX 1024
#define NAME_MAX_ 256
#define DISCOVERY_TTL_MS (3600 * 1000)
#define DISCOVERY_PATH "/.well-known/openid-configuration"

#ifdef OIDC_PRESET_GOOGLE
#define PLUGIN_NAME "google"
#define PLUGIN_DESCRIPTION "Sign in with Google (OpenID Connect), optionally one Workspace domain"
#define ISSUER_REQUIRED 0
#else
#define PLUGIN_NAME "oidc"
#define PLUGIN_DESCRIPTION "Sign in at any OpenID Connect provider"
#define ISSUER_REQUIRED 1
#endif

enum { EP_AUTHORIZE, EP_TOKEN, EP_USERINFO, EP_JWKS, EP_COUNT };
static const char *const ep_keys[EP_COUNT] = {
    "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
};

/* The endpoints in use: discovery's, or the configured ones. */
typedef struct endpoints {
    char url[EP_COUNT][URL_MAX]; /* userinfo may be "": none */
    int32_t iss_param;           /* the provider sends RFC 9207's iss */
} endpoints;

/* Discovery's answer, shared by every thread of an instance. */
typedef struct discovery {
    pthread_mutex_t lock;
    endpoints ep;
    int64_t fetched_ms; /* 0: never */
} discovery;

typedef struct oidc {
    char issuer[URL_MAX];
    endpoints configured;  /* "" where discovery decides */
    char client_id[NAME_MAX_];
    char *client_secret;   /* host memory, wiped in detach */
    int32_t secret_post;   /* client_secret_post instead of _basic */
    char scopes[512];
    char redirect_uri[URL_MAX]; /* "" : the core's */
    char hosted_domain[NAME_MAX_];
    int32_t allow_http, allow_private;
    int64_t leeway_s;
    discovery *disc;       /* NULL when every endpoint is configured */
} oidc;

static const gh_option oidc_options[] = {
    {"issuer", GH_T_STR, ISSUER_REQUIRED, "the provider's issuer, exactly as its ID tokens name it"},
    {"authorization_endpoint", GH_T_STR, 0, "instead of discovery's"},
    {"token_endpoint", GH_T_STR, 0, "instead of discovery's"},
    {"userinfo_endpoint", GH_T_STR, 0, "instead of discovery's"},
    {"jwks_uri", GH_T_STR, 0, "instead of discovery's"},
    {"client_id", GH_T_STR, 1, "our client id at the provider"},
    {"client_secret", GH_T_SECRET, 1, "our client secret there (or client_secret_file)"},
    {"token_auth", GH_T_STR, 0, "client_secret_basic or client_secret_post"},
    {"scopes", GH_T_STR, 0, "the scopes asked for, space-separated"},
    {"redirect_uri", GH_T_STR, 0, "default: server.public_url + /api/v1/oauth/{name}/callback"},
    {"allow_http", GH_T_BOOL, 0, "http:// endpoints too (tests, in-house providers)"},
    {"allow_private", GH_T_BOOL, 0, "loopback and private addresses too; http:// key sets"},
    {"leeway", GH_T_DURATION, 0, "clock skew allowed on the ID token's exp and iat"},
#ifdef OIDC_PRESET_GOOGLE
    {"hosted_domain", GH_T_STR, 0, "only accounts of this Google Workspace domain (hd claim)"},
#endif
    {NULL, 0, 0, NULL},
};

static const char *const token_auths[] = {"client_secret_basic", "client_secret_post", NULL};

static const gh_option_rule oidc_rules[] = {
#ifdef OIDC_PRESET_GOOGLE
    {"issuer", "https://accounts.google.com", NULL, NULL},
#endif
    {"token_auth", "client_secret_basic", NULL, token_auths},
    {"scopes", "openid email profile", NULL, NULL},
    {"allow_http", "false", NULL, NULL},
    {"allow_private", "false", NULL, NULL},
    {"leeway", "30s", "0s..5m", NULL},
    {NULL, NULL, NULL, NULL},
};

#define LIT(k, v) ((gh_param){(k), GH_T_STR, (v), strlen(v)})
#define END ((gh_param){NULL, 0, NULL, 0})

/* ------------------------------------------------------------ options */

/* An endpoint we may call: https, or http:// when the admin allowed it. */
static int url_allowed(const oidc *o, const char *url)
{
    return strncmp(url, "https://", 8) == 0 || (o->allow_http && strncmp(url, "http://", 7) == 0);
}

/* Copy option key into buf; a URL must be one we may call. */
static gh_result copy_option(oidc *o, gh_call *call, const gh_cfg *opts, const char *key,
                             char *buf, size_t size, int is_url)
{
    const char *v = host->cfg_str(opts, key, "");
    if (strlen(v) >= size)
        return host->cfg_fail(call, host->cfg_child(opts, key), "'%s' is longer than %zu bytes",
                              key, size - 1);
    if (is_url && *v && !url_allowed(o, v))
        return host->cfg_fail(call, host->cfg_child(opts, key),
                              "'%s' must be an https:// URL (allow_http: true for http://)", key);
    memcpy(buf, v, strlen(v) + 1);
    return GH_OK;
}

/* 1 when the space-separated list names scope. */
static int has_scope(const char *list, const char *scope)
{
    size_t n = strlen(scope);
    for (const char *p = list; (p = strstr(p, scope)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

static gh_result oidc_instantiate(void *inst, const gh_cfg *opts, gh_call *call)
{
    oidc *o = inst;
    gh_result r;
    if (!GH_HAS(host, jwt_verify) || !GH_HAS(host, form_encode) || !GH_HAS(host, cfg_fail))
        return host->fail(call, GH_ERR_UNSUPPORTED, "needs plugin ABI 1.1 host services");
    o->allow_http = host->cfg_bool(opts, "allow_http", 0);
    o->allow_private = host->cfg_bool(opts, "allow_private", 0);
    o->leeway_s = host->cfg_int(opts, "leeway", 30000) / 1000;
    o->secret_post = strcmp(host->cfg_str(opts, "token_auth", ""), "client_secret_post") == 0;
    if ((r = copy_option(o, call, opts, "issuer", o->issuer, sizeof o->issuer, 1)) != GH_OK ||
        (r = copy_option(o, call, opts, "client_id", o->client_id, sizeof o->client_id, 0)) ||
        (r = copy_option(o, call, opts, "scopes", o->scopes, sizeof o->scopes, 0)) ||
        (r = copy_option(o, call, opts, "redirect_uri", o->redirect_uri, sizeof o->redirect_uri, 0)))
        return r;
#ifdef OIDC_PRESET_GOOGLE
    if ((r = copy_option(o, call, opts, "hosted_domain", o->hosted_domain,
                         sizeof o->hosted_domain, 0)) != GH_OK)
        return r;
#endif
    if (!o->issuer[0])
        return host->cfg_fail(call, NULL, "'issuer' is required");
    if (!has_scope(o->scopes, "openid"))
        return host->cfg_fail(call, host->cfg_child(opts, "scopes"),
                              "'scopes' must include openid: there is no ID token without it");
    int all = 1;
    for (int i = 0; i < EP_COUNT; i++) {
        if ((r = copy_option(o, call, opts, ep_keys[i], o->configured.url[i], URL_MAX, 1)) != GH_OK)
            return r;
        all &= o->configured.url[i][0] != '\0';
    }
    if (!all) {
        if (!(o->disc = host->alloc(sizeof *o->disc)))
            return host->fail(call, GH_ERR_NOMEM, "no memory for the discovery cache");
        memset(o->disc, 0, sizeof *o->disc);
        pthread_mutex_init(&o->disc->lock, NULL);
    }
    o->client_secret = host->cfg_secret(opts, "client_secret");
    if (!o->client_secret || !*o->client_secret)
        return host->cfg_fail(call, host->cfg_child(opts, "client_secret"),
                              "'client_secret' is empty");
    return GH_OK;
}

static void oidc_detach(void *inst)
{
    oidc *o = inst;
    if (o->client_secret) {
        host->wipe(o->client_secret, strlen(o->client_secret));
        host->free(o->client_secret);
    }
    if (o->disc) {
        pthread_mutex_destroy(&o->disc->lock);
        host->free(o->disc);
    }
}

/* ------------------------------------------------------------ HTTP */

/* The policy keys of every request: the admin's, never ours. */
static size_t add_policy(const oidc *o, gh_param *req, size_t k)
{
    req[k++] = (gh_param){"allow_http", GH_T_BOOL, &o->allow_http, sizeof o->allow_http};
    req[k++] = (gh_param){"allow_private", GH_T_BOOL, &o->allow_private, sizeof o->allow_private};
    return k;
}

/* Send req; a 2xx JSON body decoded into *doc. what names the endpoint in
 * the log. A 4xx is DENIED (the provider refused what we sent: a used or
 * forged code, a wrong secret), a 5xx or a malformed body UPSTREAM. */
static gh_result call_json(gh_call *call, const gh_param *req, const char *what, gh_json **doc)
{
    gh_out *resp = host->out_new();
    gh_result r = resp ? host->http(call, req, resp) : GH_ERR_NOMEM;
    const gh_param *st = r == GH_OK ? host->out_get(resp, "status", 0) : NULL;
    const gh_param *body = r == GH_OK ? host->out_get(resp, "body", 0) : NULL;
    int64_t status = st && st->type == GH_T_INT ? *(const int64_t *)st->data : 0;
    *doc = NULL;
    if (r == GH_OK && status / 100 == 4) {
        gh_json *err = NULL;
        const char *code = NULL;
        char shown[41] = "";
        if (body && host->json_decode(call, body->data, body->len, &err) == GH_OK)
            code = host->json_str(host->json_get(err, "error"));
        /* RFC 6749 5.2's error code, as far as it is one: never the body,
         * never a byte that could forge a log line */
        for (size_t i = 0; code && code[i] && i + 1 < sizeof shown; i++) {
            char ch = code[i];
            int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
            shown[i] = ok ? ch : '?';
            shown[i + 1] = '\0';
        }
        r = host->fail(call, GH_ERR_DENIED, "the %s answered %lld %s", what, (long long)status,
                       shown);
        host->json_free(err);
    } else if (r == GH_OK && (status / 100 != 2 || !body)) {
        r = host->fail(call, GH_ERR_UPSTREAM, "the %s answered %lld", what, (long long)status);
    } else if (r == GH_OK && (host->json_decode(call, body->data, body->len, doc) != GH_OK ||
                              host->json_type(*doc) != GH_T_MAP)) {
        r = host->fail(call, GH_ERR_UPSTREAM, "the %s answered no JSON object", what);
    }
    if (r != GH_OK) {
        host->json_free(*doc);
        *doc = NULL;
    }
    host->out_free(resp);
    return r;
}

/* ------------------------------------------------------------ discovery */

/* Fetch the discovery document into *ep, configured endpoints winning. */
static gh_result discover(const oidc *o, gh_call *call, endpoints *ep)
{
    char url[URL_MAX + sizeof DISCOVERY_PATH];
    size_t n = strlen(o->issuer);
    /* OpenID Connect Discovery 4: the issuer without its trailing '/' */
    if (n > 0 && o->issuer[n - 1] == '/')
        n--;
    snprintf(url, sizeof url, "%.*s%s", (int)n, o->issuer, DISCOVERY_PATH);
    gh_param req[8] = {LIT("method", "GET"), LIT("url", url), LIT("header", "Accept: application/json")};
    add_policy(o, req, 3);
    gh_json *doc = NULL;
    gh_result r = call_json(call, req, "discovery document", &doc);
    if (r != GH_OK)
        return r == GH_ERR_DENIED ? GH_ERR_UPSTREAM : r;
    const char *iss = host->json_str(host->json_get(doc, "issuer"));
    if (!iss || strcmp(iss, o->issuer) != 0) /* Discovery 4.3: a mix-up otherwise */
        r = host->fail(call, GH_ERR_UPSTREAM, "the discovery document names another issuer");
    for (int i = 0; r == GH_OK && i < EP_COUNT; i++) {
        const char *v = o->configured.url[i][0] ? o->configured.url[i]
                                                : host->json_str(host->json_get(doc, ep_keys[i]));
        if (!v && i == EP_USERINFO)
            v = "";
        if (!v || strlen(v) >= URL_MAX || (*v && !url_allowed(o, v)))
            r = host->fail(call, GH_ERR_UPSTREAM, "the discovery document has no usable %s",
                           ep_keys[i]);
        else
            memcpy(ep->url[i], v, strlen(v) + 1);
    }
    ep->iss_param = host->json_bool(
        host->json_get(doc, "authorization_response_iss_parameter_supported"), 0);
    host->json_free(doc);
    return r;
}

/* The endpoints in use into *ep: the configured ones, else discovery's,
 * fetched again when older than DISCOVERY_TTL_MS. The fetch runs under the
 * lock, so a cold cache costs the provider one request, not one a thread. */
static gh_result endpoints_get(const oidc *o, gh_call *call, endpoints *ep)
{
    if (!o->disc) {
        *ep = o->configured;
        return GH_OK;
    }
    gh_result r = GH_OK;
    int64_t now = host->now_ms();
    pthread_mutex_lock(&o->disc->lock);
    if (!o->disc->fetched_ms || now - o->disc->fetched_ms > DISCOVERY_TTL_MS ||
        now < o->disc->fetched_ms) {
        r = discover(o, call, &o->disc->ep);
        o->disc->fetched_ms = r == GH_OK ? now : 0;
    }
    if (r == GH_OK)
        *ep = o->disc->ep;
    pthread_mutex_unlock(&o->disc->lock);
    return r;
}

/* ------------------------------------------------------------ ops */

/* The STR parameter key of in, or NULL. */
static const gh_param *arg(const gh_param *in, const char *key)
{
    for (; in && in->key; in++)
        if (in->type == GH_T_STR && strcmp(in->key, key) == 0)
            return in;
    return NULL;
}

/* in's key as a NUL-terminated string into buf ("" when absent); -1 when
 * it does not fit. */
static int arg_copy(const gh_param *in, const char *key, char *buf, size_t size)
{
    const gh_param *p = arg(in, key);
    size_t n = p ? p->len : 0;
    if (n >= size || (p && memchr(p->data, '\0', n)))
        return -1;
    if (n)
        memcpy(buf, p->data, n);
    buf[n] = '\0';
    return 0;
}

/* The redirect URI: ours when configured, else the core's. */
static gh_param redirect_param(const oidc *o, const gh_param *in)
{
    const gh_param *p = arg(in, "redirect_uri");
    if (o->redirect_uri[0] || !p)
        return LIT("redirect_uri", o->redirect_uri);
    return *p;
}

/* authorize_url  in: redirect_uri, state, nonce, code_challenge, scope?
 *                out: url */
static gh_result oidc_authorize_url(const void *inst, void *tinst, gh_call *call,
                                    const gh_param *in, gh_out *out)
{
    const oidc *o = inst;
    endpoints ep;
    (void)tinst;
    const char *need[] = {"state", "nonce", "code_challenge"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!arg(in, need[i]) || arg(in, need[i])->len == 0)
            return host->fail(call, GH_ERR_INVALID, "authorize_url without %s", need[i]);
    gh_result r = endpoints_get(o, call, &ep);
    if (r != GH_OK)
        return r;
    const gh_param *scope = arg(in, "scope");
    gh_param q[12] = {
        LIT("response_type", "code"), LIT("client_id", o->client_id), redirect_param(o, in),
        scope && scope->len ? *scope : LIT("scope", o->scopes), *arg(in, "state"),
        *arg(in, "nonce"), *arg(in, "code_challenge"), LIT("code_challenge_method", "S256"),
    };
    if (o->hosted_domain[0])
        q[8] = LIT("hd", o->hosted_domain);
    char *query = NULL, *url = NULL;
    const char *base = ep.url[EP_AUTHORIZE];
    r = host->form_encode(call, q, &query);
    if (r == GH_OK) {
        size_t n = strlen(base) + strlen(query) + 2;
        if (!(url = host->alloc(n)))
            r = GH_ERR_NOMEM;
        else
            snprintf(url, n, "%s%c%s", base, strchr(base, '?') ? '&' : '?', query);
    }
    if (r == GH_OK)
        r = host->put(out, &LIT("url", url));
    host->free(query);
    host->free(url);
    return r;
}

/* RFC 9207: the iss the callback carried must be ours; without one, only
 * a provider that never sends it passes. */
static gh_result check_iss(const oidc *o, gh_call *call, const endpoints *ep, const gh_param *in)
{
    const gh_param *iss = arg(in, "iss");
    if (iss && (iss->len != strlen(o->issuer) || memcmp(iss->data, o->issuer, iss->len) != 0))
        return host->fail(call, GH_ERR_DENIED, "the authorization response came from another issuer");
    if (!iss && ep->iss_param)
        return host->fail(call, GH_ERR_DENIED, "the authorization response has no iss");
    return GH_OK;
}

/* POST the code to the token endpoint: its JSON answer into *doc. */
static gh_result redeem(const oidc *o, gh_call *call, const endpoints *ep, const gh_param *in,
                        gh_json **doc)
{
    const gh_param *code = arg(in, "code"), *verifier = arg(in, "code_verifier");
    if (!code || !verifier)
        return host->fail(call, GH_ERR_INVALID, "exchange without code or code_verifier");
    gh_param f[8] = {LIT("grant_type", "authorization_code"), *code, redirect_param(o, in),
                     *verifier};
    if (o->secret_post) {
        f[4] = LIT("client_id", o->client_id);
        f[5] = LIT("client_secret", o->client_secret);
    }
    char *body = NULL, *user = NULL, *pass = NULL;
    gh_result r = host->form_encode(call, f, &body);
    /* RFC 6749 2.3.1: basic credentials are form-encoded first */
    if (r == GH_OK && !o->secret_post &&
        (r = host->url_encode(call, o->client_id, strlen(o->client_id), &user)) == GH_OK)
        r = host->url_encode(call, o->client_secret, strlen(o->client_secret), &pass);
    if (r == GH_OK) {
        gh_param req[12] = {LIT("method", "POST"), LIT("url", ep->url[EP_TOKEN]),
                            LIT("header", "Accept: application/json"),
                            LIT("header", "Content-Type: application/x-www-form-urlencoded"),
                            LIT("body", body)};
        size_t k = add_policy(o, req, 5);
        if (user) {
            req[k++] = LIT("user", user);
            req[k++] = LIT("password", pass);
        }
        r = call_json(call, req, "token endpoint", doc);
    }
    if (pass)
        host->wipe(pass, strlen(pass));
    if (body)
        host->wipe(body, strlen(body)); /* the code and verifier, maybe the secret */
    host->free(pass);
    host->free(user);
    host->free(body);
    return r;
}

/* The userinfo answer for access_token into *doc, about subject sub. */
static gh_result userinfo(const oidc *o, gh_call *call, const endpoints *ep,
                          const char *access_token, const char *sub, gh_json **doc)
{
    size_t n = strlen(access_token) + sizeof "Authorization: Bearer ";
    char *auth = host->alloc(n);
    if (!auth)
        return GH_ERR_NOMEM;
    snprintf(auth, n, "Authorization: Bearer %s", access_token);
    gh_param req[8] = {LIT("method", "GET"), LIT("url", ep->url[EP_USERINFO]),
                       LIT("header", "Accept: application/json"), LIT("header", auth)};
    add_policy(o, req, 4);
    gh_result r = call_json(call, req, "userinfo endpoint", doc);
    host->wipe(auth, n);
    host->free(auth);
    /* a DENIED here is the provider refusing its own fresh token */
    if (r == GH_ERR_DENIED)
        r = GH_ERR_UPSTREAM;
    const char *usub = r == GH_OK ? host->json_str(host->json_get(*doc, "sub")) : NULL;
    if (r == GH_OK && (!usub || strcmp(usub, sub) != 0)) /* Core 5.3.2 */
        r = host->fail(call, GH_ERR_DENIED, "userinfo is about another subject");
    if (r != GH_OK) {
        host->json_free(*doc);
        *doc = NULL;
    }
    return r;
}

/* A claim from userinfo, else from the ID token. */
static const gh_json *claim(const gh_json *info, const gh_json *id, const char *key)
{
    const gh_json *v = info ? host->json_get(info, key) : NULL;
    return v && host->json_type(v) != GH_T_NULL ? v : host->json_get(id, key);
}

/* Put the profile: the contract's names, the ID token's claims as JSON. */
static gh_result put_profile(gh_call *call, const gh_json *id, const gh_json *info, gh_out *out)
{
    static const char *const strs[] = {"email", "name", "given_name", "family_name", "picture"};
    const char *sub = host->json_str(host->json_get(id, "sub"));
    gh_result r = host->put(out, &LIT("subject", sub));
    for (size_t i = 0; r == GH_OK && i < sizeof strs / sizeof strs[0]; i++) {
        const char *v = host->json_str(claim(info, id, strs[i]));
        if (v)
            r = host->put(out, &LIT(strs[i], v));
    }
    /* some providers send the string "true" */
    const gh_json *ev = claim(info, id, "email_verified");
    const char *evs = host->json_str(ev);
    int32_t verified = evs ? strcmp(evs, "true") == 0 : host->json_bool(ev, 0) == 1;
    if (r == GH_OK)
        r = host->put(out, &(gh_param){"email_verified", GH_T_BOOL, &verified, sizeof verified});
    char *text = NULL;
    if (r == GH_OK && (r = host->json_dump(call, id, &text)) == GH_OK)
        r = host->put(out, &(gh_param){"claims", GH_T_JSON, text, strlen(text)});
    host->free(text);
    return r;
}

/* exchange  in: code, redirect_uri, code_verifier, nonce, iss?
 *           out: subject, email?, email_verified (BOOL), name?,
 *                given_name?, family_name?, picture?, claims (JSON) */
static gh_result oidc_exchange(const void *inst, void *tinst, gh_call *call, const gh_param *in,
                               gh_out *out)
{
    const oidc *o = inst;
    endpoints ep;
    char nonce[256];
    gh_json *tok = NULL, *claims = NULL, *info = NULL;
    (void)tinst;
    if (arg_copy(in, "nonce", nonce, sizeof nonce) < 0 || !nonce[0])
        return host->fail(call, GH_ERR_INVALID, "exchange without a usable nonce");
    gh_result r = endpoints_get(o, call, &ep);
    if (r == GH_OK)
        r = check_iss(o, call, &ep, in);
    if (r == GH_OK)
        r = redeem(o, call, &ep, in, &tok);
    const char *id_token = r == GH_OK ? host->json_str(host->json_get(tok, "id_token")) : NULL;
    if (r == GH_OK && !id_token)
        r = host->fail(call, GH_ERR_UPSTREAM, "the token endpoint gave no id_token");
    if (r == GH_OK) {
        gh_jwt_policy p = {.size = sizeof p, .jwks_uri = ep.url[EP_JWKS], .issuer = o->issuer,
                           .audience = o->client_id, .nonce = nonce, .leeway_s = o->leeway_s,
                           .allow_private = o->allow_private};
        r = host->jwt_verify(call, id_token, &p, &claims);
    }
    const char *sub = r == GH_OK ? host->json_str(host->json_get(claims, "sub")) : NULL;
    if (r == GH_OK && (!sub || !*sub || strlen(sub) > 255)) /* Core 2: at most 255 ASCII */
        r = host->fail(call, GH_ERR_DENIED, "the ID token has no usable sub");
    if (r == GH_OK && o->hosted_domain[0]) {
        const char *hd = host->json_str(host->json_get(claims, "hd"));
        if (!hd || strcmp(hd, o->hosted_domain) != 0)
            r = host->fail(call, GH_ERR_DENIED, "the account is not of the hosted domain");
    }
    const char *access = r == GH_OK ? host->json_str(host->json_get(tok, "access_token")) : NULL;
    if (r == GH_OK && ep.url[EP_USERINFO][0] && access)
        r = userinfo(o, call, &ep, access, sub, &info);
    if (r == GH_OK)
        r = put_profile(call, claims, info, out);
    host->json_free(info);
    host->json_free(claims);
    host->json_free(tok);
    return r;
}

static const gh_oauth_ops oidc_ops = {
    .size = sizeof(gh_oauth_ops),
    .authorize_url = oidc_authorize_url,
    .exchange = oidc_exchange,
};

static const gh_plugin oidc_plugin = {
    .size = sizeof(gh_plugin),
    .abi_major = GH_ABI_MAJOR,
    .abi_minor = GH_ABI_MINOR,
    .name = PLUGIN_NAME,
    .version = "1.0.0",
    .description = PLUGIN_DESCRIPTION,
    .kind = GH_KIND_OAUTH,
    .options = oidc_options,
    .option_rules = oidc_rules,
    .inst_size = sizeof(oidc),
    .instantiate = oidc_instantiate,
    .detach = oidc_detach,
    .ops = &oidc_ops,
    .flags = GH_PLUGIN_NEEDS_HTTP | GH_PLUGIN_MULTI_INSTANCE,
};

GH_EXPORT const gh_plugin *gatehouse_plugin_v1(const gh_host *h)
{
    host = h;
    return &oidc_plugin;
}
