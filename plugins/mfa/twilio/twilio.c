/*
 * twilio.c - the `twilio` mfa plugin: sends the SMS of one-time codes with
 * Twilio's Messages resource (REST API 2010-04-01) and checks the delivery
 * reports Twilio posts back. The core makes, stores and checks the codes;
 * this plugin only sends them.
 *
 *   plugins:
 *     - name: twilio
 *       options:
 *         account_sid: ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
 *         auth_token_file: /etc/gatehouse/twilio.token
 *         from: "+14155552345"        # or messaging_service_sid: MG...
 *         status_callback: on         # delivery reports, logged
 *
 * challenge: POST {api_base}/2010-04-01/Accounts/{AccountSid}/Messages.json,
 * form-encoded (To, Body, From or MessagingServiceSid, StatusCallback), with
 * HTTP basic auth (the account SID and auth token, or an API key), through
 * host->http. Twilio's error objects ({code, message, more_info, status})
 * become the op contract's codes; the message text may name the number, so
 * long digit runs are masked before anything is logged, and neither the
 * body (it holds the code) nor a secret ever is.
 *
 * inbound: a delivery report to POST /api/v1/mfa/{name}/callback, taken
 * only with a right X-Twilio-Signature: base64(HMAC-SHA1(auth token, the
 * URL + every POST parameter's name and value, sorted by name)).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gatehouse/plugin.h>

static const gh_host *host;

#define SID_LEN 34 /* two letters and 32 hex digits */
#define SECRET_MAX 128
#define URL_MAX 512
#define PHONE_MAX 16 /* '+' and at most 15 digits */
#define MASKED_MAX 160

typedef struct twilio {
    char account_sid[SID_LEN + 1];
    char auth_token[SECRET_MAX];     /* "" with an API key and no token */
    char api_key_sid[SID_LEN + 1];   /* "" without an API key */
    char api_key_secret[SECRET_MAX];
    char from[PHONE_MAX + 1];        /* one of from and messaging_service_sid */
    char messaging_service_sid[SID_LEN + 1];
    char messages_url[URL_MAX];      /* {api_base}/2010-04-01/Accounts/{sid}/Messages.json */
    char origin[URL_MAX];            /* scheme://host[:port], for messages */
    int32_t loopback;                /* api_base is a stand-in on this machine */
    int32_t plain_http;
    int32_t status_callback;
    int64_t timeout_ms;
} twilio;

static const gh_option twilio_options[] = {
    {"account_sid", GH_T_STR, 1, "the account SID, AC and 32 hex digits"},
    {"auth_token", GH_T_SECRET, 0, "the account's auth token (or auth_token_file)"},
    {"api_key_sid", GH_T_STR, 0, "an API key SID, SK and 32 hex digits, instead of the auth token"},
    {"api_key_secret", GH_T_SECRET, 0, "the API key's secret (or api_key_secret_file)"},
    {"from", GH_T_STR, 0, "the sending number, E.164 (or messaging_service_sid)"},
    {"messaging_service_sid", GH_T_STR, 0, "a Messaging Service SID, MG and 32 hex digits"},
    {"api_base", GH_T_STR, 0, "where the REST API is (http:// only on a loopback address)"},
    {"status_callback", GH_T_BOOL, 0, "ask for delivery reports at /api/v1/mfa/{name}/callback"},
    {"timeout", GH_T_DURATION, 0, "how long Twilio may take to answer"},
    {NULL, 0, 0, NULL},
};

static const gh_option_rule twilio_rules[] = {
    {"api_base", "https://api.twilio.com", NULL, NULL},
    {"status_callback", "false", NULL, NULL},
    {"timeout", "10s", "1s..60s", NULL},
    {NULL, NULL, NULL, NULL},
};

/* ------------------------------------------------------------ options */

