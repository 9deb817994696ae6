/*
 * totp.c - the `totp` mfa plugin: RFC 6238 time-based one-time passwords
 * (RFC 4226 HOTP over the time step), computed by liboath, and the
 * enrolment's QR code drawn as SVG from libqrencode's modules.
 *
 *   plugins:
 *     - name: totp
 *       options:
 *         issuer: Example     # shown in authenticator apps; default Gatehouse
 *         algorithm: SHA1     # SHA1, SHA256 or SHA512
 *         digits: 6           # 6 or 8
 *         period: 30          # seconds per step, 15 to 120
 *         window: 1           # steps accepted either side of now: 0 or 1
 *
 * Many authenticator apps ignore algorithm, digits and period in the
 * otpauth URI and use SHA1/6/30 whatever it says: change them only for
 * apps known to read them.
 *
 * verify tries the steps of the window nearest first and never one at or
 * before last_counter, so a code works once and a newer code retires every
 * older one. It computes and compares every candidate step whatever
 * matches, in constant time, so timing tells nothing about how near a
 * guess came. Secrets, codes and the URI (which holds the secret) are
 * wiped and never logged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oath.h>
#include <qrencode.h>

#include <gatehouse/plugin.h>

static const gh_host *host;

#define ISSUER_MAX 64
#define QUIET_ZONE 4 /* modules of light margin the QR specification asks for */

/* The algorithms, as the otpauth URI names them; the same index in the
 * tables after it. Secrets are as long as the HMAC's output, as RFC 6238's
 * reference vectors use. */
static const char *const algorithms[] = {"SHA1", "SHA256", "SHA512", NULL};
static const int oath_flags[] = {0, OATH_TOTP_HMAC_SHA256, OATH_TOTP_HMAC_SHA512};
static const size_t secret_lens[] = {20, 32, 64};

typedef struct totp {
    char issuer[ISSUER_MAX + 1];
    size_t alg;        /* index into algorithms */
    unsigned digits;
    int64_t period_s;
    int64_t window;
} totp;

static const gh_option totp_options[] = {
    {"issuer", GH_T_STR, 0, "the issuer authenticator apps show, when the core names none"},
    {"algorithm", GH_T_STR, 0, "the HMAC: SHA1, SHA256 or SHA512"},
    {"digits", GH_T_INT, 0, "digits of a code: 6 or 8"},
    {"period", GH_T_INT, 0, "seconds per time step"},
    {"window", GH_T_INT, 0, "steps accepted either side of now, for clock skew: 0 or 1"},
    {NULL, 0, 0, NULL},
};

static const gh_option_rule totp_rules[] = {
    {"issuer", "Gatehouse", NULL, NULL},
    {"algorithm", "SHA1", NULL, algorithms},
    {"digits", "6", "6..8", NULL}, /* 7 is refused in instantiate */
    {"period", "30", "15..120", NULL},
    {"window", "1", "0..1", NULL},
    {NULL, NULL, NULL, NULL},
};

/* An issuer goes before the ':' of the URI's label, so it may not hold one. */
static int issuer_ok(const char *s, size_t len)
{
    return len > 0 && len <= ISSUER_MAX && !memchr(s, ':', len) && !memchr(s, '\0', len);
}

static gh_result totp_instantiate(void *inst, const gh_cfg *options, gh_call *call)
{
    totp *t = inst;
    const char *issuer = host->cfg_str(options, "issuer", NULL);
    const char *alg = host->cfg_str(options, "algorithm", NULL);

    /* the rules that set the defaults and ranges, and the services ops use,
     * are 1.1's: refuse an older daemon at start-up, not at a sign-in */
    if (!GH_HAS(host, cfg_fail) || !GH_HAS(host, equal_ct) || !GH_HAS(host, encode) ||
        !GH_HAS(host, url_encode))
        return host->fail(call, GH_ERR_UNSUPPORTED, "totp: needs plugin ABI 1.1 host services");
    if (!issuer_ok(issuer, strlen(issuer)))
        return host->cfg_fail(call, host->cfg_child(options, "issuer"),
                              "option 'issuer' must be 1 to %d characters without ':'",
                              ISSUER_MAX);
    t->digits = (unsigned)host->cfg_int(options, "digits", 0);
    if (t->digits != 6 && t->digits != 8)
        return host->cfg_fail(call, host->cfg_child(options, "digits"),
                              "option 'digits' must be 6 or 8");
    while (algorithms[t->alg] && strcmp(algorithms[t->alg], alg) != 0)
        t->alg++;
    memcpy(t->issuer, issuer, strlen(issuer) + 1);
    t->period_s = host->cfg_int(options, "period", 0);
    t->window = host->cfg_int(options, "window", 0);
    if (oath_init() != OATH_OK)
        return host->fail(call, GH_ERR_INTERNAL, "totp: liboath does not initialise");
    return GH_OK;
}

