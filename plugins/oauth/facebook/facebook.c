/*
 * facebook.c - the `facebook` oauth plugin: "Log in with Facebook" through
 * Facebook Login's OAuth 2.0 code flow (with PKCE) and the Graph API.
 *
 *   plugins:
 *     - name: facebook
 *       options:
 *         client_id: "1234567890123456"        # the app id
 *         client_secret_file: /etc/gatehouse/facebook.secret
 *         api_version: v23.0                   # the Graph API version
 *         scopes: email public_profile
 *         trust_email: false                   # see facebook_instantiate
 *
 * Options (defaults in facebook_rules): client_id (required, digits);
 * client_secret or client_secret_file (required); api_version (v23.0,
 * "v" and digits.digits); scopes ("email public_profile", the call's
 * scope wins); redirect_uri (the core's: the public URL and
 * /api/v1/oauth/{name}/callback; set, it replaces the core's in both ops,
 * and must be one of the app's "Valid OAuth Redirect URIs"); dialog_url
 * (https://www.facebook.com) and graph_url (https://graph.facebook.com):
 * https, no credentials or query, a path allowed, http:// only with
 * allow_http; allow_http and allow_private (false: host->http's keys of
 * those names, for a stand-in or a private proxy); timeout (10s, 1s..60s,
 * each Graph call); trust_email (false).
 *
 * authorize_url: {dialog_url}/{api_version}/dialog/oauth with client_id,
 * redirect_uri, state, response_type=code, scope, code_challenge and
 * code_challenge_method=S256, percent-encoded by the host. Facebook's
 * plain OAuth dialog has no ID token, so the core's nonce has nothing to
 * bind to and is not sent: state and PKCE carry the flow.
 *
 * exchange: POST {graph_url}/{api_version}/oauth/access_token (the code,
 * the verifier and the app secret in the body, never in a URL that a proxy
 * or server logs), then GET {graph_url}/{api_version}/me?fields=id,name,
 * email,first_name,last_name,picture with the access token in the
 * Authorization header and appsecret_proof = hex HMAC-SHA256(app secret,
 * access token), which Facebook checks when the app requires it ("Require
 * App Secret"): a token stolen from us is then useless without the secret.
 * Graph's error objects ({"error": {"message", "type", "code",
 * "error_subcode", "fbtrace_id"}}) become the op contract's codes; the
 * fbtrace_id is logged for Facebook's support, never the code, the token
 * or the secret. The access token stays in this op: the core gets the
 * profile only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/plugin.h>

static const gh_host *host;

#define APP_ID_MAX 32    /* Facebook app ids are 15 or 16 digits */
#define SECRET_MAX 128   /* app secrets are 32 hex digits */
#define SCOPES_MAX 512
#define URL_MAX 1024
#define TOKEN_MAX 2048   /* access tokens are a few hundred characters */
#define TEXT_MAX 200     /* Facebook's error message, as logged */
#define TRACE_MAX 64
#define REQ_MAX 10       /* a request's keys, graph_call's four included */

typedef struct facebook {
    char client_id[APP_ID_MAX];
    char secret[SECRET_MAX];
    char scopes[SCOPES_MAX];
    char dialog_url[URL_MAX]; /* {dialog_url}/{version}/dialog/oauth */
    char token_url[URL_MAX];  /* {graph_url}/{version}/oauth/access_token */
    char me_url[URL_MAX];     /* {graph_url}/{version}/me */
    char redirect_uri[URL_MAX]; /* "": the one the core passes */
    int32_t allow_http, allow_private, trust_email;
    int64_t timeout_ms;
} facebook;

