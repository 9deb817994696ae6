/*
 * test_facebook.c - the facebook oauth plugin (plugins/oauth/facebook),
 * loaded by the real loader from the YAML the daemon would read, against
 * the Facebook stand-in (tests/integration/facebook_standin.py) on
 * 127.0.0.1, started here for the group and stopped at its end.
 *
 * What it shows: the login dialog's URL as Facebook wants it (PKCE S256,
 * the app id, the exact redirect_uri, the version); a whole sign-in, the
 * dialog driven with the host's HTTP client as a browser would follow it,
 * the code exchanged with the app secret and verifier in a POST body and
 * the profile read with the appsecret_proof the stand-in checks; the email
 * reported verified only with trust_email; a wrong secret, a replayed,
 * expired or misdirected code and a wrong verifier refused; Graph's error
 * objects (rate limits, 500s) and silence mapped to the contract's codes;
 * no secret, code, verifier or token in the log; bad options refused at
 * load.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "asserts.h"
#include "call.h"
#include "clock.h"
#include "fixture.h"
#include "standin.h"

#define APP_ID "1234567890123456"
#define APP_SECRET "fb-app-secret-0123456789abcdef01"
/* nobody listens there: the tests read the dialog's redirect themselves */
#define REDIRECT "http://127.0.0.1:9/api/v1/oauth/fb/callback"
#define STATE "st-Zq8wXk3pL0aR"
/* RFC 7636 Appendix B: a verifier and its S256 challenge */
#define VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
#define ALICE "10229876543210001"
#define BOB "10229876543210002"
#define END {NULL, 0, NULL, 0}
#define STR(k, v) {(k), GH_T_STR, (v), strlen(v)}

static const gh_host *const h = &gh_host_table;
static pid_t standin;
static unsigned port;

static int group_setup(void **state)
{
    const char *const args[] = {APP_ID, APP_SECRET, REDIRECT, NULL};

    if (fx_group_setup(state) != 0)
        return -1;
    port = standin_start("facebook_standin.py", args, &standin);
    return port ? 0 : -1;
}

static int group_teardown(void **state)
{
    standin_stop(standin);
    return fx_group_teardown(state);
}

/* ------------------------------------------------------------ the plugin */

/* The plugin as instance "fb" with these options (YAML lines indented
 * 6); NULL with err on a refusal. */
static fx *load_options(const char *options, char *err, size_t errlen)
{
    char yaml[2048];

    snprintf(yaml, sizeof yaml, "plugins:\n  - name: fb\n    plugin: facebook\n    options:\n%s",
             options);
    return fx_load(yaml, err, errlen);
}

/* The app's options, pointed at the stand-in, with extra's lines in
 * place of those of the same key. */
static fx *load(const char *extra, char *err, size_t errlen)
{
    char base[6][96], options[1536] = "", key[48];

    snprintf(base[0], sizeof base[0], "      client_id: \"" APP_ID "\"\n");
    snprintf(base[1], sizeof base[1], "      client_secret: " APP_SECRET "\n");
    snprintf(base[2], sizeof base[2], "      dialog_url: http://127.0.0.1:%u\n", port);
    snprintf(base[3], sizeof base[3], "      graph_url: http://127.0.0.1:%u/\n", port);
    snprintf(base[4], sizeof base[4], "      allow_http: true\n");
    snprintf(base[5], sizeof base[5], "      allow_private: true\n");
    for (size_t i = 0; i < 6; i++) {
        /* "client_secret" stands for "client_secret_file" too */
        snprintf(key, sizeof key, "%.*s", (int)strcspn(base[i], ":"), base[i]);
        if (!extra || !strstr(extra, key))
            strcat(options, base[i]);
    }
    strcat(options, extra ? extra : "");
    return load_options(options, err, errlen);
}

static fx *load_ok(const char *extra)
{
    char err[512];
    fx *f = load(extra, err, sizeof err);

    if (!f)
        fail_msg("%s", err);
    return f;
}

static gh_loaded *fb(fx *f)
{
    gh_loaded *p = plugins_find(&f->ps, GH_KIND_OAUTH, "fb");

    assert_non_null(p);
    return p;
}

/* authorize_url with our state and challenge, and scope (NULL: none). */
static gh_result authorize(fx *f, const char *scope, gh_call *call, gh_out *out)
{
    gh_loaded *p = fb(f);
    const gh_oauth_ops *ops = p->desc->ops;
    gh_param in[] = {STR("redirect_uri", REDIRECT), STR("state", STATE),
                     STR("nonce", "n-0S6_WzA2Mj"), STR("code_challenge", CHALLENGE),
                     scope ? (gh_param)STR("scope", scope) : (gh_param)END, END};

    call_init(call, p, "req-fb", 5000);
    return ops->authorize_url(p->inst, plugin_tinst(p), call, in, out);
}

