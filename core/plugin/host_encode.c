/*
 * host_encode.c - host->encode/decode (RFC 4648 base64, base64url, base32,
 * hex) and host->url_encode/form_encode (RFC 3986 percent-encoding, HTML's
 * application/x-www-form-urlencoded).
 *
 * Decoding is strict for the reason secret.c gives for base64url: one byte
 * string, one text, so a signed or compared value cannot be altered by
 * respelling it. base64url is secret.c's own coder; base64 is checked for
 * its padding here and then decoded by the same strict decoder, spelt in
 * the URL alphabet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "auth/tokens.h"
#include "plugin/host.h"

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char HEX[] = "0123456789abcdef";

/* ------------------------------------------------------------------ sizes */

/* Characters (without NUL) that enc writes for len bytes; 0 when too big. */
static size_t encoded_len(uint32_t enc, size_t len)
{
    if (len > SIZE_MAX / 2 - 8)
        return 0;
    switch (enc) {
    case GH_ENC_BASE64:
        return (len + 2) / 3 * 4;
    case GH_ENC_BASE64URL:
        return GH_B64URL_LEN(len) - 1;
    case GH_ENC_BASE32:
        return (len + 4) / 5 * 8;
    case GH_ENC_HEX:
        return len * 2;
    default:
        return 0;
    }
}

/* ----------------------------------------------------------------- base32 */

static void base32_encode(const unsigned char *in, size_t len, char *out)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;

    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[o++] = B32[(acc >> bits) & 31];
        }
    }
    if (bits > 0)
        out[o++] = B32[(acc << (5 - bits)) & 31];
    while (o % 8)
        out[o++] = '=';
    out[o] = '\0';
}

/* Padded (to a multiple of 8) or not padded at all; a final group of 2,
 * 4, 5 or 7 characters carries 1 to 4 bytes, any other length cannot. */
static int base32_decode(const char *in, size_t len, unsigned char *out, size_t room, size_t *n)
{
    size_t chars = len, o = 0;
    uint32_t acc = 0;
    int bits = 0;

    while (chars > 0 && in[chars - 1] == '=')
        chars--;
    if (chars < len && len % 8 != 0)
        return -1;
    if (chars % 8 == 1 || chars % 8 == 3 || chars % 8 == 6)
        return -1;
    if (len - chars >= 8 || chars * 5 / 8 > room)
        return -1;
    for (size_t i = 0; i < chars; i++) {
        const char *c = in[i] ? strchr(B32, in[i]) : NULL;

        if (!c)
            return -1;
        acc = (acc << 5) | (uint32_t)(c - B32);
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* non-canonical: the leftover bits must be zero */
        return -1;
    *n = o;
    return 0;
}

/* -------------------------------------------------------------------- hex */

int host_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int hex_decode(const char *in, size_t len, unsigned char *out, size_t room, size_t *n)
{
    if (len % 2 || len / 2 > room)
        return -1;
    for (size_t i = 0; i < len; i += 2) {
        int hi = host_hex_value(in[i]), lo = host_hex_value(in[i + 1]);

        if (hi < 0 || lo < 0)
            return -1;
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    *n = len / 2;
    return 0;
}

/* ----------------------------------------------------------------- base64 */

/* Padded to a multiple of 4 with the padding the length needs, then the
 * characters respelt in the URL alphabet for secret.c's strict decoder. */
static int base64_decode(const char *in, size_t len, unsigned char *out, size_t room, size_t *n)
{
    size_t chars = len;
    char *url;
    int rc;

    while (chars > 0 && len - chars < 2 && in[chars - 1] == '=')
        chars--;
    if (len % 4 != 0 || (len - chars) != (4 - chars % 4) % 4)
        return -1;
    if (!(url = malloc(chars + 1)))
        return -1;
    for (size_t i = 0; i < chars; i++) {
        char c = in[i];

        url[i] = c == '+' ? '-' : c == '/' ? '_' : (c == '-' || c == '_') ? '!' : c;
    }
    rc = b64url_decode(url, chars, out, room, n);
    free(url);
    return rc;
}

/* ------------------------------------------------------------ the members */

gh_result host_encode(gh_call *call, uint32_t enc, const void *data, size_t len, char *out,
                      size_t out_size, size_t *out_len)
{
    const gh_host *h = &gh_host_table;
    size_t need = encoded_len(enc, len);

    if (out_len)
        *out_len = 0;
    if (enc < GH_ENC_BASE64 || enc > GH_ENC_HEX)
        return h->fail(call, GH_ERR_UNSUPPORTED, "encode: unknown encoding %u", enc);
    if ((!data && len) || !out || !out_len || (len && !need) || len > INT32_MAX / 2)
        return h->fail(call, GH_ERR_INVALID, "encode: no data, no output or too long");
    if (out_size <= need)
        return h->fail(call, GH_ERR_INVALID, "encode: output needs %zu bytes, has %zu", need + 1,
                       out_size);
    switch (enc) {
    case GH_ENC_BASE64:
        EVP_EncodeBlock((unsigned char *)out, data, (int)len);
        break;
    case GH_ENC_BASE64URL:
        b64url_encode(data, len, out, out_size);
        break;
    case GH_ENC_BASE32:
        base32_encode(data, len, out);
        break;
    case GH_ENC_HEX:
        for (size_t i = 0; i < len; i++) {
            out[2 * i] = HEX[((const unsigned char *)data)[i] >> 4];
            out[2 * i + 1] = HEX[((const unsigned char *)data)[i] & 15];
        }
        break;
    }
    out[need] = '\0';
    *out_len = need;
    return GH_OK;
}

static const char *const enc_names[] = {NULL, "base64", "base64url", "base32", "hex"};

gh_result host_decode(gh_call *call, uint32_t enc, const char *text, size_t len, void *out,
                      size_t out_size, size_t *out_len)
{
    const gh_host *h = &gh_host_table;
    size_t n = 0;
    int rc = -1;

    if (out_len)
        *out_len = 0;
    if (enc < GH_ENC_BASE64 || enc > GH_ENC_HEX)
        return h->fail(call, GH_ERR_UNSUPPORTED, "decode: unknown encoding %u", enc);
    if ((!text && len) || (!out && out_size) || !out_len)
        return h->fail(call, GH_ERR_INVALID, "decode: no text or no output");
    if (!len)
        return GH_OK;
    switch (enc) {
    case GH_ENC_BASE64:
        rc = base64_decode(text, len, out, out_size, &n);
        break;
    case GH_ENC_BASE64URL:
        rc = b64url_decode(text, len, out, out_size, &n);
        break;
    case GH_ENC_BASE32:
        rc = base32_decode(text, len, out, out_size, &n);
        break;
    case GH_ENC_HEX:
        rc = hex_decode(text, len, out, out_size, &n);
        break;
    }
    /* the text is often a secret: say what is wrong, never what it was */
    if (rc != 0)
        return h->fail(call, GH_ERR_INVALID,
                       "decode: not canonical %s, or more than the %zu bytes of output",
                       enc_names[enc], out_size);
    *out_len = n;
    return GH_OK;
}

/* ------------------------------------------------------- percent-encoding */

/* Writes the percent-encoding of s into out (when not NULL) and returns
 * its length. form: application/x-www-form-urlencoded, which keeps "*"
 * and writes a space as "+"; otherwise RFC 3986, which keeps "~". */
static size_t percent(const char *s, size_t len, char *out, int form)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == (form ? '*' : '~')) {
            if (out)
                out[o] = (char)c;
            o++;
        } else if (form && c == ' ') {
            if (out)
                out[o] = '+';
            o++;
        } else {
            if (out) {
                out[o] = '%';
                out[o + 1] = "0123456789ABCDEF"[c >> 4];
                out[o + 2] = "0123456789ABCDEF"[c & 15];
            }
            o += 3;
        }
    }
    return o;
}