static const gh_option facebook_options[] = {
    {"client_id", GH_T_STR, 1, "the Facebook app's id (digits)"},
    {"client_secret", GH_T_SECRET, 1, "the app secret (or client_secret_file)"},
    {"api_version", GH_T_STR, 0, "the Graph API version, as vNN.N"},
    {"scopes", GH_T_STR, 0, "the permissions asked for, separated by spaces"},
    {"redirect_uri", GH_T_STR, 0, "default: server.public_url + /api/v1/oauth/{name}/callback"},
    {"dialog_url", GH_T_STR, 0, "where the login dialog is (https://www.facebook.com)"},
    {"graph_url", GH_T_STR, 0, "where the Graph API is (https://graph.facebook.com)"},
    {"timeout", GH_T_DURATION, 0, "how long each Graph API call may take"},
    {"allow_http", GH_T_BOOL, 0, "dialog_url and graph_url may be http:// (tests only)"},
    {"allow_private", GH_T_BOOL, 0, "graph_url may be a loopback or private address"},
    {"trust_email", GH_T_BOOL, 0, "report Facebook's email as verified (it does not say)"},
    {NULL, 0, 0, NULL},
};

static const gh_option_rule facebook_rules[] = {
    {"api_version", "v23.0", NULL, NULL},
    {"scopes", "email public_profile", NULL, NULL},
    {"dialog_url", "https://www.facebook.com", NULL, NULL},
    {"graph_url", "https://graph.facebook.com", NULL, NULL},
    {"timeout", "10s", "1s..60s", NULL},
    {"allow_http", "false", NULL, NULL},
    {"allow_private", "false", NULL, NULL},
    {"trust_email", "false", NULL, NULL},
    {NULL, NULL, NULL, NULL},
};

/* The Graph fields the profile is read from. */
static const char me_fields[] = "id,name,email,first_name,last_name,picture";

/* ------------------------------------------------------------ options */

static int all_digits(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);

    return n >= min && n <= max && strspn(s, "0123456789") == n;
}

/* "v" and a Graph version: 1 to 3 digits, '.', 1 or 2 digits. */
static int is_version(const char *v)
{
    size_t major, minor;

    if (v[0] != 'v')
        return 0;
    major = strspn(v + 1, "0123456789");
    if (major < 1 || major > 3 || v[1 + major] != '.')
        return 0;
    minor = strspn(v + 2 + major, "0123456789");
    return minor >= 1 && minor <= 2 && v[2 + major + minor] == '\0';
}

/* {base}{path} into dst: base an http(s) URL without credentials, query or
 * fragment (http:// only with allow_http), its trailing '/'s dropped. */
static gh_result read_url(facebook *f, const gh_cfg *o, gh_call *call, const char *key,
                          const char *path, char *dst)
{
    const char *base = host->cfg_str(o, key, "");
    const gh_cfg *node = host->cfg_child(o, key);
    gh_url u = {.size = sizeof u};
    gh_result r = host->url_parse(call, base, &u);
    size_t n;

    host->wipe(u.password, sizeof u.password);
    if (r != GH_OK || !u.host[0] || u.user[0] || u.query[0] || strchr(base, '#') ||
        (strcmp(u.scheme, "https") != 0 && strcmp(u.scheme, "http") != 0))
        return host->cfg_fail(call, node, "option '%s' must be an https:// URL without "
                              "credentials, query or fragment", key);
    if (strcmp(u.scheme, "http") == 0 && !f->allow_http)
        return host->cfg_fail(call, node, "option '%s' must be https:// (http:// only with "
                              "allow_http: true)", key);
    /* path starts with the '/' a base may end with */
    for (n = strlen(base); n > 0 && base[n - 1] == '/'; n--)
        ;
    if ((size_t)snprintf(dst, URL_MAX, "%.*s%s", (int)n, base, path) >= URL_MAX)
        return host->cfg_fail(call, node, "option '%s' is too long", key);
    return GH_OK;
}

/* redirect_uri, when set: an absolute http(s) URL (http:// only with
 * allow_http) without credentials or a fragment (Facebook refuses one). */
static gh_result read_redirect_uri(facebook *f, const gh_cfg *o, gh_call *call)
{
    const char *v = host->cfg_str(o, "redirect_uri", "");
    gh_url u = {.size = sizeof u};
    int bad;

    if (!*v)
        return GH_OK;
    bad = strlen(v) >= sizeof f->redirect_uri || strchr(v, '#') ||
          host->url_parse(call, v, &u) != GH_OK || !u.host[0] || u.user[0] ||
          (strcmp(u.scheme, "https") != 0 && (strcmp(u.scheme, "http") != 0 || !f->allow_http));
    host->wipe(u.password, sizeof u.password);
    if (bad)
        return host->cfg_fail(call, host->cfg_child(o, "redirect_uri"),
                              "option 'redirect_uri' must be an https:// URL without credentials "
                              "or a fragment (http:// only with allow_http: true)");
    memcpy(f->redirect_uri, v, strlen(v) + 1);
    return GH_OK;
}