/* "+" then 8 to 15 digits, the first not 0. */
static int is_e164(const char *s, size_t n)
{
    if (n < 9 || n > PHONE_MAX || s[0] != '+' || s[1] == '0')
        return 0;
    for (size_t i = 1; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* Two letters and 32 hex digits: Twilio's SIDs. */
static int is_sid(const char *s, const char *prefix)
{
    if (strlen(s) != SID_LEN || strncmp(s, prefix, 2) != 0)
        return 0;
    return strspn(s + 2, "0123456789abcdefABCDEF") == SID_LEN - 2;
}

/* A string option matching check (NULL: any), copied into dst; absent is "". */
static gh_result read_str(const gh_cfg *o, gh_call *call, const char *key, char *dst,
                          size_t len, const char *prefix, const char *what)
{
    const char *v = host->cfg_str(o, key, "");
    int bad = *v && (strlen(v) >= len || (prefix ? !is_sid(v, prefix) : !is_e164(v, strlen(v))));

    if (bad)
        return host->cfg_fail(call, host->cfg_child(o, key), "option '%s' must be %s", key, what);
    memcpy(dst, v, strlen(v) + 1);
    return GH_OK;
}

/* A secret option into dst; absent is "". The host's copy is wiped. */
static gh_result read_secret(const gh_cfg *o, gh_call *call, const char *key, char *dst,
                             size_t len)
{
    char *v = host->cfg_secret(o, key);
    gh_result r = GH_OK;

    if (v && strlen(v) >= len)
        r = host->cfg_fail(call, host->cfg_child(o, key), "option '%s' is longer than %zu bytes",
                           key, len - 1);
    else if (v)
        memcpy(dst, v, strlen(v) + 1);
    if (v) {
        host->wipe(v, strlen(v));
        host->free(v);
    }
    return r;
}

static gh_result read_credentials(twilio *t, const gh_cfg *o, gh_call *call)
{
    gh_result r;

    if ((r = read_str(o, call, "account_sid", t->account_sid, sizeof t->account_sid, "AC",
                      "AC and 32 hex digits")) != GH_OK ||
        (r = read_str(o, call, "api_key_sid", t->api_key_sid, sizeof t->api_key_sid, "SK",
                      "SK and 32 hex digits")) != GH_OK ||
        (r = read_secret(o, call, "auth_token", t->auth_token, sizeof t->auth_token)) != GH_OK ||
        (r = read_secret(o, call, "api_key_secret", t->api_key_secret,
                         sizeof t->api_key_secret)) != GH_OK)
        return r;
    if (!t->account_sid[0])
        return host->cfg_fail(call, host->cfg_child(o, "account_sid"),
                              "option 'account_sid' must be AC and 32 hex digits");
    if (!t->api_key_sid[0] != !t->api_key_secret[0])
        return host->cfg_fail(call, NULL, "options 'api_key_sid' and 'api_key_secret' go together");
    if (!t->api_key_sid[0] && !t->auth_token[0])
        return host->cfg_fail(call, NULL, "option 'auth_token' is required "
                              "(or 'api_key_sid' and 'api_key_secret')");
    return GH_OK;
}

static gh_result read_sender(twilio *t, const gh_cfg *o, gh_call *call)
{
    gh_result r;

    if ((r = read_str(o, call, "from", t->from, sizeof t->from, NULL,
                      "a phone number in E.164 (+ and 8 to 15 digits)")) != GH_OK ||
        (r = read_str(o, call, "messaging_service_sid", t->messaging_service_sid,
                      sizeof t->messaging_service_sid, "MG", "MG and 32 hex digits")) != GH_OK)
        return r;
    if (!t->from[0] == !t->messaging_service_sid[0])
        return host->cfg_fail(call, NULL, "exactly one of options 'from' and "
                              "'messaging_service_sid' is required");
    t->status_callback = host->cfg_bool(o, "status_callback", 0);
    if (t->status_callback && !t->auth_token[0]) /* Twilio signs reports with it */
        return host->cfg_fail(call, host->cfg_child(o, "status_callback"),
                              "option 'status_callback' needs 'auth_token': Twilio signs "
                              "delivery reports with the account's auth token");
    return GH_OK;
}

static int is_loopback(const char *h)
{
    return strcmp(h, "localhost") == 0 || strcmp(h, "::1") == 0 || strncmp(h, "127.", 4) == 0;
}

/* api_base: https, or http on a loopback address (a stand-in): the
 * credentials never cross a network in clear text. */
static gh_result read_api_base(twilio *t, const gh_cfg *o, gh_call *call)
{
    const char *base = host->cfg_str(o, "api_base", "");
    const gh_cfg *node = host->cfg_child(o, "api_base");
    size_t n = strlen(base);
    gh_url u = {.size = sizeof u};
    gh_result r;

    while (n > 0 && base[n - 1] == '/')
        n--;
    r = host->url_parse(call, base, &u);
    host->wipe(u.password, sizeof u.password); /* credentials go in their own options */
    if (r != GH_OK || !u.host[0] || u.user[0] || u.query[0] ||
        (strcmp(u.scheme, "https") != 0 && strcmp(u.scheme, "http") != 0))
        return host->cfg_fail(call, node, "option 'api_base' must be an https:// URL "
                              "without credentials or a query");
    t->loopback = is_loopback(u.host);
    t->plain_http = strcmp(u.scheme, "http") == 0;
    if (t->plain_http && !t->loopback)
        return host->cfg_fail(call, node, "option 'api_base' must be https:// (http:// only "
                              "on a loopback address)");
    if ((size_t)snprintf(t->messages_url, sizeof t->messages_url,
                         "%.*s/2010-04-01/Accounts/%s/Messages.json", (int)n, base,
                         t->account_sid) >= sizeof t->messages_url)
        return host->cfg_fail(call, node, "option 'api_base' is too long");
    snprintf(t->origin, sizeof t->origin, "%.*s", (int)(strstr(base, "://") + 3 - base +
             strcspn(strstr(base, "://") + 3, "/")), base);
    return GH_OK;
}

static gh_result twilio_instantiate(void *inst, const gh_cfg *o, gh_call *call)
{
    twilio *t = inst;
    gh_result r;

    if (!GH_HAS(host, hmac) || !GH_HAS(host, encode) || !GH_HAS(host, equal_ct) ||
        !GH_HAS(host, form_encode) || !GH_HAS(host, fail_retry) || !GH_HAS(host, call_get) ||
        !GH_HAS(host, cfg_fail) || !GH_HAS(host, url_parse))
        return host->fail(call, GH_ERR_UNSUPPORTED, "needs plugin ABI 1.1 host services");
    if ((r = read_credentials(t, o, call)) != GH_OK || (r = read_sender(t, o, call)) != GH_OK ||
        (r = read_api_base(t, o, call)) != GH_OK)
        return r;
    t->timeout_ms = host->cfg_int(o, "timeout", 0); /* the rule's default */
    return GH_OK;
}

/* ------------------------------------------------------------ helpers */

static const gh_param *find(const gh_param *in, const char *key, uint32_t type)
{
    for (; in && in->key; in++)
        if (in->type == type && strcmp(in->key, key) == 0 && (in->data || !in->len))
            return in;
    return NULL;
}

/* A phone number for a log line: all but its last two digits hidden. */
static void mask_number(const char *s, size_t n, char *out, size_t len)
{
    size_t i = 0;

    for (; i < n && i + 1 < len; i++)
        out[i] = i + 2 < n && s[i] >= '0' && s[i] <= '9' ? '*' : s[i];
    out[i] = '\0';
}

/* Twilio's error text for a log line: one line, bounded, with every run
 * of 7 or more digits (a phone number) masked. */
static void mask_text(const char *s, char *out, size_t len)
{
    size_t o = 0;

    for (size_t i = 0; s[i] && o + 1 < len;) {
        size_t run = strspn(s + i, "0123456789");

        if (run >= 7) {
            char masked[64];

            mask_number(s + i, run < sizeof masked ? run : sizeof masked - 1, masked, sizeof masked);
            o += (size_t)snprintf(out + o, len - o, "%s", masked);
            o = o < len ? o : len - 1;
            i += run;
        } else {
            out[o++] = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
            i++;
        }
    }
    out[o] = '\0';
}

static int64_t resp_status(const gh_out *resp)
{
    const gh_param *st = host->out_get(resp, "status", 0);

    return st && st->type == GH_T_INT ? *(const int64_t *)st->data : 0;
}

/* Retry-After in ms (delta-seconds only; 0 when absent or a date). */
static int64_t retry_after_ms(const gh_out *resp)
{
    const gh_param *h;

    for (size_t i = 0; (h = host->out_get(resp, "header", i)) != NULL; i++) {
        const char *v = h->data;
        char *end;
        long s;

        if (strncasecmp(v, "Retry-After:", 12) != 0)
            continue;
        s = strtol(v + 12, &end, 10);
        return *end == '\0' && s > 0 && s <= 86400 ? (int64_t)s * 1000 : 0;
    }
    return 0;
}

/* ------------------------------------------------------------ challenge */

/* StatusCallback: the daemon's public URL + /api/v1/mfa/{instance}/callback;
 * "" (and a warning) when the call does not know the public URL. */
static void callback_url(const twilio *t, gh_call *call, char *out, size_t len)
{
    gh_param base, name;

    out[0] = '\0';
    if (!t->status_callback)
        return;
    if (host->call_get(call, "public_url", &base) != GH_OK ||
        host->call_get(call, "instance", &name) != GH_OK ||
        (size_t)snprintf(out, len, "%.*s/api/v1/mfa/%.*s/callback", (int)base.len,
                         (const char *)base.data, (int)name.len, (const char *)name.data) >= len) {
        out[0] = '\0';
        host->log(call, GH_LOG_WARNING, "no public URL for this call: sent without a delivery report");
    }
}

/* What a Twilio error answer means for the op. */
static gh_result twilio_error(const twilio *t, gh_call *call, int64_t status, const gh_out *resp,
                              const char *masked_to)
{
    const gh_param *body = host->out_get(resp, "body", 0);
    gh_json *doc = NULL;
    int64_t code = 0;
    char text[MASKED_MAX] = "";

    if (body && host->json_decode(call, body->data, body->len, &doc) == GH_OK) {
        const char *m = host->json_str(host->json_get(doc, "message"));

        code = host->json_int(host->json_get(doc, "code"), 0);
        mask_text(m ? m : "", text, sizeof text);
        host->json_free(doc);
    }
    switch (code) {
    case 21211: /* invalid 'To' number */
    case 21214: /* 'To' cannot be reached */
    case 21217: /* not a valid number */
    case 21401: /* invalid number */
    case 21407: /* that kind of number takes no SMS */
    case 21408: /* no permission for the region of 'To' */
    case 21612: /* 'To' not reachable by SMS */
    case 21614: /* 'To' is not a mobile number */
    case 21635: /* 'To' is a landline */
        return host->fail(call, GH_ERR_INVALID, "twilio: %s cannot receive SMS (%lld: %s)",
                          masked_to, (long long)code, text);
    case 21610: /* the recipient sent STOP */
        return host->fail(call, GH_ERR_DENIED, "twilio: %s has unsubscribed (%lld: %s)",
                          masked_to, (long long)code, text);
    }
    if (status == 401 || code == 20003) {
        host->log(call, GH_LOG_ERROR, "twilio refused our credentials (%lld): check options %s",
                  (long long)code, t->api_key_sid[0] ? "'api_key_sid' and 'api_key_secret'"
                                                     : "'account_sid' and 'auth_token'");
        return host->fail(call, GH_ERR_UNAVAILABLE, "twilio %s: authentication failed (HTTP %lld)",
                          t->origin, (long long)status);
    }
    if (status == 429 || code == 20429)
        return host->fail_retry(call, GH_ERR_RATE_LIMITED, retry_after_ms(resp),
                                "twilio %s: rate limited (HTTP %lld, %lld)", t->origin,
                                (long long)status, (long long)code);
    if (status >= 500)
        return host->fail_retry(call, GH_ERR_UNAVAILABLE, retry_after_ms(resp),
                                "twilio %s: HTTP %lld (%lld: %s)", t->origin, (long long)status,
                                (long long)code, text);
    /* another 4xx: our request or our options, which only the admin can fix */
    host->log(call, GH_LOG_ERROR, "twilio refused a message (HTTP %lld, %lld: %s): check "
              "options 'from', 'messaging_service_sid' and 'account_sid'", (long long)status,
              (long long)code, text);
    return host->fail(call, GH_ERR_UNAVAILABLE, "twilio %s: HTTP %lld (%lld)", t->origin,
                      (long long)status, (long long)code);
}

/* The Message's sid from a 201 answer. */
static gh_result put_sid(const twilio *t, gh_call *call, const gh_out *resp, gh_out *out)
{
    const gh_param *body = host->out_get(resp, "body", 0);
    gh_json *doc = NULL;
    const char *sid;
    gh_result r;

    if (!body || host->json_decode(call, body->data, body->len, &doc) != GH_OK)
        return host->fail(call, GH_ERR_UPSTREAM, "twilio %s: the answer is not JSON", t->origin);
    sid = host->json_str(host->json_get(doc, "sid"));
    if (sid && (is_sid(sid, "SM") || is_sid(sid, "MM")))
        r = host->put(out, &(gh_param){"message_id", GH_T_STR, sid, strlen(sid)});
    else
        r = host->fail(call, GH_ERR_UPSTREAM, "twilio %s: the answer has no message sid",
                       t->origin);
    host->json_free(doc);
    return r;
}

static gh_result post_message(const twilio *t, gh_call *call, const char *form,
                              const char *masked_to, gh_out *out)
{
    static const char form_type[] = "Content-Type: application/x-www-form-urlencoded";
    static const char accept[] = "Accept: application/json";
    const int32_t yes = 1;
    const char *user = t->api_key_sid[0] ? t->api_key_sid : t->account_sid;
    const char *pass = t->api_key_sid[0] ? t->api_key_secret : t->auth_token;
    gh_param req[12] = {
        {"method", GH_T_STR, "POST", 4},
        {"url", GH_T_STR, t->messages_url, strlen(t->messages_url)},
        {"header", GH_T_STR, form_type, sizeof form_type - 1},
        {"header", GH_T_STR, accept, sizeof accept - 1},
        {"body", GH_T_STR, form, strlen(form)},
        {"timeout_ms", GH_T_INT, &t->timeout_ms, sizeof t->timeout_ms},
        {"user", GH_T_STR, user, strlen(user)},
        {"password", GH_T_STR, pass, strlen(pass)},
    };
    size_t n = 8;
    gh_out *resp;
    gh_result r;
    int64_t status;

    /* what read_api_base allowed: a stand-in on this machine */
    if (t->plain_http)
        req[n++] = (gh_param){"allow_http", GH_T_BOOL, &yes, sizeof yes};
    if (t->loopback)
        req[n++] = (gh_param){"allow_private", GH_T_BOOL, &yes, sizeof yes};
    if (!(resp = host->out_new()))
        return GH_ERR_NOMEM;
    if ((r = host->http(call, req, resp)) == GH_OK) {
        status = resp_status(resp);
        r = status >= 200 && status <= 299 ? put_sid(t, call, resp, out)
                                           : twilio_error(t, call, status, resp, masked_to);
    }
    host->out_free(resp);
    return r;
}

/* challenge  in: destination (E.164), text, code   out: message_id */
static gh_result twilio_challenge(const void *inst, void *tinst, gh_call *call,
                                  const gh_param *in, gh_out *out)
{
    const twilio *t = inst;
    const gh_param *dest = find(in, "destination", GH_T_STR), *text = find(in, "text", GH_T_STR);
    char to[PHONE_MAX + 1], masked[PHONE_MAX + 1], status_url[URL_MAX], *form = NULL;
    gh_param fields[5];
    size_t n = 0;
    gh_result r;

    (void)tinst;
    if (!dest || !is_e164(dest->data, dest->len))
        return host->fail(call, GH_ERR_INVALID, "twilio: the destination is not an E.164 number");
    if (!text || text->len == 0)
        return host->fail(call, GH_ERR_INVALID, "twilio: 'text' is required");
    memcpy(to, dest->data, dest->len);
    to[dest->len] = '\0';
    mask_number(to, dest->len, masked, sizeof masked);
    callback_url(t, call, status_url, sizeof status_url);
    fields[n++] = (gh_param){"To", GH_T_STR, to, strlen(to)};
    fields[n++] = (gh_param){"Body", GH_T_STR, text->data, text->len};
    if (t->from[0])
        fields[n++] = (gh_param){"From", GH_T_STR, t->from, strlen(t->from)};
    else
        fields[n++] = (gh_param){"MessagingServiceSid", GH_T_STR, t->messaging_service_sid,
                                 strlen(t->messaging_service_sid)};
    if (status_url[0])
        fields[n++] = (gh_param){"StatusCallback", GH_T_STR, status_url, strlen(status_url)};
    fields[n] = (gh_param){NULL, 0, NULL, 0};
    if ((r = host->form_encode(call, fields, &form)) != GH_OK)
        return r;
    r = post_message(t, call, form, masked, out);
    host->wipe(form, strlen(form)); /* it holds the code */
    host->free(form);
    if (r == GH_OK)
        host->count(call, "sent", 1);
    return r;
}

/* ------------------------------------------------------------ inbound */

/* Parameters are a decoded name, a NUL and the decoded value, with a
 * length: either may hold a '=', neither a NUL. */
static size_t name_len(const gh_param *p)
{
    const char *nul = memchr(p->data, '\0', p->len);

    return nul ? (size_t)(nul - (const char *)p->data) : p->len;
}

static int bytes_cmp(const void *a, size_t na, const void *b, size_t nb)
{
    int c = memcmp(a, b, na < nb ? na : nb);

    return c != 0 ? c : na < nb ? -1 : na > nb;
}

static int by_name_then_value(const void *a, const void *b)
{
    const gh_param *x = *(const gh_param *const *)a, *y = *(const gh_param *const *)b;
    size_t nx = name_len(x), ny = name_len(y);
    int c = bytes_cmp(x->data, nx, y->data, ny);

    return c != 0 ? c : bytes_cmp(x->data, x->len, y->data, y->len);
}

static int is_param(const gh_param *p)
{
    return p->type == GH_T_STR && strcmp(p->key, "param") == 0 && (p->data || !p->len);
}

/* url + name + value of every parameter, sorted by name (byte order),
 * each distinct pair once, as Twilio signs them; *len its length. From
 * malloc. */
static char *signed_text(const gh_param *url, const gh_param *in, size_t *len)
{
    size_t n = 0, cap = url->len + 1, o;
    const gh_param **v;
    char *s;

    for (const gh_param *p = in; p && p->key; p++)
        if (is_param(p))
            n++, cap += p->len;
    if (!(v = malloc((n ? n : 1) * sizeof *v)) || !(s = malloc(cap))) {
        free(v);
        return NULL;
    }
    n = 0;
    for (const gh_param *p = in; p && p->key; p++)
        if (is_param(p))
            v[n++] = p;
    qsort(v, n, sizeof *v, by_name_then_value);
    memcpy(s, url->data, url->len);
    o = url->len;
    for (size_t i = 0; i < n; i++) {
        size_t nl = name_len(v[i]);

        if (i > 0 && bytes_cmp(v[i]->data, v[i]->len, v[i - 1]->data, v[i - 1]->len) == 0)
            continue;
        memcpy(s + o, v[i]->data, nl); /* name and value, without the NUL */
        o += nl;
        if (nl < v[i]->len) {
            memcpy(s + o, (const char *)v[i]->data + nl + 1, v[i]->len - nl - 1);
            o += v[i]->len - nl - 1;
        }
    }
    free(v);
    *len = o;
    return s;
}

/* The value of the X-Twilio-Signature header (*len bytes), or NULL. */
static const char *signature_header(const gh_param *in, size_t *len)
{
    static const char name[] = "X-Twilio-Signature:";

    for (; in && in->key; in++) {
        const char *v = in->data;
        size_t n = in->len;

        if (in->type != GH_T_STR || strcmp(in->key, "header") != 0 || n < sizeof name - 1 ||
            strncasecmp(v, name, sizeof name - 1) != 0)
            continue;
        v += sizeof name - 1, n -= sizeof name - 1;
        while (n > 0 && (*v == ' ' || *v == '\t'))
            v++, n--;
        while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
            n--;
        *len = n;
        return v;
    }
    return NULL;
}

static gh_result check_signature(const twilio *t, gh_call *call, const gh_param *in)
{
    const gh_param *url = find(in, "url", GH_T_STR);
    unsigned char mac[GH_DIGEST_MAX];
    char want[64], *text;
    size_t maclen, wantlen, textlen, gotlen = 0;
    const char *got = signature_header(in, &gotlen);
    gh_result r;

    if (!t->auth_token[0]) /* Twilio signs with the auth token, which we lack */
        return host->fail(call, GH_ERR_DENIED, "twilio: a delivery report, but no 'auth_token' "
                          "to check its signature with");
    if (!url || !got)
        return host->fail(call, GH_ERR_DENIED, "twilio: a callback without %s",
                          url ? "X-Twilio-Signature" : "its URL");
    if (!(text = signed_text(url, in, &textlen)))
        return host->fail(call, GH_ERR_NOMEM, "twilio: out of memory");
    r = host->hmac(call, GH_SHA1, t->auth_token, strlen(t->auth_token), text, textlen, mac,
                   sizeof mac, &maclen);
    free(text);
    if (r == GH_OK)
        r = host->encode(call, GH_ENC_BASE64, mac, maclen, want, sizeof want, &wantlen);
    if (r != GH_OK)
        return r;
    if (gotlen != wantlen || !host->equal_ct(got, want, wantlen))
        return host->fail(call, GH_ERR_DENIED, "twilio: a callback with a wrong X-Twilio-Signature");
    return GH_OK;
}

/* A report's value for the log: letters, digits and '_' only, bounded. */
static void report_value(const gh_param *in, const char *name, char *out, size_t len)
{
    size_t nlen = strlen(name), o = 0;

    out[0] = '\0';
    for (; in && in->key; in++) {
        const char *v = in->data;

        if (!is_param(in) || name_len(in) != nlen || in->len == nlen || memcmp(v, name, nlen) != 0)
            continue;
        for (size_t i = nlen + 1; i < in->len && o + 1 < len; i++)
            if ((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
                (v[i] >= '0' && v[i] <= '9') || v[i] == '_')
                out[o++] = v[i];
        out[o] = '\0';
        return;
    }
}

/* inbound  in: url, header..., param...   out: status 204 */
static gh_result twilio_inbound(const void *inst, void *tinst, gh_call *call, const gh_param *in,
                                gh_out *out)
{
    const twilio *t = inst;
    char sid[SID_LEN + 1], status[32], error[16];
    int64_t no_content = 204;
    gh_result r;

    (void)tinst;
    if ((r = check_signature(t, call, in)) != GH_OK)
        return r;
    report_value(in, "MessageSid", sid, sizeof sid);
    report_value(in, "MessageStatus", status, sizeof status);
    report_value(in, "ErrorCode", error, sizeof error);
    if (error[0])
        host->log(call, GH_LOG_NOTICE, "message %s: %s, error %s", sid, status, error);
    else
        host->log(call, GH_LOG_INFO, "message %s: %s", sid, status);
    host->count(call, "report", 1);
    return host->put(out, &(gh_param){"status", GH_T_INT, &no_content, sizeof no_content});
}

static const gh_mfa_ops twilio_ops = {
    .size = sizeof(gh_mfa_ops),
    .challenge = twilio_challenge,
    .inbound = twilio_inbound,
};

static const gh_plugin twilio_plugin = {
    .size = sizeof(gh_plugin),
    .abi_major = GH_ABI_MAJOR,
    .abi_minor = GH_ABI_MINOR,
    .name = "twilio",
    .version = "1.0.0",
    .description = "SMS one-time codes through Twilio's Messages API",
    .kind = GH_KIND_MFA,
    .options = twilio_options,
    .option_rules = twilio_rules,
    .inst_size = sizeof(twilio),
    .instantiate = twilio_instantiate,
    .ops = &twilio_ops,
    .flags = GH_PLUGIN_NEEDS_HTTP | GH_PLUGIN_MULTI_INSTANCE,
};

const gh_plugin *gatehouse_plugin_v1(const gh_host *h)
{
    host = h;
    return &twilio_plugin;
}
