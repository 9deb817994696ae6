/*
 * test_totp.c - the totp mfa plugin (plugins/mfa/totp), loaded from the
 * build's plugin directory by the real config reader and loader, its ops
 * called the way the core calls them, on the daemon's clock moved to the
 * times the RFCs name (clock_advance_ms).
 *
 * What it shows: RFC 6238 Appendix B (SHA-1, SHA-256, SHA-512, 8 digits)
 * and RFC 4226 Appendix D (the HOTP values, as the steps of a 30 s TOTP);
 * the +-1 step window and its absence; replays and older steps refused
 * through last_counter; wrong and malformed codes refused; enroll's
 * otpauth URI read back (its secret is the returned bytes, and a code made
 * from it here, with the host's HMAC, verifies) and its SVG drawing
 * exactly libqrencode's modules for that URI, decoded back to the URI by
 * zbarimg when rsvg-convert and zbarimg are installed; bad options refused
 * at load.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qrencode.h>

#include "clock.h"
#include "fixture.h"

static const gh_host *const h = &gh_host_table;

#define END {NULL, 0, NULL, 0}
#define STR(k, v) {(k), GH_T_STR, (v), strlen(v)}

/* The RFCs' secrets: the ASCII digits 1234567890 repeated to the HMAC's
 * output length. */
static const char seed20[] = "12345678901234567890";
static const char seed32[] = "12345678901234567890123456789012";
static const char seed64[] =
    "1234567890123456789012345678901234567890123456789012345678901234";

/* RFC 4226 Appendix D: HOTP(seed20, count) for count 0..9. */
static const char *const hotp[] = {"755224", "287082", "359152", "969429", "338314",
                                   "254676", "287922", "162583", "399871", "520489"};

/* ---------------------------------------------------------------- helpers */

static void set_time_ms(int64_t ms)
{
    clock_advance_ms(ms - gh_now_ms());
}

/* The middle of 30 s step `step`: far from either edge while a test runs. */
static void set_step(int64_t step)
{
    set_time_ms(step * 30000 + 15000);
}

static fx *load(const char *yaml)
{
    char err[1024];
    fx *f = fx_load(yaml, err, sizeof err);

    if (!f)
        fail_msg("fx_load: %s", err);
    return f;
}

static const gh_loaded *instance(const fx *f, const char *name)
{
    const gh_loaded *p = plugins_find(&f->ps, GH_KIND_MFA, name);

    assert_non_null(p);
    return p;
}

/* An op of p as the core runs it: a call of its own, the result counted. */
static gh_result run(const gh_loaded *p, int verify, const gh_param *in, gh_out *out)
{
    const gh_mfa_ops *ops = p->desc->ops;
    gh_op op = verify ? ops->verify : ops->enroll;
    gh_call call;

    call_init(&call, p, "test-totp", 5000);
    return call_result(&call, op(p->inst, plugin_tinst(p), &call, in, out));
}

/* verify with seed (len bytes), code and last_counter (< 0: none): the
 * result, and the counter into *counter on success. */
static gh_result verify(const gh_loaded *p, const void *seed, size_t len, const char *code,
                        int64_t last, int64_t *counter)
{
    gh_param in[] = {{"secret", GH_T_BYTES, seed, len}, STR("code", code),
                     {"last_counter", GH_T_INT, &last, sizeof last}, END};
    gh_out *out = h->out_new();
    gh_result r;

    if (last < 0)
        in[2] = (gh_param)END;
    r = run(p, 1, in, out);
    if (r == GH_OK) {
        const gh_param *c = h->out_get(out, "counter", 0);

        assert_non_null(c);
        assert_int_equal(c->type, GH_T_INT);
        *counter = *(const int64_t *)c->data;
    } else {
        assert_null(h->out_get(out, "counter", 0));
    }
    h->out_free(out);
    return r;
}

/* verify must accept code with that counter */
static void accepts(const gh_loaded *p, const void *seed, size_t len, const char *code,
                    int64_t last, int64_t want)
{
    int64_t counter = -1;
    gh_result r = verify(p, seed, len, code, last, &counter);

    if (r != GH_OK)
        fail_msg("%s: code %s (last_counter %lld) refused: %d", p->name, code, (long long)last,
                 r);
    assert_int_equal(counter, want);
}

