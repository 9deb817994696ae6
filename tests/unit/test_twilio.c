/*
 * test_twilio.c - the twilio mfa plugin (plugins/mfa/twilio), loaded by the
 * real loader from the YAML the daemon would read, against the Twilio
 * stand-in (tests/integration/twilio_standin.py) on 127.0.0.1, started here
 * for the group and stopped at its end.
 *
 * What it shows: a code goes out as Twilio's Messages resource wants it
 * (the form fields, basic auth with the auth token or an API key, a
 * Messaging Service, the StatusCallback built from the public URL and the
 * instance's name); each Twilio error answer becomes the op contract's
 * code, with the number masked and no secret in the log; a malformed
 * number never leaves; the options are checked at load; and delivery
 * reports are taken only with Twilio's signature, checked against the
 * stand-in's reports and the example of Twilio's documentation.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "asserts.h"
#include "call.h"
#include "clock.h"
#include "fixture.h"
#include "log.h"
#include "standin.h"

#define ACCOUNT "AC0123456789abcdef0123456789abcdef"
#define TOKEN "tw-auth-token-0123456789abcdef"
#define KEY_SID "SK00112233445566778899aabbccddeeff"
#define KEY_SECRET "tw-key-secret-fedcba9876543210"
#define SERVICE "MG0123456789abcdef0123456789abcdef"
#define FROM "+15005550006"
/* nobody listens there: the stand-in's reports are read from its record */
#define PUBLIC_URL "http://127.0.0.1:9"

static const gh_host *const h = &gh_host_table;
static pid_t standin;
static unsigned port;

/* ------------------------------------------------------------ the stand-in */

static int group_setup(void **state)
{
    const char *const args[] = {ACCOUNT, TOKEN, KEY_SID, KEY_SECRET, NULL};

    if (fx_group_setup(state) != 0)
        return -1;
    port = standin_start("twilio_standin.py", args, &standin);
    return port ? 0 : -1;
}

static int group_teardown(void **state)
{
    standin_stop(standin);
    return fx_group_teardown(state);
}

/* ------------------------------------------------------------ the plugin */

/* The plugin as instance "sms" with the account's options and extra
 * (YAML lines of more options, indented 6); NULL with err on a refusal. */
static fx *load(const char *extra, int with_token, char *err, size_t errlen)
{
    char yaml[2048];

    int own_sender = extra && (strstr(extra, "from:") || strstr(extra, "messaging_service_sid"));

    snprintf(yaml, sizeof yaml,
             "plugins:\n"
             "  - name: sms\n"
             "    plugin: twilio\n"
             "    options:\n"
             "      account_sid: %s\n"
             "      api_base: http://127.0.0.1:%u/\n"
             "%s%s%s",
             ACCOUNT, port, with_token ? "      auth_token: " TOKEN "\n" : "", extra ? extra : "",
             own_sender ? "" : "      from: \"" FROM "\"\n");
    return fx_load(yaml, err, errlen);
}

static fx *load_ok(const char *extra)
{
    char err[512];
    fx *f = load(extra, 1, err, sizeof err);

    if (!f)
        fail_msg("%s", err);
    return f;
}

static gh_loaded *sms(fx *f)
{
    gh_loaded *p = plugins_find(&f->ps, GH_KIND_MFA, "sms");

    assert_non_null(p);
    return p;
}

/* challenge to dest, with a call that knows the public URL; the result,
 * with call and out left for the test. */
static gh_result challenge(fx *f, const char *dest, gh_call *call, gh_out *out, int64_t ms)
{
    gh_loaded *p = sms(f);
    const gh_mfa_ops *ops = p->desc->ops;
    char text[64];

    call_init(call, p, "req-tw", ms);
    call->public_url = PUBLIC_URL;
    snprintf(text, sizeof text, "Your Example code is 493817");
    return ops->challenge(p->inst, plugin_tinst(p), call,
                          (gh_param[]){{"destination", GH_T_STR, dest, strlen(dest)},
                                       {"text", GH_T_STR, text, strlen(text)},
                                       {"code", GH_T_STR, "493817", 6},
                                       {NULL, 0, NULL, 0}},
                          out);
}