/* The "url" authorize_url put, into buf. */
static const char *dialog_url(fx *f, const char *scope, char *buf, size_t len)
{
    gh_call call;
    gh_out *out = h->out_new();
    const gh_param *url;

    if (authorize(f, scope, &call, out) != GH_OK)
        fail_msg("authorize_url: %s", call.message);
    url = h->out_get(out, "url", 0);
    assert_non_null(url);
    assert_true(url->len < len);
    snprintf(buf, len, "%.*s", (int)url->len, (const char *)url->data);
    h->out_free(out);
    return buf;
}

/* A request to the stand-in as a browser or the test makes it; the
 * response's status, and its Location (or "") into location. */
static int64_t browse(const char *method, const char *url, const char *body, char *location,
                      size_t len)
{
    const int32_t yes = 1;
    gh_param req[] = {STR("method", method), STR("url", url), STR("body", body ? body : ""),
                      {"allow_http", GH_T_BOOL, &yes, sizeof yes},
                      {"allow_private", GH_T_BOOL, &yes, sizeof yes}, END};
    gh_out *resp = h->out_new();
    const gh_param *p;
    gh_call call;
    int64_t status;

    call_init(&call, NULL, "browser", 5000);
    if (!body) /* a GET: no body key at all */
        req[2] = req[3], req[3] = req[4], req[4] = (gh_param)END;
    if (h->http(&call, req, resp) != GH_OK)
        fail_msg("%s %s: %s", method, url, call.message);
    status = *(const int64_t *)h->out_get(resp, "status", 0)->data;
    if (location)
        location[0] = '\0';
    for (size_t i = 0; location && (p = h->out_get(resp, "header", i)) != NULL; i++)
        if (p->len > 10 && strncmp(p->data, "Location: ", 10) == 0)
            snprintf(location, len, "%.*s", (int)p->len - 10, (const char *)p->data + 10);
    h->out_free(resp);
    return status;
}

/* The value of name=... in a URL's query, into buf ("" when absent). */
static const char *query_value(const char *url, const char *name, char *buf, size_t len)
{
    const char *q = strchr(url, '?'), *p = q;
    size_t n = strlen(name);

    buf[0] = '\0';
    while (p && (p = strstr(p + 1, name)) != NULL)
        if ((p[-1] == '?' || p[-1] == '&') && p[n] == '=') {
            snprintf(buf, len, "%.*s", (int)strcspn(p + n + 1, "&#"), p + n + 1);
            break;
        }
    return buf;
}

/* The user signs in at the dialog at url and is sent back to REDIRECT
 * with our state: the code, into code. */
static const char *follow_dialog(const char *url, char *code, size_t len)
{
    char location[2048], state[64];

    assert_int_equal(browse("GET", url, NULL, location, sizeof location), 302);
    if (strncmp(location, REDIRECT "?", sizeof REDIRECT) != 0)
        fail_msg("sent back to %s", location);
    assert_string_equal(query_value(location, "state", state, sizeof state), STATE);
    assert_non_null(strstr(location, "#_=_")); /* as Facebook sends it */
    query_value(location, "code", code, len);
    assert_true(strlen(code) > 20);
    return code;
}

/* follow_dialog on the URL authorize_url gives for scope, with extra (the
 * stand-in's parameters, "" none). */
static const char *sign_in(fx *f, const char *scope, const char *extra, char *code, size_t len)
{
    char url[2048];

    dialog_url(f, scope, url, sizeof url - 64);
    strcat(url, extra);
    return follow_dialog(url, code, len);
}

static gh_result exchange_as(fx *f, const char *code, const char *redirect, const char *verifier,
                             gh_call *call, gh_out *out, int64_t ms)
{
    gh_loaded *p = fb(f);
    const gh_oauth_ops *ops = p->desc->ops;

    call_init(call, p, "req-fb-cb", ms);
    return ops->exchange(p->inst, plugin_tinst(p), call,
                         (gh_param[]){STR("code", code), STR("redirect_uri", redirect),
                                      STR("code_verifier", verifier),
                                      STR("nonce", "n-0S6_WzA2Mj"), END},
                         out);
}

static gh_result exchange(fx *f, const char *code, gh_call *call, gh_out *out)
{
    return exchange_as(f, code, REDIRECT, VERIFIER, call, out, 5000);
}

/* Alice signs in and her code is exchanged into out: the record's line
 * number of the token request (the /me request follows it). */