static void refuses(const gh_loaded *p, const void *seed, size_t len, const char *code,
                    int64_t last)
{
    int64_t counter = -1;
    gh_result r = verify(p, seed, len, code, last, &counter);

    if (r != GH_ERR_DENIED)
        fail_msg("%s: code \"%s\" (last_counter %lld): %d, not DENIED", p->name, code,
                 (long long)last, r);
}

/* --------------------------------------------------------- the RFC vectors */

/* one instance per algorithm, as RFC 6238 Appendix B has them; tests add
 * instances of their own after it */
#define VECTORS_YAML                                                                      \
    "plugins:\n"                                                                          \
    "  - {name: sha1, plugin: totp, options: {digits: 8, window: 0}}\n"                   \
    "  - {name: sha256, plugin: totp, options: {algorithm: SHA256, digits: 8, window: 0}}\n" \
    "  - {name: sha512, plugin: totp, options: {algorithm: SHA512, digits: 8, window: 0}}\n"

/* RFC 6238 Appendix B: every time, every algorithm, 8 digits, 30 s steps. */
static void test_rfc6238_vectors(void **state)
{
    static const struct {
        int64_t t;
        const char *sha1, *sha256, *sha512;
    } v[] = {
        {59, "94287082", "46119246", "90693936"},
        {1111111109, "07081804", "68084774", "25091201"},
        {1111111111, "14050471", "67062674", "99943326"},
        {1234567890, "89005924", "91819424", "93441116"},
        {2000000000, "69279037", "90698825", "38618901"},
        {20000000000, "65353130", "77737706", "47863826"},
    };
    fx *f = load(VECTORS_YAML);
    const gh_loaded *p1 = instance(f, "sha1"), *p256 = instance(f, "sha256");
    const gh_loaded *p512 = instance(f, "sha512");

    (void)state;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        set_time_ms(v[i].t * 1000);
        accepts(p1, seed20, 20, v[i].sha1, -1, v[i].t / 30);
        accepts(p256, seed32, 32, v[i].sha256, -1, v[i].t / 30);
        accepts(p512, seed64, 64, v[i].sha512, -1, v[i].t / 30);
        /* each algorithm's code is its own */
        refuses(p1, seed20, 20, v[i].sha256, -1);
        refuses(p256, seed32, 32, v[i].sha512, -1);
        refuses(p512, seed64, 64, v[i].sha1, -1);
    }
    fx_close(f);
}

/* the defaults, and the same without a window */
#define DEFAULTS_YAML                                                                     \
    "plugins:\n"                                                                          \
    "  - name: totp\n"                                                                    \
    "  - {name: strict, plugin: totp, options: {window: 0}}\n"

/* RFC 4226 Appendix D: HOTP's counter is TOTP's step, so HOTP(count) is
 * the 6-digit SHA-1 code of step `count` (the defaults). */
static void test_rfc4226_hotp_values(void **state)
{
    fx *f = load(DEFAULTS_YAML);
    const gh_loaded *p = instance(f, "totp"), *strict = instance(f, "strict");

    (void)state;
    for (int64_t c = 0; c < 10; c++) {
        set_step(c);
        accepts(strict, seed20, 20, hotp[c], -1, c);
        accepts(p, seed20, 20, hotp[c], -1, c);
    }
    /* at step 0 the window has no step -1 to try, and says no cleanly */
    set_step(0);
    refuses(p, seed20, 20, hotp[2], -1);
    fx_close(f);
}

/* ------------------------------------------------------ window and replay */

static void test_window(void **state)
{
    fx *f = load(DEFAULTS_YAML);
    const gh_loaded *p = instance(f, "totp"), *strict = instance(f, "strict");

    (void)state;
    set_step(5);
    /* window 1 (the default): the step before and after count, as themselves */
    accepts(p, seed20, 20, hotp[4], -1, 4);
    accepts(p, seed20, 20, hotp[5], -1, 5);
    accepts(p, seed20, 20, hotp[6], -1, 6);
    refuses(p, seed20, 20, hotp[3], -1);
    refuses(p, seed20, 20, hotp[7], -1);
    /* window 0: now only */
    accepts(strict, seed20, 20, hotp[5], -1, 5);
    refuses(strict, seed20, 20, hotp[4], -1);
    refuses(strict, seed20, 20, hotp[6], -1);
    /* the edges of a step: its first and its last second */
    set_time_ms(5 * 30000);
    accepts(strict, seed20, 20, hotp[5], -1, 5);
    set_time_ms(6 * 30000 - 1000);
    accepts(strict, seed20, 20, hotp[5], -1, 5);
    fx_close(f);
}