/* ------------------------------------------------------------ sending */

static void test_send_with_auth_token(void **state)
{
    fx *f = load_ok(NULL);
    int before = record_lines();
    char *line, buf[256], sid[64];
    gh_call call;
    gh_out *out = h->out_new();
    const gh_param *id;

    (void)state;
    assert_int_equal(challenge(f, "+14155550123", &call, out, 5000), GH_OK);
    id = h->out_get(out, "message_id", 0);
    assert_non_null(id);
    assert_int_equal(id->len, 34);
    assert_memory_equal(id->data, "SM", 2);

    line = record_line(before);
    assert_string_equal(json_field(line, "status", buf, sizeof buf), "201");
    assert_string_equal(json_field(line, "sid", sid, sizeof sid), id->data);
    assert_string_equal(json_field(line, "auth_user", buf, sizeof buf), ACCOUNT);
    assert_string_equal(json_field(line, "path", buf, sizeof buf),
                        "/2010-04-01/Accounts/" ACCOUNT "/Messages.json");
    assert_string_equal(json_field(line, "form.To", buf, sizeof buf), "+14155550123");
    assert_string_equal(json_field(line, "form.From", buf, sizeof buf), FROM);
    assert_string_equal(json_field(line, "form.Body", buf, sizeof buf),
                        "Your Example code is 493817");
    assert_string_equal(json_field(line, "form.MessagingServiceSid", buf, sizeof buf), "(null)");
    /* status_callback is off by default */
    assert_string_equal(json_field(line, "form.StatusCallback", buf, sizeof buf), "(null)");
    free(line);
    h->out_free(out);
    fx_close(f);
}

static void test_send_with_api_key_and_service(void **state)
{
    fx *f;
    char err[512], *line, buf[128];
    gh_call call;
    gh_out *out = h->out_new();
    int before = record_lines();

    (void)state;
    f = load("      api_key_sid: " KEY_SID "\n      api_key_secret: " KEY_SECRET "\n"
             "      messaging_service_sid: " SERVICE "\n", 0, err, sizeof err);
    if (!f)
        fail_msg("%s", err);
    assert_int_equal(challenge(f, "+447700900123", &call, out, 5000), GH_OK);
    line = record_line(before);
    assert_string_equal(json_field(line, "status", buf, sizeof buf), "201");
    assert_string_equal(json_field(line, "auth_user", buf, sizeof buf), KEY_SID);
    assert_string_equal(json_field(line, "form.MessagingServiceSid", buf, sizeof buf), SERVICE);
    assert_string_equal(json_field(line, "form.From", buf, sizeof buf), "(null)");
    free(line);
    h->out_free(out);
    fx_close(f);
}

static void test_malformed_numbers_never_leave(void **state)
{
    static const char *const bad[] = {"14155550123", "+0415555012", "+1415555", "+1234567890123456",
                                      "+1415555012a", "+", "", "+1 415 555 0123"};
    fx *f = load_ok(NULL);
    int before = record_lines();
    gh_call call;
    gh_out *out = h->out_new();

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (challenge(f, bad[i], &call, out, 5000) != GH_ERR_INVALID)
            fail_msg("'%s' was not refused", bad[i]);
        assert_contains(call.message, "not an E.164 number");
    }
    usleep(100000); /* a request in flight would be recorded by now */
    assert_int_equal(record_lines(), before);
    assert_null(h->out_get(out, "message_id", 0));
    h->out_free(out);
    fx_close(f);
}