static int whole_sign_in(fx *f, char *code, size_t len, gh_out *out)
{
    gh_call call;
    int before;

    sign_in(f, NULL, "", code, len);
    before = record_lines();
    if (exchange(f, code, &call, out) != GH_OK)
        fail_msg("exchange: %s", call.message);
    return before;
}

/* The STR value key put in out, or "(none)". */
static const char *out_str(const gh_out *out, const char *key, char *buf, size_t len)
{
    const gh_param *p = h->out_get(out, key, 0);

    snprintf(buf, len, "%.*s", p ? (int)p->len : 6, p ? (const char *)p->data : "(none)");
    return buf;
}

static int out_bool(const gh_out *out, const char *key)
{
    const gh_param *p = h->out_get(out, key, 0);

    assert_non_null(p);
    assert_int_equal(p->type, GH_T_BOOL);
    return *(const int32_t *)p->data;
}

/* One of the stand-in's switches: "fail" with "endpoint=token|me&mode=
 * 500|rate_limit|html|slow|off", or "expire" (every code issued so far). */
static void standin_control(const char *what, const char *body)
{
    char url[128];

    snprintf(url, sizeof url, "http://127.0.0.1:%u/_standin/%s", port, what);
    assert_int_equal(browse("POST", url, body, NULL, 0), 200);
}

/* The hex HMAC-SHA256 of token under the app secret, into buf. */
static const char *proof_of(const char *secret, const char *token, char *buf, size_t len)
{
    unsigned char mac[GH_DIGEST_MAX];
    size_t maclen, n;

    assert_int_equal(h->hmac(NULL, GH_SHA256, secret, strlen(secret), token, strlen(token), mac,
                             sizeof mac, &maclen),
                     GH_OK);
    assert_int_equal(h->encode(NULL, GH_ENC_HEX, mac, maclen, buf, len, &n), GH_OK);
    return buf;
}

/* ------------------------------------------------------------ the dialog */

static void test_authorize_url(void **state)
{
    fx *f = load_ok(NULL);
    char url[2048], want[2048], err[512];
    gh_call call;
    gh_out *out = h->out_new();

    (void)state;
    snprintf(want, sizeof want,
             "http://127.0.0.1:%u/v23.0/dialog/oauth?client_id=" APP_ID
             "&redirect_uri=http%%3A%%2F%%2F127.0.0.1%%3A9%%2Fapi%%2Fv1%%2Foauth%%2Ffb%%2Fcallback"
             "&state=" STATE "&response_type=code&scope=email+public_profile"
             "&code_challenge=" CHALLENGE "&code_challenge_method=S256", port);
    assert_string_equal(dialog_url(f, NULL, url, sizeof url), want);
    /* a scope of the call's own, instead of the option's */
    assert_contains(dialog_url(f, "public_profile", url, sizeof url),
                    "&scope=public_profile&code_challenge=");
    /* PKCE and state are not optional */
    call_init(&call, fb(f), "req-fb", 5000);
    assert_int_equal(((const gh_oauth_ops *)fb(f)->desc->ops)
                         ->authorize_url(fb(f)->inst, NULL, &call,
                                         (gh_param[]){STR("redirect_uri", REDIRECT),
                                                      STR("state", STATE), END},
                                         out),
                     GH_ERR_INVALID);
    assert_contains(call.message, "'code_challenge' is required");
    assert_null(h->out_get(out, "url", 0));
    fx_close(f);

    /* Facebook's own addresses by default; the version and scopes as set */
    f = load_options("      client_id: \"" APP_ID "\"\n      client_secret: " APP_SECRET "\n"
                     "      api_version: v21.0\n      scopes: email\n", err, sizeof err);
    if (!f)
        fail_msg("%s", err);
    assert_contains(dialog_url(f, NULL, url, sizeof url),
                    "https://www.facebook.com/v21.0/dialog/oauth?client_id=" APP_ID "&");
    assert_contains(url, "&scope=email&");
    h->out_free(out);
    fx_close(f);
}

/* redirect_uri set: the option's URI in both ops, whatever the core's. */
static void test_redirect_uri_option(void **state)
{
    fx *f = load_ok("      redirect_uri: " REDIRECT "\n");
    gh_loaded *p = fb(f);
    const gh_oauth_ops *ops = p->desc->ops;
    gh_param in[] = {STR("redirect_uri", "https://core.example/cb"), STR("state", STATE),
                     STR("code_challenge", CHALLENGE), END};
    char url[2048], code[256];
    gh_call call;
    gh_out *out = h->out_new();

    (void)state;
    call_init(&call, p, "req-fb", 5000);
    assert_int_equal(ops->authorize_url(p->inst, plugin_tinst(p), &call, in, out), GH_OK);
    out_str(out, "url", url, sizeof url);
    assert_contains(url, "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fapi%2Fv1%2Foauth%2Ffb"
                         "%2Fcallback&");
    assert_null(strstr(url, "core.example"));
    h->out_free(out);
    out = h->out_new();
    follow_dialog(url, code, sizeof code);
    if (exchange_as(f, code, "https://core.example/cb", VERIFIER, &call, out, 5000) != GH_OK)
        fail_msg("exchange: %s", call.message);
    h->out_free(out);
    fx_close(f);
}