static void test_replay(void **state)
{
    fx *f = load(DEFAULTS_YAML);
    const gh_loaded *p = instance(f, "totp");

    (void)state;
    set_step(5);
    accepts(p, seed20, 20, hotp[5], 4, 5);
    /* the same code again, as the core passes back the counter it got */
    refuses(p, seed20, 20, hotp[5], 5);
    /* the step before now is within the window, but not past the last one */
    refuses(p, seed20, 20, hotp[4], 4);
    refuses(p, seed20, 20, hotp[4], 5);
    /* a code of the next step retires the current one */
    accepts(p, seed20, 20, hotp[6], 5, 6);
    refuses(p, seed20, 20, hotp[5], 6);
    refuses(p, seed20, 20, hotp[6], 6);
    fx_close(f);
}

static void test_wrong_and_malformed_codes(void **state)
{
    static const char *const malformed[] = {
        "", "75522", "7552240", "75522a", " 755224", "755224 ", "-55224", "+55224",
        "75 224", "7552\xd9\xa4", /* Arabic-Indic four: a digit, not ASCII */
    };
    const char nul[] = {'7', '5', '5', '\0', '2', '4'};
    gh_param with_nul[] = {{"secret", GH_T_BYTES, seed20, 20}, {"code", GH_T_STR, nul, 6}, END};
    gh_param no_secret[] = {STR("code", "755224"), END};
    gh_param no_code[] = {{"secret", GH_T_BYTES, seed20, 20}, END};
    fx *f = load(VECTORS_YAML "  - name: totp\n");
    const gh_loaded *p = instance(f, "totp"), *p8 = instance(f, "sha1");
    gh_out *out = h->out_new();

    (void)state;
    set_step(0);
    accepts(p, seed20, 20, hotp[0], -1, 0);
    /* one digit off; and not a code of any step of the window */
    refuses(p, seed20, 20, "755225", -1);
    refuses(p, seed20, 20, "000000", -1);
    /* the right code under another secret */
    refuses(p, seed32, 32, hotp[0], -1);
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
        refuses(p, seed20, 20, malformed[i], -1);
    assert_int_equal(run(p, 1, with_nul, out), GH_ERR_DENIED);
    /* a 6-digit code where 8 are due, even one that ends the right one */
    set_time_ms(59000);
    refuses(p8, seed20, 20, "287082", -1);
    accepts(p8, seed20, 20, "94287082", -1, 1);
    /* a call without what verify needs is the caller's bug, not a wrong code */
    assert_int_equal(run(p, 1, no_secret, out), GH_ERR_INVALID);
    assert_int_equal(run(p, 1, no_code, out), GH_ERR_INVALID);
    h->out_free(out);
    fx_close(f);
}

/* ------------------------------------------------------------- enrolment */

/* A %XX-decoded copy of s[0..len) in host memory. */
static char *pct_decode(const char *s, size_t len)
{
    char *d = h->alloc(len + 1), *o = d;

    assert_non_null(d);
    for (size_t i = 0; i < len; i++) {
        unsigned v;

        if (s[i] == '%' && i + 2 < len && sscanf(s + i + 1, "%2x", &v) == 1) {
            *o++ = (char)v;
            i += 2;
        } else {
            assert_true(s[i] != '%');
            *o++ = s[i];
        }
    }
    *o = '\0';
    return d;
}

/* An otpauth URI taken apart: the label's issuer and account, and the
 * query's values, decoded (host memory, or NULL when absent). */
typedef struct uri_parts {
    char *label_issuer, *account;
    char *secret, *issuer, *algorithm, *digits, *period;
} uri_parts;

