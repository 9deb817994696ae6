/*
 * smtp.c - the `smtp` notify plugin: delivers mail through an SMTP server
 * with libcurl (STARTTLS or implicit TLS, AUTH, timeouts).
 *
 *   plugins:
 *     - name: smtp
 *       options:
 *         url: smtp://mail.example.com:587    # or smtps://...:465
 *         starttls: required                  # required, optional, off
 *         username: gatehouse
 *         password_file: /etc/gatehouse/smtp.password
 *         from: no-reply@example.com
 *         from_name: Example
 *
 * The message is built with curl's MIME API (CURLOPT_MIMEPOST, which SMTP
 * supports since 7.56): multipart/alternative with a text and, when given,
 * an HTML part, each quoted-printable UTF-8; the header lines (Date,
 * Message-ID, From, To, Subject) are ours, with RFC 2047 encoded words for
 * non-ASCII names and subjects. Header values that could smuggle a header
 * (CR, LF) are refused. Bodies carry one-time links: they never go into a
 * message, and neither does the password. Messages name the server's host
 * and the recipient's domain only.
 *
 * One easy handle per delivery: the core sends from one thread, off the
 * request path, so connection reuse would buy little.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include <gatehouse/plugin.h>

static const gh_host *host;

#define ADDR_MAX 255
#define NAME_MAX_LEN 128
#define URL_MAX 512
#define SECRET_MAX 256

enum { TLS_REQUIRED = 0, TLS_OPTIONAL, TLS_OFF };

typedef struct smtp {
    char url[URL_MAX];
    char server[URL_MAX];          /* scheme://host:port, for messages */
    char username[SECRET_MAX];
    char password[SECRET_MAX];
    char from[ADDR_MAX + 1];
    char from_name[NAME_MAX_LEN + 1];
    char ca_file[URL_MAX];
    int starttls;
    int implicit_tls;
    int64_t connect_timeout_ms, timeout_ms;
} smtp;

static const gh_option smtp_options[] = {
    {"url", GH_T_STR, 1, "smtp://host[:port] (STARTTLS or plain) or smtps://host[:port] (TLS)"},
    {"starttls", GH_T_STR, 0, "smtp:// only: required, optional or off"},
    {"username", GH_T_STR, 0, "AUTH user name (no AUTH without it)"},
    {"password", GH_T_SECRET, 0, "AUTH password (or password_file)"},
    {"from", GH_T_STR, 1, "the sender address, e.g. no-reply@example.com"},
    {"from_name", GH_T_STR, 0, "the sender's display name"},
    {"ca_file", GH_T_STR, 0, "CA certificates to verify the server (default: the system's)"},
    {"connect_timeout", GH_T_DURATION, 0, "connecting and the TLS handshake"},
    {"timeout", GH_T_DURATION, 0, "one whole delivery"},
    {NULL, 0, 0, NULL},
};

/* Checked and defaulted by the host before instantiate (ABI 1.1). */
static const char *const tls_modes[] = {"required", "optional", "off", NULL};
static const gh_option_rule smtp_rules[] = {
    {"starttls", "required", NULL, tls_modes},
    {"connect_timeout", "10s", "1ms..1h", NULL},
    {"timeout", "30s", "1ms..1h", NULL},
    {NULL, NULL, NULL, NULL},
};

/* ------------------------------------------------------------ options */

