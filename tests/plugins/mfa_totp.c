/*
 * mfa_totp.c - a test MFA plugin, the logic of docs/examples/mfa-totp: RFC 6238 time-based one-time passwords
 * (HMAC-SHA1, 30 s steps, 6 digits), as authenticator apps expect them.
 * The core's tests enrol and sign in with it; they compute the codes themselves.
 */
#include <stdio.h>
#include <string.h>
#include <gatehouse/plugin.h>
static const gh_host *host; /* valid while the plugin is loaded */
typedef struct totp { char issuer[64]; } totp; /* read-only after instantiate */

static const gh_option totp_options[] = {
    {"issuer", GH_T_STR, 0, "the issuer shown in authenticator apps (default \"Gatehouse\")"}, {NULL, 0, 0, NULL}};

static gh_result totp_instantiate(void *inst, const gh_cfg *options, gh_call *call)
{
    const char *issuer = host->cfg_str(options, "issuer", "Gatehouse");
    /* refuse an older daemon at start-up, not at the first sign-in */
    if (!GH_HAS(host, hmac) || !GH_HAS(host, encode) || !GH_HAS(host, equal_ct) || !GH_HAS(host, url_encode))
        return host->fail(call, GH_ERR_UNSUPPORTED, "needs plugin ABI 1.1 host services");
    if (strlen(issuer) >= sizeof((totp *)inst)->issuer)
        return host->fail(call, GH_ERR_INVALID, "option 'issuer' is too long");
    return strcpy(((totp *)inst)->issuer, issuer), GH_OK; /* options are only borrowed */
}

static const gh_param *find(const gh_param *in, const char *key, uint32_t type)
{
    while (in && in->key && (in->type != type || strcmp(in->key, key) != 0))
        in++;
    return in && in->key ? in : NULL;
}

/* enroll  in: account_name   out: secret (BYTES, kept encrypted by the core), uri */
static gh_result totp_enroll(const void *inst, void *tinst, gh_call *call, const gh_param *in, gh_out *out)
{
    const char *iss = ((const totp *)inst)->issuer;
    const gh_param *account = find(in, "account_name", GH_T_STR);
    unsigned char secret[20]; /* 160 bits, as RFC 4226 recommends */
    char b32[40], uri[512], *label = NULL, *issuer = NULL;
    size_t n;
    gh_result r;
    (void)tinst;
    if (!account)
        return host->fail(call, GH_ERR_INVALID, "'account_name' is required");
    if (!(r = host->random(secret, sizeof secret)) &&
        !(r = host->encode(call, GH_ENC_BASE32, secret, sizeof secret, b32, sizeof b32, &n)) &&
        !(r = host->url_encode(call, account->data, account->len, &label)) &&
        !(r = host->url_encode(call, iss, strlen(iss), &issuer))) {
        b32[strcspn(b32, "=")] = '\0'; /* apps expect the secret unpadded */
        snprintf(uri, sizeof uri, "otpauth://totp/%s:%s?secret=%s&issuer=%s&digits=6&period=30",
                 issuer, label, b32, issuer);
        if (!(r = host->put(out, &(gh_param){"secret", GH_T_BYTES, secret, sizeof secret})))
            r = host->put(out, &(gh_param){"uri", GH_T_STR, uri, strlen(uri)});
        host->wipe(b32, sizeof b32), host->wipe(uri, sizeof uri);
    }
    host->wipe(secret, sizeof secret), host->free(label), host->free(issuer);
    return r;
}

/* The 6-digit code for counter c (RFC 4226 HOTP with dynamic truncation). */
static gh_result hotp(gh_call *call, const gh_param *secret, int64_t c, char code[7])
{
    unsigned char msg[8], mac[GH_DIGEST_MAX];
    size_t n = 0;
    for (int i = 7; i >= 0; i--, c >>= 8)
        msg[i] = (unsigned char)c;
    gh_result r = host->hmac(call, GH_SHA1, secret->data, secret->len, msg, sizeof msg, mac, sizeof mac, &n);
    const unsigned char *p = mac + (r == GH_OK ? (mac[n - 1] & 0xf) : 0);
    if (r == GH_OK)
        snprintf(code, 7, "%06lu", ((unsigned long)(p[0] & 0x7f) << 24 | (unsigned long)p[1] << 16 |
                                    (unsigned long)p[2] << 8 | p[3]) % 1000000);
    host->wipe(mac, sizeof mac);
    return r;
}

/* verify  in: secret (BYTES), code, last_counter?   out: counter; DENIED when wrong */
static gh_result totp_verify(const void *inst, void *tinst, gh_call *call, const gh_param *in, gh_out *out)
{
    const gh_param *secret = find(in, "secret", GH_T_BYTES), *code = find(in, "code", GH_T_STR);
    const gh_param *last = find(in, "last_counter", GH_T_INT); /* a counter <= it is a replay */
    int64_t now = host->now_ms() / 30000, used = last ? *(const int64_t *)last->data : -1;
    char want[7];
    gh_result r = GH_OK; /* one step either side forgives clock skew */
    (void)inst, (void)tinst;
    if (!secret || !code || code->len != 6)
        return host->fail(call, GH_ERR_INVALID, "'secret' and a 6-digit 'code' are required");
    for (int64_t c = (now - 1 > used ? now - 1 : used + 1); c <= now + 1 && r == GH_OK; c++)
        if ((r = hotp(call, secret, c, want)) == GH_OK && host->equal_ct(want, code->data, 6))
            return host->put(out, &(gh_param){"counter", GH_T_INT, &c, sizeof c}); /* want: public now */
    return r != GH_OK ? r : host->fail(call, GH_ERR_DENIED, "wrong or already used code");
}

static const gh_mfa_ops totp_ops = {.size = sizeof(gh_mfa_ops), .enroll = totp_enroll, .verify = totp_verify};
static const gh_plugin totp_plugin = { /* the file mfa_totp.so, the YAML name mfa_totp */
    .size = sizeof(gh_plugin), .abi_major = GH_ABI_MAJOR, .abi_minor = GH_ABI_MINOR,
    .name = "mfa_totp", .version = "1.0.0", .description = "RFC 6238 time-based one-time passwords",
    .kind = GH_KIND_MFA, .options = totp_options, .inst_size = sizeof(totp),
    .instantiate = totp_instantiate, .ops = &totp_ops};
const gh_plugin *gatehouse_plugin_v1(const gh_host *h) { return host = h, &totp_plugin; }