/* Twilio's magic numbers, and the stand-in's own for 429 and 500. */
static void test_twilio_errors_mapped(void **state)
{
    static const struct {
        const char *to;
        gh_result want;
        const char *says;
    } cases[] = {
        {"+15005550001", GH_ERR_INVALID, "21211"}, {"+15005550002", GH_ERR_INVALID, "21612"},
        {"+15005550003", GH_ERR_INVALID, "21408"}, {"+15005550009", GH_ERR_INVALID, "21614"},
        {"+15005550004", GH_ERR_DENIED, "21610"},  {"+15005550500", GH_ERR_UNAVAILABLE, "500"},
    };
    fx *f = load_ok(NULL);
    gh_call call;
    gh_out *out = h->out_new();

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gh_result r = challenge(f, cases[i].to, &call, out, 5000);

        if (r != cases[i].want)
            fail_msg("%s: %s, not %s (%s)", cases[i].to, gh_result_str(r),
                     gh_result_str(cases[i].want), call.message);
        assert_contains(call.message, cases[i].says);
        /* the number only masked, even where Twilio's text quotes it */
        assert_null(strstr(call.message, cases[i].to + 1));
        assert_null(strstr(call.message, "493817"));
    }
    assert_contains(call.message, "HTTP 500");
    assert_null(h->out_get(out, "message_id", 0));

    assert_int_equal(challenge(f, "+15005550001", &call, out, 5000), GH_ERR_INVALID);
    assert_contains(call.message, "+*********01"); /* 11 digits, 2 shown */

    /* 429: rate limited, with Twilio's Retry-After */
    assert_int_equal(challenge(f, "+15005550429", &call, out, 5000), GH_ERR_RATE_LIMITED);
    assert_int_equal(call.retry_after_ms, 7000);
    assert_contains(call.message, "rate limited");
    /* 5xx: unavailable, with Retry-After when Twilio sends one */
    assert_int_equal(challenge(f, "+15005550503", &call, out, 5000), GH_ERR_UNAVAILABLE);
    assert_int_equal(call.retry_after_ms, 3000);
    assert_int_equal(challenge(f, "+15005550500", &call, out, 5000), GH_ERR_UNAVAILABLE);
    assert_int_equal(call.retry_after_ms, 0);
    h->out_free(out);
    fx_close(f);
}

static void test_bad_credentials(void **state)
{
    fx *f;
    char err[512], *log;
    gh_call call;
    gh_out *out = h->out_new();

    (void)state;
    f = load("      auth_token: wrong-token-for-this-test\n", 0, err, sizeof err);
    assert_non_null(f);
    capture_start();
    assert_int_equal(challenge(f, "+14155550123", &call, out, 5000), GH_ERR_UNAVAILABLE);
    log = capture_stop();
    assert_contains(call.message, "authentication failed (HTTP 401)");
    assert_contains(log, "'auth_token'");
    assert_contains(log, "20003");
    assert_null(strstr(log, "wrong-token-for-this-test"));
    assert_null(strstr(log, "493817"));
    assert_null(strstr(log, "+14155550123"));
    free(log);
    fx_close(f);

    f = load("      api_key_sid: " KEY_SID "\n      api_key_secret: not-the-key-secret\n", 0, err,
             sizeof err);
    assert_non_null(f);
    capture_start();
    assert_int_equal(challenge(f, "+14155550123", &call, out, 5000), GH_ERR_UNAVAILABLE);
    log = capture_stop();
    assert_contains(log, "'api_key_secret'");
    assert_null(strstr(log, "not-the-key-secret"));
    free(log);
    h->out_free(out);
    fx_close(f);
}

static void test_timeout(void **state)
{
    fx *f = load_ok(NULL);
    int64_t start = gh_monotonic_ms();
    gh_call call;
    gh_out *out = h->out_new();

    (void)state;
    /* the stand-in answers that number after 3 s; the call has 500 ms */
    assert_int_equal(challenge(f, "+15005550504", &call, out, 500), GH_ERR_TIMEOUT);
    assert_true(gh_monotonic_ms() - start < 2500);
    fx_close(f);

    /* the option's timeout, when the call has longer */
    f = load_ok("      timeout: 1s\n");
    start = gh_monotonic_ms();
    assert_int_equal(challenge(f, "+15005550504", &call, out, 10000), GH_ERR_TIMEOUT);
    assert_true(gh_monotonic_ms() - start >= 900);
    assert_true(gh_monotonic_ms() - start < 2500);
    h->out_free(out);
    fx_close(f);
}