/* What the stand-in's dialog refuses, as Facebook does: the test's own
 * check that a wrong app id or redirect_uri cannot get a code. */
static void test_dialog_refusals(void **state)
{
    fx *f = load_ok(NULL);
    char url[2048], location[2048], buf[64];
    char *p;

    (void)state;
    dialog_url(f, NULL, url, sizeof url);
    p = strstr(url, "client_id=" APP_ID) + 10;
    *p = '9'; /* another app */
    assert_int_equal(browse("GET", url, NULL, location, sizeof location), 400);
    assert_string_equal(location, "");
    dialog_url(f, NULL, url, sizeof url);
    p = strstr(url, "%2Fcallback") + 11;
    memmove(p + 3, p, strlen(p) + 1);
    memcpy(p, "%2F", 3); /* the registered URI and a '/' */
    assert_int_equal(browse("GET", url, NULL, location, sizeof location), 400);
    assert_string_equal(location, "");
    /* the user cancels: back with Facebook's error, and our state */
    dialog_url(f, NULL, url, sizeof url);
    strcat(url, "&standin_deny=1");
    assert_int_equal(browse("GET", url, NULL, location, sizeof location), 302);
    assert_string_equal(query_value(location, "error", buf, sizeof buf), "access_denied");
    assert_string_equal(query_value(location, "error_reason", buf, sizeof buf), "user_denied");
    assert_string_equal(query_value(location, "state", buf, sizeof buf), STATE);
    assert_string_equal(query_value(location, "code", buf, sizeof buf), "");
    fx_close(f);
}

/* ------------------------------------------------------------ sign-in */

static void test_sign_in(void **state)
{
    fx *f = load_ok(NULL);
    char code[256], buf[512], token[512], proof[160], *line;
    gh_out *out = h->out_new();
    const gh_param *claims;
    int before;

    (void)state;
    before = whole_sign_in(f, code, sizeof code, out);
    assert_string_equal(out_str(out, "subject", buf, sizeof buf), ALICE);
    assert_string_equal(out_str(out, "email", buf, sizeof buf), "alice@example.com");
    assert_false(out_bool(out, "email_verified")); /* Facebook does not say */
    assert_string_equal(out_str(out, "name", buf, sizeof buf), "Alice Example");
    assert_string_equal(out_str(out, "given_name", buf, sizeof buf), "Alice");
    assert_string_equal(out_str(out, "family_name", buf, sizeof buf), "Example");
    assert_contains(out_str(out, "picture", buf, sizeof buf),
                    "https://platform-lookaside.fbsbx.com/platform/profilepic/?asid=" ALICE);
    claims = h->out_get(out, "claims", 0);
    assert_non_null(claims);
    assert_int_equal(claims->type, GH_T_JSON);
    assert_contains(claims->data, "\"id\":\"" ALICE "\"");
    assert_contains(claims->data, "\"first_name\":\"Alice\"");

    /* the token request: a POST with the secret, the code and the verifier */
    line = record_line(before);
    assert_string_equal(json_field(line, "endpoint", buf, sizeof buf), "token");
    assert_string_equal(json_field(line, "method", buf, sizeof buf), "POST");
    assert_string_equal(json_field(line, "path", buf, sizeof buf), "/v23.0/oauth/access_token");
    assert_string_equal(json_field(line, "status", buf, sizeof buf), "200");
    assert_string_equal(json_field(line, "secret_ok", buf, sizeof buf), "true");
    assert_string_equal(json_field(line, "params.code", buf, sizeof buf), code);
    assert_string_equal(json_field(line, "params.code_verifier", buf, sizeof buf), VERIFIER);
    assert_string_equal(json_field(line, "params.redirect_uri", buf, sizeof buf), REDIRECT);
    json_field(line, "access_token", token, sizeof token);
    assert_true(strlen(token) > 20);
    free(line);
    /* /me: the fields, the token in the header, the proof right */
    line = record_line(before + 1);
    assert_string_equal(json_field(line, "endpoint", buf, sizeof buf), "me");
    assert_string_equal(json_field(line, "status", buf, sizeof buf), "200");
    assert_string_equal(json_field(line, "params.fields", buf, sizeof buf),
                        "id,name,email,first_name,last_name,picture");
    assert_string_equal(json_field(line, "via", buf, sizeof buf), "header");
    assert_string_equal(json_field(line, "params.access_token", buf, sizeof buf), "(null)");
    assert_string_equal(json_field(line, "params.appsecret_proof", buf, sizeof buf),
                        proof_of(APP_SECRET, token, proof, sizeof proof));
    assert_string_equal(json_field(line, "proof", buf, sizeof buf), "ok");
    free(line);
    /* the token never reaches the core */
    assert_null(h->out_get(out, "access_token", 0));
    assert_null(strstr(claims->data, token));
    h->out_free(out);
    fx_close(f);
}

