/*
 * webhook.c - the `webhook` notify plugin: delivers one outgoing event
 * (auth/webhooks.h) as an HTTP POST signed per Standard Webhooks
 * (https://www.standardwebhooks.com):
 *
 *   webhook-id: <message_id>
 *   webhook-timestamp: <timestamp, Unix seconds>
 *   webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">
 *
 * keyed by the bytes of the secret's base64 part (whsec_<base64>). The
 * core owns the URL, the body, the secret and the policy; this plugin
 * only signs and sends, through host->http, which refuses http:// and
 * non-public addresses unless the core's allow_http and allow_private
 * say otherwise, checks the address where it connects (after DNS), and
 * never follows a redirect.
 *
 *   plugins:
 *     - name: webhook
 *   webhooks:
 *     plugin: webhook
 *
 * deliver  in: to (the URL), text (the JSON body), secret, message_id,
 *              timestamp (INT), allow_private? (BOOL), allow_http? (BOOL)
 *          out: status (INT, the receiver's HTTP status)
 * Any answer is GH_OK with its status: the core decides what a status
 * means (2xx delivered, anything else retried). No answer at all (DNS,
 * connection, TLS, timeout, a refused address) is the host's error.
 * Messages never hold the secret, the signature or the body.
 */
#include <stdio.h>
#include <string.h>

#include <gatehouse/plugin.h>

static const gh_host *host;

#define SECRET_TAG "whsec_"
#define KEY_MAX 64
#define ID_MAX 64

static const gh_param *param(const gh_param *in, const char *key)
{
    for (; in && in->key; in++)
        if (strcmp(in->key, key) == 0)
            return in;
    return NULL;
}

static int str_param(const gh_param *p)
{
    return p && p->type == GH_T_STR && p->data && !memchr(p->data, '\0', p->len);
}

/* A header value we made: printable ASCII, no CR or LF to smuggle a header. */
static int header_safe(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return 0;
    return len > 0;
}

/* The signature header of id.ts.body under secret, into out. */
static gh_result sign(gh_call *call, const gh_param *secret, const char *id, const char *ts,
                      const gh_param *body, char *out, size_t outlen)
{
    unsigned char key[KEY_MAX], mac[GH_DIGEST_MAX];
    size_t tag = sizeof SECRET_TAG - 1, keylen = 0, maclen = 0, n = 0;
    char b64[2 * GH_DIGEST_MAX];
    gh_result r;
    if (secret->len <= tag || strncmp(secret->data, SECRET_TAG, tag) != 0)
        return host->fail(call, GH_ERR_INVALID, "webhook: 'secret' is not a whsec_ secret");
    if ((r = host->decode(call, GH_ENC_BASE64, (const char *)secret->data + tag, secret->len - tag,
                          key, sizeof key, &keylen)) != GH_OK)
        return host->fail(call, GH_ERR_INVALID, "webhook: 'secret' is not a whsec_ secret");
    /* id.timestamp.body, signed in three parts' worth of one buffer */
    size_t idlen = strlen(id), tslen = strlen(ts), total = idlen + tslen + 2 + body->len;
    char *content = host->alloc(total + 1);
    if (!content) {
        host->wipe(key, sizeof key);
        return host->fail(call, GH_ERR_NOMEM, "webhook: out of memory");
    }
    memcpy(content, id, idlen);
    content[idlen] = '.';
    memcpy(content + idlen + 1, ts, tslen);
    content[idlen + 1 + tslen] = '.';
    memcpy(content + idlen + tslen + 2, body->data, body->len);
    r = host->hmac(call, GH_SHA256, key, keylen, content, total, mac, sizeof mac, &maclen);
    host->wipe(key, sizeof key);
    host->free(content);
    if (r == GH_OK)
        r = host->encode(call, GH_ENC_BASE64, mac, maclen, b64, sizeof b64, &n);
    if (r == GH_OK)
        snprintf(out, outlen, "webhook-signature: v1,%s", b64);
    return r;
}

