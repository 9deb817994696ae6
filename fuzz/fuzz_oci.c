/*
 * fuzz_oci.c - the oci cloud plugin's request signer
 * (plugins/cloud/oci/oci_sign.c): method, path and query, Host and body
 * are partly a tenant's (names, ids) and partly an admin's (the region's
 * endpoint), and each lands in a line of the signing string.
 *
 * Input: "method\0target\0host\0body"; without the third NUL there is no
 * body (a GET). A signed request must be what is sent: the signature is
 * verified (OpenSSL, the public half) over a signing string rebuilt here
 * from the headers the request carries, in the order its `headers=` list
 * names them, each listed header sent and each sent header listed, with
 * no CR or LF in any of them and so no line in the signing string beyond
 * theirs; the request line must read back as the method and target
 * signed; the body's hash and length are recomputed.
 * A refusal says why, and a plain request (a word for a method, visible
 * ASCII for target and host) is never refused.
 *
 * An input that begins "-----BEGIN" is a key file instead, with an
 * optional "\0passphrase": it goes through oci_key_load from a memfd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "call.h"
#include "plugin/host.h"
#include "../plugins/cloud/oci/oci_sign.h"
#include "../tests/unit/oci_test_key.h"
#include "fuzz.h"

#define KEY_ID TENANCY "/" USER "/" FINGERPRINT
#define NOW_MS 1700000000000

static const gh_host *const h = &gh_host_table;
static EVP_PKEY *key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char path[64], why[512];
    int fd = fuzz_memfd((const uint8_t *)test_key, sizeof test_key - 1, path, sizeof path);

    (void)argc;
    (void)argv;
    if (oci_key_load(path, NULL, &key, why, sizeof why) != GH_OK) {
        fprintf(stderr, "fuzz_oci: %s\n", why);
        abort();
    }
    close(fd);
    return 0;
}

/* ------------------------------------------------------------ the key file */

static void key_file(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    size_t pem = nul ? (size_t)(nul - data) : size;
    char *pass = nul ? fuzz_text(nul + 1, size - pem - 1) : NULL, path[64], why[512] = "";
    char fp[OCI_FINGERPRINT_LEN];
    EVP_PKEY *k = NULL;
    int fd = fuzz_memfd(data, pem, path, sizeof path);

    if (oci_key_load(path, pass, &k, why, sizeof why) == GH_OK) {
        if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA)
            abort(); /* only RSA keys sign OCI requests */
        if (oci_key_fingerprint(h, NULL, k, fp) != GH_OK || strlen(fp) != OCI_FINGERPRINT_LEN - 1)
            abort();
    } else if (k || !why[0]) {
        abort(); /* a refusal says why, and leaves no key */
    }
    EVP_PKEY_free(k);
    close(fd);
    free(pass);
}

/* ------------------------------------------------------------ a request */