/* The stand-in's /me takes the token only with its proof: what makes
 * test_sign_in's success show that the plugin's proof is right. */
static void test_proof_is_checked(void **state)
{
    fx *f = load_ok(NULL);
    char code[256], token[512], proof[160], url[1024], *line;
    gh_out *out = h->out_new();
    int before;

    (void)state;
    line = record_line(whole_sign_in(f, code, sizeof code, out));
    json_field(line, "access_token", token, sizeof token);
    free(line);

    before = record_lines();
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v23.0/me?fields=id&access_token=%s", port,
             token);
    assert_int_equal(browse("GET", url, NULL, NULL, 0), 400);
    snprintf(url + strlen(url), sizeof url - strlen(url), "&appsecret_proof=%s",
             proof_of("another-secret", token, proof, sizeof proof));
    assert_int_equal(browse("GET", url, NULL, NULL, 0), 400);
    line = record_line(before);
    assert_contains(line, "\"proof\": \"missing\"");
    assert_contains(line, "\"error_code\": 100");
    free(line);
    line = record_line(before + 1);
    assert_contains(line, "\"proof\": \"wrong\"");
    assert_contains(line, "\"error_code\": 100");
    free(line);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v23.0/me?fields=id&access_token=%s"
             "&appsecret_proof=%s", port, token, proof_of(APP_SECRET, token, proof, sizeof proof));
    assert_int_equal(browse("GET", url, NULL, NULL, 0), 200);
    h->out_free(out);
    fx_close(f);
}

static void test_email_trust(void **state)
{
    fx *f = load_ok("      trust_email: true\n");
    char code[256], buf[256];
    gh_call call;
    gh_out *out = h->out_new();

    (void)state;
    assert_int_equal(exchange(f, sign_in(f, NULL, "", code, sizeof code), &call, out), GH_OK);
    assert_string_equal(out_str(out, "email", buf, sizeof buf), "alice@example.com");
    assert_true(out_bool(out, "email_verified"));
    h->out_free(out);

    /* bob signed up with a phone number: no email, nothing verified, and
     * Facebook's silhouette is no picture of him */
    out = h->out_new();
    assert_int_equal(exchange(f, sign_in(f, NULL, "&standin_user=bob", code, sizeof code), &call,
                              out),
                     GH_OK);
    assert_string_equal(out_str(out, "subject", buf, sizeof buf), BOB);
    assert_string_equal(out_str(out, "email", buf, sizeof buf), "(none)");
    assert_false(out_bool(out, "email_verified"));
    assert_string_equal(out_str(out, "picture", buf, sizeof buf), "(none)");
    assert_string_equal(out_str(out, "given_name", buf, sizeof buf), "Bob");
    h->out_free(out);

    /* without the email permission Graph leaves the email out */
    out = h->out_new();
    assert_int_equal(exchange(f, sign_in(f, "public_profile", "", code, sizeof code), &call, out),
                     GH_OK);
    assert_string_equal(out_str(out, "subject", buf, sizeof buf), ALICE);
    assert_string_equal(out_str(out, "email", buf, sizeof buf), "(none)");
    assert_false(out_bool(out, "email_verified"));
    h->out_free(out);
    fx_close(f);
}

/* ------------------------------------------------------------ refusals */