static void test_options_checked_at_load(void **state)
{
    static const struct {
        const char *yaml;
        int token;
        const char *says;
    } cases[] = {
        {"      from: \"+0123\"\n", 1, "option 'from' must be a phone number in E.164"},
        {"      messaging_service_sid: MG123\n", 1, "'messaging_service_sid' must be MG"},
        {"      from: \"" FROM "\"\n      messaging_service_sid: " SERVICE "\n", 1,
         "exactly one of options 'from' and 'messaging_service_sid'"},
        {NULL, 0, "option 'auth_token' is required"},
        {"      api_key_sid: " KEY_SID "\n", 0, "'api_key_sid' and 'api_key_secret' go together"},
        {"      api_key_sid: SK1\n      api_key_secret: x\n", 0, "'api_key_sid' must be SK"},
        {"      api_key_sid: " KEY_SID "\n      api_key_secret: s\n      status_callback: on\n",
         0, "'status_callback' needs 'auth_token'"},
        {"      timeout: 500ms\n", 1, "option 'timeout' must be from 1s to 60s"},
    };
    char err[512], yaml[512];
    fx *f;

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = '\0';
        if ((f = load(cases[i].yaml, cases[i].token, err, sizeof err)) != NULL) {
            fx_close(f);
            fail_msg("case %zu loaded", i);
        }
        assert_contains(err, cases[i].says);
    }
    /* a bad account SID, and http:// anywhere but on this machine */
    snprintf(yaml, sizeof yaml, "plugins:\n  - name: twilio\n    options:\n"
             "      account_sid: AC12\n      auth_token: t\n      from: \"" FROM "\"\n");
    assert_null(fx_load(yaml, err, sizeof err));
    assert_contains(err, "option 'account_sid' must be AC and 32 hex digits");
    snprintf(yaml, sizeof yaml, "plugins:\n  - name: twilio\n    options:\n"
             "      account_sid: " ACCOUNT "\n      auth_token: t\n      from: \"" FROM "\"\n"
             "      api_base: http://api.twilio.com\n");
    assert_null(fx_load(yaml, err, sizeof err));
    assert_contains(err, "http:// only on a loopback address");
    snprintf(yaml, sizeof yaml, "plugins:\n  - name: twilio\n    options:\n"
             "      account_sid: " ACCOUNT "\n      auth_token: t\n      from: \"" FROM "\"\n"
             "      api_base: https://" ACCOUNT ":p4ssw0rd@api.twilio.com\n");
    assert_null(fx_load(yaml, err, sizeof err));
    assert_contains(err, "without credentials");
    assert_null(strstr(err, "p4ssw0rd"));
}

/* ------------------------------------------------------------ reports */

/* inbound with url, the given signature header (NULL: none) and the
 * form fields names[i] = values[i], given as the core gives them: name,
 * NUL, value. */
static gh_result inbound_fields(fx *f, const char *url, const char *signature,
                                const char *const *names, const char *const *values, size_t n,
                                gh_call *call, gh_out *out)
{
    gh_loaded *p = sms(f);
    const gh_mfa_ops *ops = p->desc->ops;
    static const char form_type[] = "Content-Type: application/x-www-form-urlencoded";
    gh_param in[32];
    char header[128], fields[32][128];
    size_t k = 0;

    assert_true(n + 3 < sizeof in / sizeof in[0]);
    in[k++] = (gh_param){"url", GH_T_STR, url, strlen(url)};
    if (signature) {
        snprintf(header, sizeof header, "x-twilio-signature: %s", signature);
        in[k++] = (gh_param){"header", GH_T_STR, header, strlen(header)};
    }
    in[k++] = (gh_param){"header", GH_T_STR, form_type, sizeof form_type - 1};
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(fields[i], sizeof fields[i], "%s%c%s", names[i], '\0', values[i]);

        assert_true(len > 0 && (size_t)len < sizeof fields[i]);
        in[k++] = (gh_param){"param", GH_T_STR, fields[i], (size_t)len};
    }
    in[k] = (gh_param){NULL, 0, NULL, 0};
    call_init(call, p, "req-cb", 5000);
    return ops->inbound(p->inst, plugin_tinst(p), call, in, out);
}