gh_result host_url_encode(gh_call *call, const char *text, size_t len, char **out)
{
    const gh_host *h = &gh_host_table;
    size_t n;

    if (!out || (!text && len))
        return h->fail(call, GH_ERR_INVALID, "url_encode: no text or no output");
    *out = NULL;
    if (len > SIZE_MAX / 3 - 1 || !(*out = malloc((n = percent(text, len, NULL, 0)) + 1)))
        return h->fail(call, GH_ERR_NOMEM, "url_encode: out of memory");
    percent(text, len, *out, 0);
    (*out)[n] = '\0';
    return GH_OK;
}

/* The text of a form value: STR as it is, INT and BOOL spelt out. */
static int form_value(const gh_param *p, char num[24], const char **s, size_t *len)
{
    int64_t i;
    int32_t b;

    if (p->type == GH_T_STR && (p->data || !p->len)) {
        *s = p->len ? p->data : "";
        *len = p->len;
        return 0;
    }
    if (p->type == GH_T_INT && p->data) {
        memcpy(&i, p->data, sizeof i);
        *len = (size_t)snprintf(num, 24, "%lld", (long long)i);
    } else if (p->type == GH_T_BOOL && p->data) {
        memcpy(&b, p->data, sizeof b);
        *len = (size_t)snprintf(num, 24, "%s", b ? "true" : "false");
    } else {
        return -1;
    }
    *s = num;
    return 0;
}

gh_result host_form_encode(gh_call *call, const gh_param *fields, char **out)
{
    const gh_host *h = &gh_host_table;
    size_t total = 0, o = 0;
    char num[24];
    const char *v;
    size_t vlen;

    if (!out)
        return h->fail(call, GH_ERR_INVALID, "form_encode: no output");
    *out = NULL;
    /* measured first, then written: one allocation of the exact size */
    for (const gh_param *p = fields; p && p->key; p++) {
        if (form_value(p, num, &v, &vlen) != 0)
            return h->fail(call, GH_ERR_INVALID, "form_encode: field '%s' is not STR, INT or BOOL",
                           p->key);
        total += (total ? 1 : 0) + percent(p->key, strlen(p->key), NULL, 1) + 1 +
                 percent(v, vlen, NULL, 1);
    }
    if (!(*out = malloc(total + 1)))
        return h->fail(call, GH_ERR_NOMEM, "form_encode: out of memory");
    for (const gh_param *p = fields; p && p->key; p++) {
        form_value(p, num, &v, &vlen);
        if (o)
            (*out)[o++] = '&';
        o += percent(p->key, strlen(p->key), *out + o, 1);
        (*out)[o++] = '=';
        o += percent(v, vlen, *out + o, 1);
    }
    (*out)[o] = '\0';
    return GH_OK;
}