static int copy_opt(char *dst, size_t len, const char *src)
{
    size_t n = strlen(src);
    if (n >= len)
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

/* Printable ASCII, no spaces or brackets: an address we may put between
 * < and > in a command and a header. */
static int valid_address(const char *a)
{
    const char *at = strrchr(a, '@');
    if (!at || at == a || !at[1] || strlen(a) > ADDR_MAX)
        return 0;
    for (; *a; a++)
        if ((unsigned char)*a <= ' ' || (unsigned char)*a >= 0x7f || strchr("<>,;\"()[]\\", *a))
            return 0;
    return 1;
}

static int has_crlf(const char *s, size_t n)
{
    return memchr(s, '\r', n) || memchr(s, '\n', n);
}

/* "smtp://host:port" without a path: the url names the server only. */
static gh_result read_url(smtp *s, const char *url, gh_call *call)
{
    size_t scheme = strncmp(url, "smtps://", 8) == 0 ? 8 : strncmp(url, "smtp://", 7) == 0 ? 7 : 0;
    if (!scheme || !url[scheme] || has_crlf(url, strlen(url)) || strchr(url + scheme, '@'))
        return host->fail(call, GH_ERR_INVALID,
                          "option 'url' must be smtp://host[:port] or smtps://host[:port] "
                          "(credentials go in username and password)");
    if (copy_opt(s->url, sizeof s->url, url) < 0)
        return host->fail(call, GH_ERR_INVALID, "option 'url' is too long");
    s->implicit_tls = scheme == 8;
    size_t n = strcspn(url + scheme, "/?");
    snprintf(s->server, sizeof s->server, "%.*s", (int)(scheme + n), url);
    return GH_OK;
}

static gh_result read_tls(smtp *s, const gh_cfg *o, gh_call *call)
{
    const char *t = host->cfg_str(o, "starttls", "required"); /* one of tls_modes */
    s->starttls = strcmp(t, "required") == 0   ? TLS_REQUIRED
                  : strcmp(t, "optional") == 0 ? TLS_OPTIONAL
                                               : TLS_OFF;
    const char *ca = host->cfg_str(o, "ca_file", "");
    if (copy_opt(s->ca_file, sizeof s->ca_file, ca) < 0)
        return host->fail(call, GH_ERR_INVALID, "option 'ca_file' is too long");
    return GH_OK;
}

static gh_result read_auth(smtp *s, const gh_cfg *o, gh_call *call)
{
    const char *user = host->cfg_str(o, "username", "");
    char *pw = host->cfg_secret(o, "password");
    gh_result r = GH_OK;
    if (copy_opt(s->username, sizeof s->username, user) < 0)
        r = host->fail(call, GH_ERR_INVALID, "option 'username' is too long");
    else if (pw && copy_opt(s->password, sizeof s->password, pw) < 0)
        r = host->fail(call, GH_ERR_INVALID, "option 'password' is too long");
    else if (pw && !*user)
        r = host->fail(call, GH_ERR_INVALID, "option 'password' needs 'username'");
    if (pw) {
        host->wipe(pw, strlen(pw));
        host->free(pw);
    }
    return r;
}

static gh_result read_sender(smtp *s, const gh_cfg *o, gh_call *call)
{
    const char *from = host->cfg_str(o, "from", "");
    const char *name = host->cfg_str(o, "from_name", "");
    if (!valid_address(from) || copy_opt(s->from, sizeof s->from, from) < 0)
        return host->fail(call, GH_ERR_INVALID, "option 'from' must be an email address");
    if (has_crlf(name, strlen(name)) || copy_opt(s->from_name, sizeof s->from_name, name) < 0)
        return host->fail(call, GH_ERR_INVALID,
                          "option 'from_name' must be one line of at most %d bytes", NAME_MAX_LEN);
    return GH_OK;
}

static gh_result smtp_instantiate(void *inst, const gh_cfg *o, gh_call *call)
{
    smtp *s = inst;
    gh_result r = read_url(s, host->cfg_str(o, "url", ""), call);
    if (r == GH_OK)
        r = read_tls(s, o, call);
    if (r == GH_OK)
        r = read_auth(s, o, call);
    if (r == GH_OK)
        r = read_sender(s, o, call);
    if (r != GH_OK)
        return r;
    s->connect_timeout_ms = host->cfg_int(o, "connect_timeout", 0); /* the rules' defaults */
    s->timeout_ms = host->cfg_int(o, "timeout", 0);
    /* on the main thread, before any delivery: curl_global_init is not
     * safe to race with other threads on every libcurl build */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return host->fail(call, GH_ERR_INTERNAL, "cannot initialise libcurl");
    return GH_OK;
}

static void smtp_detach(void *inst)
{
    curl_global_cleanup();
}

/* ------------------------------------------------------------ headers */

static const gh_param *param(const gh_param *in, const char *key)
{
    for (; in && in->key; in++)
        if (strcmp(in->key, key) == 0 && (in->type == GH_T_STR || in->type == GH_T_BYTES) &&
            (in->data || !in->len))
            return in;
    return NULL;
}

static int is_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 0;
    return 1;
}