static void parse_uri(const char *uri, uri_parts *u)
{
    static const char scheme[] = "otpauth://totp/";
    const char *label, *colon, *q;

    memset(u, 0, sizeof *u);
    assert_int_equal(strncmp(uri, scheme, sizeof scheme - 1), 0);
    label = uri + sizeof scheme - 1;
    q = strchr(label, '?');
    assert_non_null(q);
    colon = memchr(label, ':', (size_t)(q - label));
    assert_non_null(colon);
    u->label_issuer = pct_decode(label, (size_t)(colon - label));
    u->account = pct_decode(colon + 1, (size_t)(q - colon - 1));
    while (*q) {
        const char *k = q + 1, *eq = strchr(k, '='), *amp = strchr(k, '&');
        char **slot = NULL;

        if (!amp)
            amp = k + strlen(k);
        assert_true(eq != NULL && eq < amp);
        if ((size_t)(eq - k) == 6 && !strncmp(k, "secret", 6))
            slot = &u->secret;
        else if ((size_t)(eq - k) == 6 && !strncmp(k, "issuer", 6))
            slot = &u->issuer;
        else if ((size_t)(eq - k) == 9 && !strncmp(k, "algorithm", 9))
            slot = &u->algorithm;
        else if ((size_t)(eq - k) == 6 && !strncmp(k, "digits", 6))
            slot = &u->digits;
        else if ((size_t)(eq - k) == 6 && !strncmp(k, "period", 6))
            slot = &u->period;
        if (!slot)
            fail_msg("unexpected parameter in %s", uri);
        assert_null(*slot); /* each once */
        *slot = pct_decode(eq + 1, (size_t)(amp - eq - 1));
        q = amp;
    }
}

static void free_uri(uri_parts *u)
{
    char *all[] = {u->label_issuer, u->account, u->secret, u->issuer, u->algorithm, u->digits,
                   u->period};

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        h->free(all[i]);
}

/* The code of now for secret, written here from RFC 4226 with the host's
 * HMAC rather than liboath, so the two implementations check each other. */
static void code_now(uint32_t alg, const void *secret, size_t len, int digits, int64_t period,
                     char *code)
{
    uint64_t step = (uint64_t)(gh_now_ms() / 1000 / period);
    unsigned char msg[8], mac[GH_DIGEST_MAX];
    size_t n = 0;
    uint32_t bin, mod = digits == 8 ? 100000000u : 1000000u;

    for (int i = 7; i >= 0; i--, step >>= 8)
        msg[i] = (unsigned char)step;
    assert_int_equal(h->hmac(NULL, alg, secret, len, msg, sizeof msg, mac, sizeof mac, &n), GH_OK);
    const unsigned char *p = mac + (mac[n - 1] & 0xf);
    bin = (uint32_t)(p[0] & 0x7f) << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    snprintf(code, 9, "%0*u", digits, bin % mod);
}

typedef struct enrolled {
    unsigned char secret[64];
    size_t secret_len;
    char *uri, *svg; /* host memory */
} enrolled;

static void enroll(const gh_loaded *p, const gh_param *in, enrolled *e)
{
    gh_out *out = h->out_new();
    const gh_param *s, *u, *q;

    memset(e, 0, sizeof *e);
    assert_int_equal(run(p, 0, in, out), GH_OK);
    s = h->out_get(out, "secret", 0);
    u = h->out_get(out, "uri", 0);
    q = h->out_get(out, "qr_svg", 0);
    assert_true(s && u && q);
    assert_int_equal(s->type, GH_T_BYTES);
    assert_int_equal(u->type, GH_T_STR);
    assert_int_equal(q->type, GH_T_STR);
    assert_true(s->len <= sizeof e->secret);
    memcpy(e->secret, s->data, s->len);
    e->secret_len = s->len;
    e->uri = h->alloc(u->len + 1);
    e->svg = h->alloc(q->len + 1);
    assert_true(e->uri && e->svg);
    memcpy(e->uri, u->data, u->len);
    e->uri[u->len] = '\0';
    memcpy(e->svg, q->data, q->len);
    e->svg[q->len] = '\0';
    h->out_free(out);
}

static void free_enrolled(enrolled *e)
{
    h->free(e->uri);
    h->free(e->svg);
}