static void totp_detach(void *inst)
{
    (void)inst;
    oath_done();
}

static const gh_param *param(const gh_param *in, const char *key, uint32_t type)
{
    for (; in && in->key; in++)
        if (in->type == type && strcmp(in->key, key) == 0)
            return in;
    return NULL;
}

/* The QR code of uri (NUL-terminated) as an SVG document put under
 * "qr_svg": a white square with the quiet zone, and one black path with a
 * rectangle per horizontal run of dark modules, sized by its viewBox only
 * so that it scales to whatever box shows it. */
static gh_result put_qr_svg(gh_call *call, const char *uri, gh_out *out)
{
    QRcode *qr = QRcode_encodeString(uri, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    char *svg = NULL;
    size_t len = 0;
    FILE *f;
    gh_result r;

    if (!qr)
        return host->fail(call, errno == ENOMEM ? GH_ERR_NOMEM : GH_ERR_INVALID,
                          "totp: the otpauth URI does not fit a QR code");
    if ((f = open_memstream(&svg, &len)) != NULL) {
        int side = qr->width + 2 * QUIET_ZONE;

        fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                   "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" "
                   "fill=\"#fff\"/><path fill=\"#000\" d=\"", side, side, side, side);
        for (int y = 0; y < qr->width; y++)
            for (int x = 0, run; x < qr->width; x += run ? run : 1) {
                const unsigned char *row = qr->data + (size_t)y * (size_t)qr->width;

                for (run = 0; x + run < qr->width && (row[x + run] & 1); run++)
                    continue;
                if (run)
                    fprintf(f, "M%d %dh%dv1h-%dz", x + QUIET_ZONE, y + QUIET_ZONE, run, run);
            }
        fputs("\"/></svg>\n", f);
        r = ferror(f) ? GH_ERR_NOMEM : GH_OK;
        if (fclose(f) != 0)
            r = GH_ERR_NOMEM;
    } else {
        r = GH_ERR_NOMEM;
    }
    if (r == GH_OK)
        r = host->put(out, &(gh_param){"qr_svg", GH_T_STR, svg, len});
    else
        host->fail(call, r, "totp: cannot draw the QR code");
    /* the modules spell the secret too */
    if (svg)
        host->wipe(svg, len);
    free(svg);
    host->wipe(qr->data, (size_t)qr->width * (size_t)qr->width);
    QRcode_free(qr);
    return r;
}

/* otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=...&algorithm=...&digits=...&period=...
 * (the Key URI Format authenticator apps read), with issuer and account
 * percent-encoded and the base32 secret unpadded; *uri host memory. */
static gh_result make_uri(const totp *t, gh_call *call, const gh_param *issuer,
                          const gh_param *account, const unsigned char *secret, char **uri)
{
    char b32[128], *iss = NULL, *acct = NULL;
    size_t n = 0;
    gh_result r;

    *uri = NULL;
    if (!(r = host->encode(call, GH_ENC_BASE32, secret, secret_lens[t->alg], b32, sizeof b32,
                           &n)) &&
        !(r = host->url_encode(call, issuer->data, issuer->len, &iss)) &&
        !(r = host->url_encode(call, account->data, account->len, &acct))) {
        static const char fmt[] =
            "otpauth://totp/%s:%s?secret=%.*s&issuer=%s&algorithm=%s&digits=%u&period=%lld";
        int secret_len = (int)strcspn(b32, "="); /* apps expect it unpadded */
        long long period = (long long)t->period_s;
        int len = snprintf(NULL, 0, fmt, iss, acct, secret_len, b32, iss, algorithms[t->alg],
                           t->digits, period);

        if (len < 0 || (*uri = host->alloc((size_t)len + 1)) == NULL)
            r = host->fail(call, GH_ERR_NOMEM, "totp: no memory for the otpauth URI");
        else
            snprintf(*uri, (size_t)len + 1, fmt, iss, acct, secret_len, b32, iss,
                     algorithms[t->alg], t->digits, period);
    }
    host->wipe(b32, sizeof b32);
    host->free(iss);
    host->free(acct);
    return r;
}

/* enroll  in: user_id, account_name, issuer?
 *         out: secret (BYTES), uri, qr_svg */