/* RFC 2047 encoded words (UTF-8, base64), each at most 75 characters, cut
 * between UTF-8 sequences; folded onto continuation lines. */
static int encode_words(char *out, size_t outlen, const char *s, size_t n)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t used = 0;
    while (n > 0) {
        size_t take = n < 45 ? n : 45; /* 45 bytes -> 60 base64 characters */
        while (take < n && take > 0 && ((unsigned char)s[take] & 0xc0) == 0x80)
            take--;
        int w = snprintf(out + used, outlen - used, "%s=?UTF-8?B?", used ? "\r\n " : "");
        if (w < 0 || (size_t)w >= outlen - used)
            return -1;
        used += (size_t)w;
        for (size_t i = 0; i < take; i += 3) {
            unsigned v = (unsigned char)s[i] << 16;
            v |= i + 1 < take ? (unsigned char)s[i + 1] << 8 : 0;
            v |= i + 2 < take ? (unsigned char)s[i + 2] : 0;
            if (used + 4 >= outlen)
                return -1;
            out[used++] = b64[(v >> 18) & 63];
            out[used++] = b64[(v >> 12) & 63];
            out[used++] = i + 1 < take ? b64[(v >> 6) & 63] : '=';
            out[used++] = i + 2 < take ? b64[v & 63] : '=';
        }
        if (used + 3 >= outlen)
            return -1;
        memcpy(out + used, "?=", 3);
        used += 2;
        s += take;
        n -= take;
    }
    return 0;
}

/* A display name: plain ASCII as a quoted string, else encoded words. */
static int display_name(char *out, size_t outlen, const char *s)
{
    size_t n = strlen(s), used = 0;
    if (!is_ascii(s, n))
        return encode_words(out, outlen, s, n);
    if (outlen < n * 2 + 3)
        return -1;
    out[used++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            out[used++] = '\\';
        out[used++] = s[i];
    }
    out[used++] = '"';
    out[used] = '\0';
    return 0;
}