static gh_result webhook_deliver(const void *inst, void *tinst, gh_call *call,
                                 const gh_param *in, gh_out *out)
{
    const gh_param *to = param(in, "to"), *text = param(in, "text");
    const gh_param *secret = param(in, "secret"), *id = param(in, "message_id");
    const gh_param *ts = param(in, "timestamp");
    const gh_param *priv = param(in, "allow_private"), *http = param(in, "allow_http");
    char id_hdr[ID_MAX + 16], ts_hdr[48], sig_hdr[2 * GH_DIGEST_MAX + 32], tsv[24];
    (void)inst, (void)tinst;
    if (!str_param(to) || !str_param(text) || !str_param(secret) || !str_param(id) || !ts ||
        ts->type != GH_T_INT)
        return host->fail(call, GH_ERR_INVALID, "webhook: 'to', 'text', 'secret', "
                          "'message_id' and 'timestamp' are required");
    if (id->len > ID_MAX || !header_safe(id->data, id->len))
        return host->fail(call, GH_ERR_INVALID, "webhook: 'message_id' must be printable "
                          "ASCII, at most %d characters", ID_MAX);
    snprintf(tsv, sizeof tsv, "%lld", (long long)*(const int64_t *)ts->data);
    snprintf(id_hdr, sizeof id_hdr, "webhook-id: %.*s", (int)id->len, (const char *)id->data);
    snprintf(ts_hdr, sizeof ts_hdr, "webhook-timestamp: %s", tsv);
    gh_result r = sign(call, secret, id_hdr + 12, tsv, text, sig_hdr, sizeof sig_hdr);
    if (r != GH_OK)
        return r;
    int32_t no = 0;
    gh_param req[] = {
        { "method", GH_T_STR, "POST", 4 },
        { "url", GH_T_STR, to->data, to->len },
        { "header", GH_T_STR, "Content-Type: application/json", 30 },
        { "header", GH_T_STR, "User-Agent: Gatehouse-Webhooks/1", 32 },
        { "header", GH_T_STR, id_hdr, strlen(id_hdr) },
        { "header", GH_T_STR, ts_hdr, strlen(ts_hdr) },
        { "header", GH_T_STR, sig_hdr, strlen(sig_hdr) },
        { "body", GH_T_STR, text->data, text->len },
        { "allow_private", GH_T_BOOL, priv && priv->type == GH_T_BOOL ? priv->data : &no,
          sizeof(int32_t) },
        { "allow_http", GH_T_BOOL, http && http->type == GH_T_BOOL ? http->data : &no,
          sizeof(int32_t) },
        { NULL, 0, NULL, 0 },
    };
    gh_out *resp = host->out_new();
    if (!resp)
        return host->fail(call, GH_ERR_NOMEM, "webhook: out of memory");
    r = host->http(call, req, resp);
    host->wipe(sig_hdr, sizeof sig_hdr);
    if (r == GH_OK) {
        const gh_param *st = host->out_get(resp, "status", 0);
        int64_t status = st && st->type == GH_T_INT ? *(const int64_t *)st->data : 0;
        r = host->put(out, &(gh_param){ "status", GH_T_INT, &status, sizeof status });
        host->count(call, status >= 200 && status <= 299 ? "delivered" : "refused", 1);
    }
    host->out_free(resp);
    return r;
}

static const gh_notify_ops webhook_ops = {
    .size = sizeof(gh_notify_ops),
    .deliver = webhook_deliver,
};

static const gh_plugin webhook_plugin = {
    .size = sizeof(gh_plugin),
    .abi_major = GH_ABI_MAJOR,
    .abi_minor = GH_ABI_MINOR,
    .name = "webhook",
    .version = "1.0.0",
    .description = "outgoing events as Standard Webhooks signed POSTs",
    .kind = GH_KIND_NOTIFY,
    .ops = &webhook_ops,
    .flags = GH_PLUGIN_NEEDS_HTTP,
};

const gh_plugin *gatehouse_plugin_v1(const gh_host *h)
{
    host = h;
    return &webhook_plugin;
}