static void test_code_refused(void **state)
{
    fx *f = load_ok(NULL);
    char code[256];
    gh_call call;
    gh_out *out = h->out_new();

    (void)state;
    /* replayed */
    sign_in(f, NULL, "", code, sizeof code);
    assert_int_equal(exchange(f, code, &call, out), GH_OK);
    assert_int_equal(exchange(f, code, &call, out), GH_ERR_DENIED);
    assert_contains(call.message, "100/36009: This authorization code has been used.");
    assert_contains(call.message, "fbtrace_id ");
    h->out_free(out);
    out = h->out_new();
    /* another verifier: PKCE binds the code to this browser's flow */
    sign_in(f, NULL, "", code, sizeof code);
    assert_int_equal(exchange_as(f, code, REDIRECT, "x" VERIFIER, &call, out, 5000),
                     GH_ERR_DENIED);
    assert_contains(call.message, "Invalid code verifier");
    /* another redirect_uri than the dialog's */
    sign_in(f, NULL, "", code, sizeof code);
    assert_int_equal(exchange_as(f, code, REDIRECT "x", VERIFIER, &call, out, 5000),
                     GH_ERR_DENIED);
    assert_contains(call.message, "36008");
    /* expired: Facebook's codes live ten minutes */
    sign_in(f, NULL, "", code, sizeof code);
    standin_control("expire", "");
    assert_int_equal(exchange(f, code, &call, out), GH_ERR_DENIED);
    assert_contains(call.message, "100/36007: This authorization code has expired.");
    /* made up */
    assert_int_equal(exchange(f, "AQBx-made-up-code", &call, out), GH_ERR_DENIED);
    assert_contains(call.message, "Invalid verification code format.");
    assert_null(h->out_get(out, "subject", 0));
    h->out_free(out);
    fx_close(f);
}

/* A wrong app secret or app id is the admin's to fix: the sign-in cannot
 * go on (UNAVAILABLE), and the log says which options to check. */
static void test_wrong_credentials(void **state)
{
    fx *f = load_ok("      client_secret: not-the-app-secret\n"), *good = load_ok(NULL);
    char code[256], trace[64], *log, *line;
    gh_call call;
    gh_out *out = h->out_new();
    int before;

    (void)state;
    sign_in(good, NULL, "", code, sizeof code);
    before = record_lines();
    capture_start();
    assert_int_equal(exchange(f, code, &call, out), GH_ERR_UNAVAILABLE);
    log = capture_stop();
    line = record_line(before);
    assert_contains(line, "\"secret_ok\": false");
    json_field(line, "fbtrace_id", trace, sizeof trace);
    free(line);
    assert_contains(call.message, "HTTP 400 (code 1;");
    assert_contains(log, "Error validating client secret.");
    assert_contains(log, "check options 'client_id' and 'client_secret'");
    assert_contains(log, trace);
    assert_null(strstr(log, "not-the-app-secret"));
    assert_null(strstr(log, code));
    free(log);
    fx_close(f);

    /* another app's id (the wrong secret left the code unused) */
    f = load_ok("      client_id: \"1234567890123457\"\n");
    assert_int_equal(exchange(f, code, &call, out), GH_ERR_UNAVAILABLE);
    assert_contains(call.message, "(code 101;");
    assert_null(h->out_get(out, "subject", 0));
    h->out_free(out);
    fx_close(f);
    fx_close(good);
}

/* Graph's rate limits and failures, and a Graph that is not there. */
static void test_graph_errors_mapped(void **state)
{
    static const struct {
        const char *endpoint, *mode;
        gh_result want;
        const char *says;
    } cases[] = {
        {"token", "500", GH_ERR_UNAVAILABLE, "facebook token endpoint: HTTP 500 (code 2:"},
        {"token", "rate_limit", GH_ERR_RATE_LIMITED, "rate limited (HTTP 400, code 4:"},
        {"me", "500", GH_ERR_UNAVAILABLE, "facebook /me: HTTP 500 (code 2:"},
        {"me", "rate_limit", GH_ERR_RATE_LIMITED, "facebook /me: rate limited"},
        {"token", "html", GH_ERR_UPSTREAM, "token endpoint: the answer is not a JSON object"},
        {"me", "html", GH_ERR_UPSTREAM, "facebook /me: the answer is not a JSON object"},
    };
    fx *f = load_ok(NULL);
    char code[256], body[64], trace[64], *line, err[512];
    gh_call call;
    gh_out *out = h->out_new();

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gh_result r;
        int before;

        sign_in(f, NULL, "", code, sizeof code);
        snprintf(body, sizeof body, "endpoint=%s&mode=%s", cases[i].endpoint, cases[i].mode);
        standin_control("fail", body);
        before = record_lines();
        r = exchange(f, code, &call, out);
        snprintf(body, sizeof body, "endpoint=%s&mode=off", cases[i].endpoint);
        standin_control("fail", body);
        if (r != cases[i].want)
            fail_msg("%s %s: %s, not %s (%s)", cases[i].endpoint, cases[i].mode, gh_result_str(r),
                     gh_result_str(cases[i].want), call.message);
        assert_contains(call.message, cases[i].says);
        line = record_line(before + (strcmp(cases[i].endpoint, "me") == 0));
        if (cases[i].want != GH_ERR_UPSTREAM) /* a Graph error object's trace id */
            assert_contains(call.message, json_field(line, "fbtrace_id", trace, sizeof trace));
        free(line);
        assert_null(h->out_get(out, "subject", 0));
    }
    fx_close(f);

    /* nobody listening */
    f = load_options("      client_id: \"" APP_ID "\"\n      client_secret: " APP_SECRET "\n"
                     "      graph_url: http://127.0.0.1:9\n      allow_http: true\n"
                     "      allow_private: true\n", err, sizeof err);
    assert_non_null(f);
    assert_int_equal(exchange(f, "AQBcode", &call, out), GH_ERR_UNAVAILABLE);
    fx_close(f);
    /* a loopback Graph without allow_private: refused before any packet */
    f = load_options("      client_id: \"" APP_ID "\"\n      client_secret: " APP_SECRET "\n"
                     "      graph_url: http://127.0.0.1:9\n      allow_http: true\n", err,
                     sizeof err);
    assert_non_null(f);
    assert_int_equal(exchange(f, "AQBcode", &call, out), GH_ERR_INVALID);
    assert_contains(call.message, "allow_private");
    h->out_free(out);
    fx_close(f);
}