static gh_result read_secret(facebook *f, const gh_cfg *o, gh_call *call)
{
    char *v = host->cfg_secret(o, "client_secret");
    gh_result r = GH_OK;

    if (!v || !*v)
        r = host->cfg_fail(call, host->cfg_child(o, "client_secret"),
                           "option 'client_secret' is empty");
    else if (strlen(v) >= sizeof f->secret)
        r = host->cfg_fail(call, host->cfg_child(o, "client_secret"),
                           "option 'client_secret' is longer than %zu bytes", sizeof f->secret - 1);
    else
        memcpy(f->secret, v, strlen(v) + 1);
    if (v) {
        host->wipe(v, strlen(v));
        host->free(v);
    }
    return r;
}

static gh_result facebook_instantiate(void *inst, const gh_cfg *o, gh_call *call)
{
    facebook *f = inst;
    const char *id = host->cfg_str(o, "client_id", "");
    const char *version = host->cfg_str(o, "api_version", "");
    const char *scopes = host->cfg_str(o, "scopes", "");
    char path[64];
    gh_result r;

    if (!GH_HAS(host, hmac) || !GH_HAS(host, encode) || !GH_HAS(host, form_encode) ||
        !GH_HAS(host, fail_retry) || !GH_HAS(host, cfg_fail) || !GH_HAS(host, url_parse) ||
        !GH_HAS(host, json_dump))
        return host->fail(call, GH_ERR_UNSUPPORTED, "needs plugin ABI 1.1 host services");
    if (!all_digits(id, 1, sizeof f->client_id - 1))
        return host->cfg_fail(call, host->cfg_child(o, "client_id"),
                              "option 'client_id' must be the app id, digits only");
    if (!is_version(version))
        return host->cfg_fail(call, host->cfg_child(o, "api_version"),
                              "option 'api_version' must be a Graph API version such as v23.0");
    if (strlen(scopes) >= sizeof f->scopes)
        return host->cfg_fail(call, host->cfg_child(o, "scopes"), "option 'scopes' is too long");
    memcpy(f->client_id, id, strlen(id) + 1);
    memcpy(f->scopes, scopes, strlen(scopes) + 1);
    f->allow_http = host->cfg_bool(o, "allow_http", 0);
    f->allow_private = host->cfg_bool(o, "allow_private", 0);
    /* Facebook's Graph API gives the email the account holds but never says
     * whether it was verified (an account may be made with a phone number
     * and an email typed in unchecked), so the email counts as verified only
     * when the admin says Facebook's checks are enough, as Keycloak's "trust
     * email": linking an existing account by an unverified email would hand
     * it to whoever typed that address. */
    f->trust_email = host->cfg_bool(o, "trust_email", 0);
    f->timeout_ms = host->cfg_int(o, "timeout", 0); /* the rule's default */
    snprintf(path, sizeof path, "/%s/dialog/oauth", version);
    if ((r = read_url(f, o, call, "dialog_url", path, f->dialog_url)) != GH_OK)
        return r;
    snprintf(path, sizeof path, "/%s/oauth/access_token", version);
    if ((r = read_url(f, o, call, "graph_url", path, f->token_url)) != GH_OK)
        return r;
    snprintf(path, sizeof path, "/%s/me", version);
    if ((r = read_url(f, o, call, "graph_url", path, f->me_url)) != GH_OK ||
        (r = read_redirect_uri(f, o, call)) != GH_OK)
        return r;
    return read_secret(f, o, call);
}

static void facebook_detach(void *inst)
{
    facebook *f = inst;

    host->wipe(f->secret, sizeof f->secret);
}

