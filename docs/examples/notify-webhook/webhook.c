/*
 * webhook.c - an example notify plugin: POSTs each message as JSON
 * {"to", "subject", "text"} to an https URL, signed so the receiver can
 * check it came from us: `X-Signature: sha256=<hex HMAC-SHA256 of the body>`
 * under a shared secret. Needs ABI 1.1 host services (hmac, json_encode_to).
 *   plugins:
 *     - name: webhook
 *       options: { url: "https://hooks.example.org/gatehouse", secret_file: /etc/gatehouse/hook.key }
 */
#include <stdio.h>
#include <string.h>
#include <gatehouse/plugin.h>

static const gh_host *host;
typedef struct webhook { char url[512]; char *secret; int64_t timeout_ms; } webhook; /* read-only after instantiate */

static const gh_option webhook_options[] = {
    {"url", GH_T_STR, 1, "the https URL messages are POSTed to"},
    {"secret", GH_T_SECRET, 1, "the HMAC-SHA256 key the receiver checks X-Signature with"},
    {"timeout", GH_T_DURATION, 0, "how long the receiver may take to answer"},
    {NULL, 0, 0, NULL},
};
/* The host checks the bounds at load (file:line:col) and fills in the default (1.1). */
static const gh_option_rule webhook_rules[] = {{"timeout", "5s", "100ms..30s", NULL}, {NULL, NULL, NULL, NULL}};

static gh_result webhook_instantiate(void *inst, const gh_cfg *options, gh_call *call)
{
    webhook *w = inst;
    const char *url = host->cfg_str(options, "url", "");

    if (!GH_HAS(host, hmac) || !GH_HAS(host, encode) || !GH_HAS(host, json_encode_to))
        return host->fail(call, GH_ERR_UNSUPPORTED, "needs plugin ABI 1.1 host services");
    if (strncmp(url, "https://", 8) != 0 || strlen(url) >= sizeof w->url) /* never sign in clear text */
        return host->fail(call, GH_ERR_INVALID, "option 'url' must be an https URL under %zu bytes", sizeof w->url);
    strcpy(w->url, url);
    w->timeout_ms = host->cfg_int(options, "timeout", 0); /* never 0: the rule's default */
    if (!(w->secret = host->cfg_secret(options, "secret")))
        return host->fail(call, GH_ERR_INVALID, "option 'secret' is empty");
    return GH_OK;
}

static void webhook_detach(void *inst)
{
    webhook *w = inst;
    if (w->secret)
        host->wipe(w->secret, strlen(w->secret)), host->free(w->secret);
}

/* deliver  in: to, subject?, text   out: nothing. The host's HTTP client keeps the
 * call's deadline. A 5xx or no answer is UNAVAILABLE, which the core retries; a 4xx
 * is INVALID: the receiver refused this message, and would refuse it again. */
static gh_result webhook_deliver(const void *inst, void *tinst, gh_call *call, const gh_param *in, gh_out *out)
{
    const webhook *w = inst;
    gh_param fields[4] = {{0}};
    unsigned char mac[GH_DIGEST_MAX];
    char *body = NULL, hex[2 * GH_DIGEST_MAX + 1], sig[sizeof hex + 32];
    size_t n = 0, maclen, required = 0;
    gh_result r;

    (void)tinst, (void)out;
    for (; in && in->key && n < 3; in++) /* pass on only what the receiver expects */
        if (in->type == GH_T_STR && (!strcmp(in->key, "to") || !strcmp(in->key, "subject") || !strcmp(in->key, "text")))
            fields[n++] = *in, required += strcmp(in->key, "subject") != 0;
    if (required != 2)
        return host->fail(call, GH_ERR_INVALID, "'to' and 'text' are required, once each");
    if ((r = host->json_encode_to(call, fields, &body)) != GH_OK ||
        (r = host->hmac(call, GH_SHA256, w->secret, strlen(w->secret), body, strlen(body), mac, sizeof mac, &maclen)) ||
        (r = host->encode(call, GH_ENC_HEX, mac, maclen, hex, sizeof hex, &n)))
        return host->free(body), r;
    snprintf(sig, sizeof sig, "X-Signature: sha256=%s", hex);
    gh_param req[] = {
        {"method", GH_T_STR, "POST", 4}, {"url", GH_T_STR, w->url, strlen(w->url)},
        {"header", GH_T_STR, "Content-Type: application/json", 30}, {"header", GH_T_STR, sig, strlen(sig)},
        {"body", GH_T_STR, body, strlen(body)}, {"timeout_ms", GH_T_INT, &w->timeout_ms, sizeof w->timeout_ms},
        {NULL, 0, NULL, 0},
    };
    gh_out *resp = host->out_new();
    if (!resp)
        return host->free(body), GH_ERR_NOMEM;
    if ((r = host->http(call, req, resp)) == GH_OK) {
        const gh_param *st = host->out_get(resp, "status", 0);
        int64_t status = st ? *(const int64_t *)st->data : 0;
        if (status < 200 || status > 299)
            r = host->fail(call, status >= 400 && status < 500 ? GH_ERR_INVALID : GH_ERR_UNAVAILABLE,
                           "the webhook answered HTTP %lld", (long long)status);
    }
    host->out_free(resp), host->free(body);
    return r;
}

static const gh_notify_ops webhook_ops = {.size = sizeof(gh_notify_ops), .deliver = webhook_deliver};
static const gh_plugin webhook_plugin = { /* the file webhook.so, the YAML name webhook */
    .size = sizeof(gh_plugin), .abi_major = GH_ABI_MAJOR, .abi_minor = GH_ABI_MINOR,
    .name = "webhook", .version = "1.0.0", .description = "signed JSON POSTs to an https URL",
    .kind = GH_KIND_NOTIFY, .options = webhook_options, .inst_size = sizeof(webhook),
    .instantiate = webhook_instantiate, .detach = webhook_detach, .ops = &webhook_ops,
    .flags = GH_PLUGIN_NEEDS_HTTP, .option_rules = webhook_rules};
const gh_plugin *gatehouse_plugin_v1(const gh_host *h) { return host = h, &webhook_plugin; }