static void test_timeout(void **state)
{
    fx *f = load_ok(NULL);
    char code[256];
    int64_t start;
    gh_call call;
    gh_out *out = h->out_new();

    (void)state;
    /* the stand-in answers after 3 s; the call has 500 ms */
    sign_in(f, NULL, "", code, sizeof code);
    standin_control("fail", "endpoint=token&mode=slow");
    start = gh_monotonic_ms();
    assert_int_equal(exchange_as(f, code, REDIRECT, VERIFIER, &call, out, 500), GH_ERR_TIMEOUT);
    assert_true(gh_monotonic_ms() - start < 2500);
    fx_close(f);

    /* the option's timeout, when the call has longer; on /me this time */
    f = load_ok("      timeout: 1s\n");
    sign_in(f, NULL, "", code, sizeof code);
    standin_control("fail", "endpoint=token&mode=off");
    standin_control("fail", "endpoint=me&mode=slow");
    start = gh_monotonic_ms();
    assert_int_equal(exchange_as(f, code, REDIRECT, VERIFIER, &call, out, 10000), GH_ERR_TIMEOUT);
    assert_true(gh_monotonic_ms() - start >= 900);
    assert_true(gh_monotonic_ms() - start < 2500);
    standin_control("fail", "endpoint=me&mode=off");
    assert_null(h->out_get(out, "subject", 0));
    h->out_free(out);
    fx_close(f);
}

/* The call's message (which the core logs) after each exchange of the
 * codes, added to said. */
static void exchange_noting(fx *f, const char *code, const char *verifier, gh_result want,
                            char *said, size_t len)
{
    gh_call call;
    gh_out *out = h->out_new();

    assert_int_equal(exchange_as(f, code, REDIRECT, verifier, &call, out, 5000), want);
    snprintf(said + strlen(said), len - strlen(said), "%s\n", want ? call.message : "");
    h->out_free(out);
}

/* Whatever happens, neither the log nor a failure's message names the
 * secret, a code, the verifier or a token. */
static void test_no_secret_in_log(void **state)
{
    fx *f = load_ok(NULL), *wrong = load_ok("      client_secret: not-the-app-secret\n");
    char codes[4][256], tokens[2][512], said[4096] = "", *log, *line;
    int before = record_lines();

    (void)state;
    for (int i = 0; i < 4; i++)
        sign_in(f, NULL, "", codes[i], sizeof codes[i]);
    capture_start();
    exchange_noting(f, codes[0], VERIFIER, GH_OK, said, sizeof said);
    exchange_noting(f, codes[0], VERIFIER, GH_ERR_DENIED, said, sizeof said);
    exchange_noting(f, codes[1], "x" VERIFIER, GH_ERR_DENIED, said, sizeof said);
    exchange_noting(wrong, codes[3], VERIFIER, GH_ERR_UNAVAILABLE, said, sizeof said);
    standin_control("fail", "endpoint=me&mode=500");
    exchange_noting(f, codes[2], VERIFIER, GH_ERR_UNAVAILABLE, said, sizeof said);
    standin_control("fail", "endpoint=me&mode=off");
    log = capture_stop();
    for (int i = 0, k = 0; k < 2; i++) { /* the two tokens issued */
        line = record_line(before + i);
        if (strstr(line, "\"access_token\": \"")) {
            json_field(line, "access_token", tokens[k], sizeof tokens[k]);
            k++;
        }
        free(line);
    }
    /* what was said, to show the search below looks at something */
    assert_contains(said, "This authorization code has been used.");
    assert_contains(said, "Invalid code verifier.");
    assert_contains(said, "HTTP 500");
    assert_contains(log, "Error validating client secret.");
    for (char *text = said; text; text = text == said ? log : NULL) {
        assert_null(strstr(text, APP_SECRET));
        assert_null(strstr(text, "not-the-app-secret"));
        assert_null(strstr(text, VERIFIER));
        for (int i = 0; i < 4; i++)
            assert_null(strstr(text, codes[i]));
        for (int i = 0; i < 2; i++)
            assert_null(strstr(text, tokens[i]));
    }
    free(log);
    fx_close(wrong);
    fx_close(f);
}