static struct curl_slist *add_header(struct curl_slist *list, int *bad, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static struct curl_slist *add_header(struct curl_slist *list, int *bad, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    struct curl_slist *l = n < 0 || (size_t)n >= sizeof line ? NULL : curl_slist_append(list, line);
    if (!l) {
        *bad = 1;
        return list;
    }
    return l;
}

/* Date, Message-ID, From, To, Subject, and the multipart type (curl adds
 * its boundary and the MIME-Version). */
static struct curl_slist *headers(const smtp *s, const char *to, const gh_param *subject,
                                  char msgid[128])
{
    char date[64], name[512], subj[768];
    unsigned char rnd[12];
    time_t now = (time_t)(host->now_ms() / 1000);
    struct tm tm;
    int bad = 0;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    if (host->random(rnd, sizeof rnd) != GH_OK)
        return NULL;
    int n = snprintf(msgid, 128, "<");
    for (size_t i = 0; i < sizeof rnd; i++)
        n += snprintf(msgid + n, 128 - (size_t)n, "%02x", rnd[i]);
    snprintf(msgid + n, 128 - (size_t)n, "@%s>", strrchr(s->from, '@') + 1);
    if (subject && !is_ascii(subject->data, subject->len)) {
        if (encode_words(subj, sizeof subj, subject->data, subject->len) < 0)
            return NULL;
    } else {
        snprintf(subj, sizeof subj, "%.*s", subject ? (int)subject->len : 0,
                 subject ? (const char *)subject->data : "");
    }
    struct curl_slist *h = add_header(NULL, &bad, "Date: %s", date);
    h = add_header(h, &bad, "Message-ID: %s", msgid);
    if (s->from_name[0] && display_name(name, sizeof name, s->from_name) == 0)
        h = add_header(h, &bad, "From: %s <%s>", name, s->from);
    else
        h = add_header(h, &bad, "From: <%s>", s->from);
    h = add_header(h, &bad, "To: <%s>", to);
    h = add_header(h, &bad, "Subject: %s", subj);
    h = add_header(h, &bad, "Content-Type: multipart/alternative");
    if (bad) {
        curl_slist_free_all(h);
        return NULL;
    }
    return h;
}

/* ------------------------------------------------------------ the body */

/* Mail lines end in CRLF: templates are written with LF. */
static char *crlf(const gh_param *p)
{
    const char *s = p->data;
    size_t extra = 0;
    for (size_t i = 0; i < p->len; i++)
        extra += s[i] == '\n' && (i == 0 || s[i - 1] != '\r');
    char *out = malloc(p->len + extra + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < p->len; i++) {
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
            *o++ = '\r';
        *o++ = s[i];
    }
    *o = '\0';
    return out;
}

static int add_part(curl_mime *mime, const gh_param *p, const char *type)
{
    char *body = crlf(p);
    curl_mimepart *part = body ? curl_mime_addpart(mime) : NULL;
    int ok = part && curl_mime_data(part, body, CURL_ZERO_TERMINATED) == CURLE_OK &&
             curl_mime_type(part, type) == CURLE_OK &&
             curl_mime_encoder(part, "quoted-printable") == CURLE_OK;
    if (body) {
        host->wipe(body, strlen(body)); /* it holds a one-time link */
        free(body);
    }
    return ok ? 0 : -1;
}

static curl_mime *body(CURL *curl, const gh_param *text, const gh_param *html)
{
    curl_mime *mime = curl_mime_init(curl);
    if (!mime)
        return NULL;
    /* alternatives go from the plainest to the richest (RFC 2046 5.1.4) */
    if (add_part(mime, text, "text/plain; charset=utf-8") < 0 ||
        (html && add_part(mime, html, "text/html; charset=utf-8") < 0)) {
        curl_mime_free(mime);
        return NULL;
    }
    return mime;
}

/* ------------------------------------------------------------ delivery */

static gh_result map_error(const smtp *s, gh_call *call, CURLcode rc, long reply,
                           const char *domain)
{
    gh_result r;
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        r = GH_ERR_TIMEOUT;
        break;
    case CURLE_LOGIN_DENIED:
    case CURLE_USE_SSL_FAILED:
    case CURLE_PEER_FAILED_VERIFICATION:
        r = GH_ERR_DENIED;
        break;
    case CURLE_OUT_OF_MEMORY:
        r = GH_ERR_NOMEM;
        break;
    default:
        /* a 5xx reply is the server's final word; anything else may pass */
        r = reply >= 500 ? GH_ERR_DENIED : GH_ERR_UNAVAILABLE;
    }
    return host->fail(call, r, "smtp %s: to a recipient at %s: %s (reply %ld)", s->server,
                      domain, curl_easy_strerror(rc), reply);
}

static void set_transport(CURL *c, const smtp *s, int64_t left_ms)
{
    curl_easy_setopt(c, CURLOPT_URL, s->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#endif
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     s->implicit_tls || s->starttls == TLS_REQUIRED ? (long)CURLUSESSL_ALL
                     : s->starttls == TLS_OPTIONAL              ? (long)CURLUSESSL_TRY
                                                                : (long)CURLUSESSL_NONE);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (s->ca_file[0])
        curl_easy_setopt(c, CURLOPT_CAINFO, s->ca_file);
    if (s->username[0]) {
        curl_easy_setopt(c, CURLOPT_USERNAME, s->username);
        curl_easy_setopt(c, CURLOPT_PASSWORD, s->password);
    }
    int64_t total = s->timeout_ms < left_ms ? s->timeout_ms : left_ms;
    int64_t conn = s->connect_timeout_ms < total ? s->connect_timeout_ms : total;
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)conn);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)total);
}