/* ------------------------------------------------------------ helpers */

/* The STR parameter key of in, or NULL when absent or empty. */
static const gh_param *find(const gh_param *in, const char *key)
{
    for (; in && in->key; in++)
        if (in->type == GH_T_STR && strcmp(in->key, key) == 0 && in->data && in->len > 0)
            return in;
    return NULL;
}

static gh_param str_param(const char *key, const char *value)
{
    return (gh_param){key, GH_T_STR, value, strlen(value)};
}

/* The redirect URI of both ops: the option's, else the core's (NULL when
 * neither is there). */
static const gh_param *redirect_of(const facebook *f, const gh_param *in, gh_param *own)
{
    if (!f->redirect_uri[0])
        return find(in, "redirect_uri");
    *own = str_param("redirect_uri", f->redirect_uri);
    return own;
}

/* s for a log line, at most len - 1 bytes: control characters become
 * spaces, and with ids_only anything but [A-Za-z0-9_-] is dropped. */
static void log_text(const char *s, int ids_only, char *out, size_t len)
{
    size_t o = 0;

    for (; s && *s && o + 1 < len; s++) {
        unsigned char c = (unsigned char)*s;

        if (!ids_only)
            out[o++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
        else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-')
            out[o++] = (char)c;
    }
    out[o] = '\0';
}

/* One Graph error object, as read for the log. */
typedef struct graph_error {
    int64_t code, subcode;
    int transient;
    char type[64], message[TEXT_MAX], trace[TRACE_MAX];
} graph_error;

static void read_graph_error(gh_call *call, const gh_out *resp, graph_error *e)
{
    const gh_param *body = host->out_get(resp, "body", 0);
    gh_json *doc = NULL;
    const gh_json *err;

    memset(e, 0, sizeof *e);
    snprintf(e->trace, sizeof e->trace, "none"); /* not a Graph error object */
    if (!body || host->json_decode(call, body->data, body->len, &doc) != GH_OK)
        return;
    err = host->json_get(doc, "error");
    e->code = host->json_int(host->json_get(err, "code"), 0);
    e->subcode = host->json_int(host->json_get(err, "error_subcode"), 0);
    e->transient = host->json_bool(host->json_get(err, "is_transient"), 0);
    log_text(host->json_str(host->json_get(err, "type")), 1, e->type, sizeof e->type);
    log_text(host->json_str(host->json_get(err, "message")), 0, e->message, sizeof e->message);
    if (host->json_str(host->json_get(err, "fbtrace_id")))
        log_text(host->json_str(host->json_get(err, "fbtrace_id")), 1, e->trace, sizeof e->trace);
    host->json_free(doc);
}

/* What a Graph error answer from `what` means for the op. */
static gh_result graph_fail(gh_call *call, const char *what, int64_t status, const gh_out *resp)
{
    graph_error e;

    read_graph_error(call, resp, &e);
    /* Facebook says how close to its limits the app is (X-App-Usage), not
     * when it may call again: no Retry-After to pass on */
    switch (e.code) {
    case 4:   /* the app's request limit */
    case 17:  /* the user's request limit */
    case 32:  /* a page's request limit */
    case 613: /* a custom rate limit */
        return host->fail_retry(call, GH_ERR_RATE_LIMITED, 0,
                                "facebook %s: rate limited (HTTP %lld, code %lld: %s; "
                                "fbtrace_id %s)", what, (long long)status, (long long)e.code,
                                e.message, e.trace);
    }
    if (status >= 500 || e.transient)
        return host->fail(call, GH_ERR_UNAVAILABLE,
                                "facebook %s: HTTP %lld (code %lld: %s; fbtrace_id %s)", what,
                                (long long)status, (long long)e.code, e.message, e.trace);
    /* an authorization code refused (invalid, expired, used, another
     * redirect_uri or verifier) or a token Facebook no longer honours:
     * this sign-in's fault, not the server's */
    if (strcmp(e.type, "OAuthException") == 0 && (e.code == 100 || e.code == 190))
        return host->fail(call, GH_ERR_DENIED, "facebook %s: refused (code %lld/%lld: %s; "
                          "fbtrace_id %s)", what, (long long)e.code, (long long)e.subcode,
                          e.message, e.trace);
    /* anything else refused is our request or our options (a wrong app id
     * or secret: codes 101 and 1), which only the admin can fix */
    host->log(call, GH_LOG_ERROR, "facebook refused our %s request (HTTP %lld, %s code %lld: %s; "
              "fbtrace_id %s): check options 'client_id' and 'client_secret'", what,
              (long long)status, e.type[0] ? e.type : "no", (long long)e.code, e.message, e.trace);
    return host->fail(call, GH_ERR_UNAVAILABLE, "facebook %s: HTTP %lld (code %lld; fbtrace_id %s)",
                      what, (long long)status, (long long)e.code, e.trace);
}

/* host->http with the plugin's policy, its keys added after the n of req
 * (REQ_MAX in all); *json the decoded body of a 200 (release with
 * json_free), anything else mapped by graph_fail. */
static gh_result graph_call(const facebook *f, gh_call *call, const char *what, gh_param *req,
                            size_t n, gh_json **json)
{
    gh_out *resp = host->out_new();
    const gh_param *body, *st;
    int64_t status;
    gh_result r;

    *json = NULL;
    req[n++] = (gh_param){"timeout_ms", GH_T_INT, &f->timeout_ms, sizeof f->timeout_ms};
    req[n++] = (gh_param){"allow_http", GH_T_BOOL, &f->allow_http, sizeof f->allow_http};
    req[n++] = (gh_param){"allow_private", GH_T_BOOL, &f->allow_private, sizeof f->allow_private};
    req[n] = (gh_param){NULL, 0, NULL, 0};
    if (!resp)
        return GH_ERR_NOMEM;
    if ((r = host->http(call, req, resp)) != GH_OK) {
        host->out_free(resp);
        return r;
    }
    st = host->out_get(resp, "status", 0);
    status = st && st->type == GH_T_INT ? *(const int64_t *)st->data : 0;
    body = host->out_get(resp, "body", 0);
    if (status != 200)
        r = graph_fail(call, what, status, resp);
    else if (!body || host->json_decode(call, body->data, body->len, json) != GH_OK ||
             host->json_type(*json) != GH_T_MAP)
        r = host->fail(call, GH_ERR_UPSTREAM, "facebook %s: the answer is not a JSON object", what);
    if (body) /* a token answer holds the token */
        host->wipe((void *)body->data, body->len);
    host->out_free(resp);
    if (r != GH_OK) {
        host->json_free(*json);
        *json = NULL;
    }
    return r;
}

/* ------------------------------------------------------------ authorize_url */

/* authorize_url  in: redirect_uri, state, nonce, code_challenge, scope?
 *                out: url */
static gh_result facebook_authorize_url(const void *inst, void *tinst, gh_call *call,
                                        const gh_param *in, gh_out *out)
{
    const facebook *f = inst;
    gh_param own;
    const gh_param *redirect = redirect_of(f, in, &own), *state = find(in, "state"),
                   *challenge = find(in, "code_challenge"), *scope = find(in, "scope");
    char *query = NULL, *url;
    size_t n;
    gh_result r;

    (void)tinst;
    if (!redirect || !state || !challenge) /* PKCE is not optional here (RFC 9700) */
        return host->fail(call, GH_ERR_INVALID, "facebook: '%s' is required",
                          !redirect ? "redirect_uri" : !state ? "state" : "code_challenge");
    r = host->form_encode(call, (gh_param[]){
        str_param("client_id", f->client_id),
        {"redirect_uri", GH_T_STR, redirect->data, redirect->len},
        {"state", GH_T_STR, state->data, state->len},
        str_param("response_type", "code"),
        scope ? (gh_param){"scope", GH_T_STR, scope->data, scope->len}
              : str_param("scope", f->scopes),
        {"code_challenge", GH_T_STR, challenge->data, challenge->len},
        str_param("code_challenge_method", "S256"),
        {NULL, 0, NULL, 0},
    }, &query);
    if (r != GH_OK)
        return r;
    n = strlen(f->dialog_url) + 1 + strlen(query);
    if (!(url = malloc(n + 1))) {
        host->free(query);
        return host->fail(call, GH_ERR_NOMEM, "facebook: out of memory");
    }
    snprintf(url, n + 1, "%s?%s", f->dialog_url, query);
    r = host->put(out, &(gh_param){"url", GH_T_STR, url, n});
    free(url);
    host->free(query);
    return r;
}

/* ------------------------------------------------------------ exchange */

/* The code for an access token (into token, TOKEN_MAX bytes). */
static gh_result fetch_token(const facebook *f, gh_call *call, const gh_param *code,
                             const gh_param *redirect, const gh_param *verifier, char *token)
{
    static const char form_type[] = "Content-Type: application/x-www-form-urlencoded";
    char *form = NULL;
    gh_json *doc = NULL;
    const char *t;
    gh_param req[REQ_MAX];
    gh_result r;

    r = host->form_encode(call, (gh_param[]){
        str_param("client_id", f->client_id),
        str_param("client_secret", f->secret),
        {"redirect_uri", GH_T_STR, redirect->data, redirect->len},
        {"code", GH_T_STR, code->data, code->len},
        {"code_verifier", GH_T_STR, verifier->data, verifier->len},
        {NULL, 0, NULL, 0},
    }, &form);
    if (r != GH_OK)
        return r;
    req[0] = str_param("method", "POST");
    req[1] = str_param("url", f->token_url);
    req[2] = str_param("header", "Accept: application/json");
    req[3] = (gh_param){"header", GH_T_STR, form_type, sizeof form_type - 1};
    req[4] = str_param("body", form);
    r = graph_call(f, call, "token endpoint", req, 5, &doc);
    host->wipe(form, strlen(form)); /* the secret, the code and the verifier */
    host->free(form);
    if (r != GH_OK)
        return r;
    t = host->json_str(host->json_get(doc, "access_token"));
    /* it goes into a header: printable ASCII, no spaces */
    if (!t || !*t || strlen(t) >= TOKEN_MAX || strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
                                                      "klmnopqrstuvwxyz0123456789-._~+/=") !=
                                                   strlen(t))
        r = host->fail(call, GH_ERR_UPSTREAM, "facebook token endpoint: no usable access_token "
                       "in the answer");
    else
        memcpy(token, t, strlen(t) + 1);
    host->json_free(doc);
    return r;
}