/* ------------------------------------------------------------ options */

static void test_options_checked_at_load(void **state)
{
    static const struct {
        const char *yaml, *says;
    } cases[] = {
        {"      api_version: \"19.0\"\n", "option 'api_version' must be a Graph API version"},
        {"      api_version: v19\n", "option 'api_version' must be a Graph API version"},
        {"      api_version: v19.0/me\n", "option 'api_version' must be a Graph API version"},
        {"      api_version: \"\"\n", "option 'api_version' must be a Graph API version"},
        {"      client_id: my-app\n", "option 'client_id' must be the app id, digits only"},
        {"      timeout: 500ms\n", "option 'timeout' must be from 1s to 60s"},
        {"      trust_email: maybe\n", "option 'trust_email' must be"},
        {"      client_secret: \"\"\n", "option 'client_secret' is empty"},
        {"      redirect_uri: /api/v1/oauth/fb/callback\n", "option 'redirect_uri' must be"},
        {"      redirect_uri: \"" REDIRECT "#x\"\n", "option 'redirect_uri' must be"},
    };
    char err[512], code[256];
    FILE *secret;
    gh_call call;
    gh_out *out;
    fx *f;

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = '\0';
        if ((f = load(cases[i].yaml, err, sizeof err)) != NULL) {
            fx_close(f);
            fail_msg("case %zu loaded", i);
        }
        assert_contains(err, cases[i].says);
    }
    /* http:// only when allowed; no credentials, query or fragment */
    assert_null(load_options("      client_id: \"1\"\n      client_secret: s\n"
                             "      dialog_url: http://www.facebook.com\n", err, sizeof err));
    assert_contains(err, "option 'dialog_url' must be https:// (http:// only with allow_http");
    assert_null(load_options("      client_id: \"1\"\n      client_secret: s\n"
                             "      graph_url: https://u:p4ssw0rd@graph.facebook.com\n", err,
                             sizeof err));
    assert_contains(err, "option 'graph_url' must be an https:// URL without credentials");
    assert_null(strstr(err, "p4ssw0rd"));
    assert_null(load_options("      client_id: \"1\"\n      client_secret: s\n"
                             "      graph_url: https://graph.facebook.com/?x=1\n", err,
                             sizeof err));
    assert_contains(err, "option 'graph_url' must be an https:// URL");
    assert_null(load_options("      client_id: \"1\"\n      client_secret: s\n"
                             "      redirect_uri: " REDIRECT "\n", err, sizeof err));
    assert_contains(err, "(http:// only with allow_http: true)");
    assert_null(load_options("      client_id: \"1\"\n", err, sizeof err));
    assert_contains(err, "missing required option 'client_secret'");
    assert_null(load_options("      client_secret: s\n", err, sizeof err));
    assert_contains(err, "missing required option 'client_id'");

    /* the secret from a file, as an admin keeps it */
    assert_non_null(secret = fopen("app.secret", "w"));
    fputs(APP_SECRET "\n", secret);
    fclose(secret);
    f = load("      client_secret_file: app.secret\n", err, sizeof err);
    if (!f)
        fail_msg("%s", err);
    out = h->out_new();
    assert_int_equal(exchange(f, sign_in(f, NULL, "", code, sizeof code), &call, out), GH_OK);
    h->out_free(out);
    fx_close(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_authorize_url),
        cmocka_unit_test(test_redirect_uri_option),
        cmocka_unit_test(test_dialog_refusals),
        cmocka_unit_test(test_sign_in),
        cmocka_unit_test(test_proof_is_checked),
        cmocka_unit_test(test_email_trust),
        cmocka_unit_test(test_code_refused),
        cmocka_unit_test(test_wrong_credentials),
        cmocka_unit_test(test_graph_errors_mapped),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_no_secret_in_log),
        cmocka_unit_test(test_options_checked_at_load),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