/* The URI says what the instance does, and its secret is the one returned:
 * a code made from the URI alone verifies. */
static void check_uri(const gh_loaded *p, const enrolled *e, const char *issuer,
                      const char *account, const char *alg, uint32_t gh_alg, int digits)
{
    uri_parts u;
    unsigned char secret[64];
    size_t n = 0;
    char code[9], want_digits[4];
    int64_t counter = -1;

    parse_uri(e->uri, &u);
    assert_string_equal(u.label_issuer, issuer);
    assert_string_equal(u.account, account);
    assert_non_null(u.issuer);
    assert_string_equal(u.issuer, issuer);
    assert_non_null(u.algorithm);
    assert_string_equal(u.algorithm, alg);
    snprintf(want_digits, sizeof want_digits, "%d", digits);
    assert_non_null(u.digits);
    assert_string_equal(u.digits, want_digits);
    assert_non_null(u.period);
    assert_string_equal(u.period, "30");
    assert_non_null(u.secret);
    assert_null(strchr(u.secret, '=')); /* unpadded, as apps expect */
    assert_int_equal(h->decode(NULL, GH_ENC_BASE32, u.secret, strlen(u.secret), secret,
                               sizeof secret, &n), GH_OK);
    assert_int_equal(n, e->secret_len);
    assert_memory_equal(secret, e->secret, n);
    set_step(56666666); /* November 2023, 15 s before the next step */
    code_now(gh_alg, secret, n, digits, 30, code);
    assert_int_equal(verify(p, secret, n, code, -1, &counter), GH_OK);
    assert_int_equal(counter, gh_now_ms() / 1000 / 30);
    free_uri(&u);
}

static void test_enroll_uri(void **state)
{
    static const char acct_odd[] = "ann o'brien+mfa:home/ü@example.org?x=1&y=#z";
    gh_param in[] = {STR("user_id", "u-1"), STR("account_name", "ann@example.org"), END};
    gh_param in_issuer[] = {STR("user_id", "u-1"), STR("account_name", acct_odd),
                            STR("issuer", "Acme & Co. 100%"), END};
    gh_param bad_issuer[] = {STR("account_name", "ann"), STR("issuer", "a:b"), END};
    gh_param no_account[] = {STR("user_id", "u-1"), END};
    fx *f = load(VECTORS_YAML "  - name: totp\n"
                              "  - {name: named, plugin: totp, options: {issuer: Example}}\n");
    const gh_loaded *p = instance(f, "totp");
    enrolled e, e2;
    gh_out *out = h->out_new();

    (void)state;
    /* TOTP sends nothing and has no route of its own */
    assert_null(((const gh_mfa_ops *)p->desc->ops)->challenge);
    assert_null(((const gh_mfa_ops *)p->desc->ops)->inbound);
    enroll(p, in, &e);
    assert_int_equal(e.secret_len, 20);
    assert_int_equal(strncmp(e.uri, "otpauth://totp/Gatehouse:ann%40example.org?secret=",
                             strlen("otpauth://totp/Gatehouse:ann%40example.org?secret=")), 0);
    check_uri(p, &e, "Gatehouse", "ann@example.org", "SHA1", GH_SHA1, 6);
    /* a fresh secret each time */
    enroll(p, in, &e2);
    assert_memory_not_equal(e.secret, e2.secret, 20);
    free_enrolled(&e2);
    free_enrolled(&e);

    /* the core's issuer wins over the option; everything is percent-encoded */
    enroll(instance(f, "named"), in_issuer, &e);
    assert_null(strchr(e.uri + strlen("otpauth://totp/"), ' '));
    assert_non_null(strstr(e.uri, "/Acme%20%26%20Co.%20100%25:ann%20o%27brien%2Bmfa%3Ahome%2F"
                                  "%C3%BC%40example.org%3Fx%3D1%26y%3D%23z?"));
    check_uri(instance(f, "named"), &e, "Acme & Co. 100%", acct_odd, "SHA1", GH_SHA1, 6);
    free_enrolled(&e);
    enroll(instance(f, "named"), in, &e);
    check_uri(instance(f, "named"), &e, "Example", "ann@example.org", "SHA1", GH_SHA1, 6);
    free_enrolled(&e);

    /* the secret is as long as the HMAC's output */
    enroll(instance(f, "sha256"), in, &e);
    assert_int_equal(e.secret_len, 32);
    check_uri(instance(f, "sha256"), &e, "Gatehouse", "ann@example.org", "SHA256", GH_SHA256, 8);
    free_enrolled(&e);
    enroll(instance(f, "sha512"), in, &e);
    assert_int_equal(e.secret_len, 64);
    check_uri(instance(f, "sha512"), &e, "Gatehouse", "ann@example.org", "SHA512", GH_SHA512, 8);
    free_enrolled(&e);

    assert_int_equal(run(p, 0, bad_issuer, out), GH_ERR_INVALID);
    assert_int_equal(run(p, 0, no_account, out), GH_ERR_INVALID);
    assert_null(h->out_get(out, "secret", 0));
    h->out_free(out);
    fx_close(f);
}