/* GET /me with the token and its appsecret_proof: *me the profile. */
static gh_result fetch_me(const facebook *f, gh_call *call, const char *token, gh_json **me)
{
    unsigned char mac[GH_DIGEST_MAX];
    char proof[2 * GH_DIGEST_MAX + 1], *query = NULL, url[URL_MAX + 256],
         auth[TOKEN_MAX + 32];
    size_t maclen, prooflen;
    gh_param req[REQ_MAX];
    gh_result r;

    r = host->hmac(call, GH_SHA256, f->secret, strlen(f->secret), token, strlen(token), mac,
                   sizeof mac, &maclen);
    if (r == GH_OK)
        r = host->encode(call, GH_ENC_HEX, mac, maclen, proof, sizeof proof, &prooflen);
    if (r == GH_OK)
        r = host->form_encode(call, (gh_param[]){
            str_param("fields", me_fields),
            str_param("appsecret_proof", proof),
            {NULL, 0, NULL, 0},
        }, &query);
    if (r != GH_OK)
        return r;
    snprintf(url, sizeof url, "%s?%s", f->me_url, query);
    host->free(query);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    req[0] = str_param("method", "GET");
    req[1] = str_param("url", url);
    req[2] = str_param("header", "Accept: application/json");
    req[3] = str_param("header", auth);
    r = graph_call(f, call, "/me", req, 4, me);
    host->wipe(auth, sizeof auth);
    host->wipe(mac, sizeof mac);
    return r;
}