static gh_result send_mail(const smtp *s, gh_call *call, const char *to, const gh_param *subject,
                           const gh_param *text, const gh_param *html, gh_out *out)
{
    int64_t left = host->call_deadline_ms(call) - host->now_ms();
    if (left <= 0)
        return host->fail(call, GH_ERR_TIMEOUT, "smtp %s: no time left", s->server);
    char rcpt[ADDR_MAX + 3], from[ADDR_MAX + 3], msgid[128];
    snprintf(rcpt, sizeof rcpt, "<%s>", to);
    snprintf(from, sizeof from, "<%s>", s->from);
    CURL *c = curl_easy_init();
    struct curl_slist *hdr = c ? headers(s, to, subject, msgid) : NULL;
    struct curl_slist *rcpts = hdr ? curl_slist_append(NULL, rcpt) : NULL;
    curl_mime *mime = rcpts ? body(c, text, html) : NULL;
    gh_result r = GH_ERR_NOMEM;
    if (mime) {
        set_transport(c, s, left);
        curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
        curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
        CURLcode rc = curl_easy_perform(c);
        long reply = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
        r = rc == CURLE_OK ? host->put(out, &(gh_param){"message_id", GH_T_STR, msgid, strlen(msgid)})
                           : map_error(s, call, rc, reply, strrchr(to, '@') + 1);
    } else {
        host->fail(call, r, "smtp: cannot build the message");
    }
    curl_mime_free(mime);
    curl_slist_free_all(rcpts);
    curl_slist_free_all(hdr);
    if (c)
        curl_easy_cleanup(c);
    return r;
}

/* deliver  in: to, subject?, text, html?   out: message_id */
static gh_result smtp_deliver(const void *inst, void *tinst, gh_call *call, const gh_param *in,
                              gh_out *out)
{
    const smtp *s = inst;
    const gh_param *to = param(in, "to"), *subject = param(in, "subject");
    const gh_param *text = param(in, "text"), *html = param(in, "html");
    char addr[ADDR_MAX + 1];
    (void)tinst;
    if (!to || !text)
        return host->fail(call, GH_ERR_INVALID, "smtp: 'to' and 'text' are required");
    if (to->len > ADDR_MAX || memchr(to->data, '\0', to->len))
        return host->fail(call, GH_ERR_INVALID, "smtp: 'to' is not an address");
    memcpy(addr, to->data, to->len);
    addr[to->len] = '\0';
    if (!valid_address(addr))
        return host->fail(call, GH_ERR_INVALID, "smtp: 'to' is not an address");
    if (subject && (subject->len > 400 || has_crlf(subject->data, subject->len)))
        return host->fail(call, GH_ERR_INVALID, "smtp: 'subject' must be one line");
    return send_mail(s, call, addr, subject, text, html, out);
}

static const gh_notify_ops smtp_ops = {
    .size = sizeof(gh_notify_ops),
    .deliver = smtp_deliver,
};

static const gh_plugin smtp_plugin = {
    .size = sizeof(gh_plugin),
    .abi_major = GH_ABI_MAJOR,
    .abi_minor = GH_ABI_MINOR,
    .name = "smtp",
    .version = "1.0.0",
    .description = "mail through an SMTP server (libcurl)",
    .kind = GH_KIND_NOTIFY,
    .options = smtp_options,
    .option_rules = smtp_rules,
    .inst_size = sizeof(smtp),
    .instantiate = smtp_instantiate,
    .detach = smtp_detach,
    .ops = &smtp_ops,
};

const gh_plugin *gatehouse_plugin_v1(const gh_host *h)
{
    host = h;
    return &smtp_plugin;
}