static gh_result totp_enroll(const void *inst, void *tinst, gh_call *call, const gh_param *in,
                             gh_out *out)
{
    const totp *t = inst;
    const gh_param *account = param(in, "account_name", GH_T_STR);
    const gh_param *issuer = param(in, "issuer", GH_T_STR);
    gh_param dflt_issuer = {"issuer", GH_T_STR, t->issuer, strlen(t->issuer)};
    unsigned char secret[64];
    char *uri = NULL;
    gh_result r;

    (void)tinst;
    if (!account || account->len == 0 || memchr(account->data, '\0', account->len))
        return host->fail(call, GH_ERR_INVALID, "totp: 'account_name' is required");
    if (issuer && !issuer_ok(issuer->data, issuer->len))
        return host->fail(call, GH_ERR_INVALID,
                          "totp: 'issuer' must be 1 to %d characters without ':'", ISSUER_MAX);
    if (!issuer)
        issuer = &dflt_issuer;
    if ((r = host->random(secret, secret_lens[t->alg])) != GH_OK)
        r = host->fail(call, r, "totp: no randomness for a secret");
    else if ((r = make_uri(t, call, issuer, account, secret, &uri)) == GH_OK &&
             (r = host->put(out, &(gh_param){"secret", GH_T_BYTES, secret,
                                             secret_lens[t->alg]})) == GH_OK &&
             (r = host->put(out, &(gh_param){"uri", GH_T_STR, uri, strlen(uri)})) == GH_OK)
        r = put_qr_svg(call, uri, out);
    if (uri) {
        host->wipe(uri, strlen(uri));
        host->free(uri);
    }
    host->wipe(secret, sizeof secret);
    return r;
}

/* The code of time step `step` into code (digits + 1 bytes). */
static gh_result step_code(const totp *t, gh_call *call, const gh_param *secret, int64_t step,
                           char *code)
{
    int rc = oath_totp_generate2(secret->data, secret->len, (time_t)(step * t->period_s),
                                 (unsigned)t->period_s, 0, t->digits, oath_flags[t->alg], code);

    return rc == OATH_OK ? GH_OK
                         : host->fail(call, GH_ERR_INTERNAL, "totp: liboath: %s",
                                      oath_strerror(rc));
}

/* verify  in: secret (BYTES), code, last_counter? (INT)
 *         out: counter (INT), the step that matched; DENIED when the code is
 *         malformed, wrong, or of a step not past last_counter */
static gh_result totp_verify(const void *inst, void *tinst, gh_call *call, const gh_param *in,
                             gh_out *out)
{
    const totp *t = inst;
    const gh_param *secret = param(in, "secret", GH_T_BYTES), *code = param(in, "code", GH_T_STR);
    const gh_param *last = param(in, "last_counter", GH_T_INT);
    int64_t now = host->now_ms() / 1000 / t->period_s, counter = -1;
    /* nearest first: a code that two steps share counts for the likelier */
    const int64_t offsets[] = {0, -1, 1};
    char want[9];
    gh_result r = GH_OK;

    (void)tinst;
    if (!secret || secret->len == 0 || !code)
        return host->fail(call, GH_ERR_INVALID, "totp: 'secret' and 'code' are required");
    if (code->len != t->digits)
        return host->fail(call, GH_ERR_DENIED, "totp: the code is not %u digits", t->digits);
    for (size_t i = 0; i < code->len; i++)
        if (((const char *)code->data)[i] < '0' || ((const char *)code->data)[i] > '9')
            return host->fail(call, GH_ERR_DENIED, "totp: the code is not %u digits",
                              t->digits);
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0] && r == GH_OK; i++) {
        int64_t step = now + offsets[i];
        int match;

        if (offsets[i] < -t->window || offsets[i] > t->window || step < 0 ||
            (last && step <= *(const int64_t *)last->data))
            continue;
        if ((r = step_code(t, call, secret, step, want)) != GH_OK)
            break;
        match = host->equal_ct(want, code->data, t->digits);
        counter = match && counter < 0 ? step : counter;
    }
    host->wipe(want, sizeof want);
    if (r != GH_OK)
        return r;
    if (counter < 0)
        return host->fail(call, GH_ERR_DENIED, "totp: wrong, expired or already used code");
    return host->put(out, &(gh_param){"counter", GH_T_INT, &counter, sizeof counter});
}

static const gh_mfa_ops totp_ops = {
    .size = sizeof(gh_mfa_ops),
    .enroll = totp_enroll,
    .verify = totp_verify,
};

static const gh_plugin totp_plugin = {
    .size = sizeof(gh_plugin),
    .abi_major = GH_ABI_MAJOR,
    .abi_minor = GH_ABI_MINOR,
    .name = "totp",
    .version = "1.0.0",
    .description = "RFC 6238 time-based one-time passwords (liboath), QR codes (libqrencode)",
    .kind = GH_KIND_MFA,
    .options = totp_options,
    .option_rules = totp_rules,
    .flags = GH_PLUGIN_MULTI_INSTANCE,
    .inst_size = sizeof(totp),
    .instantiate = totp_instantiate,
    .detach = totp_detach,
    .ops = &totp_ops,
};

const gh_plugin *gatehouse_plugin_v1(const gh_host *h)
{
    host = h;
    return &totp_plugin;
}