/* The string member key of obj as out key, when there is one. */
static gh_result put_str(gh_out *out, const char *key, const gh_json *obj, const char *member)
{
    const char *v = host->json_str(host->json_get(obj, member));

    return v && *v ? host->put(out, &(gh_param){key, GH_T_STR, v, strlen(v)}) : GH_OK;
}

/* The profile under the contract's names. */
static gh_result put_profile(const facebook *f, gh_call *call, const gh_json *me, gh_out *out)
{
    const char *id = host->json_str(host->json_get(me, "id"));
    const char *email = host->json_str(host->json_get(me, "email"));
    const gh_json *picture = host->json_get(host->json_get(me, "picture"), "data");
    int32_t verified = f->trust_email && email && *email;
    char *claims = NULL;
    gh_result r;

    /* the app-scoped user id: digits, the same for this user in this app */
    if (!id || !all_digits(id, 1, 64))
        return host->fail(call, GH_ERR_UPSTREAM, "facebook /me: the answer has no user id");
    if ((r = host->put(out, &(gh_param){"subject", GH_T_STR, id, strlen(id)})) != GH_OK ||
        (r = put_str(out, "email", me, "email")) != GH_OK ||
        (r = host->put(out, &(gh_param){"email_verified", GH_T_BOOL, &verified,
                                        sizeof verified})) != GH_OK ||
        (r = put_str(out, "name", me, "name")) != GH_OK ||
        (r = put_str(out, "given_name", me, "first_name")) != GH_OK ||
        (r = put_str(out, "family_name", me, "last_name")) != GH_OK)
        return r;
    /* Facebook's default silhouette is no picture of this user */
    if (!host->json_bool(host->json_get(picture, "is_silhouette"), 0) &&
        (r = put_str(out, "picture", picture, "url")) != GH_OK)
        return r;
    if ((r = host->json_dump(call, me, &claims)) != GH_OK)
        return r;
    r = host->put(out, &(gh_param){"claims", GH_T_JSON, claims, strlen(claims)});
    host->free(claims);
    return r;
}