/* The same with params written "name=value", split at the first '='. */
static gh_result inbound(fx *f, const char *url, const char *signature, const char *const *params,
                         size_t n, gh_call *call, gh_out *out)
{
    char names[32][64];
    const char *np[32], *vp[32];

    assert_true(n <= 32);
    for (size_t i = 0; i < n; i++) {
        size_t nlen = strcspn(params[i], "=");

        assert_true(nlen < sizeof names[i]);
        snprintf(names[i], sizeof names[i], "%.*s", (int)nlen, params[i]);
        np[i] = names[i];
        vp[i] = params[i][nlen] ? params[i] + nlen + 1 : "";
    }
    return inbound_fields(f, url, signature, np, vp, n, call, out);
}

/* The plugin with the auth token of Twilio's documented example. */
static fx *load_example_token(void)
{
    char yaml[512], err[512];
    fx *f;

    snprintf(yaml, sizeof yaml, "plugins:\n  - name: sms\n    plugin: twilio\n    options:\n"
             "      account_sid: " ACCOUNT "\n      auth_token: \"12345\"\n"
             "      from: \"" FROM "\"\n");
    if (!(f = fx_load(yaml, err, sizeof err)))
        fail_msg("%s", err);
    return f;
}

/* The example of Twilio's documentation of X-Twilio-Signature. */
static void test_signature_vector(void **state)
{
    static const char *const params[] = {"To=+18005551212", "Caller=+12349013030",
                                         "From=+12349013030", "Digits=1234",
                                         "CallSid=CA1234567890ABCDE"};
    static const char url[] = "https://mycompany.com/myapp.php?foo=1&bar=2";
    fx *f;
    gh_call call;
    gh_out *out = h->out_new();
    const gh_param *st;

    (void)state;
    f = load_example_token();
    assert_int_equal(inbound(f, url, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", params, 5, &call, out), GH_OK);
    st = h->out_get(out, "status", 0);
    assert_non_null(st);
    assert_int_equal(*(const int64_t *)st->data, 204);
    /* one byte off anywhere: refused */
    assert_int_equal(inbound(f, url, "0/KCTR6DLpKmkAf8muzZqo1nDgQ", params, 5, &call, out),
                     GH_ERR_DENIED);
    assert_int_equal(inbound(f, url, "1/KCTR6DLpKmkAf8muzZqo1nDgQ=", params, 5, &call, out),
                     GH_ERR_DENIED);
    assert_int_equal(inbound(f, "https://mycompany.com/myapp.php?foo=1&bar=3",
                             "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", params, 5, &call, out),
                     GH_ERR_DENIED);
    assert_int_equal(inbound(f, url, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", params, 4, &call, out),
                     GH_ERR_DENIED);
    assert_int_equal(inbound(f, url, NULL, params, 5, &call, out), GH_ERR_DENIED);
    assert_contains(call.message, "without X-Twilio-Signature");
    h->out_free(out);
    fx_close(f);
}

/* A name holding a '=' (sent as %3D) is signed as it is: the plugin
 * takes the field's name and value where the core split them, not at the
 * first '='. The signature is Twilio's, computed here with OpenSSL. */
static void test_equals_in_a_name(void **state)
{
    static const char *const names[] = {"MessageSid", "Extra=Name", "MessageStatus"};
    static const char *const values[] = {"SM00000000000000000000000000000004", "a=b", "sent"};
    static const char url[] = PUBLIC_URL "/api/v1/mfa/sms/callback";
    static const char text[] = PUBLIC_URL "/api/v1/mfa/sms/callback"
                               "Extra=Namea=bMessageSidSM00000000000000000000000000000004"
                               "MessageStatussent"; /* sorted by name */
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    char sig[64];
    /* the same fields split at the first '=' of "Extra=Name=a=b" */
    static const char *const cut_names[] = {"MessageSid", "Extra", "MessageStatus"};
    static const char *const cut_values[] = {"SM00000000000000000000000000000004", "Name=a=b",
                                             "sent"};
    fx *f;
    gh_call call;
    gh_out *out = h->out_new();

    (void)state;
    f = load_example_token();
    assert_non_null(HMAC(EVP_sha1(), "12345", 5, (const unsigned char *)text, sizeof text - 1,
                         mac, &maclen));
    EVP_EncodeBlock((unsigned char *)sig, mac, (int)maclen);
    assert_int_equal(inbound_fields(f, url, sig, names, values, 3, &call, out), GH_OK);
    assert_int_equal(inbound_fields(f, url, sig, cut_names, cut_values, 3, &call, out),
                     GH_ERR_DENIED);
    h->out_free(out);
    fx_close(f);
}

/* The params of a callback record line as "name=value" strings. */
static size_t callback_params(const char *line, char store[][96], const char **params, size_t max)
{
    gh_json *doc = NULL;
    const gh_json *obj, *v;
    const char *key;
    size_t n = 0;

    assert_int_equal(h->json_decode(NULL, line, strlen(line), &doc), GH_OK);
    obj = h->json_get(doc, "params");
    for (size_t i = 0; n < max && (key = h->json_key_at(obj, i, &v)) != NULL; i++, n++) {
        snprintf(store[n], sizeof store[n], "%s=%s", key, h->json_str(v));
        params[n] = store[n];
    }
    h->json_free(doc);
    return n;
}

/* With status_callback on: the StatusCallback is the daemon's public URL
 * and the instance's route; the stand-in's signed reports pass, altered
 * ones do not. */
static void test_status_callbacks(void **state)
{
    fx *f = load_ok("      status_callback: on\n");
    int before = record_lines();
    char *line, buf[256], sig[64], store[16][96], *log;
    const char *params[16];
    size_t n;
    gh_call call;
    gh_out *out = h->out_new();

    (void)state;
    assert_int_equal(challenge(f, "+15005550030", &call, out, 5000), GH_OK);
    line = record_line(before);
    assert_string_equal(json_field(line, "form.StatusCallback", buf, sizeof buf),
                        PUBLIC_URL "/api/v1/mfa/sms/callback");
    free(line);

    /* "sent", then "undelivered" with an ErrorCode */
    line = record_line(before + 2);
    assert_string_equal(json_field(line, "type", buf, sizeof buf), "callback");
    assert_string_equal(json_field(line, "url", buf, sizeof buf),
                        PUBLIC_URL "/api/v1/mfa/sms/callback");
    json_field(line, "signature", sig, sizeof sig);
    n = callback_params(line, store, params, 16);
    assert_true(n >= 8);
    capture_start();
    assert_int_equal(inbound(f, PUBLIC_URL "/api/v1/mfa/sms/callback", sig, params, n, &call, out),
                     GH_OK);
    log = capture_stop();
    assert_contains(log, "undelivered, error 30003");
    assert_contains(log, "message SM");
    assert_null(strstr(log, "+15005550030"));
    free(log);

    /* a changed status, or another URL, breaks the signature */
    for (size_t i = 0; i < n; i++)
        if (strcmp(params[i], "MessageStatus=undelivered") == 0)
            params[i] = "MessageStatus=delivered";
    assert_int_equal(inbound(f, PUBLIC_URL "/api/v1/mfa/sms/callback", sig, params, n, &call, out),
                     GH_ERR_DENIED);
    assert_contains(call.message, "wrong X-Twilio-Signature");
    callback_params(line, store, params, 16);
    assert_int_equal(inbound(f, PUBLIC_URL "/api/v1/mfa/other/callback", sig, params, n, &call,
                             out),
                     GH_ERR_DENIED);
    assert_int_equal(inbound(f, PUBLIC_URL "/api/v1/mfa/sms/callback", NULL, params, n, &call,
                             out),
                     GH_ERR_DENIED);
    free(line);
    h->out_free(out);
    fx_close(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_with_auth_token),
        cmocka_unit_test(test_send_with_api_key_and_service),
        cmocka_unit_test(test_malformed_numbers_never_leave),
        cmocka_unit_test(test_twilio_errors_mapped),
        cmocka_unit_test(test_bad_credentials),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_options_checked_at_load),
        cmocka_unit_test(test_signature_vector),
        cmocka_unit_test(test_status_callbacks),
        cmocka_unit_test(test_equals_in_a_name),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