/* ---------------------------------------------------------------- QR code */

/* The dark modules the SVG draws, as a side x side grid (side from the
 * viewBox, quiet zone included) of 0/1 in host memory; the plugin draws
 * each horizontal run of dark modules as "Mx yhNv1h-Nz". */
static unsigned char *svg_modules(const char *svg, int *side)
{
    const char *d;
    unsigned char *grid;
    int x, y, run, run2, used;

    assert_true(strncmp(svg, "<svg ", 5) == 0 || strncmp(svg, "<?xml", 5) == 0);
    assert_non_null(strstr(svg, "xmlns=\"http://www.w3.org/2000/svg\""));
    d = strstr(svg, "viewBox=\"0 0 ");
    assert_non_null(d);
    assert_int_equal(sscanf(d, "viewBox=\"0 0 %d %d\"", side, &x), 2);
    assert_int_equal(*side, x);
    assert_non_null(strstr(svg, "</svg>"));
    /* nothing fetched from elsewhere, nothing run */
    assert_null(strstr(svg, "href"));
    assert_null(strstr(svg, "url("));
    assert_null(strstr(svg, "<script"));
    assert_null(strstr(svg, "<image"));
    d = strstr(svg, "<path fill=\"#000\" d=\"");
    assert_non_null(d);
    d += strlen("<path fill=\"#000\" d=\"");
    grid = h->alloc((size_t)*side * (size_t)*side);
    assert_non_null(grid);
    memset(grid, 0, (size_t)*side * (size_t)*side);
    while (*d != '"') {
        if (sscanf(d, "M%d %dh%dv1h-%dz%n", &x, &y, &run, &run2, &used) != 4)
            fail_msg("unexpected path data at \"%.20s\"", d);
        assert_int_equal(run, run2);
        assert_true(x >= 0 && y >= 0 && run > 0 && x + run <= *side && y < *side);
        for (int i = 0; i < run; i++) {
            assert_int_equal(grid[y * *side + x + i], 0); /* runs do not overlap */
            grid[y * *side + x + i] = 1;
        }
        d += used;
    }
    return grid;
}

/* A command's first line of output, or "" when it fails. */
static void first_line(const char *cmd, char *buf, size_t len)
{
    FILE *p = popen(cmd, "r");

    buf[0] = '\0';
    if (p) {
        if (!fgets(buf, (int)len, p))
            buf[0] = '\0';
        if (pclose(p) != 0)
            buf[0] = '\0';
    }
    buf[strcspn(buf, "\n")] = '\0';
}

static int on_path(const char *tool)
{
    char cmd[128], out[256];

    snprintf(cmd, sizeof cmd, "command -v %s", tool);
    first_line(cmd, out, sizeof out);
    return out[0] != '\0';
}