/* exchange  in: code, redirect_uri, code_verifier, nonce
 *           out: subject, email, email_verified, name, given_name,
 *                family_name, picture, claims */
static gh_result facebook_exchange(const void *inst, void *tinst, gh_call *call,
                                   const gh_param *in, gh_out *out)
{
    const facebook *f = inst;
    gh_param own;
    const gh_param *code = find(in, "code"), *redirect = redirect_of(f, in, &own),
                   *verifier = find(in, "code_verifier");
    char token[TOKEN_MAX];
    gh_json *me = NULL;
    gh_result r;

    (void)tinst;
    if (!code || !redirect || !verifier)
        return host->fail(call, GH_ERR_INVALID, "facebook: '%s' is required",
                          !code ? "code" : !redirect ? "redirect_uri" : "code_verifier");
    if ((r = fetch_token(f, call, code, redirect, verifier, token)) != GH_OK)
        return r;
    r = fetch_me(f, call, token, &me);
    host->wipe(token, sizeof token);
    if (r == GH_OK)
        r = put_profile(f, call, me, out);
    host->json_free(me);
    if (r == GH_OK)
        host->count(call, "signed_in", 1);
    return r;
}

static const gh_oauth_ops facebook_ops = {
    .size = sizeof(gh_oauth_ops),
    .authorize_url = facebook_authorize_url,
    .exchange = facebook_exchange,
};

static const gh_plugin facebook_plugin = {
    .size = sizeof(gh_plugin),
    .abi_major = GH_ABI_MAJOR,
    .abi_minor = GH_ABI_MINOR,
    .name = "facebook",
    .version = "1.0.0",
    .description = "Log in with Facebook: OAuth 2.0 with PKCE and the Graph API",
    .kind = GH_KIND_OAUTH,
    .options = facebook_options,
    .option_rules = facebook_rules,
    .inst_size = sizeof(facebook),
    .instantiate = facebook_instantiate,
    .detach = facebook_detach,
    .ops = &facebook_ops,
    .flags = GH_PLUGIN_NEEDS_HTTP | GH_PLUGIN_MULTI_INSTANCE,
};

const gh_plugin *gatehouse_plugin_v1(const gh_host *h)
{
    host = h;
    return &facebook_plugin;
}
