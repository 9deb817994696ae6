/*
 * mfa_sms_sink.c - a test MFA plugin on the sending side of the contract:
 * `challenge` appends {"destination", "text", "code"} as one JSON line to
 * the file its `file` option names, so the core's tests read the code the
 * core made. Destinations ending in 0001..0005 fail as a provider would:
 * INVALID (cannot receive), DENIED (opted out), RATE_LIMITED (retry in 7 s),
 * UNAVAILABLE, TIMEOUT. `inbound` takes a request whose X-Sink-Signature
 * header is "good" (DENIED otherwise) and appends {"url", "params"}.
 */
#include <stdio.h>
#include <string.h>
#include <gatehouse/plugin.h>

static const gh_host *host;
typedef struct sink { char file[512]; } sink;

static const gh_option sink_options[] = {
    {"file", GH_T_STR, 1, "the file messages are appended to"}, {NULL, 0, 0, NULL}};

static gh_result sink_instantiate(void *inst, const gh_cfg *options, gh_call *call)
{
    const char *file = host->cfg_str(options, "file", "");
    if (!GH_HAS(host, fail_retry) || !GH_HAS(host, json_encode_to))
        return host->fail(call, GH_ERR_UNSUPPORTED, "needs plugin ABI 1.1 host services");
    if (strlen(file) >= sizeof((sink *)inst)->file)
        return host->fail(call, GH_ERR_INVALID, "option 'file' is too long");
    return strcpy(((sink *)inst)->file, file), GH_OK;
}

static const gh_param *find(const gh_param *in, const char *key, size_t skip)
{
    for (; in && in->key; in++)
        if (in->type == GH_T_STR && strcmp(in->key, key) == 0 && skip-- == 0)
            return in;
    return NULL;
}

static gh_result append(const sink *s, gh_call *call, const gh_param *fields)
{
    char *line = NULL;
    gh_result r = host->json_encode_to(call, fields, &line);
    FILE *f = r == GH_OK ? fopen(s->file, "a") : NULL;
    if (r == GH_OK && !f)
        r = host->fail(call, GH_ERR_UNAVAILABLE, "cannot open the sink file");
    if (f) {
        fprintf(f, "%s\n", line);
        fclose(f);
    }
    host->free(line);
    return r;
}

/* challenge  in: destination, text, code   out: message_id */
static gh_result sink_challenge(const void *inst, void *tinst, gh_call *call, const gh_param *in,
                                gh_out *out)
{
    const gh_param *to = find(in, "destination", 0), *text = find(in, "text", 0),
                   *code = find(in, "code", 0);
    (void)tinst;
    if (!to || !text || !code || to->len < 4)
        return host->fail(call, GH_ERR_INVALID, "destination, text and code are required");
    const char *tail = (const char *)to->data + to->len - 4;
    if (strncmp(tail, "0001", 4) == 0)
        return host->fail(call, GH_ERR_INVALID, "the number cannot receive");
    if (strncmp(tail, "0002", 4) == 0)
        return host->fail(call, GH_ERR_DENIED, "the recipient opted out");
    if (strncmp(tail, "0003", 4) == 0)
        return host->fail_retry(call, GH_ERR_RATE_LIMITED, 7000, "provider quota");
    if (strncmp(tail, "0004", 4) == 0)
        return host->fail(call, GH_ERR_UNAVAILABLE, "provider down");
    if (strncmp(tail, "0005", 4) == 0)
        return host->fail(call, GH_ERR_TIMEOUT, "provider slow");
    gh_param fields[] = {{"destination", GH_T_STR, to->data, to->len},
                         {"text", GH_T_STR, text->data, text->len},
                         {"code", GH_T_STR, code->data, code->len}, {NULL, 0, NULL, 0}};
    gh_result r = append(inst, call, fields);
    return r ? r : host->put(out, &(gh_param){"message_id", GH_T_STR, "SM1", 3});
}

/* Built a second time as mfa_sms_sink12, declaring ABI 1.2: such a
 * plugin must still get each form field as "name=value", while 1.3 made
 * it name, NUL, value. That one records the field as it came. */
#ifndef SINK_ABI_MINOR
#define SINK_ABI_MINOR GH_ABI_MINOR
#define SINK_NAME "mfa_sms_sink"
#endif

/* "name=value" of a form field as this build of the sink gets it */
static int param_text(const gh_param *h, char *buf, size_t size)
{
    const char *nul = memchr(h->data, '\0', h->len); /* 1.3: name, NUL, value */
    int nlen = nul ? (int)(nul - (const char *)h->data) : (int)h->len;
    if (SINK_ABI_MINOR < 3 || !nul)
        return snprintf(buf, size, "%.*s", (int)h->len, (const char *)h->data);
    return snprintf(buf, size, "%.*s=%.*s", nlen, (const char *)h->data, (int)h->len - nlen - 1,
                    nul + 1);
}

/* inbound  in: url, header*, param*   out: status */
static gh_result sink_inbound(const void *inst, void *tinst, gh_call *call, const gh_param *in,
                              gh_out *out)
{
    static const char good[] = "X-Sink-Signature: good";
    const gh_param *url = find(in, "url", 0), *h;
    char params[1024] = "";
    size_t n = 0, signed_ok = 0;
    (void)tinst;
    for (size_t i = 0; (h = find(in, "header", i)); i++)
        signed_ok |= h->len == sizeof good - 1 && memcmp(h->data, good, h->len) == 0;
    if (!signed_ok)
        return host->fail(call, GH_ERR_DENIED, "no good signature");
    for (size_t i = 0; (h = find(in, "param", i)) && n + 1 < sizeof params; i++) {
        if (i)
            params[n++] = '&';
        int w = param_text(h, params + n, sizeof params - n);
        n += w > 0 ? (size_t)w : 0;
    }
    n = n < sizeof params ? n : sizeof params - 1;
    params[n] = '\0';
    gh_param fields[] = {{"url", GH_T_STR, url ? url->data : "", url ? url->len : 0},
                         {"params", GH_T_STR, params, strlen(params)}, {NULL, 0, NULL, 0}};
    gh_result r = append(inst, call, fields);
    int64_t status = 200;
    return r ? r : host->put(out, &(gh_param){"status", GH_T_INT, &status, sizeof status});
}

static const gh_mfa_ops sink_ops = {
    .size = sizeof(gh_mfa_ops), .challenge = sink_challenge, .inbound = sink_inbound};
static const gh_plugin sink_plugin = {
    .size = sizeof(gh_plugin), .abi_major = GH_ABI_MAJOR, .abi_minor = SINK_ABI_MINOR,
    .name = SINK_NAME, .version = "1.0.0", .description = "SMS codes into a file",
    .kind = GH_KIND_MFA, .options = sink_options, .inst_size = sizeof(sink),
    .instantiate = sink_instantiate, .ops = &sink_ops};
const gh_plugin *gatehouse_plugin_v1(const gh_host *h) { return host = h, &sink_plugin; }