static int is_plain(const char *method, const char *target, const char *host)
{
    size_t n = strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    if (n == 0 || method[n] || n > 15 || target[0] != '/' || !host[0] || strlen(host) > 200)
        return 0;
    for (const char *s = target; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
            return 0;
    for (const char *s = host; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

/* "METHOD target HTTP/1.1" reads back as this method and target: the
 * method an HTTP token, the target without blanks or control bytes. */
static int request_line_ok(const char *method, const char *target)
{
    static const char tchar[] = "!#$%&'*+-.^_`|~0123456789"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    if (!method[0] || method[strspn(method, tchar)] || !target[0])
        return 0;
    for (const char *s = target; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s == 0x7f)
            return 0;
    return 1;
}

/* The value of a header line "Name: value" as sent, or NULL when the line
 * is empty (not sent); a CR or LF in it would be a header of its own. */
static const char *sent_value(const char *line, const char *name)
{
    size_t n = strlen(name);

    if (!line[0])
        return NULL;
    if (strncmp(line, name, n) != 0 || strncmp(line + n, ": ", 2) != 0 || strpbrk(line, "\r\n"))
        abort();
    return line + n + 2;
}

/* The quoted parameter name="..." of the Authorization header, malloc'd. */
static char *auth_param(const char *auth, const char *name)
{
    char pat[32];
    const char *p, *end;

    snprintf(pat, sizeof pat, "%s=\"", name);
    if (!(p = strstr(auth, pat)) || !(end = strchr(p + strlen(pat), '"')))
        abort();
    p += strlen(pat);
    return fuzz_text((const uint8_t *)p, (size_t)(end - p));
}

/* The signing string of the request as sent: each header the list names,
 * in its order, "name: value" from the lines the request carries, the
 * request line's method lower-cased as the scheme wants. Each listed
 * header must be sent, once, and each sent one listed. */
static char *rebuild(const oci_signed_headers *hd, const char *headers, const char *method,
                     const char *target)
{
    static const char *const names[6] = { "date", "(request-target)", "host", "content-length",
                                          "content-type", "x-content-sha256" };
    const char *sent[6] = {
        sent_value(hd->date, "Date"),
        NULL, /* the request line, below */
        sent_value(hd->host, "Host"),
        sent_value(hd->content_length, "Content-Length"),
        sent_value(hd->content_type, "Content-Type"),
        sent_value(hd->content_sha256, "x-content-sha256"),
    };
    char *line = malloc(strlen(method) + strlen(target) + 2), *list = strdup(headers), *save;
    size_t cap = strlen(method) + strlen(target) + 2048, o = 0;
    char *s = malloc(cap);
    unsigned seen = 0, listed = 0;

    if (!line || !list || !s)
        abort();
    sprintf(line, "%s %s", method, target);
    for (char *c = line; *c != ' '; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c += 32;
    sent[1] = line;
    s[0] = '\0';
    for (char *name = strtok_r(list, " ", &save); name; name = strtok_r(NULL, " ", &save)) {
        int i = 0;

        while (i < 6 && strcmp(names[i], name) != 0)
            i++;
        if (i == 6 || !sent[i] || (seen & 1u << i))
            abort(); /* unknown, signed but not sent, or signed twice */
        seen |= 1u << i;
        listed++;
        o += (size_t)snprintf(s + o, cap - o, "%s%s: %s", o ? "\n" : "", name, sent[i]);
    }
    for (int i = 0; i < 6; i++)
        if (sent[i] && !(seen & 1u << i))
            abort(); /* sent but not signed */
    if (!request_line_ok(method, target))
        abort(); /* the request line would not carry the method and target signed */
    for (const char *c = s; (c = strchr(c, '\n')); c++)
        if (!--listed)
            abort(); /* a line more than the headers listed: one was injected */
    free(line);
    free(list);
    return s;
}

static void verify(const char *text, const char *sig_b64)
{
    size_t n = strlen(sig_b64);
    unsigned char *sig = malloc(n + 3);
    int len = EVP_DecodeBlock(sig, (const unsigned char *)sig_b64, (int)n);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    if (!sig || !ctx || len <= 0)
        abort();
    len -= (n > 0 && sig_b64[n - 1] == '=') + (n > 1 && sig_b64[n - 2] == '=');
    if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestVerify(ctx, sig, (size_t)len, (const unsigned char *)text, strlen(text)) != 1)
        abort(); /* what was signed is not what is sent */
    EVP_MD_CTX_free(ctx);
    free(sig);
}

/* The body's three headers hold its real length and hash. */
static void check_body(const oci_signed_headers *hd, const char *body)
{
    unsigned char md[32];
    char b64[64], want[128];

    snprintf(want, sizeof want, "Content-Length: %zu", strlen(body));
    if (strcmp(hd->content_length, want) != 0 ||
        strcmp(hd->content_type, "Content-Type: application/json") != 0)
        abort();
    if (EVP_Digest(body, strlen(body), md, NULL, EVP_sha256(), NULL) != 1)
        abort();
    EVP_EncodeBlock((unsigned char *)b64, md, sizeof md);
    snprintf(want, sizeof want, "x-content-sha256: %s", b64);
    if (strcmp(hd->content_sha256, want) != 0)
        abort();
}

static void request(const char *method, const char *target, const char *host, const char *body)
{
    oci_signed_headers hd;
    gh_param req[OCI_SIGNED_HEADERS];
    gh_call call;
    char *headers, *sig, *text;

    call_init(&call, NULL, "fuzz", 10000);
    if (oci_sign_request(h, &call, key, KEY_ID, method, target, host, NOW_MS, body, &hd) != GH_OK) {
        if (!call.message[0] || hd.authorization || is_plain(method, target, host))
            abort(); /* a refusal says why, sends nothing, and is of hostile text only */
        return;
    }
    if (strncmp(hd.authorization, "Authorization: Signature version=\"1\",headers=\"", 46) != 0)
        abort();
    headers = auth_param(hd.authorization, "headers");
    sig = auth_param(hd.authorization, "signature");
    if (strcmp(headers, body ? OCI_HEADERS_BODY : OCI_HEADERS_NO_BODY) != 0)
        abort();
    if (body)
        check_body(&hd, body);
    if (oci_signed_header_params(&hd, req) != (body ? 6u : 3u))
        abort();
    text = rebuild(&hd, headers, method, target);
    verify(text, sig);
    free(text);
    free(headers);
    free(sig);
    oci_signed_headers_free(&hd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *part[4] = { "", "", "", NULL };
    char *s;
    size_t at = 0;

    if (size >= 10 && memcmp(data, "-----BEGIN", 10) == 0) {
        key_file(data, size);
        return 0;
    }
    s = fuzz_text(data, size);
    for (int i = 0; i < 4; i++) { /* each part ends at a NUL, the last at the end */
        const char *nul = i < 3 ? memchr(s + at, '\0', size - at) : NULL;

        part[i] = s + at;
        if (!nul)
            break;
        at = (size_t)(nul - s) + 1;
    }
    request(part[0], part[1], part[2], part[3]);
    free(s);
    return 0;
}
