/*
 * fuzz_twilio.c - the twilio mfa plugin's delivery reports
 * (plugins/mfa/twilio, inbound: the X-Twilio-Signature check). The URL,
 * the form parameters and the header are whoever posts to the callback.
 * The plugin is loaded by the real loader from YAML, twice: "sms" with an
 * auth token, "keyed" with an API key and no token.
 *
 * Input: "url\0signature\0name=value\0name=value...", each pair as a form
 * body has it: split at its first '=' and each side percent-decoded as the
 * core does (api/input.c; a pair it cannot decode is left out, as the
 * core refuses the form), then given to the plugin as the core gives it
 * (api/mfa_sms.c): name, NUL, value. So a decoded name or value may hold
 * a '=' (%3D). Each input goes in
 * three times: with its own signature, "sms" takes it exactly when that
 * (without the blanks around it) is the signature computed here with
 * OpenSSL as Twilio documents it - base64(HMAC-SHA1(auth token, URL +
 * each parameter's name and value, sorted by name, a pair repeated once))
 * - which the fuzzer cannot compute; with the computed signature "sms"
 * must take it; and "keyed", which has no token, takes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "api/input.h"
#include "call.h"
#include "config.h"
#include "log.h"
#include "plugin/host.h"
#include "plugin/loader.h"
#include "fuzz.h"

#define TOKEN "tw-auth-token-0123456789abcdef"
#define MAX_PARAMS 64

static const gh_host *const h = &gh_host_table;
static char state[64] = "/tmp/gh-fuzz-twilio-XXXXXX";
static gh_config *cfg;
static gh_plugins ps;
static gh_loaded *sms, *keyed;

/* At exit: the plugins and the config too, so that a leak checker sees
 * only what the inputs left behind. */
static void remove_state(void)
{
    if (sms) {
        plugins_thread_fini(&ps);
        plugins_unload(&ps);
    }
    config_free(cfg);
    fuzz_rmtree(state);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    /* the store the loader loads too, in a directory of its own rather
     * than the working one */
    static const char yaml[] =
        "storage:\n"
        "  plugin: sqlite\n"
        "  options:\n"
        "    path: %s/gatehouse.db\n"
        "plugins:\n"
        "  - name: sms\n"
        "    plugin: twilio\n"
        "    options:\n"
        "      account_sid: AC0123456789abcdef0123456789abcdef\n"
        "      auth_token: " TOKEN "\n"
        "      from: \"+15005550006\"\n"
        "  - name: keyed\n"
        "    plugin: twilio\n"
        "    options:\n"
        "      account_sid: AC0123456789abcdef0123456789abcdef\n"
        "      api_key_sid: SK00112233445566778899aabbccddeeff\n"
        "      api_key_secret: tw-key-secret-fedcba9876543210\n"
        "      from: \"+15005550006\"\n";
    const gh_log_conf quiet = { .level = GH_LOG_ERROR };
    char text[sizeof yaml + sizeof state], path[64], err[512];
    int fd;

    (void)argc;
    (void)argv;
    if (!mkdtemp(state))
        abort();
    atexit(remove_state);
    snprintf(text, sizeof text, yaml, state);
    fd = fuzz_memfd(text, strlen(text), path, sizeof path);
    log_configure(&quiet); /* each report taken is logged at info */
    if (!(cfg = config_load(path, err, sizeof err)) ||
        plugins_load(&ps, cfg, err, sizeof err) != 0 ||
        plugins_thread_init(&ps, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_twilio: %s\n", err);
        abort();
    }
    close(fd);
    sms = plugins_find(&ps, GH_KIND_MFA, "sms");
    keyed = plugins_find(&ps, GH_KIND_MFA, "keyed");
    if (!sms || !keyed)
        abort();
    return 0;
}

/* ------------------------------------------------------------ Twilio's way */

typedef struct pair {
    const char *name, *value;
    size_t nlen, vlen;
} pair;

static int bytes_cmp(const char *a, size_t na, const char *b, size_t nb)
{
    int c = memcmp(a, b, na < nb ? na : nb);

    return c != 0 ? c : (na > nb) - (na < nb);
}

static int by_name_value(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    int c = bytes_cmp(x->name, x->nlen, y->name, y->nlen);

    return c != 0 ? c : bytes_cmp(x->value, x->vlen, y->value, y->vlen);
}

/* The signature Twilio would send for url and the pairs (sorted here). */
static void twilio_signature(const char *url, pair *p, size_t n, char out[64])
{
    size_t cap = strlen(url) + 1, o = strlen(url);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    char *text;

    for (size_t i = 0; i < n; i++)
        cap += p[i].nlen + p[i].vlen;
    if (!(text = malloc(cap)))
        abort();
    memcpy(text, url, o);
    qsort(p, n, sizeof *p, by_name_value);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && by_name_value(&p[i - 1], &p[i]) == 0)
            continue; /* the same pair twice counts once */
        memcpy(text + o, p[i].name, p[i].nlen);
        memcpy(text + o + p[i].nlen, p[i].value, p[i].vlen);
        o += p[i].nlen + p[i].vlen;
    }
    if (!HMAC(EVP_sha1(), TOKEN, sizeof TOKEN - 1, (const unsigned char *)text, o, mac, &len))
        abort();
    EVP_EncodeBlock((unsigned char *)out, mac, (int)len);
    free(text);
}