static void test_qr_svg(void **state)
{
    gh_param in[] = {STR("user_id", "u-1"), STR("account_name", "ann@example.org"), END};
    fx *f = load(VECTORS_YAML "  - name: totp\n");
    static const char *const names[] = {"totp", "sha512"};
    enrolled e;

    (void)state;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        QRcode *qr;
        unsigned char *grid;
        int side;

        enroll(instance(f, names[i]), in, &e);
        grid = svg_modules(e.svg, &side);
        /* the same modules as libqrencode makes for the URI, inside a
         * quiet zone of 4 light modules on every side */
        qr = QRcode_encodeString(e.uri, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
        assert_non_null(qr);
        assert_int_equal(side, qr->width + 8);
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++) {
                int inside = x >= 4 && y >= 4 && x < side - 4 && y < side - 4;
                int dark = inside && (qr->data[(y - 4) * qr->width + (x - 4)] & 1);

                if (grid[y * side + x] != dark)
                    fail_msg("%s: module (%d, %d) is %s", names[i], x, y,
                             dark ? "light" : "dark");
            }
        QRcode_free(qr);
        h->free(grid);

        /* and what a phone would do: look at it and read the URI */
        if (on_path("rsvg-convert") && on_path("zbarimg")) {
            char svg_file[64], png_file[64], cmd[256], text[512];
            FILE *out;

            snprintf(svg_file, sizeof svg_file, "qr%zu.svg", i);
            snprintf(png_file, sizeof png_file, "qr%zu.png", i);
            out = fopen(svg_file, "w");
            assert_non_null(out);
            fputs(e.svg, out);
            fclose(out);
            snprintf(cmd, sizeof cmd,
                     "rsvg-convert -w 600 -o %s %s && zbarimg -q --raw %s 2>/dev/null", png_file,
                     svg_file, png_file);
            first_line(cmd, text, sizeof text);
            assert_string_equal(text, e.uri);
        } else {
            print_message("rsvg-convert or zbarimg missing: the QR code is not decoded "
                          "(apt-get install librsvg2-bin zbar-tools)\n");
        }
        free_enrolled(&e);
    }
    fx_close(f);
}

/* ---------------------------------------------------------------- options */

static void expect_refusal(const char *options, const char *want)
{
    char yaml[256], err[1024];
    fx *f;

    snprintf(yaml, sizeof yaml, "plugins:\n  - name: totp\n    options: %s\n", options);
    f = fx_load(yaml, err, sizeof err);
    if (f) {
        fx_close(f);
        fail_msg("options %s loaded; expected \"%s\"", options, want);
    }
    if (!strstr(err, want))
        fail_msg("\"%s\" does not contain \"%s\"", err, want);
}

static void test_options_refused(void **state)
{
    (void)state;
    expect_refusal("{algorithm: MD5}", "option 'algorithm' must be one of SHA1, SHA256, SHA512");
    expect_refusal("{digits: 7}", "option 'digits' must be 6 or 8");
    expect_refusal("{digits: 10}", "option 'digits' must be from 6 to 8");
    expect_refusal("{period: 10}", "option 'period' must be from 15 to 120");
    expect_refusal("{period: 121}", "option 'period' must be from 15 to 120");
    expect_refusal("{window: 2}", "option 'window' must be from 0 to 1");
    expect_refusal("{issuer: \"a:b\"}", "option 'issuer' must be 1 to 64 characters without ':'");
    expect_refusal("{issuer: \"\"}", "option 'issuer' must be 1 to 64 characters without ':'");
    expect_refusal("{secret: x}", "secret");
}

/* period changes the step: 60 s steps, the URI says so, codes follow */
static void test_period_option(void **state)
{
    gh_param in[] = {STR("user_id", "u-1"), STR("account_name", "ann"), END};
    fx *f = load("plugins:\n  - {name: totp, options: {period: 60}}\n");
    const gh_loaded *p = instance(f, "totp");
    enrolled e;

    (void)state;
    set_time_ms(7 * 60000 + 59000); /* step 7 of 60 s: HOTP(7) */
    accepts(p, seed20, 20, hotp[7], -1, 7);
    accepts(p, seed20, 20, hotp[8], -1, 8);
    refuses(p, seed20, 20, hotp[9], -1);
    enroll(p, in, &e);
    assert_non_null(strstr(e.uri, "&digits=6&period=60"));
    free_enrolled(&e);
    fx_close(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6238_vectors),
        cmocka_unit_test(test_rfc4226_hotp_values),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_wrong_and_malformed_codes),
        cmocka_unit_test(test_enroll_uri),
        cmocka_unit_test(test_qr_svg),
        cmocka_unit_test(test_options_refused),
        cmocka_unit_test(test_period_option),
    };

    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}