/* ------------------------------------------------------------ the plugin */

/* inbound of p with url, "X-Twilio-Signature: sig" (NULL: no header) and
 * the pairs as the core gives them: name, NUL, value. */
static gh_result inbound(gh_loaded *p, const char *url, const char *sig, const pair *pairs,
                         size_t n)
{
    const gh_mfa_ops *ops = p->desc->ops;
    gh_param in[MAX_PARAMS + 3];
    char *header = NULL;
    size_t k = 0;
    gh_call call;
    gh_out *out = h->out_new();
    gh_result r;
    const gh_param *st;

    if (!out)
        abort();
    in[k++] = (gh_param){ "url", GH_T_STR, url, strlen(url) };
    if (sig) {
        if (!(header = malloc(strlen(sig) + sizeof "X-Twilio-Signature: ")))
            abort();
        sprintf(header, "X-Twilio-Signature: %s", sig);
        in[k++] = (gh_param){ "header", GH_T_STR, header, strlen(header) };
    }
    for (size_t i = 0; i < n; i++)
        in[k++] = (gh_param){ "param", GH_T_STR, pairs[i].name, pairs[i].nlen + 1 + pairs[i].vlen };
    in[k] = (gh_param){ NULL, 0, NULL, 0 };
    call_init(&call, p, "fuzz", 10000);
    r = ops->inbound(p->inst, plugin_tinst(p), &call, in, out);
    if (r == GH_OK && (!(st = h->out_get(out, "status", 0)) || *(const int64_t *)st->data != 204))
        abort(); /* a report taken is answered 204 */
    if (r != GH_OK && !call.message[0])
        abort(); /* a refusal says why */
    h->out_free(out);
    free(header);
    return r;
}

/* s without the spaces and tabs around it, in place. */
static const char *trim(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s + strspn(s, " \t");
}

/* The raw pair p into *out, decoded and laid out as the core gives it to
 * the plugin (name, NUL, value; name and value point into it, from
 * malloc); 0 when the core would refuse it. */
static int decode_pair(const char *p, pair *out)
{
    const char *eq = strchr(p, '=');
    size_t nlen = eq ? (size_t)(eq - p) : strlen(p);
    json_t *k = input_form_decode(p, nlen), *v = input_form_decode(eq ? eq + 1 : "",
                                                                  eq ? strlen(eq + 1) : 0);
    char *buf = NULL;
    int ok = k && v && json_string_length(k) > 0;

    if (ok) {
        out->nlen = json_string_length(k);
        out->vlen = json_string_length(v);
        if (!(buf = malloc(out->nlen + out->vlen + 2)))
            abort();
        memcpy(buf, json_string_value(k), out->nlen + 1);
        memcpy(buf + out->nlen + 1, json_string_value(v), out->vlen + 1);
        out->name = buf;
        out->value = buf + out->nlen + 1;
    }
    json_decref(k);
    json_decref(v);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_text(data, size), *end = s + size, *url = s, *sig, want[64];
    pair pairs[MAX_PARAMS], sorted[MAX_PARAMS];
    size_t n = 0;
    gh_result r;

    sig = url + strlen(url) + 1;
    if (sig > end)
        sig = end; /* no signature: an empty one */
    for (char *p = sig + strlen(sig) + 1; p < end && n < MAX_PARAMS; p += strlen(p) + 1)
        n += decode_pair(p, &pairs[n]);
    memcpy(sorted, pairs, n * sizeof *pairs);
    twilio_signature(url, sorted, n, want);
    r = inbound(sms, url, sig, pairs, n);
    if ((r == GH_OK) != (strcmp(trim(sig), want) == 0) || (r != GH_OK && r != GH_ERR_DENIED))
        abort(); /* taken without the right signature, or refused with it */
    if (inbound(sms, url, want, pairs, n) != GH_OK)
        abort();
    if (inbound(keyed, url, want, pairs, n) != GH_ERR_DENIED ||
        inbound(sms, url, NULL, pairs, n) != GH_ERR_DENIED)
        abort(); /* without a token, or without the header */
    for (size_t i = 0; i < n; i++)
        free((char *)pairs[i].name);
    free(s);
    return 0;
}
